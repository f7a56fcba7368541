//! Worker mode: the task side of the [`super::ProcessPool`].
//!
//! The pool starts your own program again (the same executable and arguments, or those set with
//! [`super::ProcessPool::worker_args`]) with the environment variable [`WORKER_ENV`] naming a
//! job file in the spool directory. The program runs as usual until its optimization starts
//! ([`crate::optimize::Optimization::run`], `step`, `evaluate`, or
//! [`crate::optimize::Optimization::serve_if_worker`]); there, instead of driving, it runs the
//! one task the job file names with its own simulators and objectives, writes the result beside
//! the job file and exits. So components built in Rust — closures, custom objectives — run in
//! workers exactly as the driver built them, provided the program builds the same optimization
//! each time (the same components in the same order: the worker checks the component's name).
//!
//! Work the program does *before* building its optimization runs again in every worker: keep it
//! cheap, or skip it when [`is_worker`] is true.
//!
//! Files (CBOR, [`crate::optimize::store::write_object`]): `job-N.cbor` (the task, its
//! parameters, state, and the paths of its input observables), `job-N.result.cbor` (the result),
//! `obs-N-K.cbor` (the K-th observable a simulator produced). Observables go from worker to
//! worker by path: the driver never reads them.

use super::{JobKind, Registry};
use crate::component::{ObjectiveOutput, Observation, Params, State};
use crate::error::{Error, Result};
use crate::optimize::store::{read_object, write_object};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The environment variable that makes a program a worker: the path of its job file.
pub const WORKER_ENV: &str = "OXGRAD_WORKER";

/// Whether this process was started as a worker of a [`super::ProcessPool`].
#[must_use]
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some()
}

/// One task, as the driver hands it to a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WorkerJob {
    pub task: String,
    /// The component's name, checked against the worker's own.
    pub component: String,
    /// Every simulator's and objective's name, in order: the worker's optimization must match.
    pub components: Vec<String>,
    pub kind: WireKind,
    pub params: Params,
    pub state: State,
    pub step: usize,
    pub attempt: u32,
    pub env: Vec<(String, String)>,
    /// Where to write the result and, for a simulator, its observables (`PREFIX.result.cbor`,
    /// `obs-…`).
    pub result: PathBuf,
    pub objects: PathBuf,
}

/// What the job runs; inputs by path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum WireKind {
    Simulate { index: usize },
    Calculate { index: usize, inputs: Vec<PathBuf> },
}

/// The worker's answer, its own peak resident memory (`VmHWM`, MB) and the CPU time it used
/// (seconds; `None` where the system does not say): exact even for a worker that ends before the
/// driver's sampling sees it, and the only measure of a Slurm step, which runs on another node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WorkerReport {
    pub result: WorkerResult,
    pub peak_mem_mb: Option<f64>,
    pub cpu_seconds: Option<f64>,
}

/// What the task gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum WorkerResult {
    /// The simulator's observables, one file each, and its new state.
    Simulated { files: Vec<PathBuf>, state: State },
    /// The objective's output.
    Calculated(ObjectiveOutput),
    /// The task failed: its error, with causes.
    Failed(String),
}

/// Serves the job named by [`WORKER_ENV`] with `registry`'s components and exits the process:
/// status 0 when the task succeeded, 1 when it failed (the result file says why), 2 when the job
/// could not be read or its result not written (stderr says why).
pub(crate) fn serve(registry: &Registry) -> ! {
    let Some(path) = std::env::var_os(WORKER_ENV).map(PathBuf::from) else { std::process::exit(2) };
    let code = match serve_job(registry, &path) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("oxgrad worker: {e}");
            2
        }
    };
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}

fn serve_job(registry: &Registry, path: &Path) -> Result<bool> {
    let wj: WorkerJob = read_object(path)?;
    // the driver holds the other end of stdin: when it dies, so does this worker
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        std::process::exit(3);
    });
    let ours = registry.component_names();
    if ours != wj.components {
        return Err(Error::mismatch(
            "worker",
            format!(
                "the driver's optimization has the components {:?} and this program's has {:?}: a worker must build the same optimization as its driver (same components, same order)",
                wj.components, ours
            ),
        ));
    }
    tracing::debug!("worker pid {} runs {} (attempt {})", std::process::id(), wj.task, wj.attempt);
    let (kind, inputs) = match &wj.kind {
        WireKind::Simulate { index } => (JobKind::Simulate { index: *index }, Vec::new()),
        WireKind::Calculate { index, inputs } => {
            (JobKind::Calculate { index: *index, inputs: Vec::new() }, inputs.clone())
        }
    };
    let found = registry.component_name(&kind)?;
    if found != wj.component {
        return Err(Error::mismatch(
            "worker",
            format!(
                "the driver's task '{}' runs '{}', and this program's component at that place is '{found}': a worker must build the same optimization as its driver (same components, same order)",
                wj.task, wj.component
            ),
        ));
    }
    let job = super::Job {
        id: 0,
        task: wj.task.clone(),
        kind: kind.clone(),
        params: Arc::new(wj.params.clone()),
        state: wj.state.clone(),
        step: wj.step,
        resources: super::Resources::default(),
        max_retries: 0,
        attempts_made: 0,
        env: Vec::new(),
        options: serde_json::Map::new(),
    };
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<WorkerResult> {
        match kind {
            JobKind::Simulate { index } => {
                let out = registry.simulate(&job, index, wj.attempt, wj.env.clone())?;
                let mut files = Vec::with_capacity(out.observables.len());
                for (k, o) in out.observables.iter().enumerate() {
                    let f = PathBuf::from(format!("{}-{k}.cbor", wj.objects.display()));
                    write_object(&f, o)?;
                    files.push(f);
                }
                Ok(WorkerResult::Simulated { files, state: out.state })
            }
            JobKind::Calculate { index, .. } => {
                let values =
                    inputs.iter().map(|p| read_object::<Observation>(p).map(Arc::new)).collect::<Result<Vec<_>>>()?;
                Ok(WorkerResult::Calculated(registry.calculate(&job, index, &values, wj.attempt, wj.env.clone())?))
            }
        }
    }));
    let result = match run {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => WorkerResult::Failed(chain(&e)),
        Err(p) => WorkerResult::Failed(format!("panicked: {}", super::panic_message(p.as_ref()))),
    };
    let ok = !matches!(result, WorkerResult::Failed(_));
    write_object(&wj.result, &WorkerReport { result, peak_mem_mb: own_peak_mem_mb(), cpu_seconds: own_cpu_seconds() })?;
    Ok(ok)
}

/// The CPU time this process has used, seconds: user and system time of all its threads and of
/// the children it waited for (`/proc/self/stat` fields 14–17, in Linux's fixed 100 ticks per
/// second, `USER_HZ`).
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11..15)?.iter().map(|t| t.parse::<f64>().ok()).sum::<Option<f64>>()?;
    Some(ticks / 100.0)
}

/// This process's peak resident memory so far (`VmHWM` of `/proc/self/status`), MB.
fn own_peak_mem_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim();
    kb.parse::<f64>().ok().map(|kb| kb / 1024.0)
}

/// An error and its causes, as one line.
fn chain(e: &Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let c_text = c.to_string();
        if !s.contains(&c_text) {
            s.push_str(": ");
            s.push_str(&c_text);
        }
        src = c.source();
    }
    s
}
