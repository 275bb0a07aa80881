//! `stats()` as the CLI and the visualiser read it: the chain-length histogram and the
//! overflow pool, on layouts the tests choose (hash(k) = k picks the bucket).

mod common;

use gomap::HashMap;

type IdMap = HashMap<u64, u64, common::Identity>;

/// An empty map of 64 buckets (B = 6: capacity 400 is more than 32 buckets hold), which
/// automatic shrinking never goes below.
fn sixty_four_buckets() -> IdMap {
    let map = HashMap::with_capacity_and_hasher(400, common::Identity);
    assert_eq!(map.stats().b, 6);
    map
}

/// Live chains and the chain-length histogram, counted from the layout view (which walks the
/// arrays on its own): a chain is live unless the view marks it retired.
fn chains_in_layout(map: &IdMap) -> (usize, Vec<usize>) {
    let view = map.layout(|_, _| String::new());
    let mut histogram = vec![0; 2];
    let mut live = 0;
    let old = view.oldbuckets.iter().flatten();
    for chain in view.buckets.iter().chain(old).filter(|c| !c.retired) {
        live += 1;
        let n = chain.buckets.len();
        if histogram.len() <= n {
            histogram.resize(n + 1, 0);
        }
        histogram[n] += 1;
    }
    (live, histogram)
}

/// What every histogram obeys, growing or not: one count per live chain, and a chain of `n`
/// buckets is its head and `n - 1` overflow buckets of the current or the old array.
fn assert_histogram_consistent(map: &IdMap) {
    let s = map.stats();
    let (live, histogram) = chains_in_layout(map);
    assert_eq!(s.chain_lengths[0], 0, "{s:?}");
    assert_eq!(s.chain_lengths.iter().sum::<usize>(), live, "{s:?}");
    let chained: usize = s.chain_lengths.iter().enumerate().map(|(n, c)| n * c).sum();
    assert_eq!(
        chained,
        live + s.overflow_buckets + s.old_overflow_buckets,
        "{s:?}"
    );
    assert_eq!(s.chain_lengths, histogram, "{s:?}");
}

#[test]
fn chain_lengths_count_every_live_chain_by_its_buckets_even_mid_growth() {
    // The visualiser draws this histogram; a chain missed or miscounted (an old array's chains
    // while growing, the head itself) would show a healthier map than the real one.
    let mut map = sixty_four_buckets();
    // Bucket 0: 60 keys in 8 buckets; bucket 5: 20 keys in 3; buckets 10..20: one key each.
    let keys = (0..60u64)
        .map(|i| i * 64)
        .chain((0..20).map(|i| i * 64 + 5));
    for k in keys.chain(10..20) {
        map.insert(k, k);
    }
    let s = map.stats();
    assert_eq!(s.chain_lengths, [0, 62, 0, 1, 0, 0, 0, 0, 1], "{s:?}");
    assert_eq!(s.chain_lengths.iter().sum::<usize>(), s.buckets);
    assert_eq!(s.overflow_buckets, 7 + 2);
    assert_histogram_consistent(&map);

    // Keys of the other buckets until the doubling starts and ends: mid-growth the histogram
    // covers the old array's unevacuated chains and the new array's initialised ones.
    let mut k = 1 << 20;
    let mut saw_old_overflow = false;
    while !map.stats().growing {
        map.insert(k, k);
        k += 1;
    }
    while map.stats().growing {
        saw_old_overflow |= map.stats().old_overflow_buckets > 0;
        assert_histogram_consistent(&map);
        map.insert(k, k);
        k += 1;
    }
    assert!(
        saw_old_overflow,
        "no old chain with overflow seen mid-growth"
    );
    let s = map.stats();
    assert_eq!(s.chain_lengths.iter().sum::<usize>(), s.buckets, "{s:?}");
    assert_histogram_consistent(&map);
}

#[test]
fn overflow_buckets_come_from_the_array_s_pool_before_the_heap() {
    // From B = 4 the array is allocated with 2^(B-4) spare buckets (Go's `makeBucketArray`):
    // here 4, so a chain's first four overflow buckets cost no allocation and the fifth does.
    let mut map = sixty_four_buckets();
    let empty = map.stats();
    assert_eq!(
        (
            empty.overflow_pool,
            empty.overflow_pool_used,
            empty.overflow_buckets
        ),
        (4, 0, 0)
    );
    let mut bucket_bytes = None;
    // All keys go to bucket 0: key i + 1 needs i / 8 overflow buckets.
    for i in 0..100u64 {
        map.insert(i * 64, i);
        let s = map.stats();
        let overflow = i as usize / 8;
        assert_eq!(s.overflow_buckets, overflow, "{s:?}");
        assert_eq!(s.overflow_pool_used, overflow.min(4), "{s:?}");
        let heap = overflow.saturating_sub(4);
        if heap == 0 {
            assert_eq!(
                s.memory_bytes, empty.memory_bytes,
                "pool bucket on the heap: {s:?}"
            );
        } else {
            let size = *bucket_bytes.get_or_insert(s.memory_bytes - empty.memory_bytes);
            assert_eq!(s.memory_bytes, empty.memory_bytes + heap * size, "{s:?}");
        }
    }
    assert!(bucket_bytes.is_some_and(|size| size > 0));
    // The layout view tells the same: the chain's first four overflow buckets are the pool's.
    let view = map.layout(|_, _| String::new());
    let from_pool: Vec<bool> = view.buckets[0]
        .buckets
        .iter()
        .map(|b| b.from_pool)
        .collect();
    let mut expected = vec![false, true, true, true, true];
    expected.resize(13, false);
    assert_eq!(from_pool, expected);
}
