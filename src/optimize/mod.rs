//! The parallel optimizer: simulators and objectives as scheduled tasks, gradient aggregation,
//! parameter updates, and the one run loop ([`Optimization::run_with`]) whose [`Observer`]s
//! are progress, metrics, checkpoints, early stopping, callbacks and the NaN policy — mythos'
//! `RayOptimizer`, natively. Training runs ([`crate::train`]) use the same loop.
//!
//! ```
//! use oxgrad::optimize::*;
//! use oxgrad::params::ParamGrads;
//! use std::sync::Arc;
//!
//! // a "simulator" whose observable is 2θ, and an objective with loss (obs − 4)²
//! struct Double;
//! impl Simulator for Double {
//!     fn name(&self) -> &str { "double" }
//!     fn kind(&self) -> &str { "Analytic" }
//!     fn produces(&self) -> Vec<String> { vec!["value".into()] }
//!     fn run(&self, _: &TaskContext, p: &Params, _: &State) -> oxgrad::Result<SimOutput> {
//!         Ok(SimOutput { observables: vec![Observation::Scalar(2.0 * p["theta"])], state: State::new() })
//!     }
//! }
//! let id = ObservableId::new("value", "Analytic", "double");
//! let loss = GenericObjective::new("fit", vec![id], |obs, _| {
//!     let x = obs[0].as_scalar().unwrap();
//!     Ok((ParamGrads([("theta".to_string(), 2.0 * (x - 4.0) * 2.0)].into()), Default::default()))
//! })
//! .resimulate_each_step(); // a new sample at every step
//! let result = Optimization::new(UpdateRule::sgd(0.05)?)
//!     .simulator(Double)
//!     .objective(loss)
//!     .aggregate(Aggregate::Passthrough)
//!     .run([("theta".to_string(), 0.0)].into(), 40, None)?;
//! assert!((result.params["theta"] - 2.0).abs() < 1e-3);
//! # Ok::<(), oxgrad::Error>(())
//! ```

pub mod aggregate;
pub mod checkpoint;
pub mod executor;
pub mod observer;
mod scheduler;
pub mod store;
pub mod update;

pub use crate::component::{
    check_name, create_n, create_n_names, hints, stop_flag, stop_requested, GenericObjective, Objective,
    ObjectiveOutput, ObservableId, Observation, Params, SchedulerHints, SimOutput, Simulator, State, TaskContext,
};
pub use aggregate::Aggregate;
pub use checkpoint::Checkpoint;
pub use executor::{Executor, Finished, Inline, Launcher, LocalPool, Pool, ProcessPool, TaskRun, Threads, Workers};
pub use observer::{
    Callback, CallbackObserver, Control, FiniteGradients, Observer, RunEnd, RunPlan, Step, Termination,
};
pub use scheduler::{OptimizerState, StepOutput};
pub use update::{UpdateRule, UpdateState};

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The outcome of [`Optimization::run`].
#[derive(Debug, Clone)]
pub struct OptimizationResult {
    /// The final parameters.
    pub params: Params,
    /// The last step's output.
    pub last: StepOutput,
    /// Steps completed.
    pub steps: usize,
    /// Why it ended.
    pub termination: Termination,
}

/// An optimisation: simulators, objectives, an aggregation, an update rule and an executor.
#[must_use = "an Optimization does nothing until .run() or .step()"]
pub struct Optimization {
    pub(crate) simulators: Vec<Arc<dyn Simulator>>,
    pub(crate) objectives: Vec<Arc<dyn Objective>>,
    pub(crate) aggregate: Option<Aggregate>,
    pub(crate) update: UpdateRule,
    pub(crate) executor: Box<dyn Executor>,
    pub(crate) defaults: serde_json::Map<String, serde_json::Value>,
    pub(crate) max_calls: usize,
    pub(crate) store: Arc<store::ObjectStore>,
    observers: Vec<Box<dyn Observer + Send>>,
    started: bool,
}

impl Optimization {
    /// An optimisation with `update`, the local thread pool and no components yet.
    pub fn new(update: UpdateRule) -> Optimization {
        Optimization {
            simulators: Vec::new(),
            objectives: Vec::new(),
            aggregate: None,
            update,
            executor: Box::new(LocalPool::new()),
            defaults: serde_json::Map::new(),
            max_calls: 2,
            store: Arc::new(store::ObjectStore::default()),
            observers: Vec::new(),
            started: false,
        }
    }

    /// Adds a simulator.
    pub fn simulator(mut self, s: impl Simulator + 'static) -> Self {
        self.simulators.push(Arc::new(s));
        self
    }

    /// Adds simulators (e.g. from [`create_n`]).
    pub fn simulators<S: Simulator + 'static>(mut self, s: impl IntoIterator<Item = S>) -> Self {
        self.simulators.extend(s.into_iter().map(|s| Arc::new(s) as Arc<dyn Simulator>));
        self
    }

    /// Adds a simulator shared with the caller.
    pub fn add_simulator(mut self, s: Arc<dyn Simulator>) -> Self {
        self.simulators.push(s);
        self
    }

    /// Adds an objective.
    pub fn objective(mut self, o: impl Objective + 'static) -> Self {
        self.objectives.push(Arc::new(o));
        self
    }

    /// Adds an objective shared with the caller.
    pub fn add_objective(mut self, o: Arc<dyn Objective>) -> Self {
        self.objectives.push(o);
        self
    }

    /// Sets the gradient aggregation.
    pub fn aggregate(mut self, a: Aggregate) -> Self {
        self.aggregate = Some(a);
        self
    }

    /// Sets the executor (default: [`LocalPool::new`]).
    pub fn executor(mut self, e: impl Executor + 'static) -> Self {
        self.executor = Box::new(e);
        self
    }

    /// Adds an observer of every run of this optimisation (after those a run is given: the
    /// callback of [`Optimization::run`], a training run's own).
    pub fn observe(mut self, o: impl Observer + Send + 'static) -> Self {
        self.observers.push(Box::new(o));
        self
    }

    /// The observers added with [`Optimization::observe`], taken out (a training run calls
    /// them itself, in its order).
    pub(crate) fn take_observers(&mut self) -> Vec<Box<dyn Observer + Send>> {
        std::mem::take(&mut self.observers)
    }

    /// Options every task starts from; per-unit hints override them (mythos'
    /// `remote_options_default`), e.g. `{"num_cpus": 2}`.
    pub fn remote_options_default(mut self, defaults: serde_json::Map<String, serde_json::Value>) -> Self {
        self.defaults = defaults;
        self
    }

    /// Calls allowed per objective per step before it counts as unresolved (default 2: one with
    /// cached data, one after fresh simulation).
    pub fn max_objective_calls(mut self, n: usize) -> Self {
        self.max_calls = n.max(1);
        self
    }

    /// The gradient aggregation, once set.
    #[must_use]
    pub fn aggregation(&self) -> Option<&Aggregate> {
        self.aggregate.as_ref()
    }

    /// Checks the configuration (mythos' order and messages).
    fn validate(&self) -> Result<()> {
        let config = |msg: &str| Error::Optimization { msg: msg.to_string() };
        if self.objectives.is_empty() {
            return Err(config("At least one objective is required."));
        }
        if self.simulators.is_empty() {
            return Err(config("At least one simulator is required."));
        }
        let Some(agg) = &self.aggregate else {
            return Err(config("An aggregate gradient function is required."));
        };
        agg.check(self.objectives.len())?;
        for o in &self.objectives {
            crate::component::check_name("objective", o.name())?;
        }
        for s in &self.simulators {
            crate::component::check_name("simulator", s.name())?;
        }
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let names =
            self.objectives.iter().map(|o| o.name().to_string()).chain(self.simulators.iter().flat_map(|s| {
                std::iter::once(s.name().to_string()).chain(s.exposes().into_iter().map(|e| e.to_string()))
            }));
        for n in names {
            *seen.entry(n).or_insert(0) += 1;
        }
        let dups: Vec<String> = seen.into_iter().filter(|(_, c)| *c > 1).map(|(n, _)| n).collect();
        if !dups.is_empty() {
            return Err(config(&format!(
                "All objective, simulator, and exposes names must be unique (duplicated: {})",
                dups.join(", ")
            )));
        }
        for o in &self.objectives {
            for id in o.required_observables() {
                if !self.simulators.iter().any(|s| s.exposes().contains(&id)) {
                    return Err(config(&format!("objective '{}' requires {id}, which no simulator exposes", o.name())));
                }
            }
        }
        Ok(())
    }

    fn registry(&self) -> executor::Registry {
        executor::Registry {
            simulators: self.simulators.clone(),
            objectives: self.objectives.clone(),
            store: Arc::clone(&self.store),
        }
    }

    fn start(&mut self) -> Result<()> {
        if !self.started {
            self.validate()?;
            // threads run nothing in workers: only an optimization that starts workers serves
            if self.executor.engine() != "local" {
                self.serve_if_worker();
            }
            self.executor.start(Arc::new(self.registry()))?;
            self.started = true;
        }
        Ok(())
    }

    /// In a worker of a [`ProcessPool`] ([`executor::worker::is_worker`]): runs the one task the
    /// driver sent and exits the process. Otherwise does nothing. `run`, `step` and `evaluate`
    /// of an optimization on worker processes call it first (one on threads never does); call it
    /// yourself where your program would otherwise do work a worker must
    /// not repeat (write files, print results) before it runs the optimization.
    pub fn serve_if_worker(&self) {
        if executor::worker::is_worker() {
            executor::worker::serve(&self.registry());
        }
    }

    /// One optimisation step from `params` and `state`.
    pub fn step(&mut self, params: &Params, state: OptimizerState) -> Result<StepOutput> {
        self.start()?;
        scheduler::step(self, params, state, true)
    }

    /// Evaluates the objectives at `params` (simulating what they need) without updating:
    /// the output's `params` are `params`, its gradients those at `params`. A run's last
    /// parameters are evaluated this way, so the parameters it saves are ones it has measured.
    pub fn evaluate(&mut self, params: &Params, state: OptimizerState) -> Result<StepOutput> {
        self.start()?;
        scheduler::step(self, params, state, false)
    }

    /// Runs `n_steps` steps (at least 1) from `params`: [`Optimization::run_with`] with the
    /// callback (if any) as the first observer. After each step the callback may replace the
    /// output and stop the run; a NaN or infinite gradient stops it with an error, whatever the
    /// callback said ([`FiniteGradients`]).
    pub fn run(mut self, params: Params, n_steps: usize, callback: Option<Callback<'_>>) -> Result<OptimizationResult> {
        if n_steps < 1 {
            return Err(Error::invalid("n_steps", n_steps, "n_steps must be at least 1."));
        }
        let mut callback = callback.map(CallbackObserver);
        let mut observers: Vec<&mut dyn Observer> = Vec::new();
        if let Some(cb) = callback.as_mut() {
            observers.push(cb);
        }
        let end = self.run_with(RunPlan::new(params, n_steps), &mut observers)?;
        let last = end.last.ok_or_else(|| Error::Stopped { what: "the first step of the optimisation".into() })?;
        Ok(OptimizationResult { params: end.params, last, steps: end.next, termination: end.termination })
    }

    /// The run loop (the only one: [`Optimization::run`] and training runs use it). Runs the
    /// steps `plan` describes; after each one tells `observers`, then the optimisation's own
    /// ([`Optimization::observe`]), then the NaN policy ([`FiniteGradients`]), as the
    /// [`observer`] module describes. Ends when the steps are done, an observer asks to stop
    /// (the parameters are then evaluated first if the plan says so), a stop request comes
    /// ([`Termination::Interrupted`]: the step under way is abandoned) or a hook fails.
    pub fn run_with(&mut self, plan: RunPlan, observers: &mut [&mut dyn Observer]) -> Result<RunEnd> {
        let mut own = std::mem::take(&mut self.observers);
        let end = self.drive(plan, observers, &mut own);
        self.observers = own;
        end
    }

    fn drive(
        &mut self,
        plan: RunPlan,
        observers: &mut [&mut dyn Observer],
        own: &mut [Box<dyn Observer + Send>],
    ) -> Result<RunEnd> {
        use std::sync::atomic::Ordering;
        let RunPlan { mut params, mut state, first, steps, evaluate_last, stop } = plan;
        let mut nan = FiniteGradients;
        macro_rules! each {
            (|$o:ident| $body:expr) => {{
                for $o in observers.iter_mut() {
                    $body;
                }
                for $o in own.iter_mut() {
                    $body;
                }
            }};
        }
        each!(|o| o.on_start(first, steps)?);
        let stopping = || stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst));
        let (mut updates_end, mut index, mut last, mut termination) = (steps, first, None, Termination::Completed);
        while index < updates_end || (evaluate_last && index == updates_end) {
            if stopping() {
                termination = Termination::Interrupted;
                break;
            }
            let update = index < updates_end;
            let t = std::time::Instant::now();
            let out = if update { self.step(&params, state.clone()) } else { self.evaluate(&params, state.clone()) };
            let output = match out {
                // work abandoned on a stop request: the step is not done, a resumed run redoes it
                Err(_) if stopping() => {
                    termination = Termination::Interrupted;
                    break;
                }
                out => out?,
            };
            let mut step = Step {
                index,
                total: steps,
                update,
                params: &params,
                output,
                seconds: t.elapsed().as_secs_f64(),
                store: &self.store,
            };
            let mut control = Control::Continue;
            each!(|o| if o.on_step(&mut step)? == Control::Stop {
                control = Control::Stop;
            });
            nan.on_step(&mut step)?;
            each!(|o| o.after_step(&step)?);
            let output = step.output;
            params = output.params.clone();
            state = output.state.clone();
            last = Some(output);
            index += 1;
            if control == Control::Stop && update {
                tracing::info!(step = index - 1, "early stopping");
                termination = Termination::EarlyStop;
                updates_end = index;
            }
        }
        let end = RunEnd { params, state, last, next: index, termination };
        each!(|o| o.on_finish(&end)?);
        Ok(end)
    }
}
