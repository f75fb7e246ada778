//! Mel power spectrogram, as `librosa.feature.melspectrogram` computes it with the GE2E encoder's
//! settings: centred frames with zero padding, periodic Hann window, power spectrum, Slaney-scale
//! area-normalised triangular filters, no log.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

pub use crate::spectral::MelParams;
use crate::spectral::{filter_supports, periodic_hann, slaney_mel_filterbank};

/// A planned mel spectrogram: window, filterbank and FFT made once, shared between threads.
#[derive(Clone)]
pub struct MelSpectrogram {
    params: MelParams,
    window: Vec<f64>,
    /// Row-major `n_mels × n_bins`.
    filters: Vec<f32>,
    /// The bins where each filter is non-zero (a triangle covers a few bins of 201).
    supports: Vec<std::ops::Range<usize>>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl std::fmt::Debug for MelSpectrogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelSpectrogram")
            .field("params", &self.params)
            .finish()
    }
}

impl MelSpectrogram {
    pub fn new(params: MelParams) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(params.n_fft);
        let n_bins = params.n_bins();
        let filters = slaney_mel_filterbank(&params);
        let supports = filter_supports(&filters, n_bins);
        Self {
            window: periodic_hann(params.n_fft),
            filters,
            supports,
            params,
            fft,
        }
    }

    pub fn params(&self) -> &MelParams {
        &self.params
    }

    /// The filterbank, row-major `n_mels × n_bins`.
    pub fn filters(&self) -> &[f32] {
        &self.filters
    }

    /// The whole spectrogram of `samples`, row-major `frames × n_mels`.
    pub fn compute(&self, samples: &[f32]) -> Vec<f32> {
        let n_frames = self.params.n_frames(samples.len());
        self.frames(samples, 0, n_frames)
    }

    /// Like [`frames`](Self::frames), with the frames split between `threads` threads.
    pub fn frames_parallel(
        &self,
        samples: &[f32],
        first: usize,
        count: usize,
        threads: usize,
    ) -> Vec<f32> {
        // Below a few hundred frames, starting threads costs more than it saves.
        let per = count.div_ceil(threads.max(1)).max(256);
        if per >= count {
            return self.frames(samples, first, count);
        }
        std::thread::scope(|s| {
            let parts: Vec<_> = (first..first + count)
                .step_by(per)
                .map(|start| {
                    let n = per.min(first + count - start);
                    s.spawn(move || self.frames(samples, start, n))
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().expect("mel thread panicked"))
                .collect()
        })
    }

    /// Frames `first .. first + count` of the centred spectrogram of `samples`, row-major
    /// `count × n_mels`. Samples outside the signal (the centring pad, or frames past its end) are zero,
    /// so this also computes the spectrogram of `samples` zero-padded to any length.
    pub fn frames(&self, samples: &[f32], first: usize, count: usize) -> Vec<f32> {
        let p = &self.params;
        let n_bins = p.n_bins();
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f64; n_bins];
        let mut out = vec![0f32; count * p.n_mels];
        let half = (p.n_fft / 2) as isize;
        for (k, row) in (first..first + count).zip(out.chunks_exact_mut(p.n_mels)) {
            let start = (k * p.hop_length) as isize - half;
            for (j, x) in input.iter_mut().enumerate() {
                let t = start + j as isize;
                let s = if t >= 0 && (t as usize) < samples.len() {
                    samples[t as usize] as f64
                } else {
                    0.0
                };
                *x = s * self.window[j];
            }
            self.fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .expect("buffers come from the plan");
            for (pw, c) in power.iter_mut().zip(&spectrum) {
                *pw = c.norm_sqr();
            }
            for ((m, value), support) in row.iter_mut().enumerate().zip(&self.supports) {
                let filter = &self.filters[m * n_bins..(m + 1) * n_bins];
                *value = filter[support.clone()]
                    .iter()
                    .zip(&power[support.clone()])
                    .map(|(&w, &pw)| w as f64 * pw)
                    .sum::<f64>() as f32;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spectral::{hz_to_mel, mel_to_hz};

    #[test]
    fn slaney_scale_round_trips_and_has_its_knee_at_1khz() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        for hz in [0.0, 73.6, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }

    #[test]
    fn filter_centres_match_the_spec() {
        let p = MelParams::GE2E;
        let (lo, hi) = (hz_to_mel(p.fmin), hz_to_mel(p.fmax));
        let centre = |m: usize| mel_to_hz(lo + (hi - lo) * (m + 1) as f64 / 41.0);
        assert!((centre(0) - 73.6).abs() < 0.05);
        assert!((centre(1) - 147.1).abs() < 0.05);
        assert!((centre(39) - 7415.5).abs() < 0.05);
    }

    #[test]
    fn frame_count_and_shape() {
        let mel = MelSpectrogram::new(MelParams::GE2E);
        let x = vec![0.1f32; 16000];
        let m = mel.compute(&x);
        assert_eq!(m.len(), 101 * 40);
    }

    #[test]
    fn a_tone_lights_its_own_band() {
        let mel = MelSpectrogram::new(MelParams::GE2E);
        let x: Vec<f32> = (0..4000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin())
            .collect();
        let m = mel.compute(&x);
        let frame = &m[10 * 40..11 * 40];
        let loudest = (0..40)
            .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
            .unwrap();
        let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(8000.0));
        let lo_edge = mel_to_hz(lo + (hi - lo) * loudest as f64 / 41.0);
        let hi_edge = mel_to_hz(lo + (hi - lo) * (loudest + 2) as f64 / 41.0);
        assert!(lo_edge < 1000.0 && 1000.0 < hi_edge, "band {loudest}");
    }

    #[test]
    fn frames_is_a_window_of_compute_and_zero_pads() {
        let mel = MelSpectrogram::new(MelParams::GE2E);
        let x: Vec<f32> = (0..8000)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let all = mel.compute(&x);
        assert_eq!(mel.frames(&x, 10, 5), all[10 * 40..15 * 40].to_vec());
        assert_eq!(
            mel.frames_parallel(&x, 3, 40, 2),
            all[3 * 40..43 * 40].to_vec()
        );
        assert_eq!(mel.frames_parallel(&x, 0, 51, 8), all);
        let long: Vec<f32> = x.iter().cycle().take(80_000).copied().collect();
        assert_eq!(mel.frames_parallel(&long, 0, 501, 2), mel.compute(&long));
        let mut padded = x.clone();
        padded.resize(12000, 0.0);
        let n = mel.params().n_frames(padded.len());
        assert_eq!(mel.frames(&x, 0, n), mel.compute(&padded));
    }
}
