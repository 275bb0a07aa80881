//! The `tophash` byte of a slot, its reserved states, and word-at-a-time matching.
//!
//! Every slot of a bucket has one byte in the bucket's `tophash` array. A byte below
//! [`MIN_TOP_HASH`] is a state; a byte at or above it is the top 8 bits of the hash of the key
//! stored in the slot (bumped past the states, as Go's `tophash()` does). A lookup compares
//! all eight bytes of a bucket at once: the array is read as one `u64` and matched with one
//! SSE2 compare on x86_64, or with SWAR ("SIMD within a register") arithmetic elsewhere, so a
//! bucket costs a handful of instructions, not eight compares and branches.

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
/// The smallest tophash of a full slot (Go's `minTopHash`); the bytes below it are slot states
/// ([`SlotState`](crate::SlotState)).
pub const MIN_TOP_HASH: u8 = 5;

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
///
/// Read from a 256-byte table (two instructions, on every lookup's path) rather than computed
/// with a compare and a conditional move. Public so that tools reading a
/// [`LayoutView`](crate::LayoutView) can tell which slots a key with a given hash would match.
///
/// ```
/// assert_eq!(gomap::tophash(0xab << 56), 0xab);
/// assert_eq!(gomap::tophash(0x01 << 56), 0x01 + gomap::MIN_TOP_HASH);
/// ```
#[inline]
pub fn tophash(hash: u64) -> u8 {
    TOPHASH[(hash >> 56) as usize]
}

/// `TOPHASH[top]` is the tophash of a hash whose top byte is `top` (Go's `tophash`: bytes below
/// `MIN_TOP_HASH` are moved up by `MIN_TOP_HASH`).
///
/// A `const`, not a `static`: `tophash` is inlined into the user's crate, and a `static` of
/// this crate is reached from there through the GOT, one more dependent load before the
/// tophash compare (the insert loop, short of registers, reloaded the GOT entry on every
/// insert). A `const` table is emitted into the user's crate and read RIP-relative.
/// `cargo run --release --example insert_best_of -- 1000 3000 u64 presized`, the two builds
/// alternated four times: 9.2-10.0 -> 8.2-9.4 ns per insert (the same at 10^5 entries, where
/// an insert waits for memory). Computing the tophash instead (compare, conditional move, add)
/// sped inserts up as much but slowed lookups slightly, in a scratch A/B.
const TOPHASH: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut top = 0;
    while top < 256 {
        table[top] = if top < MIN_TOP_HASH as usize {
            top as u8 + MIN_TOP_HASH
        } else {
            top as u8
        };
        top += 1;
    }
    table
};

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

/// The eight tophash bytes of a bucket read as one word, slot `i` in byte `i`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Group(u64);

impl Group {
    #[inline]
    pub(crate) fn load(bytes: [u8; 8]) -> Self {
        Group(u64::from_le_bytes(bytes))
    }

    /// Slots whose tophash equals `top`. Exact: no false positives, so no key is compared
    /// for nothing.
    #[inline]
    pub(crate) fn match_byte(self, top: u8) -> SlotMask {
        imp::match_byte(self.0, top)
    }

    /// Full slots.
    #[inline]
    pub(crate) fn match_full(self) -> SlotMask {
        imp::match_at_least(self.0, MIN_TOP_HASH)
    }

    /// Empty slots (`emptyOne` or `emptyRest`).
    #[inline]
    pub(crate) fn match_empty(self) -> SlotMask {
        imp::match_at_most(self.0, EMPTY_ONE)
    }

    /// Whether any slot is `emptyRest`: the chain holds nothing past this bucket.
    #[inline]
    pub(crate) fn has_empty_rest(self) -> bool {
        self.match_byte(EMPTY_REST).any()
    }
}

/// SSE2 (always present on x86_64): one compare and one `pmovmskb` give a bit per slot,
/// a shorter dependency chain than SWAR on the lookup path.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use super::SlotMask;
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cvtsi64_si128, _mm_max_epu8, _mm_min_epu8, _mm_movemask_epi8,
    };

    /// Bits per slot in a `SlotMask`.
    pub(super) const STRIDE: u32 = 1;

    /// Compares the word's bytes, widened to a vector, with `f`, as a slot mask. Only the
    /// low 8 lanes carry tophash bytes (the conversion zero-extends the word).
    #[inline]
    fn compare(word: u64, n: u8, f: impl FnOnce(__m128i, __m128i) -> __m128i) -> SlotMask {
        // SAFETY: these intrinsics only need SSE2, which this module is compiled for
        // (`cfg(target_feature = "sse2")`); none of them touches memory.
        unsafe {
            let v = _mm_cvtsi64_si128(word as i64);
            // Broadcast `n` with a multiply and one move: shorter than `_mm_set1_epi8`'s
            // shuffle sequence, and only the low 8 lanes matter.
            let t = _mm_cvtsi64_si128((u64::from(n) * 0x0101_0101_0101_0101) as i64);
            let m = _mm_movemask_epi8(f(v, t));
            SlotMask((m as u32 & 0xff) as u64)
        }
    }

    #[inline]
    pub(super) fn match_byte(word: u64, top: u8) -> SlotMask {
        // SAFETY: SSE2 is statically enabled, see `compare`.
        compare(word, top, |v, t| unsafe { _mm_cmpeq_epi8(v, t) })
    }

    #[inline]
    pub(super) fn match_at_least(word: u64, n: u8) -> SlotMask {
        // SAFETY: SSE2 is statically enabled, see `compare`.
        compare(word, n, |v, t| unsafe {
            _mm_cmpeq_epi8(_mm_max_epu8(v, t), v)
        })
    }

    #[inline]
    pub(super) fn match_at_most(word: u64, n: u8) -> SlotMask {
        // SAFETY: SSE2 is statically enabled, see `compare`.
        compare(word, n, |v, t| unsafe {
            _mm_cmpeq_epi8(_mm_min_epu8(v, t), v)
        })
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use sse2 as imp;
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use swar as imp;

/// Portable SWAR: byte tricks on a `u64`, one high bit per slot. Compiled everywhere so its
/// tests run on every machine.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
mod swar {
    use super::SlotMask;

    pub(super) const STRIDE: u32 = 8;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    #[inline]
    const fn repeat(byte: u8) -> u64 {
        u64::from_ne_bytes([byte; 8])
    }

    /// Exact zero-byte test: `(b & 0x7f) + 0x7f` sets the high bit iff the low seven bits are
    /// non-zero, and never carries into the next byte.
    #[inline]
    pub(super) fn match_byte(word: u64, top: u8) -> SlotMask {
        let x = word ^ repeat(top);
        SlotMask(!(((x & LOW7) + LOW7) | x) & HIGH)
    }

    /// Bytes `>= n` (for `1 <= n <= 128`): `(b & 0x7f) + (0x80 - n)` carries into the high
    /// bit iff the low seven bits reach `n`.
    #[inline]
    pub(super) fn match_at_least(word: u64, n: u8) -> SlotMask {
        SlotMask((((word & LOW7) + repeat(0x80 - n)) | word) & HIGH)
    }

    #[inline]
    pub(super) fn match_at_most(word: u64, n: u8) -> SlotMask {
        SlotMask(!match_at_least(word, n + 1).0 & HIGH)
    }
}

/// A set of slot indices: bit `STRIDE * i (+ STRIDE - 1)` for slot `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SlotMask(u64);

impl SlotMask {
    #[inline]
    pub(crate) fn any(self) -> bool {
        self.0 != 0
    }

    /// The set as one byte, bit `i` for slot `i` (to merge two buckets' sets into one word).
    #[inline]
    pub(crate) fn to_byte(self) -> u8 {
        Self::byte_of(self.0, imp::STRIDE)
    }

    #[inline]
    fn byte_of(bits: u64, stride: u32) -> u8 {
        if stride == 1 {
            bits as u8
        } else {
            // SWAR: one high bit per byte. Shifted down to bit 8i, the multiply gathers bit 8i
            // into bit 56 + i, and no two partial products collide or carry.
            (((bits >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56) as u8
        }
    }

    /// Number of slots in the set.
    #[inline]
    pub(crate) fn count(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The lowest slot in the set.
    #[inline]
    pub(crate) fn first(self) -> Option<usize> {
        if self.0 == 0 {
            None
        } else {
            Some((self.0.trailing_zeros() / imp::STRIDE) as usize)
        }
    }

    /// The set rotated so that slot `offset` comes first (used by iteration's random offset):
    /// slot `s` of the result stands for slot `(s + offset) % 8`.
    /// One rotate instruction: the mask is exactly 8 slots of `STRIDE` bits wide.
    #[inline]
    pub(crate) fn rotate(self, offset: usize) -> SlotMask {
        let shift = imp::STRIDE * (offset as u32 % 8);
        SlotMask(if imp::STRIDE == 1 {
            u64::from((self.0 as u8).rotate_right(shift))
        } else {
            self.0.rotate_right(shift)
        })
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

/// The tophash word an evacuated old bucket is left with: `evacuatedX` or `evacuatedY` for
/// each slot that held an entry, `evacuatedEmpty` for the others.
///
/// Built in a register, a slot at a time, and stored whole at the end. Built as a byte array
/// on the stack, it was stored a byte per moved entry and then loaded as one word: a load the
/// store buffer cannot forward from byte stores, so it waited until every store before it had
/// reached the cache, the stores of the entries just moved into new buckets (cache misses)
/// included. `perf annotate` put half of `evacuate`'s samples on that load when growing to
/// 10^5 string keys.
#[derive(Clone, Copy)]
pub(crate) struct EvacuationMarks(u64);

impl EvacuationMarks {
    /// Every slot `evacuatedEmpty`.
    #[inline]
    pub(crate) fn new() -> Self {
        EvacuationMarks(u64::from_le_bytes([EVACUATED_EMPTY; 8]))
    }

    /// Marks slot `i` (still `evacuatedEmpty`) as moved to Y if `to_y`, else to X.
    #[inline]
    pub(crate) fn set(&mut self, i: usize, to_y: bool) {
        debug_assert_eq!(self.bytes()[i], EVACUATED_EMPTY, "slot {i} marked twice");
        let mark = EVACUATED_X + u8::from(to_y);
        self.0 ^= u64::from(EVACUATED_EMPTY ^ mark) << (8 * i);
    }

    /// The marks as tophash bytes (slot `i` at index `i`).
    #[inline]
    pub(crate) fn bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: [u8; 8], pred: impl Fn(u8) -> bool) -> Vec<usize> {
        (0..8).filter(|&i| pred(bytes[i])).collect()
    }

    /// Slot indices of a raw mask of the given stride.
    fn slots(mask: SlotMask, stride: u32) -> Vec<usize> {
        (0..8)
            .filter(|&i| mask.0 >> (stride * i + stride - 1) & 1 == 1)
            .map(|i| i as usize)
            .collect()
    }

    #[test]
    fn group_matches_agree_with_bytewise_on_all_interesting_bytes() {
        type Impl = (
            u32,
            fn(u64, u8) -> SlotMask,
            fn(u64, u8) -> SlotMask,
            fn(u64, u8) -> SlotMask,
        );
        let mut impls: Vec<Impl> = vec![(
            8,
            swar::match_byte,
            swar::match_at_least,
            swar::match_at_most,
        )];
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        impls.push((
            1,
            sse2::match_byte,
            sse2::match_at_least,
            sse2::match_at_most,
        ));
        // Every byte value in every position, against neighbours that stress carries/borrows.
        // Under Miri (some 10^5 times slower) the values around each boundary only.
        let values: Vec<u8> = if cfg!(miri) {
            vec![0, 1, 2, 3, 4, 5, 6, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff]
        } else {
            (0..=255).collect()
        };
        for (stride, eq, at_least, at_most) in impls {
            for &v in &values {
                for fill in [0u8, 1, 4, 5, 0x7f, 0x80, 0xff, v] {
                    for pos in 0..8 {
                        let mut bytes = [fill; 8];
                        bytes[pos] = v;
                        let w = u64::from_le_bytes(bytes);
                        for top in [0u8, 1, 5, 0x7f, 0x80, 0xfe, 0xff, v] {
                            assert_eq!(slots(eq(w, top), stride), naive(bytes, |b| b == top));
                        }
                        assert_eq!(
                            slots(at_least(w, MIN_TOP_HASH), stride),
                            naive(bytes, is_full)
                        );
                        assert_eq!(slots(at_most(w, EMPTY_ONE), stride), naive(bytes, is_empty));
                    }
                }
            }
        }
    }

    #[test]
    fn evacuation_marks_say_where_each_slot_went() {
        let mut marks = EvacuationMarks::new();
        assert_eq!(marks.bytes(), [EVACUATED_EMPTY; 8]);
        marks.set(0, false);
        marks.set(3, true);
        marks.set(7, true);
        marks.set(5, false);
        let (x, y, e) = (EVACUATED_X, EVACUATED_Y, EVACUATED_EMPTY);
        assert_eq!(marks.bytes(), [x, e, e, y, e, x, e, y]);
    }

    #[test]
    fn group_api_finds_slots() {
        let g = Group::load([9, 0, 9, 1, 0, 9, 0, 0]);
        assert_eq!(g.match_byte(9).collect::<Vec<_>>(), [0, 2, 5]);
        assert_eq!(g.match_full().collect::<Vec<_>>(), [0, 2, 5]);
        assert_eq!(g.match_empty().first(), Some(1));
        assert!(g.has_empty_rest());
        assert!(!Group::load([9; 8]).has_empty_rest());
    }

    #[test]
    fn tophash_never_collides_with_states() {
        for top in 0..=255u64 {
            let t = tophash(top << 56);
            assert!(t >= MIN_TOP_HASH);
            if top >= MIN_TOP_HASH as u64 {
                assert_eq!(t as u64, top);
            } else {
                assert_eq!(
                    t as u64,
                    top + MIN_TOP_HASH as u64,
                    "Go's bump, not a clamp"
                );
            }
        }
    }

    #[test]
    fn to_byte_has_bit_i_for_slot_i_in_both_strides() {
        type AtLeast = fn(u64, u8) -> SlotMask;
        let mut impls: Vec<(u32, AtLeast)> = vec![(8, swar::match_at_least)];
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        impls.push((1, sse2::match_at_least));
        for (stride, at_least) in impls {
            for pattern in 0..=255u8 {
                let bytes: [u8; 8] = core::array::from_fn(|i| {
                    if pattern >> i & 1 == 1 {
                        MIN_TOP_HASH
                    } else {
                        EMPTY_ONE
                    }
                });
                let mask = at_least(u64::from_le_bytes(bytes), MIN_TOP_HASH);
                assert_eq!(
                    SlotMask::byte_of(mask.0, stride),
                    pattern,
                    "stride {stride}"
                );
            }
        }
    }

    #[test]
    fn rotate_starts_at_offset() {
        let m = Group::load([9, 0, 9, 0, 0, 9, 0, 0]).match_full();
        for offset in 0..8 {
            let rotated: Vec<_> = m.rotate(offset).map(|i| (i + offset) % 8).collect();
            let mut want = vec![0usize, 2, 5];
            want.sort_by_key(|&i| (i + 8 - offset) % 8);
            assert_eq!(rotated, want, "offset {offset}");
        }
    }
}
