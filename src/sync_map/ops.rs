//! The writing half of Go's API (`Store`, `Swap`, `LoadOrStore`, `LoadAndDelete`, `Delete`,
//! `CompareAndSwap`, `CompareAndDelete`), `Range` and `Clear`. The read path, the dirty-map
//! machinery (`miss_locked`, `promote_locked`, `dirty_locked`) and the invariants they keep are
//! in `mod.rs`.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use super::entry::{Entry, EntryRef};
use super::{get_expecting_hit, EntryMap, Locked, ReadOnly, SyncMap};
use crate::primitive::{reclaim_box, Guard, GuardApi as _, Ordering};

impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher + Clone,
{
    /// If the snapshot entry `e` of `key` is expunged, puts it back into the dirty map (Go's
    /// `if e.unexpungeLocked() { m.dirty[key] = e }`), inserting first (see
    /// `unexpunge_locked`). Expunged implies a dirty map.
    fn revive_locked(locked: &mut Locked<K, V, S>, key: K, e: &EntryRef<V>) {
        if e.is_expunged_locked() {
            let dirty = locked
                .dirty
                .as_mut()
                .expect("expunged entry without dirty map");
            let replaced = dirty.insert(key, EntryRef::clone(e));
            debug_assert!(replaced.is_none(), "expunged entry was in dirty");
            e.unexpunge_locked();
        }
    }

    /// Go's `Store`.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store("a", 1);
    /// map.store("a", 2);
    /// assert_eq!(map.load("a"), Some(2));
    /// ```
    pub fn store(&self, key: K, value: V) {
        let guard = self.guard();
        self.swap_in(key, value, &guard);
    }

    /// Go's `Swap`: stores `value` and returns a clone of the previous value, if any.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// assert_eq!(map.swap("a", 1), None);
    /// assert_eq!(map.swap("a", 2), Some(1));
    /// ```
    pub fn swap(&self, key: K, value: V) -> Option<V>
    where
        V: Clone,
    {
        let guard = self.guard();
        self.swap_in(key, value, &guard).cloned()
    }

    pub(super) fn swap_in<'g>(&'g self, key: K, value: V, guard: &'g Guard<'_>) -> Option<&'g V> {
        let mut value = value;
        let seen = self.load_read_only(guard);
        let found = get_expecting_hit(&seen.m, &key);
        if let Some(e) = found {
            match e.try_swap(value, guard) {
                Ok(previous) => {
                    if previous.is_none() {
                        self.live_add(guard);
                    }
                    return previous;
                }
                Err(back) => value = back,
            }
        }
        let mut locked = self.lock();
        let (read, found) = self.reread_locked(seen, found, &key, guard);
        self.locked_work(&mut locked, read);
        let previous = if let Some(e) = found {
            Self::revive_locked(&mut locked, key, e);
            e.swap_locked(value, guard)
        } else if let Some(e) = locked.dirty.as_ref().and_then(|d| d.get(&key)) {
            Self::detach(e, guard).swap_locked(value, guard)
        } else {
            if !read.amended() {
                // The first new key since the last promotion: build dirty, mark the snapshot.
                self.dirty_locked(&mut locked, read);
                read.set_amended();
                self.locked_work(&mut locked, read); // the copy's first steps
            }
            let dirty = locked
                .dirty
                .as_mut()
                .expect("dirty_locked builds the dirty map");
            let replaced = dirty.insert(key, EntryRef::new(value));
            debug_assert!(replaced.is_none(), "new key was already in dirty");
            None
        };
        if previous.is_none() {
            self.live_add(guard);
        }
        previous
    }

    /// Go's `LoadOrStore`: returns a clone of the existing value and `true`, or stores `value`
    /// and returns a clone of it and `false`.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// assert_eq!(map.load_or_store("a", 1), (1, false));
    /// assert_eq!(map.load_or_store("a", 2), (1, true));
    /// ```
    pub fn load_or_store(&self, key: K, value: V) -> (V, bool)
    where
        V: Clone,
    {
        let guard = self.guard();
        let (v, loaded) = self.load_or_store_in(key, value, &guard);
        (v.clone(), loaded)
    }

    /// [`load_or_store`](Self::load_or_store) with the value computed by `f` only when the
    /// key has none: what a cache that fills on a miss calls. Not one of Go's methods (Go code
    /// calls `Load`, then `LoadOrStore`), and it is that sequence: the key is first looked up
    /// as [`load`](Self::load) does (a lock-free hit, else the dirty map under the mutex), and
    /// only if it holds no value is `f` called, outside any lock, so `f` may use the map.
    /// If another thread stores the key meanwhile, its value wins: `f`'s is dropped and the
    /// result is `(theirs, true)`. So `f` runs at most once per call, but two threads that
    /// miss at once may both run it.
    ///
    /// ```
    /// let cache = gomap::SyncMap::new();
    /// let mut computed = 0;
    /// for _ in 0..3 {
    ///     let (len, _) = cache.load_or_store_with("gopher", || {
    ///         computed += 1;
    ///         "gopher".len()
    ///     });
    ///     assert_eq!(len, 6);
    /// }
    /// assert_eq!(computed, 1);
    /// ```
    pub fn load_or_store_with(&self, key: K, f: impl FnOnce() -> V) -> (V, bool)
    where
        V: Clone,
    {
        let guard = self.guard();
        let (v, loaded) = self.load_or_store_with_in(key, f, &guard);
        (v.clone(), loaded)
    }

    pub(super) fn load_or_store_with_in<'g>(
        &'g self,
        key: K,
        f: impl FnOnce() -> V,
        guard: &'g Guard<'_>,
    ) -> (&'g V, bool) {
        match self.load_in(&key, guard) {
            Some(v) => (v, true),
            None => self.load_or_store_in(key, f(), guard),
        }
    }

    pub(super) fn load_or_store_in<'g>(
        &'g self,
        key: K,
        value: V,
        guard: &'g Guard<'_>,
    ) -> (&'g V, bool) {
        let mut value = value;
        let seen = self.load_read_only(guard);
        let found = seen.m.get(&key);
        if let Some(e) = found {
            match e.try_load_or_store(value, guard) {
                Ok((actual, loaded)) => {
                    if !loaded {
                        self.live_add(guard);
                    }
                    return (actual, loaded);
                }
                Err(back) => value = back,
            }
        }
        let mut locked = self.lock();
        let (read, found) = self.reread_locked(seen, found, &key, guard);
        self.locked_work(&mut locked, read);
        let (actual, loaded) = if let Some(e) = found {
            Self::revive_locked(&mut locked, key, e);
            Self::load_or_store_locked(e, value, guard)
        } else if let Some(e) = locked.dirty.as_ref().and_then(|d| d.get(&key)) {
            let e = Self::detach(e, guard);
            let result = Self::load_or_store_locked(e, value, guard);
            self.miss_locked(&mut locked, guard);
            result
        } else {
            if !read.amended() {
                self.dirty_locked(&mut locked, read);
                read.set_amended();
                self.locked_work(&mut locked, read); // the copy's first steps
            }
            let e = EntryRef::new(value);
            let entry = Self::detach(&e, guard);
            let dirty = locked
                .dirty
                .as_mut()
                .expect("dirty_locked builds the dirty map");
            let replaced = dirty.insert(key, e);
            debug_assert!(replaced.is_none(), "new key was already in dirty");
            // Under the mutex nobody else can reach a dirty-only entry yet.
            (entry.load(guard).expect("just stored"), false)
        };
        if !loaded {
            self.live_add(guard);
        }
        (actual, loaded)
    }

    /// `try_load_or_store` on an entry that, under the mutex, cannot be expunged.
    fn load_or_store_locked<'g>(e: &'g Entry<V>, value: V, guard: &'g Guard<'_>) -> (&'g V, bool) {
        match e.try_load_or_store(value, guard) {
            Ok(result) => result,
            Err(_) => unreachable!("entry expunged while the mutex is held"),
        }
    }

    /// Go's `LoadAndDelete`: removes `key`, returning a clone of its value.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 'x');
    /// assert_eq!(map.load_and_delete(&1), Some('x'));
    /// assert_eq!(map.load_and_delete(&1), None);
    /// ```
    pub fn load_and_delete<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let guard = self.guard();
        self.load_and_delete_in(key, &guard).cloned()
    }

    /// Go's `Delete`: removes `key`. Returns whether it held a value (Go returns nothing).
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, 'x');
    /// assert!(map.delete(&1));
    /// assert!(!map.delete(&1));
    /// ```
    pub fn delete<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let guard = self.guard();
        self.load_and_delete_in(key, &guard).is_some()
    }

    pub(super) fn load_and_delete_in<'g, Q>(
        &'g self,
        key: &Q,
        guard: &'g Guard<'_>,
    ) -> Option<&'g V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let removed = self.entry_for(key, guard, true)?.delete(guard)?;
        self.live_sub(1, guard);
        Some(removed)
    }

    /// Go's `CompareAndSwap`: replaces the value of `key` with `new` if it equals `old`.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store("k", 1);
    /// assert!(!map.compare_and_swap("k", &2, 3));
    /// assert!(map.compare_and_swap("k", &1, 3));
    /// assert_eq!(map.load("k"), Some(3));
    /// ```
    pub fn compare_and_swap<Q>(&self, key: &Q, old: &V, new: V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        let guard = self.guard();
        let read = self.load_read_only(&guard);
        if let Some(e) = read.m.get(key) {
            return e.try_compare_and_swap(old, new, &guard);
        }
        if !read.amended() {
            return false;
        }
        // As Go, the slow path swaps with the mutex held: an entry found only in dirty must not
        // be written after a concurrent `load_and_delete` detached it.
        let mut locked = self.lock();
        let read = self.load_read_only(&guard);
        self.locked_work(&mut locked, read);
        if let Some(e) = read.m.get(key) {
            e.try_compare_and_swap(old, new, &guard)
        } else if let Some(e) = locked.dirty.as_ref().and_then(|d| d.get(key)) {
            let e = Self::detach(e, &guard);
            let swapped = e.try_compare_and_swap(old, new, &guard);
            self.miss_locked(&mut locked, &guard);
            swapped
        } else {
            false
        }
    }

    /// Go's `CompareAndDelete`: removes `key` if its value equals `old`.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store("k", 1);
    /// assert!(!map.compare_and_delete("k", &2));
    /// assert!(map.compare_and_delete("k", &1));
    /// assert_eq!(map.load("k"), None);
    /// ```
    pub fn compare_and_delete<Q>(&self, key: &Q, old: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        let guard = self.guard();
        let Some(e) = self.entry_for(key, &guard, false) else {
            return false;
        };
        let deleted = e.try_compare_and_delete(old, &guard);
        if deleted {
            self.live_sub(1, &guard);
        }
        deleted
    }

    /// Go's `Range`: calls `f` on each key and value until it returns `false`.
    ///
    /// As in Go, a dirty map is first promoted, then one snapshot is walked without any lock, so
    /// `f` may call any method of the map, `range` included. No key is visited twice, but the
    /// walk is not a consistent snapshot: a value stored or deleted concurrently (or by `f`) may
    /// or may not be seen, and keys added after the walk began are not.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// for i in 0..4 {
    ///     map.store(i, i * 10);
    /// }
    /// let mut sum = 0;
    /// map.range(|k, v| {
    ///     sum += v;
    ///     map.store(k + 100, 0); // calling back into the map is fine
    ///     true
    /// });
    /// assert_eq!(sum, 60);
    /// ```
    pub fn range<F>(&self, mut f: F)
    where
        F: FnMut(&K, &V) -> bool,
    {
        let guard = self.guard();
        let read = self.promoted_read(&guard);
        for (k, e) in read.m.iter() {
            if let Some(v) = e.load(&guard) {
                if !f(k, v) {
                    break;
                }
            }
        }
    }

    /// The snapshot after promoting a pending dirty map (Go's `Range` prologue).
    pub(super) fn promoted_read<'g>(&'g self, guard: &'g Guard<'_>) -> &'g ReadOnly<K, V, S> {
        let read = self.load_read_only(guard);
        if !read.amended() {
            return read;
        }
        let mut locked = self.lock();
        let read = self.load_read_only(guard);
        if !read.amended() {
            return read;
        }
        // Range walks one complete snapshot: finish the copy and, in the promotion, any growth
        // of the dirty map (O(n), as the walk itself).
        self.copy_locked(&mut locked, read, usize::MAX);
        self.promote_locked(&mut locked, guard);
        self.load_read_only(guard)
    }

    /// Go's `Clear`: removes every key.
    ///
    /// A write racing with `clear` either happens before it (and is cleared) or after it (and is
    /// kept); unlike Go's, it is never lost on a detached entry.
    ///
    /// ```
    /// let map: gomap::SyncMap<_, _> = (0..10).map(|i| (i, i)).collect();
    /// map.clear();
    /// assert!(map.is_empty());
    /// assert_eq!(map.load(&3), None);
    /// ```
    pub fn clear(&self) {
        let guard = self.guard();
        let read = self.load_read_only(&guard);
        if read.m.is_empty() && !read.amended() {
            return;
        }
        let mut locked = self.lock();
        let empty = Box::new(ReadOnly::new(EntryMap::with_hasher(
            self.hash_builder.clone(),
        )));
        // AcqRel: as in `promote_locked`.
        let old = guard.swap(&self.read, Box::into_raw(empty), Ordering::AcqRel);
        locked.copy = None; // it borrows the old snapshot
        let old_dirty = locked.dirty.take();
        locked.misses = 0;
        // SAFETY: `old` was the snapshot until our swap and is retired only below.
        let old_read = unsafe { &*old };
        let mut removed = 0;
        let detached = old_read
            .m
            .values()
            .chain(old_dirty.iter().flat_map(|d| d.values()));
        for e in detached {
            removed += usize::from(e.expunge_detached(&guard));
        }
        self.live_sub(removed, &guard);
        // SAFETY: the old snapshot is unreachable for new readers, and only our swap removed it.
        unsafe { guard.defer_retire(old, reclaim_box::<ReadOnly<K, V, S>>) };
        if let Some(dirty) = old_dirty {
            let dirty = Box::into_raw(Box::new(dirty));
            // SAFETY: rule 2: the dirty map's `EntryRef`s are released through the collector; this
            // box is ours alone.
            unsafe { guard.defer_retire(dirty, reclaim_box::<EntryMap<K, V, S>>) };
        }
    }
}
