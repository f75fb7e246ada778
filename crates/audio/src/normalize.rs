//! Volume normalisation to a target loudness in dBFS (full scale = 1.0).

/// The GE2E encoder's training loudness.
pub const ENCODER_TARGET_DBFS: f64 = -30.0;

/// Loudness of a signal in dBFS: `20 log10(rms)`. Silence is `-inf`.
pub fn dbfs(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return f64::NEG_INFINITY;
    }
    let mean_square = samples
        .iter()
        .map(|&s| (s as f64) * (s as f64))
        .sum::<f64>()
        / samples.len() as f64;
    10.0 * mean_square.log10()
}

/// Scales `samples` so their loudness reaches `target_dbfs`; with `increase_only`, loud signals are
/// left untouched (the reference only ever raises quiet speech). Returns the gain applied, in dB.
///
/// Unlike the reference, silence (whose gain would be infinite) is left as it is: gain 0 dB.
pub fn normalize_volume(samples: &mut [f32], target_dbfs: f64, increase_only: bool) -> f64 {
    let level = dbfs(samples);
    if !level.is_finite() {
        return 0.0;
    }
    let change = target_dbfs - level;
    if change < 0.0 && increase_only {
        return 0.0;
    }
    // The reference multiplies float32 samples by the gain cast to float32.
    let gain = 10f64.powf(change / 20.0) as f32;
    for s in samples.iter_mut() {
        *s *= gain;
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_speech_is_raised_to_the_target() {
        let mut x: Vec<f32> = (0..16000).map(|i| 0.001 * (i as f32 * 0.1).sin()).collect();
        let gain = normalize_volume(&mut x, ENCODER_TARGET_DBFS, true);
        assert!(gain > 0.0);
        assert!(
            (dbfs(&x) - ENCODER_TARGET_DBFS).abs() < 1e-3,
            "{}",
            dbfs(&x)
        );
    }

    #[test]
    fn loud_speech_is_left_alone_when_increase_only() {
        let orig: Vec<f32> = (0..16000).map(|i| 0.5 * (i as f32 * 0.1).sin()).collect();
        let mut x = orig.clone();
        assert_eq!(normalize_volume(&mut x, ENCODER_TARGET_DBFS, true), 0.0);
        assert_eq!(x, orig);
        normalize_volume(&mut x, ENCODER_TARGET_DBFS, false);
        assert!((dbfs(&x) - ENCODER_TARGET_DBFS).abs() < 1e-3);
    }

    #[test]
    fn silence_gets_no_infinite_gain() {
        let mut x = vec![0.0f32; 100];
        assert_eq!(normalize_volume(&mut x, ENCODER_TARGET_DBFS, true), 0.0);
        assert!(x.iter().all(|&s| s == 0.0));
    }
}
