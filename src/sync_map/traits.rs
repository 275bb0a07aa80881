//! Standard trait implementations for `SyncMap`: `Default`, `Clone`, `FromIterator`, `Extend`, and serde
//! behind the `serde` feature.

use std::fmt;
use std::hash::{BuildHasher, Hash};

use super::entry::EntryRef;
use super::{EntryMap, SyncMap};

impl<K, V, S: Default + Clone> Default for SyncMap<K, V, S> {
    /// An empty map with `S::default()`.
    ///
    /// ```
    /// let map: gomap::SyncMap<u8, u8> = Default::default();
    /// assert!(map.is_empty());
    /// ```
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> Clone for SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// A new map holding a clone of every pair [`SyncMap::range`] would visit (the dirty map
    /// is promoted first), as its first snapshot. With other threads writing meanwhile it is,
    /// like `range`, not an atomic snapshot: each pair is as it was when the walk reached it.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store("a", 1);
    /// let copy = map.clone();
    /// map.store("a", 2);
    /// assert_eq!((map.load("a"), copy.load("a")), (Some(2), Some(1)));
    /// ```
    fn clone(&self) -> Self {
        let pinned = self.pin();
        let mut m = EntryMap::with_hasher(self.hasher().clone());
        for (k, v) in pinned.iter() {
            m.insert(k.clone(), EntryRef::new(v.clone()));
        }
        Self::from_snapshot(m, self.hasher().clone())
    }
}

impl<K, V, S> FromIterator<(K, V)> for SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher + Default,
{
    /// Builds the first snapshot directly (no dirty map, no promotion); later pairs overwrite
    /// earlier ones with the same key.
    ///
    /// ```
    /// let map: gomap::SyncMap<_, _> = [(1, 'a'), (2, 'b'), (1, 'c')].into_iter().collect();
    /// assert_eq!(map.len(), 2);
    /// assert_eq!(map.load(&1), Some('c'));
    /// assert_eq!(map.stats().dirty_len, None);
    /// ```
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = EntryMap::with_hasher(S::default());
        for (k, v) in iter {
            // A replaced entry was never shared: dropping it here is immediate and fine.
            m.insert(k, EntryRef::new(v));
        }
        Self::from_snapshot(m, S::default())
    }
}

impl<K, V, S> Extend<(K, V)> for SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher + Clone,
{
    /// Stores every pair, in order (through `&mut self`, but with `store`'s semantics).
    ///
    /// ```
    /// let mut map = gomap::SyncMap::new();
    /// map.extend([(1, 'a'), (2, 'b')]);
    /// assert_eq!(map.load(&2), Some('b'));
    /// ```
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.store(k, v);
        }
    }
}

impl<'a, K, V, S> Extend<(&'a K, &'a V)> for SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// Stores a clone of every pair.
    ///
    /// ```
    /// let mut map = gomap::SyncMap::new();
    /// map.extend([(&1, &'a')]);
    /// assert_eq!(map.load(&1), Some('a'));
    /// ```
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.store(k.clone(), v.clone());
        }
    }
}

impl<K, V, S> fmt::Debug for SyncMap<K, V, S>
where
    K: Eq + Hash + Clone + fmt::Debug,
    V: fmt::Debug,
    S: BuildHasher + Clone,
{
    /// Formats as a map, via [`SyncMap::range`].
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, "a");
    /// assert_eq!(format!("{map:?}"), r#"{1: "a"}"#);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = self.guard();
        let read = self.promoted_read(&guard);
        f.debug_map()
            .entries(
                read.m
                    .iter()
                    .filter_map(|(k, e)| e.load(&guard).map(|v| (k, v))),
            )
            .finish()
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use std::fmt;
    use std::hash::{BuildHasher, Hash};
    use std::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use serde::ser::{Serialize, SerializeMap, Serializer};

    use crate::SyncMap;

    impl<K, V, S> Serialize for SyncMap<K, V, S>
    where
        K: Eq + Hash + Clone + Serialize,
        V: Serialize,
        S: BuildHasher + Clone,
    {
        /// Serialises as a map, walking one promoted snapshot (as `range`).
        ///
        /// ```
        /// let map = gomap::SyncMap::new();
        /// map.store("a", 1);
        /// assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":1}"#);
        /// ```
        fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
            let pinned = self.pin();
            let mut out = serializer.serialize_map(None)?;
            for (k, v) in pinned.iter() {
                out.serialize_entry(k, v)?;
            }
            out.end()
        }
    }

    impl<'de, K, V, S> Deserialize<'de> for SyncMap<K, V, S>
    where
        K: Eq + Hash + Deserialize<'de>,
        V: Deserialize<'de>,
        S: BuildHasher + Default,
    {
        /// Deserialises from a map, as `FromIterator`.
        ///
        /// ```
        /// let map: gomap::SyncMap<String, u32> = serde_json::from_str(r#"{"a":1}"#).unwrap();
        /// assert_eq!(map.load("a"), Some(1));
        /// ```
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct MapVisitor<M>(PhantomData<fn() -> M>);

            impl<'de, K, V, S> Visitor<'de> for MapVisitor<SyncMap<K, V, S>>
            where
                K: Eq + Hash + Deserialize<'de>,
                V: Deserialize<'de>,
                S: BuildHasher + Default,
            {
                type Value = SyncMap<K, V, S>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a map")
                }

                fn visit_map<A: MapAccess<'de>>(
                    self,
                    mut access: A,
                ) -> Result<Self::Value, A::Error> {
                    let mut pairs = Vec::with_capacity(access.size_hint().unwrap_or(0).min(4096));
                    while let Some(pair) = access.next_entry()? {
                        pairs.push(pair);
                    }
                    Ok(pairs.into_iter().collect())
                }
            }

            deserializer.deserialize_map(MapVisitor(PhantomData))
        }
    }
}
