//! # gomap — Go's two hash maps, in Rust
//!
//! - [`HashMap`] / [`HashSet`]: Go's runtime map design (`hmap` / `bmap`) behind
//!   `std::collections::HashMap`'s API. Buckets of 8 slots with a tophash byte each, keys and
//!   values in separate arrays, overflow chains with a pre-allocated pool, load factor 6.5,
//!   and **incremental growth**: a growth only swaps in a new bucket array, and later writes
//!   evacuate the old buckets two at a time, so no insert ever pays for a whole rehash. Use it
//!   where a resize pause hurts (latency-sensitive services whose state keeps growing).
//!
//! ```
//! use gomap::HashMap;
//!
//! let mut map = HashMap::new();
//! for i in 0..100_000u64 {
//!     map.insert(i, i * 2); // never a long pause: growth is spread over the inserts
//! }
//! assert_eq!(map.get(&21), Some(&42));
//! let stats = map.stats(); // what Go keeps hidden
//! println!("B = {}, overflow buckets = {}", stats.b, stats.overflow_buckets);
//! ```
//!
//! ## Go → gomap names
//!
//! | Go (`runtime/map.go`)         | gomap                                               |
//! |-------------------------------|-----------------------------------------------------|
//! | `hmap`                        | `raw::RawMap` (count, B, buckets, oldbuckets, nevacuate, noverflow) |
//! | `bmap`, `bucketCnt`           | `raw::bucket::Bucket`, `BUCKET_CNT` = 8              |
//! | `tophash`, `emptyRest`, `emptyOne`, `evacuatedX/Y/Empty`, `minTopHash` | `raw::tophash` |
//! | `mapextra.nextOverflow`, `newoverflow` | `RawMap::next_overflow`, `new_overflow`    |
//! | `hashGrow`, `growWork`, `evacuate`, `advanceEvacuationMark` | `raw::grow`           |
//! | `overLoadFactor`, `tooManyOverflowBuckets` | same names, snake case                 |
//! | `mapiterinit` / `mapiternext` | `raw::iter::RawIter`                                 |
//! | `hash0`                       | the map's [`DefaultHashBuilder`] instance           |
//!
//! ## What differs from Go, and why
//! - Go's runtime throws "concurrent map writes"; Rust's `&mut` makes that impossible, so
//!   there is no `hashWriting` flag.
//! - Starting a growth does not zero the new array (Go does, in one insert: the remaining
//!   pause); evacuation initialises each destination bucket as it fills it.
//! - Iterators borrow the map, so they need not survive writes: they walk old and new arrays
//!   directly instead of rehashing keys (see `raw/iter.rs`).
//! - Maps shrink: `shrink_to_fit`, and automatically (incrementally, with hysteresis) from
//!   the first insert after mass deletes; `finish_growth` completes a growth that would
//!   otherwise wait for writes.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

mod error;
mod hash;
mod map;
mod primitive;
mod raw;
#[cfg(feature = "serde")]
mod serde_impl;
mod set;
mod sync_map;

pub use error::TryReserveError;
pub use hash::DefaultHashBuilder;
pub use map::HashMap;
pub use raw::{tophash, BucketView, ChainView, LayoutView, MapStats, SlotState, MIN_TOP_HASH};
pub use set::HashSet;
pub use sync_map::view::{EntryState, SyncMapLayout};
pub use sync_map::{SyncMap, SyncMapRef, SyncMapStats};

/// The README's Rust examples, compiled and run by `cargo test` as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

/// The map's entry and iterator types, as in `std::collections::hash_map`.
pub mod hash_map {
    pub use crate::map::{
        Drain, Entry, ExtractIf, IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys,
        OccupiedEntry, VacantEntry, Values, ValuesMut,
    };
}

/// The set's iterator types, as in `std::collections::hash_set`.
pub mod hash_set {
    pub use crate::set::{
        Difference, Drain, ExtractIf, Intersection, IntoIter, Iter, SymmetricDifference, Union,
    };
}
