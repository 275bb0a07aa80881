//! Replays the operations on a live map and captures the frames the page scrubs through.
//!
//! Two replays of the same writes on maps with the same fixed hasher (so both see the very
//! same layouts):
//! 1. the survey reads `stats()` after every write and notes where growths start and end
//!    (on large maps, after every write of a growth and wherever B changes);
//! 2. the capture reads `stats()` and `layout()` at the chosen steps only: growth starts and
//!    ends first, then every write of a growth, then evenly spaced steps, at most
//!    [`MAX_FRAMES`] in all.
//!
//! A frame stores a whole bucket array only when the array is new to it (the first frame, a
//! growth start); otherwise just the chains that changed since the previous frame. The page
//! rebuilds an array by applying those changes forward from the last whole copy.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use gomap::{tophash, BucketView, ChainView, HashMap, MapStats};
use serde::Serialize;

use super::ops::Op;
use super::sync::{self, SyncFrame};

/// The map being watched: u64 keys and values under a fixed seed, as in the tour.
pub type VizMap = HashMap<u64, u64, FixedState>;

/// At most this many frames are captured, however long the sequence.
pub const MAX_FRAMES: usize = 400;
/// Keys and values are kept (for hovering) while the largest array has at most this many
/// buckets (about 3,300 keys); past it the page would weigh tens of megabytes, and shows the
/// tophash states only.
pub const ENTRIES_UP_TO_BUCKETS: usize = 512;
pub use gomap::MIN_TOP_HASH;

/// The map's statistics at one frame (a serialisable copy of `MapStats`).
#[derive(Debug, Serialize)]
pub struct FrameStats {
    pub len: usize,
    pub b: u8,
    pub buckets: usize,
    pub noverflow: usize,
    pub pool: usize,
    pub pool_used: usize,
    pub growing: bool,
    pub old_b: Option<u8>,
    pub nevacuate: usize,
    pub evacuated: usize,
    pub old_noverflow: usize,
    pub load: f64,
    pub memory: usize,
    pub moved_total: u64,
    pub chain_lengths: Vec<usize>,
}

impl From<&MapStats> for FrameStats {
    fn from(s: &MapStats) -> Self {
        FrameStats {
            len: s.len,
            b: s.b,
            buckets: s.buckets,
            noverflow: s.overflow_buckets,
            pool: s.overflow_pool,
            pool_used: s.overflow_pool_used,
            growing: s.growing,
            old_b: s.old_b,
            nevacuate: s.nevacuate,
            evacuated: s.evacuated,
            old_noverflow: s.old_overflow_buckets,
            load: s.load_factor,
            memory: s.memory_bytes,
            moved_total: s.entries_evacuated,
            chain_lengths: s.chain_lengths.clone(),
        }
    }
}

/// One bucket (Go's `bmap`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BucketFrame {
    /// The 8 tophash bytes as 16 hex digits.
    pub t: String,
    /// An overflow bucket taken from the array's pre-allocated pool.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub p: bool,
    /// `key=value` of each full slot (absent when the map is too large to carry them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<Vec<Option<String>>>,
}

/// One main bucket and its overflow chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChainFrame {
    /// Index in its array.
    pub i: usize,
    /// Old array: evacuated. New array during a growth: not initialised yet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub r: bool,
    /// Head first, then the overflow buckets. Empty for an old bucket whose memory went back
    /// to the OS, and for a new bucket nothing was evacuated into yet.
    pub b: Vec<BucketFrame>,
}

/// A bucket array at one frame: whole, or the chains changed since the previous frame.
#[derive(Debug, Serialize)]
pub struct ArrayFrame {
    pub full: bool,
    pub len: usize,
    pub chains: Vec<ChainFrame>,
}

/// Where the frame's write went.
#[derive(Debug, Serialize)]
pub struct Target {
    /// Bucket of the key in the current array.
    pub bucket: usize,
    /// Bucket of the key in the old array, while growing.
    pub old_bucket: Option<usize>,
    /// The key's tophash byte.
    pub tophash: u8,
}

/// Everything the page shows at one step.
#[derive(Debug, Serialize)]
pub struct Frame {
    /// Writes applied so far (0 = the empty map).
    pub step: usize,
    /// The write that led here, in `--ops` form.
    pub op: Option<String>,
    /// What this write started or ended, if anything.
    pub event: Option<String>,
    pub target: Option<Target>,
    pub stats: FrameStats,
    pub new: Option<ArrayFrame>,
    pub old: Option<ArrayFrame>,
    /// Old buckets evacuated since the previous frame.
    pub moved: Vec<usize>,
    /// With `--sync-map`: the SyncMap's layout after the same operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncFrame>,
}

/// What the survey keeps of each step.
#[derive(Clone, Copy, Debug)]
struct StepInfo {
    growing: bool,
    /// Incremented whenever a new current array appears (first allocation, growth start).
    generation: u32,
}

/// The survey's result: per-step facts and the events.
#[derive(Debug)]
pub struct Survey {
    steps: Vec<StepInfo>,
    events: Vec<(usize, String)>,
    /// The most main buckets any step had.
    pub max_buckets: usize,
}

fn resize_kind(old_b: u8, b: u8) -> &'static str {
    match b.cmp(&old_b) {
        std::cmp::Ordering::Greater => "doubling",
        std::cmp::Ordering::Equal => "same-size growth",
        std::cmp::Ordering::Less => "shrink",
    }
}

/// The event between two consecutive steps' statistics, if any, and whether a new current
/// array appeared.
fn event(prev: &MapStats, s: &MapStats) -> (Option<String>, bool) {
    if prev.buckets == 0 && s.buckets > 0 {
        return (
            Some(format!("first insert allocates 2^{} bucket(s)", s.b)),
            true,
        );
    }
    let started = s.growing && (!prev.growing || s.old_b != prev.old_b);
    let ended = prev.growing && (!s.growing || s.old_b != prev.old_b);
    let mut parts = Vec::new();
    if ended {
        let old_b = prev.old_b.unwrap_or(prev.b);
        parts.push(format!(
            "growth ends: all {} old buckets evacuated, B = {}",
            1usize << old_b,
            prev.b
        ));
    }
    if started {
        let old_b = s.old_b.unwrap_or(s.b);
        parts.push(format!(
            "{} starts: B {} -> {} ({} entries, {} overflow buckets)",
            resize_kind(old_b, s.b),
            old_b,
            s.b,
            s.len,
            prev.overflow_buckets
        ));
    }
    if !started && !s.growing && !prev.growing && s.b != prev.b {
        parts.push(format!(
            "{} B {} -> {} started and finished in this write",
            resize_kind(prev.b, s.b),
            prev.b,
            s.b
        ));
        return (Some(parts.join("; ")), true);
    }
    ((!parts.is_empty()).then(|| parts.join("; ")), started)
}

/// Up to this many main buckets the survey reads `stats()` (a walk of every chain) after
/// every write; above it, only while a growth is in flight.
const SURVEY_EVERY_WRITE_UP_TO: usize = 1024;
/// Above [`SURVEY_EVERY_WRITE_UP_TO`] buckets and not growing, `capacity()` (a function of B)
/// still catches a doubling or shrink at the very write that starts it; a same-size growth
/// (it needs 2^B overflow buckets, and lasts at least 2^(B-1) writes) is caught by a
/// `stats()` read every this many writes.
const SURVEY_STRIDE: usize = 64;

/// Replay 1: `stats()` after every write (see [`SURVEY_EVERY_WRITE_UP_TO`] for large maps),
/// and with `with_sync` the SyncMap's `stats()` after every operation.
pub fn survey(ops: &[Op], seed: u64, with_sync: bool) -> Survey {
    let mut map: VizMap = HashMap::with_hasher(FixedState::with_seed(seed));
    let sync_map = with_sync.then(|| sync::new_map(seed));
    let mut sync_prev = sync_map.as_ref().map(|m| m.stats());
    let mut prev = map.stats();
    let mut capacity = map.capacity();
    let mut generation = 0;
    let mut steps = Vec::with_capacity(ops.len() + 1);
    steps.push(StepInfo {
        growing: false,
        generation,
    });
    let mut events = Vec::new();
    let mut max_buckets = 0;
    for (i, &op) in ops.iter().enumerate() {
        op.apply(&mut map);
        let step = i + 1;
        let new_capacity = map.capacity();
        let read = prev.growing
            || prev.buckets <= SURVEY_EVERY_WRITE_UP_TO
            || new_capacity != capacity
            || step % SURVEY_STRIDE == 0
            || step == ops.len();
        capacity = new_capacity;
        if read {
            let s = map.stats();
            let (text, new_array) = event(&prev, &s);
            if new_array {
                generation += 1;
            }
            if let Some(text) = text {
                events.push((step, text));
            }
            max_buckets = max_buckets.max(s.buckets);
            prev = s;
        }
        if let (Some(m), Some(before)) = (&sync_map, &mut sync_prev) {
            sync::apply(m, op);
            let now = m.stats();
            if let Some(text) = sync::event(before, &now) {
                match events.last_mut() {
                    Some((s, t)) if *s == step => *t = format!("{t}; {text}"),
                    _ => events.push((step, text)),
                }
            }
            *before = now;
        }
        steps.push(StepInfo {
            growing: prev.growing,
            generation,
        });
    }
    Survey {
        steps,
        events,
        max_buckets,
    }
}

/// Up to `budget` evenly spaced items of `items` (all of them if they fit).
fn spread(items: &[usize], budget: usize) -> Vec<usize> {
    if items.len() <= budget {
        return items.to_vec();
    }
    if budget == 0 {
        return Vec::new();
    }
    if budget == 1 {
        return vec![items[0]];
    }
    (0..budget)
        .map(|j| items[j * (items.len() - 1) / (budget - 1)])
        .collect()
}

/// The steps to capture, ascending: first and last, growth starts and ends, then the writes
/// made while growing, then evenly spaced others, `max` in all at most.
pub fn choose_steps(survey: &Survey, max: usize) -> Vec<usize> {
    let last = survey.steps.len() - 1;
    let mut chosen = std::collections::BTreeSet::new();
    let add_tier = |chosen: &mut std::collections::BTreeSet<usize>, tier: Vec<usize>| {
        let fresh: Vec<usize> = tier.into_iter().filter(|s| !chosen.contains(s)).collect();
        let budget = max.saturating_sub(chosen.len());
        chosen.extend(spread(&fresh, budget));
    };
    add_tier(&mut chosen, vec![0, last]);
    add_tier(&mut chosen, survey.events.iter().map(|&(s, _)| s).collect());
    add_tier(
        &mut chosen,
        (1..=last).filter(|&s| survey.steps[s].growing).collect(),
    );
    add_tier(&mut chosen, (1..=last).collect());
    chosen.into_iter().collect()
}

fn hex(tophash: &[u8; 8]) -> String {
    tophash.iter().map(|t| format!("{t:02x}")).collect()
}

fn bucket_frame(b: &BucketView, entries: bool) -> BucketFrame {
    BucketFrame {
        t: hex(&b.tophash),
        p: b.from_pool,
        e: entries.then(|| b.entries.to_vec()),
    }
}

fn chain_frame(c: &ChainView, entries: bool) -> ChainFrame {
    ChainFrame {
        i: c.index,
        r: c.retired,
        b: c.buckets.iter().map(|b| bucket_frame(b, entries)).collect(),
    }
}

/// The array as a whole when `prev` is not the same array, else only what changed.
fn array_frame(now: &[ChainFrame], prev: Option<&[ChainFrame]>) -> ArrayFrame {
    match prev {
        Some(prev) if prev.len() == now.len() => ArrayFrame {
            full: false,
            len: now.len(),
            chains: now
                .iter()
                .zip(prev)
                .filter(|(n, p)| n != p)
                .map(|(n, _)| n.clone())
                .collect(),
        },
        _ => ArrayFrame {
            full: true,
            len: now.len(),
            chains: now.to_vec(),
        },
    }
}

/// Replay 2: the frames at `steps` (ascending, from [`choose_steps`]).
pub fn capture(
    ops: &[Op],
    seed: u64,
    survey: &Survey,
    steps: &[usize],
    with_sync: bool,
) -> Vec<Frame> {
    let entries = survey.max_buckets <= ENTRIES_UP_TO_BUCKETS;
    let mut map: VizMap = HashMap::with_hasher(FixedState::with_seed(seed));
    let sync_map = with_sync.then(|| sync::new_map(seed));
    let events: std::collections::HashMap<usize, &str> = survey
        .events
        .iter()
        .map(|(s, t)| (*s, t.as_str()))
        .collect();
    let mut frames = Vec::with_capacity(steps.len());
    // The previous frame's arrays, with the generation of its current array.
    let mut prev_new: Option<(u32, Vec<ChainFrame>)> = None;
    let mut prev_old: Option<(u32, Vec<ChainFrame>)> = None;
    let mut applied = 0;
    for &step in steps {
        while applied < step {
            ops[applied].apply(&mut map);
            if let Some(m) = &sync_map {
                sync::apply(m, ops[applied]);
            }
            applied += 1;
        }
        let generation = survey.steps[step].generation;
        let view = map.layout(|k, v| format!("{k}={v}"));
        let stats = &view.stats;
        let new_chains: Vec<ChainFrame> = view
            .buckets
            .iter()
            .map(|c| chain_frame(c, entries))
            .collect();
        let old_chains: Option<Vec<ChainFrame>> = view
            .oldbuckets
            .as_ref()
            .map(|o| o.iter().map(|c| chain_frame(c, entries)).collect());
        fn same(p: &Option<(u32, Vec<ChainFrame>)>, generation: u32) -> Option<&[ChainFrame]> {
            p.as_ref()
                .filter(|(g, _)| *g == generation)
                .map(|(_, c)| c.as_slice())
        }
        let new =
            (stats.buckets > 0).then(|| array_frame(&new_chains, same(&prev_new, generation)));
        // The old array of this frame is the current array of an earlier generation; it is
        // the same as the previous frame's old array when the generation did not change.
        let old = old_chains
            .as_ref()
            .map(|o| array_frame(o, same(&prev_old, generation)));
        let moved = match (&old_chains, same(&prev_old, generation)) {
            (Some(now), Some(before)) if now.len() == before.len() => now
                .iter()
                .zip(before)
                .filter(|(n, b)| n.r && !b.r)
                .map(|(n, _)| n.i)
                .collect(),
            (Some(now), _) => now.iter().filter(|c| c.r).map(|c| c.i).collect(),
            (None, _) => Vec::new(),
        };
        let target = (step > 0 && stats.buckets > 0).then(|| {
            let hash = map.hasher().hash_one(ops[step - 1].key());
            Target {
                bucket: hash as usize & (stats.buckets - 1),
                old_bucket: stats.old_b.map(|ob| hash as usize & ((1usize << ob) - 1)),
                tophash: tophash(hash),
            }
        });
        frames.push(Frame {
            step,
            op: (step > 0).then(|| ops[step - 1].to_string()),
            event: events.get(&step).map(|s| s.to_string()),
            target,
            stats: FrameStats::from(stats),
            new,
            old,
            moved,
            sync: sync_map.as_ref().map(SyncFrame::capture),
        });
        prev_new = Some((generation, new_chains));
        prev_old = old_chains.map(|o| (generation, o));
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_ends_and_budget() {
        let items: Vec<usize> = (10..110).collect();
        let s = spread(&items, 5);
        assert_eq!(s.len(), 5);
        assert_eq!((s[0], s[4]), (10, 109));
        assert_eq!(spread(&items[..3], 5), [10, 11, 12]);
    }

    #[test]
    fn tophash_skips_the_reserved_states() {
        assert_eq!(tophash(0), MIN_TOP_HASH);
        assert_eq!(tophash(0xff << 56), 0xff);
    }
}
