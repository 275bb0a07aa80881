//! Growth: `start_resize` (Go's `hashGrow`), `grow_work`, `evacuate`,
//! `advance_evacuation_mark` (Go's names), plus the resizes Go lacks (several levels at once,
//! and shrinking).

use super::bucket::{free_overflow, ArrayRef, Bucket, BucketArray, BucketLayout, BUCKET_CNT};
use super::release::{MIN_RELEASED_BYTES, PAGES_PER_STEP};
use super::tophash::{is_full, EvacuationMarks};
use super::{RawMap, Slot};
use crate::error::TryReserveError;

/// How far `advance_evacuation_mark` looks past `nevacuate` for already evacuated buckets
/// (Go's 1024): bounds the work of one write while skipping runs that writes evacuated.
const EVACUATION_SCAN_LIMIT: usize = 1024;

/// The longest chain `evacuate_short` takes (64 entries: one word of X/Y bits); longer ones, of
/// colliding hashes, take the general path.
const SHORT_CHAIN: usize = 8;

/// Where the entries of one old chain go, worked out (hashing every key) before anything
/// moves, so a panicking `Hash` leaves the map untouched.
enum Plan {
    /// Same-size growth: everything to the same index.
    SameSize,
    /// Doubling: bit `n` says whether the chain's `n`-th entry goes to Y. (Only chains longer
    /// than [`SHORT_CHAIN`] buckets, of colliding hashes, come here: `evacuate_short` takes
    /// the others.)
    Double { low: u64, more: Vec<u64> },
    /// Shrink: everything to the one new bucket with the same low bits.
    Shrink,
    /// Growth by several levels at once (`reserve`): each entry's full hash.
    Spread(Vec<u64>),
}

impl Plan {
    /// # Safety
    /// `head` is a live chain of `(K, V)` buckets.
    unsafe fn new<K, V>(
        head: Bucket<K, V>,
        old_b: u8,
        new_b: u8,
        hasher: &impl Fn(&K) -> u64,
    ) -> Plan {
        if new_b == old_b {
            return Plan::SameSize;
        }
        if new_b < old_b {
            return Plan::Shrink;
        }
        let (mut low, mut more, mut all) = (0u64, Vec::new(), Vec::new());
        let mut n = 0usize;
        let mut bucket = Some(head);
        while let Some(b) = bucket {
            // SAFETY: a live chain (caller); full slots hold live keys.
            unsafe {
                for index in b.group().match_full() {
                    let hash = hasher(&*b.key(index));
                    if new_b == old_b + 1 {
                        let bit = hash >> old_b & 1;
                        if n < 64 {
                            low |= bit << n;
                        } else {
                            if n.is_multiple_of(64) {
                                more.push(0);
                            }
                            *more.last_mut().expect("pushed") |= bit << (n % 64);
                        }
                    } else {
                        all.push(hash);
                    }
                    n += 1;
                }
                bucket = b.overflow();
            }
        }
        if new_b == old_b + 1 {
            Plan::Double { low, more }
        } else {
            Plan::Spread(all)
        }
    }

    /// Doubling: whether the `n`-th entry of the chain goes to Y.
    #[inline]
    fn bit(&self, n: usize) -> bool {
        match self {
            Plan::Double { low, .. } if n < 64 => *low >> n & 1 == 1,
            Plan::Double { more, .. } => more[n / 64 - 1] >> (n % 64) & 1 == 1,
            _ => false,
        }
    }
}

impl<K, V> RawMap<K, V> {
    /// Installs a new array of 2^`new_b` buckets and keeps the current one as `oldbuckets`
    /// (Go's `hashGrow`, with the size chosen by the caller). Moves nothing.
    ///
    /// # Panics
    /// "capacity overflow" if the array would not fit the address space.
    pub(super) fn start_resize(&mut self, new_b: u8) {
        self.start_resize_into(BucketArray::new_uninit(new_b));
    }

    /// [`start_resize`](Self::start_resize) into an array allocated by the caller (with
    /// `new_uninit`).
    fn start_resize_into(&mut self, new: BucketArray<K, V>) {
        debug_assert!(!self.growing());
        // A previous growth's old array still retiring is freed now (rare: growths are at
        // least as many writes apart as the old array had buckets).
        self.retired = None;
        let old = self.buckets.take().expect("resize of an allocated map");
        let old_bytes = old.byte_len();
        self.next_overflow = new.len();
        self.buckets = Some(new);
        self.oldbuckets = Some(old);
        self.nevacuate = 0;
        self.old_released_below = 0;
        // Small arrays are freed whole when the growth ends; never release them piecemeal.
        self.next_release = if old_bytes >= MIN_RELEASED_BYTES {
            0
        } else {
            usize::MAX
        };
        self.old_release = Default::default();
        self.noverflow = 0;
        self.update_resize_bounds();
    }

    /// Evacuates the old bucket a key with this hash maps to and the one at `nevacuate` (Go's
    /// `growWork`). If `hasher` panics, the bucket it was evacuating has not moved.
    ///
    /// The order is not Go's: we start the key's buckets loading (the old bucket and both
    /// destinations, which the write then probes) and evacuate `nevacuate`'s bucket meanwhile.
    /// Beyond the cache, the key's bucket is a random one, each of its lines a miss, and
    /// evacuating it first left the write waiting for them one after the other; `nevacuate`
    /// walks the old array in order, which the hardware prefetcher follows. Growing inserts got
    /// about a tenth faster at 10^5 entries and a sixth at 10^6 and 10^7, and no slower at 10^3
    /// and 10^4 (both versions in one process behind a temporary run-time switch, rounds
    /// alternating; `insert_best_of` runs of two builds could not separate it from this
    /// machine's noise). Both buckets are evacuated before the write touches the new array, as
    /// in Go.
    pub(super) fn grow_work(&mut self, hash: u64, hasher: &impl Fn(&K) -> u64) {
        #[cfg(test)]
        let before = self.moved;
        let old = self.oldbuckets.as_ref().expect("growing").get();
        let new = self.buckets.as_ref().expect("growing").get();
        let i = hash as usize & old.mask();
        // Below `nevacuate` the old bucket is known evacuated (and may be released).
        if i >= self.nevacuate {
            old.bucket(i).prefetch();
            new.bucket(i & new.mask()).prefetch();
            new.bucket((i | 1 << old.b()) & new.mask()).prefetch();
        }
        self.evacuate(self.nevacuate, hasher);
        if self.growing() {
            self.evacuate(i, hasher);
        }
        #[cfg(test)]
        {
            let moved = (self.moved - before) as usize;
            self.max_moved_per_write = self.max_moved_per_write.max(moved);
        }
    }

    /// Evacuates the next two old buckets at `nevacuate`: the growth step of a write that
    /// does not need its key's old bucket evacuated (a remove). If `hasher` panics, the
    /// bucket being evacuated has not moved.
    #[inline(never)]
    pub(crate) fn grow_work_sequential(&mut self, hasher: &impl Fn(&K) -> u64) {
        #[cfg(test)]
        let before = self.moved;
        for _ in 0..2 {
            if self.growing() {
                self.evacuate(self.nevacuate, hasher);
            }
        }
        #[cfg(test)]
        {
            let moved = (self.moved - before) as usize;
            self.max_moved_per_write = self.max_moved_per_write.max(moved);
        }
    }

    /// Finishes an in-progress growth now (O(n)). Go's growth only advances on writes, so a
    /// map that stops being written keeps both arrays; this releases the old one.
    pub(crate) fn finish_growth(&mut self, hasher: &impl Fn(&K) -> u64) {
        while self.growing() {
            self.evacuate(self.nevacuate, hasher);
        }
        self.retired = None;
    }

    /// Resizes to 2^`new_b` buckets now: finishes any growth, then moves everything.
    ///
    /// # Panics
    /// As [`start_resize`](Self::start_resize); allocation failure aborts.
    pub(crate) fn resize_now(&mut self, new_b: u8, hasher: &impl Fn(&K) -> u64) {
        self.try_resize_now(new_b, hasher)
            .unwrap_or_else(|e| e.fail());
    }

    /// [`resize_now`](Self::resize_now), returning an allocation failure instead. The new
    /// array is allocated before anything moves, so on `Err` the map is as it was. (Overflow
    /// buckets the move needs beyond the array's pool are small allocations that, as in
    /// every insert, abort on failure.)
    pub(crate) fn try_resize_now(
        &mut self,
        new_b: u8,
        hasher: &impl Fn(&K) -> u64,
    ) -> Result<(), TryReserveError> {
        if self.buckets.as_ref().is_some_and(|a| a.b() == new_b) {
            self.finish_growth(hasher);
            return Ok(());
        }
        if self.count == 0 {
            let array = BucketArray::try_new_zeroed(new_b)?;
            self.clear();
            self.buckets = None;
            self.install_empty_array(array);
        } else {
            let array = BucketArray::try_new_uninit(new_b)?;
            self.finish_growth(hasher);
            self.start_resize_into(array);
            self.finish_growth(hasher);
        }
        Ok(())
    }

    /// Sets the B below which automatic shrinking stops.
    pub(crate) fn set_min_b(&mut self, b: u8) {
        self.min_b = b;
        self.update_resize_bounds();
    }

    /// The B below which automatic shrinking stops.
    pub(crate) fn min_b(&self) -> u8 {
        self.min_b
    }

    /// Moves the entries of old bucket `i` to the new array (Go's `evacuate`).
    fn evacuate(&mut self, i: usize, hasher: &impl Fn(&K) -> u64) {
        let old = self.oldbuckets.as_ref().expect("growing").get();
        let new = self.buckets.as_ref().expect("growing").get();
        let head = old.bucket(i);
        if !Self::old_evacuated(old, self.nevacuate, i) {
            // SAFETY: `head` is an unevacuated, so live, old chain.
            let (lone, empty) =
                unsafe { (head.overflow().is_none(), !head.group().match_full().any()) };
            let doubling_or_same_size = (old.b()..=old.b() + 1).contains(&new.b());
            if lone && (empty || doubling_or_same_size) {
                // SAFETY: as above.
                unsafe { self.evacuate_lone(i, head, old, new, hasher) };
                if i == self.nevacuate {
                    self.advance_evacuation_mark();
                }
                return;
            }
            // SAFETY: as above, and not lone.
            if doubling_or_same_size && unsafe { self.evacuate_short(i, head, old, new, hasher) } {
                if i == self.nevacuate {
                    self.advance_evacuation_mark();
                }
                return;
            }
            // Pass 1 hashes every key before anything moves (user code may panic).
            // SAFETY: `head` is an unevacuated, so live, old chain.
            let plan = unsafe { Plan::new(head, old.b(), new.b(), hasher) };

            self.init_destinations(i, old, new);
            let old_b = old.b();

            // Pass 2: move. Exclusive destinations (X and Y of a doubling, or X of a
            // same-size growth) fill front to back from a cursor, only this chain filling them;
            // otherwise each entry takes the first empty slot of its destination chain, which
            // other old chains may share.
            let mut marks = EvacuationMarks::new();
            let n = match &plan {
                Plan::SameSize | Plan::Double { .. } => {
                    let x = new.bucket(i & new.mask());
                    let y = new.bucket((i | 1 << old_b) & new.mask());
                    let mut cursors = [(x, 0usize), (y, 0usize)];
                    // SAFETY: `head` is the live old chain; X and Y were initialised above and
                    // only this chain fills them, so slots past a cursor are empty, and a full
                    // destination gets a fresh overflow bucket.
                    unsafe {
                        self.move_chain(head, &mut marks, |map, n| {
                            let to_y = plan.bit(n);
                            let [x, y] = &mut cursors;
                            let cursor = core::hint::select_unpredictable(to_y, y, x);
                            if cursor.1 == BUCKET_CNT {
                                cursor.0 = map.new_overflow(cursor.0);
                                cursor.1 = 0;
                            }
                            cursor.1 += 1;
                            let slot = Slot {
                                bucket: cursor.0,
                                index: cursor.1 - 1,
                            };
                            (slot, !to_y)
                        })
                    }
                }
                // SAFETY: `head` is the live old chain; destinations are initialised live
                // chains of the new array, and `find_insert_slot` returns an empty slot.
                Plan::Shrink | Plan::Spread(_) => unsafe {
                    self.move_chain(head, &mut marks, |map, n| {
                        // A shrink's entries all go to "X" (the one new bucket with the same
                        // low bits); a several-level growth's go to X when they keep their
                        // index.
                        let (dest, to_x) = match &plan {
                            Plan::Spread(hashes) => {
                                let dest = hashes[n] as usize & new.mask();
                                (dest, dest == i)
                            }
                            _ => (i & new.mask(), true),
                        };
                        (map.find_insert_slot(new.bucket(dest)), to_x)
                    })
                },
            };
            self.moved += n as u64;

            // Retire the old chain: free its heap overflow buckets (pool buckets go with the
            // old array) and leave the evacuation marks in the head.
            // SAFETY: every pair was moved out above; the chain is no longer live.
            unsafe {
                let mut next = head.overflow();
                while let Some(b) = next {
                    next = b.overflow();
                    if !old.contains(b) {
                        free_overflow::<K, V>(b);
                    }
                }
                head.set_overflow(None);
                head.set_tophashes(marks.bytes());
            }
            debug_assert!(marks.bytes().iter().all(|&m| !is_full(m)));
        }
        if i == self.nevacuate {
            self.advance_evacuation_mark();
        }
    }

    /// Evacuates old bucket `i`, a lone bucket (no overflow) that is empty or part of a
    /// doubling or same-size growth: the common case, kept free of the general path's plan,
    /// cursors and chain walks. At most 8 entries, so no destination can fill up. The X/Y
    /// choice is a coin toss per entry, so nothing branches on it: a mispredicted branch per
    /// entry was once the largest single cost of a growth. Pass 2 splits the bucket's slot set
    /// by side and moves the X set, then the Y set, each in a straight loop: 18 instructions
    /// per entry for u64 keys and values, against 35 for one loop choosing destination, cursor
    /// and mark per entry with selects (their disassembly). With the cached resize bounds of
    /// the same commit, growing inserts to 10^3 entries take 36 instructions fewer than at
    /// fd5b496, 13 of them the bounds' (`valgrind --tool=cachegrind --cache-sim=no
    /// target/release/examples/insert_best_of 1000 200 u64 grow`, and `presized` for the bounds
    /// alone, the two builds' totals over their 200,000 gomap inserts; the hashbrown half of
    /// each run is the same code). The time did not move beyond this machine's noise (`cargo
    /// run --release --example insert_best_of -- N ROUNDS u64 grow`, the two builds alternated:
    /// 16.3-17.4 against 16.2-18.8 ns per insert at 10^3, 30.4-41.3 against 31.4-32.3 at 10^4
    /// under glibc's default malloc settings, which the example used then); the same split in
    /// `evacuate_short` measured no different and is not used there. An empty bucket (most of
    /// them late in a shrink) is only marked, after its destination is initialised (the sibling
    /// evacuating next relies on that).
    ///
    /// # Safety
    /// `head` is old bucket `i`: unevacuated, without overflow, and empty unless the
    /// growth is a doubling or same-size one.
    unsafe fn evacuate_lone(
        &mut self,
        i: usize,
        head: Bucket<K, V>,
        old: ArrayRef<K, V>,
        new: ArrayRef<K, V>,
        hasher: &impl Fn(&K) -> u64,
    ) {
        // SAFETY: `head` is live (caller).
        let full = unsafe { head.group() }.match_full();
        let old_b = old.b();
        // Pass 1 hashes every key before anything moves (user code may panic): bit `index`
        // of `to_y` says whether slot `index` goes to Y.
        let mut to_y = 0u32;
        if new.b() > old_b {
            for index in full {
                // SAFETY: a full slot of a live bucket holds a live key.
                let hash = hasher(unsafe { &*head.key(index) });
                to_y |= ((hash >> old_b & 1) as u32) << index;
            }
        }
        self.init_destinations(i, old, new);
        let x = new.bucket(i & new.mask());
        let y = new.bucket((i | 1 << old_b) & new.mask());
        let mut marks = EvacuationMarks::new();
        let mut moved = 0;
        let full = u32::from(full.to_byte());
        // X and Y are initialised above, owned by this bucket alone and filled front to back;
        // at most 8 entries fit either. The marks written at the end retire the old bucket.
        // SAFETY: each full slot of the live old bucket moves once, to an empty slot, and is
        // never read again (see above).
        unsafe {
            let tops = head.tophashes();
            for (dest, side, goes_y) in [(x, full & !to_y, false), (y, full & to_y, true)] {
                let (mut slots, mut j) = (side, 0);
                while slots != 0 {
                    let index = slots.trailing_zeros() as usize;
                    slots &= slots - 1;
                    head.move_slot(index, dest, j);
                    dest.set_tophash(j, tops[index]);
                    marks.set(index, goes_y);
                    j += 1;
                }
                moved += j;
            }
            head.set_tophashes(marks.bytes());
        }
        self.moved += moved as u64;
    }

    /// Evacuates old bucket `i`, a chain of two to [`SHORT_CHAIN`] buckets in a doubling or a
    /// same-size growth (every chain of a decent hasher), and returns `true`; returns `false`,
    /// having done nothing (no hashing either), for a longer chain (the general path's job).
    /// Pass 1 hashes the chain's keys into one word of X/Y bits, pass 2 moves each entry to the
    /// next slot of its side, chaining an overflow bucket to a full side. The general path's plan, cursors and
    /// per-entry closure cost growing inserts about 9 % at 10^3 entries, 5 % at 10^4 and 7 %
    /// at 10^5 (measured as `grow_work`'s order was).
    ///
    /// # Safety
    /// `head` is old bucket `i`: unevacuated, with overflow, and the growth is a doubling or a
    /// same-size one.
    unsafe fn evacuate_short(
        &mut self,
        i: usize,
        head: Bucket<K, V>,
        old: ArrayRef<K, V>,
        new: ArrayRef<K, V>,
        hasher: &impl Fn(&K) -> u64,
    ) -> bool {
        let old_b = old.b();
        let mut len = 0;
        let mut bucket = Some(head);
        while let Some(b) = bucket {
            if len == SHORT_CHAIN {
                return false;
            }
            // SAFETY: `b` is in the live old chain (caller).
            bucket = unsafe { b.overflow() };
            len += 1;
        }
        // Pass 1 hashes every key before anything moves (user code may panic): bit
        // `8 * c + index` says whether slot `index` of the chain's `c`-th bucket goes to Y.
        let mut to_y = 0u64;
        if new.b() > old_b {
            let mut bucket = Some(head);
            for c in 0..len {
                let b = bucket.expect("counted above");
                // SAFETY: `b` is in the live old chain (caller); full slots hold live keys.
                unsafe {
                    for index in b.group().match_full() {
                        let hash = hasher(&*b.key(index));
                        to_y |= (hash >> old_b & 1) << (c * BUCKET_CNT + index);
                    }
                    bucket = b.overflow();
                }
            }
        }
        self.init_destinations(i, old, new);
        // X and Y, each filled front to back by this chain alone (initialised just above).
        let mut dest = [
            new.bucket(i & new.mask()),
            new.bucket((i | 1 << old_b) & new.mask()),
        ];
        let mut count = [0usize; 2];
        let mut marks = EvacuationMarks::new();
        let mut moved = 0;
        // Pass 2: move, then retire the chain: its heap overflow buckets are freed (pool buckets
        // go with the old array) and the head keeps only the evacuation marks.
        // SAFETY: each full slot of the live old chain moves once, to the first empty slot of
        // its side (a full side gets a fresh overflow bucket), and is never read again.
        unsafe {
            let mut c = 0;
            let mut bucket = Some(head);
            while let Some(b) = bucket {
                let tops = b.tophashes();
                for index in b.group().match_full() {
                    let side = (to_y >> (c * BUCKET_CNT + index) & 1) as usize;
                    if count[side] == BUCKET_CNT {
                        dest[side] = self.new_overflow(dest[side]);
                        count[side] = 0;
                    }
                    let (d, j) = (dest[side], count[side]);
                    b.move_slot(index, d, j);
                    d.set_tophash(j, tops[index]);
                    count[side] += 1;
                    moved += 1;
                    if c == 0 {
                        marks.set(index, side == 1);
                    }
                }
                bucket = b.overflow();
                if c > 0 && !old.contains(b) {
                    free_overflow::<K, V>(b);
                }
                c += 1;
            }
            head.set_overflow(None);
            head.set_tophashes(marks.bytes());
        }
        self.moved += moved;
        true
    }

    /// Initialises the new buckets that unevacuated old bucket `i` evacuates into. Growing:
    /// old bucket `i` owns new buckets `i + k * 2^oldB`. Shrinking: new bucket `i & newmask`
    /// is shared with the other old buckets that map to it, and initialised by the first.
    #[inline]
    fn init_destinations(&self, i: usize, old: ArrayRef<K, V>, new: ArrayRef<K, V>) {
        let (old_b, new_b) = (old.b(), new.b());
        if new_b >= old_b {
            for k in 0..1usize << (new_b - old_b) {
                // SAFETY: these main buckets are owned by old bucket `i` alone and
                // uninitialised until now (it is not evacuated).
                unsafe { new.bucket(i + (k << old_b)).init_empty() };
            }
        } else if !self.new_bucket_initialised(i & new.mask()) {
            // SAFETY: no sibling was evacuated, so the shared bucket is uninitialised.
            unsafe { new.bucket(i & new.mask()).init_empty() };
        }
    }

    /// Pass 2 over the old chain at `head`: moves its `n`-th full slot to the empty slot
    /// `place(self, n)` returns, with whether that destination is X, and records the head's
    /// evacuation marks. Returns the number of entries moved.
    ///
    /// # Safety
    /// `head` is a live old chain, and every slot `place` returns is empty, in a live chain of
    /// the new array, and returned once.
    #[inline]
    unsafe fn move_chain(
        &mut self,
        head: Bucket<K, V>,
        marks: &mut EvacuationMarks,
        mut place: impl FnMut(&mut Self, usize) -> (Slot<K, V>, bool),
    ) -> usize {
        let mut n = 0;
        let mut bucket = Some(head);
        let mut in_head = true;
        while let Some(src) = bucket {
            // SAFETY: `src` is in the live old chain; each full slot is moved exactly once, to
            // an empty destination slot (caller), and never read again (the caller retires the
            // chain).
            unsafe {
                let tops = src.tophashes();
                for index in src.group().match_full() {
                    let (slot, to_x) = place(self, n);
                    n += 1;
                    src.move_slot(index, slot.bucket, slot.index);
                    slot.bucket.set_tophash(slot.index, tops[index]);
                    if in_head {
                        marks.set(index, !to_x);
                    }
                }
                bucket = src.overflow();
            }
            in_head = false;
        }
        n
    }

    /// Moves `nevacuate` past evacuated buckets; frees the old array when all are done
    /// (Go's `advanceEvacuationMark`).
    fn advance_evacuation_mark(&mut self) {
        let old = self.oldbuckets.as_ref().expect("growing").get();
        self.nevacuate += 1;
        let stop = (self.nevacuate + EVACUATION_SCAN_LIMIT).min(old.len());
        while self.nevacuate != stop && Self::old_evacuated(old, self.nevacuate, self.nevacuate) {
            self.nevacuate += 1;
        }
        if self.nevacuate == old.len() {
            // Growth done. Heap overflow buckets were freed as each chain was evacuated; the
            // array retires and the next writes return its remaining pages, a few at a time.
            let old = self.oldbuckets.take().expect("growing");
            if old.byte_len() >= MIN_RELEASED_BYTES {
                self.retired = Some((old, self.old_release));
            }
            self.nevacuate = 0;
            self.old_released_below = 0;
            self.next_release = 0;
            self.old_release = Default::default();
        } else if self.nevacuate >= self.next_release {
            self.release_evacuated();
        }
    }

    /// Returns a few pages of the evacuated old buckets (below `nevacuate`) to the OS; see
    /// `release.rs` for why.
    fn release_evacuated(&mut self) {
        let old = self.oldbuckets.as_ref().expect("growing");
        let base = old.base();
        let limit = base + self.nevacuate * BucketLayout::<K, V>::SIZE;
        // SAFETY: main buckets below `nevacuate` are evacuated: no live pair or link, and never
        // read again once `old_released_below` covers them, which it does right below, before
        // any other read.
        unsafe { self.old_release.step(base, limit) };
        let size = BucketLayout::<K, V>::SIZE;
        let released = self.old_release.released_from(base);
        self.old_released_below = released.div_ceil(size);
        // The next step can release a full batch once `nevacuate` passes this bucket.
        self.next_release = (released + PAGES_PER_STEP * 4096) / size;
    }

    /// Releases a few more pages of the retired old array, freeing it once all are gone.
    #[inline(never)]
    pub(super) fn retire_step(&mut self) {
        let Some((array, releaser)) = &mut self.retired else {
            return;
        };
        let base = array.base();
        // SAFETY: a retired array is fully evacuated; nothing points into it or reads it.
        if unsafe { releaser.step(base, base + array.byte_len()) } {
            self.retired = None;
        }
    }
}

#[cfg(test)]
impl<K, V> RawMap<K, V> {
    pub(crate) fn max_moved_per_write(&self) -> usize {
        self.max_moved_per_write
    }

    pub(crate) fn reset_max_moved_per_write(&mut self) {
        self.max_moved_per_write = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::bucket::BUCKET_CNT;
    use super::RawMap;
    use core::hash::BuildHasher;

    fn insert(map: &mut RawMap<u64, u64>, hasher: &impl Fn(&u64) -> u64, k: u64) {
        let hash = hasher(&k);
        match map.find_or_find_insert_slot(hash, |x| *x == k, hasher) {
            Ok(_) => panic!("fresh key {k} found"),
            Err(slot) => {
                // SAFETY: the `Err` slot of the call just made, with this hash.
                unsafe { map.insert_in_slot(slot, hash, k, k) };
            }
        }
    }

    /// The point of the design: across a growth to over a million entries, no single write
    /// moves more than two old chains' worth of entries (a chain of a good hash at load 6.5
    /// is at most a few buckets), whereas a stop-the-world rehash would move them all.
    #[test]
    #[cfg_attr(miri, ignore = "grows to a million entries: hours under Miri")]
    fn no_write_moves_more_than_a_bounded_number_of_entries() {
        let state = foldhash::fast::FixedState::with_seed(7);
        let hasher = |k: &u64| state.hash_one(k);
        let mut map = RawMap::<u64, u64>::new();
        // Two chains of at most 4 buckets each.
        const BOUND: usize = 2 * 4 * BUCKET_CNT;
        let mut growths = 0;
        let mut was_growing = false;
        for k in 0..1_200_000u64 {
            insert(&mut map, &hasher, k);
            if map.growing() && !was_growing {
                growths += 1;
            }
            was_growing = map.growing();
        }
        assert!(map.b() >= 17, "grew to 2^17 buckets or more");
        // The first doublings (one or two old buckets) can finish inside the insert that
        // starts them.
        assert!(
            growths + 2 >= map.b() as usize,
            "doublings were incremental ({growths} seen)"
        );
        let max = map.max_moved_per_write();
        assert!(max > 0, "evacuation happened");
        assert!(max <= BOUND, "a write moved {max} entries (bound {BOUND})");
        assert!(map.moved as usize >= map.len());

        // Removes evacuate too, and are bounded the same way.
        map.reset_max_moved_per_write();
        let mut k = 1_200_000u64;
        while !map.growing() {
            insert(&mut map, &hasher, k);
            k += 1;
        }
        for k in 0..200_000u64 {
            let hash = hasher(&k);
            assert_eq!(map.remove(hash, |x| *x == k, &hasher), Some((k, k)));
        }
        let max = map.max_moved_per_write();
        assert!(max > 0, "removes advanced the growth");
        assert!(max <= BOUND, "a remove moved {max} entries (bound {BOUND})");
        map.check_invariants(hasher).unwrap();
    }

    /// Mid-growth, with part of the old array's memory already returned to the OS, every
    /// path that could read an old bucket must still work: lookups, inserts, removes,
    /// iteration, clone and the invariant checker.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "fills arrays of 4 MiB and more: far too slow under Miri"
    )]
    fn released_old_pages_are_never_read() {
        let state = foldhash::fast::FixedState::with_seed(11);
        let hasher = |k: &u64| state.hash_one(k);
        let mut map = RawMap::<u64, u64>::new();
        let mut k = 0u64;
        let mut checked = 0;
        while checked < 3 {
            insert(&mut map, &hasher, k);
            k += 1;
            if map.growing() && map.old_released_below > 0 && k.is_multiple_of(512) {
                checked += 1;
                assert!(map.old_released_below <= map.nevacuate);
                map.check_invariants(hasher).unwrap();
                for key in (0..k).step_by(7) {
                    assert!(
                        map.find(hasher(&key), |x| *x == key).is_some(),
                        "{key} lost"
                    );
                }
                let mut it = map.iter();
                let mut n = 0;
                while it.next_slot().is_some() {
                    n += 1;
                }
                assert_eq!(n, map.len());
                let copy = map.clone();
                copy.check_invariants(hasher).unwrap();
                assert_eq!(copy.len(), map.len());
                let _ = map.layout_view(|k, _| k.to_string());
            }
        }
        #[cfg(unix)]
        assert!(checked == 3, "the release path ran");
        for key in 0..1000u64 {
            let hash = hasher(&key);
            assert_eq!(map.remove(hash, |x| *x == key, &hasher), Some((key, key)));
        }
        // When the growth ends, the old array retires and later writes release the rest of
        // it a few pages at a time, then free it.
        while !map.growing() {
            insert(&mut map, &hasher, k);
            k += 1;
        }
        while map.growing() {
            insert(&mut map, &hasher, k);
            k += 1;
        }
        let (array, _) = map.retired.as_ref().expect("old array retired");
        let steps = array.byte_len() / 4096 / super::super::release::PAGES_PER_STEP + 2;
        let memory_while_retiring = map.stats().memory_bytes;
        for _ in 0..steps {
            insert(&mut map, &hasher, k);
            k += 1;
        }
        assert!(
            map.retired.is_none(),
            "retired array freed after {steps} writes"
        );
        assert!(map.stats().memory_bytes < memory_while_retiring);
        map.check_invariants(hasher).unwrap();
        map.finish_growth(&hasher);
        map.check_invariants(hasher).unwrap();
    }
}
