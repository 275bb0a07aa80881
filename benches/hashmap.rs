//! gomap::HashMap against hashbrown and std, all three with gomap's hasher.
//!
//! Every group is one workload at one size, with the three maps as its functions, so criterion
//! reports them side by side and the ratio gomap/hashbrown compares tables, not hashers:
//! every map is built with `gomap::DefaultHashBuilder` (foldhash's fast `RandomState`).
//!
//! Workloads (issue 2, "Performance"), each at N = 1e3 and 1e5, and 1e7 with
//! `GOMAP_BENCH_FULL=1` (10 samples, short measurement, so the whole run stays near 10 min):
//! - `insert`: N fresh u64 keys into an empty map (so the map grows all the way);
//! - `lookup_hit` / `lookup_miss`: keys that are present / keys guaranteed absent;
//! - `remove`: every key of a full map (the clone it starts from is made outside the timing);
//! - `iterate`: sum the values of a full map;
//! - `churn`: remove the oldest key, insert a new one, at constant size N;
//! - `str_insert` / `str_lookup`: the same with 16-byte `String` keys.
//!
//! Keys are `splitmix64(i)`: a bijection of u64, so keys from disjoint index ranges never
//! collide. Present keys use indices `0..N`; misses use `N..2N`, absent by construction.
//!
//! ```text
//! cargo bench --bench hashmap                          # 1e3 and 1e5
//! GOMAP_BENCH_FULL=1 cargo bench --bench hashmap       # also 1e7
//! ```

use std::hash::Hash;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use gomap::DefaultHashBuilder;

/// A bijective 64-bit mixer (Steele, Lea & Flood's SplitMix64 finaliser): distinct indices
/// give distinct, well-spread keys, identical for all three maps.
fn splitmix64(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The u64 key of index `i`.
fn key(i: u64) -> u64 {
    splitmix64(i)
}

/// The 16-byte string key of index `i` (16 hex digits of the same u64 key).
fn str_key(i: u64) -> String {
    format!("{:016x}", splitmix64(i))
}

/// Lookups per timed iteration at most: at 1e7 a strided sample of 1e6 keys (spread over the
/// whole insertion order, so no part of the table is favoured) keeps an iteration short.
const MAX_LOOKUPS: u64 = 1_000_000;
/// Remove+insert pairs per timed iteration of `churn`.
const CHURN_BATCH: u64 = 1_000;

/// The few operations the workloads need, implemented by each of the three maps.
trait BenchMap<K>: Clone {
    const NAME: &'static str;
    fn empty() -> Self;
    fn put(&mut self, k: K, v: u64);
    fn lookup(&self, k: &K) -> Option<&u64>;
    fn take(&mut self, k: &K) -> Option<u64>;
    fn sum_values(&self) -> u64;
}

/// The three maps share std's method names, so one body serves them all.
macro_rules! bench_map {
    ($name:literal, $map:ty, $new:expr) => {
        impl<K: Hash + Eq + Clone> BenchMap<K> for $map {
            const NAME: &'static str = $name;
            fn empty() -> Self {
                $new
            }
            #[inline]
            fn put(&mut self, k: K, v: u64) {
                self.insert(k, v);
            }
            #[inline]
            fn lookup(&self, k: &K) -> Option<&u64> {
                self.get(k)
            }
            #[inline]
            fn take(&mut self, k: &K) -> Option<u64> {
                self.remove(k)
            }
            fn sum_values(&self) -> u64 {
                self.values().fold(0, |a, v| a.wrapping_add(*v))
            }
        }
    };
}

bench_map!(
    "gomap",
    gomap::HashMap<K, u64>,
    gomap::HashMap::with_hasher(DefaultHashBuilder::default())
);
bench_map!(
    "hashbrown",
    hashbrown::HashMap<K, u64, DefaultHashBuilder>,
    hashbrown::HashMap::with_hasher(DefaultHashBuilder::default())
);
bench_map!(
    "std",
    std::collections::HashMap<K, u64, DefaultHashBuilder>,
    std::collections::HashMap::with_hasher(DefaultHashBuilder::default())
);

type Gomap<K> = gomap::HashMap<K, u64>;
type Brown<K> = hashbrown::HashMap<K, u64, DefaultHashBuilder>;
type Std<K> = std::collections::HashMap<K, u64, DefaultHashBuilder>;

fn filled<K, M: BenchMap<K>>(keys: &[K]) -> M
where
    K: Clone,
{
    let mut map = M::empty();
    for (i, k) in keys.iter().enumerate() {
        map.put(k.clone(), i as u64);
    }
    map
}

/// Every `stride`-th element, at most `MAX_LOOKUPS` of them.
fn sample<K: Clone>(keys: &[K]) -> Vec<K> {
    let stride = (keys.len() as u64).div_ceil(MAX_LOOKUPS).max(1) as usize;
    keys.iter().step_by(stride).cloned().collect()
}

/// Sizes to run: 1e3 and 1e5, plus 1e7 when `GOMAP_BENCH_FULL` is set.
fn sizes() -> Vec<u64> {
    let mut sizes = vec![1_000, 100_000];
    if std::env::var_os("GOMAP_BENCH_FULL").is_some_and(|v| v != "0") {
        sizes.push(10_000_000);
    }
    sizes
}

fn label(n: u64) -> String {
    format!("1e{}", n.ilog10())
}

/// A group for one workload at one size; the 1e7 groups use the fewest samples criterion
/// allows and flat sampling, since one iteration can take a second.
fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    n: u64,
    elements: u64,
) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{name}/{}", label(n)));
    g.throughput(Throughput::Elements(elements));
    if n >= 10_000_000 {
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(5));
    }
    g
}

fn bench_insert<K: Clone, M: BenchMap<K>>(g: &mut BenchmarkGroup<'_, WallTime>, keys: &[K]) {
    g.bench_function(BenchmarkId::from_parameter(M::NAME), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let input: Vec<K> = keys.to_vec();
                let start = Instant::now();
                let mut map = M::empty();
                for (i, k) in input.into_iter().enumerate() {
                    map.put(k, i as u64);
                }
                total += start.elapsed();
                drop(black_box(map));
            }
            total
        })
    });
}

fn bench_lookup<K: Clone, M: BenchMap<K>>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    map: &M,
    probes: &[K],
) {
    g.bench_function(BenchmarkId::from_parameter(M::NAME), |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for k in probes {
                if let Some(v) = map.lookup(k) {
                    sum = sum.wrapping_add(*v);
                }
            }
            sum
        })
    });
}

fn bench_remove<M: BenchMap<u64>>(g: &mut BenchmarkGroup<'_, WallTime>, map: &M, keys: &[u64]) {
    g.bench_function(BenchmarkId::from_parameter(M::NAME), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut m = map.clone();
                let start = Instant::now();
                let mut sum = 0u64;
                for k in keys {
                    sum = sum.wrapping_add(m.take(k).unwrap_or(0));
                }
                total += start.elapsed();
                black_box(sum);
                drop(black_box(m));
            }
            total
        })
    });
}

fn bench_iterate<M: BenchMap<u64>>(g: &mut BenchmarkGroup<'_, WallTime>, map: &M) {
    g.bench_function(BenchmarkId::from_parameter(M::NAME), |b| {
        b.iter(|| black_box(map).sum_values())
    });
}

/// FIFO churn: remove the oldest key, insert the next new one. The map persists across
/// iterations (and warm-up), so every same-size growth or compaction it needs is paid for.
fn bench_churn<M: BenchMap<u64>>(g: &mut BenchmarkGroup<'_, WallTime>, map: &M, n: u64) {
    let mut m = map.clone();
    let mut oldest = 0u64;
    g.bench_function(BenchmarkId::from_parameter(M::NAME), |b| {
        b.iter(|| {
            for _ in 0..CHURN_BATCH {
                let v = m.take(&key(oldest)).expect("present");
                m.put(key(oldest + n), v);
                oldest += 1;
            }
        })
    });
}

fn u64_workloads(c: &mut Criterion, n: u64) {
    let keys: Vec<u64> = (0..n).map(key).collect();
    let hits = sample(&keys);
    let misses: Vec<u64> = (n..n + hits.len() as u64).map(key).collect();

    let mut g = group(c, "insert", n, n);
    bench_insert::<u64, Gomap<u64>>(&mut g, &keys);
    bench_insert::<u64, Brown<u64>>(&mut g, &keys);
    bench_insert::<u64, Std<u64>>(&mut g, &keys);
    g.finish();

    // The three maps are built up front so that each group runs its three functions
    // back to back: on a shared machine the load drifts, and ratios are only fair between
    // measurements taken close together.
    let gomap: Gomap<u64> = filled(&keys);
    let brown: Brown<u64> = filled(&keys);
    let std: Std<u64> = filled(&keys);

    let mut g = group(c, "lookup_hit", n, hits.len() as u64);
    bench_lookup(&mut g, &gomap, &hits);
    bench_lookup(&mut g, &brown, &hits);
    bench_lookup(&mut g, &std, &hits);
    g.finish();

    let mut g = group(c, "lookup_miss", n, misses.len() as u64);
    bench_lookup(&mut g, &gomap, &misses);
    bench_lookup(&mut g, &brown, &misses);
    bench_lookup(&mut g, &std, &misses);
    g.finish();

    let mut g = group(c, "iterate", n, n);
    bench_iterate(&mut g, &gomap);
    bench_iterate(&mut g, &brown);
    bench_iterate(&mut g, &std);
    g.finish();

    let mut g = group(c, "remove", n, n);
    bench_remove(&mut g, &gomap, &keys);
    bench_remove(&mut g, &brown, &keys);
    bench_remove(&mut g, &std, &keys);
    g.finish();

    let mut g = group(c, "churn", n, CHURN_BATCH);
    bench_churn(&mut g, &gomap, n);
    bench_churn(&mut g, &brown, n);
    bench_churn(&mut g, &std, n);
    g.finish();
}

fn str_workloads(c: &mut Criterion, n: u64) {
    let keys: Vec<String> = (0..n).map(str_key).collect();
    let hits = sample(&keys);

    let mut g = group(c, "str_insert", n, n);
    bench_insert::<String, Gomap<String>>(&mut g, &keys);
    bench_insert::<String, Brown<String>>(&mut g, &keys);
    bench_insert::<String, Std<String>>(&mut g, &keys);
    g.finish();

    let gomap: Gomap<String> = filled(&keys);
    let brown: Brown<String> = filled(&keys);
    let std: Std<String> = filled(&keys);
    let mut g = group(c, "str_lookup", n, hits.len() as u64);
    bench_lookup(&mut g, &gomap, &hits);
    bench_lookup(&mut g, &brown, &hits);
    bench_lookup(&mut g, &std, &hits);
    g.finish();
}

fn benches(c: &mut Criterion) {
    for n in sizes() {
        u64_workloads(c, n);
        str_workloads(c, n);
    }
}

criterion_group!(hashmap, benches);

// `gomap bench`'s malloc settings (the same file), so that which map gets recycled heap pages
// and which fresh ones does not depend on which ran first.
#[path = "../cli/src/malloc.rs"]
mod malloc;

/// `criterion_main!`, with the malloc settings fixed first.
fn main() {
    malloc::pin_malloc_thresholds();
    hashmap();
    Criterion::default().configure_from_args().final_summary();
}
