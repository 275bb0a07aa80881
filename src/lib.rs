//! gomap: placeholder while the skeleton is set up.

// TEMPORARY (sync-map branch): stands in for the lead's `gomap::HashMap` until it lands on main.
// `SyncMap` uses only std's `HashMap` API through `crate::HashMap`, so replacing this alias with
// the real map is a no-op for it. Delete these lines when merging the real `HashMap`.
#[doc(hidden)]
pub type HashMap<K, V, S = std::collections::hash_map::RandomState> =
    std::collections::HashMap<K, V, S>;

mod primitive;
mod sync_map;
pub use sync_map::{SyncMap, SyncMapRef, SyncMapStats};
