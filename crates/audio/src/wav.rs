//! Writing wav files atomically: a reader never sees a half-written file.

use std::path::Path;

use crate::{AudioError, Result};

/// Writes mono float samples as 16-bit PCM through a temporary file renamed into place.
pub fn write_wav_i16(path: impl AsRef<Path>, samples: &[f32], sample_rate: u32) -> Result<()> {
    let path = path.as_ref();
    let err = |reason: String| AudioError::WriteWav {
        path: path.to_path_buf(),
        reason,
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let tmp = temp_path(path);
    let result = (|| {
        let mut writer = hound::WavWriter::create(&tmp, spec).map_err(|e| err(e.to_string()))?;
        for &s in samples {
            let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
            writer.write_sample(v).map_err(|e| err(e.to_string()))?;
        }
        writer.finalize().map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A sibling path for writing before an atomic rename (same directory, so the rename cannot cross
/// file systems).
pub fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.part", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_decoder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let samples: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        write_wav_i16(&path, &samples, 16000).unwrap();
        let audio = crate::load(&path).unwrap();
        assert_eq!(audio.sample_rate, 16000);
        assert_eq!(audio.samples.len(), samples.len());
        let max_err = audio
            .samples
            .iter()
            .zip(&samples)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_err < 1.0 / 32000.0, "max error {max_err}");
        assert!(!temp_path(&path).exists());
    }
}
