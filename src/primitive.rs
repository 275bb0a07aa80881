//! The only place that chooses between `std` and `loom` synchronisation primitives.
//!
//! Everything concurrent in the crate (today: [`crate::SyncMap`]) imports its atomics, its mutex
//! and its memory-reclamation collector from here, so that `RUSTFLAGS="--cfg loom"` swaps every
//! one of them for a model-checked version at once (see `tests/loom_sync_map.rs`).
//!
//! Reclamation has two implementations with one interface (`Collector`, `Guard`, `reclaim_box`):
//!
//! * normally it is [`seize`]'s collector (the choice and its measurements are explained in
//!   `sync_map/mod.rs`);
//! * under `cfg(loom)` it is a simple, conservative stand-in: a retired pointer is reclaimed
//!   when no guard is active any more (or when the collector is dropped). `seize` is not built
//!   for loom (its thread-locals and `membarrier` calls are invisible to the model), and what
//!   loom must check is *our* entry state machine, slot reuse and promotion protocol, not
//!   seize's internals. Reclaiming while the model runs lets loom explore slots freed and
//!   claimed again between operations; every retirement is recorded, so a double retirement or
//!   a leak still shows up as a double free or a leak.

#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations, clippy::undocumented_unsafe_blocks)]

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize},
    Mutex, MutexGuard,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize},
    Mutex, MutexGuard,
};

pub(crate) use std::sync::atomic::Ordering;

#[cfg(not(loom))]
pub(crate) use self::seize_reclaim::*;

#[cfg(loom)]
pub(crate) use self::loom_reclaim::*;

#[cfg(not(loom))]
mod seize_reclaim {
    pub(crate) use seize::{Collector, Guard as GuardApi, LocalGuard as Guard};

    /// Frees a pointer that came from `Box::into_raw`; the reclaimer for retired boxes.
    ///
    /// # Safety
    /// `ptr` came from `Box::into_raw` and no thread can reach it any more.
    pub(crate) unsafe fn reclaim_box<T>(ptr: *mut T, _collector: &Collector) {
        // SAFETY: the caller owes us a unique, `Box`-allocated pointer.
        drop(unsafe { Box::from_raw(ptr) });
    }

    /// A new collector for one map.
    pub(crate) fn new_collector(batch_size: usize) -> Collector {
        Collector::new().batch_size(batch_size)
    }
}

#[cfg(loom)]
mod loom_reclaim {
    use super::{AtomicPtr, Mutex, Ordering};

    /// Stand-in for the `seize::Guard` trait: the methods the map calls, with seize's meaning.
    pub(crate) trait GuardApi {
        /// As `seize::Guard::thread_id`.
        fn thread_id(&self) -> usize;
        /// As `seize::Guard::protect` (a plain load: the stand-in protects by guard count).
        fn protect<T>(&self, ptr: &AtomicPtr<T>, order: Ordering) -> *mut T {
            ptr.load(order)
        }
        /// As `seize::Guard::swap`.
        fn swap<T>(&self, ptr: &AtomicPtr<T>, new: *mut T, order: Ordering) -> *mut T {
            ptr.swap(new, order)
        }
        /// As `seize::Guard::compare_exchange`.
        fn compare_exchange<T>(
            &self,
            ptr: &AtomicPtr<T>,
            current: *mut T,
            new: *mut T,
            success: Ordering,
            failure: Ordering,
        ) -> Result<*mut T, *mut T> {
            ptr.compare_exchange(current, new, success, failure)
        }
        /// As `seize::Guard::defer_retire`.
        ///
        /// # Safety
        /// As `seize::Guard::defer_retire`.
        unsafe fn defer_retire<T>(&self, ptr: *mut T, reclaim: unsafe fn(*mut T, &Collector));
    }

    type Reclaim = (*mut (), unsafe fn(*mut (), &Collector));

    /// Loom stand-in for `seize::Collector`: a retired pointer is reclaimed once no guard is
    /// active any more (when the last one drops), which is later than seize would, never
    /// earlier: every guard that was active at a retirement has ended by then. So loom also
    /// explores reclamation racing the map's operations (an entry's slot freed and claimed
    /// again). The bookkeeping sits behind a loom mutex, so the model sees what seize's fences
    /// guarantee: a guard entered after a reclamation sees every store made before the
    /// retirement (without that edge, loom would let it load a freed snapshot pointer).
    #[derive(Debug)]
    pub(crate) struct Collector {
        state: Mutex<State>,
    }

    #[derive(Debug)]
    struct State {
        /// Guards alive, on every thread.
        active: usize,
        /// Retired since the last time no guard was active.
        retired: Vec<Reclaim>,
    }

    // SAFETY: the retired pointers are owned by the collector; the map's `Send`/`Sync` bounds
    // already require that the values behind them may be dropped on any thread.
    unsafe impl Send for Collector {}
    // SAFETY: the only shared state is behind the mutex.
    unsafe impl Sync for Collector {}

    impl Collector {
        pub(crate) fn enter(&self) -> Guard<'_> {
            self.state.lock().unwrap().active += 1;
            Guard { collector: self }
        }

        /// # Safety
        /// As `seize::Collector::retire`: `ptr` is unreachable for new readers.
        pub(crate) unsafe fn retire<T>(&self, ptr: *mut T, reclaim: unsafe fn(*mut T, &Collector)) {
            // SAFETY: only the pointee type is erased; the function is called with the same
            // pointer it was given, cast back to `*mut T`.
            let reclaim: unsafe fn(*mut (), &Collector) = unsafe { std::mem::transmute(reclaim) };
            self.state
                .lock()
                .unwrap()
                .retired
                .push((ptr.cast(), reclaim));
        }

        /// Runs the reclaimers of `batch`.
        ///
        /// # Safety
        /// Nothing in `batch` is reachable: every guard active at its retirement has ended.
        unsafe fn reclaim(&self, batch: Vec<Reclaim>) {
            for (ptr, reclaim) in batch {
                // SAFETY: per the contract, and each pointer was retired once.
                unsafe { reclaim(ptr, self) };
            }
        }
    }

    impl Drop for Collector {
        fn drop(&mut self) {
            // Reclaimers may retire more (a snapshot drops entries); loop until quiet.
            loop {
                let batch = std::mem::take(&mut self.state.lock().unwrap().retired);
                if batch.is_empty() {
                    break;
                }
                // SAFETY: `&mut self`: no guard is alive, so nothing retired is reachable.
                unsafe { self.reclaim(batch) };
            }
        }
    }

    /// Loom stand-in for `seize::LocalGuard`.
    #[derive(Debug)]
    pub(crate) struct Guard<'a> {
        collector: &'a Collector,
    }

    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            let batch = {
                let mut state = self.collector.state.lock().unwrap();
                state.active -= 1;
                if state.active == 0 {
                    std::mem::take(&mut state.retired)
                } else {
                    Vec::new()
                }
            };
            // SAFETY: the list was taken when no guard was active, so every guard active at
            // each retirement in it has ended; what was retired after is not in it.
            unsafe { self.collector.reclaim(batch) };
        }
    }

    impl GuardApi for Guard<'_> {
        fn thread_id(&self) -> usize {
            0 // one id is enough for the stand-in
        }
        unsafe fn defer_retire<T>(&self, ptr: *mut T, reclaim: unsafe fn(*mut T, &Collector)) {
            // SAFETY: forwarded contract.
            unsafe { self.collector.retire(ptr, reclaim) }
        }
    }

    /// Frees a pointer that came from `Box::into_raw`.
    ///
    /// # Safety
    /// `ptr` came from `Box::into_raw` and no thread can reach it any more.
    pub(crate) unsafe fn reclaim_box<T>(ptr: *mut T, _collector: &Collector) {
        // SAFETY: the caller owes us a unique, `Box`-allocated pointer.
        drop(unsafe { Box::from_raw(ptr) });
    }

    /// A new collector for one map.
    pub(crate) fn new_collector(_batch_size: usize) -> Collector {
        Collector {
            state: Mutex::new(State {
                active: 0,
                retired: Vec::new(),
            }),
        }
    }
}
