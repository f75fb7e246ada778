//! Stage 3 of voxclone: acoustic features → waveform, with the iSTFTNet decoder of Kokoro-82M
//! (StyleTTS 2, Li et al. 2023; iSTFTNet, Kaneko et al. 2022; harmonic-plus-noise source from
//! NSF, Wang et al. 2019).
//!
//! The decoder reads the synthesizer's frame-aligned text features (`asr`, 512 channels at
//! 40 frames/s), the pitch (F0) and energy (N) curves at 80 frames/s, and the *timbre* half of
//! the style vector (its first 128 values). It refines the features with AdaIN residual blocks,
//! upsamples them 60× with two transposed convolutions, mixes in a harmonic source made from
//! F0, and predicts a magnitude and phase spectrum whose inverse STFT (n_fft 20, hop 5) is
//! the 24 kHz waveform: 600 samples per feature frame.
//!
//! Every step is a candle operation, so a gradient reaches the weights and the style vector
//! (voice adaptation needs that). Only the harmonic source is computed outside the graph, as
//! the reference does (`torch.no_grad()`): it depends on F0 alone.
//!
//! Weight names follow the reference PyTorch model (`decoder.encode.conv1.weight`, …) with
//! weight normalisation folded into `weight`; see `voxclone_weights::KOKORO_TENSORS`.

pub mod decoder;
pub mod generator;
pub mod griffin_lim;
pub mod source;
pub mod stft;
pub mod wavernn;

pub use decoder::Decoder;
pub use generator::Generator;
pub use source::{HarmonicSource, SourceNoise};

/// The audio rate of Kokoro's decoder.
pub const SAMPLE_RATE: u32 = 24_000;

/// The iSTFTNet hyper-parameters of Kokoro-82M v1.0 (`config.json`, `istftnet`).
#[derive(Debug, Clone, PartialEq)]
pub struct IstftnetConfig {
    /// Channels of the frame-aligned text features (`hidden_dim`).
    pub dim_in: usize,
    /// Length of the timbre half of the style vector.
    pub style_dim: usize,
    pub upsample_rates: Vec<usize>,
    pub upsample_kernel_sizes: Vec<usize>,
    pub upsample_initial_channel: usize,
    pub resblock_kernel_sizes: Vec<usize>,
    pub resblock_dilation_sizes: Vec<Vec<usize>>,
    pub n_fft: usize,
    pub hop: usize,
    /// Harmonics above F0 in the source (`harmonic_num`).
    pub harmonics: usize,
}

impl Default for IstftnetConfig {
    fn default() -> Self {
        Self {
            dim_in: 512,
            style_dim: 128,
            upsample_rates: vec![10, 6],
            upsample_kernel_sizes: vec![20, 12],
            upsample_initial_channel: 512,
            resblock_kernel_sizes: vec![3, 7, 11],
            resblock_dilation_sizes: vec![vec![1, 3, 5]; 3],
            n_fft: 20,
            hop: 5,
            harmonics: 8,
        }
    }
}

impl IstftnetConfig {
    /// Waveform samples per F0 frame: the product of the upsampling rates and the iSTFT hop.
    pub fn samples_per_f0_frame(&self) -> usize {
        self.upsample_rates.iter().product::<usize>() * self.hop
    }
}
