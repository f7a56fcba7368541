//! Simulators and objectives: the units the optimizer schedules, and what they exchange.
//!
//! A [`Simulator`] turns parameters (and its own state from the previous run) into observables,
//! one per name it exposes; an [`Objective`] turns the observables it requires into gradients,
//! or answers "not ready" and names the observables it needs afresh. Both are plain data the
//! optimizer shares with its workers; neither holds the optimizer's state.
//!
//! This module sits below [`crate::simulate`], [`crate::objective`] and [`crate::optimize`]:
//! simulators and objectives (yours too) implement its traits without importing the optimizer,
//! and the optimizer schedules them without knowing any of them. It depends on nothing of
//! oxgrad's but [`crate::params`] (gradients by name) and [`crate::trajectory`] (the states an
//! [`Observation`] carries). What a task needs from its executor arrives in a [`TaskContext`];
//! resources and retries are asked for with [`SchedulerHints`]; a stop request ([`stop_flag`])
//! reaches long-running components. Everything here is re-exported by [`crate::optimize`] and
//! the [`crate::prelude`].

pub mod hints;

use crate::error::{Error, Result};
use crate::params::ParamGrads;
pub use hints::SchedulerHints;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The parameters being optimised, by name.
pub type Params = BTreeMap<String, f64>;

/// A component's state, carried from one run to the next (mythos' keyword arguments).
pub type State = serde_json::Map<String, serde_json::Value>;

/// A value a simulator produces or an objective reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Observation {
    /// A number.
    Scalar(f64),
    /// A list of numbers (e.g. one value per state).
    Vector(Vec<f64>),
    /// Frames of an oxDNA trajectory with the temperature of each state.
    Trajectory(crate::trajectory::Trajectory),
    /// Anything else.
    Json(serde_json::Value),
}

impl Observation {
    /// The value as a number, if it is one.
    #[must_use]
    pub fn as_scalar(&self) -> Option<f64> {
        match self {
            Observation::Scalar(v) => Some(*v),
            _ => None,
        }
    }
}

/// The public name of an exposed observable: `observable.kind.name`, e.g.
/// `trajectory.NativeSimulator.helix.0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObservableId {
    /// What is observed (`trajectory`, `energy_info`, …).
    pub observable: String,
    /// The simulator type (`NativeSimulator`, `OxdnaSimulator`, …).
    pub kind: String,
    /// The simulator's name (may contain dots).
    pub name: String,
}

impl ObservableId {
    /// From parts.
    pub fn new(observable: &str, kind: &str, name: &str) -> ObservableId {
        ObservableId { observable: observable.into(), kind: kind.into(), name: name.into() }
    }

    /// Parses `observable.kind.name`, splitting at the first two dots only. mythos' kind spellings
    /// `oxDNASimulator` and `oxDNAUmbrellaSampler` are accepted as aliases.
    pub fn parse(text: &str) -> Result<ObservableId> {
        let mut parts = text.splitn(3, '.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(o), Some(k), Some(n)) if !o.is_empty() && !k.is_empty() && !n.is_empty() => {
                let kind = match k {
                    "oxDNASimulator" => "OxdnaSimulator",
                    "oxDNAUmbrellaSampler" => "OxdnaUmbrellaSampler",
                    other => other,
                };
                Ok(ObservableId::new(o, kind, n))
            }
            _ => Err(Error::invalid(
                "observable name",
                text,
                "write observable.Kind.name, e.g. trajectory.NativeSimulator.helix.0",
            )),
        }
    }
}

impl fmt::Display for ObservableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.observable, self.kind, self.name)
    }
}

/// What a running task knows about itself.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// `simulator_run:NAME` or `objective_compute:NAME`.
    pub task: String,
    /// Optimisation step.
    pub step: usize,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// Environment for child processes: `OMP_NUM_THREADS`, `RAYON_NUM_THREADS`,
    /// `CUDA_VISIBLE_DEVICES` from the task's hints, plus the executor's own variables.
    pub env: Vec<(String, String)>,
    /// Variables a child process must not inherit (the executor's own markers, e.g. that the
    /// task's process is a worker: a program the task starts is not).
    pub env_remove: Vec<String>,
}

impl TaskContext {
    /// A command with the task's environment, for simulators that run external programs.
    #[must_use]
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut c = std::process::Command::new(program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        for k in &self.env_remove {
            c.env_remove(k);
        }
        c
    }
}

/// What a simulator returns: one observable per exposed name, in [`Simulator::exposes`] order,
/// and its state for the next run.
#[derive(Debug, Clone, Default)]
pub struct SimOutput {
    /// Observables in `exposes()` order.
    pub observables: Vec<Observation>,
    /// State handed to the next `run` of this simulator.
    pub state: State,
}

/// Something that simulates: parameters in, observables out.
pub trait Simulator: Send + Sync {
    /// Unique name.
    fn name(&self) -> &str;
    /// The simulator type, the middle part of its observables' names.
    fn kind(&self) -> &str;
    /// The short names of the observables it produces (`"trajectory"`); [`Simulator::exposes`]
    /// qualifies them.
    fn produces(&self) -> Vec<String> {
        vec!["trajectory".into()]
    }
    /// Resource and retry hints.
    fn hints(&self) -> &SchedulerHints {
        SchedulerHints::none()
    }
    /// The qualified names of its observables, `observable.kind.name` (mythos' `exposes()`).
    fn exposes(&self) -> Vec<ObservableId> {
        self.produces().iter().map(|o| ObservableId::new(o, self.kind(), self.name())).collect()
    }
    /// Runs once with `params` and the state its previous run returned.
    fn run(&self, ctx: &TaskContext, params: &Params, state: &State) -> Result<SimOutput>;
}

/// What an objective returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectiveOutput {
    /// Whether the gradients are valid; `false` asks for fresh observables.
    pub is_ready: bool,
    /// Gradients of the loss by parameter name (when ready).
    pub grads: Option<ParamGrads>,
    /// Values to report (loss, observables, diagnostics).
    pub observables: BTreeMap<String, Observation>,
    /// State handed to the next call.
    pub state: State,
    /// When not ready: the observables to produce afresh.
    pub needs_update: Vec<ObservableId>,
}

impl ObjectiveOutput {
    /// A ready output with gradients and reported values.
    #[must_use]
    pub fn ready(grads: ParamGrads, observables: BTreeMap<String, Observation>) -> ObjectiveOutput {
        ObjectiveOutput { is_ready: true, grads: Some(grads), observables, ..Default::default() }
    }

    /// A not-ready output that asks for `needs_update` afresh.
    #[must_use]
    pub fn not_ready(needs_update: Vec<ObservableId>) -> ObjectiveOutput {
        ObjectiveOutput { is_ready: false, needs_update, ..Default::default() }
    }
}

/// Something that turns observables into gradients.
pub trait Objective: Send + Sync {
    /// Unique name.
    fn name(&self) -> &str;
    /// The observables it needs, in the order `calculate` receives them.
    fn required_observables(&self) -> Vec<ObservableId>;
    /// Resource and retry hints.
    fn hints(&self) -> &SchedulerHints {
        SchedulerHints::none()
    }
    /// Computes gradients from the required observables (shared, never copied), the current
    /// parameters and the state its previous call returned.
    fn calculate(
        &self,
        ctx: &TaskContext,
        observables: &[Arc<Observation>],
        params: &Params,
        state: &State,
    ) -> Result<ObjectiveOutput>;
}

/// The loss-and-gradient function of a [`GenericObjective`].
pub type GradFn =
    dyn Fn(&[Arc<Observation>], &Params) -> Result<(ParamGrads, BTreeMap<String, Observation>)> + Send + Sync;

/// An objective from a function of its observables (mythos' `Objective` with `grad_or_loss_fn`).
pub struct GenericObjective {
    name: String,
    required: Vec<ObservableId>,
    hints: SchedulerHints,
    f: Arc<GradFn>,
    fresh: bool,
}

impl GenericObjective {
    /// An objective named `name` that calls `f` with `required`'s values.
    pub fn new(
        name: impl Into<String>,
        required: Vec<ObservableId>,
        f: impl Fn(&[Arc<Observation>], &Params) -> Result<(ParamGrads, BTreeMap<String, Observation>)>
            + Send
            + Sync
            + 'static,
    ) -> GenericObjective {
        GenericObjective { name: name.into(), required, hints: SchedulerHints::default(), f: Arc::new(f), fresh: false }
    }

    /// Asks for freshly simulated observables at every new step (otherwise, as in mythos, the
    /// observables cached at the first step are reused for as long as the run lasts).
    #[must_use]
    pub fn resimulate_each_step(mut self) -> Self {
        self.fresh = true;
        self
    }

    /// With scheduler hints.
    #[must_use]
    pub fn with_hints(mut self, hints: SchedulerHints) -> Self {
        self.hints = hints;
        self
    }
}

impl Objective for GenericObjective {
    fn name(&self) -> &str {
        &self.name
    }
    fn required_observables(&self) -> Vec<ObservableId> {
        self.required.clone()
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn calculate(
        &self,
        ctx: &TaskContext,
        obs: &[Arc<Observation>],
        params: &Params,
        state: &State,
    ) -> Result<ObjectiveOutput> {
        let mut st = State::new();
        st.insert("step".into(), ctx.step.into());
        let last = state.get("step").and_then(serde_json::Value::as_u64);
        if self.fresh && last.is_some_and(|s| s != ctx.step as u64) {
            let mut out = ObjectiveOutput::not_ready(self.required.clone());
            out.state = st;
            return Ok(out);
        }
        let (grads, mut reported) = (self.f)(obs, params)?;
        for (id, o) in self.required.iter().zip(obs) {
            reported.entry(id.to_string()).or_insert_with(|| (**o).clone());
        }
        let mut out = ObjectiveOutput::ready(grads, reported);
        out.state = st;
        Ok(out)
    }
}

/// The process-wide stop request: the `oxgrad` program sets it on the first Ctrl-C or SIGTERM
/// (a library user may set it too). A training run stops after its current step when it is set,
/// and long work inside a step (native MD, equilibration included; a worker process) stops
/// within a few MD steps with [`Error::Stopped`], so the step is abandoned, not committed, and
/// `--resume` redoes it.
pub fn stop_flag() -> Arc<std::sync::atomic::AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<std::sync::atomic::AtomicBool>> = std::sync::OnceLock::new();
    Arc::clone(FLAG.get_or_init(Arc::default))
}

/// Whether a stop was requested ([`stop_flag`]).
#[must_use]
pub fn stop_requested() -> bool {
    static FLAG: std::sync::OnceLock<Arc<std::sync::atomic::AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(stop_flag).load(std::sync::atomic::Ordering::Relaxed)
}

/// The longest component name [`check_name`] accepts.
pub const MAX_NAME_LEN: usize = 100;

/// Checks that `name` is a safe component name: 1 to [`MAX_NAME_LEN`] ASCII letters, digits,
/// `_`, `-` and `.`, starting with a letter, a digit or `_`, and without `..`.
///
/// Names become file and directory names (an oxDNA simulator's runs go to `<runs>/<name>/…`,
/// checkpoints and logs are tagged with them), so a name can never be a path: no `/`, `\`, no
/// leading `.` or `-`, nothing that is not printable ASCII. `what` names the component in the error.
///
/// ```
/// use oxgrad::component::check_name;
/// assert!(check_name("simulator", "duplex.0").is_ok());
/// assert!(check_name("simulator", "../x").is_err());
/// ```
pub fn check_name(what: &str, name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.len() <= MAX_NAME_LEN && first_ok && name.chars().all(ok_char) && !name.contains("..") {
        return Ok(());
    }
    Err(Error::invalid(
        format!("{what} name"),
        format!("{name:?}"),
        format!(
            "a name is 1 to {MAX_NAME_LEN} ASCII letters, digits, '_', '-' and '.', starting with a letter, digit or '_', without '..' (names become file names inside the run directory, never paths)"
        ),
    ))
}

/// `n` names `base.0 … base.{n-1}`; without a base, one random base shared by all.
#[must_use]
pub fn create_n_names(n: usize, base: Option<&str>) -> Vec<String> {
    let base = match base {
        Some(b) if !b.is_empty() => b.to_string(),
        _ => {
            use rand::RngExt;
            let mut rng = rand::rng();
            format!("{:016x}", rng.random::<u64>())
        }
    };
    (0..n).map(|i| format!("{base}.{i}")).collect()
}

/// `n` uniquely named copies: `make(name)` for each name of [`create_n_names`].
///
/// ```
/// use oxgrad::component::create_n;
/// let names = create_n(3, Some("duplex"), |name| name);
/// assert_eq!(names, ["duplex.0", "duplex.1", "duplex.2"]);
/// ```
pub fn create_n<S>(n: usize, base: Option<&str>, make: impl FnMut(String) -> S) -> Vec<S> {
    create_n_names(n, base).into_iter().map(make).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observable_ids_split_at_the_first_two_dots() {
        let id = ObservableId::parse("trajectory.oxDNASimulator.helix.0").unwrap();
        assert_eq!(id, ObservableId::new("trajectory", "OxdnaSimulator", "helix.0"));
        assert_eq!(id.to_string(), "trajectory.OxdnaSimulator.helix.0");
        assert!(ObservableId::parse("trajectory.helix").is_err());
    }

    #[test]
    fn names_are_never_paths() {
        for good in ["duplex", "duplex.0", "a-b_c.1", "_x", "0"] {
            assert!(check_name("simulator", good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        for bad in ["", "../x", "..", ".", ".hidden", "-x", "/abs/x", "a/b", "a\\b", "a..b", "a b", "é", "a\0b", &long]
        {
            let e = check_name("simulator", bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid simulator name = "), "{bad}: {e}");
            assert!(e.contains("never paths"), "{e}");
        }
    }

    #[test]
    fn create_n_names_share_a_base() {
        assert_eq!(create_n_names(3, Some("helix")), ["helix.0", "helix.1", "helix.2"]);
        let r = create_n_names(2, None);
        assert_eq!(r[0][..16], r[1][..16]);
        assert_ne!(create_n_names(1, None), create_n_names(1, None));
    }
}
