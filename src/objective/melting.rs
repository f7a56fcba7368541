//! A melting temperature as a training target: DiffTRe on umbrella-sampled states.
//!
//! The states of Monte Carlo runs biased by umbrella weights (native VMMC or oxDNA's) are
//! reweighted to the current parameters θ and to every temperature of a grid,
//!
//! ```text
//! a_ik(θ) = −E_θ(x_i; T_k)/T_k + E_ref(x_i)/T₀ − ln W(x_i)
//! ```
//!
//! so the weights undo the bias, and the temperature extrapolation is part of the differentiated
//! computation: Tm(θ) = reduce(mean X(θ)) of [`crate::observable::melting_temperature`], the loss
//! L(Tm(θ)) (kelvin), and ∂L/∂θ by autodiff — a small graph from the energies E_θ(x_i; T_k) to L
//! gives ∂L/∂E_ik, then one vector–Jacobian product of the energy model at each temperature
//! whose energies Tm depends on (the two that bracket it). No derivative is written by hand.
//!
//! Reuse is gated as in [`super::DiffTre`]: while the normalised effective sample size of the
//! reweighting from θ_ref to θ at the simulation temperature, n_eff = exp(−Σ w ln w)/N with
//! w_i ∝ exp(−(E_θ(x_i; T₀) − E_ref(x_i))/T₀), stays at least `min_n_eff` (and fewer than
//! `max_valid_opt_steps` updates used the states), the states are reused; otherwise the
//! objective asks for fresh ones. Bound flags and umbrella weights are evaluated with θ_ref, the
//! parameters the states were sampled with.

use super::difftre::{join, not_ready, reuse_or_resample, weights};
use super::loss::Loss;
use crate::backend;
use crate::component::{
    Objective, ObjectiveOutput, ObservableId, Observation, Params, SchedulerHints, State, TaskContext,
};
use crate::energy::tensor::{host, EnergyParams, TensorParams, T1};
use crate::error::{Error, Result};
use crate::observable::melting_temperature::{MeltingTemperature, Sampled};
use crate::observable::stats::Estimate;
use crate::observable::Observable;
use crate::params::{ParamGrads, ParamSet};
use crate::trajectory::Trajectory;
use burn::tensor::TensorData;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Fits a melting temperature (see the [module docs](self)).
pub struct MeltingObjective {
    name: String,
    required: Vec<ObservableId>,
    tm: Arc<MeltingTemperature>,
    loss: Loss,
    n_equilibration_states: usize,
    min_n_eff: f64,
    max_valid_opt_steps: Option<u64>,
    hints: SchedulerHints,
}

/// What one evaluation gives.
#[derive(Debug, Clone)]
pub struct MeltingEvaluation {
    /// The loss.
    pub loss: f64,
    /// Tm (kelvin) with its block-jackknife error.
    pub tm: Estimate,
    /// The normalised effective sample size of the reweighting to θ at the simulation temperature.
    pub n_eff: f64,
    /// ∂L/∂θ for every evaluated parameter.
    pub grads: ParamGrads,
    /// The reference energies (at θ_ref and the simulation temperature).
    pub reference_energies: Vec<f64>,
}

impl MeltingObjective {
    /// An objective named `name` fitting the melting temperature `tm` of the states in
    /// `required` with `loss` (one target, kelvin).
    pub fn new(
        name: impl Into<String>,
        required: Vec<ObservableId>,
        tm: Arc<MeltingTemperature>,
        loss: Loss,
    ) -> Result<MeltingObjective> {
        loss.check(1)?;
        Ok(MeltingObjective {
            name: name.into(),
            required,
            tm,
            loss,
            n_equilibration_states: 0,
            min_n_eff: 0.95,
            max_valid_opt_steps: None,
            hints: SchedulerHints::default(),
        })
    }

    /// The smallest normalised effective sample size that keeps reweighting valid.
    pub fn min_n_eff(mut self, f: f64) -> Result<Self> {
        self.min_n_eff = super::difftre::check_min_n_eff(f)?;
        Ok(self)
    }

    /// States dropped from the start of every run.
    #[must_use]
    pub fn n_equilibration_states(mut self, states: usize) -> Self {
        self.n_equilibration_states = states;
        self
    }

    /// Updates a set of states may serve before it is re-sampled (default: no limit).
    pub fn max_valid_opt_steps(mut self, n: u64) -> Result<Self> {
        self.max_valid_opt_steps = Some(super::difftre::check_max_valid_opt_steps(n)?);
        Ok(self)
    }

    /// With scheduler hints.
    #[must_use]
    pub fn hints(mut self, hints: SchedulerHints) -> Self {
        self.hints = hints;
        self
    }

    /// The melting temperature it fits.
    #[must_use]
    pub fn melting_temperature(&self) -> &Arc<MeltingTemperature> {
        &self.tm
    }

    fn set(&self, values: &Params) -> Result<ParamSet> {
        if values.contains_key("kt") {
            return Err(Error::invalid(
                "trained parameter",
                "kt",
                "the temperature is not a model parameter a melting temperature can train; leave it out",
            ));
        }
        self.tm.sampling_model().params().with_params(values.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    /// The loss, Tm, n_eff and gradient at `params` of independent runs `trajectories`, sampled
    /// with `theta_ref`. Usable on its own, without an optimizer.
    pub fn evaluate(
        &self,
        trajectories: &[Trajectory],
        theta_ref: &Params,
        params: &Params,
    ) -> Result<MeltingEvaluation> {
        let (joined, segments) = join(&self.name, trajectories, self.n_equilibration_states)?;
        self.evaluate_joined(&joined, &segments, theta_ref, None, params)
    }

    fn evaluate_joined(
        &self,
        traj: &Trajectory,
        segments: &[usize],
        theta_ref: &Params,
        cached: Option<&[f64]>,
        params: &Params,
    ) -> Result<MeltingEvaluation> {
        let t0 = self.tm.sampling_temperature(traj)?;
        let set_ref = self.set(theta_ref)?;
        let set = self.set(params)?;
        let sampling = self.tm.sampling_model();
        let sampled = self.tm.sampled(traj, &set_ref)?;
        let reference_energies = match cached {
            Some(e) if e.len() == traj.len() => e.to_vec(),
            _ => sampling.with_params(set_ref)?.map(&traj.frames)?,
        };
        let here = sampling.with_params(set.clone())?.map(&traj.frames)?;
        let log_w: Vec<f64> = here.iter().zip(&reference_energies).map(|(e, r)| -(e - r) / t0).collect();
        let n_eff = weights(&log_w).1;
        let values: Vec<(String, f64)> = params.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let models = self.tm.grid_models(&values)?;
        let energies: Vec<Vec<f64>> = models.iter().map(|(_, m)| m.map(&traj.frames)).collect::<Result<_>>()?;
        let a = self.tm.log_weights(&energies, &reference_energies, &sampled);
        let tm = self.tm.estimate_from(&a, &sampled, segments, &set)?;
        let (loss, grads) =
            self.loss_and_gradient(traj, &set, &models, &energies, &reference_energies, &sampled, params)?;
        Ok(MeltingEvaluation { loss, tm, n_eff, grads, reference_energies })
    }

    /// The loss and its gradient: a small autodiff graph E_k → a_k → mean features → Tm → L,
    /// then the model's vector–Jacobian product at each temperature with a non-zero ∂L/∂E_k.
    #[allow(clippy::too_many_arguments)]
    fn loss_and_gradient(
        &self,
        traj: &Trajectory,
        set: &ParamSet,
        models: &[(f64, crate::energy::EnergyModel)],
        energies: &[Vec<f64>],
        reference_energies: &[f64],
        sampled: &Sampled,
        params: &Params,
    ) -> Result<(f64, ParamGrads)> {
        let n = traj.len();
        let selected: Vec<String> = params.keys().cloned().collect();
        let device = if selected.is_empty() { backend::cpu() } else { backend::cpu_autodiff() };
        let vector = |v: Vec<f64>| T1::from_data(TensorData::new(v, [n]), &device);
        let t0 = self.tm.sampling_model().params().value("kt");
        // the part of each log-weight that does not depend on θ: E_ref/T₀ − ln W
        let fixed: Vec<f64> = reference_energies.iter().zip(&sampled.log_bias).map(|(r, lw)| r / t0 - lw).collect();
        let bound = vector(sampled.bound.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect());
        let unbound = vector(sampled.bound.iter().map(|&b| if b { 0.0 } else { 1.0 }).collect());
        let leaves: Vec<T1> = energies
            .iter()
            .map(|e| if selected.is_empty() { vector(e.clone()) } else { vector(e.clone()).require_grad() })
            .collect();
        let mut means = Vec::with_capacity(2 * models.len());
        for ((kt, _), e) in models.iter().zip(&leaves) {
            let a = e.clone() * (-1.0 / kt) + vector(fixed.clone());
            let x = (a.clone() - a.max().detach()).exp();
            means.push((x.clone() * bound.clone()).sum() / n as f64);
            means.push((x * unbound.clone()).sum() / n as f64);
        }
        let trainable = EnergyParams::from_set(set, &selected, &device)?;
        let tp = TensorParams::with_trainable(set, &trainable, &device);
        let tm = self.tm.curve().reduce(T1::cat(means, 0), &tp);
        let loss_t = self.loss.eval(&tm, &tp);
        let loss = host(loss_t.clone()).first().copied().unwrap_or(f64::NAN);
        if selected.is_empty() {
            return Ok((loss, ParamGrads::default()));
        }
        let g = loss_t.backward();
        let mut grads = trainable.grads(&g);
        for ((_, model), leaf) in models.iter().zip(&leaves) {
            let Some(cotangent) = leaf.grad(&g).map(host) else { continue };
            if cotangent.iter().all(|c| *c == 0.0) {
                continue;
            }
            let (_, gk) = model.vjp(&traj.frames, &cotangent, &selected)?;
            grads.add_assign(&gk);
        }
        Ok((loss, grads))
    }
}

impl Objective for MeltingObjective {
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
            reuse_or_resample(&self.name, obs, params, state, self.n_equilibration_states, self.max_valid_opt_steps)?
        else {
            return Ok(not_ready(&self.required, BTreeMap::new()));
        };
        let cached = (!reuse.cached.is_empty()).then_some(reuse.cached.as_slice());
        let e = self.evaluate_joined(&joined, &segments, &reuse.theta_ref, cached, params)?;
        let mut reported = BTreeMap::new();
        reported.insert("neff".to_string(), Observation::Scalar(e.n_eff));
        if e.n_eff.is_nan() || e.n_eff < self.min_n_eff {
            return Ok(not_ready(&self.required, reported));
        }
        reported.insert("loss".to_string(), Observation::Scalar(e.loss));
        let name = self.tm.name();
        reported.insert(name.to_string(), Observation::Scalar(e.tm.value));
        reported.insert(format!("{name}_se"), Observation::Scalar(e.tm.std_err));
        let mut result = ObjectiveOutput::ready(e.grads, reported);
        reuse.record(&mut result, &e.reference_energies);
        Ok(result)
    }
}
