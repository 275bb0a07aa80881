//! Multi-thread stress tests. Each runs on `gomap::SyncMap` and on the `RwLock<HashMap>`
//! reference (which checks the test itself), with final states checked after the threads join.

mod sync_map_common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::thread;

use gomap::SyncMap;
use sync_map_common::{Colliding, MapInterface, RwLockMap};

const THREADS: u64 = 4;

/// Multiplies the operation counts: `GOMAP_STRESS_SCALE=50 cargo test --release --test
/// sync_map_stress` for a long soak (the default keeps CI and valgrind runs short).
fn scale() -> u64 {
    std::env::var("GOMAP_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// An operation or key count: `native` times [`scale`], cut down under Miri
/// ([`sync_map_common::count`]).
fn count(native: u64) -> u64 {
    sync_map_common::count(native) * scale()
}

/// A tiny deterministic PRNG (xorshift), so failures reproduce per seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Runs `test` on the reference, on `SyncMap`, and on `SyncMap` with every key colliding.
fn on_all(test: fn(&dyn MapInterface<u64, u64>)) {
    on_both(test);
    test(&SyncMap::<u64, u64, Colliding>::with_hasher(Colliding));
}

/// Runs `test` on the reference and on `SyncMap` (for tests with too many keys for a colliding
/// hasher, whose lookups are linear).
fn on_both(test: fn(&dyn MapInterface<u64, u64>)) {
    test(&RwLockMap::default());
    test(&SyncMap::<u64, u64>::new());
}

/// Each thread owns a key range; its view of its keys must be exactly sequential, while the
/// other threads keep adding keys, promoting and expunging.
fn disjoint(map: &dyn MapInterface<u64, u64>) {
    // Fewer keys under Miri, where each new key's copies and promotions are slow to interpret.
    let per = if cfg!(miri) { 20 } else { 200 };
    thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                let mut model = std::collections::HashMap::new();
                let mut rng = Rng(t + 1);
                for _ in 0..count(20_000) {
                    let k = t * per + rng.next() % per;
                    let v = rng.next() % 1000;
                    match rng.next() % 8 {
                        0 | 1 => assert_eq!(map.load(&k), model.get(&k).copied()),
                        2 => {
                            map.store(k, v);
                            model.insert(k, v);
                        }
                        3 => assert_eq!(map.swap(k, v), model.insert(k, v)),
                        4 => assert_eq!(map.load_and_delete(&k), model.remove(&k)),
                        5 => {
                            let expected = *model.entry(k).or_insert(v);
                            assert_eq!(map.load_or_store(k, v).0, expected);
                        }
                        6 => {
                            let old = model.get(&k).copied().unwrap_or(0);
                            let hit = model.get(&k) == Some(&old);
                            assert_eq!(map.compare_and_swap(&k, &old, v), hit);
                            if hit {
                                model.insert(k, v);
                            }
                        }
                        _ => {
                            let hit = model.get(&k) == Some(&v);
                            assert_eq!(map.compare_and_delete(&k, &v), hit);
                            if hit {
                                model.remove(&k);
                            }
                        }
                    }
                }
                for k in t * per..(t + 1) * per {
                    assert_eq!(
                        map.load(&k),
                        model.get(&k).copied(),
                        "final state of key {k}"
                    );
                }
            });
        }
    });
    map.check();
    assert_eq!(map.len(), map.range_collect(usize::MAX).len());
}

#[test]
fn disjoint_keys() {
    on_all(disjoint);
}

/// All threads hammer a few shared keys. Values encode their key, so a load that returns a value
/// stored for another key (a torn or misattributed read) is caught; at the end the map must be
/// internally consistent and `len` exact.
fn overlapping(map: &dyn MapInterface<u64, u64>) {
    let keys = 16;
    let enc = |k: u64, n: u64| k << 32 | n;
    thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                let mut rng = Rng(t + 7);
                for i in 0..count(20_000) {
                    let k = rng.next() % keys;
                    let check = |v: Option<u64>| {
                        if let Some(v) = v {
                            assert_eq!(v >> 32, k, "value of another key");
                        }
                    };
                    match rng.next() % 7 {
                        0 => check(map.load(&k)),
                        1 => map.store(k, enc(k, i)),
                        2 => check(map.swap(k, enc(k, i))),
                        3 => check(map.load_and_delete(&k)),
                        4 => check(Some(map.load_or_store(k, enc(k, i)).0)),
                        5 => {
                            if let Some(old) = map.load(&k) {
                                map.compare_and_swap(&k, &old, enc(k, i));
                            }
                        }
                        _ => {
                            if i % 64 == 0 {
                                map.clear();
                            } else {
                                map.delete(&(k + keys)); // absent key: exercises misses
                            }
                        }
                    }
                }
            });
        }
    });
    map.check();
    let all = map.range_collect(usize::MAX);
    assert_eq!(map.len(), all.len());
    for (k, v) in all {
        assert_eq!(v >> 32, k);
        assert_eq!(map.load(&k), Some(v));
    }
}

#[test]
fn overlapping_keys() {
    on_all(overlapping);
}

/// Every thread calls `load_or_store(k, thread)` on the same fresh keys: exactly one stores, and
/// everyone sees the winner's value.
fn load_or_store_race(map: &dyn MapInterface<u64, u64>) {
    race_to_store(map, false);
}

/// As `load_or_store_race`, through `load_or_store_with`: also, each call runs `f` at most
/// once, and only a call that ran it can be the one that stores.
fn load_or_store_with_race(map: &dyn MapInterface<u64, u64>) {
    race_to_store(map, true);
}

fn race_to_store(map: &dyn MapInterface<u64, u64>, lazy: bool) {
    let keys = count(2_000);
    let barrier = Barrier::new(THREADS as usize);
    // Per thread and key: the value seen, whether it was loaded, whether `f` ran.
    let results: Vec<Vec<(u64, bool, bool)>> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    (0..keys)
                        .map(|k| {
                            if !lazy {
                                let (v, loaded) = map.load_or_store(k, t);
                                return (v, loaded, true);
                            }
                            let mut calls = 0;
                            let (v, loaded) = map.load_or_store_with(k, &mut || {
                                calls += 1;
                                t
                            });
                            assert!(calls <= 1, "f ran {calls} times in one call");
                            (v, loaded, calls == 1)
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for k in 0..keys as usize {
        let stored: Vec<_> = results.iter().filter(|r| !r[k].1).collect();
        assert_eq!(stored.len(), 1, "key {k}: exactly one thread stores");
        let (winner, _, ran) = stored[0][k];
        assert!(ran, "key {k}: the storing call computed its value");
        assert!(
            results.iter().all(|r| r[k].0 == winner),
            "key {k}: all see the winner"
        );
        assert_eq!(map.load(&(k as u64)), Some(winner));
    }
    map.check();
    assert_eq!(map.len(), keys as usize);
}

#[test]
fn load_or_store_exactly_one_wins() {
    on_all(load_or_store_race);
}

#[test]
fn load_or_store_with_exactly_one_wins() {
    on_all(load_or_store_with_race);
}

/// Threads increment one counter through `compare_and_swap` loops; none may be lost.
fn cas_counter(map: &dyn MapInterface<u64, u64>) {
    let per = count(2_000);
    map.store(0, 0);
    map.store(1, 0); // a second key, so new keys elsewhere keep promotions coming
    thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                for i in 0..per {
                    loop {
                        let old = map.load(&0).unwrap();
                        if map.compare_and_swap(&0, &old, old + 1) {
                            break;
                        }
                    }
                    map.store(100 + t * per + i, i); // new keys: dirty copies + promotions
                    map.load(&(100 + t * per + i / 2));
                }
            });
        }
    });
    assert_eq!(map.load(&0), Some(THREADS * per));
    map.check();
}

#[test]
fn compare_and_swap_loses_no_increment() {
    on_both(cas_counter);
}

/// `swap` and `load_and_delete` hand every replaced value to exactly one caller: the values seen
/// plus what remains are exactly the values stored.
fn exactly_once(map: &dyn MapInterface<u64, u64>) {
    let keys = 8;
    let per = count(5_000);
    let returned: Vec<Vec<u64>> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut seen = Vec::new();
                    let mut rng = Rng(t + 3);
                    for i in 0..per {
                        let k = rng.next() % keys;
                        let v = (t * per + i) * keys + k + 1; // unique, non-zero
                        seen.extend(map.swap(k, v));
                        if rng.next().is_multiple_of(4) {
                            seen.extend(map.load_and_delete(&((k + 1) % keys)));
                        }
                    }
                    seen
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<u64> = returned.into_iter().flatten().collect();
    all.extend(map.range_collect(usize::MAX).into_iter().map(|(_, v)| v));
    let total = all.len();
    let unique: HashSet<u64> = all.into_iter().collect();
    assert_eq!(unique.len(), total, "a value was handed out twice");
    assert_eq!(total as u64, THREADS * per, "a value was lost");
    map.check();
}

#[test]
fn swap_and_load_and_delete_hand_out_each_value_once() {
    on_all(exactly_once);
}

/// A writer keeps adding keys (dirty copies, promotions); readers must always find the keys that
/// were stored before they looked, with their values, and `range` must see every key stored
/// before it started, once.
fn promotions_mid_load(map: &dyn MapInterface<u64, u64>) {
    let added = count(5_000);
    let stable = count(500);
    for k in 0..stable {
        map.store(k, k * 2);
    }
    let published = AtomicU64::new(stable);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            for k in stable..stable + added {
                map.store(k, k * 2);
                // Release: pairs with the readers' Acquire; they only load keys stored before.
                published.store(k + 1, Ordering::Release);
                if k % 3 == 0 {
                    map.delete(&(k + 1_000_000)); // absent: a miss that may promote
                }
            }
            done.store(true, Ordering::Release);
        });
        for t in 0..THREADS - 1 {
            let (published, done) = (&published, &done);
            s.spawn(move || {
                let mut rng = Rng(t + 11);
                let mut ranges = 0;
                while !done.load(Ordering::Acquire) {
                    let upto = published.load(Ordering::Acquire);
                    let k = rng.next() % upto;
                    assert_eq!(map.load(&k), Some(k * 2), "key {k} stored before the load");
                    if rng.next().is_multiple_of(2048) {
                        ranges += 1;
                        let before = published.load(Ordering::Acquire);
                        let seen = map.range_collect(usize::MAX);
                        let keys: HashSet<u64> = seen.iter().map(|&(k, _)| k).collect();
                        assert_eq!(keys.len(), seen.len(), "range visited a key twice");
                        assert!((0..before).all(|k| keys.contains(&k)), "range missed a key");
                        assert!(seen.iter().all(|&(k, v)| v == k * 2));
                    }
                }
                let _ = ranges;
            });
        }
    });
    map.check();
    assert_eq!(map.len() as u64, stable + added);
}

#[test]
fn promotions_while_loading_and_ranging() {
    on_both(promotions_mid_load);
}
