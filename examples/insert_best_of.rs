//! The fastest of many rounds of inserting N fresh keys into an empty map, for gomap and
//! hashbrown (both with gomap's hasher), rounds alternating between the two maps.
//!
//! ```text
//! cargo run --release --example insert_best_of -- [N] [ROUNDS] [u64|string] [grow|presized]
//! #                                                  100_000 20 u64 grow
//! ```
//!
//! `grow` starts each round from `new()`, so the rounds include every growth; `presized` from
//! `with_capacity(N)`, which leaves the insert path alone (what a change to the probe or the
//! slot write shows best).
//!
//! For A/B tests of small changes to the insert path on a shared machine, where criterion's
//! means move by tens of percent from one minute to the next: a round that nothing interrupted
//! is the one that shows the map's own cost, and the fastest of many rounds estimates it.
//! Build the example at both commits and run the two binaries alternately. The median is
//! printed too, but it carries the machine's noise (and, for arrays past 32 MiB, the page faults
//! of the fresh memory each round maps). The `gomap bench` harness reports medians. Runs under
//! the harness's malloc settings (`cli/src/malloc.rs`).

use std::hash::Hash;
use std::hint::black_box;
use std::time::Instant;

use gomap::DefaultHashBuilder;

mod common;
use common::{best_and_median, fail, key, positive_arg};

// `gomap bench`'s malloc settings (the same file, as `benches/hashmap.rs` includes it). Left to
// glibc, bucket arrays past its default 128 KiB mmap threshold are mapped afresh in every
// round and faulted in page by page: growing inserts at 10^4 entries measured 29.9-30.3 ns
// (hashbrown 25.1) with glibc's defaults against 14.2-14.6 (12.0-12.3) with these settings,
// two alternations.
#[path = "../cli/src/malloc.rs"]
mod malloc;

/// Nanoseconds per insert of one round: `keys` moved into a fresh map.
fn round<K, M>(keys: Vec<K>, mut map: M, insert: impl Fn(&mut M, K, u64)) -> f64 {
    let n = keys.len();
    let start = Instant::now();
    for (i, k) in keys.into_iter().enumerate() {
        insert(&mut map, k, i as u64);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    black_box(&map);
    ns
}

fn report(name: &str, mut ns: Vec<f64>) -> f64 {
    let (best, median) = best_and_median(&mut ns);
    println!("{name:<10} best {best:>8.1} ns/insert   median {median:>8.1}");
    best
}

fn run<K: Hash + Eq + Clone>(keys: &[K], rounds: u64, presized: bool) {
    let (mut gomap, mut brown) = (Vec::new(), Vec::new());
    let capacity = if presized { keys.len() } else { 0 };
    for _ in 0..rounds {
        gomap.push(round(
            keys.to_vec(),
            gomap::HashMap::with_capacity_and_hasher(capacity, DefaultHashBuilder::default()),
            |m, k, v| {
                m.insert(k, v);
            },
        ));
        brown.push(round(
            keys.to_vec(),
            hashbrown::HashMap::with_capacity_and_hasher(capacity, DefaultHashBuilder::default()),
            |m, k, v| {
                m.insert(k, v);
            },
        ));
    }
    let g = report("gomap", gomap);
    let h = report("hashbrown", brown);
    println!("gomap / hashbrown throughput, best rounds: {:.2}x", h / g);
}

fn main() {
    let allocator = malloc::pin_malloc_thresholds();
    let n = positive_arg("insert_best_of", 1, 100_000, "N");
    let rounds = positive_arg("insert_best_of", 2, 20, "ROUNDS");
    let kind = std::env::args().nth(3).unwrap_or_else(|| "u64".into());
    if !matches!(kind.as_str(), "u64" | "string") {
        fail(
            "insert_best_of",
            &format!("key type must be u64 or string, got {kind:?}"),
        );
    }
    let sizing = std::env::args().nth(4).unwrap_or_else(|| "grow".into());
    let presized = match sizing.as_str() {
        "grow" => false,
        "presized" => true,
        _ => fail(
            "insert_best_of",
            &format!("sizing must be grow or presized, got {sizing:?}"),
        ),
    };
    let map = if presized { "a presized" } else { "an empty" };
    println!(
        "{n} fresh {kind} keys into {map} map, best and median of {rounds} rounds ({allocator})"
    );
    match kind.as_str() {
        "u64" => run(&(0..n).map(key).collect::<Vec<u64>>(), rounds, presized),
        "string" => run(
            &(0..n)
                .map(|i| format!("{:016x}", key(i)))
                .collect::<Vec<String>>(),
            rounds,
            presized,
        ),
        _ => unreachable!("checked above"),
    }
}
