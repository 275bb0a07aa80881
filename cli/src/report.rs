//! Benchmark results: the table, the JSON/CSV files, the SVG chart, and the Go side's lines.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::style::{Cell, Style, Table};
use crate::workloads::{unit_of, Plan, Unit, WORKLOADS};

/// One figure: a measure of one workload at one size on one map.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub workload: String,
    pub measure: String,
    pub size: usize,
    pub imp: String,
    pub value: f64,
    pub unit: Unit,
}

impl Record {
    pub fn new(workload: &str, measure: &str, size: usize, imp: &str, value: f64) -> Record {
        Record {
            workload: workload.into(),
            measure: measure.into(),
            size,
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

/// The (measure, size) rows present, in workload order then size order.
fn rows(records: &[Record]) -> Vec<(String, usize, Unit)> {
    let mut out: Vec<(String, usize, Unit)> = Vec::new();
    for m in WORKLOADS.iter().flat_map(|w| w.measures) {
        let mut sizes: Vec<usize> = records
            .iter()
            .filter(|r| r.measure == m.name)
            .map(|r| r.size)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        out.extend(sizes.into_iter().map(|s| (m.name.to_string(), s, m.unit)));
    }
    out
}

fn value_of(records: &[Record], measure: &str, size: usize, imp: &str) -> Option<f64> {
    records
        .iter()
        .find(|r| r.measure == measure && r.size == size && r.imp == imp)
        .map(|r| r.value)
}

/// How much better `ours` is than `theirs` (> 1: ours is better), whichever way the unit goes.
pub fn advantage(unit: Unit, ours: f64, theirs: f64) -> f64 {
    if unit.higher_is_better() {
        ours / theirs
    } else {
        theirs / ours
    }
}

/// gomap's advantage over the best of the other maps in a row, and that map's name.
fn vs_best_peer(
    records: &[Record],
    row: &(String, usize, Unit),
    impls: &[&str],
) -> Option<(f64, String)> {
    let (measure, size, unit) = row;
    let ours = value_of(records, measure, *size, "gomap")?;
    impls
        .iter()
        .filter(|&&i| i != "gomap")
        .filter_map(|&i| value_of(records, measure, *size, i).map(|v| (i, v)))
        .map(|(i, v)| (advantage(*unit, ours, v), i.to_string()))
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

/// Prints the results table: one row per (measure, size), one column per map, then gomap's
/// ratio against the best other map (> 1.00x: gomap is ahead).
pub fn print_table(records: &[Record], impls: &[&str]) {
    let mut headers = vec!["measure".to_string(), "n".into(), "unit".into()];
    headers.extend(impls.iter().map(|s| s.to_string()));
    headers.push("gomap vs best peer".into());
    let mut table = Table::new(headers);
    for row in rows(records) {
        let (measure, size, unit) = &row;
        let mut cells: Vec<Cell> = vec![
            measure.clone().into(),
            fmt_size(*size).into(),
            unit.label().into(),
        ];
        for imp in impls {
            cells.push(
                value_of(records, measure, *size, imp)
                    .map_or("-".to_string(), fmt_value)
                    .into(),
            );
        }
        cells.push(match vs_best_peer(records, &row, impls) {
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
    crate::outln!(
        "  Mops/s: million operations per second (median round); ns: one insert while growing\n  \
         from empty; B/entry: heap bytes allocated / entries. Ratios > 1.00x favour gomap."
    );
}

/// The results as JSON: the run's setup, then one object per figure.
pub fn json(records: &[Record], impls: &[&str], command: &str, plan: &Plan) -> String {
    let results: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "workload": r.workload,
                "measure": r.measure,
                "size": r.size,
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
                "what": w.what,
                "measures": w.measures.iter().map(|m| m.name).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "command": command,
        "machine": machine(),
        "sizes": plan.sizes,
        "budget_ms": plan.budget.as_millis() as u64,
        "impls": impls,
        "workloads": workloads,
        "results": results,
    });
    serde_json::to_string_pretty(&doc).expect("JSON of plain values") + "\n"
}

/// The results as CSV, one figure per line.
pub fn csv(records: &[Record]) -> String {
    let mut out = String::from("workload,measure,size,impl,value,unit\n");
    for r in records {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            r.workload,
            r.measure,
            r.size,
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

/// A horizontal bar chart of gomap's advantage over each other map, per (measure, size) row,
/// with the 1.0x line marked. Hand-written SVG: a plotting crate would add more to the build
/// than this whole module.
pub fn svg(records: &[Record], impls: &[&str], machine: &str) -> String {
    let peers: Vec<&str> = impls.iter().copied().filter(|&i| i != "gomap").collect();
    let colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];
    let rows = rows(records);
    let (label_w, plot_w, bar_h, gap, top) = (190.0, 520.0, 9.0, 8.0, 54.0);
    let group_h = bar_h * peers.len() as f64 + gap;
    let max_ratio = rows
        .iter()
        .flat_map(|row| {
            peers.iter().filter_map(move |p| {
                Some(advantage(
                    row.2,
                    value_of(records, &row.0, row.1, "gomap")?,
                    value_of(records, &row.0, row.1, p)?,
                ))
            })
        })
        .fold(1.0f64, f64::max)
        .min(8.0)
        .ceil()
        .max(2.0);
    let x = |r: f64| label_w + plot_w * (r.min(max_ratio) / max_ratio);
    let height = top + group_h * rows.len() as f64 + 40.0;
    let width = label_w + plot_w + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="18" font-size="14" font-weight="bold">gomap's advantage over each map (&gt; 1 = gomap ahead)</text>"#
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="34" fill="#555">{}</text>"##,
        xml_escape(machine)
    );
    for (i, p) in peers.iter().enumerate() {
        let lx = label_w + 110.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="40" width="10" height="10" fill="{}"/><text x="{}" y="49">vs {}</text>"#,
            colors[i % colors.len()],
            lx + 14.0,
            xml_escape(p)
        );
    }
    for (g, row) in rows.iter().enumerate() {
        let y0 = top + group_h * g as f64;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{} n={}</text>"#,
            label_w - 6.0,
            y0 + group_h / 2.0,
            xml_escape(&row.0),
            fmt_size(row.1)
        );
        for (i, p) in peers.iter().enumerate() {
            let ratio = value_of(records, &row.0, row.1, "gomap")
                .zip(value_of(records, &row.0, row.1, p))
                .map(|(o, t)| advantage(row.2, o, t));
            let Some(ratio) = ratio else { continue };
            let y = y0 + bar_h * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{label_w}" y="{y}" width="{:.1}" height="{}" fill="{}"><title>{} n={} vs {}: {ratio:.2}x</title></rect><text x="{:.1}" y="{}" font-size="8">{ratio:.2}</text>"#,
                x(ratio) - label_w,
                bar_h - 1.0,
                colors[i % colors.len()],
                xml_escape(&row.0),
                row.1,
                xml_escape(p),
                x(ratio) + 3.0,
                y + bar_h - 2.0
            );
        }
    }
    let bottom = top + group_h * rows.len() as f64;
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
    let value = field("value")?.as_f64().ok_or("value not a number")?;
    let w = WORKLOADS
        .iter()
        .find(|w| w.name == workload)
        .ok_or_else(|| format!("Go reported unknown workload {workload:?}"))?;
    let last = w.measures.last().ok_or("workload without measures")?.name;
    if unit_of(measure).is_none() {
        return Err(format!("Go reported unknown measure {measure:?}"));
    }
    Ok(Some((
        Record::new(workload, measure, size, imp, value),
        measure == last,
    )))
}
