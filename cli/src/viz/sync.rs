//! The SyncMap side of `gomap viz --sync-map`: the same writes replayed on a
//! `gomap::SyncMap` (insert = `store`, remove = `delete`, load = `load`), read through its
//! public introspection: `stats()` after every operation (for the events), and at each frame
//! `layout()`, every entry of the read snapshot and of the dirty map with its state (value /
//! nil / expunged), beside `amended`, `misses` and the promotions.

use foldhash::fast::FixedState;
use gomap::{EntryState, SyncMap, SyncMapLayout, SyncMapStats};
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

/// Up to this many keys (snapshot and dirty map together) a frame carries every entry; past
/// it, only the counts (the page would grow by tens of kilobytes per frame).
pub const ENTRIES_UP_TO: usize = 2048;

/// One key of a frame: its state in the read snapshot and in the dirty map (Go's names,
/// `value` / `nil` / `expunged`; absent when the map lacks the key) and its value, if any.
/// A key in both maps is one shared entry, so it has one value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncEntry {
    /// The key (decimal: the page's JavaScript numbers cannot hold every u64).
    pub k: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
    /// State in the read snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r: Option<&'static str>,
    /// State in the dirty map.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<&'static str>,
}

/// The SyncMap at one frame: `layout()`'s counters, and its entries (up to
/// [`ENTRIES_UP_TO`] keys), serialisable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncFrame {
    pub len: usize,
    pub read_len: usize,
    pub dirty_len: Option<usize>,
    pub amended: bool,
    pub copying: bool,
    pub misses: usize,
    pub promotions: u64,
    /// Entries of each state in the snapshot: `[value, nil, expunged]`.
    pub read_states: [usize; 3],
    /// Entries of each state in the dirty map (none are expunged: that is what the state means).
    pub dirty_states: Option<[usize; 3]>,
    /// Every key, sorted as `layout()` sorts them, or `None` past [`ENTRIES_UP_TO`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<SyncEntry>>,
}

fn state_counts(entries: &[(String, EntryState)]) -> [usize; 3] {
    let mut counts = [0; 3];
    for (_, s) in entries {
        counts[match s {
            EntryState::Value(_) => 0,
            EntryState::Deleted => 1,
            EntryState::Expunged => 2,
        }] += 1;
    }
    counts
}

/// The keys of both maps, merged (both lists are sorted by key).
fn merge(layout: &SyncMapLayout) -> Vec<SyncEntry> {
    let dirty = layout.dirty.as_deref().unwrap_or_default();
    let mut out = Vec::with_capacity(layout.read.len().max(dirty.len()));
    let (mut r, mut d) = (layout.read.iter().peekable(), dirty.iter().peekable());
    loop {
        let (read, dirty) = match (r.peek(), d.peek()) {
            (None, None) => break,
            (Some(a), Some(b)) if a.0 == b.0 => (r.next(), d.next()),
            (Some(a), Some(b)) if a.0 < b.0 => (r.next(), None),
            (Some(_), None) => (r.next(), None),
            _ => (None, d.next()),
        };
        let (k, _) = read.or(dirty).expect("one side has the key");
        let value = read
            .and_then(|(_, s)| s.value())
            .or_else(|| dirty.and_then(|(_, s)| s.value()));
        out.push(SyncEntry {
            k: k.clone(),
            v: value.map(String::from),
            r: read.map(|(_, s)| s.name()),
            d: dirty.map(|(_, s)| s.name()),
        });
    }
    out
}

impl SyncFrame {
    /// The map's `layout()` as a frame.
    pub fn capture(map: &VizSyncMap) -> SyncFrame {
        let layout = map.layout(|_, v| v.to_string());
        let s = &layout.stats;
        let keys = layout.read.len() + layout.dirty.as_ref().map_or(0, Vec::len);
        SyncFrame {
            len: s.len,
            read_len: s.read_len,
            dirty_len: s.dirty_len,
            amended: layout.amended,
            copying: s.copying,
            misses: layout.misses,
            promotions: s.promotions,
            read_states: state_counts(&layout.read),
            dirty_states: layout.dirty.as_deref().map(state_counts),
            entries: (keys <= ENTRIES_UP_TO).then(|| merge(&layout)),
        }
    }
}

/// What changed in the read/dirty cycle between two steps, if anything worth a frame.
pub fn event(prev: &SyncMapStats, s: &SyncMapStats) -> Option<String> {
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
