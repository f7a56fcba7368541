//! The melting temperature of umbrella-sampled states, reweighted to other temperatures and
//! other parameters: what the melting objective ([`crate::objective::melting`]) trains and a
//! validation measures. The histogram route of [`super::melting`] counts every Monte Carlo
//! attempt; this one uses the saved states, so that the same states can be reweighted to new
//! parameters (DiffTRe) and differentiated.
//!
//! **Weights.** States x_i sampled at temperature T₀ with parameters θ_ref under an umbrella
//! bias W (the weight of the state's order parameters, `weights_file`) are distributed as
//! W(x) e^{−E_ref(x)/T₀}. Their weight at temperature T_k and parameters θ is therefore
//!
//! ```text
//! a_ik = −E_θ(x_i; T_k)/T_k + E_ref(x_i)/T₀ − ln W(x_i)          (log-weight)
//! Φ(T_k) = Σ_{bound i} e^{a_ik} / Σ_{unbound i} e^{a_ik}          (bound over unbound)
//! ```
//!
//! with E_θ(x; T) the model's energy of the state at T (stacking and Debye–Hückel depend on T;
//! a model is built at each temperature). A state is bound when its `bond` order parameter (as
//! sampled, with θ_ref) is at least `min_bonds`.
//!
//! **Tm.** As in [`super::melting`]: the finite-size corrected yield f(Φ) = 1/2 at Φ = Φ*
//! (2 for two strands in a box, 1 for a hairpin), ln Φ interpolated linearly in 1/T between the
//! two temperatures of the grid that bracket Φ* ([`super::melting::crossing`], the same formula
//! `oxgrad melting` uses). Written as a reduction of per-state features
//!
//! ```text
//! X_i = ( b_i e^{a_i1 − m_1}, (1 − b_i) e^{a_i1 − m_1}, …, b_i e^{a_iK − m_K}, (1 − b_i) e^{a_iK − m_K} )
//! ```
//!
//! (b_i = 1 for bound states, m_k = max_i a_ik), Tm = reduce(mean X) is a smooth function of
//! the energies, so autodiff differentiates it through the temperature extrapolation, and its
//! standard error is the block jackknife of [`super::stats`] over the states of the independent
//! runs. Reported in kelvin.

use super::melting::{crossing, Melting, Molecularity};
use super::order_parameters::OrderParameterEvaluator;
use super::stats::{estimate, Estimate};
use super::{Observable, Reducer};
use crate::energy::functions::ParamSource;
use crate::energy::tensor::{host, T1};
use crate::energy::{EnergyModel, Frame};
use crate::error::{Error, Result};
use crate::io::order_parameter::{OrderParameterKind, OrderParameters, Weights};
use crate::io::Configuration;
use crate::math::Real;
use crate::params::ParamSet;
use crate::trajectory::Trajectory;

/// The melting temperature of umbrella-sampled trajectories (see the [module docs](self)).
pub struct MeltingTemperature {
    melting: Melting,
    ops: OrderParameterEvaluator,
    weights: Option<Weights>,
    /// The model at the sampling temperature (its parameters are the base the trained ones
    /// override).
    sampling: EnergyModel,
    /// The grid: each temperature (simulation units, ascending) with the model built at it.
    grid: Vec<(f64, EnergyModel)>,
}

/// What a state's sampling fixed: whether it is bound and its umbrella weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    /// Bound (the bond order parameter at least `min_bonds`), per state.
    pub bound: Vec<bool>,
    /// ln W of each state's order parameters (0 without weights).
    pub log_bias: Vec<f64>,
}

impl MeltingTemperature {
    /// Tm of states sampled with `sampling` (the model at the simulation temperature) on the
    /// order parameters `ops`, biased by `weights` (none: unbiased sampling), on a grid of
    /// `grid` temperatures, each with the model built at it (at least two, ascending order not
    /// required). `melting` says which order parameter counts bound states, from how many base
    /// pairs, and the molecularity and concentration.
    pub fn new(
        sampling: EnergyModel,
        melting: Melting,
        ops: OrderParameters,
        weights: Option<Weights>,
        mut grid: Vec<(f64, EnergyModel)>,
    ) -> Result<MeltingTemperature> {
        match ops.params.get(melting.order_parameter).map(|p| &p.kind) {
            Some(OrderParameterKind::Bond { .. }) => {}
            Some(_) => return Err(Error::invalid(
                "order_parameter",
                melting.order_parameter,
                "the position of a `bond` order parameter (the number of formed base pairs); this one is a distance",
            )),
            None => {
                return Err(Error::invalid(
                    "order_parameter",
                    melting.order_parameter,
                    format!("a position among the op_file's {} order parameters", ops.params.len()),
                ))
            }
        }
        if grid.len() < 2 {
            return Err(Error::invalid(
                "temperatures",
                grid.len(),
                "at least two temperatures around the expected Tm, e.g. temperatures = [\"50C\", \"52C\", …, \"70C\"]",
            ));
        }
        grid.sort_by(|a, b| a.0.total_cmp(&b.0));
        if grid.windows(2).any(|w| w[0].0.to_bits() == w[1].0.to_bits()) {
            return Err(Error::invalid("temperatures", "a repeated temperature", "list each temperature once"));
        }
        if melting.molecularity == Molecularity::Bimolecular && melting.concentration.is_some() {
            melting.box_concentration().ok_or_else(|| {
                Error::invalid(
                    "concentration",
                    "without a box",
                    "the box's volume is needed to move Tm to another concentration",
                )
            })?;
        }
        let ops = OrderParameterEvaluator::new(&sampling, ops)?;
        Ok(MeltingTemperature { melting, ops, weights, sampling, grid })
    }

    /// The grid temperatures, simulation units, ascending.
    #[must_use]
    pub fn temperatures(&self) -> Vec<f64> {
        self.grid.iter().map(|g| g.0).collect()
    }

    /// The order parameters, in state order.
    #[must_use]
    pub fn order_parameters(&self) -> &OrderParameters {
        self.ops.ops()
    }

    /// The model at the sampling temperature.
    #[must_use]
    pub fn sampling_model(&self) -> &EnergyModel {
        &self.sampling
    }

    /// The models at the grid temperatures with the parameter values of `values` (names of the
    /// sampling model's set), each keeping its own temperature.
    pub fn grid_models(&self, values: &[(String, f64)]) -> Result<Vec<(f64, EnergyModel)>> {
        self.grid
            .iter()
            .map(|(kt, m)| {
                let set =
                    m.params().with_params(values.iter().filter(|(k, _)| k != "kt").map(|(k, v)| (k.as_str(), *v)))?;
                Ok((*kt, m.with_params(set)?))
            })
            .collect()
    }

    /// Bound flags and umbrella weights of the states of `traj`, with the sampling model at
    /// parameters `set` (those the states were sampled with).
    pub fn sampled(&self, traj: &Trajectory, set: &ParamSet) -> Result<Sampled> {
        let model = self.sampling.with_params(set.clone())?;
        let mut bound = Vec::with_capacity(traj.len());
        let mut log_bias = Vec::with_capacity(traj.len());
        for c in &traj.frames {
            let state = self.ops.values(&model, &Frame::new(c));
            bound.push(state[self.melting.order_parameter] >= self.melting.min_bonds);
            let w = match &self.weights {
                Some(w) => w.weight(&state)?,
                None => 1.0,
            };
            if w <= 0.0 {
                return Err(Error::mismatch(
                    "umbrella weights",
                    format!("a sampled state {state:?} has weight {w}, which the sampling forbids: were the states sampled with these weights and parameters?"),
                ));
            }
            log_bias.push(w.ln());
        }
        Ok(Sampled { bound, log_bias })
    }

    /// The one sampling temperature of `traj` (every state must share it, and it must be the
    /// sampling model's).
    pub fn sampling_temperature(&self, traj: &Trajectory) -> Result<f64> {
        let kt = self.sampling.params().value("kt");
        let temps = traj.temperature.as_deref().unwrap_or_default();
        if let Some(t) = temps.iter().find(|t| (**t - kt).abs() > 1e-12 * kt) {
            return Err(Error::mismatch(
                "melting temperature",
                format!(
                    "a state was sampled at {:.3} K, the melting objective's simulation temperature is {:.3} K: sample every state at the simulator's temperature",
                    crate::units::kelvin_from_kt(*t),
                    crate::units::kelvin_from_kt(kt)
                ),
            ));
        }
        Ok(kt)
    }

    /// The log-weights `a[k][i]` of the [module docs](self) from the energies at each grid
    /// temperature `energies[k][i]` and the reference energies at the sampling temperature.
    #[must_use]
    pub fn log_weights(&self, energies: &[Vec<f64>], e_ref: &[f64], sampled: &Sampled) -> Vec<Vec<f64>> {
        let t0 = self.sampling.params().value("kt");
        energies
            .iter()
            .zip(&self.grid)
            .map(|(e, (kt, _))| {
                e.iter().zip(e_ref).zip(&sampled.log_bias).map(|((ei, ri), lw)| -ei / kt + ri / t0 - lw).collect()
            })
            .collect()
    }

    /// The feature table `[states][2K]` of the [module docs](self).
    #[must_use]
    pub fn features(a: &[Vec<f64>], sampled: &Sampled) -> Vec<Vec<f64>> {
        let maxima: Vec<f64> = a.iter().map(|ak| ak.iter().copied().fold(f64::NEG_INFINITY, f64::max)).collect();
        (0..sampled.bound.len())
            .map(|i| {
                let b = if sampled.bound[i] { 1.0 } else { 0.0 };
                a.iter()
                    .zip(&maxima)
                    .flat_map(|(ak, m)| {
                        let x = (ak[i] - m).exp();
                        [b * x, (1.0 - b) * x]
                    })
                    .collect()
            })
            .collect()
    }

    /// The reduction of the features to Tm (kelvin).
    #[must_use]
    pub fn curve(&self) -> TmCurve {
        let phi_star = self.melting.molecularity.ratio_of(0.5);
        let scale = match (self.melting.molecularity, self.melting.concentration, self.melting.box_concentration()) {
            (Molecularity::Bimolecular, Some(c), Some(c_box)) => c / c_box,
            _ => 1.0,
        };
        TmCurve { kts: self.temperatures(), offset: scale.ln() - phi_star.ln() }
    }

    /// The energies of the states at every grid temperature with the parameter values `values`.
    pub fn grid_energies(&self, frames: &[Configuration], values: &[(String, f64)]) -> Result<Vec<Vec<f64>>> {
        self.grid_models(values)?.iter().map(|(_, m)| m.map(frames)).collect()
    }

    /// Tm (kelvin) with its block-jackknife error over independent `trajectories` (segments)
    /// sampled with `set`, evaluated at the same parameters (a fresh simulation's estimate).
    pub fn estimate_at(&self, trajectories: &[Trajectory], set: &ParamSet) -> Result<Estimate> {
        // the states were sampled at the simulation temperature, whatever the set's
        let set = &set.with_params([("kt", self.sampling.params().value("kt"))])?;
        let segments: Vec<usize> = trajectories.iter().map(Trajectory::len).collect();
        let joined = Trajectory::concat(trajectories)?;
        self.sampling_temperature(&joined)?;
        let sampled = self.sampled(&joined, set)?;
        let model = self.sampling.with_params(set.clone())?;
        let e_ref = model.map(&joined.frames)?;
        let base = self.sampling.params();
        let values: Vec<(String, f64)> = set
            .iter()
            .filter(|(n, v)| base.value(n).to_bits() != v.to_bits())
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        let energies = self.grid_energies(&joined.frames, &values)?;
        let a = self.log_weights(&energies, &e_ref, &sampled);
        self.estimate_from(&a, &sampled, &segments, set)
    }

    /// Tm with its error from log-weights (uniform sampling weights; `segments`: the states of
    /// each independent run). An error if the states never parted or never paired, or Tm lies
    /// outside the grid.
    pub fn estimate_from(
        &self,
        a: &[Vec<f64>],
        sampled: &Sampled,
        segments: &[usize],
        set: &ParamSet,
    ) -> Result<Estimate> {
        for (bound, hint) in [(false, "the strands never parted"), (true, "the strands never paired")] {
            if !sampled.bound.contains(&bound) {
                return Err(Error::mismatch(
                    "melting temperature",
                    format!(
                        "no {} state among the {} sampled ({hint}): the runs have not sampled the transition; run longer, or weigh those states more in the weights file",
                        if bound { "bound" } else { "unbound" },
                        sampled.bound.len()
                    ),
                ));
            }
        }
        let table = Self::features(a, sampled);
        let n = table.len();
        let curve = self.curve();
        let e = estimate(&curve, &Reducer::new(set), &table, &vec![1.0 / n as f64; n], segments);
        if e.value.is_nan() {
            let mean = super::weighted_mean(&table, &vec![1.0 / n as f64; n], curve.dim());
            let yields: Vec<f64> = (0..curve.kts.len())
                .map(|k| {
                    self.melting.molecularity.yield_of(
                        (mean[2 * k] / mean[2 * k + 1]) * curve.offset.exp() * self.melting.molecularity.ratio_of(0.5),
                    )
                })
                .collect();
            let side = if yields.iter().all(|f| *f > 0.5) { "above the highest" } else { "below the lowest" };
            let listed: Vec<String> = curve
                .kts
                .iter()
                .zip(&yields)
                .map(|(t, f)| format!("{:.1} K: {f:.3}", crate::units::kelvin_from_kt(*t)))
                .collect();
            return Err(Error::mismatch(
                "melting temperature",
                format!(
                    "the yield does not cross 1/2 within the temperatures (yields {}): Tm lies {side} temperature; widen `temperatures` (or sample nearer Tm)",
                    listed.join(", ")
                ),
            ));
        }
        Ok(e)
    }
}

impl Observable for MeltingTemperature {
    fn name(&self) -> &str {
        "melting_temperature"
    }
    fn unit(&self) -> &'static str {
        "K"
    }
    fn features(&self, _: &Configuration) -> Result<Vec<f64>> {
        Err(Error::invalid(
            "observable",
            "melting_temperature",
            "a melting temperature is measured on whole umbrella-sampled runs, not per state: give it its own objective (observable = { kind = \"melting_temperature\", … })",
        ))
    }
    fn estimate_runs(&self, trajectories: &[Trajectory], set: &ParamSet) -> Option<Result<Estimate>> {
        Some(self.estimate_at(trajectories, set))
    }
}

/// Tm (kelvin) from the mean features of [`MeltingTemperature::features`]: an
/// [`Observable`] reduction, so the f64 estimate, its error and the autodiff gradient share it.
pub struct TmCurve {
    kts: Vec<f64>,
    /// ln(scale) − ln Φ*: g_k = ln Φ_k + offset crosses 0 at Tm.
    offset: f64,
}

impl TmCurve {
    /// The pair of grid temperatures (indices) whose g brackets 0, from host values of the
    /// mean features; the first crossing from the lowest temperature.
    fn bracket(&self, mean: &[f64]) -> Option<usize> {
        let g: Vec<f64> = (0..self.kts.len()).map(|k| (mean[2 * k] / mean[2 * k + 1]).ln() + self.offset).collect();
        (0..g.len() - 1).find(|&k| g[k].is_finite() && g[k + 1].is_finite() && (g[k] >= 0.0) != (g[k + 1] >= 0.0))
    }
}

impl Observable for TmCurve {
    fn name(&self) -> &str {
        "melting_temperature"
    }
    fn unit(&self) -> &'static str {
        "K"
    }
    fn dim(&self) -> usize {
        2 * self.kts.len()
    }
    fn features(&self, _: &Configuration) -> Result<Vec<f64>> {
        Err(Error::internal("TmCurve reduces features computed by MeltingTemperature"))
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        let Some(k) = self.bracket(&host(mean.clone())) else {
            return mean.slice(0..1) * f64::NAN;
        };
        let g = |k: usize| {
            (mean.clone().slice(2 * k..2 * k + 1) / mean.clone().slice(2 * k + 1..2 * k + 2)).ln() + self.offset
        };
        crossing(self.kts[k], self.kts[k + 1], g(k), g(k + 1)) * crate::units::KELVIN_PER_SIM
    }
}
