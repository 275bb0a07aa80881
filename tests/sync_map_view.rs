//! `SyncMap::layout`: each step of Go's read/dirty cycle leaves the entry states Go's design
//! says it does (value / nil / expunged, in the snapshot and in the dirty map).

use gomap::{EntryState, SyncMap, SyncMapLayout};

fn value(v: &str) -> EntryState {
    EntryState::Value(v.to_string())
}

fn entries(list: &[(&str, EntryState)]) -> Vec<(String, EntryState)> {
    list.iter()
        .map(|(k, s)| (k.to_string(), s.clone()))
        .collect()
}

fn layout(map: &SyncMap<&'static str, u32>) -> SyncMapLayout {
    let layout = map.layout(|_, v| v.to_string());
    // The layout's counters are the stats of the same (quiescent) moment.
    assert_eq!(layout.stats, map.stats());
    assert_eq!(layout.amended, layout.stats.amended);
    assert_eq!(layout.misses, layout.stats.misses);
    assert_eq!(layout.read.len(), layout.stats.read_len);
    assert_eq!(layout.dirty.as_ref().map(Vec::len), layout.stats.dirty_len);
    map.check_invariants();
    layout
}

#[test]
fn the_read_dirty_cycle_entry_by_entry() {
    let map = SyncMap::new();

    // A new key goes to the dirty map only; the snapshot is amended.
    map.store("a", 1);
    map.store("b", 2);
    let l = layout(&map);
    assert!(l.read.is_empty());
    assert_eq!(
        l.dirty,
        Some(entries(&[("\"a\"", value("1")), ("\"b\"", value("2"))]))
    );
    assert!(l.amended);
    assert_eq!((l.misses, l.stats.promotions), (0, 0));

    // Loads miss the snapshot; when the misses reach len(dirty) = 2, dirty is promoted.
    assert_eq!(map.load("a"), Some(1));
    let l = layout(&map);
    assert_eq!((l.misses, l.stats.promotions), (1, 0));
    assert!(l.read.is_empty());
    assert_eq!(map.load("b"), Some(2));
    let l = layout(&map);
    assert_eq!(
        l.read,
        entries(&[("\"a\"", value("1")), ("\"b\"", value("2"))])
    );
    assert_eq!(l.dirty, None);
    assert!(!l.amended);
    assert_eq!((l.misses, l.stats.promotions), (0, 1));

    // A delete of a snapshot key leaves its entry nil, in the snapshot.
    assert!(map.delete("a"));
    let l = layout(&map);
    assert_eq!(l.read_state("\"a\""), Some(&EntryState::Deleted));
    assert_eq!(l.read_state("\"b\""), Some(&value("2")));
    assert_eq!(l.dirty, None);
    assert_eq!(l.stats.len, 1);

    // The next new key rebuilds the dirty map: the nil entry is expunged (left in the
    // snapshot, absent from dirty), the live one is shared by both.
    map.store("c", 3);
    let l = layout(&map);
    assert!(
        !l.stats.copying,
        "2 entries: the copy finishes in one store"
    );
    assert_eq!(
        l.read,
        entries(&[("\"a\"", EntryState::Expunged), ("\"b\"", value("2"))])
    );
    assert_eq!(
        l.dirty,
        Some(entries(&[("\"b\"", value("2")), ("\"c\"", value("3"))]))
    );
    assert!(l.amended);

    // A store to the expunged key takes the mutex, puts the entry back into dirty and revives
    // it: the same entry, now holding a value in both maps.
    map.store("a", 4);
    let l = layout(&map);
    assert_eq!(l.read_state("\"a\""), Some(&value("4")));
    assert_eq!(l.dirty_state("\"a\""), Some(&value("4")));
    assert_eq!(
        l.dirty,
        Some(entries(&[
            ("\"a\"", value("4")),
            ("\"b\"", value("2")),
            ("\"c\"", value("3"))
        ]))
    );
    assert_eq!(l.stats.len, 3);
}

#[test]
fn a_deleted_key_stays_nil_while_a_dirty_map_holds_it() {
    let map = SyncMap::new();
    map.store("a", 1);
    map.load("a"); // promoted
    map.store("b", 2); // dirty = {a, b}, amended
    assert!(map.delete("a")); // the shared entry turns nil in both maps (not expunged)
    let l = layout(&map);
    assert_eq!(l.read_state("\"a\""), Some(&EntryState::Deleted));
    assert_eq!(l.dirty_state("\"a\""), Some(&EntryState::Deleted));
    // A lock-free store revives it in place.
    map.store("a", 5);
    let l = layout(&map);
    assert_eq!(l.read_state("\"a\""), Some(&value("5")));
    assert_eq!(l.dirty_state("\"a\""), Some(&value("5")));
}

#[test]
fn an_unfinished_copy_shows_entries_in_the_snapshot_only() {
    let map = SyncMap::new();
    for i in 0..40u32 {
        map.store(i, i);
    }
    for i in 0..40u32 {
        map.load(&i);
    }
    assert_eq!(map.stats().promotions, 1);
    map.store(100, 100); // starts a dirty map, copying a few snapshot entries per operation
    let l = map.layout(|_, v| v.to_string());
    assert!(l.stats.copying);
    let dirty = l.dirty.as_ref().expect("a dirty map");
    assert!(dirty.len() < 41, "the copy is spread out: {}", dirty.len());
    assert!(l.read.iter().all(|(_, s)| s.name() == "value"));
    // Sorted by key description (strings, so "10" before "2").
    let keys: Vec<&str> = l.read.iter().map(|(k, _)| k.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    // Range finishes the copy and promotes: everything in the snapshot again.
    map.range(|_, _| true);
    let l = map.layout(|_, v| v.to_string());
    assert_eq!((l.read.len(), l.dirty, l.stats.copying), (41, None, false));
}
