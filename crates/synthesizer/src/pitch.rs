//! Pitch as an explicit control: move the predicted F0 contour to a speaker's register.
//!
//! The decoder reads F0 as an input, so a voice's pitch can be set without touching its style:
//! voiced frames are mapped in the log domain so that their median lands on the target and
//! their spread is scaled to the target's. Every operation is a candle op, so a gradient flows
//! through the mapped contour.

use candle_core::{Result, Tensor};
use voxclone_audio::pitch::register;

/// F0 (Hz) above which the decoder's source treats a frame as voiced.
pub const VOICED_HZ: f32 = 10.0;

/// A speaker's register: the median F0 of voiced speech, and optionally its spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchTarget {
    pub median_hz: f32,
    /// Spread of F0 in semitones, robust to octave errors (`voxclone_audio::pitch::register`);
    /// `None` keeps the contour's own spread.
    pub spread_semitones: Option<f32>,
}

/// Values below this are glides into and out of silence rather than voiced speech; the
/// predictor's contour falls smoothly towards 0 Hz there, and counting them would drag the
/// median down (a pitch tracker reports nothing below its floor, 50–60 Hz).
pub const STATS_MIN_HZ: f32 = 60.0;

/// Median F0 and spread (semitones) of the voiced values of a contour, measured as a tracked
/// recording's are ([`voxclone_audio::pitch::register`]).
pub fn contour_stats(f0: &[f32]) -> Option<(f32, f32)> {
    let voiced: Vec<f32> = f0.iter().copied().filter(|&v| v > STATS_MIN_HZ).collect();
    if voiced.len() < 3 {
        return None;
    }
    register(&voiced)
}

/// `f0` `[1, frames]` with its voiced frames moved to `target` (unchanged if too few are voiced).
pub fn retarget_f0(f0: &Tensor, target: &PitchTarget) -> Result<Tensor> {
    let values: Vec<f32> = f0.flatten_all()?.to_vec1()?;
    let Some((median, spread)) = contour_stats(&values) else {
        return Ok(f0.clone());
    };
    // log f' = a · log f + b, with a the spread ratio and b placing the median.
    let a = match target.spread_semitones {
        Some(s) if spread > 1e-3 => (s / spread).clamp(0.25, 4.0),
        _ => 1.0,
    };
    let b = target.median_hz.ln() - a * median.ln();
    let voiced = f0.gt(VOICED_HZ as f64)?;
    let moved = f0
        .clamp(1e-3, f32::MAX)?
        .log()?
        .affine(a as f64, b as f64)?
        .exp()?;
    voiced.where_cond(&moved, f0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn voiced_frames_move_to_the_target_median_and_silence_stays() -> Result<()> {
        let curve = vec![0.0f32, 200.0, 220.0, 240.0, 260.0, 280.0, 0.0];
        let f0 = Tensor::new(curve.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
        let target = PitchTarget {
            median_hz: 120.0,
            spread_semitones: None,
        };
        let out: Vec<f32> = retarget_f0(&f0, &target)?.flatten_all()?.to_vec1()?;
        assert_eq!(out[0], 0.0);
        assert_eq!(out[6], 0.0);
        let (median, spread) = contour_stats(&out).unwrap();
        let (_, old_spread) = contour_stats(&curve).unwrap();
        assert!((median - 120.0).abs() < 0.01, "{median}");
        assert!((spread - old_spread).abs() < 1e-3);
        Ok(())
    }

    #[test]
    fn the_spread_can_be_set_too() -> Result<()> {
        let curve: Vec<f32> = (0..50).map(|i| 150.0 + 2.0 * i as f32).collect();
        let f0 = Tensor::new(curve.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
        let target = PitchTarget {
            median_hz: 200.0,
            spread_semitones: Some(1.0),
        };
        let out: Vec<f32> = retarget_f0(&f0, &target)?.flatten_all()?.to_vec1()?;
        let (median, spread) = contour_stats(&out).unwrap();
        assert!(
            (median - 200.0).abs() < 0.5 && (spread - 1.0).abs() < 0.01,
            "{median} {spread}"
        );
        Ok(())
    }
}
