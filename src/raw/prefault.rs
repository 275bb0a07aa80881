//! Faulting in a new bucket array's pages off the writing thread.
//!
//! A growth's new array is allocated untouched, so every page of it is first touched by some
//! write's evacuation, which then pays the kernel's page fault (zeroing 4 KiB, more on a
//! virtual machine): a few microseconds on one write in every few dozen, the bulk of the
//! 99.9th/99.99th percentile of insert latency measured here. On Linux, arrays of at least
//! [`MIN_PREFAULT_BYTES`] are handed to one background thread that faults their pages in
//! ahead of the evacuation with `madvise(MADV_POPULATE_WRITE)`.
//!
//! Populating is safe whatever happens to the array meanwhile: it never changes memory
//! contents (a populated page reads as it did), and on a range no longer mapped the call
//! fails harmlessly. So the thread needs no handshake with the map: if the map frees the array
//! (or the allocator reuses the memory) before the thread gets there, nothing changes.

/// Arrays smaller than this fault in quickly enough on the writing thread.
pub(crate) const MIN_PREFAULT_BYTES: usize = 2 << 20;

/// Asks the background thread to fault in `start..start + len` (best effort).
#[cfg(target_os = "linux")]
pub(crate) fn prefault(start: *mut u8, len: usize) {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::OnceLock;

    static WORKER: OnceLock<Option<Sender<(usize, usize)>>> = OnceLock::new();
    let worker = WORKER.get_or_init(|| {
        let (tx, rx) = channel::<(usize, usize)>();
        std::thread::Builder::new()
            .name("gomap-prefault".into())
            .spawn(move || {
                for (start, len) in rx {
                    populate(start, len);
                }
            })
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = worker {
        let page = 4096;
        let aligned = (start as usize + page - 1) & !(page - 1);
        let end = (start as usize + len) & !(page - 1);
        if end > aligned {
            // A send fails only if the thread is gone; faulting on the writing thread is the
            // fallback that would happen anyway.
            let _ = tx.send((aligned, end - aligned));
        }
    }
}

/// Faults in the whole pages of `start..start + len`, a chunk at a time, stopping at the first
/// failure (a range no longer mapped, or a kernel without `MADV_POPULATE_WRITE`). Returns
/// whether every chunk succeeded.
#[cfg(target_os = "linux")]
fn populate(start: usize, len: usize) -> bool {
    /// Pages populated per call: the call holds the kernel's memory-map lock, which an
    /// allocation or free on the writing thread may need, so it stays short (8 pages).
    const CHUNK: usize = 32 << 10;
    let mut at = start;
    while at < start + len {
        let n = CHUNK.min(start + len - at);
        // SAFETY: MADV_POPULATE_WRITE only faults pages in, never changes their contents; on
        // an unmapped range it fails. See the module doc.
        let r = unsafe { libc::madvise(at as *mut libc::c_void, n, libc::MADV_POPULATE_WRITE) };
        if r != 0 {
            return false;
        }
        at += n;
    }
    true
}

/// No background faulting outside Linux: the writes fault the pages in themselves.
#[cfg(not(target_os = "linux"))]
pub(crate) fn prefault(_start: *mut u8, _len: usize) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn populating_keeps_contents_and_tolerates_unmapped_ranges() {
        let page = 4096;
        let mut buf = vec![0u8; 64 * page];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        let start = (buf.as_ptr() as usize + page - 1) & !(page - 1);
        assert!(populate(start, 32 * page), "MADV_POPULATE_WRITE works here");
        assert!(buf
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i * 7 % 251) as u8));
        // The lowest page of the address space is never mapped: the call fails, harmlessly.
        assert!(!populate(0, page));
        // The background path: hand a range over, and the memory stays intact.
        prefault(buf.as_mut_ptr(), buf.len());
        assert!(buf
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i * 7 % 251) as u8));
    }
}
