//! Fundamental frequency (F0) of speech with YIN (de Cheveigné & Kawahara 2002): for each frame,
//! the lag whose cumulative-mean-normalised difference first dips below a threshold is the
//! period. Used to give a cloned voice the reference speaker's pitch.

/// Settings of the tracker; [`PitchParams::SPEECH`] suits voices from deep male to child.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchParams {
    pub sample_rate: u32,
    /// Lowest and highest F0 searched (Hz).
    pub fmin: f32,
    pub fmax: f32,
    /// Hop between frames, in samples.
    pub hop: usize,
    /// YIN's absolute threshold on the normalised difference.
    pub threshold: f32,
    /// Frames quieter than this (dB below the loudest frame) are unvoiced.
    pub silence_db: f32,
}

impl PitchParams {
    /// 16 kHz, 50–500 Hz, 10 ms hop, threshold 0.15, frames 40 dB under the peak are silent.
    pub const SPEECH: PitchParams = PitchParams {
        sample_rate: 16_000,
        fmin: 50.0,
        fmax: 500.0,
        hop: 160,
        threshold: 0.15,
        silence_db: 40.0,
    };

    fn max_lag(&self) -> usize {
        (self.sample_rate as f32 / self.fmin).ceil() as usize
    }

    fn min_lag(&self) -> usize {
        (self.sample_rate as f32 / self.fmax).floor().max(2.0) as usize
    }
}

/// F0 per frame (`None` where unvoiced).
#[derive(Debug, Clone, PartialEq)]
pub struct PitchTrack {
    pub hop_seconds: f32,
    pub f0: Vec<Option<f32>>,
}

/// A speaker's pitch in a few numbers: the median F0 of voiced frames and the spread of their
/// log F0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchStats {
    pub median_hz: f32,
    /// Spread of F0 in semitones (see [`register`]).
    pub spread_semitones: f32,
    /// Share of frames that are voiced.
    pub voiced_fraction: f32,
}

/// Semitones from `from_hz` up to `to_hz`.
pub fn semitones(from_hz: f32, to_hz: f32) -> f32 {
    12.0 * (to_hz / from_hz).log2()
}

impl PitchTrack {
    /// Median and spread of the voiced frames; `None` without enough voiced frames (5).
    pub fn stats(&self) -> Option<PitchStats> {
        let voiced: Vec<f32> = self.f0.iter().flatten().copied().collect();
        if voiced.len() < 5 {
            return None;
        }
        let (median_hz, spread_semitones) = register(&voiced)?;
        Some(PitchStats {
            median_hz,
            spread_semitones,
            voiced_fraction: voiced.len() as f32 / self.f0.len() as f32,
        })
    }
}

/// Scales a median absolute deviation to a standard deviation (exact for a normal distribution).
const MAD_TO_SD: f32 = 1.4826;

/// A register in two numbers: the median of `hz` and the spread of log F0 around it, in
/// semitones. The spread is robust (1.4826 × the median absolute deviation, a standard
/// deviation for normally spread values): a tracker's octave jumps and creak would inflate a
/// plain standard deviation, and a contour mapped to that spread comes out too wide. `None`
/// when `hz` is empty.
pub fn register(hz: &[f32]) -> Option<(f32, f32)> {
    let median = median_of(hz.to_vec())?;
    let deviations: Vec<f32> = hz.iter().map(|&f| semitones(median, f).abs()).collect();
    Some((median, MAD_TO_SD * median_of(deviations)?))
}

/// The upper median (the middle value, or the higher of the two middle ones).
fn median_of(mut values: Vec<f32>) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f32::total_cmp);
    Some(values[values.len() / 2])
}

/// Tracks the F0 of `samples` (mono, at `params.sample_rate`).
pub fn track(samples: &[f32], params: &PitchParams) -> PitchTrack {
    let max_lag = params.max_lag();
    let min_lag = params.min_lag();
    // The window covers two periods of the lowest F0.
    let window = max_lag;
    let span = window + max_lag;
    let hop_seconds = params.hop as f32 / params.sample_rate as f32;
    if samples.len() < span {
        return PitchTrack {
            hop_seconds,
            f0: Vec::new(),
        };
    }
    let frames = (samples.len() - span) / params.hop + 1;
    let energy: Vec<f32> = (0..frames)
        .map(|f| {
            let s = &samples[f * params.hop..f * params.hop + window];
            s.iter().map(|v| v * v).sum::<f32>() / window as f32
        })
        .collect();
    let loudest = energy.iter().copied().fold(0f32, f32::max);
    let floor = loudest * 10f32.powf(-params.silence_db / 10.0);

    let mut diff = vec![0f32; max_lag + 1];
    let f0 = (0..frames)
        .map(|f| {
            if energy[f] <= floor || loudest == 0.0 {
                return None;
            }
            let x = &samples[f * params.hop..f * params.hop + span];
            // Difference function d(τ) and its cumulative-mean normalisation d'(τ).
            let mut running = 0f32;
            diff[0] = 1.0;
            for tau in 1..=max_lag {
                let d: f32 = (0..window).map(|j| (x[j] - x[j + tau]).powi(2)).sum();
                running += d;
                diff[tau] = if running > 0.0 {
                    d * tau as f32 / running
                } else {
                    1.0
                };
            }
            let tau = (min_lag..=max_lag)
                .find(|&t| diff[t] < params.threshold)
                .map(|mut t| {
                    // Walk down to the bottom of this dip.
                    while t < max_lag && diff[t + 1] < diff[t] {
                        t += 1;
                    }
                    t
                })?;
            // Parabolic interpolation around the minimum.
            let refined = if tau > min_lag && tau < max_lag {
                let (a, b, c) = (diff[tau - 1], diff[tau], diff[tau + 1]);
                let denom = a - 2.0 * b + c;
                if denom.abs() > f32::EPSILON {
                    tau as f32 + 0.5 * (a - c) / denom
                } else {
                    tau as f32
                }
            } else {
                tau as f32
            };
            Some(params.sample_rate as f32 / refined)
        })
        .collect();
    PitchTrack { hop_seconds, f0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, seconds: f32, harmonics: usize) -> Vec<f32> {
        let sr = 16_000.0;
        (0..(seconds * sr) as usize)
            .map(|i| {
                let t = i as f32 / sr;
                (1..=harmonics)
                    .map(|h| (std::f32::consts::TAU * hz * h as f32 * t).sin() / h as f32)
                    .sum::<f32>()
                    * 0.3
            })
            .collect()
    }

    #[test]
    fn finds_the_fundamental_of_harmonic_tones() {
        for hz in [70.0, 110.0, 180.0, 260.0, 420.0] {
            let stats = track(&tone(hz, 0.5, 6), &PitchParams::SPEECH)
                .stats()
                .unwrap();
            assert!(
                semitones(hz, stats.median_hz).abs() < 0.1,
                "{hz} Hz read as {}",
                stats.median_hz
            );
            assert!(stats.voiced_fraction > 0.95);
            assert!(stats.spread_semitones < 0.1);
        }
    }

    #[test]
    fn a_register_ignores_octave_errors() {
        // Speech spread about ±1 semitone around 120 Hz, with one frame in ten read an octave
        // up: a standard deviation would say about 3.7 semitones.
        let mut hz: Vec<f32> = (0..200)
            .map(|i| 120.0 * 2f32.powf(((i % 7) as f32 - 3.0) / 3.0 / 12.0))
            .collect();
        for f in hz.iter_mut().step_by(10) {
            *f *= 2.0;
        }
        let (median, spread) = register(&hz).unwrap();
        assert!((median - 120.0).abs() < 3.0, "{median}");
        assert!((0.8..1.8).contains(&spread), "{spread}");
        assert_eq!(register(&[]), None);
    }

    #[test]
    fn silence_and_noise_are_unvoiced() {
        assert!(track(&vec![0.0; 16_000], &PitchParams::SPEECH)
            .stats()
            .is_none());
        let mut state = 12345u32;
        let noise: Vec<f32> = (0..16_000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let voiced = track(&noise, &PitchParams::SPEECH)
            .f0
            .iter()
            .flatten()
            .count();
        assert!(voiced < 10, "{voiced} noise frames voiced");
    }

    #[test]
    fn a_male_and_a_female_reader_are_told_apart() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/speech");
        let median = |name: &str| {
            let audio = crate::load(fixtures.join(name)).unwrap();
            let samples = crate::resample::resample(audio, 16_000).unwrap();
            track(&samples, &PitchParams::SPEECH)
                .stats()
                .unwrap()
                .median_hz
        };
        // LibriSpeech speaker 2414 is a man, 367 a woman.
        let (male, female) = (
            median("2414-128291-0000.flac"),
            median("367-130732-0000.flac"),
        );
        assert!((75.0..170.0).contains(&male), "male median {male} Hz");
        assert!(
            (150.0..320.0).contains(&female),
            "female median {female} Hz"
        );
        assert!(semitones(male, female) > 4.0, "{male} Hz vs {female} Hz");
    }

    #[test]
    fn a_glide_is_followed() {
        // 120 Hz rising to 240 Hz over a second: phase is the integral of frequency.
        let sr = 16_000.0;
        let mut phase = 0f32;
        let samples: Vec<f32> = (0..16_000)
            .map(|i| {
                let hz = 120.0 * 2f32.powf(i as f32 / sr);
                phase += std::f32::consts::TAU * hz / sr;
                0.3 * phase.sin()
            })
            .collect();
        let t = track(&samples, &PitchParams::SPEECH);
        let first = t.f0.iter().flatten().next().copied().unwrap();
        let last = t.f0.iter().flatten().last().copied().unwrap();
        assert!(
            (first - 120.0).abs() < 10.0 && (last - 240.0).abs() < 25.0,
            "{first} → {last}"
        );
    }
}
