//! iSTFTNet's generator (Kaneko et al. 2022) with a harmonic source: upsample the decoder's
//! features 60×, add the source's spectrum at each scale, refine with multi-receptive-field
//! AdaIN residual blocks, and predict a 22-channel log-magnitude/phase spectrum for the
//! inverse STFT.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use crate::source::{HarmonicSource, SourceNoise};
use crate::stft::{stft_magnitude_phase, InverseStft};
use crate::{IstftnetConfig, SAMPLE_RATE};
use voxclone_nn::layers::{leaky_relu, AdaInResBlock1, Conv1d, ConvTranspose1d};

/// Slope of the leaky ReLU before each upsampling (HiFi-GAN's `LRELU_SLOPE`).
const UPSAMPLE_SLOPE: f64 = 0.1;
/// Slope of the leaky ReLU before `conv_post` (PyTorch's default).
const POST_SLOPE: f64 = 0.01;

/// One upsampling scale: the transposed convolution, the source's branch at that rate, and
/// the residual blocks that refine the sum.
#[derive(Debug, Clone)]
struct Scale {
    up: ConvTranspose1d,
    noise_conv: Conv1d,
    noise_res: AdaInResBlock1,
    resblocks: Vec<AdaInResBlock1>,
}

#[derive(Debug, Clone)]
pub struct Generator {
    source: HarmonicSource,
    scales: Vec<Scale>,
    conv_post: Conv1d,
    istft: InverseStft,
    n_fft: usize,
    hop: usize,
    samples_per_f0_frame: usize,
}

impl Generator {
    pub fn load(vb: &VarBuilder, cfg: &IstftnetConfig) -> Result<Self> {
        let samples_per_f0_frame = cfg.samples_per_f0_frame();
        let source = HarmonicSource::load(
            &vb.pp("m_source"),
            cfg.harmonics,
            SAMPLE_RATE,
            samples_per_f0_frame,
        )?;
        let spectrum_channels = cfg.n_fft + 2;
        let n_scales = cfg.upsample_rates.len();
        let mut scales = Vec::with_capacity(n_scales);
        let mut channels = cfg.upsample_initial_channel;
        for (i, (&rate, &kernel)) in cfg
            .upsample_rates
            .iter()
            .zip(&cfg.upsample_kernel_sizes)
            .enumerate()
        {
            let out = channels / 2;
            let up = ConvTranspose1d::load(&vb.pp("ups").pp(i), channels, out, kernel, rate)?;
            // The source spectrum (one frame per hop) is brought to this scale's rate.
            let (noise_conv, noise_kernel) = if i + 1 < n_scales {
                let stride: usize = cfg.upsample_rates[i + 1..].iter().product();
                let conv = Conv1d::load(
                    &vb.pp("noise_convs").pp(i),
                    (out, spectrum_channels, 2 * stride),
                    stride.div_ceil(2),
                    stride,
                    1,
                    true,
                )?;
                (conv, 7)
            } else {
                let conv = Conv1d::load(
                    &vb.pp("noise_convs").pp(i),
                    (out, spectrum_channels, 1),
                    0,
                    1,
                    1,
                    true,
                )?;
                (conv, 11)
            };
            let noise_res = AdaInResBlock1::load(
                &vb.pp("noise_res").pp(i),
                out,
                noise_kernel,
                &[1, 3, 5],
                cfg.style_dim,
            )?;
            let resblocks = cfg
                .resblock_kernel_sizes
                .iter()
                .zip(&cfg.resblock_dilation_sizes)
                .enumerate()
                .map(|(j, (&k, d))| {
                    let index = i * cfg.resblock_kernel_sizes.len() + j;
                    AdaInResBlock1::load(&vb.pp("resblocks").pp(index), out, k, d, cfg.style_dim)
                })
                .collect::<Result<_>>()?;
            scales.push(Scale {
                up,
                noise_conv,
                noise_res,
                resblocks,
            });
            channels = out;
        }
        let conv_post = Conv1d::load(
            &vb.pp("conv_post"),
            (spectrum_channels, channels, 7),
            3,
            1,
            1,
            true,
        )?;
        Ok(Self {
            source,
            scales,
            conv_post,
            istft: InverseStft::new(cfg.n_fft, cfg.hop, vb.device())?,
            n_fft: cfg.n_fft,
            hop: cfg.hop,
            samples_per_f0_frame,
        })
    }

    /// The harmonic source's magnitude and phase spectrum, `[B, n_fft + 2, frames]`.
    pub fn source_spectrum(&self, f0: &Tensor, noise: SourceNoise) -> Result<Tensor> {
        let excitation = self.source.excitation_tensor(f0, noise)?;
        let (b, samples) = excitation.dims2()?;
        let rows = excitation.to_vec2::<f32>()?;
        let bins = self.n_fft / 2 + 1;
        let frames = samples / self.hop + 1;
        let mut all = Vec::with_capacity(b * 2 * bins * frames);
        for row in &rows {
            let (mag, phase) = stft_magnitude_phase(row, self.n_fft, self.hop);
            all.extend(mag);
            all.extend(phase);
        }
        Tensor::from_vec(all, (b, 2 * bins, frames), f0.device())
    }

    /// `x` `[B, C, T]` (80 frames/s), `timbre` `[B, 128]`, `f0` `[B, T]` in Hz → waveform
    /// `[B, T · samples_per_f0_frame]`.
    pub fn forward(
        &self,
        x: &Tensor,
        timbre: &Tensor,
        f0: &Tensor,
        noise: SourceNoise,
    ) -> Result<Tensor> {
        let harmonics = self.source_spectrum(f0, noise)?.to_dtype(x.dtype())?;
        let mut x = x.clone();
        let last = self.scales.len() - 1;
        for (i, scale) in self.scales.iter().enumerate() {
            x = leaky_relu(&x, UPSAMPLE_SLOPE)?;
            let source = scale.noise_conv.forward(&harmonics)?;
            let source = scale.noise_res.forward(&source, timbre)?;
            x = scale.up.forward(&x)?;
            if i == last {
                // Reflection-pad one frame on the left to line up with the source's frames.
                let t = x.dim(2)?;
                x = Tensor::cat(&[x.narrow(2, 1, 1)?, x.narrow(2, 0, t)?], 2)?;
            }
            x = (x + source)?;
            let mut sum: Option<Tensor> = None;
            for block in &scale.resblocks {
                let y = block.forward(&x, timbre)?;
                sum = Some(match sum {
                    Some(s) => (s + y)?,
                    None => y,
                });
            }
            x = (sum.expect("at least one residual block") / scale.resblocks.len() as f64)?;
        }
        let x = self.conv_post.forward(&leaky_relu(&x, POST_SLOPE)?)?;
        let bins = self.n_fft / 2 + 1;
        let magnitude = x.narrow(1, 0, bins)?.exp()?;
        let phase = x.narrow(1, bins, bins)?.sin()?;
        self.istft.forward(&magnitude, &phase)
    }

    pub fn samples_per_f0_frame(&self) -> usize {
        self.samples_per_f0_frame
    }
}
