//! Where the time of a remove-all goes: the cost of one `remove`, in each of `PARTS` equal
//! slices of emptying a map of N entries in insertion order, for gomap and hashbrown (both with
//! gomap's hasher), interleaved slice by slice in one process so the machine's drift hits both.
//!
//! ```text
//! cargo run --release --example remove_phases -- [N] [PARTS]   # defaults 100_000 and 32
//! ```
//!
//! gomap's first slices include the piecemeal release of the array the fill's last growth left
//! behind. Its automatic shrink no longer shows here: it used to start inside the remove that
//! took the map under 1/16 of its array's capacity and cost most of the last sixteenth (176
//! against 12-15 ns per remove at 10^5); now the next insert starts it (see `SHRINK_DIVISOR`
//! in `src/raw/mod.rs`). The rows of the last of three rounds are printed, in ns per remove.
//! Runs under the harness's malloc settings (`cli/src/malloc.rs`).

use std::hint::black_box;
use std::time::Instant;

use gomap::DefaultHashBuilder;

mod common;
use common::{fail, key, positive_arg};

// `gomap bench`'s malloc settings (the same file, as `benches/hashmap.rs` includes it): with
// glibc's own, whether the map's arrays and the memory the removes give back are heap or fresh
// mappings depends on what ran before.
#[path = "../cli/src/malloc.rs"]
mod malloc;

fn main() {
    let allocator = malloc::pin_malloc_thresholds();
    let n = positive_arg("remove_phases", 1, 100_000, "N");
    let parts = positive_arg("remove_phases", 2, 32, "PARTS");
    if parts > n {
        fail(
            "remove_phases",
            &format!("need PARTS <= N (got N = {n}, PARTS = {parts})"),
        );
    }
    let mut rows = (Vec::new(), Vec::new());
    for _round in 0..3 {
        let mut gomap: gomap::HashMap<u64, u64> = gomap::HashMap::new();
        let mut hashbrown: hashbrown::HashMap<u64, u64, DefaultHashBuilder> =
            hashbrown::HashMap::default();
        for i in 0..n {
            gomap.insert(key(i), i);
            hashbrown.insert(key(i), i);
        }
        rows = (Vec::new(), Vec::new());
        for p in 0..parts {
            let (from, to) = (p * n / parts, (p + 1) * n / parts);
            let t = Instant::now();
            for i in from..to {
                black_box(gomap.remove(&key(i)));
            }
            rows.0
                .push(t.elapsed().as_nanos() as f64 / (to - from) as f64);
            let t = Instant::now();
            for i in from..to {
                black_box(hashbrown.remove(&key(i)));
            }
            rows.1
                .push(t.elapsed().as_nanos() as f64 / (to - from) as f64);
        }
        assert!(gomap.is_empty() && hashbrown.is_empty());
    }
    let show = |name: &str, row: &[f64]| {
        let cells: Vec<String> = row.iter().map(|ns| format!("{ns:.0}")).collect();
        let total: f64 = row.iter().sum::<f64>() / row.len() as f64;
        println!("{name:<9} mean {total:>5.1} | {}", cells.join(" "));
    };
    println!(
        "ns per remove in each 1/{parts} of emptying {n} entries (last of 3 rounds; {allocator}):"
    );
    show("gomap", &rows.0);
    show("hashbrown", &rows.1);
}
