//! `oxgrad optimize CONFIG`: the run directory, the final line, an existing run left alone, and
//! `--gradient-only` on a replayed oxDNA trajectory against central differences of the
//! reweighted loss.

mod common;

use oxgrad::config::ConfigFile;
use oxgrad::objective::Reference;
use oxgrad::params::ParamSet;
use std::path::Path;
use std::process::Command;

fn oxgrad(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_oxgrad")).args(args).current_dir(dir).output().unwrap()
}

const SHORT: &str = r#"
[model]
kind = "dna1"
temperature = "300K"

[optimizer]
learning_rate = 1e-3
steps = 3
train = ["Stacking"]

[[simulator]]
name = "duplex"
kind = "native"
copies = 2
duplex = "ACGTTGCA"
md_steps = 4000
sample_every = 100
equilibration_steps = 1000

[[objective]]
name = "rise"
simulators = ["duplex"]
observable = { kind = "rise", exclude_end_pairs = 1 }
target = 0.36

[validation]
md_steps = 4000
"#;

#[test]
fn optimize_writes_a_run_directory_and_a_final_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("short.toml"), SHORT).unwrap();
    let out = oxgrad(&["optimize", "short.toml", "-o", "run"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap();
    let keys: Vec<&str> = last.split(' ').map(|kv| kv.split('=').next().unwrap()).collect();
    assert_eq!(
        keys,
        ["initial_loss", "final_loss", "best_step", "steps", "validated", "initial_validated", "target", "run_dir"],
        "{last}"
    );
    assert!(last.contains("steps=3 ") && last.contains("target=0.36"), "{last}");
    let run = dir.path().join("run");
    // one metrics line per evaluated step: 0..=3, each with the observable ± error and n_eff
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    for (k, l) in lines.iter().enumerate() {
        assert_eq!(l["step"], k);
        let rise = &l["objectives"]["rise"]["observables"]["rise"];
        assert!(rise["value"].as_f64().unwrap() > 0.3 && rise["std_err"].as_f64().unwrap() > 0.0, "{rise}");
        assert_eq!(rise["unit"], "nm");
        assert!(l["objectives"]["rise"]["n_eff"].as_f64().unwrap() > 0.0);
        assert!(l["params"]["eps_stack_base"].as_f64().is_some() && l["grads"]["eps_stack_base"].as_f64().is_some());
    }
    for f in [
        "config.toml",
        "seeds.toml",
        "params_initial.toml",
        "validation.json",
        "loss.png",
        "observables.png",
        "neff.png",
    ] {
        assert!(run.join(f).is_file(), "{f}");
    }
    let best = ParamSet::read(run.join("params_best.toml")).unwrap();
    let fin = ParamSet::read(run.join("params_final.toml")).unwrap();
    assert!((fin.value("eps_stack_base") - 1.3448).abs() > 1e-4, "stacking was trained");
    assert!((fin.value("eps_backbone") - 2.0).abs() < 1e-15, "FENE was not");
    assert_eq!(best.model(), fin.model());
    // the resolved configuration reads back to the same run
    ConfigFile::read(run.join("config.toml")).unwrap();
    // the fitted parameters are usable: an MD input runs with them
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("validation.json")).unwrap()).unwrap();
    assert_eq!(v[0]["copies"], 2);
    // the fitted parameters are usable: oxgrad energy evaluates a trajectory with them
    let input = common::case_dir("dna1-avg-8bp-T296").join("input_analysis_nomesh");
    let energy = |extra: &[&str]| {
        let mut args = vec!["energy", input.to_str().unwrap()];
        args.extend(extra);
        let out = oxgrad(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let params_file = run.join("params_final.toml");
    let (plain, fitted) = (energy(&[]), energy(&["--params", params_file.to_str().unwrap()]));
    let stacking = |tsv: &str| -> f64 { tsv.lines().nth(1).unwrap().split('\t').nth(4).unwrap().parse().unwrap() };
    assert!(
        (stacking(&plain) - stacking(&fitted)).abs() > 1e-6,
        "the fitted stacking parameters change the stacking energy"
    );

    // a second run into the same directory is refused, and leaves it as it was
    let again = oxgrad(&["optimize", "short.toml", "-o", "run"], dir.path());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(run.join("metrics.jsonl")).unwrap(), metrics);
}

/// A replayed oxDNA trajectory: `--gradient-only` prints the gradient of the reweighted loss,
/// which equals central differences of that loss (reference energies at the start).
#[test]
fn gradient_only_equals_central_differences_of_the_reweighted_loss() {
    let dir = tempfile::tempdir().unwrap();
    let case = common::case_dir("dna1-avg-8bp-T296");
    let config = format!(
        r#"
[model]
kind = "dna1"
temperature = "296.15K"

[optimizer]
steps = 1
train = ["eps_stack_base", "dr0_stack", "r0_backbone", "theta0_hb_4"]

[[simulator]]
name = "oxdna"
kind = "trajectory"
topology = "{0}/init.top"
trajectory = "{0}/trajectory.dat"

[[objective]]
name = "pitch"
simulators = ["oxdna"]
observable = {{ kind = "pitch", exclude_end_pairs = 1 }}
target = 10.5
"#,
        case.display()
    );
    let path = dir.path().join("g.toml");
    std::fs::write(&path, &config).unwrap();
    let out = oxgrad(&["optimize", "g.toml", "--gradient-only"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert!((json["n_eff"]["pitch"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let plan = ConfigFile::read(&path).unwrap().build().unwrap();
    let start = plan.start();
    let traj = match &plan.simulators[0].kind {
        oxgrad::config::plan::SimulatorKind::Trajectory(t) => t.trajectory().clone(),
        _ => unreachable!("a trajectory simulator"),
    };
    let oxgrad::config::plan::PlannedObjective::Difftre(d) = &plan.objectives[0].objective else {
        unreachable!("a DiffTRe objective")
    };
    let loss = |p: &oxgrad::optimize::Params| {
        d.evaluate(std::slice::from_ref(&traj), Reference::Params(&start), p).unwrap().loss
    };
    assert!((json["loss"].as_f64().unwrap() - loss(&start)).abs() < 1e-12);
    for (name, v) in &start {
        let h = 1e-6 * v.abs().max(0.1);
        let (mut up, mut down) = (start.clone(), start.clone());
        *up.get_mut(name).unwrap() += h;
        *down.get_mut(name).unwrap() -= h;
        let fd = (loss(&up) - loss(&down)) / (2.0 * h);
        let g = json["grads"][name].as_f64().unwrap();
        assert!(g.abs() > 1e-6, "{name}");
        assert!(
            (g - fd).abs() <= 1e-5 * g.abs().max(fd.abs()) + 1e-9,
            "d/d{name}: printed {g}, finite difference {fd}"
        );
    }
}

/// `[executor] kind = "process"`: the same run on worker processes gives the thread pool's
/// parameters to the last bit, and the workers' log lines reach the driver's log with their task.
#[test]
fn the_process_executor_gives_the_thread_pools_result_and_forwards_worker_logs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("threads.toml"), SHORT).unwrap();
    std::fs::write(dir.path().join("processes.toml"), format!("{SHORT}\n[executor]\nkind = \"process\"\ncpus = 2\n"))
        .unwrap();
    let threads = oxgrad(&["optimize", "threads.toml", "-o", "t"], dir.path());
    assert!(threads.status.success(), "{}", String::from_utf8_lossy(&threads.stderr));
    let processes = oxgrad(&["-v", "optimize", "processes.toml", "-o", "p"], dir.path());
    let log = String::from_utf8_lossy(&processes.stderr);
    assert!(processes.status.success(), "{log}");
    let read = |d: &str| std::fs::read_to_string(dir.path().join(d).join("params_final.toml")).unwrap();
    assert_eq!(read("t"), read("p"));
    for task in ["simulator_run:duplex.0", "simulator_run:duplex.1", "objective_compute:rise"] {
        assert!(log.contains(&format!("DEBUG [{task} on process-")), "{task} not in:\n{log}");
    }
    // each worker process's peak memory is recorded with its task (the threads' is not measured)
    let first_step = |d: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(dir.path().join(d).join("metrics.jsonl")).unwrap();
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    };
    // and its CPU time: none before it started, at most all the machine's cores for as long as it ran
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    let mut simulators_cpu = 0.0;
    for t in first_step("p")["tasks"].as_array().unwrap() {
        assert!(t["peak_mem_mb"].as_f64().unwrap() > 1.0, "{t}");
        let (cpu, wall) =
            (t["cpu_seconds"].as_f64().unwrap(), t["end"].as_f64().unwrap() - t["start"].as_f64().unwrap());
        assert!((0.0..=wall * cores + 0.02).contains(&cpu), "{t}");
        if t["task"].as_str().unwrap().starts_with("simulator_run") {
            simulators_cpu += cpu;
        }
    }
    assert!(simulators_cpu > 0.0, "the simulators' worker processes used CPU time");
    assert!(first_step("t")["tasks"][0].get("peak_mem_mb").is_none());
    assert!(first_step("t")["tasks"][0].get("cpu_seconds").is_none());
}

#[test]
fn the_slurm_executor_outside_an_allocation_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), format!("{SHORT}\n[executor]\nkind = \"slurm\"\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["optimize", "s.toml", "-o", "run"])
        .env_remove("SLURM_JOB_ID")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().last().unwrap(),
        "error: s.toml:30: executor.kind: this process is not inside a Slurm allocation (SLURM_JOB_ID is not set): submit the run with sbatch (`oxgrad slurm-script CONFIG > run.sh && sbatch run.sh`), start it under salloc, or use the \"process\" executor on this machine"
    );
    // a script for it, with the configuration's CPUs (two copies) and absolute paths
    let script = oxgrad(&["slurm-script", "s.toml", "--time", "01:00:00"], dir.path());
    assert!(script.status.success(), "{}", String::from_utf8_lossy(&script.stderr));
    let text = String::from_utf8_lossy(&script.stdout);
    let cwd = dir.path().display();
    for line in [
        "#!/bin/bash",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem-per-cpu=2000M",
        "#SBATCH --time=01:00:00",
        &format!("#SBATCH --output={cwd}/oxgrad-s-%j.log"),
        &format!("cd {cwd}"),
        &format!("exec {} optimize {cwd}/s.toml --output {cwd}/oxgrad-run", env!("CARGO_BIN_EXE_oxgrad")),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
    }
    assert!(!text.contains("--gpus"), "no GPU asked for, none in the job: {text}");
    // GPUs: a whole one per step that asks for any (Slurm does not share a GPU between steps);
    // `[executor] gpus` or --gpus say otherwise
    let with_gpus =
        SHORT.replace("equilibration_steps = 1000", "equilibration_steps = 1000\nhints = { num_gpus = 0.5 }");
    std::fs::write(dir.path().join("g.toml"), format!("{with_gpus}\n[executor]\nkind = \"slurm\"\n")).unwrap();
    let gpus = |args: &[&str]| {
        let out = oxgrad(&[&["slurm-script", "g.toml"], args].concat(), dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("--gpus")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(gpus(&[]), "#SBATCH --gpus=2");
    assert_eq!(gpus(&["--gpus", "1"]), "#SBATCH --gpus=1");
    std::fs::write(dir.path().join("g.toml"), format!("{with_gpus}\n[executor]\nkind = \"slurm\"\ngpus = 4\n"))
        .unwrap();
    assert_eq!(gpus(&[]), "#SBATCH --gpus=4");
    // on several nodes (`--nodes`, else `[executor] nodes`): CPUs and GPUs spread per node, each
    // node with at least the largest task's, and a job that outlives a lost node; `[executor]
    // gpus` names one machine's GPUs and is refused there
    let refused = oxgrad(&["slurm-script", "g.toml", "--nodes", "2"], dir.path());
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim_end(),
        "error: g.toml:32: executor.gpus: names the GPUs of one machine, and the job asks for 2 nodes: remove the key (each node's GPUs are those Slurm gives the job there), or give slurm-script --gpus N for the whole job"
    );
    std::fs::write(dir.path().join("g.toml"), format!("{with_gpus}\n[executor]\nkind = \"slurm\"\nnodes = 3\n"))
        .unwrap();
    let script = |args: &[&str]| {
        let out = oxgrad(&[&["slurm-script", "g.toml"], args].concat(), dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines()
            .filter(|l| l.starts_with("#SBATCH --") && !l.contains("--output") && !l.contains("--job-name"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        script(&[]),
        "#SBATCH --nodes=3 #SBATCH --ntasks-per-node=1 #SBATCH --no-kill #SBATCH --cpus-per-task=1 #SBATCH --mem-per-cpu=2000M #SBATCH --gpus-per-node=1"
    );
    assert_eq!(
        script(&["--nodes", "2", "--cpus", "6", "--gpus", "4"]),
        "#SBATCH --nodes=2 #SBATCH --ntasks-per-node=1 #SBATCH --no-kill #SBATCH --cpus-per-task=3 #SBATCH --mem-per-cpu=2000M #SBATCH --gpus-per-node=2"
    );
    assert_eq!(
        script(&["--nodes", "1"]),
        "#SBATCH --nodes=1 #SBATCH --ntasks=1 #SBATCH --cpus-per-task=2 #SBATCH --mem-per-cpu=2000M #SBATCH --gpus=2"
    );
    // a configuration for another executor is refused
    std::fs::write(dir.path().join("t.toml"), SHORT).unwrap();
    let refused = oxgrad(&["slurm-script", "t.toml"], dir.path());
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim_end(),
        "error: t.toml: executor.kind: is \"thread\": a Slurm job runs its tasks as job steps only with kind = \"slurm\"; set it under [executor]"
    );
}

#[test]
fn the_slurm_executor_without_srun_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), format!("{SHORT}\n[executor]\nkind = \"slurm\"\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["optimize", "s.toml", "-o", "run"])
        .env("SLURM_JOB_ID", "12")
        .env("PATH", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().last().unwrap(),
        "error: s.toml:30: executor.kind: srun is not on PATH: load Slurm's module (e.g. `module load slurm`) or add its bin directory to PATH"
    );
    assert!(!dir.path().join("run").exists(), "nothing was started");
}
