//! Does boxing big keys and values pay? Go's map stores a key or value larger than 128 bytes
//! out of line (`indirectkey` / `indirectelem`), and so does gomap. This example times one map
//! of each big shape, in whatever storage this build uses; `bench/indirect.sh` runs it in the
//! normal build and in one with `RUSTFLAGS="--cfg gomap_inline_all"` (every key and value
//! inline), alternately, and prints the ratios.
//!
//! ```text
//! cargo run --release --example indirect_storage -- [N] [ROUNDS]
//! #                                                   100_000 7
//! ```
//!
//! Shapes: `u64` keys with 136-byte values (just past the limit), `u64` keys with 512-byte
//! values, 136-byte keys with `u64` values. Per shape and round, on a fresh map: insert N keys
//! (growing from empty), look every key up (reading the value), iterate (reading every value),
//! remove every key. Prints the fastest round (see `insert_best_of.rs` for why the fastest)
//! and the median in ns per operation, and the map's bytes per entry (`stats().memory_bytes`,
//! boxes included), as lines `RESULT <storage> <shape> <n> <measure> <best> <median>` that the
//! script collects. Runs under the harness's malloc settings (`cli/src/malloc.rs`).

use std::hint::black_box;
use std::time::Instant;

use gomap::HashMap;

mod common;
use common::{best_and_median, key, positive_arg};

// `gomap bench`'s malloc settings (the same file, as `benches/hashmap.rs` includes it): the
// inline build's bucket arrays are up to 30 times larger, and left to glibc, whether each
// round's arrays are recycled heap or freshly faulted pages depends on the rounds before.
#[path = "../cli/src/malloc.rs"]
mod malloc;

const PROGRAM: &str = "indirect_storage";

/// A big key or value whose content depends on one `u64`, so lookups can check it.
trait Big: Clone + Eq + std::hash::Hash {
    fn of(x: u64) -> Self;
    fn first(&self) -> u64;
}

impl Big for u64 {
    fn of(x: u64) -> Self {
        x
    }
    fn first(&self) -> u64 {
        *self
    }
}

impl<const W: usize> Big for [u64; W] {
    fn of(x: u64) -> Self {
        [x; W]
    }
    fn first(&self) -> u64 {
        self[0]
    }
}

/// Timings of one shape: ns per operation of each round, per measure.
#[derive(Default)]
struct Rounds {
    insert: Vec<f64>,
    lookup: Vec<f64>,
    iterate: Vec<f64>,
    remove: Vec<f64>,
    bytes_per_entry: f64,
}

fn per_op(start: Instant, n: u64) -> f64 {
    start.elapsed().as_nanos() as f64 / n as f64
}

fn round<K: Big, V: Big>(n: u64, out: &mut Rounds) {
    let keys: Vec<K> = (0..n).map(|i| K::of(key(i))).collect();
    let mut map: HashMap<K, V> = HashMap::new();
    let start = Instant::now();
    for (i, k) in keys.iter().enumerate() {
        map.insert(k.clone(), V::of(i as u64));
    }
    out.insert.push(per_op(start, n));
    out.bytes_per_entry = map.stats().memory_bytes as f64 / n as f64;

    let start = Instant::now();
    let mut sum = 0u64;
    for k in &keys {
        sum = sum.wrapping_add(map.get(k).map_or(0, Big::first));
    }
    out.lookup.push(per_op(start, n));
    assert_eq!(sum, (0..n).sum::<u64>(), "every key found with its value");

    let start = Instant::now();
    let sum = map
        .values()
        .fold(0u64, |acc, v| acc.wrapping_add(v.first()));
    out.iterate.push(per_op(start, n));
    black_box(sum);

    let start = Instant::now();
    for k in &keys {
        black_box(map.remove(k));
    }
    out.remove.push(per_op(start, n));
    assert!(map.is_empty());
}

fn report(shape: &str, n: u64, mut r: Rounds) {
    let storage = if cfg!(gomap_inline_all) {
        "inline"
    } else {
        "boxed"
    };
    for (measure, ns) in [
        ("insert", &mut r.insert),
        ("lookup", &mut r.lookup),
        ("iterate", &mut r.iterate),
        ("remove", &mut r.remove),
    ] {
        let (best, median) = best_and_median(ns);
        println!("RESULT {storage} {shape} {n} {measure} {best:.2} {median:.2}");
    }
    let b = r.bytes_per_entry;
    println!("RESULT {storage} {shape} {n} bytes_per_entry {b:.1} {b:.1}");
}

fn shape<K: Big, V: Big>(name: &str, n: u64, rounds: u64) {
    let mut r = Rounds::default();
    for _ in 0..rounds {
        round::<K, V>(n, &mut r);
    }
    report(name, n, r);
}

fn main() {
    let allocator = malloc::pin_malloc_thresholds();
    eprintln!("{PROGRAM}: {allocator}");
    let n = positive_arg(PROGRAM, 1, 100_000, "N");
    let rounds = positive_arg(PROGRAM, 2, 7, "ROUNDS");
    shape::<u64, [u64; 17]>("u64->136B", n, rounds);
    shape::<u64, [u64; 64]>("u64->512B", n, rounds);
    shape::<[u64; 17], u64>("136B->u64", n, rounds);
}
