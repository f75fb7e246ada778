//! Speaker encoding, the zero-shot route (Arik et al. 2018): the style is predicted from the
//! reference d-vector at once, with no synthesis and no training at clone time.
//!
//! The predictor is a bank of (d-vector, style) pairs the project makes itself
//! (`voxclone train speaker-encoding`), and a new d-vector's style is the similarity-weighted
//! blend of its nearest entries' styles (Kokoro styles blend well: its users mix stock voices
//! this way). Entries come from two sources:
//! - **adapted**: a real speaker's reference d-vector, and the style speaker adaptation fitted
//!   to it;
//! - **sampled**: a style drawn around the stock voices, and the d-vector of its own speech.
//!
//! Why a bank rather than a regression: with a few hundred pairs in 256 dimensions a linear
//! map underfits the speakers it has seen and blurs the rest towards the mean voice; the
//! nearest entries keep a likeness the encoder hears.

pub mod training;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use voxclone_encoder::Embedding;
use voxclone_synthesizer::{VoicePack, STYLE_DIM};

/// Entries blended for a prediction.
pub const NEIGHBOURS: usize = 4;
/// Softmax temperature over cosine similarity: 0.02 gives the nearest entry most of the weight
/// unless others are nearly as close.
pub const TEMPERATURE: f32 = 0.02;

/// The bank the project ships, made by `voxclone train speaker-encoding` (see
/// `data/README.md` for the command and the data).
pub static SHIPPED_BANK: &[u8] = include_bytes!("../../data/speaker-encoding.safetensors");

#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("{0}: not a speaker-encoding bank: {1}")]
    Bad(String, String),
    #[error("writing {0}: {1}")]
    Write(String, std::io::Error),
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntrySource {
    Adapted,
    Sampled,
}

/// One (d-vector, style) pair.
#[derive(Debug, Clone)]
pub struct BankEntry {
    /// `adapted:<speaker>` or `sampled:<n>`: unique, so that training can resume.
    pub name: String,
    pub d_vector: Embedding,
    pub style: Vec<f32>,
}

impl BankEntry {
    pub fn source(&self) -> EntrySource {
        if self.name.starts_with("adapted:") {
            EntrySource::Adapted
        } else {
            EntrySource::Sampled
        }
    }
}

/// The zero-shot predictor.
#[derive(Debug, Clone, Default)]
pub struct StyleBank {
    pub entries: Vec<BankEntry>,
}

/// A predicted style and the entries it was blended from.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub style: Vec<f32>,
    /// `(entry name, cosine to the query, weight)`, nearest first.
    pub neighbours: Vec<(String, f32, f32)>,
}

impl Prediction {
    pub fn voice(&self, name: &str, device: &Device) -> candle_core::Result<VoicePack> {
        let style = Tensor::from_slice(&self.style, (1, STYLE_DIM), device)?;
        VoicePack::constant(name, &style).map_err(|e| candle_core::Error::Msg(e.to_string()))
    }
}

impl StyleBank {
    /// The bank built into this binary.
    pub fn shipped() -> Result<Self, BankError> {
        Self::from_bytes(SHIPPED_BANK, "the built-in speaker-encoding bank")
    }

    pub fn load(path: &Path) -> Result<Self, BankError> {
        let bytes = std::fs::read(path)
            .map_err(|e| BankError::Bad(path.display().to_string(), e.to_string()))?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    fn from_bytes(bytes: &[u8], what: &str) -> Result<Self, BankError> {
        let bad = |r: String| BankError::Bad(what.to_owned(), r);
        let (_, meta) =
            safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let names: Vec<String> = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("names"))
            .map(|n| serde_json::from_str(n))
            .transpose()
            .map_err(|e| bad(format!("names: {e}")))?
            .unwrap_or_default();
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)
            .map_err(|e| bad(e.to_string()))?;
        let get = |key: &str| -> Result<Vec<Vec<f32>>, BankError> {
            let t = tensors
                .get(key)
                .ok_or_else(|| bad(format!("no tensor {key:?}")))?;
            t.to_dtype(DType::F32)
                .and_then(|t| t.to_vec2::<f32>())
                .map_err(|e| bad(format!("{key}: {e}")))
        };
        let (keys, styles) = (get("d_vectors")?, get("styles")?);
        if keys.len() != names.len() || styles.len() != names.len() {
            return Err(bad(format!(
                "{} names, {} d-vectors, {} styles",
                names.len(),
                keys.len(),
                styles.len()
            )));
        }
        let entries = names
            .into_iter()
            .zip(keys)
            .zip(styles)
            .map(|((name, key), style)| {
                if style.len() != STYLE_DIM || style.iter().any(|v| !v.is_finite()) {
                    return Err(bad(format!(
                        "{name}: style is not {STYLE_DIM} finite values"
                    )));
                }
                let d_vector = Embedding::normalized(key)
                    .ok_or_else(|| bad(format!("{name}: d-vector has no direction")))?;
                Ok(BankEntry {
                    name,
                    d_vector,
                    style,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { entries })
    }

    /// Writes the bank atomically (temporary file, then rename): training saves after every
    /// entry, and an interrupt never leaves a torn file.
    pub fn save(&self, path: &Path) -> Result<(), BankError> {
        let write_err = |e: std::io::Error| BankError::Write(path.display().to_string(), e);
        let n = self.entries.len();
        let flat = |f: &dyn Fn(&BankEntry) -> &[f32]| -> Vec<u8> {
            self.entries
                .iter()
                .flat_map(|e| f(e).iter().flat_map(|v| v.to_le_bytes()))
                .collect()
        };
        let keys = flat(&|e| e.d_vector.as_slice());
        let styles = flat(&|e| &e.style);
        let dim = self.entries.first().map_or(256, |e| e.d_vector.len());
        let views = [
            (
                "d_vectors",
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![n, dim], &keys)
                    .map_err(|e| write_err(std::io::Error::other(e.to_string())))?,
            ),
            (
                "styles",
                safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    vec![n, STYLE_DIM],
                    &styles,
                )
                .map_err(|e| write_err(std::io::Error::other(e.to_string())))?,
            ),
        ];
        let names: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        let meta = HashMap::from([
            ("format".to_owned(), "voxclone-speaker-encoding".to_owned()),
            (
                "names".to_owned(),
                serde_json::to_string(&names).expect("strings serialise"),
            ),
        ]);
        let bytes = safetensors::tensor::serialize(views, Some(meta))
            .map_err(|e| write_err(std::io::Error::other(e.to_string())))?;
        voxclone_audio::output::write(path, &bytes).map_err(write_err)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    /// The style for a reference d-vector: the softmax-weighted blend of the nearest
    /// [`NEIGHBOURS`] entries' styles. `exclude` leaves entries out by name (for
    /// leave-one-out evaluation). `None` when the bank is empty.
    pub fn predict(
        &self,
        d_vector: &Embedding,
        exclude: &dyn Fn(&str) -> bool,
    ) -> Option<Prediction> {
        let mut scored: Vec<(usize, f32)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !exclude(&e.name))
            .map(|(i, e)| (i, e.d_vector.cosine(d_vector)))
            .collect();
        if scored.is_empty() {
            return None;
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(NEIGHBOURS);
        let top = scored[0].1;
        let weights: Vec<f32> = scored
            .iter()
            .map(|(_, s)| ((s - top) / TEMPERATURE).exp())
            .collect();
        let total: f32 = weights.iter().sum();
        let mut style = vec![0f32; STYLE_DIM];
        for ((i, _), w) in scored.iter().zip(&weights) {
            for (acc, v) in style.iter_mut().zip(&self.entries[*i].style) {
                *acc += w / total * v;
            }
        }
        Some(Prediction {
            style,
            neighbours: scored
                .iter()
                .zip(&weights)
                .map(|((i, s), w)| (self.entries[*i].name.clone(), *s, w / total))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, key: &[f32], fill: f32) -> BankEntry {
        let mut k = vec![0f32; 256];
        k[..key.len()].copy_from_slice(key);
        BankEntry {
            name: name.into(),
            d_vector: Embedding::normalized(k).unwrap(),
            style: vec![fill; STYLE_DIM],
        }
    }

    #[test]
    fn the_nearest_entry_dominates_and_far_ones_barely_count() {
        let bank = StyleBank {
            entries: vec![
                entry("adapted:a", &[1.0, 0.0], 1.0),
                entry("adapted:b", &[0.0, 1.0], -1.0),
                entry("sampled:0", &[0.6, 0.8], 0.5),
            ],
        };
        let query = |v: &[f32]| {
            let mut k = vec![0f32; 256];
            k[..v.len()].copy_from_slice(v);
            Embedding::normalized(k).unwrap()
        };
        // Cosines 1, 0.6 and 0: the far entries' weights are e^-20 and less.
        let p = bank.predict(&query(&[1.0, 0.0]), &|_| false).unwrap();
        assert_eq!(p.neighbours[0].0, "adapted:a");
        assert!((p.style[0] - 1.0).abs() < 1e-4, "{}", p.style[0]);
        // Equally near two entries: their blend.
        let p = bank.predict(&query(&[2.0, 1.0]), &|_| false).unwrap();
        assert!((p.style[0] - 0.75).abs() < 1e-3, "{}", p.style[0]);
        let without = bank
            .predict(&query(&[1.0, 0.0]), &|n| n == "adapted:a")
            .unwrap();
        assert_eq!(without.neighbours[0].0, "sampled:0");
        assert!(StyleBank::default()
            .predict(&query(&[1.0]), &|_| false)
            .is_none());
    }

    #[test]
    fn a_saved_bank_loads_back_and_a_torn_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bank.safetensors");
        let bank = StyleBank {
            entries: vec![
                entry("adapted:x", &[0.3, 0.4], 0.25),
                entry("sampled:1", &[1.0], -0.5),
            ],
        };
        bank.save(&path).unwrap();
        let back = StyleBank::load(&path).unwrap();
        assert_eq!(back.entries.len(), 2);
        assert_eq!(back.entries[0].name, "adapted:x");
        assert_eq!(back.entries[0].source(), EntrySource::Adapted);
        assert_eq!(back.entries[1].style, vec![-0.5; STYLE_DIM]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = StyleBank::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a speaker-encoding bank"), "{err}");
    }

    #[test]
    fn the_shipped_bank_loads() {
        let bank = StyleBank::shipped().unwrap();
        assert!(!bank.entries.is_empty());
    }
}
