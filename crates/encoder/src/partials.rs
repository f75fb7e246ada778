//! Where an utterance's 1.6 s partials start, and how far its waveform must be zero-padded.

use crate::params::EncoderParams;

/// The partial windows of one utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partials {
    /// First mel frame of each partial; partial p covers frames `starts[p] .. starts[p] + partial_frames`.
    pub starts: Vec<usize>,
    /// Length the waveform is zero-padded to before its mel is computed (never shorter than it).
    pub padded_len: usize,
}

impl Partials {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// Splits `n_samples` of speech into partials, as Resemblyzer's `compute_partial_slices`:
/// a partial every 77 frames while a full partial still fits (always at least one), the last one
/// dropped if under 75% of it is speech (unless it is the only one), then the waveform padded to
/// cover the last partial.
pub fn partials(n_samples: usize, p: &EncoderParams) -> Partials {
    let hop = p.mel.hop_length;
    let n_frames = (n_samples + 1).div_ceil(hop);
    let step = p.frame_step();
    let steps = (n_frames + step + 1)
        .saturating_sub(p.partial_frames)
        .max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(step).collect();
    let last = *starts.last().expect("at least one partial");
    let coverage = (n_samples as f64 - (last * hop) as f64) / p.partial_samples() as f64;
    if coverage < p.min_coverage && starts.len() > 1 {
        starts.pop();
    }
    let end = (starts.last().expect("at least one partial") + p.partial_frames) * hop;
    Partials {
        starts,
        padded_len: end.max(n_samples),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(n: usize) -> usize {
        partials(n, &EncoderParams::default()).len()
    }

    #[test]
    fn golden_lengths_from_the_spec() {
        assert_eq!(count(23_040), 1);
        assert_eq!(count(88_800), 6);
        assert_eq!(count(325_920), 25);
    }

    #[test]
    fn short_clips_get_one_padded_partial() {
        let p = partials(4_800, &EncoderParams::default());
        assert_eq!(p.starts, vec![0]);
        assert_eq!(p.padded_len, 25_600);
        let empty = partials(0, &EncoderParams::default());
        assert_eq!(empty.starts, vec![0]);
    }

    #[test]
    fn partials_start_every_77_frames_and_cover_the_speech() {
        let n = 200_000;
        let p = partials(n, &EncoderParams::default());
        for (i, s) in p.starts.iter().enumerate() {
            assert_eq!(*s, 77 * i);
        }
        assert!(p.padded_len >= n);
        let last = *p.starts.last().unwrap();
        let coverage = (n - last * 160) as f64 / 25_600.0;
        assert!(coverage >= 0.75, "{coverage}");
    }
}
