//! The Entry API. An entry is found by `find_or_find_insert_slot`, which has already done the
//! growth work of a write, so inserting or removing through it touches only the found slot.

use core::fmt;
use core::mem;

use crate::raw::{RawMap, Slot};

/// A view into one entry of a map, occupied or vacant (from [`HashMap::entry`]).
///
/// [`HashMap::entry`]: crate::HashMap::entry
pub enum Entry<'a, K, V> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V>),
}

/// An entry whose key is present.
pub struct OccupiedEntry<'a, K, V> {
    raw: &'a mut RawMap<K, V>,
    hash: u64,
    /// Invariant: the `Ok` slot of the lookup that made this entry; `raw` is borrowed since.
    slot: Slot<K, V>,
}

/// An entry whose key is absent; it holds the key and the slot it would go to.
pub struct VacantEntry<'a, K, V> {
    raw: &'a mut RawMap<K, V>,
    hash: u64,
    /// Invariant: the `Err` slot of the lookup that made this entry; `raw` is borrowed since.
    slot: Slot<K, V>,
    key: K,
}

impl<'a, K, V> Entry<'a, K, V> {
    /// Inserts `default` if vacant; returns the value.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// *map.entry("a").or_insert(1) += 10;
    /// assert_eq!(map["a"], 11);
    /// ```
    pub fn or_insert(self, default: V) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default),
        }
    }

    /// Inserts the result of `default()` if vacant; returns the value.
    ///
    /// ```
    /// let mut map: gomap::HashMap<&str, String> = gomap::HashMap::new();
    /// map.entry("a").or_insert_with(|| "x".repeat(3));
    /// assert_eq!(map["a"], "xxx");
    /// ```
    pub fn or_insert_with<F: FnOnce() -> V>(self, default: F) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default()),
        }
    }

    /// Inserts `default(&key)` if vacant; returns the value.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// map.entry("four").or_insert_with_key(|k| k.len());
    /// assert_eq!(map["four"], 4);
    /// ```
    pub fn or_insert_with_key<F: FnOnce(&K) -> V>(self, default: F) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let value = default(e.key());
                e.insert(value)
            }
        }
    }

    /// The entry's key.
    ///
    /// ```
    /// let mut map: gomap::HashMap<&str, u8> = gomap::HashMap::new();
    /// assert_eq!(map.entry("k").key(), &"k");
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => e.key(),
        }
    }

    /// Runs `f` on the value if occupied.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// map.entry("a").and_modify(|v| *v += 1).or_insert(0);
    /// map.entry("a").and_modify(|v| *v += 1).or_insert(0);
    /// assert_eq!(map["a"], 1);
    /// ```
    pub fn and_modify<F: FnOnce(&mut V)>(mut self, f: F) -> Self {
        if let Entry::Occupied(e) = &mut self {
            f(e.get_mut());
        }
        self
    }

    /// Sets the value, occupied or not, and returns the occupied entry.
    ///
    /// ```
    /// let mut map = gomap::HashMap::new();
    /// let e = map.entry("a").insert_entry(5);
    /// assert_eq!(e.get(), &5);
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V> {
        match self {
            Entry::Occupied(mut e) => {
                e.insert(value);
                e
            }
            Entry::Vacant(e) => e.insert_entry(value),
        }
    }
}

impl<'a, K, V: Default> Entry<'a, K, V> {
    /// Inserts `V::default()` if vacant; returns the value.
    ///
    /// ```
    /// let mut map: gomap::HashMap<&str, Vec<u8>> = gomap::HashMap::new();
    /// map.entry("a").or_default().push(1);
    /// assert_eq!(map["a"], [1]);
    /// ```
    pub fn or_default(self) -> &'a mut V {
        self.or_insert_with(V::default)
    }
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    pub(super) fn new(raw: &'a mut RawMap<K, V>, hash: u64, slot: Slot<K, V>) -> Self {
        OccupiedEntry { raw, hash, slot }
    }

    /// The key in the map.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// if let Entry::Occupied(e) = map.entry("a") {
    ///     assert_eq!(e.key(), &"a");
    /// }
    /// ```
    pub fn key(&self) -> &K {
        // SAFETY: entry invariant: the slot is full and the map unchanged.
        unsafe { self.raw.pair(self.slot) }.0
    }

    /// The value.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// if let Entry::Occupied(e) = map.entry("a") {
    ///     assert_eq!(e.get(), &1);
    /// }
    /// ```
    pub fn get(&self) -> &V {
        // SAFETY: entry invariant.
        unsafe { self.raw.pair(self.slot) }.1
    }

    /// The value, mutably, for the entry's lifetime.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// if let Entry::Occupied(mut e) = map.entry("a") {
    ///     *e.get_mut() += 1;
    /// }
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut V {
        // SAFETY: entry invariant; `&mut self` makes the access unique.
        unsafe { self.raw.pair_mut(self.slot) }.1
    }

    /// The value, mutably, for the map's borrow.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// if let Entry::Occupied(e) = map.entry("a") {
    ///     *e.into_mut() = 9;
    /// }
    /// assert_eq!(map["a"], 9);
    /// ```
    pub fn into_mut(self) -> &'a mut V {
        // SAFETY: entry invariant; the entry's unique borrow is handed over.
        unsafe { self.raw.pair_mut(self.slot) }.1
    }

    /// Replaces the value, returning the old one.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// if let Entry::Occupied(mut e) = map.entry("a") {
    ///     assert_eq!(e.insert(2), 1);
    /// }
    /// ```
    pub fn insert(&mut self, value: V) -> V {
        mem::replace(self.get_mut(), value)
    }

    /// Removes the entry, returning the value.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// if let Entry::Occupied(e) = map.entry("a") {
    ///     assert_eq!(e.remove(), 1);
    /// }
    /// assert!(map.is_empty());
    /// ```
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry, returning the key and value.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<_, _> = [("a", 1)].into_iter().collect();
    /// if let Entry::Occupied(e) = map.entry("a") {
    ///     assert_eq!(e.remove_entry(), ("a", 1));
    /// }
    /// ```
    pub fn remove_entry(self) -> (K, V) {
        // SAFETY: entry invariant: the `Ok` slot of the lookup with this hash, map unchanged.
        unsafe { self.raw.remove_found(self.hash, self.slot) }
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    pub(super) fn new(raw: &'a mut RawMap<K, V>, hash: u64, slot: Slot<K, V>, key: K) -> Self {
        VacantEntry {
            raw,
            hash,
            slot,
            key,
        }
    }

    /// The key that would be inserted.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<&str, u8> = gomap::HashMap::new();
    /// if let Entry::Vacant(e) = map.entry("a") {
    ///     assert_eq!(e.key(), &"a");
    /// }
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Takes the key back without inserting.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map: gomap::HashMap<String, u8> = gomap::HashMap::new();
    /// if let Entry::Vacant(e) = map.entry("a".to_string()) {
    ///     assert_eq!(e.into_key(), "a");
    /// }
    /// assert!(map.is_empty());
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts the value, returning a mutable reference to it.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map = gomap::HashMap::new();
    /// if let Entry::Vacant(e) = map.entry("a") {
    ///     *e.insert(1) += 1;
    /// }
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn insert(self, value: V) -> &'a mut V {
        // SAFETY: entry invariant: the `Err` slot of the lookup with this hash, map unchanged.
        unsafe {
            self.raw
                .insert_in_slot(self.slot, self.hash, self.key, value)
        }
        .1
    }

    /// Inserts the value, returning the occupied entry.
    ///
    /// ```
    /// use gomap::hash_map::Entry;
    /// let mut map = gomap::HashMap::new();
    /// if let Entry::Vacant(e) = map.entry("a") {
    ///     assert_eq!(e.insert_entry(1).get(), &1);
    /// }
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V> {
        let (raw, hash, slot) = (self.raw, self.hash, self.slot);
        // SAFETY: as in `insert`; the slot is full afterwards, which is the occupied invariant.
        unsafe { raw.insert_in_slot(slot, hash, self.key, value) };
        OccupiedEntry { raw, hash, slot }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Entry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(e) => f.debug_tuple("Entry").field(e).finish(),
            Entry::Vacant(e) => f.debug_tuple("Entry").field(e).finish(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for OccupiedEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", self.key())
            .field("value", self.get())
            .finish()
    }
}

impl<K: fmt::Debug, V> fmt::Debug for VacantEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(self.key()).finish()
    }
}
