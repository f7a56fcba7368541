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

/// A task, its environment and its node.
type Work = (Job, Vec<(String, String)>, Option<String>);
/// A task and how it ended.
type Done = (Job, Finished);

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
    /// Why `job` can never run under this launcher, whatever the pool's resources (default:
    /// never: the pool refuses what its nodes cannot hold).
    fn refuse(&self, job: &Job) -> Option<String> {
        let _ = job;
        None
    }
    /// Called once with the components before the first task (e.g. to create a spool directory).
    fn start(&self, registry: &Arc<Registry>) -> Result<()> {
        let _ = registry;
        Ok(())
    }
    /// Runs `job` with environment `env` (its threads, GPUs and variables) in `slot` (a pool
    /// slot, and the node the pool placed it on when the pool has named nodes). A launcher that
    /// finds the node gone ends the task with [`Error::NodeLost`]: the pool then places it on
    /// another node.
    fn run(&self, registry: &Arc<Registry>, job: &Job, env: &[(String, String)], slot: &Slot<'_>) -> Finished;
    /// Called when the pool is dropped (e.g. to stop what still runs).
    fn shutdown(&self) {}
}

/// Where a task runs: its pool slot (`thread-0`, `slurm-3`, named in task records) and, in a
/// pool over named nodes (a Slurm allocation), its node.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    /// The pool slot.
    pub worker: &'a str,
    /// The node (`None`: the driver's own machine).
    pub node: Option<&'a str>,
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
    fn run(&self, registry: &Arc<Registry>, job: &Job, env: &[(String, String)], slot: &Slot<'_>) -> Finished {
        registry.run_timed(job, env, slot.worker)
    }
}

/// The thread pool: tasks run on threads of the driver.
pub type LocalPool = Pool<Threads>;

/// What a pool counts on one node (a machine: the whole pool, except under Slurm, where each
/// node of the allocation is one): a task runs on one node, with the node's CPUs, memory and GPUs.
#[derive(Debug, Clone)]
struct Node {
    /// Its name (`None`: the driver's own machine, where no task names a node).
    name: Option<String>,
    /// What it has.
    total: Resources,
    /// The GPUs' ids, as a task's `CUDA_VISIBLE_DEVICES` names them.
    gpu_ids: Vec<String>,
    /// What is free now.
    free: Resources,
    /// The free share of each device.
    gpu_free: Vec<f64>,
    /// Whether tasks may still be placed on it (a node that was lost is not).
    up: bool,
}

impl Node {
    fn new(name: Option<String>, cpus: f64, mem_mb: f64, gpu_ids: Vec<String>) -> Node {
        let total = Resources { cpus, gpus: gpu_ids.len() as f64, mem_mb };
        Node { name, total, gpu_free: vec![1.0; gpu_ids.len()], gpu_ids, free: total, up: true }
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

    /// Whether `r` fits in what the node has at all.
    fn holds(&self, r: Resources) -> bool {
        r.cpus <= self.total.cpus && r.gpus <= self.total.gpus && r.mem_mb <= self.total.mem_mb
    }
}

/// A task's place while it runs: its node, what it reserved there, its GPU shares.
type Placed = (usize, Resources, Vec<(usize, f64)>);

/// What a task that lost its node carries to its next placement: its attempts so far, the nodes
/// they ran on, when the first started.
type Carried = (u32, Vec<String>, f64);

/// A pool with resource accounting whose tasks are run by launcher `L`.
pub struct Pool<L: Launcher> {
    launcher: Arc<L>,
    /// One node (the machine), or the nodes of a Slurm allocation.
    nodes: Vec<Node>,
    env: Vec<(String, String)>,
    registry: Option<Arc<Registry>>,
    pending: VecDeque<Job>,
    running: HashMap<JobId, Placed>,
    carried: HashMap<JobId, Carried>,
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
        Pool::on_nodes(launcher, vec![Node::new(None, cpus as f64, f64::INFINITY, Vec::new())])
    }

    /// A pool over named nodes, each `(name, cpus, memory MB, GPU ids)` (memory `None`:
    /// unlimited): a task runs on one of them, the one with the most free CPUs that fits it.
    pub(crate) fn with_nodes(launcher: L, nodes: Vec<(String, usize, Option<u64>, Vec<String>)>) -> Pool<L> {
        let nodes = nodes
            .into_iter()
            .map(|(name, cpus, mem, gpus)| {
                Node::new(Some(name), cpus as f64, mem.map_or(f64::INFINITY, |m| m as f64), gpus)
            })
            .collect();
        Pool::on_nodes(launcher, nodes)
    }

    fn on_nodes(launcher: L, nodes: Vec<Node>) -> Pool<L> {
        let (work_tx, work_rx) = unbounded();
        let (done_tx, done_rx) = unbounded();
        Pool {
            launcher: Arc::new(launcher),
            nodes,
            env: Vec::new(),
            registry: None,
            pending: VecDeque::new(),
            running: HashMap::new(),
            carried: HashMap::new(),
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
    /// the driver's own, `["2", "5"]`, or [`crate::machine::gpu_devices`]). On a pool over
    /// several nodes (a Slurm allocation of several), every node gets these ids.
    ///
    /// ```
    /// use oxgrad::optimize::LocalPool;
    /// let pool = LocalPool::with_cpus(4).gpu_devices(["2", "5"]);
    /// assert_eq!(pool.devices(), ["2", "5"]);
    /// ```
    #[must_use]
    pub fn gpu_devices<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
        for n in &mut self.nodes {
            *n = Node::new(n.name.take(), n.total.cpus, n.total.mem_mb, ids.clone());
        }
        self
    }

    /// The GPUs' ids (of the first node, on a pool over several).
    #[must_use]
    pub fn devices(&self) -> &[String] {
        &self.nodes[0].gpu_ids
    }

    /// The most GPUs one node has: the most one task can get.
    pub(crate) fn gpus_per_node(&self) -> usize {
        self.nodes.iter().map(|n| n.gpu_ids.len()).max().unwrap_or(0)
    }

    /// The nodes' names (none for a pool on the driver's own machine).
    #[must_use]
    pub fn node_names(&self) -> Vec<&str> {
        self.nodes.iter().filter_map(|n| n.name.as_deref()).collect()
    }

    /// With a memory budget in MB (per node, on a pool over several).
    #[must_use]
    pub fn memory_mb(mut self, mb: u64) -> Self {
        for n in &mut self.nodes {
            n.total.mem_mb = mb as f64;
            n.free.mem_mb = mb as f64;
        }
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
        if r.gpus > 1.0 && r.gpus.fract() != 0.0 {
            return Some(format!("{} GPUs: above one GPU, ask for a whole number", r.gpus));
        }
        let up: Vec<&Node> = self.nodes.iter().filter(|n| n.up).collect();
        if up.iter().any(|n| n.holds(r)) {
            return None;
        }
        if self.nodes.len() > 1 {
            let nodes = up.iter().map(|n| {
                let t = n.total;
                format!("{}: {} CPUs, {} GPUs, {} MB", n.name.as_deref().unwrap_or("?"), t.cpus, t.gpus, t.mem_mb)
            });
            return Some(format!(
                "it needs {} CPUs, {} GPUs and {} MB on one node, and no node of the allocation has that much ({}): a task never spans nodes; lower its hints or ask for more per node (sbatch --cpus-per-task, --gpus-per-node, --mem)",
                r.cpus,
                r.gpus,
                r.mem_mb,
                if up.is_empty() { "every node was lost".to_string() } else { nodes.collect::<Vec<_>>().join("; ") }
            ));
        }
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
        let t = self.nodes[0].total;
        if !up.is_empty() && r.cpus > t.cpus {
            return Some(format!(
                "it needs {} CPUs and the pool has {}: lower its num_cpus hint or {more_cpus}",
                r.cpus, t.cpus
            ));
        }
        if !up.is_empty() && r.gpus > t.gpus {
            return Some(format!(
                "it needs {} GPUs and the pool has {}: lower its num_gpus hint or {more_gpus}",
                r.gpus, t.gpus
            ));
        }
        if !up.is_empty() && r.mem_mb > t.mem_mb {
            return Some(format!(
                "it needs {} MB and the pool has {} MB: lower its mem_mb hint or {more_memory}",
                r.mem_mb, t.mem_mb
            ));
        }
        Some("its only node was lost".to_string())
    }

    /// Where `r` can start now: the node (up, with room) with the most free CPUs, and its GPU
    /// shares there.
    fn place(&self, r: Resources) -> Option<(usize, Vec<(usize, f64)>)> {
        let mut best: Option<(usize, Vec<(usize, f64)>)> = None;
        for (k, n) in self.nodes.iter().enumerate() {
            if !n.up || r.cpus > n.free.cpus + 1e-9 || r.mem_mb > n.free.mem_mb + 1e-9 {
                continue;
            }
            let Some(shares) = n.gpu_shares(r.gpus) else { continue };
            if best.as_ref().is_none_or(|(b, _)| n.free.cpus > self.nodes[*b].free.cpus + 1e-9) {
                best = Some((k, shares));
            }
        }
        best
    }

    fn dispatch(&mut self) {
        let mut k = 0;
        while k < self.pending.len() {
            let r = self.pending[k].resources;
            let Some((at, shares)) = self.place(r) else {
                k += 1;
                continue;
            };
            let job = self.pending.remove(k).expect("k is in range");
            let node = &mut self.nodes[at];
            node.free.cpus -= r.cpus;
            node.free.mem_mb -= r.mem_mb;
            for &(i, s) in &shares {
                node.gpu_free[i] -= s;
            }
            let ids: Vec<&str> = shares.iter().map(|s| node.gpu_ids[s.0].as_str()).collect();
            let env = task_env(&job, &ids, &self.env);
            let name = node.name.clone();
            self.running.insert(job.id, (at, r, shares));
            if self.idle.load(Ordering::SeqCst) == 0 {
                self.spawn_worker();
            } else {
                self.idle.fetch_sub(1, Ordering::SeqCst);
            }
            if let Some(tx) = &self.work_tx {
                // the receiver lives as long as the pool; a send cannot fail while we hold it
                let _ = tx.send((job, env, name));
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
            while let Ok((job, env, node)) = rx.recv() {
                let out = launcher.run(&registry, &job, &env, &Slot { worker: &worker, node: node.as_deref() });
                idle.fetch_add(1, Ordering::SeqCst);
                if tx.send((job, out)).is_err() {
                    return;
                }
            }
        }));
    }

    /// A task whose node was lost: the node takes no more tasks, and the task goes back to the
    /// queue, to run on another (its attempts so far carried over); `None` when it is queued again,
    /// else its end (no node left that can hold it).
    fn requeue(&mut self, mut job: Job, out: Finished, node: &str) -> Option<Finished> {
        for n in self.nodes.iter_mut().filter(|n| n.name.as_deref() == Some(node)) {
            if n.up {
                tracing::warn!(node, "node lost: no more tasks are placed on it");
            }
            n.up = false;
        }
        let c = self.carried.entry(job.id).or_insert((0, Vec::new(), out.ran.start));
        c.0 = out.ran.attempts;
        c.1.clone_from(&out.ran.nodes);
        job.attempts_made = out.ran.attempts;
        if let Some(why) = self.refuse(&job) {
            let mut out = out;
            if let Err(Error::NodeLost { why_not_elsewhere, .. }) = &mut out.result {
                *why_not_elsewhere = Some(why);
            }
            return Some(out);
        }
        tracing::warn!(task = %job.task, node, "its node was lost: placing it on another");
        self.pending.push_back(job);
        None
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
        if let Some(why) = self.launcher.refuse(&job).or_else(|| self.refuse(&job)) {
            return Err(Error::TaskRefused { task: job.task.clone(), reason: why });
        }
        self.pending.push_back(job);
        self.dispatch();
        Ok(())
    }

    fn wait_any(&mut self) -> Result<Finished> {
        loop {
            if self.running.is_empty() {
                return Err(Error::internal("wait on a pool with no running job: submit a job before waiting"));
            }
            let (job, mut out) = self
                .done_rx
                .recv()
                .map_err(|_| Error::internal("a pool thread ended unexpectedly (its channel is disconnected)"))?;
            if let Some((at, r, shares)) = self.running.remove(&out.id) {
                let node = &mut self.nodes[at];
                node.free.cpus += r.cpus;
                node.free.mem_mb += r.mem_mb;
                for (i, s) in shares {
                    node.gpu_free[i] += s;
                }
            }
            if let Err(Error::NodeLost { node, .. }) = &out.result {
                let node = node.clone();
                match self.requeue(job, out, &node) {
                    None => {
                        self.dispatch();
                        continue;
                    }
                    Some(end) => out = end,
                }
            }
            if let Some((_, mut nodes, start)) = self.carried.remove(&out.id) {
                nodes.append(&mut out.ran.nodes);
                out.ran.nodes = nodes;
                out.ran.start = start;
            }
            self.dispatch();
            return Ok(out);
        }
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
        fn run(&self, _: &Arc<Registry>, job: &Job, env: &[(String, String)], slot: &Slot<'_>) -> Finished {
            let gpus = env.iter().find(|(k, _)| k == "CUDA_VISIBLE_DEVICES").map_or("-", |(_, v)| v.as_str());
            self.0.lock().unwrap().push((job.task.clone(), gpus.to_string()));
            run_with_retries(job, slot.worker, |_| Err(Error::internal("a stand-in task")))
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
            attempts_made: 0,
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

    /// Fails every task; on node `n2` as a lost node does.
    struct LoseN2;

    impl Launcher for LoseN2 {
        fn engine(&self) -> &'static str {
            "slurm"
        }
        fn run(&self, _: &Arc<Registry>, job: &Job, _: &[(String, String)], slot: &Slot<'_>) -> Finished {
            let node = slot.node.unwrap().to_string();
            let mut done = run_with_retries(job, slot.worker, |_| {
                Err(match node.as_str() {
                    "n2" => Error::NodeLost {
                        node: node.clone(),
                        task: job.task.clone(),
                        state: "DOWN".into(),
                        why_not_elsewhere: None,
                    },
                    _ => Error::internal("a stand-in task"),
                })
            });
            done.ran.nodes = vec![node; (done.ran.attempts - job.attempts_made) as usize];
            done
        }
    }

    /// Tasks go to the node with the most free CPUs, one node each; a task whose node is lost
    /// runs again on another (its attempts and nodes carried over, its retries untouched) and the
    /// lost node takes no more; a task no node can hold is refused by name.
    #[test]
    fn tasks_spread_over_nodes_and_leave_a_lost_node() {
        let nodes = ["n1", "n2", "n3"].map(|n| (n.to_string(), 2, Some(1000), Vec::new())).to_vec();
        let mut pool = Pool::with_nodes(LoseN2, nodes);
        let registry = Registry {
            simulators: Vec::new(),
            objectives: Vec::new(),
            store: Arc::new(crate::optimize::store::ObjectStore::default()),
        };
        pool.start(Arc::new(registry)).unwrap();
        let cpu = |id: JobId, cpus: f64| {
            let mut j = job(id, 0.0);
            j.resources.cpus = cpus;
            j
        };
        let wide = cpu(9, 3.0);
        let e = pool.submit(wide).unwrap_err().to_string();
        assert!(e.contains("it needs 3 CPUs, 0 GPUs and 0 MB on one node, and no node of the allocation has that much (n1: 2 CPUs, 0 GPUs, 1000 MB; n2"), "{e}");
        // two CPUs each: one task per node
        for id in 1..=3 {
            pool.submit(cpu(id, 2.0)).unwrap();
        }
        let mut ran: Vec<super::super::TaskRun> = (0..3).map(|_| pool.wait_any().unwrap().ran).collect();
        ran.sort_by(|a, b| a.task.cmp(&b.task));
        let on: Vec<Vec<&str>> = ran.iter().map(|r| r.nodes.iter().map(String::as_str).collect()).collect();
        let lost = on.iter().position(|n| n[0] == "n2").expect("a task ran on n2");
        assert_eq!(on[lost].len(), 2, "{on:?}");
        assert_ne!(on[lost][1], "n2", "{on:?}");
        assert_eq!(ran[lost].attempts, 2);
        let firsts: std::collections::BTreeSet<&str> = on.iter().map(|n| n[0]).collect();
        assert_eq!(firsts.len(), 3, "one task per node: {on:?}");
        // n2 takes no more tasks
        for id in 4..=7 {
            pool.submit(cpu(id, 1.0)).unwrap();
        }
        for _ in 4..=7 {
            assert!(pool.wait_any().unwrap().ran.nodes.iter().all(|n| n != "n2"));
        }
    }
}
