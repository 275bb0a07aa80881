//! What a growth left half done costs the reads of a map that is no longer written: lookup hits
//! in a map stopped in the middle of a growth, against the same map after `finish_growth()`.
//!
//! ```text
//! cargo run --release --example frozen_growth -- [ROUNDS]
//! #                                               20
//! ```
//!
//! Go's growth only advances on writes, so a map filled to just past a growth threshold and then
//! only read keeps both bucket arrays, and every lookup whose old bucket is not evacuated yet
//! reads the old array (and, for old buckets evacuated out of order, both arrays). For three
//! sizes it fills a map a third of the way into a growth (6.5 entries per bucket of 2^10, 2^14
//! and 2^18 buckets, then 2^b / 3 more keys: each insert evacuates one old bucket in order and
//! its own, so about half of the old buckets are left), clones the map, finishes the clone's
//! growth, and times every key's lookup in random order, rounds alternating between the two
//! maps; it prints the fastest and the median round of each. `SyncMap` never publishes a snapshot mid-growth for this reason.

use std::hint::black_box;
use std::time::Instant;

mod common;
use common::{best_and_median, key, positive_arg};

/// Nanoseconds per lookup of one pass over `probe` (every key present).
fn pass(map: &gomap::HashMap<u64, u64>, probe: &[u64]) -> f64 {
    let start = Instant::now();
    let mut sum = 0u64;
    for k in probe {
        if let Some(v) = black_box(map).get(k) {
            sum = sum.wrapping_add(*v);
        }
    }
    black_box(sum);
    start.elapsed().as_nanos() as f64 / probe.len() as f64
}

fn main() {
    let rounds = positive_arg("frozen_growth", 1, 20, "ROUNDS");
    println!("lookup hits, ns per lookup (best / median of {rounds} rounds each)");
    for b in [10u32, 14, 18] {
        let threshold = 13 << b >> 1; // Go's load factor, 6.5 entries per bucket
        let n = threshold + (1 << b) / 3;
        let mut frozen = gomap::HashMap::new();
        for i in 0..n {
            frozen.insert(key(i), i);
        }
        let stats = frozen.stats();
        let mut finished = frozen.clone();
        finished.finish_growth();
        // Every key once, in an order unrelated to the buckets.
        let mut probe: Vec<u64> = (0..n).map(key).collect();
        probe.sort_unstable_by_key(|&k| key(k));
        let (mut a, mut z) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            a.push(pass(&frozen, &probe));
            z.push(pass(&finished, &probe));
        }
        let ((fa, ma), (fz, mz)) = (best_and_median(&mut a), best_and_median(&mut z));
        println!(
            "{n:>9} entries: frozen (growing: {}, {} of {} old buckets evacuated) {fa:6.2} / {ma:6.2}   finished {fz:6.2} / {mz:6.2}   finished/frozen speed {:.2}x",
            stats.growing,
            stats.evacuated,
            stats.buckets / 2,
            ma / mz
        );
    }
}
