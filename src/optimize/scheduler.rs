//! The reactive step (mythos' `RayOptimizer.step`, with three of its faults fixed: an objective
//! is called at most `max_calls` times a step (two by default, as mythos documents but does not
//! do), a not-ready objective drops only the observables it names, and only the producers of
//! missing observables are rerun):
//!
//! 1. every objective without gradients whose required observables are all cached is submitted;
//!    otherwise the simulators producing its *missing* observables are (unless already running);
//! 2. the loop waits for any result and dispatches what became ready;
//! 3. an objective that answers "not ready" loses only the observables it names (`needs_update`),
//!    which are produced afresh; after `max_calls` calls in one step it is unresolved (an error
//!    naming it and what was still missing);
//! 4. the gradients are aggregated in objective order and the update rule applied — never with
//!    non-finite gradients (the run reports those after the callback).

use super::executor::{Job, JobId, JobKind, JobOutput, Resources, TaskRun};
use super::store::Handle;
use super::update::UpdateState;
use super::Optimization;
use crate::component::{ObservableId, Observation, Params, State};
use crate::error::{Error, Result};
use crate::params::ParamGrads;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What the optimizer carries between steps.
#[derive(Debug, Clone, Default)]
pub struct OptimizerState {
    /// Cached observables (handles into the object store).
    pub observables: BTreeMap<ObservableId, Handle>,
    /// Each component's state, by simulator or objective name.
    pub component_state: BTreeMap<String, State>,
    /// The update rule's state.
    pub update: UpdateState,
    /// Steps taken.
    pub step: usize,
}

/// The output of one step.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The aggregated gradients.
    pub grads: ParamGrads,
    /// The parameters after the update (unchanged if a gradient was not finite).
    pub params: Params,
    /// The state for the next step.
    pub state: OptimizerState,
    /// What each objective reported, by objective name.
    pub observables: BTreeMap<String, BTreeMap<String, Observation>>,
    /// Every task the step ran: when, where, with what resources.
    pub tasks: Vec<TaskRun>,
}

impl StepOutput {
    /// Every reported scalar as `objective.name → value` (what loggers record).
    #[must_use]
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (obj, values) in &self.observables {
            for (name, v) in values {
                if let Some(x) = v.as_scalar() {
                    out.insert(format!("{obj}.{name}"), x);
                }
            }
        }
        out
    }
}

enum Producer {
    Simulator(usize),
    Objective(usize),
}

pub(super) fn step(opt: &mut Optimization, params: &Params, state: OptimizerState, apply: bool) -> Result<StepOutput> {
    let mut obs = state.observables.clone();
    let mut cs = state.component_state.clone();
    let shared = Arc::new(params.clone());
    let n_obj = opt.objectives.len();
    let mut calls = vec![0usize; n_obj];
    let mut last_missing: Vec<Vec<ObservableId>> = vec![Vec::new(); n_obj];
    let mut grads: Vec<Option<ParamGrads>> = vec![None; n_obj];
    let mut reported: BTreeMap<String, BTreeMap<String, Observation>> = BTreeMap::new();
    let mut running: HashMap<JobId, Producer> = HashMap::new();
    let mut tasks: Vec<TaskRun> = Vec::new();
    let mut next_id: JobId = (state.step as u64) << 32;
    let engine = opt.executor.engine();
    let exposes: Vec<Vec<ObservableId>> = opt.simulators.iter().map(|s| s.exposes()).collect();

    let mut job = |task: String, kind: JobKind, hints: &super::SchedulerHints, st: State| -> Job {
        next_id += 1;
        let o = hints.resolve(engine, &opt.defaults, &[("name", task.clone().into())]);
        let num = |k: &str, d: f64| o.get(k).and_then(serde_json::Value::as_f64).unwrap_or(d);
        let env = o
            .get("env")
            .and_then(serde_json::Value::as_object)
            .map(|m| {
                m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
            })
            .unwrap_or_default();
        Job {
            id: next_id,
            task,
            kind,
            params: Arc::clone(&shared),
            state: st,
            step: state.step,
            resources: Resources { cpus: num("num_cpus", 1.0), gpus: num("num_gpus", 0.0), mem_mb: num("mem_mb", 0.0) },
            max_retries: num("max_retries", 0.0) as u32,
            attempts_made: 0,
            env,
            options: o,
        }
    };

    loop {
        let busy_sim = |running: &HashMap<JobId, Producer>, i: usize| {
            running.values().any(|p| matches!(p, Producer::Simulator(s) if *s == i))
        };
        for j in 0..n_obj {
            if grads[j].is_some() || running.values().any(|p| matches!(p, Producer::Objective(o) if *o == j)) {
                continue;
            }
            let o = &opt.objectives[j];
            let required = o.required_observables();
            let missing: Vec<ObservableId> = required.iter().filter(|id| !obs.contains_key(*id)).cloned().collect();
            if missing.is_empty() {
                if calls[j] >= opt.max_calls {
                    return Err(Error::ObjectiveUnresolved {
                        name: o.name().to_string(),
                        missing: last_missing[j].iter().map(ToString::to_string).collect(),
                    });
                }
                let inputs: Vec<Handle> = required.iter().map(|id| obs[id]).collect();
                let task = format!("objective_compute:{}", o.name());
                let st = cs.get(o.name()).cloned().unwrap_or_default();
                let jb = job(task, JobKind::Calculate { index: j, inputs }, o.hints(), st);
                running.insert(jb.id, Producer::Objective(j));
                calls[j] += 1;
                opt.executor.submit(jb)?;
            } else {
                for (i, sim) in opt.simulators.iter().enumerate() {
                    if busy_sim(&running, i) || !exposes[i].iter().any(|e| missing.contains(e)) {
                        continue;
                    }
                    let task = format!("simulator_run:{}", sim.name());
                    let st = cs.get(sim.name()).cloned().unwrap_or_default();
                    let jb = job(task, JobKind::Simulate { index: i }, sim.hints(), st);
                    running.insert(jb.id, Producer::Simulator(i));
                    opt.executor.submit(jb)?;
                }
            }
        }
        if running.is_empty() {
            break;
        }
        let finished = opt.executor.wait_any()?;
        let (id, result) = (finished.id, finished.result);
        tasks.push(finished.ran);
        match running.remove(&id) {
            Some(Producer::Simulator(i)) => {
                let JobOutput::Simulated { handles, state: st } = result? else {
                    return Err(Error::internal("a simulator job returned an objective's output"));
                };
                for (eid, h) in exposes[i].iter().zip(handles) {
                    obs.insert(eid.clone(), h);
                }
                cs.insert(opt.simulators[i].name().to_string(), st);
            }
            Some(Producer::Objective(j)) => {
                let JobOutput::Calculated(out) = result? else {
                    return Err(Error::internal("an objective job returned a simulator's output"));
                };
                cs.insert(opt.objectives[j].name().to_string(), out.state);
                if out.is_ready {
                    grads[j] = Some(out.grads.unwrap_or_default());
                    reported.insert(opt.objectives[j].name().to_string(), out.observables);
                } else {
                    // drop only what the objective asks to refresh ; anything that arrived
                    // during this step stays
                    for id in &out.needs_update {
                        obs.remove(id);
                    }
                    last_missing[j] = out.needs_update;
                }
            }
            None => {
                return Err(Error::internal(format!("the executor returned job {id}, which this step did not submit")))
            }
        }
        if grads.iter().all(Option::is_some) && running.is_empty() {
            break;
        }
    }

    let all: Vec<ParamGrads> = grads.into_iter().map(Option::unwrap_or_default).collect();
    let aggregate = opt.aggregate.as_ref().expect("validated: an aggregation is configured");
    let g = aggregate.apply(&all);
    let mut update = state.update.clone();
    let new_params = if !apply || g.first_non_finite().is_some() {
        params.clone()
    } else {
        opt.update.apply(params, &g, &mut update)
    };
    let keep: Vec<Handle> = obs.values().copied().collect();
    opt.store.retain(&keep);
    Ok(StepOutput {
        grads: g,
        params: new_params,
        state: OptimizerState { observables: obs, component_state: cs, update, step: state.step + usize::from(apply) },
        observables: reported,
        tasks,
    })
}
