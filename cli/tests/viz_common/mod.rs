//! Helpers shared by the `gomap viz` tests: run the binary, read the frames back out of the
//! page, and replay the same writes on a map of our own to know what every frame must show.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use foldhash::fast::FixedState;
use gomap::{HashMap, MapStats};
use serde_json::Value;

pub fn gomap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gomap"))
        .args(args)
        .output()
        .expect("run gomap")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A page drawn by `gomap viz ARGS --out DIR/page.html --save-ops DIR/ops.txt`.
pub struct Drawn {
    /// Holds the page and the ops file; they go when this does.
    pub dir: tempfile::TempDir,
    pub page: PathBuf,
    /// The page's embedded JSON document.
    pub data: Value,
    /// The writes the page was drawn from.
    pub ops: Vec<Op>,
}

/// Runs `gomap viz` with `args` plus `--out` and `--save-ops` in a fresh directory; it must
/// succeed.
pub fn draw(args: &[&str]) -> Drawn {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    let saved = dir.path().join("ops.txt");
    let mut all = args.to_vec();
    all.extend(["--out", page.to_str().unwrap()]);
    all.extend(["--save-ops", saved.to_str().unwrap()]);
    let o = gomap(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    let data = page_data(&std::fs::read_to_string(&page).unwrap());
    let ops = read_ops(&saved);
    Drawn {
        dir,
        page,
        data,
        ops,
    }
}

/// The JSON document embedded in a page written by `gomap viz`.
pub fn page_data(html: &str) -> Value {
    let open = r#"<script type="application/json" id="viz-data">"#;
    let start = html.find(open).expect("data script") + open.len();
    let end = start + html[start..].find("</script>").expect("end of data script");
    serde_json::from_str(&html[start..end]).expect("frames are JSON")
}

/// One write of an ops file.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Insert(u64, u64),
    Remove(u64),
    Load(u64),
}

/// Reads the plain `insert K V` / `remove K` lines that `--save-ops` writes.
pub fn read_ops(path: &Path) -> Vec<Op> {
    std::fs::read_to_string(path)
        .expect("ops file")
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w[..] {
                ["insert", k, v] => Op::Insert(k.parse().unwrap(), v.parse().unwrap()),
                ["remove", k] => Op::Remove(k.parse().unwrap()),
                ["load", k] => Op::Load(k.parse().unwrap()),
                _ => panic!("unexpected line {l:?}"),
            }
        })
        .collect()
}

/// The same map the page was drawn from, replayed step by step by the test itself.
pub struct Replay {
    map: HashMap<u64, u64, FixedState>,
    ops: Vec<Op>,
    step: usize,
}

impl Replay {
    pub fn new(ops: Vec<Op>, seed: u64) -> Replay {
        Replay {
            map: HashMap::with_hasher(FixedState::with_seed(seed)),
            ops,
            step: 0,
        }
    }

    /// The map's statistics after `step` writes (replaying from scratch when going back).
    pub fn stats_at(&mut self, step: usize) -> MapStats {
        if step < self.step {
            self.map = HashMap::with_hasher(self.map.hasher().clone());
            self.step = 0;
        }
        while self.step < step {
            match self.ops[self.step] {
                Op::Insert(k, v) => {
                    self.map.insert(k, v);
                }
                Op::Remove(k) => {
                    self.map.remove(&k);
                }
                Op::Load(k) => {
                    self.map.get(&k);
                }
            }
            self.step += 1;
        }
        self.map.stats()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// The same operations on a `gomap::SyncMap` (insert = store, remove = delete, load = load).
pub struct SyncReplay {
    map: gomap::SyncMap<u64, u64, FixedState>,
    ops: Vec<Op>,
    step: usize,
    seed: u64,
}

impl SyncReplay {
    pub fn new(ops: Vec<Op>, seed: u64) -> SyncReplay {
        SyncReplay {
            map: gomap::SyncMap::with_hasher(FixedState::with_seed(seed)),
            ops,
            step: 0,
            seed,
        }
    }

    /// The sync map's per-entry layout after `step` operations.
    pub fn layout_at(&mut self, step: usize) -> gomap::SyncMapLayout {
        self.stats_at(step);
        self.map.layout(|_, v| v.to_string())
    }

    /// The sync map's statistics after `step` operations.
    pub fn stats_at(&mut self, step: usize) -> gomap::SyncMapStats {
        if step < self.step {
            self.map = gomap::SyncMap::with_hasher(FixedState::with_seed(self.seed));
            self.step = 0;
        }
        while self.step < step {
            match self.ops[self.step] {
                Op::Insert(k, v) => self.map.store(k, v),
                Op::Remove(k) => {
                    self.map.delete(&k);
                }
                Op::Load(k) => {
                    self.map.load(&k);
                }
            }
            self.step += 1;
        }
        self.map.stats()
    }
}
