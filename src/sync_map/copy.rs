//! The cursor of the incremental dirty-map copy: Go's `dirtyLocked` loop, resumable.
//!
//! The snapshot's map is immutable and stays alive as long as it is the current snapshot, which
//! it remains for the whole copy (a promotion waits for the copy to finish; `clear` and the map's
//! drop discard the cursor first). So an iterator over it can be kept across operations; its
//! borrow is erased to store it in the map's mutex-protected state.

use super::entry::EntryRef;
use super::ReadOnly;

/// A pair of the snapshot, as raw pointers valid while that snapshot is current.
type Item<K, V> = (*const K, *const EntryRef<V>);

/// Where the copy of one snapshot into the dirty map stands.
pub(super) struct CopyCursor<K, V> {
    /// The next pair of the snapshot's map, from an iterator that borrows it (lifetime erased).
    next: Box<dyn FnMut() -> Option<Item<K, V>>>,
    /// The pair being copied; kept until `advance`, so a panic in user code retries it.
    current: Option<Item<K, V>>,
    /// The snapshot walked (for a debug check).
    snapshot: *const (),
}

impl<K, V> CopyCursor<K, V> {
    /// A cursor at the start of `read`'s map.
    ///
    /// # Safety
    /// The cursor must not be used after `read` is freed, and `read` must not change meanwhile
    /// (snapshots never change). Dropping it does not touch `read`.
    pub(super) unsafe fn new<S>(read: &ReadOnly<K, V, S>) -> Self {
        let mut iter = read.m.iter();
        let next: Box<dyn FnMut() -> Option<Item<K, V>> + '_> =
            Box::new(move || iter.next().map(|(k, e)| (k as *const K, e as *const _)));
        // SAFETY: only the closure's lifetime changes (same layout); the caller promises it is
        // called only while `read` is alive, and dropping it (an iterator over shared
        // references) does not access `read`.
        let next = unsafe {
            std::mem::transmute::<
                Box<dyn FnMut() -> Option<Item<K, V>> + '_>,
                Box<dyn FnMut() -> Option<Item<K, V>>>,
            >(next)
        };
        CopyCursor {
            next,
            current: None,
            snapshot: (read as *const ReadOnly<K, V, S>).cast(),
        }
    }

    /// The pair to copy next, or `None` when the copy is complete.
    pub(super) fn peek(&mut self) -> Option<Item<K, V>> {
        if self.current.is_none() {
            self.current = (self.next)();
        }
        self.current
    }

    /// The pair returned by `peek` is copied.
    pub(super) fn advance(&mut self) {
        self.current = None;
    }

    /// Whether this cursor walks `read`.
    pub(super) fn is_over<S>(&self, read: &ReadOnly<K, V, S>) -> bool {
        std::ptr::eq(self.snapshot, (read as *const ReadOnly<K, V, S>).cast())
    }
}
