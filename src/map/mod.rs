//! `HashMap`: std's API over the raw Go-style table. This layer owns the hasher, computes
//! hashes (before any mutation, so a panicking `Hash` changes nothing) and turns `Eq`/`Borrow`
//! into the closures the raw layer takes.

mod entry;
mod iter;
mod traits;

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::mem;

pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use iter::{
    Drain, ExtractIf, IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut,
};

use crate::error::TryReserveError;
use crate::hash::DefaultHashBuilder;
pub(crate) use iter::RawExtractIf;

use crate::raw::{self, LayoutView, MapStats, RawMap, Slot};

/// A hash map built like Go's runtime map: 2^B buckets of 8 slots with a tophash byte each,
/// overflow chains, load factor 6.5, and *incremental* growth: when the map grows, the old
/// buckets are evacuated a couple at a time by later inserts and removes, so no single insert
/// pays for a whole rehash.
///
/// The API is `std::collections::HashMap`'s. Iteration order is random, and differs between
/// two iterations of the same map, as in Go.
///
/// # Examples
///
/// ```
/// use gomap::HashMap;
///
/// let mut ages = HashMap::new();
/// ages.insert("gopher", 14);
/// ages.insert("ferris", 10);
/// assert_eq!(ages.get("gopher"), Some(&14));
/// *ages.entry("ferris").or_insert(0) += 1;
/// assert_eq!(ages["ferris"], 11);
/// assert_eq!(ages.remove("gopher"), Some(14));
/// assert_eq!(ages.len(), 1);
/// ```
pub struct HashMap<K, V, S = DefaultHashBuilder> {
    pub(crate) raw: RawMap<K, V>,
    hash_builder: S,
    /// The key hash, as a plain function: set by every call that may start a growth (`insert`
    /// and `entry`, which have the `Hash` bound), so that `iter_mut` and `extract_if` (hence
    /// `retain`), which have std's bound-free signatures, can still finish a growth in
    /// progress (evacuation rehashes keys). `None` only while no growth can have started.
    rehash: Option<fn(&S, &K) -> u64>,
}

/// `S`'s hash of `key`: the function stored in `HashMap::rehash`.
fn hash_with<K: Hash, S: BuildHasher>(hash_builder: &S, key: &K) -> u64 {
    hash_builder.hash_one(key)
}

impl<K, V> HashMap<K, V, DefaultHashBuilder> {
    /// An empty map. It allocates nothing until the first insert.
    ///
    /// ```
    /// let map: gomap::HashMap<u32, &str> = gomap::HashMap::new();
    /// assert!(map.is_empty());
    /// assert_eq!(map.capacity(), 0);
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }

    /// An empty map with room for at least `capacity` entries before it grows. As Go's
    /// `make(map[K]V, hint)`, the hint picks the smallest B with `capacity <= 6.5 * 2^B`.
    ///
    /// # Panics
    /// If the bucket array would not fit the address space.
    ///
    /// ```
    /// let map: gomap::HashMap<u64, u64> = gomap::HashMap::with_capacity(100);
    /// assert!(map.capacity() >= 100);
    /// assert_eq!(map.stats().b, 4); // 6.5 * 16 = 104 >= 100
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, DefaultHashBuilder::default())
    }
}

impl<K, V, S> HashMap<K, V, S> {
    /// Whether a growth (or shrink) is in progress: two bucket arrays, lookups checking the old
    /// one first.
    #[cfg_attr(loom, allow(dead_code))] // used by `SyncMap`, whose maps are std's under loom
    pub(crate) fn is_growing(&self) -> bool {
        self.raw.growing()
    }

    /// An empty map using `hash_builder` to hash keys (its seed is this map's Go `hash0`).
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let mut map = gomap::HashMap::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// assert_eq!(map[&1], 2);
    /// ```
    pub const fn with_hasher(hash_builder: S) -> Self {
        HashMap {
            raw: RawMap::new(),
            hash_builder,
            rehash: None,
        }
    }

    /// An empty map with room for `capacity` entries, using `hash_builder`.
    ///
    /// # Panics
    /// If the bucket array would not fit the address space.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: gomap::HashMap<u8, u8, _> =
    ///     gomap::HashMap::with_capacity_and_hasher(10, RandomState::new());
    /// assert!(map.capacity() >= 10);
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hash_builder: S) -> Self {
        HashMap {
            raw: RawMap::with_capacity(capacity),
            hash_builder,
            rehash: None,
        }
    }

    /// The map's hasher.
    ///
    /// ```
    /// let map: gomap::HashMap<u8, u8> = gomap::HashMap::new();
    /// let _hasher: &gomap::DefaultHashBuilder = map.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hash_builder
    }

    /// Number of entries.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [(1, 'a'), (2, 'b')].into_iter().collect();
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the map has no entries.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// assert!(map.is_empty());
    /// map.insert(1, 1);
    /// assert!(!map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.raw.len() == 0
    }

    /// Entries the map holds before an insert starts a growth: `max(8, 6.5 * 2^B)`, or 0 for
    /// a map that has not allocated yet.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// map.insert(1, 1);
    /// assert_eq!(map.capacity(), 8); // one bucket of 8 slots
    /// ```
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// Removes every entry. Keeps the current bucket array (reset to empty); frees overflow
    /// buckets and, mid-growth, the old array.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = (0..100).map(|i| (i, i)).collect();
    /// let cap = map.capacity();
    /// map.clear();
    /// assert!(map.is_empty());
    /// assert_eq!(map.capacity(), cap);
    /// ```
    pub fn clear(&mut self) {
        self.raw.clear();
    }

    /// An iterator over `(&K, &V)`, in random order.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [(1, 10), (2, 20)].into_iter().collect();
    /// let mut pairs: Vec<_> = map.iter().collect();
    /// pairs.sort();
    /// assert_eq!(pairs, [(&1, &10), (&2, &20)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(&self.raw)
    }

    /// An iterator over `(&K, &mut V)`, in random order. A growth in progress is finished
    /// first (see [`retain`](Self::retain)).
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = [(1, 10), (2, 20)].into_iter().collect();
    /// for (_, v) in map.iter_mut() {
    ///     *v += 1;
    /// }
    /// assert_eq!(map[&2], 21);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        self.finish_growth_unbounded();
        IterMut::new(&mut self.raw)
    }

    /// Finishes a growth in progress (see [`HashMap::finish_growth`]) from a method without
    /// a `Hash` bound, through `rehash`: what lets `iter_mut` and `retain` end a growth that
    /// would otherwise wait for writes (a map that is grown, then only updated in place).
    fn finish_growth_unbounded(&mut self) {
        if let Some(rehash) = self.rehash {
            let hb = &self.hash_builder;
            self.raw.finish_growth(&|k: &K| rehash(hb, k));
        }
    }

    /// An iterator over the keys.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [(1, 'a')].into_iter().collect();
    /// assert_eq!(map.keys().collect::<Vec<_>>(), [&1]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys { inner: self.iter() }
    }

    /// An iterator over the values.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [(1, 'a')].into_iter().collect();
    /// assert_eq!(map.values().collect::<Vec<_>>(), [&'a']);
    /// ```
    pub fn values(&self) -> Values<'_, K, V> {
        Values { inner: self.iter() }
    }

    /// An iterator over mutable references to the values.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = [(1, 1)].into_iter().collect();
    /// map.values_mut().for_each(|v| *v *= 7);
    /// assert_eq!(map[&1], 7);
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            inner: self.iter_mut(),
        }
    }

    /// A consuming iterator over the keys.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// assert_eq!(map.into_keys().collect::<Vec<_>>(), ["a"]);
    /// ```
    pub fn into_keys(self) -> IntoKeys<K, V> {
        IntoKeys {
            inner: self.into_iter(),
        }
    }

    /// A consuming iterator over the values.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// assert_eq!(map.into_values().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn into_values(self) -> IntoValues<K, V> {
        IntoValues {
            inner: self.into_iter(),
        }
    }

    /// Removes every entry, yielding them. The map keeps its bucket array; a growth in
    /// progress ends (the old array is freed) when the `Drain` is dropped.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = [(1, 'a'), (2, 'b')].into_iter().collect();
    /// let mut drained: Vec<_> = map.drain().collect();
    /// drained.sort();
    /// assert_eq!(drained, [(1, 'a'), (2, 'b')]);
    /// assert!(map.is_empty());
    /// ```
    pub fn drain(&mut self) -> Drain<'_, K, V> {
        Drain::new(&mut self.raw)
    }

    /// Keeps only the entries for which `f` returns `true`.
    ///
    /// A growth in progress is finished first (as by [`finish_growth`](Self::finish_growth):
    /// `retain` is O(n) anyway), though, as std's, `retain` needs no `Hash` bound: the map
    /// keeps the key hash of the `insert` or `entry` call that started the growth. If it
    /// leaves the map much emptier than its array, it starts an automatic shrink.
    ///
    /// ```
    /// let mut map: gomap::HashMap<i32, i32> = (0..8).map(|x| (x, x * 10)).collect();
    /// map.retain(|&k, _| k % 2 == 0);
    /// assert_eq!(map.len(), 4);
    /// ```
    pub fn retain<F: FnMut(&K, &mut V) -> bool>(&mut self, mut f: F) {
        self.extract_if(|k, v| !f(k, v)).for_each(drop);
    }

    /// An iterator that removes and yields the entries for which `pred` returns `true`, in
    /// random order; `pred` may also change the values it keeps. What the iterator does not
    /// reach (dropped early, or `pred` panicked) stays in the map. Like `retain`, it first
    /// finishes a growth in progress, and dropping it may start an automatic shrink.
    ///
    /// ```
    /// let mut map: gomap::HashMap<u32, u32> = (0..8).map(|x| (x, x)).collect();
    /// let mut odd: Vec<_> = map.extract_if(|k, _| k % 2 == 1).collect();
    /// odd.sort();
    /// assert_eq!(odd, [(1, 1), (3, 3), (5, 5), (7, 7)]);
    /// assert_eq!(map.len(), 4);
    /// ```
    pub fn extract_if<F: FnMut(&K, &mut V) -> bool>(&mut self, pred: F) -> ExtractIf<'_, K, V, F> {
        self.finish_growth_unbounded();
        ExtractIf {
            inner: RawExtractIf::new(&mut self.raw),
            pred,
        }
    }

    /// Statistics of the map's layout: B, buckets, overflow buckets, growth progress, load
    /// factor and chain-length histogram. O(number of buckets).
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// for i in 0..1000u32 {
    ///     map.insert(i, i);
    /// }
    /// let stats = map.stats();
    /// assert_eq!(stats.len, 1000);
    /// assert_eq!(stats.buckets, 1 << stats.b);
    /// assert!(stats.load_factor <= 6.5);
    /// ```
    pub fn stats(&self) -> MapStats {
        self.raw.stats()
    }

    /// A read-only picture of every bucket (tophash bytes, entries rendered by `describe`,
    /// overflow chains, evacuation marks), for tools that show the map at work.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [(1, "one")].into_iter().collect();
    /// let view = map.layout(|k, v| format!("{k}={v}"));
    /// let filled: Vec<_> = view.buckets[0].buckets[0].entries.iter().flatten().collect();
    /// assert_eq!(filled, ["1=one"]);
    /// ```
    pub fn layout(&self, describe: impl FnMut(&K, &V) -> String) -> LayoutView {
        self.raw.layout_view(describe)
    }
}

impl<K, V, S> HashMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    #[inline]
    fn hash_of<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hash_builder.hash_one(key)
    }

    /// The slot holding `key` (reads never evacuate, as in Go's `mapaccess`).
    #[inline]
    fn find<Q>(&self, key: &Q) -> Option<Slot<K, V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.is_empty() {
            return None;
        }
        self.raw.find(self.hash_of(key), |k| key == k.borrow())
    }

    /// Reserves room for at least `additional` more entries without growing. If that needs a
    /// larger array, the map is resized now (finishing any growth in progress): an explicit
    /// `reserve` is the caller asking to pay up front.
    ///
    /// # Panics
    /// If the new size overflows `usize` or the address space ("capacity overflow", as std);
    /// allocation failure aborts. [`try_reserve`](Self::try_reserve) returns both instead.
    ///
    /// ```
    /// let mut map: gomap::HashMap<u32, u32> = gomap::HashMap::new();
    /// map.reserve(1000);
    /// assert!(map.capacity() >= 1000);
    /// ```
    pub fn reserve(&mut self, additional: usize) {
        self.try_reserve(additional).unwrap_or_else(|e| e.fail());
    }

    /// [`reserve`](Self::reserve), returning an error instead of panicking or aborting when
    /// the capacity overflows or the allocator fails. On `Err` the map is unchanged.
    ///
    /// The new bucket array is allocated before any entry moves. The move itself may chain
    /// overflow buckets beyond the array's pre-allocated pool; those are small allocations
    /// that, as in every insert, abort if the allocator fails.
    ///
    /// ```
    /// use gomap::TryReserveError;
    ///
    /// let mut map: gomap::HashMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    /// map.try_reserve(1000).expect("room for 1010 entries");
    /// assert!(map.capacity() >= 1010);
    /// assert_eq!(map.try_reserve(usize::MAX), Err(TryReserveError::CapacityOverflow));
    /// assert_eq!(map.len(), 10);
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        if let Some(b) = self.make_room(additional)? {
            // The array the caller asked for is a floor for automatic shrinking.
            self.raw.set_min_b(self.raw.min_b().max(b));
        }
        Ok(())
    }

    /// Resizes now if `additional` more entries would not fit, returning the new B if it did.
    /// Unlike `try_reserve`, sets no floor for automatic shrinking: `extend` uses it with its
    /// iterator's size hint, which is not a capacity the caller asked to keep.
    pub(crate) fn make_room(&mut self, additional: usize) -> Result<Option<u8>, TryReserveError> {
        let needed = self
            .len()
            .checked_add(additional)
            .ok_or(TryReserveError::CapacityOverflow)?;
        if needed <= self.capacity() {
            return Ok(None);
        }
        let b = raw::b_for_capacity(needed).ok_or(TryReserveError::CapacityOverflow)?;
        let hb = &self.hash_builder;
        self.raw.try_resize_now(b, &|k: &K| hb.hash_one(k))?;
        Ok(Some(b))
    }

    /// Runs `load` (a bulk load: `extend`, deserialisation) on this map, first made room for
    /// `hint` entries if it is empty (resizing an empty map moves nothing; a map that holds
    /// entries grows under the inserts instead, a bounded step each). The room is a floor for
    /// automatic shrinking while `load` runs, not after: without it the first inserts, far
    /// below the new array's shrink trigger, started shrinking it again (`extend` of 10^5
    /// pairs into an empty map evacuated 79,872 entries through those resizes), and after it
    /// the hint is no capacity the caller asked to keep. If `load` panics the floor stays,
    /// which only delays a shrink.
    ///
    /// # Panics
    /// If room for `hint` entries overflows the address space ("capacity overflow").
    pub(crate) fn load_with_room<R>(
        &mut self,
        hint: usize,
        load: impl FnOnce(&mut Self) -> R,
    ) -> R {
        let mut floor = None;
        if self.is_empty() {
            let old = self.raw.min_b();
            if let Some(b) = self.make_room(hint).unwrap_or_else(|e| e.fail()) {
                self.raw.set_min_b(old.max(b));
                floor = Some(old);
            }
        }
        let loaded = load(self);
        if let Some(old) = floor {
            self.raw.set_min_b(old);
        }
        loaded
    }

    /// Shrinks the bucket array as much as the entries allow, finishing any growth in
    /// progress. Go's maps never shrink.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = (0..10_000).map(|i| (i, i)).collect();
    /// map.retain(|&k, _| k < 10);
    /// map.shrink_to_fit();
    /// assert_eq!(map.stats().b, 1);
    /// assert!(!map.stats().growing);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.shrink_to(0);
    }

    /// Shrinks the bucket array to hold at least `max(len, min_capacity)` entries.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = (0..10_000).map(|i| (i, i)).collect();
    /// map.clear();
    /// map.shrink_to(100);
    /// assert!(map.capacity() >= 100 && map.capacity() < 10_000);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        let hb = &self.hash_builder;
        let hasher = |k: &K| hb.hash_one(k);
        self.raw.finish_growth(&hasher);
        let wanted = self.len().max(min_capacity);
        if wanted == 0 {
            self.raw = RawMap::new();
            return;
        }
        // A capacity no array can hold is more than the current one: nothing to shrink.
        let Some(b) = raw::b_for_capacity(wanted) else {
            return;
        };
        if b < self.raw.b() {
            self.raw.resize_now(b, &hasher);
        }
        self.raw.set_min_b(self.raw.min_b().min(b));
    }

    /// Finishes a growth in progress now, freeing the old bucket array. Go's growth only
    /// advances on writes, so a map that is grown and then only read keeps both arrays, and its
    /// lookups read the old array for every old bucket not yet evacuated (hits 1.1x to 1.6x
    /// slower half way through a growth: `cargo run --release --example frozen_growth`); call
    /// this (O(old buckets)) when that memory and those reads matter more than the pause. It
    /// also frees at once an old array that is still being returned to the OS a few pages per
    /// write after a finished growth.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// let mut i = 0u32;
    /// while !map.stats().growing {
    ///     map.insert(i, i); // past 6.5 entries per bucket, an insert starts a growth
    ///     i += 1;
    /// }
    /// map.finish_growth();
    /// assert!(!map.stats().growing);
    /// ```
    pub fn finish_growth(&mut self) {
        let hb = &self.hash_builder;
        self.raw.finish_growth(&|k: &K| hb.hash_one(k));
    }

    /// Advances a growth in progress by the step of one remove (the next two old buckets), for
    /// a map that must finish growing without writes of its own (`SyncMap`'s dirty map).
    #[cfg_attr(loom, allow(dead_code))] // as `is_growing`
    pub(crate) fn growth_step(&mut self) {
        if self.raw.growing() {
            let hb = &self.hash_builder;
            self.raw.grow_work_sequential(&|k: &K| hb.hash_one(k));
        }
    }

    /// Inserts a pair. If the key was present, its value is replaced and the old value
    /// returned (the key is kept, as std does).
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// assert_eq!(map.insert(37, "a"), None);
    /// assert_eq!(map.insert(37, "b"), Some("a"));
    /// assert_eq!(map[&37], "b");
    /// ```
    #[inline]
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.rehash = Some(hash_with::<K, S>);
        let hash = self.hash_of(&key);
        let hb = &self.hash_builder;
        match self
            .raw
            .find_or_find_insert_slot(hash, |k| *k == key, &|k: &K| hb.hash_one(k))
        {
            // SAFETY: the slot was just returned and nothing was written since.
            Ok(slot) => Some(mem::replace(unsafe { self.raw.pair_mut(slot) }.1, value)),
            Err(slot) => {
                // SAFETY: the slot is the `Err` of the call above, with this hash.
                unsafe { self.raw.insert_in_slot(slot, hash, key, value) };
                None
            }
        }
    }

    /// The value of a key.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// map.insert(String::from("k"), 1);
    /// assert_eq!(map.get("k"), Some(&1)); // borrowed lookup: &str for a String key
    /// assert_eq!(map.get("x"), None);
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// The stored key and the value of a key.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [(1, 'a')].into_iter().collect();
    /// assert_eq!(map.get_key_value(&1), Some((&1, &'a')));
    /// ```
    #[inline]
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slot = self.find(key)?;
        // SAFETY: found just now; `&self` keeps the map unchanged for the borrow.
        Some(unsafe { self.raw.pair(slot) })
    }

    /// [`HashMap::get`] for a key that is nearly always present: in arrays between the L2 and
    /// the last-level cache it prefetches the key's whole bucket, which speeds hits and slows
    /// misses (`SyncMap`'s snapshot reads).
    // Unused under loom, where `SyncMap` runs on std's map.
    #[cfg_attr(loom, allow(dead_code))]
    #[inline]
    pub(crate) fn get_expecting_hit<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.is_empty() {
            return None;
        }
        let slot = self
            .raw
            .find_expecting_hit(self.hash_of(key), |k| key == k.borrow())?;
        // SAFETY: found just now; `&self` keeps the map unchanged for the borrow.
        Some(unsafe { self.raw.pair(slot) }.1)
    }

    /// A mutable reference to the value of a key.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = [(1, 1)].into_iter().collect();
    /// *map.get_mut(&1).unwrap() += 1;
    /// assert_eq!(map[&1], 2);
    /// ```
    #[inline]
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slot = self.find(key)?;
        // SAFETY: found just now; `&mut self` makes the access unique.
        Some(unsafe { self.raw.pair_mut(slot) }.1)
    }

    /// Mutable references to the values of `N` keys at once, `None` for a key that is
    /// absent (std's `get_disjoint_mut`).
    ///
    /// # Panics
    /// If two of the keys are equal and present (the references would alias), as std.
    ///
    /// ```
    /// let mut stock: gomap::HashMap<&str, u32> = [("apples", 3), ("pears", 5)].into();
    /// let [apples, pears, plums] = stock.get_disjoint_mut(["apples", "pears", "plums"]);
    /// std::mem::swap(apples.unwrap(), pears.unwrap());
    /// assert!(plums.is_none());
    /// assert_eq!((stock["apples"], stock["pears"]), (5, 3));
    /// ```
    pub fn get_disjoint_mut<Q, const N: usize>(&mut self, keys: [&Q; N]) -> [Option<&mut V>; N]
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slots = keys.map(|key| self.find(key));
        for (i, slot) in slots.iter().enumerate() {
            if let Some(slot) = slot {
                let same =
                    |other: &Slot<K, V>| other.bucket == slot.bucket && other.index == slot.index;
                assert!(
                    !slots[..i].iter().flatten().any(same),
                    "duplicate keys found"
                );
            }
        }
        slots.map(|slot| {
            slot.map(|slot| {
                // SAFETY: every slot was found just now, with no write since, so it is full;
                // they are pairwise distinct (checked above), so the references are disjoint,
                // and `&mut self` keeps every other access out while they live.
                unsafe { &mut *slot.bucket.value(slot.index) }
            })
        })
    }

    /// Whether the map holds the key.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = [(1, 1)].into_iter().collect();
    /// assert!(map.contains_key(&1));
    /// assert!(!map.contains_key(&2));
    /// ```
    #[inline]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_key_value(key).is_some()
    }

    /// Removes a key, returning its value. While growing, this evacuates a little first, as
    /// every write does. A remove never starts a shrink, so emptying a map costs no more than
    /// the removes: once the map is far emptier than its array (under 1/16 of its capacity),
    /// the next insert starts an incremental shrink; `shrink_to_fit` shrinks at once.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = [(1, 'a')].into_iter().collect();
    /// assert_eq!(map.remove(&1), Some('a'));
    /// assert_eq!(map.remove(&1), None);
    /// ```
    #[inline]
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes a key, returning the stored key and its value.
    ///
    /// ```
    /// let mut map: gomap::HashMap<_, _> = [(String::from("k"), 1)].into_iter().collect();
    /// assert_eq!(map.remove_entry("k"), Some((String::from("k"), 1)));
    /// ```
    #[inline]
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.is_empty() {
            return None;
        }
        let hash = self.hash_of(key);
        let hb = &self.hash_builder;
        self.raw
            .remove(hash, |k| key == k.borrow(), &|k: &K| hb.hash_one(k))
    }

    /// The entry of a key, for in-place manipulation.
    ///
    /// ```
    /// let mut counts = gomap::HashMap::new();
    /// for word in ["a", "b", "a"] {
    ///     *counts.entry(word).or_insert(0) += 1;
    /// }
    /// assert_eq!(counts["a"], 2);
    /// ```
    #[inline]
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        self.rehash = Some(hash_with::<K, S>);
        let hash = self.hash_of(&key);
        let hb = &self.hash_builder;
        match self
            .raw
            .find_or_find_insert_slot(hash, |k| *k == key, &|k: &K| hb.hash_one(k))
        {
            Ok(slot) => Entry::Occupied(OccupiedEntry::new(&mut self.raw, hash, slot)),
            Err(slot) => Entry::Vacant(VacantEntry::new(&mut self.raw, hash, slot, key)),
        }
    }

    /// Checks every internal invariant of the table (O(n); for tests and debugging): counts,
    /// tophash bytes against recomputed hashes, `emptyRest` runs, evacuation marks and
    /// progress, that every entry is findable, and overflow accounting.
    ///
    /// # Errors
    /// A description of the first broken invariant.
    ///
    /// ```
    /// let map: gomap::HashMap<_, _> = (0..1000).map(|i| (i, i)).collect();
    /// assert_eq!(map.check_invariants(), Ok(()));
    /// ```
    pub fn check_invariants(&self) -> Result<(), String> {
        self.raw.check_invariants(|k| self.hash_builder.hash_one(k))
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for HashMap<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
