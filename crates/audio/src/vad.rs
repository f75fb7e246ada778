//! Voice-activity trimming: drops long silences the way the GE2E encoder's training data was cut.
//!
//! WebRTC's VAD flags each 30 ms window; the flags are smoothed with a moving average over 8 windows
//! (rounded half to even, so a window is voiced only when at least 5 of its 8 neighbours are), then
//! dilated by 3 windows on each side; the kept windows are concatenated.

use webrtc_vad::{SampleRate, Vad, VadMode};

/// The reference's VAD settings, named as in RTVC's `params_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VadParams {
    /// Window length in milliseconds (WebRTC accepts 10, 20 or 30).
    pub window_ms: usize,
    /// Width of the moving average over window flags.
    pub moving_average_width: usize,
    /// Largest run of silent windows kept inside speech (the dilation reaches this far, halved, each way).
    pub max_silence_length: usize,
    /// WebRTC aggressiveness 0..=3.
    pub mode: u8,
}

impl Default for VadParams {
    fn default() -> Self {
        Self {
            window_ms: 30,
            moving_average_width: 8,
            max_silence_length: 6,
            mode: 3,
        }
    }
}

/// The per-window result of voice-activity detection.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceMask {
    /// WebRTC's raw speech flag for each window.
    pub raw: Vec<bool>,
    /// The kept windows after smoothing and dilation.
    pub keep: Vec<bool>,
    pub samples_per_window: usize,
}

impl VoiceMask {
    /// The kept windows' samples, concatenated. Trailing samples short of a window are dropped.
    pub fn apply(&self, samples: &[f32]) -> Vec<f32> {
        let w = self.samples_per_window;
        let mut out = Vec::with_capacity(self.keep.iter().filter(|&&k| k).count() * w);
        for (window, &keep) in samples.chunks_exact(w).zip(&self.keep) {
            if keep {
                out.extend_from_slice(window);
            }
        }
        out
    }
}

impl VoiceMask {
    /// Keeps only the kept windows' samples, in place: long recordings are not copied.
    pub fn retain(&self, samples: &mut Vec<f32>) {
        let w = self.samples_per_window;
        let mut kept = 0;
        for (i, &keep) in self.keep.iter().enumerate() {
            if keep {
                samples.copy_within(i * w..(i + 1) * w, kept);
                kept += w;
            }
        }
        samples.truncate(kept);
    }
}

/// Runs WebRTC's VAD over 16 kHz samples and computes which windows to keep.
pub fn voice_mask(samples: &[f32], params: &VadParams) -> VoiceMask {
    const SAMPLE_RATE: usize = 16_000;
    let samples_per_window = params.window_ms * SAMPLE_RATE / 1000;
    let mode = match params.mode {
        0 => VadMode::Quality,
        1 => VadMode::LowBitrate,
        2 => VadMode::Aggressive,
        _ => VadMode::VeryAggressive,
    };
    // One detector for the whole signal: its noise estimates carry over from window to window.
    let mut vad = Vad::new_with_rate_and_mode(SampleRate::Rate16kHz, mode);
    let mut pcm = vec![0i16; samples_per_window];
    let raw: Vec<bool> = samples
        .chunks_exact(samples_per_window)
        .map(|window| {
            for (p, &s) in pcm.iter_mut().zip(window) {
                *p = to_int16(s);
            }
            // Only an invalid frame length errs, and ours is always valid.
            vad.is_voice_segment(&pcm).unwrap_or(false)
        })
        .collect();
    let smoothed = moving_average_vote(&raw, params.moving_average_width);
    let keep = dilate(&smoothed, params.max_silence_length + 1);
    VoiceMask {
        raw,
        keep,
        samples_per_window,
    }
}

/// Trims long silences; returns the kept samples (possibly none).
pub fn trim_long_silences(samples: &[f32], params: &VadParams) -> Vec<f32> {
    voice_mask(samples, params).apply(samples)
}

/// `round(x * 32767)` (half to even) cast to int16 with wrap-around, as numpy's `astype(np.int16)`.
fn to_int16(x: f32) -> i16 {
    let r = (x * 32767.0).round_ties_even();
    (r as i64) as i16
}

/// The rounded moving average of the flags over `width` windows: window i averages flags
/// `i - (width-1)/2 ..= i + width/2`, with windows outside the signal counted as silent.
/// Rounding half to even makes an exact half (4 of 8) count as silence.
fn moving_average_vote(flags: &[bool], width: usize) -> Vec<bool> {
    let before = (width - 1) / 2;
    let after = width / 2;
    let n = flags.len();
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(before);
            let hi = (i + after).min(n.saturating_sub(1));
            let voiced = flags[lo..=hi].iter().filter(|&&f| f).count();
            let mean = voiced as f64 / width as f64;
            mean.round_ties_even() >= 1.0
        })
        .collect()
}

/// Binary dilation with a centred structuring element of `size` windows (borders silent).
fn dilate(mask: &[bool], size: usize) -> Vec<bool> {
    let left = size / 2;
    let right = size - 1 - left;
    let n = mask.len();
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(right);
            let hi = (i + left).min(n.saturating_sub(1));
            mask[lo..=hi].iter().any(|&m| m)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_of_eight_is_silence_five_is_speech() {
        let mut flags = vec![false; 20];
        for f in flags.iter_mut().skip(8).take(4) {
            *f = true;
        }
        assert!(moving_average_vote(&flags, 8).iter().all(|&v| !v));
        flags[12] = true;
        let v = moving_average_vote(&flags, 8);
        // Window i averages i-3..=i+4: only windows 8..=11 see all five flags.
        let voiced: Vec<usize> = (0..20).filter(|&i| v[i]).collect();
        assert_eq!(voiced, vec![8, 9, 10, 11]);
    }

    #[test]
    fn dilation_reaches_three_windows_each_way() {
        let mut mask = vec![false; 11];
        mask[5] = true;
        let d = dilate(&mask, 7);
        assert_eq!(
            d,
            vec![false, false, true, true, true, true, true, true, true, false, false]
        );
    }

    #[test]
    fn int16_conversion_rounds_half_to_even_and_wraps() {
        assert_eq!(to_int16(0.5 / 32767.0), 0);
        assert_eq!(to_int16(1.5 / 32767.0), 2);
        assert_eq!(to_int16(1.0), 32767);
        assert_eq!(to_int16(-1.0), -32767);
        assert_eq!(to_int16(32768.0 / 32767.0), -32768);
    }

    #[test]
    fn retain_in_place_equals_apply() {
        let mask = VoiceMask {
            raw: vec![],
            keep: vec![true, false, true, true, false],
            samples_per_window: 2,
        };
        let x: Vec<f32> = (0..11).map(|i| i as f32).collect();
        let mut y = x.clone();
        mask.retain(&mut y);
        assert_eq!(y, mask.apply(&x));
        assert_eq!(y, vec![0.0, 1.0, 4.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn silence_keeps_nothing_and_partial_windows_are_dropped() {
        let silence = vec![0.0f32; 16_000 + 100];
        let mask = voice_mask(&silence, &VadParams::default());
        assert_eq!(mask.raw.len(), 16_000 / 480);
        assert!(trim_long_silences(&silence, &VadParams::default()).is_empty());
    }
}
