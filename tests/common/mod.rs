//! Shared test helpers: hashers that make the nastiest layouts.
#![allow(dead_code)]

use std::hash::{BuildHasher, Hasher};

/// Every key hashes to the same value: one bucket, one long overflow chain, all tophashes
/// equal, so every lookup compares keys along the whole chain.
#[derive(Clone, Copy, Default, Debug)]
pub struct Colliding;

impl BuildHasher for Colliding {
    type Hasher = CollidingHasher;
    fn build_hasher(&self) -> CollidingHasher {
        CollidingHasher
    }
}

#[derive(Debug)]
pub struct CollidingHasher;

impl Hasher for CollidingHasher {
    fn finish(&self) -> u64 {
        0x4200_0000_0000_0000
    }
    fn write(&mut self, _: &[u8]) {}
}

/// Few distinct hashes (key mod 4 spread over the top and low bits): short chains that
/// collide, and growth that splits them.
#[derive(Clone, Copy, Default, Debug)]
pub struct FewHashes;

impl BuildHasher for FewHashes {
    type Hasher = FewHasher;
    fn build_hasher(&self) -> FewHasher {
        FewHasher(0)
    }
}

#[derive(Debug)]
pub struct FewHasher(u64);

impl Hasher for FewHasher {
    fn finish(&self) -> u64 {
        let k = self.0 % 4;
        (k << 62) | (k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 8)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.wrapping_mul(31).wrapping_add(b as u64);
        }
    }
}

/// Identity-like hasher for u64 keys: reproducible layouts.
#[derive(Clone, Copy, Default, Debug)]
pub struct Mix;

impl BuildHasher for Mix {
    type Hasher = MixHasher;
    fn build_hasher(&self) -> MixHasher {
        MixHasher(0)
    }
}

#[derive(Debug)]
pub struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_add(self.0 >> 56);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

/// `hash(k) = k` for integer keys: the test chooses bucket indices (low bits) directly.
#[derive(Clone, Copy, Default, Debug)]
pub struct Identity;

impl BuildHasher for Identity {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

#[derive(Debug)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unimplemented_for_tests()
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn unimplemented_for_tests() {
    panic!("Identity hashes u64 keys only");
}
