//! `SyncMap`: Go's `sync.Map`, typed.
//!
//! # The design (Go's, step by step)
//!
//! Go's `sync.Map` is built for two workloads that a mutex around a map serves badly: a key that
//! is written once and then read many times (a grow-only cache), and goroutines that read and
//! overwrite disjoint key sets. Both are served by a **read snapshot** that readers consult
//! without any lock, and that writers may *update in place* as long as the key is already in it.
//!
//! ```text
//!   SyncMap
//!   ├── read ──(atomic pointer)──▶ ReadOnly { m: HashMap<K, EntryRef>, amended }   lock-free
//!   ├── mu: Mutex ─┬─ dirty: Option<HashMap<K, EntryRef>>   every live key, when Some
//!   │              ├─ copy       cursor of the snapshot copy into dirty, while unfinished
//!   │              ├─ misses     loads that had to lock and look in dirty
//!   │              └─ promotions (stats only)
//!   ├── live: number of entries holding a value (len), striped per thread
//!   └── collector: seize, retires replaced snapshots, values, entries
//!
//!   Entry { p: AtomicPtr<V>, slots: [V; 2], holds }   shared by read.m and dirty;
//!                                   p = value (a slot, or a Box) | nil | expunged
//!                                   holds = taken slots + EntryRef count
//! ```
//!
//! * **Reads** look the key up in `read.m` and load the entry's pointer. Only if the key is absent
//!   *and* the snapshot is `amended` (dirty holds keys that `read.m` lacks) do they take the mutex,
//!   look again, then look in `dirty` and count a **miss**.
//! * **Writes to an existing key** swap the entry's pointer by CAS, lock-free, as long as the
//!   entry is not *expunged*.
//! * **A new key** takes the mutex and goes into `dirty`. The first new key after a promotion
//!   first starts `dirty` (`dirty_locked`), to hold a copy of every non-deleted entry of the
//!   snapshot; deleted (nil) entries are marked **expunged** instead of copied
//!   (`try_expunge_locked`), so the snapshot can keep them while `dirty` does not.
//! * **Promotion**: when `misses >= len(dirty)` (the copy has been paid for by as many slow
//!   loads as it has entries) the dirty map *becomes* the new snapshot, by one pointer swap, and
//!   `dirty` becomes `None`. `range` also promotes first, so it can walk one complete snapshot.
//! * An **expunged** entry is revived (`unexpunge_locked`) only under the mutex, after it has been
//!   put back into `dirty`; lock-free writers that find an expunged entry fall back to the mutex.
//!   That is what keeps the rule "dirty, when present, holds every live key" true.
//!
//! The entry state machine is documented where its pointer is declared, in [`entry`].
//!
//! ## Where this differs from Go, and why
//!
//! * **`amended` is a one-way latch inside the snapshot** (`AtomicBool`, false → true under the
//!   mutex) instead of Go's re-allocation of a `readOnly{m, amended: true}` that shares `m`. Within
//!   one snapshot's life `amended` only ever goes from false to true (only a promotion or `clear`,
//!   which install a *new* snapshot, make it false), so a latch is equivalent and saves an
//!   allocation and a retirement per dirty cycle. The snapshot's map itself is immutable.
//! * **`clear` expunges the entries it detaches.** In Go a store that raced with `Clear` on an
//!   old entry is silently lost. Here `clear` moves each detached entry to *expunged*, so a racing
//!   lock-free write fails over to the mutex and lands in the new map; this is also what keeps
//!   `len` exact once the map is quiescent.
//! * **The copy into a new dirty map is spread out.** Go copies the whole snapshot inside the one
//!   store that adds the first new key after a promotion: O(n) in a single call. Here
//!   `dirty_locked` only starts the dirty map and a cursor over the (immutable) snapshot, and
//!   that store and every later operation that takes the mutex copy [`COPY_BUDGET`] more entries
//!   (`copy_locked`), so no call pays more than a constant (`range`, O(n) anyway, finishes the
//!   copy). Until it is finished, "dirty holds every live key" reads "dirty plus the entries the
//!   cursor has not reached", so a promotion waits for the copy; with a budget of at least 2 the
//!   copy outpaces the misses that trigger promotion unless most entries are deleted. The
//!   semantics are Go's: the copy is invisible to readers, which never look at `dirty` for a key
//!   the snapshot has. And the dirty map is gomap's own, whose growth is incremental too.
//! * **A snapshot is never published in the middle of a growth** of its map: nothing writes a
//!   snapshot, so that growth would never end, and its lookups would read the old bucket array
//!   too for the snapshot's whole life. Every locked operation advances a growth of the dirty
//!   map (two old buckets), and a promotion waits for its end as it waits for the copy (see
//!   `growing` below); `range`, `collect` and `clone` finish it at once.
//! * **Keys are cloned** (`K: Clone`) when the snapshot is copied, where Go copies interface
//!   words. Promotion moves the map and clones nothing.
//! * **Returned values are clones** (`V: Clone`) for the owning API (`load`, `swap`, …): a value
//!   may still be read by other threads when it is replaced, so it cannot be moved out. The
//!   zero-copy alternative is [`SyncMap::pin`], which hands out `&V` tied to a guard.
//! * **Values live inside the entry**, in one of two slots (`Entry { p, slots, holds }`),
//!   where Go boxes every value (`interface{}`): a read then misses the cache once after the
//!   bucket (bucket → entry+value, not bucket → entry → value), a new key costs one
//!   allocation, and an overwrite none: it writes the free slot and swaps `p` to it, and the
//!   replaced slot is free again once seize has reclaimed it. Only a key overwritten again
//!   before its previous value was reclaimed gets a boxed value, as Go's. The price: an entry
//!   holds two `V`s (one for zero-sized `V`), so store large values behind an `Arc` or `Box` of
//!   your own.
//! * Beyond Go: [`SyncMap::len`], [`SyncMap::stats`], [`SyncMap::pin`] (zero-copy reads),
//!   `Debug`, `FromIterator`, `Extend`, serde.
//!
//! # Memory reclamation
//!
//! Readers hold no lock, so a snapshot replaced by a promotion, or a value replaced by a store,
//! may still be being read. Both are **retired** through a per-map [`seize`] collector and freed
//! once every thread that was inside an operation at the time of retirement has left it.
//! Every public method enters a guard for its duration; [`SyncMap::pin`] holds one for as long as
//! the returned [`SyncMapRef`] lives.
//!
//! The ownership rules that make this sound:
//!
//! 1. A value (in a slot or a box) is owned by its entry while current; once an RMW swaps it
//!    out, the thread that swapped it retires it (exactly once: only that RMW observed it
//!    leaving). A retired slot stays taken until reclaimed, which drops the value and frees
//!    the slot for a later store; a taken slot keeps its entry allocated.
//! 2. Entries are reference-counted (`EntryRef`, an `Arc` whose count shares a word with the
//!    slots' bits) because the snapshot and `dirty` share them. An `EntryRef`
//!    held by the map is released **only through the collector** (a replaced snapshot is retired
//!    whole; an entry removed from `dirty` or a dirty map dropped by `clear` is retired) or with
//!    `&mut self`. So an entry found under a guard, even via `dirty` under the mutex, stays
//!    allocated until that guard ends, and the last `EntryRef`'s drop may free the current value
//!    directly.
//! 3. The collector belongs to the map and is dropped after everything else: dropping the map
//!    frees every retired snapshot and value, so nothing outlives the map and `K`, `V` need not
//!    be `'static`.
//!
//! **Why seize.** Measured on this machine (2 cores) before writing the map, a read of a
//! snapshot pointer plus a value pointer under a fresh guard, ns per read at 1 / 2 threads:
//! crossbeam-epoch 7.5 / 8.3, seize 8.0 / 8.0, arc-swap (two `load`s) 23.8 / 25.1; with 1 % of
//! operations swapping and retiring the value: crossbeam-epoch 8.1 / 10.2, seize 8.5 / 11.4
//! (batch size 128; 15.7 with the default 32), arc-swap 24.9 / 31.9. arc-swap is three times
//! slower on the read path. crossbeam-epoch and seize tie on reads; crossbeam-epoch is slightly
//! cheaper on retirement, but its collector is global: retired values would be dropped at an
//! unspecified time, possibly after the map is gone, forcing `K: 'static, V: 'static` and making
//! "every value dropped exactly once by the time the map is dropped" impossible to promise.
//! seize gives a per-map collector (whose drop reclaims everything) at the same read cost, and
//! its `membarrier`-based guards keep the read side free of a full fence. So: seize, with a
//! batch size of `RETIRE_BATCH` = 1024.
//!
//! The price of those fence-free reads is paid per retired *batch*: seize issues a
//! `membarrier`, an inter-processor interrupt to every CPU running the process, which on a
//! virtual machine costs tens of microseconds on both cores. With 128 per batch that was most of
//! the cost of an overwrite at 2 threads; `cargo bench --bench sync_map -- 'gomap::SyncMap$'`
//! before and after the change to 1024 gave `disjoint/2t` 112 → 31–70 ns/op and
//! `write_heavy/2t` 129 → 45–97 ns/op (this machine's noise spans the ranges); 4096 did not
//! measurably do better and holds more replaced values back.
//!
//! # What an operation costs
//!
//! A `load` of a key in the snapshot: enter and leave the guard (thread-local slots: `membarrier`
//! spares the read side a fence; leaving costs one uncontended atomic swap), hash, probe
//! `read.m`, then two dependent loads: the entry's pointer and the value it points to (in the
//! entry itself, unless the key was overwritten faster than seize reclaims). No shared cache
//! line is written, so readers scale. An overwrite of a key in the snapshot: claim the free slot
//! (one RMW on the entry), write it, one CAS, and a retirement into the thread's seize batch
//! (reclaimed later: the value dropped and the slot freed with one more RMW); no allocation. A
//! new key: the mutex, two lookups and an insert into `dirty`, plus up to `2 × COPY_BUDGET`
//! entries of a pending snapshot copy (Go pays the whole O(n) copy in the first new key after
//! each promotion).
//!
//! # `len` under concurrency
//!
//! `live` counts entries holding a value. It is updated right after the entry's own RMW, so it
//! is **exact whenever no operation is in flight**; while writers run it may lag them by at most
//! the number of inserts and removals in progress (and it never reports less than zero).

#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations, clippy::undocumented_unsafe_blocks)]

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;

use crate::primitive::{
    new_collector, reclaim_box, AtomicBool, AtomicPtr, Collector, Guard, GuardApi as _, Mutex,
    MutexGuard, Ordering,
};
use crate::DefaultHashBuilder;

mod copy;
pub(crate) mod entry;
mod live;
mod ops;
mod pinned;
mod stats;
mod traits;
pub(crate) mod view;

use copy::CopyCursor;
use entry::{Entry, EntryRef};
use live::LiveCount;
pub use pinned::SyncMapRef;
pub use stats::SyncMapStats;

/// How many retired objects a thread batches before trying to reclaim them: each batch costs a
/// `membarrier` (see the essay above for the measurements). It also bounds how many replaced
/// values a thread holds back from being dropped (plus the batches other threads still read).
/// Under Miri, whose runs are a few hundred operations long, batches are small so that
/// reclamation (and its races with readers) happens in them at all.
pub(crate) const RETIRE_BATCH: usize = if cfg!(miri) { 8 } else { 1024 };

/// How many snapshot entries each operation that takes the mutex copies into a dirty map under
/// construction. Go copies the whole snapshot in the one store that adds the first new key after
/// a promotion (`dirtyLocked`): O(n) in one call. Here that store and every later locked
/// operation copy this many, so none pays more than O(`COPY_BUDGET`). With at least 2, a copy
/// finishes before the misses that would promote (`misses >= len(dirty)`) can add up, unless
/// most entries are deleted, so promotions are rarely delayed.
const COPY_BUDGET: usize = if cfg!(loom) { 2 } else { 4 }; // loom: copies span ops sooner
const _: () = assert!(COPY_BUDGET >= 2);

/// How many times `lock` tries the mutex before it blocks on it (see `SyncMap::lock`).
#[cfg(not(loom))]
const LOCK_SPIN_TRIES: u32 = 12;
/// The most pauses (`spin_loop`) between two tries: 511 pauses in all before blocking.
#[cfg(not(loom))]
const LOCK_SPIN_PAUSES: u32 = 64;

/// The map type of both the snapshot and the dirty map: the crate's own map, keyed by the user's
/// key, pointing at shared entries.
#[cfg(not(loom))]
type EntryMap<K, V, S> = crate::HashMap<K, EntryRef<V>, S>;
/// Under loom, std's map instead: gomap's iterates from a random start (Go's `mapiterinit`), so
/// the dirty copy would touch entries in a different order in each execution, and loom needs
/// every execution of a model to repeat the same operations. (The loom tests also use a fixed
/// hasher.) Only the order of iteration differs; the API used is the same.
#[cfg(loom)]
type EntryMap<K, V, S> = std::collections::HashMap<K, EntryRef<V>, S>;

/// Whether the dirty map is in the middle of a growth. A snapshot is never published in that
/// state: it is never written again, so its growth would never end, and for its whole life its
/// lookups would check the old bucket array first while it kept both arrays allocated. Lookup
/// hits in a map stopped half way through a growth were 1.14-1.32x slower than after
/// `finish_growth` at 7,000 entries, 1.31-1.38x at 112,000 and 1.51-1.59x at 1.8 million (two
/// runs of `cargo run --release --example frozen_growth`). Sizes from 6.5 to about 7.5 entries
/// per bucket of the old array, one in seven, promote inside that window.
#[cfg(not(loom))]
fn growing<K, V, S>(m: &EntryMap<K, V, S>) -> bool {
    m.is_growing()
}
#[cfg(loom)]
fn growing<K, V, S>(_: &EntryMap<K, V, S>) -> bool {
    false // std's map grows at once
}

/// Advances the dirty map's growth by two old buckets (see [`growing`]).
#[cfg(not(loom))]
fn growth_step<K: Eq + Hash, V, S: BuildHasher>(m: &mut EntryMap<K, V, S>) {
    m.growth_step();
}
#[cfg(loom)]
fn growth_step<K, V, S>(_: &mut EntryMap<K, V, S>) {}

/// Finishes a map's growth now (O(old buckets)), before it becomes a snapshot: a no-op after
/// the misses that promote (they wait for it), the price of `range`, `collect` and `clone`,
/// which are O(n) anyway.
#[cfg(not(loom))]
fn finish_growth<K: Eq + Hash, V, S: BuildHasher>(m: &mut EntryMap<K, V, S>) {
    m.finish_growth();
}
#[cfg(loom)]
fn finish_growth<K, V, S>(_: &mut EntryMap<K, V, S>) {}

/// A snapshot lookup whose key is nearly always present (loads, deletes, swaps): see
/// `HashMap::get_expecting_hit`. Under loom, std's map's plain `get`.
#[inline]
fn get_expecting_hit<'m, K, V, S, Q>(m: &'m EntryMap<K, V, S>, key: &Q) -> Option<&'m EntryRef<V>>
where
    K: Eq + Hash + Borrow<Q>,
    S: BuildHasher,
    Q: Hash + Eq + ?Sized,
{
    #[cfg(not(loom))]
    return m.get_expecting_hit(key);
    #[cfg(loom)]
    return m.get(key);
}

/// Go's `readOnly`: the immutable snapshot readers consult without a lock.
struct ReadOnly<K, V, S> {
    /// Invariant: never modified after the snapshot is published.
    m: EntryMap<K, V, S>,
    /// Invariant: if true, the dirty map is `Some` and may hold keys that `m` lacks; if false,
    /// every key in dirty is in `m`. A one-way latch: set false → true under the mutex, never
    /// reset (promotion and `clear` publish a new snapshot instead).
    amended: AtomicBool,
}

impl<K, V, S> ReadOnly<K, V, S> {
    fn new(m: EntryMap<K, V, S>) -> Self {
        ReadOnly {
            m,
            amended: AtomicBool::new(false),
        }
    }

    fn amended(&self) -> bool {
        // Acquire: pairs with the Release store in `set_amended`. The flag carries no data of its
        // own (the dirty map is read under the mutex); a reader that sees `false` linearises
        // before the store that will set it.
        self.amended.load(Ordering::Acquire)
    }

    fn set_amended(&self) {
        // Release: pairs with the Acquire load in `amended`.
        self.amended.store(true, Ordering::Release);
    }
}

/// The state behind the mutex.
struct Locked<K, V, S> {
    /// Go's `dirty`. Invariant: when `Some`, it and the entries that `copy` has not reached yet
    /// together hold (the same `EntryRef`s as) every entry of the current snapshot that is not
    /// expunged, plus every key added since; when `None`, the snapshot has no expunged entry.
    dirty: Option<EntryMap<K, V, S>>,
    /// Go's `dirtyLocked` loop, spread over the operations that take the mutex (see
    /// [`COPY_BUDGET`]). Invariant: `Some` only while `dirty` is `Some` and the copy of the
    /// *current* snapshot is unfinished; cleared before that snapshot is replaced.
    copy: Option<CopyCursor<K, V>>,
    /// Go's `misses`: loads that fell through to `dirty` since the last promotion.
    /// Invariant: `misses < len(dirty)` after every `miss_locked`, unless the copy is unfinished
    /// (else it promoted).
    misses: usize,
    /// Promotions so far (for `stats`).
    promotions: u64,
}

/// A concurrent map with Go's `sync.Map` design: lock-free reads and in-place updates of
/// existing keys, a mutex only for new keys and for reads that miss the snapshot.
///
/// It is best, like Go's, when keys are written once and read many times (a grow-only cache):
/// reads then take no lock and write nothing shared. It is a poor fit for write-heavy
/// workloads: every overwrite allocates and retires a value, every new key takes the mutex, and
/// after each promotion the snapshot is copied again into a new dirty map (spread over the
/// following locked operations, a few entries each, rather than Go's all-at-once copy).
///
/// # Design
///
/// Go's: a read snapshot `{ m, amended }` behind an atomic pointer, consulted without a lock; a
/// dirty map under a mutex holding every live key once a key has been added since the last
/// promotion; a miss counter that promotes the dirty map to be the next snapshot once
/// `misses >= len(dirty)`; entries shared by both maps whose value pointer is a value, nil
/// (deleted) or expunged (deleted and left out of the dirty map). Replaced snapshots and values
/// are reclaimed with a per-map [`seize`] collector. The full essay opens
/// `src/sync_map/mod.rs`; the state machine is documented on the entry's pointer in
/// `src/sync_map/entry.rs`. [`stats`](Self::stats) shows where a map is in the cycle.
///
/// ```
/// use gomap::SyncMap;
///
/// let map = SyncMap::new();
/// map.store("gopher", 1);
/// assert_eq!(map.load("gopher"), Some(1));
/// assert_eq!(map.load_or_store("gopher", 2), (1, true));
/// map.delete("gopher");
/// assert!(map.is_empty());
/// ```
///
/// # Values are freed late, never early
///
/// A replaced or removed value may still be being read by another thread, so it is dropped
/// later: once every operation that was running when it was replaced has finished (seize
/// reclaims in batches, so this can take a while on a map that is rarely written). Every value
/// is dropped exactly once, and all of them by the time the map is dropped.
///
/// Reclamation runs inside whichever operation (on any thread) ends the batch's last reader,
/// or in the map's drop. If a value's `Drop` panics there, the panic comes out of that call; the
/// map stays consistent and usable and nothing is dropped twice, but seize abandons the rest of
/// that batch, so the values retired with the panicking one are leaked.
///
/// # `Send` and `Sync`
///
/// The map is `Send` when `K`, `V` and `S` are, and `Sync` when they are `Send + Sync`: values
/// inserted by one thread may be dropped by another, and shared references to keys and values
/// are handed to every thread. So a map of `Rc`s can neither move to another thread nor be
/// shared:
///
/// ```compile_fail
/// fn moved<T: Send>(_: T) {}
/// let map = gomap::SyncMap::<std::rc::Rc<u8>, u8>::new();
/// moved(map); // Rc is not Send
/// ```
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// let map = gomap::SyncMap::<u8, std::rc::Rc<u8>>::new();
/// shared(&map); // Rc is neither Send nor Sync
/// ```
///
/// A map of `Cell`s can move to another thread (it takes its values along), but cannot be
/// shared:
///
/// ```
/// fn moved<T: Send>(_: T) {}
/// let map = gomap::SyncMap::<u8, std::cell::Cell<u8>>::new();
/// moved(map); // Cell is Send
/// ```
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// let map = gomap::SyncMap::<u8, std::cell::Cell<u8>>::new();
/// shared(&map); // Cell is Send but not Sync
/// ```
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// let map = gomap::SyncMap::<u8, std::sync::MutexGuard<'static, u8>>::new();
/// shared(&map); // a MutexGuard is Sync but must not be dropped on another thread
/// ```
///
/// A [`SyncMap::pin`] view holds a guard of the thread that made it, so it stays on that thread
/// (see [`SyncMapRef`]).
pub struct SyncMap<K, V, S = DefaultHashBuilder> {
    /// Go's `read`. Invariant: always a valid pointer from `Box::into_raw(Box<ReadOnly>)`;
    /// replaced only by a thread holding `mu`, and the replaced snapshot is then retired through
    /// `collector` (never freed directly while `&self` is shared).
    read: AtomicPtr<ReadOnly<K, V, S>>,
    /// Go's `mu`, with what it protects.
    mu: Mutex<Locked<K, V, S>>,
    /// Entries holding a value. Invariant: exact whenever no operation is in flight (see `len`).
    live: LiveCount,
    /// Cloned into every snapshot and dirty map.
    hash_builder: S,
    /// Retired snapshots, values and entries. Dropped last: it frees what is still retired.
    collector: Collector,
    /// The map owns `K`s and `V`s (they live behind raw pointers).
    _owns: PhantomData<(K, Box<V>)>,
}

// SAFETY: moving the map to another thread moves ownership of every `K`, `V` and the hasher;
// the raw pointers inside (snapshot, values, the copy cursor's borrow of the snapshot) all point
// into memory the map owns, and no other thread can use them while the map is being moved.
unsafe impl<K: Send, V: Send, S: Send> Send for SyncMap<K, V, S> {}

// SAFETY: threads share `&K`/`&V` (`range`, `pin().get`, `load` cloning): `K, V: Sync`; one may
// drop what another inserted (reclamation runs on any thread): `K, V: Send`; the hasher is used
// and cloned from every thread: `S: Send + Sync`.
unsafe impl<K: Send + Sync, V: Send + Sync, S: Send + Sync> Sync for SyncMap<K, V, S> {}

impl<K, V> SyncMap<K, V, DefaultHashBuilder> {
    /// An empty map with the default hasher (foldhash with a fresh random seed per map, like
    /// Go's per-map `hash0`).
    ///
    /// ```
    /// let map: gomap::SyncMap<String, u32> = gomap::SyncMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }
}

impl<K, V, S> SyncMap<K, V, S> {
    /// Whether the dirty map is growing (a promotion waits for the end of it).
    fn dirty_growing(locked: &Locked<K, V, S>) -> bool {
        locked.dirty.as_ref().is_some_and(growing)
    }

    /// An empty map that hashes keys with `hash_builder`.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: gomap::SyncMap<u64, u64, _> = gomap::SyncMap::with_hasher(RandomState::new());
    /// map.store(1, 2);
    /// assert_eq!(map.load(&1), Some(2));
    /// ```
    pub fn with_hasher(hash_builder: S) -> Self
    where
        S: Clone,
    {
        Self::from_parts(EntryMap::with_hasher(hash_builder.clone()), hash_builder)
    }

    /// A map whose first snapshot is `m`, built whole (by `collect` or `clone`): its growth is
    /// finished first, as a snapshot is never published mid-growth (see [`growing`]).
    fn from_snapshot(mut m: EntryMap<K, V, S>, hash_builder: S) -> Self
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        finish_growth(&mut m);
        Self::from_parts(m, hash_builder)
    }

    /// A map whose first snapshot is `m` (not amended, no dirty map).
    fn from_parts(m: EntryMap<K, V, S>, hash_builder: S) -> Self {
        debug_assert!(
            !growing(&m),
            "a first snapshot built mid-growth (see `growing`)"
        );
        let live = m.values().filter(|e| e.has_value()).count();
        SyncMap {
            read: AtomicPtr::new(Box::into_raw(Box::new(ReadOnly::new(m)))),
            mu: Mutex::new(Locked {
                dirty: None,
                copy: None,
                misses: 0,
                promotions: 0,
            }),
            live: LiveCount::new(live),
            hash_builder,
            collector: new_collector(RETIRE_BATCH),
            _owns: PhantomData,
        }
    }

    /// The number of keys holding a value.
    ///
    /// Exact whenever no operation is in flight. While other threads write, it may be off by the
    /// number of inserts and removals that overlap the call (never below zero): the count is
    /// striped per thread, so that writers do not contend on it, and summed here. Go's
    /// `sync.Map` has no such method.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, "a");
    /// map.store(2, "b");
    /// map.delete(&1);
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.live.sum()
    }

    /// Whether [`len`](Self::len) is zero (with the same guarantee).
    ///
    /// ```
    /// let map = gomap::SyncMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The map's hasher.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: gomap::SyncMap<u8, u8, _> = gomap::SyncMap::with_hasher(RandomState::new());
    /// let _hasher: &RandomState = map.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hash_builder
    }

    /// Enters the map's reclamation guard.
    fn guard(&self) -> Guard<'_> {
        self.collector.enter()
    }

    /// Go's `loadReadOnly`.
    fn load_read_only<'g>(&'g self, guard: &'g Guard<'_>) -> &'g ReadOnly<K, V, S> {
        // Acquire: pairs with the Release half of the swap in `promote_locked` / `clear` that
        // published this snapshot, so its map is fully built.
        let p = guard.protect(&self.read, Ordering::Acquire);
        // SAFETY: `read` is never null (invariant on the field); a replaced snapshot is retired
        // through the collector, and `guard` was active when we loaded the pointer.
        unsafe { &*p }
    }

    /// Locks the mutex. Poisoning is ignored: every mutation under the lock keeps the invariants
    /// across a panic in user code (see `copy_locked` and the unexpunge order in `swap_in`).
    ///
    /// It spins first, trying the lock between pauses that double up to `LOCK_SPIN_PAUSES`.
    /// Critical sections here last tens of nanoseconds, but std's mutex spins only briefly
    /// before sleeping on a futex, and a sleep and wake-up cost microseconds on this VM: two
    /// threads inserting new keys (the harness's `grow_only` at 10^5 keys, on a scratch driver
    /// under `perf stat`) made 132,143 futex calls and 7,146 context switches for 2 M
    /// operations, against 6,152 and 1,221 with this spin. `gomap bench` with and without it,
    /// alternated three times: `grow_only` at 2 threads 0.71-0.80x against 0.49-0.58x dashmap
    /// at 1k keys, 0.20-0.33x against 0.13-0.17x at 10^5; `write_heavy` no worse.
    /// parking_lot's mutex (it spins less, then yields) did less well than this spin on the
    /// scratch driver, so no new dependency for it. Loom models std's mutex as is.
    fn lock(&self) -> MutexGuard<'_, Locked<K, V, S>> {
        #[cfg(not(loom))]
        for round in 0..LOCK_SPIN_TRIES {
            match self.mu.try_lock() {
                Ok(locked) => return locked,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    for _ in 0..(1u32 << round).min(LOCK_SPIN_PAUSES) {
                        std::hint::spin_loop();
                    }
                }
            }
        }
        self.mu
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn live_add(&self, guard: &Guard<'_>) {
        self.live.add(1, guard);
    }

    fn live_sub(&self, n: usize, guard: &Guard<'_>) {
        // A map holds far fewer than `isize::MAX` entries.
        self.live.add(-(n as isize), guard);
    }

    /// Extends an entry found in `dirty` (under the mutex) to the guard's lifetime.
    fn detach<'g>(entry: &EntryRef<V>, _guard: &'g Guard<'_>) -> &'g Entry<V> {
        // SAFETY: rule 2 of the essay: an `EntryRef` leaves `dirty` only through the collector
        // (or a promotion, which moves it into the next snapshot), and `_guard` was active while
        // we found the entry under the mutex, so the entry outlives `'g`.
        unsafe { &*EntryRef::as_ptr(entry) }
    }

    /// Retires an `EntryRef` removed from `dirty` and returns the entry, valid for the guard.
    fn retire_entry<'g>(entry: EntryRef<V>, guard: &'g Guard<'_>) -> &'g Entry<V> {
        unsafe fn reclaim_entry_ref<V>(ptr: *mut Entry<V>, _: &Collector) {
            // SAFETY: `ptr` came from `EntryRef::into_raw` below and is released once.
            drop(unsafe { EntryRef::from_raw(ptr) });
        }
        let ptr = EntryRef::into_raw(entry);
        // SAFETY: the `EntryRef` was just removed from `dirty` under the mutex, and this is the
        // only release of it; `defer_retire` keeps it until `guard` is dropped.
        unsafe {
            guard.defer_retire(ptr, reclaim_entry_ref::<V>);
            &*ptr
        }
    }
}

impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher + Clone,
{
    /// Go's `Load`: a clone of the value stored for `key`.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(String::from("k"), vec![1, 2]);
    /// assert_eq!(map.load("k"), Some(vec![1, 2]));
    /// assert_eq!(map.load("missing"), None);
    /// ```
    pub fn load<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let guard = self.guard();
        self.load_in(key, &guard).cloned()
    }

    /// Whether `key` holds a value.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(7, ());
    /// assert!(map.contains_key(&7));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let guard = self.guard();
        self.load_in(key, &guard).is_some()
    }

    /// Enters a guard and returns a view whose reads borrow values instead of cloning them.
    ///
    /// Values removed while the view lives are not freed before it is dropped, so hold it only
    /// for a batch of reads.
    ///
    /// ```
    /// let map = gomap::SyncMap::new();
    /// map.store(1, String::from("one"));
    /// let pinned = map.pin();
    /// let one: &String = pinned.get(&1).unwrap();
    /// assert_eq!(one, "one");
    /// ```
    pub fn pin(&self) -> SyncMapRef<'_, K, V, S> {
        SyncMapRef::new(self, self.guard())
    }

    fn load_in<'g, Q>(&'g self, key: &Q, guard: &'g Guard<'_>) -> Option<&'g V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entry_for(key, guard, false)?.load(guard)
    }

    /// The prologue shared by Go's `Load`, `LoadAndDelete` and `CompareAndDelete`: the entry in
    /// the snapshot; else, if amended, under the mutex the entry in the (re-read) snapshot or in
    /// `dirty`, counting a miss. With `remove_from_dirty`, an entry found only in `dirty` is
    /// removed from it (Go's `delete(m.dirty, key)`).
    #[inline]
    fn entry_for<'g, Q>(
        &'g self,
        key: &Q,
        guard: &'g Guard<'_>,
        remove_from_dirty: bool,
    ) -> Option<&'g Entry<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let read = self.load_read_only(guard);
        // Loads, deletes and swaps of keys that are present are this map's common case.
        if let Some(e) = get_expecting_hit(&read.m, key) {
            return Some(e);
        }
        if !read.amended() {
            return None;
        }
        self.entry_for_locked(key, read, guard, remove_from_dirty)
    }

    /// The locked half of [`entry_for`](Self::entry_for), out of line so that the lock-free
    /// half inlines into every read. `seen` is the amended snapshot in which the lock-free half
    /// did not find `key`.
    #[inline(never)]
    fn entry_for_locked<'g, Q>(
        &'g self,
        key: &Q,
        seen: &'g ReadOnly<K, V, S>,
        guard: &'g Guard<'_>,
        remove_from_dirty: bool,
    ) -> Option<&'g Entry<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut locked = self.lock();
        // Re-read: a promotion may have happened while we waited for the mutex.
        let (read, found) = self.reread_locked(seen, None, key, guard);
        self.locked_work(&mut locked, read);
        if let Some(e) = found {
            return Some(e);
        }
        // `amended` is a latch within a snapshot: still true if `read` is `seen`.
        if !read.amended() {
            return None;
        }
        let dirty = locked.dirty.as_mut()?;
        let e = if remove_from_dirty {
            dirty.remove(key).map(|e| Self::retire_entry(e, guard))
        } else {
            dirty.get(key).map(|e| Self::detach(e, guard))
        };
        // Go counts the miss whether or not dirty had the key: either way the load paid the lock.
        self.miss_locked(&mut locked, guard);
        e
    }

    /// Under the mutex, the current snapshot and `key`'s entry in it (Go's re-read of `m.read`
    /// after `m.mu.Lock()`). `seen` is the snapshot the caller already probed without the lock,
    /// and `found` what that probe returned: a snapshot never changes, so if `seen` is still
    /// current the probe stands and is not repeated (it is one or two cache misses on a big map).
    /// The pointer comparison cannot be fooled by a new snapshot at `seen`'s address: a replaced
    /// snapshot is retired, and not freed while `guard`, under which `seen` was loaded, lives.
    fn reread_locked<'g, Q>(
        &'g self,
        seen: &'g ReadOnly<K, V, S>,
        found: Option<&'g EntryRef<V>>,
        key: &Q,
        guard: &'g Guard<'_>,
    ) -> (&'g ReadOnly<K, V, S>, Option<&'g EntryRef<V>>)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let read = self.load_read_only(guard);
        if std::ptr::eq(read, seen) {
            (read, found)
        } else {
            (read, read.m.get(key))
        }
    }

    /// Go's `missLocked`.
    fn miss_locked(&self, locked: &mut Locked<K, V, S>, guard: &Guard<'_>) {
        locked.misses += 1;
        let dirty_len = locked.dirty.as_ref().map_or(0, |d| d.len());
        // An unfinished copy delays the promotion (each locked operation advances it, so it
        // finishes within len(snapshot) / COPY_BUDGET of them): promoting a partial dirty map
        // would lose the keys not copied yet. So does a growth of the dirty map (each locked
        // operation advances it by two of its 2^oldB old buckets, so it ends within 2^oldB / 2
        // of them, far fewer than the 6.5 * 2^oldB misses a promotion takes): see [`growing`].
        if locked.misses < dirty_len || locked.copy.is_some() || Self::dirty_growing(locked) {
            return;
        }
        self.promote_locked(locked, guard);
    }

    /// Makes `dirty` the new snapshot (Go's `m.read.Store(&readOnly{m: m.dirty})`).
    /// The caller has finished the copy (`locked.copy` is `None`).
    fn promote_locked(&self, locked: &mut Locked<K, V, S>, guard: &Guard<'_>) {
        assert!(
            locked.copy.is_none(),
            "promoting a partially copied dirty map"
        );
        let mut m = locked
            .dirty
            .take()
            .unwrap_or_else(|| EntryMap::with_hasher(self.hash_builder.clone()));
        // Never a snapshot mid-growth (see [`growing`]). A no-op after misses, which wait for
        // the growth to end (`miss_locked`); `range` promotes at once and pays for it here.
        finish_growth(&mut m);
        let new = Box::into_raw(Box::new(ReadOnly::new(m)));
        // AcqRel: Release publishes the new snapshot to `load_read_only`'s Acquire; Acquire makes
        // the old one ours to retire.
        let old = guard.swap(&self.read, new, Ordering::AcqRel);
        // SAFETY: `old` is unreachable for new readers now; only this swap removed it.
        unsafe { guard.defer_retire(old, reclaim_box::<ReadOnly<K, V, S>>) };
        locked.misses = 0;
        locked.promotions += 1;
    }

    /// Go's `dirtyLocked`: if there is no dirty map, starts one, to be filled with the snapshot's
    /// entries that are not deleted (the deleted ones are expunged) by `copy_locked`, a few
    /// entries per locked operation instead of all at once.
    fn dirty_locked(&self, locked: &mut Locked<K, V, S>, read: &ReadOnly<K, V, S>) {
        if locked.dirty.is_some() {
            return;
        }
        // No capacity: gomap's map grows incrementally, so the copy stays spread out.
        locked.dirty = Some(EntryMap::with_hasher(self.hash_builder.clone()));
        // SAFETY: the cursor is dropped before `read` is replaced (`promote_locked` requires a
        // finished copy; `clear` and `Drop` drop it first), and `read` is immutable.
        locked.copy = Some(unsafe { CopyCursor::new(read) });
    }

    /// Advances the copy that `dirty_locked` started by up to `budget` entries of the snapshot
    /// (Go's `dirtyLocked` loop body): each is expunged if deleted, else put into `dirty`.
    fn copy_locked(&self, locked: &mut Locked<K, V, S>, read: &ReadOnly<K, V, S>, budget: usize) {
        let Locked { dirty, copy, .. } = locked;
        let Some(cursor) = copy.as_mut() else {
            return;
        };
        debug_assert!(
            cursor.is_over(read),
            "copying a snapshot that is not current"
        );
        let dirty = dirty.as_mut().expect("a copy without a dirty map");
        for _ in 0..budget {
            let Some((k, e)) = cursor.peek() else {
                *copy = None;
                return;
            };
            // SAFETY: the cursor walks the current snapshot (checked above; see the invariant
            // on `Locked::copy`), which is alive and immutable while we hold the mutex.
            let (k, e) = unsafe { (&*k, &*e) };
            // User code (`Clone`, then `Hash` in `insert`) may panic here: the cursor keeps the
            // entry until `advance`, so the next step retries it. Retrying is safe: an entry
            // expunged meanwhile is skipped, a live one was not inserted yet.
            let k = k.clone();
            if !e.try_expunge_locked() {
                let replaced = dirty.insert(k, EntryRef::clone(e));
                debug_assert!(replaced.is_none(), "an entry copied twice");
            }
            cursor.advance();
        }
    }

    /// The work every operation under the mutex does first: advance the copy, then, once it is
    /// done, a growth of the dirty map (which a promotion waits for, see [`growing`]).
    fn locked_work(&self, locked: &mut Locked<K, V, S>, read: &ReadOnly<K, V, S>) {
        self.copy_locked(locked, read, COPY_BUDGET);
        if locked.copy.is_none() {
            if let Some(dirty) = locked.dirty.as_mut() {
                growth_step(dirty);
            }
        }
    }
}

impl<K, V, S> Drop for SyncMap<K, V, S> {
    fn drop(&mut self) {
        // The cursor borrows the snapshot: drop it first.
        let locked = self
            .mu
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locked.copy = None;
        // Relaxed: `&mut self`, no other thread can touch the map.
        let read = self.read.load(Ordering::Relaxed);
        // SAFETY: `read` is a valid `Box` pointer (field invariant) and, with `&mut self`, no
        // reader holds it; it was never retired (only replaced snapshots are).
        drop(unsafe { Box::from_raw(read) });
        // The dirty map and then the collector (with every retired object) drop as fields.
    }
}
