//! Kokoro-82M (hexgrad, `KModel` of <https://github.com/hexgrad/kokoro>, a StyleTTS 2 text
//! encoder and prosody predictor with an iSTFTNet decoder) and the misaki English lexicons its
//! grapheme-to-phoneme front end uses.
//!
//! The misaki lexicons are copied out of the misaki wheel as they are, each pinned by its own
//! sha256, which also validates a cached copy.

use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cache::PartFile;
use crate::pypi::{PypiArtifact, MISAKI_WHEEL};
use crate::{ModelError, ModelStore, Progress, ProgressScope, Result};

const MISAKI_DIR: &str = "misaki";
/// The lexicons are 3 MB each; refuse to unpack anything far larger.
const MAX_LEXICON_BYTES: u64 = 64 << 20;

/// One wheel member copied into the cache as it is, pinned by the sha256 of its contents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PinnedMember {
    /// Path inside the wheel.
    pub member: &'static str,
    /// File name in the cache directory.
    pub file: &'static str,
    pub sha256: &'static str,
}

/// `misaki/data/us_gold.json` and `misaki/data/us_silver.json` of [`MISAKI_WHEEL`].
const MISAKI_MEMBERS: [PinnedMember; 2] = [
    PinnedMember {
        member: "misaki/data/us_gold.json",
        file: "us_gold.json",
        sha256: "dc414872a49a28ae6c141463d502fd945f3b2fde040484fdc47d00cc4612686f",
    },
    PinnedMember {
        member: "misaki/data/us_silver.json",
        file: "us_silver.json",
        sha256: "de8f67be911bb6c659187b4a65fd966b6a30e56350e0f790d763210b053ac475",
    },
];

/// misaki's American English pronunciation lexicons (JSON objects from a word to its phonemes,
/// or to a map from part-of-speech tag to phonemes), as shipped in misaki 0.9.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisakiLexicons {
    /// `<root>/misaki/us_gold.json`: the hand-checked lexicon.
    pub us_gold: PathBuf,
    /// `<root>/misaki/us_silver.json`: the larger, less curated fallback.
    pub us_silver: PathBuf,
}

impl ModelStore {
    /// Where [`misaki_lexicons`](Self::misaki_lexicons) keeps its files.
    pub fn misaki_lexicons_paths(&self) -> MisakiLexicons {
        let dir = self.root().join(MISAKI_DIR);
        MisakiLexicons {
            us_gold: dir.join(MISAKI_MEMBERS[0].file),
            us_silver: dir.join(MISAKI_MEMBERS[1].file),
        }
    }

    /// misaki's English lexicons `<root>/misaki/{us_gold.json, us_silver.json}`, fetching the
    /// misaki wheel and unpacking them on first use.
    ///
    /// A cached file is trusted only if its sha256 is the pinned one; otherwise it is unpacked
    /// again from the cached wheel (no network needed, also in offline mode).
    pub fn misaki_lexicons(&self, progress: &dyn Progress) -> Result<MisakiLexicons> {
        self.misaki_lexicons_from(&MISAKI_WHEEL, &MISAKI_MEMBERS, progress)?;
        Ok(self.misaki_lexicons_paths())
    }

    pub(crate) fn misaki_lexicons_from(
        &self,
        wheel: &PypiArtifact,
        members: &[PinnedMember],
        progress: &dyn Progress,
    ) -> Result<()> {
        let dir = self.root().join(MISAKI_DIR);
        self.unpack_pinned(wheel, members, &dir, "the misaki lexicons", progress)
    }

    /// Makes `dir/<member.file>` hold each of `members` of `wheel`, verified by its pinned
    /// sha256; fetches the wheel only if some file is missing or wrong.
    fn unpack_pinned(
        &self,
        wheel: &PypiArtifact,
        members: &[PinnedMember],
        dir: &Path,
        what: &str,
        progress: &dyn Progress,
    ) -> Result<()> {
        let mut todo = Vec::new();
        for m in members {
            let dest = dir.join(m.file);
            match crate::cache::sha256_file(&dest)? {
                Some(actual) if actual.eq_ignore_ascii_case(m.sha256) => {}
                Some(actual) => {
                    tracing::warn!(path = %dest.display(),
                        "sha256 {actual}, expected {}; unpacking it again", m.sha256);
                    todo.push(m);
                }
                None => todo.push(m),
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        let wheel_path = self.fetch_for(wheel, &dir.join(todo[0].file), progress)?;
        let _scope = ProgressScope::begin(progress, &format!("Unpacking {what}"), None);
        fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        for m in todo {
            let data = read_member(&wheel_path, m.member, MAX_LEXICON_BYTES)?;
            let actual = format!("{:x}", Sha256::digest(&data));
            if !actual.eq_ignore_ascii_case(m.sha256) {
                return Err(ModelError::BadCheckpoint {
                    path: wheel_path,
                    member: m.member.to_owned(),
                    reason: format!("sha256 {actual}, expected {}", m.sha256),
                });
            }
            write_atomic(&dir.join(m.file), &data, &wheel_path)?;
        }
        Ok(())
    }

    /// [`fetch`](Self::fetch), with an offline error that also names `dest`, the file the
    /// download is needed for.
    fn fetch_for(
        &self,
        artifact: &PypiArtifact,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<PathBuf> {
        self.fetch(artifact, progress).map_err(|e| match e {
            ModelError::OfflineMissing { path, state, .. } => ModelError::OfflineMissing {
                path,
                state,
                needed_for: dest.display().to_string(),
            },
            other => other,
        })
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

/// Writes `data` to `dest` through a `.part` file renamed into place, with the permissions of
/// `like` (the wheel, whose permissions came from the umask).
fn write_atomic(dest: &Path, data: &[u8], like: &Path) -> Result<()> {
    let mut part = PartFile::create(dest)?;
    {
        let (file, path) = part.file();
        std::io::Write::write_all(file, data).map_err(|e| ModelError::io(path, e))?;
    }
    copy_permissions(like, part.path())?;
    part.commit(dest)
}

fn copy_permissions(from: &Path, to: &Path) -> Result<()> {
    if let Ok(meta) = fs::metadata(from) {
        fs::set_permissions(to, meta.permissions()).map_err(|e| ModelError::io(to, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_server::{fake_artifact, fake_wheel, index_page, Reply, TestServer};
    use crate::NoProgress;

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

    /// Serves `wheel` as the only file of `project` and returns (server, artifact pinned to it).
    fn serve_wheel(project: &str, filename: &str, wheel: Vec<u8>) -> (TestServer, PypiArtifact) {
        let artifact = fake_artifact(project, filename, &wheel);
        let file = format!("/f/{}", artifact.filename);
        let server = TestServer::start(vec![
            (
                format!("/simple/{}/", crate::normalize_project_name(project)),
                Reply::html(index_page(artifact.filename, &file, Some(artifact.sha256))),
            ),
            (file, Reply::bytes(wheel)),
        ]);
        (server, artifact)
    }

    fn pinned(member: &'static str, file: &'static str, data: &[u8]) -> PinnedMember {
        PinnedMember {
            member,
            file,
            sha256: Box::leak(format!("{:x}", Sha256::digest(data)).into_boxed_str()),
        }
    }

    #[test]
    fn lexicons_are_unpacked_verified_and_repaired_offline() {
        let gold = br#"{"hello": "h\u0259l\u02c8O"}"#;
        let silver = br#"{"world": "w\u02c8\u025c\u0279ld"}"#;
        let wheel = fake_wheel(&[
            ("misaki/__init__.py", b"".as_slice()),
            ("misaki/data/us_gold.json", gold),
            ("misaki/data/us_silver.json", silver),
        ]);
        let (server, artifact) = serve_wheel("misaki", "misaki-9.9-py3-none-any.whl", wheel);
        let members = [
            pinned("misaki/data/us_gold.json", "us_gold.json", gold),
            pinned("misaki/data/us_silver.json", "us_silver.json", silver),
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));

        store
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap();
        let paths = store.misaki_lexicons_paths();
        assert_eq!(
            paths.us_gold,
            dir.path().join("misaki").join("us_gold.json")
        );
        assert_eq!(fs::read(&paths.us_gold).unwrap(), gold);
        assert_eq!(fs::read(&paths.us_silver).unwrap(), silver);
        assert_eq!(
            entries(&dir.path().join("misaki")),
            ["us_gold.json", "us_silver.json"]
        );
        assert_eq!(server.total_hits(), 2);

        // A damaged lexicon is unpacked again from the cached wheel, without the network.
        fs::write(&paths.us_silver, b"{}").unwrap();
        let offline = store.clone().offline(true);
        offline
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap();
        assert_eq!(fs::read(&paths.us_silver).unwrap(), silver);
        assert_eq!(server.total_hits(), 2);
    }

    #[test]
    fn a_lexicon_with_the_wrong_sha256_is_refused_and_leaves_no_file() {
        let wheel = fake_wheel(&[("misaki/data/us_gold.json", b"{}".as_slice())]);
        let (server, artifact) = serve_wheel("misaki", "misaki-9.9-py3-none-any.whl", wheel);
        let members = [pinned("misaki/data/us_gold.json", "us_gold.json", b"{ }")];
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));
        let err = store
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap_err();
        assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("us_gold.json") && !message.contains('\n'),
            "{message}"
        );
        assert_eq!(entries(&dir.path().join("misaki")), Vec::<String>::new());
    }

    #[test]
    fn offline_without_the_misaki_wheel_names_it_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url("http://127.0.0.1:9/simple")
            .offline(true);
        let message = store.misaki_lexicons(&NoProgress).unwrap_err().to_string();
        let wheel = store.download_path(&MISAKI_WHEEL);
        assert!(message.contains(&wheel.display().to_string()), "{message}");
        assert!(message.contains("us_gold.json"), "{message}");
        assert!(message.contains("voxclone models fetch"), "{message}");
    }

    /// NETWORK + REAL DATA: downloads the real misaki 0.9.4 wheel (3.6 MB) from PyPI (or
    /// `$VOXCLONE_PYPI_INDEX` / `$PIP_INDEX_URL`) into a temporary cache. Runs in every
    /// `cargo test`: CI reaches PyPI.
    #[test]
    fn network_real_misaki_wheel_gives_both_lexicons() {
        let dir = tempfile::tempdir().unwrap();
        let store = real_store(dir.path());
        let lexicons = store.misaki_lexicons(&NoProgress).unwrap();
        let gold = fs::read_to_string(&lexicons.us_gold).unwrap();
        let silver = fs::read_to_string(&lexicons.us_silver).unwrap();
        assert!(
            gold.starts_with('{') && gold.contains("\"hello\""),
            "{}",
            &gold[..80]
        );
        assert!(silver.starts_with('{'), "{}", &silver[..80]);
        let offline = store.clone().offline(true);
        assert_eq!(offline.misaki_lexicons(&NoProgress).unwrap(), lexicons);
    }

    /// A store in `root` that uses the index the environment names (PyPI by default).
    pub(crate) fn real_store(root: &Path) -> ModelStore {
        let index = ModelStore::from_vars(|name| match name {
            "VOXCLONE_CACHE_DIR" => Some(root.into()),
            _ => std::env::var_os(name),
        })
        .unwrap()
        .index_url()
        .to_owned();
        ModelStore::new(root.to_owned()).with_index_url(index)
    }
}
