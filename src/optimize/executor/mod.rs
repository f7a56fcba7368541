//! Executors run simulator and objective jobs. A [`Job`] names its component by index and carries
//! plain data (parameters, state, observable handles), never a closure, so the in-process
//! [`Inline`] executor, the thread pool [`LocalPool`] (and later process and Slurm executors) share
//! one scheduler.

mod inline;
mod local;

pub use inline::Inline;
pub use local::LocalPool;

use super::component::{ObjectiveOutput, Params, State, TaskContext};
use super::store::{Handle, ObjectStore};
use super::{Objective, Simulator};
use crate::error::{Error, Result};
use std::sync::Arc;

/// Identifies a submitted job.
pub type JobId = u64;

/// What a job does.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// Run simulator `index`.
    Simulate {
        /// Index into the registry's simulators.
        index: usize,
    },
    /// Run objective `index` on the observables behind `inputs` (required order).
    Calculate {
        /// Index into the registry's objectives.
        index: usize,
        /// Handles of the required observables.
        inputs: Vec<Handle>,
    },
}

/// Resources a job reserves while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Resources {
    /// CPUs.
    pub cpus: f64,
    /// GPUs (fractions share a device).
    pub gpus: f64,
    /// Memory, MB.
    pub mem_mb: f64,
}

/// One unit of work.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// `simulator_run:NAME` or `objective_compute:NAME`.
    pub task: String,
    /// What to run.
    pub kind: JobKind,
    /// Current parameters.
    pub params: Arc<Params>,
    /// The component's state.
    pub state: State,
    /// Optimisation step.
    pub step: usize,
    /// Resources to reserve.
    pub resources: Resources,
    /// Re-runs allowed after a failure.
    pub max_retries: u32,
}

/// What a finished job produced.
#[derive(Debug, Clone)]
pub enum JobOutput {
    /// A simulator's observables (stored; handles in `exposes()` order) and new state.
    Simulated {
        /// Handles in `exposes()` order.
        handles: Vec<Handle>,
        /// The simulator's new state.
        state: State,
    },
    /// An objective's output.
    Calculated(ObjectiveOutput),
}

/// The components and the object store an executor runs jobs against.
pub struct Registry {
    /// Simulators, by index.
    pub simulators: Vec<Arc<dyn Simulator>>,
    /// Objectives, by index.
    pub objectives: Vec<Arc<dyn Objective>>,
    /// Where observables live.
    pub store: Arc<ObjectStore>,
}

impl Registry {
    /// Runs `job` once in the calling thread (attempt `attempt`, environment `env`).
    pub fn execute(&self, job: &Job, attempt: u32, env: Vec<(String, String)>) -> Result<JobOutput> {
        let ctx = TaskContext { task: job.task.clone(), step: job.step, attempt, env };
        match &job.kind {
            JobKind::Simulate { index } => {
                let sim = &self.simulators[*index];
                let span = tracing::info_span!("simulator_run", task = %job.task, attempt);
                let _g = span.enter();
                let out = sim.run(&ctx, &job.params, &job.state)?;
                let expected = sim.exposes().len();
                if out.observables.len() != expected {
                    return Err(Error::invalid(
                        "simulator output",
                        format!("{} observables", out.observables.len()),
                        format!("simulator '{}' exposes {expected}: return one per exposed name, in order", sim.name()),
                    ));
                }
                let handles = out.observables.into_iter().map(|o| self.store.put(o)).collect();
                Ok(JobOutput::Simulated { handles, state: out.state })
            }
            JobKind::Calculate { index, inputs } => {
                let obj = &self.objectives[*index];
                let span = tracing::info_span!("objective_compute", task = %job.task, attempt);
                let _g = span.enter();
                let values = inputs
                    .iter()
                    .map(|h| {
                        self.store.get(*h).ok_or_else(|| {
                            Error::invalid(
                                "observable handle",
                                h.0,
                                "the observable was dropped from the store before use",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(JobOutput::Calculated(obj.calculate(&ctx, &values, &job.params, &job.state)?))
            }
        }
    }

    /// Runs `job` with retries on `worker`, timing it.
    pub fn run_timed(&self, job: &Job, env: &[(String, String)], worker: &str) -> Finished {
        let start = unix_now();
        let (result, attempts) = self.execute_with_retries(job, env);
        let ran = TaskRun {
            task: job.task.clone(),
            step: job.step,
            worker: worker.to_string(),
            start,
            end: unix_now(),
            attempts,
            cpus: job.resources.cpus,
            gpus: job.resources.gpus,
            mem_mb: job.resources.mem_mb,
            ok: result.is_ok(),
        };
        Finished { id: job.id, result, ran }
    }

    /// Runs `job` with retries: on an error or a panic it is run again, up to `max_retries` more
    /// times; the last failure is reported with the task's name. Also returns the attempts made.
    pub fn execute_with_retries(&self, job: &Job, env: &[(String, String)]) -> (Result<JobOutput>, u32) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let run =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.execute(job, attempt, env.to_vec())));
            let err = match run {
                Ok(Ok(out)) => return (Ok(out), attempt),
                Ok(Err(e)) => e,
                Err(panic) => Error::Panicked {
                    message: panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("(no message)")
                        .to_string(),
                },
            };
            if attempt > job.max_retries {
                let failed = Error::TaskFailed { task: job.task.clone(), attempts: attempt, source: Box::new(err) };
                return (Err(failed), attempt);
            }
            tracing::warn!(task = %job.task, attempt, "failed, retrying: {err}");
        }
    }
}

/// Runs jobs. `submit` never blocks on the job; `wait_any` returns one finished job.
pub trait Executor: Send {
    /// The engine name whose `custom` hints apply (`"local"`, `"process"`, `"slurm"`).
    fn engine(&self) -> &'static str;
    /// Attaches the components jobs refer to; called once before the first submit.
    fn start(&mut self, registry: Arc<Registry>) -> Result<()>;
    /// Queues a job; fails at once if it can never run (more resources than exist).
    fn submit(&mut self, job: Job) -> Result<()>;
    /// Blocks until some job finishes; its result after retries, and when and where it ran.
    fn wait_any(&mut self) -> Result<Finished>;
}

/// A finished job: its result after retries, and its run.
#[derive(Debug)]
pub struct Finished {
    /// The job.
    pub id: JobId,
    /// Its output, or the last failure.
    pub result: Result<JobOutput>,
    /// When and where it ran.
    pub ran: TaskRun,
}

/// When, where and with what resources a task ran (for timelines and reports).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskRun {
    /// `simulator_run:NAME` or `objective_compute:NAME`.
    pub task: String,
    /// The optimisation step.
    pub step: usize,
    /// The worker (`thread-0`, `inline`, …).
    pub worker: String,
    /// Start, seconds since the Unix epoch.
    pub start: f64,
    /// End, seconds since the Unix epoch.
    pub end: f64,
    /// Attempts made (retries + 1).
    pub attempts: u32,
    /// CPUs reserved.
    pub cpus: f64,
    /// GPUs reserved.
    pub gpus: f64,
    /// Memory reserved, MB.
    pub mem_mb: f64,
    /// Whether it succeeded.
    pub ok: bool,
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
