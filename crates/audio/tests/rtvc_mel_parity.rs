//! RTVC's synthesizer mel front-end against golden data made with librosa 0.10.2 by
//! `scripts/golden_rtvc_mel.py` (`tests/data/rtvc_mel.npz`; its docstring lists the keys).

use std::collections::HashMap;

use candle_core::Tensor;
use realfft::num_complex::Complex;
use voxclone_audio::rtvc_mel::{
    db_to_amp, denormalize, inverse_mel_basis, mel_basis, melspectrogram, pseudo_inverse,
    CentredStft, RtvcMel, RtvcMelParams,
};

use voxclone_testdata::{golden_f64s as f64s, rtvc_mel_golden as golden};

fn clip(g: &HashMap<String, Tensor>) -> Vec<f32> {
    // int16 samples; librosa.load gives exactly s / 32768.
    f64s(g, "clip")
        .into_iter()
        .map(|s| s as f32 / 32768.0)
        .collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn filterbank_matches_librosa() {
    let g = golden();
    let p = RtvcMelParams::RTVC;
    let basis = mel_basis(&p);
    assert_eq!(basis.len(), 80 * 401);
    let index: Vec<usize> = f64s(&g, "basis_index")
        .iter()
        .map(|&i| i as usize)
        .collect();
    let nonzero: Vec<usize> = (0..basis.len()).filter(|&i| basis[i] != 0.0).collect();
    assert_eq!(nonzero, index, "non-zero pattern");
    let want = f64s(&g, "basis_value");
    let got: Vec<f64> = index.iter().map(|&i| basis[i] as f64).collect();
    // Both are f32 roundings of the same f64 weights, up to the order of operations.
    let err = got
        .iter()
        .zip(&want)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs() / b.abs()));
    eprintln!("filterbank: max relative error {err:.3e}");
    assert!(err < 5e-7, "{err}");
    let sums: Vec<f64> = basis
        .chunks_exact(401)
        .map(|r| r.iter().map(|&w| w as f64).sum())
        .collect();
    assert!(max_abs_diff(&sums, &f64s(&g, "basis_row_sums")) < 1e-8);
}

#[test]
fn pseudo_inverse_matches_numpy() {
    let g = golden();
    let rows: Vec<usize> = f64s(&g, "pinv_rows").iter().map(|&r| r as usize).collect();
    let want64 = f64s(&g, "pinv64_rows");
    let scale = want64.iter().fold(0f64, |m, v| m.max(v.abs()));
    let pick = |pinv: &[f64]| -> Vec<f64> {
        rows.iter()
            .flat_map(|&r| pinv[r * 80..(r + 1) * 80].to_vec())
            .collect()
    };

    // The algorithm, on librosa's own filterbank: agrees with numpy's SVD-based pinv to rounding.
    let mut librosa_basis = vec![0f64; 80 * 401];
    for (i, v) in f64s(&g, "basis_index").iter().zip(f64s(&g, "basis_value")) {
        librosa_basis[*i as usize] = v;
    }
    let start = std::time::Instant::now();
    let pinv = pseudo_inverse(&librosa_basis, 80, 401);
    eprintln!(
        "pseudo-inverse: {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let err = max_abs_diff(&pick(&pinv), &want64);
    let row_sums: Vec<f64> = pinv.chunks_exact(80).map(|r| r.iter().sum()).collect();
    let col_sums: Vec<f64> = (0..80)
        .map(|m| (0..401).map(|k| pinv[k * 80 + m]).sum())
        .collect();
    let err_rows = max_abs_diff(&row_sums, &f64s(&g, "pinv64_row_sums"));
    let err_cols = max_abs_diff(&col_sums, &f64s(&g, "pinv64_col_sums"));
    eprintln!(
        "pseudo-inverse of librosa's basis (entries up to {scale:.3}): max abs error {err:.3e}; \
         row sums {err_rows:.3e}, column sums {err_cols:.3e}"
    );
    assert!(err < 1e-12 * scale, "{err}");
    assert!(err_rows < 1e-11 * scale && err_cols < 1e-11 * scale);

    // Of our filterbank (which differs from librosa's by an f32 ulp here and there), against
    // numpy's f64 pinv and against RTVC's f32 one.
    let ours = pick(&inverse_mel_basis(&RtvcMelParams::RTVC));
    let err64 = max_abs_diff(&ours, &want64);
    let err32 = max_abs_diff(&ours, &f64s(&g, "pinv32_rows"));
    eprintln!("inverse_mel_basis: vs numpy f64 {err64:.3e}, vs RTVC's f32 {err32:.3e}");
    assert!(err64 < 1e-6 * scale, "{err64}");
    assert!(err32 < 1e-6 * scale, "{err32}");
}

#[test]
fn melspectrogram_matches_the_reference() {
    let g = golden();
    let want = f64s(&g, "mel");
    let wav = clip(&g);
    let start = std::time::Instant::now();
    let (mel, frames) = melspectrogram(&wav);
    eprintln!(
        "mel of {:.2} s: {:.2} ms",
        wav.len() as f64 / 16_000.0,
        start.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(frames, 121);
    assert_eq!(mel.len(), want.len());
    let got: Vec<f64> = mel.iter().map(|&v| v as f64).collect();
    let err = max_abs_diff(&got, &want);
    let mean = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / got.len() as f64;
    eprintln!("mel: max abs error {err:.3e}, mean {mean:.3e} (normalised units; 1 = 12.5 dB)");
    // f32 output rounding is 2.4e-7 at |x| = 4.
    assert!(err < 1e-5, "max abs error {err}");
}

#[test]
fn inverse_mel_matches_the_reference() {
    let g = golden();
    let mel: Vec<f32> = f64s(&g, "mel").iter().map(|&v| v as f32).collect();
    let n_frames = 121;
    let frames: Vec<usize> = f64s(&g, "linear_frames")
        .iter()
        .map(|&f| f as usize)
        .collect();
    let want = f64s(&g, "linear");
    let linear = RtvcMel::rtvc().mel_to_linear(&mel, n_frames);
    assert_eq!(linear.len(), n_frames * 401);
    let mut worst = 0f64;
    for (i, &f) in frames.iter().enumerate() {
        let got = &linear[f * 401..(f + 1) * 401];
        let want = &want[i * 401..(i + 1) * 401];
        let peak = want.iter().fold(0f64, |m, v| m.max(v.abs()));
        // RTVC's pinv is f32: relative error ~1e-6 of the frame's peak, not of tiny bins.
        worst = worst.max(max_abs_diff(got, want) / peak);
    }
    eprintln!("inverse mel: max error {worst:.3e} of the frame peak");
    assert!(worst < 1e-5, "{worst}");

    // The building blocks.
    assert_eq!(denormalize(&[-4.0, 4.0]), vec![-100.0, 0.0]);
    assert!((db_to_amp(-20.0) - 0.1).abs() < 1e-15);
}

#[test]
fn inverse_stft_matches_librosa() {
    let g = golden();
    let want = f64s(&g, "istft_out");
    let stft = CentredStft::rtvc(&RtvcMelParams::RTVC);
    let spectrum: Vec<Complex<f64>> = (0..7)
        .flat_map(|t| {
            (0..401).map(move |k| {
                let (k, t) = (k as f64, t as f64);
                Complex::new(
                    (0.1 * k * t + 0.3 * k).cos() / (1.0 + 0.01 * k),
                    (0.07 * k + 0.5 * t).sin(),
                )
            })
        })
        .collect();
    let mut y = Vec::new();
    stft.inverse(&spectrum, 7, &mut y);
    assert_eq!(y.len(), stft.output_len(7));
    let err = max_abs_diff(&y, &want);
    eprintln!("istft: max abs error {err:.3e}");
    assert!(err < 1e-12, "{err}");
}
