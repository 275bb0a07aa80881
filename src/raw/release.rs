//! Returning a bucket array's memory to the OS a few pages per write.
//!
//! Freeing a large populated array makes the kernel unmap every page of it: about 10 ms per
//! 128 MB measured here, more when other processes contend for the kernel's page lists. Done
//! in one call, that would land on the single write that finishes a growth, the very pause
//! incremental growth exists to avoid. So the old array is released piecemeal:
//! - while growing, the pages of old buckets below `nevacuate` (evacuated, never read again);
//! - once the growth is over, the rest (the tail and the overflow pool) while the array waits
//!   in `RawMap::retired`; the final `free` then finds almost nothing left to unmap.
//!
//! Only arrays of at least [`MIN_RELEASED_BYTES`] are released this way. Each step releases
//! at most [`PAGES_PER_STEP`] pages with `madvise(MADV_DONTNEED)`, which
//! drops their contents but keeps the mapping valid until the allocation is freed.

/// Pages released per write: a few microseconds of kernel time, even on a busy machine.
pub(crate) const PAGES_PER_STEP: usize = 4;

/// Arrays smaller than this are freed at once when their growth ends. Freeing one costs at
/// most an unmap, if the allocator mapped it on its own: 0.15-0.2 ms for 2 MiB, 0.3-0.4 ms for
/// 4 MiB measured here (populated anonymous mappings, best and worst of ten). Releasing it
/// piecemeal costs a syscall per few writes, and when the allocator had carved the array from
/// its heap instead (glibc does for every block under its mmap threshold, which rises up to
/// 32 MiB as a process frees large blocks), nothing was going to be unmapped and the
/// allocator gets cold, zeroed pages back, to fault in again when it reuses the memory: with
/// 2 MiB here, a map of 10^5 `String` keys (whose 2.2 MB array was released) took 655 page
/// faults per fill from empty, against 93 with 4 MiB, and 48-57 against 41 ns per insert
/// (a scratch driver, median of 40 fills, glibc's thresholds fixed as `gomap bench` fixes
/// them; hashbrown: 21 ns, 87 faults).
pub(crate) const MIN_RELEASED_BYTES: usize = 4 << 20;

/// How far a range has been released: pages below `released_to` are gone.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Releaser {
    /// Absolute address (page-aligned) up to which pages were released; 0 = none yet.
    pub(super) released_to: usize,
}

fn page_size() -> usize {
    #[cfg(unix)]
    {
        use std::sync::OnceLock;
        static PAGE: OnceLock<usize> = OnceLock::new();
        // SAFETY: sysconf has no preconditions.
        *PAGE.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            n if n > 0 => n as usize,
            _ => 4096,
        })
    }
    #[cfg(not(unix))]
    {
        4096
    }
}

impl Releaser {
    /// Releases up to `PAGES_PER_STEP` whole pages of `base..limit` past those already
    /// released. Returns whether every whole page of the range is released.
    ///
    /// # Safety
    /// `base..limit` lies inside one live allocation, and nothing in `base..limit` will be
    /// read again before it is written (released pages read back as zeroes, or keep their
    /// old contents, depending on the mapping).
    pub(crate) unsafe fn step(&mut self, base: usize, limit: usize) -> bool {
        let page = page_size();
        let start = self.released_to.max((base + page - 1) & !(page - 1));
        let end = (limit & !(page - 1)).min(start + PAGES_PER_STEP * page);
        if end > start {
            #[cfg(unix)]
            // SAFETY: `start..end` is page-aligned, inside the allocation and unused (caller).
            // MADV_DONTNEED is advice about memory we own; it cannot invalidate the mapping.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
            self.released_to = end;
        }
        end.max(start) >= (limit & !(page - 1))
    }

    /// Bytes from `base` up to which memory may have been released.
    pub(crate) fn released_from(&self, base: usize) -> usize {
        self.released_to.saturating_sub(base)
    }
}
