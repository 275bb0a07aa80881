//! Iterators. All walk the table with [`RawIter`] (random start and offset, growth-aware);
//! they differ in what they hand out and in who owns the map.

use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;

use crate::raw::{RawIter, RawMap, Slot};

/// The pair of a full slot, shared.
///
/// # Safety
/// The slot is full and stays so, unwritten, for `'a`.
#[inline]
unsafe fn shared_pair<'a, K, V>(slot: Slot<K, V>) -> (&'a K, &'a V) {
    // SAFETY: forwarded from the caller.
    unsafe {
        (
            &*slot.bucket.key(slot.index),
            &*slot.bucket.value(slot.index),
        )
    }
}

/// The pair of a full slot, with the value mutable.
///
/// # Safety
/// As for [`shared_pair`], and no other reference to this slot's value exists for `'a`.
#[inline]
unsafe fn mut_pair<'a, K, V>(slot: Slot<K, V>) -> (&'a K, &'a mut V) {
    // SAFETY: forwarded from the caller.
    unsafe {
        (
            &*slot.bucket.key(slot.index),
            &mut *slot.bucket.value(slot.index),
        )
    }
}

/// Iterator over `(&K, &V)`, from [`HashMap::iter`](crate::HashMap::iter).
pub struct Iter<'a, K, V> {
    raw: RawIter<K, V>,
    marker: PhantomData<&'a RawMap<K, V>>,
}

impl<'a, K, V> Iter<'a, K, V> {
    pub(super) fn new(raw: &'a RawMap<K, V>) -> Self {
        Iter {
            raw: raw.iter(),
            marker: PhantomData,
        }
    }
}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Iter {
            raw: self.raw.clone(),
            marker: PhantomData,
        }
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        let slot = self.raw.next_slot()?;
        // SAFETY: a yielded slot is full; the map is borrowed shared for 'a.
        Some(unsafe { shared_pair(slot) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining(), Some(self.raw.remaining()))
    }

    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
        // SAFETY: as in `next`.
        self.raw
            .fold_slots(init, |acc, slot| f(acc, unsafe { shared_pair(slot) }))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// Iterator over `(&K, &mut V)`, from [`HashMap::iter_mut`](crate::HashMap::iter_mut).
pub struct IterMut<'a, K, V> {
    raw: RawIter<K, V>,
    marker: PhantomData<&'a mut RawMap<K, V>>,
}

// SAFETY: hands out `&K` (needs `K: Sync` to cross threads) and `&mut V` (needs `V: Send`).
unsafe impl<K: Sync, V: Send> Send for IterMut<'_, K, V> {}
// SAFETY: `&IterMut` gives access to nothing.
unsafe impl<K: Sync, V: Sync> Sync for IterMut<'_, K, V> {}

impl<'a, K, V> IterMut<'a, K, V> {
    pub(super) fn new(raw: &'a mut RawMap<K, V>) -> Self {
        IterMut {
            raw: raw.iter(),
            marker: PhantomData,
        }
    }

    fn shared(&self) -> Iter<'_, K, V> {
        Iter {
            raw: self.raw.clone(),
            marker: PhantomData,
        }
    }
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    #[inline]
    fn next(&mut self) -> Option<(&'a K, &'a mut V)> {
        let slot = self.raw.next_slot()?;
        // SAFETY: a yielded slot is full and yielded once, so the `&mut V`s never alias; the
        // map is borrowed mutably for 'a.
        Some(unsafe { mut_pair(slot) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining(), Some(self.raw.remaining()))
    }

    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
        // SAFETY: as in `next`: each slot is visited once, so the `&mut V`s never alias.
        self.raw
            .fold_slots(init, |acc, slot| f(acc, unsafe { mut_pair(slot) }))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}
impl<K, V> FusedIterator for IterMut<'_, K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for IterMut<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.shared()).finish()
    }
}

/// Owning iterator over `(K, V)`, from `HashMap::into_iter`.
pub struct IntoIter<K, V> {
    /// Yielded slots are marked empty in `map`, so its `Drop` frees only the rest.
    map: RawMap<K, V>,
    raw: RawIter<K, V>,
}

impl<K, V> IntoIter<K, V> {
    pub(super) fn new(map: RawMap<K, V>) -> Self {
        let raw = map.iter();
        IntoIter { map, raw }
    }
}

/// Moves the next pair out of a map through its iterator, marking the slot empty.
#[inline]
fn take_next<K, V>(map: &mut RawMap<K, V>, raw: &mut RawIter<K, V>) -> Option<(K, V)> {
    let slot = raw.next_slot()?;
    // SAFETY: a yielded slot is full; it is marked empty right after the move, so the pair is
    // owned by the caller alone. Emptying an already-yielded slot does not disturb `raw`.
    unsafe {
        let pair = slot.bucket.take(slot.index);
        map.forget_taken(slot);
        Some(pair)
    }
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<(K, V)> {
        take_next(&mut self.map, &mut self.raw)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining(), Some(self.raw.remaining()))
    }
}

impl<K, V> ExactSizeIterator for IntoIter<K, V> {}
impl<K, V> FusedIterator for IntoIter<K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for IntoIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rest = Iter {
            raw: self.raw.clone(),
            marker: PhantomData,
        };
        f.debug_list().entries(rest).finish()
    }
}

/// Draining iterator, from [`HashMap::drain`](crate::HashMap::drain). Dropping it removes
/// what was not yielded. If it is leaked instead, the map keeps those entries, consistently.
pub struct Drain<'a, K, V> {
    map: &'a mut RawMap<K, V>,
    raw: RawIter<K, V>,
}

impl<'a, K, V> Drain<'a, K, V> {
    pub(super) fn new(map: &'a mut RawMap<K, V>) -> Self {
        let raw = map.iter();
        Drain { map, raw }
    }
}

impl<K, V> Iterator for Drain<'_, K, V> {
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<(K, V)> {
        take_next(self.map, &mut self.raw)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining(), Some(self.raw.remaining()))
    }
}

impl<K, V> ExactSizeIterator for Drain<'_, K, V> {}
impl<K, V> FusedIterator for Drain<'_, K, V> {}

impl<K, V> Drop for Drain<'_, K, V> {
    fn drop(&mut self) {
        // Drops what is left, frees overflow buckets and any old array (ending a growth).
        self.map.clear();
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Drain<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rest = Iter {
            raw: self.raw.clone(),
            marker: PhantomData,
        };
        f.debug_list().entries(rest).finish()
    }
}

/// The walk behind `extract_if` and `retain` (of the map and the set): yields the pairs for
/// which a predicate holds, erasing each from the map as it goes. Dropping it keeps what was
/// not visited, and starts an automatic shrink if the map has become much emptier than its
/// array (as a remove does not: see `RawMap::erase`). If the predicate panics, the map keeps
/// every pair not yet erased.
pub(crate) struct RawExtractIf<'a, K, V> {
    map: &'a mut RawMap<K, V>,
    raw: RawIter<K, V>,
}

impl<'a, K, V> RawExtractIf<'a, K, V> {
    pub(crate) fn new(map: &'a mut RawMap<K, V>) -> Self {
        let raw = map.iter();
        RawExtractIf { map, raw }
    }

    /// Erases and returns the next pair for which `pred` is true.
    #[inline]
    pub(crate) fn next(&mut self, mut pred: impl FnMut(&K, &mut V) -> bool) -> Option<(K, V)> {
        while let Some(slot) = self.raw.next_slot() {
            // SAFETY: the slot was just yielded and the map has not been written since but for
            // erasures of slots yielded before it; the key is only lent out shared.
            let (key, value) = unsafe { self.map.pair_mut(slot) };
            if pred(key, value) {
                // SAFETY: `current_head` is the head of the chain holding `slot`. Erasing
                // rewrites tophash bytes of this chain only at or before `slot` (bytes the
                // walk has read), and no overflow link, so the walk stays valid.
                return Some(unsafe { self.map.erase(self.raw.current_head(), slot) });
            }
        }
        None
    }

    /// Pairs not yet visited (an upper bound of what is left to yield).
    pub(crate) fn remaining(&self) -> usize {
        self.raw.remaining()
    }
}

impl<K, V> Drop for RawExtractIf<'_, K, V> {
    fn drop(&mut self) {
        self.map.maybe_start_shrink();
    }
}

/// Iterator removing and yielding the pairs for which a predicate holds, from
/// [`HashMap::extract_if`](crate::HashMap::extract_if).
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct ExtractIf<'a, K, V, F> {
    pub(super) inner: RawExtractIf<'a, K, V>,
    pub(super) pred: F,
}

impl<K, V, F: FnMut(&K, &mut V) -> bool> Iterator for ExtractIf<'_, K, V, F> {
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<(K, V)> {
        self.inner.next(&mut self.pred)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.inner.remaining()))
    }
}

impl<K, V, F: FnMut(&K, &mut V) -> bool> FusedIterator for ExtractIf<'_, K, V, F> {}

impl<K, V, F> fmt::Debug for ExtractIf<'_, K, V, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractIf").finish_non_exhaustive()
    }
}

macro_rules! projection {
    ($(#[$doc:meta])* $name:ident<$($lt:lifetime,)? K, V> from $inner:ty, $item:ty, |$pat:pat_param| $out:expr) => {
        $(#[$doc])*
        pub struct $name<$($lt,)? K, V> {
            pub(super) inner: $inner,
        }

        impl<$($lt,)? K, V> Iterator for $name<$($lt,)? K, V> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                self.inner.next().map(|$pat| $out)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }

            #[inline]
            fn fold<Acc, F: FnMut(Acc, Self::Item) -> Acc>(self, init: Acc, mut f: F) -> Acc {
                self.inner.fold(init, |acc, $pat| f(acc, $out))
            }
        }

        impl<$($lt,)? K, V> ExactSizeIterator for $name<$($lt,)? K, V> {}
        impl<$($lt,)? K, V> FusedIterator for $name<$($lt,)? K, V> {}

        impl<$($lt,)? K: fmt::Debug, V: fmt::Debug> fmt::Debug for $name<$($lt,)? K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("inner", &self.inner).finish()
            }
        }
    };
}

projection!(
    /// Iterator over the keys, from [`HashMap::keys`](crate::HashMap::keys).
    Keys<'a, K, V> from Iter<'a, K, V>, &'a K, |(k, _)| k
);
projection!(
    /// Iterator over the values, from [`HashMap::values`](crate::HashMap::values).
    Values<'a, K, V> from Iter<'a, K, V>, &'a V, |(_, v)| v
);
projection!(
    /// Iterator over mutable values, from [`HashMap::values_mut`](crate::HashMap::values_mut).
    ValuesMut<'a, K, V> from IterMut<'a, K, V>, &'a mut V, |(_, v)| v
);
projection!(
    /// Owning iterator over the keys, from [`HashMap::into_keys`](crate::HashMap::into_keys).
    IntoKeys<K, V> from IntoIter<K, V>, K, |(k, _)| k
);
projection!(
    /// Owning iterator over the values, from
    /// [`HashMap::into_values`](crate::HashMap::into_values).
    IntoValues<K, V> from IntoIter<K, V>, V, |(_, v)| v
);

impl<K, V> Clone for Keys<'_, K, V> {
    fn clone(&self) -> Self {
        Keys {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> Clone for Values<'_, K, V> {
    fn clone(&self) -> Self {
        Values {
            inner: self.inner.clone(),
        }
    }
}
