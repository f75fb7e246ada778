//! The harmonic-plus-noise excitation of the neural source-filter model (NSF, Wang et al.
//! 2019) as iSTFTNet uses it: sines at F0 and its harmonics where the frame is voiced, noise
//! where it is not, merged into one channel by a learned linear layer and `tanh`.
//!
//! Computed outside the autograd graph, as in the reference (`torch.no_grad()`): it depends on
//! F0 alone, and F0 reaches the decoder's weights through `F0_conv` anyway.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use voxclone_nn::rng::SplitMix64;

/// Amplitude of the sines (`sine_amp`).
const SINE_AMP: f64 = 0.1;
/// Standard deviation of the noise added to voiced samples (`noise_std`).
const VOICED_NOISE_STD: f64 = 0.003;
/// F0 (Hz) above which a frame counts as voiced (`voiced_threshod` of the Generator).
const VOICED_THRESHOLD_HZ: f32 = 10.0;

/// Whether the source adds Gaussian noise, and from which seed.
///
/// The reference draws fresh noise on every call. [`SourceNoise::Seeded`] draws the same noise
/// for the same seed, so that a synthesis is bit-reproducible; [`SourceNoise::Off`] leaves it
/// out (unvoiced frames are then silent in the source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceNoise {
    Off,
    Seeded(u64),
}

/// The source module (`m_source`): its learned merge of the 1 + `harmonics` sines.
#[derive(Debug, Clone)]
pub struct HarmonicSource {
    /// `l_linear.weight`, one gain per harmonic (the fundamental first).
    merge_weights: Vec<f32>,
    merge_bias: f32,
    sample_rate: f64,
    /// Samples per F0 frame.
    upsample: usize,
}

impl HarmonicSource {
    pub fn load(
        vb: &VarBuilder,
        harmonics: usize,
        sample_rate: u32,
        upsample: usize,
    ) -> Result<Self> {
        let w = vb.get((1, harmonics + 1), "l_linear.weight")?;
        let b = vb.get(1, "l_linear.bias")?;
        Ok(Self {
            merge_weights: w.flatten_all()?.to_vec1()?,
            merge_bias: b.to_vec1::<f32>()?[0],
            sample_rate: sample_rate as f64,
            upsample,
        })
    }

    /// The merged excitation, `upsample` samples per F0 frame.
    ///
    /// The reference integrates phase at the frame rate and interpolates it linearly to the
    /// sample rate (`SineGen._f02sine`): per-sample phase increments are averaged over each
    /// frame, where F0 is constant, so the integral is exact at frame centres. Its random
    /// initial phase of the overtones touches only sample 0, which that averaging never reads,
    /// so it has no effect and is left out here.
    pub fn excitation(&self, f0: &[f32], noise: SourceNoise) -> Vec<f32> {
        let frames = f0.len();
        let up = self.upsample;
        let mut out = vec![self.merge_bias as f64; frames * up];
        for (h, &gain) in self.merge_weights.iter().enumerate() {
            let multiple = (h + 1) as f64;
            // Phase (in turns) at each frame's end, times the frame length.
            let mut turns = 0.0f64;
            let frame_phase: Vec<f64> = f0
                .iter()
                .map(|&hz| {
                    let per_sample = (hz as f64 * multiple / self.sample_rate).fract();
                    turns += per_sample;
                    turns * up as f64
                })
                .collect();
            for (i, o) in out.iter_mut().enumerate() {
                let phase = lerp_upsampled(&frame_phase, i, up);
                *o += gain as f64 * SINE_AMP * (std::f64::consts::TAU * phase).sin();
            }
        }
        // Unvoiced samples lose their sines; every sample gets noise.
        let mut rng = match noise {
            SourceNoise::Seeded(seed) => Some(Gaussian::new(seed)),
            SourceNoise::Off => None,
        };
        let gains: Vec<f64> = self.merge_weights.iter().map(|&w| w as f64).collect();
        out.iter_mut()
            .enumerate()
            .map(|(i, o)| {
                let voiced = f0[i / up] > VOICED_THRESHOLD_HZ;
                let mut v = if voiced { *o } else { self.merge_bias as f64 };
                if let Some(rng) = rng.as_mut() {
                    let amp = if voiced {
                        VOICED_NOISE_STD
                    } else {
                        SINE_AMP / 3.0
                    };
                    for g in &gains {
                        v += g * amp * rng.next();
                    }
                }
                v.tanh() as f32
            })
            .collect()
    }

    /// [`excitation`](Self::excitation) of each row of `f0` `[B, frames]`, as `[B, samples]`.
    pub fn excitation_tensor(&self, f0: &Tensor, noise: SourceNoise) -> Result<Tensor> {
        let rows = f0.to_dtype(candle_core::DType::F32)?.to_vec2::<f32>()?;
        let (b, frames) = (rows.len(), rows.first().map_or(0, Vec::len));
        let mut all = Vec::with_capacity(b * frames * self.upsample);
        for (r, row) in rows.iter().enumerate() {
            let noise = match noise {
                SourceNoise::Seeded(seed) => SourceNoise::Seeded(seed.wrapping_add(r as u64)),
                off => off,
            };
            all.extend(self.excitation(row, noise));
        }
        Tensor::from_vec(all, (b, frames * self.upsample), f0.device())
    }
}

/// PyTorch's `interpolate(mode="linear", align_corners=False)` by an integer factor, at one
/// output index.
fn lerp_upsampled(values: &[f64], i: usize, factor: usize) -> f64 {
    let src = ((i as f64 + 0.5) / factor as f64 - 0.5).max(0.0);
    let i0 = (src.floor() as usize).min(values.len() - 1);
    let i1 = (i0 + 1).min(values.len() - 1);
    let w = src - i0 as f64;
    values[i0] * (1.0 - w) + values[i1] * w
}

/// Standard normal draws from SplitMix64 and Box–Muller: a tiny generator whose output is
/// fixed by its seed across platforms and crate versions.
struct Gaussian {
    rng: SplitMix64,
    spare: Option<f64>,
}

impl Gaussian {
    fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.rng.next_f64_nonzero()
    }

    fn next(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> HarmonicSource {
        let mut merge_weights = vec![0.0; 9];
        merge_weights[0] = 1.0;
        HarmonicSource {
            merge_weights,
            merge_bias: 0.0,
            sample_rate: 24_000.0,
            upsample: 300,
        }
    }

    #[test]
    fn a_steady_f0_gives_a_sine_at_that_frequency() {
        let f0 = vec![200.0f32; 40];
        let x = source().excitation(&f0, SourceNoise::Off);
        assert_eq!(x.len(), 40 * 300);
        // Count upward zero crossings over the middle 0.4 s: 200 Hz → about 80.
        let mid = &x[1200..1200 + 9600];
        let crossings = mid.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((79..=81).contains(&crossings), "{crossings} crossings");
        let peak = mid.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(
            (peak - (SINE_AMP as f32).tanh()).abs() < 1e-3,
            "peak {peak}"
        );
    }

    #[test]
    fn unvoiced_frames_are_silent_without_noise_and_noisy_with_it() {
        let f0 = vec![0.0f32; 4];
        let quiet = source().excitation(&f0, SourceNoise::Off);
        assert!(quiet.iter().all(|&v| v == 0.0));
        let noisy = source().excitation(&f0, SourceNoise::Seeded(7));
        let rms = (noisy.iter().map(|v| v * v).sum::<f32>() / noisy.len() as f32).sqrt();
        assert!((rms - (SINE_AMP / 3.0) as f32).abs() < 0.005, "rms {rms}");
    }

    #[test]
    fn the_same_seed_gives_the_same_noise() {
        let f0 = vec![0.0f32, 120.0, 130.0];
        let a = source().excitation(&f0, SourceNoise::Seeded(1));
        let b = source().excitation(&f0, SourceNoise::Seeded(1));
        let c = source().excitation(&f0, SourceNoise::Seeded(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
