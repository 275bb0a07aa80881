//! What a fresh page of memory costs on this machine, faulted in one by one (as a growing
//! map's evacuation writes into its new array) or populated a chunk at a time
//! (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14+), or as transparent huge pages
//! (`madvise(MADV_HUGEPAGE)`). The README's p99.99 discussion rests on these figures: batching
//! page faults into fewer inserts moves the kernel's work, it does not shrink it, and huge pages,
//! cheaper per byte when the kernel has free ones, stall for milliseconds when it must compact
//! memory first.
//!
//! ```text
//! cargo run --release --example page_cost -- [MiB]   # default 256 MiB per measurement
//! ```

#[cfg(target_os = "linux")]
fn main() {
    use std::time::Instant;

    const PAGE: usize = 4096;
    let mib: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("MiB: a whole number"))
        .unwrap_or(256);
    let len = mib << 20;

    // A fresh private anonymous mapping: no page is backed until first touched.
    let map = || {
        // SAFETY: an anonymous mapping with no address hint has no preconditions.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED, "mmap of {mib} MiB failed");
        p.cast::<u8>()
    };
    // SAFETY: `p` is a mapping of `len` bytes made by `map` and not used afterwards.
    let unmap = |p: *mut u8| unsafe { libc::munmap(p.cast(), len) };

    let p = map();
    let t = Instant::now();
    for offset in (0..len).step_by(PAGE) {
        // SAFETY: `offset < len`, inside the writable mapping.
        unsafe { p.add(offset).write_volatile(1) };
    }
    let faulted = t.elapsed();
    unmap(p);
    println!(
        "fault one page at a time:  {:.2} µs per page ({} MiB in {:.1} ms)",
        faulted.as_secs_f64() * 1e6 / (len / PAGE) as f64,
        mib,
        faulted.as_secs_f64() * 1e3
    );

    // The same pages asked for as transparent huge pages (`madvise(MADV_HUGEPAGE)`): the
    // first touch of each 2 MiB faults in (and zeroes) the whole huge page at once.
    {
        let p = map();
        // SAFETY: advice on a mapping made by `map`; it does not change what the memory holds.
        let r = unsafe { libc::madvise(p.cast(), len, libc::MADV_HUGEPAGE) };
        assert_eq!(
            r, 0,
            "MADV_HUGEPAGE failed (a kernel without transparent huge pages?)"
        );
        let (mut worst, mut faults, mut over_ms, t) = (0f64, 0usize, 0usize, Instant::now());
        for offset in (0..len).step_by(PAGE) {
            let c = Instant::now();
            // SAFETY: `offset < len`, inside the writable mapping.
            unsafe { p.add(offset).write_volatile(1) };
            let took = c.elapsed().as_secs_f64();
            faults += usize::from(took > 5e-6);
            over_ms += usize::from(took > 1e-3);
            worst = worst.max(took);
        }
        let faulted = t.elapsed();
        let huge_kib = anon_huge_kib();
        unmap(p);
        println!(
            "huge pages (MADV_HUGEPAGE): {:.2} µs per 4 KiB, {faults} writes over 5 µs ({over_ms} over 1 ms), worst {:.0} µs, {} MiB backed by huge pages",
            faulted.as_secs_f64() * 1e6 / (len / PAGE) as f64,
            worst * 1e6,
            huge_kib >> 10
        );
    }

    for chunk_kib in [256usize, 1024] {
        let chunk = chunk_kib << 10;
        let p = map();
        let (mut worst, t) = (0f64, Instant::now());
        for offset in (0..len).step_by(chunk) {
            let c = Instant::now();
            // SAFETY: `offset..offset + chunk` lies inside the mapping; populating does not
            // change what the memory holds.
            let r =
                unsafe { libc::madvise(p.add(offset).cast(), chunk, libc::MADV_POPULATE_WRITE) };
            assert_eq!(r, 0, "MADV_POPULATE_WRITE needs Linux 5.14 or later");
            worst = worst.max(c.elapsed().as_secs_f64());
        }
        let populated = t.elapsed();
        unmap(p);
        println!(
            "populate {chunk_kib:>4} KiB at a time: {:.2} µs per page, {:.0} µs per call (worst {:.0} µs)",
            populated.as_secs_f64() * 1e6 / (len / PAGE) as f64,
            populated.as_secs_f64() * 1e6 / (len / chunk) as f64,
            worst * 1e6
        );
    }
}

/// The process's anonymous memory backed by transparent huge pages, in KiB.
#[cfg(target_os = "linux")]
fn anon_huge_kib() -> usize {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("page_cost measures Linux's page faults and MADV_POPULATE_WRITE; nothing to do here");
}
