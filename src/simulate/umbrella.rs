//! Umbrella sampling on order parameters, as oxDNA's VMMC does it (`umbrella_sampling = 1`):
//! the weights of a `weights_file` bias the sampled ensemble, the histogram of visited states
//! records biased and unbiased counts, and `extrapolate_hist` reweights each visit to other
//! temperatures (files and formats: [`crate::io::order_parameter`], [`crate::io::histogram`]).
//!
//! **Order parameters.** A `bond` parameter counts the listed pairs whose hydrogen-bonding energy
//! is below −0.1 (oxDNA's cut-off for a formed base pair); a `mindistance` parameter bins the
//! smallest base–base (or centre, `use_COM`) distance of its pairs, minimum image
//! ([`crate::observable::order_parameters`] defines both). Both are
//! re-evaluated for the pairs a move touches, before the move is accepted: the weight of the
//! proposed state w(x′) enters the acceptance as w(x′)/w(x).
//!
//! **Histogram.** After every move attempt, accepted or not, the current state is recorded with
//! weight 1 (biased), 1/w (unbiased) and, per extrapolation temperature T′,
//! exp(−[U(T′)/T′ − U(T)/T])/w, where U(T′) is the same configuration's energy at T′, every term
//! that depends on the temperature included (stacking, Debye–Hückel; oxDNA itself rescales only
//! the stacking and starts its running stacking energy at zero, which scales each of its
//! extrapolated columns by an unknown constant; yields within a column agree). U(T′) − U(T) is
//! kept as a running sum over the pairs each accepted move changes and recomputed from scratch
//! every [`Umbrella::CHECK_EVERY`] steps; a drift beyond 1e-6 per nucleotide stops the run.
//! As in oxDNA, attempts are recorded from the step after `equilibration_steps` (default 0: the
//! first step is not recorded). oxDNA also runs `equilibration_steps` extra steps before its
//! first; oxgrad counts them within `steps`.

use super::mc::{Bias, McState, Proposal};
use crate::energy::{EnergyModel, Frame, TermId};
use crate::error::{Error, Result};
use crate::io::histogram::Histogram;
use crate::io::order_parameter::{OrderParameterKind, OrderParameters, Weights};
use crate::observable::order_parameters::OrderParameterEvaluator;

/// The models at the extrapolation temperatures, restricted to the temperature-dependent terms,
/// and the same restriction at the simulation temperature.
struct Extrapolation {
    /// Temperatures (simulation units).
    kts: Vec<f64>,
    /// The restricted model at each.
    models: Vec<EnergyModel>,
    /// The restricted model at the simulation temperature.
    here: EnergyModel,
    /// Whether a restricted model acts on non-bonded pairs (else only bonded pairs can change).
    nonbonded: bool,
    /// U(T′) − U(T) of the current state, per temperature.
    shift: Vec<f64>,
}

impl Extrapolation {
    /// `shift[k]` from scratch.
    fn shifts(&self, frame: &Frame) -> Result<Vec<f64>> {
        let c = McState { step: 0, frame: frame.clone() }.to_configuration(0.0);
        let here = self.here.energy(&c)?;
        self.models.iter().map(|m| Ok(m.energy(&c)? - here)).collect()
    }
}

/// An umbrella bias on order parameters with its histogram (see the [module docs](self)).
pub struct Umbrella {
    ops: OrderParameterEvaluator,
    weights: Option<Weights>,
    /// Formed flags of each bond parameter's pairs.
    formed: Vec<Vec<bool>>,
    /// The pairs of each bond parameter that involve each nucleotide: (parameter, pair).
    by_nucleotide: Vec<Vec<(usize, usize)>>,
    state: Vec<i32>,
    weight: f64,
    proposed: Vec<i32>,
    proposed_weight: f64,
    /// Changed formed flags of the proposal: (parameter, pair, formed).
    proposed_flags: Vec<(usize, usize, bool)>,
    /// The histogram so far.
    pub histogram: Histogram,
    extrapolation: Option<Extrapolation>,
    kt: f64,
    /// Attempts in steps up to this one are not recorded.
    equilibration_steps: u64,
    steps_seen: u64,
}

impl Umbrella {
    /// Steps between from-scratch checks of the extrapolation energies.
    pub const CHECK_EVERY: u64 = 1000;

    /// An umbrella on `ops` for `model` in state `frame`: `weights` bias it (none: unbiased,
    /// histogram only); `extrapolate` gives, per temperature, the same model built at that
    /// temperature (oxDNA's `extrapolate_hist`).
    pub fn new(
        model: &EnergyModel,
        frame: &Frame,
        ops: OrderParameters,
        weights: Option<Weights>,
        extrapolate: Vec<(f64, EnergyModel)>,
        equilibration_steps: u64,
    ) -> Result<Umbrella> {
        let ops = OrderParameterEvaluator::new(model, ops)?;
        let mut by_nucleotide = vec![Vec::new(); model.len()];
        for (k, op) in ops.ops().params.iter().enumerate() {
            if let OrderParameterKind::Bond { pairs } = &op.kind {
                for (m, &(p, q)) in pairs.iter().enumerate() {
                    by_nucleotide[p].push((k, m));
                    by_nucleotide[q].push((k, m));
                }
            }
        }
        let formed = vec![Vec::new(); ops.ops().params.len()];
        let kt = model.params().value("kt");
        let mut extrapolation = None;
        if !extrapolate.is_empty() {
            if model.has_nucleotide_terms() {
                return Err(Error::invalid(
                    "extrapolate_hist",
                    "with single-nucleotide terms",
                    "extrapolation reweights pair energies; remove extrapolate_hist or the single-nucleotide terms",
                ));
            }
            // only the terms that read the temperature change with it (users' terms: all kept)
            let restrict = |m: EnergyModel| -> Result<EnergyModel> {
                let dependent = model.params().terms_of("kt")?.to_vec();
                let zero: Vec<TermId> = TermId::ALL.into_iter().filter(|t| !dependent.contains(&t.term())).collect();
                Ok(m.without_terms(&zero))
            };
            let here = restrict(model.clone())?;
            let w = here.term_weights();
            let nonbonded = !here.custom_terms().is_empty()
                || [
                    TermId::UnbondedExcludedVolume,
                    TermId::HydrogenBonding,
                    TermId::CrossStacking,
                    TermId::CoaxialStacking,
                    TermId::Debye,
                ]
                .iter()
                .any(|t| w[*t as usize] != 0.0);
            let (kts, models): (Vec<f64>, Vec<EnergyModel>) = extrapolate.into_iter().unzip();
            let models = models.into_iter().map(restrict).collect::<Result<Vec<_>>>()?;
            let mut e = Extrapolation { kts, models, here, nonbonded, shift: Vec::new() };
            e.shift = e.shifts(frame)?;
            extrapolation = Some(e);
        }
        let temperatures = extrapolation.as_ref().map_or_else(Vec::new, |e| e.kts.clone());
        let histogram = Histogram::for_order_parameters(ops.ops(), temperatures)?;
        let mut u = Umbrella {
            state: vec![0; ops.ops().params.len()],
            proposed: vec![0; ops.ops().params.len()],
            ops,
            weights,
            formed,
            by_nucleotide,
            weight: 1.0,
            proposed_weight: 1.0,
            proposed_flags: Vec::new(),
            histogram,
            extrapolation,
            kt,
            equilibration_steps,
            steps_seen: 0,
        };
        u.evaluate_all(model, frame);
        u.weight = u.weight_of(&u.state)?;
        if u.weight == 0.0 {
            return Err(Error::invalid(
                "weights_file",
                format!("state {:?}", u.state),
                "the starting configuration's state has weight 0 (forbidden): start from an allowed state or give it a weight",
            ));
        }
        Ok(u)
    }

    /// The current state (one value per order parameter, in state order).
    #[must_use]
    pub fn state(&self) -> &[i32] {
        &self.state
    }

    /// The current state's weight.
    #[must_use]
    pub fn weight(&self) -> f64 {
        self.weight
    }

    fn weight_of(&self, state: &[i32]) -> Result<f64> {
        self.weights.as_ref().map_or(Ok(1.0), |w| w.weight(state))
    }

    fn evaluate_all(&mut self, model: &EnergyModel, frame: &Frame) {
        self.state = self.ops.values(model, frame);
        for k in 0..self.state.len() {
            self.formed[k] = self.ops.formed(model, k, frame);
        }
    }

    /// Records the current state in the histogram (after the equilibration steps).
    fn record(&mut self, step: u64, potential: f64) -> Result<()> {
        // as oxDNA: attempts count from the step after `equilibration_steps`
        if step <= self.equilibration_steps {
            return Ok(());
        }
        let factors: Vec<f64> = match &self.extrapolation {
            Some(e) => e
                .kts
                .iter()
                .zip(&e.shift)
                .map(|(kt, shift)| Histogram::extrapolation_factor(potential, self.kt, potential + shift, *kt))
                .collect(),
            None => Vec::new(),
        };
        self.histogram.step = step;
        let state = self.state.clone();
        self.histogram.add(&state, self.weight, &factors)
    }
}

impl Bias for Umbrella {
    fn propose(&mut self, model: &EnergyModel, frame: &Frame, proposal: &Proposal<'_>) -> Result<f64> {
        self.proposed.clone_from(&self.state);
        self.proposed_flags.clear();
        for &i in proposal.moved {
            for &(k, m) in &self.by_nucleotide[i] {
                if self.proposed_flags.iter().any(|&(k2, m2, _)| k2 == k && m2 == m) {
                    continue;
                }
                let OrderParameterKind::Bond { pairs } = &self.ops.ops().params[k].kind else { continue };
                let (p, q) = pairs[m];
                let (rp, ap) = proposal.place(frame, p);
                let (rq, aq) = proposal.place(frame, q);
                let now = self.ops.hb_formed(model, (p, rp, ap), (q, rq, aq), &frame.bx);
                if now != self.formed[k][m] {
                    self.proposed[k] += if now { 1 } else { -1 };
                }
                self.proposed_flags.push((k, m, now));
            }
        }
        for k in 0..self.ops.ops().params.len() {
            if let OrderParameterKind::MinDistance { pairs, .. } = &self.ops.ops().params[k].kind {
                if pairs.iter().any(|&(p, q)| proposal.moved.contains(&p) || proposal.moved.contains(&q)) {
                    self.proposed[k] = self.ops.distance_value(model, k, &frame.bx, |i| proposal.place(frame, i));
                }
            }
        }
        if self.proposed == self.state {
            self.proposed_weight = self.weight;
            return Ok(1.0);
        }
        self.proposed_weight = self.weight_of(&self.proposed)?;
        Ok(self.proposed_weight / self.weight)
    }

    fn accept(&mut self, model: &EnergyModel, frame: &Frame, proposal: &Proposal<'_>) -> Result<()> {
        std::mem::swap(&mut self.state, &mut self.proposed);
        self.weight = self.proposed_weight;
        for &(k, m, now) in &self.proposed_flags {
            self.formed[k][m] = now;
        }
        if let Some(e) = &mut self.extrapolation {
            // the temperature-dependent energy of every pair the move changes, at each T′ and T
            for &(i, j) in proposal.boundary {
                if !e.nonbonded && !model.backbone_neighbours(i).contains(&Some(j)) {
                    continue;
                }
                let (ri, ai) = proposal.place(frame, i);
                let (d_new, d_old) = (frame.bx.min_image(frame.r[j] - ri), frame.bx.min_image(frame.r[j] - frame.r[i]));
                let aj = &frame.axes[j];
                let change = |m: &EnergyModel| {
                    m.pair_interaction(i, j, d_new, ai, aj) - m.pair_interaction(i, j, d_old, &frame.axes[i], aj)
                };
                let here = change(&e.here);
                for (s, m) in e.shift.iter_mut().zip(&e.models) {
                    *s += change(m) - here;
                }
            }
        }
        Ok(())
    }

    fn after_attempt(&mut self, step: u64, potential: f64) -> Result<()> {
        self.record(step, potential)
    }

    fn sample(&mut self, model: &EnergyModel, state: &McState, _potential: f64) -> Result<()> {
        self.steps_seen += 1;
        if !self.steps_seen.is_multiple_of(Self::CHECK_EVERY) {
            return Ok(());
        }
        let before = self.state.clone();
        self.evaluate_all(model, &state.frame);
        if self.state != before {
            return Err(Error::Unstable {
                step: state.step,
                detail: format!(
                    "the order parameters kept during the run, {before:?}, differ from a full evaluation, {:?}: a bug in oxgrad's umbrella sampling; please report it with the input",
                    self.state
                ),
            });
        }
        if let Some(e) = &mut self.extrapolation {
            let fresh = e.shifts(&state.frame)?;
            let n = model.len() as f64;
            if let Some((k, (a, b))) =
                e.shift.iter().zip(&fresh).enumerate().find(|(_, (a, b))| (*a - *b).abs() > 1e-6 * n)
            {
                return Err(Error::Unstable {
                    step: state.step,
                    detail: format!(
                        "the running energy difference to T = {} ({a}) differs from a full evaluation ({b}): a bug in oxgrad's histogram extrapolation; please report it with the input",
                        e.kts[k]
                    ),
                });
            }
            e.shift = fresh;
        }
        Ok(())
    }
}
