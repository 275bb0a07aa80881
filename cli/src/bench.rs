//! `gomap bench`: every workload of `workloads.rs` on gomap and its peers in one run (the
//! HashMap's on hashbrown and std, the SyncMap's on dashmap, scc, papaya and
//! `RwLock<HashMap>`), and on Go's own map and `sync.Map` with `--go`; tables of the figures
//! and ratios, and the raw figures as files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::malloc;
use crate::outln;
use crate::report::{self, Record};
use crate::style::{paint, Style};
use crate::workloads::{self, ConcurrentMap, Family, Kind, Plan, Workload, WORKLOADS};

/// Options of `bench`.
#[derive(Debug)]
pub struct BenchOptions {
    pub plan: Plan,
    pub filter: Option<String>,
    pub json: Option<PathBuf>,
    pub csv: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    pub go: bool,
    pub go_dir: PathBuf,
}

/// One (workload, size, threads) to run.
#[derive(Clone, Copy, Debug)]
struct Task {
    workload: &'static Workload,
    size: usize,
    /// 1 for the HashMap workloads.
    threads: usize,
}

fn tasks(opts: &BenchOptions) -> Vec<Task> {
    let plan = &opts.plan;
    let largest = plan.largest();
    let mut out = Vec::new();
    for w in WORKLOADS
        .iter()
        .filter(|w| w.matches(opts.filter.as_deref()))
    {
        let task = |size, threads| Task {
            workload: w,
            size,
            threads,
        };
        match w.kind {
            Kind::Hash if w.largest_only => out.push(task(largest, 1)),
            Kind::Hash => out.extend(plan.sizes.iter().map(|&size| task(size, 1))),
            Kind::Sync => {
                for &size in &plan.sync_sizes {
                    out.extend(plan.threads.iter().map(|&threads| task(size, threads)));
                }
            }
        }
    }
    out
}

fn push(records: &mut Vec<Record>, task: Task, imp: &str, figures: Vec<(&str, f64)>) {
    for (measure, value) in figures {
        records.push(Record::new(
            task.workload.name,
            measure,
            task.size,
            task.threads,
            imp,
            value,
        ));
    }
}

fn run_rust<F: Family>(task: Task, plan: &Plan, records: &mut Vec<Record>) {
    let figures = workloads::run::<F>(task.workload, task.size, plan);
    push(records, task, F::NAME, figures);
}

fn run_concurrent<M: ConcurrentMap>(task: Task, plan: &Plan, records: &mut Vec<Record>) {
    let figures = workloads::run_sync::<M>(task.workload, task.size, task.threads, plan);
    push(records, task, M::NAME, figures);
}

/// Runs `task` on the Rust map named `imp`.
fn run_impl(imp: &str, task: Task, plan: &Plan, records: &mut Vec<Record>) {
    match imp {
        "gomap" => run_rust::<workloads::Gomap>(task, plan, records),
        "hashbrown" => run_rust::<workloads::Hashbrown>(task, plan, records),
        "std" => run_rust::<workloads::Std>(task, plan, records),
        "gomap-sync" => run_concurrent::<workloads::GomapSync>(task, plan, records),
        "dashmap" => run_concurrent::<workloads::Dashmap>(task, plan, records),
        "scc" => run_concurrent::<workloads::Scc>(task, plan, records),
        "papaya" => run_concurrent::<workloads::Papaya>(task, plan, records),
        "rwlock-std" => run_concurrent::<workloads::RwLockStd>(task, plan, records),
        other => unreachable!("unknown impl {other}"),
    }
}

pub fn run(opts: &BenchOptions) -> Result<(), String> {
    let tasks = tasks(opts);
    if tasks.is_empty() {
        return Err(format!(
            "--filter {:?} matches no workload (workloads: {})",
            opts.filter.as_deref().unwrap_or(""),
            WORKLOADS
                .iter()
                .map(|w| w.name)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let go = if opts.go {
        prepare_go(&opts.go_dir)
    } else {
        None
    };
    let machine = report::machine();
    let allocator = malloc::pin_malloc_thresholds();
    let repeat = opts.plan.repeat.max(1);
    outln!(
        "{}",
        paint(
            &format!(
                "gomap bench: sizes {:?}, {} ms per figure{}, {} workload(s), on {machine} ({allocator})",
                opts.plan.sizes,
                opts.plan.budget.as_millis(),
                if repeat > 1 {
                    format!(", median of {repeat} passes with the maps taking turns")
                } else {
                    String::new()
                },
                tasks.len()
            ),
            Style::Bold
        )
    );
    let steps: usize = tasks
        .iter()
        .map(|t| t.workload.kind.impls().len() * repeat + usize::from(go.is_some()))
        .sum();
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut records = Vec::new();
    for &task in &tasks {
        let impls = task.workload.kind.impls();
        // Pass by pass, every map in turn, so that a slow spell of the machine lands on one
        // pass of one map rather than on all of one map's figure.
        let mut passes: Vec<Vec<Record>> = vec![Vec::new(); impls.len()];
        for pass in 0..repeat {
            for (imp, figures) in impls.iter().zip(&mut passes) {
                bar.set_message(format!(
                    "{} n={} threads={} {imp} (pass {}/{repeat})",
                    task.workload.name,
                    task.size,
                    task.threads,
                    pass + 1
                ));
                run_impl(imp, task, &opts.plan, figures);
                bar.inc(1);
            }
        }
        for figures in passes {
            records.extend(median_of_passes(figures));
        }
    }
    if let Some(go) = &go {
        match run_go(go, &tasks, &opts.plan, &bar) {
            Ok(mut go_records) => records.append(&mut go_records),
            Err(e) => bar.suspend(|| eprintln!("gomap: the Go side failed, going on without: {e}")),
        }
    }
    bar.finish_and_clear();

    // Every map that produced a figure, kind by kind, Go's last.
    let mut impls: Vec<&str> = Vec::new();
    for kind in [Kind::Hash, Kind::Sync] {
        for imp in kind.impls().iter().copied().chain([kind.go_impl()]) {
            if records.iter().any(|r| r.imp == imp) {
                impls.push(imp);
            }
        }
    }
    report::print_table(&records, &impls);
    let command: Vec<String> = std::env::args().collect();
    let command = command.join(" ");
    if let Some(path) = &opts.json {
        write(
            path,
            &report::json(&records, &impls, &command, &opts.plan, allocator),
        )?;
    }
    if let Some(path) = &opts.csv {
        write(path, &report::csv(&records))?;
    }
    if let Some(path) = &opts.svg {
        write(path, &report::svg(&records, &impls, &machine))?;
    }
    Ok(())
}

/// One map's records of one task over all passes, reduced to one record per measure: the
/// median of its values (the mean of the middle two for an even count), in the order the
/// measures first appeared.
fn median_of_passes(figures: Vec<Record>) -> Vec<Record> {
    let mut out: Vec<(Record, Vec<f64>)> = Vec::new();
    for r in figures {
        match out.iter_mut().find(|(first, _)| first.measure == r.measure) {
            Some((_, values)) => values.push(r.value),
            None => {
                let value = r.value;
                out.push((r, vec![value]));
            }
        }
    }
    out.into_iter()
        .map(|(mut r, mut values)| {
            values.sort_by(f64::total_cmp);
            let mid = values.len() / 2;
            r.value = if values.len() % 2 == 0 {
                (values[mid - 1] + values[mid]) / 2.0
            } else {
                values[mid]
            };
            r
        })
        .collect()
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    outln!("  wrote {}", path.display());
    Ok(())
}

/// A built Go benchmark program.
#[derive(Debug)]
struct GoProgram {
    binary: PathBuf,
    version: String,
}

/// Where `go` may be: `$PATH`, then the places Debian's and the upstream packages install it.
fn find_go() -> Option<(PathBuf, String)> {
    let candidates = [
        PathBuf::from("go"),
        PathBuf::from("/usr/lib/go-1.19/bin/go"),
        PathBuf::from("/usr/lib/go/bin/go"),
        PathBuf::from("/usr/local/go/bin/go"),
    ];
    candidates.into_iter().find_map(|go| {
        let out = Command::new(&go).arg("version").output().ok()?;
        out.status
            .success()
            .then(|| (go, String::from_utf8_lossy(&out.stdout).trim().to_string()))
    })
}

/// Builds `bench/go`; on any failure says why (and how to get Go) and returns `None`.
fn prepare_go(dir: &Path) -> Option<GoProgram> {
    let Some((go, version)) = find_go() else {
        eprintln!(
            "gomap: --go needs Go >= 1.19, which is not installed; going on without Go.\n  \
             Debian/Ubuntu: sudo apt-get install golang-1.19-go  (binary: /usr/lib/go-1.19/bin/go)\n  \
             elsewhere: https://go.dev/dl/"
        );
        return None;
    };
    if !dir.join("main.go").is_file() {
        eprintln!(
            "gomap: --go: no Go program at {} (use --go-dir); going on without Go",
            dir.display()
        );
        return None;
    }
    let binary = std::env::temp_dir().join(format!("gomap-bench-go-{}", std::process::id()));
    eprintln!("gomap: building {} with {version}", dir.display());
    let out = Command::new(&go)
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(GoProgram { binary, version }),
        Ok(o) => {
            eprintln!(
                "gomap: go build failed, going on without Go:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!(
                "gomap: cannot run {}: {e}; going on without Go",
                go.display()
            );
            None
        }
    }
}

/// Runs the Go program on the same tasks and parses its JSON lines.
fn run_go(
    go: &GoProgram,
    tasks: &[Task],
    plan: &Plan,
    bar: &ProgressBar,
) -> Result<Vec<Record>, String> {
    let list: Vec<String> = tasks
        .iter()
        .map(|t| format!("{}:{}:{}", t.workload.name, t.size, t.threads))
        .collect();
    bar.set_message(format!("Go ({})", go.version));
    let mut child = Command::new(&go.binary)
        .arg("-tasks")
        .arg(list.join(","))
        .arg("-budget-ms")
        .arg(plan.budget.as_millis().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", go.binary.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut records = Vec::new();
    let mut parse_error = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the Go program's output: {e}"))?;
        match report::parse_go_line(&line) {
            Ok(Some((record, task_done))) => {
                records.push(record);
                if task_done {
                    bar.inc(1);
                }
            }
            Ok(None) => {}
            Err(e) => {
                parse_error.get_or_insert(e);
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for the Go program: {e}"))?;
    let _ = std::fs::remove_file(&go.binary);
    if !out.status.success() {
        return Err(format!(
            "the Go program exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if let Some(e) = parse_error {
        return Err(e);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::median_of_passes;
    use crate::report::Record;

    fn record(measure: &str, value: f64) -> Record {
        Record::new("insert_latency", measure, 1000, 1, "gomap", value)
    }

    #[test]
    fn passes_reduce_to_the_median_of_each_measure() {
        let odd = median_of_passes(vec![
            record("insert_max", 9.0),
            record("insert_p99.99", 1.0),
            record("insert_max", 3.0),
            record("insert_p99.99", 7.0),
            record("insert_max", 5.0),
            record("insert_p99.99", 2.0),
        ]);
        let got: Vec<(&str, f64)> = odd.iter().map(|r| (r.measure.as_str(), r.value)).collect();
        assert_eq!(got, [("insert_max", 5.0), ("insert_p99.99", 2.0)]);
        let even = median_of_passes(vec![record("insert_max", 4.0), record("insert_max", 1.0)]);
        assert_eq!(even.len(), 1);
        assert_eq!(even[0].value, 2.5);
    }
}
