//! `gomap tour`: a guided walk through Go's map design on a live `gomap::HashMap`, and (section
//! 5, in `tour/sync.rs`) through Go's `sync.Map` design on a live `gomap::SyncMap`.
//!
//! Every figure printed here is read back from the map through its public introspection
//! (`stats()` and `layout()`, the HashMap's and the SyncMap's) or computed from the map's own
//! hasher; the prose only names what the figures show, and says so when the map did something
//! other than the textbook case.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use gomap::{tophash, ChainView, HashMap, LayoutView, MapStats, SlotState, MIN_TOP_HASH};

use crate::keys;

mod sync;
use crate::style::{heading, paint, Cell, Style, Table};

/// The tour's map: u64 keys and values, hashed with a fixed seed so a run is reproducible.
type TourMap = HashMap<u64, u64, FixedState>;

/// Go's `bucketCnt`: slots per bucket.
const BUCKET_CNT: usize = 8;
/// Rounds of churn the same-size-growth section tries before reporting what it saw instead.
const CHURN_ROUNDS: u64 = 200_000;
/// Up to this many buckets, the growth section reads `stats()` after every insert.
const STATS_EVERY_INSERT_UP_TO: usize = 4096;
/// Entries kept by the churn section: a small map, so its overflow buckets add up quickly.
const CHURN_LEN: u64 = 48;
/// Entries of the shrink section's map before its mass delete, and after it.
const SHRINK_LEN: u64 = 20_000;
const SHRINK_KEEP: u64 = 200;

/// Options of the tour.
#[derive(Debug)]
pub struct TourOptions {
    pub keys: u64,
    pub seed: u64,
}

pub fn run(opts: &TourOptions) {
    crate::outln!(
        "{}",
        paint(
            "gomap tour: Go's runtime map, watched from the inside",
            Style::Bold
        )
    );
    crate::outln!(
        "  keys: the splitmix64 stream seeded with {seed} ({n} distinct u64 keys);\n  \
         hasher: foldhash FixedState::with_seed({seed}), so the same --seed gives the same tour\n  \
         (gomap's default hasher draws a random seed per map, like Go's hash0).",
        seed = opts.seed,
        n = opts.keys
    );
    let mut map: TourMap = HashMap::with_hasher(FixedState::with_seed(opts.seed));
    growth(&mut map, opts);
    lookup(&map, opts);
    delete(&mut map);
    same_size_growth(opts.seed);
    shrink(opts.seed);
    sync::run(opts.seed);
}

/// The oldB and evacuated cells of a growth table: the old array's B and the old buckets
/// evacuated out of all of them while a resize runs, "-" otherwise.
fn growth_progress(s: &MapStats) -> (String, String) {
    match s.old_b {
        Some(old) => (
            old.to_string(),
            format!("{}/{}", s.evacuated, 1usize << old),
        ),
        None => ("-".into(), "-".into()),
    }
}

fn growth_row(table: &mut Table, insert: &str, s: &MapStats, event: Cell) {
    let (old_b, evacuated) = growth_progress(s);
    table.row(vec![
        insert.into(),
        s.len.to_string().into(),
        s.b.to_string().into(),
        s.buckets.to_string().into(),
        s.overflow_buckets.to_string().into(),
        old_b.into(),
        evacuated.into(),
        format!("{:.2}", s.load_factor).into(),
        event,
    ]);
}

/// What kind of resize an old/new B pair is.
fn resize_kind(old_b: u8, b: u8) -> &'static str {
    match b.cmp(&old_b) {
        std::cmp::Ordering::Greater => "doubling",
        std::cmp::Ordering::Equal => "same-size growth",
        std::cmp::Ordering::Less => "shrink",
    }
}

/// Section 1: insert the keys one by one and print a row whenever the layout changes shape.
fn growth(map: &mut TourMap, opts: &TourOptions) {
    heading("1. A map growing from empty");
    crate::outln!(
        "  Go's hmap keeps 2^B buckets of 8 slots. Past 6.5 entries per bucket an insert starts a\n  \
         growth: it only allocates the doubled array (oldB = the previous B). Each later write\n  \
         evacuates the old bucket it touches plus one more, so the old array drains a little at a\n  \
         time and no insert pays for a full rehash."
    );
    let mut table = Table::new([
        "insert",
        "len",
        "B",
        "buckets",
        "overflow",
        "oldB",
        "evacuated",
        "load",
        "event",
    ]);
    let mut prev = map.stats();
    growth_row(
        &mut table,
        "0",
        &prev,
        "empty map: nothing allocated yet".into(),
    );
    // Per-insert evacuation progress of the latest growth: (old buckets done, entries moved).
    let mut trace: Vec<(usize, u64)> = Vec::new();
    let mut last_trace: Vec<(usize, u64)> = Vec::new();
    let mut last_trace_b = (0u8, 0u8);
    let mut moved_before = 0u64;
    let mut capacity = map.capacity();
    for i in 0..opts.keys {
        map.insert(keys::key(opts.seed, i), i);
        // stats() walks every chain, so reading it after each of a million inserts would be
        // quadratic: read it after every insert while the array is small or a growth is in
        // flight, otherwise only when the capacity (a function of B) changes.
        let new_capacity = map.capacity();
        if !prev.growing && prev.buckets > STATS_EVERY_INSERT_UP_TO && new_capacity == capacity {
            continue;
        }
        capacity = new_capacity;
        let s = map.stats();
        let insert = (i + 1).to_string();
        if prev.buckets == 0 && s.buckets > 0 {
            growth_row(
                &mut table,
                &insert,
                &s,
                format!("first insert allocates 2^{} bucket(s)", s.b).into(),
            );
        } else if !prev.growing && !s.growing && s.b != prev.b {
            growth_row(
                &mut table,
                &insert,
                &s,
                Cell::styled(
                    format!(
                        "{} B {} -> {} started and finished in this insert ({} old bucket(s))",
                        resize_kind(prev.b, s.b),
                        prev.b,
                        s.b,
                        prev.buckets
                    ),
                    Style::Yellow,
                ),
            );
        }
        if s.growing && (!prev.growing || s.old_b != prev.old_b) {
            let old_b = s.old_b.unwrap_or(s.b);
            let kind = resize_kind(old_b, s.b);
            let why = if kind == "doubling" {
                format!(
                    ": {} entries over the limit of {} bucket(s)",
                    s.len,
                    1usize << old_b
                )
            } else {
                String::new()
            };
            growth_row(
                &mut table,
                &insert,
                &s,
                Cell::styled(
                    format!("{kind} starts (B {old_b} -> {}){why}", s.b),
                    Style::Yellow,
                ),
            );
            trace.clear();
            moved_before = prev.entries_evacuated;
            last_trace_b = (old_b, s.b);
        }
        if s.growing {
            trace.push((s.evacuated, s.entries_evacuated - moved_before));
            moved_before = s.entries_evacuated;
        }
        if prev.growing && !s.growing {
            growth_row(
                &mut table,
                &insert,
                &s,
                Cell::styled("last old bucket evacuated, old array freed", Style::Green),
            );
            trace.push((
                1usize << prev.old_b.unwrap_or(0),
                s.entries_evacuated - moved_before,
            ));
            last_trace = std::mem::take(&mut trace);
        }
        prev = s;
    }
    if prev.growing {
        last_trace = std::mem::take(&mut trace);
    }
    let prev = map.stats();
    growth_row(&mut table, &opts.keys.to_string(), &prev, "end".into());
    table.print();

    if last_trace.is_empty() {
        crate::outln!(
            "  No growth was in flight after any insert here: each one finished inside the insert \
             that started it (evacuating 2 old buckets per write covers an old array of 1 or 2)."
        );
        return;
    }
    let (old_b, new_b) = last_trace_b;
    let shown: Vec<String> = last_trace
        .iter()
        .take(24)
        .map(|(done, _)| done.to_string())
        .collect();
    let more = if last_trace.len() > 24 { " …" } else { "" };
    let mut steps = vec![last_trace[0].0];
    steps.extend(last_trace.windows(2).map(|w| w[1].0 - w[0].0));
    let max_buckets = steps.iter().max().copied().unwrap_or(0);
    let max_moved = last_trace.iter().map(|t| t.1).max().unwrap_or(0);
    crate::outln!(
        "  Latest growth (B {old_b} -> {new_b}), old buckets evacuated after each write: {}{more}",
        shown.join(" ")
    );
    crate::outln!(
        "  It took {} inserts; no insert evacuated more than {max_buckets} old bucket(s) or moved \
         more than {max_moved} entries.{}",
        last_trace.len(),
        if prev.growing {
            " The growth is still in progress: Go's growth only advances on writes."
        } else {
            ""
        }
    );
}

/// A slot state as a short label and colour.
fn slot_label(state: SlotState) -> (String, Style) {
    match state {
        SlotState::EmptyRest => ("rest".into(), Style::Dim),
        SlotState::EmptyOne => ("one".into(), Style::Cyan),
        SlotState::EvacuatedX => ("evX".into(), Style::Dim),
        SlotState::EvacuatedY => ("evY".into(), Style::Dim),
        SlotState::EvacuatedEmpty => ("evE".into(), Style::Dim),
        SlotState::Full(top) => (format!("{top:02x}"), Style::Plain),
    }
}

fn slot_headers(first: &str) -> Vec<String> {
    let mut h = vec![first.to_string()];
    h.extend((0..BUCKET_CNT).map(|i| format!("s{i}")));
    h
}

/// Which chain a lookup of `hash` reads in `view`, and a sentence on why.
fn chain_for(view: &LayoutView, hash: u64) -> (&ChainView, &'static str, String) {
    let s = &view.stats;
    let new_index = (hash as usize) & (s.buckets - 1);
    if let (Some(old_b), Some(old)) = (s.old_b, &view.oldbuckets) {
        let old_index = (hash as usize) & ((1usize << old_b) - 1);
        let chain = &old[old_index];
        if !chain.retired {
            return (
                chain,
                "old",
                format!(
                    "growing, and old bucket {old_index} = hash & (2^{old_b}-1) is not evacuated \
                     yet: read it there"
                ),
            );
        }
        return (
            &view.buckets[new_index],
            "new",
            format!(
                "growing, but old bucket {old_index} is already evacuated: read new bucket \
                 {new_index} = hash & (2^{}-1)",
                s.b
            ),
        );
    }
    (
        &view.buckets[new_index],
        "",
        format!("bucket = hash & (2^{} - 1) = {new_index}", s.b),
    )
}

/// Prints the tophash rows of a chain; `marks` styles individual (bucket, slot) cells.
fn print_chain(chain: &ChainView, array: &str, marks: &[(usize, usize, Style)]) {
    let mut table = Table::new(slot_headers("bucket")).left_aligned();
    for (pos, bucket) in chain.buckets.iter().enumerate() {
        let name = if pos == 0 {
            format!("{array}b{}", chain.index)
        } else if bucket.from_pool {
            format!("  overflow {pos} (pool)")
        } else {
            format!("  overflow {pos}")
        };
        let mut cells = vec![Cell::from(name)];
        for slot in 0..BUCKET_CNT {
            let (text, mut style) = slot_label(bucket.state(slot));
            if let Some(&(_, _, s)) = marks.iter().find(|m| m.0 == pos && m.1 == slot) {
                style = s;
            }
            cells.push(Cell::styled(text, style));
        }
        table.row(cells);
    }
    table.print();
}

/// Traces a lookup of `key` step by step on the map's layout.
fn trace_lookup(map: &TourMap, key: u64, title: &str) {
    let view = map.layout(|k, _| k.to_string());
    let hash = map.hasher().hash_one(key);
    let top_byte = (hash >> 56) as u8;
    let top = tophash(hash);
    crate::outln!("  {}", paint(&format!("{title}: key {key}"), Style::Bold));
    crate::outln!("    1. hash    = map.hasher().hash_one(key) = {hash:#018x}");
    let (chain, array, why) = chain_for(&view, hash);
    crate::outln!("    2. {why}");
    if top_byte < MIN_TOP_HASH {
        crate::outln!(
            "    3. tophash = top byte {top_byte:#04x} < minTopHash {MIN_TOP_HASH} (reserved for \
             slot states), bumped to {top:#04x}"
        );
    } else {
        crate::outln!("    3. tophash = top byte of the hash = {top:02x}");
    }
    let want = key.to_string();
    let mut marks = Vec::new();
    let mut steps = Vec::new();
    let mut skipped = 0;
    let mut outcome = None;
    'chain: for (pos, bucket) in chain.buckets.iter().enumerate() {
        for slot in 0..BUCKET_CNT {
            match bucket.state(slot) {
                SlotState::EmptyRest => {
                    marks.push((pos, slot, Style::Red));
                    outcome = Some(format!(
                        "chain position {pos} slot {slot} is emptyRest: nothing follows, stop — \
                         key absent"
                    ));
                    break 'chain;
                }
                SlotState::Full(t) if t == top => {
                    if bucket.entries[slot].as_deref() == Some(want.as_str()) {
                        marks.push((pos, slot, Style::Green));
                        let value = map.get(&key).copied();
                        outcome = Some(format!(
                            "chain position {pos} slot {slot}: tophash {t:02x} matches and the \
                             key compares equal — found, value {}",
                            value.map_or("?".into(), |v| v.to_string())
                        ));
                        break 'chain;
                    }
                    marks.push((pos, slot, Style::Yellow));
                    steps.push(format!(
                        "chain position {pos} slot {slot}: tophash {t:02x} matches but the key \
                         differs (a tophash collision) — go on"
                    ));
                }
                _ => skipped += 1,
            }
        }
    }
    let outcome = outcome.unwrap_or_else(|| "end of the chain reached — key absent".into());
    crate::outln!(
        "    4. scan the chain's tophash bytes (the real code matches all 8 of a bucket in one \
         word operation):"
    );
    print_chain(chain, array, &marks);
    crate::outln!(
        "       {skipped} slot(s) ruled out by their tophash byte alone, without touching a key"
    );
    for step in steps {
        crate::outln!("       {step}");
    }
    crate::outln!("    5. {outcome}");
    debug_assert_eq!(
        outcome.contains("found"),
        map.contains_key(&key),
        "the trace disagrees with the map"
    );
}

/// Section 2: one bucket and two traced lookups (a hit and a miss).
fn lookup(map: &TourMap, opts: &TourOptions) {
    heading("2. One bucket, and a lookup traced step by step");
    crate::outln!(
        "  Each bucket starts with 8 tophash bytes, one per slot: the top byte of the key's hash\n  \
         for a full slot (hex below), or a state: rest = emptyRest, one = emptyOne, evX/evY/evE =\n  \
         evacuated. A lookup compares keys only where the tophash byte matches."
    );
    trace_lookup(map, keys::key(opts.seed, opts.keys / 2), "A hit");
    trace_lookup(
        map,
        keys::key(opts.seed, opts.keys),
        "A miss (a key never inserted)",
    );
}

fn row_cells(label: &str, chain: &ChainView, marks: &[usize], style: Style) -> Vec<Cell> {
    let mut cells = vec![Cell::from(label)];
    let bucket = &chain.buckets[0];
    for slot in 0..BUCKET_CNT {
        let (text, s) = slot_label(bucket.state(slot));
        cells.push(Cell::styled(
            text,
            if marks.contains(&slot) { style } else { s },
        ));
    }
    cells
}

/// Section 3: deletes leaving emptyOne and emptyRest.
fn delete(map: &mut TourMap) {
    heading("3. Deletes: emptyOne and emptyRest");
    if map.stats().growing {
        map.finish_growth();
        crate::outln!(
            "  (the map was mid-growth; finish_growth() completed it so the bucket below stays put)"
        );
    }
    crate::outln!(
        "  A delete marks its slot emptyOne. When the slot after it is emptyRest (or it is the end\n  \
         of the chain), the slot becomes emptyRest instead, and so does the run of emptyOne slots\n  \
         before it: lookups stop at the first emptyRest."
    );
    let view = map.layout(|k, _| k.to_string());
    // A bucket without overflow holding at least three entries (or failing that, two).
    let full_slots = |c: &ChainView| -> Vec<usize> {
        c.buckets[0]
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|_| i))
            .collect()
    };
    let pick = |min: usize| {
        view.buckets
            .iter()
            .filter(|c| c.buckets.len() == 1)
            .find(|c| full_slots(c).len() >= min)
    };
    let Some(chain) = pick(3).or_else(|| pick(2)) else {
        crate::outln!("  (no bucket without overflow holds two entries; try a larger --keys)");
        return;
    };
    let index = chain.index;
    let full = full_slots(chain);
    let key_at = |slot: usize| -> u64 {
        chain.buckets[0].entries[slot]
            .as_deref()
            .and_then(|s| s.parse().ok())
            .expect("full slot describes its key")
    };
    let (a, b) = (full[full.len() - 2], full[full.len() - 1]);
    let (key_a, key_b) = (key_at(a), key_at(b));
    let mut table = Table::new(slot_headers("bucket state")).left_aligned();
    table.row(row_cells(
        &format!("b{index} before"),
        chain,
        &[],
        Style::Plain,
    ));

    map.remove(&key_a);
    let after_a = map.layout(|k, _| k.to_string());
    let chain_a = &after_a.buckets[index];
    table.row(row_cells(
        &format!("remove s{a}"),
        chain_a,
        &[a],
        Style::Yellow,
    ));
    map.remove(&key_b);
    let after_b = map.layout(|k, _| k.to_string());
    let chain_b = &after_b.buckets[index];
    table.row(row_cells(
        &format!("remove s{b}"),
        chain_b,
        &[a, b],
        Style::Yellow,
    ));
    table.print();

    let name = |s: SlotState| match s {
        SlotState::EmptyOne => "emptyOne".to_string(),
        SlotState::EmptyRest => "emptyRest".to_string(),
        other => format!("{other:?}"),
    };
    let sa = chain_a.buckets[0].state(a);
    crate::outln!(
        "  Removing key {key_a} (slot {a}) left {}{}.",
        name(sa),
        if sa == SlotState::EmptyOne {
            format!(": slot {b} after it is still full, so lookups must scan past it")
        } else {
            String::new()
        }
    );
    let (sa2, sb2) = (chain_b.buckets[0].state(a), chain_b.buckets[0].state(b));
    crate::outln!(
        "  Removing key {key_b} (slot {b}) left {} there and turned slot {a} into {}{}.",
        name(sb2),
        name(sa2),
        if sa2 == SlotState::EmptyRest {
            format!(": a lookup in bucket {index} now stops at slot {a}")
        } else {
            String::new()
        }
    );
    if let Err(e) = map.check_invariants() {
        crate::outln!(
            "  {}",
            paint(&format!("invariant check failed: {e}"), Style::Red)
        );
    }
}

/// Section 4: churn at a fixed size until overflow buckets trigger a same-size growth.
fn same_size_growth(seed: u64) {
    heading("4. Same-size growth under churn");
    let mut map: TourMap = HashMap::with_hasher(FixedState::with_seed(seed));
    // Keys from a different part of the stream than section 1's, so this map starts fresh.
    let base = 1u64 << 40;
    for i in 0..CHURN_LEN {
        map.insert(keys::key(seed, base + i), i);
    }
    map.finish_growth();
    let start = map.stats();
    crate::outln!(
        "  A map of {CHURN_LEN} entries (B = {}, {} buckets, load {:.2}) churns: each round removes \
         the oldest key\n  and inserts a new one. Full chains gain overflow buckets that deletes \
         do not give back; at\n  2^B = {} overflow buckets (as many as main buckets) a growth starts \
         at the same B that packs the chains again.",
        start.b,
        start.buckets,
        start.load_factor,
        1usize << start.b
    );
    let mut table = Table::new([
        "round",
        "len",
        "B",
        "overflow",
        "oldB",
        "evacuated",
        "event",
    ]);
    let row = |table: &mut Table, round: u64, s: &MapStats, event: Cell| {
        let (old_b, evacuated) = growth_progress(s);
        table.row(vec![
            round.to_string().into(),
            s.len.to_string().into(),
            s.b.to_string().into(),
            s.overflow_buckets.to_string().into(),
            old_b.into(),
            evacuated.into(),
            event,
        ]);
    };
    row(&mut table, 0, &start, "start".into());
    let mut prev = start.clone();
    let mut same_size_started = None;
    let mut other_resizes = 0;
    let mut round = 0;
    while round < CHURN_ROUNDS {
        round += 1;
        map.remove(&keys::key(seed, base + round - 1));
        map.insert(keys::key(seed, base + CHURN_LEN + round - 1), round);
        let s = map.stats();
        if s.growing && !prev.growing {
            let old_b = s.old_b.unwrap_or(s.b);
            let kind = resize_kind(old_b, s.b);
            if kind == "same-size growth" {
                same_size_started = Some(round);
                row(
                    &mut table,
                    round,
                    &s,
                    Cell::styled(
                        format!("same-size growth starts at B = {}", s.b),
                        Style::Yellow,
                    ),
                );
            } else {
                other_resizes += 1;
                row(&mut table, round, &s, format!("{kind} starts").into());
            }
        } else if prev.growing && !s.growing {
            row(
                &mut table,
                round,
                &s,
                Cell::styled("growth done: chains packed again", Style::Green),
            );
            if same_size_started.is_some() {
                break;
            }
        } else if s.overflow_buckets != prev.overflow_buckets && !s.growing {
            row(
                &mut table,
                round,
                &s,
                "overflow bucket count changed".into(),
            );
        }
        prev = s;
    }
    table.print();
    let end = map.stats();
    match same_size_started {
        Some(r) => crate::outln!(
            "  Round {r} started a same-size growth (B stayed {}); after it, {} overflow bucket(s) \
             remain and memory is {} bytes ({:.1} per entry).",
            end.b,
            end.overflow_buckets,
            end.memory_bytes,
            end.bytes_per_entry().unwrap_or(0.0)
        ),
        None => crate::outln!(
            "  In {CHURN_ROUNDS} rounds no same-size growth happened with this seed: the map ended \
             with B = {}, {} overflow bucket(s) (the trigger is {}){}.",
            end.b,
            end.overflow_buckets,
            1usize << end.b.min(15),
            if other_resizes > 0 {
                format!(", after {other_resizes} other resize(s)")
            } else {
                String::new()
            }
        ),
    }
}

/// Section 5: beyond Go, a mass delete and the insert that then starts an incremental shrink.
fn shrink(seed: u64) {
    heading("5. Beyond Go: shrinking after a mass delete");
    crate::outln!(
        "  Go's maps never shrink. gomap's do, incrementally like a growth. A remove never starts a\n  \
         shrink, so emptying a map costs only its removes; but once the map holds under 1/16 of\n  \
         what its array can, the next insert starts one: a smaller array, sized for twice the\n  \
         entries and for the inserts its sweep may take, into which every later write merges a\n  \
         few old buckets (oldB = the array being drained)."
    );
    let mut map: TourMap = HashMap::with_hasher(FixedState::with_seed(seed));
    // Keys from yet another part of the stream, so this map starts fresh.
    let base = 2u64 << 40;
    for i in 0..SHRINK_LEN {
        map.insert(keys::key(seed, base + i), i);
    }
    map.finish_growth();
    let mut table = Table::new([
        "writes",
        "len",
        "B",
        "buckets",
        "oldB",
        "evacuated",
        "KiB",
        "event",
    ]);
    let row = |table: &mut Table, writes: u64, s: &MapStats, event: Cell| {
        let (old_b, evacuated) = growth_progress(s);
        table.row(vec![
            writes.to_string().into(),
            s.len.to_string().into(),
            s.b.to_string().into(),
            s.buckets.to_string().into(),
            old_b.into(),
            evacuated.into(),
            (s.memory_bytes / 1024).to_string().into(),
            event,
        ]);
    };
    let full = map.stats();
    row(&mut table, 0, &full, format!("{SHRINK_LEN} entries").into());
    let removes = SHRINK_LEN - SHRINK_KEEP;
    for i in 0..removes {
        map.remove(&keys::key(seed, base + i));
    }
    let emptied = map.stats();
    row(
        &mut table,
        removes,
        &emptied,
        format!("{removes} removes: no resize").into(),
    );
    let mut writes = removes;
    let mut next_key = base + SHRINK_LEN;
    let mut insert = |map: &mut TourMap, writes: &mut u64| {
        map.insert(keys::key(seed, next_key), next_key);
        next_key += 1;
        *writes += 1;
        map.stats()
    };
    let started = insert(&mut map, &mut writes);
    let Some(old) = started.old_b.filter(|&old| started.b < old) else {
        // Not reached with this policy (the map holds 1 % of what its array can); said plainly
        // rather than drawn as a shrink if it ever is.
        row(&mut table, writes, &started, "1 insert: no shrink".into());
        table.print();
        return;
    };
    row(
        &mut table,
        writes,
        &started,
        Cell::styled(
            format!("1 insert: shrink starts, B {old} -> {}", started.b),
            Style::Yellow,
        ),
    );
    // A row at each quarter of the sweep, then when it is done.
    let mut shown_quarter = 0;
    let mut s = started;
    while s.growing {
        s = insert(&mut map, &mut writes);
        let quarter = 4 * s.evacuated / (1usize << old);
        if s.growing && quarter > shown_quarter {
            shown_quarter = quarter;
            row(&mut table, writes, &s, format!("{quarter}/4 swept").into());
        }
    }
    row(
        &mut table,
        writes,
        &s,
        Cell::styled("shrink done: old array freed", Style::Green),
    );
    table.print();
    crate::outln!(
        "  The {removes} removes left B = {} and {} KiB; the {} inserts after them swept the old\n  \
         array into 2^{} buckets: {} KiB for {} entries ({:.1} bytes each, {:.1} before).",
        emptied.b,
        emptied.memory_bytes / 1024,
        writes - removes,
        s.b,
        s.memory_bytes / 1024,
        s.len,
        s.bytes_per_entry().unwrap_or(0.0),
        emptied.bytes_per_entry().unwrap_or(0.0)
    );
    if let Err(e) = map.check_invariants() {
        crate::outln!(
            "  {}",
            paint(&format!("invariant check failed: {e}"), Style::Red)
        );
    }
}
