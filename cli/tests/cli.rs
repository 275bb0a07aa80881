//! The `gomap` binary, run as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn gomap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gomap"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run gomap")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

#[test]
fn bad_arguments_fail_with_a_message() {
    for args in [
        &["--keys", "0"][..],
        &["tour", "--keys", "0"],
        &["tour", "--keys", "many"],
        &["tour", "--keys", "100001"],
        &["--no-such-flag"],
        &["inspect"],
        &["bench", "--sizes", "0"],
        &["bench", "--color", "purple"],
    ] {
        let out = gomap(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: clap's usage-error code"
        );
        let err = stderr(&out);
        assert!(err.contains("error:"), "{args:?}: no message in {err:?}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}

/// One parsed row of the tour's growth table.
#[derive(Debug)]
struct Row {
    insert: usize,
    len: usize,
    b: u32,
    buckets: usize,
    old_b: Option<u32>,
    evacuated: Option<(usize, usize)>,
    event: String,
}

fn growth_rows(text: &str) -> Vec<Row> {
    let section = text
        .split("== 1. A map growing from empty ==")
        .nth(1)
        .expect("growth section")
        .split("== 2.")
        .next()
        .unwrap();
    let mut lines = section
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("insert"));
    let header: Vec<&str> = lines
        .next()
        .expect("table header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "insert",
            "len",
            "B",
            "buckets",
            "overflow",
            "oldB",
            "evacuated",
            "load",
            "event"
        ]
    );
    lines
        .take_while(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let num = |i: usize| f[i].parse::<usize>().unwrap_or_else(|_| panic!("{l}"));
            Row {
                insert: num(0),
                len: num(1),
                b: num(2) as u32,
                buckets: num(3),
                old_b: f[5].parse().ok(),
                evacuated: f[6]
                    .split_once('/')
                    .map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap())),
                event: f[8..].join(" "),
            }
        })
        .collect()
}

#[test]
fn tour_shows_real_and_consistent_growth() {
    let keys = 3000;
    let out = gomap(&[
        "tour",
        "--keys",
        &keys.to_string(),
        "--seed",
        "7",
        "--color",
        "never",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let rows = growth_rows(&text);
    assert!(rows.len() > 5, "too few rows: {rows:?}");
    let last = rows.last().unwrap();
    assert_eq!(
        (last.insert, last.len, last.event.as_str()),
        (keys, keys, "end")
    );
    let mut in_growth: Option<u32> = None;
    let mut doublings = 0;
    let mut prev_b = 0;
    for r in &rows {
        // Distinct keys: after insert i the map holds i entries.
        assert_eq!(r.len, r.insert, "{r:?}");
        if r.insert > 0 {
            assert_eq!(r.buckets, 1 << r.b, "{r:?}");
        }
        assert!(r.b >= prev_b, "B went down: {r:?}");
        prev_b = r.b;
        if r.event.starts_with("doubling starts") {
            assert!(
                in_growth.is_none(),
                "a growth started inside another: {r:?}"
            );
            let old = r.old_b.expect("oldB while growing");
            assert_eq!(r.b, old + 1, "{r:?}");
            assert!(r.event.contains(&format!("B {old} -> {}", r.b)), "{r:?}");
            let (done, total) = r.evacuated.expect("evacuated while growing");
            assert_eq!(total, 1 << old);
            assert!(
                (1..=2).contains(&done),
                "the first write evacuates 1 or 2: {r:?}"
            );
            in_growth = Some(r.b);
            doublings += 1;
        } else if r.event.starts_with("last old bucket evacuated") {
            assert_eq!(in_growth.take(), Some(r.b), "{r:?}");
            assert!(r.old_b.is_none() && r.evacuated.is_none(), "{r:?}");
        } else if r.event.starts_with("doubling B") {
            // Finished inside the insert that started it: B went up by exactly one.
            assert!(r.event.contains(&format!("-> {}", r.b)), "{r:?}");
        }
    }
    // 3000 keys: B ends at 9, and every growth from B = 2 on is incremental.
    assert_eq!(last.b, 9);
    assert!(doublings >= 6, "only {doublings} incremental doublings");
    // The traced lookups agree with the map.
    assert!(
        text.contains("key compares equal — found, value 1500"),
        "{text}"
    );
    assert!(text.contains("key absent"), "{text}");
    assert!(text.contains("emptyOne") && text.contains("emptyRest"));
    assert!(text.contains("== 4. Same-size growth under churn =="));
}

#[test]
fn tour_shows_a_shrink_started_by_an_insert_after_a_mass_delete() {
    let text = stdout(&gomap(&["tour", "--keys", "100", "--color", "never"]));
    let section = text
        .split("== 5. Beyond Go: shrinking after a mass delete ==")
        .nth(1)
        .expect("shrink section")
        .split("== 6.")
        .next()
        .unwrap();
    // writes, len, B, buckets, oldB, evacuated, KiB, event...
    let rows: Vec<Vec<&str>> = section
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("writes"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let num = |r: &[&str], i: usize| r[i].parse::<usize>().unwrap_or_else(|_| panic!("{r:?}"));
    let (full, emptied, started, done) = (&rows[0], &rows[1], &rows[2], rows.last().expect("rows"));
    let big = num(full, 2);
    assert_eq!((num(full, 1), full[4]), (20_000, "-"), "{full:?}");
    // The removes resize nothing; the insert after them starts the shrink.
    assert_eq!(
        (num(emptied, 1), num(emptied, 2), emptied[4]),
        (200, big, "-")
    );
    assert_eq!(num(started, 0), num(emptied, 0) + 1, "{started:?}");
    assert_eq!(num(started, 4), big, "{started:?}");
    assert!(num(started, 2) < big && started[7..].join(" ").contains("shrink starts"));
    // Later writes finish it: one old array fewer, and less memory than before the shrink.
    assert!(done[7..].join(" ").contains("shrink done"), "{done:?}");
    assert_eq!((done[4], num(done, 2)), ("-", num(started, 2)), "{done:?}");
    assert!(num(done, 6) < num(emptied, 6), "{done:?} vs {emptied:?}");
    let writes: Vec<usize> = rows.iter().map(|r| num(r, 0)).collect();
    assert!(writes.windows(2).all(|w| w[0] < w[1]), "{writes:?}");
}

/// One parsed row of the tour's SyncMap step table.
#[derive(Debug)]
struct SyncRow {
    step: usize,
    op: String,
    read: usize,
    dirty: Option<usize>,
    misses: usize,
    promotions: u64,
    event: String,
}

/// The SyncMap section: its step table and its entry-state table (header, rows).
fn sync_section(text: &str) -> (Vec<SyncRow>, Vec<String>, Vec<Vec<String>>) {
    let section = text.split("== 6. SyncMap").nth(1).expect("SyncMap section");
    let mut lines = section.lines().map(str::trim);
    let header: Vec<&str> = lines
        .by_ref()
        .find(|l| l.starts_with("#   op"))
        .expect("step table header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "#",
            "op",
            "len",
            "read",
            "dirty",
            "amended",
            "misses",
            "promotions",
            "event"
        ]
    );
    let mut steps = Vec::new();
    for l in lines.by_ref() {
        if !l.starts_with(|c: char| c.is_ascii_digit()) {
            break;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        let num = |i: usize| f[i].parse::<usize>().unwrap_or_else(|_| panic!("{l}"));
        steps.push(SyncRow {
            step: num(0),
            op: f[1].to_string(),
            read: num(3),
            dirty: f[4].parse().ok(),
            misses: num(6),
            promotions: num(7) as u64,
            event: f[8..].join(" "),
        });
    }
    let header: Vec<String> = lines
        .by_ref()
        .find(|l| l.starts_with("key "))
        .expect("entry table header")
        .split_whitespace()
        .filter(|w| w.starts_with('#'))
        .map(String::from)
        .collect();
    let rows: Vec<Vec<String>> = lines
        .take_while(|l| !l.is_empty() && !l.starts_with("After"))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    (steps, header, rows)
}

#[test]
fn tour_shows_the_sync_map_cycle() {
    let out = gomap(&["tour", "--keys", "100", "--color", "never"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (steps, moments, entries) = sync_section(&text);
    assert!(steps.len() >= 10, "{steps:?}");

    // Misses count up, one per load that missed, and the promotion comes exactly when they
    // reach len(dirty): the snapshot then has dirty's entries and there is no dirty map.
    let mut promotions = 0;
    for pair in steps.windows(2) {
        let (before, r) = (&pair[0], &pair[1]);
        assert_eq!(r.step, before.step + 1);
        if r.promotions > before.promotions {
            promotions += 1;
            let dirty = before.dirty.expect("a promotion needs a dirty map");
            assert_eq!(before.misses + 1, dirty, "promoted early or late: {r:?}");
            assert_eq!((r.read, r.dirty, r.misses), (dirty, None, 0), "{r:?}");
            assert!(r.event.contains("promotion"), "{r:?}");
        } else if r.op.starts_with("Load") && r.misses != before.misses {
            assert_eq!(r.misses, before.misses + 1, "{r:?}");
            assert!(
                r.misses < r.dirty.expect("misses need a dirty map"),
                "{r:?}"
            );
        }
    }
    assert!(promotions >= 2, "{steps:?}");

    // The entry table: a deleted key is nil in the snapshot, then expunged (and absent from
    // the new dirty map) once a new key rebuilt dirty; its counts match the step table.
    let totals = entries
        .iter()
        .find(|r| r[0] == "entries")
        .expect("entries row");
    assert_eq!(totals.len(), moments.len() + 1);
    let mut expunged_seen = 0;
    for (j, moment) in moments.iter().enumerate() {
        let step: usize = moment[1..].parse().expect("#step");
        let row = steps.iter().find(|r| r.step == step).expect("moment's row");
        let want = match row.dirty {
            Some(d) => format!("{}|{d}", row.read),
            None => row.read.to_string(),
        };
        assert_eq!(totals[j + 1], want, "entry counts after #{step}");
        for r in entries.iter().filter(|r| r[0] != "entries") {
            if r[j + 1] != "expunged|-" {
                continue;
            }
            expunged_seen += 1;
            assert!(j > 0, "expunged in the first column");
            let before = &r[j];
            assert!(
                before == "nil" || before == "expunged|-",
                "key {} expunged after {before}",
                r[0]
            );
        }
    }
    assert!(expunged_seen > 0, "no expunged entry: {entries:?}");
    assert_eq!(
        moments.last().map(String::as_str),
        Some(format!("#{}", steps.last().unwrap().step).as_str()),
        "the table ends with the last promotion"
    );
    assert!(text.contains("expunged entry revived"), "{text}");
}

#[test]
fn tour_is_reproducible_and_the_default_command() {
    let a = gomap(&["--keys", "500", "--seed", "3", "--color", "never"]);
    let b = gomap(&["tour", "--keys", "500", "--seed", "3", "--color", "never"]);
    assert!(a.status.success() && b.status.success());
    assert_eq!(stdout(&a), stdout(&b));
    let c = gomap(&["tour", "--keys", "500", "--seed", "4", "--color", "never"]);
    assert_ne!(
        stdout(&a),
        stdout(&c),
        "the seed changes the keys and the hasher"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let piped = gomap(&["--keys", "100"]);
    assert!(!stdout(&piped).contains('\x1b'), "colour on a pipe");
    let always = gomap(&["--keys", "100", "--color", "always"]);
    assert!(stdout(&always).contains("\x1b["));
    let no_color = Command::new(env!("CARGO_BIN_EXE_gomap"))
        .args(["--keys", "100"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&no_color).contains('\x1b'));
}

/// Every HashMap measure of cli/src/workloads.rs.
const MEASURES: &[&str] = &[
    "insert_grow",
    "insert_max",
    "insert_p99.99",
    "lookup_hit",
    "lookup_miss",
    "remove",
    "iterate",
    "churn",
    "string_insert",
    "string_lookup",
    "bytes_per_entry",
];

/// Every SyncMap workload (each its own measure, in ns/op) of cli/src/workloads.rs.
const SYNC_MEASURES: &[&str] = &["read_mostly", "grow_only", "disjoint", "write_heavy"];

/// `--tiny` runs the SyncMap workloads at 1 and 2 threads.
const TINY_THREADS: &[u64] = &[1, 2];

/// Runs `gomap bench --tiny <args> --json <a temporary file>`, asserts that it succeeded and
/// returns its output and the JSON it wrote.
fn tiny_bench_json(args: &[&str]) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let mut all = vec!["bench", "--tiny", "--json", json.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = gomap(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("valid JSON");
    (out, doc)
}

#[test]
fn bench_repeat_reports_one_figure_per_map_and_says_so() {
    let (out, doc) = tiny_bench_json(&["--repeat", "3", "--filter", "lookup_hit"]);
    assert!(
        stdout(&out).contains("median of 3 passes with the maps taking turns"),
        "{}",
        stdout(&out)
    );
    assert_eq!(doc["repeat"], 3);
    let imps: Vec<&str> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["impl"].as_str().expect("impl"))
        .collect();
    assert_eq!(imps, ["gomap", "hashbrown", "std"]);

    let zero = gomap(&["bench", "--tiny", "--repeat", "0"]);
    assert!(!zero.status.success());
    assert!(stderr(&zero).contains("--repeat"), "{}", stderr(&zero));
}

#[test]
fn bench_json_has_every_map_and_workload() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let csv = dir.path().join("out.csv");
    let svg = dir.path().join("out.svg");
    let out = gomap(&[
        "bench",
        "--tiny",
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("valid JSON");
    let results = doc["results"].as_array().expect("results");
    let find = |imp: &str, m: &str, threads: u64| {
        let r = results
            .iter()
            .find(|r| r["impl"] == *imp && r["measure"] == *m && r["threads"] == threads)
            .unwrap_or_else(|| panic!("{imp}/{m}/{threads} threads missing"));
        let v = r["value"].as_f64().expect("numeric value");
        assert!(v.is_finite() && v > 0.0, "{imp}/{m} = {v}");
        assert_eq!(r["size"], 1000);
        r
    };
    for imp in ["gomap", "hashbrown", "std"] {
        for m in MEASURES {
            find(imp, m, 1);
        }
    }
    for imp in ["gomap-sync", "dashmap", "scc", "papaya", "rwlock-std"] {
        for m in SYNC_MEASURES {
            for &t in TINY_THREADS {
                let r = find(imp, m, t);
                assert_eq!(r["unit"], "ns/op", "{imp}/{m}");
                assert_eq!(r["workload"], *m);
            }
        }
    }
    let expected = 3 * MEASURES.len() + 5 * SYNC_MEASURES.len() * TINY_THREADS.len();
    assert_eq!(results.len(), expected);
    assert_eq!(
        doc["impls"],
        serde_json::json!([
            "gomap",
            "hashbrown",
            "std",
            "gomap-sync",
            "dashmap",
            "scc",
            "papaya",
            "rwlock-std"
        ])
    );
    let kinds: Vec<&str> = doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|&&k| k == "SyncMap").count(), 4);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 1 + expected);
    assert!(csv.starts_with("workload,measure,size,threads,impl,value,unit\n"));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("vs dashmap") && svg.contains("read_mostly n=1k t=2"));
    // The tables list every measure too, the SyncMap's with gomap-sync's ratio.
    let table = stdout(&out);
    for m in MEASURES.iter().chain(SYNC_MEASURES) {
        assert!(table.contains(m), "{m} not in the table");
    }
    assert!(table.contains("gomap-sync vs best peer"), "{table}");
    // The malloc settings the figures were taken under (cli/src/malloc.rs), in the JSON and in
    // the header line.
    let allocator = doc["allocator"].as_str().expect("allocator");
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        assert_eq!(
            allocator,
            "glibc malloc, mmap threshold 32 MiB, no trimming"
        );
    }
    assert!(table.contains(&format!("({allocator})")), "{table}");
}

#[test]
fn bench_filter_and_a_missing_go_program() {
    let out = gomap(&[
        "bench",
        "--tiny",
        "--filter",
        "lookup",
        "--go",
        "--go-dir",
        "/nonexistent",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("lookup_hit") && table.contains("lookup_miss"));
    assert!(!table.contains("churn") && !table.contains("go-map"));
    assert!(
        stderr(&out).contains("going on without"),
        "{}",
        stderr(&out)
    );

    let none = gomap(&["bench", "--tiny", "--filter", "no-such-workload"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("matches no workload"));
}

#[test]
fn inspect_reports_the_layout_of_a_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for i in 0..1000 {
        writeln!(file, "key-{i}").unwrap();
    }
    writeln!(file, "key-7").unwrap(); // a duplicate
    let out = gomap(&["inspect", file.path().to_str().unwrap(), "--seed", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("1001 lines, 1000 distinct keys"), "{text}");
    assert!(text.contains("hashbrown") && text.contains("bytes/entry"));
    // 1000 entries: B = 8 (6.5 * 2^7 = 832 < 1000 <= 1664).
    let row = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("B "))
        .nth(1)
        .expect("layout row");
    assert!(row.split_whitespace().take(2).eq(["8", "256"]), "{row}");
}

#[test]
fn inspect_reads_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gomap"))
        .args(["inspect", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a\nb\nc\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("3 lines, 3 distinct keys"));
}

#[test]
fn inspect_errors_are_clear() {
    let missing = gomap(&["inspect", "/nonexistent/keys.txt"]);
    assert_eq!(missing.status.code(), Some(1));
    let err = stderr(&missing);
    assert!(err.contains("cannot read /nonexistent/keys.txt"), "{err}");
    assert!(!err.contains("panicked"));

    let mut bad = tempfile::NamedTempFile::new().unwrap();
    bad.write_all(b"fine\nnot \xff utf-8\n").unwrap();
    let out = gomap(&["inspect", bad.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("line 2 is not valid UTF-8"), "{err}");
}

#[test]
fn bench_go_side_runs_sync_map_too_when_go_is_installed() {
    let has_go = ["go", "/usr/lib/go-1.19/bin/go"].iter().any(|go| {
        Command::new(go)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !has_go {
        eprintln!("skipped: Go is not installed");
        return;
    }
    let (out, doc) = tiny_bench_json(&["--go", "--filter", "write_heavy"]);
    let results = doc["results"].as_array().expect("results");
    for &t in TINY_THREADS {
        let r = results
            .iter()
            .find(|r| r["impl"] == "go-sync.Map" && r["threads"] == t)
            .unwrap_or_else(|| panic!("no go-sync.Map figure at {t} threads: {results:?}"));
        assert_eq!(
            (&r["measure"], &r["unit"]),
            (&"write_heavy".into(), &"ns/op".into())
        );
        assert!(r["value"].as_f64().is_some_and(|v| v > 0.0));
    }
    assert!(stdout(&out).contains("go-sync.Map"));
}
