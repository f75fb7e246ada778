//! The GE2E speaker encoder weights (Wan et al., "Generalized End-to-End Loss for Speaker
//! Verification", ICASSP 2018), as trained for Real-Time Voice Cloning and shipped by
//! Resemblyzer in `resemblyzer/pretrained.pt`.
//!
//! The checkpoint is in PyTorch's *legacy* (pre-1.6, non-zip) format, read by [`crate::torch`];
//! its `model_state` holds the network: a 3-layer LSTM (40 mel bands in, 256 hidden, the four
//! gate blocks i, f, g, o stacked in 1024 rows; all LSTM tensors are views into one flat cuDNN
//! storage) and a 256×256 linear projection, plus the GE2E similarity scale and bias. We convert
//! it once to safetensors with the same tensor names, so that a candle `VarBuilder` walks them
//! directly.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use crate::cache::{read_member, PartFile};
use crate::pypi::{PypiArtifact, RESEMBLYZER_WHEEL};
use crate::{ModelError, ModelStore, Progress, ProgressScope, Result};

/// Where the checkpoint sits inside the Resemblyzer wheel.
pub const GE2E_CHECKPOINT_MEMBER: &str = "resemblyzer/pretrained.pt";
/// The key of the checkpoint dict that holds the network (the rest is `step` and the optimizer).
const CHECKPOINT_KEY: &str = "model_state";
const GE2E_DIR: &str = "ge2e";
const ENCODER_FILE: &str = "encoder.safetensors";
/// `pretrained.pt` is 17 MB; refuse to unpack anything far larger.
const MAX_CHECKPOINT_BYTES: u64 = 256 << 20;

/// Every tensor of `ge2e/encoder.safetensors`, with its shape; all are float32.
///
/// `similarity_weight` and `similarity_bias` (the GE2E loss's learned scale w ≈ 70.89 and bias
/// b ≈ -4.18) are kept although inference does not use them: they cost 8 bytes and let a
/// fine-tuning run start from the trained loss. A `VarBuilder` ignores them.
pub const GE2E_TENSORS: &[(&str, &[usize])] = &[
    ("lstm.weight_ih_l0", &[1024, 40]),
    ("lstm.weight_hh_l0", &[1024, 256]),
    ("lstm.bias_ih_l0", &[1024]),
    ("lstm.bias_hh_l0", &[1024]),
    ("lstm.weight_ih_l1", &[1024, 256]),
    ("lstm.weight_hh_l1", &[1024, 256]),
    ("lstm.bias_ih_l1", &[1024]),
    ("lstm.bias_hh_l1", &[1024]),
    ("lstm.weight_ih_l2", &[1024, 256]),
    ("lstm.weight_hh_l2", &[1024, 256]),
    ("lstm.bias_ih_l2", &[1024]),
    ("lstm.bias_hh_l2", &[1024]),
    ("linear.weight", &[256, 256]),
    ("linear.bias", &[256]),
    ("similarity_weight", &[1]),
    ("similarity_bias", &[1]),
];

impl ModelStore {
    /// Where [`ge2e_encoder`](Self::ge2e_encoder) keeps its result:
    /// `<root>/ge2e/encoder.safetensors`.
    pub fn ge2e_encoder_path(&self) -> PathBuf {
        self.root().join(GE2E_DIR).join(ENCODER_FILE)
    }

    /// The GE2E encoder weights as safetensors (tensor names and shapes in [`GE2E_TENSORS`]),
    /// fetching the Resemblyzer wheel and converting its checkpoint on first use.
    ///
    /// An existing file is checked (names, shapes, dtype, finite values) before it is trusted;
    /// if it fails, it is converted again. The wheel stays in `downloads/`, so a re-conversion
    /// needs no network, also in offline mode.
    pub fn ge2e_encoder(&self, progress: &dyn Progress) -> Result<PathBuf> {
        self.ge2e_encoder_from(&RESEMBLYZER_WHEEL, progress)
    }

    pub(crate) fn ge2e_encoder_from(
        &self,
        wheel: &PypiArtifact,
        progress: &dyn Progress,
    ) -> Result<PathBuf> {
        let dest = self.ge2e_encoder_path();
        match check_safetensors(&dest) {
            Ok(()) => return Ok(dest),
            Err(reason) if dest.exists() => {
                tracing::warn!(path = %dest.display(), "converting again: {reason}");
            }
            Err(_) => {}
        }
        let wheel_path = self.fetch(wheel, progress).map_err(|e| match e {
            ModelError::OfflineMissing { path, state, .. } => ModelError::OfflineMissing {
                path,
                state,
                needed_for: format!("the GE2E encoder weights {}", dest.display()),
            },
            other => other,
        })?;
        let _scope = ProgressScope::begin(progress, "Converting GE2E encoder weights", None);
        convert(&wheel_path, &dest)?;
        tracing::info!(path = %dest.display(), "GE2E encoder weights ready");
        Ok(dest)
    }
}

/// Unpacks the checkpoint from `wheel`, checks it, and writes it to `dest` atomically.
fn convert(wheel: &Path, dest: &Path) -> Result<()> {
    let dir = dest.parent().expect("the encoder path has a parent");
    fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let bad_checkpoint = |reason: String| ModelError::BadCheckpoint {
        path: wheel.to_owned(),
        member: GE2E_CHECKPOINT_MEMBER.to_owned(),
        reason,
    };

    let tensors = {
        // A temporary copy: the pickle reader wants a path. Removed when `pt` drops.
        let mut pt = PartFile::create(&dir.join("pretrained.pt"))?;
        let (file, pt_path) = pt.file();
        let checkpoint = read_member(wheel, GE2E_CHECKPOINT_MEMBER, MAX_CHECKPOINT_BYTES)?;
        file.write_all(&checkpoint)
            .and_then(|()| file.flush())
            .map_err(|e| ModelError::io(pt_path, e))?;
        crate::torch::read_state_dict(pt.path(), CHECKPOINT_KEY).map_err(bad_checkpoint)?
    };
    let tensors = check_tensors(tensors.into_iter().collect()).map_err(bad_checkpoint)?;

    let part = PartFile::create(dest)?;
    candle_core::safetensors::save(&tensors, part.path())
        .map_err(|e| ModelError::io(part.path(), std::io::Error::other(e.to_string())))?;
    // The safetensors writer makes its file private (0600); give it the permissions the wheel
    // got from the umask, so that a cache shared between users stays readable.
    if let Ok(meta) = fs::metadata(wheel) {
        fs::set_permissions(part.path(), meta.permissions())
            .map_err(|e| ModelError::io(part.path(), e))?;
    }
    check_safetensors(part.path())
        .map_err(|reason| bad_checkpoint(format!("written file does not read back: {reason}")))?;
    part.commit(dest)
}

/// Checks that `tensors` are exactly [`GE2E_TENSORS`]: same names, shapes, float32, finite.
/// Returns them as compact CPU copies, ready to save.
fn check_tensors(
    tensors: HashMap<String, Tensor>,
) -> std::result::Result<HashMap<String, Tensor>, String> {
    let mut unexpected: Vec<&str> = tensors
        .keys()
        .map(String::as_str)
        .filter(|name| !GE2E_TENSORS.iter().any(|(n, _)| n == name))
        .collect();
    if !unexpected.is_empty() {
        unexpected.sort_unstable();
        return Err(format!("unexpected tensors {}", unexpected.join(", ")));
    }
    let mut checked = HashMap::with_capacity(GE2E_TENSORS.len());
    for (name, shape) in GE2E_TENSORS {
        let tensor = tensors
            .get(*name)
            .ok_or_else(|| format!("tensor {name} is missing"))?;
        if tensor.dims() != *shape {
            return Err(format!(
                "tensor {name} has shape {:?}, expected {shape:?}",
                tensor.dims()
            ));
        }
        if tensor.dtype() != DType::F32 {
            return Err(format!(
                "tensor {name} is {:?}, expected f32",
                tensor.dtype()
            ));
        }
        let values = tensor
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| format!("{name}: {e}"))?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "tensor {name} holds a non-finite value ({}) at flat index {i}",
                values[i]
            ));
        }
        // A fresh, compact copy: a view into a shared storage would otherwise drag it along.
        let tensor =
            Tensor::from_vec(values, *shape, &Device::Cpu).map_err(|e| format!("{name}: {e}"))?;
        checked.insert((*name).to_owned(), tensor);
    }
    Ok(checked)
}

/// Whether the file at `path` is a complete GE2E safetensors file (see [`check_tensors`]).
pub(crate) fn check_safetensors(path: &Path) -> std::result::Result<(), String> {
    let data = fs::read(path).map_err(|e| e.to_string())?;
    let tensors =
        candle_core::safetensors::load_buffer(&data, &Device::Cpu).map_err(|e| e.to_string())?;
    check_tensors(tensors).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_server::{fake_artifact, fake_wheel, index_page, Reply, TestServer};
    use crate::torch::testing::{legacy_checkpoint, zip_checkpoint, Saved};
    use crate::NoProgress;

    /// GE2E-shaped tensors with distinct, recognisable values, stored as Resemblyzer's are:
    /// the LSTM in one flat storage, every other tensor in its own.
    fn ge2e_like() -> Vec<Saved<'static>> {
        GE2E_TENSORS
            .iter()
            .enumerate()
            .map(|(t, (name, shape))| {
                let n: usize = shape.iter().product();
                Saved {
                    name,
                    shape: shape.to_vec(),
                    values: (0..n).map(|i| t as f32 + (i % 97) as f32 * 1e-3).collect(),
                    storage: if name.starts_with("lstm.") { "1" } else { name },
                }
            })
            .collect()
    }

    /// Serves a wheel holding `members` and returns (server, artifact pinned to it).
    fn serve_wheel(members: &[(&str, &[u8])]) -> (TestServer, PypiArtifact) {
        let wheel = fake_wheel(members);
        let artifact = fake_artifact("resemblyzer", "Resemblyzer-9.9-py3-none-any.whl", &wheel);
        let file = format!("/f/{}", artifact.filename);
        let server = TestServer::start(vec![
            (
                "/simple/resemblyzer/".to_owned(),
                Reply::html(index_page(artifact.filename, &file, Some(artifact.sha256))),
            ),
            (file, Reply::bytes(wheel)),
        ]);
        (server, artifact)
    }

    #[test]
    fn a_wheel_with_a_legacy_checkpoint_converts_and_reconverts_offline() {
        let expected = ge2e_like();
        let checkpoint = legacy_checkpoint(CHECKPOINT_KEY, &expected);
        let (server, artifact) = serve_wheel(&[
            ("resemblyzer/__init__.py", b"".as_slice()),
            (GE2E_CHECKPOINT_MEMBER, &checkpoint),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));

        let path = store.ge2e_encoder_from(&artifact, &NoProgress).unwrap();
        assert_eq!(path, dir.path().join("ge2e").join("encoder.safetensors"));
        assert_saved(&path, &expected);
        // Only the result is left in ge2e/: the temporary .pt and .part files are gone.
        let names: Vec<_> = fs::read_dir(dir.path().join("ge2e"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["encoder.safetensors"]);
        assert_eq!(server.total_hits(), 2);

        // A valid result is returned as it is, even offline.
        let offline = store.clone().offline(true);
        assert_eq!(
            offline.ge2e_encoder_from(&artifact, &NoProgress).unwrap(),
            path
        );
        // A corrupt result is converted again from the cached wheel, without the network.
        fs::write(&path, b"garbage").unwrap();
        assert_eq!(
            offline.ge2e_encoder_from(&artifact, &NoProgress).unwrap(),
            path
        );
        assert_saved(&path, &expected);
        assert_eq!(server.total_hits(), 2);
    }

    #[test]
    fn a_wheel_with_a_zip_checkpoint_converts_too() {
        let expected = ge2e_like();
        let checkpoint = zip_checkpoint(CHECKPOINT_KEY, &expected);
        let (server, artifact) = serve_wheel(&[(GE2E_CHECKPOINT_MEMBER, &checkpoint)]);
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));
        let path = store.ge2e_encoder_from(&artifact, &NoProgress).unwrap();
        assert_saved(&path, &expected);
    }

    fn assert_saved(path: &Path, expected: &[Saved]) {
        let loaded = candle_core::safetensors::load(path, &Device::Cpu).unwrap();
        assert_eq!(loaded.len(), expected.len());
        for saved in expected {
            let t = &loaded[saved.name];
            assert_eq!(t.dims(), saved.shape.as_slice(), "{}", saved.name);
            let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(values, saved.values, "{}", saved.name);
        }
    }

    #[test]
    fn a_checkpoint_with_a_wrong_shape_is_rejected_with_both_shapes() {
        let mut tensors = ge2e_like();
        tensors[0].shape = vec![1024, 41];
        tensors[0].values = vec![0.0; 1024 * 41];
        let checkpoint = legacy_checkpoint(CHECKPOINT_KEY, &tensors);
        let (server, artifact) = serve_wheel(&[(GE2E_CHECKPOINT_MEMBER, &checkpoint)]);
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));

        let err = store.ge2e_encoder_from(&artifact, &NoProgress).unwrap_err();
        assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("lstm.weight_ih_l0"), "{message}");
        assert!(
            message.contains("[1024, 41]") && message.contains("[1024, 40]"),
            "{message}"
        );
        assert!(!store.ge2e_encoder_path().exists());
        let names: Vec<_> = fs::read_dir(dir.path().join("ge2e"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn a_wheel_without_the_checkpoint_is_a_bad_archive() {
        let (server, artifact) = serve_wheel(&[("resemblyzer/__init__.py", b"".as_slice())]);
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));
        let err = store.ge2e_encoder_from(&artifact, &NoProgress).unwrap_err();
        assert!(matches!(err, ModelError::BadArchive { .. }), "{err:?}");
        assert!(err.to_string().contains(GE2E_CHECKPOINT_MEMBER), "{err}");
    }

    #[test]
    fn a_checkpoint_that_is_not_a_torch_file_is_a_bad_checkpoint() {
        let (server, artifact) =
            serve_wheel(&[(GE2E_CHECKPOINT_MEMBER, b"not a zip pickle".as_slice())]);
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));
        let err = store.ge2e_encoder_from(&artifact, &NoProgress).unwrap_err();
        assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err:?}");
    }

    #[test]
    fn offline_without_weights_names_the_wheel_path_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url("http://127.0.0.1:9/simple")
            .offline(true);
        let err = store.ge2e_encoder(&NoProgress).unwrap_err();
        let message = err.to_string();
        let wheel = store.download_path(&RESEMBLYZER_WHEEL);
        assert!(message.contains(&wheel.display().to_string()), "{message}");
        assert!(
            message.contains(&store.ge2e_encoder_path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("voxclone models fetch"), "{message}");
    }

    #[test]
    fn tensor_checks_catch_missing_extra_and_non_finite() {
        let device = Device::Cpu;
        let good = || -> HashMap<String, Tensor> {
            ge2e_like()
                .into_iter()
                .map(|t| {
                    let tensor = Tensor::from_vec(t.values, t.shape, &device).unwrap();
                    (t.name.to_owned(), tensor)
                })
                .collect()
        };
        check_tensors(good()).unwrap();

        let mut missing = good();
        missing.remove("linear.bias");
        assert!(check_tensors(missing).unwrap_err().contains("linear.bias"));

        let mut extra = good();
        extra.insert(
            "lstm.weight_ih_l3".into(),
            Tensor::zeros(1, DType::F32, &device).unwrap(),
        );
        assert!(check_tensors(extra)
            .unwrap_err()
            .contains("lstm.weight_ih_l3"));

        let mut nan = good();
        let mut values = vec![0f32; 256];
        values[7] = f32::NAN;
        nan.insert(
            "linear.bias".into(),
            Tensor::from_vec(values, 256, &device).unwrap(),
        );
        assert!(check_tensors(nan).unwrap_err().contains("index 7"));

        let mut f64s = good();
        f64s.insert(
            "linear.bias".into(),
            Tensor::zeros(256, DType::F64, &device).unwrap(),
        );
        assert!(check_tensors(f64s).unwrap_err().contains("F64"));
    }

    /// NETWORK + REAL WEIGHTS: downloads the real Resemblyzer 0.1.4 wheel (16 MB) from PyPI (or
    /// `$VOXCLONE_PYPI_INDEX` / `$PIP_INDEX_URL`) into a temporary cache and converts it. Runs in
    /// every `cargo test`: CI reaches PyPI.
    #[test]
    fn network_and_weights_real_resemblyzer_wheel_converts_to_ge2e_safetensors() {
        let dir = tempfile::tempdir().unwrap();
        let index = ModelStore::from_vars(|name| match name {
            "VOXCLONE_CACHE_DIR" => Some(dir.path().into()),
            _ => std::env::var_os(name),
        })
        .unwrap()
        .index_url()
        .to_owned();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(index);

        let path = store.ge2e_encoder(&NoProgress).unwrap();
        let tensors = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
        let mut names: Vec<&str> = tensors.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = GE2E_TENSORS.iter().map(|(n, _)| *n).collect();
        expected.sort_unstable();
        assert_eq!(names, expected);
        let mut parameters = 0;
        for (name, shape) in GE2E_TENSORS {
            let t = &tensors[*name];
            assert_eq!(t.dims(), *shape, "{name}");
            assert_eq!(t.dtype(), DType::F32, "{name}");
            let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert!(values.iter().all(|v| v.is_finite()), "{name}");
            assert!(values.iter().any(|v| *v != 0.0), "{name} is all zeros");
            parameters += values.len();
        }
        // The spec's count for the network proper, plus the two GE2E loss scalars.
        assert_eq!(parameters, 1_423_616 + 2);
        // Values read independently from pretrained.pt; lstm.bias_hh_l2 sits at offset
        // 1,356,800 of the flat cuDNN storage that all LSTM tensors share.
        let first = |name: &str| {
            tensors[name]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()[0]
        };
        for (name, value) in [
            ("similarity_weight", 70.892_914_f32),
            ("similarity_bias", -4.180_733),
            ("lstm.weight_ih_l0", 0.042_865_8),
            ("lstm.bias_hh_l2", -0.163_882_39),
            ("linear.weight", -0.168_935_87),
            ("linear.bias", -0.070_617_735),
        ] {
            assert!(
                (first(name) - value).abs() < 1e-6,
                "{name}: {}",
                first(name)
            );
        }

        // The wheel is kept, so a second store finds everything offline.
        let offline = store.clone().offline(true);
        assert_eq!(offline.ge2e_encoder(&NoProgress).unwrap(), path);
        let ge2e: Vec<_> = offline
            .status()
            .into_iter()
            .filter(|m| m.name.starts_with("resemblyzer") || m.name == "ge2e-encoder")
            .collect();
        assert_eq!(ge2e.len(), 2);
        assert!(ge2e.iter().all(|m| m.present));
    }
}
