//! Model-based tests: random operation sequences on `gomap::HashMap` checked step by step
//! against `std::collections::HashMap`, with `check_invariants()` after every operation.
//! Run with three hashers (good, few distinct hashes, all colliding) and small key spaces so
//! that collisions, tombstones and overflow chains are the normal case, and in two variants
//! that keep a growth in flight before every step.

mod common;

use std::collections::HashMap as StdMap;
use std::hash::BuildHasher;

use common::{Colliding, FewHashes};
use gomap::hash_map::Entry;
use gomap::{DefaultHashBuilder, HashMap};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Insert(u16, u32),
    Remove(u16),
    Get(u16),
    EntryAdd(u16, u32),
    EntryRemove(u16),
    Retain(u16),
    Clear,
    ShrinkToFit,
    Reserve(u16),
    FinishGrowth,
    Iterate,
    Clone,
    DrainSome(u8),
    ExtractSome(u16, u8),
    GetDisjoint(u16, u16, u32),
    TryReserve(u16),
}

fn op(keys: u16) -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => (0..keys, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        15 => (0..keys).prop_map(Op::Remove),
        10 => (0..keys).prop_map(Op::Get),
        8 => (0..keys, any::<u32>()).prop_map(|(k, v)| Op::EntryAdd(k, v)),
        5 => (0..keys).prop_map(Op::EntryRemove),
        2 => (1..8u16).prop_map(Op::Retain),
        1 => Just(Op::Clear),
        1 => Just(Op::ShrinkToFit),
        1 => (0..300u16).prop_map(Op::Reserve),
        1 => Just(Op::FinishGrowth),
        2 => Just(Op::Iterate),
        1 => Just(Op::Clone),
        1 => (0..20u8).prop_map(Op::DrainSome),
        2 => (1..8u16, any::<u8>()).prop_map(|(m, n)| Op::ExtractSome(m, n)),
        3 => (0..keys, 0..keys, any::<u32>()).prop_map(|(a, b, v)| Op::GetDisjoint(a, b, v)),
        1 => (0..300u16).prop_map(Op::TryReserve),
    ]
}

fn run<S: BuildHasher + Clone>(hasher: S, ops: &[Op]) {
    run_with(hasher, ops, false);
}

/// The first key of the filler inserts of [`run_mid_growth`], past every key space of `op`.
const FILLER_KEYS: u16 = 1000;
/// From this many entries, [`run_mid_growth`] empties the map before it starts a growth.
const MAX_FILLED: usize = 1500;

/// [`run`], with a growth (a doubling, or a shrink after mass removes) in flight before every
/// step: whenever the previous step left none (it finished, or the step was `Clear`,
/// `FinishGrowth`, `Retain`, ...), keys from outside the model's key space are inserted into
/// both maps until one starts. So each operation meets an unevacuated old array.
fn run_mid_growth<S: BuildHasher + Clone>(hasher: S, ops: &[Op]) {
    run_with(hasher, ops, true);
}

fn run_with<S: BuildHasher + Clone>(hasher: S, ops: &[Op], keep_growing: bool) {
    let mut map: HashMap<u16, u32, S> = HashMap::with_hasher(hasher);
    let mut model: StdMap<u16, u32> = StdMap::new();
    let mut filler = FILLER_KEYS;
    for (step, op) in ops.iter().enumerate() {
        while keep_growing && !map.stats().growing {
            if map.len() >= MAX_FILLED {
                // Each step that ends a growth would otherwise cost a doubling of the map to
                // start the next one: start again from a small array (the model alike).
                map.clear();
                map.shrink_to_fit();
                model.clear();
                filler = FILLER_KEYS;
            }
            assert_eq!(map.insert(filler, 0), model.insert(filler, 0));
            filler += 1;
        }
        match *op {
            Op::Insert(k, v) => assert_eq!(map.insert(k, v), model.insert(k, v)),
            Op::Remove(k) => assert_eq!(map.remove(&k), model.remove(&k)),
            Op::Get(k) => {
                assert_eq!(map.get(&k), model.get(&k));
                assert_eq!(map.get_key_value(&k), model.get_key_value(&k));
            }
            Op::EntryAdd(k, v) => {
                let got = *map
                    .entry(k)
                    .and_modify(|x| *x = x.wrapping_add(v))
                    .or_insert(v);
                let want = *model
                    .entry(k)
                    .and_modify(|x| *x = x.wrapping_add(v))
                    .or_insert(v);
                assert_eq!(got, want);
            }
            Op::EntryRemove(k) => {
                let got = match map.entry(k) {
                    Entry::Occupied(e) => Some(e.remove_entry()),
                    Entry::Vacant(_) => None,
                };
                assert_eq!(got, model.remove_entry(&k));
            }
            Op::Retain(m) => {
                map.retain(|k, v| {
                    *v = v.wrapping_add(1);
                    k % m != 0
                });
                model.retain(|k, v| {
                    *v = v.wrapping_add(1);
                    k % m != 0
                });
            }
            Op::Clear => {
                map.clear();
                model.clear();
            }
            Op::ShrinkToFit => {
                map.shrink_to_fit();
                assert!(!map.stats().growing);
            }
            Op::Reserve(n) => {
                map.reserve(n as usize);
                assert!(map.capacity() >= map.len() + n as usize);
            }
            Op::FinishGrowth => {
                map.finish_growth();
                assert!(!map.stats().growing);
            }
            Op::Iterate => {
                let mut seen: Vec<_> = map.iter().map(|(&k, &v)| (k, v)).collect();
                seen.sort();
                let mut want: Vec<_> = model.iter().map(|(&k, &v)| (k, v)).collect();
                want.sort();
                assert_eq!(seen, want, "iteration at step {step}");
                // `fold` (bucket at a time) must agree with `next`, also after a partial walk.
                let sum =
                    |it: &mut dyn Iterator<Item = u64>| it.fold(0u64, |a, v| a.wrapping_add(v));
                let want_sum = sum(&mut model.values().map(|&v| v as u64));
                assert_eq!(
                    map.values().fold(0u64, |a, &v| a.wrapping_add(v as u64)),
                    want_sum
                );
                assert_eq!(map.keys().count(), model.len());
                let mut it = map.iter();
                let first: Vec<_> = it.by_ref().take(3).map(|(&k, &v)| (k, v)).collect();
                let rest = it.fold(Vec::new(), |mut acc, (&k, &v)| {
                    acc.push((k, v));
                    acc
                });
                let mut all = [first, rest].concat();
                all.sort();
                assert_eq!(all, want);
                map.iter_mut().for_each(|(_, v)| *v ^= 1);
                for v in model.values_mut() {
                    *v ^= 1;
                }
            }
            Op::Clone => {
                let copy = map.clone();
                copy.check_invariants().unwrap();
                assert_eq!(copy.stats().b, map.stats().b);
                assert_eq!(copy.stats().growing, map.stats().growing);
                let a: StdMap<_, _> = copy.into_iter().collect();
                assert_eq!(a, model);
            }
            Op::ExtractSome(m, n) => {
                // At most `n` of the keys divisible by `m`: which ones depends on the random
                // order, so the model loses exactly the ones the map gave.
                let taken: Vec<_> = map.extract_if(|k, _| k % m == 0).take(n as usize).collect();
                for (k, v) in taken {
                    assert_eq!(k % m, 0);
                    assert_eq!(model.remove(&k), Some(v), "extracted {k} at step {step}");
                }
                if n == u8::MAX {
                    map.extract_if(|k, _| k % m == 0).for_each(drop);
                    model.retain(|k, _| k % m != 0);
                }
            }
            Op::GetDisjoint(a, b, v) if a != b => {
                let [x, y] = map.get_disjoint_mut([&a, &b]);
                assert_eq!(x.as_deref(), model.get(&a));
                assert_eq!(y.as_deref(), model.get(&b));
                for (value, key) in [(x, a), (y, b)] {
                    if let Some(value) = value {
                        *value = value.wrapping_add(v);
                        model.insert(key, *value);
                    }
                }
            }
            Op::GetDisjoint(a, _, _) => {
                let [x] = map.get_disjoint_mut([&a]);
                assert_eq!(x.as_deref(), model.get(&a));
            }
            Op::TryReserve(n) => {
                map.try_reserve(n as usize).unwrap();
                assert!(map.capacity() >= map.len() + n as usize);
            }
            Op::DrainSome(n) => {
                let mut drain = map.drain();
                let taken: Vec<_> = drain.by_ref().take(n as usize).collect();
                drop(drain);
                for (k, v) in taken {
                    assert_eq!(model.remove(&k), Some(v));
                }
                model.clear();
            }
        }
        assert_eq!(map.len(), model.len(), "len after step {step}: {op:?}");
        if let Err(e) = map.check_invariants() {
            panic!("invariant broken after step {step} ({op:?}): {e}");
        }
    }
    let got: StdMap<_, _> = map.iter().map(|(&k, &v)| (k, v)).collect();
    assert_eq!(got, model);
}

/// The longest operation sequence of a case: a fifth under Miri (its interpreter is some 10^4
/// times slower, and every step walks the whole map in `check_invariants`), which still grows
/// the map through several doublings.
fn ops(native: usize) -> usize {
    if cfg!(miri) {
        native / 5
    } else {
        native
    }
}

proptest! {
    // proptest's default: 256 cases, or `PROPTEST_CASES` (fewer in CI's valgrind and Miri
    // steps; a config that sets `cases` itself would ignore the variable).
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn matches_std_with_default_hasher(ops in prop::collection::vec(op(400), 1..ops(600))) {
        run(DefaultHashBuilder::default(), &ops);
    }

    #[test]
    fn matches_std_with_tiny_key_space(ops in prop::collection::vec(op(24), 1..ops(300))) {
        run(DefaultHashBuilder::default(), &ops);
    }

    #[test]
    fn matches_std_with_few_hashes(ops in prop::collection::vec(op(200), 1..ops(400))) {
        run(FewHashes, &ops);
    }

    #[test]
    fn matches_std_with_colliding_hasher(ops in prop::collection::vec(op(60), 1..ops(200))) {
        run(Colliding, &ops);
    }

    #[test]
    fn matches_std_with_a_growth_in_flight_at_every_step(
        ops in prop::collection::vec(op(400), 1..ops(150)),
    ) {
        run_mid_growth(DefaultHashBuilder::default(), &ops);
    }

    #[test]
    fn matches_std_with_few_hashes_and_a_growth_in_flight_at_every_step(
        ops in prop::collection::vec(op(200), 1..ops(150)),
    ) {
        run_mid_growth(FewHashes, &ops);
    }
}
