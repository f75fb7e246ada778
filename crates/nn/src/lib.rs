//! The building blocks every stage's networks are made of, in one place:
//!
//! - [`layers`]: candle layers with PyTorch's weight names (convolutions whose products run on
//!   the fast kernels, transposed and depthwise upsampling, AdaIN, Snake, the AdaIN residual
//!   blocks of StyleTTS 2 and iSTFTNet); [`norm`]: batch, instance and channel layer norm;
//! - [`linear`]: a linear layer on the fast convolution;
//! - [`lstm`]: a bidirectional LSTM (Kokoro's text side); [`gru`]: a GRU over a whole sequence
//!   (WaveRNN and Tacotron);
//! - [`kernels`]: the CPU kernels behind them, chosen once per process ([`kernels::Kernel`],
//!   [`kernels::configure`]);
//! - [`rng`]: the seeded generator every random draw at run time uses.
//!
//! Nothing here knows about speakers, text or audio: the stages (`voxclone-encoder`,
//! `voxclone-synthesizer`, `voxclone-vocoder`) assemble their models from these.

pub mod gru;
pub mod kernels;
pub mod layers;
pub mod linear;
pub mod lstm;
pub mod norm;
pub mod rng;

pub use kernels::{Kernel, KernelConfig, Precision};
pub use rng::SplitMix64;
