//! One way to write files, used by every command and by the library's run directories.
//!
//! - Inputs are registered (and so opened and checked) before any output is touched.
//! - An output that *is* an input — the same file by identity (device and inode), whatever its
//!   spelling (`./t.dat`, a symbolic link, `../dir/t.dat`) — is refused.
//! - An existing output is never replaced unless the caller was given `--force`.
//! - Results are written to a temporary file beside the destination and renamed over it: a
//!   reader, or a crash, never sees a half-written file.
//! - A run directory is locked while a run writes it ([`DirLock`]); a second run fails at once
//!   with a message naming the holder.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use oxgrad::io::atomic::Outputs;
//! let input = dir.path().join("in.dat");
//! std::fs::write(&input, "data").unwrap();
//! let mut io = Outputs::new(false);
//! io.input(&input)?;
//! assert!(io.write(&input, b"oops").is_err());           // an input is never an output
//! io.write(&dir.path().join("out.dat"), b"result")?;      // written whole or not at all
//! assert!(io.write(&dir.path().join("out.dat"), b"again").is_err()); // exists: needs --force
//! # Ok::<(), oxgrad::Error>(())
//! ```

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The identity of a file: device and inode.
fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(path).ok().map(|p| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            p.hash(&mut h);
            (0, h.finish())
        })
    }
}

/// The inputs and outputs of one command.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    inputs: Vec<(PathBuf, (u64, u64))>,
    force: bool,
}

impl Outputs {
    /// Outputs that may replace existing files only if `force`.
    #[must_use]
    pub fn new(force: bool) -> Outputs {
        Outputs { inputs: Vec::new(), force }
    }

    /// Registers an input: it must exist and be a readable file.
    pub fn input(&mut self, path: &Path) -> Result<()> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
        if meta.is_dir() {
            return Err(Error::io(
                "read",
                path,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory, not a file"),
            ));
        }
        File::open(path).map_err(|e| Error::io("read", path, e))?;
        if let Some(id) = identity(path) {
            self.inputs.push((path.to_path_buf(), id));
        }
        Ok(())
    }

    /// Checks that `path` may be written: not an input, not a directory, and absent unless forced.
    pub fn check(&self, path: &Path) -> Result<()> {
        if let Some(id) = identity(path) {
            if let Some((input, _)) = self.inputs.iter().find(|(_, i)| *i == id) {
                return Err(Error::invalid(
                    "output",
                    path.display(),
                    format!(
                        "it is the input '{}': writing it would destroy what is being read; choose another output",
                        input.display()
                    ),
                ));
            }
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Err(Error::invalid("output", path.display(), "it is a directory: give a file name")),
            Ok(_) if !self.force => Err(Error::invalid(
                "output",
                path.display(),
                "the file exists: pass --force to replace it, or choose another output",
            )),
            _ => Ok(()),
        }
    }

    /// Checks every path before any is written (a command's outputs, all at once).
    pub fn check_all<'a>(&self, paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
        paths.into_iter().try_for_each(|p| self.check(p))
    }

    /// Checks `path`, then writes `bytes` to it atomically.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.check(path)?;
        write(path, bytes)
    }

    /// Checks `path`, then opens an [`AtomicFile`] that replaces it on [`AtomicFile::commit`].
    pub fn create(&self, path: &Path) -> Result<AtomicFile> {
        self.check(path)?;
        AtomicFile::create(path)
    }
}

/// The temporary name used while `path` is written (`.name.tmp-<pid>` in the same directory).
fn temporary(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `path` atomically through `write`, a function that creates the file itself (a plotting
/// library that takes a path): `write` gets a temporary path beside `path` with the same
/// extension (`.name.tmp-<pid>.png`); the result is flushed to disk and renamed into place when
/// `write` succeeds, and removed when it fails.
pub fn write_via(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let stem = path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{stem}.tmp-{}{ext}", std::process::id()));
    let done = write(&tmp).and_then(|()| {
        File::open(&tmp).and_then(|f| f.sync_all()).map_err(|e| Error::io("write", path, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("write", path, e))
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Writes `bytes` to `path` atomically (temporary file, flush to disk, rename).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes).map_err(|e| Error::io("write", path, e))?;
    f.commit()
}

/// A file written under a temporary name and renamed into place by [`AtomicFile::commit`];
/// dropped without a commit, it leaves the destination untouched and removes the temporary.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path` (nothing visible there until the commit).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let tmp = temporary(path);
        let f = File::create(&tmp).map_err(|e| Error::io("create", path, e))?;
        Ok(AtomicFile { path: path.to_path_buf(), tmp, out: Some(BufWriter::new(f)) })
    }

    /// The destination.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let out = self.out.take().expect("invariant: an AtomicFile commits once");
        let f = out.into_inner().map_err(|e| Error::io("write", &self.path, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io("write", &self.path, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("write", &self.path, e))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.as_mut().map_or(Ok(0), |o| o.write(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.as_mut().map_or(Ok(()), BufWriter::flush)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// An exclusive lock on a directory (a `.oxgrad.lock` file holding the holder's process id,
/// host and command line), released when dropped or when the process ends, however it ends.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Locks `dir` (created if needed), or fails at once naming the process that holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        let path = dir.join(".oxgrad.lock");
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("lock", &path, e))?;
        if file.try_lock().is_err() {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            return Err(Error::invalid(
                "run directory",
                dir.display(),
                format!(
                    "another oxgrad process is writing it ({}): wait for it to finish, or choose another directory",
                    if holder.is_empty() { "holder unknown" } else { holder }
                ),
            ));
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let who = format!(
            "pid {} on {}, started {}: {}",
            std::process::id(),
            host.trim(),
            crate::io::atomic::now_iso8601(),
            std::env::args().collect::<Vec<_>>().join(" ")
        );
        file.set_len(0)
            .and_then(|()| file.write_all(who.as_bytes()))
            .and_then(|()| file.flush())
            .map_err(|e| Error::io("lock", &path, e))?;
        Ok(DirLock { file, path })
    }

    /// The lock file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
#[must_use]
pub fn now_iso8601() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    iso8601(secs)
}

/// A Unix time as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar, UTC).
#[must_use]
pub fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil from days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_796_000_000), "2026-11-30T00:53:20Z");
    }

    #[test]
    fn files_written_by_others_appear_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plot.png");
        write_via(&p, |tmp| {
            assert!(tmp.to_string_lossy().ends_with(".png"), "the extension is kept: {}", tmp.display());
            std::fs::write(tmp, "new").map_err(|e| Error::io("write", tmp, e))
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let e = write_via(&p, |tmp| {
            std::fs::write(tmp, "half").unwrap();
            Err(Error::internal("drawing failed"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left behind");
    }

    #[test]
    fn an_uncommitted_file_leaves_the_destination_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        std::fs::write(&p, "old").unwrap();
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"new, half written").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left behind");
        let lock = DirLock::acquire(dir.path()).unwrap();
        let e = DirLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        drop(lock);
        DirLock::acquire(dir.path()).unwrap();
    }
}
