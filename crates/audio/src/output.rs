//! Where results go. A regular file is written atomically: a temporary sibling renamed into place,
//! so that a reader never sees half a file and a failure leaves the old one. A symlink is
//! followed, so that its target is written (in the target's own directory) and the link stays a
//! link. Anything else a user can name as an output (a device such as `/dev/null` or `/dev/full`,
//! a FIFO, `/proc/self/fd/N`) is written directly: renaming a file over it would replace it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How a path is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A regular file, existing or not, at its real path (symlinks resolved): temporary file,
    /// then rename.
    Atomic(PathBuf),
    /// An existing file that is not a regular file: opened and written in place.
    Direct(PathBuf),
}

impl Destination {
    /// Where writing `path` goes. A directory is an error.
    pub fn of(path: &Path) -> io::Result<Self> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            )),
            Ok(meta) if meta.is_file() => Ok(Self::Atomic(std::fs::canonicalize(path)?)),
            Ok(_) => Ok(Self::Direct(path.to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Nothing there, or a link to nothing: the file is created where the link points.
                let mut real = path.to_owned();
                for _ in 0..40 {
                    match std::fs::read_link(&real) {
                        Ok(target) => {
                            real = match real.parent() {
                                Some(dir) if target.is_relative() => dir.join(target),
                                _ => target,
                            }
                        }
                        Err(_) => return Ok(Self::Atomic(real)),
                    }
                }
                Err(io::Error::other("too many levels of symbolic links"))
            }
            Err(e) => Err(e),
        }
    }

    /// The path that is finally written.
    pub fn path(&self) -> &Path {
        match self {
            Self::Atomic(p) | Self::Direct(p) => p,
        }
    }

    /// Opens it for writing; nothing is visible at an atomic destination until
    /// [`PendingFile::commit`].
    pub fn create(&self) -> io::Result<PendingFile> {
        match self {
            Self::Atomic(dest) => {
                let tmp = temp_path(dest);
                let file = File::create(&tmp)?;
                Ok(PendingFile {
                    file,
                    tmp: Some(tmp),
                    dest: dest.clone(),
                })
            }
            Self::Direct(dest) => Ok(PendingFile {
                file: OpenOptions::new().write(true).open(dest)?,
                tmp: None,
                dest: dest.clone(),
            }),
        }
    }
}

/// A file being written to a [`Destination`]. Dropped without [`commit`](Self::commit), an atomic
/// one leaves nothing behind.
#[derive(Debug)]
pub struct PendingFile {
    file: File,
    /// The temporary file of an atomic destination.
    tmp: Option<PathBuf>,
    dest: PathBuf,
}

impl PendingFile {
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Whether the output can be rewound (to fill in a header's sizes): only a file of our own.
    pub fn is_atomic(&self) -> bool {
        self.tmp.is_some()
    }

    /// Makes what was written durable and visible at the destination.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        match self.tmp.take() {
            Some(tmp) => {
                let done = self
                    .file
                    .sync_all()
                    .and_then(|()| std::fs::rename(&tmp, &self.dest));
                if done.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                done
            }
            // A device or a pipe: written is done (sync would fail on a pipe).
            None => Ok(()),
        }
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Writes `bytes` to `path` (see [`Destination`]).
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut out = Destination::of(path)?.create()?;
    out.file().write_all(bytes)?;
    out.commit()
}

/// A sibling path for writing before an atomic rename (same directory, so the rename cannot cross
/// file systems).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.part", std::process::id()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn a_regular_file_is_replaced_atomically_and_a_failure_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write(&path, b"old").unwrap();
        write(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mut pending = Destination::of(&path).unwrap().create().unwrap();
        pending.file().write_all(b"half").unwrap();
        drop(pending); // not committed
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write(&dir.path().join("no/such/dir/x"), b"x").is_err());
        assert_eq!(
            write(dir.path(), b"x").unwrap_err().kind(),
            io::ErrorKind::IsADirectory
        );
    }

    #[test]
    fn a_symlink_writes_its_target_and_stays_a_link() {
        let is_link = |p: &Path| {
            std::fs::symlink_metadata(p)
                .unwrap()
                .file_type()
                .is_symlink()
        };
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("real");
        std::fs::create_dir(&sub).unwrap();
        let target = sub.join("target.wav");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.wav");
        std::os::unix::fs::symlink("real/target.wav", &link).unwrap();
        write(&link, b"new").unwrap();
        assert!(is_link(&link));
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        // A link to a file not yet there creates it where the link points.
        let dangling = dir.path().join("later.wav");
        std::os::unix::fs::symlink("real/later.wav", &dangling).unwrap();
        write(&dangling, b"made").unwrap();
        assert!(is_link(&dangling));
        assert_eq!(std::fs::read(sub.join("later.wav")).unwrap(), b"made");
    }

    #[test]
    fn devices_are_written_in_place_and_their_errors_reported() {
        // /dev/null takes the bytes and stays a device.
        write(Path::new("/dev/null"), b"gone").unwrap();
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
        if Path::new("/dev/full").exists() {
            let e = write(Path::new("/dev/full"), &[0u8; 4096]).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(28), "{e}"); // ENOSPC
            assert!(std::fs::metadata("/dev/full")
                .unwrap()
                .file_type()
                .is_char_device());
        }
    }

    #[test]
    fn a_fifo_is_written_to_its_reader_and_stays_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo (coreutils) failed");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}
