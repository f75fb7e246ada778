//! Voice packs and the phoneme vocabulary.
//!
//! A Kokoro voice pack holds one style vector per utterance length: row `n − 1` is the style
//! for `n` phonemes (longer inputs use the last row).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::model::STYLE_DIM;

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("{path}: {reason}")]
    BadFile { path: String, reason: String },
    /// `hint` says what to use instead (close names, where the list is).
    #[error("unknown voice {name:?}; {hint}")]
    Unknown { name: String, hint: String },
}

/// One voice: style vectors by phoneme count, `[N, 256]`.
#[derive(Debug, Clone)]
pub struct VoicePack {
    pub name: String,
    styles: Tensor,
}

impl VoicePack {
    pub fn new(name: impl Into<String>, styles: Tensor) -> Result<Self, VoiceError> {
        let name = name.into();
        match styles.dims() {
            [n, STYLE_DIM] if *n > 0 => Ok(Self { name, styles }),
            dims => Err(VoiceError::BadFile {
                path: name,
                reason: format!("a voice pack is [N, {STYLE_DIM}] style vectors, got {dims:?}"),
            }),
        }
    }

    /// All style vectors, `[N, 256]`.
    pub fn styles(&self) -> &Tensor {
        &self.styles
    }

    /// The style vector `[1, 256]` for an utterance of `phonemes` phonemes.
    pub fn style_for(&self, phonemes: usize) -> candle_core::Result<Tensor> {
        let rows = self.styles.dim(0)?;
        let row = phonemes.clamp(1, rows) - 1;
        self.styles.narrow(0, row, 1)
    }

    /// A pack that uses one style vector `[256]` or `[1, 256]` for every length (a cloned voice).
    pub fn constant(name: impl Into<String>, style: &Tensor) -> Result<Self, VoiceError> {
        let style = style
            .reshape((1, STYLE_DIM))
            .map_err(|e| VoiceError::BadFile {
                path: "style".into(),
                reason: e.to_string(),
            })?;
        Self::new(name, style)
    }

    /// Every voice in a `voices.safetensors` (one `[N, 256]` tensor per voice), sorted by name.
    pub fn load_all(path: &Path, device: &Device) -> Result<Vec<VoicePack>, VoiceError> {
        let bad = |reason: String| VoiceError::BadFile {
            path: path.display().to_string(),
            reason,
        };
        let tensors =
            candle_core::safetensors::load(path, device).map_err(|e| bad(e.to_string()))?;
        let mut voices = tensors
            .into_iter()
            .map(|(name, t)| {
                let t = t.to_dtype(DType::F32).map_err(|e| bad(e.to_string()))?;
                VoicePack::new(name, t).map_err(|e| bad(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if voices.is_empty() {
            return Err(bad("holds no voices".into()));
        }
        voices.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(voices)
    }
}

/// Kokoro's phoneme vocabulary: symbol → token id.
#[derive(Debug, Clone)]
pub struct Vocab {
    ids: HashMap<char, u32>,
}

impl Vocab {
    /// Reads `vocab.json` (`{"vocab": {"a": 43, …}}`).
    pub fn load(path: &Path) -> Result<Self, VoiceError> {
        let bad = |reason: String| VoiceError::BadFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let map = json
            .get("vocab")
            .and_then(|v| v.as_object())
            .ok_or_else(|| bad("no \"vocab\" object".into()))?;
        let mut ids = HashMap::with_capacity(map.len());
        for (symbol, id) in map {
            let mut chars = symbol.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(bad(format!("symbol {symbol:?} is not one character")));
            };
            let id = id
                .as_u64()
                .filter(|&i| i > 0 && i < 4096)
                .ok_or_else(|| bad(format!("bad id for {symbol:?}")))?;
            ids.insert(c, id as u32);
        }
        Ok(Self { ids })
    }

    pub fn id(&self, symbol: char) -> Option<u32> {
        self.ids.get(&symbol).copied()
    }

    /// Token ids of a phoneme string; symbols outside the vocabulary are skipped, as the
    /// reference does.
    pub fn encode(&self, phonemes: &str) -> Vec<u32> {
        phonemes.chars().filter_map(|c| self.id(c)).collect()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}
