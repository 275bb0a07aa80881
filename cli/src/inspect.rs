//! `gomap inspect FILE`: how gomap lays out your own keys, beside hashbrown's memory.

use std::io::Read;
use std::path::Path;

use foldhash::fast::FixedState;
use gomap::MapStats;

use crate::outln;
use crate::style::{heading, paint, Cell, Style, Table};

/// Options of `inspect`.
#[derive(Debug)]
pub struct InspectOptions<'a> {
    /// The file to read, or `-` for stdin.
    pub path: &'a Path,
    /// The hasher's seed; `None` draws one at random (and prints it).
    pub seed: Option<u64>,
}

/// Reads the whole input, as text.
fn read_text(path: &Path) -> Result<String, String> {
    let name = path.display();
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        buf
    } else {
        std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?
    };
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..good].iter().filter(|&&b| b == b'\n').count() + 1;
        format!(
            "{name}: line {line} is not valid UTF-8 (byte offset {good}); inspect reads text \
             lines as String keys"
        )
    })
}

fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}

pub fn run(opts: &InspectOptions<'_>) -> Result<(), String> {
    let text = read_text(opts.path)?;
    let seed = opts.seed.unwrap_or_else(random_seed);
    let hasher = FixedState::with_seed(seed);
    let mut map: gomap::HashMap<String, usize, FixedState> =
        gomap::HashMap::with_hasher(hasher.clone());
    let mut peer: hashbrown::HashMap<String, usize, FixedState> =
        hashbrown::HashMap::with_hasher(hasher);
    let mut lines = 0usize;
    for line in text.lines() {
        lines += 1;
        *map.entry(line.to_string()).or_insert(0) += 1;
        *peer.entry(line.to_string()).or_insert(0) += 1;
    }
    if lines == 0 {
        outln!("{}: no lines, so nothing to lay out", opts.path.display());
        return Ok(());
    }
    let key_heap: usize = map.keys().map(String::capacity).sum();
    outln!(
        "{}",
        paint(
            &format!("gomap inspect {}", opts.path.display()),
            Style::Bold
        )
    );
    outln!(
        "  {lines} lines, {} distinct keys, as gomap::HashMap<String, usize> (value = count)",
        map.len()
    );
    outln!("  hasher: foldhash FixedState::with_seed({seed}) for both maps (--seed to repeat)");

    let stats = map.stats();
    heading("gomap's layout");
    layout(&stats);
    if stats.growing {
        outln!(
            "  A growth is in flight (Go's growth advances only on writes); after finish_growth():"
        );
        map.finish_growth();
        layout(&map.stats());
    }

    heading("Memory, table only");
    outln!(
        "  gomap: stats().memory_bytes (bucket arrays, overflow buckets). hashbrown: its own\n  \
         allocation_size() (slots and control bytes). Both hold the same 24-byte String headers;\n  \
         the key text itself ({key_heap} bytes on the heap) is the same for both and not counted."
    );
    let ours = map.stats();
    let theirs = peer.allocation_size();
    let per = |bytes: usize| format!("{:.1}", bytes as f64 / map.len() as f64);
    let mut table = Table::new(["map", "bytes", "bytes/entry", "vs hashbrown"]);
    table.row(vec![
        "gomap".into(),
        ours.memory_bytes.to_string().into(),
        per(ours.memory_bytes).into(),
        format!("{:.2}x", ours.memory_bytes as f64 / theirs.max(1) as f64).into(),
    ]);
    table.row(vec![
        "hashbrown".into(),
        theirs.to_string().into(),
        per(theirs).into(),
        "1.00x".into(),
    ]);
    table.print();
    Ok(())
}

fn layout(s: &MapStats) {
    let mut table = Table::new([
        "B",
        "buckets",
        "overflow",
        "pool used",
        "load",
        "growing",
        "entries",
    ]);
    table.row(vec![
        s.b.to_string().into(),
        s.buckets.to_string().into(),
        s.overflow_buckets.to_string().into(),
        format!("{}/{}", s.overflow_pool_used, s.overflow_pool).into(),
        format!("{:.2}", s.load_factor).into(),
        if s.growing {
            format!(
                "yes, {}/{} evacuated",
                s.evacuated,
                1usize << s.old_b.unwrap_or(0)
            )
        } else {
            "no".into()
        }
        .into(),
        s.len.to_string().into(),
    ]);
    table.print();
    outln!("  Overflow chains (a chain = a main bucket and its overflow buckets):");
    let chains: usize = s.chain_lengths.iter().sum();
    let widest = s.chain_lengths.iter().copied().max().unwrap_or(1).max(1);
    let mut hist = Table::new(["buckets in chain", "chains", "share", ""]);
    for (n, &count) in s.chain_lengths.iter().enumerate().skip(1) {
        if count == 0 {
            continue;
        }
        let bar = "#".repeat((count * 40).div_ceil(widest));
        hist.row(vec![
            n.to_string().into(),
            count.to_string().into(),
            format!("{:.1}%", 100.0 * count as f64 / chains.max(1) as f64).into(),
            Cell::styled(bar, Style::Cyan),
        ]);
    }
    hist.print();
}
