//! What the sync-map tests share: one interface implemented by `gomap::SyncMap` and by a
//! reference that cannot be wrong (`RwLock<std::collections::HashMap>`), so every suite runs on
//! both and the reference run checks the suite itself (as Go's `map_reference_test.go`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::RwLock;

use gomap::SyncMap;

/// An operation or key count of the concurrent suites: `native`, or a fiftieth of it under
/// Miri, whose interpreter is some 10^4 times slower (it checks every access of every thread
/// for data races, so a few hundred operations per thread already interleave plenty, and its
/// runs reclaim every 8 retirements, see `RETIRE_BATCH`).
pub fn count(native: u64) -> u64 {
    if cfg!(miri) {
        native / 50
    } else {
        native
    }
}

/// Go's `mapInterface`, typed.
pub trait MapInterface<K, V>: Send + Sync {
    fn load(&self, key: &K) -> Option<V>;
    fn store(&self, key: K, value: V);
    fn load_or_store(&self, key: K, value: V) -> (V, bool);
    /// `load_or_store_with`, and whether it called `f`.
    fn load_or_store_with(&self, key: K, f: &mut dyn FnMut() -> V) -> (V, bool);
    /// The pairs of a clone of the map, taken now.
    fn clone_pairs(&self) -> Vec<(K, V)>;
    fn load_and_delete(&self, key: &K) -> Option<V>;
    fn delete(&self, key: &K) -> bool;
    fn swap(&self, key: K, value: V) -> Option<V>;
    fn compare_and_swap(&self, key: &K, old: &V, new: V) -> bool;
    fn compare_and_delete(&self, key: &K, old: &V) -> bool;
    /// `range` collecting everything (or stopping after `limit` pairs).
    fn range_collect(&self, limit: usize) -> Vec<(K, V)>;
    fn clear(&self);
    fn len(&self) -> usize;
    /// Internal consistency (a no-op for the reference).
    fn check(&self) {}
}

/// The reference: a readers-writer lock around std's map.
pub struct RwLockMap<K, V>(pub RwLock<HashMap<K, V>>);

impl<K, V> Default for RwLockMap<K, V> {
    fn default() -> Self {
        RwLockMap(RwLock::new(HashMap::new()))
    }
}

impl<K, V> MapInterface<K, V> for RwLockMap<K, V>
where
    K: Eq + Hash + Clone + Send + Sync,
    V: Clone + PartialEq + Send + Sync,
{
    fn load(&self, key: &K) -> Option<V> {
        self.0.read().unwrap().get(key).cloned()
    }
    fn store(&self, key: K, value: V) {
        self.0.write().unwrap().insert(key, value);
    }
    fn load_or_store_with(&self, key: K, f: &mut dyn FnMut() -> V) -> (V, bool) {
        let mut m = self.0.write().unwrap();
        match m.get(&key) {
            Some(v) => (v.clone(), true),
            None => {
                let value = f();
                m.insert(key, value.clone());
                (value, false)
            }
        }
    }
    fn clone_pairs(&self) -> Vec<(K, V)> {
        let copy = self.0.read().unwrap().clone();
        copy.into_iter().collect()
    }
    fn load_or_store(&self, key: K, value: V) -> (V, bool) {
        let mut m = self.0.write().unwrap();
        match m.get(&key) {
            Some(v) => (v.clone(), true),
            None => {
                m.insert(key, value.clone());
                (value, false)
            }
        }
    }
    fn load_and_delete(&self, key: &K) -> Option<V> {
        self.0.write().unwrap().remove(key)
    }
    fn delete(&self, key: &K) -> bool {
        self.0.write().unwrap().remove(key).is_some()
    }
    fn swap(&self, key: K, value: V) -> Option<V> {
        self.0.write().unwrap().insert(key, value)
    }
    fn compare_and_swap(&self, key: &K, old: &V, new: V) -> bool {
        let mut m = self.0.write().unwrap();
        match m.get_mut(key) {
            Some(v) if v == old => {
                *v = new;
                true
            }
            _ => false,
        }
    }
    fn compare_and_delete(&self, key: &K, old: &V) -> bool {
        let mut m = self.0.write().unwrap();
        if m.get(key) == Some(old) {
            m.remove(key);
            true
        } else {
            false
        }
    }
    fn range_collect(&self, limit: usize) -> Vec<(K, V)> {
        let m = self.0.read().unwrap();
        m.iter()
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    fn clear(&self) {
        self.0.write().unwrap().clear();
    }
    fn len(&self) -> usize {
        self.0.read().unwrap().len()
    }
}

impl<K, V, S> MapInterface<K, V> for SyncMap<K, V, S>
where
    K: Eq + Hash + Clone + Send + Sync,
    V: Clone + PartialEq + Send + Sync,
    S: BuildHasher + Clone + Send + Sync,
{
    fn load(&self, key: &K) -> Option<V> {
        SyncMap::load(self, key)
    }
    fn store(&self, key: K, value: V) {
        SyncMap::store(self, key, value)
    }
    fn load_or_store(&self, key: K, value: V) -> (V, bool) {
        SyncMap::load_or_store(self, key, value)
    }
    fn load_or_store_with(&self, key: K, f: &mut dyn FnMut() -> V) -> (V, bool) {
        SyncMap::load_or_store_with(self, key, f)
    }
    fn clone_pairs(&self) -> Vec<(K, V)> {
        let copy = self.clone();
        copy.check_invariants();
        let mut out = Vec::new();
        copy.range(|k, v| {
            out.push((k.clone(), v.clone()));
            true
        });
        out
    }
    fn load_and_delete(&self, key: &K) -> Option<V> {
        SyncMap::load_and_delete(self, key)
    }
    fn delete(&self, key: &K) -> bool {
        SyncMap::delete(self, key)
    }
    fn swap(&self, key: K, value: V) -> Option<V> {
        SyncMap::swap(self, key, value)
    }
    fn compare_and_swap(&self, key: &K, old: &V, new: V) -> bool {
        SyncMap::compare_and_swap(self, key, old, new)
    }
    fn compare_and_delete(&self, key: &K, old: &V) -> bool {
        SyncMap::compare_and_delete(self, key, old)
    }
    fn range_collect(&self, limit: usize) -> Vec<(K, V)> {
        let mut out = Vec::new();
        self.range(|k, v| {
            if out.len() >= limit {
                return false;
            }
            out.push((k.clone(), v.clone()));
            true
        });
        out
    }
    fn clear(&self) {
        SyncMap::clear(self)
    }
    fn len(&self) -> usize {
        SyncMap::len(self)
    }
    fn check(&self) {
        self.check_invariants()
    }
}

/// The nastiest hasher: every key collides (shared with the HashMap tests).
#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)] // as `dead_code` above: not every suite uses every helper
pub use common::Colliding;
