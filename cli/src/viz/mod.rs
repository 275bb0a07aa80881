//! `gomap viz`: an interactive picture of a live map's buckets, one self-contained HTML file.
//!
//! The operations (the built-in sequence, or an `--ops` file) are replayed on a real
//! `gomap::HashMap<u64, u64, FixedState>`; after each write (or at most [`frames::MAX_FRAMES`]
//! chosen ones) the map's public introspection, `stats()` and `layout()`, is captured into a
//! frame. The frames go into the page as JSON beside an inline script that draws them as SVG:
//! the header, the bucket arrays (old and new side by side during a growth), overflow chains
//! and a timeline to scrub. The page fetches nothing: it opens offline.

mod frames;
mod ops;
mod page;
mod sync;

use std::path::{Path, PathBuf};

pub use frames::MAX_FRAMES;

/// Options of `viz`.
#[derive(Debug)]
pub struct VizOptions {
    /// Keys of the built-in sequence (ignored with `ops`).
    pub keys: u64,
    /// The operations file, instead of the built-in sequence.
    pub ops: Option<PathBuf>,
    /// Seeds the key stream and the map's hasher.
    pub seed: u64,
    /// The HTML file to write.
    pub out: PathBuf,
    /// Also write the replayed operations in `--ops` form.
    pub save_ops: Option<PathBuf>,
    /// Most frames to capture.
    pub max_frames: usize,
    /// Also replay on a `gomap::SyncMap` and show its read/dirty cycle.
    pub sync_map: bool,
}

/// Writes `bytes` to `path` through a temporary file beside it, so a failure leaves no half
/// written page behind.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.display();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write {name}: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {name}: {e}")
    })
}

pub fn run(opts: &VizOptions) -> Result<(), String> {
    // Parse everything before writing anything: a bad line leaves no file behind.
    let (ops, source) = match &opts.ops {
        Some(path) => (ops::read(path)?, format!("{}", path.display())),
        None if opts.sync_map => (
            sync::default_sequence(opts.keys, opts.seed),
            format!(
                "built-in sync.Map sequence: {} stores, loads to a promotion, deletes, new keys \
                 (a new dirty map, expunged entries), loads to the next promotion",
                opts.keys
            ),
        ),
        None => (
            ops::default_sequence(opts.keys, opts.seed),
            format!(
                "built-in sequence: {} inserts, churn to a same-size growth, removes",
                opts.keys
            ),
        ),
    };
    let survey = frames::survey(&ops, opts.seed, opts.sync_map);
    let steps = frames::choose_steps(&survey, opts.max_frames);
    let frames = frames::capture(&ops, opts.seed, &survey, &steps, opts.sync_map);
    let html = page::render(&page::Viz::new(
        source,
        opts.seed,
        ops.len(),
        survey.max_buckets <= frames::ENTRIES_UP_TO_BUCKETS,
        frames,
    ))?;
    if let Some(path) = &opts.save_ops {
        let text: String = ops.iter().map(|op| format!("{op}\n")).collect();
        write_whole(path, text.as_bytes())?;
    }
    write_whole(&opts.out, html.as_bytes())?;
    eprintln!(
        "gomap viz: {} writes, {} frames -> {} ({} KiB); open it in a browser",
        ops.len(),
        steps.len(),
        opts.out.display(),
        html.len() / 1024
    );
    Ok(())
}
