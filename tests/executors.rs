//! The process pool: worker processes that die (SIGKILL, abort, out of memory) are isolated and
//! retried, failures are reported with the task's name, how the worker ended and its stderr, the
//! task's environment is the worker's own, and the same optimization gives the same parameters
//! on threads and on processes.
//!
//! Each test is its own driver: the pool restarts this test binary with the test's name as the
//! filter, so the worker builds the same optimization and runs one task of it.

use oxgrad::optimize::*;
use oxgrad::params::ParamGrads;
use oxgrad::Error;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A noisy "sampler": 200 samples of `θ + noise`, the noise seeded by the step and the copy, so
/// every executor sees the same numbers.
struct Noisy {
    name: String,
    seed: u64,
    hints: SchedulerHints,
    /// What the task does on its first attempt before sampling.
    first_attempt: Trouble,
}

#[derive(Clone, Copy, PartialEq)]
enum Trouble {
    None,
    /// At the first step, writes its pid to `$OXGRAD_TEST_DIR/pid` and sleeps: the driver kills it.
    WaitToBeKilled,
    /// Prints to stderr and aborts, on every attempt.
    AbortAlways,
    /// Allocates and touches memory until stopped.
    Hog,
}

impl Noisy {
    fn new(name: &str, seed: u64) -> Noisy {
        Noisy { name: name.into(), seed, hints: SchedulerHints::default(), first_attempt: Trouble::None }
    }
}

fn test_dir() -> PathBuf {
    PathBuf::from(std::env::var("OXGRAD_TEST_DIR").expect("the pool passes OXGRAD_TEST_DIR"))
}

impl Simulator for Noisy {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "Noisy"
    }
    fn produces(&self) -> Vec<String> {
        vec!["samples".into(), "env".into()]
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn run(&self, ctx: &TaskContext, p: &Params, _: &State) -> oxgrad::Result<SimOutput> {
        match (self.first_attempt, ctx.attempt) {
            (Trouble::WaitToBeKilled, 1) if ctx.step == 0 => {
                std::fs::write(test_dir().join("pid"), std::process::id().to_string()).unwrap();
                std::thread::sleep(Duration::from_secs(30));
            }
            (Trouble::AbortAlways, _) => {
                eprintln!("about to abort (attempt {})", ctx.attempt);
                std::process::abort();
            }
            (Trouble::Hog, _) => {
                let mut blocks: Vec<Vec<u8>> = Vec::new();
                for _ in 0..200 {
                    blocks.push(vec![1u8; 10 << 20]);
                    std::thread::sleep(Duration::from_millis(5));
                }
                std::hint::black_box(&blocks);
            }
            _ => {}
        }
        let mut s = self.seed ^ (ctx.step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let samples: Vec<f64> = (0..200)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                p["theta"] + (s % 10_000) as f64 / 10_000.0 - 0.5
            })
            .collect();
        let env: serde_json::Map<String, serde_json::Value> = ["OMP_NUM_THREADS", "POOL_VAR", "TASK_VAR"]
            .iter()
            .map(|k| (k.to_string(), std::env::var(k).unwrap_or_default().into()))
            .collect();
        Ok(SimOutput {
            observables: vec![Observation::Vector(samples), Observation::Json(env.into())],
            state: State::new(),
        })
    }
}

/// Loss (mean − 3)² over every simulator's samples; reports the workers' environments; new
/// samples at every step.
fn fit(sims: &[Noisy]) -> GenericObjective {
    fit_cached("fit", sims).resimulate_each_step()
}

/// [`fit`] on whatever samples are cached.
fn fit_cached(name: &str, sims: &[Noisy]) -> GenericObjective {
    let ids: Vec<ObservableId> = sims.iter().flat_map(Simulator::exposes).collect();
    GenericObjective::new(name, ids, |obs, _| {
        let mut sum = 0.0;
        let mut n = 0.0;
        let mut report = BTreeMap::new();
        for (k, o) in obs.iter().enumerate() {
            match &**o {
                Observation::Vector(v) => {
                    sum += v.iter().sum::<f64>();
                    n += v.len() as f64;
                }
                Observation::Json(env) => {
                    report.insert(format!("env{k}"), Observation::Json(env.clone()));
                }
                _ => {}
            }
        }
        let mean = sum / n;
        report.insert("mean".to_string(), Observation::Scalar(mean));
        Ok((ParamGrads([("theta".to_string(), 2.0 * (mean - 3.0))].into()), report))
    })
}

fn optimization(sims: Vec<Noisy>) -> Optimization {
    let objective = fit(&sims);
    Optimization::new(UpdateRule::adam(0.3).unwrap()).simulators(sims).objective(objective).aggregate(Aggregate::Mean)
}

fn start() -> Params {
    [("theta".to_string(), 0.0)].into()
}

/// A process pool whose workers run only `test` of this binary, with `dir` in their environment.
fn pool(test: &str, dir: &std::path::Path, cpus: usize) -> ProcessPool {
    ProcessPool::with_cpus(cpus)
        .unwrap()
        .worker_args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("OXGRAD_TEST_DIR", dir.display().to_string())
}

/// The driver's temporary directory; a worker reuses its driver's.
fn dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var("OXGRAD_TEST_DIR") {
        Ok(d) => (None, PathBuf::from(d)),
        Err(_) => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

#[test]
fn processes_give_the_threads_result_and_their_own_environment() {
    let (_keep, dir) = dir();
    let sims = || {
        (0..3)
            .map(|i| {
                let mut s = Noisy::new(&format!("copy.{i}"), 17 + i);
                s.hints.num_cpus = Some(1);
                s.hints.env = [("TASK_VAR".to_string(), format!("t{i}"))].into();
                s
            })
            .collect::<Vec<_>>()
    };
    let spool = dir.join("spool");
    let on_processes = optimization(sims())
        .executor(
            pool("processes_give_the_threads_result_and_their_own_environment", &dir, 2)
                .env("POOL_VAR", "p")
                .spool(&spool),
        )
        .run(start(), 12, None)
        .unwrap();
    // the pool removed its spool directory (job files, observables) when the run ended
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    let on_threads = optimization(sims()).executor(LocalPool::with_cpus(2)).run(start(), 12, None).unwrap();
    let on_inline = optimization(sims()).executor(Inline::default()).run(start(), 12, None).unwrap();
    let (p, t, i) = (on_processes.params["theta"], on_threads.params["theta"], on_inline.params["theta"]);
    assert!((p - t).abs() <= 1e-12 && (p - i).abs() <= 1e-12, "processes {p}, threads {t}, inline {i}");
    assert!((p - 3.0).abs() < 0.5, "the fit moves θ towards 3: {p}");
    assert!(on_processes.last.tasks.iter().all(|r| r.worker.starts_with("process-")));
    // each worker's own environment: its CPUs, the pool's variable, the task's own
    let reported = &on_processes.last.observables["fit"];
    for (k, i) in [(1, 0), (3, 1), (5, 2)] {
        let Observation::Json(env) = &reported[&format!("env{k}")] else { panic!("env{k} missing") };
        assert_eq!(env["OMP_NUM_THREADS"], "1");
        assert_eq!(env["POOL_VAR"], "p");
        assert_eq!(env["TASK_VAR"], format!("t{i}"));
    }
}

#[test]
fn a_worker_killed_mid_task_is_retried() {
    let (_keep, dir) = dir();
    let mut s = Noisy::new("victim", 3);
    s.first_attempt = Trouble::WaitToBeKilled;
    s.hints.max_retries = Some(1);
    let opt = optimization(vec![s]).executor(pool("a_worker_killed_mid_task_is_retried", &dir, 2));
    let pid_file = dir.join("pid");
    // a worker runs its task here and exits: only the driver goes on to start a killer
    opt.serve_if_worker();
    let killer = std::thread::spawn(move || {
        for _ in 0..3000 {
            if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                if !pid.is_empty() {
                    std::thread::sleep(Duration::from_millis(100)); // mid-task
                    let st = std::process::Command::new("kill").args(["-KILL", pid.trim()]).status().unwrap();
                    return st.success();
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    });
    let mut first = Vec::new();
    let mut keep_first = |out: &StepOutput, step: usize| {
        if step == 0 {
            first = out.tasks.clone();
        }
        (None, true)
    };
    let result = opt.run(start(), 2, Some(&mut keep_first)).unwrap();
    assert!(killer.join().unwrap(), "the worker was found and killed");
    let victim = first.iter().find(|r| r.task == "simulator_run:victim").unwrap();
    assert!(victim.ok && victim.attempts == 2, "killed once, then run again: {victim:?}");
    assert_eq!(result.steps, 2);
    assert!(
        result.last.tasks.iter().all(|r| r.ok && r.attempts == 1),
        "the second step ran once: {:?}",
        result.last.tasks
    );
}

#[test]
fn a_task_that_always_fails_ends_the_run_with_its_name_and_stderr() {
    let (_keep, dir) = dir();
    let mut s = Noisy::new("doomed", 5);
    s.first_attempt = Trouble::AbortAlways;
    s.hints.max_retries = Some(1);
    let opt =
        optimization(vec![s]).executor(pool("a_task_that_always_fails_ends_the_run_with_its_name_and_stderr", &dir, 2));
    let err = opt.run(start(), 3, None).unwrap_err();
    let Error::TaskFailed { task, attempts, source } = &err else { panic!("{err}") };
    assert_eq!(task, "simulator_run:doomed");
    assert_eq!(*attempts, 2);
    let Error::Worker { how, stderr_tail } = &**source else { panic!("{source}") };
    assert!(
        how.ends_with(
            "was killed by signal 6 (SIGABRT: an abort, e.g. a failed allocation or a panic with panic = \"abort\")"
        ),
        "{how}"
    );
    assert_eq!(stderr_tail, "about to abort (attempt 2)");
    let text = err.to_string();
    assert!(text.starts_with("task 'simulator_run:doomed' failed after 2 attempt(s): worker process (pid "), "{text}");
    assert!(text.ends_with("; the end of its stderr:\n  | about to abort (attempt 2)"), "{text}");
}

#[test]
fn a_task_over_its_memory_is_stopped_and_the_driver_survives() {
    let (_keep, dir) = dir();
    let mut s = Noisy::new("hog", 7);
    s.first_attempt = Trouble::Hog;
    s.hints.mem_mb = Some(300);
    let opt = optimization(vec![s])
        .executor(pool("a_task_over_its_memory_is_stopped_and_the_driver_survives", &dir, 2).memory_mb(1000));
    let err = opt.run(start(), 1, None).unwrap_err();
    let Error::TaskFailed { task, attempts: 1, source } = &err else { panic!("{err}") };
    assert_eq!(task, "simulator_run:hog");
    let Error::Worker { how, .. } = &**source else { panic!("{source}") };
    let rss: f64 = how
        .split("resident memory reached ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{how}"));
    assert!(rss > 300.0 && rss < 1500.0, "stopped soon after 300 MB: {rss} MB");
    assert!(how.ends_with("above the task's mem_mb = 300: raise the task's mem_mb hint or make it use less"), "{how}");
    // the driver is unharmed and can run another optimization
    let ok = optimization(vec![Noisy::new("fine", 1)]).executor(Inline::default()).run(start(), 1, None);
    assert!(ok.is_ok());
}

#[test]
fn a_worker_that_never_reaches_the_optimization_is_reported_as_such() {
    let (_keep, dir) = dir();
    // the workers run a test that does not exist: the harness runs nothing and exits 0
    let opt = optimization(vec![Noisy::new("lost", 1)])
        .executor(pool("no_such_test", &dir, 1).worker_args(["no_such_test", "--exact"]));
    let err = opt.run(start(), 1, None).unwrap_err();
    let Error::TaskFailed { task, attempts: 1, source } = &err else { panic!("{err}") };
    assert_eq!(task, "simulator_run:lost");
    let Error::Worker { how, .. } = &**source else { panic!("{source}") };
    assert!(how.contains(") exited with status 0 without running its task: started again as `"), "{how}");
    assert!(how.ends_with(" no_such_test --exact`, your program must build the same optimization as the driver and reach its run, step or evaluate (or call serve_if_worker) before anything that can fail or exit"), "{how}");
}

/// Observables restored from a checkpoint live in the driver's memory; two objectives that need
/// the same one at once get it written to the spool once, not twice over each other.
#[test]
fn restored_observables_shared_by_two_objectives_reach_both_workers() {
    let (_keep, dir) = dir();
    let build = || {
        let sims = vec![Noisy::new("shared", 11)];
        let (a, b) = (fit_cached("a", &sims), fit_cached("b", &sims));
        Optimization::new(UpdateRule::adam(0.3).unwrap())
            .simulators(sims)
            .objective(a)
            .objective(b)
            .aggregate(Aggregate::Mean)
    };
    // a checkpoint after one step on threads (its observables come back into memory)
    let mut threads = build().executor(LocalPool::with_cpus(2));
    let first = threads.step(&start(), OptimizerState::default()).unwrap();
    let cp = threads.snapshot(&first.params, &first.state).unwrap();
    let mut processes =
        build().executor(pool("restored_observables_shared_by_two_objectives_reach_both_workers", &dir, 2));
    let (params, state) = processes.restore(cp.clone()).unwrap();
    let mut again = build().executor(LocalPool::with_cpus(2));
    let (p2, s2) = again.restore(cp).unwrap();
    let on_processes = processes.step(&params, state).unwrap();
    let on_threads = again.step(&p2, s2).unwrap();
    assert_eq!(on_processes.params, on_threads.params);
    // both objectives ran on the restored samples (no simulation), each in its own worker
    let ran: Vec<&str> = on_processes.tasks.iter().map(|r| r.task.as_str()).collect();
    assert_eq!(ran.len(), 2, "{ran:?}");
    assert!(ran.iter().all(|t| t.starts_with("objective_compute:")), "{ran:?}");
}
