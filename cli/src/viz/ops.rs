//! The operations `gomap viz` replays: parsed from an `--ops` file, or the built-in default
//! sequence (inserts across several growths, churn up to a same-size growth, some removes).

use std::fmt;
use std::path::Path;

use foldhash::fast::FixedState;
use gomap::HashMap;

use crate::keys;

/// One write to the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `insert k v`
    Insert(u64, u64),
    /// `remove k`
    Remove(u64),
    /// `load k`: a read. It leaves a HashMap as it was (Go's lookups never evacuate), and
    /// drives a SyncMap's misses and promotions.
    Load(u64),
}

impl Op {
    /// The key the operation writes.
    pub fn key(self) -> u64 {
        match self {
            Op::Insert(k, _) | Op::Remove(k) | Op::Load(k) => k,
        }
    }

    /// Applies the operation to `map`.
    pub fn apply(self, map: &mut HashMap<u64, u64, FixedState>) {
        match self {
            Op::Insert(k, v) => {
                map.insert(k, v);
            }
            Op::Remove(k) => {
                map.remove(&k);
            }
            Op::Load(k) => {
                map.get(&k);
            }
        }
    }
}

/// The line form, as the `--ops` file takes it.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Insert(k, v) => write!(f, "insert {k} {v}"),
            Op::Remove(k) => write!(f, "remove {k}"),
            Op::Load(k) => write!(f, "load {k}"),
        }
    }
}

/// At most this many bad lines are listed before the report stops.
const MAX_REPORTED_ERRORS: usize = 20;

/// A number in decimal, or in hex with a `0x` prefix (`_` separators allowed in both).
fn number(token: &str, what: &str) -> Result<u64, String> {
    let clean: String = token.chars().filter(|&c| c != '_').collect();
    let parsed = match clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => clean.parse::<u64>(),
    };
    parsed.map_err(|_| {
        format!("{what} `{token}` is not a u64 (decimal, or hex with 0x; 0 ..= 2^64 - 1)")
    })
}

/// Parses one line; `Ok(None)` for blank lines and `#` comments.
fn parse_line(line: &str) -> Result<Option<Op>, String> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(None);
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let op = match words[0] {
        "insert" => match words[1..] {
            [k, v] => Op::Insert(number(k, "key")?, number(v, "value")?),
            [_] => return Err("`insert` needs a key and a value: `insert KEY VALUE`".into()),
            [] => return Err("`insert` needs a key and a value: `insert KEY VALUE`".into()),
            _ => {
                return Err(format!(
                    "`insert` takes 2 numbers, found {}",
                    words.len() - 1
                ))
            }
        },
        "remove" => match words[1..] {
            [k] => Op::Remove(number(k, "key")?),
            [] => return Err("`remove` needs a key: `remove KEY`".into()),
            _ => {
                return Err(format!(
                    "`remove` takes 1 number, found {}",
                    words.len() - 1
                ))
            }
        },
        "load" => match words[1..] {
            [k] => Op::Load(number(k, "key")?),
            [] => return Err("`load` needs a key: `load KEY`".into()),
            _ => return Err(format!("`load` takes 1 number, found {}", words.len() - 1)),
        },
        other => {
            return Err(format!(
                "unknown operation `{other}` (expected `insert KEY VALUE`, `remove KEY` or \
                 `load KEY`)"
            ))
        }
    };
    Ok(Some(op))
}

/// Parses the text of an ops file. Every bad line is reported as `NAME:LINE: message` (up to
/// a limit), and any bad line fails the whole file.
pub fn parse(name: &str, text: &str) -> Result<Vec<Op>, String> {
    let mut ops = Vec::new();
    let mut errors = Vec::new();
    let mut bad = 0usize;
    for (n, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(op)) => ops.push(op),
            Ok(None) => {}
            Err(e) => {
                bad += 1;
                if errors.len() < MAX_REPORTED_ERRORS {
                    errors.push(format!("{name}:{}: {e}", n + 1));
                }
            }
        }
    }
    if bad > errors.len() {
        errors.push(format!(
            "{name}: {} more bad line(s) not shown",
            bad - errors.len()
        ));
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    if ops.is_empty() {
        return Err(format!(
            "{name}: no operations (one `insert KEY VALUE` or `remove KEY` per line)"
        ));
    }
    Ok(ops)
}

/// Reads and parses an ops file.
pub fn read(path: &Path) -> Result<Vec<Op>, String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..good].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{name}:{line}: not valid UTF-8")
    })?;
    parse(&name, &text)
}

/// Churn rounds (a remove and an insert each) the default sequence tries before giving up on
/// seeing a same-size growth: 20 per key (200 keys need about 2,500 with seed 42), at least
/// 5,000 and at most 50,000. Large maps rarely get one (it takes 2^B overflow buckets), and
/// the page stays small enough to open.
fn max_churn_rounds(keys: u64) -> u64 {
    (20 * keys).clamp(5_000, 50_000)
}

/// The built-in sequence for `keys` keys of the splitmix64 stream seeded with `seed`:
/// 1. insert them all (the map doubles several times on the way);
/// 2. churn, each round removing the oldest key and inserting a new one, until a same-size
///    growth (started by overflow buckets piling up) has run to its end, or a bound;
/// 3. remove every fourth live key, leaving emptyOne / emptyRest slots behind.
///
/// The sequence is found by running it on a map with the same hasher (the replay then makes
/// exactly these writes), so the churn stops right after the same-size growth it shows.
pub fn default_sequence(keys: u64, seed: u64) -> Vec<Op> {
    let mut ops: Vec<Op> = (0..keys)
        .map(|i| Op::Insert(keys::key(seed, i), i))
        .collect();
    let mut map: HashMap<u64, u64, FixedState> = HashMap::with_hasher(FixedState::with_seed(seed));
    for &op in &ops {
        op.apply(&mut map);
    }
    let mut oldest = 0u64;
    let mut next = keys;
    let mut same_size_seen = false;
    for _ in 0..max_churn_rounds(keys) {
        for op in [
            Op::Remove(keys::key(seed, oldest)),
            Op::Insert(keys::key(seed, next), next),
        ] {
            op.apply(&mut map);
            ops.push(op);
        }
        oldest += 1;
        next += 1;
        // stats() walks every chain: on a large map read it every 32 rounds only (a
        // same-size growth there lasts thousands of writes).
        if !same_size_seen && map.capacity() > 1024 * 13 / 2 && !oldest.is_multiple_of(32) {
            continue;
        }
        let s = map.stats();
        if s.growing && s.old_b == Some(s.b) {
            same_size_seen = true;
        } else if same_size_seen && !s.growing {
            break;
        }
    }
    // Every fourth live key (the stream from `oldest` to `next`).
    ops.extend(
        (oldest..next)
            .step_by(4)
            .map(|i| Op::Remove(keys::key(seed, i))),
    );
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_with_comments_hex_and_blanks() {
        let ops = parse(
            "f",
            "insert 1 2\n\n# note\nremove 0x10  # gone\ninsert 1_000 7\n",
        )
        .unwrap();
        assert_eq!(ops, [Op::Insert(1, 2), Op::Remove(16), Op::Insert(1000, 7)]);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = parse("ops.txt", "insert 1 2\nupsert 3 4\ninsert x 1\nremove\n").unwrap_err();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert!(lines[0].starts_with("ops.txt:2: unknown operation `upsert`"));
        assert!(lines[1].starts_with("ops.txt:3: key `x` is not a u64"));
        assert!(lines[2].starts_with("ops.txt:4: `remove` needs a key"));
    }

    #[test]
    fn display_round_trips() {
        for op in [Op::Insert(u64::MAX, 0), Op::Remove(3), Op::Load(9)] {
            assert_eq!(parse("f", &op.to_string()).unwrap(), [op]);
        }
    }
}
