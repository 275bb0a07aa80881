//! `gomap`: a guided tour of Go's map design on the live `gomap` structures, a layout report
//! for your own keys, and a benchmark against the peers (and Go itself) in one run.

mod inspect;
mod keys;
mod style;
mod tour;

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
}

#[derive(Debug, clap::Args)]
struct InspectArgs {
    /// The file to read, one key per line; `-` reads stdin.
    file: std::path::PathBuf,
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
