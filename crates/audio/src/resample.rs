//! Sample-rate conversion with rubato. A signal already at the target rate passes through
//! bit-exact, as in the reference (which skips resampling entirely then).

use rubato::{FftFixedIn, Resampler};

use crate::{Audio, AudioError, Result};

const CHUNK: usize = 4096;

/// Converts `audio` to `target_rate`, keeping its duration: the output has
/// `round(len * target / source)` samples, aligned with the input to a fraction of a sample (the
/// filter delay is removed). The reference uses soxr, so only 16 kHz input matches it bit for bit.
pub fn resample(audio: Audio, target_rate: u32) -> Result<Vec<f32>> {
    if audio.sample_rate == target_rate {
        return Ok(audio.samples);
    }
    let err = |reason: String| AudioError::Resample {
        from: audio.sample_rate,
        to: target_rate,
        reason,
    };
    // Synchronous FFT resampling: exact rational ratio, fast, and steep enough for speech.
    let mut resampler = FftFixedIn::<f32>::new(
        audio.sample_rate as usize,
        target_rate as usize,
        CHUNK,
        2,
        1,
    )
    .map_err(|e| err(e.to_string()))?;
    let expected = (audio.samples.len() as f64 * target_rate as f64 / audio.sample_rate as f64)
        .round() as usize;
    let delay = resampler.output_delay();
    let mut out: Vec<f32> = Vec::with_capacity(expected + delay + CHUNK);
    let mut buffer = resampler.output_buffer_allocate(true);
    let mut input = &audio.samples[..];
    while input.len() >= resampler.input_frames_next() {
        let need = resampler.input_frames_next();
        let (_, produced) = resampler
            .process_into_buffer(&[&input[..need]], &mut buffer, None)
            .map_err(|e| err(e.to_string()))?;
        out.extend_from_slice(&buffer[0][..produced]);
        input = &input[need..];
    }
    // The tail, zero-padded, then zeros until the delayed output has all come out.
    let mut padded = vec![0f32; resampler.input_frames_next()];
    padded[..input.len()].copy_from_slice(input);
    while out.len() < expected + delay {
        let (_, produced) = resampler
            .process_into_buffer(&[&padded], &mut buffer, None)
            .map_err(|e| err(e.to_string()))?;
        out.extend_from_slice(&buffer[0][..produced]);
        padded.fill(0.0);
    }
    out.drain(..delay);
    out.truncate(expected);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_rate_is_bit_exact() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32).sin()).collect();
        let y = resample(Audio::new(x.clone(), 16000), 16000).unwrap();
        assert_eq!(x, y);
    }

    #[test]
    fn a_tone_keeps_its_length_phase_and_frequency() {
        let f = 440.0f64;
        let tone = |rate: f64, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / rate).sin() as f32 * 0.5)
                .collect()
        };
        let x = tone(44100.0, 44100);
        let y = resample(Audio::new(x, 44100), 16000).unwrap();
        assert_eq!(y.len(), 16000);
        let want = tone(16000.0, 16000);
        // Away from the edges, the resampled tone is the tone sampled at 16 kHz; 0.02 is the error
        // of a 0.2-sample misalignment, the most this resampler's delay compensation leaves.
        let max_err = y[1000..15000]
            .iter()
            .zip(&want[1000..15000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_err < 0.02, "max error {max_err}");
    }
}
