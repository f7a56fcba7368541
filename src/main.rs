//! The `oxgrad` command-line program.

mod cli;

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let level = match args.verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // colours only on a terminal: a log file (Slurm's --output, a redirect) gets plain text
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let log = fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(ansi);
    let subscriber = tracing_subscriber::registry().with(filter);
    if oxgrad::optimize::executor::worker::is_worker() {
        // a worker's lines go to its driver's log, which adds the time and the task
        subscriber.with(log.without_time()).init();
    } else {
        // and, once a run has a directory, to its run.log (read by the dashboard)
        let run_log = fmt::layer().with_writer(|| cli::RunLog).with_target(false).with_ansi(false);
        subscriber.with(log).with(run_log).init();
    }
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // `oxgrad … | head`: the reader left; nothing is wrong
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
