//! DiffTRe: gradients of ensemble averages by reweighting a trajectory sampled at θ_ref
//! (Thaler & Zavadlav, Nat. Commun. 12, 6884, 2021, eqs. 4–5).
//!
//! With a_i = −β_i (E_θ(x_i) − E_θref(x_i)) over the states x_i of the joined trajectories,
//!
//! ```text
//! w_i = exp(a_i − lse(a)),   n_eff = exp(−Σ w_i ln w_i) / N          (per temperature)
//! O_k(θ) = reduce_k(Σ_i w_i X_k(x_i), θ),   L(θ) = loss(O(θ), θ)
//! ```
//!
//! computed with a stable log-sum-exp and 0·ln 0 = 0 (so an n_eff is never NaN). Each observable maps a
//! state to features X (see [`crate::observable`]); its value is a tensor function of the
//! weighted mean features, and the [`Loss`] a tensor function of the values and the parameters.
//! The gradient is exact and comes from autodiff in two pieces: a small graph from the state
//! energies E to L gives ∂L/∂E_i and the direct ∂L/∂θ, and one vector–Jacobian product of the
//! energy model, Σ_i (∂L/∂E_i) ∂E_i/∂θ, batch by batch (`map_batch_size`, `map_checkpoint`),
//! adds the dependence through the weights. No derivative is written by hand.
//!
//! While n_eff ≥ `min_n_eff_factor` (every temperature) and fewer than `max_valid_opt_steps`
//! updates used the trajectory, it is reused without simulating: DiffTRe's saving. Otherwise the
//! objective answers "not ready" and the optimizer re-simulates. Reference energies are computed
//! once per trajectory and kept with it in the objective's state; a new trajectory is always
//! re-referenced at the current parameters. Every estimate carries a block-jackknife
//! standard error ([`crate::observable::stats`]): a large n_eff does not say the trajectory was
//! representative, the error bar does.

use super::loss::Loss;
use crate::backend;
use crate::component::{
    Objective, ObjectiveOutput, ObservableId, Observation, Params, SchedulerHints, State, TaskContext,
};
use crate::energy::tensor::{EnergyParams, TensorParams, T1};
use crate::energy::EnergyModel;
use crate::error::{Error, Result};
use crate::observable::stats::{estimate, Estimate};
use crate::observable::{feature_table, Observable, Reducer};
use crate::params::{ParamGrads, ParamSet};
use crate::trajectory::Trajectory;
use burn::tensor::{Tensor, TensorData};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The DiffTRe objective: observables of reweighted trajectories and a loss of their values.
pub struct DiffTre {
    name: String,
    required: Vec<ObservableId>,
    model: EnergyModel,
    observables: Vec<Arc<dyn Observable>>,
    loss: Loss,
    n_equilibration_steps: usize,
    min_n_eff: f64,
    max_valid_opt_steps: Option<u64>,
    hints: SchedulerHints,
}

/// The reference of a reweighting: the energies the states were sampled with.
#[derive(Debug, Clone, Copy)]
pub enum Reference<'a> {
    /// Sampled at the evaluated parameters themselves (uniform weights).
    Current,
    /// Sampled with these optimised values (the rest from the model).
    Params(&'a Params),
    /// The total energy of each state (after equilibration slicing) at the sampling parameters.
    Energies(&'a [f64]),
}

/// One observable's reweighted estimate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ObservableEstimate {
    /// The observable's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// Value and standard error.
    pub estimate: Estimate,
}

/// What one DiffTRe evaluation gives.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The loss at the evaluated parameters.
    pub loss: f64,
    /// Normalised effective sample size per temperature: `(kT, n_eff / N)`.
    pub n_eff: Vec<(f64, f64)>,
    /// Its minimum over temperatures (the gate).
    pub n_eff_min: f64,
    /// ∂L/∂θ for every evaluated parameter (empty without parameters).
    pub grads: ParamGrads,
    /// Each observable's estimate, in the order given.
    pub observables: Vec<ObservableEstimate>,
    /// The reference energies used (cache them with the trajectory).
    pub reference_energies: Vec<f64>,
    /// The normalised weights of the states.
    pub weights: Vec<f64>,
}

impl DiffTre {
    /// A DiffTRe objective named `name` reweighting the trajectories in `required` with `model`
    /// (whose parameters are the base the optimised values override), measuring `observables`
    /// and scoring them with `loss` (one target per observable for the built-in losses).
    pub fn new(
        name: impl Into<String>,
        required: Vec<ObservableId>,
        model: EnergyModel,
        observables: Vec<Arc<dyn Observable>>,
        loss: Loss,
    ) -> Result<DiffTre> {
        let name = name.into();
        if observables.is_empty() {
            return Err(Error::invalid("observables", &name, "a DiffTRe objective needs at least one observable"));
        }
        loss.check(observables.len())?;
        Ok(DiffTre {
            name,
            required,
            model,
            observables,
            loss,
            n_equilibration_steps: 0,
            min_n_eff: 0.95,
            max_valid_opt_steps: None,
            hints: SchedulerHints::default(),
        })
    }

    /// The smallest normalised effective sample size that keeps reweighting valid.
    pub fn min_n_eff(mut self, f: f64) -> Result<Self> {
        self.min_n_eff = check_min_n_eff(f)?;
        Ok(self)
    }

    /// States (not MD steps) dropped from the start of every trajectory.
    #[must_use]
    pub fn n_equilibration_steps(mut self, states: usize) -> Self {
        self.n_equilibration_steps = states;
        self
    }

    /// Updates a trajectory may serve before it is re-simulated (default: no limit).
    pub fn max_valid_opt_steps(mut self, n: u64) -> Result<Self> {
        self.max_valid_opt_steps = Some(check_max_valid_opt_steps(n)?);
        Ok(self)
    }

    /// With scheduler hints.
    #[must_use]
    pub fn hints(mut self, hints: SchedulerHints) -> Self {
        self.hints = hints;
        self
    }

    /// The observables.
    #[must_use]
    pub fn observables(&self) -> &[Arc<dyn Observable>] {
        &self.observables
    }

    /// The loss.
    #[must_use]
    pub fn loss(&self) -> &Loss {
        &self.loss
    }

    /// The energy model (base parameters).
    #[must_use]
    pub fn model(&self) -> &EnergyModel {
        &self.model
    }

    /// The model's parameter set with the optimised values applied.
    fn param_set(&self, values: &Params) -> Result<ParamSet> {
        self.model.params().with_params(values.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    fn join(&self, trajectories: &[Trajectory]) -> Result<(Trajectory, Vec<usize>)> {
        join(&self.name, trajectories, self.n_equilibration_steps)
    }

    /// Evaluates the reweighted loss, its gradient with respect to every name in `params`, the
    /// effective sample sizes and each observable's estimate with its standard error, on
    /// `trajectories` (independent runs, joined after dropping the equilibration states) sampled
    /// as `reference` says. Usable on its own, without an optimizer.
    ///
    /// ```no_run
    /// # use oxgrad::objective::{DiffTre, Loss, Reference};
    /// # use oxgrad::observable::{BasePairs, PropellerTwist};
    /// # fn f(model: oxgrad::energy::EnergyModel, top: oxgrad::system::Topology, traj: oxgrad::trajectory::Trajectory) -> oxgrad::Result<()> {
    /// let pt = PropellerTwist::new(BasePairs::duplex(&top, 1)?);
    /// let d = DiffTre::new("pt", vec![], model, vec![std::sync::Arc::new(pt)], Loss::squared(21.7))?;
    /// let theta = [("eps_stack_base".to_string(), 1.36)].into();
    /// let e = d.evaluate(&[traj], Reference::Current, &theta)?;
    /// println!("loss {} n_eff {} dL/deps {}", e.loss, e.n_eff_min, e.grads.get("eps_stack_base")?);
    /// # Ok(()) }
    /// ```
    pub fn evaluate(
        &self,
        trajectories: &[Trajectory],
        reference: Reference<'_>,
        params: &Params,
    ) -> Result<Evaluation> {
        let (joined, segments) = self.join(trajectories)?;
        self.evaluate_joined(&joined, &segments, reference, params)
    }

    fn evaluate_joined(
        &self,
        traj: &Trajectory,
        segments: &[usize],
        reference: Reference<'_>,
        params: &Params,
    ) -> Result<Evaluation> {
        for o in &self.observables {
            if let Some(p) = o.feature_params().into_iter().find(|p| params.contains_key(p)) {
                return Err(Error::invalid(
                    "trained parameter",
                    &p,
                    format!(
                        "objective '{}': observable '{}' is measured at fixed interaction sites and cannot train '{p}'; leave it out of the trained parameters",
                        self.name,
                        o.name()
                    ),
                ));
            }
        }
        let temps = traj.temperature.clone().unwrap_or_default();
        let set = self.param_set(params)?;
        let model = self.model.with_params(set.clone())?;
        let e_new = model.map(&traj.frames)?;
        let e_ref = match reference {
            Reference::Current => e_new.clone(),
            Reference::Params(p) => self.model.with_params(self.param_set(p)?)?.map(&traj.frames)?,
            Reference::Energies(e) => {
                if e.len() != traj.len() {
                    return Err(Error::mismatch(
                        "reference energies",
                        format!(
                            "{} energies for {} states: give one per state after equilibration",
                            e.len(),
                            traj.len()
                        ),
                    ));
                }
                e.to_vec()
            }
        };
        let a: Vec<f64> = (0..traj.len()).map(|i| -(e_new[i] - e_ref[i]) / temps[i]).collect();
        let n_eff = per_temperature_neff(&a, &temps);
        let n_eff_min = n_eff.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
        let (w, _) = weights(&a);
        let tables: Vec<Vec<Vec<f64>>> =
            self.observables.iter().map(|o| feature_table(o.as_ref(), traj)).collect::<Result<_>>()?;
        let reducer = Reducer::new(&set);
        let observables = self
            .observables
            .iter()
            .zip(&tables)
            .map(|(o, t)| ObservableEstimate {
                name: o.name().to_string(),
                unit: o.unit().to_string(),
                estimate: estimate(o.as_ref(), &reducer, t, &w, segments),
            })
            .collect();
        let (loss, grads) = self.loss_and_gradient(&model, &set, traj, &e_new, &a, &temps, &tables, params)?;
        Ok(Evaluation { loss, n_eff, n_eff_min, grads, observables, reference_energies: e_ref, weights: w })
    }

    /// The loss and its gradient: a small autodiff graph E → w → O → L, then the energy model's
    /// vector–Jacobian product with ∂L/∂E.
    #[allow(clippy::too_many_arguments)]
    fn loss_and_gradient(
        &self,
        model: &EnergyModel,
        set: &ParamSet,
        traj: &Trajectory,
        e_new: &[f64],
        a: &[f64],
        temps: &[f64],
        tables: &[Vec<Vec<f64>>],
        params: &Params,
    ) -> Result<(f64, ParamGrads)> {
        let n = traj.len();
        let selected: Vec<String> = params.keys().cloned().collect();
        let device = if selected.is_empty() { backend::cpu() } else { backend::cpu_autodiff() };
        let vector = |v: Vec<f64>| T1::from_data(TensorData::new(v, [n]), &device);
        let energies = if selected.is_empty() { vector(e_new.to_vec()) } else { vector(e_new.to_vec()).require_grad() };
        // a_i = −(E_i − E_ref,i)/kT_i, with E_ref,i = E_i − a_i kT_i on the host
        let e_ref: Vec<f64> = (0..n).map(|i| e_new[i] + a[i] * temps[i]).collect();
        let logits = (energies.clone() - vector(e_ref)) * vector(temps.iter().map(|t| -1.0 / t).collect());
        let shifted = logits.clone() - logits.max().detach();
        let unnorm = shifted.exp();
        let w = unnorm.clone() / unnorm.sum();
        let trainable = EnergyParams::from_set(set, &selected, &device)?;
        let tp = TensorParams::with_trainable(set, &trainable, &device);
        let values: Vec<T1> = self
            .observables
            .iter()
            .zip(tables)
            .map(|(o, table)| {
                let dim = o.dim();
                let flat: Vec<f64> = (0..dim).flat_map(|k| table.iter().map(move |x| x[k])).collect();
                let x = Tensor::<2>::from_data(TensorData::new(flat, [dim, n]), &device);
                let mean: T1 = x.matmul(w.clone().reshape([n, 1])).reshape([dim]);
                o.reduce(mean, &tp)
            })
            .collect();
        let loss_t = self.loss.eval(&T1::cat(values, 0), &tp);
        let loss = crate::energy::tensor::host(loss_t.clone()).first().copied().unwrap_or(f64::NAN);
        if selected.is_empty() {
            return Ok((loss, ParamGrads::default()));
        }
        let g = loss_t.backward();
        let direct = trainable.grads(&g);
        let cotangent = energies.grad(&g).map_or_else(|| vec![0.0; n], crate::energy::tensor::host);
        let (_, mut grads) = model.vjp(&traj.frames, &cotangent, &selected)?;
        grads.add_assign(&direct);
        Ok((loss, grads))
    }
}

/// A valid `min_n_eff` (a fraction in (0, 1]).
pub(crate) fn check_min_n_eff(f: f64) -> Result<f64> {
    if !(f > 0.0 && f <= 1.0) {
        return Err(Error::invalid(
            "min_n_eff_factor",
            f,
            "a fraction of the sample size in (0, 1]; mythos examples use 0.95",
        ));
    }
    Ok(f)
}

/// A valid `max_valid_opt_steps` (positive).
pub(crate) fn check_max_valid_opt_steps(n: u64) -> Result<u64> {
    if n == 0 {
        return Err(Error::invalid("max_valid_opt_steps", 0, "max_valid_opt_steps must be positive or infinity."));
    }
    Ok(n)
}

/// Normalised weights and the normalised effective sample size of log-weights `a`.
#[must_use]
pub fn weights(a: &[f64]) -> (Vec<f64>, f64) {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + a.iter().map(|x| (x - m).exp()).sum::<f64>().ln();
    let w: Vec<f64> = a.iter().map(|x| (x - lse).exp()).collect();
    let entropy: f64 = a.iter().zip(&w).map(|(x, wi)| if *wi > 0.0 { -wi * (x - lse) } else { 0.0 }).sum();
    let neff = entropy.exp() / a.len() as f64;
    (w, neff)
}

/// n_eff of each temperature's states with their own normalisation (the weights are
/// one softmax over all states, the gate takes the smallest per-temperature n_eff).
fn per_temperature_neff(a: &[f64], temps: &[f64]) -> Vec<(f64, f64)> {
    let mut distinct: Vec<f64> = temps.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup_by(|x, y| (*x - *y).abs() < 1e-15);
    distinct
        .iter()
        .map(|t| {
            let seg: Vec<f64> =
                a.iter().zip(temps).filter(|(_, ti)| (*ti - t).abs() < 1e-15).map(|(x, _)| *x).collect();
            (*t, weights(&seg).1)
        })
        .collect()
}

/// Identifies a joined trajectory: its length and the bits of its first and last coordinates.
fn fingerprint(t: &Trajectory) -> String {
    let bits = |f: Option<&crate::io::Configuration>| {
        f.and_then(|c| c.r.first())
            .map_or(0, |r| r[0].to_bits() ^ r[1].to_bits().rotate_left(21) ^ r[2].to_bits().rotate_left(42))
    };
    format!("{}:{:x}:{:x}", t.len(), bits(t.frames.first()), bits(t.frames.last()))
}

/// A "not ready" output asking for fresh `required` observables, with the values to report;
/// the reuse count starts again.
pub(crate) fn not_ready(required: &[ObservableId], observables: BTreeMap<String, Observation>) -> ObjectiveOutput {
    let mut out = ObjectiveOutput::not_ready(required.to_vec());
    out.observables = observables;
    out.state.insert("opt_steps".into(), 0.into());
    out
}

/// The trajectories among `obs`, joined after `n_equilibration` states of each, with their reuse
/// bookkeeping; `None` once they have served `max_valid_opt_steps` updates (re-simulate).
pub(crate) fn reuse_or_resample(
    name: &str,
    obs: &[Arc<Observation>],
    params: &Params,
    state: &State,
    n_equilibration: usize,
    max_valid_opt_steps: Option<u64>,
) -> Result<Option<(Trajectory, Vec<usize>, Reuse)>> {
    let opt_steps = state.get("opt_steps").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if max_valid_opt_steps.is_some_and(|m| opt_steps >= m) {
        return Ok(None);
    }
    let trajs: Vec<Trajectory> = obs
        .iter()
        .filter_map(|o| match &**o {
            Observation::Trajectory(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    let (joined, segments) = join(name, &trajs, n_equilibration)?;
    let reuse = Reuse::from_state(state, params, &joined)?;
    Ok(Some((joined, segments, reuse)))
}

/// DiffTRe's reuse of a trajectory across updates, kept in the objective's state: how many
/// updates it served, the parameters θ_ref it is referenced at and its reference energies,
/// keyed by the trajectory's fingerprint. A new trajectory (a re-simulation, whoever asked for
/// it) is re-referenced at the current θ.
pub(crate) struct Reuse {
    /// Updates the trajectory has served (0 for a new one).
    pub opt_steps: u64,
    /// The reference parameters.
    pub theta_ref: Params,
    /// Cached reference energies (empty: compute them at `theta_ref`).
    pub cached: Vec<f64>,
    key: String,
}

impl Reuse {
    /// From the state of the previous call, for the joined trajectory `joined` and the current
    /// parameters `params`.
    pub fn from_state(state: &State, params: &Params, joined: &Trajectory) -> Result<Reuse> {
        let opt_steps = state.get("opt_steps").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let key = fingerprint(joined);
        let same =
            opt_steps > 0 && state.get("reference_key").and_then(serde_json::Value::as_str) == Some(key.as_str());
        let theta_ref: Params = match state.get("reference_opt_params") {
            Some(v) if same => serde_json::from_value(v.clone())
                .map_err(|e| Error::invalid("DiffTRe state", e, "reference_opt_params must map names to numbers"))?,
            _ => params.clone(),
        };
        let cached: Vec<f64> = match state.get("reference_energies") {
            Some(v) if same => serde_json::from_value(v.clone()).unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(Reuse { opt_steps: if same { opt_steps } else { 0 }, theta_ref, cached, key })
    }

    /// The reference of `n` states: the cached energies if they fit, else θ_ref.
    pub fn reference(&self, n: usize) -> Reference<'_> {
        if self.cached.len() == n {
            Reference::Energies(&self.cached)
        } else {
            Reference::Params(&self.theta_ref)
        }
    }

    /// Records one more update served, with the reference energies used, in `out`'s state.
    pub fn record(&self, out: &mut ObjectiveOutput, reference_energies: &[f64]) {
        out.state.insert("opt_steps".into(), (self.opt_steps + 1).into());
        out.state.insert("reference_opt_params".into(), serde_json::to_value(&self.theta_ref).unwrap_or_default());
        out.state.insert("reference_energies".into(), serde_json::to_value(reference_energies).unwrap_or_default());
        out.state.insert("reference_key".into(), self.key.clone().into());
    }
}

/// Drops `n_equilibration` states from the start of each trajectory and joins them; the
/// segment lengths. Every state must carry its temperature. `name` (the objective's) names
/// the errors.
pub(crate) fn join(
    name: &str,
    trajectories: &[Trajectory],
    n_equilibration: usize,
) -> Result<(Trajectory, Vec<usize>)> {
    if trajectories.is_empty() {
        return Err(Error::invalid("observables", name, "No SimulatorTrajectory observables found in observables."));
    }
    let sliced: Vec<Trajectory> = trajectories
        .iter()
        .map(|t| {
            let k = n_equilibration.min(t.len());
            let mut t = t.clone();
            t.frames.drain(..k);
            if let Some(temp) = t.temperature.as_mut() {
                temp.drain(..k);
            }
            for v in t.metadata.values_mut() {
                v.drain(..k.min(v.len()));
            }
            t
        })
        .collect();
    let segments: Vec<usize> = sliced.iter().map(Trajectory::len).collect();
    let joined = Trajectory::concat(&sliced)?;
    if joined.is_empty() {
        return Err(Error::invalid(
            "n_equilibration_steps",
            n_equilibration,
            "Equilibration slicing yields no states! Note slicing is in number of snapshots, not timesteps (a configuration's equilibration_states).",
        ));
    }
    if joined.temperature.is_none() {
        return Err(Error::invalid(
            "trajectory",
            name,
            "SimulatorTrajectory.temperature is None. DiffTRe requires per-state temperature (kT) on the trajectory.",
        ));
    }
    Ok((joined, segments))
}

impl Objective for DiffTre {
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
        _: &TaskContext,
        obs: &[Arc<Observation>],
        params: &Params,
        state: &State,
    ) -> Result<ObjectiveOutput> {
        let Some((joined, segments, reuse)) =
            reuse_or_resample(&self.name, obs, params, state, self.n_equilibration_steps, self.max_valid_opt_steps)?
        else {
            return Ok(not_ready(&self.required, BTreeMap::new()));
        };
        let reference = reuse.reference(joined.len());
        let e = self.evaluate_joined(&joined, &segments, reference, params)?;
        let mut reported = BTreeMap::new();
        reported.insert("neff".to_string(), Observation::Scalar(e.n_eff_min));
        if e.n_eff.len() > 1 {
            for (t, n) in &e.n_eff {
                reported.insert(format!("neff_kT{t}"), Observation::Scalar(*n));
            }
        }
        // a NaN n_eff counts as too small
        if e.n_eff_min.is_nan() || e.n_eff_min < self.min_n_eff {
            return Ok(not_ready(&self.required, reported));
        }
        reported.insert("loss".to_string(), Observation::Scalar(e.loss));
        for o in &e.observables {
            reported.insert(o.name.clone(), Observation::Scalar(o.estimate.value));
            reported.insert(format!("{}_se", o.name), Observation::Scalar(o.estimate.std_err));
        }
        let mut result = ObjectiveOutput::ready(e.grads, reported);
        reuse.record(&mut result, &e.reference_energies);
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_stable_and_neff_is_one_when_uniform() {
        let (w, n) = weights(&[0.0; 4]);
        assert!(w.iter().all(|x| (x - 0.25).abs() < 1e-15));
        assert!((n - 1.0).abs() < 1e-15);
        // huge log-weights do not overflow; an underflowed weight does not make n_eff NaN
        let (w, n) = weights(&[1e4, 1e4 - 800.0, 0.0]);
        assert!((w[0] - 1.0).abs() < 1e-15 && w[2] < 1e-300);
        assert!((n - 1.0 / 3.0).abs() < 1e-12);
        // a state of infinite energy (log-weight −∞) has weight 0 and leaves n_eff finite
        let (w, n) = weights(&[0.0, f64::NEG_INFINITY]);
        assert_eq!(w, [1.0, 0.0]);
        assert!((n - 0.5).abs() < 1e-15, "{n}");
    }

    /// The 8-bp oxDNA1 reference trajectory, its model at 296 K and a DiffTRe objective on the
    /// distance between the first pair's nucleotides.
    fn reference_case() -> (DiffTre, Trajectory) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oxdna/dna1-avg-8bp-T296");
        let (top, _) = crate::system::Topology::read(dir.join("init.top")).unwrap();
        let frames: Vec<crate::io::Configuration> =
            crate::io::TrajectoryReader::open(dir.join("trajectory.dat"), top.len())
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let mut params = crate::params::ParamSet::dna1_defaults();
        params.set("kt", crate::units::kt_from_str("296.15K").unwrap()).unwrap();
        let kt = params.value("kt");
        let model = EnergyModel::new(&top, params).unwrap();
        let obs: Vec<Arc<dyn Observable>> = vec![Arc::new(crate::observable::Distance::between(&top, 0, 15).unwrap())];
        let n = frames.len();
        let d = DiffTre::new("d", vec![], model, obs, Loss::squared(1.0)).unwrap().min_n_eff(0.5).unwrap();
        (d.max_valid_opt_steps(3).unwrap(), Trajectory::new(frames, Some(vec![kt; n])).unwrap())
    }

    fn run(d: &DiffTre, t: &Trajectory, params: &Params, state: &State) -> ObjectiveOutput {
        let ctx = TaskContext {
            task: "objective_compute:d".into(),
            step: 0,
            attempt: 1,
            env: Vec::new(),
            env_remove: Vec::new(),
        };
        d.calculate(&ctx, &[Arc::new(Observation::Trajectory(t.clone()))], params, state).unwrap()
    }

    fn reference_params(out: &ObjectiveOutput) -> Params {
        serde_json::from_value(out.state["reference_opt_params"].clone()).unwrap()
    }

    /// The reference (θ_ref, E_ref) serves while the trajectory is the same one and the reuse
    /// limit is not reached; a trajectory that differs anywhere the fingerprint looks (length,
    /// any coordinate of the first nucleotide in the first or last frame) is re-referenced.
    #[test]
    fn the_reference_is_reused_only_for_the_same_trajectory() {
        let (d, traj) = reference_case();
        let p0: Params = [("eps_stack_base".to_string(), 1.3448)].into_iter().collect();
        let p1: Params = [("eps_stack_base".to_string(), 1.3448 * 1.002)].into_iter().collect();
        let first = run(&d, &traj, &p0, &State::new());
        assert!(first.is_ready);
        assert_eq!(first.state["opt_steps"], 1);
        // one temperature: one n_eff; two temperatures: each reported too
        assert!(!first.observables.keys().any(|k| k.starts_with("neff_kT")), "{:?}", first.observables.keys());
        let mut two = traj.clone();
        let half = two.frames.len() / 2;
        if let Some(t) = two.temperature.as_mut() {
            t[half..].iter_mut().for_each(|x| *x *= 1.01);
        }
        let out = run(&d, &two, &p0, &State::new());
        assert_eq!(
            out.observables.keys().filter(|k| k.starts_with("neff_kT")).count(),
            2,
            "{:?}",
            out.observables.keys()
        );
        // the same trajectory at new parameters: reweighted from θ0, one step further
        let again = run(&d, &traj, &p1, &first.state);
        assert!(again.is_ready);
        assert_eq!(again.state["opt_steps"], 2);
        assert_eq!(reference_params(&again), p0);
        let fresh = run(&d, &traj, &p1, &State::new());
        let loss = |o: &ObjectiveOutput| match &o.observables["loss"] {
            Observation::Scalar(x) => *x,
            other => panic!("{other:?}"),
        };
        assert!((loss(&again) - loss(&fresh)).abs() > 1e-9, "reweighting from θ0 changes the loss at θ1");
        // any change the fingerprint covers makes it a new trajectory, referenced at θ1
        let changes: [(usize, usize); 4] = [(0, 0), (0, 2), (usize::MAX, 1), (usize::MAX, 2)];
        for (frame, axis) in changes {
            let mut t = traj.clone();
            let k = if frame == usize::MAX { t.frames.len() - 1 } else { frame };
            t.frames[k].r[0].0[axis] += 1e-9;
            let out = run(&d, &t, &p1, &again.state);
            assert_eq!(out.state["opt_steps"], 1, "frame {k}, axis {axis}: a new trajectory");
            assert_eq!(reference_params(&out), p1, "frame {k}, axis {axis}: referenced at the current θ");
        }
        let mut shorter = traj.clone();
        shorter.frames.pop();
        shorter.temperature.as_mut().map(Vec::pop);
        assert_eq!(run(&d, &shorter, &p1, &again.state).state["opt_steps"], 1, "fewer frames: a new trajectory");
        // the reuse limit: the third update from one trajectory is allowed, the fourth is not
        let third = run(&d, &traj, &p1, &again.state);
        assert!(third.is_ready && third.state["opt_steps"] == 3);
        let fourth = run(&d, &traj, &p1, &third.state);
        assert!(!fourth.is_ready && fourth.state["opt_steps"] == 0);
        // a step counter without a matching key is not a reuse, nor is a matching key at step 0
        let mut forged = again.state.clone();
        forged.insert("reference_key".into(), "0:0:0".into());
        assert_eq!(run(&d, &traj, &p1, &forged).state["opt_steps"], 1);
        let mut reset = again.state.clone();
        reset.insert("opt_steps".into(), 0.into());
        let out = run(&d, &traj, &p1, &reset);
        assert_eq!(reference_params(&out), p1);
        let neff = |o: &ObjectiveOutput| match &o.observables["neff"] {
            Observation::Scalar(x) => *x,
            other => panic!("{other:?}"),
        };
        // re-referenced at the current θ: uniform weights (no stale reference energies)
        assert!((neff(&out) - 1.0).abs() < 1e-12, "n_eff {}", neff(&out));
        // the fingerprint sees a flip of any low bit of any coordinate it covers
        for (axis, bit) in (0..3).flat_map(|a| (0..8).map(move |b| (a, b))) {
            let mut t = traj.clone();
            let x = &mut t.frames[0].r[0].0[axis];
            *x = f64::from_bits(x.to_bits() ^ (1 << bit));
            let out = run(&d, &t, &p1, &again.state);
            assert_eq!(out.state["opt_steps"], 1, "axis {axis}, bit {bit}: a new trajectory");
            assert!((neff(&out) - 1.0).abs() < 1e-12, "axis {axis}, bit {bit}: referenced afresh");
        }
        // n_eff exactly at the threshold still counts as enough
        let at = neff(&again);
        let strict = reference_case().0.min_n_eff(at).unwrap();
        assert!(run(&strict, &traj, &p1, &first.state).is_ready, "n_eff {at} = min_n_eff");
    }

    #[test]
    fn hints_are_the_ones_given() {
        let (d, _) = reference_case();
        let h = SchedulerHints { num_cpus: Some(3), max_retries: Some(2), ..SchedulerHints::default() };
        let d = d.hints(h.clone());
        assert_eq!(Objective::hints(&d), &h);
    }

    #[test]
    fn each_temperature_gets_its_own_neff() {
        // at kT 0.1 two equal states (n_eff 1); at kT 0.11 one of three states carries all weight
        let a = [0.0, 0.0, 5.0, -30.0, -30.0];
        let temps = [0.1, 0.1, 0.11, 0.11, 0.11];
        let got = per_temperature_neff(&a, &temps);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].0, got[1].0), (0.1, 0.11));
        assert!((got[0].1 - 1.0).abs() < 1e-12, "{got:?}");
        assert!((got[1].1 - 1.0 / 3.0).abs() < 1e-12, "{got:?}");
    }

    #[test]
    fn settings_are_validated_with_mythos_messages() {
        let top = crate::system::Topology::from_sequences(
            &[(vec![crate::system::Base::A; 2], crate::system::StrandKind::Dna, false)],
            crate::system::TopologyFormat::Classic,
        );
        let model = EnergyModel::new(&top, crate::params::ParamSet::dna1_defaults()).unwrap();
        let obs: Vec<Arc<dyn Observable>> = vec![Arc::new(crate::observable::Distance::between(&top, 0, 1).unwrap())];
        let d = DiffTre::new("pt", vec![], model.clone(), obs.clone(), Loss::squared(1.0)).unwrap();
        assert_eq!(d.observables().len(), 1, "the objective keeps its observables");
        assert_eq!(d.observables()[0].name(), obs[0].name());
        let e = d.min_n_eff(0.0).err().unwrap().to_string();
        assert_eq!(
            e,
            "invalid min_n_eff_factor = 0: a fraction of the sample size in (0, 1]; mythos examples use 0.95"
        );
        let e = DiffTre::new("pt", vec![], model, obs, Loss::Squared(vec![1.0, 2.0])).err().unwrap().to_string();
        assert_eq!(e, "invalid targets = [1.0, 2.0]: give one target per observable (1), in the same order");
    }
}
