//! Stage 2 of voxclone: phonemes + style vector → frame-aligned acoustic features, with the
//! text side of Kokoro-82M (hexgrad, Apache-2.0; the StyleTTS 2 architecture of Li et al.
//! 2023): a phoneme-level ALBERT, the prosody predictor (durations, F0, energy) and the text
//! encoder. [`Kokoro`] also holds the stage-3 decoder from `voxclone-vocoder`, so that one
//! file of weights makes one model.
//!
//! The 256-value style vector splits in two: its first 128 values (the *timbre*) drive the
//! decoder, its last 128 (the *prosody*) drive the predictor.

pub mod albert;
pub mod model;
pub mod pitch;
pub mod prosody;
pub mod tacotron;
pub mod text_encoder;
pub mod voice;

pub use albert::AlbertConfig;
pub use model::{AcousticFeatures, Kokoro, KokoroConfig, Synthesis, STYLE_DIM};
pub use pitch::{retarget_f0, PitchTarget};
pub use voice::{Vocab, VoiceError, VoicePack};
