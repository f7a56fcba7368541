//! Training runs from a configuration ([`crate::config`]): the optimisation, a run directory
//! with everything a user checks afterwards, and a validation that the fit holds up.
//!
//! A run evaluates the loss at each step's parameters θ_k (DiffTRe on the current trajectories,
//! re-simulating when the effective sample size drops), updates to θ_{k+1}, and after the last
//! update evaluates θ_N too: every saved parameter set has been measured. The best step is the
//! one with the lowest estimated loss. Then fresh simulations with the best and with the initial
//! parameters (same seeds for both, so their difference is not seed noise) give each observable
//! with a block-jackknife standard error: the independent check of the fit.
//!
//! The run directory:
//!
//! | file | content |
//! |---|---|
//! | `config.toml` | the configuration with every default written out |
//! | `seeds.toml` | the master seed of every simulator and of the validation |
//! | `metrics.jsonl` | one JSON object per evaluated step: loss, each observable ± error, n_eff, parameters, gradients, timings |
//! | `params_initial.toml`, `params_best.toml`, `params_final.toml` | complete parameter files (`oxgrad simulate --params`) |
//! | `validation.json` | the validation runs' observables for the initial and best parameters |
//! | `loss.png`, `observables.png`, `neff.png` | plots |

pub mod plot;
pub mod validate;

use crate::config::plan::{Plan, SimulatorKind};
use crate::error::{Error, Result};
use crate::observable::stats::{fmt_sig, Estimate};
use crate::optimize::{Aggregate, LocalPool, Optimization, OptimizerState, Params, StepOutput};
use crate::params::ParamSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
pub use validate::Validation;

/// One observable of one objective at one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservableRecord {
    /// Reweighted estimate.
    pub value: f64,
    /// Its standard error.
    pub std_err: f64,
    /// Its unit.
    pub unit: String,
    /// The target.
    pub target: Option<f64>,
}

/// One objective at one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveRecord {
    /// Its loss.
    pub loss: f64,
    /// Smallest normalised effective sample size.
    pub n_eff: f64,
    /// Observables by name.
    pub observables: BTreeMap<String, ObservableRecord>,
}

/// One line of `metrics.jsonl`: an evaluated step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step whose parameters were evaluated (0 = initial; `steps` = after the last update).
    pub step: usize,
    /// The aggregated loss (mean, weighted sum or the one objective's, as `[aggregate]` says).
    pub loss: f64,
    /// Per objective.
    pub objectives: BTreeMap<String, ObjectiveRecord>,
    /// The evaluated parameter values.
    pub params: BTreeMap<String, f64>,
    /// The aggregated gradient at them.
    pub grads: BTreeMap<String, f64>,
    /// Seconds the step took.
    pub seconds: f64,
    /// Seeds of the simulations run during the step, by simulator.
    pub seeds: BTreeMap<String, u64>,
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
    /// MD steps per copy, copies, sampling interval.
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
    /// Updates made.
    pub steps: usize,
    /// Validation per objective (empty when disabled or impossible).
    pub validation: Vec<ValidationRecord>,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Every evaluated step.
    pub records: Vec<StepRecord>,
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
                r.objectives.values().flat_map(|o| o.observables.values().filter_map(|x| x.target.map(fmt_sig))).collect()
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

/// What the caller hears about while a run goes on.
pub trait Progress {
    /// A step was evaluated.
    fn step(&mut self, _record: &StepRecord, _total: usize) {}
    /// The validation started.
    fn validating(&mut self, _runs: usize) {}
}

/// No progress output.
pub struct Quiet;
impl Progress for Quiet {}

fn optimization(plan: &Plan) -> Optimization {
    let mut opt = Optimization::new(plan.update.clone())
        .aggregate(plan.aggregate.clone())
        .executor(LocalPool::with_cpus(plan.cpus))
        .max_objective_calls(plan.file.config.optimizer.max_objective_calls);
    for s in &plan.simulators {
        for sim in s.simulators() {
            opt = opt.add_simulator(sim);
        }
    }
    for o in &plan.objectives {
        opt = opt.add_objective(o.difftre.clone());
    }
    opt
}

/// The gradient at the starting parameters as one JSON object: `{"loss": …, "n_eff": {objective:
/// …}, "grads": {parameter: …}}` (what `oxgrad optimize --gradient-only` prints).
pub fn gradient_only(plan: &Plan) -> Result<serde_json::Value> {
    let mut opt = optimization(plan);
    let out = opt.evaluate(&plan.start(), OptimizerState::default())?;
    let rec = record(plan, &out, &plan.start(), 0, 0.0);
    Ok(serde_json::json!({
        "loss": rec.loss,
        "n_eff": rec.objectives.iter().map(|(k, o)| (k.clone(), o.n_eff)).collect::<BTreeMap<_, _>>(),
        "grads": rec.grads,
    }))
}

fn scalar(out: &StepOutput, obj: &str, name: &str) -> f64 {
    out.observables.get(obj).and_then(|m| m.get(name)).and_then(crate::optimize::Observation::as_scalar).unwrap_or(f64::NAN)
}

fn record(plan: &Plan, out: &StepOutput, params: &Params, step: usize, seconds: f64) -> StepRecord {
    let mut objectives = BTreeMap::new();
    let mut losses = Vec::new();
    for o in &plan.objectives {
        let mut observables = BTreeMap::new();
        for (k, obs) in o.observables.iter().enumerate() {
            observables.insert(
                obs.name().to_string(),
                ObservableRecord {
                    value: scalar(out, &o.name, obs.name()),
                    std_err: scalar(out, &o.name, &format!("{}_se", obs.name())),
                    unit: obs.unit().to_string(),
                    target: o.targets.get(k).copied(),
                },
            );
        }
        let loss = scalar(out, &o.name, "loss");
        losses.push((loss, o.weight));
        objectives.insert(o.name.clone(), ObjectiveRecord { loss, n_eff: scalar(out, &o.name, "neff"), observables });
    }
    let loss = match &plan.aggregate {
        Aggregate::WeightedSum(_) => losses.iter().map(|(l, w)| l * w).sum(),
        _ => losses.iter().map(|(l, _)| l).sum::<f64>() / losses.len().max(1) as f64,
    };
    let seeds = out
        .state
        .component_state
        .iter()
        .filter_map(|(k, st)| st.get("seed").and_then(serde_json::Value::as_u64).map(|s| (k.clone(), s)))
        .collect();
    StepRecord { step, loss, objectives, params: params.clone(), grads: out.grads.0.clone(), seconds, seeds }
}

/// Creates the run directory: it must not hold an earlier run unless `force`.
fn prepare_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.join("metrics.jsonl").exists() && !force {
        return Err(Error::invalid(
            "run directory",
            dir.display(),
            "it holds an earlier run (metrics.jsonl): choose another directory with -o, or pass --force to replace it",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create run directory", dir, e))
}

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    let p = dir.join(name);
    crate::io::atomic::write(&p, text.as_bytes())
}

/// Runs the training of `plan` into `dir` and validates the fit.
pub fn run(plan: &Plan, dir: &Path, force: bool, progress: &mut dyn Progress) -> Result<Summary> {
    prepare_dir(dir, force)?;
    write(dir, "config.toml", &plan.file.resolved_toml())?;
    let mut seeds = toml::Table::new();
    for s in &plan.file.config.simulators {
        if s.kind == "native" {
            seeds.insert(s.name.clone(), toml::Value::Integer(s.seed.unwrap_or(1) as i64));
        }
    }
    seeds.insert("validation".into(), toml::Value::Integer(plan.file.config.validation.seed as i64));
    write(dir, "seeds.toml", &format!("# master seeds; each copy and step derives its own (recorded per step in metrics.jsonl)\n{}", toml::to_string(&seeds).unwrap_or_default()))?;
    write(dir, "params_initial.toml", &plan.params.to_toml_string())?;
    let metrics_path = dir.join("metrics.jsonl");
    let mut metrics = std::io::BufWriter::new(
        std::fs::File::create(&metrics_path).map_err(|e| Error::io("create", &metrics_path, e))?,
    );
    let mut opt = optimization(plan);
    let mut params = plan.start();
    let mut state = OptimizerState::default();
    let mut records: Vec<StepRecord> = Vec::new();
    for step in 0..=plan.steps {
        let t = Instant::now();
        let out = if step < plan.steps { opt.step(&params, state)? } else { opt.evaluate(&params, state)? };
        let rec = record(plan, &out, &params, step, t.elapsed().as_secs_f64());
        let line = serde_json::to_string(&rec).map_err(|e| Error::invalid("metrics", e, "a step record must serialise"))?;
        writeln!(metrics, "{line}").and_then(|()| metrics.flush()).map_err(|e| Error::io("write", &metrics_path, e))?;
        progress.step(&rec, plan.steps);
        records.push(rec);
        if let Some((name, value)) = out.grads.first_non_finite() {
            plot::all(dir, &records, &[]).ok();
            return Err(Error::NonFiniteGradient { step, param: name.to_string(), value });
        }
        params = out.params.clone();
        state = out.state;
    }
    let set = |p: &BTreeMap<String, f64>| -> Result<ParamSet> { plan.params.with_params(p.iter().map(|(k, v)| (k.as_str(), *v))) };
    let best = records
        .iter()
        .filter(|r| r.loss.is_finite())
        .min_by(|a, b| a.loss.total_cmp(&b.loss))
        .map_or(0, |r| r.step);
    let final_set = set(&params)?;
    let best_set = set(&records[best].params)?;
    write(dir, "params_final.toml", &final_set.to_toml_string())?;
    write(dir, "params_best.toml", &best_set.to_toml_string())?;
    let validation = validate_all(plan, &[&plan.params, &best_set], progress)?;
    write(
        dir,
        "validation.json",
        &serde_json::to_string_pretty(&validation).map_err(|e| Error::invalid("validation", e, "must serialise"))?,
    )?;
    plot::all(dir, &records, &validation)?;
    Ok(Summary {
        initial_loss: records[0].loss,
        final_loss: records[plan.steps].loss,
        best_step: best,
        steps: plan.steps,
        validation,
        run_dir: dir.to_path_buf(),
        records,
    })
}

/// Validates every objective that has a native simulator, at `sets` = [initial, best].
fn validate_all(plan: &Plan, sets: &[&ParamSet; 2], progress: &mut dyn Progress) -> Result<Vec<ValidationRecord>> {
    let v = &plan.file.config.validation;
    if !v.enabled {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for o in &plan.objectives {
        let Some(si) = o.validation_simulator else {
            tracing::warn!("objective '{}': no native simulator to validate with (replayed trajectories cannot be re-simulated)", o.name);
            continue;
        };
        let SimulatorKind::Native { copies } = &plan.simulators[si].kind else { continue };
        let template = &copies[0];
        let md_steps = v.md_steps.unwrap_or(4 * template.config().steps);
        let sample_every = v.sample_every.unwrap_or(template.sample_every());
        let mut cfg = template.config().clone();
        cfg.steps = md_steps;
        let sim = template
            .with_config(cfg, sample_every)?
            .equilibration_steps(v.equilibration_steps.unwrap_or(template.equilibration()));
        let n = v.copies.unwrap_or(copies.len().max(2));
        let val = Validation { simulator: sim, copies: n, seed: v.seed, observables: o.observables.clone() };
        progress.validating(2 * n);
        let res = val.run(sets, plan.cpus)?;
        out.push(ValidationRecord {
            objective: o.name.clone(),
            observables: o.observables.iter().map(|x| x.name().to_string()).collect(),
            units: o.observables.iter().map(|x| x.unit().to_string()).collect(),
            targets: o.targets.clone(),
            initial: res[0].clone(),
            best: res[1].clone(),
            md_steps,
            copies: n,
            sample_every,
        });
    }
    Ok(out)
}
