//! The encoder's whole front-end as one candle graph, so that a loss on the d-vector can send
//! gradients back into the waveform (speaker adaptation fits a voice this way).
//!
//! The plain path ([`VoiceEncoder`](crate::VoiceEncoder)) resamples with rubato and computes the mel
//! with realfft; here the same steps are matrix products over framed views of the signal:
//! resampling is a polyphase windowed-sinc filter, the STFT a product with a windowed DFT basis.
//! Only ops whose backward candle has are used (`narrow`, `cat`, `reshape`, `matmul`); strided
//! convolutions are avoided because candle's transposed convolution, their backward, is unreliable.
//! Voice-activity trimming is not differentiable and is left out: callers give speech.

use candle_core::{DType, Device, Tensor, D};
use voxclone_audio::spectral::{periodic_hann, slaney_mel_filterbank};

use crate::partials::partials;
use crate::{EncoderParams, Result, SpeakerEncoder};

/// Windowed-sinc half-width, in taps of the slower rate: wide enough that the resampled speech
/// gives the same d-vector as the plain path (checked by a test).
const RESAMPLE_HALF_TAPS: usize = 16;

/// Splits `x` (`[n]`) into frames of `width` samples every `hop`, the first starting at sample 0
/// and `count` in all (the signal is zero-padded at the end as needed): `[count, width]`.
fn frames(x: &Tensor, hop: usize, width: usize, count: usize) -> Result<Tensor> {
    let blocks_per_frame = width.div_ceil(hop);
    let n_blocks = count + blocks_per_frame - 1;
    let n = x.dim(0)?;
    let need = n_blocks * hop;
    let x = if n < need {
        x.pad_with_zeros(0, 0, need - n)?
    } else {
        x.narrow(0, 0, need)?
    };
    let blocks = x.reshape((n_blocks, hop))?;
    let shifted = (0..blocks_per_frame)
        .map(|q| blocks.narrow(0, q, count))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(Tensor::cat(&shifted, 1)?.narrow(1, 0, width)?)
}

/// Rational-ratio resampling (`up / down` after reducing by the gcd) by a Hann-windowed sinc.
#[derive(Debug, Clone)]
pub struct Resampler {
    up: usize,
    down: usize,
    /// `[taps, up]`: column p holds the filter of output phase p over one input window.
    filter: Tensor,
    taps: usize,
    /// Zeros put before the signal so the filter is centred on each output instant.
    lead: usize,
}

impl Resampler {
    pub fn new(from_hz: u32, to_hz: u32, device: &Device) -> Result<Self> {
        let g = gcd(from_hz as usize, to_hz as usize);
        let (up, down) = (to_hz as usize / g, from_hz as usize / g);
        // Cut-off below the lower Nyquist frequency, in cycles per input sample.
        let cutoff = 0.5 * (up as f64 / down as f64).min(1.0) * 0.95;
        let radius = RESAMPLE_HALF_TAPS as f64 * (down as f64 / up as f64).max(1.0);
        let lead = radius.ceil() as usize;
        // Output phase p sits at input instant `m·down + p·down/up`; window starts `m·down`.
        let taps = 2 * lead + down + 1;
        let mut filter = vec![0f32; taps * up];
        for p in 0..up {
            let centre = lead as f64 + p as f64 * down as f64 / up as f64;
            for j in 0..taps {
                let t = j as f64 - centre;
                if t.abs() > radius {
                    continue;
                }
                let sinc = if t == 0.0 {
                    2.0 * cutoff
                } else {
                    (2.0 * std::f64::consts::PI * cutoff * t).sin() / (std::f64::consts::PI * t)
                };
                let window = 0.5 + 0.5 * (std::f64::consts::PI * t / radius).cos();
                filter[j * up + p] = (sinc * window) as f32;
            }
        }
        Ok(Self {
            up,
            down,
            filter: Tensor::from_vec(filter, (taps, up), device)?,
            taps,
            lead,
        })
    }

    /// Output samples for `n` input samples, as the plain resampler gives.
    pub fn output_len(&self, n: usize) -> usize {
        ((n * self.up) as f64 / self.down as f64).round() as usize
    }

    /// `[n]` → `[output_len(n)]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let n = x.dim(0)?;
        let out = self.output_len(n);
        let count = out.div_ceil(self.up);
        let padded = x.pad_with_zeros(0, self.lead, 0)?;
        let windows = frames(&padded, self.down, self.taps, count)?;
        let y = windows.matmul(&self.filter)?.flatten_all()?;
        Ok(y.narrow(0, 0, out)?)
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The GE2E encoder from waveform to d-vector, differentiable end to end.
#[derive(Debug, Clone)]
pub struct DifferentiableEncoder {
    model: SpeakerEncoder,
    params: EncoderParams,
    /// `[n_fft, 2·n_bins]`: the periodic Hann window times cosines, then times sines.
    dft: Tensor,
    /// `[n_bins, n_mels]`.
    filters_t: Tensor,
}

impl DifferentiableEncoder {
    pub fn new(model: SpeakerEncoder, params: EncoderParams) -> Result<Self> {
        let device = model.device().clone();
        let mel = params.mel;
        let (n_fft, n_bins) = (mel.n_fft, mel.n_bins());
        let window = periodic_hann(n_fft);
        let mut dft = vec![0f32; n_fft * 2 * n_bins];
        for (t, w) in window.iter().enumerate() {
            for k in 0..n_bins {
                let phase = 2.0 * std::f64::consts::PI * (t * k % n_fft) as f64 / n_fft as f64;
                dft[t * 2 * n_bins + k] = (w * phase.cos()) as f32;
                dft[t * 2 * n_bins + n_bins + k] = (w * phase.sin()) as f32;
            }
        }
        let filters = slaney_mel_filterbank(&mel);
        let filters_t = Tensor::from_vec(filters, (mel.n_mels, n_bins), &device)?
            .t()?
            .contiguous()?;
        Ok(Self {
            dft: Tensor::from_vec(dft, (n_fft, 2 * n_bins), &device)?,
            filters_t,
            model,
            params,
        })
    }

    pub fn params(&self) -> &EncoderParams {
        &self.params
    }

    pub fn device(&self) -> &Device {
        self.model.device()
    }

    /// Mel power spectrogram of 16 kHz samples `[n]`, centred frames: `[frames, n_mels]`.
    pub fn mel(&self, wav: &Tensor) -> Result<Tensor> {
        let p = &self.params.mel;
        let n = wav.dim(0)?;
        let half = p.n_fft / 2;
        let padded = wav.pad_with_zeros(0, half, half)?;
        let spectrum = frames(&padded, p.hop_length, p.n_fft, p.n_frames(n))?.matmul(&self.dft)?;
        let n_bins = p.n_bins();
        let power =
            (spectrum.narrow(1, 0, n_bins)?.sqr()? + spectrum.narrow(1, n_bins, n_bins)?.sqr()?)?;
        Ok(power.matmul(&self.filters_t)?)
    }

    /// Loudness raised to the encoder's target as the plain path does (never lowered); the gain is
    /// part of the graph, so gradients see that the encoder ignores a quiet signal's level.
    pub fn normalize_volume(&self, wav: &Tensor) -> Result<Tensor> {
        let mean_square = wav.sqr()?.mean_all()?;
        let target = 10f64.powf(self.params.target_dbfs / 10.0);
        if mean_square.to_scalar::<f32>()? as f64 >= target {
            return Ok(wav.clone());
        }
        let gain = (mean_square.recip()? * target)?.sqrt()?;
        Ok(wav.broadcast_mul(&gain)?)
    }

    /// Partial d-vectors `[partials, 256]` of prepared 16 kHz speech `[n]` (volume normalised,
    /// trimmed), cut and padded exactly as the plain path cuts them.
    pub fn partial_embeddings(&self, wav: &Tensor) -> Result<Tensor> {
        let n = wav.dim(0)?;
        let cuts = partials(n, &self.params);
        let padded = wav.pad_with_zeros(0, 0, cuts.padded_len - n)?;
        let mel = self.mel(&padded)?;
        let windows = cuts
            .starts
            .iter()
            .map(|&s| mel.narrow(0, s, self.params.partial_frames))
            .collect::<candle_core::Result<Vec<_>>>()?;
        self.model.forward(&Tensor::stack(&windows, 0)?)
    }

    /// The utterance d-vector `[256]` of raw 16 kHz speech: volume normalised, then the
    /// normalised mean of its partials'.
    pub fn embed(&self, wav: &Tensor) -> Result<Tensor> {
        let wav = self.normalize_volume(&wav.to_dtype(DType::F32)?)?;
        let mean = self.partial_embeddings(&wav)?.mean(0)?;
        let norm = mean.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
        Ok(mean.broadcast_div(&norm)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_overlapping_windows() -> Result<()> {
        let x = Tensor::arange(0f32, 10., &Device::Cpu)?;
        let f = frames(&x, 3, 5, 3)?.to_vec2::<f32>()?;
        assert_eq!(f[0], vec![0., 1., 2., 3., 4.]);
        assert_eq!(f[1], vec![3., 4., 5., 6., 7.]);
        assert_eq!(f[2], vec![6., 7., 8., 9., 0.]);
        Ok(())
    }

    /// A 440 Hz tone resampled 24 → 16 kHz stays a 440 Hz tone of the same level.
    #[test]
    fn resampling_keeps_a_tone() -> Result<()> {
        let r = Resampler::new(24_000, 16_000, &Device::Cpu)?;
        let n = 2400;
        let x: Vec<f32> = (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 24_000.0).sin())
            .collect();
        let y = r
            .forward(&Tensor::from_vec(x, n, &Device::Cpu)?)?
            .to_vec1::<f32>()?;
        assert_eq!(y.len(), 1600);
        for (i, v) in y.iter().enumerate().skip(40).take(1500) {
            let want = (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin();
            assert!((v - want).abs() < 0.01, "sample {i}: {v} vs {want}");
        }
        Ok(())
    }

    /// A tone above the new Nyquist frequency is filtered out, not aliased.
    #[test]
    fn resampling_removes_what_the_new_rate_cannot_hold() -> Result<()> {
        let r = Resampler::new(24_000, 16_000, &Device::Cpu)?;
        let x: Vec<f32> = (0..4800)
            .map(|i| (2.0 * std::f32::consts::PI * 10_000.0 * i as f32 / 24_000.0).sin())
            .collect();
        let y = r
            .forward(&Tensor::from_vec(x, 4800, &Device::Cpu)?)?
            .to_vec1::<f32>()?;
        let rms = (y[100..3000].iter().map(|v| v * v).sum::<f32>() / 2900.0).sqrt();
        assert!(rms < 0.01, "aliased energy {rms}");
        Ok(())
    }

    #[test]
    fn the_mel_matches_the_plain_one() -> Result<()> {
        let p = EncoderParams::default();
        let mel = voxclone_audio::MelSpectrogram::new(p.mel);
        let x: Vec<f32> = (0..8000)
            .map(|i| ((i as f32 * 0.37).sin() + (i as f32 * 0.011).cos()) * 0.1)
            .collect();
        let want = mel.compute(&x);
        let dev = Device::Cpu;
        let vb = candle_nn::VarBuilder::zeros(DType::F32, &dev);
        let enc = DifferentiableEncoder::new(SpeakerEncoder::new(&p, vb)?, p)?;
        let got = enc
            .mel(&Tensor::from_vec(x, 8000, &dev)?)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4 * scale, "{g} vs {w}");
        }
        Ok(())
    }
}
