//! The `oxgrad` command line: argument parsing and one function per subcommand.

mod dashboard;
mod energy;
mod generate;
mod melting;
mod observe;
mod optimize;
mod params;
mod report;
mod simulate;
mod slurm;

use clap::{Parser, Subcommand};

/// Differentiable oxDNA models and parameter training.
#[derive(Debug, Parser)]
#[command(name = "oxgrad", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an ideal helix (oxDNA topology + configuration).
    Generate(generate::GenerateArgs),
    /// Per-frame energy of every term of a trajectory (oxDNA's split energies, per nucleotide).
    Energy(energy::EnergyArgs),
    /// Native molecular dynamics from an oxDNA MD input file (trajectory, energy file, last conf).
    Simulate(simulate::SimulateArgs),
    /// Train parameters with DiffTRe from a configuration file (built-in default: fit oxDNA1's
    /// helical pitch to B-DNA's 10.5 bp/turn), then validate the fit with fresh simulations.
    Optimize(optimize::OptimizeArgs),
    /// An observable on every frame of a trajectory, then its mean, standard error and
    /// integrated autocorrelation time (JSON).
    Observe(observe::ObserveArgs),
    /// Melting temperature ± standard error, transition width and melting curve from
    /// umbrella-sampling histograms (oxDNA's last_hist.dat), one per independent run; or, with
    /// --nearest-neighbour SEQ, SantaLucia's nearest-neighbour Tm of a DNA duplex.
    Melting(melting::MeltingArgs),
    /// One self-contained HTML page about a run (also while it is in progress).
    Report(report::ReportArgs),
    /// Serve the live dashboard of a run directory (a run going or finished) on a loopback
    /// address: loss, observables, parameters, n_eff, tasks, worker logs, failures.
    Dashboard(dashboard::DashboardArgs),
    /// Convert a topology (and its configurations) between the classic and new formats.
    Convert(generate::ConvertArgs),
    /// Export parameters to, or import them from, mythos / jax_dna and oxDNA's seq_dep_file.
    Params(params::ParamsArgs),
    /// Write an sbatch script that runs `oxgrad optimize CONFIG` on Slurm, tasks as job steps.
    SlurmScript(slurm::SlurmScriptArgs),
}

/// Prints one line on standard output. A closed pipe (`oxgrad … | head`) is not an error: it
/// ends the command quietly.
pub fn print_line(line: &str) -> oxgrad::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| oxgrad::Error::io("write", std::path::Path::new("<stdout>"), e))
}

/// Where the log also goes once a run has a directory (`RUN_DIR/run.log`, see [`log_to`]).
static RUN_LOG: std::sync::Mutex<Option<std::fs::File>> = std::sync::Mutex::new(None);

/// The log's second writer: `RUN_DIR/run.log` once [`log_to`] named it, nothing before.
pub struct RunLog;

impl std::io::Write for RunLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(f) = RUN_LOG.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut() {
            // a full disk must not end the run: the log on stderr goes on
            let _ = f.write_all(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// From now on the log goes to `path` too (appended: a resumed run continues its log).
pub fn log_to(path: &std::path::Path) -> oxgrad::Result<()> {
    let f = std::fs::File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| oxgrad::Error::io("open the log", path, e))?;
    *RUN_LOG.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(f);
    Ok(())
}

/// The process-wide stop flag ([`oxgrad::optimize::stop_flag`]), set by the first Ctrl-C or
/// SIGTERM, which is acknowledged on stderr at once (the command then ends cleanly: a training
/// run after its current step, native MD within a few steps); the second one exits at once with
/// status 130.
pub fn stop_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = oxgrad::optimize::stop_flag();
    if oxgrad::optimize::executor::worker::is_worker() {
        // a worker runs one task and ends; a signal (scancel, the driver's group kill) ends it now
        return flag;
    }
    static WATCHING: std::sync::Once = std::sync::Once::new();
    WATCHING.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            tracing::warn!("cannot watch for Ctrl-C: a Ctrl-C ends the program at once");
            return;
        };
        let flag = std::sync::Arc::clone(&flag);
        std::thread::spawn(move || {
            for sig in signals.forever() {
                if flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    eprintln!("second stop request: exiting now");
                    std::process::exit(130);
                }
                let name = if sig == SIGINT { "Ctrl-C" } else { "SIGTERM" };
                eprintln!(
                    "{name} received: stopping cleanly (what is done is kept); press Ctrl-C again to exit at once"
                );
            }
        });
    });
    flag
}

/// Whether an error is a closed standard output (which ends a command quietly).
pub fn is_broken_pipe(e: &oxgrad::Error) -> bool {
    matches!(e, oxgrad::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> oxgrad::Result<()> {
    match cli.command {
        Command::Generate(a) => generate::generate(&a),
        Command::Convert(a) => generate::convert(&a),
        Command::Energy(a) => energy::energy(&a),
        Command::Simulate(a) => simulate::simulate(&a),
        Command::Optimize(a) => optimize::optimize(&a),
        Command::Observe(a) => observe::observe(&a),
        Command::Melting(a) => melting::melting(&a),
        Command::Report(a) => report::report(&a),
        Command::Dashboard(a) => dashboard::dashboard(&a),
        Command::Params(a) => params::params(&a),
        Command::SlurmScript(a) => slurm::slurm_script(&a),
    }
}
