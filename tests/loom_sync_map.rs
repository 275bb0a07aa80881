//! Model checking of `SyncMap`'s entry state machine and promotion protocol with loom.
//!
//! Run with (the models are small: exhaustive even without a preemption bound, under 1 s of
//! model checking after a ~4 min first build of loom in release mode):
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg loom" cargo test --release --test loom_sync_map
//! ```
//!
//! Under `cfg(loom)`, `src/primitive.rs` swaps the map's atomics and mutex for loom's and its
//! reclamation for a stand-in (seize's own internals are not what is checked here) that frees
//! the retired objects whenever the last active guard, on any thread, is dropped, and what is
//! still retired when the map is dropped. So loom explores every interleaving of our atomics and
//! lock acquisitions, with reclamation racing the map's operations (a freed entry slot claimed
//! again), and also flags leaks of loom-tracked objects.

#![cfg(loom)]

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

use loom::sync::Arc;
use loom::thread;

use gomap::SyncMap;

/// A fixed hasher: loom needs every execution of a model to repeat the same operations, so the
/// maps' layout and iteration order must not change from one execution to the next.
type Map = SyncMap<u8, u32, BuildHasherDefault<DefaultHasher>>;

/// A map whose read snapshot holds `key` with a *nil* entry and has no dirty map: the state from
/// which Go's expunge / unexpunge races start.
fn map_with_deleted(key: u8) -> Map {
    let map = Map::default();
    map.store(key, 1);
    map.load(&key); // a miss: misses (1) >= len(dirty) (1), so dirty is promoted
    assert_eq!(map.stats().dirty_len, None);
    assert!(map.delete(&key)); // lock-free: the entry goes nil, stays in the snapshot
    map
}

/// Everything a quiescent map must satisfy, plus what `range` sees, compared to `expected`.
fn assert_final(map: &Map, expected: &[(u8, u32)]) {
    map.check_invariants();
    let mut seen = Vec::new();
    map.range(|&k, &v| {
        seen.push((k, v));
        true
    });
    seen.sort();
    assert_eq!(seen, expected);
    assert_eq!(map.len(), expected.len());
}

/// `tryExpungeLocked` (a new key builds the dirty map) racing a lock-free store that revives the
/// deleted entry: whichever wins the entry's CAS, the revived value must survive promotion.
#[test]
fn expunge_races_revive() {
    loom::model(|| {
        let map = Arc::new(map_with_deleted(1));
        let m = map.clone();
        let t = thread::spawn(move || m.store(2, 20)); // dirty_locked: expunges entry 1 if nil
        map.store(1, 10); // try_swap on entry 1: nil → 10, or falls back if expunged
        t.join().unwrap();
        assert_eq!(map.load(&1), Some(10));
        assert_eq!(map.load(&2), Some(20));
        assert_final(&map, &[(1, 10), (2, 20)]);
    });
}

/// `load_or_store` racing on the same deleted entry while a third party expunges it: exactly one
/// value wins and both callers see it.
#[test]
fn load_or_store_races_expunge() {
    loom::model(|| {
        let map = Arc::new(map_with_deleted(1));
        let m1 = map.clone();
        let t1 = thread::spawn(move || m1.load_or_store(1, 10));
        let m2 = map.clone();
        let t2 = thread::spawn(move || {
            m2.store(2, 20);
            m2.load_or_store(1, 11)
        });
        let (a, a_loaded) = t1.join().unwrap();
        let (b, b_loaded) = t2.join().unwrap();
        assert_eq!(a, b, "both callers see the winner");
        assert!(a_loaded != b_loaded, "exactly one stores");
        assert_final(&map, &[(1, a), (2, 20)]);
    });
}

/// Store, delete and compare-and-swap on one live entry, lock-free: the final state is one of
/// the sequential outcomes, and `len` agrees with it.
#[test]
fn entry_store_delete_cas() {
    loom::model(|| {
        let map = Arc::new(Map::default());
        map.store(1, 1);
        map.load(&1); // promote: entry 1 now lives in the snapshot
        let m1 = map.clone();
        let t1 = thread::spawn(move || m1.store(1, 2));
        let m2 = map.clone();
        let t2 = thread::spawn(move || m2.load_and_delete(&1));
        let swapped = map.compare_and_swap(&1, &1, 3);
        t1.join().unwrap();
        let deleted = t2.join().unwrap();
        let fin = map.load(&1);
        // Nothing else removes the key, so the delete found whatever was current: 1, 2 or 3.
        let deleted = deleted.expect("key present until the delete");
        assert!((1..=3).contains(&deleted));
        match fin {
            None => {}                                        // the delete ran last
            Some(2) => assert!(deleted == 1 || deleted == 3), // the store ran last
            Some(3) => panic!("the CAS cannot run after the delete and find 1"),
            Some(v) => panic!("impossible final value {v}"),
        }
        if swapped {
            // The CAS saw 1, so it ran before both the store and the delete.
            assert_ne!(deleted, 1);
        } else {
            // The CAS found 2 or nothing: it ran after the store or after the delete.
            assert_ne!(deleted, 3);
        }
        map.check_invariants();
        assert_eq!(map.len(), usize::from(fin.is_some()));
    });
}

/// A promotion (triggered by a missing load) racing a load of a key that lives only in the dirty
/// map and a store of a new key: nothing is lost, and every load finds its key.
#[test]
fn promotion_races_load() {
    loom::model(|| {
        let map = Arc::new(Map::default());
        map.store(1, 10);
        map.store(2, 20); // dirty = {1, 2}, snapshot empty and amended
        let m1 = map.clone();
        let t1 = thread::spawn(move || (m1.load(&1), m1.load(&9))); // two misses: promotes
        let m2 = map.clone();
        let t2 = thread::spawn(move || {
            m2.store(3, 30);
            m2.load(&2)
        });
        assert_eq!(t1.join().unwrap(), (Some(10), None));
        assert_eq!(t2.join().unwrap(), Some(20));
        assert_final(&map, &[(1, 10), (2, 20), (3, 30)]);
    });
}

/// `clear` racing a lock-free store to an existing key: the store is either cleared or kept in
/// the new map, never lost on a detached entry, and `len` stays exact.
#[test]
fn clear_races_store() {
    loom::model(|| {
        let map = Arc::new(Map::default());
        map.store(1, 1);
        map.load(&1); // promote
        let m = map.clone();
        let t = thread::spawn(move || m.clear());
        map.store(1, 2);
        t.join().unwrap();
        match map.load(&1) {
            Some(2) => assert_final(&map, &[(1, 2)]),
            None => assert_final(&map, &[]),
            Some(v) => panic!("impossible value {v}"),
        }
    });
}

/// `load_and_delete` of a dirty-only key racing `compare_and_swap` on it.
#[test]
fn dirty_only_delete_races_cas() {
    loom::model(|| {
        let map = Arc::new(Map::default());
        map.store(1, 1); // dirty only
        let m = map.clone();
        let t = thread::spawn(move || m.compare_and_swap(&1, &1, 2));
        let deleted = map.load_and_delete(&1);
        let swapped = t.join().unwrap();
        match (deleted, swapped) {
            (Some(1), false) | (Some(2), true) => {}
            other => panic!("impossible outcome {other:?}"),
        }
        assert_final(&map, &[]);
    });
}

/// `unexpunge_locked` (a store to an expunged key, under the mutex) racing a delete of the same
/// key and a miss that promotes the dirty map.
#[test]
fn unexpunge_races_delete_and_promotion() {
    loom::model(|| {
        let map = Arc::new(map_with_deleted(1));
        map.store(2, 20); // dirty_locked: entry 1 (nil) is expunged, dirty = {2}
        let m1 = map.clone();
        let t1 = thread::spawn(move || m1.store(1, 10));
        let m2 = map.clone();
        let t2 = thread::spawn(move || {
            let deleted = m2.load_and_delete(&1);
            m2.load(&9); // a miss: may promote (misses >= len(dirty))
            deleted
        });
        t1.join().unwrap();
        match t2.join().unwrap() {
            Some(10) => assert_final(&map, &[(2, 20)]),
            None => assert_final(&map, &[(1, 10), (2, 20)]),
            other => panic!("impossible {other:?}"),
        }
    });
}

/// `range` (which promotes first) racing a store of a new key and a promoting miss: it sees every
/// key stored before it began, once.
#[test]
fn range_races_new_key_and_promotion() {
    loom::model(|| {
        let map = Arc::new(Map::default());
        map.store(1, 10); // dirty only: range must promote to see it
        let m = map.clone();
        let t = thread::spawn(move || {
            m.store(2, 20);
            m.load(&9)
        });
        let mut seen = Vec::new();
        map.range(|&k, &v| {
            seen.push((k, v));
            true
        });
        seen.sort();
        assert!(seen == [(1, 10)] || seen == [(1, 10), (2, 20)], "{seen:?}");
        assert_eq!(t.join().unwrap(), None);
        assert_final(&map, &[(1, 10), (2, 20)]);
    });
}

/// The spread-out dirty copy (more entries than one locked operation copies: under loom the
/// budget is 2, so the first new key copies 4 of the 6) racing lock-free
/// revivals of deleted entries it has or has not reached yet, and misses that would promote.
#[test]
fn incremental_copy_races_revive() {
    loom::model(|| {
        // All 6 in the snapshot, no dirty map (built directly: few atomic stores, which keeps
        // loom's per-atomic history short).
        let map: Arc<Map> = Arc::new((0..6).map(|k| (k, u32::from(k))).collect());
        map.delete(&0);
        map.delete(&5); // nil entries: the copy expunges them unless revived first
        let m = map.clone();
        let t = thread::spawn(move || {
            m.store(100, 100); // starts the copy (copies some entries)
            m.load(&200) // a miss: copies more, may not promote before the copy is done
        });
        map.store(5, 55); // lock-free revive, or the mutex if already expunged
        map.store(0, 10);
        assert_eq!(t.join().unwrap(), None);
        let mut expected: Vec<(u8, u32)> = (1..5).map(|k| (k, u32::from(k))).collect();
        expected.extend([(0, 10), (5, 55), (100, 100)]);
        expected.sort();
        assert_final(&map, &expected);
    });
}
