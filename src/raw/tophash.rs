//! The `tophash` byte of a slot, its reserved states, and word-at-a-time matching.
//!
//! Every slot of a bucket has one byte in the bucket's `tophash` array. A byte below
//! [`MIN_TOP_HASH`] is a state; a byte at or above it is the top 8 bits of the hash of the key
//! stored in the slot (bumped past the states, as Go's `tophash()` does). A lookup compares
//! all eight bytes of a bucket at once: the array is read as one `u64` and matched with SWAR
//! ("SIMD within a register") arithmetic, so a bucket costs a handful of ALU operations, not
//! eight compares and branches.

/// This slot is empty, and so are all slots after it in this bucket and in every overflow
/// bucket chained after it. Lookups stop here. Zero, so a zeroed bucket is an empty bucket.
pub(crate) const EMPTY_REST: u8 = 0;
/// This slot is empty, but slots after it may be full (it was deleted from).
pub(crate) const EMPTY_ONE: u8 = 1;
/// Old bucket only: the key/value of this slot were evacuated to the first ("X") half of the
/// new array (same low bits as the old bucket index).
pub(crate) const EVACUATED_X: u8 = 2;
/// Old bucket only: the key/value were evacuated to another half ("Y") of the new array.
pub(crate) const EVACUATED_Y: u8 = 3;
/// Old bucket only: the slot was empty when its bucket was evacuated.
pub(crate) const EVACUATED_EMPTY: u8 = 4;
/// The smallest tophash of a full slot.
pub(crate) const MIN_TOP_HASH: u8 = 5;

// The matching code below relies on these relations.
const _: () = assert!(EMPTY_REST == 0, "a zeroed bucket must read as empty");
const _: () = assert!(
    EMPTY_ONE == EMPTY_REST + 1,
    "is_empty is `tophash <= EMPTY_ONE`"
);
const _: () = assert!(EVACUATED_X > EMPTY_ONE && EVACUATED_EMPTY < MIN_TOP_HASH);
const _: () = assert!(EVACUATED_Y == EVACUATED_X + 1 && EVACUATED_EMPTY == EVACUATED_Y + 1);
const _: () = assert!(MIN_TOP_HASH == EVACUATED_EMPTY + 1);

/// The tophash of a full slot holding a key with this hash: the hash's top byte, moved out of
/// the range of the reserved states.
#[inline]
pub(crate) fn tophash(hash: u64) -> u8 {
    let top = (hash >> 56) as u8;
    if top < MIN_TOP_HASH {
        top + MIN_TOP_HASH
    } else {
        top
    }
}

/// Whether a tophash byte marks an empty slot (Go's `isEmpty`).
#[inline]
pub(crate) fn is_empty(top: u8) -> bool {
    top <= EMPTY_ONE
}

/// Whether a tophash byte marks a full slot.
#[inline]
pub(crate) fn is_full(top: u8) -> bool {
    top >= MIN_TOP_HASH
}

/// Whether the first tophash of a bucket says the bucket was evacuated (Go's `evacuated`).
#[inline]
pub(crate) fn is_evacuated_mark(top: u8) -> bool {
    (EVACUATED_X..=EVACUATED_EMPTY).contains(&top)
}

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

#[inline]
const fn repeat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The eight tophash bytes of a bucket read as one word, slot `i` in bits `8*i..8*i+8`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Group(u64);

impl Group {
    #[inline]
    pub(crate) fn load(bytes: [u8; 8]) -> Self {
        Group(u64::from_le_bytes(bytes))
    }

    /// Slots whose byte is `>= n` (for `1 <= n <= 128`). Exact: `(b & 0x7f) + (0x80 - n)`
    /// carries into the high bit iff the low seven bits reach `n`, and never into the next byte.
    #[inline]
    fn at_least(self, n: u8) -> SlotMask {
        SlotMask((((self.0 & LOW7) + repeat(0x80 - n)) | self.0) & HIGH)
    }

    /// Slots whose tophash equals `top`. Exact (no false positives), unlike the classic
    /// `(x - 0x01..) & !x & 0x80..` trick, so no key is compared for nothing.
    #[inline]
    pub(crate) fn match_byte(self, top: u8) -> SlotMask {
        let x = self.0 ^ repeat(top);
        SlotMask(!(((x & LOW7) + LOW7) | x) & HIGH)
    }

    /// Full slots.
    #[inline]
    pub(crate) fn match_full(self) -> SlotMask {
        self.at_least(MIN_TOP_HASH)
    }

    /// Empty slots (`emptyOne` or `emptyRest`).
    #[inline]
    pub(crate) fn match_empty(self) -> SlotMask {
        SlotMask(!self.at_least(EMPTY_ONE + 1).0 & HIGH)
    }

    /// Whether any slot is `emptyRest`: the chain holds nothing past this bucket.
    #[inline]
    pub(crate) fn has_empty_rest(self) -> bool {
        self.match_byte(EMPTY_REST).any()
    }
}

/// A set of slot indices, one high bit per byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SlotMask(u64);

impl SlotMask {
    #[inline]
    pub(crate) fn any(self) -> bool {
        self.0 != 0
    }

    /// The lowest slot in the set.
    #[inline]
    pub(crate) fn first(self) -> Option<usize> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() as usize / 8)
        }
    }

    /// The set rotated so that slot `offset` comes first (used by iteration's random offset).
    #[inline]
    pub(crate) fn rotate(self, offset: usize) -> SlotMask {
        SlotMask(self.0.rotate_right(8 * offset as u32))
    }
}

impl Iterator for SlotMask {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        let i = self.first()?;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: [u8; 8], pred: impl Fn(u8) -> bool) -> Vec<usize> {
        (0..8).filter(|&i| pred(bytes[i])).collect()
    }

    #[test]
    fn swar_matches_agree_with_bytewise_on_all_interesting_bytes() {
        // Every byte value in every position, against neighbours that stress carries/borrows.
        for v in 0..=255u8 {
            for fill in [0u8, 1, 4, 5, 0x7f, 0x80, 0xff, v] {
                for pos in 0..8 {
                    let mut bytes = [fill; 8];
                    bytes[pos] = v;
                    let g = Group::load(bytes);
                    for top in [0u8, 1, 5, 0x7f, 0x80, 0xfe, 0xff, v] {
                        let got: Vec<_> = g.match_byte(top).collect();
                        assert_eq!(got, naive(bytes, |b| b == top), "{bytes:?} == {top}");
                    }
                    let full: Vec<_> = g.match_full().collect();
                    assert_eq!(full, naive(bytes, is_full), "{bytes:?} full");
                    let empty: Vec<_> = g.match_empty().collect();
                    assert_eq!(empty, naive(bytes, is_empty), "{bytes:?} empty");
                    assert_eq!(g.has_empty_rest(), bytes.contains(&EMPTY_REST));
                }
            }
        }
    }

    #[test]
    fn tophash_never_collides_with_states() {
        for top in 0..=255u64 {
            let t = tophash(top << 56);
            assert!(t >= MIN_TOP_HASH);
            if top >= MIN_TOP_HASH as u64 {
                assert_eq!(t as u64, top);
            }
        }
    }

    #[test]
    fn rotate_starts_at_offset() {
        let m = Group::load([9, 0, 9, 0, 0, 9, 0, 0]).match_full();
        let rotated: Vec<_> = m.rotate(3).map(|i| (i + 3) % 8).collect();
        assert_eq!(rotated, vec![5, 0, 2]);
    }
}
