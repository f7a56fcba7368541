//! The one run loop's observers: what hears about each step of [`Optimization::run_with`](super::Optimization::run_with) (and
//! so of [`Optimization::run`](super::Optimization::run) and of a training run): progress bars, metrics, checkpoints,
//! reports, early stopping, mythos-style callbacks that replace a step's output, and the NaN
//! policy. Every hook does nothing by default, so an observer is a few lines:
//!
//! ```
//! use oxgrad::optimize::{Control, Observer, Step};
//!
//! /// Stops the run once the loss falls below a threshold.
//! struct StopBelow(f64);
//! impl Observer for StopBelow {
//!     fn on_step(&mut self, step: &mut Step<'_>) -> oxgrad::Result<Control> {
//!         let loss = step.output.scalars().get("fit.loss").copied().unwrap_or(f64::INFINITY);
//!         Ok(if loss < self.0 { Control::Stop } else { Control::Continue })
//!     }
//! }
//! ```
//!
//! After each step the loop calls, in order:
//!
//! 1. every observer's [`Observer::on_step`], in the order they were added: each may edit the
//!    step's output (the next step starts from the edited parameters and state) and ask the run
//!    to stop; every observer hears every step, and a stop takes effect once all have;
//! 2. the NaN policy, [`FiniteGradients`], always last: a NaN or infinite gradient ends the run
//!    with [`Error::NonFiniteGradient`], whatever an observer asked (the step is not accepted);
//! 3. every observer's [`Observer::after_step`]: the step is the run's (a training run has
//!    committed it to its directory).
//!
//! An error from any hook ends the run with that error.

use super::checkpoint::{self, Checkpoint};
use super::scheduler::{OptimizerState, StepOutput};
use super::store::ObjectStore;
use crate::component::Params;
use crate::error::{Error, Result};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What an observer asks of the run after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Go on.
    #[default]
    Continue,
    /// Make no further update: the run ends after this step (a run that evaluates its last
    /// parameters, as a training run does, evaluates them first).
    Stop,
}

/// One step of a run, as its observers see it.
pub struct Step<'a> {
    /// The step's index (0 = the first; a resumed run starts at its first step not committed).
    pub index: usize,
    /// The updates the run was planned to make.
    pub total: usize,
    /// Whether the step updated the parameters (`false`: the evaluation of the final ones).
    pub update: bool,
    /// The parameters the step evaluated.
    pub params: &'a Params,
    /// The step's output; an observer's [`Observer::on_step`] may replace or edit it.
    pub output: StepOutput,
    /// Seconds the step took.
    pub seconds: f64,
    pub(crate) store: &'a ObjectStore,
}

impl Step<'_> {
    /// The checkpoint after this step: the output's parameters and state, with the cached
    /// observables copied out of the object store.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        checkpoint::snapshot(self.store, &self.output.params, &self.output.state)
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// All steps ran.
    Completed,
    /// An observer (or the callback) asked to stop.
    EarlyStop,
    /// A stop request ([`RunPlan::stop_on`]) came before a step, or during one (which is then
    /// abandoned: it is not in the result, and a resumed run does it again).
    Interrupted,
}

/// Where a run starts and how far it goes: the input of
/// [`Optimization::run_with`](super::Optimization::run_with).
#[derive(Debug, Clone)]
#[must_use]
pub struct RunPlan {
    /// The parameters the first step evaluates.
    pub params: Params,
    /// The optimizer's state before it.
    pub state: OptimizerState,
    /// The first step's index.
    pub first: usize,
    /// The updates to make (the steps `0 .. steps`).
    pub steps: usize,
    /// Whether the parameters after the last update are evaluated too (as step `steps`, which
    /// does not update), so the run's final parameters are ones it has measured.
    pub evaluate_last: bool,
    /// Checked before each step and when a step fails.
    pub stop: Option<Arc<AtomicBool>>,
}

impl RunPlan {
    /// `steps` updates from `params`, from the start.
    pub fn new(params: Params, steps: usize) -> RunPlan {
        RunPlan { params, state: OptimizerState::default(), first: 0, steps, evaluate_last: false, stop: None }
    }

    /// Continues a run whose steps before `first` are done, from their state.
    pub fn resume(mut self, first: usize, state: OptimizerState) -> RunPlan {
        self.first = first;
        self.state = state;
        self
    }

    /// Evaluates the final parameters too (see [`RunPlan::evaluate_last`]).
    pub fn evaluate_last(mut self) -> RunPlan {
        self.evaluate_last = true;
        self
    }

    /// Ends the run ([`Termination::Interrupted`]) when `flag` is set before a step, or when a
    /// step fails while it is set (e.g. native MD that stopped on the request).
    pub fn stop_on(mut self, flag: Arc<AtomicBool>) -> RunPlan {
        self.stop = Some(flag);
        self
    }
}

/// How a run ended: the output of
/// [`Optimization::run_with`](super::Optimization::run_with).
#[derive(Debug, Clone)]
pub struct RunEnd {
    /// The parameters the next step would start from.
    pub params: Params,
    /// The optimizer's state (`state.step` is the number of updates made).
    pub state: OptimizerState,
    /// The last accepted step's output (none when no step ran).
    pub last: Option<StepOutput>,
    /// The index of the first step not done.
    pub next: usize,
    /// Why it ended.
    pub termination: Termination,
}

/// What hears about a run. Every method does nothing by default.
pub trait Observer {
    /// The run starts at step `first` of `total` planned updates.
    fn on_start(&mut self, _first: usize, _total: usize) -> Result<()> {
        Ok(())
    }
    /// A step ran: edit its output or ask to stop (see the [module docs](self)).
    fn on_step(&mut self, _step: &mut Step<'_>) -> Result<Control> {
        Ok(Control::Continue)
    }
    /// The step passed the NaN policy and is the run's.
    fn after_step(&mut self, _step: &Step<'_>) -> Result<()> {
        Ok(())
    }
    /// A message about work outside the steps (e.g. a training run's validation).
    fn on_status(&mut self, _status: &str) {}
    /// The run ended without an error.
    fn on_finish(&mut self, _end: &RunEnd) -> Result<()> {
        Ok(())
    }
}

/// The NaN policy: a NaN or infinite aggregated gradient ends the run with
/// [`Error::NonFiniteGradient`] (the update rule never applied it). The loop runs it after
/// every other observer's [`Observer::on_step`], so no observer can stop or replace its way
/// past it.
#[derive(Debug, Clone, Copy, Default)]
pub struct FiniteGradients;

impl Observer for FiniteGradients {
    fn on_step(&mut self, step: &mut Step<'_>) -> Result<Control> {
        match step.output.grads.first_non_finite() {
            Some((name, value)) => Err(Error::NonFiniteGradient { step: step.index, param: name.to_string(), value }),
            None => Ok(Control::Continue),
        }
    }
}

/// A mythos-style callback after each step: receives the step's output and index, returns an
/// optional replacement output and whether to keep going.
pub type Callback<'a> = &'a mut dyn FnMut(&StepOutput, usize) -> (Option<StepOutput>, bool);

/// A [`Callback`] as an observer.
pub struct CallbackObserver<'a>(pub Callback<'a>);

impl Observer for CallbackObserver<'_> {
    fn on_step(&mut self, step: &mut Step<'_>) -> Result<Control> {
        let (replacement, keep_going) = (self.0)(&step.output, step.index);
        if let Some(r) = replacement {
            step.output = r;
        }
        Ok(if keep_going { Control::Continue } else { Control::Stop })
    }
}
