//! Benchmark results: the table, the JSON/CSV files, the SVG chart, and the Go side's lines.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::style::{Cell, Style, Table};
use crate::workloads::{unit_of, Kind, Plan, Unit, WORKLOADS};

/// One figure: a measure of one workload at one size (and thread count) on one map.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub workload: String,
    pub measure: String,
    pub size: usize,
    /// Threads sharing the map (1 for the HashMap workloads).
    pub threads: usize,
    pub imp: String,
    pub value: f64,
    pub unit: Unit,
}

impl Record {
    pub fn new(
        workload: &str,
        measure: &str,
        size: usize,
        threads: usize,
        imp: &str,
        value: f64,
    ) -> Record {
        Record {
            workload: workload.into(),
            measure: measure.into(),
            size,
            threads,
            imp: imp.into(),
            value,
            unit: unit_of(measure).expect("measure defined in workloads.rs"),
        }
    }
}

/// "model, N cores" of this machine.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} cores")
}

/// One row of the tables: a measure at one size and thread count.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    measure: String,
    size: usize,
    threads: usize,
    unit: Unit,
    kind: Kind,
}

impl Row {
    fn value(&self, records: &[Record], imp: &str) -> Option<f64> {
        records
            .iter()
            .find(|r| {
                r.measure == self.measure
                    && r.size == self.size
                    && r.threads == self.threads
                    && r.imp == imp
            })
            .map(|r| r.value)
    }

    fn label(&self) -> String {
        match self.kind {
            Kind::Hash => format!("{} n={}", self.measure, fmt_size(self.size)),
            Kind::Sync => format!(
                "{} n={} t={}",
                self.measure,
                fmt_size(self.size),
                self.threads
            ),
        }
    }
}

/// The rows present, in workload order, then size order, then thread count.
fn rows(records: &[Record]) -> Vec<Row> {
    let mut out = Vec::new();
    for w in WORKLOADS {
        for m in w.measures {
            let mut keys: Vec<(usize, usize)> = records
                .iter()
                .filter(|r| r.measure == m.name)
                .map(|r| (r.size, r.threads))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            out.extend(keys.into_iter().map(|(size, threads)| Row {
                measure: m.name.to_string(),
                size,
                threads,
                unit: m.unit,
                kind: w.kind,
            }));
        }
    }
    out
}

/// How much better `ours` is than `theirs` (> 1: ours is better), whichever way the unit goes.
pub fn advantage(unit: Unit, ours: f64, theirs: f64) -> f64 {
    if unit.higher_is_better() {
        ours / theirs
    } else {
        theirs / ours
    }
}

/// The maps of `impls` that run the workloads of `kind`: its Rust maps and Go's.
fn impls_of<'a>(impls: &[&'a str], kind: Kind) -> Vec<&'a str> {
    impls
        .iter()
        .copied()
        .filter(|i| kind.impls().contains(i) || *i == kind.go_impl())
        .collect()
}

/// gomap's advantage over the best of the other maps in a row, and that map's name.
fn vs_best_peer(records: &[Record], row: &Row, impls: &[&str]) -> Option<(f64, String)> {
    let ours = row.value(records, row.kind.ours())?;
    impls
        .iter()
        .filter(|&&i| i != row.kind.ours())
        .filter_map(|&i| row.value(records, i).map(|v| (i, v)))
        .map(|(i, v)| (advantage(row.unit, ours, v), i.to_string()))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

fn fmt_value(v: f64) -> String {
    if v >= 1000.0 {
        format!("{v:.0}")
    } else if v >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_size(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// Prints the results: one table per kind of map (HashMap, then SyncMap), one row per
/// (measure, size[, threads]), one column per map, then gomap's ratio against the best other
/// map (> 1.00x: gomap is ahead).
pub fn print_table(records: &[Record], impls: &[&str]) {
    let rows = rows(records);
    for kind in [Kind::Hash, Kind::Sync] {
        let rows: Vec<&Row> = rows.iter().filter(|r| r.kind == kind).collect();
        if !rows.is_empty() {
            print_kind(records, &rows, &impls_of(impls, kind), kind);
        }
    }
    crate::outln!(
        "  Mops/s: million operations per second (median round); ns: one insert while growing\n  \
         from empty; B/entry: heap bytes allocated / entries; ns/op: wall-clock time of a round /\n  \
         operations of all its threads (t). Ratios > 1.00x favour gomap."
    );
}

fn print_kind(records: &[Record], rows: &[&Row], impls: &[&str], kind: Kind) {
    let mut headers = vec!["measure".to_string(), "n".into()];
    if kind == Kind::Sync {
        headers.push("t".into());
    }
    headers.push("unit".into());
    headers.extend(impls.iter().map(|s| s.to_string()));
    headers.push(format!("{} vs best peer", kind.ours()));
    let mut table = Table::new(headers);
    for &row in rows {
        let mut cells: Vec<Cell> = vec![row.measure.clone().into(), fmt_size(row.size).into()];
        if kind == Kind::Sync {
            cells.push(row.threads.to_string().into());
        }
        cells.push(row.unit.label().into());
        for imp in impls {
            cells.push(
                row.value(records, imp)
                    .map_or("-".to_string(), fmt_value)
                    .into(),
            );
        }
        cells.push(match vs_best_peer(records, row, impls) {
            Some((ratio, peer)) => {
                let style = if ratio >= 1.0 {
                    Style::Green
                } else if ratio >= 0.8 {
                    Style::Yellow
                } else {
                    Style::Red
                };
                Cell::styled(format!("{ratio:.2}x ({peer})"), style)
            }
            None => "-".into(),
        });
        table.row(cells);
    }
    crate::outln!("");
    table.print();
}

/// The results as JSON: the run's setup, then one object per figure.
pub fn json(
    records: &[Record],
    impls: &[&str],
    command: &str,
    plan: &Plan,
    allocator: &str,
) -> String {
    let results: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "workload": r.workload,
                "measure": r.measure,
                "size": r.size,
                "threads": r.threads,
                "impl": r.imp,
                "value": r.value,
                "unit": r.unit.label(),
            })
        })
        .collect();
    let workloads: Vec<Value> = WORKLOADS
        .iter()
        .map(|w| {
            json!({
                "name": w.name,
                "kind": match w.kind {
                    Kind::Hash => "HashMap",
                    Kind::Sync => "SyncMap",
                },
                "what": w.what,
                "measures": w.measures.iter().map(|m| m.name).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "command": command,
        "machine": machine(),
        "allocator": allocator,
        "sizes": plan.sizes,
        "sync_sizes": plan.sync_sizes,
        "threads": plan.threads,
        "budget_ms": plan.budget.as_millis() as u64,
        "repeat": plan.repeat,
        "impls": impls,
        "workloads": workloads,
        "results": results,
    });
    serde_json::to_string_pretty(&doc).expect("JSON of plain values") + "\n"
}

/// The results as CSV, one figure per line.
pub fn csv(records: &[Record]) -> String {
    let mut out = String::from("workload,measure,size,threads,impl,value,unit\n");
    for r in records {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            r.workload,
            r.measure,
            r.size,
            r.threads,
            r.imp,
            r.value,
            r.unit.label()
        );
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart of gomap's advantage over each other map, per row (measure, size,
/// and threads for the SyncMap workloads), with the 1.0x line marked: the HashMap against its
/// peers, the SyncMap against its own. Hand-written SVG: a plotting crate would add more to
/// the build than this whole module.
pub fn svg(records: &[Record], impls: &[&str], machine: &str) -> String {
    let ours = [Kind::Hash.ours(), Kind::Sync.ours()];
    // Every peer gets one colour; in a row, the peers of the row's kind, in order.
    let peers: Vec<&str> = impls
        .iter()
        .copied()
        .filter(|i| !ours.contains(i))
        .collect();
    let colors = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
    ];
    let color = |peer: &str| {
        let i = peers.iter().position(|p| *p == peer).unwrap_or(0);
        colors[i % colors.len()]
    };
    let peers_of = |kind: Kind| -> Vec<&str> {
        impls_of(impls, kind)
            .into_iter()
            .filter(|i| *i != kind.ours())
            .collect()
    };
    let rows = rows(records);
    let ratio = |row: &Row, peer: &str| {
        Some(advantage(
            row.unit,
            row.value(records, row.kind.ours())?,
            row.value(records, peer)?,
        ))
    };
    let (label_w, plot_w, bar_h, gap, top) = (210.0, 520.0, 9.0, 8.0, 70.0);
    let group_h = |row: &Row| bar_h * peers_of(row.kind).len().max(1) as f64 + gap;
    let max_ratio = rows
        .iter()
        .flat_map(|row| peers_of(row.kind).into_iter().filter_map(|p| ratio(row, p)))
        .fold(1.0f64, f64::max)
        .min(8.0)
        .ceil()
        .max(2.0);
    let x = |r: f64| label_w + plot_w * (r.min(max_ratio) / max_ratio);
    let bottom = top + rows.iter().map(group_h).sum::<f64>();
    let height = bottom + 40.0;
    let width = label_w + plot_w + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="18" font-size="14" font-weight="bold">gomap's advantage over each map (&gt; 1 = gomap ahead; SyncMap rows: gomap-sync)</text>"#
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="34" fill="#555">{}</text>"##,
        xml_escape(machine)
    );
    for (i, p) in peers.iter().enumerate() {
        let lx = 10.0 + 110.0 * (i % 7) as f64;
        let ly = 42.0 + 14.0 * (i / 7) as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{ly}" width="10" height="10" fill="{}"/><text x="{}" y="{}">vs {}</text>"#,
            color(p),
            lx + 14.0,
            ly + 9.0,
            xml_escape(p)
        );
    }
    let mut y0 = top;
    for row in &rows {
        let h = group_h(row);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            y0 + h / 2.0,
            xml_escape(&row.label())
        );
        for (i, p) in peers_of(row.kind).into_iter().enumerate() {
            let Some(ratio) = ratio(row, p) else { continue };
            let y = y0 + bar_h * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{label_w}" y="{y}" width="{:.1}" height="{}" fill="{}"><title>{} vs {}: {ratio:.2}x</title></rect><text x="{:.1}" y="{}" font-size="8">{ratio:.2}</text>"#,
                x(ratio) - label_w,
                bar_h - 1.0,
                color(p),
                xml_escape(&row.label()),
                xml_escape(p),
                x(ratio) + 3.0,
                y + bar_h - 2.0
            );
        }
        y0 += h;
    }
    let one = x(1.0);
    let _ = writeln!(
        s,
        r#"<line x1="{one}" y1="{top}" x2="{one}" y2="{bottom}" stroke="black" stroke-dasharray="4 3"/>"#
    );
    for t in 0..=max_ratio as usize {
        let tx = x(t as f64);
        let _ = writeln!(
            s,
            r#"<text x="{tx}" y="{}" text-anchor="middle">{t}x</text>"#,
            bottom + 14.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Parses one line of the Go program's output. Lines not starting with `{` are ignored; a
/// record comes back with whether it was its workload's last measure (the task is done).
pub fn parse_go_line(line: &str) -> Result<Option<(Record, bool)>, String> {
    let line = line.trim();
    if !line.starts_with('{') {
        return Ok(None);
    }
    let v: Value =
        serde_json::from_str(line).map_err(|e| format!("bad JSON from Go ({e}): {line}"))?;
    let field = |name: &str| {
        v.get(name)
            .ok_or_else(|| format!("Go line lacks {name:?}: {line}"))
    };
    let workload = field("workload")?.as_str().unwrap_or_default();
    let measure = field("measure")?.as_str().unwrap_or_default();
    let imp = field("impl")?.as_str().unwrap_or_default();
    let size = field("size")?.as_u64().ok_or("size not a number")? as usize;
    // The HashMap workloads' lines carry no thread count: they run on one thread.
    let threads = match v.get("threads") {
        None => 1,
        Some(t) => t.as_u64().ok_or("threads not a number")? as usize,
    };
    let value = field("value")?.as_f64().ok_or("value not a number")?;
    let w = WORKLOADS
        .iter()
        .find(|w| w.name == workload)
        .ok_or_else(|| format!("Go reported unknown workload {workload:?}"))?;
    if imp != w.kind.go_impl() {
        return Err(format!("Go reported {workload} on unknown map {imp:?}"));
    }
    let last = w.measures.last().ok_or("workload without measures")?.name;
    if unit_of(measure).is_none() {
        return Err(format!("Go reported unknown measure {measure:?}"));
    }
    Ok(Some((
        Record::new(workload, measure, size, threads, imp, value),
        measure == last,
    )))
}
