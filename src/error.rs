//! The error of the fallible allocation API (`try_reserve`).

use core::alloc::Layout;
use core::fmt;

/// Why [`HashMap::try_reserve`](crate::HashMap::try_reserve) could not make room.
///
/// std's own `TryReserveError` cannot be built outside std, so this is hashbrown's shape: the
/// two causes a caller can act on, with the layout that the allocator refused.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TryReserveError {
    /// The capacity asked for does not fit `usize`, or its bucket array would not fit the
    /// address space.
    CapacityOverflow,
    /// The allocator refused the bucket array.
    AllocError {
        /// The layout of the allocation that failed.
        layout: Layout,
    },
}

impl TryReserveError {
    /// What the infallible API does with the error: std's "capacity overflow" panic, or the
    /// allocation-failure handler (which aborts by default).
    pub(crate) fn fail(self) -> ! {
        match self {
            TryReserveError::CapacityOverflow => panic!("capacity overflow"),
            TryReserveError::AllocError { layout } => std::alloc::handle_alloc_error(layout),
        }
    }
}

impl fmt::Display for TryReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("memory allocation failed")?;
        match self {
            TryReserveError::CapacityOverflow => {
                f.write_str(" because the computed capacity exceeded the collection's maximum")
            }
            TryReserveError::AllocError { layout } => write!(
                f,
                " because the memory allocator returned an error ({} bytes)",
                layout.size()
            ),
        }
    }
}

impl std::error::Error for TryReserveError {}
