//! The SyncMap side of `gomap viz --sync-map`: the same writes replayed on a
//! `gomap::SyncMap` (insert = `store`, remove = `delete`, load = `load`), read through its
//! public `stats()`: read snapshot vs dirty map sizes, `amended`, `misses`, promotions.
//!
//! `SyncMap` exposes counts only, no per-entry view, so the page draws entry states (value /
//! nil / expunged) as the one figure the counts give: snapshot entries without a value
//! (`read_len - len`, exact while there is no dirty map).

use foldhash::fast::FixedState;
use gomap::{SyncMap, SyncMapStats};
use serde::Serialize;

use super::ops::Op;
use crate::keys;

/// The watched sync map: the same keys, values and hasher as the HashMap.
pub type VizSyncMap = SyncMap<u64, u64, FixedState>;

pub fn new_map(seed: u64) -> VizSyncMap {
    SyncMap::with_hasher(FixedState::with_seed(seed))
}

/// Applies one write (or load) the way Go's sync.Map names it.
pub fn apply(map: &VizSyncMap, op: Op) {
    match op {
        Op::Insert(k, v) => map.store(k, v),
        Op::Remove(k) => {
            map.delete(&k);
        }
        Op::Load(k) => {
            map.load(&k);
        }
    }
}

/// `SyncMapStats` at one frame, serialisable.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SyncFrame {
    pub len: usize,
    pub read_len: usize,
    pub dirty_len: Option<usize>,
    pub amended: bool,
    pub copying: bool,
    pub misses: usize,
    pub promotions: u64,
}

impl From<SyncMapStats> for SyncFrame {
    fn from(s: SyncMapStats) -> Self {
        SyncFrame {
            len: s.len,
            read_len: s.read_len,
            dirty_len: s.dirty_len,
            amended: s.amended,
            copying: s.copying,
            misses: s.misses,
            promotions: s.promotions,
        }
    }
}

/// What changed in the read/dirty cycle between two steps, if anything worth a frame.
pub fn event(prev: &SyncFrame, s: &SyncFrame) -> Option<String> {
    if s.promotions > prev.promotions {
        return Some(format!(
            "sync.Map: promotion {} (misses reached len(dirty) = {}): dirty becomes the read \
             snapshot of {} entries",
            s.promotions,
            prev.dirty_len.unwrap_or(0),
            s.read_len
        ));
    }
    if prev.dirty_len.is_none() && s.dirty_len.is_some() {
        return Some(format!(
            "sync.Map: a new key starts the dirty map (copying the {} snapshot entries that \
             hold a value; deleted ones are expunged)",
            prev.len
        ));
    }
    None
}

/// Rounds of loads of the new keys the built-in sequence makes, at most, to see the second
/// promotion (each round misses once per new key; about 4 rounds are needed).
const MAX_LOAD_ROUNDS: usize = 64;

/// The built-in sequence of `--sync-map`, showing Go's read/dirty cycle on `keys` keys:
/// 1. store them all (new keys go to the dirty map; the snapshot is amended);
/// 2. load each once: every load misses the snapshot, and once the misses reach len(dirty)
///    the dirty map is promoted to be the snapshot;
/// 3. delete every fourth key (its snapshot entry turns nil);
/// 4. store `keys / 4` new keys: the first starts a new dirty map, copying the entries that
///    hold a value and expunging the deleted ones;
/// 5. load the new keys, round after round, until the dirty map is promoted again;
/// 6. store two of the deleted keys again: new keys once more, a third dirty map.
///
/// Found by running it on a SyncMap with the same hasher, so step 5 stops at the promotion.
pub fn default_sequence(keys: u64, seed: u64) -> Vec<Op> {
    let key = |i| keys::key(seed, i);
    let map = new_map(seed);
    let mut ops = Vec::new();
    let run = |batch: Vec<Op>, ops: &mut Vec<Op>| {
        for op in batch {
            apply(&map, op);
            ops.push(op);
        }
        map.stats().promotions
    };
    run((0..keys).map(|i| Op::Insert(key(i), i)).collect(), &mut ops);
    let promoted = run((0..keys).map(|i| Op::Load(key(i))).collect(), &mut ops);
    run(
        (0..keys).step_by(4).map(|i| Op::Remove(key(i))).collect(),
        &mut ops,
    );
    let fresh = keys..keys + keys.div_ceil(4);
    run(
        fresh.clone().map(|i| Op::Insert(key(i), i)).collect(),
        &mut ops,
    );
    for _ in 0..MAX_LOAD_ROUNDS {
        let mut done = false;
        for i in fresh.clone() {
            if run(vec![Op::Load(key(i))], &mut ops) > promoted {
                done = true;
                break;
            }
        }
        if done {
            break;
        }
    }
    run(
        [0, 4]
            .into_iter()
            .filter(|&i| i < keys)
            .map(|i| Op::Insert(key(i), i))
            .collect(),
        &mut ops,
    );
    ops
}
