//! Standard trait implementations for `HashMap`.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};
use core::ops::Index;

use super::{HashMap, IntoIter, Iter, IterMut};
use crate::hash::DefaultHashBuilder;

impl<K: Clone, V: Clone, S: Clone> Clone for HashMap<K, V, S> {
    /// Copies the table structurally (same B, chains and growth progress): no rehashing, and
    /// no `Hash` bound, as std's.
    fn clone(&self) -> Self {
        HashMap {
            raw: self.raw.clone(),
            hash_builder: self.hash_builder.clone(),
            rehash: self.rehash,
        }
    }
}

impl<K, V, S> PartialEq for HashMap<K, V, S>
where
    K: Eq + Hash,
    V: PartialEq,
    S: BuildHasher,
{
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|w| v == w))
    }
}

impl<K: Eq + Hash, V: Eq, S: BuildHasher> Eq for HashMap<K, V, S> {}

impl<K, V, S: Default> Default for HashMap<K, V, S> {
    fn default() -> Self {
        HashMap::with_hasher(S::default())
    }
}

impl<K, Q, V, S> Index<&Q> for HashMap<K, V, S>
where
    K: Eq + Hash + Borrow<Q>,
    Q: Eq + Hash + ?Sized,
    S: BuildHasher,
{
    type Output = V;

    /// # Panics
    /// If the key is not in the map.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key not found in gomap::HashMap")
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> Extend<(K, V)> for HashMap<K, V, S> {
    fn extend<T: IntoIterator<Item = (K, V)>>(&mut self, iter: T) {
        let iter = iter.into_iter();
        // Room for the iterator's lower bound first, as std makes, but only into an empty map:
        // resizing a map that holds entries would move all of them inside this one call (an
        // `extend` of one pair into a full map of 1.7 million entries moved them all, ~90 ms),
        // the pause incremental growth exists to avoid. See `load_with_room`.
        let hint = iter.size_hint().0;
        self.load_with_room(hint, |map| {
            iter.for_each(|(k, v)| {
                map.insert(k, v);
            })
        });
    }
}

impl<'a, K, V, S> Extend<(&'a K, &'a V)> for HashMap<K, V, S>
where
    K: Eq + Hash + Copy,
    V: Copy,
    S: BuildHasher,
{
    fn extend<T: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: T) {
        self.extend(iter.into_iter().map(|(&k, &v)| (k, v)));
    }
}

impl<K: Eq + Hash, V, S: BuildHasher + Default> FromIterator<(K, V)> for HashMap<K, V, S> {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut map = HashMap::with_hasher(S::default());
        map.extend(iter);
        map
    }
}

impl<K: Eq + Hash, V, const N: usize> From<[(K, V); N]> for HashMap<K, V, DefaultHashBuilder> {
    /// ```
    /// let map = gomap::HashMap::from([(1, 2), (3, 4)]);
    /// assert_eq!(map[&3], 4);
    /// ```
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<'a, K, V, S> IntoIterator for &'a HashMap<K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K, V, S> IntoIterator for &'a mut HashMap<K, V, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

impl<K, V, S> IntoIterator for HashMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    /// A consuming iterator, in random order.
    fn into_iter(self) -> IntoIter<K, V> {
        IntoIter::new(self.raw)
    }
}
