//! The optimizer with small analytic simulators whose exact gradients are known.

use oxgrad::optimize::*;
use oxgrad::params::ParamGrads;
use oxgrad::Error;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A "sampler": its observable is `scale · θ + offset` (the mean of a distribution whose centre
/// depends on θ). Counts its runs; optionally fails its first `fail_first` attempts, sleeps, and
/// tracks how many run at once.
struct Sampler {
    name: String,
    scale: f64,
    offset: f64,
    hints: SchedulerHints,
    runs: Arc<AtomicUsize>,
    fail_first: usize,
    attempts: Arc<AtomicUsize>,
    sleep: Duration,
    active: Arc<AtomicUsize>,
    max_active: Arc<AtomicUsize>,
    env_seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Sampler {
    fn new(name: &str, scale: f64, offset: f64) -> Sampler {
        Sampler {
            name: name.into(),
            scale,
            offset,
            hints: SchedulerHints::default(),
            runs: Arc::default(),
            fail_first: 0,
            attempts: Arc::default(),
            sleep: Duration::ZERO,
            active: Arc::default(),
            max_active: Arc::default(),
            env_seen: Arc::default(),
        }
    }
    fn id(&self) -> ObservableId {
        ObservableId::new("value", "Sampler", &self.name)
    }
    /// The θ the value was sampled with (as a trajectory carries its parameters).
    fn theta_id(&self) -> ObservableId {
        ObservableId::new("theta", "Sampler", &self.name)
    }
}

impl Simulator for Sampler {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "Sampler"
    }
    fn produces(&self) -> Vec<String> {
        vec!["value".into(), "theta".into()]
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn run(&self, ctx: &TaskContext, p: &Params, state: &State) -> oxgrad::Result<SimOutput> {
        if self.attempts.fetch_add(1, Ordering::SeqCst) < self.fail_first {
            return Err(Error::invalid("sampler", "attempt", "deliberate failure"));
        }
        *self.env_seen.lock().unwrap() = ctx.env.clone();
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_active.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.sleep);
        self.active.fetch_sub(1, Ordering::SeqCst);
        self.runs.fetch_add(1, Ordering::SeqCst);
        let mut st = state.clone();
        let gen = st.get("generation").and_then(serde_json::Value::as_u64).unwrap_or(0) + 1;
        st.insert("generation".into(), gen.into());
        let x = self.scale * p["theta"] + self.offset;
        Ok(SimOutput { observables: vec![Observation::Scalar(x), Observation::Scalar(p["theta"])], state: st })
    }
}

/// Loss (x − target)² of one sampler's value x = scale·θ + offset: dL/dθ = 2(x − target)·scale.
/// Asks for a fresh sample when the cached one was drawn at another θ.
struct Fit {
    value: ObservableId,
    theta: ObservableId,
    scale: f64,
    target: f64,
}

fn fit(_name: &str, s: &Sampler, target: f64) -> Fit {
    Fit { value: s.id(), theta: s.theta_id(), scale: s.scale, target }
}

impl Objective for Fit {
    fn name(&self) -> &str {
        "fit"
    }
    fn required_observables(&self) -> Vec<ObservableId> {
        vec![self.value.clone(), self.theta.clone()]
    }
    fn calculate(
        &self,
        _: &TaskContext,
        obs: &[Arc<Observation>],
        p: &Params,
        _: &State,
    ) -> oxgrad::Result<ObjectiveOutput> {
        let (x, sampled_at) = (obs[0].as_scalar().unwrap(), obs[1].as_scalar().unwrap());
        if sampled_at.to_bits() != p["theta"].to_bits() {
            return Ok(ObjectiveOutput::not_ready(self.required_observables()));
        }
        let mut reported = BTreeMap::new();
        reported.insert("loss".to_string(), Observation::Scalar((x - self.target).powi(2)));
        Ok(ObjectiveOutput::ready(
            ParamGrads([("theta".to_string(), 2.0 * (x - self.target) * self.scale)].into()),
            reported,
        ))
    }
}

/// One simulator and one objective with SGD and mean aggregation on the default pool.
fn single(s: impl Simulator + 'static, obj: impl Objective + 'static) -> Optimization {
    Optimization::new(UpdateRule::sgd(0.1).unwrap()).simulator(s).objective(obj).aggregate(Aggregate::Mean)
}

fn theta(v: f64) -> Params {
    [("theta".to_string(), v)].into()
}

/// A fixed-gradient objective (to check aggregation).
fn constant(name: &str, s: &Sampler, g: f64) -> GenericObjective {
    GenericObjective::new(name, vec![s.id()], move |_, _| {
        Ok((ParamGrads([("theta".to_string(), g)].into()), BTreeMap::new()))
    })
}

#[test]
fn converges_to_the_exact_optimum() {
    let s = Sampler::new("s", 3.0, 1.0);
    let obj = fit("fit", &s, 7.0); // optimum θ = 2
    let r = Optimization::new(UpdateRule::adam(0.1).unwrap())
        .simulator(s)
        .objective(obj)
        .aggregate(Aggregate::Passthrough)
        .run(theta(0.0), 300, None)
        .unwrap();
    assert!((r.params["theta"] - 2.0).abs() < 1e-3, "{}", r.params["theta"]);
    assert_eq!(r.termination, Termination::Completed);
    assert!(r.last.scalars()["fit.loss"] < 1e-5);
}

#[test]
fn aggregations_respect_objective_order() {
    let cases: Vec<(Aggregate, f64)> = vec![
        (Aggregate::Mean, 2.0),
        (Aggregate::WeightedSum(vec![0.7, 0.3]), 0.7 * 1.0 + 0.3 * 3.0),
        (Aggregate::custom(|g| g[1].clone()), 3.0),
    ];
    for (agg, expected) in cases {
        let s = Sampler::new("s", 1.0, 0.0);
        let (a, b) = (constant("first", &s, 1.0), constant("second", &s, 3.0));
        let mut opt = Optimization::new(UpdateRule::sgd(1.0).unwrap())
            .simulator(s)
            .objective(a)
            .objective(b)
            .aggregate(agg.clone());
        let out = opt.step(&theta(0.0), OptimizerState::default()).unwrap();
        assert!((out.grads.get("theta").unwrap() - expected).abs() < 1e-15, "{agg:?}");
        assert!((out.params["theta"] + expected).abs() < 1e-15, "SGD with lr 1");
    }
    let s = Sampler::new("s", 1.0, 0.0);
    let (a, b) = (constant("first", &s, 1.0), constant("second", &s, 3.0));
    let e = Optimization::new(UpdateRule::sgd(1.0).unwrap())
        .simulator(s)
        .objective(a)
        .objective(b)
        .aggregate(Aggregate::Passthrough)
        .run(theta(0.0), 1, None)
        .unwrap_err();
    assert!(
        e.to_string().contains("passthrough takes the gradients of exactly one objective, and 2 are configured"),
        "{e}"
    );
}

#[test]
fn cached_observables_are_reused_across_steps() {
    let s = Sampler::new("s", 1.0, 0.0);
    let runs = Arc::clone(&s.runs);
    let obj = constant("c", &s, 0.5);
    single(s, obj).run(theta(0.0), 5, None).unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one simulation serves every step while the objective is ready");
}

/// Ready only on data from a simulation run in the current step (a DiffTRe-like freshness rule):
/// asks for a refresh when the cached data is older.
struct NeedsFresh {
    id: ObservableId,
    always_stale: bool,
    calls: Arc<AtomicUsize>,
}

impl Objective for NeedsFresh {
    fn name(&self) -> &str {
        "fresh"
    }
    fn required_observables(&self) -> Vec<ObservableId> {
        vec![self.id.clone()]
    }
    fn calculate(
        &self,
        ctx: &TaskContext,
        obs: &[Arc<Observation>],
        _: &Params,
        state: &State,
    ) -> oxgrad::Result<ObjectiveOutput> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let last = state.get("last_value").and_then(serde_json::Value::as_f64);
        let x = obs[0].as_scalar().unwrap();
        let mut st = State::new();
        st.insert("last_value".into(), x.into());
        st.insert("step".into(), ctx.step.into());
        // data is stale when it is the same value the previous call saw
        if self.always_stale || last == Some(x) {
            let mut out = ObjectiveOutput::not_ready(vec![self.id.clone()]);
            out.state = st;
            return Ok(out);
        }
        let mut out = ObjectiveOutput::ready(ParamGrads([("theta".to_string(), 1.0)].into()), BTreeMap::new());
        out.state = st;
        Ok(out)
    }
}

#[test]
fn not_ready_objectives_get_fresh_data_then_the_limit_is_an_error() {
    let s = Sampler::new("s", 1.0, 0.0);
    let runs = Arc::clone(&s.runs);
    let calls = Arc::new(AtomicUsize::new(0));
    let obj = NeedsFresh { id: s.id(), always_stale: false, calls: Arc::clone(&calls) };
    // SGD moves θ each step, so a re-simulation gives a new value and the objective is satisfied
    single(s, obj).run(theta(0.0), 3, None).unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 3, "step 1 simulates; steps 2 and 3 re-simulate after 'not ready'");
    assert_eq!(calls.load(Ordering::SeqCst), 1 + 2 + 2);

    let s = Sampler::new("s", 1.0, 0.0);
    let calls = Arc::new(AtomicUsize::new(0));
    let obj = NeedsFresh { id: s.id(), always_stale: true, calls: Arc::clone(&calls) };
    let e = single(s, obj).run(theta(0.0), 3, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Objective fresh could not be resolved after multiple attempts (still missing: [\"value.Sampler.s\"])"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "two calls per step by default");

    let s = Sampler::new("s", 1.0, 0.0);
    let calls = Arc::new(AtomicUsize::new(0));
    let obj = NeedsFresh { id: s.id(), always_stale: true, calls: Arc::clone(&calls) };
    let e = single(s, obj).max_objective_calls(3).run(theta(0.0), 1, None);
    assert!(e.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 3, "the limit is configurable");
}

#[test]
fn early_stop_and_replacement_output() {
    let s = Sampler::new("s", 1.0, 0.0);
    let obj = constant("c", &s, 1.0);
    let mut seen = Vec::new();
    let mut cb = |out: &StepOutput, step: usize| {
        seen.push(step);
        let mut replaced = out.clone();
        replaced.params.insert("theta".into(), 100.0 + step as f64);
        (Some(replaced), step < 2)
    };
    let r = single(s, obj).run(theta(0.0), 10, Some(&mut cb)).unwrap();
    assert_eq!(seen, [0, 1, 2]);
    assert_eq!(r.termination, Termination::EarlyStop);
    assert_eq!(r.steps, 3);
    assert!((r.params["theta"] - 102.0).abs() < 1e-15, "the callback's replacement output is returned");
    let e = Optimization::new(UpdateRule::sgd(0.1).unwrap())
        .simulator(Sampler::new("t", 1.0, 0.0))
        .objective(constant("c", &Sampler::new("t", 1.0, 0.0), 1.0))
        .aggregate(Aggregate::Mean)
        .run(theta(0.0), 0, None)
        .unwrap_err();
    assert_eq!(e.to_string(), "invalid n_steps = 0: n_steps must be at least 1.");
}

#[test]
fn nan_gradient_stops_the_run_without_updating() {
    let s = Sampler::new("s", 1.0, 0.0);
    let obj = GenericObjective::new("bad", vec![s.id()], |_, _| {
        Ok((ParamGrads([("theta".to_string(), f64::NAN)].into()), BTreeMap::new()))
    });
    let mut opt =
        Optimization::new(UpdateRule::adam(0.1).unwrap()).simulator(s).objective(obj).aggregate(Aggregate::Mean);
    let out = opt.step(&theta(1.0), OptimizerState::default()).unwrap();
    assert!((out.params["theta"] - 1.0).abs() < 1e-15, "no update with a non-finite gradient");
    let s = Sampler::new("s", 1.0, 0.0);
    let obj = GenericObjective::new("bad", vec![s.id()], |_, _| {
        Ok((ParamGrads([("theta".to_string(), f64::INFINITY)].into()), BTreeMap::new()))
    });
    let e = Optimization::new(UpdateRule::adam(0.1).unwrap())
        .simulator(s)
        .objective(obj)
        .aggregate(Aggregate::Mean)
        .run(theta(1.0), 3, None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "NaN or Inf detected in gradients at step 0 (parameter 'theta' = inf). Is your learning rate too high?"
    );
}

#[test]
fn name_clashes_are_refused() {
    let (a, b) = (Sampler::new("same", 1.0, 0.0), Sampler::new("same", 2.0, 0.0));
    let obj = constant("c", &a, 1.0);
    let e = Optimization::new(UpdateRule::sgd(0.1).unwrap())
        .simulator(a)
        .simulator(b)
        .objective(obj)
        .aggregate(Aggregate::Mean)
        .run(theta(0.0), 1, None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid optimization: All objective, simulator, and exposes names must be unique (duplicated: same, theta.Sampler.same, value.Sampler.same)"
    );
    let a = Sampler::new("x", 1.0, 0.0);
    let obj = constant("x", &a, 1.0);
    let e = single(a, obj).run(theta(0.0), 1, None);
    assert!(e.unwrap_err().to_string().contains("(duplicated: x)"));
}

#[test]
fn hints_merge_over_defaults_and_reach_the_task_environment() {
    let mut s = Sampler::new("s", 1.0, 0.0);
    let env = Arc::clone(&s.env_seen);
    let obj = constant("c", &s, 1.0);
    let defaults = serde_json::json!({"num_cpus": 2}).as_object().unwrap().clone();
    single(s, obj)
        .executor(LocalPool::with_cpus(4).env("MY_FLAG", "1"))
        .remote_options_default(defaults.clone())
        .run(theta(0.0), 1, None)
        .unwrap();
    let seen = env.lock().unwrap().clone();
    assert!(seen.contains(&("OMP_NUM_THREADS".into(), "2".into())), "default applies: {seen:?}");
    assert!(seen.contains(&("MY_FLAG".into(), "1".into())));

    // a per-unit hint beats the default, and a custom["local"] value beats the hint
    s = Sampler::new("s", 1.0, 0.0);
    s.hints.num_cpus = Some(3);
    s.hints.num_gpus = Some(0.5);
    s.hints.custom.insert("local".into(), serde_json::json!({"num_cpus": 1}).as_object().unwrap().clone());
    let env = Arc::clone(&s.env_seen);
    let obj = constant("c", &s, 1.0);
    single(s, obj)
        .executor(LocalPool::with_cpus(4).gpus(1))
        .remote_options_default(defaults)
        .run(theta(0.0), 1, None)
        .unwrap();
    let seen = env.lock().unwrap().clone();
    assert!(seen.contains(&("OMP_NUM_THREADS".into(), "1".into())), "{seen:?}");
    assert!(seen.contains(&("CUDA_VISIBLE_DEVICES".into(), "0".into())), "{seen:?}");
}

#[test]
fn failing_simulator_is_retried_as_its_hints_say() {
    let mut s = Sampler::new("flaky", 1.0, 0.0);
    s.fail_first = 2;
    s.hints.max_retries = Some(2);
    let obj = constant("c", &s, 1.0);
    let r = single(s, obj).run(theta(0.0), 1, None);
    assert!(r.is_ok(), "fails twice, succeeds on the third attempt: {:?}", r.err());

    let mut s = Sampler::new("flaky", 1.0, 0.0);
    s.fail_first = 2;
    s.hints.max_retries = Some(1);
    let obj = constant("c", &s, 1.0);
    let e = single(s, obj).run(theta(0.0), 1, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "task 'simulator_run:flaky' failed after 2 attempt(s): invalid sampler = attempt: deliberate failure"
    );
}

struct Panics;
impl Simulator for Panics {
    fn name(&self) -> &str {
        "boom"
    }
    fn kind(&self) -> &str {
        "Sampler"
    }
    fn run(&self, _: &TaskContext, _: &Params, _: &State) -> oxgrad::Result<SimOutput> {
        panic!("simulated crash")
    }
}

#[test]
fn a_panicking_simulator_is_reported_by_name() {
    let id = ObservableId::new("trajectory", "Sampler", "boom");
    let obj = GenericObjective::new("c", vec![id], |_, _| Ok((ParamGrads::default(), BTreeMap::new())));
    let e = single(Panics, obj).run(theta(0.0), 1, None).unwrap_err();
    assert_eq!(e.to_string(), "task 'simulator_run:boom' failed after 1 attempt(s): panicked: simulated crash");
}

#[test]
fn the_cpu_limit_is_never_exceeded() {
    let active = Arc::new(AtomicUsize::new(0));
    let max_active = Arc::new(AtomicUsize::new(0));
    let sims: Vec<Sampler> = create_n(6, Some("s"), |name| {
        let mut s = Sampler::new(&name, 1.0, 0.0);
        s.sleep = Duration::from_millis(40);
        s.active = Arc::clone(&active);
        s.max_active = Arc::clone(&max_active);
        s
    });
    let ids: Vec<ObservableId> = sims.iter().map(Sampler::id).collect();
    let obj = GenericObjective::new("all", ids, |obs, _| {
        Ok((ParamGrads([("theta".to_string(), obs.len() as f64)].into()), BTreeMap::new()))
    });
    let t = std::time::Instant::now();
    Optimization::new(UpdateRule::sgd(0.1).unwrap())
        .simulators(sims)
        .objective(obj)
        .aggregate(Aggregate::Mean)
        .executor(LocalPool::with_cpus(2))
        .run(theta(0.0), 1, None)
        .unwrap();
    assert_eq!(max_active.load(Ordering::SeqCst), 2, "two CPUs: two 1-CPU simulators at a time");
    assert!(t.elapsed() >= Duration::from_millis(110), "six 40 ms runs on two CPUs take at least three rounds");
}

#[test]
fn a_task_needing_more_memory_than_the_pool_is_refused() {
    let mut s = Sampler::new("big", 1.0, 0.0);
    s.hints.mem_mb = Some(4096);
    let obj = constant("c", &s, 1.0);
    let e = single(s, obj).executor(LocalPool::with_cpus(2).memory_mb(1024)).run(theta(0.0), 1, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "task 'simulator_run:big' cannot run: it needs 4096 MB and the pool has 1024 MB: lower its mem_mb hint or raise the pool's memory"
    );
}

#[test]
fn a_task_larger_than_the_pool_is_refused() {
    let mut s = Sampler::new("big", 1.0, 0.0);
    s.hints.num_cpus = Some(8);
    let obj = constant("c", &s, 1.0);
    let e = single(s, obj).executor(LocalPool::with_cpus(2)).run(theta(0.0), 1, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "task 'simulator_run:big' cannot run: it needs 8 CPUs and the pool has 2: lower its num_cpus hint or give the pool more (LocalPool::with_cpus)"
    );
}

/// Records the address of the observable it receives.
struct Witness {
    name: String,
    id: ObservableId,
    seen: Arc<Mutex<Vec<usize>>>,
}

impl Objective for Witness {
    fn name(&self) -> &str {
        &self.name
    }
    fn required_observables(&self) -> Vec<ObservableId> {
        vec![self.id.clone()]
    }
    fn calculate(
        &self,
        _: &TaskContext,
        obs: &[Arc<Observation>],
        _: &Params,
        _: &State,
    ) -> oxgrad::Result<ObjectiveOutput> {
        self.seen.lock().unwrap().push(Arc::as_ptr(&obs[0]) as usize);
        Ok(ObjectiveOutput::ready(ParamGrads([("theta".to_string(), 0.0)].into()), BTreeMap::new()))
    }
}

#[test]
fn observables_travel_by_reference() {
    let s = Sampler::new("s", 1.0, 0.0);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (
        Witness { name: "a".into(), id: s.id(), seen: Arc::clone(&seen) },
        Witness { name: "b".into(), id: s.id(), seen: Arc::clone(&seen) },
    );
    Optimization::new(UpdateRule::sgd(0.1).unwrap())
        .simulator(s)
        .objective(a)
        .objective(b)
        .aggregate(Aggregate::Mean)
        .run(theta(0.0), 2, None)
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|p| *p == seen[0]), "both objectives, both steps: the same stored object, never a copy");
}

#[test]
fn inline_executor_has_the_same_semantics() {
    let s = Sampler::new("s", 3.0, 1.0);
    let runs = Arc::clone(&s.runs);
    let obj = fit("fit", &s, 7.0);
    let r = Optimization::new(UpdateRule::adam(0.1).unwrap())
        .simulator(s)
        .objective(obj)
        .aggregate(Aggregate::Passthrough)
        .executor(Inline::new())
        .run(theta(0.0), 300, None)
        .unwrap();
    assert!((r.params["theta"] - 2.0).abs() < 1e-3);
    assert_eq!(runs.load(Ordering::SeqCst), 300, "a fresh sample each step, as the objective asks");
    // component state travels between runs
    assert!(r.last.state.component_state["s"].get("generation").is_some());
}
