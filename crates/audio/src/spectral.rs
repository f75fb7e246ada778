//! The spectral building blocks every stage uses, written once: the periodic Hann window, the
//! Slaney mel scale and its area-normalised triangular filterbank, and the centred STFT and
//! inverse STFT (reflect padding, overlap-add divided by the summed squared window) as librosa
//! and `torch.stft`/`torch.istft` with `center=True` compute them.
//!
//! Users: the GE2E front-end ([`crate::mel`]), RTVC's mel and Griffin-Lim ([`crate::rtvc_mel`],
//! `voxclone-vocoder`), iSTFTNet's source STFT and inverse STFT (`voxclone-vocoder`), and the
//! encoder's differentiable front-end.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// The settings of a mel spectrogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelParams {
    pub sample_rate: u32,
    /// FFT size, which is also the window length.
    pub n_fft: usize,
    pub hop_length: usize,
    pub n_mels: usize,
    pub fmin: f64,
    pub fmax: f64,
}

impl MelParams {
    /// The GE2E encoder's front-end: 25 ms windows, 10 ms hop, 40 channels.
    pub const GE2E: MelParams = MelParams {
        sample_rate: 16_000,
        n_fft: 400,
        hop_length: 160,
        n_mels: 40,
        fmin: 0.0,
        fmax: 8_000.0,
    };

    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Frames of a centred STFT over `n_samples`: one per hop, plus one.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        1 + n_samples / self.hop_length
    }
}

/// `0.5 - 0.5 cos(2πn/N)`: the periodic Hann window (scipy's `get_window('hann', N)`).
pub fn periodic_hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect()
}

// The Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
const SLANEY_HZ_PER_MEL: f64 = 200.0 / 3.0;
const SLANEY_LOG_START_HZ: f64 = 1000.0;
const SLANEY_LOG_START_MEL: f64 = SLANEY_LOG_START_HZ / SLANEY_HZ_PER_MEL;

fn slaney_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= SLANEY_LOG_START_HZ {
        SLANEY_LOG_START_MEL + (hz / SLANEY_LOG_START_HZ).ln() / slaney_log_step()
    } else {
        hz / SLANEY_HZ_PER_MEL
    }
}

pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= SLANEY_LOG_START_MEL {
        SLANEY_LOG_START_HZ * (slaney_log_step() * (mel - SLANEY_LOG_START_MEL)).exp()
    } else {
        mel * SLANEY_HZ_PER_MEL
    }
}

/// For each filter (a row of `n_bins` weights), the range of bins where it is non-zero, so
/// that applying it skips the zeros.
pub fn filter_supports(filters: &[f32], n_bins: usize) -> Vec<std::ops::Range<usize>> {
    filters
        .chunks_exact(n_bins)
        .map(|f| {
            let start = f.iter().position(|&w| w != 0.0).unwrap_or(0);
            let end = f.iter().rposition(|&w| w != 0.0).map_or(start, |e| e + 1);
            start..end
        })
        .collect()
}

/// Triangular filters spaced evenly on the Slaney mel scale, each scaled to unit area
/// (`2 / (f_right - f_left)`), as librosa's `filters.mel(htk=False, norm='slaney')`.
pub fn slaney_mel_filterbank(p: &MelParams) -> Vec<f32> {
    let n_bins = p.n_bins();
    let bin_hz = |k: usize| k as f64 * p.sample_rate as f64 / p.n_fft as f64;
    let (mel_lo, mel_hi) = (hz_to_mel(p.fmin), hz_to_mel(p.fmax));
    let edges: Vec<f64> = (0..p.n_mels + 2)
        .map(|i| mel_to_hz(mel_lo + (mel_hi - mel_lo) * i as f64 / (p.n_mels + 1) as f64))
        .collect();
    let mut filters = vec![0f32; p.n_mels * n_bins];
    for m in 0..p.n_mels {
        let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
        let area_norm = 2.0 / (right - left);
        for k in 0..n_bins {
            let f = bin_hz(k);
            let rising = (f - left) / (centre - left);
            let falling = (right - f) / (right - centre);
            let w = rising.min(falling).max(0.0);
            filters[m * n_bins + k] = (w * area_norm) as f32;
        }
    }
    filters
}

/// A centred short-time Fourier transform and its inverse, as librosa's `stft`/`istft` with
/// `center=True`, `pad_mode="reflect"` and a periodic Hann window: plans and window made once.
#[derive(Clone)]
pub struct CentredStft {
    n_fft: usize,
    hop: usize,
    /// The periodic Hann window of `win_length`, zero-padded to `n_fft` at both sides.
    window: Vec<f64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

impl std::fmt::Debug for CentredStft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentredStft")
            .field("n_fft", &self.n_fft)
            .field("hop", &self.hop)
            .finish()
    }
}

impl CentredStft {
    pub fn new(n_fft: usize, hop: usize, win_length: usize) -> Self {
        assert!(n_fft >= 2 && n_fft.is_multiple_of(2), "n_fft must be even");
        assert!(hop >= 1 && win_length >= 1 && win_length <= n_fft);
        let mut planner = RealFftPlanner::<f64>::new();
        let mut window = vec![0f64; n_fft];
        let offset = (n_fft - win_length) / 2;
        for (w, h) in window[offset..].iter_mut().zip(periodic_hann(win_length)) {
            *w = h;
        }
        Self {
            n_fft,
            hop,
            window,
            forward: planner.plan_fft_forward(n_fft),
            inverse: planner.plan_fft_inverse(n_fft),
        }
    }

    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    pub fn hop(&self) -> usize {
        self.hop
    }

    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Frames of the STFT of `n_samples` samples (`1 + n / hop`; 0 for none).
    pub fn n_frames(&self, n_samples: usize) -> usize {
        if n_samples == 0 {
            0
        } else {
            1 + n_samples / self.hop
        }
    }

    /// Samples of the inverse STFT of `n_frames` frames: `hop · (n_frames - 1)`, what librosa's
    /// `istft(center=True)` returns without `length`.
    pub fn output_len(&self, n_frames: usize) -> usize {
        self.hop * n_frames.saturating_sub(1)
    }

    /// The STFT of `signal` into `out` (resized to `n_frames × n_bins`, frame-major); returns
    /// `n_frames`. The signal is extended at both ends by `n_fft / 2` reflected samples (the
    /// edge sample not repeated, as `numpy.pad(mode="reflect")`).
    pub fn forward(&self, signal: &[f64], out: &mut Vec<Complex<f64>>) -> usize {
        let n = signal.len();
        let n_frames = self.n_frames(n);
        let n_bins = self.n_bins();
        out.clear();
        out.resize(n_frames * n_bins, Complex::new(0.0, 0.0));
        if n_frames == 0 {
            return 0;
        }
        let half = self.n_fft / 2;
        let mut input = self.forward.make_input_vec();
        let mut scratch = self.forward.make_scratch_vec();
        for (t, spectrum) in out.chunks_exact_mut(n_bins).enumerate() {
            let start = t * self.hop; // in padded coordinates
            if start >= half && start - half + self.n_fft <= n {
                let s = &signal[start - half..start - half + self.n_fft];
                for ((x, &v), &w) in input.iter_mut().zip(s).zip(&self.window) {
                    *x = v * w;
                }
            } else {
                for (j, (x, &w)) in input.iter_mut().zip(&self.window).enumerate() {
                    let i = (start + j) as isize - half as isize;
                    *x = signal[reflect(i, n)] * w;
                }
            }
            self.forward
                .process_with_scratch(&mut input, spectrum, &mut scratch)
                .expect("buffers come from the plan");
        }
        n_frames
    }

    /// `1 / Σ window²` over the frames covering each output sample of an inverse STFT of
    /// `n_frames` frames (centring trimmed), or 1 where that sum is not above the smallest
    /// normal f64 (librosa leaves those samples undivided).
    pub fn inverse_window_sum(&self, n_frames: usize) -> Vec<f64> {
        let full = self.n_fft + self.hop * n_frames.saturating_sub(1);
        let mut sum = vec![0f64; full];
        for t in 0..n_frames {
            for (s, &w) in sum[t * self.hop..].iter_mut().zip(&self.window) {
                *s += w * w;
            }
        }
        let half = self.n_fft / 2;
        sum[half..half + self.output_len(n_frames)]
            .iter()
            .map(|&s| if s > f64::MIN_POSITIVE { 1.0 / s } else { 1.0 })
            .collect()
    }

    /// The inverse STFT of `spectrum` (frame-major `n_frames × n_bins`) into `out` (resized to
    /// [`output_len`](Self::output_len)), as librosa's `istft(center=True)`: inverse real FFT of
    /// every frame (the imaginary parts of the DC and Nyquist bins ignored), times the window,
    /// overlap-added, divided by the summed squared window, `n_fft / 2` samples trimmed at each end.
    pub fn inverse(&self, spectrum: &[Complex<f64>], n_frames: usize, out: &mut Vec<f64>) {
        let norm = self.inverse_window_sum(n_frames);
        self.inverse_with(spectrum, n_frames, &norm, out);
    }

    /// [`inverse`](Self::inverse) with the normalisation precomputed by
    /// [`inverse_window_sum`](Self::inverse_window_sum) for the same `n_frames`.
    pub fn inverse_with(
        &self,
        spectrum: &[Complex<f64>],
        n_frames: usize,
        inverse_window_sum: &[f64],
        out: &mut Vec<f64>,
    ) {
        let n_bins = self.n_bins();
        assert_eq!(
            spectrum.len(),
            n_frames * n_bins,
            "spectrum is not frames × bins"
        );
        let len = self.output_len(n_frames);
        assert_eq!(
            inverse_window_sum.len(),
            len,
            "normalisation is for another length"
        );
        let half = self.n_fft / 2;
        out.clear();
        out.resize(len, 0.0);
        let mut input = self.inverse.make_input_vec();
        let mut frame = self.inverse.make_output_vec();
        let mut scratch = self.inverse.make_scratch_vec();
        let scale = 1.0 / self.n_fft as f64;
        for (t, bins) in spectrum.chunks_exact(n_bins).enumerate() {
            input.copy_from_slice(bins);
            input[0].im = 0.0;
            input[n_bins - 1].im = 0.0;
            self.inverse
                .process_with_scratch(&mut input, &mut frame, &mut scratch)
                .expect("buffers come from the plan");
            // Frame t covers padded samples t·hop .. t·hop + n_fft; output sample i is padded
            // sample i + half.
            let start = t * self.hop;
            let lo = half.saturating_sub(start);
            let hi = self.n_fft.min(len + half - start);
            for j in lo..hi {
                out[start + j - half] += frame[j] * self.window[j] * scale;
            }
        }
        for (y, &g) in out.iter_mut().zip(inverse_window_sum) {
            *y *= g;
        }
    }
}

/// Index `i` of a signal of `n` samples extended by reflection about its end samples.
fn reflect(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let j = i.rem_euclid(period);
    (if j >= n as isize { period - j } else { j }) as usize
}

impl CentredStft {
    /// Magnitude and phase of the STFT of `signal`, each `n_bins × n_frames` row-major (one row
    /// per frequency bin, as `torch.stft` lays them out).
    pub fn magnitude_phase(&self, signal: &[f64]) -> (Vec<f32>, Vec<f32>) {
        let mut spectrum = Vec::new();
        let frames = self.forward(signal, &mut spectrum);
        let bins = self.n_bins();
        let mut magnitude = vec![0f32; bins * frames];
        let mut phase = vec![0f32; bins * frames];
        for (f, frame) in spectrum.chunks_exact(bins).enumerate() {
            for (k, c) in frame.iter().enumerate() {
                magnitude[k * frames + f] = c.norm() as f32;
                phase[k * frames + f] = c.im.atan2(c.re) as f32;
            }
        }
        (magnitude, phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_numpy_pad() {
        // np.pad([0, 1, 2, 3], 5, mode="reflect")
        let want = [
            1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3, //
        ];
        let got: Vec<usize> = (-5..10).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, want);
        assert_eq!(reflect(-3, 1), 0);
    }

    #[test]
    fn stft_then_istft_is_the_identity() {
        let stft = CentredStft::new(800, 200, 800);
        let x: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5)
            .collect();
        let mut spec = Vec::new();
        let frames = stft.forward(&x, &mut spec);
        assert_eq!(frames, 26);
        let mut y = Vec::new();
        stft.inverse(&spec, frames, &mut y);
        assert_eq!(y.len(), 5000);
        let err = x
            .iter()
            .zip(&y)
            .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-12, "{err}");
    }
}
