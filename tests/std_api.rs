//! The parts of std's `HashMap` / `HashSet` API that go beyond the everyday calls: fallible
//! reservation, `extract_if`, `get_disjoint_mut`, and the thread-safety of the iterators.
//! Their ordinary paths also run in the model test (tests/model.rs); these are the edges.

mod common;

use std::collections::HashSet as StdSet;
use std::hash::BuildHasher;
use std::panic::{catch_unwind, AssertUnwindSafe};

use gomap::{HashMap, HashSet, TryReserveError};

fn filled(n: u64) -> HashMap<u64, u64> {
    (0..n).map(|k| (k, k * 10)).collect()
}

fn assert_holds(map: &HashMap<u64, u64>, n: u64) {
    map.check_invariants().unwrap();
    assert_eq!(map.len() as u64, n);
    assert!((0..n).all(|k| map.get(&k) == Some(&(k * 10))));
}

#[test]
fn try_reserve_reports_a_capacity_overflow_and_changes_nothing() {
    let mut map = filled(100);
    let b = map.stats().b;
    for additional in [usize::MAX, usize::MAX - 100, usize::MAX / 2, 1 << 62] {
        assert_eq!(
            map.try_reserve(additional),
            Err(TryReserveError::CapacityOverflow),
            "{additional}"
        );
        assert_eq!(map.stats().b, b);
        assert_holds(&map, 100);
    }
    let mut set: HashSet<u8> = (0..10).collect();
    assert_eq!(
        set.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(set.len(), 10);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri backs the 16 TiB request with real memory (the host kills it)"
)]
fn try_reserve_reports_an_allocation_failure_and_changes_nothing() {
    // 2^40 entries need tens of terabytes: a valid layout that no allocator here grants.
    let mut map = filled(100);
    let err = map.try_reserve(1 << 40).unwrap_err();
    match &err {
        TryReserveError::AllocError { layout } => assert!(layout.size() > 1 << 44),
        other => panic!("expected an allocation error, got {other:?}"),
    }
    assert!(err.to_string().contains("memory allocator"), "{err}");
    assert_holds(&map, 100);
    // The map still grows and reserves normally afterwards.
    map.try_reserve(10_000).unwrap();
    assert!(map.capacity() >= 10_100);
    assert_holds(&map, 100);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri backs the 16 TiB request with real memory (the host kills it)"
)]
fn try_reserve_in_the_middle_of_a_growth_finishes_it() {
    let mut map = HashMap::new();
    let mut n = 0u64;
    while !map.stats().growing {
        map.insert(n, n * 10);
        n += 1;
    }
    assert!(map.try_reserve(1 << 40).is_err());
    assert!(map.stats().growing, "a failed reserve moves nothing");
    assert_holds(&map, n);
    map.try_reserve(1000).unwrap();
    assert!(!map.stats().growing);
    assert_holds(&map, n);
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn reserve_past_the_address_space_panics_with_capacity_overflow() {
    // Before `b_for_capacity` had an upper bound, this looped forever in release builds
    // (the shift wrapped) and overflowed in debug builds.
    filled(1).reserve(usize::MAX - 1);
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn with_capacity_past_the_address_space_panics_with_capacity_overflow() {
    let _ = HashMap::<u64, u64>::with_capacity(usize::MAX);
}

#[test]
fn shrink_to_a_capacity_beyond_any_array_shrinks_nothing() {
    let mut map = filled(1000);
    let b = map.stats().b;
    map.shrink_to(usize::MAX);
    assert_eq!(map.stats().b, b);
    assert_holds(&map, 1000);
}

#[test]
fn extract_if_dropped_early_keeps_what_it_did_not_reach() {
    let mut map = filled(1000);
    let taken: Vec<_> = map.extract_if(|_, _| true).take(10).collect();
    assert_eq!(taken.len(), 10);
    assert_eq!(map.len(), 990);
    for (k, v) in &taken {
        assert_eq!(*v, k * 10);
        assert!(!map.contains_key(k));
    }
    map.check_invariants().unwrap();
    // An unconsumed one removes nothing.
    drop(map.extract_if(|_, _| true));
    assert_eq!(map.len(), 990);
}

#[test]
fn extract_if_sees_every_entry_once_and_may_change_the_kept_ones() {
    let mut map = filled(5000);
    let mut visited = 0;
    let odd: HashSet<u64> = map
        .extract_if(|k, v| {
            visited += 1;
            *v += 1;
            k % 2 == 1
        })
        .map(|(k, v)| {
            assert_eq!(v, k * 10 + 1);
            k
        })
        .collect();
    assert_eq!(visited, 5000);
    assert_eq!(odd.len(), 2500);
    assert!(map.iter().all(|(k, v)| k % 2 == 0 && *v == k * 10 + 1));
    map.check_invariants().unwrap();
}

#[test]
fn extract_if_that_empties_a_map_starts_a_shrink() {
    // Smaller under Miri (its interpreter is some 10^4 times slower): 4 kept of 4,000 is also
    // far below the shrink's trigger (1/16 of the load factor).
    let (n, kept) = if cfg!(miri) {
        (4_000, 4)
    } else {
        (100_000, 100)
    };
    let mut map = filled(n);
    let b = map.stats().b;
    assert_eq!(map.extract_if(|k, _| *k >= kept).count() as u64, n - kept);
    let stats = map.stats();
    assert!(stats.growing && stats.b < b, "{stats:?}");
    assert_holds(&map, kept);
}

#[test]
fn set_extract_if_yields_the_matching_elements() {
    let mut set: HashSet<u32> = (0..100).collect();
    let mut small: Vec<_> = set.extract_if(|x| *x < 5).collect();
    small.sort();
    assert_eq!(small, [0, 1, 2, 3, 4]);
    assert_eq!(set.len(), 95);
    assert!(!set.contains(&3) && set.contains(&5));
}

#[test]
fn get_disjoint_mut_gives_one_reference_per_present_key() {
    let mut map = filled(100);
    let [a, b, missing, c] = map.get_disjoint_mut([&1, &2, &1000, &99]);
    assert!(missing.is_none());
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    std::mem::swap(a, c);
    *b += 1;
    assert_eq!((map[&1], map[&2], map[&99]), (990, 21, 10));
    // An absent key may repeat: both answers are `None`, nothing aliases.
    assert_eq!(map.get_disjoint_mut([&500, &500]), [None, None]);
    let empty: [Option<&mut u64>; 0] = map.get_disjoint_mut([]);
    assert!(empty.is_empty());
}

#[test]
fn get_disjoint_mut_panics_on_a_repeated_present_key_and_changes_nothing() {
    let mut map = filled(100);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = map.get_disjoint_mut([&1, &2, &1]);
    }));
    let message = *r.unwrap_err().downcast::<&str>().unwrap();
    assert_eq!(message, "duplicate keys found");
    assert_holds(&map, 100);
}

fn sorted<'a>(set: impl IntoIterator<Item = &'a u64>) -> Vec<u64> {
    let mut v: Vec<u64> = set.into_iter().copied().collect();
    v.sort_unstable();
    v
}

/// Which of `|`, `&`, `^`, `-` give another result than std's, for every ordered pair of
/// sets: empty, overlapping, nested, disjoint, equal, and one held mid-growth (whose elements
/// sit in two arrays).
fn set_operators_unlike_std<S: BuildHasher + Default>() -> Vec<String> {
    let mut growing: HashSet<u64, S> = HashSet::with_hasher(S::default());
    let mut k = 0;
    while !(growing.stats().growing && growing.len() > 50) {
        growing.insert(k);
        k += 7;
    }
    let sets: Vec<HashSet<u64, S>> = vec![
        HashSet::with_hasher(S::default()),
        (0..10).collect(),
        (5..15).collect(),
        (10..12).collect(),
        (0..10).collect(),
        growing,
    ];
    let mut unlike = Vec::new();
    for (i, a) in sets.iter().enumerate() {
        for (j, b) in sets.iter().enumerate() {
            let (sa, sb): (StdSet<u64>, StdSet<u64>) =
                (a.iter().copied().collect(), b.iter().copied().collect());
            let ours = [
                sorted(&(a | b)),
                sorted(&(a & b)),
                sorted(&(a ^ b)),
                sorted(&(a - b)),
            ];
            let std_s = [
                sorted(&(&sa | &sb)),
                sorted(&(&sa & &sb)),
                sorted(&(&sa ^ &sb)),
                sorted(&(&sa - &sb)),
            ];
            for (op, (o, s)) in ["|", "&", "^", "-"].iter().zip(ours.iter().zip(&std_s)) {
                if o != s {
                    unlike.push(format!("set {i} {op} set {j}"));
                }
            }
        }
    }
    unlike
}

#[test]
fn set_operators_give_std_s_results() {
    // They are built on `union`, `intersection`, `symmetric_difference` and `difference`; a
    // mix-up there would compile, as all four return a set of the same type.
    assert_eq!(
        set_operators_unlike_std::<gomap::DefaultHashBuilder>(),
        [] as [String; 0]
    );
    assert_eq!(
        set_operators_unlike_std::<common::Colliding>(),
        [] as [String; 0]
    );
}

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn iterators_cross_threads_as_std_s_do() {
    // These are compile-time checks: the test fails to build if a bound is missing.
    type M = HashMap<String, Vec<u8>>;
    assert_send::<gomap::hash_map::Iter<'_, String, Vec<u8>>>();
    assert_sync::<gomap::hash_map::Iter<'_, String, Vec<u8>>>();
    assert_send::<gomap::hash_map::IterMut<'_, String, Vec<u8>>>();
    assert_send::<gomap::hash_map::IntoIter<String, Vec<u8>>>();
    assert_sync::<gomap::hash_map::IntoIter<String, Vec<u8>>>();
    assert_send::<gomap::hash_map::Drain<'_, String, Vec<u8>>>();
    assert_sync::<gomap::hash_map::Drain<'_, String, Vec<u8>>>();
    assert_send::<gomap::hash_map::IntoKeys<String, Vec<u8>>>();
    assert_send::<gomap::hash_set::IntoIter<String>>();
    assert_send::<gomap::hash_set::Drain<'_, String>>();
    assert_send::<gomap::hash_map::ExtractIf<'_, String, Vec<u8>, fn(&String, &mut Vec<u8>) -> bool>>(
    );
    // And they work there: an owning iterator drained on another thread.
    let map: M = (0..100).map(|i| (i.to_string(), vec![i as u8])).collect();
    let it = map.into_iter();
    let total = std::thread::spawn(move || it.map(|(_, v)| v[0] as u32).sum::<u32>())
        .join()
        .unwrap();
    assert_eq!(total, (0..100).sum());
}
