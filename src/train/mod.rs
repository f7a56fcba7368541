//! Training runs with a run directory: the optimisation, everything a user checks afterwards,
//! checkpoints to continue after a crash, and a validation that the fit holds up.
//!
//! A run evaluates the loss at each step's parameters θ_k (DiffTRe on the current trajectories,
//! re-simulating when the effective sample size drops), updates to θ_{k+1}, and after the last
//! update evaluates θ_N too: every saved parameter set has been measured. The best step is the
//! one with the lowest estimated loss. Then fresh simulations with the best and with the initial
//! parameters (same seeds for both, so their difference is not seed noise) give each observable
//! with a block-jackknife standard error: the independent check of the fit.
//!
//! The steps are the optimisation's one run loop ([`Optimization::run_with`]); the run directory
//! is its observer, and so are the run's own observers ([`Training::observe`], the
//! [`crate::optimize::Observer`] trait): a progress bar, an early stop (the run then evaluates
//! its last parameters and finishes as usual, with fewer updates), an edit of a step's output.
//! A NaN or infinite gradient ends the run with the optimiser's error, after the step is
//! plotted, not committed.
//!
//! Every step is committed to the run directory before the next starts: its line in
//! `metrics.jsonl`, then `checkpoint.json` (written whole or not at all) with the parameters, the
//! update rule's moments, each component's state and the cached trajectories. A run that was
//! killed, pre-empted or interrupted continues with [`RunOptions::resume`] (`oxgrad optimize
//! --resume DIR`) and reaches exactly the parameters an uninterrupted run reaches. A lock keeps a
//! second run out of a directory in use.
//!
//! | file | content |
//! |---|---|
//! | `config.toml` | the configuration with every default written out (when run from one) |
//! | `seeds.toml` | master seeds |
//! | `metrics.jsonl` | one JSON object per evaluated step ([`StepRecord`]) |
//! | `checkpoint.json`, `state/` | the last committed step; cached observables by content hash |
//! | `params_initial.toml`, `params_best.toml`, `params_final.toml` | complete parameter files |
//! | `validation.json` | the validation runs' observables for the initial and best parameters |
//! | `loss.png`, `observables.png`, `neff.png` | plots |
//! | `report.html` | one self-contained page ([`report`]), also while a run is in progress |
//! | `run.log` | the log of `oxgrad optimize` (driver and workers), read by the live [`dashboard`] |
//!
//! Library users get the same directory: build a [`Training`] from an [`Optimization`] and the
//! objectives' observables, and [`Training::run`] it. A configuration builds one ([`crate::config::plan::Plan::training`]):
//!
//! ```
//! use oxgrad::config::ConfigFile;
//! use oxgrad::train::RunOptions;
//! let toml = r#"
//! [model]
//! kind = "dna1"
//! temperature = "300K"
//! [optimizer]
//! learning_rate = 1e-3
//! steps = 2
//! train = ["Stacking"]
//! [[simulator]]
//! name = "duplex"
//! kind = "native"
//! duplex = "ACGTTGCA"
//! md_steps = 1000
//! sample_every = 100
//! [[objective]]
//! name = "rise"
//! simulators = ["duplex"]
//! observable = { kind = "rise", exclude_end_pairs = 1 }
//! target = 0.36
//! [validation]
//! enabled = false
//! "#;
//! let plan = ConfigFile::parse(toml, "fit.toml".as_ref())?.build()?;
//! let dir = tempfile::tempdir().unwrap();
//! let summary = plan.training()?.run(dir.path(), &RunOptions::default())?;
//! assert_eq!(summary.steps, 2);
//! assert!(dir.path().join("metrics.jsonl").is_file() && dir.path().join("params_final.toml").is_file());
//! # Ok::<(), oxgrad::Error>(())
//! ```

pub mod dashboard;
pub mod plot;
pub mod report;
pub mod validate;

use crate::error::{Error, Result};
use crate::io::atomic::{self, DirLock};
use crate::observable::stats::{fmt_sig, Estimate};
use crate::observable::Observable;
use crate::optimize::{
    Aggregate, Checkpoint, Control, Observation, Observer, Optimization, OptimizerState, Params, RunPlan, Step,
    StepOutput, TaskRun, Termination,
};
use crate::params::ParamSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
pub use validate::Validation;

/// One observable of one objective at one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservableRecord {
    /// Reweighted estimate.
    #[serde(deserialize_with = "crate::observable::stats::nan_if_null")]
    pub value: f64,
    /// Its standard error (NaN, written `null`, with fewer than two states).
    #[serde(deserialize_with = "crate::observable::stats::nan_if_null")]
    pub std_err: f64,
    /// Its unit.
    pub unit: String,
    /// The target.
    pub target: Option<f64>,
}

/// One objective at one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveRecord {
    /// Its loss (NaN, written `null`, when the objective reports none).
    #[serde(deserialize_with = "crate::observable::stats::nan_if_null")]
    pub loss: f64,
    /// Smallest normalised effective sample size (NaN, written `null`, when the objective
    /// reports none).
    #[serde(deserialize_with = "crate::observable::stats::nan_if_null")]
    pub n_eff: f64,
    /// Observables by name.
    pub observables: BTreeMap<String, ObservableRecord>,
}

/// One line of `metrics.jsonl`: an evaluated step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step whose parameters were evaluated (0 = initial; `steps` = after the last update).
    pub step: usize,
    /// The aggregated loss (mean, weighted sum or the one objective's, as the aggregation).
    #[serde(deserialize_with = "crate::observable::stats::nan_if_null")]
    pub loss: f64,
    /// Per objective.
    pub objectives: BTreeMap<String, ObjectiveRecord>,
    /// The evaluated parameter values.
    pub params: BTreeMap<String, f64>,
    /// The aggregated gradient at them.
    pub grads: BTreeMap<String, f64>,
    /// Seconds the step took.
    pub seconds: f64,
    /// Seeds of the simulations the step ran, by simulator.
    pub seeds: BTreeMap<String, u64>,
    /// The tasks the step ran (timeline).
    #[serde(default)]
    pub tasks: Vec<TaskRun>,
}

/// Validation of one objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRecord {
    /// The objective.
    pub objective: String,
    /// Observable names, in order.
    pub observables: Vec<String>,
    /// Units.
    pub units: Vec<String>,
    /// Targets.
    pub targets: Vec<f64>,
    /// Estimates with the initial parameters.
    pub initial: Vec<Estimate>,
    /// Estimates with the best parameters.
    pub best: Vec<Estimate>,
    /// Steps per copy (MD or Monte Carlo).
    pub md_steps: u64,
    /// Copies per parameter set.
    pub copies: usize,
    /// Sampling interval.
    pub sample_every: u64,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Loss at the initial parameters.
    pub initial_loss: f64,
    /// Loss at the final parameters.
    pub final_loss: f64,
    /// The step with the lowest loss.
    pub best_step: usize,
    /// Updates made (fewer than planned when an observer stopped the run).
    pub steps: usize,
    /// Validation per objective (empty when disabled or impossible).
    pub validation: Vec<ValidationRecord>,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Every evaluated step.
    pub records: Vec<StepRecord>,
    /// The final parameters.
    pub params: Params,
}

impl Summary {
    /// The one-line summary: `initial_loss=… final_loss=… best_step=… steps=… validated=…±…
    /// initial_validated=…±… target=… run_dir=…` (several observables are comma-separated).
    #[must_use]
    pub fn line(&self) -> String {
        let join = |f: &dyn Fn(&ValidationRecord) -> Vec<String>| -> String {
            let v: Vec<String> = self.validation.iter().flat_map(f).collect();
            if v.is_empty() {
                "skipped".into()
            } else {
                v.join(",")
            }
        };
        let validated = join(&|r| r.best.iter().map(ToString::to_string).collect());
        let initial = join(&|r| r.initial.iter().map(ToString::to_string).collect());
        let targets: Vec<String> = if self.validation.is_empty() {
            self.records.first().map_or_else(Vec::new, |r| {
                r.objectives
                    .values()
                    .flat_map(|o| o.observables.values().filter_map(|x| x.target.map(fmt_sig)))
                    .collect()
            })
        } else {
            self.validation.iter().flat_map(|r| r.targets.iter().map(|t| fmt_sig(*t))).collect()
        };
        format!(
            "initial_loss={} final_loss={} best_step={} steps={} validated={validated} initial_validated={initial} target={} run_dir={}",
            fmt_sig(self.initial_loss),
            fmt_sig(self.final_loss),
            self.best_step,
            self.steps,
            targets.join(","),
            self.run_dir.display()
        )
    }
}

/// One objective as a training run reports and validates it.
#[derive(Clone)]
pub struct ObjectiveInfo {
    /// The objective's name (as the optimizer knows it).
    pub name: String,
    /// Its observables (their names are the reported values).
    pub observables: Vec<Arc<dyn Observable>>,
    /// Their targets.
    pub targets: Vec<f64>,
    /// Its weight in a weighted aggregation.
    pub weight: f64,
    /// The fresh simulations that check it, if any.
    pub validation: Option<Validation>,
}

/// How a run starts.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Replace an earlier run in the directory.
    pub force: bool,
    /// Continue the run in the directory from its last committed step.
    pub resume: bool,
    /// Set (e.g. by a Ctrl-C handler) to stop after the current step, committed. Default: the
    /// process-wide [`crate::optimize::stop_flag`], which also stops native MD within a step
    /// (the step is then abandoned and redone on resume).
    pub stop: Option<Arc<AtomicBool>>,
    /// The command that continues this run, for the interruption message.
    pub resume_command: Option<String>,
}

/// A training run: an optimisation, the parameter set it starts from, its objectives'
/// observables and validations, and observers.
pub struct Training {
    optimization: Optimization,
    base: ParamSet,
    start: Params,
    steps: usize,
    objectives: Vec<ObjectiveInfo>,
    config: Option<String>,
    seeds: Option<String>,
    observers: Vec<Box<dyn Observer>>,
    threads: usize,
    inputs: Vec<PathBuf>,
}

impl Training {
    /// `steps` updates of `optimization` from `start` (trained names and values), on top of the
    /// complete parameter set `base`.
    #[must_use]
    pub fn new(mut optimization: Optimization, base: ParamSet, start: Params, steps: usize) -> Training {
        let observers = optimization.take_observers().into_iter().map(|o| o as Box<dyn Observer>).collect();
        Training {
            optimization,
            base,
            start,
            steps,
            objectives: Vec::new(),
            config: None,
            seeds: None,
            observers,
            threads: crate::machine::cores(),
            inputs: Vec::new(),
        }
    }

    /// Declares an objective's observables, targets, weight and validation.
    #[must_use]
    pub fn objective(mut self, info: ObjectiveInfo) -> Training {
        self.objectives.push(info);
        self
    }

    /// Adds an observer of the run's steps (after those the optimisation already had). It hears
    /// each step before the run records it ([`Observer::on_step`]: it may edit the step or stop
    /// the run, which then evaluates its last parameters and finishes as usual), and after the
    /// run committed it ([`Observer::after_step`]); [`Observer::on_status`] tells it when the
    /// validation starts.
    #[must_use]
    pub fn observe(mut self, o: impl Observer + 'static) -> Training {
        self.observers.push(Box::new(o));
        self
    }

    /// The configuration (TOML) the run came from, kept in the run directory.
    #[must_use]
    pub fn config(mut self, toml: String, seeds: String) -> Training {
        self.config = Some(toml);
        self.seeds = Some(seeds);
        self
    }

    /// Files the run reads (its configuration, topologies, parameter files, …): no file the run
    /// writes may be one of them, whatever its spelling (a link, a hard link), `--force` or not.
    #[must_use]
    pub fn inputs(mut self, files: impl IntoIterator<Item = PathBuf>) -> Training {
        self.inputs.extend(files);
        self
    }

    /// Threads for the validation runs (default: every core).
    #[must_use]
    pub fn threads(mut self, n: usize) -> Training {
        self.threads = n.max(1);
        self
    }

    /// The gradient at the starting parameters as one JSON object: `{"loss": …, "n_eff":
    /// {objective: …}, "grads": {parameter: …}}`.
    pub fn gradient_only(mut self) -> Result<serde_json::Value> {
        let out = self.optimization.evaluate(&self.start, OptimizerState::default())?;
        let rec = self.recorder().record_output(&out, &self.start, 0, 0.0);
        Ok(serde_json::json!({
            "loss": rec.loss,
            "n_eff": rec.objectives.iter().map(|(k, o)| (k.clone(), o.n_eff)).collect::<BTreeMap<_, _>>(),
            "grads": rec.grads,
        }))
    }

    /// What turns a step of this run into its [`StepRecord`] (for observers that show them).
    #[must_use]
    pub fn recorder(&self) -> Recorder {
        Recorder {
            objectives: self
                .objectives
                .iter()
                .map(|o| RecordedObjective {
                    name: o.name.clone(),
                    observables: o.observables.iter().map(|x| (x.name().to_string(), x.unit().to_string())).collect(),
                    targets: o.targets.clone(),
                    weight: o.weight,
                })
                .collect(),
            weighted: matches!(self.optimization.aggregation(), Some(Aggregate::WeightedSum(_))),
        }
    }

    /// Runs into `dir` (see the [module docs](self)): the optimisation's run loop
    /// ([`Optimization::run_with`]) with the run directory as its observer, then the
    /// validation, plots and report.
    pub fn run(mut self, dir: &Path, opts: &RunOptions) -> Result<Summary> {
        // a worker of the process or Slurm executor runs its task here, before the directory
        self.optimization.serve_if_worker();
        let _lock = DirLock::acquire(dir)?;
        let (params, state, records) = if opts.resume {
            self.load(dir)?
        } else {
            self.fresh(dir, opts.force)?;
            (self.start.clone(), OptimizerState::default(), Vec::new())
        };
        let metrics_path = dir.join("metrics.jsonl");
        let metrics = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(|e| Error::io("open", &metrics_path, e))?;
        let stop = opts.stop.clone().unwrap_or_else(crate::optimize::stop_flag);
        let plan = RunPlan::new(params, self.steps).resume(records.len(), state).evaluate_last().stop_on(stop.clone());
        let mut observers = std::mem::take(&mut self.observers);
        let mut run = RunDir {
            dir,
            metrics,
            metrics_path,
            recorder: self.recorder(),
            records,
            config: self.config.as_deref(),
            steps: self.steps,
            observers: &mut observers,
        };
        let end = self.optimization.run_with(plan, &mut [&mut run]);
        let records = run.records;
        self.observers = observers;
        let params = match end {
            Err(e @ Error::NonFiniteGradient { .. }) => {
                plot::all(dir, &records, &[]).ok();
                return Err(e);
            }
            Err(e) => return Err(e),
            Ok(end) if end.termination == Termination::Interrupted => {
                return Err(self.interrupted(dir, records.len(), opts))
            }
            Ok(end) => end.params,
        };
        // the last record evaluates the final parameters: its index is the number of updates
        self.steps = records.len() - 1;
        let set = |p: &BTreeMap<String, f64>| -> Result<ParamSet> {
            self.base.with_params(p.iter().map(|(k, v)| (k.as_str(), *v)))
        };
        let best = records
            .iter()
            .filter(|r| r.loss.is_finite())
            .min_by(|a, b| a.loss.total_cmp(&b.loss))
            .map_or(0, |r| r.step);
        let best_set = set(&records[best].params)?;
        atomic::write(&dir.join("params_final.toml"), set(&params)?.to_toml_string().as_bytes())?;
        atomic::write(&dir.join("params_best.toml"), best_set.to_toml_string().as_bytes())?;
        let validation = match std::fs::read_to_string(dir.join("validation.json")) {
            // a resumed run whose validation already finished
            Ok(text) if opts.resume => serde_json::from_str(&text).unwrap_or_default(),
            _ => {
                if stop.load(Ordering::SeqCst) {
                    return Err(self.interrupted(dir, records.len(), opts));
                }
                let v = match self.validate(&best_set) {
                    Err(_) if stop.load(Ordering::SeqCst) => return Err(self.interrupted(dir, records.len(), opts)),
                    v => v?,
                };
                let json = serde_json::to_string_pretty(&v)
                    .map_err(|e| Error::internal(format!("the validation does not serialise: {e}")))?;
                atomic::write(&dir.join("validation.json"), json.as_bytes())?;
                v
            }
        };
        plot::all(dir, &records, &validation)?;
        report::write(dir)?;
        let summary = Summary {
            initial_loss: records[0].loss,
            final_loss: records[self.steps].loss,
            best_step: best,
            steps: self.steps,
            validation,
            run_dir: dir.to_path_buf(),
            records,
            params,
        };
        Ok(summary)
    }

    fn interrupted(&self, dir: &Path, completed: usize, opts: &RunOptions) -> Error {
        if completed == 0 {
            return Error::Stopped {
                what: format!(
                    "the first step of the run in {} (no step was committed: start the run again)",
                    dir.display()
                ),
            };
        }
        Error::Interrupted {
            step: completed.saturating_sub(1),
            dir: dir.to_path_buf(),
            resume: opts
                .resume_command
                .clone()
                .unwrap_or_else(|| format!("oxgrad optimize --resume {}", dir.display())),
        }
    }

    /// Starts a new run in `dir`: refuses files of an earlier run (or any other file of the
    /// names a run writes) unless `force`, and an input among them always; then writes the
    /// configuration, seeds and initial parameters.
    fn fresh(&self, dir: &Path, force: bool) -> Result<()> {
        let mut io = atomic::Outputs::new(force);
        for p in &self.inputs {
            io.input(p)?;
        }
        let existing: Vec<&str> = RUN_FILES.iter().copied().filter(|f| dir.join(f).exists()).collect();
        let state_dir = dir.join("state");
        if !force && (!existing.is_empty() || state_dir.exists()) {
            let what = if existing.contains(&"metrics.jsonl") { "an earlier run" } else { "files a run would replace" };
            let names = if existing.is_empty() { "state/".to_string() } else { existing.join(", ") };
            return Err(Error::invalid(
                "run directory",
                dir.display(),
                format!(
                    "it holds {what} ({names}): continue an interrupted run with --resume, replace it with --force, or choose another directory"
                ),
            ));
        }
        // an input is never replaced, --force or not
        for f in RUN_FILES {
            io.check(&dir.join(f))?;
        }
        if force {
            for f in existing {
                let p = dir.join(f);
                std::fs::remove_file(&p).map_err(|e| Error::io("remove the earlier run's", &p, e))?;
            }
            // only the cached observables a run writes there (16 hex digits .json); anything
            // else in state/ is not ours and stays
            for e in std::fs::read_dir(&state_dir).into_iter().flatten().flatten() {
                if is_cached_observable(&e.file_name().to_string_lossy()) {
                    let p = e.path();
                    std::fs::remove_file(&p).map_err(|e| Error::io("remove the earlier run's", &p, e))?;
                }
            }
        }
        if let Some(c) = &self.config {
            atomic::write(&dir.join("config.toml"), c.as_bytes())?;
        }
        if let Some(s) = &self.seeds {
            atomic::write(&dir.join("seeds.toml"), s.as_bytes())?;
        }
        atomic::write(&dir.join("params_initial.toml"), self.base.to_toml_string().as_bytes())?;
        std::fs::write(dir.join("metrics.jsonl"), "").map_err(|e| Error::io("create", &dir.join("metrics.jsonl"), e))
    }

    /// Loads the last committed step of the run in `dir`.
    fn load(&mut self, dir: &Path) -> Result<(Params, OptimizerState, Vec<StepRecord>)> {
        let path = dir.join("checkpoint.json");
        let text = std::fs::read(&path).map_err(|e| {
            Error::io(
                "read",
                &path,
                std::io::Error::new(
                    e.kind(),
                    format!("{e}: is this a run directory, with at least one completed step?"),
                ),
            )
        })?;
        let mut file: CheckpointFile = serde_json::from_slice(&text)
            .map_err(|e| Error::parse(&path, e.line(), "an oxgrad checkpoint", e.to_string()))?;
        if let (Some(started), Some(now)) = (&file.config, &self.config) {
            let changed = changed_keys(started, now);
            if !changed.is_empty() {
                return Err(Error::invalid(
                    "--resume",
                    dir.display(),
                    format!(
                        "its config.toml differs from the configuration the run started with ({}): a resumed run continues exactly the run it was, so undo the edit; to run the edited configuration, start a new run from it (oxgrad optimize {} -o NEW_DIR)",
                        changed.join(", "),
                        dir.join("config.toml").display()
                    ),
                ));
            }
        }
        for (id, name) in &file.observables {
            let p = dir.join("state").join(name);
            let bytes = std::fs::read(&p).map_err(|e| Error::io("read", &p, e))?;
            let o: Observation = serde_json::from_slice(&bytes)
                .map_err(|e| Error::parse(&p, e.line(), "a cached observable", e.to_string()))?;
            file.checkpoint.observables.insert(id.clone(), o);
        }
        if let Some(n) = file.updates {
            self.steps = n;
        }
        let (params, state) = self.optimization.restore(file.checkpoint)?;
        // metrics.jsonl may hold a line of a step that was not committed: rewrite it from the checkpoint
        let mut lines = String::new();
        for r in &file.records {
            lines.push_str(
                &serde_json::to_string(r)
                    .map_err(|e| Error::internal(format!("a step record does not serialise: {e}")))?,
            );
            lines.push('\n');
        }
        atomic::write(&dir.join("metrics.jsonl"), lines.as_bytes())?;
        tracing::info!("resuming {} after step {}", dir.display(), file.records.len().saturating_sub(1));
        Ok((params, state, file.records))
    }

    fn validate(&mut self, best: &ParamSet) -> Result<Vec<ValidationRecord>> {
        let mut out = Vec::new();
        for o in &self.objectives {
            let Some(val) = &o.validation else { continue };
            let status = format!(
                "validating: {} fresh simulations with the initial and the best parameters",
                2 * val.copies * val.simulators.len()
            );
            for obs in &mut self.observers {
                obs.on_status(&status);
            }
            let res = val.run(&[&self.base, best], self.threads)?;
            out.push(ValidationRecord {
                objective: o.name.clone(),
                observables: o.observables.iter().map(|x| x.name().to_string()).collect(),
                units: o.observables.iter().map(|x| x.unit().to_string()).collect(),
                targets: o.targets.clone(),
                initial: res[0].clone(),
                best: res[1].clone(),
                md_steps: val.simulators.first().map_or(0, crate::simulate::NativeSimulator::steps),
                copies: val.copies * val.simulators.len(),
                sample_every: val.simulators.first().map_or(0, crate::simulate::NativeSimulator::sample_every),
            });
        }
        Ok(out)
    }
}

/// Commits the state after a step: cached observables by content hash under `state/`, then
/// `checkpoint.json` atomically (the commit point).
fn commit(
    dir: &Path,
    cp: Checkpoint,
    records: &[StepRecord],
    config: Option<&str>,
    updates: Option<usize>,
) -> Result<()> {
    let state_dir = dir.join("state");
    std::fs::create_dir_all(&state_dir).map_err(|e| Error::io("create directory", &state_dir, e))?;
    let mut refs = BTreeMap::new();
    for (id, o) in &cp.observables {
        let bytes = serde_json::to_vec(o)
            .map_err(|e| Error::internal(format!("a checkpointed observable does not serialise: {e}")))?;
        let name = format!("{:016x}.json", fnv1a(&bytes));
        let path = state_dir.join(&name);
        if !path.exists() {
            atomic::write(&path, &bytes)?;
        }
        refs.insert(id.clone(), name);
    }
    let file = CheckpointFile {
        version: 1,
        checkpoint: Checkpoint { observables: BTreeMap::new(), ..cp },
        observables: refs.clone(),
        records: records.to_vec(),
        config: config.map(str::to_string),
        updates,
    };
    let json =
        serde_json::to_vec(&file).map_err(|e| Error::internal(format!("the checkpoint does not serialise: {e}")))?;
    atomic::write(&dir.join("checkpoint.json"), &json)?;
    // observables no longer referenced are dropped
    if let Ok(entries) = std::fs::read_dir(&state_dir) {
        let keep: std::collections::BTreeSet<&String> = refs.values().collect();
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if is_cached_observable(&n) && !keep.contains(&n) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// Turns a step of a training run into its [`StepRecord`] ([`Training::recorder`]).
#[derive(Debug, Clone)]
pub struct Recorder {
    objectives: Vec<RecordedObjective>,
    weighted: bool,
}

#[derive(Debug, Clone)]
struct RecordedObjective {
    name: String,
    /// Observable names and units.
    observables: Vec<(String, String)>,
    targets: Vec<f64>,
    weight: f64,
}

impl Recorder {
    /// The record of `step`.
    #[must_use]
    pub fn record(&self, step: &Step<'_>) -> StepRecord {
        self.record_output(&step.output, step.params, step.index, step.seconds)
    }

    fn record_output(&self, out: &StepOutput, params: &Params, step: usize, seconds: f64) -> StepRecord {
        let scalar = |obj: &str, name: &str| {
            out.observables.get(obj).and_then(|m| m.get(name)).and_then(Observation::as_scalar).unwrap_or(f64::NAN)
        };
        let mut objectives = BTreeMap::new();
        let mut losses = Vec::new();
        for o in &self.objectives {
            let observables = o
                .observables
                .iter()
                .enumerate()
                .map(|(k, (name, unit))| {
                    let rec = ObservableRecord {
                        value: scalar(&o.name, name),
                        std_err: scalar(&o.name, &format!("{name}_se")),
                        unit: unit.clone(),
                        target: o.targets.get(k).copied(),
                    };
                    (name.clone(), rec)
                })
                .collect();
            let loss = scalar(&o.name, "loss");
            losses.push((loss, o.weight));
            objectives.insert(o.name.clone(), ObjectiveRecord { loss, n_eff: scalar(&o.name, "neff"), observables });
        }
        let loss = if self.weighted {
            losses.iter().map(|(l, w)| l * w).sum()
        } else {
            losses.iter().map(|(l, _)| l).sum::<f64>() / losses.len().max(1) as f64
        };
        let seeds = out
            .state
            .component_state
            .iter()
            .filter_map(|(k, st)| st.get("seed").and_then(serde_json::Value::as_u64).map(|s| (k.clone(), s)))
            .collect();
        StepRecord {
            step,
            loss,
            objectives,
            params: params.clone(),
            grads: out.grads.0.clone(),
            seconds,
            seeds,
            tasks: out.tasks.clone(),
        }
    }
}

/// The run directory as the observer of the run loop: records each step (after the user's
/// observers have seen it), then, once the step passed the NaN policy, appends its line to
/// `metrics.jsonl`, commits the checkpoint and tells the user's observers.
struct RunDir<'a> {
    dir: &'a Path,
    metrics: std::fs::File,
    metrics_path: PathBuf,
    recorder: Recorder,
    /// Every evaluated step (the last one possibly not committed: a non-finite gradient's).
    records: Vec<StepRecord>,
    config: Option<&'a str>,
    /// The planned updates.
    steps: usize,
    observers: &'a mut [Box<dyn Observer>],
}

impl Observer for RunDir<'_> {
    fn on_start(&mut self, first: usize, total: usize) -> Result<()> {
        self.observers.iter_mut().try_for_each(|o| o.on_start(first, total))
    }

    fn on_step(&mut self, step: &mut Step<'_>) -> Result<Control> {
        let mut control = Control::Continue;
        for o in self.observers.iter_mut() {
            if o.on_step(step)? == Control::Stop {
                control = Control::Stop;
            }
        }
        self.records.push(self.recorder.record(step));
        Ok(control)
    }

    fn after_step(&mut self, step: &Step<'_>) -> Result<()> {
        let rec = self.records.last().ok_or_else(|| Error::internal("a step was accepted before it was recorded"))?;
        let line = serde_json::to_string(rec)
            .map_err(|e| Error::internal(format!("a step record does not serialise: {e}")))?;
        writeln!(self.metrics, "{line}")
            .and_then(|()| self.metrics.sync_data())
            .map_err(|e| Error::io("write", &self.metrics_path, e))?;
        // the evaluation of the final parameters before the planned end: an observer stopped the run
        let updates = (!step.update && step.index < self.steps).then_some(step.index);
        commit(self.dir, step.checkpoint()?, &self.records, self.config, updates)?;
        self.observers.iter_mut().try_for_each(|o| o.after_step(step))
    }

    fn on_status(&mut self, status: &str) {
        for o in self.observers.iter_mut() {
            o.on_status(status);
        }
    }

    fn on_finish(&mut self, end: &crate::optimize::RunEnd) -> Result<()> {
        self.observers.iter_mut().try_for_each(|o| o.on_finish(end))
    }
}

/// The files a run writes into its directory (besides `state/`).
pub const RUN_FILES: [&str; 13] = [
    "metrics.jsonl",
    "checkpoint.json",
    "params_initial.toml",
    "params_best.toml",
    "params_final.toml",
    "validation.json",
    "loss.png",
    "observables.png",
    "neff.png",
    "report.html",
    "config.toml",
    "seeds.toml",
    "run.log",
];

/// `checkpoint.json`.
#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    version: u32,
    checkpoint: Checkpoint,
    /// Cached observables: qualified name → file in `state/`.
    observables: BTreeMap<String, String>,
    records: Vec<StepRecord>,
    /// The resolved configuration the run started with (a resumed run must use the same).
    #[serde(default)]
    config: Option<String>,
    /// The updates made by a run an observer stopped early (absent: the planned ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updates: Option<usize>,
}

/// The keys (dotted, `simulator[0].md_steps`) whose values differ between two TOML documents.
fn changed_keys(a: &str, b: &str) -> Vec<String> {
    fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, x) in t {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    flatten(&key, x, out);
                }
            }
            toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {
                for (i, x) in items.iter().enumerate() {
                    flatten(&format!("{prefix}[{i}]"), x, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let table = |text: &str| {
        let mut out = BTreeMap::new();
        match text.parse::<toml::Table>() {
            Ok(t) => flatten("", &toml::Value::Table(t), &mut out),
            Err(_) => {
                out.insert("(the whole file: it does not parse)".to_string(), text.to_string());
            }
        }
        out
    };
    let (a, b) = (table(a), table(b));
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).cloned().collect()
}

/// Whether a file name in `state/` is one of the run's cached observables (`{:016x}.json`, its
/// content hash): only those are ever removed.
fn is_cached_observable(name: &str) -> bool {
    name.len() == 21 && name.ends_with(".json") && name.as_bytes()[..16].iter().all(u8::is_ascii_hexdigit)
}

/// FNV-1a, 64 bits: content addresses of cached observables.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The records of a run directory so far (its `metrics.jsonl`, also while the run goes on).
pub fn read_records(dir: &Path) -> Result<Vec<StepRecord>> {
    let path = dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| {
            serde_json::from_str(l).map_err(|e| Error::parse(&path, k + 1, "a step record (JSON)", e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An objective that reports no n_eff or loss leaves NaN in its record: written `null`, read
    /// back as NaN, so `metrics.jsonl` (and the report built from it) still loads.
    #[test]
    fn records_without_n_eff_or_loss_read_back() {
        let rec = StepRecord {
            step: 0,
            loss: f64::NAN,
            objectives: BTreeMap::from([(
                "o".to_string(),
                ObjectiveRecord { loss: f64::NAN, n_eff: f64::NAN, observables: BTreeMap::new() },
            )]),
            params: BTreeMap::new(),
            grads: BTreeMap::new(),
            seconds: 0.0,
            seeds: BTreeMap::new(),
            tasks: Vec::new(),
        };
        let line = serde_json::to_string(&rec).unwrap();
        assert!(line.contains("\"n_eff\":null"), "{line}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("metrics.jsonl"), format!("{line}\n")).unwrap();
        let back = read_records(dir.path()).unwrap();
        assert!(
            back[0].loss.is_nan() && back[0].objectives["o"].n_eff.is_nan() && back[0].objectives["o"].loss.is_nan()
        );
    }
}
