//! Writing wav files atomically: a reader never sees a half-written file.

use std::path::Path;

use crate::{AudioError, Result};

/// Writes mono float samples as a 16-bit PCM WAV to `path` (see [`crate::output`]: atomically
/// for a regular file, in place for a device or a pipe).
pub fn write_wav_i16(path: impl AsRef<Path>, samples: &[f32], sample_rate: u32) -> Result<()> {
    let path = path.as_ref();
    crate::output::write(path, &wav_bytes(samples, sample_rate)).map_err(|e| AudioError::WriteWav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The length field of a WAV header whose length is not known yet (a stream): readers take the
/// data to run to the end.
pub const UNKNOWN_LEN: u32 = u32::MAX;

/// Where the size field of a RIFF/WAVE `data` chunk with a streaming writer's placeholder length
/// ([`UNKNOWN_LEN`], as our streamed speech carries, or 0) sits in `head`, the first bytes of a
/// file: such audio runs to the end of the file, whatever the field says.
fn streamed_length_field(head: &[u8]) -> Option<usize> {
    if head.len() < 12 || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return None;
    }
    let mut at = 12;
    while let Some(chunk) = head.get(at..at + 8) {
        let size = u32::from_le_bytes(chunk[4..8].try_into().expect("four bytes"));
        if &chunk[0..4] == b"data" {
            return (size == UNKNOWN_LEN || size == 0).then_some(at + 4);
        }
        // Chunks are word-aligned.
        at += 8 + size as usize + (size as usize & 1);
    }
    None
}

/// Whether `head` starts a WAV whose length is a streaming placeholder (see
/// [`fix_streamed_length`]).
pub fn has_streamed_length(head: &[u8]) -> bool {
    streamed_length_field(head).is_some()
}

/// Writes the true RIFF and `data` sizes into a whole WAV file held in memory whose header carries
/// a streaming placeholder, as a reader that trusts the header needs; returns whether it did.
/// Files of 4 GiB or more keep [`UNKNOWN_LEN`] (the field cannot hold their size).
pub fn fix_streamed_length(bytes: &mut [u8]) -> bool {
    let Some(field) = streamed_length_field(bytes) else {
        return false;
    };
    let (Ok(data), Ok(riff)) = (
        u32::try_from(bytes.len() - (field + 4)),
        u32::try_from(bytes.len() - 8),
    ) else {
        return false;
    };
    bytes[field..field + 4].copy_from_slice(&data.to_le_bytes());
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    true
}

/// The 44-byte header of a 16-bit mono PCM WAV holding `data_bytes` bytes of samples
/// ([`UNKNOWN_LEN`] for a stream).
pub fn pcm16_header(data_bytes: u32, sample_rate: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    let riff_len = if data_bytes == UNKNOWN_LEN {
        UNKNOWN_LEN
    } else {
        data_bytes + 36
    };
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&riff_len.to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&1u16.to_le_bytes()); // mono
    h[24..28].copy_from_slice(&sample_rate.to_le_bytes());
    h[28..32].copy_from_slice(&(sample_rate * 2).to_le_bytes());
    h[32..34].copy_from_slice(&2u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

/// One float sample as 16-bit PCM, clipped to [-1, 1].
pub fn pcm16(sample: f32) -> i16 {
    (sample.clamp(-1.0, 1.0) * i16::MAX as f32).round() as i16
}

/// Float samples as 16-bit little-endian PCM bytes.
pub fn pcm16_bytes(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| pcm16(s).to_le_bytes())
        .collect()
}

/// A whole 16-bit mono WAV file in memory.
pub fn wav_bytes(samples: &[f32], sample_rate: u32) -> Vec<u8> {
    let data = pcm16_bytes(samples);
    let mut out = Vec::with_capacity(44 + data.len());
    // Clips past u32::MAX bytes (12 hours at 24 kHz) are declared as streams.
    let len = u32::try_from(data.len())
        .ok()
        .filter(|&n| n < UNKNOWN_LEN - 36);
    out.extend_from_slice(&pcm16_header(len.unwrap_or(UNKNOWN_LEN), sample_rate));
    out.extend_from_slice(&data);
    out
}

pub use crate::output::temp_path;

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest difference between decoded samples and what was written.
    fn max_error(decoded: &crate::Audio, written: &[f32]) -> f32 {
        assert_eq!(decoded.samples.len(), written.len());
        decoded
            .samples
            .iter()
            .zip(written)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max)
    }

    #[test]
    fn wav_in_memory_decodes_to_its_samples() {
        let samples: Vec<f32> = (0..2400).map(|i| (i as f32 * 0.03).sin() * 0.8).collect();
        let audio = crate::load_bytes(wav_bytes(&samples, 24_000), "memory.wav").unwrap();
        assert_eq!(audio.sample_rate, 24_000);
        let max_err = max_error(&audio, &samples);
        assert!(max_err < 1.0 / 16_000.0, "{max_err}");
    }

    #[test]
    fn round_trips_through_the_decoder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let samples: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        write_wav_i16(&path, &samples, 16000).unwrap();
        let audio = crate::load(&path).unwrap();
        assert_eq!(audio.sample_rate, 16000);
        let max_err = max_error(&audio, &samples);
        assert!(max_err < 1.0 / 32000.0, "max error {max_err}");
        assert!(!temp_path(&path).exists());
    }
}
