//! The entry: one key's value slot, shared by the read snapshot and the dirty map (Go's `*entry`),
//! with Go's state transitions (`unexpungeLocked`, `tryExpungeLocked`, `trySwap`,
//! `tryCompareAndSwap`, `tryLoadOrStore`, `delete`).
//!
//! Every method that can observe a value pointer takes the caller's reclamation guard: pointers
//! are loaded through it, and a pointer that is swapped out is retired through it, so the value
//! stays readable until the guard is dropped and is freed exactly once afterwards.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::ops::Deref;
use std::ptr::{self, NonNull};

use crate::primitive::{
    fence, reclaim_box, AtomicPtr, AtomicUsize, Collector, Guard, GuardApi as _, Ordering,
};

/// The address behind the `expunged` state. Only its address is used; it is never read. A real
/// value pointer can never equal it: values live in an entry's slots, in `Box` allocations (or,
/// for zero-sized `V`, at the dangling address `align_of::<V>()`), never inside this static.
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

/// Value slots inside each entry. Two let an overwrite write the new value next to the current
/// one while readers may still hold the old: the old slot is free again once reclamation says
/// nobody can read it, long before the same key is usually overwritten again. A third would
/// only help keys overwritten faster than seize reclaims, and costs a `V` in every entry.
const SLOTS: usize = 2;
/// The bits of `holds` that mark taken slots (bit `i`: slot `i`).
const ALL_SLOTS: usize = (1 << SLOTS) - 1;
/// One [`EntryRef`] in `holds` (references are counted above the slot bits).
const ONE_REF: usize = 1 << SLOTS;
const _: () = assert!(
    SLOTS == 2,
    "`Entry::retire` maps slot indexes to reclaimers by hand"
);

/// One key's slot.
///
/// Invariant: every `Entry` is allocated by [`EntryRef::new`] (a `Box`) and freed by whoever
/// brings `holds` to zero: the entry stays allocated while an [`EntryRef`] points at it *or* a
/// slot is taken, so a retired slot keeps its entry alive without a reference count of its own.
///
/// `repr(C)` keeps the fields a read touches first: `p`, then the slot it points to. An entry
/// (32 bytes for 8-byte values) sits at a 16-byte boundary of the heap, so with `holds` between
/// them a quarter of the entries would have `p` and both slots on different cache lines; in
/// this order `p` and slot 0 always share one, and slot 1 only misses it for one entry in four.
///
/// The fields are inside one `UnsafeCell`, so that a `&Entry` grants shared read-write access
/// to every byte of the entry, padding included: `retire` hands the collector a pointer made
/// from `&self`, through which the last reclaimer may free the entry (`Box::from_raw`), and a
/// free needs write access to the whole allocation. Without the cell, Miri's Stacked Borrows
/// reported that free as undefined behaviour for a `V` that leaves padding in the entry (a
/// `u16`: 4 bytes between the slots and `holds`). All fields are atomics or slots written
/// through raw pointers, so shared references to them ([`Deref`]) are all the entry needs.
#[repr(transparent)]
pub(crate) struct Entry<V>(UnsafeCell<EntryFields<V>>);

/// The fields of an [`Entry`] (see there).
#[repr(C)]
pub(crate) struct EntryFields<V> {
    /// The entry's state (Go's `entry.p`). It holds one of three kinds of pointer:
    ///
    /// * **a value** (one of this entry's `slots`, or from `Box::into_raw`): the key is present.
    ///   The entry is in the read snapshot's map and, if the dirty map is `Some`, in the dirty
    ///   map too.
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
    /// A value pointer that leaves the *value* state is retired through the collector, exactly
    /// once, by the thread whose RMW removed it; the value current when the last [`EntryRef`]
    /// goes is dropped by that `EntryRef`'s drop.
    p: AtomicPtr<V>,
    /// Values stored in the entry itself: an overwrite then allocates nothing, and a read
    /// follows bucket → entry instead of bucket → entry → box. Zero-sized values use slot 0
    /// only (all slots share one address), later ones go to (non-allocating) boxes.
    slots: [UnsafeCell<MaybeUninit<V>>; SLOTS],
    /// What keeps the entry allocated, in one word so that one RMW settles who frees it.
    /// Bit `i` (below `SLOTS`) is set while slot `i` is taken: claimed by a writer, holding the
    /// current value, or holding a replaced value that is retired but not yet reclaimed. Above
    /// them, the number of [`EntryRef`]s (in units of [`ONE_REF`]), as an `Arc`'s strong count.
    ///
    /// Invariants: a slot is initialised only while its bit is set, and only its claimer writes
    /// it (set with an Acquire RMW that succeeds only on a clear bit; cleared with Release after
    /// the value is dropped or moved out). The RMW that brings `holds` to zero frees the entry.
    holds: AtomicUsize,
    /// The entry owns `V`s (for drop check and auto traits).
    _owns: PhantomData<Box<V>>,
}

impl<V> Deref for Entry<V> {
    type Target = EntryFields<V>;

    #[inline]
    fn deref(&self) -> &EntryFields<V> {
        // SAFETY: nothing makes a `&mut` to the fields while the entry is shared: they are
        // atomics, and slots written through the raw pointers of `slot_ptr`.
        unsafe { &*self.0.get() }
    }
}

// SAFETY: the entry owns `V`s, which may be dropped on whichever thread releases it: `V: Send`.
unsafe impl<V: Send> Send for Entry<V> {}

// The slots' `UnsafeCell`s are written only by the thread that claimed the slot through
// `holds`, and read only through `p` after a Release/Acquire publication.
// SAFETY: threads share `&V` through `load` (`V: Sync`); a value written by one thread may be
// dropped by another, as reclamation runs anywhere (`V: Send`); the slots as said above.
unsafe impl<V: Send + Sync> Sync for Entry<V> {}

/// A value placed into an entry's free slot (or into a box when none is free) but not yet
/// published through `p`. Dropping it drops the value and frees its place, so no path (a user
/// `PartialEq` panicking in a compare-and-swap retry, say) can leak it or the slot.
pub(crate) struct Staged<'e, V> {
    entry: &'e Entry<V>,
    /// A slot of `entry` (then `slot` is `Some`) or a pointer from `Box::into_raw`.
    ptr: NonNull<V>,
    slot: Option<usize>,
}

impl<V> Staged<'_, V> {
    fn ptr(&self) -> *mut V {
        self.ptr.as_ptr()
    }

    /// Hands ownership of the value to whoever stores the returned pointer into `p`.
    fn publish(self) -> *mut V {
        let p = self.ptr();
        mem::forget(self);
        p
    }

    /// Takes the value back out of its place, freeing the place.
    fn into_inner(self) -> V {
        let this = mem::ManuallyDrop::new(self);
        match this.slot {
            Some(i) => {
                // SAFETY: the slot is ours (claimed, never published) and initialised; we move
                // the value out and free the slot, so nothing reads or drops it again.
                let value = unsafe { ptr::read(this.ptr()) };
                let last = this.entry.release_holds(1 << i);
                debug_assert!(!last, "a staged value's entry is held by the map");
                value
            }
            // SAFETY: never published (we own `self`), so the box is ours alone.
            None => *unsafe { Box::from_raw(this.ptr()) },
        }
    }
}

impl<V> Drop for Staged<'_, V> {
    fn drop(&mut self) {
        match self.slot {
            Some(i) => {
                // Frees the slot even if `V::drop` panics.
                let _release = ReleaseHolds(ptr::from_ref(self.entry).cast_mut(), 1 << i);
                // SAFETY: the slot is ours (claimed, never published) and initialised.
                unsafe { ptr::drop_in_place(self.ptr()) };
            }
            // SAFETY: the pointer came from `Box::into_raw` and was never published.
            None => drop(unsafe { Box::from_raw(self.ptr()) }),
        }
    }
}

/// Gives up holds on an entry when dropped (so even while unwinding from `V::drop`): `.1` is
/// the bits to clear, slot bits and/or a reference ([`ONE_REF`]). Frees the entry if that
/// was its last hold.
struct ReleaseHolds<V>(*mut Entry<V>, usize);

impl<V> Drop for ReleaseHolds<V> {
    fn drop(&mut self) {
        // SAFETY: the holds being released keep the entry allocated until the RMW inside.
        let last = unsafe { (*self.0).release_holds(self.1) };
        if last {
            // SAFETY: that RMW brought `holds` to zero: nothing else can reach the entry, and
            // `EntryRef::new` allocated it with `Box`.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }
}

/// The reclaimer of a retired slot `I`: drops the value it holds and frees the slot, and with it
/// the entry if nothing else holds it any more.
///
/// # Safety
/// `entry` points at a live entry whose slot `I` is taken by a retired value that no thread can
/// reach any more (which is what keeps the entry allocated until now).
unsafe fn reclaim_slot<V, const I: usize>(entry: *mut Entry<V>, _collector: &Collector) {
    // Frees the slot, and the entry if it was the last hold, even if `V::drop` panics.
    let _release = ReleaseHolds(entry, 1 << I);
    // SAFETY: per the contract the entry is alive and the slot's value unreachable and ours.
    unsafe { ptr::drop_in_place((*entry).slot_ptr(I)) };
}

/// A counted reference to an [`Entry`], shared by the snapshot and the dirty map: an `Arc`
/// whose count shares a word with the slots' bits (see `Entry::holds`), so that a retired slot
/// keeps the entry alive without touching the count.
///
/// The `PhantomData` tells drop check that dropping an `EntryRef` may drop `V`s (as `Arc`'s).
pub(crate) struct EntryRef<V>(NonNull<Entry<V>>, PhantomData<Entry<V>>);

// SAFETY: as `Arc<Entry<V>>`: the entry may be used and freed from any thread.
unsafe impl<V: Send + Sync> Send for EntryRef<V> {}
// SAFETY: as `Arc<Entry<V>>`.
unsafe impl<V: Send + Sync> Sync for EntryRef<V> {}

impl<V> EntryRef<V> {
    /// Go's `newEntry`: a shared entry holding `value` in slot 0.
    pub(crate) fn new(value: V) -> Self {
        // Leaked first, so that the pointer stored in `p` is derived from the entry's final
        // address: one taken through the `Box` would be invalidated by `Box::leak`, which
        // asserts unique access to the whole allocation (Miri's Stacked Borrows reported a read
        // through such a pointer as undefined behaviour).
        let entry = NonNull::from(Box::leak(Box::new(Entry::<V>(UnsafeCell::new(
            EntryFields {
                p: AtomicPtr::new(ptr::null_mut()),
                holds: AtomicUsize::new(ONE_REF | 1),
                slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; SLOTS],
                _owns: PhantomData,
            },
        )))));
        // SAFETY: just allocated and leaked: valid, and not shared with anyone yet.
        let e = unsafe { entry.as_ref() };
        // SAFETY: slot 0 is ours (its bit is set, the entry is not shared yet) and uninitialised.
        unsafe { e.slot_ptr(0).write(value) };
        // Relaxed: the entry is not shared yet; it is published to other threads by the mutex or
        // by the Release store of the snapshot that holds it.
        e.p.store(e.slot_ptr(0), Ordering::Relaxed);
        EntryRef(entry, PhantomData)
    }

    /// The entry's address (as `Arc::as_ptr`).
    pub(crate) fn as_ptr(this: &Self) -> *const Entry<V> {
        this.0.as_ptr()
    }

    /// Gives up the reference without releasing it (as `Arc::into_raw`).
    pub(crate) fn into_raw(this: Self) -> *mut Entry<V> {
        let p = this.0.as_ptr();
        mem::forget(this);
        p
    }

    /// Takes back a reference given up by [`EntryRef::into_raw`].
    ///
    /// # Safety
    /// `p` came from `into_raw`, and each such pointer is taken back once.
    pub(crate) unsafe fn from_raw(p: *mut Entry<V>) -> Self {
        // SAFETY: `into_raw` pointers are non-null.
        EntryRef(unsafe { NonNull::new_unchecked(p) }, PhantomData)
    }

    /// Whether both point at the same entry (as `Arc::ptr_eq`).
    pub(crate) fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.0 == b.0
    }
}

impl<V> Deref for EntryRef<V> {
    type Target = Entry<V>;

    fn deref(&self) -> &Entry<V> {
        // SAFETY: our reference keeps the entry allocated (invariant on `holds`).
        unsafe { self.0.as_ref() }
    }
}

impl<V> Clone for EntryRef<V> {
    fn clone(&self) -> Self {
        // Relaxed: as `Arc::clone`: a new reference is made from an existing one, which keeps
        // the entry alive meanwhile; handing it to another thread synchronises by other means.
        let old = self.holds.fetch_add(ONE_REF, Ordering::Relaxed);
        if old > usize::MAX / 2 {
            // As `Arc`: so many leaked references would soon wrap the count into a
            // use-after-free; abort instead.
            std::process::abort();
        }
        EntryRef(self.0, PhantomData)
    }
}

impl<V> Drop for EntryRef<V> {
    fn drop(&mut self) {
        // Not the last reference: give ours up. Release: as `Arc`'s drop, our uses of the
        // entry happen before whoever frees it.
        let mut holds = self.holds.load(Ordering::Relaxed);
        while holds & !ALL_SLOTS != ONE_REF {
            match self.holds.compare_exchange_weak(
                holds,
                holds - ONE_REF,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => holds = now,
            }
        }
        // The last reference. It keeps its hold until the current value is dropped: given up
        // first, a reclaimer releasing a retired slot meanwhile could free the entry while we
        // read `p` (Miri's data-race detector caught that). Its count stays 1: only a
        // reference makes another. Acquire: the other references' uses happen before ours.
        fence(Ordering::Acquire);
        // The map releases its references only through the collector or with `&mut self` (rule
        // 2 of the essay), so nobody can reach the entry or its current value any more.
        let entry = self.0.as_ptr();
        // SAFETY: our hold keeps the entry allocated. (The reference is not used past the
        // release below.)
        let e = unsafe { &*entry };
        // Relaxed: ordered by the fence above.
        let p = e.p.load(Ordering::Relaxed);
        let slot = is_value(p).then(|| e.slot_of(p)).flatten();
        // Our hold and the current value's slot go in one RMW, after the value's drop (even if
        // it panics); the entry is freed then unless a retired slot still holds it.
        let _release = ReleaseHolds(entry, ONE_REF | slot.map_or(0, |i| 1 << i));
        if slot.is_some() {
            // SAFETY: the current value, unreachable now; dropped only here.
            unsafe { ptr::drop_in_place(p) };
        } else if is_value(p) {
            // SAFETY: a current value that is not a slot came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl<V> Entry<V> {
    /// The address of slot `i`.
    fn slot_ptr(&self, i: usize) -> *mut V {
        self.slots[i].get().cast()
    }

    /// Which slot `p` points at, if any (slot 0 first: a zero-sized `V` only ever uses it).
    fn slot_of(&self, p: *mut V) -> Option<usize> {
        (0..SLOTS).find(|&i| p == self.slot_ptr(i))
    }

    /// Clears `bits` of `holds`: slot bits (their values already dropped or moved out) and/or
    /// one reference, all held by the caller. Returns whether that was the entry's last hold,
    /// which makes the caller responsible for freeing it.
    fn release_holds(&self, bits: usize) -> bool {
        // Release: the next claimer's Acquire orders its write after our drop of the old value.
        // Acquire: if we free the entry, every earlier use of it happens before.
        self.holds.fetch_sub(bits, Ordering::AcqRel) == bits
    }

    /// Puts `value` into a free slot, or into a box if none is free (a key overwritten again
    /// before its previous value was reclaimed, or a zero-sized `V`).
    fn stage(&self, value: V) -> Staged<'_, V> {
        if mem::size_of::<V>() != 0 {
            // Relaxed: only a hint of which bit to try; the RMW below decides.
            let free = !self.holds.load(Ordering::Relaxed) & ALL_SLOTS;
            if free != 0 {
                let i = free.trailing_zeros() as usize;
                // Acquire: pairs with `release_holds`'s Release, so the previous value's drop
                // happens before our write.
                if self.holds.fetch_or(1 << i, Ordering::Acquire) & (1 << i) == 0 {
                    let slot = self.slot_ptr(i);
                    // SAFETY: we set the bit, so the slot is ours and uninitialised (invariant
                    // on `holds`); nobody reads it until we publish it through `p`.
                    unsafe { slot.write(value) };
                    return Staged {
                        entry: self,
                        // SAFETY: a field address is never null.
                        ptr: unsafe { NonNull::new_unchecked(slot) },
                        slot: Some(i),
                    };
                }
            }
        }
        Staged {
            entry: self,
            ptr: NonNull::from(Box::leak(Box::new(value))),
            slot: None,
        }
    }

    /// Retires a pointer just swapped out of `p` and returns it, readable for `'g`.
    ///
    /// # Safety
    /// `old` is a value pointer of this entry that this thread removed from `p` with an atomic
    /// RMW (so no other thread retires it), loaded through `guard`.
    unsafe fn retire<'g>(&'g self, old: *mut V, guard: &'g Guard<'_>) -> &'g V {
        let reclaim_slot: unsafe fn(*mut Self, &Collector) = match self.slot_of(old) {
            None => {
                // SAFETY: per the contract we own the only retirement of `old`, which (not
                // being a slot) came from `Box::into_raw`; `defer_retire` keeps it until
                // `guard` drops.
                unsafe {
                    guard.defer_retire(old, reclaim_box::<V>);
                    return &*old;
                }
            }
            Some(0) => reclaim_slot::<V, 0>,
            Some(_) => reclaim_slot::<V, 1>,
        };
        // SAFETY: the slot stays taken until `reclaim_slot` frees it, which keeps the entry
        // allocated until then (invariant on `holds`). The slot's value is unreachable for new
        // readers (swapped out of `p`), ours alone to retire, and kept until `guard` drops.
        unsafe {
            guard.defer_retire(ptr::from_ref(self).cast_mut(), reclaim_slot);
            &*old
        }
    }

    /// Go's `entry.load`: the current value, if any.
    pub(crate) fn load<'g>(&'g self, guard: &'g Guard<'_>) -> Option<&'g V> {
        // Acquire: pairs with the Release half of the RMW that published the pointer
        // (`try_swap`, `swap_locked`, `try_load_or_store`, `try_compare_and_swap`, `EntryRef::new`
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

    /// Go's `trySwap`: stores `value` unless the entry is expunged. `Ok(previous)` on success
    /// (`None` if the entry was nil); `Err(value)` if it is expunged.
    pub(crate) fn try_swap<'g>(
        &'g self,
        value: V,
        guard: &'g Guard<'_>,
    ) -> Result<Option<&'g V>, V> {
        // Acquire: as in `load` (we may hand the previous value back to the caller).
        let mut p = guard.protect(&self.p, Ordering::Acquire);
        if p == expunged() {
            return Err(value);
        }
        let mut new = self.stage(value);
        loop {
            match self.replace(p, new, guard) {
                Ok(previous) => return Ok(previous),
                Err((back, current)) => (new, p) = (back, current),
            }
            if p == expunged() {
                return Err(new.into_inner());
            }
        }
    }

    /// One attempt to replace the pointer `p` (loaded through `guard`) with `new`. On success
    /// `new` is published and the previous pointer, if a value, retired and returned; on
    /// failure `new` comes back with the pointer found instead.
    fn replace<'g>(
        &'g self,
        p: *mut V,
        new: Staged<'g, V>,
        guard: &'g Guard<'_>,
    ) -> Result<Option<&'g V>, (Staged<'g, V>, *mut V)> {
        // AcqRel on success: Release publishes `*new` to `load`'s Acquire; Acquire lets us
        // read the previous value. Acquire on failure: the caller retries on the observed
        // pointer.
        match guard.compare_exchange(&self.p, p, new.ptr(), Ordering::AcqRel, Ordering::Acquire) {
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
    pub(crate) fn swap_locked<'g>(&'g self, value: V, guard: &'g Guard<'_>) -> Option<&'g V> {
        let new = self.stage(value).publish();
        // AcqRel: as in `try_swap`.
        let p = guard.swap(&self.p, new, Ordering::AcqRel);
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
        let new = self.stage(value);
        loop {
            // AcqRel/Acquire: as in `try_swap`.
            match guard.compare_exchange(
                &self.p,
                ptr::null_mut(),
                new.ptr(),
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
        // Stage only once the comparison passed, as Go copies `new` lazily.
        let mut new = self.stage(new);
        loop {
            match self.replace(p, new, guard) {
                Ok(_) => return true,
                Err((back, current)) => {
                    (new, p) = (back, current);
                    if !is_value(p) {
                        return false; // `new` drops itself and frees its place
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
        self.delete_if(guard, |_| true)
    }

    /// The value → nil step of Go's `CompareAndDelete`: deletes only if the value equals `old`.
    pub(crate) fn try_compare_and_delete(&self, old: &V, guard: &Guard<'_>) -> bool
    where
        V: PartialEq,
    {
        self.delete_if(guard, |value| value == old).is_some()
    }

    /// Value → nil if the value satisfies `matches` (Go's `delete` and `CompareAndDelete` share
    /// this loop): returns the removed value. A new value stored meanwhile is tested again. If
    /// `matches` panics, nothing has changed.
    fn delete_if<'g>(
        &'g self,
        guard: &'g Guard<'_>,
        mut matches: impl FnMut(&V) -> bool,
    ) -> Option<&'g V> {
        // Acquire: as in `load`.
        let mut p = guard.protect(&self.p, Ordering::Acquire);
        loop {
            // SAFETY: `p` is dereferenced only once `is_value` holds, then as in `load`.
            if !is_value(p) || !matches(unsafe { &*p }) {
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::primitive::new_collector;

    #[test]
    fn expunged_is_not_a_value_and_zst_values_are() {
        assert!(!is_value(expunged::<u64>()));
        assert!(!is_value(ptr::null_mut::<u64>()));
        let e = EntryRef::new(());
        assert!(is_value(e.p.load(Ordering::Relaxed)));
        let staged = e.stage(());
        assert_eq!(staged.slot, None, "zero-sized values use slot 0 only");
        assert!(is_value(staged.ptr()));
    }

    #[test]
    fn overwrites_reuse_the_slots_once_reclaimed() {
        // Batches of one: a retired slot is reclaimed as soon as the guard that retired it ends.
        let collector = new_collector(1);
        let e = EntryRef::new(String::from("v0"));
        for i in 1..50 {
            let guard = collector.enter();
            let staged = e.stage(format!("probe{i}"));
            assert!(staged.slot.is_some(), "overwrite {i} found no free slot");
            drop(staged);
            let previous = e.try_swap(format!("v{i}"), &guard).expect("not expunged");
            assert_eq!(
                previous.map(String::as_str),
                Some(format!("v{}", i - 1).as_str())
            );
            assert_eq!(
                e.holds.load(Ordering::Relaxed),
                ONE_REF | ALL_SLOTS,
                "both slots taken"
            );
            drop(guard);
            let guard = collector.enter();
            assert_eq!(
                e.load(&guard).map(String::as_str),
                Some(format!("v{i}").as_str())
            );
        }
        drop(collector);
        let holds = e.holds.load(Ordering::Relaxed);
        assert_eq!(holds & !ALL_SLOTS, ONE_REF, "one reference");
        assert_eq!(
            (holds & ALL_SLOTS).count_ones(),
            1,
            "only the current slot is taken"
        );
    }

    #[test]
    fn a_key_overwritten_faster_than_reclamation_gets_boxes() {
        let collector = new_collector(1024);
        let guard = collector.enter();
        let e = EntryRef::new(0u64);
        assert_eq!(e.try_swap(1, &guard).ok(), Some(Some(&0))); // slot 1; slot 0 retired
        let staged = e.stage(2);
        assert_eq!(staged.slot, None, "both slots are taken until reclamation");
        drop(staged);
        assert_eq!(e.try_swap(2, &guard).ok(), Some(Some(&1)));
        assert_eq!(e.try_swap(3, &guard).ok(), Some(Some(&2)));
        assert_eq!(e.load(&guard), Some(&3));
    }

    /// Counts drops of its values, per test (each test has its own counter).
    struct Counted<'a>(&'a std::sync::atomic::AtomicUsize);

    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn the_last_reference_or_the_last_retired_slot_frees_the_entry() {
        use std::sync::atomic::AtomicUsize;
        // Last reference first, retired slot last (valgrind reports a leak or a use after free
        // if the wrong one frees the entry, or neither).
        let drops = AtomicUsize::new(0);
        let collector = new_collector(1);
        let e = EntryRef::new(Counted(&drops));
        let guard = collector.enter();
        assert!(e.try_swap(Counted(&drops), &guard).is_ok());
        drop(e);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            1,
            "the current value goes with the entry"
        );
        drop(guard);
        drop(collector);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            2,
            "the retired value goes when reclaimed"
        );

        // Retired slot first, last reference last.
        let drops = AtomicUsize::new(0);
        let collector = new_collector(1);
        let e = EntryRef::new(Counted(&drops));
        let guard = collector.enter();
        assert!(e.try_swap(Counted(&drops), &guard).is_ok());
        drop(guard);
        drop(collector);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        let second = EntryRef::clone(&e);
        drop(e);
        assert_eq!(drops.load(Ordering::Relaxed), 1, "a reference is left");
        drop(second);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn state_machine_transitions() {
        let collector = new_collector(8);
        let guard = collector.enter();
        let e = EntryRef::new(1);
        assert_eq!(e.load(&guard), Some(&1));
        assert!(!e.try_expunge_locked(), "a value is never expunged");
        assert_eq!(e.delete(&guard), Some(&1));
        assert_eq!(e.delete(&guard), None);
        assert!(e.try_expunge_locked());
        assert!(e.is_expunged_locked());
        assert!(e.try_swap(2, &guard).is_err());
        assert_eq!(e.try_load_or_store(3, &guard).err(), Some(3));
        assert!(!e.try_compare_and_swap(&1, 4, &guard));
        assert!(e.unexpunge_locked());
        assert!(!e.unexpunge_locked());
        assert_eq!(e.try_load_or_store(5, &guard).ok(), Some((&5, false)));
        assert_eq!(e.try_load_or_store(6, &guard).ok(), Some((&5, true)));
        assert!(e.try_compare_and_swap(&5, 7, &guard));
        assert!(!e.try_compare_and_delete(&5, &guard));
        assert!(e.try_compare_and_delete(&7, &guard));
        assert_eq!(e.swap_locked(8, &guard), None);
        assert_eq!(e.try_swap(9, &guard).ok(), Some(Some(&8)));
        assert!(e.expunge_detached(&guard));
        assert!(!e.has_value());
    }
}
