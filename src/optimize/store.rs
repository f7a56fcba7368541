//! The object store: observables live here once, and travel as [`Handle`]s. The driver keeps
//! handles; an objective's task resolves them inside the worker into shared references
//! (`Arc`), so a trajectory is never copied through the driver.
//!
//! An object is either in memory (produced by a task of this process) or in a file of a spool
//! directory (produced by a worker process, [`super::ProcessPool`]): then the driver holds only
//! its path, and the objective's worker reads it from there. Dropping a handle
//! ([`ObjectStore::retain`]) deletes its file.

use crate::component::Observation;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A reference to an observable in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Handle(pub u64);

#[derive(Debug, Clone)]
enum Entry {
    Memory(Arc<Observation>),
    File(PathBuf),
}

/// Observables by handle, shared by the driver and the workers of one process.
#[derive(Debug, Default)]
pub struct ObjectStore {
    next: AtomicU64,
    objects: Mutex<HashMap<Handle, Entry>>,
}

impl ObjectStore {
    /// Stores `value` and returns its handle.
    pub fn put(&self, value: Observation) -> Handle {
        self.insert(Entry::Memory(Arc::new(value)))
    }

    /// Takes over the observable in `path` (written by [`write_object`]); the store deletes the
    /// file when the handle is dropped.
    pub fn put_file(&self, path: PathBuf) -> Handle {
        self.insert(Entry::File(path))
    }

    fn insert(&self, e: Entry) -> Handle {
        let h = Handle(self.next.fetch_add(1, Ordering::Relaxed));
        self.lock().insert(h, e);
        h
    }

    /// The observable behind `h`, read from its file if it lives in one.
    pub fn fetch(&self, h: Handle) -> Result<Arc<Observation>> {
        let entry = self.lock().get(&h).cloned();
        match entry {
            Some(Entry::Memory(o)) => Ok(o),
            Some(Entry::File(p)) => read_object(&p).map(Arc::new),
            None => Err(Error::internal(format!("observable handle {} was dropped from the store before use", h.0))),
        }
    }

    /// The file holding `h`; an object in memory is written to `dir` first (once: the entry then
    /// refers to the file).
    pub fn file_of(&self, h: Handle, dir: &Path) -> Result<PathBuf> {
        // under the lock: two tasks that need the same object write it once, not at once
        let mut objects = self.lock();
        match objects.get(&h).cloned() {
            Some(Entry::File(p)) => Ok(p),
            Some(Entry::Memory(o)) => {
                let path = dir.join(format!("object-{}.cbor", h.0));
                write_object(&path, o.as_ref())?;
                objects.insert(h, Entry::File(path.clone()));
                Ok(path)
            }
            None => Err(Error::internal(format!("observable handle {} was dropped from the store before use", h.0))),
        }
    }

    /// Drops every object whose handle is not in `keep` (and deletes its file).
    pub fn retain(&self, keep: &[Handle]) {
        self.lock().retain(|h, e| {
            let k = keep.contains(h);
            if let (false, Entry::File(p)) = (k, e) {
                let _ = std::fs::remove_file(p);
            }
            k
        });
    }

    /// Number of stored objects.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Handle, Entry>> {
        // a poisoned lock only means a task panicked while holding it; the map itself is intact
        self.objects.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Writes `value` to `path` as CBOR (binary serde), through a temporary file renamed into place,
/// so a reader never sees half an object. Not synced to disk: spool files live for one run.
pub fn write_object<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.partial", std::process::id()));
    let file = std::fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    let mut w = std::io::BufWriter::new(file);
    ciborium::into_writer(value, &mut w).map_err(|e| Error::io("write", &tmp, std::io::Error::other(e.to_string())))?;
    w.into_inner().map_err(|e| Error::io("write", &tmp, e.into_error()))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename into place", path, e))
}

/// Reads a value written by [`write_object`].
pub fn read_object<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    ciborium::from_reader(std::io::BufReader::new(file))
        .map_err(|e| Error::io("read", path, std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())))
}
