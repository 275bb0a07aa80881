//! The latency of every single insert while a map grows from empty to N entries, and the
//! memory it holds, for gomap, hashbrown and std (all with gomap's hasher).
//!
//! ```text
//! cargo run --release --example insert_latency -- [N] [--faults]   # default N = 10_000_000
//! ```
//!
//! For each map: N fresh u64 keys are inserted, each insert timed on its own with
//! `Instant` into a preallocated `Vec<u32>` of nanoseconds, which is then sorted for the
//! percentiles. A second, untimed pass gives the plain throughput (per-insert timing adds two
//! clock reads to every insert). Memory comes from a counting global allocator: the bytes a
//! map holds at N entries (live), and the most it held at once while growing (peak: both
//! arrays coexist during a resize or an incremental growth).
//!
//! `--faults` (Linux) adds a pass per map that reads the thread's page-fault count and system
//! time around every insert (`getrusage`), to tell which of the slowest 0.01 % took a page
//! fault or a system call, and which were slow with neither (the CPU was taken away: a timer
//! interrupt, or on a VM the host). The syscalls slow every insert down, so this pass has
//! its own p99.99.
//!
//! The machine's absolute times drift (shared cores); compare the ratios of one run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use gomap::DefaultHashBuilder;

mod common;
use common::key;

/// `System`, counting the bytes currently allocated and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; the counters are bookkeeping only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract (non-zero-size layout, as `GlobalAlloc::alloc` demands).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by us, i.e. by `System`, with `layout` (caller).
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// What each map must offer.
trait Map {
    const NAME: &'static str;
    fn empty() -> Self;
    fn put(&mut self, k: u64, v: u64);
    fn len(&self) -> usize;
}

impl Map for gomap::HashMap<u64, u64> {
    const NAME: &'static str = "gomap";
    fn empty() -> Self {
        gomap::HashMap::with_hasher(DefaultHashBuilder::default())
    }
    #[inline]
    fn put(&mut self, k: u64, v: u64) {
        self.insert(k, v);
    }
    fn len(&self) -> usize {
        self.len()
    }
}

impl Map for hashbrown::HashMap<u64, u64, DefaultHashBuilder> {
    const NAME: &'static str = "hashbrown";
    fn empty() -> Self {
        hashbrown::HashMap::with_hasher(DefaultHashBuilder::default())
    }
    #[inline]
    fn put(&mut self, k: u64, v: u64) {
        self.insert(k, v);
    }
    fn len(&self) -> usize {
        self.len()
    }
}

impl Map for std::collections::HashMap<u64, u64, DefaultHashBuilder> {
    const NAME: &'static str = "std";
    fn empty() -> Self {
        std::collections::HashMap::with_hasher(DefaultHashBuilder::default())
    }
    #[inline]
    fn put(&mut self, k: u64, v: u64) {
        self.insert(k, v);
    }
    fn len(&self) -> usize {
        self.len()
    }
}

/// One map's results.
struct Row {
    name: &'static str,
    /// Throughput of the per-insert-timed pass and of the plain pass, Mops/s.
    timed_mops: f64,
    plain_mops: f64,
    p50: u32,
    p999: u32,
    p9999: u32,
    max: u32,
    /// The slowest inserts: (insert number, nanoseconds), slowest first.
    worst: Vec<(usize, u32)>,
    /// Inserts slower than 1 ms, 15 µs and 5 µs.
    over_1ms: usize,
    over_15us: usize,
    over_5us: usize,
    live_bytes: usize,
    peak_bytes: usize,
    /// The map's own account of its bytes: gomap's `stats().memory_bytes`; for hashbrown and
    /// std, computed from `capacity()` (see `swiss_bytes`).
    self_reported: Option<usize>,
}

/// How many of the slowest inserts are listed per map.
const WORST_SHOWN: usize = 12;

/// The value at quantile `q` of sorted samples (nearest rank).
fn quantile(sorted: &[u32], q: f64) -> u32 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn measure<M: Map>(n: usize, self_report: impl Fn(&M) -> Option<usize>) -> Row {
    let mut lat: Vec<u32> = vec![0; n];
    // Plain pass: throughput without the clock reads.
    let start = Instant::now();
    let mut map = M::empty();
    for i in 0..n as u64 {
        map.put(key(i), i);
    }
    let plain = start.elapsed();
    drop(black_box(map));

    // Timed pass, with memory accounting around it.
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let start = Instant::now();
    let mut map = M::empty();
    for (i, slot) in lat.iter_mut().enumerate() {
        let k = key(i as u64);
        let t = Instant::now();
        map.put(k, i as u64);
        *slot = u32::try_from(t.elapsed().as_nanos()).unwrap_or(u32::MAX);
    }
    let timed = start.elapsed();
    assert_eq!(map.len(), n);
    let live_bytes = LIVE.load(Relaxed) - base;
    let peak_bytes = PEAK.load(Relaxed) - base;
    let self_reported = self_report(&map);
    drop(black_box(map));

    let mut worst: Vec<(usize, u32)> = lat.iter().copied().enumerate().collect();
    worst.sort_unstable_by_key(|&(i, d)| (std::cmp::Reverse(d), i));
    worst.truncate(WORST_SHOWN);
    let over = |ns: u32| lat.iter().filter(|&&d| d > ns).count();
    let (over_1ms, over_15us, over_5us) = (over(1_000_000), over(15_000), over(5_000));
    lat.sort_unstable();
    let mops = |d: Duration| n as f64 / d.as_secs_f64() / 1e6;
    Row {
        name: M::NAME,
        timed_mops: mops(timed),
        plain_mops: mops(plain),
        p50: quantile(&lat, 0.5),
        p999: quantile(&lat, 0.999),
        p9999: quantile(&lat, 0.9999),
        max: *lat.last().expect("n > 0"),
        worst,
        over_1ms,
        over_15us,
        over_5us,
        live_bytes,
        peak_bytes,
        self_reported,
    }
}

/// The heap bytes of a hashbrown (or std) table of u64 pairs with this `capacity()`, as a
/// cross-check of the counting allocator. A SwissTable of `buckets` (a power of two) holds
/// `buckets * 7 / 8` entries (`buckets - 1` below 8 buckets), and allocates one `(K, V)` per
/// bucket plus one control byte per bucket plus `Group::WIDTH` (16 with SSE2) trailing
/// control bytes that mirror the first group, so probes never wrap mid-group.
fn swiss_bytes(capacity: usize) -> usize {
    const GROUP_WIDTH: usize = 16;
    let buckets = if capacity < 7 {
        (capacity + 1).next_power_of_two()
    } else {
        capacity / 7 * 8
    };
    buckets * (std::mem::size_of::<(u64, u64)>() + 1) + GROUP_WIDTH
}

fn us(ns: u32) -> String {
    format!("{:.1}", f64::from(ns) / 1e3)
}

fn main() {
    const USAGE: &str = "usage: insert_latency [N] [--faults]";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let faults = args.iter().any(|a| a == "--faults");
    let n: usize = match args.iter().find(|a| *a != "--faults") {
        None => 10_000_000,
        Some(s) => s.replace('_', "").parse().expect(USAGE),
    };
    assert!(n > 0, "N must be positive");
    let rows = [
        measure::<gomap::HashMap<u64, u64>>(n, |m| Some(m.stats().memory_bytes)),
        measure::<hashbrown::HashMap<u64, u64, DefaultHashBuilder>>(n, |m| {
            Some(swiss_bytes(m.capacity()))
        }),
        measure::<std::collections::HashMap<u64, u64, DefaultHashBuilder>>(n, |m| {
            Some(swiss_bytes(m.capacity()))
        }),
    ];

    println!("insert {n} fresh u64 -> u64 keys into an empty map (same hasher: foldhash fast)");
    println!();
    println!(
        "| map | Mops/s plain | Mops/s timed | p50 ns | p99.9 µs | p99.99 µs | max µs | inserts > 5 µs | > 15 µs | > 1 ms | bytes/entry live | bytes/entry peak |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let per = |b: usize| b as f64 / n as f64;
        let own = r
            .self_reported
            .map_or(String::new(), |b| format!(" (formula: {:.1})", per(b)));
        println!(
            "| {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {:.1}{} | {:.1} |",
            r.name,
            r.plain_mops,
            r.timed_mops,
            r.p50,
            us(r.p999),
            us(r.p9999),
            us(r.max),
            r.over_5us,
            r.over_15us,
            r.over_1ms,
            per(r.live_bytes),
            own,
            per(r.peak_bytes),
        );
    }
    println!();
    println!("slowest inserts (insert number: µs):");
    for r in &rows {
        let list: Vec<String> = r
            .worst
            .iter()
            .map(|&(i, d)| format!("{i}: {}", us(d)))
            .collect();
        println!("  {:<9} {}", r.name, list.join(", "));
    }
    let (g, hb) = (&rows[0], &rows[1]);
    let ratio = |a: f64, b: f64| a / b;
    println!();
    println!("gomap / hashbrown:");
    println!(
        "  throughput plain {:.2}x, timed {:.2}x (higher is better)",
        ratio(g.plain_mops, hb.plain_mops),
        ratio(g.timed_mops, hb.timed_mops)
    );
    println!(
        "  p50 {:.2}x, p99.9 {:.2}x, p99.99 {:.2}x, max {:.4}x (lower is better)",
        ratio(f64::from(g.p50), f64::from(hb.p50)),
        ratio(f64::from(g.p999), f64::from(hb.p999)),
        ratio(f64::from(g.p9999), f64::from(hb.p9999)),
        ratio(f64::from(g.max), f64::from(hb.max)),
    );
    println!(
        "  bytes/entry live {:.2}x, peak {:.2}x (lower is better)",
        ratio(g.live_bytes as f64, hb.live_bytes as f64),
        ratio(g.peak_bytes as f64, hb.peak_bytes as f64)
    );
    if faults {
        #[cfg(target_os = "linux")]
        {
            println!();
            println!("the slowest 0.01 % of a pass with getrusage around every insert:");
            attribute::<gomap::HashMap<u64, u64>>(n);
            attribute::<hashbrown::HashMap<u64, u64, DefaultHashBuilder>>(n);
        }
        #[cfg(not(target_os = "linux"))]
        println!("--faults needs Linux (getrusage with RUSAGE_THREAD)");
    }
}

/// The thread's minor page faults and system time (µs) so far.
#[cfg(target_os = "linux")]
fn thread_usage() -> (i64, i64) {
    // SAFETY: `getrusage` writes a `rusage` into the pointer it is given, which points to a
    // zeroed one of ours; RUSAGE_THREAD is a valid `who` on Linux.
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut u);
        u
    };
    (
        u.ru_minflt,
        u.ru_stime.tv_sec * 1_000_000 + u.ru_stime.tv_usec,
    )
}

/// Inserts `n` keys with `getrusage` around each, and says of the slowest 0.01 % how many
/// took a page fault, how many only system time, and how many neither.
#[cfg(target_os = "linux")]
fn attribute<M: Map>(n: usize) {
    let mut map = M::empty();
    let mut samples: Vec<(u32, bool, bool)> = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let before = thread_usage();
        let t = Instant::now();
        map.put(key(i), i);
        let ns = u32::try_from(t.elapsed().as_nanos()).unwrap_or(u32::MAX);
        let after = thread_usage();
        samples.push((ns, after.0 > before.0, after.1 > before.1));
    }
    drop(black_box(map));
    let mut sorted: Vec<u32> = samples.iter().map(|s| s.0).collect();
    sorted.sort_unstable();
    let cut = quantile(&sorted, 0.9999);
    let slow: Vec<_> = samples.iter().filter(|s| s.0 >= cut).collect();
    let faulted = slow.iter().filter(|s| s.1).count();
    let sys_only = slow.iter().filter(|s| !s.1 && s.2).count();
    let neither = slow.len() - faulted - sys_only;
    let faulting = samples.iter().filter(|s| s.1).count();
    println!(
        "  {:<9} p99.99 {} µs: {} inserts at or above it, {faulted} with a page fault, {sys_only} with \
         system time only, {neither} with neither; {faulting} inserts took a page fault in all",
        M::NAME,
        us(cut),
        slow.len(),
    );
}
