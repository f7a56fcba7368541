//! The Slurm executor against a real Slurm cluster (`.ci/slurm.sh start`; `.ci/run` starts one):
//! every test here is `#[ignore]`d by default and run with
//! `cargo test --release --test slurm -- --ignored`.
//!
//! The tests named `multi_node_…` need the three-node cluster of `.ci/slurm-multi.sh` (nodes
//! `node1` … `node3`, each its own host) and the others the one-node cluster of `.ci/slurm.sh`:
//! `.ci/run` runs each group against its own.
//!
//! A test runs itself inside an allocation: outside one it calls `salloc … <this binary> <its
//! name>`; inside it is the driver, and the job steps `srun` starts are this binary again, in
//! worker mode. What they measure is written by the tasks themselves.

use oxgrad::optimize::executor::unix_now;
use oxgrad::optimize::*;
use oxgrad::params::ParamGrads;
use oxgrad::Error;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const NEEDS: &str = "needs a Slurm cluster: .ci/slurm.sh start && export SLURM_CONF=/tmp/slurm-ci/slurm.conf";

/// Inside the allocation this test made (the driver, or one of its workers).
fn inside() -> bool {
    std::env::var_os("SLURM_JOB_ID").is_some() && std::env::var_os("OXGRAD_TEST_DIR").is_some()
}

fn cluster_up() {
    let ok = Command::new("sinfo").args(["-h", "-o", "%T"]).output().is_ok_and(|o| o.status.success());
    assert!(ok, "no Slurm cluster answers `sinfo`: {NEEDS}");
}

/// Runs this test binary's `test` inside `salloc <alloc>`; its output. Panics (with that
/// output) if it failed.
fn in_allocation(test: &str, alloc: &[&str]) -> String {
    cluster_up();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("salloc")
        .args(alloc)
        .arg(&exe)
        .args([test, "--exact", "--include-ignored", "--nocapture", "--test-threads=1"])
        .env("OXGRAD_TEST_DIR", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "inside the allocation:\n{text}");
    text
}

fn slurm_pool(test: &str) -> ProcessPool {
    ProcessPool::slurm().unwrap().worker_args([test, "--exact", "--include-ignored", "--nocapture", "--test-threads=1"])
}

/// Sleeps `busy`, then reports when it ran and what Slurm gave its step.
struct Timed {
    name: String,
    busy: Duration,
    hints: SchedulerHints,
    /// Exit with this status on the first attempt (a failed step).
    fail_first: Option<i32>,
    /// Allocate this many MB and hold them for two seconds.
    hog_mb: usize,
}

impl Timed {
    fn new(name: &str, busy_ms: u64, cpus: u32, mem_mb: Option<u64>) -> Timed {
        let hints = SchedulerHints { num_cpus: Some(cpus), mem_mb, ..SchedulerHints::default() };
        Timed { name: name.into(), busy: Duration::from_millis(busy_ms), hints, fail_first: None, hog_mb: 0 }
    }
}

impl Simulator for Timed {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "Timed"
    }
    fn produces(&self) -> Vec<String> {
        vec!["span".into()]
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn run(&self, ctx: &TaskContext, _: &Params, _: &State) -> oxgrad::Result<SimOutput> {
        if let (Some(code), 1) = (self.fail_first, ctx.attempt) {
            std::process::exit(code);
        }
        let env = |k: &str| std::env::var(k).unwrap_or_default();
        // a mark that the task started, where and which attempt (tests that stop a node watch for it)
        if let Some(dir) = std::env::var_os("OXGRAD_TEST_DIR") {
            let mark = format!("started-{}-{}-{}", self.name, ctx.attempt, env("SLURMD_NODENAME"));
            let _ = std::fs::write(Path::new(&dir).join(mark), "");
        }
        if self.hog_mb > 0 {
            let block: Vec<u8> = vec![1; self.hog_mb << 20];
            std::thread::sleep(Duration::from_secs(3));
            std::hint::black_box(&block);
        }
        let start = unix_now();
        std::thread::sleep(self.busy);
        // what Slurm allocated to this step (its environment shows the job's memory, not the step's)
        let step = format!("{}.{}", env("SLURM_JOB_ID"), env("SLURM_STEP_ID"));
        let shown = Command::new("scontrol").args(["show", "step", &step]).output().unwrap();
        let tres = String::from_utf8_lossy(&shown.stdout)
            .split_whitespace()
            .find_map(|w| w.strip_prefix("TRES=").map(str::to_string))
            .unwrap_or_default();
        let span = serde_json::json!({
            "start": start, "end": unix_now(), "step_id": env("SLURM_STEP_ID"),
            "cpus": env("SLURM_CPUS_PER_TASK"), "tres": tres, "attempt": ctx.attempt,
            "gpus": env("CUDA_VISIBLE_DEVICES"), "step_gpus": env("SLURM_STEP_GPUS"),
            "node": env("SLURMD_NODENAME"), "host": hostname(),
        });
        Ok(SimOutput { observables: vec![Observation::Json(span)], state: State::new() })
    }
}

fn hostname() -> String {
    Command::new("hostname").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}

fn report_all(sims: &[Timed]) -> GenericObjective {
    let ids = sims.iter().flat_map(Simulator::exposes).collect();
    // the generic objective reports its inputs under their names (`span.Timed.NAME`)
    GenericObjective::new("spans", ids, |_, _| Ok((ParamGrads([("x".to_string(), 0.0)].into()), BTreeMap::new())))
}

fn run_spans(test: &str, sims: Vec<Timed>) -> oxgrad::Result<Vec<serde_json::Value>> {
    Ok(run_tasks(test, sims)?.0)
}

/// The spans the tasks reported, and the pool's record of each task.
fn run_tasks(test: &str, sims: Vec<Timed>) -> oxgrad::Result<(Vec<serde_json::Value>, Vec<TaskRun>)> {
    let objective = report_all(&sims);
    let opt = Optimization::new(UpdateRule::sgd(0.1)?)
        .simulators(sims)
        .objective(objective)
        .aggregate(Aggregate::Mean)
        .executor(slurm_pool(test));
    let out = opt.run([("x".to_string(), 0.0)].into(), 1, None)?;
    let spans = out.last.observables["spans"]
        .values()
        .map(|o| match o {
            Observation::Json(v) => v.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    Ok((spans, out.last.tasks))
}

/// Runs `sims` in the allocation `alloc` (one optimization per test: a worker builds the same
/// optimization as its driver, and this test's driver runs just this one).
fn spans_in_allocation(
    test: &str,
    alloc: &[&str],
    sims: impl FnOnce() -> Vec<Timed>,
) -> Option<Vec<serde_json::Value>> {
    if !inside() {
        in_allocation(test, alloc);
        return None;
    }
    Some(run_spans(test, sims()).unwrap())
}

/// The most spans that overlap at any instant.
fn max_overlap(spans: &[serde_json::Value]) -> usize {
    let t = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    spans
        .iter()
        .map(|a| spans.iter().filter(|b| t(b, "start") <= t(a, "start") && t(a, "start") < t(b, "end")).count())
        .max()
        .unwrap_or(0)
}

#[test]
#[ignore = "needs a Slurm cluster (.ci/slurm.sh start)"]
fn one_cpu_steps_never_oversubscribe_the_allocation() {
    // five one-CPU tasks on two CPUs: at most two at once, and two at once do happen
    let test = "one_cpu_steps_never_oversubscribe_the_allocation";
    let sims = || (0..5).map(|i| Timed::new(&format!("cpu.{i}"), 700, 1, None)).collect();
    let Some(spans) = spans_in_allocation(test, &["--cpus-per-task=2", "--mem=1000M"], sims) else { return };
    assert_eq!(spans.len(), 5);
    assert_eq!(max_overlap(&spans), 2, "{spans:?}");
    let ids: std::collections::BTreeSet<&str> = spans.iter().map(|s| s["step_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5, "each task its own job step: {spans:?}");
    // without a mem_mb hint a step gets the allocation's memory per CPU (1000 MB / 2 CPUs)
    assert!(spans.iter().all(|s| s["tres"] == "cpu=1,mem=500M,node=1"), "srun -c1 --mem-per-cpu=500M: {spans:?}");
}

/// GPUs through Slurm's GRES (the CI cluster's node has two stand-in GPUs): in an allocation of
/// two GPUs and two CPUs, three tasks that ask for one GPU, one GPU and half a GPU each get a step with a whole GPU
/// (Slurm does not share one between steps), bound by Slurm (`SLURM_STEP_GPUS`, which the task
/// sees as its `CUDA_VISIBLE_DEVICES`: 0 or 1); at
/// most two run at once and those that overlap have different devices.
#[test]
#[ignore = "needs a Slurm cluster (.ci/slurm.sh start)"]
fn gpu_steps_get_their_devices_from_slurm_gres() {
    let sims = || {
        [1.0, 1.0, 0.5]
            .iter()
            .enumerate()
            .map(|(k, g)| {
                let mut t = Timed::new(&format!("gpu{k}"), 1500, 1, Some(100));
                t.hints.num_gpus = Some(*g);
                t
            })
            .collect()
    };
    let alloc = ["-n2", "-c1", "--gpus=2", "--mem=1000M"];
    let Some(spans) = spans_in_allocation("gpu_steps_get_their_devices_from_slurm_gres", &alloc, sims) else {
        return;
    };
    assert_eq!(spans.len(), 3);
    for s in &spans {
        // the device Slurm bound to the step is the one the task sees
        assert!(["0", "1"].contains(&s["step_gpus"].as_str().unwrap()), "{spans:?}");
        assert_eq!(s["gpus"], s["step_gpus"], "{spans:?}");
    }
    assert_eq!(max_overlap(&spans), 2, "{spans:?}");
    let t = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    for a in &spans {
        for b in &spans {
            if !std::ptr::eq(a, b) && t(a, "start") < t(b, "end") && t(b, "start") < t(a, "end") {
                assert_ne!(a["gpus"], b["gpus"], "steps at the same time share a device: {spans:?}");
            }
        }
    }
}

#[test]
#[ignore = "needs a Slurm cluster (.ci/slurm.sh start)"]
fn memory_hints_are_step_limits_and_queue_steps() {
    // two tasks of 600 MB in an allocation of 1000 MB: one at a time, each step --mem=600M; a
    // two-CPU task gets -c2
    let test = "memory_hints_are_step_limits_and_queue_steps";
    let sims = || {
        let mut v: Vec<Timed> = (0..2).map(|i| Timed::new(&format!("mem.{i}"), 700, 1, Some(600))).collect();
        v.push(Timed::new("wide", 10, 2, Some(100)));
        v
    };
    let Some(spans) = spans_in_allocation(test, &["--cpus-per-task=2", "--mem=1000M"], sims) else { return };
    let (wide, mem): (Vec<_>, Vec<_>) = spans.into_iter().partition(|s| s["cpus"] == "2");
    assert_eq!((wide.len(), mem.len()), (1, 2), "{wide:?} {mem:?}");
    assert_eq!(max_overlap(&mem), 1, "{mem:?}");
    assert!(mem.iter().all(|s| s["tres"] == "cpu=1,mem=600M,node=1"), "srun -c1 --mem=600M: {mem:?}");
    assert_eq!(wide[0]["tres"], "cpu=2,mem=100M,node=1");
}

#[test]
#[ignore = "needs a Slurm cluster (.ci/slurm.sh start)"]
fn a_failed_step_is_retried() {
    let test = "a_failed_step_is_retried";
    let sims = || {
        let mut flaky = Timed::new("flaky", 10, 1, None);
        flaky.fail_first = Some(7);
        flaky.hints.max_retries = Some(1);
        vec![flaky]
    };
    let Some(spans) = spans_in_allocation(test, &["--cpus-per-task=1", "--mem=500M"], sims) else { return };
    assert_eq!(spans[0]["attempt"], 2);
}

#[test]
#[ignore = "needs a Slurm cluster (.ci/slurm.sh start)"]
fn a_step_over_its_memory_is_killed_and_reported() {
    const TEST: &str = "a_step_over_its_memory_is_killed_and_reported";
    if !inside() {
        in_allocation(TEST, &["--cpus-per-task=1", "--mem=1500M"]);
        return;
    }
    let mut hog = Timed::new("hog", 10, 1, Some(100));
    hog.hog_mb = 600;
    hog.hints.max_retries = Some(1);
    let err = run_spans(TEST, vec![hog]).unwrap_err();
    let Error::TaskFailed { task, attempts: 2, source } = &err else { panic!("{err}") };
    assert_eq!(task, "simulator_run:hog");
    let Error::Worker { how, .. } = &**source else { panic!("{source}") };
    assert!(how.contains("exited with status 137 (128 + SIGKILL: Slurm kills a step over its --mem this way"), "{err}");
}

/// The example's last line: the final parameters.
fn example(args: &[&str], slurm: bool) -> BTreeMap<String, f64> {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("examples").join("executors");
    assert!(bin.is_file(), "{} is built by `cargo test` (examples are compiled with the tests)", bin.display());
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut cmd = if slurm {
        let mut c = Command::new("salloc");
        c.args(["--cpus-per-task=2", "--mem=1500M"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let out = cmd.args(args).current_dir(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
#[ignore = "needs a Slurm cluster (.ci/slurm.sh start)"]
fn the_same_optimization_gives_the_same_parameters_on_every_executor() {
    cluster_up();
    let thread = example(&["--executor", "thread"], false);
    let process = example(&["--executor", "process"], false);
    let slurm = example(&["--executor", "slurm"], true);
    assert_eq!(thread.len(), 20);
    let moved = thread.iter().filter(|(k, v)| (**v - process[*k]).abs() > 1e-12 || (**v - slurm[*k]).abs() > 1e-12);
    assert_eq!(moved.count(), 0, "thread {thread:?}\nprocess {process:?}\nslurm {slurm:?}");
    assert!(thread["theta0_stack_4"].abs() > 1e-4, "the optimization moved the parameters: {thread:?}");
}

#[test]
#[ignore = "needs a Slurm cluster (.ci/slurm.sh start)"]
fn a_slurm_script_runs_the_optimization_under_sbatch() {
    cluster_up();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let config = include_str!("../examples/executors.rs").split("r#\"").nth(1).unwrap().split("\"#").next().unwrap();
    std::fs::write(dir.path().join("c.toml"), format!("{config}\n[executor]\nkind = \"slurm\"\n")).unwrap();
    let oxgrad = env!("CARGO_BIN_EXE_oxgrad");
    let script = Command::new(oxgrad)
        .args(["slurm-script", "c.toml", "-o", "run", "--mem-per-cpu", "700"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(script.status.success(), "{}", String::from_utf8_lossy(&script.stderr));
    std::fs::write(dir.path().join("run.sh"), &script.stdout).unwrap();
    let sub = Command::new("sbatch").args(["--parsable", "run.sh"]).current_dir(dir.path()).output().unwrap();
    assert!(sub.status.success(), "{}", String::from_utf8_lossy(&sub.stderr));
    let job = String::from_utf8_lossy(&sub.stdout).trim().to_string();
    wait_for_job(&job);
    let log = std::fs::read_to_string(dir.path().join(format!("oxgrad-c-{job}.log"))).unwrap();
    assert!(log.lines().last().unwrap().starts_with("initial_loss="), "{log}");
    assert!(Path::new(&dir.path().join("run/params_final.toml")).is_file(), "{log}");
}

fn wait_for_job(job: &str) {
    for _ in 0..1200 {
        let q = Command::new("squeue").args(["-h", "-j", job]).output().unwrap();
        if String::from_utf8_lossy(&q.stdout).trim().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("job {job} did not end within 5 minutes");
}

/// The three-node cluster of `.ci/slurm-multi.sh`.
fn multi_cluster_up() {
    cluster_up();
    let nodes = Command::new("sinfo").args(["-h", "-N", "-o", "%N"]).output().unwrap();
    let nodes =
        String::from_utf8_lossy(&nodes.stdout).split_whitespace().collect::<std::collections::BTreeSet<_>>().len();
    assert!(nodes >= 3, "a cluster of at least three nodes is needed, `sinfo` shows {nodes}: .ci/slurm-multi.sh start && export SLURM_CONF=/tmp/slurm-multi/slurm.conf");
}

fn multi_script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/slurm-multi.sh")
}

/// Final parameters of `params_final.toml` in `run`.
fn final_params(run: &Path) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(run.join("params_final.toml")).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    fn walk(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, f64>) {
        match v {
            toml::Value::Table(t) => t.iter().for_each(|(k, v)| walk(&format!("{prefix}{k}."), v, out)),
            toml::Value::Float(f) => {
                out.insert(prefix.trim_end_matches('.').to_string(), *f);
            }
            toml::Value::Integer(i) => {
                out.insert(prefix.trim_end_matches('.').to_string(), *i as f64);
            }
            _ => {}
        }
    }
    walk("", &toml::Value::Table(table), &mut out);
    out
}

/// Per-node GPUs (each node of the CI cluster has one stand-in GPU): three one-GPU tasks in an
/// allocation of three nodes with a GPU each run at once, each on its own node, with the GPU
/// Slurm bound there; a task of two GPUs, which no node has, is refused before it runs.
#[test]
#[ignore = "needs the three-node Slurm cluster (.ci/slurm-multi.sh start)"]
fn multi_node_gpus_are_counted_per_node() {
    const TEST: &str = "multi_node_gpus_are_counted_per_node";
    if !inside() {
        multi_cluster_up();
        in_allocation(TEST, &["-N3", "--ntasks-per-node=1", "-c1", "--gpus-per-node=1", "--mem-per-cpu=300M"]);
        return;
    }
    let gpu = |name: &str, g: f64| {
        let mut t = Timed::new(name, 2000, 1, Some(100));
        t.hints.num_gpus = Some(g);
        t
    };
    let (spans, tasks) = run_tasks(TEST, (0..3).map(|k| gpu(&format!("gpu{k}"), 1.0)).collect()).unwrap();
    assert_eq!(max_overlap(&spans), 3, "{spans:?}");
    let nodes: std::collections::BTreeSet<&str> = spans.iter().map(|s| s["node"].as_str().unwrap()).collect();
    assert_eq!(nodes.len(), 3, "one GPU task per node: {spans:?}");
    assert!(spans.iter().all(|s| s["step_gpus"] == "0" && s["gpus"] == "0"), "{spans:?}");
    for s in &spans {
        let name = s["step_id"].as_str().unwrap();
        assert!(tasks.iter().any(|t| t.nodes.last().map(String::as_str) == s["node"].as_str()), "{name}: {tasks:?}");
    }
    let err = run_spans(TEST, vec![gpu("two", 2.0)]).unwrap_err().to_string();
    assert!(err.contains("it needs 1 CPUs, 2 GPUs and 100 MB on one node, and no node of the allocation has that much (node1: 1 CPUs, 1 GPUs, 300 MB"), "{err}");
}

/// `oxgrad slurm-script --nodes 3` and sbatch: the job has three nodes, its steps run on more
/// than one of them (each task's node in metrics.jsonl, as its step's SLURMD_NODENAME), and the
/// final parameters are those of the thread executor on the same configuration.
#[test]
#[ignore = "needs the three-node Slurm cluster (.ci/slurm-multi.sh start)"]
fn multi_node_sbatch_run_spreads_steps_and_matches_threads() {
    multi_cluster_up();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let config = include_str!("../examples/executors.rs").split("r#\"").nth(1).unwrap().split("\"#").next().unwrap();
    std::fs::write(dir.path().join("c.toml"), format!("{config}\n[executor]\nkind = \"slurm\"\n")).unwrap();
    std::fs::write(dir.path().join("t.toml"), format!("{config}\n[executor]\nkind = \"thread\"\ncpus = 2\n")).unwrap();
    let oxgrad = env!("CARGO_BIN_EXE_oxgrad");
    let script = Command::new(oxgrad)
        .args(["slurm-script", "c.toml", "-o", "run", "--nodes", "3", "--mem-per-cpu", "400"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(script.status.success(), "{}", String::from_utf8_lossy(&script.stderr));
    let text = String::from_utf8_lossy(&script.stdout).to_string();
    for line in ["#SBATCH --nodes=3", "#SBATCH --ntasks-per-node=1", "#SBATCH --no-kill", "#SBATCH --cpus-per-task=1"] {
        assert!(text.contains(line), "{line}:\n{text}");
    }
    std::fs::write(dir.path().join("run.sh"), &text).unwrap();
    let sub = Command::new("sbatch").args(["--parsable", "run.sh"]).current_dir(dir.path()).output().unwrap();
    assert!(sub.status.success(), "{}", String::from_utf8_lossy(&sub.stderr));
    let job = String::from_utf8_lossy(&sub.stdout).trim().to_string();
    let threads =
        Command::new(oxgrad).args(["optimize", "t.toml", "-o", "trun"]).current_dir(dir.path()).output().unwrap();
    assert!(threads.status.success(), "{}", String::from_utf8_lossy(&threads.stderr));
    wait_for_job(&job);
    let log = std::fs::read_to_string(dir.path().join(format!("oxgrad-c-{job}.log"))).unwrap();
    let metrics =
        std::fs::read_to_string(dir.path().join("run/metrics.jsonl")).unwrap_or_else(|e| panic!("{e}\n{log}"));
    let mut nodes = std::collections::BTreeMap::<String, usize>::new();
    for line in metrics.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        for t in record["tasks"].as_array().into_iter().flatten() {
            let on = t["nodes"].as_array().unwrap_or_else(|| panic!("a task without its nodes: {t}"));
            // what the step used, as its worker reported it from its node
            assert!(t["peak_mem_mb"].as_f64().is_some_and(|m| m > 1.0), "{t}");
            assert!(t["cpu_seconds"].as_f64().is_some_and(|c| c >= 0.0), "{t}");
            for n in on {
                *nodes.entry(n.as_str().unwrap().to_string()).or_default() += 1;
            }
        }
    }
    println!("tasks per node: {nodes:?}");
    assert!(nodes.len() >= 2, "the steps ran on {nodes:?}:\n{log}");
    assert!(nodes.keys().all(|n| ["node1", "node2", "node3"].contains(&n.as_str())), "{nodes:?}");
    let (slurm, thread) = (final_params(&dir.path().join("run")), final_params(&dir.path().join("trun")));
    assert_eq!(slurm.len(), thread.len());
    assert!(!thread.is_empty());
    let moved = thread.iter().filter(|(k, v)| (**v - slurm[*k]).abs() > 1e-12).count();
    assert_eq!(moved, 0, "thread {thread:?}\nslurm {slurm:?}");
}

/// A node dies (every process of its namespace killed, slurmd and the steps) while a task runs
/// on it: the task runs again on another node, the run completes, and the task's record shows
/// both attempts and their nodes; the job (salloc --no-kill) outlives the node.
#[test]
#[ignore = "needs the three-node Slurm cluster (.ci/slurm-multi.sh start)"]
fn multi_node_a_lost_node_s_task_runs_again_elsewhere() {
    const TEST: &str = "multi_node_a_lost_node_s_task_runs_again_elsewhere";
    let sims = || (0..3).map(|i| Timed::new(&format!("long.{i}"), 10_000, 2, Some(200))).collect::<Vec<_>>();
    if inside() {
        let (spans, tasks) = run_tasks(TEST, sims()).unwrap();
        let dir = std::env::var("OXGRAD_TEST_DIR").unwrap();
        let killed = std::fs::read_to_string(Path::new(&dir).join("killed")).unwrap();
        println!("tasks: {}", serde_json::to_string(&tasks).unwrap());
        let sims: Vec<&TaskRun> = tasks.iter().filter(|t| t.task.starts_with("simulator_run:")).collect();
        let again: Vec<&&TaskRun> = sims.iter().filter(|t| t.attempts == 2).collect();
        assert_eq!(again.len(), 1, "{tasks:?}");
        assert_eq!(again[0].nodes.len(), 2, "{tasks:?}");
        assert_eq!(again[0].nodes[0], killed.trim(), "{tasks:?}");
        assert_ne!(again[0].nodes[1], killed.trim(), "{tasks:?}");
        assert!(sims.iter().filter(|t| t.attempts == 1).all(|t| t.ok && t.nodes[0] != killed.trim()), "{tasks:?}");
        // what each task's step says of itself: its node and host are those of the record
        for s in &spans {
            assert_eq!(s["node"], s["host"], "{spans:?}");
            assert!(sims.iter().any(|t| t.nodes.last().map(String::as_str) == s["node"].as_str()), "{spans:?}");
        }
        let distinct: std::collections::BTreeSet<&str> = spans.iter().map(|s| s["node"].as_str().unwrap()).collect();
        assert!(distinct.len() >= 2, "{spans:?}");
        return;
    }
    multi_cluster_up();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let salloc = Command::new("salloc")
        .args(["--no-kill", "-N3", "--ntasks-per-node=1", "-c2", "--mem-per-cpu=300M"])
        .arg(&exe)
        .args([TEST, "--exact", "--include-ignored", "--nocapture", "--test-threads=1"])
        .env("OXGRAD_TEST_DIR", dir.path())
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // the node of the first task that starts
    let started = std::time::Instant::now();
    let node = loop {
        let marks = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok());
        if let Some(n) = marks.filter_map(|m| m.strip_prefix("started-")?.rsplit('-').next().map(str::to_string)).next()
        {
            break n;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no task started within a minute");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::fs::write(dir.path().join("killed"), &node).unwrap();
    let killed_at = started.elapsed().as_secs_f64();
    let k = node.trim_start_matches("node");
    let kill = Command::new("bash").arg(multi_script()).args(["kill-node", k]).status().unwrap();
    let out = salloc.wait_with_output().unwrap();
    let revive = Command::new("bash").arg(multi_script()).args(["revive-node", k]).status().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("killed {node} at {killed_at:.1} s; the run took {:.1} s\n{text}", started.elapsed().as_secs_f64());
    assert!(kill.success() && revive.success(), "kill-node/revive-node {k} failed");
    assert!(out.status.success() && text.contains("1 passed"), "inside the allocation:\n{text}");
}
