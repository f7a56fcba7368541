//! The object store: observables live here once, and travel as [`Handle`]s. The driver keeps
//! handles; an objective's task resolves them inside the worker into shared references
//! (`Arc`), so a trajectory is never copied through the driver.

use super::component::Observation;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A reference to an observable in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Handle(pub u64);

/// Observables by handle, shared by the driver and the workers of one process.
#[derive(Debug, Default)]
pub struct ObjectStore {
    next: AtomicU64,
    objects: Mutex<HashMap<Handle, Arc<Observation>>>,
}

impl ObjectStore {
    /// Stores `value` and returns its handle.
    pub fn put(&self, value: Observation) -> Handle {
        let h = Handle(self.next.fetch_add(1, Ordering::Relaxed));
        self.lock().insert(h, Arc::new(value));
        h
    }

    /// The observable behind `h`.
    #[must_use]
    pub fn get(&self, h: Handle) -> Option<Arc<Observation>> {
        self.lock().get(&h).cloned()
    }

    /// Drops every object whose handle is not in `keep`.
    pub fn retain(&self, keep: &[Handle]) {
        self.lock().retain(|h, _| keep.contains(h));
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Handle, Arc<Observation>>> {
        // a poisoned lock only means a task panicked while holding it; the map itself is intact
        self.objects.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
