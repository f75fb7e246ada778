//! The always-available fallback vocoder: Griffin-Lim phase reconstruction of a mel spectrogram in
//! Real-Time-Voice-Cloning's synthesizer format (its `inv_mel_spectrogram` without lws).
//!
//! A normalised mel (80 channels in `[-4, 4]`, 16 kHz, hop 200; see
//! [`voxclone_audio::rtvc_mel`]) is denormalised to dB, shifted by the reference level, turned
//! into amplitudes, mapped back to 401 linear-frequency bins by the filterbank's pseudo-inverse
//! (floored at 1e-10) and raised to `power` (1.5) to sharpen it. Griffin-Lim (Griffin & Lim 1984)
//! then starts from random phases and, `iters` times, replaces the phases by those of the STFT of
//! the current waveform's inverse STFT; both transforms are librosa's centred ones (reflect
//! padding, periodic Hann window, window-sum normalisation). Finally the pre-emphasis is undone
//! (`y[n] = x[n] + 0.97·y[n-1]`).
//!
//! Everything runs in f64 with FFT plans made once; the output has `hop · (n_frames - 1)` samples
//! (librosa's `istft` without `length`).

use std::f64::consts::PI;
use std::sync::Arc;

use realfft::num_complex::Complex;
use voxclone_audio::rtvc_mel::{RtvcMel, RtvcMelParams};

use voxclone_nn::rng::SplitMix64;

/// Griffin-Lim for RTVC mels. `iters`, `power` and `seed` may be changed after construction.
#[derive(Debug, Clone)]
pub struct GriffinLim {
    /// Phase-refinement iterations after the initial random-phase inverse (RTVC: 60).
    pub iters: usize,
    /// Exponent applied to the linear magnitudes before reconstruction (RTVC: 1.5).
    pub power: f64,
    /// Seed of the random initial phases: the same seed gives the same waveform.
    pub seed: u64,
    mel: Arc<RtvcMel>,
}

impl Default for GriffinLim {
    /// RTVC's settings: 60 iterations, power 1.5 (seed 0).
    fn default() -> Self {
        Self::new(60, 1.5, 0)
    }
}

impl GriffinLim {
    /// Griffin-Lim for [`RtvcMelParams::RTVC`] mels.
    pub fn new(iters: usize, power: f64, seed: u64) -> Self {
        Self {
            iters,
            power,
            seed,
            mel: RtvcMel::rtvc(),
        }
    }

    /// Griffin-Lim for mels made with other parameters.
    pub fn with_params(params: RtvcMelParams, iters: usize, power: f64, seed: u64) -> Self {
        Self {
            iters,
            power,
            seed,
            mel: Arc::new(RtvcMel::new(params)),
        }
    }

    pub fn params(&self) -> &RtvcMelParams {
        self.mel.params()
    }

    /// Samples [`mel_to_waveform`](Self::mel_to_waveform) returns for `n_frames` frames:
    /// `hop · (n_frames - 1)`, 0 for no frames.
    pub fn output_len(&self, n_frames: usize) -> usize {
        self.mel.stft().output_len(n_frames)
    }

    /// The waveform of a normalised mel, row-major `n_mels × n_frames` (as
    /// [`voxclone_audio::rtvc_mel::melspectrogram`] returns it). Any values are accepted: they are
    /// clipped to `[-max_abs_value, max_abs_value]` and NaN counts as silence.
    ///
    /// # Panics
    /// If `mel.len() != n_mels · n_frames`.
    pub fn mel_to_waveform(&self, mel: &[f32], n_frames: usize) -> Vec<f32> {
        let magnitude = self.magnitude(mel, n_frames);
        let phase = self.random_phase(n_frames);
        self.reconstruct(&magnitude, n_frames, &phase)
    }

    /// The target magnitudes of a normalised mel: linear magnitudes (frame-major
    /// `n_frames × n_bins`) raised to `power`.
    pub fn magnitude(&self, mel: &[f32], n_frames: usize) -> Vec<f64> {
        let n_mels = self.params().n_mels;
        assert_eq!(
            mel.len(),
            n_mels * n_frames,
            "mel has {} values, not {n_mels} channels × {n_frames} frames",
            mel.len()
        );
        let mut linear = self.mel.mel_to_linear(mel, n_frames);
        if self.power != 1.0 {
            for a in &mut linear {
                *a = a.powf(self.power);
            }
        }
        linear
    }

    /// Initial phases (radians, frame-major `n_frames × n_bins`) uniform in `[0, 2π)`, from `seed`.
    pub fn random_phase(&self, n_frames: usize) -> Vec<f64> {
        let mut rng = SplitMix64::new(self.seed);
        (0..n_frames * self.params().n_bins())
            .map(|_| 2.0 * PI * rng.next_f64())
            .collect()
    }

    /// Griffin-Lim from the given magnitudes and initial phases (both frame-major
    /// `n_frames × n_bins`), then inverse pre-emphasis.
    pub fn reconstruct(&self, magnitude: &[f64], n_frames: usize, phase: &[f64]) -> Vec<f32> {
        let stft = self.mel.stft();
        let n_bins = stft.n_bins();
        assert_eq!(magnitude.len(), n_frames * n_bins, "magnitude shape");
        assert_eq!(phase.len(), n_frames * n_bins, "phase shape");
        if n_frames < 2 {
            // No samples between the centres of the first and the last frame.
            return Vec::new();
        }
        let norm = stft.inverse_window_sum(n_frames);
        let mut spectrum: Vec<Complex<f64>> = magnitude
            .iter()
            .zip(phase)
            .map(|(&a, &p)| Complex::from_polar(a, p))
            .collect();
        let mut y = Vec::new();
        stft.inverse_with(&spectrum, n_frames, &norm, &mut y);
        for _ in 0..self.iters {
            let frames = stft.forward(&y, &mut spectrum);
            debug_assert_eq!(frames, n_frames);
            for (c, &a) in spectrum.iter_mut().zip(magnitude) {
                let r = c.norm();
                *c = if r > 0.0 {
                    *c * (a / r)
                } else {
                    // numpy.angle(0) is 0.
                    Complex::new(a, 0.0)
                };
            }
            stft.inverse_with(&spectrum, n_frames, &norm, &mut y);
        }
        let k = self.params().preemphasis;
        let mut previous = 0f64;
        y.iter()
            .map(|&x| {
                previous = x + k * previous;
                previous as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_in_range_and_spread() {
        let mut rng = SplitMix64::new(7);
        let xs: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn degenerate_sizes() {
        let gl = GriffinLim::new(3, 1.5, 1);
        assert!(gl.mel_to_waveform(&[], 0).is_empty());
        assert!(gl.mel_to_waveform(&[0.0; 80], 1).is_empty());
        let y = gl.mel_to_waveform(&[f32::NAN; 160], 2);
        assert_eq!(y.len(), 200);
        assert!(y.iter().all(|v| v.is_finite()));
        let y = gl.mel_to_waveform(&[f32::INFINITY; 240], 3);
        assert_eq!(y.len(), 400);
        assert!(y.iter().all(|v| v.is_finite()));
    }

    #[test]
    #[should_panic(expected = "not 80 channels")]
    fn wrong_shape_panics() {
        GriffinLim::default().mel_to_waveform(&[0.0; 100], 2);
    }
}
