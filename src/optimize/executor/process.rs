//! The process pool: every task runs in a worker process of its own — your program, started
//! again in worker mode ([`super::worker`]) — so an abort, a segfault, an out-of-memory kill or a
//! `SIGKILL` ends one attempt of one task, never the run. The task is retried as its
//! `max_retries` hint allows, then reported with its name, how the worker ended and the end of
//! its stderr.
//!
//! - **Environment**: a worker's own environment is its task's: `OMP_NUM_THREADS` and
//!   `RAYON_NUM_THREADS` from `num_cpus`, `CUDA_VISIBLE_DEVICES` from `num_gpus`, the pool's
//!   variables ([`super::Pool::env`]), then the task's `env` hint.
//! - **Data**: inputs and results go through a spool directory as binary (CBOR) files; a
//!   simulator's observables stay in the files its worker wrote, and the objective's worker reads
//!   them there: the driver handles paths, never trajectories.
//! - **Memory**: a task with a `mem_mb` hint is stopped (`SIGKILL`, with every process it
//!   started) when the resident memory of its worker and the worker's children exceeds it
//!   (checked every 20 ms), and reported as such; the driver is not touched.
//! - **Lifetime**: a worker holds a pipe from its driver on stdin and exits when it closes, so
//!   a driver that dies (a second Ctrl-C, `SIGKILL`) leaves no worker behind.
//! - **Threads**: a worker's `RAYON_NUM_THREADS` is its task's `num_cpus` (default 1), so an
//!   objective's energy evaluation uses the CPUs its hints reserve, no more.
//! - **Logs**: each line a worker prints reaches the driver's log (target `oxgrad::worker`),
//!   tagged with the task's name and pool slot (`[simulator_run:duplex.0 on process-1]`).
//!
//! ```no_run
//! use oxgrad::optimize::{Optimization, ProcessPool, UpdateRule};
//! let opt = Optimization::new(UpdateRule::adam(0.01)?).executor(ProcessPool::new()?);
//! # Ok::<(), oxgrad::Error>(())
//! ```

use super::pool::{Launcher, Pool, Slot};
use super::slurm::Srun;
use super::worker::{WireKind, WorkerJob, WorkerReport, WorkerResult, WORKER_ENV};
use super::{run_with_retries, Finished, Job, JobKind, JobOutput, Registry};
use crate::error::{Error, Result};
use crate::optimize::store::{read_object, write_object};
use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::io::BufRead;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Lines of a failed worker's stderr kept for its report.
const TAIL_LINES: usize = 20;

/// Tasks run in worker processes: the [`ProcessPool`]'s launcher (and, through `srun`, the
/// Slurm executor's).
pub struct Workers {
    program: PathBuf,
    args: Vec<OsString>,
    spool: Option<PathBuf>,
    dir: OnceLock<PathBuf>,
    /// Remove the spool's parent too when it is empty (Slurm's default `oxgrad-spool`).
    tidy_parent: bool,
    seq: AtomicU64,
    pub(crate) srun: Option<Srun>,
    live: Mutex<HashSet<u32>>,
}

/// The process pool (and, built with [`ProcessPool::slurm`], the Slurm executor).
pub type ProcessPool = Pool<Workers>;

impl Workers {
    /// Workers that run this program with these arguments.
    pub(crate) fn this_program() -> Result<Workers> {
        let program = std::env::current_exe().map_err(|e| Error::io("find the running program", Path::new("."), e))?;
        Ok(Workers {
            program,
            args: std::env::args_os().skip(1).collect(),
            spool: None,
            dir: OnceLock::new(),
            tidy_parent: false,
            seq: AtomicU64::new(0),
            srun: None,
            live: Mutex::new(HashSet::new()),
        })
    }

    /// The spool directory, once started.
    #[must_use]
    pub fn spool_dir(&self) -> Option<&Path> {
        self.dir.get().map(PathBuf::as_path)
    }

    /// One attempt of `job` in `slot`; under Slurm, a failure whose node was lost is
    /// [`Error::NodeLost`].
    fn attempt(
        &self,
        registry: &Registry,
        job: &Job,
        env: &[(String, String)],
        slot: &Slot<'_>,
        attempt: u32,
        used: &Usage,
    ) -> Result<JobOutput> {
        let out = self.attempt_once(registry, job, env, slot, attempt, used);
        let (Err(e), Some(_), Some(node)) = (&out, &self.srun, slot.node) else { return out };
        let stderr = match e {
            Error::Worker { stderr_tail, .. } => stderr_tail.as_str(),
            Error::Stopped { .. } => return out,
            _ => "",
        };
        match super::slurm::node_lost(node, stderr) {
            Some(state) => {
                tracing::warn!(task = %job.task, node, "attempt {attempt} failed on a lost node ({state}): {e}");
                Err(Error::NodeLost { node: node.into(), task: job.task.clone(), state, why_not_elsewhere: None })
            }
            None => out,
        }
    }

    fn attempt_once(
        &self,
        registry: &Registry,
        job: &Job,
        env: &[(String, String)],
        slot: &Slot<'_>,
        attempt: u32,
        used: &Usage,
    ) -> Result<JobOutput> {
        let dir = self.dir.get().ok_or_else(|| Error::internal("a job reached a process pool that was not started"))?;
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let job_file = dir.join(format!("job-{n}.cbor"));
        let result_file = dir.join(format!("job-{n}.result.cbor"));
        let kind = match &job.kind {
            JobKind::Simulate { index } => WireKind::Simulate { index: *index },
            JobKind::Calculate { index, inputs } => WireKind::Calculate {
                index: *index,
                inputs: inputs.iter().map(|h| registry.store.file_of(*h, dir)).collect::<Result<_>>()?,
            },
        };
        let wj = WorkerJob {
            task: job.task.clone(),
            component: registry.component_name(&job.kind)?.to_string(),
            components: registry.component_names(),
            kind,
            params: (*job.params).clone(),
            state: job.state.clone(),
            step: job.step,
            attempt,
            env: env.to_vec(),
            result: result_file.clone(),
            objects: dir.join(format!("obs-{n}")),
        };
        write_object(&job_file, &wj)?;
        let outcome = self.run_worker(job, env, slot, &job_file, used);
        let _ = std::fs::remove_file(&job_file);
        let result = outcome.and_then(|(pid, code, tail)| {
            if !result_file.exists() && self.srun.is_some() {
                return Err(Error::Worker {
                    how: format!(
                        "(srun, pid {pid}) exited with status {code} without running the task: srun refused the step or the worker did not start; its stderr says why"
                    ),
                    stderr_tail: tail,
                });
            }
            if !result_file.exists() {
                return Err(Error::Worker {
                    how: format!(
                        "(pid {pid}) exited with status {code} without running its task: started again as `{}{}`, your program must build the same optimization as the driver and reach its run, step or evaluate (or call serve_if_worker) before anything that can fail or exit",
                        self.program.display(),
                        self.args.iter().map(|a| format!(" {}", a.to_string_lossy())).collect::<String>()
                    ),
                    stderr_tail: tail,
                });
            }
            Ok((pid, tail, read_object::<WorkerReport>(&result_file)?))
        });
        let _ = std::fs::remove_file(&result_file);
        let (pid, stderr_tail, report) = result?;
        if let Some(own) = report.peak_mem_mb {
            used.peak_mb.set(used.peak_mb.get().max(own));
        }
        if let Some(c) = report.cpu_seconds {
            used.cpu_seconds.set(Some(used.cpu_seconds.get().unwrap_or(0.0) + c));
        }
        match report.result {
            WorkerResult::Simulated { files, state } => {
                let handles = files.into_iter().map(|f| registry.store.put_file(f)).collect();
                Ok(JobOutput::Simulated { handles, state })
            }
            WorkerResult::Calculated(out) => Ok(JobOutput::Calculated(out)),
            WorkerResult::Failed(msg) => Err(Error::Worker { how: format!("(pid {pid}) failed: {msg}"), stderr_tail }),
        }
    }

    /// Starts the worker for `job_file` on pool slot `worker` and waits for it; its pid, exit
    /// status and the end of its stderr when it exited with status 0 or 1 (normally with a result
    /// file written), otherwise how it ended. Raises `used.peak_mb` to the most resident memory the
    /// worker and its children used (not under srun: the step runs elsewhere).
    fn run_worker(
        &self,
        job: &Job,
        env: &[(String, String)],
        slot: &Slot<'_>,
        job_file: &Path,
        used: &Usage,
    ) -> Result<(u32, i32, String)> {
        let worker = slot.worker;
        let mut cmd = match &self.srun {
            Some(s) => {
                let mut c = Command::new("srun");
                c.args(s.args(job, slot.node)).arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env(WORKER_ENV, job_file)
            // a pipe the driver holds: at its end (the driver died) the worker stops too
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // its own process group: the terminal's Ctrl-C reaches the driver only, which then
            // ends the worker (below), and a memory kill reaches every process the task started
            .process_group(0);
        let shown = match &self.srun {
            Some(_) => format!("srun … {}", self.program.display()),
            None => self.program.display().to_string(),
        };
        let mut child = cmd.spawn().map_err(|e| Error::External {
            program: shown.clone(),
            detail: format!("could not be started as the worker of task '{}': {e}", job.task),
        })?;
        let pid = child.id();
        let lifeline = child.stdin.take();
        self.lock_live().insert(pid);
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let tag = format!("{} on {worker}", job.task);
        let forwarders = [
            child.stdout.take().map(|s| forward(s, tag.clone(), None)),
            child.stderr.take().map(|s| forward(s, tag.clone(), Some(Arc::clone(&tail)))),
        ];
        let limit_mb = (self.srun.is_none() && job.resources.mem_mb > 0.0).then_some(job.resources.mem_mb);
        let mut over: Option<f64> = None;
        let mut stopped = false;
        // watched every 20 ms: its memory (its peak, and its limit if any) and the driver's stop
        // request (Ctrl-C reaches the driver only); the limit or the stop ends the worker's group
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Ok(s),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
            if !stopped && crate::component::stop_requested() {
                stopped = true;
                kill_group(pid, "KILL");
                let _ = child.kill();
            }
            if self.srun.is_none() {
                let rss = tree_rss_mb(pid);
                used.peak_mb.set(used.peak_mb.get().max(rss));
                if limit_mb.is_some_and(|limit| rss > limit) && over.is_none() {
                    over = Some(rss);
                    kill_group(pid, "KILL");
                    let _ = child.kill();
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.lock_live().remove(&pid);
        drop(lifeline);
        for f in forwarders.into_iter().flatten() {
            // a grandchild that keeps the pipe open must not hold the driver: wait a little only
            let _ = f.recv_timeout(Duration::from_secs(2));
        }
        let status = status.map_err(|e| Error::io("wait for the worker of", Path::new(&job.task), e))?;
        if stopped {
            return Err(Error::Stopped { what: format!("task '{}' (its worker was ended)", job.task) });
        }
        let stderr_tail = tail.lock().map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n")).unwrap_or_default();
        if let Some(rss) = over {
            return Err(Error::Worker {
                how: format!(
                    "(pid {pid}) was stopped: its resident memory reached {rss:.1} MB, above the task's mem_mb = {:.0}: raise the task's mem_mb hint or make it use less",
                    job.resources.mem_mb
                ),
                stderr_tail,
            });
        }
        match status.code() {
            Some(code @ (0 | 1)) => Ok((pid, code, stderr_tail)),
            _ => Err(Error::Worker {
                how: format!("(pid {pid}) {}", describe(status, self.srun.is_some())),
                stderr_tail,
            }),
        }
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a task's worker processes used over its attempts: the most resident memory at once
/// (MB) and the CPU time they reported (seconds, summed).
#[derive(Default)]
struct Usage {
    peak_mb: std::cell::Cell<f64>,
    cpu_seconds: std::cell::Cell<Option<f64>>,
}

impl Launcher for Workers {
    fn engine(&self) -> &'static str {
        if self.srun.is_some() {
            "slurm"
        } else {
            "process"
        }
    }

    fn reserve(&self, job: &Job) -> super::Resources {
        self.srun.as_ref().map_or(job.resources, |s| s.reserve(job))
    }

    fn start(&self, _: &Arc<Registry>) -> Result<()> {
        if self.dir.get().is_some() {
            return Ok(());
        }
        // one new directory per pool: pools of one process, and drivers of different jobs that
        // share a spool on a cluster file system, never share (or delete) each other's files
        static POOLS: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let job = std::env::var("SLURM_JOB_ID").map(|j| format!("job{j}-")).unwrap_or_default();
        let name =
            format!("oxgrad-spool-{job}{}-{}-{nanos:08x}", std::process::id(), POOLS.fetch_add(1, Ordering::Relaxed));
        let parent = self.spool.clone().unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("create the spool directory", &parent, e))?;
        let dir = parent.join(name);
        std::fs::create_dir(&dir).map_err(|e| Error::io("create the spool directory", &dir, e))?;
        let _ = self.dir.set(dir);
        Ok(())
    }

    fn refuse(&self, job: &Job) -> Option<String> {
        self.srun.as_ref().and_then(|s| s.refuse(job))
    }

    fn run(&self, registry: &Arc<Registry>, job: &Job, env: &[(String, String)], slot: &Slot<'_>) -> Finished {
        let used = Usage::default();
        let mut done =
            run_with_retries(job, slot.worker, |attempt| self.attempt(registry, job, env, slot, attempt, &used));
        let peak = &used.peak_mb;
        done.ran.cpu_seconds = used.cpu_seconds.get();
        // the sampled tree (worker and children, here) or the worker's own report (anywhere)
        if self.srun.is_none() || peak.get() > 0.0 {
            done.ran.peak_mem_mb = Some(peak.get());
        }
        if let Some(node) = slot.node {
            done.ran.nodes = vec![node.to_string(); (done.ran.attempts - job.attempts_made) as usize];
        }
        done
    }

    fn shutdown(&self) {
        let signal = if self.srun.is_some() { "TERM" } else { "KILL" };
        for pid in self.lock_live().drain() {
            kill_group(pid, signal);
        }
        if let Some(dir) = self.dir.get() {
            let _ = std::fs::remove_dir_all(dir);
            if let (true, Some(parent)) = (self.tidy_parent, dir.parent()) {
                let _ = std::fs::remove_dir(parent); // only when empty
            }
        }
    }
}

impl ProcessPool {
    /// A pool of worker processes on every core of the machine: this program, started again
    /// with the same arguments, runs each task ([`super::worker`]).
    pub fn new() -> Result<ProcessPool> {
        Ok(Pool::with_launcher(Workers::this_program()?, crate::machine::cores()))
    }

    /// A pool of worker processes with `cpus` CPUs.
    pub fn with_cpus(cpus: usize) -> Result<ProcessPool> {
        Ok(Pool::with_launcher(Workers::this_program()?, cpus))
    }

    /// Workers run `program` instead of this program (it must build the same optimization).
    #[must_use]
    pub fn worker_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.launcher_mut().program = program.into();
        self
    }

    /// Workers get these arguments instead of this program's (e.g. a test harness's filter that
    /// selects the one test that builds the optimization).
    #[must_use]
    pub fn worker_args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.launcher_mut().args = args.into_iter().map(Into::into).collect();
        self
    }

    /// The pool's spool directory goes under `dir` (default: the system's temporary directory;
    /// under Slurm, `oxgrad-spool` in the current directory: it must be one every node sees). The
    /// pool removes its own directory when it is dropped.
    #[must_use]
    pub fn spool(mut self, dir: impl Into<PathBuf>) -> Self {
        let l = self.launcher_mut();
        l.spool = Some(dir.into());
        l.tidy_parent = false;
        self
    }

    pub(crate) fn default_spool(mut self, dir: PathBuf) -> Self {
        let l = self.launcher_mut();
        l.spool = Some(dir);
        l.tidy_parent = true;
        self
    }
}

/// Forwards each line of `stream` to the log, tagged with `task` (`simulator_run:NAME on
/// process-1`), keeping the last lines in `tail`; the returned channel closes at the end of the
/// stream.
fn forward(
    stream: impl std::io::Read + Send + 'static,
    task: String,
    tail: Option<Arc<Mutex<VecDeque<String>>>>,
) -> crossbeam_channel::Receiver<()> {
    let (tx, rx) = crossbeam_channel::bounded::<()>(1);
    std::thread::spawn(move || {
        let reader = std::io::BufReader::new(stream);
        for line in reader.split(b'\n').map_while(std::io::Result::ok) {
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            relog(&task, &line);
            if let Some(t) = &tail {
                if let Ok(mut t) = t.lock() {
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        }
        drop(tx);
    });
    rx
}

/// Logs a worker's line in the driver, at the level the worker logged it (a line that starts
/// with `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`; other lines at info), tagged `[task on worker]`.
fn relog(task: &str, line: &str) {
    let t = line.trim_start();
    let level = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].into_iter().find(|l| t.starts_with(l));
    let text = level.map_or(t, |l| t[l.len()..].trim_start());
    match level {
        Some("ERROR") => tracing::error!(target: "oxgrad::worker", "[{task}] {text}"),
        Some("WARN") => tracing::warn!(target: "oxgrad::worker", "[{task}] {text}"),
        Some("DEBUG") => tracing::debug!(target: "oxgrad::worker", "[{task}] {text}"),
        Some("TRACE") => tracing::trace!(target: "oxgrad::worker", "[{task}] {text}"),
        _ => tracing::info!(target: "oxgrad::worker", "[{task}] {text}"),
    }
}

/// How a worker ended, in words.
fn describe(status: ExitStatus, srun: bool) -> String {
    if let Some(sig) = status.signal() {
        let name = match sig {
            2 => " (SIGINT)",
            6 => " (SIGABRT: an abort, e.g. a failed allocation or a panic with panic = \"abort\")",
            7 => " (SIGBUS)",
            8 => " (SIGFPE)",
            9 => " (SIGKILL: killed from outside, e.g. by the kernel's out-of-memory killer)",
            11 => " (SIGSEGV: a segmentation fault)",
            15 => " (SIGTERM)",
            _ => "",
        };
        return format!("was killed by signal {sig}{name}");
    }
    let code = status.code().unwrap_or(-1);
    let hint = match (code, srun) {
        (137, true) => " (128 + SIGKILL: Slurm kills a step over its --mem this way; raise the task's mem_mb)",
        (c, true) if c > 128 => " (128 + a signal: the step was killed)",
        (2, false) => " (the worker could not read its job or write its result: see its stderr)",
        _ => "",
    };
    format!("exited with status {code}{hint}")
}

/// Resident memory of `pid` and all its descendants, MB.
fn tree_rss_mb(pid: u32) -> f64 {
    let mut total_kb = 0.0;
    let mut stack = vec![pid];
    let mut seen = HashSet::new();
    while let Some(p) = stack.pop() {
        if !seen.insert(p) {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            {
                total_kb += kb;
            }
        }
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for t in tasks.flatten() {
                if let Ok(children) = std::fs::read_to_string(t.path().join("children")) {
                    stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
                }
            }
        }
    }
    total_kb / 1024.0
}

/// Sends `signal` to the process group `pgid` (the worker and everything it started).
fn kill_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

impl ProcessPool {
    /// The Slurm executor, for a driver running inside a Slurm allocation: the allocation's
    /// nodes, each with the CPUs, memory and GPUs the job holds there (`scontrol show job -d
    /// $SLURM_JOB_ID`), each task a job step on one node started by `srun` (srun options from the
    /// `custom.slurm` hints); a task whose node is lost runs again on another.
    ///
    /// Fails with what to do when there is no allocation (`SLURM_JOB_ID` unset), no `srun`, or
    /// `scontrol` cannot show the job.
    pub fn slurm() -> Result<ProcessPool> {
        let a = super::slurm::allocation()?;
        let mut workers = Workers::this_program()?;
        workers.srun = Some(a.srun);
        let nodes = a.nodes.into_iter().map(|n| (n.name, n.cpus, n.mem_mb, n.gpus)).collect();
        let pool = Pool::with_nodes(workers, nodes);
        let cwd = std::env::current_dir().map_err(|e| Error::io("find the current directory", ".".as_ref(), e))?;
        Ok(pool.default_spool(cwd.join("oxgrad-spool")))
    }
}
