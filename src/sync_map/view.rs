//! `SyncMap::layout`: a read-only, per-entry picture of the read snapshot and the dirty map,
//! for tools that show Go's read/dirty cycle at work (the CLI's tour and visualiser) and for
//! tests that check an entry's state (value / nil / expunged) rather than only the counts of
//! [`SyncMap::stats`].
//!
//! It reads the entries with the map's mutex held, so the picture is one moment of the
//! structure: no promotion, no dirty-map copy step and no expunge/unexpunge can happen while it
//! is taken. Lock-free writers may still move an entry between *value* and *nil* meanwhile
//! (that is the design: they never take the mutex), so with writers running, each entry's
//! state is one it had during the call.

use std::fmt::Debug;

use super::entry::Entry;
use super::{SyncMap, SyncMapStats};
use crate::primitive::Guard;

/// The state of one entry, as Go's `sync.Map` documents its `entry.p`.
///
/// ```
/// use gomap::EntryState;
///
/// let map = gomap::SyncMap::new();
/// map.store(1, "one");
/// map.load(&1); // promotes: the entry is now in the read snapshot
/// map.delete(&1);
/// let layout = map.layout(|_, v| v.to_string());
/// assert_eq!(layout.read_state("1"), Some(&EntryState::Deleted));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryState {
    /// The key holds a value, shown as `describe(key, value)`.
    Value(String),
    /// Go's `p == nil`: the key was deleted, and the entry is kept (in the snapshot, and in the
    /// dirty map if there is one) so a later store can revive it without the mutex.
    Deleted,
    /// Go's `p == expunged`: the key was deleted and the current dirty map was built without
    /// it. Only a store under the mutex revives it (putting it back into the dirty map first).
    Expunged,
}

impl EntryState {
    /// Go's name for the state: `"value"`, `"nil"` or `"expunged"`.
    ///
    /// ```
    /// use gomap::EntryState;
    /// assert_eq!(EntryState::Value("7".into()).name(), "value");
    /// assert_eq!(EntryState::Deleted.name(), "nil");
    /// assert_eq!(EntryState::Expunged.name(), "expunged");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            EntryState::Value(_) => "value",
            EntryState::Deleted => "nil",
            EntryState::Expunged => "expunged",
        }
    }

    /// The described value, if the entry holds one.
    ///
    /// ```
    /// use gomap::EntryState;
    /// assert_eq!(EntryState::Value("7".into()).value(), Some("7"));
    /// assert_eq!(EntryState::Expunged.value(), None);
    /// ```
    pub fn value(&self) -> Option<&str> {
        match self {
            EntryState::Value(v) => Some(v),
            EntryState::Deleted | EntryState::Expunged => None,
        }
    }
}

/// A read-only picture of a [`SyncMap`]'s two maps, from [`SyncMap::layout`].
///
/// Keys are described by their `Debug` form; both lists are sorted (by key description, then
/// state), so the same map always prints the same way.
///
/// ```
/// let map = gomap::SyncMap::new();
/// map.store("gopher", 1); // a new key: into the dirty map, the snapshot is amended
/// let layout = map.layout(|_, v| v.to_string());
/// assert!(layout.read.is_empty());
/// assert_eq!(layout.dirty_state("\"gopher\"").and_then(|s| s.value()), Some("1"));
/// assert!(layout.amended);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncMapLayout {
    /// The read snapshot's entries (Go's `read.m`), deleted and expunged ones included.
    pub read: Vec<(String, EntryState)>,
    /// The dirty map's entries, or `None` when there is none (Go's `dirty == nil`). While
    /// `stats.copying`, the snapshot entries the copy has not reached yet are present in `read`,
    /// absent here, and not expunged (the next locked operations copy them).
    pub dirty: Option<Vec<(String, EntryState)>>,
    /// Whether the dirty map holds keys the snapshot lacks (Go's `read.amended`).
    pub amended: bool,
    /// Loads that fell through to the dirty map since the last promotion (Go's `misses`); the
    /// dirty map is promoted when they reach its length.
    pub misses: usize,
    /// The counters of the same moment (what [`SyncMap::stats`] would have returned).
    pub stats: SyncMapStats,
}

impl SyncMapLayout {
    /// The state of the read snapshot's entry whose key is described as `key`, if the snapshot
    /// has one.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 10);
    /// map.load(&1); // the miss promotes the dirty map
    /// let layout = map.layout(|_, v| v.to_string());
    /// assert_eq!(layout.read_state("1").and_then(|s| s.value()), Some("10"));
    /// assert_eq!(layout.read_state("2"), None);
    /// ```
    pub fn read_state(&self, key: &str) -> Option<&EntryState> {
        find(&self.read, key)
    }

    /// The state of the dirty map's entry whose key is described as `key`, if there is a dirty
    /// map and it has one.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 10);
    /// let layout = map.layout(|_, v| v.to_string());
    /// assert_eq!(layout.dirty_state("1").and_then(|s| s.value()), Some("10"));
    /// ```
    pub fn dirty_state(&self, key: &str) -> Option<&EntryState> {
        find(self.dirty.as_deref()?, key)
    }
}

fn find<'a>(entries: &'a [(String, EntryState)], key: &str) -> Option<&'a EntryState> {
    // Sorted by key description first, so a binary search finds the first match.
    let i = entries.partition_point(|(k, _)| k.as_str() < key);
    entries.get(i).filter(|(k, _)| k == key).map(|(_, s)| s)
}

/// One entry's state; the caller holds the map's mutex (so *expunged* cannot change).
fn state_locked<K, V>(
    key: &K,
    entry: &Entry<V>,
    guard: &Guard<'_>,
    describe: &mut impl FnMut(&K, &V) -> String,
) -> EntryState {
    if entry.is_expunged_locked() {
        EntryState::Expunged
    } else {
        match entry.load(guard) {
            Some(v) => EntryState::Value(describe(key, v)),
            None => EntryState::Deleted,
        }
    }
}

impl<K: Debug, V, S> SyncMap<K, V, S> {
    /// A read-only picture of every entry of the read snapshot and of the dirty map, each with
    /// its state (value / nil / expunged), with `amended`, `misses` and the [`stats`] of the
    /// same moment. For debugging and teaching (the CLI's tour and visualiser draw it), not
    /// for production paths: it takes the mutex and is O(n) in the number of entries.
    ///
    /// Keys are described by `Debug`, values by `describe(key, value)`. Both run with the
    /// map's mutex held: they must not write to the map (a store of a new key would deadlock).
    ///
    /// ```
    /// use gomap::EntryState;
    ///
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 'a');
    /// map.load(&1); // the miss promotes the dirty map: key 1 is in the snapshot
    /// map.delete(&1); // its entry turns nil
    /// map.store(2, 'b'); // a new key rebuilds the dirty map: the nil entry is expunged
    /// let layout = map.layout(|_, v| v.to_string());
    /// assert_eq!(layout.read, [("1".to_string(), EntryState::Expunged)]);
    /// assert_eq!(layout.dirty, Some(vec![("2".to_string(), EntryState::Value("b".into()))]));
    /// assert!(layout.amended);
    /// ```
    ///
    /// [`stats`]: SyncMap::stats
    pub fn layout(&self, mut describe: impl FnMut(&K, &V) -> String) -> SyncMapLayout {
        let guard = self.guard();
        let locked = self.lock();
        let read = self.load_read_only(&guard);
        let mut describe_all = |entries: &mut dyn Iterator<Item = (&K, &Entry<V>)>| {
            let mut out: Vec<(String, EntryState)> = entries
                .map(|(k, e)| (format!("{k:?}"), state_locked(k, e, &guard, &mut describe)))
                .collect();
            out.sort_unstable();
            out
        };
        let read_entries = describe_all(&mut read.m.iter().map(|(k, e)| (k, &**e)));
        let dirty_entries = locked
            .dirty
            .as_ref()
            .map(|d| describe_all(&mut d.iter().map(|(k, e)| (k, &**e))));
        let stats = self.stats_locked(read, &locked);
        SyncMapLayout {
            read: read_entries,
            dirty: dirty_entries,
            amended: stats.amended,
            misses: stats.misses,
            stats,
        }
    }
}
