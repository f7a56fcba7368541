//! `oxgrad simulate`: native MD from an oxDNA input file.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use oxgrad::io::InputFile;
use oxgrad::params::ParamSet;
use oxgrad::simulate::MdRun;
use oxgrad::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `oxgrad simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// An oxDNA MD input file (sim_type = MD); paths in it are relative to its directory.
    pub input: PathBuf,
    /// Model parameters from this file (e.g. params_best.toml of a run) instead of the defaults;
    /// the input still sets temperature and salt.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Replace existing output files (trajectory, energy file, last configuration).
    #[arg(long)]
    pub force: bool,
    /// Threads for one simulation (default: the input's `threads`, else every core); the
    /// trajectory is the same for any number.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Keys of the input the engine does not use are an error (default: one warning).
    #[arg(long)]
    pub strict: bool,
}

pub fn simulate(a: &SimulateArgs) -> Result<()> {
    let input = InputFile::read(&a.input)?;
    let params = a.params.as_ref().map(ParamSet::read).transpose()?;
    let run = MdRun::from_input_with(&input, params.as_ref())?;
    run.report_unused_keys(&a.input, a.strict)?;
    run.check_outputs(a.force)?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = a.threads.or(run.threads).unwrap_or(cores);
    if threads == 0 {
        return Err(oxgrad::Error::invalid("--threads", 0, "at least 1 thread"));
    }
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(run.span().1);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} steps ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let t = Instant::now();
    // the first signal finishes the step and writes the last configuration; a second one exits
    let stop = crate::cli::stop_flag();
    let state = run.run_with(threads, Some(&stop), |done, _| bar.set_position(done));
    bar.finish_and_clear();
    let state = state?;
    let secs = t.elapsed().as_secs_f64();
    let steps = run.span().1 as f64;
    crate::cli::print_line(&format!(
        "{} steps of {} nucleotides on {threads} thread(s) in {secs:.2} s ({:.0} steps/s, {:.2e} nucleotide-steps/s); last configuration (step {}) in {}",
        run.span().1,
        run.setup.topology.len(),
        steps / secs,
        steps * run.setup.topology.len() as f64 / secs,
        state.step,
        run.lastconf.0.display()
    ))
}
