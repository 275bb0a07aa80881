//! What the diagnostic examples share: the harness's keys and their numeric arguments.
//!
//! Each example compiles this module on its own and uses part of it.
#![allow(dead_code)]

/// The keys of the harness (`gomap bench`) and of `benches/hashmap.rs`: SplitMix64's
/// finaliser of the index, a bijection, so distinct indices are distinct keys.
pub fn key(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Prints `program: message` and exits with status 2 (a usage error).
pub fn fail(program: &str, message: &str) -> ! {
    eprintln!("{program}: {message}");
    std::process::exit(2)
}

/// Command-line argument `i` as a positive integer (`_` separators allowed), or `default` when
/// it is absent; a usage error naming `what` otherwise.
pub fn positive_arg(program: &str, i: usize, default: u64, what: &str) -> u64 {
    match std::env::args().nth(i) {
        None => default,
        Some(s) => match s.replace('_', "").parse() {
            Ok(n) if n > 0 => n,
            _ => fail(
                program,
                &format!("{what} must be a positive integer, got {s:?}"),
            ),
        },
    }
}

/// The fastest and the median of `ns` (round timings), which it reorders.
pub fn best_and_median(ns: &mut [f64]) -> (f64, f64) {
    ns.sort_by(f64::total_cmp);
    (ns[0], ns[ns.len() / 2])
}
