//! The benchmark workloads: the one place that defines what `gomap bench` measures.
//!
//! `bench/README.md` describes them in prose and `bench/go/main.go` runs the same ones on Go's
//! map. The Rust side hands the Go program the workload names, sizes and time budget on its
//! command line, so the sizes and mixes below are the only copy.
//!
//! Keys are the splitmix64 stream seeded with 0 (`keys::key(0, i)` for `i` in `0..n`); misses
//! use the next `n` outputs of the same stream, which are distinct from the first `n`. String
//! keys are the 16 lower-case hex digits of the same numbers. Values are `u64`: the key's index.

use std::hash::Hash;
use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::alloc;
use crate::keys::{key, string_key};

/// The unit of a measure, and which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Million operations per second (higher is better).
    Mops,
    /// Nanoseconds of one operation (lower is better).
    Nanos,
    /// Heap bytes per entry (lower is better).
    Bytes,
}

impl Unit {
    pub fn label(self) -> &'static str {
        match self {
            Unit::Mops => "Mops/s",
            Unit::Nanos => "ns",
            Unit::Bytes => "B/entry",
        }
    }

    pub fn higher_is_better(self) -> bool {
        self == Unit::Mops
    }
}

/// One figure a workload reports; its name is the row name in the tables and files.
#[derive(Debug)]
pub struct Measure {
    pub name: &'static str,
    pub unit: Unit,
}

/// One workload: what it does, and the figures it reports.
#[derive(Debug)]
pub struct Workload {
    pub name: &'static str,
    pub what: &'static str,
    pub measures: &'static [Measure],
    /// Run only at the largest size of the run (the latency of growing to it).
    pub largest_only: bool,
}

impl Workload {
    /// Whether `--filter` selects this workload (by its name or one of its measures').
    pub fn matches(&self, filter: Option<&str>) -> bool {
        filter.is_none_or(|f| {
            self.name.contains(f) || self.measures.iter().any(|m| m.name.contains(f))
        })
    }
}

/// Every HashMap workload, in table order.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "insert_grow",
        what: "insert keys 0..n into an empty map (no reserve: every growth included); op = insert",
        measures: &[Measure {
            name: "insert_grow",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "insert_latency",
        what: "the same inserts, each one timed alone: the worst and the 99.99th percentile",
        measures: &[
            Measure {
                name: "insert_max",
                unit: Unit::Nanos,
            },
            Measure {
                name: "insert_p99.99",
                unit: Unit::Nanos,
            },
        ],
        largest_only: true,
    },
    Workload {
        name: "lookup_hit",
        what: "get every key 0..n of a map holding them; op = get",
        measures: &[Measure {
            name: "lookup_hit",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "lookup_miss",
        what: "get keys n..2n, none present, from a map holding 0..n; op = get",
        measures: &[Measure {
            name: "lookup_miss",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "remove",
        what: "remove keys 0..n, in insertion order, until the map is empty; op = remove",
        measures: &[Measure {
            name: "remove",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "iterate",
        what: "sum the values of a map of n entries; op = one entry visited",
        measures: &[Measure {
            name: "iterate",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "churn",
        what: "at constant size n: step j removes key j and inserts key n+j; op = one step",
        measures: &[Measure {
            name: "churn",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "string_insert",
        what: "insert n 16-byte String keys (prebuilt, moved in) into an empty map; op = insert",
        measures: &[Measure {
            name: "string_insert",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "string_lookup",
        what: "get each of the n String keys (by &str) from a map holding them; op = get",
        measures: &[Measure {
            name: "string_lookup",
            unit: Unit::Mops,
        }],
        largest_only: false,
    },
    Workload {
        name: "bytes_per_entry",
        what: "heap bytes allocated by a map of n u64 -> u64 entries built by inserts, / n",
        measures: &[Measure {
            name: "bytes_per_entry",
            unit: Unit::Bytes,
        }],
        largest_only: false,
    },
];

/// The unit of a measure by name.
pub fn unit_of(measure: &str) -> Option<Unit> {
    WORKLOADS
        .iter()
        .flat_map(|w| w.measures)
        .find(|m| m.name == measure)
        .map(|m| m.unit)
}

/// Sizes and time budget of a run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub sizes: Vec<usize>,
    /// Each (workload, size, map) repeats its timed round until this much time has passed.
    pub budget: Duration,
}

impl Plan {
    /// The full run: the HashMap issue's sizes.
    pub fn full() -> Plan {
        Plan {
            sizes: vec![1_000, 100_000, 10_000_000],
            budget: Duration::from_millis(500),
        }
    }

    /// `--quick`: small and medium sizes, shorter budget (under a minute in all).
    pub fn quick() -> Plan {
        Plan {
            sizes: vec![1_000, 100_000],
            budget: Duration::from_millis(200),
        }
    }

    pub fn largest(&self) -> usize {
        self.sizes.iter().copied().max().unwrap_or(0)
    }
}

/// A map under test: the operations the workloads use, nothing else.
pub trait BenchMap<K> {
    fn empty() -> Self;
    fn put(&mut self, k: K, v: u64);
    fn fetch(&self, k: &K) -> Option<u64>;
    fn take(&mut self, k: &K) -> Option<u64>;
    fn sum_values(&self) -> u64;
}

/// The hasher every Rust map gets: gomap's default (foldhash, random seed per map), so the
/// ratios compare tables, not hash functions.
pub type Hasher = foldhash::fast::RandomState;

/// A kind of map (gomap, hashbrown, std), instantiable at every key type the workloads use.
pub trait Family {
    const NAME: &'static str;
    type Map<K: Hash + Eq>: BenchMap<K>;
}

macro_rules! bench_map {
    ($family:ident, $ty:ident, $name:literal) => {
        #[doc = concat!("The `", $name, "` map family.")]
        #[derive(Debug)]
        pub struct $family;

        impl Family for $family {
            const NAME: &'static str = $name;
            type Map<K: Hash + Eq> = $ty<K, u64, Hasher>;
        }

        impl<K: Hash + Eq> BenchMap<K> for $ty<K, u64, Hasher> {
            fn empty() -> Self {
                Self::with_hasher(Hasher::default())
            }
            #[inline]
            fn put(&mut self, k: K, v: u64) {
                self.insert(k, v);
            }
            #[inline]
            fn fetch(&self, k: &K) -> Option<u64> {
                self.get(k).copied()
            }
            #[inline]
            fn take(&mut self, k: &K) -> Option<u64> {
                self.remove(k)
            }
            fn sum_values(&self) -> u64 {
                self.values().fold(0u64, |a, &v| a.wrapping_add(v))
            }
        }
    };
}

use gomap::HashMap as GoMap;
use hashbrown::HashMap as HashbrownMap;
use std::collections::HashMap as StdMap;
bench_map!(Gomap, GoMap, "gomap");
bench_map!(Hashbrown, HashbrownMap, "hashbrown");
bench_map!(Std, StdMap, "std");

/// Repeats `round` (which returns its own timed duration and op count) until the budget is
/// spent, at least three times unless one round alone exceeds the budget, and returns the
/// median round's Mops/s. Median, not best: the machine is shared, and the median is what a
/// user would see.
fn throughput(budget: Duration, mut round: impl FnMut() -> (Duration, u64)) -> f64 {
    let start = Instant::now();
    let mut rates = Vec::new();
    loop {
        let (time, ops) = round();
        rates.push(ops as f64 / time.as_secs_f64().max(1e-9) / 1e6);
        let spent = start.elapsed();
        if spent >= budget && (rates.len() >= 3 || time >= budget) || rates.len() >= 100_000 {
            break;
        }
    }
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn filled<M: BenchMap<u64>>(n: usize) -> M {
    let mut m = M::empty();
    for i in 0..n as u64 {
        m.put(key(0, i), i);
    }
    m
}

/// The 99.99th percentile of `samples` (nearest rank), which it reorders.
fn p9999(samples: &mut [u64]) -> u64 {
    let rank = ((samples.len() as f64) * 0.9999).ceil() as usize;
    let idx = rank.clamp(1, samples.len()) - 1;
    *samples.select_nth_unstable(idx).1
}

/// Runs one workload at one size on map `M`; returns `(measure, value)` pairs.
pub fn run<F: Family>(w: &Workload, n: usize, plan: &Plan) -> Vec<(&'static str, f64)> {
    let budget = plan.budget;
    let n64 = n as u64;
    let value = match w.name {
        "insert_grow" => throughput(budget, || {
            let mut m = F::Map::<u64>::empty();
            let t = Instant::now();
            for i in 0..n64 {
                m.put(key(0, i), i);
            }
            let time = t.elapsed();
            black_box(&m);
            (time, n64)
        }),
        "insert_latency" => {
            // A single pass's maximum is at the mercy of the OS (one preemption costs a
            // scheduler tick, ~4 ms on a busy machine), while a growth pause recurs in every
            // pass: repeat the pass (at least five times, until the budget is spent) and report
            // the smallest max and p99.99 over the passes, the cost the map itself causes.
            let start = Instant::now();
            let mut samples = Vec::with_capacity(n);
            let (mut maxes, mut p9999s) = (Vec::new(), Vec::new());
            loop {
                samples.clear();
                let mut m = F::Map::<u64>::empty();
                for i in 0..n64 {
                    let k = key(0, i);
                    let t = Instant::now();
                    m.put(k, i);
                    samples.push(t.elapsed().as_nanos() as u64);
                }
                black_box(&m);
                drop(m);
                maxes.push(samples.iter().copied().max().unwrap_or(0));
                p9999s.push(p9999(&mut samples));
                if maxes.len() >= 5 && start.elapsed() >= budget || maxes.len() >= 1000 {
                    break;
                }
            }
            return vec![
                (
                    "insert_max",
                    maxes.iter().copied().min().unwrap_or(0) as f64,
                ),
                (
                    "insert_p99.99",
                    p9999s.iter().copied().min().unwrap_or(0) as f64,
                ),
            ];
        }
        "lookup_hit" | "lookup_miss" => {
            let m: F::Map<u64> = filled(n);
            let offset = if w.name == "lookup_hit" { 0 } else { n64 };
            throughput(budget, || {
                let t = Instant::now();
                let mut found = 0u64;
                for i in offset..offset + n64 {
                    found += u64::from(m.fetch(&key(0, i)).is_some());
                }
                let time = t.elapsed();
                black_box(found);
                (time, n64)
            })
        }
        "remove" => throughput(budget, || {
            let mut m: F::Map<u64> = filled(n);
            let t = Instant::now();
            for i in 0..n64 {
                black_box(m.take(&key(0, i)));
            }
            (t.elapsed(), n64)
        }),
        "iterate" => {
            let m: F::Map<u64> = filled(n);
            throughput(budget, || {
                let t = Instant::now();
                black_box(m.sum_values());
                (t.elapsed(), n64)
            })
        }
        "churn" => {
            let mut m: F::Map<u64> = filled(n);
            let mut j = 0u64;
            let steps = n64.clamp(1_000, 100_000);
            throughput(budget, || {
                let t = Instant::now();
                for _ in 0..steps {
                    m.take(&key(0, j));
                    m.put(key(0, n64 + j), j);
                    j += 1;
                }
                (t.elapsed(), steps)
            })
        }
        "string_insert" => {
            let keys: Vec<String> = (0..n64).map(|i| string_key(0, i)).collect();
            throughput(budget, || {
                let batch = keys.clone();
                let mut m = F::Map::<String>::empty();
                let t = Instant::now();
                for (i, k) in batch.into_iter().enumerate() {
                    m.put(k, i as u64);
                }
                let time = t.elapsed();
                black_box(&m);
                (time, n64)
            })
        }
        "string_lookup" => {
            let keys: Vec<String> = (0..n64).map(|i| string_key(0, i)).collect();
            let mut m = F::Map::<String>::empty();
            for (i, k) in keys.iter().enumerate() {
                m.put(k.clone(), i as u64);
            }
            throughput(budget, || {
                let t = Instant::now();
                let mut found = 0u64;
                for k in &keys {
                    found += u64::from(m.fetch(k).is_some());
                }
                let time = t.elapsed();
                black_box(found);
                (time, n64)
            })
        }
        "bytes_per_entry" => {
            let (m, bytes) = alloc::measure(|| filled::<F::Map<u64>>(n));
            black_box(&m);
            bytes as f64 / n as f64
        }
        other => unreachable!("workload {other} has no Rust implementation"),
    };
    vec![(w.measures[0].name, value)]
}
