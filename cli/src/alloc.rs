//! The benchmarks' allocator: a counting global allocator, for heap bytes per entry of maps
//! that do not report their own memory (std's), and the fixed malloc settings every timed
//! workload runs under ([`pin_malloc_thresholds`]). Counting is off except inside [`measure`],
//! so the timed workloads run on the plain system allocator with one relaxed load and branch
//! per (de)allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// Whether (de)allocations are counted. Relaxed everywhere: only the thread that turns
/// counting on allocates while it is on (the benchmarks are single-threaded), so no other
/// memory is published through these atomics.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed while counting was on.
static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting while [`measure`] runs.
#[derive(Debug)]
pub struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so it keeps
// `System`'s contract; the counters never affect what is returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: `ptr` came from this allocator (hence from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which `System` shares.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `build` with counting on and returns its result and the heap bytes it left allocated.
/// Frees of memory allocated before the call would be miscounted, so `build` must only free
/// what it allocated itself (true of building a map from nothing).
pub fn measure<T>(build: impl FnOnce() -> T) -> (T, isize) {
    let before = LIVE.load(Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let value = build();
    COUNTING.store(false, Ordering::Relaxed);
    (value, LIVE.load(Ordering::Relaxed) - before)
}

/// Requests from this size on are mapped afresh by glibc's malloc (and unmapped when freed):
/// its largest allowed mmap threshold on 64-bit systems, so only the arrays of maps of
/// millions of entries are, and they are for every map.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 32 << 20;

/// Fixes glibc malloc's mmap and trim thresholds for this process, so that the allocator's
/// history does not pick which map gets fresh memory. Left to itself, glibc moves both
/// thresholds up as large blocks are freed and gives memory back to the kernel when the top of
/// the heap is free for long enough: whether a map's next bucket array is recycled heap (warm
/// pages) or fresh pages (a page fault per 4 KiB on first touch) then depends on what ran
/// before. Measured (growing inserts at 10^5 entries, median of 1.5 s of rounds): gomap then
/// hashbrown, 23.3 and 16.6 ns per insert with 400 and 1 faults per round; hashbrown then
/// gomap, 28.4 and 33.7 ns with 1,055 and 805 faults. With the thresholds fixed, 17.8 and
/// 13.9 ns in either order, at most one fault per round. Arrays past [`MMAP_THRESHOLD`] (the
/// 10^7 sizes) are still mapped afresh, for every map. Returns what it set, for the report.
pub fn pin_malloc_thresholds() -> &'static str {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes glibc's tuning parameters (under its own lock); it
        // runs before any benchmark allocates.
        let set = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
        };
        if set {
            return "glibc malloc, mmap threshold 32 MiB, no trimming";
        }
    }
    "system allocator, default settings"
}
