//! `oxgrad simulate`: native MD from an oxDNA input file.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use oxgrad::io::InputFile;
use oxgrad::params::ParamSet;
use oxgrad::simulate::SimRun;
use oxgrad::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `oxgrad simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// An oxDNA input file (sim_type = MD, MC or VMMC); paths in it are relative to its directory.
    pub input: PathBuf,
    /// Model parameters from this file (e.g. params_best.toml of a run) instead of the defaults;
    /// the input still sets temperature and salt.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Replace existing output files (trajectory, energy file, last configuration).
    #[arg(long)]
    pub force: bool,
    /// Threads for one simulation, at most the machine's cores (default: the input's `threads`,
    /// else RAYON_NUM_THREADS, else every core); the trajectory is the same for any number.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Keys of the input the engine does not use are an error (default: one warning).
    #[arg(long)]
    pub strict: bool,
}

pub fn simulate(a: &SimulateArgs) -> Result<()> {
    let input = InputFile::read(&a.input)?;
    let params = a.params.as_ref().map(ParamSet::read).transpose()?;
    let mut run = SimRun::from_input_with(&input, params.as_ref())?;
    // the parameter file is an input too: no output may replace it
    run.inputs.extend(a.params.iter().cloned());
    run.report_unused_keys(&a.input, a.strict)?;
    run.check_outputs(a.force)?;
    let threads = match a.threads {
        Some(t) => oxgrad::simulate::md::check_threads("--threads", t as u64, "")?,
        None => match (run.threads, std::env::var("RAYON_NUM_THREADS")) {
            (Some(t), _) => t,
            // a task's num_cpus hint reaches a program it starts as RAYON_NUM_THREADS
            (None, Ok(v)) => {
                let t = v.trim().parse::<u64>().map_err(|_| {
                    oxgrad::Error::invalid("RAYON_NUM_THREADS", &v, "a whole number of threads (or unset it)")
                })?;
                // 0 is rayon's "every core"
                match t {
                    0 => oxgrad::machine::cores(),
                    t => oxgrad::simulate::md::check_threads("RAYON_NUM_THREADS", t, "environment: ")?,
                }
            }
            (None, Err(_)) => oxgrad::machine::cores(),
        },
    };
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
        state,
        run.lastconf.0.display()
    ))
}
