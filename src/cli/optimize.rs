//! `oxgrad optimize [CONFIG]`: DiffTRe training from a configuration file (schema:
//! `docs/config.md`), a run directory, and a validation that the fit holds up. Without a
//! configuration it runs the built-in flagship example. Ctrl-C (or SIGTERM) ends the run after
//! its current step, committed; a second Ctrl-C abandons the step. `--resume DIR` continues.
//! `--dashboard ADDR` serves the live dashboard ([`oxgrad::train::dashboard`]) while it runs; the
//! log also goes to `RUN_DIR/run.log`.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use oxgrad::config::ConfigFile;
use oxgrad::observable::stats::fmt_sig;
use oxgrad::optimize::{Observer, Step};
use oxgrad::train::{dashboard, Recorder, RunOptions, Summary};
use oxgrad::{Error, Result};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The built-in configuration (`examples/flagship.toml`).
pub const FLAGSHIP: &str = include_str!("../../examples/flagship.toml");

/// Arguments of `oxgrad optimize`.
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// The training configuration (TOML; see docs/config.md). Default: the built-in flagship,
    /// examples/flagship.toml.
    pub config: Option<PathBuf>,
    /// Run directory: resolved config, metrics.jsonl, checkpoint, parameters, validation, plots
    /// and report.html go there.
    #[arg(long, short, default_value = "oxgrad-run")]
    pub output: PathBuf,
    /// Print the loss, n_eff and gradient at the starting parameters as one JSON line and stop.
    #[arg(long)]
    pub gradient_only: bool,
    /// Replace an earlier run in the output directory.
    #[arg(long)]
    pub force: bool,
    /// Continue the run in this directory from its last completed step (with its own
    /// config.toml); the result is the same as an uninterrupted run.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "force", "gradient_only"])]
    pub resume: Option<PathBuf>,
    /// Serve a live dashboard of the run on this address while it runs, e.g. 127.0.0.1:8265 (a
    /// bare port means 127.0.0.1; 0 picks a free port). Loopback only, unless
    /// --dashboard-allow-remote; from a laptop: ssh -L 8265:localhost:8265 HOST.
    #[arg(long, value_name = "ADDR", conflicts_with = "gradient_only")]
    pub dashboard: Option<String>,
    /// Let --dashboard serve on an address that is not loopback (anyone who reaches it can read
    /// the run).
    #[arg(long, requires = "dashboard")]
    pub dashboard_allow_remote: bool,
}

/// The progress bar: an observer of the run's steps; it also starts the run's `run.log`.
struct Bar {
    bar: ProgressBar,
    recorder: Recorder,
    dir: PathBuf,
}

impl Observer for Bar {
    fn on_start(&mut self, _first: usize, _total: usize) -> Result<()> {
        // the directory is the run's now (locked, an earlier run replaced or resumed)
        crate::cli::log_to(&self.dir.join("run.log"))
    }
    fn after_step(&mut self, step: &Step<'_>) -> Result<()> {
        let r = self.recorder.record(step);
        let obs: Vec<String> = r
            .objectives
            .values()
            .flat_map(|o| {
                o.observables.iter().map(|(n, x)| format!("{n} {}±{} {}", fmt_sig(x.value), fmt_sig(x.std_err), x.unit))
            })
            .collect();
        let neff = r.objectives.values().map(|o| o.n_eff).fold(f64::INFINITY, f64::min);
        let msg = format!("loss {} | {} | n_eff {:.3}", fmt_sig(r.loss), obs.join(", "), neff);
        tracing::info!("step {}/{}: {msg} ({:.1} s)", r.step, step.total, r.seconds);
        self.bar.set_message(msg);
        self.bar.set_position(r.step as u64 + 1);
        Ok(())
    }
    fn on_status(&mut self, status: &str) {
        tracing::info!("{status}");
        self.bar.set_message(status.to_string());
    }
}

/// The validation's estimates, one log line per observable.
fn log_validation(s: &Summary) {
    for v in &s.validation {
        for (k, name) in v.observables.iter().enumerate() {
            tracing::info!(
                "validation of '{}': {name} initial {} → best {} {} (target {}; {} copies × {} steps)",
                v.objective,
                v.initial[k],
                v.best[k],
                v.units[k],
                fmt_sig(v.targets[k]),
                v.copies,
                v.md_steps
            );
        }
    }
}

pub fn optimize(a: &OptimizeArgs) -> Result<()> {
    let (file, dir, resume) = match &a.resume {
        Some(dir) => {
            let config = dir.join("config.toml");
            if !config.is_file() {
                return Err(Error::invalid(
                    "--resume",
                    dir.display(),
                    "no config.toml there: give the run directory of an oxgrad optimize run",
                ));
            }
            (ConfigFile::read(&config)?, dir.clone(), true)
        }
        None => {
            let file = match &a.config {
                Some(p) => ConfigFile::read(p)?,
                None => ConfigFile::parse(FLAGSHIP, Path::new("examples/flagship.toml"))?,
            };
            (file, a.output.clone(), false)
        }
    };
    let plan = file.build()?;
    let training = plan.training()?;
    if a.gradient_only {
        crate::cli::print_line(&training.gradient_only()?.to_string())?;
        return Ok(());
    }
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(plan.steps as u64 + 1);
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:25} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    if let Some(addr) = &a.dashboard {
        let addr = dashboard::bind_address(addr, a.dashboard_allow_remote, "--dashboard", "--dashboard-allow-remote")?;
        let d = dashboard::Dashboard::serve(&dir, addr, a.dashboard_allow_remote)?;
        let port = d.addr().port();
        tracing::info!(
            "dashboard: {} (read-only, while this run runs; from another machine: ssh -L {port}:localhost:{port} THIS_HOST; afterwards: oxgrad dashboard {})",
            d.url(),
            dir.display()
        );
    }
    let opts = RunOptions {
        force: a.force,
        resume,
        stop: Some(crate::cli::stop_flag()),
        resume_command: Some(format!("oxgrad optimize --resume {}", dir.display())),
    };
    let recorder = training.recorder();
    let summary = training.observe(Bar { bar: bar.clone(), recorder, dir: dir.clone() }).run(&dir, &opts);
    bar.finish_and_clear();
    let summary = summary?;
    log_validation(&summary);
    crate::cli::print_line(&summary.line())
}
