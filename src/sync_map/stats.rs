//! Introspection: `SyncMap::stats` (public, read-only) and the whole-map invariant checker used
//! by the tests (Go's `export_test.go` habit).

use std::hash::{BuildHasher, Hash};

use super::entry::EntryRef;
use super::{Locked, ReadOnly, SyncMap};

impl<K, V, S> SyncMap<K, V, S> {
    /// The counters of [`stats`](Self::stats), read from the snapshot and the locked state
    /// (the caller holds the mutex, so they are consistent with each other).
    pub(super) fn stats_locked(
        &self,
        read: &ReadOnly<K, V, S>,
        locked: &Locked<K, V, S>,
    ) -> SyncMapStats {
        SyncMapStats {
            len: self.len(),
            read_len: read.m.len(),
            dirty_len: locked.dirty.as_ref().map(|d| d.len()),
            amended: read.amended(),
            copying: locked.copy.is_some(),
            dirty_growing: Self::dirty_growing(locked),
            misses: locked.misses,
            promotions: locked.promotions,
        }
    }
}

impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher + Clone,
{
    /// Counters that show where the map is in Go's read/dirty cycle. Takes the mutex.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 1); // a new key goes to the dirty map
    /// let stats = map.stats();
    /// assert_eq!((stats.read_len, stats.dirty_len, stats.amended), (0, Some(1), true));
    /// map.load(&1); // a miss: 1 >= len(dirty), so dirty is promoted
    /// let stats = map.stats();
    /// assert_eq!((stats.read_len, stats.dirty_len, stats.promotions), (1, None, 1));
    /// ```
    pub fn stats(&self) -> SyncMapStats {
        let guard = self.guard();
        let locked = self.lock();
        self.stats_locked(self.load_read_only(&guard), &locked)
    }

    /// Panics if an internal invariant is broken. For tests; call it on a quiescent map.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 1);
    /// map.check_invariants();
    /// ```
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        let guard = self.guard();
        let locked = self.lock();
        let read = self.load_read_only(&guard);
        assert!(!super::growing(&read.m), "a snapshot published mid-growth");
        let mut live = 0;
        match &locked.dirty {
            None => {
                assert!(locked.copy.is_none(), "a copy without a dirty map");
                assert!(!read.amended(), "amended without a dirty map");
                for e in read.m.values() {
                    assert!(
                        !e.is_expunged_locked(),
                        "expunged entry without a dirty map"
                    );
                    live += usize::from(e.has_value());
                }
            }
            Some(dirty) => {
                // Entries the copy has not reached yet are in neither state: count them.
                for (k, e) in read.m.iter() {
                    match dirty.get(k) {
                        Some(d) => {
                            assert!(
                                EntryRef::ptr_eq(d, e),
                                "snapshot and dirty disagree on an entry"
                            );
                            assert!(!e.is_expunged_locked(), "expunged entry in dirty");
                        }
                        None if e.is_expunged_locked() => {}
                        None => {
                            assert!(locked.copy.is_some(), "live entry missing from dirty");
                            live += usize::from(e.has_value());
                        }
                    }
                }
                let extra = dirty.keys().filter(|k| !read.m.contains_key(*k)).count();
                assert!(
                    extra == 0 || read.amended(),
                    "dirty has new keys but not amended"
                );
                live += dirty.values().filter(|e| e.has_value()).count();
                assert!(
                    locked.misses < dirty.len().max(1)
                        || locked.copy.is_some()
                        || super::growing(dirty),
                    "misses not below len(dirty)"
                );
            }
        }
        assert_eq!(self.len(), live, "len disagrees with the entries");
    }
}

/// A snapshot of a [`SyncMap`]'s internal counters, from [`SyncMap::stats`].
///
/// ```
/// let map: gomap::SyncMap<u8, u8> = gomap::SyncMap::new();
/// let stats: gomap::SyncMapStats = map.stats();
/// assert_eq!(stats.len, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncMapStats {
    /// Keys holding a value (as [`SyncMap::len`]).
    pub len: usize,
    /// Entries in the read snapshot, deleted and expunged ones included.
    pub read_len: usize,
    /// Entries in the dirty map, or `None` when there is none (Go's `dirty == nil`).
    pub dirty_len: Option<usize>,
    /// Whether the dirty map holds keys the snapshot lacks (reads of absent keys then lock).
    pub amended: bool,
    /// Whether the dirty map is still being filled from the snapshot (a few entries per locked
    /// operation; a promotion waits for it).
    pub copying: bool,
    /// Whether the dirty map is in the middle of a growth (its incremental doubling); a
    /// promotion waits for the end of it, which every locked operation advances, so that no
    /// snapshot is ever published with two bucket arrays.
    pub dirty_growing: bool,
    /// Loads that fell through to the dirty map since the last promotion.
    pub misses: usize,
    /// Promotions of the dirty map to snapshot since the map was created.
    pub promotions: u64,
}
