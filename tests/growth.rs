//! Growth, shrinking, churn, iteration order, and unusual key/value types.

mod common;

use std::collections::HashMap as StdMap;

use gomap::{HashMap, HashSet};

#[test]
fn doubling_starts_past_load_factor_and_completes_incrementally() {
    let mut map = HashMap::new();
    let mut last_b = 0;
    let mut starts = Vec::new();
    for k in 0..50_000u64 {
        let before = map.stats();
        map.insert(k, k);
        let after = map.stats();
        if after.b != before.b {
            // A doubling starts exactly when the insert would exceed 6.5 entries per bucket.
            assert_eq!(after.b, before.b + 1);
            let threshold = if before.b == 0 {
                8
            } else {
                13 * (1usize << before.b) / 2
            };
            assert_eq!(
                before.len, threshold,
                "growth from B={} starts past 6.5/bucket",
                before.b
            );
            starts.push(k);
        }
        if after.growing {
            assert_eq!(after.old_b, Some(after.b - 1));
            assert!(after.evacuated <= 1 << (after.b - 1));
        }
        last_b = after.b;
    }
    assert_eq!(
        last_b, 13,
        "50k entries need 2^13 buckets at 6.5 per bucket"
    );
    assert_eq!(starts.len(), 13);
    map.check_invariants().unwrap();
}

#[test]
fn churn_at_a_fixed_size_keeps_memory_flat() {
    // Insert a new key, remove the oldest: the live set is constant, but deleted slots in
    // overflow buckets are only reused by keys of the same bucket, so overflow buckets pile
    // up until a same-size growth compacts them.
    const SIZE: u64 = 20_000;
    let mut map = HashMap::new();
    for k in 0..SIZE {
        map.insert(k, k);
    }
    map.finish_growth();
    let baseline = map.stats();
    let mut peak = 0;
    for k in SIZE..SIZE + 1_000_000 {
        map.insert(k, k);
        assert_eq!(map.remove(&(k - SIZE)), Some(k - SIZE));
        if k % 4096 == 0 {
            let s = map.stats();
            peak = peak.max(s.memory_bytes);
            assert!(s.b <= baseline.b + 1, "B grew under constant size: {s:?}");
        }
    }
    assert_eq!(map.len() as u64, SIZE);
    map.check_invariants().unwrap();
    // Bounded: at most an old and a new array of the same size plus their overflow.
    assert!(
        peak <= 3 * baseline.memory_bytes,
        "memory grew from {} to {peak} bytes",
        baseline.memory_bytes
    );
}

#[test]
fn same_size_growth_compacts_overflow_chains() {
    // With hash(k) = k, keys that are multiples of 16 all land in bucket 0 of a 16-bucket
    // array: a long chain while the load stays under 6.5. Emptying it and filling bucket 1
    // the same way leaves the first chain's overflow buckets behind, so overflow buckets
    // reach 2^B and the next insert starts a same-size growth that compacts the chains.
    // Capacity 100 pins B = 4: no automatic shrink when bucket 0 is emptied.
    let mut map: HashMap<u64, u64, common::Identity> =
        HashMap::with_capacity_and_hasher(100, common::Identity);
    let keys = |bucket: u64| (0..100u64).map(move |i| i * 16 + bucket);
    keys(0).for_each(|k| {
        map.insert(k, k);
    });
    map.finish_growth();
    assert_eq!(map.stats().b, 4);
    keys(0).for_each(|k| {
        map.remove(&k);
    });
    let mut same_size = None;
    for k in keys(1) {
        map.insert(k, k);
        let s = map.stats();
        if s.growing && s.old_b == Some(s.b) && same_size.is_none() {
            same_size = Some(s);
        }
        map.check_invariants().unwrap();
    }
    let s = same_size.expect("no same-size growth");
    assert_eq!(s.b, 4);
    map.finish_growth();
    let after = map.stats();
    assert_eq!(after.b, 4, "a same-size growth keeps B");
    assert!(
        after.overflow_buckets < 16,
        "chains compacted: {} overflow buckets",
        after.overflow_buckets
    );
    assert!(keys(1).all(|k| map.get(&k) == Some(&k)));
}

/// A map of keys `0..n` (value = key) grown by inserts, growth finished, and its B.
fn grown_map(n: u64) -> (HashMap<u64, u64>, u8) {
    let mut map = HashMap::new();
    for k in 0..n {
        map.insert(k, k);
    }
    map.finish_growth();
    let b = map.stats().b;
    (map, b)
}

#[test]
fn mass_delete_shrinks_incrementally_without_thrashing() {
    let (mut map, big) = grown_map(100_000);
    for k in 0..99_000u64 {
        map.remove(&k);
    }
    // Further writes complete the shrink(s).
    for round in 0..200_000u64 {
        map.insert(1_000_000 + round % 16, round);
        map.remove(&(1_000_000 + round % 16));
    }
    let s = map.stats();
    assert!(s.b < big, "B {} did not shrink from {big}", s.b);
    map.check_invariants().unwrap();
    assert_eq!(map.len(), 1000);
    // At a steady size well inside the bounds (1000 entries, far from both triggers once the
    // shrinks end) insert/remove starts no resize. At the shrink trigger itself: the next test.
    let b = map.stats().b;
    let mut growths = 0;
    let mut was = false;
    for round in 0..10_000u64 {
        map.insert(2_000_000 + round, round);
        map.remove(&(2_000_000 + round));
        let g = map.stats().growing;
        if g && !was {
            growths += 1;
        }
        was = g;
    }
    assert!(growths <= 2, "{growths} resizes at a steady size");
    assert!(map.stats().b <= b);
}

#[test]
fn toggling_a_key_just_below_the_shrink_trigger_shrinks_once_and_never_regrows() {
    // The hysteresis, where it matters: an insert of a new key shrinks once the count before
    // it is below 1/16 of the growth threshold (`SHRINK_DIVISOR`), and the shrink leaves room
    // for twice the entries, so a key inserted and removed there again and again costs one
    // shrink, not a shrink/grow cycle per few writes.
    let (mut map, big) = grown_map(5_000);
    assert_eq!(big, 10);
    let trigger = 13 * (1usize << big) / 2 / 16;
    let toggled = 1u64 << 40;
    for k in trigger as u64..5_000 {
        map.remove(&k);
    }
    // At the trigger itself no shrink starts.
    map.insert(toggled, 0);
    map.remove(&toggled);
    assert!(
        !map.stats().growing && map.stats().b == big,
        "{:?}",
        map.stats()
    );
    // One below it the next insert starts the one shrink.
    map.remove(&(trigger as u64 - 1));
    let mut resizes = Vec::new();
    let mut was_growing = false;
    let mut note_resize = |s: gomap::MapStats| {
        if s.growing && !was_growing {
            resizes.push((s.old_b.unwrap(), s.b));
        }
        was_growing = s.growing;
    };
    for round in 0..10_000u64 {
        map.insert(toggled, round);
        note_resize(map.stats());
        map.remove(&toggled);
        note_resize(map.stats());
    }
    assert!(
        matches!(resizes[..], [(old, new)] if new < old),
        "resizes (old B, new B): {resizes:?}"
    );
    // The shrink left the map room to double before it grows again.
    let s = map.stats();
    assert!(!s.growing && s.load_factor <= 6.5 / 2.0, "{s:?}");
    assert_eq!(map.len(), trigger - 1);
    map.check_invariants().unwrap();
}

#[test]
fn removes_never_start_a_shrink_and_the_next_insert_does() {
    // Under Miri (CI runs this test there for the shrink's unsafe code), a 25th of the size.
    let n: u64 = if cfg!(miri) { 4_000 } else { 100_000 };
    let (mut map, big) = grown_map(n);
    // Down to 1 % and then to nothing: removes pay no shrink, as in hashbrown and std. (A
    // shrink started by a remove would still be sweeping thousands of removes later, so
    // looking every 97 removes, with `stats()` walking every bucket, is enough, and quick
    // enough under valgrind.)
    for k in 0..n {
        map.remove(&k);
        if k % 97 == 0 || k == n - 1 {
            assert!(!map.stats().growing, "remove of {k} started a resize");
        }
    }
    assert_eq!(map.stats().b, big);
    map.check_invariants().unwrap();

    // The first insert starts an incremental shrink. Inserts arriving while its sweep runs
    // (one old bucket each at the slowest, so 2^big of them finish it) never push the new
    // array past the load factor, although no growth can start until the sweep ends.
    map.insert(1 << 40, 0);
    let s = map.stats();
    assert!(s.growing && s.old_b == Some(big) && s.b < big, "{s:?}");
    for k in 1..=1u64 << big {
        map.insert((1 << 40) + k, k);
        if k % 256 == 0 {
            assert!(map.stats().load_factor <= 6.5, "{:?}", map.stats());
        }
    }
    let s = map.stats();
    assert!(!s.growing && s.b < big && s.load_factor <= 6.5, "{s:?}");
    map.check_invariants().unwrap();
    assert!((0..=1u64 << big).all(|k| map.get(&((1 << 40) + k)) == Some(&k)));
}

#[test]
fn with_capacity_and_reserve_are_never_shrunk_below_automatically() {
    let mut reserved = HashMap::new();
    reserved.reserve(10_000);
    for mut map in [HashMap::with_capacity(10_000), reserved] {
        let b = map.stats().b;
        for k in 0..10_000u32 {
            map.insert(k, k);
        }
        for k in 0..10_000u32 {
            map.remove(&k);
        }
        // The insert that would start a shrink in an emptied map (see the test above).
        map.insert(1, 1);
        assert_eq!(map.stats().b, b);
        assert!(!map.stats().growing);
    }
}

#[test]
fn a_map_built_by_collect_or_extend_still_shrinks() {
    // `extend` makes room for its size hint up front, but that is no capacity the caller
    // asked to keep: an emptied map shrinks at its next insert, as any other. Nor is a
    // `reserve` that needed no new array.
    let collected: HashMap<u32, u32> = (0..10_000).map(|k| (k, k)).collect();
    let mut extended = HashMap::new();
    extended.extend((0..10_000u32).map(|k| (k, k)));
    let mut reserved_in_room = extended.clone();
    reserved_in_room.reserve(1);
    for mut map in [collected, extended, reserved_in_room] {
        let b = map.stats().b;
        for k in 0..10_000u32 {
            map.remove(&k);
        }
        map.insert(1, 1);
        let s = map.stats();
        assert!(s.growing && s.b < b, "{s:?}");
    }
}

#[test]
fn iteration_order_is_randomised_per_iterator() {
    let map: HashMap<u32, u32> = (0..64).map(|k| (k, k)).collect();
    let orders: std::collections::HashSet<Vec<u32>> =
        (0..20).map(|_| map.keys().copied().collect()).collect();
    assert!(orders.len() > 1, "20 iterations gave the same order");
}

#[test]
fn iteration_mid_growth_yields_every_entry_once() {
    for hasher_seed in 0..20u64 {
        let mut map = HashMap::with_hasher(foldhash::fast::FixedState::with_seed(hasher_seed));
        let mut k = 0u64;
        while !(map.stats().growing && map.stats().evacuated > 0) {
            map.insert(k, k);
            k += 1;
        }
        let mut seen: Vec<u64> = map.keys().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..k).collect::<Vec<_>>());
        let owned: StdMap<u64, u64> = map.clone().into_iter().collect();
        assert_eq!(owned.len() as u64, k);
    }
}

#[test]
fn fold_visits_what_next_visits_in_the_same_order_on_a_big_array() {
    // Past 512 KiB of buckets `fold` walks main buckets up to four at a time (iter.rs,
    // `fold_streaming`, `STREAMING_MIN_BYTES`), each step ending at a bucket with an overflow
    // chain; `next` walks them one at a time. Same iterator, same order, wherever the walk
    // starts (near the array's end it wraps around).
    let mut map = HashMap::new();
    for k in 0..60_000u64 {
        map.insert(k, k);
    }
    map.finish_growth();
    let s = map.stats();
    assert!(
        s.buckets * 144 >= 512 << 10 && s.overflow_buckets > 0,
        "{s:?}"
    );
    // Every iterator draws its own start bucket and offset: 64 of them cover all 8 offsets
    // with near certainty.
    for skip in [0, 1, 5, 40_000].into_iter().cycle().take(64) {
        let mut it = map.iter();
        it.by_ref().take(skip).for_each(drop);
        let by_next: Vec<u64> = it.clone().map(|(&k, _)| k).collect();
        let by_fold = it.fold(Vec::new(), |mut acc, (&k, _)| {
            acc.push(k);
            acc
        });
        assert_eq!(by_fold, by_next, "after {skip} calls to next");
        assert_eq!(by_fold.len(), 60_000 - skip);
    }
    let mut all = map.keys().fold(Vec::new(), |mut acc, &k| {
        acc.push(k);
        acc
    });
    all.sort_unstable();
    assert!(all.iter().copied().eq(0..60_000));
}

#[test]
fn zero_sized_keys_and_values() {
    // A tenth of the sizes under Miri (its interpreter is some 10^4 times slower).
    let n: u64 = if cfg!(miri) { 1_000 } else { 10_000 };
    let mut map: HashMap<(), ()> = HashMap::new();
    assert_eq!(map.insert((), ()), None);
    assert_eq!(map.insert((), ()), Some(()));
    assert_eq!(map.len(), 1);
    assert_eq!(map.remove(&()), Some(()));
    let mut set: HashSet<u64> = (0..n).collect();
    assert_eq!(set.len() as u64, n);
    set.retain(|k| k % 2 == 0);
    assert_eq!(set.len() as u64, n / 2);
    let mut units: HashMap<u64, ()> = (0..n / 10).map(|k| (k, ())).collect();
    units.check_invariants().unwrap();
    units.clear();
    assert!(units.is_empty());
}

#[test]
fn big_keys_and_values_are_stored_out_of_line() {
    // 256-byte keys and values are boxed in their slots (Go's indirectkey/indirectelem).
    let key = |k: u64| [k; 32];
    // A fifth of the size under Miri (its interpreter is some 10^4 times slower).
    let n: u64 = if cfg!(miri) { 600 } else { 3000 };
    let mut map = HashMap::new();
    for k in 0..n {
        map.insert(key(k), [k * 2; 32]);
    }
    map.check_invariants().unwrap();
    for k in 0..n {
        assert_eq!(map.get(&key(k)).map(|v| v[31]), Some(k * 2));
    }
    for k in (0..n).step_by(2) {
        assert_eq!(map.remove(&key(k)).map(|v| v[0]), Some(k * 2));
    }
    let stats = map.stats();
    assert!(
        stats.memory_bytes >= n as usize / 2 * 512,
        "boxed pairs are counted"
    );
    let copy = map.clone();
    assert_eq!(copy, map);
}

#[test]
fn string_keys_match_std() {
    // A 25th of the sizes under Miri (its interpreter is some 10^4 times slower).
    let (ops, keys): (u32, u32) = if cfg!(miri) {
        (800, 2_000)
    } else {
        (20_000, 50_000)
    };
    let mut map = HashMap::new();
    let mut model = StdMap::new();
    for i in 0..ops {
        let k = format!("key-{:08}", i.wrapping_mul(2_654_435_761) % keys);
        assert_eq!(map.insert(k.clone(), i), model.insert(k, i));
        if i % 3 == 0 {
            let r = format!("key-{:08}", i % keys);
            assert_eq!(map.remove(r.as_str()), model.remove(r.as_str()));
        }
    }
    assert_eq!(map.len(), model.len());
    for (k, v) in &model {
        assert_eq!(map.get(k.as_str()), Some(v));
    }
    map.check_invariants().unwrap();
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let map: HashMap<String, u32> = (0..100).map(|i| (i.to_string(), i)).collect();
    let json = serde_json::to_string(&map).unwrap();
    let back: HashMap<String, u32> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, map);
    let set: HashSet<u32> = (0..100).collect();
    let back: HashSet<u32> = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
    assert_eq!(back, set);
    assert!(serde_json::from_str::<HashMap<String, u32>>("[1]").is_err());
}

#[cfg(feature = "serde")]
#[test]
fn a_deserialized_map_or_set_still_shrinks() {
    // The input's length hint sizes the map up front, as `extend`'s does; like it, that is no
    // capacity the caller asked to keep.
    use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
    use serde::Deserialize;
    let pairs = MapDeserializer::<_, Error>::new((0..1000u32).map(|k| (k, k)));
    let mut map = HashMap::<u32, u32>::deserialize(pairs).unwrap();
    let b = map.stats().b;
    (0..1000).for_each(|k| assert_eq!(map.remove(&k), Some(k)));
    map.insert(1, 1);
    assert!(
        map.stats().growing && map.stats().b < b,
        "{:?}",
        map.stats()
    );
    let elements = SeqDeserializer::<_, Error>::new(0..1000u32);
    let mut set = HashSet::<u32>::deserialize(elements).unwrap();
    let b = set.stats().b;
    (0..1000).for_each(|k| assert!(set.remove(&k)));
    set.insert(1);
    assert!(
        set.stats().growing && set.stats().b < b,
        "{:?}",
        set.stats()
    );
}

/// A map of 16 buckets (B = 4) whose bucket 15 holds `chain_keys` keys (a chain when more than
/// eight). hash(k) = k: keys 16i + 15 share bucket 15, and bit 4 (i's low bit, the X/Y bit of
/// the doubling to 32 buckets) alternates between them.
fn chain_in_bucket_15(chain_keys: u64) -> HashMap<u64, u64, common::Identity> {
    let mut map = HashMap::with_capacity_and_hasher(100, common::Identity);
    for i in 0..chain_keys {
        map.insert(i * 16 + 15, i);
    }
    assert_eq!(map.stats().b, 4, "{chain_keys}: {:?}", map.stats());
    map
}

/// Inserts keys of the other buckets until the doubling starts.
fn grow_without_touching_bucket_15(map: &mut HashMap<u64, u64, common::Identity>) {
    let mut k = 0u64;
    while !map.stats().growing {
        if k % 16 != 15 {
            map.insert(k, k);
        }
        k += 1;
    }
}

/// Chains longer than eight buckets (colliding hashes) take the general evacuation path; the
/// usual ones a short path. Both must split a chain between X and Y by the hash.
#[test]
fn chains_of_every_length_split_by_the_hash_when_doubling() {
    for chain_keys in [9u64, 20, 60, 80, 100] {
        let mut map = chain_in_bucket_15(chain_keys);
        grow_without_touching_bucket_15(&mut map);
        map.check_invariants().unwrap();
        map.finish_growth();
        map.check_invariants().unwrap();
        for i in 0..chain_keys {
            assert_eq!(
                map.get(&(i * 16 + 15)),
                Some(&i),
                "{chain_keys} keys in the chain"
            );
        }
    }
}

/// An evacuated old bucket keeps, in each slot's tophash, where its entry went: evacuatedX,
/// evacuatedY (by the hash's X/Y bit), or evacuatedEmpty. The layout view shows these marks
/// (the tour does), so all three evacuation paths (a lone bucket, a short chain, a long one)
/// must write them right.
#[test]
fn evacuated_buckets_are_marked_with_where_each_entry_went() {
    use gomap::SlotState;
    // A lone bucket (3 and 8 keys), a short chain (13, 60) and a long one (100).
    for chain_keys in [3u64, 8, 13, 60, 100] {
        let mut map = chain_in_bucket_15(chain_keys);
        let before = map.layout(|k, _| k.to_string()).buckets[15].buckets[0].clone();
        grow_without_touching_bucket_15(&mut map);
        // Overwriting a key of the chain evacuates its old bucket first.
        map.insert(15, 0);
        assert!(map.stats().growing, "{chain_keys}: growth ended too soon");
        let old = map.layout(|_, _| String::new()).oldbuckets.unwrap();
        assert!(old[15].retired, "{chain_keys}: old bucket 15 not evacuated");
        let head = &old[15].buckets[0];
        for slot in 0..8 {
            let expected = match &before.entries[slot] {
                None => SlotState::EvacuatedEmpty,
                Some(key) if key.parse::<u64>().unwrap() >> 4 & 1 == 0 => SlotState::EvacuatedX,
                Some(_) => SlotState::EvacuatedY,
            };
            assert_eq!(head.state(slot), expected, "{chain_keys} keys, slot {slot}");
        }
        map.check_invariants().unwrap();
    }
}
