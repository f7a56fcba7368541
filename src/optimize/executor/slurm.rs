//! The Slurm executor: inside an allocation (`sbatch`, `salloc`), each task is a job step on one
//! node, `srun --exact -n1 -N1 --nodelist=<node> -c<num_cpus> --mem=<mem_mb>M [--gpus=<num_gpus>]
//! <this program>`, running a worker ([`super::worker`]) exactly as the process pool does:
//! retries, failure reports, environment and logs are the same. Slurm enforces each step's CPUs
//! and memory (a step over its `--mem` is killed and reported); the pool counts each node's CPUs,
//! memory and GPUs (what `scontrol show job -d` says the job holds there) and places a task on
//! the node with the most free CPUs that holds it, so that surplus tasks wait in the driver
//! instead of piling up as pending steps, and a step never spans nodes. A step gets whole GPUs
//! (`num_gpus = 0.5` asks `--gpus=1`): Slurm does not share a device between steps, so fractions
//! pack onto devices only under the thread and process executors.
//!
//! A node lost while a task runs there (its state DOWN, FAIL or NOT_RESPONDING, or srun's "Node
//! failure") takes no more tasks, and the task runs again on another node ([`crate::Error::NodeLost`]);
//! the job must outlive the node: `sbatch --no-kill`, which `oxgrad slurm-script` writes for
//! several nodes. Each task's record names the node of each attempt ([`super::TaskRun::nodes`]).
//!
//! Options under a task's `custom.slurm` hints go to `srun` verbatim: `{ constraint = "avx512" }`
//! becomes `--constraint=avx512`, `{ overcommit = true }` becomes `--overcommit`; those that would
//! choose the step's nodes or tasks (`nodes`, `nodelist`, `ntasks`, …) are refused. The spool
//! directory must be one every node of the allocation sees: by default `oxgrad-spool` in the
//! directory the driver was started in (set it with [`super::ProcessPool::spool`]).
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

    /// Why `job` cannot be a step here: its `custom.slurm` options would place it on several
    /// nodes, or on nodes of their own, which the executor does not do (it places each step on
    /// one node of the allocation itself).
    pub(crate) fn refuse(&self, job: &Job) -> Option<String> {
        let own = ["nodes", "nodelist", "ntasks", "ntasks-per-node", "exclude", "relative", "distribution"];
        let k = own.iter().find(|k| job.options.contains_key(**k))?;
        Some(format!(
            "its custom.slurm option `{k}` would choose the step's nodes or tasks, and the Slurm executor places each task as one step of one task on one node of the allocation itself (a step never spans nodes): remove the option; to keep tasks off a node, leave it out of the allocation (sbatch --exclude)"
        ))
    }

    /// `srun`'s options for `job` on `node` (`--nodelist`).
    pub(crate) fn args(&self, job: &Job, node: Option<&str>) -> Vec<String> {
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
        if let Some(n) = node {
            a.push(format!("--nodelist={n}"));
        }
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

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// What the job holds on one node: its name, CPUs, memory (MB; `None` when Slurm does not count
/// memory) and GPUs (their indices on the node, as Slurm's `IDX` gives them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeShare {
    pub(crate) name: String,
    pub(crate) cpus: usize,
    pub(crate) mem_mb: Option<u64>,
    pub(crate) gpus: Vec<String>,
}

/// The allocation a driver runs in: its nodes, and how steps are started.
pub(crate) struct Allocation {
    pub(crate) nodes: Vec<NodeShare>,
    pub(crate) srun: Srun,
}

/// Counts a Slurm index list: `0-1,4` is 3 (`0`, `1`, `4`); the indices themselves.
fn indices(list: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        out.extend((a..=b).map(|i| i.to_string()));
    }
    Some(out)
}

/// The GPUs of a per-node `GRES=` field (`gpu:1(IDX:0)`, `gpu:a100:2(IDX:0-1)`, `gpu(IDX:0,2)`).
fn gres_gpus(gres: &str) -> Vec<String> {
    let Some(at) = gres.find("gpu") else { return Vec::new() };
    let rest = &gres[at..];
    let (Some(i), Some(j)) = (rest.find("(IDX:"), rest.find(')')) else { return Vec::new() };
    if j < i {
        return Vec::new();
    }
    indices(&rest[i + 5..j]).unwrap_or_default()
}

/// The nodes of `scontrol show job -d JOB`: one line per group of nodes with the same share,
/// `Nodes=node[1-2] CPU_IDs=0-1 Mem=400 GRES=gpu:1(IDX:0)`; `expand` turns a node list
/// (`node[1-2]`) into names (`scontrol show hostnames`).
fn parse_job_nodes(text: &str, expand: impl Fn(&str) -> Option<Vec<String>>) -> Option<Vec<NodeShare>> {
    let mut nodes = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| l.starts_with("Nodes=") && l.contains("CPU_IDs=")) {
        let field = |key: &str| line.split_whitespace().find_map(|w| w.strip_prefix(key));
        let cpus = indices(field("CPU_IDs=")?)?.len();
        let mem_mb = field("Mem=").and_then(|m| m.parse::<u64>().ok()).filter(|&m| m > 0);
        let gpus = field("GRES=").map(gres_gpus).unwrap_or_default();
        for name in expand(field("Nodes=")?)? {
            nodes.push(NodeShare { name, cpus, mem_mb, gpus: gpus.clone() });
        }
    }
    (!nodes.is_empty()).then_some(nodes)
}

/// `scontrol ARGS`'s output, or why it failed.
fn scontrol(args: &[&str]) -> std::result::Result<String, String> {
    let out = std::process::Command::new("scontrol").args(args).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Reads the allocation: its nodes and what the job holds on each, from `scontrol show job -d
/// $SLURM_JOB_ID` (the per-node CPUs, memory and GPU indices), node lists expanded by `scontrol
/// show hostnames`.
///
/// Fails with what to do when there is no allocation (`SLURM_JOB_ID` unset), no `srun`, or
/// `scontrol` cannot show the job.
pub(crate) fn allocation() -> Result<Allocation> {
    let Ok(job) = std::env::var("SLURM_JOB_ID") else {
        return Err(Error::invalid(
            "executor",
            "slurm",
            "this process is not inside a Slurm allocation (SLURM_JOB_ID is not set): submit the run with sbatch (`oxgrad slurm-script CONFIG > run.sh && sbatch run.sh`), start it under salloc, or use the \"process\" executor on this machine",
        ));
    };
    if !on_path("srun") {
        return Err(Error::invalid(
            "executor",
            "slurm",
            "srun is not on PATH: load Slurm's module (e.g. `module load slurm`) or add its bin directory to PATH",
        ));
    }
    let cant = |why: String| {
        Error::External {
        program: "scontrol".into(),
        detail: format!(
            "could not show the nodes of job {job} (`scontrol show job -d {job}`: {why}): the Slurm executor reads each node's CPUs, memory and GPUs there; check that scontrol is on PATH and reaches the controller"
        ),
    }
    };
    let shown = scontrol(&["show", "job", "-d", &job]).map_err(cant)?;
    let nodes = parse_job_nodes(&shown, |list| {
        scontrol(&["show", "hostnames", list]).ok().map(|t| t.split_whitespace().map(str::to_string).collect())
    })
    .ok_or_else(|| cant(format!("no per-node line `Nodes=… CPU_IDs=…` in its output:\n{}", shown.trim())))?;
    // a step without mem_mb gets the smallest share per CPU of any node: it fits wherever it goes
    let default_mem_per_cpu = nodes.iter().filter_map(|n| Some((n.mem_mb? / n.cpus.max(1) as u64).max(1))).min();
    Ok(Allocation { nodes, srun: Srun { default_mem_per_cpu } })
}

/// Whether `node` was lost: its state from `scontrol show node` when that is DOWN, FAIL or
/// NOT_RESPONDING, or else srun's own word (`Node failure on NODE` in `stderr`).
pub(crate) fn node_lost(node: &str, stderr: &str) -> Option<String> {
    let state = scontrol(&["show", "node", node, "-o"])
        .ok()
        .and_then(|t| t.split_whitespace().find_map(|w| w.strip_prefix("State=").map(str::to_string)));
    if let Some(s) = state.as_deref().filter(|s| ["DOWN", "FAIL", "NOT_RESPONDING"].iter().any(|k| s.contains(k))) {
        return Some(s.to_string());
    }
    stderr
        .contains(&format!("Node failure on {node}"))
        .then(|| format!("{} (srun: node failure)", state.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulator's job of `cpus` and `gpus` with these `custom.slurm` options.
    fn job(cpus: f64, gpus: f64, options: serde_json::Map<String, serde_json::Value>) -> Job {
        Job {
            id: 1,
            task: "simulator_run:a".into(),
            kind: super::super::JobKind::Simulate { index: 0 },
            params: std::sync::Arc::default(),
            state: serde_json::Map::new(),
            step: 0,
            resources: super::super::Resources { cpus, gpus, mem_mb: 0.0 },
            max_retries: 0,
            attempts_made: 0,
            env: Vec::new(),
            options,
        }
    }

    /// `scontrol show job -d` of a job on three nodes (two lines: node[2-3] share one), GPUs
    /// by index, memory per node; a node list is expanded as `scontrol show hostnames` would.
    #[test]
    fn per_node_shares_from_scontrol_show_job() {
        let shown = "JobId=6 JobName=interactive\n   NumNodes=3 NumCPUs=5 NumTasks=3 CPUs/Task=1 ReqB:S:C:T=0:0:*:*\n   TRES=cpu=5,mem=1000M,node=3,billing=5\n     Nodes=node1 CPU_IDs=0-1,4 Mem=600 GRES=gpu:a100:2(IDX:0,2)\n     Nodes=node[2-3] CPU_IDs=0 Mem=200 GRES=\n   MinCPUsNode=1\n";
        let expand = |l: &str| {
            Some(match l {
                "node[2-3]" => vec!["node2".to_string(), "node3".to_string()],
                other => vec![other.to_string()],
            })
        };
        let nodes = parse_job_nodes(shown, expand).unwrap();
        let share = |name: &str, cpus, mem, gpus: &[&str]| NodeShare {
            name: name.into(),
            cpus,
            mem_mb: Some(mem),
            gpus: gpus.iter().map(ToString::to_string).collect(),
        };
        assert_eq!(
            nodes,
            [share("node1", 3, 600, &["0", "2"]), share("node2", 1, 200, &[]), share("node3", 1, 200, &[])]
        );
        // without memory accounting (Mem=0) a node's memory is not counted
        let one = parse_job_nodes("     Nodes=n7 CPU_IDs=2-5 Mem=0 GRES=gpu:1(IDX:1)", expand).unwrap();
        assert_eq!(one, [NodeShare { name: "n7".into(), cpus: 4, mem_mb: None, gpus: vec!["1".into()] }]);
        assert_eq!(parse_job_nodes("JobId=1 NumNodes=1", expand), None);
        assert_eq!(indices("0-2,7").unwrap(), ["0", "1", "2", "7"]);
        assert_eq!(gres_gpus("gpu(IDX:0-1)"), ["0", "1"]);
        assert!(gres_gpus("mps:100").is_empty());
    }

    #[test]
    fn options_that_choose_nodes_are_refused_by_name() {
        let mut job = job(1.0, 0.0, serde_json::Map::new());
        let srun = Srun { default_mem_per_cpu: None };
        assert_eq!(srun.refuse(&job), None);
        assert!(srun.args(&job, Some("node2")).contains(&"--nodelist=node2".to_string()));
        job.options.insert("nodes".into(), 2.into());
        assert!(
            srun.refuse(&job).unwrap().starts_with("its custom.slurm option `nodes` would choose"),
            "{:?}",
            srun.refuse(&job)
        );
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
        let mut job = job(1.5, 1.0, options);
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
        assert_eq!(srun.args(&job, None), with("--mem-per-cpu=500M"));
        // the task's own custom memory option replaces the default share, and the pool reserves
        // what the step really gets
        assert_eq!(srun.reserve(&job).mem_mb, 1000.0);
        job.options.insert("mem".into(), "4G".into());
        assert!(srun.args(&job, None).iter().all(|a| !a.starts_with("--mem-per-cpu")), "{:?}", srun.args(&job, None));
        assert!(srun.args(&job, None).contains(&"--mem=4G".to_string()));
        assert_eq!(srun.reserve(&job).mem_mb, 0.0);
        job.options.shift_remove("mem");
        job.resources.mem_mb = 1200.0;
        assert_eq!(srun.args(&job, None), with("--mem=1200M"));
    }
}
