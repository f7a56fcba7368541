//! Executors run simulator and objective jobs. A [`Job`] names its component by index and carries
//! plain data (parameters, state, observable handles), never a closure, so one scheduler drives
//! every executor:
//!
//! | executor | engine (`custom` hints) | a task runs | built by |
//! |---|---|---|---|
//! | [`Inline`] | `"local"` | in the calling thread, one at a time | `Inline` |
//! | [`LocalPool`] | `"local"` | on a thread of the driver | [`LocalPool::new`] |
//! | [`ProcessPool`] | `"process"` | in a worker process: your program, re-started | [`ProcessPool::new`] |
//! | [`ProcessPool`] on Slurm | `"slurm"` | in a worker process started as a job step by `srun` | [`ProcessPool::slurm`] |
//!
//! The pools share their resource accounting ([`Pool`]): a task starts when the CPUs, GPUs and
//! memory its hints ask for are free. How a task is started is a [`Launcher`], the extension
//! point for other batch systems.

mod inline;
mod pool;
mod process;
mod slurm;
pub mod worker;

pub use inline::Inline;
pub use pool::{Launcher, LocalPool, Pool, Slot, Threads};
pub use process::{ProcessPool, Workers};

use super::store::{Handle, ObjectStore};
use super::{Objective, Simulator};
use crate::component::{ObjectiveOutput, Observation, Params, SimOutput, State, TaskContext};
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
    /// Attempts already made on a node that was lost (they use none of `max_retries`): the next
    /// attempt is numbered after them.
    pub attempts_made: u32,
    /// The task's own environment variables ([`super::SchedulerHints::env`]).
    pub env: Vec<(String, String)>,
    /// Every resolved option of the task (defaults < hints < `custom[engine]` < fixed keys):
    /// what a launcher passes on, e.g. `custom.slurm` options to `srun`.
    pub options: serde_json::Map<String, serde_json::Value>,
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

/// What a task of `job` knows about itself: its name, step, attempt and the environment its
/// child processes get (never the worker marker: a program the task starts is not a worker).
fn task_context(job: &Job, attempt: u32, env: Vec<(String, String)>) -> TaskContext {
    TaskContext {
        task: job.task.clone(),
        step: job.step,
        attempt,
        env,
        env_remove: vec![worker::WORKER_ENV.to_string()],
    }
}

impl Registry {
    /// Runs simulator job `job` (attempt `attempt`, environment `env`) in the calling thread and
    /// checks it returned one observable per exposed name.
    pub fn simulate(&self, job: &Job, index: usize, attempt: u32, env: Vec<(String, String)>) -> Result<SimOutput> {
        let ctx = task_context(job, attempt, env);
        let sim = self.simulator(index)?;
        let span = tracing::info_span!("simulator_run", task = %job.task, attempt);
        let _g = span.enter();
        let out = sim.run(&ctx, &job.params, &job.state)?;
        let expected = sim.exposes().len();
        if out.observables.len() != expected {
            return Err(Error::mismatch(
                format!("simulator '{}'", sim.name()),
                format!(
                    "it returned {} observables and exposes {expected}: return one per exposed name, in order",
                    out.observables.len()
                ),
            ));
        }
        Ok(out)
    }

    /// Runs objective job `job` on `values` (its required observables, in order).
    pub fn calculate(
        &self,
        job: &Job,
        index: usize,
        values: &[Arc<Observation>],
        attempt: u32,
        env: Vec<(String, String)>,
    ) -> Result<ObjectiveOutput> {
        let ctx = task_context(job, attempt, env);
        let obj = self.objectives.get(index).ok_or_else(|| out_of_range("objective", index))?;
        let span = tracing::info_span!("objective_compute", task = %job.task, attempt);
        let _g = span.enter();
        obj.calculate(&ctx, values, &job.params, &job.state)
    }

    fn simulator(&self, index: usize) -> Result<&Arc<dyn Simulator>> {
        self.simulators.get(index).ok_or_else(|| out_of_range("simulator", index))
    }

    /// Every simulator's and then every objective's name, in order.
    #[must_use]
    pub fn component_names(&self) -> Vec<String> {
        let sims = self.simulators.iter().map(|s| s.name().to_string());
        sims.chain(self.objectives.iter().map(|o| o.name().to_string())).collect()
    }

    /// The name of the component `kind` refers to.
    pub fn component_name(&self, kind: &JobKind) -> Result<&str> {
        match kind {
            JobKind::Simulate { index } => Ok(self.simulator(*index)?.name()),
            JobKind::Calculate { index, .. } => {
                Ok(self.objectives.get(*index).ok_or_else(|| out_of_range("objective", *index))?.name())
            }
        }
    }

    /// Runs `job` once in the calling thread (attempt `attempt`, environment `env`); observables
    /// come from and go to the object store.
    pub fn execute(&self, job: &Job, attempt: u32, env: Vec<(String, String)>) -> Result<JobOutput> {
        match &job.kind {
            JobKind::Simulate { index } => {
                let out = self.simulate(job, *index, attempt, env)?;
                let handles = out.observables.into_iter().map(|o| self.store.put(o)).collect();
                Ok(JobOutput::Simulated { handles, state: out.state })
            }
            JobKind::Calculate { index, inputs } => {
                let values = inputs.iter().map(|h| self.store.fetch(*h)).collect::<Result<Vec<_>>>()?;
                Ok(JobOutput::Calculated(self.calculate(job, *index, &values, attempt, env)?))
            }
        }
    }

    /// Runs `job` with retries on `worker`, timing it.
    pub fn run_timed(&self, job: &Job, env: &[(String, String)], worker: &str) -> Finished {
        run_with_retries(job, worker, |attempt| self.execute(job, attempt, env.to_vec()))
    }
}

fn out_of_range(what: &str, index: usize) -> Error {
    Error::mismatch(
        "worker",
        format!("the job names {what} {index}, which this optimization does not have: a worker must build the same optimization as its driver"),
    )
}

/// Runs `attempt(1)`, `attempt(2)`, … (numbered after `job.attempts_made`) until one succeeds
/// or `job.max_retries` re-runs have failed (an error or a panic counts as a failure; the last is
/// reported with the task's name), and times the whole on `worker`. An attempt that ends with
/// [`Error::NodeLost`] ends the task at once, as it is, for its pool to place it on another node.
/// Launchers call this with their own way of running one attempt.
pub fn run_with_retries(job: &Job, worker: &str, mut attempt: impl FnMut(u32) -> Result<JobOutput>) -> Finished {
    let start = unix_now();
    let mut n = job.attempts_made;
    let result = loop {
        n += 1;
        let err = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| attempt(n))) {
            Ok(Ok(out)) => break Ok(out),
            Ok(Err(e)) => e,
            Err(panic) => Error::Panicked { message: panic_message(panic.as_ref()) },
        };
        if matches!(err, Error::NodeLost { .. }) {
            break Err(err);
        }
        // a stop request is not a failure to retry
        if n - job.attempts_made > job.max_retries || crate::component::stop_requested() {
            break Err(Error::TaskFailed { task: job.task.clone(), attempts: n, source: Box::new(err) });
        }
        tracing::warn!(task = %job.task, attempt = n, "failed, retrying: {err}");
    };
    let ran = TaskRun {
        task: job.task.clone(),
        step: job.step,
        worker: worker.to_string(),
        start,
        end: unix_now(),
        attempts: n,
        cpus: job.resources.cpus,
        gpus: job.resources.gpus,
        mem_mb: job.resources.mem_mb,
        peak_mem_mb: None,
        cpu_seconds: None,
        nodes: Vec::new(),
        ok: result.is_ok(),
    };
    Finished { id: job.id, result, ran }
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
        .to_string()
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

/// A boxed executor is an executor: choose one at run time (`Box<dyn Executor>`).
impl<E: Executor + ?Sized> Executor for Box<E> {
    fn engine(&self) -> &'static str {
        (**self).engine()
    }
    fn start(&mut self, registry: Arc<Registry>) -> Result<()> {
        (**self).start(registry)
    }
    fn submit(&mut self, job: Job) -> Result<()> {
        (**self).submit(job)
    }
    fn wait_any(&mut self) -> Result<Finished> {
        (**self).wait_any()
    }
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
    /// The pool slot that ran it (`thread-0`, `process-1`, `slurm-0`, `inline`, …).
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
    /// The most resident memory its worker process and that process's children used at once,
    /// over its attempts, MB (sampled every 20 ms; measured by the process executor only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_mem_mb: Option<f64>,
    /// CPU time its worker process used (user + system, every thread and every child it waited
    /// for), over its attempts, seconds; measured where a task has a process of its own (the
    /// process and Slurm executors), `None` on threads, which share one process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
    /// The node each attempt ran on (Slurm's node name, as the step's `SLURMD_NODENAME` says),
    /// a node that was lost included; empty off Slurm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// Whether it succeeded.
    pub ok: bool,
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
