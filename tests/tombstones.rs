//! Delete marks as Go leaves them: `emptyOne` for a hole, `emptyRest` for a run of empty
//! slots that reaches the end of the chain — across overflow buckets.

mod common;

use gomap::{HashMap, SlotState};

/// The states of bucket 0's chain, flattened.
fn chain_states(map: &HashMap<u64, u64, common::Identity>) -> Vec<SlotState> {
    let view = map.layout(|_, _| String::new());
    view.buckets[0]
        .buckets
        .iter()
        .flat_map(|b| (0..8).map(move |i| b.state(i)))
        .collect()
}

fn count(states: &[SlotState], want: SlotState) -> usize {
    states.iter().filter(|&&s| s == want).count()
}

#[test]
fn deletes_leave_empty_one_then_empty_rest_across_the_chain() {
    // Capacity 100 pins B = 4; multiples of 16 all go to bucket 0: a 2-bucket chain.
    let mut map = HashMap::with_capacity_and_hasher(100, common::Identity);
    for i in 0..12u64 {
        map.insert(i * 16, i);
    }
    let s = chain_states(&map);
    assert_eq!(s.len(), 16);
    assert!(s[..12].iter().all(|s| matches!(s, SlotState::Full(_))));
    assert_eq!(count(&s, SlotState::EmptyRest), 4);

    // A hole in the middle: emptyOne.
    map.remove(&(3 * 16));
    let s = chain_states(&map);
    assert_eq!(s[3], SlotState::EmptyOne);
    assert_eq!(count(&s, SlotState::EmptyRest), 4);

    // Deleting the last entry turns it and the emptyOne run before it into emptyRest,
    // walking back into the head bucket: slots 8..12 of the chain (overflow bucket) first.
    for i in (4..12u64).rev() {
        map.remove(&(i * 16));
    }
    let s = chain_states(&map);
    assert!(s[..3].iter().all(|s| matches!(s, SlotState::Full(_))));
    assert!(
        s[3..].iter().all(|&x| x == SlotState::EmptyRest),
        "the trailing run, including the old hole at 3, is emptyRest: {s:?}"
    );
    map.check_invariants().unwrap();

    // Lookups stop at emptyRest but still find everything before it.
    for i in 0..3u64 {
        assert_eq!(map.get(&(i * 16)), Some(&i));
    }
    assert_eq!(map.get(&(5 * 16)), None);
}
