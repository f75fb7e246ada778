//! The mel spectrogram of Real-Time-Voice-Cloning's synthesizer (its `synthesizer/audio.py` with
//! `synthesizer/hparams.py`), and the pieces its Griffin-Lim fallback needs to go back.
//!
//! Forward, [`melspectrogram`]: pre-emphasis `y[n] = x[n] - 0.97·x[n-1]` → magnitude of a centred
//! STFT (reflect padding, periodic Hann window of 800, hop 200, as librosa 0.8.1's `stft`) → 80
//! Slaney-scale, area-normalised mel filters from 55 to 7600 Hz → `20·log10(max(1e-5, ·))` →
//! minus the 20 dB reference level → mapped linearly from `[-100, 0]` dB to `[-4, 4]` and clipped.
//!
//! Backward: [`denormalize`] undoes the last mapping (after clipping to `[-4, 4]`),
//! [`db_to_amp`] the decibels, and [`inverse_mel_basis`] is the Moore-Penrose pseudo-inverse of the
//! filterbank (`numpy.linalg.pinv`), applied by [`mel_to_linear`] with a floor of 1e-10.
//! [`CentredStft`] holds the STFT and the inverse STFT (overlap-add divided by the summed squared
//! window, centring trimmed, as librosa's `istft`) that Griffin-Lim iterates.
//!
//! Everything is computed in f64, as the reference does (its pre-emphasis turns the samples into
//! float64); only the filterbank is f32, as librosa builds it.
//!
//! Layout: a mel spectrogram is row-major `n_mels × n_frames` (one row per mel channel, as the
//! reference's `(num_mels, frames)` array); a complex STFT is frame-major `n_frames × n_bins`.

use std::sync::{Arc, OnceLock};

use crate::mel::MelParams;
use crate::spectral::slaney_mel_filterbank;
pub use crate::spectral::CentredStft;

/// The signal-processing hyper-parameters of RTVC's synthesizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RtvcMelParams {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop_length: usize,
    /// Hann window length, centred in the `n_fft` frame (zero outside) when shorter.
    pub win_length: usize,
    pub n_mels: usize,
    pub fmin: f64,
    pub fmax: f64,
    /// Pre-emphasis coefficient `k` of `y[n] = x[n] - k·x[n-1]`.
    pub preemphasis: f64,
    /// The floor of the dB scale (amplitudes below `10^(min_level_db/20)` are clamped to it).
    pub min_level_db: f64,
    /// Subtracted from the dB values before normalising.
    pub ref_level_db: f64,
    /// Normalised values lie in `[-max_abs_value, max_abs_value]` (symmetric mels, clipped).
    pub max_abs_value: f64,
}

impl RtvcMelParams {
    /// `synthesizer/hparams.py` of Real-Time-Voice-Cloning.
    pub const RTVC: RtvcMelParams = RtvcMelParams {
        sample_rate: 16_000,
        n_fft: 800,
        hop_length: 200,
        win_length: 800,
        n_mels: 80,
        fmin: 55.0,
        fmax: 7_600.0,
        preemphasis: 0.97,
        min_level_db: -100.0,
        ref_level_db: 20.0,
        max_abs_value: 4.0,
    };

    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Frames of the centred STFT of `n_samples` samples: `1 + n_samples / hop` (0 for no samples).
    pub fn n_frames(&self, n_samples: usize) -> usize {
        if n_samples == 0 {
            0
        } else {
            1 + n_samples / self.hop_length
        }
    }

    /// The filterbank settings in the form [`slaney_mel_filterbank`] takes.
    pub fn mel_params(&self) -> MelParams {
        MelParams {
            sample_rate: self.sample_rate,
            n_fft: self.n_fft,
            hop_length: self.hop_length,
            n_mels: self.n_mels,
            fmin: self.fmin,
            fmax: self.fmax,
        }
    }

    /// The amplitude floor, `10^(min_level_db / 20)` (1e-5).
    pub fn min_level(&self) -> f64 {
        (self.min_level_db / 20.0 * std::f64::consts::LN_10).exp()
    }

    /// dB (already minus the reference level) → `[-max, max]`, clipped.
    pub fn normalize(&self, db: f64) -> f64 {
        let m = self.max_abs_value;
        (2.0 * m * ((db - self.min_level_db) / -self.min_level_db) - m).clamp(-m, m)
    }

    /// `[-max, max]` → dB (still minus the reference level); input is clipped to the range first.
    /// NaN maps to the floor (`min_level_db`), so any mel can be inverted.
    pub fn denormalize(&self, x: f64) -> f64 {
        let m = self.max_abs_value;
        let x = if x.is_nan() { -m } else { x.clamp(-m, m) };
        (x + m) * -self.min_level_db / (2.0 * m) + self.min_level_db
    }
}

/// `10^(db / 20)`.
pub fn db_to_amp(db: f64) -> f64 {
    10f64.powf(db * 0.05)
}

/// `RtvcMelParams::RTVC.denormalize` on every value.
pub fn denormalize(mel: &[f32]) -> Vec<f32> {
    mel.iter()
        .map(|&x| RtvcMelParams::RTVC.denormalize(x as f64) as f32)
        .collect()
}

/// The librosa filterbank for `p` (`librosa.filters.mel`, Slaney scale and norm, f32), row-major
/// `n_mels × n_bins`.
pub fn mel_basis(p: &RtvcMelParams) -> Vec<f32> {
    slaney_mel_filterbank(&p.mel_params())
}

/// The Moore-Penrose pseudo-inverse of [`mel_basis`], row-major `n_bins × n_mels`, as
/// `numpy.linalg.pinv` computes it (singular values below `1e-15 · σ_max` treated as zero) but
/// entirely in f64.
pub fn inverse_mel_basis(p: &RtvcMelParams) -> Vec<f64> {
    let basis: Vec<f64> = mel_basis(p).iter().map(|&w| w as f64).collect();
    pseudo_inverse(&basis, p.n_mels, p.n_bins())
}

/// The pseudo-inverse of the row-major `rows × cols` matrix `m`, returned row-major
/// `cols × rows`.
///
/// One-sided Jacobi (Hestenes) on `A = mᵀ` (`cols × rows`): plane rotations `V` orthogonalise
/// the columns of `A`, so `A·V = U·Σ` with `σ_j` the column norms; then
/// `pinv(m) = U·Σ⁺·Vᵀ = (A·V)·Σ⁺²·Vᵀ`. Accurate to a few ulps of the singular values and
/// correct for rank-deficient matrices (zero filters, say), unlike `mᵀ(m·mᵀ)⁻¹`.
pub fn pseudo_inverse(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    assert_eq!(m.len(), rows * cols, "matrix is not rows × cols");
    // Column j of A = row j of m: stored contiguously.
    let mut a: Vec<f64> = m.to_vec();
    let mut v = vec![0f64; rows * rows]; // column-major: column j at j*rows
    for j in 0..rows {
        v[j * rows + j] = 1.0;
    }
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..rows {
            for q in p + 1..rows {
                let (ap, aq) = {
                    let (lo, hi) = a.split_at(q * cols);
                    (&lo[p * cols..(p + 1) * cols], &hi[..cols])
                };
                let (mut alpha, mut beta, mut gamma) = (0f64, 0f64, 0f64);
                for (&x, &y) in ap.iter().zip(aq) {
                    alpha += x * x;
                    beta += y * y;
                    gamma += x * y;
                }
                if gamma == 0.0 || gamma.abs() <= 1e-15 * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for (buf, n) in [(&mut a, cols), (&mut v, rows)] {
                    let (xp, xq) = two_columns(buf, n, p, q);
                    for (x, y) in xp.iter_mut().zip(xq.iter_mut()) {
                        let (u, w) = (*x, *y);
                        *x = c * u - s * w;
                        *y = s * u + c * w;
                    }
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let sq_norms: Vec<f64> = a
        .chunks_exact(cols)
        .map(|c| c.iter().map(|x| x * x).sum())
        .collect();
    let sigma_max = sq_norms.iter().fold(0f64, |m, &s| m.max(s)).sqrt();
    let cutoff = 1e-15 * sigma_max;
    // pinv[k][i] = Σ_j A'[k][j] / σ_j² · V[i][j]
    let mut out = vec![0f64; cols * rows];
    for j in 0..rows {
        if sq_norms[j].sqrt() <= cutoff {
            continue;
        }
        let inv = 1.0 / sq_norms[j];
        let (aj, vj) = (&a[j * cols..(j + 1) * cols], &v[j * rows..(j + 1) * rows]);
        for (k, &akj) in aj.iter().enumerate() {
            let f = akj * inv;
            for (o, &vij) in out[k * rows..(k + 1) * rows].iter_mut().zip(vj) {
                *o += f * vij;
            }
        }
    }
    out
}

/// Columns `p < q` (each `n` long, stored one after another) of `buf`, both mutable.
fn two_columns(buf: &mut [f64], n: usize, p: usize, q: usize) -> (&mut [f64], &mut [f64]) {
    let (lo, hi) = buf.split_at_mut(q * n);
    (&mut lo[p * n..(p + 1) * n], &mut hi[..n])
}

/// `max(1e-10, pinv · mel)`: mel amplitudes (row-major `n_mels × n_frames`) → linear magnitudes,
/// frame-major `n_frames × n_bins`. `inverse` is [`inverse_mel_basis`], `n_bins × n_mels`.
pub fn mel_to_linear(inverse: &[f64], mel: &[f64], n_mels: usize, n_frames: usize) -> Vec<f64> {
    assert_eq!(mel.len(), n_mels * n_frames, "mel is not n_mels × n_frames");
    assert_eq!(
        inverse.len() % n_mels,
        0,
        "inverse basis is not n_bins × n_mels"
    );
    let n_bins = inverse.len() / n_mels;
    let mut column = vec![0f64; n_mels];
    let mut out = vec![0f64; n_frames * n_bins];
    for (t, frame) in out.chunks_exact_mut(n_bins).enumerate() {
        for (m, c) in column.iter_mut().enumerate() {
            *c = mel[m * n_frames + t];
        }
        for (o, row) in frame.iter_mut().zip(inverse.chunks_exact(n_mels)) {
            let dot: f64 = row.iter().zip(&column).map(|(a, b)| a * b).sum();
            *o = dot.max(1e-10);
        }
    }
    out
}

impl CentredStft {
    /// The STFT RTVC's parameters call for.
    pub fn rtvc(p: &RtvcMelParams) -> Self {
        Self::new(p.n_fft, p.hop_length, p.win_length)
    }
}

/// RTVC's mel front-end, planned once: STFT, filterbank and the bins each filter covers.
#[derive(Debug, Clone)]
pub struct RtvcMel {
    params: RtvcMelParams,
    stft: CentredStft,
    /// Row-major `n_mels × n_bins`.
    basis: Vec<f32>,
    supports: Vec<std::ops::Range<usize>>,
    /// [`inverse_mel_basis`], computed on first use.
    inverse: OnceLock<Vec<f64>>,
}

impl RtvcMel {
    pub fn new(params: RtvcMelParams) -> Self {
        let basis = mel_basis(&params);
        let n_bins = params.n_bins();
        let supports = crate::spectral::filter_supports(&basis, n_bins);
        Self {
            stft: CentredStft::rtvc(&params),
            basis,
            supports,
            params,
            inverse: OnceLock::new(),
        }
    }

    /// The shared instance for [`RtvcMelParams::RTVC`].
    pub fn rtvc() -> Arc<RtvcMel> {
        static MEL: OnceLock<Arc<RtvcMel>> = OnceLock::new();
        MEL.get_or_init(|| Arc::new(RtvcMel::new(RtvcMelParams::RTVC)))
            .clone()
    }

    pub fn params(&self) -> &RtvcMelParams {
        &self.params
    }

    pub fn stft(&self) -> &CentredStft {
        &self.stft
    }

    /// The filterbank, row-major `n_mels × n_bins`.
    pub fn basis(&self) -> &[f32] {
        &self.basis
    }

    /// The pseudo-inverse of the filterbank, row-major `n_bins × n_mels` ([`inverse_mel_basis`]),
    /// computed on the first call (a few tens of milliseconds) and kept.
    pub fn inverse_basis(&self) -> &[f64] {
        self.inverse.get_or_init(|| {
            let basis: Vec<f64> = self.basis.iter().map(|&w| w as f64).collect();
            pseudo_inverse(&basis, self.params.n_mels, self.params.n_bins())
        })
    }

    /// Normalised mel (row-major `n_mels × n_frames`) → linear magnitudes (frame-major
    /// `n_frames × n_bins`), as RTVC's `inv_mel_spectrogram` before Griffin-Lim:
    /// `max(1e-10, pinv · 10^((denormalize(mel) + ref_level_db) / 20))`.
    pub fn mel_to_linear(&self, mel: &[f32], n_frames: usize) -> Vec<f64> {
        let p = &self.params;
        let amp: Vec<f64> = mel
            .iter()
            .map(|&x| db_to_amp(p.denormalize(x as f64) + p.ref_level_db))
            .collect();
        mel_to_linear(self.inverse_basis(), &amp, p.n_mels, n_frames)
    }

    /// The normalised mel spectrogram of `wav` (row-major `n_mels × n_frames`) and `n_frames`.
    pub fn compute(&self, wav: &[f32]) -> (Vec<f32>, usize) {
        let p = &self.params;
        let mut emphasised = Vec::with_capacity(wav.len());
        let mut previous = 0f64;
        for &x in wav {
            let x = x as f64;
            emphasised.push(x - p.preemphasis * previous);
            previous = x;
        }
        let mut spectrum = Vec::new();
        let n_frames = self.stft.forward(&emphasised, &mut spectrum);
        let n_bins = p.n_bins();
        let min_level = p.min_level();
        let mut magnitude = vec![0f64; n_bins];
        let mut out = vec![0f32; p.n_mels * n_frames];
        for (t, bins) in spectrum.chunks_exact(n_bins).enumerate() {
            for (a, c) in magnitude.iter_mut().zip(bins) {
                *a = c.norm();
            }
            for (m, support) in self.supports.iter().enumerate() {
                let filter = &self.basis[m * n_bins..(m + 1) * n_bins];
                let amp: f64 = filter[support.clone()]
                    .iter()
                    .zip(&magnitude[support.clone()])
                    .map(|(&w, &a)| w as f64 * a)
                    .sum();
                let db = 20.0 * amp.max(min_level).log10() - p.ref_level_db;
                out[m * n_frames + t] = p.normalize(db) as f32;
            }
        }
        (out, n_frames)
    }
}

/// RTVC's `synthesizer.audio.melspectrogram(wav, hparams)`: the normalised 80-channel mel of a
/// 16 kHz waveform, row-major `80 × n_frames` (channel-major, as the reference's array), and
/// `n_frames = 1 + len / 200` (0 for an empty waveform).
pub fn melspectrogram(wav: &[f32]) -> (Vec<f32>, usize) {
    RtvcMel::rtvc().compute(wav)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_round_trips_and_clips() {
        let p = RtvcMelParams::RTVC;
        assert!((p.min_level() / 1e-5 - 1.0).abs() < 1e-14);
        assert_eq!(p.normalize(-100.0), -4.0);
        assert_eq!(p.normalize(0.0), 4.0);
        assert_eq!(p.normalize(-150.0), -4.0);
        assert_eq!(p.normalize(30.0), 4.0);
        for db in [-100.0, -73.2, -50.0, -0.5] {
            assert!((p.denormalize(p.normalize(db)) - db).abs() < 1e-12);
        }
        assert_eq!(p.denormalize(9.0), 0.0);
        assert_eq!(p.denormalize(f64::NAN), -100.0);
        assert_eq!(denormalize(&[-4.0, 0.0, 4.0]), vec![-100.0, -50.0, 0.0]);
    }

    #[test]
    fn pseudo_inverse_of_a_rank_deficient_matrix() {
        // Rows 0 and 2 equal, row 3 zero: rank 2.
        let m = [
            1.0, 2.0, 0.0, 1.0, //
            0.0, 1.0, 3.0, 0.0, //
            1.0, 2.0, 0.0, 1.0, //
            0.0, 0.0, 0.0, 0.0,
        ];
        let p = pseudo_inverse(&m, 4, 4);
        let mul = |a: &[f64], b: &[f64]| -> Vec<f64> {
            (0..16)
                .map(|ij| (0..4).map(|k| a[ij / 4 * 4 + k] * b[k * 4 + ij % 4]).sum())
                .collect()
        };
        // Penrose conditions 1 and 2: M P M = M, P M P = P.
        let mpm = mul(&mul(&m, &p), &m);
        let pmp = mul(&mul(&p, &m), &p);
        for i in 0..16 {
            assert!((mpm[i] - m[i]).abs() < 1e-12, "{mpm:?}");
            assert!((pmp[i] - p[i]).abs() < 1e-12, "{pmp:?}");
        }
        // The zero row maps to a zero column.
        assert!((0..4).all(|k| p[k * 4 + 3] == 0.0));
    }

    #[test]
    fn shape_and_silence() {
        let (mel, frames) = melspectrogram(&vec![0.0; 16000]);
        assert_eq!(frames, 81);
        assert_eq!(mel.len(), 80 * 81);
        assert!(mel.iter().all(|&v| v == -4.0));
        assert_eq!(melspectrogram(&[]), (vec![], 0));
        let (mel, frames) = melspectrogram(&[0.5]);
        assert_eq!((mel.len(), frames), (80, 1));
    }
}
