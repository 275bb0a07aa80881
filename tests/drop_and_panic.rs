//! Drop accounting (every key and value dropped exactly once, through every path) and panic
//! safety (a panicking `Hash`, `Eq`, `Clone`, `Drop` or closure leaves the map consistent and
//! usable, and drops nothing twice).

use std::cell::{Cell, RefCell};
use std::collections::HashSet as StdSet;
use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

use gomap::hash_map::Entry;
use gomap::HashMap;

thread_local! {
    /// Ids of the live tracked objects of this test thread.
    static LIVE: RefCell<StdSet<u64>> = RefCell::new(StdSet::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    /// Panic in `Hash` once this many more hashes have run (0 = never).
    static HASH_BOMB: Cell<u64> = const { Cell::new(0) };
    static EQ_BOMB: Cell<u64> = const { Cell::new(0) };
    static CLONE_BOMB: Cell<u64> = const { Cell::new(0) };
    static DROP_BOMB: Cell<u64> = const { Cell::new(0) };
}

fn tick(bomb: &'static std::thread::LocalKey<Cell<u64>>, what: &str) {
    bomb.with(|b| match b.get() {
        0 => {}
        1 => {
            b.set(0);
            panic!("{what} bomb");
        }
        n => b.set(n - 1),
    });
}

fn live() -> usize {
    LIVE.with(|l| l.borrow().len())
}

/// A key or value that records its life: created in `new`/`clone`, dropped exactly once.
#[derive(Debug)]
struct Tracked {
    key: u64,
    id: u64,
}

impl Tracked {
    fn new(key: u64) -> Self {
        let id = NEXT_ID.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        LIVE.with(|l| assert!(l.borrow_mut().insert(id)));
        Tracked { key, id }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        tick(&CLONE_BOMB, "clone");
        Tracked::new(self.key)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let was_live = LIVE.with(|l| l.borrow_mut().remove(&self.id));
        assert!(was_live, "object {} dropped twice", self.id);
        tick(&DROP_BOMB, "drop");
    }
}

impl Hash for Tracked {
    fn hash<H: Hasher>(&self, state: &mut H) {
        tick(&HASH_BOMB, "hash");
        self.key.hash(state);
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        tick(&EQ_BOMB, "eq");
        self.key == other.key
    }
}
impl Eq for Tracked {}

type Map = HashMap<Tracked, Tracked>;

fn filled(n: u64) -> Map {
    filled_with(n)
}

fn filled_with<S: BuildHasher + Default>(n: u64) -> HashMap<Tracked, Tracked, S> {
    let mut map = HashMap::with_hasher(S::default());
    for k in 0..n {
        map.insert(Tracked::new(k), Tracked::new(k * 10));
    }
    map
}

/// A map in the middle of a growth, with `n` or a few more entries.
fn growing(n: u64) -> Map {
    growing_with(n)
}

fn growing_with<S: BuildHasher + Default>(n: u64) -> HashMap<Tracked, Tracked, S> {
    let mut map = filled_with(n);
    let mut k = n;
    while !map.stats().growing {
        map.insert(Tracked::new(k), Tracked::new(k * 10));
        k += 1;
    }
    map
}

fn assert_consistent<S: BuildHasher>(map: &HashMap<Tracked, Tracked, S>) {
    map.check_invariants().unwrap();
    assert_eq!(map.iter().count(), map.len());
    for (k, v) in map.iter() {
        assert_eq!(v.key, k.key * 10);
        assert_eq!(map.get(k).map(|v| v.key), Some(k.key * 10));
    }
}

#[test]
fn every_path_drops_each_object_exactly_once() {
    // A quarter of the sizes under Miri (its interpreter is some 10^4 times slower).
    let n: u64 = if cfg!(miri) { 125 } else { 500 };
    let live_pairs = |pairs: u64| 2 * pairs as usize;
    {
        let mut map = filled(n);
        assert_eq!(live(), live_pairs(n));
        // Replacing a value hands the old one back; the key passed in is dropped.
        let old = map.insert(Tracked::new(3), Tracked::new(30));
        assert_eq!(old.map(|v| v.key), Some(30));
        assert_eq!(live(), live_pairs(n));
        // remove / remove_entry
        assert!(map.remove(&Tracked::new(4)).is_some());
        assert!(map.remove_entry(&Tracked::new(5)).is_some());
        assert_eq!(live(), live_pairs(n - 2));
        // entry paths
        match map.entry(Tracked::new(6)) {
            Entry::Occupied(e) => drop(e.remove_entry()),
            Entry::Vacant(_) => unreachable!(),
        }
        map.entry(Tracked::new(6))
            .or_insert_with(|| Tracked::new(60));
        assert_eq!(live(), live_pairs(n - 2));
        // retain
        map.retain(|k, _| k.key % 2 == 0);
        assert_eq!(live(), 2 * map.len());
        // extract_if: the yielded pairs are the caller's; a partial walk keeps the rest
        let extracted: Vec<_> = map.extract_if(|k, _| k.key % 4 == 0).take(20).collect();
        assert_eq!(extracted.len(), 20);
        assert_eq!(live(), 2 * map.len() + 40);
        drop(extracted);
        assert_eq!(live(), 2 * map.len());
        // clone, then drop the clone
        let copy = map.clone();
        assert_eq!(live(), 4 * map.len());
        drop(copy);
        // shrink and explicit growth
        map.shrink_to_fit();
        map.reserve(20 * n as usize);
        assert_consistent(&map);
        assert_eq!(live(), 2 * map.len());
        // partially consumed drain drops the rest
        let n = map.len();
        let some: Vec<_> = map.drain().take(10).collect();
        assert!(map.is_empty());
        assert_eq!(live(), 20);
        drop(some);
        assert_eq!(live(), 0);
        let _ = n;
    }
    {
        // Partially consumed into_iter, in the middle of a growth.
        let map = growing(2 * n);
        let mut it = map.into_iter();
        let first: Vec<_> = it.by_ref().take(100).collect();
        drop(it);
        assert_eq!(live(), 200);
        drop(first);
        assert_eq!(live(), 0);
    }
    {
        // A leaked drain leaves the map with the entries not yet yielded.
        let mut map = growing(300);
        let total = map.len();
        let mut drain = map.drain();
        let taken: Vec<_> = drain.by_ref().take(7).collect();
        std::mem::forget(drain);
        assert_eq!(map.len(), total - 7);
        assert_consistent(&map);
        drop(taken);
        drop(map);
        assert_eq!(live(), 0);
    }
    {
        // Clear and drop in the middle of a growth, and with long chains.
        let mut map = growing(4 * n);
        map.clear();
        assert_eq!(live(), 0);
        assert!(!map.stats().growing);
        for k in 0..100 {
            map.insert(Tracked::new(k), Tracked::new(k * 10));
        }
        drop(map);
        assert_eq!(live(), 0);
    }
}

#[test]
fn hash_panic_in_the_middle_of_an_evacuation_changes_nothing() {
    // A fixed seed: with a random one, the key's old bucket sometimes holds fewer entries
    // than the bomb's count, is evacuated whole (legitimately) before the bomb goes off in
    // the next bucket, and the "nothing moved" check below would not apply.
    // A tenth of the sizes under Miri (its interpreter is some 10^4 times slower).
    let n: u64 = if cfg!(miri) { 300 } else { 3000 };
    let mut map: HashMap<Tracked, Tracked, foldhash::fast::FixedState> = growing_with(n);
    let before = map.stats();
    let len = map.len();
    // The insert hashes its own key first, then evacuation hashes old keys: blow up inside
    // the evacuation, after a few keys of the chain were hashed.
    HASH_BOMB.with(|b| b.set(4));
    let key = Tracked::new(1_000_000);
    let result = catch_unwind(AssertUnwindSafe(|| {
        map.insert(key, Tracked::new(10_000_000));
    }));
    assert!(result.is_err(), "the bomb must have gone off");
    HASH_BOMB.with(|b| b.set(0));
    assert_eq!(map.len(), len);
    assert_eq!(
        map.stats().evacuated,
        before.evacuated,
        "nothing half-evacuated"
    );
    assert_consistent(&map);
    // The map is usable: writes resume the growth and finish it.
    for k in 5000..5000 + 4 * n / 3 {
        map.insert(Tracked::new(k), Tracked::new(k * 10));
    }
    map.finish_growth();
    assert_consistent(&map);
    drop(map);
    assert_eq!(live(), 0);
}

#[test]
fn eq_panic_during_lookup_and_insert_leaves_the_map_intact() {
    let mut map = growing(500);
    let len = map.len();
    for bomb in 1..4 {
        EQ_BOMB.with(|b| b.set(bomb));
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.insert(Tracked::new(7), Tracked::new(70));
        }));
        EQ_BOMB.with(|b| b.set(0));
        if r.is_ok() {
            continue;
        }
        assert_eq!(map.len(), len);
        assert_consistent(&map);
    }
    EQ_BOMB.with(|b| b.set(1));
    let r = catch_unwind(AssertUnwindSafe(|| map.remove(&Tracked::new(8))));
    EQ_BOMB.with(|b| b.set(0));
    assert!(r.is_err());
    assert_eq!(map.len(), len);
    assert_consistent(&map);
    drop(map);
    assert_eq!(live(), 0);
}

#[test]
fn clone_panic_frees_the_partial_copy() {
    let map = growing(800);
    let len = map.len();
    for bomb in [1, 2, 77, 500, 1100] {
        CLONE_BOMB.with(|b| b.set(bomb));
        let r = catch_unwind(AssertUnwindSafe(|| map.clone()));
        CLONE_BOMB.with(|b| b.set(0));
        assert!(r.is_err());
        assert_eq!(live(), 2 * len, "partial clone fully dropped (bomb {bomb})");
    }
    assert_consistent(&map);
    drop(map);
    assert_eq!(live(), 0);
}

#[test]
fn drop_panic_in_clear_leaves_a_consistent_map() {
    let mut map = growing(600);
    DROP_BOMB.with(|b| b.set(50));
    let r = catch_unwind(AssertUnwindSafe(|| map.clear()));
    DROP_BOMB.with(|b| b.set(0));
    assert!(r.is_err());
    // Whatever was not dropped is still in the map, counted and findable.
    assert_consistent(&map);
    // The pair whose drop panicked is gone entirely (its value is dropped even when the
    // key's drop panics); everything else is either dropped or still in the map.
    assert_eq!(live(), 2 * map.len());
    map.clear();
    assert!(map.is_empty());
    map.check_invariants().unwrap();
}

#[test]
fn closure_panics_leave_the_map_consistent() {
    let mut map = growing(400);
    let mut seen = 0;
    let r = catch_unwind(AssertUnwindSafe(|| {
        map.retain(|k, _| {
            seen += 1;
            if seen == 100 {
                panic!("retain bomb");
            }
            k.key % 3 != 0
        })
    }));
    assert!(r.is_err());
    assert_consistent(&map);
    let before = map.len();
    let mut seen = 0;
    let r = catch_unwind(AssertUnwindSafe(|| {
        let extract = map.extract_if(|k, _| {
            seen += 1;
            if seen == 50 {
                panic!("extract_if bomb");
            }
            k.key % 3 == 1
        });
        extract.for_each(drop)
    }));
    assert!(r.is_err());
    assert!(
        map.len() < before,
        "the pairs extracted before the panic are gone"
    );
    assert_consistent(&map);
    let len = map.len();
    let r = catch_unwind(AssertUnwindSafe(|| {
        map.entry(Tracked::new(999_999))
            .or_insert_with(|| panic!("default bomb"));
    }));
    assert!(r.is_err());
    assert_eq!(map.len(), len);
    assert_consistent(&map);
    let r = catch_unwind(AssertUnwindSafe(|| {
        map.extend((0..100).map(|k| {
            if k == 50 {
                panic!("iterator bomb");
            }
            (Tracked::new(100_000 + k), Tracked::new((100_000 + k) * 10))
        }))
    }));
    assert!(r.is_err());
    assert_eq!(map.len(), len + 50);
    assert_consistent(&map);
    drop(map);
    assert_eq!(live(), 0);
}

/// Larger than the inline limit: stored boxed in its slot (Go's indirectelem).
#[derive(Clone, Debug, PartialEq)]
struct Big(Tracked, [u64; 20]);

#[test]
fn boxed_values_are_dropped_exactly_once() {
    {
        let mut map: HashMap<u64, Big> = HashMap::new();
        for k in 0..2000 {
            map.insert(k, Big(Tracked::new(k), [k; 20]));
        }
        assert_eq!(live(), 2000);
        assert_eq!(map.remove(&7).map(|b| b.1[0]), Some(7));
        map.retain(|k, _| k % 2 == 0);
        let copy = map.clone();
        assert_eq!(live(), 2 * map.len());
        let rest: Vec<_> = copy.into_iter().take(10).collect();
        assert_eq!(live(), map.len() + 10);
        drop(rest);
        map.clear();
        assert_eq!(live(), 0);
        map.insert(1, Big(Tracked::new(1), [1; 20]));
    }
    assert_eq!(live(), 0);
}

#[path = "common/mod.rs"]
mod common;

#[test]
fn hash_panic_midway_through_a_long_chain_moves_nothing() {
    // hash(k) = k: keys 16i + 15 share bucket 15 of 16 buckets, a 5-bucket chain whose
    // evacuation needs overflow buckets on both the X and Y side.
    let mut map: HashMap<Tracked, Tracked, common::Identity> =
        HashMap::with_capacity_and_hasher(100, common::Identity);
    for i in 0..36u64 {
        map.insert(Tracked::new(i * 16 + 15), Tracked::new((i * 16 + 15) * 10));
    }
    let mut k = 0u64;
    while !map.stats().growing {
        if k % 16 != 15 {
            map.insert(Tracked::new(k), Tracked::new(k * 10));
        }
        k += 1;
    }
    let old = map.layout(|_, _| String::new()).oldbuckets.unwrap();
    assert!(!old[15].retired, "bucket 15 not evacuated yet");
    let nevacuate = map.stats().nevacuate;
    assert!(nevacuate < 15, "the next bucket in order is not bucket 15");
    let in_nevacuate: usize = old[nevacuate]
        .buckets
        .iter()
        .map(|b| b.entries.iter().flatten().count())
        .sum();
    let (len, evacuated) = (map.len(), map.stats().evacuated);
    // An insert into bucket 15 evacuates the bucket at `nevacuate`, then bucket 15 (see
    // `grow_work`): let the first one move and 20 of bucket 15's 36 keys hash, then panic.
    HASH_BOMB.with(|b| b.set(1 + in_nevacuate as u64 + 20));
    let r = catch_unwind(AssertUnwindSafe(|| {
        map.insert(Tracked::new(1600 + 15), Tracked::new(16150));
    }));
    HASH_BOMB.with(|b| b.set(0));
    assert!(r.is_err());
    assert_eq!(map.len(), len);
    // Bucket 15 did not move at all (only the bucket at `nevacuate` did).
    let old = map.layout(|_, _| String::new()).oldbuckets.unwrap();
    assert!(!old[15].retired, "bucket 15 half evacuated");
    let entries_15: usize = old[15]
        .buckets
        .iter()
        .map(|b| b.entries.iter().flatten().count())
        .sum();
    assert_eq!(entries_15, 36);
    assert_eq!(map.stats().evacuated, evacuated + 1);
    map.check_invariants().unwrap();
    for i in 0..36u64 {
        let key = i * 16 + 15;
        assert_eq!(map.get(&Tracked::new(key)).map(|v| v.key), Some(key * 10));
    }
    map.finish_growth();
    map.check_invariants().unwrap();
    drop(map);
    assert_eq!(live(), 0);
}

/// A key larger than the inline limit: stored boxed in its slot (Go's indirectkey), hashed and
/// compared through the box. Hash and equality are the inner `Tracked`'s, bombs included.
#[derive(Clone, Debug)]
struct BigKey(Tracked, [u64; 20]);

impl BigKey {
    fn new(key: u64) -> Self {
        BigKey(Tracked::new(key), [key; 20])
    }
}

impl Hash for BigKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for BigKey {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for BigKey {}

#[test]
fn boxed_keys_are_dropped_exactly_once_and_survive_panics() {
    type BigMap = HashMap<BigKey, Big, foldhash::fast::FixedState>;
    let pair = |k: u64| (BigKey::new(k), Big(Tracked::new(k * 10), [k; 20]));
    let check = |map: &BigMap| {
        map.check_invariants().unwrap();
        for (k, v) in map.iter() {
            assert_eq!((k.1[19], v.0.key, v.1[0]), (k.0.key, k.0.key * 10, k.0.key));
            assert_eq!(map.get(k).map(|v| v.0.key), Some(k.0.key * 10));
        }
        assert_eq!(live(), 2 * map.len(), "one live key and value per entry");
    };
    // A fifth of the size under Miri (its interpreter is some 10^4 times slower).
    let n: u64 = if cfg!(miri) { 120 } else { 600 };
    let mut map = BigMap::default();
    let mut next = 0;
    while next < n || !map.stats().growing {
        let (k, v) = pair(next);
        map.insert(k, v);
        next += 1;
    }
    check(&map);
    // Replacing a value keeps the stored key and drops the one passed in.
    let (k, v) = pair(3);
    assert_eq!(map.insert(k, v).map(|v| v.0.key), Some(30));
    assert_eq!(
        map.remove_entry(&BigKey::new(4)).map(|(k, _)| k.1[0]),
        Some(4)
    );
    match map.entry(BigKey::new(5)) {
        Entry::Occupied(e) => drop(e.remove_entry()),
        Entry::Vacant(_) => unreachable!(),
    }
    check(&map);
    // A panicking `Hash` inside an evacuation (the insert hashes its own key first).
    HASH_BOMB.with(|b| b.set(3));
    let (k, v) = pair(1_000_000);
    let r = catch_unwind(AssertUnwindSafe(|| map.insert(k, v)));
    HASH_BOMB.with(|b| b.set(0));
    assert!(r.is_err(), "the hash bomb must have gone off");
    check(&map);
    // A panicking `Eq` in a lookup through the boxes.
    EQ_BOMB.with(|b| b.set(1));
    let probe = BigKey::new(next - 1);
    let r = catch_unwind(AssertUnwindSafe(|| map.remove(&probe).is_some()));
    EQ_BOMB.with(|b| b.set(0));
    assert!(r.is_err(), "the eq bomb must have gone off");
    drop(probe);
    check(&map);
    // A panicking `Clone` frees the boxes of the partial copy.
    for bomb in [1, 2, 101, 2 * n - 1] {
        CLONE_BOMB.with(|b| b.set(bomb));
        let r = catch_unwind(AssertUnwindSafe(|| map.clone()));
        CLONE_BOMB.with(|b| b.set(0));
        assert!(r.is_err(), "the clone bomb {bomb} must have gone off");
        check(&map);
    }
    let copy = map.clone();
    assert_eq!(copy, map);
    assert_eq!(live(), 4 * map.len());
    drop(copy);
    // A panicking `Drop` in `retain`'s removals leaves every pair dropped or still in the map.
    DROP_BOMB.with(|b| b.set(7));
    let r = catch_unwind(AssertUnwindSafe(|| map.retain(|k, _| k.0.key % 3 != 0)));
    DROP_BOMB.with(|b| b.set(0));
    assert!(r.is_err(), "the drop bomb must have gone off");
    check(&map);
    map.finish_growth();
    map.shrink_to_fit();
    check(&map);
    // Partially consumed owning iterators drop the rest.
    let taken: Vec<_> = map.drain().take(5).collect();
    assert_eq!((map.len(), live()), (0, 10));
    drop(taken);
    for k in 0..n {
        let (k, v) = pair(k);
        map.insert(k, v);
    }
    let mut it = map.into_iter();
    let first: Vec<_> = it.by_ref().take(9).collect();
    drop(it);
    assert_eq!(live(), 18);
    drop(first);
    assert_eq!(live(), 0);
}
