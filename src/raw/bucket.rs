//! The bucket (Go's `bmap`) and the bucket array: memory layout only.
//!
//! A bucket is one block of memory laid out as in Go:
//!
//! ```text
//! +----------------+------------------+------------------+------------------+
//! | tophash [u8;8] | keys   [K; 8]    | values [V; 8]    | overflow *bucket |
//! +----------------+------------------+------------------+------------------+
//! ```
//!
//! Keys and values sit in separate arrays so that e.g. `u8` keys with `u64` values need no
//! padding between pairs. A key or value larger than [`MAX_INLINE`] bytes is stored out of
//! line, boxed (Go's `indirectkey` / `indirectelem`): the bucket then holds a pointer, so an
//! evacuation moves 8 bytes instead of the whole object and a bucket stays a few cache lines.
//!
//! The layout is computed per `(K, V)` at compile time ([`BucketLayout`]), the way Go's
//! compiler computes `bucketsize`; slots are uninitialised until their tophash says full.

use core::alloc::Layout;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::{self, NonNull};
use std::alloc::{alloc, alloc_zeroed, dealloc, handle_alloc_error};

use super::tophash::{Group, EMPTY_REST};
use crate::error::TryReserveError;

/// Slots per bucket (Go's `bucketCnt`).
pub(crate) const BUCKET_CNT: usize = 8;
/// Keys and values larger than this are boxed (Go's `maxKeySize` / `maxElemSize`).
pub(crate) const MAX_INLINE: usize = 128;

const fn round_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// How a `T` is kept in a slot: inline, or boxed when larger than [`MAX_INLINE`].
pub(crate) struct Stored<T>(PhantomData<T>);

impl<T> Stored<T> {
    /// Whether `T` is stored out of line (Go's `indirectkey` / `indirectelem`).
    ///
    /// `RUSTFLAGS="--cfg gomap_inline_all"` stores every key and value inline instead: a build
    /// for `examples/indirect_storage.rs` (`bench/indirect.sh` runs it against the normal
    /// build), which measures whether boxing pays; see the README's "How it works".
    pub(crate) const INDIRECT: bool = !cfg!(gomap_inline_all) && size_of::<T>() > MAX_INLINE;
    /// Whether a stored `T` must be dropped: `T` needs it, or it sits in a box.
    pub(crate) const NEEDS_DROP: bool = Self::INDIRECT || core::mem::needs_drop::<T>();
    const SIZE: usize = if Self::INDIRECT {
        size_of::<*mut T>()
    } else {
        size_of::<T>()
    };
    const ALIGN: usize = if Self::INDIRECT {
        align_of::<*mut T>()
    } else {
        align_of::<T>()
    };

    /// Moves `value` into the slot at `slot`.
    ///
    /// # Safety
    /// `slot` is a properly aligned, writable slot of this type that holds no live value.
    #[inline]
    unsafe fn write(slot: *mut u8, value: T) {
        if Self::INDIRECT {
            let boxed = Box::into_raw(Box::new(value));
            // SAFETY: the caller guarantees the slot is writable and aligned for a pointer.
            unsafe { slot.cast::<*mut T>().write(boxed) }
        } else {
            // SAFETY: the caller guarantees the slot is writable and aligned for `T`.
            unsafe { slot.cast::<T>().write(value) }
        }
    }

    /// Moves the value out of the slot, leaving it logically uninitialised.
    ///
    /// # Safety
    /// The slot holds a live value, which the caller now owns.
    #[inline]
    unsafe fn read(slot: *mut u8) -> T {
        if Self::INDIRECT {
            // SAFETY: the slot holds a pointer made by `Box::into_raw` in `write`.
            unsafe { *Box::from_raw(slot.cast::<*mut T>().read()) }
        } else {
            // SAFETY: the slot holds a live, aligned `T`.
            unsafe { slot.cast::<T>().read() }
        }
    }

    /// A pointer to the value held in the slot.
    ///
    /// # Safety
    /// The slot holds a live value.
    #[inline]
    unsafe fn get(slot: *mut u8) -> *mut T {
        if Self::INDIRECT {
            // SAFETY: the slot holds a pointer made by `Box::into_raw`.
            unsafe { slot.cast::<*mut T>().read() }
        } else {
            slot.cast::<T>()
        }
    }

    /// Drops the value held in the slot.
    ///
    /// # Safety
    /// The slot holds a live value, which is dead afterwards.
    #[inline]
    unsafe fn drop_in_place(slot: *mut u8) {
        if Self::INDIRECT {
            // SAFETY: the slot holds a pointer made by `Box::into_raw`.
            unsafe { drop(Box::from_raw(slot.cast::<*mut T>().read())) }
        } else {
            // SAFETY: the slot holds a live `T`.
            unsafe { ptr::drop_in_place(slot.cast::<T>()) }
        }
    }
}

/// The byte layout of a `Bucket<K, V>`, computed at compile time.
pub(crate) struct BucketLayout<K, V>(PhantomData<(K, V)>);

impl<K, V> BucketLayout<K, V> {
    const KEYS: usize = round_up(BUCKET_CNT, Stored::<K>::ALIGN);
    const VALUES: usize = round_up(
        Self::KEYS + BUCKET_CNT * Stored::<K>::SIZE,
        Stored::<V>::ALIGN,
    );
    const OVERFLOW: usize = round_up(
        Self::VALUES + BUCKET_CNT * Stored::<V>::SIZE,
        align_of::<*mut u8>(),
    );
    /// Alignment of every bucket.
    pub(crate) const ALIGN: usize = max(
        max(Stored::<K>::ALIGN, Stored::<V>::ALIGN),
        align_of::<*mut u8>(),
    );
    /// Size of one bucket, a multiple of its alignment so buckets tile an array.
    pub(crate) const SIZE: usize = round_up(Self::OVERFLOW + size_of::<*mut u8>(), Self::ALIGN);
}

/// A pointer to one bucket. `Copy`; validity is the caller's business (see each method).
pub(crate) struct Bucket<K, V> {
    ptr: NonNull<u8>,
    marker: PhantomData<(*mut K, *mut V)>,
}

impl<K, V> Clone for Bucket<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for Bucket<K, V> {}
impl<K, V> PartialEq for Bucket<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}
impl<K, V> Eq for Bucket<K, V> {}

impl<K, V> core::fmt::Debug for Bucket<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Bucket({:p})", self.ptr)
    }
}

/// Asks the CPU to start loading the cache line holding `p` (a no-op off x86_64).
#[inline]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never dereferences or faults, whatever the address;
    // SSE, which provides it, is part of the x86_64 baseline.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

// All methods below take `self` by value and are `unsafe` with one shared contract:
//
// # Safety (for every method of `Bucket`)
// `self` points to an initialised bucket (tophash and overflow written) of this `(K, V)`
// layout, alive for the duration of the call, and no reference obtained from another method
// aliases what a `&mut`-producing or writing method touches. Slot methods additionally need
// `i < BUCKET_CNT` and, where they read a key or value, a full tophash at `i`.
impl<K, V> Bucket<K, V> {
    #[inline]
    pub(crate) fn from_ptr(ptr: NonNull<u8>) -> Self {
        Bucket {
            ptr,
            marker: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn as_ptr(self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Asks the CPU to start loading this bucket's cache lines (at most four: tophash, keys,
    /// values, overflow link for small pairs) without waiting for them. For a walk that knows
    /// which scattered bucket it will need next. A hint: it reads nothing, cannot fault, and
    /// works on any address, so it needs none of the contract below.
    #[inline]
    pub(crate) fn prefetch(self) {
        const LINE: usize = 64;
        let first = self.as_ptr() as usize & !(LINE - 1);
        let last = (self.as_ptr() as usize + BucketLayout::<K, V>::SIZE - 1) & !(LINE - 1);
        let lines = ((last - first) / LINE + 1).min(4);
        for line in 0..lines {
            prefetch_line(self.as_ptr().wrapping_add(line * LINE));
        }
    }

    /// Asks the CPU to start loading the cache line of the overflow link, which lies two
    /// lines past the tophash for small pairs: a probe that finds no `emptyRest` in a full
    /// bucket would otherwise wait for one miss, then another. A hint, like [`Bucket::prefetch`].
    #[inline]
    pub(crate) fn prefetch_overflow_link(self) {
        prefetch_line(self.as_ptr().wrapping_add(BucketLayout::<K, V>::OVERFLOW));
    }

    /// Writes an empty bucket (all `emptyRest`, no overflow) over uninitialised memory.
    ///
    /// # Safety
    /// `self` points to `BucketLayout::<K, V>::SIZE` writable bytes, aligned for a bucket,
    /// holding no live key or value.
    #[inline]
    pub(crate) unsafe fn init_empty(self) {
        // SAFETY: the caller guarantees the bytes are ours to write.
        unsafe {
            self.as_ptr()
                .cast::<[u8; BUCKET_CNT]>()
                .write([EMPTY_REST; BUCKET_CNT]);
            self.set_overflow(None);
        }
    }

    /// The tophash byte of slot `i`. See the type-level safety contract.
    #[inline]
    pub(crate) unsafe fn tophash(self, i: usize) -> u8 {
        debug_assert!(i < BUCKET_CNT);
        // SAFETY: the tophash array is the first 8 bytes of an initialised bucket.
        unsafe { *self.as_ptr().add(i) }
    }

    /// All eight tophash bytes.
    #[inline]
    pub(crate) unsafe fn tophashes(self) -> [u8; BUCKET_CNT] {
        // SAFETY: the tophash array is the first 8 bytes of an initialised bucket; `u8`
        // arrays have alignment 1.
        unsafe { self.as_ptr().cast::<[u8; BUCKET_CNT]>().read() }
    }

    /// The tophash bytes as one group, matched all at once.
    #[inline]
    pub(crate) unsafe fn group(self) -> Group {
        // SAFETY: forwarded from the caller.
        Group::load(unsafe { self.tophashes() })
    }

    #[inline]
    pub(crate) unsafe fn set_tophash(self, i: usize, top: u8) {
        debug_assert!(i < BUCKET_CNT);
        // SAFETY: the tophash array is the first 8 bytes of an initialised bucket.
        unsafe { *self.as_ptr().add(i) = top }
    }

    #[inline]
    pub(crate) unsafe fn set_tophashes(self, tops: [u8; BUCKET_CNT]) {
        // SAFETY: as in `tophashes`.
        unsafe { self.as_ptr().cast::<[u8; BUCKET_CNT]>().write(tops) }
    }

    /// The next bucket of the chain (Go's `b.overflow(t)`).
    #[inline]
    pub(crate) unsafe fn overflow(self) -> Option<Bucket<K, V>> {
        // SAFETY: the overflow pointer lives at a pointer-aligned offset inside the bucket.
        let p = unsafe {
            self.as_ptr()
                .add(BucketLayout::<K, V>::OVERFLOW)
                .cast::<*mut u8>()
                .read()
        };
        NonNull::new(p).map(Bucket::from_ptr)
    }

    #[inline]
    pub(crate) unsafe fn set_overflow(self, next: Option<Bucket<K, V>>) {
        let p = next.map_or(ptr::null_mut(), Bucket::as_ptr);
        // SAFETY: as in `overflow`.
        unsafe {
            self.as_ptr()
                .add(BucketLayout::<K, V>::OVERFLOW)
                .cast::<*mut u8>()
                .write(p)
        }
    }

    #[inline]
    fn key_slot(self, i: usize) -> *mut u8 {
        // In bounds of the bucket for i < BUCKET_CNT; wrapping_add keeps this function safe.
        self.as_ptr()
            .wrapping_add(BucketLayout::<K, V>::KEYS + i * Stored::<K>::SIZE)
    }

    #[inline]
    fn value_slot(self, i: usize) -> *mut u8 {
        self.as_ptr()
            .wrapping_add(BucketLayout::<K, V>::VALUES + i * Stored::<V>::SIZE)
    }

    /// A pointer to the key of full slot `i`.
    #[inline]
    pub(crate) unsafe fn key(self, i: usize) -> *mut K {
        // SAFETY: slot `i` is full (caller), so its key slot holds a live key.
        unsafe { Stored::<K>::get(self.key_slot(i)) }
    }

    /// A pointer to the value of full slot `i`.
    #[inline]
    pub(crate) unsafe fn value(self, i: usize) -> *mut V {
        // SAFETY: slot `i` is full (caller), so its value slot holds a live value.
        unsafe { Stored::<V>::get(self.value_slot(i)) }
    }

    /// Writes a pair into empty slot `i` (the tophash is the caller's to set).
    #[inline]
    pub(crate) unsafe fn write(self, i: usize, key: K, value: V) {
        // SAFETY: slot `i` is empty (caller), so nothing live is overwritten.
        unsafe {
            Stored::<K>::write(self.key_slot(i), key);
            Stored::<V>::write(self.value_slot(i), value);
        }
    }

    /// Moves the pair out of full slot `i` (the tophash is the caller's to clear).
    #[inline]
    pub(crate) unsafe fn take(self, i: usize) -> (K, V) {
        // SAFETY: slot `i` is full (caller); the caller marks it empty afterwards.
        unsafe {
            (
                Stored::<K>::read(self.key_slot(i)),
                Stored::<V>::read(self.value_slot(i)),
            )
        }
    }

    /// Drops the pair of full slot `i`. The value is dropped even if the key's drop panics.
    #[inline]
    pub(crate) unsafe fn drop_slot(self, i: usize) {
        struct DropValue(*mut u8, unsafe fn(*mut u8));
        impl Drop for DropValue {
            fn drop(&mut self) {
                // SAFETY: constructed below on a live value slot, run exactly once.
                unsafe { (self.1)(self.0) }
            }
        }
        let value = DropValue(self.value_slot(i), Stored::<V>::drop_in_place);
        // SAFETY: slot `i` is full (caller); the key is dropped here, the value by the guard.
        unsafe { Stored::<K>::drop_in_place(self.key_slot(i)) };
        drop(value);
    }

    /// Moves the pair bitwise from slot `i` of `self` to slot `j` of `dst` (evacuation).
    #[inline]
    pub(crate) unsafe fn move_slot(self, i: usize, dst: Bucket<K, V>, j: usize) {
        // SAFETY: slot `i` is full and slot `j` of `dst` empty (caller); the buckets are
        // distinct, so the ranges do not overlap. Indirect slots move the box pointer.
        unsafe {
            ptr::copy_nonoverlapping(self.key_slot(i), dst.key_slot(j), Stored::<K>::SIZE);
            ptr::copy_nonoverlapping(self.value_slot(i), dst.value_slot(j), Stored::<V>::SIZE);
        }
    }
}

/// Number of pre-allocated overflow buckets for an array of `2^b` buckets: Go's
/// `makeBucketArray` adds `2^(b-4)` of them when `b >= 4`.
pub(crate) const fn pool_len(b: u8) -> usize {
    if b >= 4 {
        1 << (b - 4)
    } else {
        0
    }
}

/// One allocation holding `2^b` buckets followed by the overflow pool, owned.
///
/// Invariant: `array.ptr` points to `(2^b + pool_len(b)) * SIZE` bytes allocated with
/// [`BucketArray::layout`]; which buckets are initialised is tracked by the owner (`RawMap`).
pub(crate) struct BucketArray<K, V> {
    array: ArrayRef<K, V>,
}

/// A copyable, non-owning view of a bucket array (what iterators hold).
pub(crate) struct ArrayRef<K, V> {
    ptr: NonNull<u8>,
    b: u8,
    /// `2^b - 1`, kept rather than recomputed: it is on every lookup's path.
    mask: usize,
    marker: PhantomData<(*mut K, *mut V)>,
}

impl<K, V> Clone for ArrayRef<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for ArrayRef<K, V> {}

impl<K, V> core::ops::Deref for BucketArray<K, V> {
    type Target = ArrayRef<K, V>;
    fn deref(&self) -> &ArrayRef<K, V> {
        &self.array
    }
}

impl<K, V> core::fmt::Debug for ArrayRef<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "BucketArray(b={}, {:p})", self.b, self.ptr)
    }
}

/// The layout of `n` buckets, or `None` when it overflows the address space.
fn array_layout<K, V>(n: usize) -> Option<Layout> {
    let size = n.checked_mul(BucketLayout::<K, V>::SIZE)?;
    Layout::from_size_align(size, BucketLayout::<K, V>::ALIGN).ok()
}

/// The largest `B` whose bucket array fits the address space.
pub(crate) fn max_b<K, V>() -> u8 {
    let mut b = 0u8;
    while b < 62 && array_layout::<K, V>((1usize << (b + 1)) + pool_len(b + 1)).is_some() {
        b += 1;
    }
    b
}

impl<K, V> BucketArray<K, V> {
    fn layout(b: u8) -> Layout {
        debug_assert!(b <= max_b::<K, V>());
        array_layout::<K, V>((1usize << b) + pool_len(b)).expect("bucket array size overflow")
    }

    /// Allocates an array whose buckets are all initialised empty. Large arrays come from
    /// fresh zero pages, so this does not touch their memory.
    ///
    /// # Panics
    /// "capacity overflow" if `b > max_b`; aborts through `handle_alloc_error` if the
    /// allocator fails (what std's collections do).
    pub(crate) fn new_zeroed(b: u8) -> Self {
        Self::try_new_zeroed(b).unwrap_or_else(|e| e.fail())
    }

    /// [`new_zeroed`](Self::new_zeroed), returning the failure instead.
    pub(crate) fn try_new_zeroed(b: u8) -> Result<Self, TryReserveError> {
        // A zeroed bucket is empty: EMPTY_REST is 0 and a null overflow pointer is "none".
        // SAFETY: the layout has a non-zero size (a bucket holds at least its tophash).
        Self::try_allocate(b, |layout| unsafe { alloc_zeroed(layout) })
    }

    /// Allocates an array whose buckets are uninitialised: evacuation initialises each
    /// destination bucket just before filling it, so starting a growth costs no O(n) memset
    /// (the pause Go's `hashGrow` still has).
    ///
    /// # Panics
    /// As [`new_zeroed`](Self::new_zeroed).
    pub(crate) fn new_uninit(b: u8) -> Self {
        Self::try_new_uninit(b).unwrap_or_else(|e| e.fail())
    }

    /// [`new_uninit`](Self::new_uninit), returning the failure instead.
    pub(crate) fn try_new_uninit(b: u8) -> Result<Self, TryReserveError> {
        // SAFETY: the layout has a non-zero size.
        Self::try_allocate(b, |layout| unsafe { alloc(layout) })
    }

    /// The array of 2^`b` buckets and its pool, from `allocate` (which returns null on
    /// failure).
    fn try_allocate(
        b: u8,
        allocate: impl FnOnce(Layout) -> *mut u8,
    ) -> Result<Self, TryReserveError> {
        if b > max_b::<K, V>() {
            return Err(TryReserveError::CapacityOverflow);
        }
        let layout = Self::layout(b);
        let ptr = NonNull::new(allocate(layout)).ok_or(TryReserveError::AllocError { layout })?;
        Ok(BucketArray {
            array: ArrayRef {
                ptr,
                b,
                mask: (1 << b) - 1,
                marker: PhantomData,
            },
        })
    }

    /// Bytes of the allocation (main buckets and pool).
    pub(crate) fn byte_len(&self) -> usize {
        Self::layout(self.b).size()
    }

    /// Address of the allocation.
    pub(crate) fn base(&self) -> usize {
        self.array.ptr.as_ptr() as usize
    }

    /// The non-owning view of this array.
    #[inline]
    pub(crate) fn get(&self) -> ArrayRef<K, V> {
        self.array
    }
}

impl<K, V> ArrayRef<K, V> {
    #[inline]
    pub(crate) fn b(&self) -> u8 {
        self.b
    }

    /// Number of main buckets, `2^b`.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        1 << self.b
    }

    #[inline]
    pub(crate) fn mask(&self) -> usize {
        self.mask
    }

    /// Bucket `i` of the array; indices `len()..len() + pool_len(b)` are the overflow pool.
    #[inline]
    pub(crate) fn bucket(&self, i: usize) -> Bucket<K, V> {
        debug_assert!(i < self.len() + pool_len(self.b));
        // SAFETY: `i` is within the allocation (debug-checked above, guaranteed by callers),
        // so the offset stays in bounds and the result is non-null.
        Bucket::from_ptr(unsafe {
            NonNull::new_unchecked(self.ptr.as_ptr().add(i * BucketLayout::<K, V>::SIZE))
        })
    }

    /// Whether `bucket` lives inside this allocation (a main bucket or a pool bucket), as
    /// opposed to an overflow bucket allocated on its own.
    #[inline]
    pub(crate) fn contains(&self, bucket: Bucket<K, V>) -> bool {
        let start = self.ptr.as_ptr() as usize;
        let end = start + (self.len() + pool_len(self.b)) * BucketLayout::<K, V>::SIZE;
        (start..end).contains(&(bucket.as_ptr() as usize))
    }
}

impl<K, V> Drop for BucketArray<K, V> {
    fn drop(&mut self) {
        // SAFETY: `ptr` was allocated with exactly this layout (type invariant).
        unsafe { dealloc(self.array.ptr.as_ptr(), Self::layout(self.array.b)) }
    }
}

/// Allocates one overflow bucket on its own, initialised empty (Go's `newobject(t.bucket)`).
pub(crate) fn alloc_overflow<K, V>() -> Bucket<K, V> {
    let layout = array_layout::<K, V>(1).expect("one bucket fits");
    // SAFETY: non-zero size.
    let p = unsafe { alloc(layout) };
    let bucket = Bucket::from_ptr(NonNull::new(p).unwrap_or_else(|| handle_alloc_error(layout)));
    // SAFETY: freshly allocated with the bucket layout.
    unsafe { bucket.init_empty() };
    bucket
}

/// Frees an overflow bucket made by [`alloc_overflow`].
///
/// # Safety
/// `bucket` came from `alloc_overflow::<K, V>` and holds no live key or value any more.
pub(crate) unsafe fn free_overflow<K, V>(bucket: Bucket<K, V>) {
    let layout = array_layout::<K, V>(1).expect("one bucket fits");
    // SAFETY: allocated by `alloc_overflow` with this layout (caller).
    unsafe { dealloc(bucket.as_ptr(), layout) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_go_for_u64_pairs() {
        // 8 tophash + 8*8 keys + 8*8 values + 8 overflow = 144, as Go's bmap for map[int64]int64.
        assert_eq!(BucketLayout::<u64, u64>::SIZE, 144);
        assert_eq!(BucketLayout::<u64, u64>::ALIGN, 8);
    }

    #[test]
    fn separate_arrays_avoid_padding() {
        // map[uint8]uint64: keys pack into 8 bytes; values start aligned.
        assert_eq!(BucketLayout::<u8, u64>::SIZE, 8 + 8 + 64 + 8);
        // Zero-sized keys and values take no room.
        assert_eq!(BucketLayout::<(), ()>::SIZE, 16);
    }

    #[test]
    #[cfg(not(gomap_inline_all))]
    fn big_types_are_indirect() {
        const { assert!(Stored::<[u8; 129]>::INDIRECT) };
        const { assert!(!Stored::<[u8; 128]>::INDIRECT) };
        assert_eq!(BucketLayout::<[u8; 200], u8>::SIZE, 8 + 64 + 8 + 8);
    }
}
