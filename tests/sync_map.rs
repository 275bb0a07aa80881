//! `SyncMap` against a sequential reference: model-based property tests over every method, plus
//! behaviours a model cannot show (promotion cycle in `stats`, nested calls inside `range`).

mod sync_map_common;

use std::collections::hash_map::RandomState;
use std::collections::HashMap;

use gomap::SyncMap;
use proptest::prelude::*;
use sync_map_common::{Colliding, MapInterface, RwLockMap};

#[derive(Debug, Clone)]
enum Op {
    Load(u8),
    Store(u8, u16),
    LoadOrStore(u8, u16),
    LoadOrStoreWith(u8, u16),
    LoadAndDelete(u8),
    Delete(u8),
    Swap(u8, u16),
    CompareAndSwap(u8, u16, u16),
    CompareAndDelete(u8, u16),
    Range(usize),
    Clear,
    Len,
    Clone,
}

fn op() -> impl Strategy<Value = Op> {
    // Few keys and values, so that CAS hits, deletes revive keys, and misses promote often.
    let k = 0u8..12;
    let v = 0u16..4;
    prop_oneof![
        6 => k.clone().prop_map(Op::Load),
        4 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::Store(k, v)),
        2 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::LoadOrStore(k, v)),
        2 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::LoadOrStoreWith(k, v)),
        2 => k.clone().prop_map(Op::LoadAndDelete),
        2 => k.clone().prop_map(Op::Delete),
        2 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::Swap(k, v)),
        2 => (k.clone(), v.clone(), v.clone()).prop_map(|(k, o, n)| Op::CompareAndSwap(k, o, n)),
        2 => (k.clone(), v.clone()).prop_map(|(k, o)| Op::CompareAndDelete(k, o)),
        1 => (0usize..20).prop_map(Op::Range),
        1 => Just(Op::Clear),
        1 => Just(Op::Len),
        1 => Just(Op::Clone),
    ]
}

/// What one operation returned, comparable across implementations.
#[derive(Debug, PartialEq)]
enum Out {
    Value(Option<u16>),
    Pair(u16, bool),
    Bool(bool),
    Len(usize),
    Computed(u16, bool, bool),
    Pairs(Vec<(u8, u16)>),
    Unit,
}

fn apply(map: &dyn MapInterface<u8, u16>, op: &Op) -> Out {
    match *op {
        Op::Load(k) => Out::Value(map.load(&k)),
        Op::Store(k, v) => {
            map.store(k, v);
            Out::Unit
        }
        Op::LoadOrStore(k, v) => {
            let (v, loaded) = map.load_or_store(k, v);
            Out::Pair(v, loaded)
        }
        Op::LoadOrStoreWith(k, v) => {
            let mut called = false;
            let (v, loaded) = map.load_or_store_with(k, &mut || {
                assert!(!called, "f called twice");
                called = true;
                v
            });
            Out::Computed(v, loaded, called)
        }
        Op::Clone => {
            let mut pairs = map.clone_pairs();
            pairs.sort();
            Out::Pairs(pairs)
        }
        Op::LoadAndDelete(k) => Out::Value(map.load_and_delete(&k)),
        Op::Delete(k) => Out::Bool(map.delete(&k)),
        Op::Swap(k, v) => Out::Value(map.swap(k, v)),
        Op::CompareAndSwap(k, o, n) => Out::Bool(map.compare_and_swap(&k, &o, n)),
        Op::CompareAndDelete(k, o) => Out::Bool(map.compare_and_delete(&k, &o)),
        // Which pairs a partial range sees is unspecified: compare only how many.
        Op::Range(limit) => Out::Len(map.range_collect(limit).len()),
        Op::Clear => {
            map.clear();
            Out::Unit
        }
        Op::Len => Out::Len(map.len()),
    }
}

fn contents(map: &dyn MapInterface<u8, u16>) -> HashMap<u8, u16> {
    let all = map.range_collect(usize::MAX);
    let n = all.len();
    let m: HashMap<_, _> = all.into_iter().collect();
    assert_eq!(m.len(), n, "range visited a key twice");
    m
}

fn check_against_reference(map: &dyn MapInterface<u8, u16>, ops: &[Op]) {
    let reference = RwLockMap::default();
    for (i, op) in ops.iter().enumerate() {
        let expected = apply(&reference, op);
        let got = apply(map, op);
        assert_eq!(got, expected, "op #{i} {op:?}");
        map.check();
        assert_eq!(map.len(), reference.len(), "len after op #{i} {op:?}");
    }
    assert_eq!(contents(map), contents(&reference));
}

proptest! {
    // 512 cases unless `PROPTEST_CASES` says otherwise (CI's valgrind and Miri steps run fewer;
    // proptest itself reads the variable only into its default config).
    #![proptest_config(ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            ProptestConfig::default().cases
        } else {
            512
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn model_matches_reference(ops in proptest::collection::vec(op(), 1..200)) {
        check_against_reference(&SyncMap::<u8, u16>::new(), &ops);
    }

    #[test]
    fn model_matches_reference_with_colliding_hasher(ops in proptest::collection::vec(op(), 1..200)) {
        check_against_reference(&SyncMap::<u8, u16, Colliding>::with_hasher(Colliding), &ops);
    }

    #[test]
    fn reference_checks_itself(ops in proptest::collection::vec(op(), 1..50)) {
        check_against_reference(&RwLockMap::<u8, u16>::default(), &ops);
    }

    #[test]
    fn from_iter_and_extend_match_reference(pairs in proptest::collection::vec((0u8..20, 0u16..9), 0..40)) {
        let map: SyncMap<u8, u16> = pairs.iter().copied().collect();
        let reference: HashMap<u8, u16> = pairs.iter().copied().collect();
        map.check_invariants();
        prop_assert_eq!(contents(&map), reference.clone());
        let mut extended = SyncMap::<u8, u16>::new();
        extended.extend(pairs.iter().copied());
        extended.check_invariants();
        prop_assert_eq!(contents(&extended), reference);
    }
}

#[test]
fn promotion_cycle_is_visible_in_stats() {
    let map = SyncMap::new();
    for k in 0..4 {
        map.store(k, k);
    }
    let s = map.stats();
    assert_eq!((s.read_len, s.dirty_len, s.amended), (0, Some(4), true));
    // Every load misses until misses >= len(dirty) = 4, then dirty is promoted.
    for k in 0..3 {
        assert_eq!(map.load(&k), Some(k));
        assert_eq!(map.stats().misses, k + 1);
    }
    map.load(&3);
    let s = map.stats();
    assert_eq!(
        (s.read_len, s.dirty_len, s.amended, s.misses, s.promotions),
        (4, None, false, 0, 1)
    );
    // Now loads are lock-free and count nothing.
    map.load(&0);
    map.load(&99);
    assert_eq!(map.stats().misses, 0);
    // Deleting then adding a new key expunges the deleted entry while copying.
    map.delete(&0);
    map.store(10, 10);
    let s = map.stats();
    assert_eq!((s.read_len, s.dirty_len, s.amended), (4, Some(4), true));
    map.check_invariants();
    // Storing the expunged key again un-expunges it into dirty.
    map.store(0, 0);
    assert_eq!(map.stats().dirty_len, Some(5));
    map.check_invariants();
    assert_eq!(map.len(), 5);
}

#[test]
fn range_callback_may_call_every_method_including_nested_range() {
    let map: SyncMap<u32, u32> = (0..64).map(|i| (i, i)).collect();
    map.store(1000, 1000); // leave the snapshot amended, so range promotes
    let mut visited = 0;
    map.range(|&k, &v| {
        visited += 1;
        assert_eq!(map.load(&k), Some(v));
        map.store(k + 10_000, v); // new keys: dirty map, mutex
        map.swap(k, v + 1);
        map.compare_and_swap(&k, &(v + 1), v);
        map.load_or_store(k + 20_000, 0);
        map.compare_and_delete(&(k + 20_000), &0);
        map.delete(&(k + 10_000));
        let mut inner = 0;
        map.range(|_, _| {
            inner += 1;
            inner < 5
        });
        assert_eq!(inner, 5);
        let _ = map.stats();
        let _ = map.len();
        let _ = format!("{:?}", map.pin().get(&k));
        true
    });
    assert_eq!(visited, 65);
    map.check_invariants();
    assert_eq!(map.len(), 65);
    map.range(|_, _| {
        map.clear();
        true
    });
    assert!(map.is_empty());
    map.check_invariants();
}

#[test]
fn borrowed_lookups_and_non_clone_values() {
    struct NotClone(String);
    let map: SyncMap<String, NotClone> = SyncMap::new();
    map.store("a".to_string(), NotClone("x".into()));
    assert!(map.contains_key("a"));
    assert_eq!(map.pin().get("a").map(|v| v.0.as_str()), Some("x"));
    assert!(map.delete("a"));
    assert!(map.pin().get("a").is_none());
}

#[test]
fn debug_and_default() {
    let map: SyncMap<u8, &str, RandomState> = SyncMap::default();
    assert_eq!(format!("{map:?}"), "{}");
    map.store(1, "one");
    assert_eq!(format!("{map:?}"), r#"{1: "one"}"#);
    assert_eq!(format!("{:?}", map.pin()), r#"{1: "one"}"#);
}

#[test]
fn send_and_sync_when_sound() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SyncMap<String, Vec<u8>>>();
    send_sync::<SyncMap<u64, std::sync::Arc<u64>>>();
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let map: SyncMap<String, Vec<u32>> = SyncMap::new();
    map.store("a".into(), vec![1, 2]);
    map.store("b".into(), vec![]);
    let json = serde_json::to_string(&map).unwrap();
    let back: SyncMap<String, Vec<u32>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back.load("a"), Some(vec![1, 2]));
    back.check_invariants();
}

#[test]
fn dirty_copy_is_spread_over_locked_operations() {
    let n = 1000u32;
    let map: SyncMap<u32, u32> = (0..n).map(|k| (k, k)).collect(); // snapshot, no dirty map
    for k in (0..n).step_by(10) {
        map.delete(&k); // lock-free: nil entries, to be expunged by the copy
    }
    // Go would copy all 1000 entries in this one store; here it copies a handful.
    map.store(n, n);
    let s = map.stats();
    assert!(s.copying && s.amended, "{s:?}");
    let first = s.dirty_len.unwrap();
    assert!(first <= 16, "the first new key copied {first} entries");
    map.check_invariants();
    // Every locked operation advances the copy by a bounded amount.
    let mut k = n + 1;
    let mut last = first;
    while map.stats().copying {
        map.store(k, k);
        let now = map.stats().dirty_len.unwrap();
        assert!(now - last <= 16, "one store copied {} entries", now - last);
        last = now;
        k += 1;
        if k.is_multiple_of(50) {
            map.check_invariants();
        }
    }
    map.check_invariants();
    // Nothing was lost, deleted keys stayed deleted, and the next misses promote as usual.
    assert_eq!(map.len() as u32, n - n / 10 + (k - n));
    for key in 0..k {
        assert_eq!(map.load(&key), (key >= n || key % 10 != 0).then_some(key));
    }
    // Loads of the new keys are misses; after len(dirty) of them the dirty map is promoted.
    for _ in 0..2 * k {
        if map.stats().promotions == 1 {
            break;
        }
        map.load(&n);
    }
    let s = map.stats();
    assert_eq!(
        (s.promotions, s.dirty_len, s.read_len),
        (1, None, k as usize - n as usize / 10),
        "{s:?}"
    );
    map.check_invariants();
}

#[test]
fn promotion_waits_for_the_copy() {
    let map: SyncMap<u32, u32> = (0..400).map(|k| (k, k)).collect();
    // Mostly deleted: the copy expunges these instead of inserting them, so len(dirty) grows
    // slowly and the misses below reach it long before the copy has walked the snapshot.
    for k in 0..400 {
        if k % 50 != 0 {
            map.delete(&k);
        }
    }
    map.store(1000, 1000); // starts the copy
                           // A promotion now would make a partial dirty map the snapshot and lose the live keys the
                           // copy has not reached: it must wait until the copy is complete.
    for i in 0..400 {
        map.load(&(5000 + i)); // misses
        if i % 8 == 0 {
            map.check_invariants();
        }
        for k in (0..400).step_by(50).chain([1000]) {
            assert_eq!(map.load(&k), Some(k), "key {k} after {i} misses");
        }
    }
    let s = map.stats();
    assert!(!s.copying && s.promotions >= 1, "{s:?}");
    assert_eq!(map.len(), 9);
}

/// Keys that leave a gomap map from `new()` in the middle of a growth: past 6.5 entries per
/// bucket of 2^10 buckets, and 100 inserts into the sweep of those 1,024 buckets.
const MID_GROWTH: u32 = 6656 + 100;

#[test]
fn mid_growth_is_where_the_tests_below_start() {
    let mut plain = gomap::HashMap::new();
    for k in 0..MID_GROWTH {
        plain.insert(k, k);
    }
    assert!(plain.stats().growing, "{:?}", plain.stats());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "thousands of keys and loads with invariant walks: minutes under Miri"
)]
fn a_promotion_waits_for_the_dirty_maps_growth() {
    // A snapshot is never written, so a growth it was published with would never end: every
    // lookup would check the old array too, for the snapshot's whole life.
    let map: SyncMap<u32, u32> = SyncMap::new();
    for k in 0..MID_GROWTH {
        map.store(k, k); // all into the dirty map, growing as it fills
    }
    assert!(map.stats().dirty_growing, "{:?}", map.stats());
    // Loads miss the snapshot and count; at len(dirty) misses the dirty map is promoted, and
    // the locked operations before have advanced its growth to the end.
    for k in 0..2 * MID_GROWTH {
        assert_eq!(map.load(&(k % MID_GROWTH)), Some(k % MID_GROWTH));
        if k % 500 == 0 {
            map.check_invariants(); // includes: the snapshot is not growing
        }
        if map.stats().promotions == 1 {
            break;
        }
    }
    let s = map.stats();
    assert_eq!(
        (s.promotions, s.read_len),
        (1, MID_GROWTH as usize),
        "{s:?}"
    );
    assert!(!s.dirty_growing && s.dirty_len.is_none(), "{s:?}");
    map.check_invariants();
}

#[test]
fn range_promotes_a_growing_dirty_map_grown() {
    let map: SyncMap<u32, u32> = SyncMap::new();
    for k in 0..MID_GROWTH {
        map.store(k, k);
    }
    let mut seen = 0;
    map.range(|_, _| {
        seen += 1;
        true
    });
    assert_eq!(seen, MID_GROWTH);
    assert_eq!(map.stats().promotions, 1);
    map.check_invariants();
}

#[test]
fn first_snapshots_built_whole_are_not_growing() {
    let collected: SyncMap<u32, u32> = (0..MID_GROWTH).map(|k| (k, k)).collect();
    collected.check_invariants();
    collected.clone().check_invariants();
}

#[test]
#[cfg_attr(miri, ignore = "thousands of keys and loads: minutes under Miri")]
fn a_growth_that_starts_just_before_a_promotion_delays_it() {
    let map: SyncMap<u32, u32> = SyncMap::new();
    let full = 6656; // 6.5 entries per bucket of 2^10 buckets: one more key starts a growth
    for k in 0..full {
        map.store(k, k);
    }
    for k in 0..full - 1 {
        map.load(&k); // misses: one short of len(dirty)
    }
    let s = map.stats();
    assert_eq!((s.promotions, s.misses), (0, full as usize - 1), "{s:?}");
    map.store(full, full); // starts the dirty map's growth; len(dirty) = misses + 2
    assert!(map.stats().dirty_growing, "{:?}", map.stats());
    for k in 0..2 * full {
        map.load(&(k % full));
        map.check_invariants(); // includes: the snapshot is not growing
        if map.stats().promotions == 1 {
            // Go would have promoted at the second of these misses.
            assert!(k > 2, "promoted after {} misses", k + 1);
            return;
        }
    }
    panic!("no promotion: {:?}", map.stats());
}
