//! The unsafe core: Go's `hmap` and `bmap`, knowing memory layout only.
//!
//! `RawMap<K, V>` never sees `Hash`, `Eq` or `Borrow`: callers pass the key's `u64` hash,
//! an equality closure and, for operations that may evacuate, a `hasher` closure. This keeps
//! every place where user code can run visible at the call site.
//!
//! # Layout
//!
//! ```text
//!  RawMap (hmap)                 buckets: 2^B main buckets + 2^(B-4) pre-allocated overflow
//!  +-------------+              +--------+--------+-----+----------+-----+
//!  | count       |              | bmap 0 | bmap 1 | ... | pool 0   | ... |
//!  | B, buckets -+------------> +--------+---+----+-----+----------+-----+
//!  | oldbuckets  |                           | overflow          ^
//!  | nevacuate   |                           +-------------------+  (pool first, then heap)
//!  | noverflow   |
//!  | next_overflow (pool cursor)
//!  +-------------+
//! ```
//!
//! A key with hash `h` lives in the chain that starts at main bucket `h & (2^B - 1)`; its
//! slot's tophash is the top byte of `h` (see [`tophash()`]). Within a chain, slots fill from
//! the front; a deleted slot becomes `emptyOne`, and a run of empty slots that reaches the end
//! of the chain is `emptyRest`, so lookups stop at the first `emptyRest`.
//!
//! # Growth (Go's `hashGrow` / `growWork` / `evacuate`)
//!
//! When an insert of a new key would push the load past 13/2 entries per bucket, or when the
//! chains hold as many overflow buckets as main buckets, [`RawMap::start_resize`] allocates a new
//! array (twice as large, or the same size to compact the chains) and keeps the current one
//! as `oldbuckets`. It moves nothing. From then on every insert first *evacuates* the old
//! bucket its key maps to, plus the old bucket at `nevacuate` (every remove, the next two at
//! `nevacuate`: it can delete in place), so the old array drains at least one bucket per write
//! and no single write moves more than two chains.
//! Evacuating old bucket `i` splits its entries between new bucket `i` ("X") and
//! `i + 2^oldB` ("Y") by the next bit of each key's hash, and marks the old slots
//! `evacuatedX` / `evacuatedY` / `evacuatedEmpty`. Lookups during growth read the old bucket
//! while it is not evacuated. When the last old bucket is evacuated the old array is freed.
//!
//! Departures from Go, each for a Rust reason:
//! - The new array is *not* zeroed when the growth starts (Go's `hashGrow` clears the whole
//!   array inside one insert — the 70-110 ms pause at 10^7 entries). A new bucket is only ever
//!   read after its old bucket was evacuated, and evacuation initialises its destinations
//!   first, so uninitialised memory is never read.
//! - Evacuation hashes the whole old chain before moving anything, so a panicking `Hash`
//!   leaves the map exactly as it was; Go's runtime has no unwinding to worry about.
//! - Old overflow buckets are freed as soon as their chain is evacuated (Go leaves that to
//!   its garbage collector). A large old array's pages go back to the OS a few per write
//!   (`release.rs`), so no single write pays for unmapping it.
//! - The same machinery also shrinks (merging old buckets) and resizes by several levels at
//!   once (`reserve`, `shrink_to_fit`); Go's maps never shrink.
//!
//! # Iteration during growth
//!
//! Go's iterator survives writes between calls to `next`, so for an unevacuated old bucket
//! it rehashes every key to yield only those belonging to the new bucket being visited. A Rust
//! iterator borrows the map, so the map cannot change under it; [`iter::RawIter`] therefore
//! walks "units" — each old bucket, as its own chain if unevacuated or as its destination
//! buckets if evacuated — which yields every entry exactly once without calling `Hash`.

mod bucket;
mod debug;
mod grow;
mod iter;
mod release;
pub(crate) mod tophash;

use crate::error::TryReserveError;
pub(crate) use bucket::Bucket;
use bucket::{
    alloc_overflow, free_overflow, pool_len, ArrayRef, BucketArray, BucketLayout, Stored,
    BUCKET_CNT,
};
pub use debug::{BucketView, ChainView, LayoutView, MapStats, SlotState};
pub(crate) use iter::RawIter;
use tophash::{is_empty, is_evacuated_mark, is_full, Group, EMPTY_ONE, EMPTY_REST};
pub use tophash::{tophash, MIN_TOP_HASH};

/// Go's load factor, 6.5 entries per bucket, as the fraction 13/2 (Go's `loadFactorNum` /
/// `loadFactorDen`) so the check stays in integers.
const LOAD_FACTOR_NUM: usize = 13;
const LOAD_FACTOR_DEN: usize = 2;
/// An automatic shrink starts once the load falls below 1/16 of the growth threshold, and
/// only at an insert (or at the end of `retain`), never at a remove; it goes to the smallest
/// array that keeps the load at most 1/2 of the threshold ([`SHRINK_TARGET_MULTIPLIER`]) and
/// leaves room for the inserts its sweep may take ([`RawMap::shrink_target`]), so the map
/// must double before it grows again and an insert/remove pattern at the boundary cannot
/// bounce between growing and shrinking.
///
/// Why at an insert: a shrink visits every old bucket, faults in a fresh array and returns the
/// old one's pages to the OS, and a map being emptied by removes would pay all of that while
/// it empties (hashbrown and std never shrink on `remove`; CPython's dict likewise resizes
/// only when an insert needs room). Started from removes, the last sixteenth of a remove-all
/// at 10^5 entries cost 176 ns per remove against 12-15 ns for the rest, and the shrink made
/// up about 40 % of the whole remove-all (`cargo run --release --example remove_phases --
/// 100_000 16`). A map emptied and then written again starts shrinking at its first insert;
/// one emptied and left alone keeps its array until then, or until `shrink_to_fit`.
///
/// Why this late (1/16): each shrink visits every old bucket, so a map that keeps shrinking
/// pays for every intermediate array; the price is that a map emptied to just above the
/// trigger keeps up to 16x the buckets its entries need.
const SHRINK_DIVISOR: usize = 16;
/// An automatic shrink sizes the new array for this many times the current count.
const SHRINK_TARGET_MULTIPLIER: usize = 2;

const _: () = assert!(LOAD_FACTOR_NUM > LOAD_FACTOR_DEN * BUCKET_CNT / 2);
const _: () = assert!(LOAD_FACTOR_NUM < LOAD_FACTOR_DEN * BUCKET_CNT);
const _: () = assert!(
    SHRINK_TARGET_MULTIPLIER >= 2 && SHRINK_DIVISOR > 2 * SHRINK_TARGET_MULTIPLIER,
    "hysteresis: after a shrink the map must double to grow again, and shrink at least a halving"
);

/// From this many bytes of buckets (past the last-level cache of most machines: 32 MiB here), a
/// lookup prefetches its whole head bucket, not only the line of the overflow link (removes and
/// `SyncMap`'s snapshot reads, which nearly always hit, do from
/// [`HIT_WHOLE_BUCKET_PREFETCH_MIN_BYTES`]). From memory, a hit waits for the tophash line,
/// then for the line of its key and value (the slot is known only once the tophash matched):
/// fetching all the bucket's lines at once overlaps the two. Misses, which read only the
/// tophash line and the overflow link, pay for the lines they do not need. Measured with both
/// versions in one process, alternating (scratch drivers, u64 keys, values summed): hits took
/// 20-28 % less time at 10^6 and 10^7 entries and `SyncMap::load` 16-28 % less at 10^6, misses
/// 2-12 % more. At 10^5 (a 2.5 MB array, in L3) it was a wash in `gomap bench`'s loop, three
/// runs of each binary alternated: hits 5-8 % faster, misses 10 % slower. Inserts and
/// overwrites gained nothing from it (within 5 % either way at 10^5 to 10^7). A remove reads
/// its key's value like a hit does: `gomap bench --filter remove` and `--filter churn` (a
/// remove and an insert per step), builds with and without it (at this threshold) alternated
/// three times, gave removes at 10^7 16.1-17.1 against 12.7-12.9 Mops/s and churn at 10^7
/// 7.5-7.8 against 5.5-6.0 (an earlier scratch measurement had put removes within 5 %).
const WHOLE_BUCKET_PREFETCH_MIN_BYTES: usize = 16 << 20;

/// The same threshold for finds that nearly always hit (removes, and the reads of a `SyncMap`
/// snapshot, made for read-mostly use), past the L2 cache (1 MiB per core here): the lines a
/// miss does not need are rarely wasted. At 10^5 entries (a 2.5 MB array), builds with 1 and
/// 16 MiB alternated: `gomap bench --quick --filter remove` (three runs each) gave removes
/// 109.6-112.0 against 103.7-106.7 Mops/s (churn unchanged); `gomap bench --filter
/// read_mostly` (98 % loads; six runs each) gave 25.6-27.7 ns per operation at one thread in
/// five runs (83.5 in one) against 30.8-86.2, and the same within the noise at two threads
/// (15.5-45.8 against 16.6-45.8). At 10^3 (in L1 and L2) a scratch remove-all was 9 % slower
/// with the prefetch.
const HIT_WHOLE_BUCKET_PREFETCH_MIN_BYTES: usize = 1 << 20;

/// Whether `count` entries in 2^b buckets exceed the load factor (Go's `overLoadFactor`).
#[inline]
fn over_load_factor(count: usize, b: u8) -> bool {
    count > BUCKET_CNT && count > LOAD_FACTOR_NUM * ((1usize << b) / LOAD_FACTOR_DEN)
}

/// Whether the array has so many overflow buckets that a same-size growth should compact
/// them (Go's `tooManyOverflowBuckets`): as many overflow buckets as main buckets.
///
/// Go writes this as `noverflow >= 2^min(B, 15)` because its `noverflow` is a `uint16` that,
/// for B > 15, is only incremented with probability 1/2^(B-15): the threshold it approximates
/// is 2^B overflow buckets. Our count is exact, so we compare with 2^B directly. (Taking
/// Go's formula literally with an exact count makes every map past 2^15 buckets, whose
/// ordinary Poisson tail already holds more overflow buckets than that, grow in place
/// forever.)
#[inline]
fn too_many_overflow_buckets(noverflow: usize, b: u8) -> bool {
    noverflow >= 1usize << b
}

/// The largest B whose capacity ([`capacity_of`]) fits `usize`: 13 * 2^(B-1) < 16 * 2^(B-1).
const MAX_COUNTABLE_B: u8 = usize::BITS as u8 - 3;
const _: () = assert!(LOAD_FACTOR_NUM < 16 && LOAD_FACTOR_DEN == 2);

/// The smallest B that holds `count` entries without growing (Go's `makemap` hint loop), or
/// `None` if no B whose capacity fits `usize` does (the caller's "capacity overflow"; Go's
/// loop needs no bound, its hint being an `int`).
pub(crate) fn b_for_capacity(count: usize) -> Option<u8> {
    (0..=MAX_COUNTABLE_B).find(|&b| !over_load_factor(count, b))
}

/// Entries that 2^b buckets hold before an insert starts a growth.
#[inline]
pub(crate) fn capacity_of(b: u8) -> usize {
    BUCKET_CNT.max(LOAD_FACTOR_NUM * ((1usize << b) / LOAD_FACTOR_DEN))
}

/// The first slot of the run of `emptyOne` slots that ends at slot `index`: one past the
/// highest slot below `index` that is not `emptyOne`, or 0. Slot `index` itself is not read
/// (it may still hold the tophash of the pair just erased).
#[inline]
fn empty_one_run_start(tops: [u8; BUCKET_CNT], index: usize) -> usize {
    let ones = Group::load(tops).match_byte(EMPTY_ONE).to_byte();
    let others_below = !ones & ((1u16 << index) - 1) as u8;
    (u8::BITS - others_below.leading_zeros()) as usize
}

/// `tops` with slots `first..=last` set to `emptyRest`.
#[inline]
fn mark_empty_rest(tops: [u8; BUCKET_CNT], first: usize, last: usize) -> [u8; BUCKET_CNT] {
    const REST: u64 = u64::from_ne_bytes([EMPTY_REST; BUCKET_CNT]);
    // Little-endian byte order: slot `i` is byte `i` of the word.
    let through_last = u64::MAX >> (8 * (BUCKET_CNT - 1 - last));
    let below_first = (1u64 << (8 * first)) - 1;
    let run = through_last & !below_first;
    let word = u64::from_le_bytes(tops);
    ((word & !run) | (REST & run)).to_le_bytes()
}

/// Position of one slot: a bucket of some chain, and an index in it.
#[derive(Debug)]
pub(crate) struct Slot<K, V> {
    pub(crate) bucket: Bucket<K, V>,
    pub(crate) index: usize,
}

impl<K, V> Clone for Slot<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for Slot<K, V> {}

/// Go's `hmap`.
///
/// Invariants:
/// - `buckets` is `None` only while the map has never held an entry nor reserved room (the
///   lazily allocated empty map, as Go's `makemap_small`); then everything else is zero.
/// - Every main bucket of `buckets` is initialised, except while growing: then main bucket `j`
///   is initialised iff the old bucket(s) that evacuate into it were (at least one of them)
///   evacuated. Pool buckets `2^B..next_overflow` are initialised and reachable from exactly
///   one chain; the rest of the pool is not.
/// - `count` is the number of full slots reachable from live chains.
pub(crate) struct RawMap<K, V> {
    /// Live entries (Go's `count`).
    count: usize,
    /// The current array (Go's `buckets`, with `B` inside). Invariant: `Some` whenever
    /// `count > 0` (lookups rely on it to skip the check).
    buckets: Option<BucketArray<K, V>>,
    /// The array being evacuated (Go's `oldbuckets`). Invariant: `Some` only while growing.
    /// Old bucket `i` is evacuated iff its first tophash is an evacuation mark; its chain is
    /// live (initialised, holding entries) iff it is not.
    oldbuckets: Option<BucketArray<K, V>>,
    /// Evacuation progress (Go's `nevacuate`). Invariant: old buckets below it are evacuated;
    /// zero when not growing.
    nevacuate: usize,
    /// While growing: old buckets below this index may have had their memory returned to the
    /// OS (`grow::release_evacuated`) and must not be read. Invariant: `<= nevacuate`.
    old_released_below: usize,
    /// While growing: how much of the old array has been released.
    old_release: release::Releaser,
    /// While growing: `release_evacuated` has work once `nevacuate` reaches this (a hint;
    /// the releaser itself decides what is released).
    next_release: usize,
    /// A finished growth's old array, released a few pages per write before it is freed
    /// (see `release.rs`). Invariant: no live chain points into it.
    retired: Option<(BucketArray<K, V>, release::Releaser)>,
    /// Overflow buckets chained in `buckets` (Go's `noverflow`, exact here). Invariant: equals
    /// the number of non-head buckets reachable from the live chains of `buckets`.
    noverflow: usize,
    /// Next unused bucket of the current array's overflow pool (Go's `nextOverflow`).
    /// Invariant: `2^B <= next_overflow <= 2^B + pool_len(B)`.
    next_overflow: usize,
    /// Automatic shrinking never goes below this B (the capacity the user asked for).
    min_b: u8,
    /// The counts at which an insert of a new key needs no resize (bar too many overflow
    /// buckets): `shrink_below..grow_at`. Cached from `B` and `min_b` when either changes, so
    /// that an insert of a new key compares its count with them instead of recomputing the load
    /// factor and the shrink trigger from `B` (13 instructions fewer per insert into a presized
    /// map of 10^3 entries: `valgrind --tool=cachegrind --cache-sim=no
    /// target/release/examples/insert_best_of 1000 200 u64 presized`, this build's total
    /// against fd5b496's over their 200,000 gomap inserts; time, `cargo run --release --example
    /// insert_best_of -- 1000 3000 u64 presized`, five alternations: medians 6.0-6.4 against
    /// 7.6-8.2 ns, best rounds 4.8-5.4 against 6.8-7.1 in four and 3.6 in one). Invariant:
    /// `grow_at == capacity_of(B)`, and `shrink_below` is `capacity_of(B) / SHRINK_DIVISOR`
    /// when B exceeds `min_b`, else 0 (both 0 with no array).
    shrink_below: usize,
    grow_at: usize,
    /// Entries moved by evacuation so far (introspection: `MapStats::entries_evacuated`).
    moved: u64,
    /// Test-only: the most entries one write moved (checks the bounded-work property).
    #[cfg(test)]
    max_moved_per_write: usize,
}

// SAFETY: `RawMap` owns its keys and values (like `Vec<(K, V)>`); the raw pointers inside are
// owned memory, not shared. Sending the map sends the `K`s and `V`s.
unsafe impl<K: Send, V: Send> Send for RawMap<K, V> {}
// SAFETY: `&RawMap` only hands out `&K` / `&V`; all mutation needs `&mut RawMap`.
unsafe impl<K: Sync, V: Sync> Sync for RawMap<K, V> {}

impl<K, V> RawMap<K, V> {
    /// Bytes of bucket array per entry at a full load (the bucket's size over its 8 slots), to
    /// tell from `count` roughly how big the array is.
    const BYTES_PER_ENTRY: usize = BucketLayout::<K, V>::SIZE / BUCKET_CNT;

    /// An empty map that allocates nothing until the first insert.
    pub(crate) const fn new() -> Self {
        RawMap {
            count: 0,
            buckets: None,
            oldbuckets: None,
            nevacuate: 0,
            old_released_below: 0,
            old_release: release::Releaser { released_to: 0 },
            next_release: 0,
            retired: None,
            noverflow: 0,
            next_overflow: 0,
            min_b: 0,
            shrink_below: 0,
            grow_at: 0,
            moved: 0,
            #[cfg(test)]
            max_moved_per_write: 0,
        }
    }

    /// An empty map with room for `capacity` entries before its first growth.
    ///
    /// # Panics
    /// If the bucket array would exceed the address space ("capacity overflow", as std).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut map = Self::new();
        if capacity > 0 {
            let b = b_for_capacity(capacity)
                .unwrap_or_else(|| TryReserveError::CapacityOverflow.fail());
            map.install_empty_array(BucketArray::new_zeroed(b));
            map.set_min_b(b);
        }
        map
    }

    /// Recomputes `shrink_below` and `grow_at` (see there) after `B` or `min_b` changed.
    fn update_resize_bounds(&mut self) {
        (self.shrink_below, self.grow_at) = self.resize_bounds();
    }

    /// What `shrink_below` and `grow_at` should be (see there).
    fn resize_bounds(&self) -> (usize, usize) {
        match &self.buckets {
            None => (0, 0),
            Some(array) => {
                let capacity = capacity_of(array.b());
                let shrink_below = if array.b() > self.min_b {
                    capacity / SHRINK_DIVISOR
                } else {
                    0
                };
                (shrink_below, capacity)
            }
        }
    }

    /// Makes `array` (all buckets initialised empty) the current array of a map that has
    /// none.
    fn install_empty_array(&mut self, array: BucketArray<K, V>) {
        debug_assert!(self.buckets.is_none() && self.count == 0);
        self.next_overflow = array.len();
        self.buckets = Some(array);
        self.noverflow = 0;
        self.update_resize_bounds();
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Go's `B`: the current array has 2^B main buckets (0 before the first allocation).
    #[inline]
    pub(crate) fn b(&self) -> u8 {
        self.buckets.as_ref().map_or(0, |a| a.b())
    }

    /// Whether a growth (or shrink) is in progress.
    #[inline]
    pub(crate) fn growing(&self) -> bool {
        self.oldbuckets.is_some()
    }

    /// Entries the current array holds before an insert starts a growth.
    pub(crate) fn capacity(&self) -> usize {
        match &self.buckets {
            None => 0,
            Some(a) => capacity_of(a.b()),
        }
    }

    /// Whether old bucket `i` was evacuated (Go's `evacuated(b)`). Buckets below
    /// `nevacuate` are known to be, without touching their memory, which may already have
    /// been returned to the OS (see `grow::release_evacuated`).
    #[inline]
    fn old_evacuated(old: ArrayRef<K, V>, nevacuate: usize, i: usize) -> bool {
        // SAFETY: old main buckets at or above `nevacuate` are initialised and intact (a live
        // chain or an evacuated head).
        i < nevacuate || is_evacuated_mark(unsafe { old.bucket(i).tophash(0) })
    }

    /// The head of the chain that holds a key with this hash right now: the old bucket while
    /// it is not evacuated, else the current one (Go's `mapaccess` bucket choice).
    ///
    /// # Safety
    /// `count > 0`.
    #[inline]
    unsafe fn read_head(&self, hash: u64) -> Bucket<K, V> {
        debug_assert!(self.count > 0 && self.buckets.is_some());
        // SAFETY: `count > 0` (caller), so the array is allocated (invariant on `buckets`).
        let buckets = unsafe { self.buckets.as_ref().unwrap_unchecked() };
        if let Some(old) = &self.oldbuckets {
            let i = hash as usize & old.mask();
            if !Self::old_evacuated(old.get(), self.nevacuate, i) {
                return old.bucket(i);
            }
        }
        buckets.bucket(hash as usize & buckets.mask())
    }

    /// Finds the slot holding a key with this hash for which `eq` is true.
    #[inline]
    pub(crate) fn find(&self, hash: u64, eq: impl FnMut(&K) -> bool) -> Option<Slot<K, V>> {
        self.find_prefetching(hash, eq, WHOLE_BUCKET_PREFETCH_MIN_BYTES)
    }

    /// [`RawMap::find`] for a caller whose key is nearly always present (see
    /// [`HIT_WHOLE_BUCKET_PREFETCH_MIN_BYTES`]).
    // Unused under loom, where `SyncMap` runs on std's map.
    #[cfg_attr(loom, allow(dead_code))]
    #[inline]
    pub(crate) fn find_expecting_hit(
        &self,
        hash: u64,
        eq: impl FnMut(&K) -> bool,
    ) -> Option<Slot<K, V>> {
        self.find_prefetching(hash, eq, HIT_WHOLE_BUCKET_PREFETCH_MIN_BYTES)
    }

    #[inline]
    fn find_prefetching(
        &self,
        hash: u64,
        eq: impl FnMut(&K) -> bool,
        whole_bucket_min_bytes: usize,
    ) -> Option<Slot<K, V>> {
        if self.count == 0 {
            return None;
        }
        // SAFETY: `count > 0`, checked above.
        let head = unsafe { self.read_head(hash) };
        self.prefetch_for_find(head, whole_bucket_min_bytes);
        self.find_in_chain(head, hash, eq)
    }

    /// Asks for the lines of the chain at `head` that a lookup or a remove reads: from
    /// `min_bytes` of buckets, the whole head bucket (see [`WHOLE_BUCKET_PREFETCH_MIN_BYTES`]),
    /// else the line of the overflow link.
    #[inline]
    fn prefetch_for_find(&self, head: Bucket<K, V>, min_bytes: usize) {
        if self.count >= min_bytes / Self::BYTES_PER_ENTRY {
            head.prefetch();
        } else {
            head.prefetch_overflow_link();
        }
    }

    /// Finds the slot holding a key with this hash for which `eq` is true in the chain at
    /// `head`, which must be the chain `read_head` returns for this hash.
    #[inline]
    fn find_in_chain(
        &self,
        head: Bucket<K, V>,
        hash: u64,
        mut eq: impl FnMut(&K) -> bool,
    ) -> Option<Slot<K, V>> {
        let top = tophash(hash);
        let mut bucket = head;
        loop {
            // SAFETY: `read_head` returns an initialised live head, and overflow links of a
            // live chain point to initialised buckets.
            let group = unsafe { bucket.group() };
            for index in group.match_byte(top) {
                // SAFETY: a matching tophash is `>= MIN_TOP_HASH`, so the slot is full.
                if eq(unsafe { &*bucket.key(index) }) {
                    return Some(Slot { bucket, index });
                }
            }
            if group.has_empty_rest() {
                return None;
            }
            // SAFETY: as above.
            bucket = unsafe { bucket.overflow() }?;
        }
    }

    /// Shared access to the pair in a full slot.
    ///
    /// # Safety
    /// `slot` came from this map and no write happened since.
    #[inline]
    pub(crate) unsafe fn pair(&self, slot: Slot<K, V>) -> (&K, &V) {
        // SAFETY: the slot is full (caller), and `&self` keeps it alive and unaliased by `&mut`.
        unsafe {
            (
                &*slot.bucket.key(slot.index),
                &*slot.bucket.value(slot.index),
            )
        }
    }

    /// Mutable access to the pair in a full slot (the key must not be changed in a way that
    /// changes its hash or equality; the map layer only hands out `&K`).
    ///
    /// # Safety
    /// `slot` came from this map and no write happened since.
    #[inline]
    pub(crate) unsafe fn pair_mut(&mut self, slot: Slot<K, V>) -> (&mut K, &mut V) {
        // SAFETY: the slot is full (caller); `&mut self` makes the access unique.
        unsafe {
            (
                &mut *slot.bucket.key(slot.index),
                &mut *slot.bucket.value(slot.index),
            )
        }
    }

    /// Prepares a write of a key with this hash: allocates the first array, and while
    /// growing evacuates the key's old bucket and one more (Go's `growWork`).
    /// May call `hasher` (user code); if it panics, nothing has changed.
    #[inline]
    fn prepare_write(&mut self, hash: u64, hasher: &impl Fn(&K) -> u64) {
        if self.buckets.is_none() {
            self.install_empty_array(BucketArray::new_zeroed(0));
        }
        if self.growing() {
            self.grow_work(hash, hasher);
        } else if self.retired.is_some() {
            self.retire_step();
        }
    }

    /// Looks the key up for an insert. `Ok` is the slot holding it; `Err` is an empty slot
    /// where it can be inserted with [`RawMap::insert_in_slot`] (a growth may have started
    /// and an overflow bucket may have been chained to provide it).
    #[inline]
    pub(crate) fn find_or_find_insert_slot(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(&K) -> bool,
        hasher: &impl Fn(&K) -> u64,
    ) -> Result<Slot<K, V>, Slot<K, V>> {
        self.prepare_write(hash, hasher);
        let top = tophash(hash);
        let head = self.write_head(hash);
        head.prefetch_overflow_link();
        let mut bucket = head;
        let mut free: Option<Slot<K, V>> = None;
        loop {
            // SAFETY: after `prepare_write` the key's chain in the current array is live.
            let group = unsafe { bucket.group() };
            for index in group.match_byte(top) {
                // SAFETY: matching tophash means a full slot.
                if eq(unsafe { &*bucket.key(index) }) {
                    return Ok(Slot { bucket, index });
                }
            }
            if free.is_none() {
                if let Some(index) = group.match_empty().first() {
                    free = Some(Slot { bucket, index });
                }
            }
            if group.has_empty_rest() {
                break;
            }
            // SAFETY: as above.
            match unsafe { bucket.overflow() } {
                Some(next) => bucket = next,
                None => break,
            }
        }
        // The key is absent. Past the load factor, or with too many overflow buckets, start a
        // growth (or, in a map that has become nearly empty, a shrink) and find the slot again
        // in the new array (Go's `goto again`).
        if !self.growing() {
            if let Some(new_b) = self.resize_for_insert() {
                self.start_resize(new_b);
                self.grow_work(hash, hasher);
                return Err(self.find_insert_slot(self.write_head(hash)));
            }
        }
        match free {
            Some(slot) => Err(slot),
            // The chain is full: chain an overflow bucket after its last bucket.
            None => Err(Slot {
                bucket: self.new_overflow(bucket),
                index: 0,
            }),
        }
    }

    /// The head of the key's chain in the current array. Only valid after `prepare_write`.
    #[inline]
    fn write_head(&self, hash: u64) -> Bucket<K, V> {
        let buckets = self.buckets.as_ref().expect("allocated by prepare_write");
        buckets.bucket(hash as usize & buckets.mask())
    }

    /// The B a new array should have before a new key goes in, if the current one needs
    /// replacing (not growing): Go's `hashGrow` choice of doubling when over the load factor,
    /// else a same-size growth when the chains hold too many overflow buckets; beyond Go, a
    /// shrink when the map has become much emptier than its array.
    #[inline]
    fn resize_for_insert(&self) -> Option<u8> {
        let b = self.b();
        // `count + 1` over the load factor (Go's `overLoadFactor`), from the cached bound.
        if self.count >= self.grow_at {
            Some(b + 1)
        } else if too_many_overflow_buckets(self.noverflow, b) {
            Some(b)
        } else {
            self.shrink_target()
        }
    }

    /// The first empty slot of a live chain, chaining an overflow bucket if it is full.
    fn find_insert_slot(&mut self, head: Bucket<K, V>) -> Slot<K, V> {
        let mut bucket = head;
        loop {
            // SAFETY: `head` is a live chain of the current array (caller).
            let group = unsafe { bucket.group() };
            if let Some(index) = group.match_empty().first() {
                return Slot { bucket, index };
            }
            // SAFETY: as above.
            match unsafe { bucket.overflow() } {
                Some(next) => bucket = next,
                None => {
                    return Slot {
                        bucket: self.new_overflow(bucket),
                        index: 0,
                    }
                }
            }
        }
    }

    /// Inserts a pair into an empty slot returned by `find_or_find_insert_slot`.
    ///
    /// # Safety
    /// `slot` is the `Err` of the last `find_or_find_insert_slot` call with this `hash`, and
    /// the map was not written since.
    #[inline]
    pub(crate) unsafe fn insert_in_slot(
        &mut self,
        slot: Slot<K, V>,
        hash: u64,
        key: K,
        value: V,
    ) -> (&mut K, &mut V) {
        // SAFETY: the slot is empty and in a live chain (caller).
        unsafe {
            debug_assert!(is_empty(slot.bucket.tophash(slot.index)));
            slot.bucket.write(slot.index, key, value);
            slot.bucket.set_tophash(slot.index, tophash(hash));
        }
        self.count += 1;
        // SAFETY: just filled.
        unsafe { self.pair_mut(slot) }
    }

    /// Removes the key for which `eq` is true, evacuating first while growing. Inlined, with
    /// the growth step out of line: the common path stays a lookup and an erase.
    #[inline]
    pub(crate) fn remove(
        &mut self,
        hash: u64,
        eq: impl FnMut(&K) -> bool,
        hasher: &impl Fn(&K) -> u64,
    ) -> Option<(K, V)> {
        if self.count == 0 {
            return None;
        }
        // Unlike an insert, a remove need not evacuate the key's old bucket first: deleting
        // in place, in whichever chain holds the key, is as consistent as deleting after the
        // move. So it advances the growth at `nevacuate` only, as many buckets as Go's
        // `growWork` does. That keeps the growth's pace while touching memory in order (the
        // old buckets at `nevacuate` and their destinations), where the key's old bucket,
        // its destination and, when shrinking, its sibling are three cache misses apart.
        if self.growing() {
            self.grow_work_sequential(hasher);
        } else if self.retired.is_some() {
            self.retire_step();
        }
        // SAFETY: `count > 0`, checked above; evacuation moves entries without changing it.
        let head = unsafe { self.read_head(hash) };
        self.prefetch_for_find(head, HIT_WHOLE_BUCKET_PREFETCH_MIN_BYTES);
        let slot = self.find_in_chain(head, hash, eq)?;
        // SAFETY: found just now in the live chain starting at `head`.
        Some(unsafe { self.erase(head, slot) })
    }

    /// Removes the pair in a full slot of the chain starting at `head` (Go's `mapdelete`
    /// tail: mark `emptyOne`, then turn a trailing run of `emptyOne` into `emptyRest`).
    /// Never starts a shrink (see [`SHRINK_DIVISOR`]).
    ///
    /// # Safety
    /// `slot` is full, in the live chain starting at `head`, and the map was not written since
    /// it was found.
    #[inline]
    pub(crate) unsafe fn erase(&mut self, head: Bucket<K, V>, slot: Slot<K, V>) -> (K, V) {
        let Slot {
            mut bucket,
            mut index,
        } = slot;
        // SAFETY: the slot is full and its chain live (caller); we own the pair from here.
        let pair = unsafe { bucket.take(index) };
        self.count -= 1;
        // SAFETY: every bucket touched below is in the same live chain.
        unsafe {
            let next_is_rest = if index == BUCKET_CNT - 1 {
                bucket
                    .overflow()
                    .is_none_or(|next| next.tophash(0) == EMPTY_REST)
            } else {
                bucket.tophash(index + 1) == EMPTY_REST
            };
            if !next_is_rest {
                // A byte store: storing the whole tophash word measured slower each of the
                // three times it was tried (last: 7.8-7.9 against 6.9-7.0 ns per remove in a
                // remove-all at 10^3, 11 against 10 at 10^5, two builds alternated four times).
                bucket.set_tophash(index, EMPTY_ONE);
            } else {
                // Walk backwards over the chain turning the run of emptyOne that ends at the
                // erased slot into emptyRest: within a bucket, the whole run at once (a byte
                // loop here mispredicted its exit on most removes of a remove-all), then on
                // into the previous bucket if the run reaches slot 0. The erased slot gets its
                // emptyRest with the word store of the first step, not a byte store first:
                // loading the word right after a byte store into it waits for the store to
                // reach the cache (the store buffer cannot forward a byte to a word load), and
                // that wait was the hottest spot of a remove-all.
                loop {
                    let tops = bucket.tophashes();
                    let run_start = empty_one_run_start(tops, index);
                    bucket.set_tophashes(mark_empty_rest(tops, run_start, index));
                    if run_start > 0 || bucket == head {
                        break;
                    }
                    let mut prev = head;
                    while prev.overflow() != Some(bucket) {
                        prev = prev.overflow().expect("bucket is in the chain");
                    }
                    bucket = prev;
                    index = BUCKET_CNT - 1;
                    if bucket.tophash(index) != EMPTY_ONE {
                        break;
                    }
                }
            }
        }
        pair
    }

    /// Marks a full slot empty after its pair was moved out by an owning iterator. Leaves
    /// `emptyOne` (never `emptyRest`), which is always consistent.
    ///
    /// # Safety
    /// The slot was full and its pair has been moved out.
    pub(crate) unsafe fn forget_taken(&mut self, slot: Slot<K, V>) {
        // SAFETY: the slot is in a live chain (caller).
        unsafe { slot.bucket.set_tophash(slot.index, EMPTY_ONE) };
        self.count -= 1;
    }

    /// Takes a bucket from the pre-allocated pool, or allocates one, and chains it after
    /// `last` (Go's `newoverflow`).
    fn new_overflow(&mut self, last: Bucket<K, V>) -> Bucket<K, V> {
        let buckets = self.buckets.as_ref().expect("allocated");
        let overflow = if self.next_overflow < buckets.len() + pool_len(buckets.b()) {
            let bucket = buckets.bucket(self.next_overflow);
            self.next_overflow += 1;
            // SAFETY: pool buckets past `next_overflow` are unused memory of the array.
            unsafe { bucket.init_empty() };
            bucket
        } else {
            alloc_overflow()
        };
        self.noverflow += 1;
        // SAFETY: `last` is an initialised bucket of a live chain of the current array.
        unsafe { last.set_overflow(Some(overflow)) };
        overflow
    }

    /// Removes the pair in a full slot of the key's chain in the current array (the slot of an
    /// entry found by `find_or_find_insert_slot`).
    ///
    /// # Safety
    /// `slot` is the `Ok` of the last `find_or_find_insert_slot` call with this `hash`, and the
    /// map was not written since.
    pub(crate) unsafe fn remove_found(&mut self, hash: u64, slot: Slot<K, V>) -> (K, V) {
        // SAFETY: `find_or_find_insert_slot` evacuated the key's old bucket, so its chain
        // starts at `write_head` (caller's contract).
        unsafe { self.erase(self.write_head(hash), slot) }
    }

    /// The B of an automatic shrink, when the map has become much emptier than its array (Go
    /// never shrinks): room for twice the entries (the hysteresis of [`SHRINK_DIVISOR`]), and
    /// for the inserts that may arrive before the sweep of the old array ends (one old bucket
    /// per insert at the slowest), so the new array cannot overfill while no growth can start.
    /// Never below the capacity the user asked for.
    #[inline]
    fn shrink_target(&self) -> Option<u8> {
        // `shrink_below` is 0 when `B <= min_b`.
        if self.count >= self.shrink_below {
            return None;
        }
        let b = self.b();
        let room = (self.count * SHRINK_TARGET_MULTIPLIER).max(self.count + (1 << b));
        let target = b_for_capacity(room).expect("room is below the current capacity's");
        Some(target.clamp(self.min_b, b - 1))
    }

    /// Starts an automatic shrink if [`RawMap::shrink_target`] asks for one (for `retain`,
    /// which may have removed most entries at once).
    pub(crate) fn maybe_start_shrink(&mut self) {
        if !self.growing() {
            if let Some(new_b) = self.shrink_target() {
                self.start_resize(new_b);
            }
        }
    }

    /// A random-order iterator over the live slots.
    pub(crate) fn iter(&self) -> RawIter<K, V> {
        RawIter::new(self)
    }

    /// Calls `f` with every live chain head (used by drop, clear, stats and the checker).
    /// `old` tells which array the head is in.
    fn for_each_live_head(&self, mut f: impl FnMut(Bucket<K, V>, bool, usize)) {
        let Some(buckets) = &self.buckets else { return };
        match &self.oldbuckets {
            None => (0..buckets.len()).for_each(|i| f(buckets.bucket(i), false, i)),
            Some(old) => {
                for i in 0..old.len() {
                    if !Self::old_evacuated(old.get(), self.nevacuate, i) {
                        f(old.bucket(i), true, i);
                    }
                }
                for j in 0..buckets.len() {
                    if self.new_bucket_initialised(j) {
                        f(buckets.bucket(j), false, j);
                    }
                }
            }
        }
    }

    /// While growing: whether main bucket `j` of the current array is initialised, i.e. one
    /// of the old buckets that evacuate into it was evacuated.
    fn new_bucket_initialised(&self, j: usize) -> bool {
        let (Some(new), Some(old)) = (&self.buckets, &self.oldbuckets) else {
            return true;
        };
        if new.b() >= old.b() {
            Self::old_evacuated(old.get(), self.nevacuate, j & old.mask())
        } else {
            let step = new.len();
            (j..old.len())
                .step_by(step)
                .any(|i| Self::old_evacuated(old.get(), self.nevacuate, i))
        }
    }

    /// Drops every pair, counting each down as it goes, so a panicking `Drop` leaves a
    /// consistent map holding the pairs not yet dropped (they leak if the map is then dropped
    /// while unwinding; nothing is dropped twice).
    fn drop_elements(&mut self) {
        if !(Stored::<K>::NEEDS_DROP || Stored::<V>::NEEDS_DROP) || self.count == 0 {
            return;
        }
        let mut iter = self.iter();
        while let Some(slot) = iter.next_slot() {
            // SAFETY: the iterator yields full live slots; we mark the slot empty before
            // dropping so a panic in drop cannot lead to a second drop.
            unsafe {
                slot.bucket.set_tophash(slot.index, EMPTY_ONE);
                self.count -= 1;
                slot.bucket.drop_slot(slot.index);
            }
        }
    }

    /// Frees the heap-allocated overflow buckets of every live chain (not their contents).
    fn free_overflow_chains(&mut self) {
        let arrays: [Option<ArrayRef<K, V>>; 2] = [
            self.buckets.as_ref().map(|a| a.get()),
            self.oldbuckets.as_ref().map(|a| a.get()),
        ];
        self.for_each_live_head(|head, old, _| {
            let array = arrays[old as usize].expect("array of a live head");
            // SAFETY: a live head's overflow links point to initialised buckets; each heap
            // bucket belongs to exactly one chain, so it is freed once.
            unsafe {
                let mut next = head.overflow();
                head.set_overflow(None);
                while let Some(bucket) = next {
                    next = bucket.overflow();
                    if !array.contains(bucket) {
                        free_overflow(bucket);
                    }
                }
            }
        });
    }

    /// Removes every pair, keeping the current bucket array (reset to empty).
    pub(crate) fn clear(&mut self) {
        if self.buckets.is_none() || (self.count == 0 && !self.growing() && self.noverflow == 0) {
            return;
        }
        self.drop_elements();
        self.count = 0;
        self.free_overflow_chains();
        self.oldbuckets = None;
        self.old_release = Default::default();
        self.old_released_below = 0;
        self.next_release = 0;
        self.retired = None;
        let buckets = self.buckets.as_ref().expect("checked above");
        for i in 0..buckets.len() {
            // SAFETY: main buckets are ours; their pairs were dropped and overflow freed.
            unsafe { buckets.bucket(i).init_empty() };
        }
        self.next_overflow = buckets.len();
        self.noverflow = 0;
        self.nevacuate = 0;
    }

    /// Statistics and the chain-length histogram (walks every bucket).
    pub(crate) fn stats(&self) -> MapStats {
        debug::stats(self)
    }

    /// A read-only picture of the bucket arrays for the tour and the visualiser.
    pub(crate) fn layout_view(&self, describe: impl FnMut(&K, &V) -> String) -> LayoutView {
        debug::layout_view(self, describe)
    }

    /// Checks every structural invariant; `hasher` recomputes key hashes.
    pub(crate) fn check_invariants(&self, hasher: impl Fn(&K) -> u64) -> Result<(), String> {
        debug::check_invariants(self, hasher)
    }
}

impl<K, V> Drop for RawMap<K, V> {
    fn drop(&mut self) {
        self.drop_elements();
        self.free_overflow_chains();
        // The arrays themselves are freed by their own `Drop`.
    }
}

impl<K: Clone, V: Clone> Clone for RawMap<K, V> {
    /// Copies the structure bucket by bucket (same B, same chains, same growth progress), so
    /// cloning needs neither `Hash` nor `Eq`, like std's. If a `clone` panics, the partial
    /// copy is a consistent map and its `Drop` frees what was cloned so far.
    fn clone(&self) -> Self {
        let mut new = RawMap::new();
        let Some(src_new) = &self.buckets else {
            return new;
        };
        new.min_b = self.min_b;
        new.nevacuate = self.nevacuate;
        new.buckets = Some(BucketArray::new_uninit(src_new.b()));
        new.update_resize_bounds();
        new.next_overflow = src_new.len();
        new.oldbuckets = self
            .oldbuckets
            .as_ref()
            .map(|o| BucketArray::new_uninit(o.b()));
        // First give every head of the copy its final "shape" (empty or evacuated marks), so
        // that the copy is a valid map whatever clone panics later.
        if let (Some(src_old), Some(dst_old)) = (&self.oldbuckets, &new.oldbuckets) {
            for i in 0..src_old.len() {
                // SAFETY: old main buckets at or above `old_released_below` are initialised and
                // intact; below it they are evacuated. The copy's buckets are fresh memory.
                unsafe {
                    let marks = if i < self.old_released_below {
                        [tophash::EVACUATED_EMPTY; BUCKET_CNT]
                    } else {
                        src_old.bucket(i).tophashes()
                    };
                    dst_old.bucket(i).init_empty();
                    if is_evacuated_mark(marks[0]) {
                        dst_old.bucket(i).set_tophashes(marks);
                    }
                }
            }
        }
        let dst_new = new.buckets.as_ref().expect("just set").get();
        for j in 0..dst_new.len() {
            if self.new_bucket_initialised(j) {
                // SAFETY: fresh memory of the copy's array.
                unsafe { dst_new.bucket(j).init_empty() };
            }
        }
        let dst_old = new.oldbuckets.as_ref().map(|a| a.get());
        self.for_each_live_head(|src_head, old, i| {
            let dst_head = if old {
                dst_old.expect("growing").bucket(i)
            } else {
                dst_new.bucket(i)
            };
            let (mut src, mut dst) = (src_head, dst_head);
            loop {
                // SAFETY: `src` is in a live chain of `self`; `dst` an initialised bucket of
                // the copy whose slots are filled one by one, tophash last, so the copy is
                // consistent at every step.
                unsafe {
                    for index in 0..BUCKET_CNT {
                        let top = src.tophash(index);
                        if is_full(top) {
                            let key = (*src.key(index)).clone();
                            let value = (*src.value(index)).clone();
                            dst.write(index, key, value);
                            new.count += 1;
                        }
                        dst.set_tophash(index, top);
                    }
                    match src.overflow() {
                        None => break,
                        Some(next) => {
                            src = next;
                            dst = if old {
                                let b = alloc_overflow();
                                dst.set_overflow(Some(b));
                                b
                            } else {
                                new.new_overflow(dst)
                            };
                        }
                    }
                }
            }
        });
        debug_assert_eq!(new.count, self.count);
        debug_assert_eq!(new.noverflow, self.noverflow);
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `empty_one_run_start` and `mark_empty_rest` against the byte loop they replace, on
    /// every bucket of full / emptyOne / emptyRest slots (3^8) and every slot: the slot that
    /// ends the run may still be full (`erase` marks the slot it just emptied this way).
    #[test]
    fn empty_rest_marking_matches_the_byte_loop() {
        let states = [MIN_TOP_HASH + 7, EMPTY_ONE, EMPTY_REST];
        for code in 0..3usize.pow(BUCKET_CNT as u32) {
            let tops: [u8; BUCKET_CNT] =
                core::array::from_fn(|i| states[code / 3usize.pow(i as u32) % 3]);
            for index in 0..BUCKET_CNT {
                let mut want = tops;
                let mut i = index;
                loop {
                    want[i] = EMPTY_REST;
                    if i == 0 || want[i - 1] != EMPTY_ONE {
                        break;
                    }
                    i -= 1;
                }
                let start = empty_one_run_start(tops, index);
                assert_eq!(start, i, "{tops:?} from {index}");
                assert_eq!(mark_empty_rest(tops, start, index), want, "{tops:?}");
            }
        }
    }
}
