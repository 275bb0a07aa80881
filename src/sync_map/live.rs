//! `len`'s counter of entries holding a value, striped so that writers on different cores do not
//! bounce one cache line.
//!
//! Every store that adds a key and every delete changes the count. With one shared atomic, two
//! threads writing different keys still take turns owning its cache line, which in write-heavy
//! mixes at 2 threads costs as much as the rest of the operation. Each thread adds to the
//! stripe of its seize thread id instead (as papaya counts its length), and `len` sums the
//! stripes.

use std::sync::OnceLock;

use crate::primitive::{AtomicIsize, Guard, GuardApi as _, Ordering};

/// One stripe, alone on its cache lines: 128 bytes because the adjacent-line prefetcher of
/// x86 cores fetches lines in pairs.
#[repr(align(128))]
struct Stripe(AtomicIsize);

/// The count, as the sum of one signed stripe per (hashed) thread.
///
/// Invariant: the sum of the stripes is the number of entries holding a value whenever no
/// update is in flight; a single stripe may be negative (a key added on one thread, removed on
/// another).
pub(super) struct LiveCount {
    /// A power of two of them.
    stripes: Box<[Stripe]>,
}

/// Stripes per map: the number of CPUs rounded up to a power of two, computed once (it is a
/// system call).
fn stripe_count() -> usize {
    if cfg!(loom) {
        return 1; // the loom guard stand-in has a single thread id
    }
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 64)
            .next_power_of_two()
    })
}

impl LiveCount {
    /// A count starting at `n`.
    pub(super) fn new(n: usize) -> Self {
        // A map holds far fewer than `isize::MAX` entries (each takes memory).
        let stripes = (0..stripe_count())
            .map(|i| Stripe(AtomicIsize::new(if i == 0 { n as isize } else { 0 })))
            .collect();
        LiveCount { stripes }
    }

    /// Adds `delta` on the calling thread's stripe.
    pub(super) fn add(&self, delta: isize, guard: &Guard<'_>) {
        let stripe = &self.stripes[guard.thread_id() & (self.stripes.len() - 1)];
        // Relaxed: a statistic; no data is read through it (see `SyncMap::len`).
        stripe.0.fetch_add(delta, Ordering::Relaxed);
    }

    /// The sum of the stripes, clamped at zero (see `SyncMap::len` for what it guarantees).
    pub(super) fn sum(&self) -> usize {
        let total: isize = self
            .stripes
            .iter()
            // Relaxed: as in `add`.
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum();
        total.max(0) as usize
    }
}
