//! The default hasher and the randomness behind iteration order.

use core::cell::Cell;
use core::hash::BuildHasher;

/// The default `BuildHasher` of [`HashMap`](crate::HashMap) and [`HashSet`](crate::HashSet).
///
/// It is [`foldhash`]'s fast `RandomState`: every instance carries its own random seed, which
/// is exactly what Go's per-map `hash0` is for (an attacker who does not know the seed cannot
/// aim keys at one bucket). foldhash was picked over SipHash (std's default; several times
/// slower on small keys) and ahash (comparable speed, but foldhash is smaller, dependency-free
/// and is hashbrown's own default since 0.15), so our benchmarks against hashbrown compare
/// tables, not hashers.
pub type DefaultHashBuilder = foldhash::fast::RandomState;

thread_local! {
    /// xorshift64* state for iteration randomisation, seeded once per thread.
    static ITER_RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // std's RandomState draws its keys from the OS once per thread; hashing a fresh
    // address-dependent value with it gives an unpredictable non-zero seed.
    let local = 0u8;
    std::collections::hash_map::RandomState::new().hash_one(core::ptr::addr_of!(local) as usize) | 1
}

/// A random `u64` for a new iterator's start bucket and slot offset (Go's `fastrand` in
/// `mapiterinit`). Not cryptographic: it only has to make iteration order unpredictable
/// enough that nobody relies on it.
pub(crate) fn random_u64() -> u64 {
    ITER_RNG.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}
