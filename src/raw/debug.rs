//! Read-only introspection: statistics, a picture of the bucket arrays, and the invariant
//! checker used by the tests (Go's `MapTombstoneCheck`, and more).

use core::mem::size_of;

use super::bucket::{pool_len, Bucket, BucketLayout, Stored, BUCKET_CNT};
use super::tophash::{
    is_evacuated_mark, is_full, tophash, EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X,
    EVACUATED_Y,
};
use super::RawMap;

/// Statistics of a map's layout, from [`HashMap::stats`](crate::HashMap::stats).
///
/// Go's map keeps all of this internal; gomap shows it so you can see the design work.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MapStats {
    /// Entries in the map.
    pub len: usize,
    /// Go's `B`: the current bucket array has `2^b` main buckets.
    pub b: u8,
    /// Main buckets of the current array (`1 << b`).
    pub buckets: usize,
    /// Overflow buckets chained in the current array (Go's `noverflow`).
    pub overflow_buckets: usize,
    /// Pre-allocated overflow buckets of the current array (`2^(b-4)` when `b >= 4`).
    pub overflow_pool: usize,
    /// How many of them are in use.
    pub overflow_pool_used: usize,
    /// Whether a growth (or shrink) is in progress: an old array is being evacuated.
    pub growing: bool,
    /// `B` of the old array while growing.
    pub old_b: Option<u8>,
    /// Old buckets already evacuated (all of them once the growth ends: 0 when not growing).
    pub evacuated: usize,
    /// Go's `nevacuate`: every old bucket below it is evacuated.
    pub nevacuate: usize,
    /// Overflow buckets still chained in the old array.
    pub old_overflow_buckets: usize,
    /// Entries per main bucket of the current array (Go grows past 6.5).
    pub load_factor: f64,
    /// `chain_lengths[n]` = number of live chains made of `n` buckets (a head and `n - 1`
    /// overflow buckets), over both arrays while growing. Index 0 is always 0.
    pub chain_lengths: Vec<usize>,
    /// Entries moved by evacuation over the map's life.
    pub entries_evacuated: u64,
    /// Heap bytes held by the map: bucket arrays, overflow buckets, boxed keys and values. An
    /// old array (during a growth, or retiring after one) counts only for the pages not yet
    /// returned to the OS.
    pub memory_bytes: usize,
}

impl MapStats {
    /// Heap bytes per entry (`memory_bytes / len`), or `None` for an empty map.
    pub fn bytes_per_entry(&self) -> Option<f64> {
        (self.len > 0).then(|| self.memory_bytes as f64 / self.len as f64)
    }
}

/// What a tophash byte says about its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotState {
    /// Empty, and so is the rest of the chain (`emptyRest`).
    EmptyRest,
    /// Empty, later slots may be full (`emptyOne`).
    EmptyOne,
    /// Old array: the entry moved to the X half (`evacuatedX`).
    EvacuatedX,
    /// Old array: the entry moved to the Y half (`evacuatedY`).
    EvacuatedY,
    /// Old array: the slot was empty at evacuation (`evacuatedEmpty`).
    EvacuatedEmpty,
    /// Holds an entry whose hash has this top byte.
    Full(u8),
}

impl SlotState {
    /// Decodes a tophash byte.
    pub fn from_tophash(top: u8) -> SlotState {
        match top {
            EMPTY_REST => SlotState::EmptyRest,
            EMPTY_ONE => SlotState::EmptyOne,
            EVACUATED_X => SlotState::EvacuatedX,
            EVACUATED_Y => SlotState::EvacuatedY,
            EVACUATED_EMPTY => SlotState::EvacuatedEmpty,
            top => SlotState::Full(top),
        }
    }
}

/// One bucket (Go's `bmap`) in a [`LayoutView`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketView {
    /// The eight tophash bytes.
    pub tophash: [u8; BUCKET_CNT],
    /// For an overflow bucket: whether it came from the array's pre-allocated pool.
    pub from_pool: bool,
    /// `describe(key, value)` of each full slot.
    pub entries: [Option<String>; BUCKET_CNT],
}

impl BucketView {
    /// The state of slot `i`.
    pub fn state(&self, i: usize) -> SlotState {
        SlotState::from_tophash(self.tophash[i])
    }
}

/// One main bucket and its overflow chain in a [`LayoutView`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainView {
    /// Index of the main bucket in its array.
    pub index: usize,
    /// Old array: evacuated (the head only keeps its evacuation marks, and no bucket is shown
    /// once its memory was returned to the OS during the growth).
    /// New array while growing: not yet initialised (nothing evacuated into it yet).
    pub retired: bool,
    /// The head and its overflow buckets, in chain order (empty when not initialised).
    pub buckets: Vec<BucketView>,
}

/// A read-only picture of a map's bucket arrays, from
/// [`HashMap::layout`](crate::HashMap::layout).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LayoutView {
    /// The statistics of the same moment.
    pub stats: MapStats,
    /// The current array, one chain per main bucket.
    pub buckets: Vec<ChainView>,
    /// The old array while growing.
    pub oldbuckets: Option<Vec<ChainView>>,
}

fn chain_len<K, V>(head: Bucket<K, V>) -> usize {
    let mut n = 1;
    let mut bucket = head;
    // SAFETY: callers pass live heads, whose links point to initialised buckets.
    while let Some(next) = unsafe { bucket.overflow() } {
        n += 1;
        bucket = next;
    }
    n
}

pub(super) fn stats<K, V>(map: &RawMap<K, V>) -> MapStats {
    let b = map.b();
    let buckets = map.buckets.as_ref().map_or(0, |a| a.len());
    let old = map.oldbuckets.as_ref().map(|a| a.get());
    let mut chain_lengths = vec![0usize; 2];
    let mut heap_overflow = 0;
    let mut old_overflow = 0;
    let new_array = map.buckets.as_ref().map(|a| a.get());
    map.for_each_live_head(|head, is_old, _| {
        let n = chain_len(head);
        if chain_lengths.len() <= n {
            chain_lengths.resize(n + 1, 0);
        }
        chain_lengths[n] += 1;
        let array = if is_old { old } else { new_array }.expect("array of a live head");
        let mut bucket = head;
        // SAFETY: live chain.
        while let Some(next) = unsafe { bucket.overflow() } {
            if is_old {
                old_overflow += 1;
            }
            if !array.contains(next) {
                heap_overflow += 1;
            }
            bucket = next;
        }
    });
    let evacuated = old.map_or(0, |o| {
        (0..o.len())
            .filter(|&i| RawMap::old_evacuated(o, map.nevacuate, i))
            .count()
    });
    let array_bytes = |b: u8| ((1usize << b) + pool_len(b)) * BucketLayout::<K, V>::SIZE;
    let boxed = usize::from(Stored::<K>::INDIRECT) * size_of::<K>()
        + usize::from(Stored::<V>::INDIRECT) * size_of::<V>();
    // An old or retired array counts for what has not been returned to the OS yet.
    let old_bytes = map.oldbuckets.as_ref().map_or(0, |o| {
        o.byte_len() - map.old_release.released_from(o.base()).min(o.byte_len())
    });
    let retired_bytes = map.retired.as_ref().map_or(0, |(a, r)| {
        a.byte_len() - r.released_from(a.base()).min(a.byte_len())
    });
    let memory_bytes = map.buckets.as_ref().map_or(0, |a| array_bytes(a.b()))
        + old_bytes
        + retired_bytes
        + heap_overflow * BucketLayout::<K, V>::SIZE
        + map.count * boxed;
    MapStats {
        len: map.count,
        b,
        buckets,
        overflow_buckets: map.noverflow,
        overflow_pool: if buckets == 0 { 0 } else { pool_len(b) },
        overflow_pool_used: map.next_overflow.saturating_sub(buckets),
        growing: map.growing(),
        old_b: old.map(|o| o.b()),
        evacuated,
        nevacuate: map.nevacuate,
        old_overflow_buckets: old_overflow,
        load_factor: if buckets == 0 {
            0.0
        } else {
            map.count as f64 / buckets as f64
        },
        chain_lengths,
        entries_evacuated: map.moved,
        memory_bytes,
    }
}

pub(super) fn layout_view<K, V>(
    map: &RawMap<K, V>,
    mut describe: impl FnMut(&K, &V) -> String,
) -> LayoutView {
    let mut view_chain = |head: Bucket<K, V>, array: super::ArrayRef<K, V>| {
        let mut out = Vec::new();
        let mut bucket = Some(head);
        while let Some(b) = bucket {
            // SAFETY: live chain; full slots hold live pairs.
            unsafe {
                let tophash = b.tophashes();
                let entries = core::array::from_fn(|i| {
                    is_full(tophash[i]).then(|| describe(&*b.key(i), &*b.value(i)))
                });
                out.push(BucketView {
                    tophash,
                    from_pool: b != head && array.contains(b),
                    entries,
                });
                bucket = b.overflow();
            }
        }
        out
    };
    let mut buckets = Vec::new();
    let mut oldbuckets = None;
    if let Some(new) = &map.buckets {
        for j in 0..new.len() {
            let live = map.new_bucket_initialised(j);
            buckets.push(ChainView {
                index: j,
                retired: !live,
                buckets: if live {
                    view_chain(new.bucket(j), new.get())
                } else {
                    Vec::new()
                },
            });
        }
    }
    if let Some(old) = &map.oldbuckets {
        let mut chains = Vec::new();
        for i in 0..old.len() {
            let evacuated = RawMap::old_evacuated(old.get(), map.nevacuate, i);
            chains.push(ChainView {
                index: i,
                retired: evacuated,
                buckets: if i < map.old_released_below {
                    // Its memory went back to the OS: nothing left to show.
                    Vec::new()
                } else if evacuated {
                    // SAFETY: an evacuated head keeps its (initialised) marks.
                    let tophash = unsafe { old.bucket(i).tophashes() };
                    vec![BucketView {
                        tophash,
                        from_pool: false,
                        entries: Default::default(),
                    }]
                } else {
                    view_chain(old.bucket(i), old.get())
                },
            });
        }
        oldbuckets = Some(chains);
    }
    LayoutView {
        stats: stats(map),
        buckets,
        oldbuckets,
    }
}

pub(super) fn check_invariants<K, V>(
    map: &RawMap<K, V>,
    hasher: impl Fn(&K) -> u64,
) -> Result<(), String> {
    let Some(new) = &map.buckets else {
        if map.count != 0 || map.growing() || map.noverflow != 0 || map.grow_at != 0 {
            return Err("unallocated map with state".into());
        }
        return Ok(());
    };
    let new = new.get();
    let old = map.oldbuckets.as_ref().map(|a| a.get());
    if !(new.len()..=new.len() + pool_len(new.b())).contains(&map.next_overflow) {
        return Err(format!(
            "next_overflow {} out of the pool",
            map.next_overflow
        ));
    }
    if (map.shrink_below, map.grow_at) != map.resize_bounds() {
        return Err(format!(
            "cached resize bounds {:?} stale (B {}, min_b {}: {:?})",
            (map.shrink_below, map.grow_at),
            new.b(),
            map.min_b,
            map.resize_bounds()
        ));
    }
    match old {
        None if map.nevacuate != 0 => return Err("nevacuate set while not growing".into()),
        Some(o) => {
            if map.old_released_below > map.nevacuate {
                return Err("old buckets released past nevacuate".into());
            }
            if map.nevacuate >= o.len() {
                return Err("growth finished but old array kept".into());
            }
            for i in 0..o.len() {
                if i < map.old_released_below {
                    continue;
                }
                let evacuated = RawMap::old_evacuated(o, map.nevacuate, i);
                // SAFETY: buckets at or above `old_released_below` are intact.
                if i < map.nevacuate && !is_evacuated_mark(unsafe { o.bucket(i).tophash(0) }) {
                    return Err(format!("old bucket {i} < nevacuate not evacuated"));
                }
                if evacuated {
                    let b = o.bucket(i);
                    // SAFETY: an evacuated head is initialised.
                    let (tops, ovf) = unsafe { (b.tophashes(), b.overflow()) };
                    if !tops.iter().all(|&t| is_evacuated_mark(t)) || ovf.is_some() {
                        return Err(format!("old bucket {i}: bad evacuation marks {tops:?}"));
                    }
                }
            }
        }
        None => {}
    }
    let mut count = 0;
    let mut overflow = 0;
    let mut pool_used = 0;
    let mut error = None;
    let limit = map.count + map.noverflow + 2 * new.len() + 16;
    map.for_each_live_head(|head, is_old, index| {
        if error.is_some() {
            return;
        }
        let array = if is_old { old.expect("growing") } else { new };
        let mut seen_rest = false;
        let mut bucket = Some(head);
        let mut steps = 0;
        while let Some(b) = bucket {
            steps += 1;
            if steps > limit {
                error = Some(format!("chain at {index} loops"));
                return;
            }
            if b != head {
                if !is_old {
                    overflow += 1;
                    if array.contains(b) {
                        pool_used += 1;
                    }
                }
                // A pool bucket must lie in the pool, not among the main buckets.
                if array.contains(b) {
                    let offset = (b.as_ptr() as usize - array.bucket(0).as_ptr() as usize)
                        / BucketLayout::<K, V>::SIZE;
                    if offset < array.len() {
                        error = Some(format!("chain at {index} links main bucket {offset}"));
                        return;
                    }
                }
            }
            for i in 0..BUCKET_CNT {
                // SAFETY: live chain; a full slot holds a live key.
                let top = unsafe { b.tophash(i) };
                if seen_rest && top != EMPTY_REST {
                    error = Some(format!("chain at {index}: slot after emptyRest is {top}"));
                    return;
                }
                if top == EMPTY_REST {
                    seen_rest = true;
                } else if is_evacuated_mark(top) {
                    error = Some(format!("chain at {index}: evacuation mark in a live chain"));
                    return;
                } else if is_full(top) {
                    count += 1;
                    // SAFETY: full slot.
                    let key = unsafe { &*b.key(i) };
                    let hash = hasher(key);
                    if tophash(hash) != top {
                        error = Some(format!("chain at {index}: tophash {top} != hash's"));
                        return;
                    }
                    if hash as usize & array.mask() != index {
                        error = Some(format!(
                            "chain at {index}: key of bucket {}",
                            hash as usize & array.mask()
                        ));
                        return;
                    }
                    match map.find(hash, |k| core::ptr::eq(k, key)) {
                        Some(s) if s.bucket == b && s.index == i => {}
                        _ => {
                            error = Some(format!("chain at {index}: entry not findable"));
                            return;
                        }
                    }
                }
            }
            // SAFETY: live chain.
            bucket = unsafe { b.overflow() };
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    if count != map.count {
        return Err(format!("count {} but {count} full slots", map.count));
    }
    if overflow != map.noverflow {
        return Err(format!(
            "noverflow {} but {overflow} overflow buckets",
            map.noverflow
        ));
    }
    if pool_used != map.next_overflow - new.len() {
        return Err(format!(
            "{pool_used} pool buckets chained, cursor says {}",
            map.next_overflow - new.len()
        ));
    }
    Ok(())
}
