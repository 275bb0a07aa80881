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
//! * under `cfg(loom)` it is a trivially correct stand-in that frees nothing before the collector
//!   itself is dropped. `seize` is not built for loom (its thread-locals and `membarrier` calls are
//!   invisible to the model), and what loom must check is *our* entry state machine and promotion
//!   protocol, not seize's internals. The stand-in still records every retirement, so a double
//!   retirement or a leak still shows up as a double free or a leak.

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
    use super::{AtomicPtr, Ordering};
    use std::sync::Mutex;

    /// Stand-in for the `seize::Guard` trait (the loom guard's methods are inherent).
    pub(crate) trait GuardApi {}

    type Reclaim = (*mut (), unsafe fn(*mut (), &Collector));

    /// Loom stand-in for `seize::Collector`: retirement is deferred to the collector's drop.
    /// Its list sits behind a `std` mutex on purpose: it is bookkeeping, not part of the model.
    #[derive(Debug, Default)]
    pub(crate) struct Collector {
        retired: Mutex<Vec<Reclaim>>,
    }

    // SAFETY: the retired pointers are owned by the collector; the map's `Send`/`Sync` bounds
    // already require that the values behind them may be dropped on any thread.
    unsafe impl Send for Collector {}
    // SAFETY: the only shared state is behind the mutex.
    unsafe impl Sync for Collector {}

    impl Collector {
        pub(crate) fn enter(&self) -> Guard<'_> {
            Guard { collector: self }
        }

        /// # Safety
        /// As `seize::Collector::retire`: `ptr` is unreachable for new readers.
        pub(crate) unsafe fn retire<T>(&self, ptr: *mut T, reclaim: unsafe fn(*mut T, &Collector)) {
            // SAFETY: only the pointee type is erased; the function is called with the same
            // pointer it was given, cast back to `*mut T`.
            let reclaim: unsafe fn(*mut (), &Collector) = unsafe { std::mem::transmute(reclaim) };
            self.retired.lock().unwrap().push((ptr.cast(), reclaim));
        }
    }

    impl Drop for Collector {
        fn drop(&mut self) {
            // Reclaimers may retire more (a snapshot drops entries); loop until quiet.
            loop {
                let batch = std::mem::take(&mut *self.retired.lock().unwrap());
                if batch.is_empty() {
                    break;
                }
                for (ptr, reclaim) in batch {
                    // SAFETY: `&mut self`: no guard is alive, so nothing retired is reachable.
                    unsafe { reclaim(ptr, self) };
                }
            }
        }
    }

    /// Loom stand-in for `seize::LocalGuard`.
    #[derive(Debug)]
    pub(crate) struct Guard<'a> {
        collector: &'a Collector,
    }

    impl Guard<'_> {
        /// As `seize::Guard::thread_id`; one id is enough for the stand-in.
        pub(crate) fn thread_id(&self) -> usize {
            0
        }
        pub(crate) fn protect<T>(&self, ptr: &AtomicPtr<T>, order: Ordering) -> *mut T {
            ptr.load(order)
        }
        pub(crate) fn swap<T>(&self, ptr: &AtomicPtr<T>, new: *mut T, order: Ordering) -> *mut T {
            ptr.swap(new, order)
        }
        pub(crate) fn compare_exchange<T>(
            &self,
            ptr: &AtomicPtr<T>,
            current: *mut T,
            new: *mut T,
            success: Ordering,
            failure: Ordering,
        ) -> Result<*mut T, *mut T> {
            ptr.compare_exchange(current, new, success, failure)
        }
        /// # Safety
        /// As `seize::Guard::defer_retire`.
        pub(crate) unsafe fn defer_retire<T>(
            &self,
            ptr: *mut T,
            reclaim: unsafe fn(*mut T, &Collector),
        ) {
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
        Collector::default()
    }
}
