//! Voice profiles (`.voice`): a cloned or chosen voice in one small, versioned file that
//! `voxclone speak --voice FILE.voice` reads anywhere a voice name is accepted.
//!
//! The file is safetensors: tensor `style` (`[N, 256]`: one style vector per utterance length,
//! or one row for all), optional `d_vector` (`[256]`: the reference speaker's GE2E embedding),
//! and string metadata: `format` (`voxclone-voice`), `version`, `method` (how the style was
//! made), `references`, `created` (Unix seconds), `model` (the Kokoro export's sha256),
//! `pitch_hz` / `pitch_spread` (the register to give the decoder) and `reference_pitch_hz`.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors};
use voxclone_synthesizer::{PitchTarget, VoicePack, STYLE_DIM};

/// The `format` metadata value of every profile.
pub const PROFILE_FORMAT: &str = "voxclone-voice";
/// The newest profile version this build reads and the one it writes.
pub const PROFILE_VERSION: u32 = 1;
/// Profiles are a few hundred kilobytes; anything far larger is not one.
const MAX_PROFILE_BYTES: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: {reason}")]
    Bad { path: String, reason: String },
    #[error("{path}: voice profile version {found} was made by a newer voxclone; this one reads up to version {PROFILE_VERSION}")]
    Newer { path: String, found: u32 },
}

/// A voice and what is known about how it was made.
#[derive(Debug, Clone)]
pub struct VoiceProfile {
    pub name: String,
    /// `[N, 256]` style vectors.
    pub styles: Tensor,
    /// The register to move the predicted pitch to.
    pub pitch: Option<PitchTarget>,
    /// The reference speech's own median F0, as measured.
    pub reference_pitch_hz: Option<f32>,
    /// The reference speaker's d-vector.
    pub d_vector: Option<Vec<f32>>,
    /// How the style was made, e.g. `nearest-stock:jm_kumo`.
    pub method: String,
    /// The reference files' names.
    pub references: Vec<String>,
    /// Unix seconds.
    pub created: u64,
    /// sha256 of the Kokoro export the style belongs to.
    pub model: String,
}

impl VoiceProfile {
    pub fn voice_pack(&self) -> VoicePack {
        VoicePack::new(self.name.clone(), self.styles.clone())
            .expect("checked on load and creation")
    }

    /// Writes the profile: atomically to a regular file (temporary file, then rename), in place
    /// to a device or a pipe (`voxclone_audio::output`).
    pub fn save(&self, path: &Path) -> Result<(), ProfileError> {
        let bytes = self.to_bytes(&path.display().to_string())?;
        if let Err(e) = voxclone_audio::output::write(path, &bytes) {
            return Err(ProfileError::Bad {
                path: path.display().to_string(),
                reason: format!("cannot write: {e}"),
            });
        }
        Ok(())
    }

    /// The profile file's bytes; `label` names it in errors.
    pub fn to_bytes(&self, label: &str) -> Result<Vec<u8>, ProfileError> {
        let bad = |reason: String| ProfileError::Bad {
            path: label.to_owned(),
            reason,
        };
        let styles: Vec<f32> = self
            .styles
            .flatten_all()
            .and_then(|t| t.to_vec1())
            .map_err(|e| bad(e.to_string()))?;
        let style_bytes: Vec<u8> = styles.iter().flat_map(|v| v.to_le_bytes()).collect();
        let d_bytes: Vec<u8> = self
            .d_vector
            .iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut tensors = vec![(
            "style",
            safetensors::tensor::TensorView::new(
                Dtype::F32,
                vec![styles.len() / STYLE_DIM, STYLE_DIM],
                &style_bytes,
            )
            .map_err(|e| bad(e.to_string()))?,
        )];
        if let Some(d) = &self.d_vector {
            tensors.push((
                "d_vector",
                safetensors::tensor::TensorView::new(Dtype::F32, vec![d.len()], &d_bytes)
                    .map_err(|e| bad(e.to_string()))?,
            ));
        }
        let mut meta = HashMap::from([
            ("format".to_owned(), PROFILE_FORMAT.to_owned()),
            ("version".to_owned(), PROFILE_VERSION.to_string()),
            ("name".to_owned(), self.name.clone()),
            ("method".to_owned(), self.method.clone()),
            (
                "references".to_owned(),
                serde_json::to_string(&self.references).expect("strings"),
            ),
            ("created".to_owned(), self.created.to_string()),
            ("model".to_owned(), self.model.clone()),
        ]);
        if let Some(p) = &self.pitch {
            meta.insert("pitch_hz".into(), p.median_hz.to_string());
            if let Some(s) = p.spread_semitones {
                meta.insert("pitch_spread".into(), s.to_string());
            }
        }
        if let Some(r) = self.reference_pitch_hz {
            meta.insert("reference_pitch_hz".into(), r.to_string());
        }
        safetensors::serialize(tensors, Some(meta)).map_err(|e| bad(e.to_string()))
    }

    /// Reads and checks a profile.
    pub fn load(path: &Path, device: &Device) -> Result<Self, ProfileError> {
        let shown = path.display().to_string();
        let bad = |reason: String| ProfileError::Bad {
            path: shown.clone(),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| bad(e.to_string()))?
            .len();
        if size > MAX_PROFILE_BYTES {
            return Err(bad(format!(
                "{size} bytes is too large for a voice profile"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        Self::from_bytes(&bytes, &shown, device)
    }

    /// Reads and checks a profile held in memory (an upload); `label` names it in errors and,
    /// when the profile has no name, gives one.
    pub fn from_bytes(bytes: &[u8], label: &str, device: &Device) -> Result<Self, ProfileError> {
        let shown = label.to_owned();
        let path = Path::new(label);
        let bad = |reason: String| ProfileError::Bad {
            path: shown.clone(),
            reason,
        };
        if bytes.len() as u64 > MAX_PROFILE_BYTES {
            return Err(bad(format!(
                "{} bytes is too large for a voice profile",
                bytes.len()
            )));
        }
        let not_profile =
            || bad("not a voxclone voice profile (corrupt, or another kind of file)".into());
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|_| not_profile())?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(PROFILE_FORMAT) {
            return Err(not_profile());
        }
        let version: u32 = meta
            .get("version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad("the profile has no version".into()))?;
        if version > PROFILE_VERSION {
            return Err(ProfileError::Newer {
                path: shown.clone(),
                found: version,
            });
        }
        let file = SafeTensors::deserialize(bytes).map_err(|_| not_profile())?;
        let floats = |name: &str| -> Result<(Vec<usize>, Vec<f32>), ProfileError> {
            let view = file
                .tensor(name)
                .map_err(|_| bad(format!("no {name} tensor")))?;
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!("{name} is {:?}, not float32", view.dtype())));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if values.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!("{name} holds values that are not finite")));
            }
            Ok((view.shape().to_vec(), values))
        };
        let (shape, styles) = floats("style")?;
        if shape.len() != 2 || shape[1] != STYLE_DIM || shape[0] == 0 {
            return Err(bad(format!("style is {shape:?}, not [N, {STYLE_DIM}]")));
        }
        let d_vector = match file.tensor("d_vector") {
            Ok(_) => Some(floats("d_vector")?.1),
            Err(_) => None,
        };
        let number = |key: &str| {
            meta.get(key)
                .and_then(|v| v.parse::<f32>().ok())
                .filter(|v| v.is_finite())
        };
        let pitch = number("pitch_hz").map(|median_hz| PitchTarget {
            median_hz,
            spread_semitones: number("pitch_spread"),
        });
        let name = [
            meta.get("name").cloned(),
            path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        ]
        .into_iter()
        .flatten()
        .map(|n| clean_name(&n))
        .find(|n| !n.is_empty())
        .unwrap_or_else(|| "voice".into());
        Ok(Self {
            name,
            styles: Tensor::from_vec(styles, (shape[0], STYLE_DIM), device)
                .map_err(|e| bad(e.to_string()))?,
            pitch,
            reference_pitch_hz: number("reference_pitch_hz"),
            d_vector,
            method: meta.get("method").cloned().unwrap_or_default(),
            references: meta
                .get("references")
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_default(),
            created: meta
                .get("created")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            model: meta.get("model").cloned().unwrap_or_default(),
        })
    }
}

/// Most characters a voice's name keeps.
pub const MAX_NAME_CHARS: usize = 64;

/// A voice's name as it may be shown to people and written in files: control characters (NUL,
/// ESC, …) and the invisible marks that reorder text (bidirectional overrides and isolates) are
/// removed, runs of white space become one space, and at most [`MAX_NAME_CHARS`] characters are
/// kept. Empty if nothing printable is left.
pub fn clean_name(name: &str) -> String {
    let reorders = |c: char| matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    name.split(|c: char| c.is_whitespace())
        .map(|word| {
            word.chars()
                .filter(|&c| !c.is_control() && !reorders(c))
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_NAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_control_and_reordering_characters() {
        assert_eq!(clean_name("  Reader\t 2414 "), "Reader 2414");
        assert_eq!(
            clean_name("a\0b\u{1b}[31m\u{202e}c\u{2066}  d\n"),
            "ab[31mc d"
        );
        assert_eq!(clean_name("\0\u{202e}\n"), "");
        assert_eq!(clean_name(&"x".repeat(100)).len(), MAX_NAME_CHARS);
        assert_eq!(clean_name("Zoë 李"), "Zoë 李");
    }

    fn profile() -> VoiceProfile {
        VoiceProfile {
            name: "alice".into(),
            styles: Tensor::randn(0f32, 1.0, (3, STYLE_DIM), &Device::Cpu).unwrap(),
            pitch: Some(PitchTarget {
                median_hz: 201.5,
                spread_semitones: Some(2.5),
            }),
            reference_pitch_hz: Some(198.0),
            d_vector: Some(vec![0.0625; 256]),
            method: "nearest-stock:jf_alpha".into(),
            references: vec!["a.wav".into(), "b.flac".into()],
            created: 1_700_000_000,
            model: "abc".into(),
        }
    }

    #[test]
    fn a_profile_round_trips() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("alice.voice");
        let p = profile();
        p.save(&path).unwrap();
        let q = VoiceProfile::load(&path, &Device::Cpu).unwrap();
        assert_eq!(q.name, "alice");
        assert_eq!(q.pitch, p.pitch);
        assert_eq!(q.reference_pitch_hz, p.reference_pitch_hz);
        assert_eq!(q.d_vector, p.d_vector);
        assert_eq!(q.references, p.references);
        assert_eq!(
            (q.method.as_str(), q.created, q.model.as_str()),
            ("nearest-stock:jf_alpha", 1_700_000_000, "abc")
        );
        let a: Vec<f32> = p.styles.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = q.styles.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn corrupt_foreign_and_future_files_are_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let garbage = dir.path().join("garbage.voice");
        std::fs::write(&garbage, b"definitely not a profile").unwrap();
        let e = VoiceProfile::load(&garbage, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a voxclone voice profile"), "{e}");

        // A safetensors file that is not a profile.
        let other = dir.path().join("other.voice");
        let t = Tensor::zeros(4, candle_core::DType::F32, &Device::Cpu).unwrap();
        t.save_safetensors("x", &other).unwrap();
        let e = VoiceProfile::load(&other, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a voxclone voice profile"), "{e}");

        // A newer version: written by hand with version 99.
        let future = dir.path().join("future.voice");
        profile().save(&future).unwrap();
        let mut bytes = std::fs::read(&future).unwrap();
        let key = b"\"version\":\"1\"";
        let at = bytes
            .windows(key.len())
            .position(|w| w == key)
            .expect("the header holds the version");
        bytes[at + key.len() - 2] = b'9';
        std::fs::write(&future, &bytes).unwrap();
        let e = VoiceProfile::load(&future, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("newer voxclone") && e.contains("version 9"),
            "{e}"
        );
    }
}
