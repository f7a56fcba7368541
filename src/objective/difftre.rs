//! DiffTRe: gradients of ensemble averages by reweighting a trajectory sampled at θ_ref
//! (Thaler & Zavadlav 2021, eqs. 4–5; `reference-semantics.md` §e).
//!
//! With a_i = −β_i (E_θ(x_i) − E_θref(x_i)) over the states x_i of the joined trajectories,
//!
//! ```text
//! w_i = exp(a_i − lse(a)),   n_eff = exp(−Σ w_i ln w_i) / N
//! ```
//!
//! computed with a stable log-sum-exp and 0·ln 0 = 0 (fixes H4, H5). The loss is any function of
//! the trajectory and the weights, L(w(θ), θ); its gradient is a vector–Jacobian product of the
//! energy model with the per-state cotangent
//!
//! ```text
//! ∂L/∂E_j = −β_j w_j (g_j − Σ_i w_i g_i),   g_i = ∂L/∂w_i
//! ```
//!
//! so only the energies enter the autodiff graph, batch by batch (`map_batch_size`,
//! `map_checkpoint`). While n_eff ≥ `min_n_eff_factor` and fewer than `max_valid_opt_steps`
//! updates used the trajectory, it is reused without simulating: DiffTRe's saving. Otherwise the
//! objective answers "not ready" and the optimizer re-simulates. The reference energies are
//! computed once per trajectory and kept in the objective's state (H23).

use crate::energy::EnergyModel;
use crate::error::{Error, Result};
use crate::optimize::{
    Objective, ObjectiveOutput, ObservableId, Observation, Params, SchedulerHints, State, TaskContext,
};
use crate::trajectory::Trajectory;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a DiffTRe loss returns: the loss, its gradient with respect to each state's weight, and
/// values to report (e.g. the reweighted observable).
#[derive(Debug, Clone, Default)]
pub struct LossOutput {
    /// The loss.
    pub loss: f64,
    /// ∂L/∂w_i for each state.
    pub dloss_dweights: Vec<f64>,
    /// Reported values.
    pub reported: BTreeMap<String, Observation>,
}

/// A loss of the reweighted trajectory: `(trajectory, weights) → LossOutput`.
pub type LossFn = dyn Fn(&Trajectory, &[f64]) -> Result<LossOutput> + Send + Sync;

/// The DiffTRe objective.
pub struct DiffTre {
    name: String,
    required: Vec<ObservableId>,
    model: EnergyModel,
    loss: Arc<LossFn>,
    n_equilibration_steps: usize,
    min_n_eff: f64,
    max_valid_opt_steps: Option<u64>,
    hints: SchedulerHints,
}

impl DiffTre {
    /// A DiffTRe objective named `name` reweighting the trajectories in `required` with `model`
    /// (whose parameters are the base the optimised values override).
    pub fn new(
        name: impl Into<String>,
        required: Vec<ObservableId>,
        model: EnergyModel,
        loss: impl Fn(&Trajectory, &[f64]) -> Result<LossOutput> + Send + Sync + 'static,
    ) -> DiffTre {
        DiffTre {
            name: name.into(),
            required,
            model,
            loss: Arc::new(loss),
            n_equilibration_steps: 0,
            min_n_eff: 0.95,
            max_valid_opt_steps: None,
            hints: SchedulerHints::default(),
        }
    }

    /// The smallest normalised effective sample size that keeps reweighting valid.
    pub fn min_n_eff(mut self, f: f64) -> Result<Self> {
        if !(f > 0.0 && f <= 1.0) {
            return Err(Error::invalid(
                "min_n_eff_factor",
                f,
                "a fraction of the sample size in (0, 1]; mythos examples use 0.95",
            ));
        }
        self.min_n_eff = f;
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
        if n == 0 {
            return Err(Error::invalid("max_valid_opt_steps", 0, "max_valid_opt_steps must be positive or infinity."));
        }
        self.max_valid_opt_steps = Some(n);
        Ok(self)
    }

    /// With scheduler hints.
    #[must_use]
    pub fn hints(mut self, hints: SchedulerHints) -> Self {
        self.hints = hints;
        self
    }

    fn not_ready(&self, observables: BTreeMap<String, Observation>) -> ObjectiveOutput {
        let mut out = ObjectiveOutput::not_ready(self.required.clone());
        out.observables = observables;
        out.state.insert("opt_steps".into(), 0.into());
        out
    }
}

/// Identifies a joined trajectory: its length and the bits of its first and last coordinates.
fn fingerprint(t: &Trajectory) -> String {
    let bits = |f: Option<&crate::io::Configuration>| {
        f.and_then(|c| c.r.first())
            .map_or(0, |r| r[0].to_bits() ^ r[1].to_bits().rotate_left(21) ^ r[2].to_bits().rotate_left(42))
    };
    format!("{}:{:x}:{:x}", t.len(), bits(t.frames.first()), bits(t.frames.last()))
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
        let opt_steps = state.get("opt_steps").and_then(serde_json::Value::as_u64).unwrap_or(0);
        if self.max_valid_opt_steps.is_some_and(|m| opt_steps >= m) {
            return Ok(self.not_ready(BTreeMap::new()));
        }
        let trajs: Vec<Trajectory> = obs
            .iter()
            .filter_map(|o| match &**o {
                Observation::Trajectory(t) => {
                    let mut t = t.clone();
                    let k = self.n_equilibration_steps.min(t.len());
                    t.frames.drain(..k);
                    if let Some(temp) = t.temperature.as_mut() {
                        temp.drain(..k);
                    }
                    for v in t.metadata.values_mut() {
                        v.drain(..k.min(v.len()));
                    }
                    Some(t)
                }
                _ => None,
            })
            .collect();
        if trajs.is_empty() {
            return Err(Error::invalid(
                "observables",
                &self.name,
                "No SimulatorTrajectory observables found in observables.",
            ));
        }
        let reference = Trajectory::concat(&trajs)?;
        if reference.is_empty() {
            return Err(Error::invalid(
                "n_equilibration_steps",
                self.n_equilibration_steps,
                "Equilibration slicing yields no states! Note slicing is in number of snapshots, not timesteps.",
            ));
        }
        let Some(temps) = reference.temperature.clone() else {
            return Err(Error::invalid(
                "trajectory",
                &self.name,
                "SimulatorTrajectory.temperature is None. DiffTRe requires per-state temperature (kT) on the trajectory.",
            ));
        };
        // θ_ref and E_ref belong to the trajectory they were computed on: a new trajectory (a
        // re-simulation, whoever asked for it) is re-referenced at the current θ (H32)
        let key = fingerprint(&reference);
        let same =
            opt_steps > 0 && state.get("reference_key").and_then(serde_json::Value::as_str) == Some(key.as_str());
        let opt_steps = if same { opt_steps } else { 0 };
        let theta_ref: Params = match state.get("reference_opt_params") {
            Some(v) if same => serde_json::from_value(v.clone())
                .map_err(|e| Error::invalid("DiffTRe state", e, "reference_opt_params must map names to numbers"))?,
            _ => params.clone(),
        };
        let with = |p: &Params| -> Result<EnergyModel> {
            self.model.with_params(self.model.params().with_params(p.iter().map(|(k, v)| (k.as_str(), *v)))?)
        };
        let cached: Vec<f64> = match state.get("reference_energies") {
            Some(v) if same => serde_json::from_value(v.clone()).unwrap_or_default(),
            _ => Vec::new(),
        };
        let e_ref = if cached.len() == reference.len() { cached } else { with(&theta_ref)?.map(&reference.frames)? };
        let model = with(params)?;
        let e_new = model.map(&reference.frames)?;
        let a: Vec<f64> = (0..reference.len()).map(|i| -(e_new[i] - e_ref[i]) / temps[i]).collect();
        // n_eff per temperature: the smallest governs validity (H7: one normalisation overall)
        let mut distinct: Vec<f64> = temps.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let neff = distinct
            .iter()
            .map(|t| {
                let seg: Vec<f64> =
                    a.iter().zip(&temps).filter(|(_, ti)| (*ti - t).abs() < 1e-15).map(|(x, _)| *x).collect();
                weights(&seg).1
            })
            .fold(f64::INFINITY, f64::min);
        // a NaN n_eff counts as too small (H5)
        if neff.is_nan() || neff < self.min_n_eff {
            let mut reported = BTreeMap::new();
            reported.insert("neff".to_string(), Observation::Scalar(neff));
            return Ok(self.not_ready(reported));
        }
        let (w, _) = weights(&a);
        let out = (self.loss)(&reference, &w)?;
        if out.dloss_dweights.len() != w.len() {
            return Err(Error::mismatch(
                "DiffTRe loss",
                format!(
                    "{} weight gradients for {} states: return one ∂L/∂w_i per state",
                    out.dloss_dweights.len(),
                    w.len()
                ),
            ));
        }
        let mean_g: f64 = out.dloss_dweights.iter().zip(&w).map(|(g, wi)| g * wi).sum();
        let cotangent: Vec<f64> = (0..w.len()).map(|j| -w[j] * (out.dloss_dweights[j] - mean_g) / temps[j]).collect();
        let selected: Vec<String> = params.keys().cloned().collect();
        let (_, grads) = model.vjp(&reference.frames, &cotangent, &selected)?;
        let mut reported = out.reported;
        reported.insert("loss".to_string(), Observation::Scalar(out.loss));
        reported.insert("neff".to_string(), Observation::Scalar(neff));
        let mut result = ObjectiveOutput::ready(grads, reported);
        result.state.insert("opt_steps".into(), (opt_steps + 1).into());
        result.state.insert("reference_opt_params".into(), serde_json::to_value(&theta_ref).unwrap_or_default());
        result.state.insert("reference_energies".into(), serde_json::to_value(&e_ref).unwrap_or_default());
        result.state.insert("reference_key".into(), key.into());
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
    }

    #[test]
    fn settings_are_validated_with_mythos_messages() {
        let top = crate::system::Topology::from_sequences(
            &[(vec![crate::system::Base::A], crate::system::StrandKind::Dna, false)],
            crate::system::TopologyFormat::Classic,
        );
        let model = EnergyModel::new(&top, crate::params::ParamSet::dna1_defaults()).unwrap();
        let d = DiffTre::new("pt", vec![], model, |_, w| {
            Ok(LossOutput { dloss_dweights: vec![0.0; w.len()], ..Default::default() })
        });
        let e = d.min_n_eff(0.0).err().unwrap().to_string();
        assert_eq!(
            e,
            "invalid min_n_eff_factor = 0: a fraction of the sample size in (0, 1]; mythos examples use 0.95"
        );
    }
}
