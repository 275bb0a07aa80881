//! Drop accounting: every key and value that enters a `SyncMap` is dropped exactly once, by the
//! time the map is dropped, also when threads race on it.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use gomap::SyncMap;

mod sync_map_common;
use sync_map_common::count;

/// Counts instances alive; a double drop drives the count below zero (checked on every drop).
#[derive(Debug, Default)]
struct Counter {
    alive: AtomicIsize,
    created: AtomicUsize,
}

#[derive(Debug)]
struct Tracked {
    id: u64,
    counter: Arc<Counter>,
}

impl Tracked {
    fn new(id: u64, counter: &Arc<Counter>) -> Self {
        counter.alive.fetch_add(1, Ordering::Relaxed);
        counter.created.fetch_add(1, Ordering::Relaxed);
        Tracked {
            id,
            counter: Arc::clone(counter),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(self.id, &self.counter)
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let before = self.counter.alive.fetch_sub(1, Ordering::Relaxed);
        assert!(before > 0, "a value was dropped twice");
    }
}

fn alive(counter: &Counter) -> isize {
    counter.alive.load(Ordering::Relaxed)
}

/// A map with tracked keys and values, driven through every method.
fn exercise(map: &SyncMap<u64, Tracked>, counter: &Arc<Counter>, seed: u64, ops: u64) {
    let mut x = seed;
    for i in 0..ops {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = x % 64;
        let v = || Tracked::new(i, counter);
        match x % 11 {
            0 => drop(map.load(&k)),
            1 | 2 => map.store(k, v()),
            3 => drop(map.swap(k, v())),
            4 => drop(map.load_or_store(k, v())),
            5 => drop(map.load_and_delete(&k)),
            6 => drop(map.delete(&k)),
            7 => {
                if let Some(old) = map.load(&k) {
                    map.compare_and_swap(&k, &old, v());
                }
            }
            8 => {
                if let Some(old) = map.load(&k) {
                    map.compare_and_delete(&k, &old);
                }
            }
            9 => {
                if i % 97 == 0 {
                    map.clear();
                } else {
                    map.range(|_, _| true);
                }
            }
            _ => {
                let pinned = map.pin();
                let _ = pinned.get(&k);
                let _ = pinned.load_or_store(k + 64, v());
                let _ = pinned.swap(k + 128, v());
            }
        }
    }
}

#[test]
fn every_value_dropped_once_sequential() {
    let counter = Arc::new(Counter::default());
    let map = SyncMap::new();
    exercise(&map, &counter, 1, count(20_000));
    map.check_invariants();
    // While the map lives, what it holds is alive; retired values may linger until reclaimed.
    assert!(alive(&counter) >= map.len() as isize);
    drop(map);
    assert_eq!(alive(&counter), 0, "leaked values");
    assert!(counter.created.load(Ordering::Relaxed) > count(10_000) as usize);
}

#[test]
fn every_value_dropped_once_concurrent() {
    let counter = Arc::new(Counter::default());
    let map = SyncMap::new();
    thread::scope(|s| {
        for t in 0..4 {
            let (map, counter) = (&map, &counter);
            s.spawn(move || exercise(map, counter, t + 1, count(20_000)));
        }
    });
    map.check_invariants();
    drop(map);
    assert_eq!(alive(&counter), 0, "leaked values");
}

#[test]
fn retired_values_are_reclaimed_while_the_map_lives() {
    // Garbage must not pile up until the map is dropped: overwrite one key many times.
    let counter = Arc::new(Counter::default());
    let map = SyncMap::new();
    let overwrites = count(100_000);
    for i in 0..overwrites {
        map.store(0, Tracked::new(i, &counter));
    }
    assert!(
        alive(&counter) < overwrites as isize / 10,
        "{} values still alive after overwrites",
        alive(&counter)
    );
    drop(map);
    assert_eq!(alive(&counter), 0);
}

#[test]
fn keys_are_dropped_once_too() {
    let counter = Arc::new(Counter::default());
    #[derive(Debug)]
    struct Key(u64, Arc<AtomicIsize>);
    impl Clone for Key {
        fn clone(&self) -> Self {
            Key::new(self.0, &self.1) // `dirty_locked` clones keys: count them
        }
    }
    impl Key {
        fn new(k: u64, alive: &Arc<AtomicIsize>) -> Self {
            alive.fetch_add(1, Ordering::Relaxed);
            Key(k, Arc::clone(alive))
        }
    }
    impl PartialEq for Key {
        fn eq(&self, o: &Self) -> bool {
            self.0 == o.0
        }
    }
    impl Eq for Key {}
    impl std::hash::Hash for Key {
        fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
            self.0.hash(h)
        }
    }
    impl Drop for Key {
        fn drop(&mut self) {
            assert!(
                self.1.fetch_sub(1, Ordering::Relaxed) > 0,
                "key dropped twice"
            );
        }
    }
    let keys = Arc::new(AtomicIsize::new(0));
    {
        let map = SyncMap::new();
        for round in 0..20 {
            for k in 0..50 {
                map.store(Key::new(k + round * 25, &keys), Tracked::new(k, &counter));
                if k % 3 == 0 {
                    map.delete(&Key::new(k, &keys));
                }
                map.load(&Key::new(k / 2, &keys));
            }
        }
        map.clear();
        map.store(Key::new(1, &keys), Tracked::new(1, &counter));
    }
    assert_eq!(keys.load(Ordering::Relaxed), 0, "leaked keys");
    assert_eq!(alive(&counter), 0, "leaked values");
}
