//! The pools: tasks start as soon as the CPUs, GPUs and memory their hints reserve are free (first
//! fit in submission order), each watched by a thread of the driver. What that thread does is the
//! pool's [`Launcher`]: run the task itself ([`Threads`], the [`LocalPool`]), or start a worker
//! process and wait for it ([`super::Workers`], the [`super::ProcessPool`]). Totals default to the
//! machine's cores, no GPUs and unlimited memory, and can be set like `ray.init(num_cpus=…)`.
//!
//! GPUs are devices with ids (`0`, `1`, … or those of the driver's `CUDA_VISIBLE_DEVICES`,
//! [`Pool::gpu_devices`]). A fractional request (`num_gpus = 0.5`) takes a share of one device,
//! the one with the least room that fits it, so shares pack onto as few devices as possible and
//! whole devices stay free for whole requests; a request of one or more GPUs takes whole free
//! devices. A task sees its devices as `CUDA_VISIBLE_DEVICES` (`2` or `2,5`).

use super::{Executor, Finished, Job, JobId, Registry, Resources};
use crate::error::{Error, Result};
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

type Work = (Job, Vec<(String, String)>);
type Done = Finished;

/// How a pool runs one task: called on a thread of the driver that the pool reserved the task's
/// resources for; returns when the task has finished (after its retries, see
/// [`super::run_with_retries`]). Implement it to run tasks through another batch system.
pub trait Launcher: Send + Sync + 'static {
    /// The engine name whose `custom` hints apply (`"local"`, `"process"`, `"slurm"`).
    fn engine(&self) -> &'static str;
    /// How the pool's slots are named in task records: `PREFIX-0`, `PREFIX-1`, … (default: the
    /// engine name).
    fn slot_prefix(&self) -> &'static str {
        self.engine()
    }
    /// What `job` reserves in the pool (default: its resources as its hints give them; the Slurm
    /// executor adds the memory a step without a `mem_mb` hint gets).
    fn reserve(&self, job: &Job) -> Resources {
        job.resources
    }
    /// Called once with the components before the first task (e.g. to create a spool directory).
    fn start(&self, registry: &Arc<Registry>) -> Result<()> {
        let _ = registry;
        Ok(())
    }
    /// Runs `job` with environment `env` (its threads, GPUs and variables) on pool slot `worker`.
    fn run(&self, registry: &Arc<Registry>, job: &Job, env: &[(String, String)], worker: &str) -> Finished;
    /// Called when the pool is dropped (e.g. to stop what still runs).
    fn shutdown(&self) {}
}

/// Tasks run on the driver's own threads: the [`LocalPool`].
#[derive(Debug, Default)]
pub struct Threads;

impl Launcher for Threads {
    fn engine(&self) -> &'static str {
        "local"
    }
    fn slot_prefix(&self) -> &'static str {
        "thread"
    }
    fn run(&self, registry: &Arc<Registry>, job: &Job, env: &[(String, String)], worker: &str) -> Finished {
        registry.run_timed(job, env, worker)
    }
}

/// The thread pool: tasks run on threads of the driver.
pub type LocalPool = Pool<Threads>;

/// A pool with resource accounting whose tasks are run by launcher `L`.
pub struct Pool<L: Launcher> {
    launcher: Arc<L>,
    cpus: f64,
    /// The GPUs' ids, as a task's `CUDA_VISIBLE_DEVICES` names them.
    gpu_ids: Vec<String>,
    mem_mb: f64,
    env: Vec<(String, String)>,
    registry: Option<Arc<Registry>>,
    pending: VecDeque<Job>,
    free: Resources,
    /// The free share of each device.
    gpu_free: Vec<f64>,
    running: HashMap<JobId, (Resources, Vec<(usize, f64)>)>,
    work_tx: Option<Sender<Work>>,
    work_rx: Receiver<Work>,
    done_tx: Sender<Done>,
    done_rx: Receiver<Done>,
    idle: Arc<AtomicUsize>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Default for LocalPool {
    fn default() -> Self {
        LocalPool::new()
    }
}

impl LocalPool {
    /// A thread pool with every core of the machine, no GPUs and unlimited memory.
    ///
    /// ```
    /// use oxgrad::optimize::{LocalPool, Optimization, UpdateRule};
    /// // 8 CPUs, 2 GPUs (tasks see theirs in CUDA_VISIBLE_DEVICES), 16 GB, a variable for all
    /// let pool = LocalPool::with_cpus(8).gpus(2).memory_mb(16_000).env("OXDNA_LOG", "quiet");
    /// let opt = Optimization::new(UpdateRule::adam(1e-3)?).executor(pool);
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    #[must_use]
    pub fn new() -> LocalPool {
        Pool::with_launcher(Threads, crate::machine::cores())
    }

    /// A thread pool with `cpus` CPUs.
    #[must_use]
    pub fn with_cpus(cpus: usize) -> LocalPool {
        Pool::with_launcher(Threads, cpus)
    }
}

impl<L: Launcher> Pool<L> {
    /// A pool of `cpus` CPUs, no GPUs and unlimited memory whose tasks `launcher` runs.
    #[must_use]
    pub fn with_launcher(launcher: L, cpus: usize) -> Pool<L> {
        let (work_tx, work_rx) = unbounded();
        let (done_tx, done_rx) = unbounded();
        Pool {
            launcher: Arc::new(launcher),
            cpus: cpus as f64,
            gpu_ids: Vec::new(),
            mem_mb: f64::INFINITY,
            env: Vec::new(),
            registry: None,
            pending: VecDeque::new(),
            free: Resources { cpus: cpus as f64, gpus: 0.0, mem_mb: f64::INFINITY },
            gpu_free: Vec::new(),
            running: HashMap::new(),
            work_tx: Some(work_tx),
            work_rx,
            done_tx,
            done_rx,
            idle: Arc::new(AtomicUsize::new(0)),
            workers: Vec::new(),
        }
    }

    /// With `gpus` devices (ids 0…gpus−1).
    #[must_use]
    pub fn gpus(self, gpus: usize) -> Self {
        self.gpu_devices((0..gpus).map(|i| i.to_string()))
    }

    /// With these devices, by the ids a task's `CUDA_VISIBLE_DEVICES` names them (e.g. those of
    /// the driver's own, `["2", "5"]`, or [`crate::machine::gpu_devices`]).
    ///
    /// ```
    /// use oxgrad::optimize::LocalPool;
    /// let pool = LocalPool::with_cpus(4).gpu_devices(["2", "5"]);
    /// assert_eq!(pool.devices(), ["2", "5"]);
    /// ```
    #[must_use]
    pub fn gpu_devices<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.gpu_ids = ids.into_iter().map(Into::into).collect();
        self.gpu_free = vec![1.0; self.gpu_ids.len()];
        self.free.gpus = self.gpu_ids.len() as f64;
        self
    }

    /// The GPUs' ids.
    #[must_use]
    pub fn devices(&self) -> &[String] {
        &self.gpu_ids
    }

    /// With a memory budget in MB.
    #[must_use]
    pub fn memory_mb(mut self, mb: u64) -> Self {
        self.mem_mb = mb as f64;
        self.free.mem_mb = mb as f64;
        self
    }

    /// The launcher.
    #[must_use]
    pub fn launcher(&self) -> &L {
        &self.launcher
    }

    pub(crate) fn launcher_mut(&mut self) -> &mut L {
        Arc::get_mut(&mut self.launcher).expect("the launcher is shared only once the pool has started")
    }

    /// With an environment variable for every task (a worker process's own; under threads, that
    /// of the child processes a task starts). A task's own `env` hint overrides it.
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn refuse(&self, job: &Job) -> Option<String> {
        let r = job.resources;
        let (more_cpus, more_gpus) = match self.launcher.engine() {
            "local" => (
                "give the pool more (LocalPool::with_cpus)",
                "give the pool GPUs (`[executor] gpus = N` in a configuration, LocalPool::gpus in Rust)",
            ),
            "process" => (
                "give the pool more (ProcessPool::with_cpus)",
                "give the pool GPUs (`[executor] gpus = N` in a configuration, ProcessPool::gpus in Rust)",
            ),
            "slurm" => ("ask the allocation for more (sbatch -c)", "ask the allocation for GPUs (sbatch --gpus)"),
            _ => ("give the pool more", "give the pool GPUs"),
        };
        let more_memory = if self.launcher.engine() == "slurm" {
            "ask the allocation for more (sbatch --mem)"
        } else {
            "raise the pool's memory"
        };
        if r.cpus > self.cpus {
            return Some(format!(
                "it needs {} CPUs and the pool has {}: lower its num_cpus hint or {more_cpus}",
                r.cpus, self.cpus
            ));
        }
        if r.gpus > self.gpu_ids.len() as f64 {
            return Some(format!(
                "it needs {} GPUs and the pool has {}: lower its num_gpus hint or {more_gpus}",
                r.gpus,
                self.gpu_ids.len()
            ));
        }
        if r.gpus > 1.0 && r.gpus.fract() != 0.0 {
            return Some(format!("{} GPUs: above one GPU, ask for a whole number", r.gpus));
        }
        if r.mem_mb > self.mem_mb {
            return Some(format!(
                "it needs {} MB and the pool has {} MB: lower its mem_mb hint or {more_memory}",
                r.mem_mb, self.mem_mb
            ));
        }
        None
    }

    /// GPU shares for `need` GPUs, if free now.
    fn gpu_shares(&self, need: f64) -> Option<Vec<(usize, f64)>> {
        if need <= 0.0 {
            return Some(Vec::new());
        }
        if need < 1.0 {
            // best fit: the device with the least room that still fits
            return (0..self.gpu_free.len())
                .filter(|&i| self.gpu_free[i] + 1e-12 >= need)
                .min_by(|&a, &b| self.gpu_free[a].total_cmp(&self.gpu_free[b]))
                .map(|i| vec![(i, need)]);
        }
        let whole: Vec<usize> =
            (0..self.gpu_free.len()).filter(|&i| self.gpu_free[i] >= 1.0 - 1e-12).take(need as usize).collect();
        (whole.len() == need as usize).then(|| whole.into_iter().map(|i| (i, 1.0)).collect())
    }

    fn dispatch(&mut self) {
        let mut k = 0;
        while k < self.pending.len() {
            let r = self.pending[k].resources;
            let fits = r.cpus <= self.free.cpus + 1e-9 && r.mem_mb <= self.free.mem_mb + 1e-9;
            let shares = if fits { self.gpu_shares(r.gpus) } else { None };
            let Some(shares) = shares else {
                k += 1;
                continue;
            };
            let job = self.pending.remove(k).expect("k is in range");
            self.free.cpus -= r.cpus;
            self.free.mem_mb -= r.mem_mb;
            for &(i, s) in &shares {
                self.gpu_free[i] -= s;
            }
            let ids: Vec<&str> = shares.iter().map(|s| self.gpu_ids[s.0].as_str()).collect();
            let env = task_env(&job, &ids, &self.env);
            self.running.insert(job.id, (r, shares));
            if self.idle.load(Ordering::SeqCst) == 0 {
                self.spawn_worker();
            } else {
                self.idle.fetch_sub(1, Ordering::SeqCst);
            }
            if let Some(tx) = &self.work_tx {
                // the receiver lives as long as the pool; a send cannot fail while we hold it
                let _ = tx.send((job, env));
            }
        }
    }

    fn spawn_worker(&mut self) {
        let (rx, tx) = (self.work_rx.clone(), self.done_tx.clone());
        let registry = self.registry.clone();
        let idle = Arc::clone(&self.idle);
        let launcher = Arc::clone(&self.launcher);
        let worker = format!("{}-{}", launcher.slot_prefix(), self.workers.len());
        self.workers.push(std::thread::spawn(move || {
            let Some(registry) = registry else { return };
            while let Ok((job, env)) = rx.recv() {
                let out = launcher.run(&registry, &job, &env, &worker);
                idle.fetch_add(1, Ordering::SeqCst);
                if tx.send(out).is_err() {
                    return;
                }
            }
        }));
    }
}

/// The environment of a task: its CPU count as `OMP_NUM_THREADS`/`RAYON_NUM_THREADS`, its GPUs as
/// `CUDA_VISIBLE_DEVICES`, then the executor's own variables, then the task's own.
pub(crate) fn task_env(job: &Job, gpus: &[&str], extra: &[(String, String)]) -> Vec<(String, String)> {
    let threads = (job.resources.cpus.ceil() as u64).max(1).to_string();
    let mut env = vec![("OMP_NUM_THREADS".to_string(), threads.clone()), ("RAYON_NUM_THREADS".to_string(), threads)];
    if job.resources.gpus > 0.0 {
        env.push(("CUDA_VISIBLE_DEVICES".to_string(), gpus.join(",")));
    }
    env.extend(extra.iter().cloned());
    env.extend(job.env.iter().cloned());
    env
}

impl<L: Launcher> Executor for Pool<L> {
    fn engine(&self) -> &'static str {
        self.launcher.engine()
    }

    fn start(&mut self, registry: Arc<Registry>) -> Result<()> {
        self.launcher.start(&registry)?;
        self.registry = Some(registry);
        Ok(())
    }

    fn submit(&mut self, mut job: Job) -> Result<()> {
        job.resources = self.launcher.reserve(&job);
        if self.registry.is_none() {
            return Err(Error::internal(
                "a job was submitted to a pool that was not started: call start before submitting jobs",
            ));
        }
        if let Some(why) = self.refuse(&job) {
            return Err(Error::TaskRefused { task: job.task.clone(), reason: why });
        }
        self.pending.push_back(job);
        self.dispatch();
        Ok(())
    }

    fn wait_any(&mut self) -> Result<Finished> {
        if self.running.is_empty() {
            return Err(Error::internal("wait on a pool with no running job: submit a job before waiting"));
        }
        let out = self
            .done_rx
            .recv()
            .map_err(|_| Error::internal("a pool thread ended unexpectedly (its channel is disconnected)"))?;
        if let Some((r, shares)) = self.running.remove(&out.id) {
            self.free.cpus += r.cpus;
            self.free.mem_mb += r.mem_mb;
            for (i, s) in shares {
                self.gpu_free[i] += s;
            }
        }
        self.dispatch();
        Ok(out)
    }
}

impl<L: Launcher> Drop for Pool<L> {
    fn drop(&mut self) {
        self.launcher.shutdown();
        self.work_tx = None; // closes the channel: idle workers end
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::executor::{run_with_retries, JobKind};
    use std::sync::Mutex;

    /// Runs nothing; records each task's `CUDA_VISIBLE_DEVICES`.
    #[derive(Default)]
    struct Record(Mutex<Vec<(String, String)>>);

    impl Launcher for Record {
        fn engine(&self) -> &'static str {
            "local"
        }
        fn run(&self, _: &Arc<Registry>, job: &Job, env: &[(String, String)], worker: &str) -> Finished {
            let gpus = env.iter().find(|(k, _)| k == "CUDA_VISIBLE_DEVICES").map_or("-", |(_, v)| v.as_str());
            self.0.lock().unwrap().push((job.task.clone(), gpus.to_string()));
            run_with_retries(job, worker, |_| Err(Error::internal("a stand-in task")))
        }
    }

    fn job(id: JobId, gpus: f64) -> Job {
        Job {
            id,
            task: format!("t{id}"),
            kind: JobKind::Simulate { index: 0 },
            params: Arc::default(),
            state: serde_json::Map::new(),
            step: 0,
            resources: Resources { cpus: 0.0, gpus, mem_mb: 0.0 },
            max_retries: 0,
            env: Vec::new(),
            options: serde_json::Map::new(),
        }
    }

    /// Two half GPUs share a device, a whole one gets the other, a third half waits for room;
    /// the ids are the pool's (the driver's `CUDA_VISIBLE_DEVICES=2,5`), and a request larger
    /// than the pool is refused by name.
    #[test]
    fn fractional_gpus_pack_onto_the_pools_devices() {
        let mut pool = Pool::with_launcher(Record::default(), 8).gpu_devices(["2", "5"]);
        let registry = Registry {
            simulators: Vec::new(),
            objectives: Vec::new(),
            store: Arc::new(crate::optimize::store::ObjectStore::default()),
        };
        pool.start(Arc::new(registry)).unwrap();
        let seen = |pool: &Pool<Record>| {
            let mut v = pool.launcher().0.lock().unwrap().clone();
            v.sort();
            v
        };
        let wait_for = |pool: &Pool<Record>, n: usize| {
            let t = std::time::Instant::now();
            while pool.launcher().0.lock().unwrap().len() < n {
                assert!(t.elapsed().as_secs() < 10, "{:?}", seen(pool));
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        };
        for (id, g) in [(1, 0.5), (2, 0.5), (3, 1.0), (4, 0.5)] {
            pool.submit(job(id, g)).unwrap();
        }
        wait_for(&pool, 3);
        let pair = |t: &str, g: &str| (t.to_string(), g.to_string());
        assert_eq!(seen(&pool), [pair("t1", "2"), pair("t2", "2"), pair("t3", "5")]);
        let first = pool.wait_any().unwrap().id; // frees its share: the fourth starts there
        wait_for(&pool, 4);
        let on = if first == 3 { "5" } else { "2" };
        assert_eq!(seen(&pool)[3], pair("t4", on));
        for _ in 0..3 {
            pool.wait_any().unwrap();
        }
        pool.submit(job(5, 2.0)).unwrap();
        wait_for(&pool, 5);
        assert_eq!(seen(&pool)[4], pair("t5", "2,5"));
        pool.wait_any().unwrap();
        let e = pool.submit(job(6, 3.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "task 't6' cannot run: it needs 3 GPUs and the pool has 2: lower its num_gpus hint or give the pool GPUs (`[executor] gpus = N` in a configuration, LocalPool::gpus in Rust)"
        );
    }
}
