//! The entry: one key's value slot, shared by the read snapshot and the dirty map (Go's `*entry`),
//! with Go's state transitions (`unexpungeLocked`, `tryExpungeLocked`, `trySwap`,
//! `tryCompareAndSwap`, `tryLoadOrStore`, `delete`).
//!
//! Every method that can observe a value pointer takes the caller's reclamation guard: pointers
//! are loaded through it, and a pointer that is swapped out is retired through it, so the value
//! stays readable until the guard is dropped and is freed exactly once afterwards.

use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::primitive::{reclaim_box, AtomicPtr, Guard, GuardApi as _, Ordering};

/// The address behind the `expunged` state. Only its address is used; it is never read. A real
/// value pointer can never equal it: values live in `Box` allocations (or, for zero-sized `V`, at
/// the dangling address `align_of::<V>()`), never inside this static.
static EXPUNGED_MARKER: u8 = 0;

/// Go's `expunged`: an arbitrary pointer that marks entries deleted from the dirty map.
#[inline]
fn expunged<V>() -> *mut V {
    ptr::addr_of!(EXPUNGED_MARKER).cast_mut().cast()
}

/// Whether a loaded `p` is a live value (neither nil nor expunged).
#[inline]
fn is_value<V>(p: *mut V) -> bool {
    !p.is_null() && p != expunged()
}

/// A boxed value that has not been published into an entry yet. It frees itself if dropped (for
/// instance while unwinding from a user `Hash`/`Eq` panic), so no path can leak it.
pub(crate) struct NewValue<V>(NonNull<V>);

impl<V> NewValue<V> {
    /// Boxes `value`.
    pub(crate) fn new(value: V) -> Self {
        NewValue(NonNull::from(Box::leak(Box::new(value))))
    }

    /// Takes the value back out of its box.
    pub(crate) fn into_inner(self) -> V {
        // SAFETY: never published (we own `self`), so the box is ours alone.
        *unsafe { Box::from_raw(self.publish()) }
    }

    /// Hands ownership of the box to whoever stores the returned pointer.
    fn publish(self) -> *mut V {
        let p = self.0.as_ptr();
        std::mem::forget(self);
        p
    }
}

impl<V> Drop for NewValue<V> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::leak` and was never published (`publish` forgets
        // `self`), so this is its only owner.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// A value on its way into the map: still unboxed (it may become an entry's inline value) or
/// already boxed (for a swap into an existing entry).
pub(crate) enum Pending<V> {
    /// Not allocated yet.
    Plain(V),
    /// Boxed by an earlier attempt.
    Boxed(NewValue<V>),
}

impl<V> Pending<V> {
    /// The value boxed, for storing into an existing entry.
    pub(crate) fn boxed(self) -> NewValue<V> {
        match self {
            Pending::Plain(v) => NewValue::new(v),
            Pending::Boxed(b) => b,
        }
    }

    /// The value itself, for a new entry.
    pub(crate) fn into_inner(self) -> V {
        match self {
            Pending::Plain(v) => v,
            Pending::Boxed(b) => b.into_inner(),
        }
    }
}

/// One key's slot.
pub(crate) struct Entry<V> {
    /// The entry's state (Go's `entry.p`). It holds one of three kinds of pointer:
    ///
    /// * **a value** (from `Box::into_raw`): the key is present. The entry is in the read
    ///   snapshot's map and, if the dirty map is `Some`, in the dirty map too.
    /// * **nil** (null): the key was deleted. The entry is still in the snapshot and, if the
    ///   dirty map is `Some`, in it too, so a lock-free store may revive it by CAS.
    /// * **expunged** ([`expunged()`]): the key was deleted *and* the dirty map is `Some` and does
    ///   not hold this entry. Lock-free writers must not revive such an entry (the value would be
    ///   lost at the next promotion): they fall back to the mutex.
    ///
    /// Transitions:
    ///
    /// | from → to | by | lock |
    /// |---|---|---|
    /// | value → value | `try_swap`, `swap_locked`, `try_compare_and_swap` | no |
    /// | value → nil | `delete`, `try_compare_and_delete` | no |
    /// | nil → value | `try_swap`, `try_load_or_store`, `swap_locked` | no |
    /// | nil → expunged | `try_expunge_locked` (building the dirty map) | yes |
    /// | expunged → nil | `unexpunge_locked` (after re-adding the entry to dirty) | yes |
    /// | any → expunged | `expunge_detached` (entry left behind by `clear`) | yes |
    ///
    /// Invariant: only a thread holding the map's mutex moves an entry into or out of
    /// *expunged*, so a mutex holder that sees *expunged* keeps seeing it until it acts.
    /// A value pointer is either `&self.inline` or a `Box`. A boxed pointer that leaves the
    /// *value* state is retired through the collector; the inline one is never retired (it dies
    /// with the entry); the boxed pointer current when the entry is dropped is freed by `Drop`.
    p: AtomicPtr<V>,
    /// The value the entry was created with, inside the entry's own allocation: a key written
    /// once (Go's case 1) is then read with one cache miss fewer, and costs one allocation.
    /// Invariant: `p` points here until the first replacement, never again after it; it is never
    /// written, moved (the entry lives in an `Arc`) or dropped before the entry itself. So a
    /// replaced first value is dropped only when its entry is (see `SyncMap`'s docs).
    inline: V,
    /// The entry owns boxed `V`s too (for auto traits and drop check).
    _owns: PhantomData<Box<V>>,
}

impl<V> Entry<V> {
    /// Go's `newEntry`: a shared entry holding `value` inline.
    pub(crate) fn new(value: V) -> Arc<Self> {
        let entry = Arc::new(Entry {
            p: AtomicPtr::new(ptr::null_mut()),
            inline: value,
            _owns: PhantomData,
        });
        // Relaxed: the entry is not shared yet; it is published to other threads by the mutex or
        // by the Release store of the snapshot that holds it.
        entry.p.store(entry.inline_ptr(), Ordering::Relaxed);
        entry
    }

    /// The address of the inline value (only ever read through, never written or freed).
    fn inline_ptr(&self) -> *mut V {
        ptr::addr_of!(self.inline).cast_mut()
    }

    /// Retires a pointer just swapped out of `p` and returns it, readable for `'g`.
    ///
    /// # Safety
    /// `old` is a value pointer that this thread removed from `p` with an atomic RMW (so no
    /// other thread retires it), loaded through `guard`.
    unsafe fn retire<'g>(&'g self, old: *mut V, guard: &'g Guard<'_>) -> &'g V {
        if old == self.inline_ptr() {
            // The inline value is never freed before the entry, which outlives `'g`.
            return &self.inline;
        }
        // SAFETY: per the contract we own the only retirement of `old`, which (not being the
        // inline value) came from `Box::into_raw`; `defer_retire` keeps it until `guard` drops.
        unsafe {
            guard.defer_retire(old, reclaim_box::<V>);
            &*old
        }
    }

    /// Go's `entry.load`: the current value, if any.
    pub(crate) fn load<'g>(&'g self, guard: &'g Guard<'_>) -> Option<&'g V> {
        // Acquire: pairs with the Release half of the RMW that published the pointer
        // (`try_swap`, `swap_locked`, `try_load_or_store`, `try_compare_and_swap`, `Entry::new`
        // via the snapshot/mutex publication), so the pointee is initialised.
        let p = guard.protect(&self.p, Ordering::Acquire);
        if is_value(p) {
            // SAFETY: a value pointer stays allocated until it is swapped out *and* every guard
            // active at its retirement is gone; `guard` was active when we loaded it. The entry
            // itself outlives `'g` (borrowed for `'g`).
            Some(unsafe { &*p })
        } else {
            None
        }
    }

    /// Whether the entry is expunged. Only meaningful with the mutex held (see the invariant).
    pub(crate) fn is_expunged_locked(&self) -> bool {
        // Relaxed: the expunged state is only entered and left under the mutex, whose
        // acquisition already ordered us after the last such transition.
        self.p.load(Ordering::Relaxed) == expunged()
    }

    /// Go's `unexpungeLocked`: expunged → nil. Returns whether the entry was expunged.
    ///
    /// The caller holds the mutex and must already have put the entry back into the dirty map
    /// (we do it in that order so that a panic in between leaves the entry expunged and absent
    /// from dirty, which is consistent, instead of nil and absent, which would lose a later
    /// lock-free store at the next promotion).
    pub(crate) fn unexpunge_locked(&self) -> bool {
        // Relaxed: no data is published (nil carries none); lock-free writers that race with us
        // only CAS from values or nil, and all RMWs on `p` are totally ordered anyway.
        self.p
            .compare_exchange(
                expunged(),
                ptr::null_mut(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Go's `tryExpungeLocked`: nil → expunged. Returns whether the entry is expunged
    /// afterwards (and so must be left out of the dirty map being built). Caller holds the mutex.
    pub(crate) fn try_expunge_locked(&self) -> bool {
        // Relaxed: we never dereference; the outcome only decides whether the entry is copied
        // into dirty, and the CAS settles the race with a lock-free nil → value store (if that
        // store wins, we see a value and copy the entry; if we win, the store sees expunged and
        // retries under the mutex).
        let mut p = self.p.load(Ordering::Relaxed);
        while p.is_null() {
            match self.p.compare_exchange(
                ptr::null_mut(),
                expunged(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(current) => p = current,
            }
        }
        p == expunged()
    }

    /// Go's `trySwap`: stores `new` unless the entry is expunged. `Ok(previous)` on success
    /// (`None` if the entry was nil); `Err(new)` if it is expunged.
    pub(crate) fn try_swap<'g>(
        &'g self,
        mut new: NewValue<V>,
        guard: &'g Guard<'_>,
    ) -> Result<Option<&'g V>, NewValue<V>> {
        // Acquire: as in `load` (we may hand the previous value back to the caller).
        let mut p = guard.protect(&self.p, Ordering::Acquire);
        loop {
            if p == expunged() {
                return Err(new);
            }
            match self.replace(p, new, guard) {
                Ok(previous) => return Ok(previous),
                Err((back, current)) => (new, p) = (back, current),
            }
        }
    }

    /// One attempt to replace the pointer `p` (loaded through `guard`) with `new`. On success
    /// `new` is published and the previous pointer, if a value, retired and returned; on
    /// failure `new` comes back with the pointer found instead.
    fn replace<'g>(
        &'g self,
        p: *mut V,
        new: NewValue<V>,
        guard: &'g Guard<'_>,
    ) -> Result<Option<&'g V>, (NewValue<V>, *mut V)> {
        // AcqRel on success: Release publishes `*new` to `load`'s Acquire; Acquire lets us
        // read the previous value. Acquire on failure: the caller retries on the observed
        // pointer.
        match guard.compare_exchange(
            &self.p,
            p,
            new.0.as_ptr(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                new.publish();
                if is_value(p) {
                    // SAFETY: our CAS removed the value `p`, loaded through `guard`.
                    Ok(Some(unsafe { self.retire(p, guard) }))
                } else {
                    Ok(None)
                }
            }
            Err(current) => Err((new, current)),
        }
    }

    /// Go's `swapLocked`: unconditional swap. The caller holds the mutex and has made sure the
    /// entry is not expunged (which, under the mutex, nobody else can change).
    pub(crate) fn swap_locked<'g>(
        &'g self,
        new: NewValue<V>,
        guard: &'g Guard<'_>,
    ) -> Option<&'g V> {
        // AcqRel: as in `try_swap`.
        let p = guard.swap(&self.p, new.publish(), Ordering::AcqRel);
        debug_assert!(p != expunged(), "swap_locked on an expunged entry");
        if is_value(p) {
            // SAFETY: our swap removed the value `p`, loaded through `guard`.
            Some(unsafe { self.retire(p, guard) })
        } else {
            None
        }
    }

    /// Go's `tryLoadOrStore`: if the entry holds a value, returns it (`loaded = true`); if it is
    /// nil, stores `value` and returns it (`loaded = false`); if it is expunged, gives `value`
    /// back untouched.
    pub(crate) fn try_load_or_store<'g>(
        &'g self,
        value: V,
        guard: &'g Guard<'_>,
    ) -> Result<(&'g V, bool), V> {
        // Acquire: as in `load`.
        let p = guard.protect(&self.p, Ordering::Acquire);
        if p == expunged() {
            return Err(value);
        }
        if is_value(p) {
            // SAFETY: as in `load`.
            return Ok((unsafe { &*p }, true));
        }
        let new = NewValue::new(value);
        loop {
            // AcqRel/Acquire: as in `try_swap`.
            match guard.compare_exchange(
                &self.p,
                ptr::null_mut(),
                new.0.as_ptr(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    let stored = new.publish();
                    // SAFETY: `stored` is now the entry's value; if another thread swaps it out
                    // it is retired, which waits for our (active) guard.
                    return Ok((unsafe { &*stored }, false));
                }
                Err(current) if current == expunged() => return Err(new.into_inner()),
                // SAFETY: as in `load`. `new` is dropped, as Go drops its `i`.
                Err(current) if is_value(current) => return Ok((unsafe { &*current }, true)),
                Err(_) => {} // nil again (a value came and went): retry.
            }
        }
    }

    /// Go's `tryCompareAndSwap`: replaces the value with `new` if it equals `old`. Fails if the
    /// entry is nil or expunged.
    pub(crate) fn try_compare_and_swap(&self, old: &V, new: V, guard: &Guard<'_>) -> bool
    where
        V: PartialEq,
    {
        // Acquire: as in `load` (we compare the pointee).
        let mut p = guard.protect(&self.p, Ordering::Acquire);
        if !is_value(p) {
            return false;
        }
        // SAFETY: as in `load`.
        if unsafe { &*p } != old {
            return false;
        }
        // Allocate only once the comparison passed, as Go copies `new` lazily.
        let mut new = NewValue::new(new);
        loop {
            match self.replace(p, new, guard) {
                Ok(_) => return true,
                Err((back, current)) => {
                    (new, p) = (back, current);
                    if !is_value(p) {
                        return false; // `new` frees itself
                    }
                    // SAFETY: as in `load`.
                    if unsafe { &*p } != old {
                        return false;
                    }
                }
            }
        }
    }

    /// Go's `entry.delete`: value → nil. Returns the removed value.
    pub(crate) fn delete<'g>(&'g self, guard: &'g Guard<'_>) -> Option<&'g V> {
        // Acquire: as in `load`.
        let mut p = guard.protect(&self.p, Ordering::Acquire);
        loop {
            if !is_value(p) {
                return None;
            }
            // AcqRel: Release orders our earlier reads of the value before the nil becomes
            // visible; Acquire as in `load`.
            match guard.compare_exchange(
                &self.p,
                p,
                ptr::null_mut(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                // SAFETY: our CAS removed the value `p`, loaded through `guard`.
                Ok(_) => return Some(unsafe { self.retire(p, guard) }),
                Err(current) => p = current,
            }
        }
    }

    /// The value → nil step of Go's `CompareAndDelete`: deletes only if the value equals `old`.
    pub(crate) fn try_compare_and_delete(&self, old: &V, guard: &Guard<'_>) -> bool
    where
        V: PartialEq,
    {
        // Acquire: as in `load`.
        let mut p = guard.protect(&self.p, Ordering::Acquire);
        loop {
            if !is_value(p) {
                return false;
            }
            // SAFETY: as in `load`.
            if unsafe { &*p } != old {
                return false;
            }
            // AcqRel/Acquire: as in `delete`.
            match guard.compare_exchange(
                &self.p,
                p,
                ptr::null_mut(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: our CAS removed the value `p`, loaded through `guard`.
                    unsafe { self.retire(p, guard) };
                    return true;
                }
                Err(current) => p = current,
            }
        }
    }

    /// Moves an entry that `clear` has just detached from the map into the expunged state, so
    /// that a racing lock-free write on it fails over to the mutex (and lands in the new map)
    /// instead of being lost. Returns whether a value was removed. Caller holds the mutex.
    pub(crate) fn expunge_detached(&self, guard: &Guard<'_>) -> bool {
        // AcqRel: Acquire to own the removed value before retiring it (pairs with the Release of
        // its publisher); Release is not needed for expunged but costs nothing on an RMW.
        let p = guard.swap(&self.p, expunged(), Ordering::AcqRel);
        if is_value(p) {
            // SAFETY: our swap removed the value `p`, loaded through `guard`.
            unsafe { self.retire(p, guard) };
            true
        } else {
            false
        }
    }

    /// Whether the entry currently holds a value (for invariant checks and counting).
    pub(crate) fn has_value(&self) -> bool {
        // Relaxed: no dereference.
        is_value(self.p.load(Ordering::Relaxed))
    }
}

impl<V> Drop for Entry<V> {
    fn drop(&mut self) {
        // Relaxed: we are the last owner. Either the last `Arc` was dropped (its final decrement
        // has an Acquire fence) or the collector reclaimed it (which orders every retirement
        // before reclamation), so every earlier write to `p` happens-before this load.
        let p = self.p.load(Ordering::Relaxed);
        if is_value(p) && p != self.inline_ptr() {
            // SAFETY: an entry is dropped only once no thread can reach it (the map releases its
            // `Arc`s only through the collector or with `&mut self`), so nobody can still read
            // its current value, which it owns (a boxed one: it came from `Box::into_raw`).
            drop(unsafe { Box::from_raw(p) });
        }
        // `inline` is dropped by the drop glue, exactly once, whether current or replaced.
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::primitive::new_collector;

    #[test]
    fn expunged_is_not_a_value_and_zst_values_are() {
        assert!(!is_value(expunged::<u64>()));
        assert!(!is_value(ptr::null_mut::<u64>()));
        let zst = NewValue::new(());
        assert!(is_value(zst.0.as_ptr()));
    }

    #[test]
    fn state_machine_transitions() {
        let collector = new_collector(8);
        let guard = collector.enter();
        let e = Entry::new(1);
        assert_eq!(e.load(&guard), Some(&1));
        assert!(!e.try_expunge_locked(), "a value is never expunged");
        assert_eq!(e.delete(&guard), Some(&1));
        assert_eq!(e.delete(&guard), None);
        assert!(e.try_expunge_locked());
        assert!(e.is_expunged_locked());
        assert!(e.try_swap(NewValue::new(2), &guard).is_err());
        assert_eq!(e.try_load_or_store(3, &guard).err(), Some(3));
        assert!(!e.try_compare_and_swap(&1, 4, &guard));
        assert!(e.unexpunge_locked());
        assert!(!e.unexpunge_locked());
        assert_eq!(e.try_load_or_store(5, &guard).ok(), Some((&5, false)));
        assert_eq!(e.try_load_or_store(6, &guard).ok(), Some((&5, true)));
        assert!(e.try_compare_and_swap(&5, 7, &guard));
        assert!(!e.try_compare_and_delete(&5, &guard));
        assert!(e.try_compare_and_delete(&7, &guard));
        assert_eq!(e.swap_locked(NewValue::new(8), &guard), None);
        assert_eq!(e.try_swap(NewValue::new(9), &guard).ok(), Some(Some(&8)));
        assert!(e.expunge_detached(&guard));
        assert!(!e.has_value());
    }
}
