//! Iteration: a random start and slot offset per iterator (Go's `mapiterinit`), correct in
//! the middle of a growth.
//!
//! The iterator walks *units*. Not growing, a unit is a main bucket's chain. Growing, a unit
//! is an old bucket: its own chain while unevacuated, else the new buckets it evacuated into.
//! Shrinking, a unit is a new bucket (if initialised) plus the unevacuated old buckets that
//! merge into it. Each entry is in exactly one chain of exactly one unit, so it is yielded
//! once. Units are visited from a random start, wrapping around; slots within each bucket from
//! a random offset. The map cannot change while a `RawIter` is used (it is tied to a borrow,
//! or to the owning iterator that only ever empties slots it already yielded).

use super::bucket::{ArrayRef, Bucket, BucketLayout, BUCKET_CNT};
use super::tophash::SlotMask;
use super::{RawMap, Slot};
use crate::hash::random_u64;

/// How many main buckets ahead of the walk `fold` starts loading an overflow bucket: about a
/// memory latency's worth of buckets (10 to 20 ns of work each at 10^7 entries). 16 and 32
/// measured the same, 8 slower.
const OVERFLOW_PREFETCH_DISTANCE: usize = 16;

/// From this array size on a walk is memory-bound (measured; this machine has 1 MiB of L2 per
/// core, which the walk shares with the rest of the program's data): `fold` walks main buckets
/// [`GROUP`] at a time ([`RawIter::fold_streaming`]), and both walks prefetch overflow
/// buckets. Against one bucket at a time, the groups measured 0.95 against 0.75 ns per entry
/// at 10^4 entries and 1.0 against 0.83 at 10^3 (best of eight rounds; fold summing u64
/// values), where the array is cached and the merge's extra work per entry shows, and about
/// even at 5 * 10^4 (a 1.2 MB array). The prefetch took a `for` loop at 10^7 from 5.1 to
/// 3.5 ns per entry, and cost 8 % at 10^3.
const STREAMING_MIN_BYTES: usize = 512 << 10;

/// Main buckets per step of [`RawIter::fold_streaming`] (their slot sets share a `u64`, 16 bits
/// each). Four against the two of an earlier version (fold summing u64 values, best of eight
/// rounds, both in one process): 1.08 against 1.14 ns per entry at 10^5 entries, 1.61 against
/// 1.88 at 2 * 10^5, 1.92 against 2.54 at 10^6, 2.17 against 2.55 at 10^7.
const GROUP: usize = 4;

/// Folds `f` over the slots of `bucket` in `full`, a slot set rotated by `offset` (see
/// [`SlotMask::rotate`]): from slot `offset` on, then the ones before (Go's random start
/// offset inside every bucket).
#[inline(always)]
fn fold_bucket<K, V, B>(
    f: &mut impl FnMut(B, Slot<K, V>) -> B,
    acc: B,
    bucket: Bucket<K, V>,
    offset: usize,
    full: SlotMask,
) -> B {
    full.fold(acc, |acc, r| {
        f(
            acc,
            Slot {
                bucket,
                index: (r + offset) & (BUCKET_CNT - 1),
            },
        )
    })
}

/// Folds `f` over the full slots of `chain` and the buckets after it, each bucket's from the
/// slot `offset` on.
///
/// # Safety
/// `chain` is `None` or a live bucket whose chain stays live meanwhile.
#[inline(always)]
unsafe fn fold_chain<K, V, B>(
    f: &mut impl FnMut(B, Slot<K, V>) -> B,
    mut acc: B,
    mut chain: Option<Bucket<K, V>>,
    offset: usize,
) -> B {
    while let Some(bucket) = chain {
        // SAFETY: `bucket` is live (the caller's promise for the first; a live bucket's
        // overflow link for the others).
        let full = unsafe { bucket.group() }.match_full().rotate(offset);
        acc = fold_bucket(f, acc, bucket, offset, full);
        // SAFETY: as above.
        chain = unsafe { bucket.overflow() };
    }
    acc
}

/// A cursor over the full slots of a map. Holds no borrow: the caller ties it to one.
pub(crate) struct RawIter<K, V> {
    new: Option<ArrayRef<K, V>>,
    old: Option<ArrayRef<K, V>>,
    /// The map's `nevacuate` (fixed while the iterator is in use).
    nevacuate: usize,
    /// Number of units, a power of two.
    units: usize,
    start: usize,
    /// Units started so far (the current one included).
    visited: usize,
    /// Current unit and the next part of it to visit.
    unit: usize,
    part: usize,
    /// Current bucket (`None` between chains) and its full slots not yet yielded (rotated by
    /// `offset`).
    bucket: Option<Bucket<K, V>>,
    /// The current bucket, for the hot path. Invariant: a live bucket whenever `full` is not
    /// empty (a dangling placeholder before the first bucket, never dereferenced).
    current: Bucket<K, V>,
    head: Option<Bucket<K, V>>,
    full: SlotMask,
    offset: usize,
    /// Entries not yet yielded; iteration ends when it reaches zero.
    remaining: usize,
}

// A `RawIter` is a cursor: it owns nothing and reads only tophash bytes and overflow links,
// through whatever borrow or ownership of the map its holder ties it to. So, as hashbrown's
// `RawIter`, it is `Send` and `Sync` itself, and each iterator built on it gets the bounds std
// gives it from that borrow or ownership (`Iter` holds a `&RawMap`, `IntoIter` the `RawMap`,
// `Drain` a `&mut RawMap`, ...), which carry the `K` and `V` bounds.
// SAFETY: the cursor owns no `K` or `V`; its holder's borrow or ownership carries their bounds.
unsafe impl<K, V> Send for RawIter<K, V> {}
// SAFETY: as above; `&RawIter` allows reading the cursor's own fields only.
unsafe impl<K, V> Sync for RawIter<K, V> {}

impl<K, V> Clone for RawIter<K, V> {
    fn clone(&self) -> Self {
        RawIter { ..*self }
    }
}

impl<K, V> RawIter<K, V> {
    pub(super) fn new(map: &RawMap<K, V>) -> Self {
        let new = map.buckets.as_ref().map(|a| a.get());
        let old = map.oldbuckets.as_ref().map(|a| a.get());
        let units = match (new, old) {
            (None, _) => 1,
            (Some(n), Some(o)) if n.b() >= o.b() => o.len(),
            (Some(n), _) => n.len(),
        };
        let r = if map.count == 0 { 0 } else { random_u64() };
        RawIter {
            new,
            old,
            nevacuate: map.nevacuate,
            units,
            start: r as usize & (units - 1),
            visited: 0,
            unit: 0,
            part: 0,
            bucket: None,
            current: Bucket::from_ptr(core::ptr::NonNull::dangling()),
            head: None,
            full: SlotMask::default(),
            offset: (r >> 61) as usize & (BUCKET_CNT - 1),
            remaining: map.count,
        }
    }

    /// Entries left to yield.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// The head of the chain the last yielded slot belongs to.
    #[inline]
    pub(crate) fn current_head(&self) -> Bucket<K, V> {
        self.head.expect("called after a slot was yielded")
    }

    /// Part `part` of unit `unit`: `Some(Some(head))` a chain to walk, `Some(None)` a part to
    /// skip, `None` past the last part.
    fn part(&self, unit: usize, part: usize) -> Option<Option<Bucket<K, V>>> {
        let new = self.new?;
        match self.old {
            None => (part == 0).then(|| Some(new.bucket(unit))),
            Some(old) if new.b() >= old.b() => {
                if !RawMap::old_evacuated(old, self.nevacuate, unit) {
                    (part == 0).then(|| Some(old.bucket(unit)))
                } else {
                    let k = new.b() - old.b();
                    (part < 1 << k).then(|| Some(new.bucket(unit + (part << old.b()))))
                }
            }
            Some(old) => {
                let siblings = 1usize << (old.b() - new.b());
                let sibling = |s: usize| unit + (s << new.b());
                if part == 0 {
                    let initialised = (0..siblings)
                        .any(|s| RawMap::old_evacuated(old, self.nevacuate, sibling(s)));
                    Some(initialised.then(|| new.bucket(unit)))
                } else if part <= siblings {
                    let i = sibling(part - 1);
                    Some((!RawMap::old_evacuated(old, self.nevacuate, i)).then(|| old.bucket(i)))
                } else {
                    None
                }
            }
        }
    }

    fn enter(&mut self, bucket: Bucket<K, V>) {
        self.bucket = Some(bucket);
        self.current = bucket;
        // SAFETY: `bucket` is in a live chain of the map this iterator is tied to.
        self.full = unsafe { bucket.group() }.match_full().rotate(self.offset);
    }

    /// The next full slot, or `None` when every entry was yielded.
    #[inline]
    pub(crate) fn next_slot(&mut self) -> Option<Slot<K, V>> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if let Some(r) = self.full.next() {
                self.remaining -= 1;
                return Some(Slot {
                    bucket: self.current,
                    index: (r + self.offset) & (BUCKET_CNT - 1),
                });
            }
            self.advance();
        }
    }

    /// Folds over the remaining slots a bucket at a time: the per-slot work is just the
    /// closure, with no per-slot bookkeeping (what `Iterator::fold` and everything built on
    /// it, `sum`, `for_each`, `count`..., use).
    #[inline]
    pub(crate) fn fold_slots<B>(mut self, init: B, mut f: impl FnMut(B, Slot<K, V>) -> B) -> B {
        let mut acc = init;
        if self.old.is_none() {
            return self.fold_not_growing(acc, f);
        }
        while self.remaining > 0 {
            let full = core::mem::take(&mut self.full);
            self.remaining -= full.count();
            acc = fold_bucket(&mut f, acc, self.current, self.offset, full);
            if self.remaining > 0 {
                self.advance();
            }
        }
        acc
    }

    /// [`fold_slots`](Self::fold_slots) when no growth is in flight: units are the main
    /// buckets, so the walk is a plain loop over chains with none of `advance`'s bookkeeping
    /// (the difference is most of the per-bucket cost of a full iteration). Same order as
    /// [`next_slot`](Self::next_slot): a clone of the iterator folded and walked gives the same
    /// sequence.
    #[inline]
    fn fold_not_growing<B>(mut self, init: B, mut f: impl FnMut(B, Slot<K, V>) -> B) -> B {
        let mut acc = init;
        if self.remaining == 0 {
            return acc;
        }
        let offset = self.offset;
        // Finish the chain the last `next_slot` was in (its unit is already counted).
        acc = fold_bucket(
            &mut f,
            acc,
            self.current,
            offset,
            core::mem::take(&mut self.full),
        );
        // SAFETY: `self.bucket`, if any, is live; its overflow link is a live bucket or `None`.
        let rest = self.bucket.and_then(|b| unsafe { b.overflow() });
        // SAFETY: `rest` is as said above.
        acc = unsafe { fold_chain(&mut f, acc, rest, offset) };
        if self.streaming() {
            return self.fold_streaming(acc, f);
        }
        let new = self.new.expect("entries remain, so the map is allocated");
        for unit in self.visited..self.units {
            let head = new.bucket((self.start + unit) & (self.units - 1));
            // SAFETY: not growing, so every main bucket of `new` is the live head of a chain.
            acc = unsafe { fold_chain(&mut f, acc, Some(head), offset) };
        }
        acc
    }

    /// The rest of [`fold_not_growing`](Self::fold_not_growing) for an array past
    /// [`STREAMING_MIN_BYTES`], from unit `self.visited` on. Up to [`GROUP`] consecutive main
    /// buckets per step, their full slots merged into one word: one loop over about 25 entries,
    /// with one hard-to-predict exit, where a walk waiting for memory loses most to a
    /// misprediction. A step ends at the first of its buckets that has an overflow chain, whose
    /// chain it then walks, so the order stays [`next_slot`](Self::next_slot)'s: each chain in
    /// turn, each bucket from Go's random slot offset on.
    #[inline]
    fn fold_streaming<B>(self, mut acc: B, mut f: impl FnMut(B, Slot<K, V>) -> B) -> B {
        let (offset, mask) = (self.offset, self.units - 1);
        let new = self.new.expect("entries remain, so the map is allocated");
        let mut unit = self.visited;
        while unit < self.units {
            let first = (self.start + unit) & mask;
            if unit + GROUP > self.units || first + GROUP > self.units {
                // Near the end of the walk or of the array (the walk wraps around at it): one
                // chain at a time.
                self.prefetch_overflow_ahead(new, unit);
                let head = new.bucket(first);
                // SAFETY: not growing, so every main bucket of `new` is the live head of a chain.
                acc = unsafe { fold_chain(&mut f, acc, Some(head), offset) };
                unit += 1;
                continue;
            }
            let heads: [Bucket<K, V>; GROUP] = core::array::from_fn(|i| new.bucket(first + i));
            // Bits 16 i to 16 i + 15 stand for bucket i: slot `s` is bit `s`, except that the
            // slots before the random offset move up by 8, so that each bucket is visited from
            // `offset` on, then wraps.
            let mut all = 0u64;
            let mut with_overflow = 0u32;
            for (i, head) in heads.into_iter().enumerate() {
                self.prefetch_overflow_ahead(new, unit + i);
                // SAFETY: not growing, so every main bucket of `new` is the live head of a chain.
                let (group, overflow) = unsafe { (head.group(), head.overflow()) };
                all |= u64::from(group.match_full().to_byte()) << (16 * i);
                with_overflow |= u32::from(overflow.is_some()) << i;
            }
            // The buckets up to the first with an overflow chain (all of them if none has).
            let taken = (with_overflow | 1 << (GROUP - 1)).trailing_zeros() as usize + 1;
            all &= u64::MAX >> (64 - 16 * taken);
            let before_offset = all & (0x0001_0001_0001_0001 * ((1 << offset) - 1));
            all = (all & !before_offset) | before_offset << BUCKET_CNT;
            while all != 0 {
                let bit = all.trailing_zeros() as usize;
                all &= all - 1;
                let slot = Slot {
                    bucket: heads[bit / 16 % GROUP],
                    index: bit & (BUCKET_CNT - 1),
                };
                acc = f(acc, slot);
            }
            let last = heads[(taken - 1) % GROUP];
            // SAFETY: `last` is live (above); its overflow link is a live bucket or `None`.
            acc = unsafe { fold_chain(&mut f, acc, last.overflow(), offset) };
            unit += taken;
        }
        acc
    }

    /// Whether the array is past [`STREAMING_MIN_BYTES`], so that walks are memory-bound.
    #[inline]
    fn streaming(&self) -> bool {
        self.units * BucketLayout::<K, V>::SIZE >= STREAMING_MIN_BYTES
    }

    /// Main buckets stream in order, which the hardware prefetcher follows; overflow buckets
    /// sit elsewhere (the pool at the array's end, or the heap), and at 10^7 entries waiting
    /// for them was 40 % of a full walk. So a walk at `unit` starts loading the first overflow
    /// bucket of the chain `OVERFLOW_PREFETCH_DISTANCE` units ahead. Only while not growing.
    #[inline]
    fn prefetch_overflow_ahead(&self, new: ArrayRef<K, V>, unit: usize) {
        debug_assert!(self.old.is_none());
        let ahead = new.bucket((self.start + unit + OVERFLOW_PREFETCH_DISTANCE) & (self.units - 1));
        // SAFETY: not growing, so every main bucket of `new` is an initialised head.
        if let Some(overflow) = unsafe { ahead.overflow() } {
            overflow.prefetch();
        }
    }

    /// Moves to the next bucket: along the current chain, else to the next part of the
    /// current unit, else to the next unit. Only called while entries remain. Inlined for a
    /// map that is not growing (once per bucket of every `for` loop); the growing case is out
    /// of line.
    #[inline]
    fn advance(&mut self) {
        if let Some(bucket) = self.bucket {
            // SAFETY: `bucket` is live; its overflow link points to a live bucket.
            match unsafe { bucket.overflow() } {
                Some(next) => return self.enter(next),
                None => self.bucket = None,
            }
        }
        if self.old.is_none() {
            // Not growing: units are the main buckets, each one chain.
            let new = self.new.expect("entries remain, so the map is allocated");
            assert!(self.visited < self.units, "map changed during iteration");
            let head = new.bucket((self.start + self.visited) & (self.units - 1));
            // In a cached array the prefetch only costs time.
            if self.streaming() {
                self.prefetch_overflow_ahead(new, self.visited);
            }
            self.visited += 1;
            self.head = Some(head);
            return self.enter(head);
        }
        self.advance_growing();
    }

    /// [`advance`](Self::advance) to the next chain while a growth is in flight.
    #[inline(never)]
    fn advance_growing(&mut self) {
        if self.visited == 0 {
            self.visited = 1;
            self.unit = self.start;
            self.part = 0;
        }
        loop {
            match self.part(self.unit, self.part) {
                Some(chain) => {
                    self.part += 1;
                    if let Some(head) = chain {
                        self.head = Some(head);
                        return self.enter(head);
                    }
                }
                None => {
                    assert!(self.visited < self.units, "map changed during iteration");
                    self.visited += 1;
                    self.unit = (self.unit + 1) & (self.units - 1);
                    self.part = 0;
                }
            }
        }
    }
}
