//! `SyncMap` against its peers, same workloads, same run.
//!
//! Workloads (the issue's), each at 1 and 2 threads, on `u64` keys and values, every map with the
//! same hasher (foldhash, `gomap`'s default):
//!
//! * `read_mostly`: 98 % load of a present key, 1 % overwrite, 1 % store of a new key;
//! * `grow_only`: a cache that only grows (Go's case 1): from an empty map, load a random key of
//!   0..N and `load_or_store` it if absent; a round draws 16 N keys (all threads together), so
//!   each key is stored once and then read about 15 times;
//! * `disjoint`: each thread owns its key range; 50 % load, 50 % overwrite (Go's case 2);
//! * `write_heavy`: 10 % load, 40 % store, 40 % delete, 10 % `load_or_store` on shared keys.
//!
//! Reported time is wall time divided by the total number of operations of all threads (Go's
//! `b.RunParallel` ns/op). Each `read_mostly`, `disjoint` and `write_heavy` benchmark builds and
//! prefills one map and reuses it for every batch, so what is measured is the steady state (as
//! Go's benchmarks run `b.N` operations on one map). A `grow_only` batch is instead made of whole
//! rounds, each on a fresh empty map built and dropped untimed (as `gomap bench` does, see
//! `cli/src/workloads.rs`): on a reused map every key would be present after the first batch,
//! and the workload would measure loads only. Run (about two minutes):
//!
//! ```text
//! cargo bench --bench sync_map -- --warm-up-time 0.5 --measurement-time 1.5
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Barrier, RwLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gomap::SyncMap;

/// Every map hashes with the same hasher (foldhash, `gomap`'s default), so the ratios compare
/// the designs, not the hashers (the peers' own default is SipHash, several times slower).
type Hasher = gomap::DefaultHashBuilder;

/// Keys in the working set.
const N: u64 = 1 << 14;

/// Key draws per key of the key space in one grow-only round, all threads together (the CLI's
/// `GROW_ONLY_DRAWS_PER_KEY`): a key is missed once, stored once, then read about 15 times.
const GROW_ONLY_DRAWS_PER_KEY: u64 = 16;

/// The operations the workloads need, implemented by every contender.
trait BenchMap: Send + Sync + Default {
    const NAME: &'static str;
    fn load(&self, k: u64) -> Option<u64>;
    fn store(&self, k: u64, v: u64);
    fn delete(&self, k: u64);
    fn load_or_store(&self, k: u64, v: u64) -> u64;
}

impl BenchMap for SyncMap<u64, u64> {
    const NAME: &'static str = "gomap::SyncMap";
    fn load(&self, k: u64) -> Option<u64> {
        SyncMap::load(self, &k)
    }
    fn store(&self, k: u64, v: u64) {
        SyncMap::store(self, k, v)
    }
    fn delete(&self, k: u64) {
        SyncMap::delete(self, &k);
    }
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        SyncMap::load_or_store(self, k, v).0
    }
}

impl BenchMap for dashmap::DashMap<u64, u64, Hasher> {
    const NAME: &'static str = "dashmap";
    fn load(&self, k: u64) -> Option<u64> {
        self.get(&k).map(|r| *r)
    }
    fn store(&self, k: u64, v: u64) {
        self.insert(k, v);
    }
    fn delete(&self, k: u64) {
        self.remove(&k);
    }
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        *self.entry(k).or_insert(v)
    }
}

impl BenchMap for scc::HashMap<u64, u64, Hasher> {
    const NAME: &'static str = "scc";
    fn load(&self, k: u64) -> Option<u64> {
        self.read_sync(&k, |_, v| *v)
    }
    fn store(&self, k: u64, v: u64) {
        self.upsert_sync(k, v);
    }
    fn delete(&self, k: u64) {
        self.remove_sync(&k);
    }
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        *self.entry_sync(k).or_insert(v).get()
    }
}

impl BenchMap for papaya::HashMap<u64, u64, Hasher> {
    const NAME: &'static str = "papaya";
    fn load(&self, k: u64) -> Option<u64> {
        self.pin().get(&k).copied()
    }
    fn store(&self, k: u64, v: u64) {
        self.pin().insert(k, v);
    }
    fn delete(&self, k: u64) {
        self.pin().remove(&k);
    }
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        *self.pin().get_or_insert(k, v)
    }
}

#[derive(Default)]
struct RwLockMap(RwLock<HashMap<u64, u64, Hasher>>);

impl BenchMap for RwLockMap {
    const NAME: &'static str = "RwLock<HashMap>";
    fn load(&self, k: u64) -> Option<u64> {
        self.0.read().unwrap().get(&k).copied()
    }
    fn store(&self, k: u64, v: u64) {
        self.0.write().unwrap().insert(k, v);
    }
    fn delete(&self, k: u64) {
        self.0.write().unwrap().remove(&k);
    }
    fn load_or_store(&self, k: u64, v: u64) -> u64 {
        *self.0.write().unwrap().entry(k).or_insert(v)
    }
}

/// xorshift64: cheap, deterministic per thread.
struct Rng(u64);
impl Rng {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Clone, Copy)]
enum Workload {
    ReadMostly,
    GrowOnly,
    Disjoint,
    WriteHeavy,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::ReadMostly => "read_mostly",
            Workload::GrowOnly => "grow_only",
            Workload::Disjoint => "disjoint",
            Workload::WriteHeavy => "write_heavy",
        }
    }

    /// Fills a map with 0..N for the workloads that reuse one map (not `grow_only`).
    fn prefill<M: BenchMap>(self, map: &M) {
        for k in 0..N {
            map.store(k, k);
        }
        // Settle lazily-built state (for SyncMap: promote dirty to the read snapshot).
        for k in 0..N {
            black_box(map.load(k));
        }
    }

    /// One thread's share of the operations. New keys (read-mostly) start at `fresh`, which
    /// also varies the random stream from one batch (or grow-only round) to the next.
    fn run<M: BenchMap>(self, map: &M, thread: u64, threads: u64, ops: u64, fresh: u64) {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (thread + 1) ^ fresh);
        let mut fresh = fresh + thread; // new keys, disjoint per thread and per batch
        for _ in 0..ops {
            let r = rng.next();
            let k = (r >> 8) % N;
            match self {
                Workload::ReadMostly => match r % 100 {
                    0 => map.store(k, r),
                    1 => {
                        map.store(fresh, r);
                        fresh += threads;
                    }
                    _ => {
                        black_box(map.load(k));
                    }
                },
                Workload::GrowOnly => {
                    if map.load(k).is_none() {
                        black_box(map.load_or_store(k, r));
                    }
                }
                Workload::Disjoint => {
                    let own = thread * (N / threads) + k % (N / threads);
                    if r.is_multiple_of(2) {
                        black_box(map.load(own));
                    } else {
                        map.store(own, r);
                    }
                }
                Workload::WriteHeavy => match r % 10 {
                    0 => {
                        black_box(map.load(k));
                    }
                    1..=4 => map.store(k, r),
                    5..=8 => map.delete(k),
                    _ => {
                        black_box(map.load_or_store(k, r));
                    }
                },
            }
        }
    }
}

/// Runs `per_thread` operations of `workload` on each of `threads` threads, released together;
/// returns the wall time of the parallel section (the slowest thread's).
fn parallel_round<M: BenchMap>(
    map: &M,
    workload: Workload,
    threads: u64,
    per_thread: u64,
    fresh: u64,
) -> Duration {
    let barrier = Barrier::new(threads as usize);
    let elapsed: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    workload.run(map, t, threads, per_thread, fresh);
                    start.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    elapsed.into_iter().max().unwrap()
}

fn bench_one<M: BenchMap>(c: &mut Criterion, workload: Workload, threads: u64) {
    let mut group = c.benchmark_group(format!("{}/{}t", workload.name(), threads));
    let id = BenchmarkId::from_parameter(M::NAME);
    if let Workload::GrowOnly = workload {
        // Every round starts from an empty map, so each key is stored once in it and read
        // many times; the rounds' maps are built and dropped outside the timed sections.
        let per_thread = GROW_ONLY_DRAWS_PER_KEY * N / threads;
        let round_ops = per_thread * threads;
        let mut round = 0u64;
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let rounds = iters.div_ceil(round_ops);
                let mut timed = Duration::ZERO;
                for _ in 0..rounds {
                    let map = M::default();
                    timed += parallel_round(&map, workload, threads, per_thread, round << 32);
                    round += 1;
                    drop(black_box(map));
                }
                // Whole rounds ran (`rounds * round_ops >= iters` operations); criterion divides
                // by `iters`, so report their mean time per operation times `iters`. (Criterion's
                // warm-up times whole calls, so a peer slow enough to finish warming up before
                // `iters` reaches a round is planned fewer operations: each of its samples is then
                // one round, fewer rounds in all, with the same mean.)
                timed.mul_f64(iters as f64 / (rounds * round_ops) as f64)
            })
        });
        group.finish();
        return;
    }
    // One map per benchmark, reused by every batch (as Go's benchmarks use one map for b.N):
    // the measurement is of the steady state, not of building the map (for `SyncMap`, the
    // one-off copy of the snapshot at the first new key after the prefill's promotion).
    let map = M::default();
    workload.prefill(&map);
    let mut next_fresh = N;
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let fresh = next_fresh;
            next_fresh += iters + threads;
            // Wall time of the parallel section (the slowest thread); criterion divides by
            // `iters`, the total operations: Go's RunParallel ns/op.
            parallel_round(&map, workload, threads, iters.div_ceil(threads), fresh)
        })
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    for workload in [
        Workload::ReadMostly,
        Workload::GrowOnly,
        Workload::Disjoint,
        Workload::WriteHeavy,
    ] {
        for threads in [1, 2] {
            bench_one::<SyncMap<u64, u64>>(c, workload, threads);
            bench_one::<dashmap::DashMap<u64, u64, Hasher>>(c, workload, threads);
            bench_one::<scc::HashMap<u64, u64, Hasher>>(c, workload, threads);
            bench_one::<papaya::HashMap<u64, u64, Hasher>>(c, workload, threads);
            bench_one::<RwLockMap>(c, workload, threads);
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(700));
    targets = all
}
criterion_main!(benches);
