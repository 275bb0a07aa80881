//! A short look at the map at work (the CLI's `gomap tour` goes further): inserts into an
//! empty map, printing B, count and the growth state whenever they change.
//!
//! Run with `cargo run --release --example tour`.

use gomap::HashMap;

fn main() {
    let mut map = HashMap::new();
    let mut last = (u8::MAX, false);
    println!(
        "{:>8} {:>3} {:>8} {:>9} {:>10} {:>9}",
        "insert", "B", "buckets", "overflow", "growing", "evacuated"
    );
    for k in 0..200_000u64 {
        map.insert(k, k);
        let s = map.stats();
        if (s.b, s.growing) != last {
            last = (s.b, s.growing);
            let evacuated = s.old_b.map_or(String::from("-"), |ob| {
                format!("{}/{}", s.evacuated, 1u64 << ob)
            });
            println!(
                "{:>8} {:>3} {:>8} {:>9} {:>10} {:>9}",
                k + 1,
                s.b,
                s.buckets,
                s.overflow_buckets,
                s.growing,
                evacuated
            );
        }
    }
    let s = map.stats();
    println!(
        "\n{} entries, load factor {:.2}, {:.1} bytes/entry, chains by length: {:?}",
        s.len,
        s.load_factor,
        s.bytes_per_entry().unwrap_or(0.0),
        &s.chain_lengths[1..]
    );
}
