//! `HashSet<T, S>`: a `HashMap<T, (), S>`, with std's set API.

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::{Chain, FusedIterator};
use core::ops::{BitAnd, BitOr, BitXor, Sub};

use crate::error::TryReserveError;
use crate::hash::DefaultHashBuilder;
use crate::map::{self, HashMap, RawExtractIf};
use crate::MapStats;

/// A hash set on top of [`HashMap`]: same layout, same incremental growth.
///
/// ```
/// use gomap::HashSet;
///
/// let mut seen = HashSet::new();
/// assert!(seen.insert("a"));
/// assert!(!seen.insert("a"));
/// let other: HashSet<_> = ["a", "b"].into_iter().collect();
/// assert_eq!(other.difference(&seen).collect::<Vec<_>>(), [&"b"]);
/// ```
pub struct HashSet<T, S = DefaultHashBuilder> {
    map: HashMap<T, (), S>,
}

impl<T> HashSet<T, DefaultHashBuilder> {
    /// An empty set; allocates nothing until the first insert.
    ///
    /// ```
    /// let set: gomap::HashSet<u8> = gomap::HashSet::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> Self {
        HashSet {
            map: HashMap::new(),
        }
    }

    /// An empty set with room for `capacity` elements.
    ///
    /// # Panics
    /// If the bucket array would not fit the address space.
    ///
    /// ```
    /// let set: gomap::HashSet<u8> = gomap::HashSet::with_capacity(10);
    /// assert!(set.capacity() >= 10);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        HashSet {
            map: HashMap::with_capacity(capacity),
        }
    }
}

impl<T, S> HashSet<T, S> {
    /// An empty set using `hasher`.
    ///
    /// ```
    /// let set: gomap::HashSet<u8, _> = gomap::HashSet::with_hasher(gomap::DefaultHashBuilder::default());
    /// assert!(set.is_empty());
    /// ```
    pub const fn with_hasher(hasher: S) -> Self {
        HashSet {
            map: HashMap::with_hasher(hasher),
        }
    }

    /// An empty set with room for `capacity` elements, using `hasher`.
    ///
    /// # Panics
    /// If the bucket array would not fit the address space.
    ///
    /// ```
    /// let set: gomap::HashSet<u8, _> =
    ///     gomap::HashSet::with_capacity_and_hasher(10, gomap::DefaultHashBuilder::default());
    /// assert!(set.capacity() >= 10);
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        HashSet {
            map: HashMap::with_capacity_and_hasher(capacity, hasher),
        }
    }

    /// The set's hasher.
    ///
    /// ```
    /// let set: gomap::HashSet<u8> = gomap::HashSet::new();
    /// let _ = set.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        self.map.hasher()
    }

    /// Number of elements.
    ///
    /// ```
    /// let set: gomap::HashSet<_> = [1, 2].into_iter().collect();
    /// assert_eq!(set.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set is empty.
    ///
    /// ```
    /// assert!(gomap::HashSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Elements held before an insert starts a growth.
    ///
    /// ```
    /// let set: gomap::HashSet<u8> = gomap::HashSet::with_capacity(100);
    /// assert!(set.capacity() >= 100);
    /// ```
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// Removes every element, keeping the bucket array.
    ///
    /// ```
    /// let mut set: gomap::HashSet<_> = [1].into_iter().collect();
    /// set.clear();
    /// assert!(set.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.map.clear()
    }

    /// An iterator over the elements, in random order.
    ///
    /// ```
    /// let set: gomap::HashSet<_> = [7].into_iter().collect();
    /// assert_eq!(set.iter().collect::<Vec<_>>(), [&7]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            inner: self.map.keys(),
        }
    }

    /// Removes every element, yielding them.
    ///
    /// ```
    /// let mut set: gomap::HashSet<_> = [7].into_iter().collect();
    /// assert_eq!(set.drain().collect::<Vec<_>>(), [7]);
    /// assert!(set.is_empty());
    /// ```
    pub fn drain(&mut self) -> Drain<'_, T> {
        Drain {
            inner: self.map.drain(),
        }
    }

    /// Keeps only the elements for which `f` returns `true`.
    ///
    /// ```
    /// let mut set: gomap::HashSet<_> = (0..10).collect();
    /// set.retain(|&x| x % 2 == 0);
    /// assert_eq!(set.len(), 5);
    /// ```
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, mut f: F) {
        self.map.retain(|k, _| f(k));
    }

    /// An iterator that removes and yields the elements for which `pred` returns `true`, as
    /// [`HashMap::extract_if`]: what it does not reach stays in the set.
    ///
    /// ```
    /// let mut set: gomap::HashSet<u32> = (0..8).collect();
    /// let mut odd: Vec<_> = set.extract_if(|x| x % 2 == 1).collect();
    /// odd.sort();
    /// assert_eq!(odd, [1, 3, 5, 7]);
    /// assert_eq!(set.len(), 4);
    /// ```
    pub fn extract_if<F: FnMut(&T) -> bool>(&mut self, pred: F) -> ExtractIf<'_, T, F> {
        ExtractIf {
            inner: RawExtractIf::new(&mut self.map.raw),
            pred,
        }
    }

    /// Layout statistics, as [`HashMap::stats`].
    ///
    /// ```
    /// let set: gomap::HashSet<_> = (0..100).collect();
    /// assert_eq!(set.stats().len, 100);
    /// ```
    pub fn stats(&self) -> MapStats {
        self.map.stats()
    }
}

impl<T: Eq + Hash, S: BuildHasher> HashSet<T, S> {
    /// Reserves room for `additional` more elements (resizing now if needed).
    ///
    /// # Panics
    /// If the new size overflows.
    ///
    /// ```
    /// let mut set: gomap::HashSet<u8> = gomap::HashSet::new();
    /// set.reserve(50);
    /// assert!(set.capacity() >= 50);
    /// ```
    pub fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional)
    }

    /// [`reserve`](Self::reserve), returning an error instead of panicking or aborting, as
    /// [`HashMap::try_reserve`]. On `Err` the set is unchanged.
    ///
    /// ```
    /// let mut set: gomap::HashSet<u8> = gomap::HashSet::new();
    /// assert!(set.try_reserve(50).is_ok());
    /// assert!(set.try_reserve(usize::MAX).is_err());
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.map.try_reserve(additional)
    }

    /// `HashMap::load_with_room` on the set's map (`load` inserts `(value, ())` pairs).
    #[cfg(feature = "serde")]
    pub(crate) fn load_with_room<R>(
        &mut self,
        hint: usize,
        load: impl FnOnce(&mut HashMap<T, (), S>) -> R,
    ) -> R {
        self.map.load_with_room(hint, load)
    }

    /// Finishes a growth in progress now, freeing the old bucket array, as
    /// [`HashMap::finish_growth`].
    ///
    /// ```
    /// let mut set = gomap::HashSet::new();
    /// let mut i = 0u32;
    /// while !set.stats().growing {
    ///     set.insert(i);
    ///     i += 1;
    /// }
    /// set.finish_growth();
    /// assert!(!set.stats().growing);
    /// ```
    pub fn finish_growth(&mut self) {
        self.map.finish_growth()
    }

    /// Shrinks the bucket array as much as possible.
    ///
    /// ```
    /// let mut set: gomap::HashSet<_> = (0..1000).collect();
    /// set.retain(|&x| x < 5);
    /// set.shrink_to_fit();
    /// assert!(set.capacity() < 1000);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.map.shrink_to_fit()
    }

    /// Shrinks to hold at least `max(len, min_capacity)` elements.
    ///
    /// ```
    /// let mut set: gomap::HashSet<_> = (0..1000).collect();
    /// set.clear();
    /// set.shrink_to(10);
    /// assert!(set.capacity() >= 10 && set.capacity() < 1000);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        self.map.shrink_to(min_capacity)
    }

    /// Adds an element; `false` if it was already present (the set is unchanged then).
    ///
    /// ```
    /// let mut set = gomap::HashSet::new();
    /// assert!(set.insert(1));
    /// assert!(!set.insert(1));
    /// ```
    pub fn insert(&mut self, value: T) -> bool {
        match self.map.entry(value) {
            map::Entry::Occupied(_) => false,
            map::Entry::Vacant(e) => {
                e.insert(());
                true
            }
        }
    }

    /// Adds an element, replacing and returning an equal one already present.
    ///
    /// ```
    /// let mut set = gomap::HashSet::new();
    /// assert_eq!(set.replace(1), None);
    /// assert_eq!(set.replace(1), Some(1));
    /// ```
    pub fn replace(&mut self, value: T) -> Option<T> {
        let old = self.map.remove_entry(&value).map(|(k, ())| k);
        self.map.insert(value, ());
        old
    }

    /// Whether the set holds the value.
    ///
    /// ```
    /// let set: gomap::HashSet<_> = ["a".to_string()].into_iter().collect();
    /// assert!(set.contains("a"));
    /// ```
    pub fn contains<Q>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(value)
    }

    /// The stored element equal to `value`.
    ///
    /// ```
    /// let set: gomap::HashSet<_> = [1].into_iter().collect();
    /// assert_eq!(set.get(&1), Some(&1));
    /// ```
    pub fn get<Q>(&self, value: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_key_value(value).map(|(k, ())| k)
    }

    /// Removes a value; `true` if it was present.
    ///
    /// ```
    /// let mut set: gomap::HashSet<_> = [1].into_iter().collect();
    /// assert!(set.remove(&1));
    /// assert!(!set.remove(&1));
    /// ```
    pub fn remove<Q>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove(value).is_some()
    }

    /// Removes and returns the stored element equal to `value`.
    ///
    /// ```
    /// let mut set: gomap::HashSet<_> = [1].into_iter().collect();
    /// assert_eq!(set.take(&1), Some(1));
    /// ```
    pub fn take<Q>(&mut self, value: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove_entry(value).map(|(k, ())| k)
    }

    /// Elements of `self` not in `other`.
    ///
    /// ```
    /// let a: gomap::HashSet<_> = [1, 2].into_iter().collect();
    /// let b: gomap::HashSet<_> = [2].into_iter().collect();
    /// assert_eq!(a.difference(&b).collect::<Vec<_>>(), [&1]);
    /// ```
    pub fn difference<'a>(&'a self, other: &'a Self) -> Difference<'a, T, S> {
        Difference {
            iter: self.iter(),
            other,
        }
    }

    /// Elements in exactly one of the sets.
    ///
    /// ```
    /// let a: gomap::HashSet<_> = [1, 2].into_iter().collect();
    /// let b: gomap::HashSet<_> = [2, 3].into_iter().collect();
    /// let mut x: Vec<_> = a.symmetric_difference(&b).collect();
    /// x.sort();
    /// assert_eq!(x, [&1, &3]);
    /// ```
    pub fn symmetric_difference<'a>(&'a self, other: &'a Self) -> SymmetricDifference<'a, T, S> {
        SymmetricDifference {
            iter: self.difference(other).chain(other.difference(self)),
        }
    }

    /// Elements in both sets.
    ///
    /// ```
    /// let a: gomap::HashSet<_> = [1, 2].into_iter().collect();
    /// let b: gomap::HashSet<_> = [2, 3].into_iter().collect();
    /// assert_eq!(a.intersection(&b).collect::<Vec<_>>(), [&2]);
    /// ```
    pub fn intersection<'a>(&'a self, other: &'a Self) -> Intersection<'a, T, S> {
        // Walk the smaller set, probe the larger.
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        Intersection {
            iter: small.iter(),
            other: large,
        }
    }

    /// Elements in either set.
    ///
    /// ```
    /// let a: gomap::HashSet<_> = [1].into_iter().collect();
    /// let b: gomap::HashSet<_> = [1, 2].into_iter().collect();
    /// assert_eq!(a.union(&b).count(), 2);
    /// ```
    pub fn union<'a>(&'a self, other: &'a Self) -> Union<'a, T, S> {
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        Union {
            iter: large.iter().chain(small.difference(large)),
        }
    }

    /// Whether the sets share no element.
    ///
    /// ```
    /// let a: gomap::HashSet<_> = [1].into_iter().collect();
    /// let b: gomap::HashSet<_> = [2].into_iter().collect();
    /// assert!(a.is_disjoint(&b));
    /// ```
    pub fn is_disjoint(&self, other: &Self) -> bool {
        self.intersection(other).next().is_none()
    }

    /// Whether every element of `self` is in `other`.
    ///
    /// ```
    /// let a: gomap::HashSet<_> = [1].into_iter().collect();
    /// let b: gomap::HashSet<_> = [1, 2].into_iter().collect();
    /// assert!(a.is_subset(&b));
    /// ```
    pub fn is_subset(&self, other: &Self) -> bool {
        self.len() <= other.len() && self.iter().all(|v| other.contains(v))
    }

    /// Whether every element of `other` is in `self`.
    ///
    /// ```
    /// let a: gomap::HashSet<_> = [1, 2].into_iter().collect();
    /// let b: gomap::HashSet<_> = [1].into_iter().collect();
    /// assert!(a.is_superset(&b));
    /// ```
    pub fn is_superset(&self, other: &Self) -> bool {
        other.is_subset(self)
    }
}

impl<T: Clone, S: Clone> Clone for HashSet<T, S> {
    fn clone(&self) -> Self {
        HashSet {
            map: self.map.clone(),
        }
    }
}

impl<T: fmt::Debug, S> fmt::Debug for HashSet<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Eq + Hash, S: BuildHasher> PartialEq for HashSet<T, S> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.is_subset(other)
    }
}

impl<T: Eq + Hash, S: BuildHasher> Eq for HashSet<T, S> {}

impl<T, S: Default> Default for HashSet<T, S> {
    fn default() -> Self {
        HashSet::with_hasher(S::default())
    }
}

impl<T: Eq + Hash, S: BuildHasher> Extend<T> for HashSet<T, S> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.map.extend(iter.into_iter().map(|k| (k, ())));
    }
}

impl<'a, T: Eq + Hash + Copy + 'a, S: BuildHasher> Extend<&'a T> for HashSet<T, S> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<T: Eq + Hash, S: BuildHasher + Default> FromIterator<T> for HashSet<T, S> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = HashSet::with_hasher(S::default());
        set.extend(iter);
        set
    }
}

impl<T: Eq + Hash, const N: usize> From<[T; N]> for HashSet<T, DefaultHashBuilder> {
    /// ```
    /// let set = gomap::HashSet::from([1, 2, 2]);
    /// assert_eq!(set.len(), 2);
    /// ```
    fn from(values: [T; N]) -> Self {
        values.into_iter().collect()
    }
}

impl<'a, T, S> IntoIterator for &'a HashSet<T, S> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T, S> IntoIterator for HashSet<T, S> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter {
            inner: self.map.into_keys(),
        }
    }
}

macro_rules! set_operator {
    ($trait:ident, $method:ident, $op:ident, $doc:literal) => {
        impl<T, S> $trait<&HashSet<T, S>> for &HashSet<T, S>
        where
            T: Eq + Hash + Clone,
            S: BuildHasher + Default,
        {
            type Output = HashSet<T, S>;

            #[doc = $doc]
            fn $method(self, rhs: &HashSet<T, S>) -> HashSet<T, S> {
                self.$op(rhs).cloned().collect()
            }
        }
    };
}

set_operator!(BitOr, bitor, union, "The union, as a new set.");
set_operator!(
    BitAnd,
    bitand,
    intersection,
    "The intersection, as a new set."
);
set_operator!(
    BitXor,
    bitxor,
    symmetric_difference,
    "The symmetric difference, as a new set."
);
set_operator!(Sub, sub, difference, "The difference, as a new set.");

/// Iterator over a set's elements.
pub struct Iter<'a, T> {
    inner: map::Keys<'a, T, ()>,
}

/// Owning iterator over a set's elements.
pub struct IntoIter<T> {
    inner: map::IntoKeys<T, ()>,
}

/// Draining iterator over a set's elements.
pub struct Drain<'a, T> {
    inner: map::Drain<'a, T, ()>,
}

/// Iterator removing and yielding the elements for which a predicate holds, from
/// [`HashSet::extract_if`].
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct ExtractIf<'a, T, F> {
    inner: RawExtractIf<'a, T, ()>,
    pred: F,
}

impl<T, F: FnMut(&T) -> bool> Iterator for ExtractIf<'_, T, F> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        let pred = &mut self.pred;
        self.inner.next(|k, _| pred(k)).map(|(k, ())| k)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.inner.remaining()))
    }
}

impl<T, F: FnMut(&T) -> bool> FusedIterator for ExtractIf<'_, T, F> {}

impl<T, F> fmt::Debug for ExtractIf<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractIf").finish_non_exhaustive()
    }
}

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.inner.next().map(|(k, ())| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}
impl<T> ExactSizeIterator for IntoIter<T> {}
impl<T> ExactSizeIterator for Drain<'_, T> {}
impl<T> FusedIterator for Iter<'_, T> {}
impl<T> FusedIterator for IntoIter<T> {}
impl<T> FusedIterator for Drain<'_, T> {}

impl<T: fmt::Debug> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for Drain<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain").finish_non_exhaustive()
    }
}

/// Lazy difference of two sets.
pub struct Difference<'a, T, S> {
    iter: Iter<'a, T>,
    other: &'a HashSet<T, S>,
}

/// Lazy intersection of two sets.
pub struct Intersection<'a, T, S> {
    iter: Iter<'a, T>,
    other: &'a HashSet<T, S>,
}

/// Lazy symmetric difference of two sets.
pub struct SymmetricDifference<'a, T, S> {
    iter: Chain<Difference<'a, T, S>, Difference<'a, T, S>>,
}

/// Lazy union of two sets.
pub struct Union<'a, T, S> {
    iter: Chain<Iter<'a, T>, Difference<'a, T, S>>,
}

impl<'a, T: Eq + Hash, S: BuildHasher> Iterator for Difference<'a, T, S> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        let other = self.other;
        self.iter.find(|v| !other.contains(*v))
    }
}

impl<'a, T: Eq + Hash, S: BuildHasher> Iterator for Intersection<'a, T, S> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        let other = self.other;
        self.iter.find(|v| other.contains(*v))
    }
}

impl<'a, T: Eq + Hash, S: BuildHasher> Iterator for SymmetricDifference<'a, T, S> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.iter.next()
    }
}

impl<'a, T: Eq + Hash, S: BuildHasher> Iterator for Union<'a, T, S> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.iter.next()
    }
}

impl<T: Eq + Hash, S: BuildHasher> FusedIterator for Difference<'_, T, S> {}
impl<T: Eq + Hash, S: BuildHasher> FusedIterator for Intersection<'_, T, S> {}
impl<T: Eq + Hash, S: BuildHasher> FusedIterator for SymmetricDifference<'_, T, S> {}
impl<T: Eq + Hash, S: BuildHasher> FusedIterator for Union<'_, T, S> {}

macro_rules! debug_as_list {
    ($($name:ident),*) => {$(
        impl<T: fmt::Debug, S> fmt::Debug for $name<'_, T, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )*};
}

debug_as_list!(Difference, Intersection, SymmetricDifference, Union);
