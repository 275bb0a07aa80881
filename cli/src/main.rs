//! `gomap`: a guided tour of Go's map design on the live `gomap` structures, a layout report
//! for your own keys, and a benchmark against the peers (and Go itself) in one run.

mod alloc;
mod bench;
mod inspect;
mod keys;
mod malloc;
mod report;
mod style;
mod tour;
mod viz;
mod workloads;

/// Counts heap bytes for `bench`'s bytes-per-entry figures (off while timing).
#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Go's runtime map, in Rust: see it work, and see it compared.
#[derive(Debug, Parser)]
#[command(name = "gomap", version, about, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    /// Without a command, `gomap` runs the tour with these options.
    #[command(flatten)]
    tour: TourArgs,
    /// When to colour the output.
    #[arg(long, value_enum, default_value = "auto", global = true)]
    color: style::ColorChoice,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A guided walk through the map's design on live data (the default command).
    Tour(TourArgs),
    /// Load the lines of a text file (or `-` for stdin) as String keys and show how gomap lays
    /// them out (B, overflow chains, load, bytes per entry) beside hashbrown's memory.
    Inspect(InspectArgs),
    /// Run the HashMap workloads on gomap, hashbrown and std's HashMap (same hasher), and the
    /// SyncMap workloads on gomap's SyncMap, dashmap, scc, papaya and RwLock<HashMap> at
    /// 1..=cores threads, in one run; with --go also on Go's map and sync.Map; print figures
    /// and ratios.
    Bench(BenchArgs),
    /// Replay writes on a live map and write one self-contained HTML page that draws its
    /// buckets frame by frame (header, bucket arrays, overflow chains, growths, a timeline).
    Viz(VizArgs),
}

#[derive(Debug, clap::Args)]
struct VizArgs {
    /// Keys of the built-in sequence: insert them (crossing several growths), churn until a
    /// same-size growth has run, remove every fourth key.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000), conflicts_with = "ops")]
    keys: u64,
    /// Replay this file instead: one `insert KEY VALUE` or `remove KEY` per line (u64s,
    /// decimal or 0x hex; `#` starts a comment). A bad line is reported and nothing is written.
    #[arg(long, value_name = "FILE")]
    ops: Option<PathBuf>,
    /// Seeds the key stream and the map's hasher (foldhash's FixedState).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
    /// Also write the replayed writes, in `--ops` form (to edit and replay).
    #[arg(long, value_name = "FILE")]
    save_ops: Option<PathBuf>,
    /// Also replay the operations on a `gomap::SyncMap` (insert = store, remove = delete,
    /// load = load) and show its read snapshot vs dirty map, misses and promotions. Without
    /// --ops, the built-in sequence is then one that shows the sync.Map cycle.
    #[arg(long)]
    sync_map: bool,
    /// Most frames to capture (growth starts and ends come first).
    #[arg(long, default_value_t = viz::MAX_FRAMES as u64, value_parser = clap::value_parser!(u64).range(2..=10_000), hide = true)]
    max_frames: u64,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// Small and medium sizes only, short rounds: under a minute.
    #[arg(long)]
    quick: bool,
    /// Run only workloads whose name (or a measure's name) contains this text.
    #[arg(long, value_name = "SUBSTR")]
    filter: Option<String>,
    /// Write every figure, with the run's setup, as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write every figure as CSV.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write a bar chart of gomap's ratio against each other map as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Also build and run bench/go (Go >= 1.19) on Go's map and sync.Map, in the same tables.
    #[arg(long)]
    go: bool,
    /// Where the Go program lives.
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/go"))]
    go_dir: PathBuf,
    /// Measure every figure of the Rust maps this many times, the maps taking turns, and report
    /// each map's median: on a shared machine a burst of noise then spoils one pass of one map,
    /// not the figure (Go's figures are measured once).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=50))]
    repeat: u64,
    /// Override the sizes, of the SyncMap workloads too (comma-separated entry counts, each
    /// 1 ..= 100,000,000).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=100_000_000), hide = true)]
    sizes: Vec<u64>,
    /// Override the time budget per figure, in milliseconds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=60_000), hide = true)]
    budget_ms: Option<u64>,
    /// For tests: one size of 1,000 entries, 1 and 2 threads, and a 2 ms budget (seconds in
    /// all).
    #[arg(long, hide = true)]
    tiny: bool,
}

#[derive(Debug, clap::Args)]
struct InspectArgs {
    /// The file to read, one key per line; `-` reads stdin.
    file: PathBuf,
    /// The hasher's seed (default: random, printed so a layout can be reproduced).
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct TourArgs {
    /// How many keys the growing map receives (16 ..= 100,000: the tour reads the map's
    /// stats, a walk of every bucket, after each insert while a growth is in flight).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(16..=100_000))]
    keys: u64,
    /// Seeds the key generator (splitmix64) and the map's hasher (foldhash's FixedState), so
    /// one seed always gives the same tour.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    style::init(cli.color);
    let result: Result<(), String> = match cli.command.unwrap_or(Command::Tour(cli.tour)) {
        Command::Tour(args) => {
            tour::run(&tour::TourOptions {
                keys: args.keys,
                seed: args.seed,
            });
            Ok(())
        }
        Command::Bench(args) => {
            let mut plan = if args.quick {
                workloads::Plan::quick()
            } else {
                workloads::Plan::full()
            };
            if args.tiny {
                plan.sizes = vec![1_000];
                plan.sync_sizes = vec![1_000];
                plan.threads = vec![1, 2];
                plan.budget = std::time::Duration::from_millis(2);
            }
            if !args.sizes.is_empty() {
                plan.sizes = args.sizes.iter().map(|&n| n as usize).collect();
                plan.sync_sizes = plan.sizes.clone();
            }
            if let Some(ms) = args.budget_ms {
                plan.budget = std::time::Duration::from_millis(ms);
            }
            plan.repeat = args.repeat as usize;
            bench::run(&bench::BenchOptions {
                plan,
                filter: args.filter,
                json: args.json,
                csv: args.csv,
                svg: args.svg,
                go: args.go,
                go_dir: args.go_dir,
            })
        }
        Command::Viz(args) => viz::run(&viz::VizOptions {
            keys: args.keys,
            ops: args.ops,
            seed: args.seed,
            out: args.out,
            save_ops: args.save_ops,
            max_frames: args.max_frames as usize,
            sync_map: args.sync_map,
        }),
        Command::Inspect(args) => inspect::run(&inspect::InspectOptions {
            path: &args.file,
            seed: args.seed,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gomap: error: {e}");
            ExitCode::FAILURE
        }
    }
}
