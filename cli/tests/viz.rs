//! `gomap viz` without a browser: bad `--ops` input is reported by line and writes nothing;
//! the frames in the page are the live map's own figures, and sampling keeps every growth.

mod viz_common;

use viz_common::{draw, gomap, page_data, read_ops, stderr, Drawn, Replay, SyncReplay};

#[test]
fn bad_ops_lines_are_reported_by_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let ops = dir.path().join("ops.txt");
    std::fs::write(
        &ops,
        "insert 1 10\n# a comment\ninsert 2 20\nupsert 3 30\ninsert four 40\nremove\ninsert 5 0x\n\
         remove 1 2\ninsert 18446744073709551616 1\n",
    )
    .unwrap();
    let out = dir.path().join("map.html");
    let saved = dir.path().join("saved.txt");
    let o = gomap(&[
        "viz",
        "--ops",
        ops.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--save-ops",
        saved.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let name = ops.display().to_string();
    for (line, what) in [
        (4, "unknown operation `upsert`"),
        (5, "key `four` is not a u64"),
        (6, "`remove` needs a key"),
        (7, "value `0x` is not a u64"),
        (8, "`remove` takes 1 number, found 2"),
        (9, "key `18446744073709551616` is not a u64"),
    ] {
        let expected = format!("{name}:{line}: {what}");
        assert!(err.contains(&expected), "no {expected:?} in:\n{err}");
    }
    for good in [1, 2, 3] {
        assert!(
            !err.contains(&format!("{name}:{good}:")),
            "line {good} is fine:\n{err}"
        );
    }
    assert!(!out.exists(), "a page was written despite bad input");
    assert!(!saved.exists(), "--save-ops was written despite bad input");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the ops file"
    );

    // An existing page is left as it was.
    std::fs::write(&out, "old page").unwrap();
    let o = gomap(&[
        "viz",
        "--ops",
        ops.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old page");

    // Empty input and a missing file are errors too.
    std::fs::write(&ops, "# nothing\n\n").unwrap();
    let o = gomap(&[
        "viz",
        "--ops",
        ops.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stderr(&o).contains("no operations"), "{}", stderr(&o));
    let o = gomap(&[
        "viz",
        "--ops",
        "/no/such/file",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("cannot read /no/such/file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old page");
}

#[test]
fn every_frame_shows_the_live_maps_figures() {
    let dir = tempfile::tempdir().unwrap();
    let ops = dir.path().join("ops.txt");
    // 300 inserts (several doublings), then removes of a third of them.
    let mut text = String::new();
    for i in 0..300u64 {
        text += &format!("insert {} {i}\n", i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    for i in (0..300u64).step_by(3) {
        text += &format!("remove {}\n", i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    std::fs::write(&ops, &text).unwrap();
    let out = dir.path().join("map.html");
    let o = gomap(&[
        "viz",
        "--ops",
        ops.to_str().unwrap(),
        "--seed",
        "7",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    let data = page_data(&html);
    let frames = data["frames"].as_array().unwrap();
    // 400 writes + the empty map: at most 400 frames, so a few are left out.
    assert_eq!(frames.len(), 400);
    let mut replay = Replay::new(read_ops(&ops), 7);
    let mut full_new = 0;
    let mut previous_step = None;
    for f in frames {
        let step = f["step"].as_u64().unwrap() as usize;
        assert!(previous_step < Some(step), "frames ascend");
        previous_step = Some(step);
        let s = replay.stats_at(step);
        let fs = &f["stats"];
        assert_eq!(fs["len"], s.len, "step {step}");
        assert_eq!(fs["b"], s.b, "step {step}");
        assert_eq!(fs["buckets"], s.buckets, "step {step}");
        assert_eq!(fs["growing"], s.growing, "step {step}");
        assert_eq!(fs["nevacuate"], s.nevacuate, "step {step}");
        assert_eq!(fs["noverflow"], s.overflow_buckets, "step {step}");
        if let Some(new) = f["new"].as_object() {
            assert_eq!(new["len"], s.buckets);
            if new["full"] == true {
                full_new += 1;
                assert_eq!(new["chains"].as_array().unwrap().len(), s.buckets);
            }
        } else {
            assert_eq!(s.buckets, 0);
        }
        assert_eq!(f["old"].is_null(), !s.growing, "step {step}");
    }
    // Whole arrays only when a new one appears (first allocation and each growth start).
    assert!((3..20).contains(&full_new), "{full_new} whole copies");
}

/// True when the page has no element or call that could fetch anything.
fn no_fetch(html: &str) -> bool {
    [
        "src=",
        "href=",
        "fetch(",
        "XMLHttpRequest",
        "@import",
        "url(http",
    ]
    .iter()
    .all(|p| !html.contains(p))
}

#[test]
fn the_page_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("map.html");
    let o = gomap(&["viz", "--keys", "50", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(no_fetch(&html), "the page refers to something outside it");
    assert!(html.starts_with("<!doctype html>"));
}

#[test]
fn sampling_keeps_every_growth_start_and_end() {
    let Drawn { data, ops, .. } = draw(&["viz", "--keys", "3000", "--seed", "3"]);
    let frames = data["frames"].as_array().unwrap();
    assert!(frames.len() <= 400, "{} frames", frames.len());
    let steps: std::collections::BTreeSet<usize> = frames
        .iter()
        .map(|f| f["step"].as_u64().unwrap() as usize)
        .collect();
    let mut replay = Replay::new(ops, 3);
    assert!(replay.len() > 3000, "inserts, churn and removes");
    let mut prev = replay.stats_at(0);
    let (mut starts, mut same_size) = (0, 0);
    for step in 1..=replay.len() {
        let s = replay.stats_at(step);
        let started = s.growing && (!prev.growing || s.old_b != prev.old_b);
        let ended = prev.growing && !s.growing;
        if started || ended {
            assert!(
                steps.contains(&step),
                "growth event at step {step} left out"
            );
            let f = frames
                .iter()
                .find(|f| f["step"] == step)
                .expect("event frame");
            assert!(f["event"].is_string(), "step {step} has no event text");
        }
        starts += usize::from(started);
        same_size += usize::from(started && s.old_b == Some(s.b));
        prev = s;
    }
    assert!(starts >= 5, "{starts} growths");
    assert_eq!(
        same_size, 1,
        "the built-in churn ends after one same-size growth"
    );
}

#[test]
fn sync_map_frames_are_the_live_sync_maps_stats() {
    let Drawn { data, ops, .. } = draw(&["viz", "--sync-map", "--keys", "120"]);
    let frames = data["frames"].as_array().unwrap();
    let mut sync = SyncReplay::new(ops.clone(), 42);
    let mut map = Replay::new(ops, 42);
    let mut promotions_seen = std::collections::BTreeSet::new();
    let mut expunged_seen = false;
    for f in frames {
        let step = f["step"].as_u64().unwrap() as usize;
        let s = sync.stats_at(step);
        let y = &f["sync"];
        assert_eq!(y["len"], s.len, "step {step}");
        assert_eq!(y["read_len"], s.read_len, "step {step}");
        // While the snapshot is being copied into a new dirty map, how far the copy got
        // depends on the snapshot's (randomised, as Go's) iteration order.
        if !s.copying {
            assert_eq!(
                y["dirty_len"],
                serde_json::json!(s.dirty_len),
                "step {step}"
            );
        }
        assert_eq!(y["copying"], s.copying, "step {step}");
        assert_eq!(y["amended"], s.amended, "step {step}");
        assert_eq!(y["misses"], s.misses, "step {step}");
        assert_eq!(y["promotions"], s.promotions, "step {step}");
        // Every entry's state, in both maps, is the live map's (once the copy is done: until
        // then which entries it reached depends on the snapshot's iteration order).
        if !s.copying {
            let layout = sync.layout_at(step);
            let entries = y["entries"].as_array().expect("entries of a small map");
            let side = |which: &str| -> Vec<(String, String)> {
                entries
                    .iter()
                    .filter_map(|e| {
                        let state = e[which].as_str()?;
                        Some((e["k"].as_str().unwrap().to_string(), state.to_string()))
                    })
                    .collect()
            };
            let names = |l: &[(String, gomap::EntryState)]| -> Vec<(String, String)> {
                l.iter()
                    .map(|(k, s)| (k.clone(), s.name().to_string()))
                    .collect()
            };
            assert_eq!(side("r"), names(&layout.read), "step {step}: read");
            assert_eq!(
                side("d"),
                names(layout.dirty.as_deref().unwrap_or_default()),
                "step {step}: dirty"
            );
            let expunged = layout
                .read
                .iter()
                .filter(|(_, s)| *s == gomap::EntryState::Expunged)
                .count();
            assert_eq!(y["read_states"][2], expunged, "step {step}");
            expunged_seen |= expunged > 0;
        }
        // Loads leave the HashMap as it was: its figures still match.
        assert_eq!(f["stats"]["len"], map.stats_at(step).len, "step {step}");
        promotions_seen.insert(s.promotions);
    }
    assert!(
        expunged_seen,
        "the rebuilt dirty map leaves expunged entries"
    );
    // The built-in sync sequence shows two promotions, each at its own frame.
    assert_eq!(
        promotions_seen.into_iter().collect::<Vec<_>>(),
        [0, 1, 2],
        "promotions along the timeline"
    );
    let promotion_frames = frames
        .iter()
        .filter(|f| f["event"].as_str().is_some_and(|e| e.contains("promotion")))
        .count();
    assert_eq!(promotion_frames, 2);
}
