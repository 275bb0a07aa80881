//! The page: one HTML file with the style, the script and the frames inline.

use serde::Serialize;

use gomap::SlotState;

use super::frames::{Frame, ENTRIES_UP_TO_BUCKETS, MAX_FRAMES, MIN_TOP_HASH};
use crate::keys;

const TEMPLATE: &str = include_str!("assets/viz.html");
const STYLE: &str = include_str!("assets/viz.css");
const SCRIPT: &str = include_str!("assets/viz.js");

/// Everything the page's script reads, as one JSON document.
#[derive(Debug, Serialize)]
pub struct Viz {
    /// Format version of this document.
    version: u32,
    /// Where the operations came from.
    source: String,
    /// The hasher's seed, as a string (JavaScript numbers lose u64 precision).
    seed: String,
    /// A short id of the seed, standing in for Go's `hash0`.
    seed_id: String,
    /// Writes in the sequence.
    ops: usize,
    /// Whether slots carry `key=value` for hovering.
    entries: bool,
    /// The largest array that gets them.
    entries_up_to: usize,
    /// The frame limit the capture had.
    max_frames: usize,
    /// Go's `minTopHash`: tophash bytes below it are slot states, named here by the library.
    min_top_hash: u8,
    slot_states: Vec<(u8, &'static str)>,
    frames: Vec<Frame>,
}

impl Viz {
    pub fn new(source: String, seed: u64, ops: usize, entries: bool, frames: Vec<Frame>) -> Viz {
        Viz {
            version: 1,
            source,
            seed: seed.to_string(),
            seed_id: format!("{:08x}", keys::mix(seed) >> 32),
            ops,
            entries,
            entries_up_to: ENTRIES_UP_TO_BUCKETS,
            max_frames: MAX_FRAMES,
            min_top_hash: MIN_TOP_HASH,
            slot_states: (0..MIN_TOP_HASH)
                .map(|t| (t, state_name(SlotState::from_tophash(t))))
                .collect(),
            frames,
        }
    }
}

/// Go's name of a slot state.
fn state_name(s: SlotState) -> &'static str {
    match s {
        SlotState::EmptyRest => "emptyRest",
        SlotState::EmptyOne => "emptyOne",
        SlotState::EvacuatedX => "evacuatedX",
        SlotState::EvacuatedY => "evacuatedY",
        SlotState::EvacuatedEmpty => "evacuatedEmpty",
        SlotState::Full(_) => "full",
    }
}

/// The page for `viz`. The JSON sits in a `<script type="application/json">`, where only
/// `</` could end the element early: it is written `<\/` (the same string to JSON).
pub fn render(viz: &Viz) -> Result<String, String> {
    let json = serde_json::to_string(viz).map_err(|e| format!("cannot encode frames: {e}"))?;
    let json = json.replace("</", "<\\/");
    let mut out = String::with_capacity(TEMPLATE.len() + STYLE.len() + SCRIPT.len() + json.len());
    // The template's three slots, in order; each is filled exactly once.
    let mut rest = TEMPLATE;
    for (slot, fill) in [
        ("/*@STYLE@*/", STYLE),
        ("/*@DATA@*/", json.as_str()),
        ("/*@SCRIPT@*/", SCRIPT),
    ] {
        let at = rest
            .find(slot)
            .ok_or_else(|| format!("page template lacks {slot}"))?;
        out.push_str(&rest[..at]);
        out.push_str(fill);
        rest = &rest[at + slot.len()..];
    }
    out.push_str(rest);
    Ok(out)
}
