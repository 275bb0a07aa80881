//! `SyncMapRef`: a map view that holds a reclamation guard, so reads can lend `&V` without
//! cloning.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use super::SyncMap;
use crate::primitive::Guard;

/// A view of a [`SyncMap`] holding a reclamation guard, from [`SyncMap::pin`].
///
/// References it returns stay valid as long as the view, even if the value is replaced or
/// removed meanwhile (it is then freed only after the view is dropped). It is tied to the thread
/// that created it.
///
/// ```
/// let map = gomap::SyncMap::new();
/// map.store("k", vec![0u8; 1024]);
/// let pinned = map.pin();
/// let big: &Vec<u8> = pinned.get("k").unwrap();
/// map.delete("k"); // the value stays readable through `big` until `pinned` is dropped
/// assert_eq!(big.len(), 1024);
/// ```
///
/// The guard belongs to the thread that entered it, so the view is neither `Send` nor `Sync`,
/// whatever `K` and `V` are (other threads use the map meanwhile through views of their own):
///
/// ```compile_fail
/// fn moved<T: Send>(_: T) {}
/// let map = gomap::SyncMap::<u8, u8>::new();
/// moved(map.pin()); // the guard cannot leave its thread
/// ```
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// let map = gomap::SyncMap::<u8, u8>::new();
/// shared(&map.pin()); // nor be used from another thread
/// ```
pub struct SyncMapRef<'m, K, V, S> {
    map: &'m SyncMap<K, V, S>,
    guard: Guard<'m>,
}

impl<'m, K, V, S> SyncMapRef<'m, K, V, S> {
    pub(super) fn new(map: &'m SyncMap<K, V, S>, guard: Guard<'m>) -> Self {
        SyncMapRef { map, guard }
    }

    /// The map this view reads.
    ///
    /// ```
    /// let map = gomap::SyncMap::<u8, u8>::new();
    /// assert!(std::ptr::eq(map.pin().map(), &map));
    /// ```
    pub fn map(&self) -> &'m SyncMap<K, V, S> {
        self.map
    }
}

impl<K, V, S> SyncMapRef<'_, K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher + Clone,
{
    /// The value stored for `key`, borrowed (Go's `Load` without a copy).
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, String::from("one"));
    /// assert_eq!(map.pin().get(&1).map(String::as_str), Some("one"));
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.load_in(key, &self.guard)
    }

    /// Go's `LoadOrStore`, returning the actual value borrowed.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// let pinned = map.pin();
    /// assert_eq!(pinned.load_or_store(1, String::from("a")), (&String::from("a"), false));
    /// assert_eq!(pinned.load_or_store(1, String::from("b")), (&String::from("a"), true));
    /// ```
    pub fn load_or_store(&self, key: K, value: V) -> (&V, bool) {
        self.map.load_or_store_in(key, value, &self.guard)
    }

    /// [`SyncMap::load_or_store_with`], returning the actual value borrowed.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// let pinned = map.pin();
    /// assert_eq!(pinned.load_or_store_with(1, || String::from("a")), (&String::from("a"), false));
    /// let (value, loaded) = pinned.load_or_store_with(1, || unreachable!("1 has a value"));
    /// assert_eq!((value.as_str(), loaded), ("a", true));
    /// ```
    pub fn load_or_store_with(&self, key: K, f: impl FnOnce() -> V) -> (&V, bool) {
        self.map.load_or_store_with_in(key, f, &self.guard)
    }

    /// Go's `Swap`, returning the previous value borrowed.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// let pinned = map.pin();
    /// assert_eq!(pinned.swap(1, 'a'), None);
    /// assert_eq!(pinned.swap(1, 'b'), Some(&'a'));
    /// ```
    pub fn swap(&self, key: K, value: V) -> Option<&V> {
        self.map.swap_in(key, value, &self.guard)
    }

    /// Go's `LoadAndDelete`, returning the removed value borrowed.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 'a');
    /// assert_eq!(map.pin().load_and_delete(&1), Some(&'a'));
    /// ```
    pub fn load_and_delete<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.load_and_delete_in(key, &self.guard)
    }

    /// The keys and values of the snapshot (promoted first, as in [`SyncMap::range`]), as an
    /// iterator, with `range`'s guarantees.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 10);
    /// map.store(2, 20);
    /// let pinned = map.pin();
    /// let mut all: Vec<_> = pinned.iter().collect();
    /// all.sort();
    /// assert_eq!(all, [(&1, &10), (&2, &20)]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        let read = self.map.promoted_read(&self.guard);
        read.m
            .iter()
            .filter_map(|(k, e)| e.load(&self.guard).map(|v| (k, v)))
    }
}

impl<K, V, S> fmt::Debug for SyncMapRef<'_, K, V, S>
where
    K: Eq + Hash + Clone + fmt::Debug,
    V: fmt::Debug,
    S: BuildHasher + Clone,
{
    /// Formats the map, as [`SyncMap`]'s `Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
