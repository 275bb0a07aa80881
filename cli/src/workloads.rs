//! The benchmark workloads: the one place that defines what `gomap bench` measures.
//!
//! `bench/README.md` describes them in prose and `bench/go/main.go` runs the same ones on Go's
//! map. The Rust side hands the Go program the workload names, sizes and time budget on its
//! command line, so the sizes and mixes below are the only copy.
//!
//! Keys are the splitmix64 stream seeded with 0 (`keys::key(0, i)` for `i` in `0..n`); misses
//! use the next `n` outputs of the same stream, which are distinct from the first `n`. String
//! keys are the 16 lower-case hex digits of the same numbers. Values are `u64`: the key's index.
//!
//! The SyncMap workloads ([`Kind::Sync`]) run on several threads at once; each thread draws its
//! operations from its own splitmix64 stream ([`sync_draw`]), so the Go side replays the very
//! same operation sequence.

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
    /// Wall-clock nanoseconds per operation, all threads together (lower is better).
    NsPerOp,
}

impl Unit {
    pub fn label(self) -> &'static str {
        match self {
            Unit::Mops => "Mops/s",
            Unit::Nanos => "ns",
            Unit::Bytes => "B/entry",
            Unit::NsPerOp => "ns/op",
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

/// Which maps a workload runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One thread, `&mut` maps: gomap::HashMap, hashbrown, std (and Go's `map`).
    Hash,
    /// Several threads sharing one map: gomap::SyncMap, dashmap, scc, papaya, `RwLock<HashMap>`
    /// (and Go's `sync.Map`), at each thread count of the plan.
    Sync,
}

impl Kind {
    /// The Rust maps of this kind, in table order; the first is gomap's.
    pub fn impls(self) -> &'static [&'static str] {
        match self {
            Kind::Hash => &["gomap", "hashbrown", "std"],
            Kind::Sync => &["gomap-sync", "dashmap", "scc", "papaya", "rwlock-std"],
        }
    }

    /// gomap's map of this kind: the one the ratios are about.
    pub fn ours(self) -> &'static str {
        self.impls()[0]
    }

    /// The name Go's map of this kind goes by in the tables.
    pub fn go_impl(self) -> &'static str {
        match self {
            Kind::Hash => "go-map",
            Kind::Sync => "go-sync.Map",
        }
    }
}

/// One workload: what it does, and the figures it reports.
#[derive(Debug)]
pub struct Workload {
    pub name: &'static str,
    pub what: &'static str,
    pub measures: &'static [Measure],
    /// Run only at the largest size of the run (the latency of growing to it).
    pub largest_only: bool,
    pub kind: Kind,
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
        kind: Kind::Hash,
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
        kind: Kind::Hash,
    },
    Workload {
        name: "lookup_hit",
        what: "get every key 0..n of a map holding them, summing the values; op = get",
        measures: &[Measure {
            name: "lookup_hit",
            unit: Unit::Mops,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "lookup_miss",
        what: "get keys n..2n, none present, from a map holding 0..n; op = get",
        measures: &[Measure {
            name: "lookup_miss",
            unit: Unit::Mops,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "remove",
        what: "remove keys 0..n, in insertion order, until the map is empty; op = remove",
        measures: &[Measure {
            name: "remove",
            unit: Unit::Mops,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "iterate",
        what: "sum the values of a map of n entries; op = one entry visited",
        measures: &[Measure {
            name: "iterate",
            unit: Unit::Mops,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "churn",
        what: "at constant size n: step j removes key j and inserts key n+j; op = one step",
        measures: &[Measure {
            name: "churn",
            unit: Unit::Mops,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "string_insert",
        what: "insert n 16-byte String keys (prebuilt, moved in) into an empty map; op = insert",
        measures: &[Measure {
            name: "string_insert",
            unit: Unit::Mops,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "string_lookup",
        what: "get each of the n String keys (by &str) from a map holding them, summing the values; op = get",
        measures: &[Measure {
            name: "string_lookup",
            unit: Unit::Mops,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "bytes_per_entry",
        what: "heap bytes allocated by a map of n u64 -> u64 entries built by inserts, / n",
        measures: &[Measure {
            name: "bytes_per_entry",
            unit: Unit::Bytes,
        }],
        largest_only: false,
        kind: Kind::Hash,
    },
    Workload {
        name: "read_mostly",
        what: "map of keys 0..n; per op 98% load of a random key, 1% overwrite, 1% store of a \
               new key; every thread alike; op = one of them",
        measures: &[Measure {
            name: "read_mostly",
            unit: Unit::NsPerOp,
        }],
        largest_only: false,
        kind: Kind::Sync,
    },
    Workload {
        name: "grow_only",
        what: "empty map; per op load a random key of 0..n and, if absent, load_or_store it \
               (a cache that only grows); a round draws 16 n keys in all, so each key is \
               stored once and read ~15 times; op = one get-or-insert",
        measures: &[Measure {
            name: "grow_only",
            unit: Unit::NsPerOp,
        }],
        largest_only: false,
        kind: Kind::Sync,
    },
    Workload {
        name: "disjoint",
        what: "map of keys 0..n; thread t owns the keys i with i % threads == t; per op 50% load, \
               50% overwrite of a random own key",
        measures: &[Measure {
            name: "disjoint",
            unit: Unit::NsPerOp,
        }],
        largest_only: false,
        kind: Kind::Sync,
    },
    Workload {
        name: "write_heavy",
        what: "map of keys 0..n; per op on a random key: 10% load, 40% store, 40% delete, \
               10% load_or_store",
        measures: &[Measure {
            name: "write_heavy",
            unit: Unit::NsPerOp,
        }],
        largest_only: false,
        kind: Kind::Sync,
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
    /// Key-space sizes of the SyncMap workloads.
    pub sync_sizes: Vec<usize>,
    /// Thread counts of the SyncMap workloads: 1 ..= the machine's cores.
    pub threads: Vec<usize>,
    /// Each (workload, size, map) repeats its timed round until this much time has passed.
    pub budget: Duration,
    /// Passes over each (workload, size, threads), the maps taking turns (`--repeat`); each map's
    /// figure is the median of its passes.
    pub repeat: usize,
}

/// 1 ..= the number of cores this process may use.
fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (1..=cores).collect()
}

impl Plan {
    /// The full run: the HashMap issue's sizes.
    pub fn full() -> Plan {
        Plan {
            sizes: vec![1_000, 100_000, 10_000_000],
            sync_sizes: vec![1_000, 100_000, 1_000_000],
            threads: thread_counts(),
            budget: Duration::from_millis(500),
            repeat: 1,
        }
    }

    /// `--quick`: small and medium sizes, shorter budget (under a minute in all).
    pub fn quick() -> Plan {
        Plan {
            sizes: vec![1_000, 100_000],
            sync_sizes: vec![1_000, 100_000],
            threads: thread_counts(),
            budget: Duration::from_millis(200),
            repeat: 1,
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
                // The values found are summed: a get whose value is never read lets the
                // compiler drop the value's load, and with it the cache line a map that keeps
                // values apart from keys (gomap, Go) has to fetch.
                let mut sum = 0u64;
                for i in offset..offset + n64 {
                    sum = sum.wrapping_add(m.fetch(&key(0, i)).unwrap_or(0));
                }
                let time = t.elapsed();
                black_box(sum);
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
            // The map's copies are made in one batch before it is built, so they lie in the
            // heap in key order whatever the map allocates meanwhile (bucket arrays, gomap's
            // overflow buckets): with copies made insert by insert, where those allocations fell
            // between the strings decided how many cache lines the lookups' comparisons touched,
            // and the figure moved 3x with the heap's history. (Go's allocator keeps 16-byte
            // strings apart from map buckets by size class anyway.)
            let mut m = F::Map::<String>::empty();
            for (i, k) in keys.clone().into_iter().enumerate() {
                m.put(k, i as u64);
            }
            throughput(budget, || {
                let t = Instant::now();
                let mut sum = 0u64;
                for k in &keys {
                    sum = sum.wrapping_add(m.fetch(k).unwrap_or(0));
                }
                let time = t.elapsed();
                black_box(sum);
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

// ---- the SyncMap workloads ----------------------------------------------------------------

/// A concurrent map under test: the operations the SyncMap workloads use, through `&self`.
pub trait ConcurrentMap: Sync {
    const NAME: &'static str;
    fn empty() -> Self;
    fn load(&self, k: u64) -> Option<u64>;
    fn store(&self, k: u64, v: u64);
    fn delete(&self, k: u64);
    /// The value present, or `v` after storing it.
    fn load_or_store(&self, k: u64, v: u64) -> u64;
    /// Brings a freshly filled map to its steady state (untimed). gomap's SyncMap (like Go's)
    /// holds stored keys in its dirty map until enough loads miss; `range` promotes at once.
    fn settle(&self) {}
}

impl ConcurrentMap for gomap::SyncMap<u64, u64, Hasher> {
    const NAME: &'static str = "gomap-sync";
    fn empty() -> Self {
        Self::with_hasher(Hasher::default())
    }
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        gomap::SyncMap::load(self, &k)
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        gomap::SyncMap::store(self, k, v);
    }
    #[inline]
    fn delete(&self, k: u64) {
        gomap::SyncMap::delete(self, &k);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        gomap::SyncMap::load_or_store(self, k, v).0
    }
    fn settle(&self) {
        self.range(|_, _| false);
    }
}

impl ConcurrentMap for dashmap::DashMap<u64, u64, Hasher> {
    const NAME: &'static str = "dashmap";
    fn empty() -> Self {
        Self::with_hasher(Hasher::default())
    }
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.get(&k).map(|r| *r)
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        self.insert(k, v);
    }
    #[inline]
    fn delete(&self, k: u64) {
        self.remove(&k);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        *self.entry(k).or_insert(v)
    }
}

impl ConcurrentMap for scc::HashMap<u64, u64, Hasher> {
    const NAME: &'static str = "scc";
    fn empty() -> Self {
        Self::with_hasher(Hasher::default())
    }
    // The synchronous API (the maps here run on plain threads, no async runtime).
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.read_sync(&k, |_, v| *v)
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        self.upsert_sync(k, v);
    }
    #[inline]
    fn delete(&self, k: u64) {
        self.remove_sync(&k);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        *self.entry_sync(k).or_insert(v).get()
    }
}

impl ConcurrentMap for papaya::HashMap<u64, u64, Hasher> {
    const NAME: &'static str = "papaya";
    fn empty() -> Self {
        Self::with_hasher(Hasher::default())
    }
    // One `pin()` per operation, as SyncMap enters its guard per operation.
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.pin().get(&k).copied()
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        self.pin().insert(k, v);
    }
    #[inline]
    fn delete(&self, k: u64) {
        self.pin().remove(&k);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        *self.pin().get_or_insert(k, v)
    }
}

/// std's map behind a reader-writer lock: the baseline any concurrent map has to beat.
pub type RwLockStd = std::sync::RwLock<StdMap<u64, u64, Hasher>>;

impl ConcurrentMap for RwLockStd {
    const NAME: &'static str = "rwlock-std";
    fn empty() -> Self {
        std::sync::RwLock::new(StdMap::with_hasher(Hasher::default()))
    }
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.read().expect("no panics").get(&k).copied()
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        self.write().expect("no panics").insert(k, v);
    }
    #[inline]
    fn delete(&self, k: u64) {
        self.write().expect("no panics").remove(&k);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        if let Some(&v) = self.read().expect("no panics").get(&k) {
            return v;
        }
        *self.write().expect("no panics").entry(k).or_insert(v)
    }
}

/// The SyncMap workloads' maps, by their [`ConcurrentMap::NAME`].
pub type GomapSync = gomap::SyncMap<u64, u64, Hasher>;
pub type Dashmap = dashmap::DashMap<u64, u64, Hasher>;
pub type Scc = scc::HashMap<u64, u64, Hasher>;
pub type Papaya = papaya::HashMap<u64, u64, Hasher>;

/// Operations per thread in one timed round of SyncMap workload `workload` on a key space of
/// `n` with `threads` threads (at least 10,000 in all, so a round lasts far longer than starting
/// its threads).
///
/// Grow-only rounds start from an empty map and must be long enough for what the workload
/// claims, a cache whose keys are written once and then read many times: all threads together
/// draw [`GROW_ONLY_DRAWS_PER_KEY`] keys per key of the key space, so about one operation in
/// 16 inserts and the rest read, at any thread count. (With the other workloads' rounds, n
/// draws per thread but at most 10^5, most grow-only operations were inserts: at 10^6 keys a
/// round filled a fifth of the key space and read almost nothing back.)
pub fn sync_round_ops(workload: &str, n: usize, threads: usize) -> u64 {
    let threads = threads.max(1) as u64;
    match workload {
        "grow_only" => (GROW_ONLY_DRAWS_PER_KEY * n as u64).max(10_000) / threads,
        _ => (n as u64).clamp(10_000, 100_000),
    }
}

/// Key draws per key of the key space in one grow-only round (all threads together): a key
/// is missed once, stored once, then read about 15 times.
pub const GROW_ONLY_DRAWS_PER_KEY: u64 = 16;

/// Thread `t`'s `i`-th draw (counting on across rounds): the `i`-th output of the splitmix64
/// stream seeded with `(t + 1) << 40`. Its low 32 bits modulo 100 pick the operation, its high
/// 32 bits modulo the key space pick the key index. `bench/go/main.go` draws the same way.
#[inline]
pub fn sync_draw(t: usize, i: u64) -> (u64, u64) {
    let x = key((t as u64 + 1) << 40, i);
    ((x & 0xffff_ffff) % 100, x >> 32)
}

/// Runs `op(map, t, i)` for `i` in `first..first + ops` on each of `threads` threads, released
/// together by a barrier; returns the wall-clock time from the first thread's start to the
/// last thread's end (each thread reads the clock itself: on a busy machine the spawning
/// thread may be scheduled only after the others are done).
fn parallel_round<M: ConcurrentMap>(
    map: &M,
    threads: usize,
    first: u64,
    ops: u64,
    op: impl Fn(&M, usize, u64) + Sync,
) -> Duration {
    let barrier = std::sync::Barrier::new(threads);
    let (barrier, op) = (&barrier, &op);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for i in first..first + ops {
                        op(map, t, i);
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a benchmark thread panicked"))
            .collect()
    });
    let start = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let end = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    end - start
}

fn filled_concurrent<M: ConcurrentMap>(n: u64) -> M {
    let m = M::empty();
    for i in 0..n {
        m.store(key(0, i), i);
    }
    m.settle();
    m
}

/// Runs one SyncMap workload on a key space of `n` with `threads` threads on map `M`; returns
/// its measure and the median round's wall-clock nanoseconds per operation (all threads' ops).
pub fn run_sync<M: ConcurrentMap>(
    w: &Workload,
    n: usize,
    threads: usize,
    plan: &Plan,
) -> Vec<(&'static str, f64)> {
    let n64 = n as u64;
    let ops = sync_round_ops(w.name, n, threads);
    let total = ops * threads as u64;
    let mut round = 0u64;
    // Every round starts from the same state: a fresh map, built untimed.
    let mut timed = |fresh: fn(u64) -> M, op: &(dyn Fn(&M, usize, u64) + Sync)| {
        throughput(plan.budget, || {
            let m = fresh(n64);
            let time = parallel_round(&m, threads, round * ops, ops, op);
            round += 1;
            black_box(&m);
            (time, total)
        })
    };
    let mops = match w.name {
        "read_mostly" => timed(filled_concurrent::<M>, &|m, t, i| {
            let (pick, r) = sync_draw(t, i);
            let k = r % n64;
            match pick {
                0..=97 => {
                    black_box(m.load(key(0, k)));
                }
                98 => m.store(key(0, k), i),
                // New keys: indexes n and up, distinct across threads and draws.
                _ => m.store(key(0, n64 + i * threads as u64 + t as u64), i),
            }
        }),
        "grow_only" => timed(|_| M::empty(), &|m, t, i| {
            let k = sync_draw(t, i).1 % n64;
            if m.load(key(0, k)).is_none() {
                black_box(m.load_or_store(key(0, k), k));
            }
        }),
        "disjoint" => timed(filled_concurrent::<M>, &|m, t, i| {
            let (pick, r) = sync_draw(t, i);
            // The own keys of thread t: t, t + threads, t + 2 threads, ... below n.
            let own = (n64 - t as u64).div_ceil(threads as u64).max(1);
            let k = key(0, (r % own) * threads as u64 + t as u64);
            if pick < 50 {
                black_box(m.load(k));
            } else {
                m.store(k, i);
            }
        }),
        "write_heavy" => timed(filled_concurrent::<M>, &|m, t, i| {
            let (pick, r) = sync_draw(t, i);
            let k = key(0, r % n64);
            match pick {
                0..=9 => {
                    black_box(m.load(k));
                }
                10..=49 => m.store(k, i),
                50..=89 => m.delete(k),
                _ => {
                    black_box(m.load_or_store(k, i));
                }
            }
        }),
        other => unreachable!("workload {other} has no concurrent implementation"),
    };
    vec![(w.measures[0].name, 1e3 / mops)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::sync::Mutex;

    /// A `Mutex<HashMap>` that counts what a round asks of it (all rounds together: `run_sync`
    /// builds each round's map with `empty()`, so the counters are statics, which only this
    /// test uses).
    struct Counting(Mutex<StdMap<u64, u64>>);
    static LOADS: AtomicU64 = AtomicU64::new(0);
    static HITS: AtomicU64 = AtomicU64::new(0);
    static INSERTS: AtomicU64 = AtomicU64::new(0);
    static ROUNDS: AtomicU64 = AtomicU64::new(0);

    impl ConcurrentMap for Counting {
        const NAME: &'static str = "counting";
        fn empty() -> Self {
            ROUNDS.fetch_add(1, Relaxed);
            Counting(Mutex::default())
        }
        fn load(&self, k: u64) -> Option<u64> {
            let v = self.0.lock().unwrap().get(&k).copied();
            LOADS.fetch_add(1, Relaxed);
            HITS.fetch_add(u64::from(v.is_some()), Relaxed);
            v
        }
        fn store(&self, k: u64, v: u64) {
            self.0.lock().unwrap().insert(k, v);
        }
        fn delete(&self, k: u64) {
            self.0.lock().unwrap().remove(&k);
        }
        fn load_or_store(&self, k: u64, v: u64) -> u64 {
            *self.0.lock().unwrap().entry(k).or_insert_with(|| {
                INSERTS.fetch_add(1, Relaxed);
                v
            })
        }
    }

    /// Issue 3's grow-only cache writes each key once and reads it many times: a round must
    /// read most of its keys back many times, at one thread as at two, not mostly fill.
    #[test]
    fn grow_only_rounds_read_each_stored_key_many_times() {
        let w = WORKLOADS.iter().find(|w| w.name == "grow_only").unwrap();
        let n = 5_000;
        for threads in [1, 2] {
            let plan = Plan {
                budget: Duration::ZERO,
                ..Plan::quick()
            };
            for c in [&LOADS, &HITS, &INSERTS, &ROUNDS] {
                c.store(0, Relaxed);
            }
            run_sync::<Counting>(w, n, threads, &plan);
            let rounds = ROUNDS.load(Relaxed);
            let (loads, hits, inserts) = (
                LOADS.load(Relaxed) / rounds,
                HITS.load(Relaxed) / rounds,
                INSERTS.load(Relaxed) / rounds,
            );
            assert_eq!(
                loads,
                GROW_ONLY_DRAWS_PER_KEY * n as u64,
                "{threads} thread(s)"
            );
            assert!(
                inserts > n as u64 * 99 / 100,
                "{inserts} of {n} keys stored"
            );
            assert!(
                hits >= 14 * inserts,
                "{threads} thread(s): {hits} reads of {inserts} stored keys"
            );
        }
    }
}
