//! The Slurm executor: inside an allocation (`sbatch`, `salloc`), each task is a job step,
//! `srun --exact -n1 -N1 -c<num_cpus> --mem=<mem_mb>M [--gpus=<num_gpus>] <this program>`,
//! running a worker ([`super::worker`]) exactly as the process pool does: retries, failure
//! reports, environment and logs are the same. Slurm enforces each step's CPUs and memory (a step
//! over its `--mem` is killed and reported); the pool also counts the allocation's CPUs, memory
//! and GPUs so that surplus tasks wait in the driver instead of piling up as pending steps. A
//! step gets whole GPUs (`num_gpus = 0.5` asks `--gpus=1`): Slurm does not share a device
//! between steps, so fractions pack onto devices only under the thread and process executors.
//!
//! Options under a task's `custom.slurm` hints go to `srun` verbatim: `{ constraint = "avx512" }`
//! becomes `--constraint=avx512`, `{ overcommit = true }` becomes `--overcommit`. The spool directory
//! must be one every node of the allocation sees: by default `oxgrad-spool` in the directory the
//! driver was started in (set it with [`super::ProcessPool::spool`]).
//!
//! `oxgrad slurm-script CONFIG` writes an `sbatch` script for a configuration.

use super::Job;
use crate::error::{Error, Result};

/// Hint keys the pool interprets itself; every other option of a task goes to `srun`.
const OWN_KEYS: [&str; 6] = ["num_cpus", "num_gpus", "mem_mb", "max_retries", "env", "name"];

/// How steps are started: the memory a step gets when its task names none.
#[derive(Debug, Clone)]
pub(crate) struct Srun {
    /// MB per CPU for a task without `mem_mb` (the allocation's share per CPU); without it, a
    /// step would claim the allocation's whole memory and steps would run one at a time.
    default_mem_per_cpu: Option<u64>,
}

impl Srun {
    /// What a step of `job` takes from the allocation: its `mem_mb`, or else its CPUs' share;
    /// whole GPUs (a step gets `--gpus=⌈num_gpus⌉`: Slurm does not share a GPU between steps).
    pub(crate) fn reserve(&self, job: &Job) -> super::Resources {
        let mut r = job.resources;
        r.gpus = r.gpus.ceil();
        if let (true, false, Some(m)) = (r.mem_mb <= 0.0, custom_mem(job), self.default_mem_per_cpu) {
            r.mem_mb = (r.cpus.ceil().max(1.0)) * m as f64;
        }
        r
    }

    /// `srun`'s options for `job`.
    pub(crate) fn args(&self, job: &Job) -> Vec<String> {
        let r = job.resources;
        let mut a = vec![
            "--exact".to_string(),
            "--ntasks=1".into(),
            "--nodes=1".into(),
            format!("--cpus-per-task={}", (r.cpus.ceil() as u64).max(1)),
            format!("--job-name={}", job.task),
            "--kill-on-bad-exit=1".into(),
            // the worker needs its environment (OXGRAD_WORKER, PATH, its hints), whatever the
            // job's --export (a site default of NONE would leave the step without it)
            "--export=ALL".into(),
        ];
        if r.mem_mb > 0.0 {
            a.push(format!("--mem={}M", r.mem_mb.ceil() as u64));
        } else if let (Some(m), false) = (self.default_mem_per_cpu, custom_mem(job)) {
            a.push(format!("--mem-per-cpu={m}M"));
        }
        if r.gpus > 0.0 {
            a.push(format!("--gpus={}", r.gpus.ceil() as u64));
        }
        for (k, v) in &job.options {
            if OWN_KEYS.contains(&k.as_str()) {
                continue;
            }
            match v {
                serde_json::Value::Bool(true) => a.push(format!("--{k}")),
                serde_json::Value::Bool(false) | serde_json::Value::Null => {}
                serde_json::Value::String(s) => a.push(format!("--{k}={s}")),
                other => a.push(format!("--{k}={other}")),
            }
        }
        a
    }
}

/// Whether the task's `custom.slurm` hints set a step's memory themselves.
fn custom_mem(job: &Job) -> bool {
    ["mem", "mem-per-cpu", "mem-per-gpu"].iter().any(|k| job.options.contains_key(*k))
}

/// Total CPUs of `SLURM_JOB_CPUS_PER_NODE` (`"4(x2),2"` is 4 + 4 + 2).
fn parse_cpus_per_node(text: &str) -> Option<usize> {
    let mut total = 0;
    for part in text.split(',') {
        let (n, times) = match part.split_once("(x") {
            Some((n, rest)) => (n, rest.trim_end_matches(')').parse::<usize>().ok()?),
            None => (part, 1),
        };
        total += n.trim().parse::<usize>().ok()? * times;
    }
    (total > 0).then_some(total)
}

fn env_num(key: &str) -> Option<u64> {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// The allocation a driver runs in: its CPUs, memory (MB) and GPUs, and how steps are started.
pub(crate) struct Allocation {
    pub(crate) cpus: usize,
    pub(crate) memory_mb: Option<u64>,
    /// The GPUs' ids ([`allocated_gpus`]).
    pub(crate) gpus: Option<Vec<String>>,
    pub(crate) srun: Srun,
}

/// The allocation's GPUs: `SLURM_GPUS_ON_NODE` per node (a batch script's), else `SLURM_GPUS`
/// (`--gpus=N` or `--gpus=TYPE:N`, as salloc sets it), else those in `SLURM_JOB_GPUS`; their ids
/// are the driver's `CUDA_VISIBLE_DEVICES` when it lists that many, else `0 … n−1` (Slurm binds a
/// step's own devices and sets its `CUDA_VISIBLE_DEVICES` itself).
fn allocated_gpus(nodes: u64) -> Option<Vec<String>> {
    let n = env_num("SLURM_GPUS_ON_NODE")
        .map(|g| g * nodes)
        .or_else(|| std::env::var("SLURM_GPUS").ok().and_then(|v| v.rsplit(':').next()?.trim().parse().ok()))
        .or_else(|| {
            std::env::var("SLURM_JOB_GPUS").ok().map(|v| v.split(',').filter(|d| !d.trim().is_empty()).count() as u64)
        })? as usize;
    let seen = crate::machine::gpu_devices();
    Some(if seen.len() == n { seen } else { (0..n).map(|i| i.to_string()).collect() })
}

/// Reads the allocation from Slurm's environment (`SLURM_JOB_CPUS_PER_NODE`,
/// `SLURM_MEM_PER_NODE` or `SLURM_MEM_PER_CPU`, the GPUs as [`allocated_gpus`] says).
///
/// Fails with what to do when there is no allocation (`SLURM_JOB_ID` unset) or no `srun`.
pub(crate) fn allocation() -> Result<Allocation> {
    if std::env::var_os("SLURM_JOB_ID").is_none() {
        return Err(Error::invalid(
            "executor",
            "slurm",
            "this process is not inside a Slurm allocation (SLURM_JOB_ID is not set): submit the run with sbatch (`oxgrad slurm-script CONFIG > run.sh && sbatch run.sh`), start it under salloc, or use the \"process\" executor on this machine",
        ));
    }
    if !on_path("srun") {
        return Err(Error::invalid(
            "executor",
            "slurm",
            "srun is not on PATH: load Slurm's module (e.g. `module load slurm`) or add its bin directory to PATH",
        ));
    }
    let nodes = env_num("SLURM_JOB_NUM_NODES").or_else(|| env_num("SLURM_NNODES")).unwrap_or(1).max(1);
    let cpus = std::env::var("SLURM_JOB_CPUS_PER_NODE")
        .ok()
        .and_then(|t| parse_cpus_per_node(&t))
        .or_else(|| env_num("SLURM_CPUS_ON_NODE").map(|c| c as usize * nodes as usize))
        .unwrap_or(1);
    let memory_mb = env_num("SLURM_MEM_PER_NODE")
        .map(|m| m * nodes)
        .or_else(|| env_num("SLURM_MEM_PER_CPU").map(|m| m * cpus as u64));
    Ok(Allocation {
        cpus,
        memory_mb,
        gpus: allocated_gpus(nodes),
        srun: Srun { default_mem_per_cpu: memory_mb.map(|m| (m / cpus as u64).max(1)) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_per_node_forms() {
        assert_eq!(parse_cpus_per_node("4"), Some(4));
        assert_eq!(parse_cpus_per_node("4(x2),2"), Some(10));
        assert_eq!(parse_cpus_per_node("16(x3)"), Some(48));
        assert_eq!(parse_cpus_per_node("x"), None);
        assert_eq!(parse_cpus_per_node("0"), None);
    }

    #[test]
    fn srun_options_from_resources_and_custom_hints() {
        let mut options = serde_json::Map::new();
        for (k, v) in [
            ("num_cpus", serde_json::json!(2)),
            ("name", "simulator_run:a".into()),
            ("partition", "gpu".into()),
            ("overcommit", true.into()),
            ("exclusive", false.into()),
            ("time", "00:10:00".into()),
            ("nice", 5.into()),
        ] {
            options.insert(k.to_string(), v);
        }
        let mut job = Job {
            id: 1,
            task: "simulator_run:a".into(),
            kind: super::super::JobKind::Simulate { index: 0 },
            params: std::sync::Arc::default(),
            state: serde_json::Map::new(),
            step: 0,
            resources: super::super::Resources { cpus: 1.5, gpus: 1.0, mem_mb: 0.0 },
            max_retries: 0,
            env: Vec::new(),
            options,
        };
        let srun = Srun { default_mem_per_cpu: Some(500) };
        let fixed = [
            "--exact",
            "--ntasks=1",
            "--nodes=1",
            "--cpus-per-task=2",
            "--job-name=simulator_run:a",
            "--kill-on-bad-exit=1",
            "--export=ALL",
        ];
        let custom = ["--partition=gpu", "--overcommit", "--time=00:10:00", "--nice=5"];
        let with = |mem: &str| {
            let mut v: Vec<String> = fixed.iter().map(ToString::to_string).collect();
            v.push(mem.into());
            v.push("--gpus=1".into());
            v.extend(custom.iter().map(ToString::to_string));
            v
        };
        assert_eq!(srun.args(&job), with("--mem-per-cpu=500M"));
        // the task's own custom memory option replaces the default share, and the pool reserves
        // what the step really gets
        assert_eq!(srun.reserve(&job).mem_mb, 1000.0);
        job.options.insert("mem".into(), "4G".into());
        assert!(srun.args(&job).iter().all(|a| !a.starts_with("--mem-per-cpu")), "{:?}", srun.args(&job));
        assert!(srun.args(&job).contains(&"--mem=4G".to_string()));
        assert_eq!(srun.reserve(&job).mem_mb, 0.0);
        job.options.shift_remove("mem");
        job.resources.mem_mb = 1200.0;
        assert_eq!(srun.args(&job), with("--mem=1200M"));
    }
}
