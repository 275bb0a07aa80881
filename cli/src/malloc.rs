//! The malloc settings every timed benchmark runs under: `gomap bench` and the criterion
//! benches (`benches/hashmap.rs` includes this file), so that both measure the maps, not the
//! allocator's history.

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
/// before. Measured with a scratch driver (growing inserts at 10^5 entries, median of 1.5 s of
/// rounds): gomap then hashbrown, 23.3 and 16.6 ns per insert with 400 and 1 faults per round;
/// hashbrown then gomap, 28.4 and 33.7 ns with 1,055 and 805 faults. With the thresholds
/// fixed, 17.8 and 13.9 ns in either order, at most one fault per round. Arrays past
/// [`MMAP_THRESHOLD`] (the 10^7 sizes) are still mapped afresh, for every map. Returns what it
/// set, for the report.
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
