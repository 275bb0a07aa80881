//! Section 5 of the tour: Go's `sync.Map` cycle on a live `gomap::SyncMap`, read back after
//! every operation through `stats()` and the per-entry `layout()`.
//!
//! The operations are fixed (a few small keys, so an entry table fits on a line); every number
//! and state printed, and every event named, comes from comparing the map's introspection
//! before and after the operation.

use foldhash::fast::FixedState;
use gomap::{EntryState, SyncMap, SyncMapLayout};

use crate::style::{heading, paint, Cell, Style, Table};

/// The tour's sync map: small u64 keys, values = key × 10, a fixed hasher.
type TourSyncMap = SyncMap<u64, u64, FixedState>;

/// Keys stored first (and promoted). Fewer than the library's per-operation copy budget, so
/// the first new key's store copies the whole snapshot: the dirty map's copy walks the
/// snapshot from a random start (Go's map iteration), and a copy split over several
/// operations would make the rows differ from run to run.
const FIRST_KEYS: u64 = 3;
/// Keys deleted after the first promotion (their entries turn nil, then expunged).
const DELETED: [u64; 2] = [1, 3];
/// The deleted key stored again while expunged.
const REVIVED: u64 = 1;
/// Most new-key stores the section makes while waiting for the snapshot copy to finish.
const MAX_NEW_KEYS: u64 = 8;
/// Most loads the section makes while waiting for the second promotion.
const MAX_LOADS: usize = 64;

/// One operation of the section, named as Go names it.
#[derive(Clone, Copy, Debug)]
enum Op {
    Store(u64),
    Load(u64),
    Delete(u64),
}

impl Op {
    fn apply(self, map: &TourSyncMap) {
        match self {
            Op::Store(k) => map.store(k, k * 10),
            Op::Load(k) => {
                map.load(&k);
            }
            Op::Delete(k) => {
                map.delete(&k);
            }
        }
    }

    fn label(self) -> String {
        match self {
            Op::Store(k) => format!("Store({k},{})", k * 10),
            Op::Load(k) => format!("Load({k})"),
            Op::Delete(k) => format!("Delete({k})"),
        }
    }

    fn key(self) -> u64 {
        match self {
            Op::Store(k) | Op::Load(k) | Op::Delete(k) => k,
        }
    }
}

fn layout(map: &TourSyncMap) -> SyncMapLayout {
    map.layout(|_, v| v.to_string())
}

fn count(entries: &[(String, EntryState)], state: &str) -> usize {
    entries.iter().filter(|(_, s)| s.name() == state).count()
}

/// What one operation did to the read/dirty cycle, read off the layouts before and after.
fn event(op: Op, before: &SyncMapLayout, after: &SyncMapLayout) -> (String, Style) {
    let (b, a) = (&before.stats, &after.stats);
    let key = op.key().to_string();
    let mut parts = Vec::new();
    let mut style = Style::Plain;
    if a.promotions > b.promotions {
        parts.push(format!(
            "misses reached len(dirty) = {}: promotion {}, dirty is the new snapshot",
            b.dirty_len.unwrap_or(0),
            a.promotions
        ));
        let expunged = count(&before.read, "expunged");
        if expunged > 0 {
            parts.push(format!(
                "{expunged} expunged entr{} dropped with the old snapshot",
                if expunged == 1 { "y" } else { "ies" }
            ));
        }
        style = Style::Green;
    } else if a.misses > b.misses {
        parts.push(format!(
            "miss {} of len(dirty) {}: not in the snapshot, so lock and read dirty",
            a.misses,
            a.dirty_len.unwrap_or(0)
        ));
    }
    if b.dirty_len.is_none() && a.dirty_len.is_some() {
        parts.push(if a.read_len == 0 {
            "new key: dirty map started, snapshot amended".to_string()
        } else {
            format!(
                "first new key since the promotion: new dirty map, copy of the {} snapshot \
                 entries {}",
                a.read_len,
                if a.copying { "begins" } else { "done" }
            )
        });
        style = Style::Yellow;
    }
    if b.copying && !a.copying && a.dirty_len.is_some() {
        parts.push("snapshot copy finished".to_string());
    }
    let newly_expunged =
        count(&after.read, "expunged").saturating_sub(count(&before.read, "expunged"));
    if newly_expunged > 0 {
        parts.push(format!(
            "{newly_expunged} nil entr{} expunged, not copied",
            if newly_expunged == 1 { "y" } else { "ies" }
        ));
        style = Style::Red;
    }
    match (op, before.read_state(&key), after.read_state(&key)) {
        (Op::Delete(_), Some(EntryState::Value(_)), Some(EntryState::Deleted)) => {
            parts.push("its snapshot entry stays, nil".into());
            style = Style::Yellow;
        }
        (Op::Store(_), Some(EntryState::Expunged), Some(EntryState::Value(_))) => {
            parts.push("expunged entry revived: back into dirty, then stored".into());
            style = Style::Green;
        }
        _ => {}
    }
    if parts.is_empty() && matches!(op, Op::Store(_)) && a.dirty_len > b.dirty_len {
        parts.push("new key: into dirty".into());
    }
    (parts.join("; "), style)
}

/// A cell of the entry table: `read|dirty`, each a value, `nil`, `expunged` or `-` (absent);
/// only the read state when there is no dirty map.
fn entry_cell(layout: &SyncMapLayout, key: &str) -> Cell {
    let show = |s: Option<&EntryState>| match s {
        Some(EntryState::Value(v)) => v.clone(),
        Some(other) => other.name().to_string(),
        None => "-".to_string(),
    };
    let (r, d) = (layout.read_state(key), layout.dirty_state(key));
    let style = match (r, d) {
        (Some(EntryState::Expunged), _) => Style::Red,
        (Some(EntryState::Deleted), _) | (_, Some(EntryState::Deleted)) => Style::Yellow,
        (None, Some(_)) => Style::Cyan,
        _ => Style::Plain,
    };
    let text = match layout.dirty {
        Some(_) => format!("{}|{}", show(r), show(d)),
        None => show(r),
    };
    Cell::styled(text, style)
}

/// The step table and the snapshots the entry table shows, built as the operations run.
struct Walk {
    map: TourSyncMap,
    table: Table,
    step: usize,
    last: SyncMapLayout,
    /// (step, what the moment is, layout) for the entry table.
    moments: Vec<(usize, &'static str, SyncMapLayout)>,
}

impl Walk {
    fn new(seed: u64) -> Walk {
        let map = SyncMap::with_hasher(FixedState::with_seed(seed));
        let last = layout(&map);
        Walk {
            map,
            table: Table::new([
                "#",
                "op",
                "len",
                "read",
                "dirty",
                "amended",
                "misses",
                "promotions",
                "event",
            ]),
            step: 0,
            last,
            moments: Vec::new(),
        }
    }

    /// Applies `op`, adds its row, and returns the layout after it.
    fn run(&mut self, op: Op) -> &SyncMapLayout {
        op.apply(&self.map);
        self.step += 1;
        let now = layout(&self.map);
        let (text, style) = event(op, &self.last, &now);
        let s = &now.stats;
        self.table.row(vec![
            self.step.to_string().into(),
            op.label().into(),
            s.len.to_string().into(),
            s.read_len.to_string().into(),
            s.dirty_len
                .map_or("nil".to_string(), |d| d.to_string())
                .into(),
            s.amended.to_string().into(),
            s.misses.to_string().into(),
            s.promotions.to_string().into(),
            Cell::styled(text, style),
        ]);
        self.last = now;
        &self.last
    }

    fn moment(&mut self, what: &'static str) {
        self.moments.push((self.step, what, self.last.clone()));
    }
}

/// Section 5: stores, loads that miss the snapshot, the promotion, deletes leaving nil, the
/// next new key expunging them, a revival, and the next promotion.
pub fn run(seed: u64) {
    heading("6. SyncMap: read snapshot, dirty map, misses, expunged");
    crate::outln!(
        "  Go's sync.Map reads a snapshot without a lock; new keys go to a dirty map under a\n  \
         mutex. A load the snapshot cannot answer while it is amended (dirty has keys it lacks)\n  \
         locks and counts a miss; when misses reach len(dirty), dirty becomes the snapshot. A\n  \
         delete only turns the entry nil; the next dirty map is built without it (expunged).\n  \
         Small u64 keys here, values key x 10; each row is read from stats() after the operation."
    );
    let mut walk = Walk::new(seed);
    for k in 1..=FIRST_KEYS {
        walk.run(Op::Store(k));
    }
    walk.moment("stored");
    let mut promoted = false;
    for k in 1..=FIRST_KEYS {
        if walk.run(Op::Load(k)).stats.promotions > 0 {
            promoted = true;
            break;
        }
    }
    if promoted {
        walk.moment("promoted");
    }
    for k in DELETED {
        walk.run(Op::Delete(k));
    }
    walk.moment("deleted");
    let mut next = FIRST_KEYS + 1;
    while next <= FIRST_KEYS + MAX_NEW_KEYS {
        let copying = walk.run(Op::Store(next)).stats.copying;
        next += 1;
        if !copying {
            break;
        }
    }
    walk.moment("new key");
    walk.run(Op::Store(REVIVED));
    walk.moment("revived");
    let promotions = walk.last.stats.promotions;
    for _ in 0..MAX_LOADS {
        if walk.run(Op::Load(FIRST_KEYS + 1)).stats.promotions > promotions {
            walk.moment("promoted");
            break;
        }
    }
    walk.table.print();

    crate::outln!(
        "  Entry states after the steps marked #, from layout(): read|dirty, each a value, nil\n  \
         (deleted), expunged or - (absent); a column without | has no dirty map (dirty == nil)."
    );
    let mut headers = vec!["key".to_string()];
    headers.extend(
        walk.moments
            .iter()
            .map(|(step, what, _)| format!("#{step} {what}")),
    );
    let mut table = Table::new(headers).left_aligned();
    let mut keys: Vec<String> = walk
        .moments
        .iter()
        .flat_map(|(_, _, l)| {
            l.read
                .iter()
                .chain(l.dirty.iter().flatten())
                .map(|(k, _)| k.clone())
        })
        .collect();
    keys.sort_by_key(|k| (k.len(), k.clone()));
    keys.dedup();
    for key in &keys {
        let mut cells = vec![Cell::from(key.as_str())];
        cells.extend(walk.moments.iter().map(|(_, _, l)| entry_cell(l, key)));
        table.row(cells);
    }
    let mut totals = vec![Cell::from("entries")];
    totals.extend(walk.moments.iter().map(|(_, _, l)| {
        Cell::from(match &l.dirty {
            Some(d) => format!("{}|{}", l.read.len(), d.len()),
            None => l.read.len().to_string(),
        })
    }));
    table.row(totals);
    table.print();

    summary(&walk);
}

/// The closing sentences, from the moments captured.
fn summary(walk: &Walk) {
    let at = |what: &str| walk.moments.iter().find(|(_, w, _)| *w == what);
    let expunged: Vec<&str> = at("new key")
        .map(|(_, _, l)| {
            l.read
                .iter()
                .filter(|(_, s)| *s == EntryState::Expunged)
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default();
    if let Some((step, _, l)) = at("new key") {
        crate::outln!(
            "  After #{step}: key(s) {} expunged in the snapshot and absent from the dirty map of {} \
             entries;\n  a store to them can no longer CAS the entry: it takes the mutex.",
            if expunged.is_empty() {
                "none".to_string()
            } else {
                expunged.join(", ")
            },
            l.dirty.as_ref().map_or(0, Vec::len)
        );
    }
    let revived = REVIVED.to_string();
    if let Some((step, _, l)) = at("revived") {
        crate::outln!(
            "  #{step}: Store({REVIVED}) found the entry expunged, put it back into dirty under the \
             mutex,\n  then stored: read|dirty = {}|{}.",
            l.read_state(&revived).map_or("-", |s| s.name()),
            l.dirty_state(&revived).map_or("-", |s| s.name())
        );
    }
    if let Some((step, _, l)) = walk
        .moments
        .iter()
        .rev()
        .find(|(_, w, _)| *w == "promoted")
        .filter(|(_, _, l)| l.stats.promotions > 1)
    {
        let gone: Vec<&str> = expunged
            .iter()
            .copied()
            .filter(|k| l.read_state(k).is_none())
            .collect();
        crate::outln!(
            "  #{step}: promotion {}: the snapshot is the old dirty map ({} entries){}.",
            l.stats.promotions,
            l.read.len(),
            if gone.is_empty() {
                String::new()
            } else {
                format!(
                    ";\n  expunged key(s) {} left with the old snapshot (retired, freed once no \
                     reader holds it)",
                    gone.join(", ")
                )
            }
        );
    }
    crate::outln!(
        "  {}",
        paint(
            "Unlike Go, which copies the whole snapshot in the first new key's store, gomap copies\n  \
             a few entries per locked operation, so none pays O(n) (this snapshot fit in one).",
            Style::Dim
        )
    );
}
