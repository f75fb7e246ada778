//! Griffin-Lim on RTVC mels: against the reference chain (golden data from
//! `scripts/golden_rtvc_mel.py`, in the audio crate's `tests/data/rtvc_mel.npz`), convergence,
//! output length and determinism.

use std::collections::HashMap;

use candle_core::Tensor;
use voxclone_audio::rtvc_mel::{melspectrogram, CentredStft, RtvcMelParams};
use voxclone_vocoder::griffin_lim::GriffinLim;

const N_MELS: usize = 80;

use voxclone_testdata::{golden_f64s as f64s, rtvc_mel_golden as golden};

/// The golden clip's mel, `80 × 121`.
fn golden_mel(g: &HashMap<String, Tensor>) -> (Vec<f32>, usize) {
    let mel: Vec<f32> = f64s(g, "mel").iter().map(|&v| v as f32).collect();
    let frames = mel.len() / N_MELS;
    (mel, frames)
}

/// The first `n` frames of a row-major `80 × frames` mel.
fn first_frames(mel: &[f32], frames: usize, n: usize) -> Vec<f32> {
    mel.chunks_exact(frames)
        .flat_map(|row| row[..n].to_vec())
        .collect()
}

/// `‖target − |STFT(preemphasis(y))|‖ / ‖target‖`: how far Griffin-Lim's output is from a
/// waveform with the magnitudes it was asked for.
fn spectral_convergence(gl: &GriffinLim, mel: &[f32], frames: usize, y: &[f32]) -> f64 {
    let p = gl.params();
    let target = gl.magnitude(mel, frames);
    let mut previous = 0f64;
    let emphasised: Vec<f64> = y
        .iter()
        .map(|&x| {
            let e = x as f64 - p.preemphasis * previous;
            previous = x as f64;
            e
        })
        .collect();
    let stft = CentredStft::rtvc(p);
    let mut spectrum = Vec::new();
    assert_eq!(stft.forward(&emphasised, &mut spectrum), frames);
    let (mut diff, mut norm) = (0f64, 0f64);
    for (c, &a) in spectrum.iter().zip(&target) {
        diff += (a - c.norm()).powi(2);
        norm += a * a;
    }
    (diff / norm).sqrt()
}

/// Mean |Δ| between two normalised mels, in dB (1 normalised unit = 12.5 dB).
fn mean_abs_db(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let p = RtvcMelParams::RTVC;
    let db_per_unit = -p.min_level_db / (2.0 * p.max_abs_value);
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() as f64)
        .sum::<f64>()
        / a.len() as f64
        * db_per_unit
}

#[test]
fn matches_the_reference_from_the_same_initial_phase() {
    let g = golden();
    let (mel, frames) = golden_mel(&g);
    let n = f64s(&g, "gl_frames")[0] as usize;
    let iters = f64s(&g, "gl_iters")[0] as usize;
    let want = f64s(&g, "gl_out");
    let mel = first_frames(&mel, frames, n);
    let gl = GriffinLim::new(iters, 1.5, 0);
    let magnitude = gl.magnitude(&mel, n);
    let phase: Vec<f64> = (0..n)
        .flat_map(|t| {
            (0..401).map(move |k| {
                2.0 * std::f64::consts::PI * ((k * 7919 + t * 104_729) % 1000) as f64 / 1000.0
            })
        })
        .collect();
    let y = gl.reconstruct(&magnitude, n, &phase);
    assert_eq!(y.len(), want.len());
    assert_eq!(y.len(), gl.output_len(n));
    let peak = want.iter().fold(0f64, |m, v| m.max(v.abs()));
    let err = y
        .iter()
        .zip(&want)
        .fold(0f64, |m, (&a, &b)| m.max((a as f64 - b).abs()));
    eprintln!(
        "Griffin-Lim ({iters} iterations, {n} frames) vs reference: max abs error {err:.3e} \
         (peak {peak:.3})"
    );
    // The reference's pseudo-inverse is f32 (relative error ~1e-6); everything else is f64.
    assert!(err < 2e-5 * peak, "{err}");
}

#[test]
fn converges_on_a_real_mel() {
    let g = golden();
    let (mel, frames) = golden_mel(&g);

    // RTVC's settings: the magnitudes Griffin-Lim is asked for (linear^1.5) are approached.
    let mut gl = GriffinLim::default();
    assert_eq!((gl.iters, gl.power), (60, 1.5));
    let start = std::time::Instant::now();
    let y = gl.mel_to_waveform(&mel, frames);
    eprintln!(
        "Griffin-Lim, 60 iterations, {frames} frames: {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    // librosa's istft without `length`: hop · (frames − 1).
    assert_eq!(y.len(), 200 * (frames - 1));
    assert!(y.iter().all(|v| v.is_finite()));
    let sc60 = spectral_convergence(&gl, &mel, frames, &y);
    gl.iters = 0;
    let sc0 = spectral_convergence(&gl, &mel, frames, &gl.mel_to_waveform(&mel, frames));
    eprintln!("spectral convergence: 60 iterations {sc60:.4}, 0 iterations {sc0:.4}");
    const SC_LIMIT: f64 = 0.25;
    assert!(sc60 < SC_LIMIT, "60 iterations: {sc60}");
    assert!(sc0 > SC_LIMIT, "0 iterations should not pass: {sc0}");

    // With power 1 the output's own RTVC mel approaches the input mel.
    let mut gl = GriffinLim::new(60, 1.0, 0);
    let (again, n) = melspectrogram(&gl.mel_to_waveform(&mel, frames));
    assert_eq!(n, frames);
    let db60 = mean_abs_db(&again, &mel);
    gl.iters = 0;
    let (again0, _) = melspectrogram(&gl.mel_to_waveform(&mel, frames));
    let db0 = mean_abs_db(&again0, &mel);
    eprintln!("mel round trip (power 1): mean |error| 60 iterations {db60:.2} dB, 0 iterations {db0:.2} dB");
    const DB_LIMIT: f64 = 2.0;
    assert!(db60 < DB_LIMIT, "60 iterations: {db60} dB");
    assert!(db0 > DB_LIMIT, "0 iterations should not pass: {db0} dB");
}

#[test]
fn is_deterministic_for_a_seed() {
    let g = golden();
    let (mel, frames) = golden_mel(&g);
    let mel = first_frames(&mel, frames, 30);
    let a = GriffinLim::new(5, 1.5, 42).mel_to_waveform(&mel, 30);
    let b = GriffinLim::new(5, 1.5, 42).mel_to_waveform(&mel, 30);
    let c = GriffinLim::new(5, 1.5, 43).mel_to_waveform(&mel, 30);
    assert_eq!(a.len(), 200 * 29);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn five_seconds_in_well_under_a_few_seconds() {
    // 5 s of speech: the golden clip repeated.
    let g = golden();
    let clip: Vec<f32> = f64s(&g, "clip")
        .iter()
        .map(|&s| s as f32 / 32768.0)
        .cycle()
        .take(80_000)
        .collect();
    let (mel, frames) = melspectrogram(&clip);
    assert_eq!(frames, 401);
    let gl = GriffinLim::default();
    let start = std::time::Instant::now();
    let y = gl.mel_to_waveform(&mel, frames);
    let secs = start.elapsed().as_secs_f64();
    eprintln!("Griffin-Lim, 60 iterations, 5 s of audio: {secs:.3} s");
    assert_eq!(y.len(), 80_000);
    // Generous: a loaded 2-core machine; a release build on an idle one takes a fraction of this.
    assert!(secs < 20.0, "{secs} s");
}
