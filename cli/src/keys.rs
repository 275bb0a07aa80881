//! The key generator shared by the tour, the benchmarks and (re-implemented line for line in
//! `bench/go/main.go`) the Go side: the splitmix64 stream.

/// splitmix64's increment (2^64 / φ, odd).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output function: a bijection on `u64`, so distinct inputs give distinct keys.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `i`-th output (from 0) of the splitmix64 generator seeded with `seed`:
/// `mix(seed + (i + 1) * GAMMA)`. Distinct `i` give distinct keys.
#[inline]
pub fn key(seed: u64, i: u64) -> u64 {
    mix(seed.wrapping_add(i.wrapping_add(1).wrapping_mul(GAMMA)))
}

/// The 16-byte string form of a key used by the string workloads: its lower-case hex digits.
pub fn string_key(seed: u64, i: u64) -> String {
    format!("{:016x}", key(seed, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_stream() {
        // First outputs of the reference C implementation (Vigna) seeded with 0.
        assert_eq!(key(0, 0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(key(0, 1), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(key(0, 2), 0x06c4_5d18_8009_454f);
    }
}
