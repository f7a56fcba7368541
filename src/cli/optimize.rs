//! `oxgrad optimize [CONFIG]`: DiffTRe training from a configuration file (schema:
//! `docs/config.md`), a run directory, and a validation that the fit holds up. Without a
//! configuration it runs the built-in flagship example.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use oxgrad::config::ConfigFile;
use oxgrad::observable::stats::fmt_sig;
use oxgrad::train::{self, Progress, StepRecord};
use oxgrad::Result;
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
    /// Run directory: resolved config, metrics.jsonl, parameters, validation and plots go there.
    #[arg(long, short, default_value = "oxgrad-run")]
    pub output: PathBuf,
    /// Print the loss, n_eff and gradient at the starting parameters as one JSON line and stop.
    #[arg(long)]
    pub gradient_only: bool,
    /// Replace an earlier run in the output directory.
    #[arg(long)]
    pub force: bool,
}

struct Bar {
    bar: ProgressBar,
}

impl Progress for Bar {
    fn step(&mut self, r: &StepRecord, total: usize) {
        let obs: Vec<String> = r
            .objectives
            .values()
            .flat_map(|o| o.observables.iter().map(|(n, x)| format!("{n} {}±{} {}", fmt_sig(x.value), fmt_sig(x.std_err), x.unit)))
            .collect();
        let neff = r.objectives.values().map(|o| o.n_eff).fold(f64::INFINITY, f64::min);
        let msg = format!("loss {} | {} | n_eff {:.3}", fmt_sig(r.loss), obs.join(", "), neff);
        tracing::info!("step {}/{total}: {msg} ({:.1} s)", r.step, r.seconds);
        self.bar.set_message(msg);
        self.bar.set_position(r.step as u64 + 1);
    }
    fn validating(&mut self, runs: usize) {
        tracing::info!("validating: {runs} fresh simulations with the initial and the best parameters");
        self.bar.set_message(format!("validating ({runs} fresh simulations)"));
    }
}

pub fn optimize(a: &OptimizeArgs) -> Result<()> {
    let file = match &a.config {
        Some(p) => ConfigFile::read(p)?,
        None => ConfigFile::parse(FLAGSHIP, Path::new("examples/flagship.toml"))?,
    };
    let plan = file.build()?;
    if a.gradient_only {
        println!("{}", train::gradient_only(&plan)?);
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
    let summary = train::run(&plan, &a.output, a.force, &mut Bar { bar: bar.clone() });
    bar.finish_and_clear();
    let summary = summary?;
    for v in &summary.validation {
        for (k, name) in v.observables.iter().enumerate() {
            tracing::info!(
                "validation of '{}': {name} initial {} → best {} {} (target {}; {} copies × {} MD steps)",
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
    println!("{}", summary.line());
    Ok(())
}
