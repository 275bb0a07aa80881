//! The API paths around a growth that are not plain inserts and removes: `extend` into a
//! non-empty map keeps to the bounded work of an insert, and `retain`, `extract_if` and
//! `iter_mut` (bound-free, as std's) finish a growth in progress instead of leaving it to
//! later writes.

use gomap::HashMap;

/// A map holding exactly 6.5 entries per bucket of 2^`b`: the next new key starts a growth.
fn at_growth_threshold(b: u32) -> HashMap<u64, u64> {
    let mut map = HashMap::new();
    for k in 0..(13u64 << b >> 1) {
        map.insert(k, k);
    }
    let stats = map.stats();
    assert!(!stats.growing && stats.b == b as u8, "{stats:?}");
    map
}

/// A map in the middle of a doubling.
fn growing() -> HashMap<u64, u64> {
    let mut map = at_growth_threshold(10);
    let len = map.len() as u64;
    for k in len..len + 100 {
        map.insert(k, k);
    }
    assert!(map.stats().growing);
    map
}

#[test]
fn extend_into_a_full_map_moves_no_more_than_an_insert_would() {
    let mut map = at_growth_threshold(14);
    let before = map.stats().entries_evacuated;
    map.extend([(1 << 40, 0)]);
    let stats = map.stats();
    let moved = stats.entries_evacuated - before;
    // An insert evacuates two old chains (a few buckets each); resizing at once would move
    // all 106,496 entries inside this one call.
    assert!(stats.growing, "the growth goes on incrementally: {stats:?}");
    assert!(moved <= 64, "extend of one pair moved {moved} entries");
    assert_eq!(map.len(), (13 << 14 >> 1) + 1);
    map.check_invariants().unwrap();
}

#[test]
fn extend_into_an_empty_map_sizes_it_once() {
    let mut map: HashMap<u64, u64> = HashMap::new();
    map.extend((0..100_000).map(|k| (k, k)));
    let stats = map.stats();
    assert_eq!(
        stats.entries_evacuated, 0,
        "room was made before the inserts"
    );
    assert!(!stats.growing);
    map.check_invariants().unwrap();
}

#[test]
fn retain_finishes_a_growth_in_progress() {
    let mut map = growing();
    let len = map.len();
    map.retain(|&k, _| k % 2 == 0);
    assert!(!map.stats().growing, "{:?}", map.stats());
    assert_eq!(map.len(), len.div_ceil(2));
    assert!((0..len as u64).all(|k| map.contains_key(&k) == (k % 2 == 0)));
    map.check_invariants().unwrap();
}

#[test]
fn extract_if_finishes_a_growth_in_progress() {
    let mut map = growing();
    let taken = map.extract_if(|&k, _| k < 10).count();
    assert_eq!(taken, 10);
    assert!(!map.stats().growing, "{:?}", map.stats());
    map.check_invariants().unwrap();
}

#[test]
fn iter_mut_finishes_a_growth_in_progress() {
    let mut map = growing();
    map.iter_mut().for_each(|(k, v)| *v = k + 1);
    assert!(!map.stats().growing, "{:?}", map.stats());
    assert!(map.iter().all(|(k, v)| *v == k + 1));
    map.check_invariants().unwrap();
}

#[test]
fn a_map_without_keys_is_not_hashed_to_finish_anything() {
    // `retain` and `iter_mut` need no `Hash` bound: a map that never had an insert has no
    // growth to finish (and no hash function recorded).
    struct NotHash;
    let mut map: HashMap<NotHash, u8> = HashMap::new();
    map.retain(|_, _| true);
    assert_eq!(map.iter_mut().count(), 0);
}
