//! The energy model: a topology and a parameter set, evaluated natively (`f64`, fast, for
//! energies and neighbour search) and as a Burn autodiff graph (for gradients, [`super::tensor`]).

use super::functions::{Checked, ParamSource};
use super::kernel::Energies;
use super::neighbors::pairs_within;
use super::terms::coaxial_stacking::CoaxialStacking;
use super::terms::cross_stacking::{self, CrossStacking};
use super::terms::debye::{self, Debye};
use super::terms::excluded_volume::{self, ExcludedVolume};
use super::terms::fene::{self, Fene};
use super::terms::hydrogen_bonding::{self, HydrogenBonding};
use super::terms::stacking::{self, Stacking};
use super::terms::{self, Factors, Geometry, Pair, PairGradient, Spec};
use crate::error::{Error, Result};
use crate::geometry::{orthonormalize, PeriodicBox, Vec3};
use crate::io::Configuration;
use crate::math::{Dual, Real, V3};
use crate::params::strength::Strengths;
use crate::params::{ModelKind, ParamSet, Term};
use crate::system::Topology;
use serde::{Deserialize, Serialize};

/// The energy terms in oxDNA's order (the column order of its split energy output), named as the
/// parameter groups of [`Term`] are; [`TermId::term`] gives the group ([`Term`] has one more,
/// `Geometry`, which is not an energy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TermId {
    /// FENE backbone.
    Fene = 0,
    /// Bonded excluded volume.
    BondedExcludedVolume = 1,
    /// Stacking.
    Stacking = 2,
    /// Non-bonded excluded volume.
    UnbondedExcludedVolume = 3,
    /// Hydrogen bonding.
    HydrogenBonding = 4,
    /// Cross-stacking.
    CrossStacking = 5,
    /// Coaxial stacking.
    CoaxialStacking = 6,
    /// Debye–Hückel (oxDNA2).
    Debye = 7,
}

impl TermId {
    /// All terms in oxDNA's order.
    pub const ALL: [TermId; 8] = [
        TermId::Fene,
        TermId::BondedExcludedVolume,
        TermId::Stacking,
        TermId::UnbondedExcludedVolume,
        TermId::HydrogenBonding,
        TermId::CrossStacking,
        TermId::CoaxialStacking,
        TermId::Debye,
    ];

    /// The parameter group of this term (`Term::ALL` lists the geometry first, then the terms in
    /// this order; a unit test holds the two lists together).
    #[must_use]
    pub fn term(self) -> Term {
        Term::ALL[self as usize + 1]
    }

    /// oxDNA's column header for the term.
    #[must_use]
    pub fn header(self) -> &'static str {
        [
            "FENE",
            "BONDED_EXCL_VOL",
            "STACKING",
            "NONBONDED_EXCL_VOL",
            "HYDROGEN_BONDING",
            "CROSS_STACKING",
            "COAXIAL_STACKING",
            "DEBYE_HUCKEL",
        ][self as usize]
    }
}

/// Every term of a model, built from one parameter source (`f64` values or tensors).
#[derive(Debug, Clone)]
pub struct Terms<T> {
    pub(crate) geo: Geometry<T>,
    pub(crate) fene: Fene<T>,
    pub(crate) excl: ExcludedVolume<T>,
    pub(crate) stack: Stacking<T>,
    pub(crate) hb: HydrogenBonding<T>,
    pub(crate) cross: CrossStacking<T>,
    pub(crate) coax: CoaxialStacking<T>,
    pub(crate) debye: Option<Debye<T>>,
}

impl<T: Real> Terms<T> {
    /// Builds every term of `model` from `src`.
    pub fn new(src: &impl ParamSource<T>, model: ModelKind) -> Self {
        Terms {
            geo: Geometry::new(src, model),
            fene: Fene::new(src),
            excl: ExcludedVolume::new(src),
            stack: Stacking::new(src),
            hb: HydrogenBonding::new(src),
            cross: CrossStacking::new(src),
            coax: CoaxialStacking::new(src, model),
            debye: (model == ModelKind::Dna2).then(|| Debye::new(src)),
        }
    }

    /// The spec of `term` and the factors that evaluate it.
    pub fn spec(&self, term: TermId) -> (Spec, &dyn Factors<T>) {
        match term {
            TermId::Fene => (fene::SPEC, &self.fene),
            TermId::BondedExcludedVolume => (excluded_volume::BONDED, &self.excl),
            TermId::Stacking => (stacking::SPEC, &self.stack),
            TermId::UnbondedExcludedVolume => (excluded_volume::NONBONDED, &self.excl),
            TermId::HydrogenBonding => (hydrogen_bonding::SPEC, &self.hb),
            TermId::CrossStacking => (cross_stacking::SPEC, &self.cross),
            TermId::CoaxialStacking => (self.coax.spec(), &self.coax),
            TermId::Debye => match &self.debye {
                Some(d) => (debye::SPEC, d),
                None => (&[], &self.fene),
            },
        }
    }

    /// The energy of `term` for one pair; `eps` is the pair's strength (stacking, H-bonding) or
    /// charge product (Debye–Hückel), ignored by the other terms.
    pub fn pair_energy(&self, term: TermId, pair: &Pair<T>, eps: &T) -> T {
        let (spec, factors) = self.spec(term);
        terms::energy(spec, factors, pair, eps)
    }
}

/// Energies of one frame, per term (system totals, energy units, unweighted).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Breakdown {
    /// The built-in terms, indexed by [`TermId`].
    pub builtin: [f64; 8],
    /// The user's terms ([`super::EnergyTerm`]), by name, in the order they were added.
    pub custom: Vec<(String, f64)>,
}

impl Breakdown {
    /// The energy of one built-in term.
    #[must_use]
    pub fn term(&self, t: TermId) -> f64 {
        self.builtin[t as usize]
    }

    /// The energy of the user's term `name`, if the model has it.
    #[must_use]
    pub fn custom(&self, name: &str) -> Option<f64> {
        self.custom.iter().find(|(n, _)| n == name).map(|(_, e)| *e)
    }

    /// The sum of all terms.
    #[must_use]
    pub fn total(&self) -> f64 {
        self.builtin.iter().sum::<f64>() + self.custom.iter().map(|(_, e)| e).sum::<f64>()
    }
}

/// A frame prepared for evaluation: orthonormal frames and the periodic box.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Centres.
    pub r: Vec<Vec3>,
    /// (a1, a2, a3) per nucleotide.
    pub axes: Vec<[Vec3; 3]>,
    /// The box.
    pub bx: PeriodicBox,
}

impl Frame {
    /// From a configuration, repairing the stored orientations as oxDNA does.
    #[must_use]
    pub fn new(c: &Configuration) -> Frame {
        let axes =
            c.a1.iter()
                .zip(&c.a3)
                .map(|(&a1, &a3)| {
                    let (a1, a2, a3) = orthonormalize(a1, a3);
                    [a1, a2, a3]
                })
                .collect();
        Frame { r: c.r.clone(), axes, bx: PeriodicBox::new(c.box_sides) }
    }

    /// The pair (p, q) with minimum-image separation and the sites of `geo`.
    #[must_use]
    pub fn pair(&self, geo: &Geometry<f64>, p: usize, q: usize) -> Pair<f64> {
        let v = |x: &[Vec3; 3]| x.map(V3::from);
        geo.pair(self.bx.min_image(self.r[q] - self.r[p]).into(), v(&self.axes[p]), v(&self.axes[q]))
    }
}

/// Energy, forces and torques of a configuration: F_i = −∂U/∂r_i, τ_i = −∂U/∂θ_i (lab frame,
/// about each centre).
#[derive(Debug, Clone, PartialEq)]
pub struct Forces {
    /// The (weighted) potential energy.
    pub energy: f64,
    /// Forces, `[nucleotides]`.
    pub f: Vec<Vec3>,
    /// Torques, `[nucleotides]`.
    pub torque: Vec<Vec3>,
}

impl Forces {
    /// Zero energy, forces and torques for `n` nucleotides.
    #[must_use]
    pub fn zeros(n: usize) -> Forces {
        Forces { energy: 0.0, f: vec![Vec3::ZERO; n], torque: vec![Vec3::ZERO; n] }
    }

    /// Resets to zero.
    pub fn clear(&mut self) {
        self.energy = 0.0;
        self.f.iter_mut().for_each(|v| *v = Vec3::ZERO);
        self.torque.iter_mut().for_each(|v| *v = Vec3::ZERO);
    }
}

/// One pair that contributes to a term: the nucleotides and the pair's strength / charge product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivePair {
    /// The term.
    pub term: TermId,
    /// First nucleotide (5'-side for bonded pairs).
    pub p: usize,
    /// Second nucleotide.
    pub q: usize,
    /// Index into the model's strength table for the term (see [`EnergyModel::strength_index`]).
    pub strength: usize,
    /// The pair's energy.
    pub energy: f64,
}

/// An oxDNA1 or oxDNA2 energy model for one topology.
///
/// ```
/// # use oxgrad::prelude::*;
/// # use oxgrad::energy::EnergyModel;
/// # use oxgrad::generate::{helix, parse_sequence, Shape};
/// let (top, conf) = helix(&parse_sequence("ACGTACGT")?, Shape::Duplex, None, TopologyFormat::Classic)?;
/// let model = EnergyModel::new(&top, ParamSet::dna1_defaults())?;
/// let e = model.breakdown(&conf)?;
/// assert!(e.total() / 16.0 < -1.0); // a stable duplex: about −1.5 per nucleotide
/// # Ok::<(), oxgrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct EnergyModel {
    params: ParamSet,
    terms: Terms<f64>,
    /// The same terms with dual-number constants, for forces.
    dual: Terms<Dual>,
    n: usize,
    bonded: Vec<(usize, usize)>,
    neighbours: Vec<[Option<usize>; 2]>,
    bases: Vec<usize>,
    chi: Vec<f64>,
    weights: [f64; 8],
    cutoff: f64,
    /// Centre-distance range of each non-bonded term.
    ranges: [f64; 8],
    /// Strength tables (stacking `[16]`, H-bonding `[2]`) at the current parameters.
    strengths: (Vec<f64>, Vec<f64>),
    /// The stacking strength of each bonded pair.
    bonded_eps: Vec<f64>,
    /// Where each radial factor lives, for the force kernel.
    supports: super::kernel::Supports,
    /// The user's terms, with their weights.
    custom: Vec<super::custom::Attached>,
    /// oxRNA2's terms among them, as the force kernel evaluates them.
    rna: Option<std::sync::Arc<super::kernel::Rna>>,
    /// The topology's nucleotides (what users' terms choose their pairs by).
    topology: Vec<crate::system::Nucleotide>,
    /// MD: a bond at FENE's divergence is an error (see [`EnergyModel::fene_limit`]).
    strict_fene: bool,
    /// FENE's r0 and Δ.
    fene_bounds: (f64, f64),
    /// Frames per batched tensor evaluation (mythos' `map_batch_size`, default 100).
    pub map_batch_size: usize,
    /// Rebuild each batch's graph in the backward pass so memory grows with the batch, not the
    /// trajectory (mythos' `map_checkpoint`, default true).
    pub map_checkpoint: bool,
}

impl EnergyModel {
    /// A model for `top` with `params` (whose `model` says oxDNA1 or oxDNA2). Fails with a clear
    /// message if a parameter is outside its domain.
    ///
    /// The set may not hold parameters of users' terms (`[custom.Term]` in a file): attach the
    /// terms first ([`EnergyModel::with_term`]), then apply such a set with
    /// [`EnergyModel::with_params`].
    pub fn new(top: &Topology, params: ParamSet) -> Result<EnergyModel> {
        validate(&params)?;
        unused_custom(&params, &[])?;
        let Derived { terms, dual, strengths, fene_bounds, half_charged } = Derived::new(&params)?;
        let chi = (0..top.len()).map(|i| if half_charged && top.is_strand_end(i) { 0.5 } else { 1.0 }).collect();
        let mut m = EnergyModel {
            n: top.len(),
            bonded: top.bonded_pairs(),
            neighbours: top.nucleotides.iter().map(|n| [n.n3, n.n5]).collect(),
            bases: top.nucleotides.iter().map(|n| n.base.index()).collect(),
            chi,
            cutoff: 0.0,
            ranges: [0.0; 8],
            strengths,
            bonded_eps: Vec::new(),
            supports: super::kernel::Supports::default(),
            custom: Vec::new(),
            rna: None,
            topology: top.nucleotides.clone(),
            strict_fene: true,
            fene_bounds,
            terms,
            dual,
            params,
            weights: [1.0; 8],
            map_batch_size: 100,
            map_checkpoint: true,
        };
        m.cutoff = m.compute_cutoff();
        m.ranges = m.compute_ranges();
        m.bonded_eps = m.bonded_strengths();
        m.supports = super::kernel::Supports::new(&m.terms);
        Ok(m)
    }

    fn bonded_strengths(&self) -> Vec<f64> {
        self.bonded
            .iter()
            .map(|&(p, q)| self.strengths.0[self.strength_index(TermId::Stacking, p, q).unwrap_or(0)])
            .collect()
    }

    /// The same model with other parameter values (dependents are re-derived).
    pub fn with_params(&self, mut params: ParamSet) -> Result<EnergyModel> {
        if params.model() != self.params.model() {
            return Err(Error::invalid(
                "parameter set",
                params.model(),
                format!("this model is {}; build a new EnergyModel for another model", self.params.model()),
            ));
        }
        validate(&params)?;
        unused_custom(&params, &self.custom)?;
        let mut m = self.clone();
        for t in &mut m.custom {
            t.set_params(&mut params)?;
        }
        let derived = Derived::new(&params)?;
        (m.terms, m.dual, m.strengths, m.fene_bounds) =
            (derived.terms, derived.dual, derived.strengths, derived.fene_bounds);
        m.params = params;
        m.rna = m.rna_kernel();
        m.cutoff = m.compute_cutoff();
        m.ranges = m.compute_ranges();
        m.bonded_eps = m.bonded_strengths();
        m.supports = super::kernel::Supports::new(&m.terms);
        Ok(m)
    }

    /// The force kernel's form of the oxRNA2 terms among the user's terms.
    fn rna_kernel(&self) -> Option<std::sync::Arc<super::kernel::Rna>> {
        super::kernel::Rna::new(&self.custom, &self.topology, &self.bonded).map(std::sync::Arc::new)
    }

    /// Weighs the terms (composition): the energy is Σ w_t E_t. A weight of 0 drops a term.
    #[must_use]
    pub fn with_term_weights(mut self, weights: [f64; 8]) -> EnergyModel {
        self.weights = weights;
        self
    }

    /// The model without the given terms.
    #[must_use]
    pub fn without_terms(mut self, terms: &[TermId]) -> EnergyModel {
        for t in terms {
            self.weights[*t as usize] = 0.0;
        }
        self
    }

    /// The weights of the built-in terms.
    #[must_use]
    pub fn term_weights(&self) -> [f64; 8] {
        self.weights
    }

    /// The model plus a user's term with `weight` (composition: the energy becomes
    /// E + weight · E_term). Its parameters join the model's parameters with their defaults
    /// (apply other values, e.g. a file's, with [`EnergyModel::with_params`]); see
    /// [`super::custom`]. The term is evaluated once here, so one that reads a parameter it does
    /// not declare is an error now, not a panic later.
    pub fn with_term<E: super::EnergyTerm>(mut self, term: E, weight: f64) -> Result<EnergyModel> {
        if self.custom.iter().any(|t| &*t.name == term.name()) {
            return Err(Error::invalid(
                "term name",
                term.name(),
                "the model already has a term of this name: give each term its own name",
            ));
        }
        let attached = super::custom::Attached::new(term, weight, self.n, &mut self.params, &self.terms.geo)?;
        self.custom.push(attached);
        // a name the new term shares with an earlier one is now qualified for both
        for t in &mut self.custom {
            t.set_params(&mut self.params)?;
        }
        self.rna = self.rna_kernel();
        self.cutoff = self.compute_cutoff();
        Ok(self)
    }

    /// The model with term `name` weighted by `weight` (0 drops it): a built-in term by its
    /// name (`Stacking`, `Debye`, …) or a user's term.
    pub fn with_weight(mut self, name: &str, weight: f64) -> Result<EnergyModel> {
        if !weight.is_finite() {
            return Err(Error::invalid(format!("weight of term '{name}'"), weight, "a finite number"));
        }
        if let Some(t) = TermId::ALL.into_iter().find(|t| t.term().name() == name) {
            self.weights[t as usize] = weight;
        } else if let Some(t) = self.custom.iter_mut().find(|t| &*t.name == name) {
            t.weight = weight;
            self.rna = self.rna_kernel();
            self.cutoff = self.compute_cutoff();
        } else {
            let known: Vec<&str> =
                TermId::ALL.iter().map(|t| t.term().name()).chain(self.custom.iter().map(|t| &*t.name)).collect();
            return Err(Error::invalid("term", name, format!("this model's terms are {}", known.join(", "))));
        }
        Ok(self)
    }

    /// The user's terms of the model: names and weights, in the order they were added.
    #[must_use]
    pub fn custom_terms(&self) -> Vec<(&str, f64)> {
        self.custom.iter().map(|t| (&*t.name, t.weight)).collect()
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> &ParamSet {
        &self.params
    }

    /// Number of nucleotides.
    #[must_use]
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the model has no nucleotides.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Bonded pairs (p, q = n3(p)).
    #[must_use]
    pub fn bonded_pairs(&self) -> &[(usize, usize)] {
        &self.bonded
    }

    /// The offset of the base (hydrogen-bonding) site from a nucleotide's centre, for frame `a`.
    #[must_use]
    pub fn base_offset(&self, a: &[Vec3; 3]) -> Vec3 {
        self.terms.geo.offsets(a)[3]
    }

    /// The backbone neighbours (3', 5') of nucleotide `i`.
    #[must_use]
    pub fn backbone_neighbours(&self, i: usize) -> [Option<usize>; 2] {
        self.neighbours[i]
    }

    /// Centre-distance cut-off beyond which no non-bonded term acts (current parameters).
    #[must_use]
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// The neighbour cut-off: the largest range of any term. An oxRNA2 term that the force
    /// kernel evaluates counts with its reach at the current parameters where that is shorter
    /// than its scope's cut-off (beyond it the term is exactly zero).
    fn compute_cutoff(&self) -> f64 {
        let reach = |i: usize| self.rna.as_ref().and_then(|r| r.ranges[i]);
        self.compute_ranges()
            .into_iter()
            .chain(self.custom.iter().enumerate().map(|(i, t)| reach(i).unwrap_or_else(|| t.range())))
            .fold(0.0, f64::max)
    }

    /// For each non-bonded term, the centre distance beyond which it vanishes (its site range
    /// plus twice the largest site offset); 0 for bonded terms.
    fn compute_ranges(&self) -> [f64; 8] {
        let t = &self.terms;
        let margin = 2.0 * t.geo.max_offset();
        let mut r = [0.0; 8];
        r[TermId::UnbondedExcludedVolume as usize] = t.excl.cutoffs().into_iter().fold(0.0, f64::max) + margin;
        r[TermId::HydrogenBonding as usize] = t.hb.support().1 + margin;
        r[TermId::CrossStacking as usize] = t.cross.support().1 + margin;
        r[TermId::CoaxialStacking as usize] = t.coax.support().1 + margin;
        r[TermId::Debye as usize] = t.debye.as_ref().map_or(0.0, |d| d.cutoff() + margin);
        r
    }

    /// The strength table index of a pair for `term`: stacking 4·base(q) + base(p); H-bonding
    /// 0 for A–T, 1 for C–G (non-complementary pairs do not bond: `None`); Debye–Hückel 0, 1, 2
    /// for χ_pχ_q = 1, ½, ¼; 0 otherwise.
    #[must_use]
    pub fn strength_index(&self, term: TermId, p: usize, q: usize) -> Option<usize> {
        let (bp, bq) = (self.bases[p], self.bases[q]);
        match term {
            TermId::Stacking => Some(4 * bq + bp),
            TermId::HydrogenBonding => (bp + bq == 3).then(|| usize::from(bp == 1 || bp == 2)),
            TermId::Debye => Some(usize::from(self.chi[p] < 1.0) + usize::from(self.chi[q] < 1.0)),
            _ => Some(0),
        }
    }

    fn check_frame(&self, frame: &Frame) -> Result<()> {
        if frame.r.len() != self.n || frame.axes.len() != self.n {
            return Err(Error::mismatch(
                "frame and topology",
                format!(
                    "the frame has {} positions and {} orientations, the topology {} nucleotides: build the frame from a configuration of this topology",
                    frame.r.len(),
                    frame.axes.len(),
                    self.n
                ),
            ));
        }
        Ok(())
    }

    fn check(&self, c: &Configuration) -> Result<()> {
        if c.len() != self.n {
            return Err(Error::mismatch(
                "configuration and topology",
                format!(
                    "the configuration has {} nucleotides, the topology {}: use the topology the trajectory was written with",
                    c.len(),
                    self.n
                ),
            ));
        }
        Ok(())
    }

    /// Calls `f(term, p, q, strength, pair)` for every term of every bonded pair and, for the
    /// non-bonded `candidates` (bonded neighbours skipped), every term within its range.
    fn each_term_pair(
        &self,
        frame: &Frame,
        candidates: &[(usize, usize)],
        mut f: impl FnMut(TermId, usize, usize, usize, &Pair<f64>),
    ) {
        const BONDED: [TermId; 3] = [TermId::Fene, TermId::BondedExcludedVolume, TermId::Stacking];
        const NONBONDED: [TermId; 5] = [
            TermId::UnbondedExcludedVolume,
            TermId::HydrogenBonding,
            TermId::CrossStacking,
            TermId::CoaxialStacking,
            TermId::Debye,
        ];
        // a term of weight 0 is dropped (an oxRNA2 model switches every built-in term off)
        let on = |t: &TermId| self.weights[*t as usize] != 0.0;
        let bonded: Vec<TermId> = BONDED.into_iter().filter(on).collect();
        let nonbonded: Vec<TermId> = NONBONDED.into_iter().filter(on).collect();
        if !bonded.is_empty() {
            for &(p, q) in &self.bonded {
                let pair = frame.pair(&self.terms.geo, p, q);
                for &term in &bonded {
                    f(term, p, q, self.strength_index(term, p, q).unwrap_or(0), &pair);
                }
            }
        }
        if nonbonded.is_empty() {
            return;
        }
        for &(p, q) in candidates {
            if self.neighbours[p].contains(&Some(q)) {
                continue;
            }
            let pair = frame.pair(&self.terms.geo, p, q);
            let centre = V3::norm(&pair.d);
            for &term in &nonbonded {
                if centre >= self.ranges[term as usize] {
                    continue;
                }
                if let Some(strength) = self.strength_index(term, p, q) {
                    f(term, p, q, strength, &pair);
                }
            }
        }
    }

    /// Visits every pair with a non-zero contribution to a term of non-zero weight, unweighted.
    /// The frame must have the topology's nucleotide count.
    pub fn visit_pairs(&self, frame: &Frame, visit: impl FnMut(ActivePair)) -> Result<()> {
        self.check_frame(frame)?;
        self.visit_pairs_unchecked(frame, visit);
        Ok(())
    }

    pub(crate) fn visit_pairs_unchecked(&self, frame: &Frame, mut visit: impl FnMut(ActivePair)) {
        let candidates = pairs_within(&frame.r, &frame.bx, self.cutoff);
        self.each_term_pair(frame, &candidates, |term, p, q, strength, pair| {
            let e = self.terms.pair_energy(term, pair, &self.eps(term, strength));
            if e != 0.0 {
                visit(ActivePair { term, p, q, strength, energy: e });
            }
        });
    }

    /// The strength (stacking, H-bonding) or charge product (Debye–Hückel) of an active pair.
    fn eps(&self, term: TermId, strength: usize) -> f64 {
        match term {
            TermId::Stacking => self.strengths.0[strength],
            TermId::HydrogenBonding => self.strengths.1[strength],
            TermId::Debye => [1.0, 0.5, 0.25][strength],
            _ => 0.0,
        }
    }

    /// Adds the weighted energy, forces and torques of the bonded pairs and of the non-bonded
    /// `candidates` (pairs `p < q`, bonded ones skipped) to `out`: the MD engine's force routine
    /// (the pair kernel). Pairs are summed in a fixed order (bonded, then candidates), so the
    /// result does not depend on how the pairs were computed.
    ///
    /// The frame and `out` must have the topology's nucleotide count and every candidate must
    /// name two nucleotides of it; otherwise this is an error and `out` is unchanged.
    pub fn accumulate_forces(&self, frame: &Frame, candidates: &[(usize, usize)], out: &mut Forces) -> Result<()> {
        self.accumulate_forces_with(frame, candidates, out, &mut ForceWorkspace::default())
    }

    /// [`EnergyModel::accumulate_forces`] with reusable buffers and, when `ws` has a thread
    /// pool, the pairs computed in parallel. The pairs' contributions are always added in the
    /// same order (each nucleotide's in pair order, the energy per chunk of pairs), so the
    /// result is bit for bit the same for any number of threads.
    ///
    /// On several threads, chunks of pairs go to whichever thread is free; the pairs that act
    /// are kept, packed, with their gradients, and each thread then adds them to the
    /// nucleotides of its own range (no per-pair slots, no locks).
    pub fn accumulate_forces_with(
        &self,
        frame: &Frame,
        candidates: &[(usize, usize)],
        out: &mut Forces,
        ws: &mut ForceWorkspace,
    ) -> Result<()> {
        self.check_frame(frame)?;
        if out.f.len() != self.n || out.torque.len() != self.n {
            return Err(Error::mismatch(
                "forces and topology",
                format!(
                    "the force buffers hold {} forces and {} torques for {} nucleotides: start from Forces::zeros({})",
                    out.f.len(),
                    out.torque.len(),
                    self.n,
                    self.n
                ),
            ));
        }
        if let Some(&(p, q)) = candidates.iter().find(|&&(p, q)| p >= self.n || q >= self.n || p == q) {
            return Err(Error::mismatch(
                "candidate pairs and topology",
                format!("pair ({p}, {q}) for {} nucleotides: give two different indices below {}", self.n, self.n),
            ));
        }
        self.accumulate_forces_unchecked(frame, candidates, out, ws);
        Ok(())
    }

    /// [`EnergyModel::accumulate_forces_with`] for inputs known to match (the MD engine's own
    /// frame, buffers and neighbour list).
    pub(crate) fn accumulate_forces_unchecked(
        &self,
        frame: &Frame,
        candidates: &[(usize, usize)],
        out: &mut Forces,
        ws: &mut ForceWorkspace,
    ) {
        let in_pool = rayon::current_thread_index().is_some() && ws.pool.is_some();
        let sites = |out: &mut Vec<[Vec3; 4]>, offsets: &(dyn Fn(&[Vec3; 3]) -> [Vec3; 4] + Sync)| {
            if in_pool {
                use rayon::prelude::*;
                frame.axes.par_iter().with_min_len(256).map(offsets).collect_into_vec(out);
            } else {
                out.clear();
                out.extend(frame.axes.iter().map(offsets));
            }
        };
        sites(&mut ws.sites, &|a| self.terms.geo.offsets(a));
        if self.rna.is_some() {
            sites(&mut ws.rna_sites, &super::kernel::Rna::sites);
        }
        let n = self.bonded.len() + candidates.len();
        let parallel = ws.pool.is_some() && n >= PARALLEL_PAIRS;
        if parallel {
            ws.resize(n);
        }
        match &ws.pool {
            Some(pool) if parallel => {
                use rayon::prelude::*;
                let sites = (&ws.sites[..], &ws.rna_sites[..]);
                // chunks of pairs, each taken by whichever thread is free; each chunk's acting
                // pairs packed from its start
                pool.install(|| {
                    ws.acting
                        .par_chunks_mut(PAIR_CHUNK)
                        .zip(ws.results.par_chunks_mut(PAIR_CHUNK))
                        .zip(ws.chunks.par_iter_mut())
                        .with_max_len(1)
                        .enumerate()
                        .for_each(|(c, ((acting, results), (used, energy)))| {
                            let start = c * PAIR_CHUNK;
                            (*used, *energy) = (0, 0.0);
                            for k in start..start + acting.len() {
                                if let Some((e, g)) = self.pair_forces(frame, sites, candidates, k) {
                                    let (p, q) = self.pair_at(candidates, k);
                                    *energy += e;
                                    acting[*used] = (p as u32, q as u32);
                                    results[*used] = g;
                                    *used += 1;
                                }
                            }
                        });
                });
                // each thread adds, for the nucleotides of its own range, every acting pair's
                // contributions in pair order: the same additions, in the same order, as the
                // one-thread loop below
                let span = self.n.div_ceil(pool.current_num_threads()).max(1);
                let (acting, results, chunks) = (&ws.acting, &ws.results, &ws.chunks);
                pool.install(|| {
                    out.f.par_chunks_mut(span).zip(out.torque.par_chunks_mut(span)).enumerate().for_each(
                        |(r, (f, t))| {
                            let (lo, len) = ((r * span) as u32, f.len() as u32);
                            let mine = |i: u32| i.wrapping_sub(lo) < len;
                            for (c, &(used, _)) in chunks.iter().enumerate() {
                                let from = c * PAIR_CHUNK;
                                for (&(p, q), g) in acting[from..from + used].iter().zip(&results[from..from + used]) {
                                    if mine(p) {
                                        f[(p - lo) as usize] += g.d;
                                        t[(p - lo) as usize] -= g.p;
                                    }
                                    if mine(q) {
                                        f[(q - lo) as usize] -= g.d;
                                        t[(q - lo) as usize] -= g.q;
                                    }
                                }
                            }
                        },
                    );
                });
                for (_, e) in &ws.chunks {
                    out.energy += e;
                }
            }
            _ => {
                // energies summed per chunk, as on several threads
                let mut sum = 0.0;
                for k in 0..n {
                    if let Some((e, g)) = self.pair_forces(frame, (&ws.sites, &ws.rna_sites), candidates, k) {
                        sum += e;
                        add_gradient(out, self.pair_at(candidates, k), &g);
                    }
                    if (k + 1) % PAIR_CHUNK == 0 || k + 1 == n {
                        out.energy += sum;
                        sum = 0.0;
                    }
                }
            }
        }
        let handled = |i: usize| self.rna.as_ref().is_some_and(|r| r.handled[i]);
        for (_, t) in self.custom.iter().enumerate().filter(|&(i, t)| t.weight != 0.0 && !handled(i)) {
            t.add_forces(&self.terms.geo, frame, &self.bonded, &self.topology, candidates, out);
        }
    }

    /// The pair with index `k` of [bonded pairs..., candidates...].
    #[inline]
    pub(crate) fn pair_at(&self, candidates: &[(usize, usize)], k: usize) -> (usize, usize) {
        if k < self.bonded.len() {
            self.bonded[k]
        } else {
            candidates[k - self.bonded.len()]
        }
    }

    /// The weighted energy and gradient of pair `k` of [bonded pairs..., candidates...] (`None`
    /// if nothing acts on it): the built-in terms on the model's `sites` and oxRNA2's on the
    /// RNA sites `rna_sites` (filled only for a model with oxRNA2 terms).
    pub(crate) fn pair_forces(
        &self,
        frame: &Frame,
        (sites, rna_sites): (&[[Vec3; 4]], &[[Vec3; 4]]),
        candidates: &[(usize, usize)],
        k: usize,
    ) -> Option<(f64, PairGradient)> {
        let (p, q) = self.pair_at(candidates, k);
        let d = frame.bx.min_image(frame.r[q] - frame.r[p]);
        let bond = (k < self.bonded.len()).then_some(k);
        let (a, b) = (&frame.axes[p], &frame.axes[q]);
        let builtin = || self.kernel_pair::<true, f64>(&self.weights, bond, (p, q), d, (a, b), (&sites[p], &sites[q]));
        let Some(rna) = &self.rna else { return builtin() };
        let (sp, sq) = (&rna_sites[p], &rna_sites[q]);
        let own = match bond {
            Some(k) => super::kernel::rna_bonded(rna, k, d, (a, b), (sp, sq)),
            None if self.neighbours[p].contains(&Some(q)) => None,
            None => super::kernel::rna_nonbonded(rna, &self.topology, (p, q), d, (a, b), (sp, sq)),
        };
        if self.weights.iter().all(|&w| w == 0.0) {
            return own;
        }
        match (builtin(), own) {
            (Some((e1, g1)), Some((e2, g2))) => {
                Some((e1 + e2, PairGradient { d: g1.d + g2.d, p: g1.p + g2.p, q: g1.q + g2.q }))
            }
            (x, None) | (None, x) => x,
        }
    }

    /// The weighted energy and gradient of the built-in terms on the pair (p, q) at separation
    /// `d`: bonded pair number `bond` (ordered as [`EnergyModel::bonded_pairs`]) or, without one,
    /// a non-bonded pair (`None` if nothing acts on it).
    // always inlined: called through `pair_forces` for every pair of every MD step (as a call
    // it cost 2.4 % more instructions in MD)
    #[inline(always)]
    fn kernel_pair<const GRAD: bool, E: Energies>(
        &self,
        weights: &[f64; 8],
        bond: Option<usize>,
        (p, q): (usize, usize),
        d: Vec3,
        (a, b): (&[Vec3; 3], &[Vec3; 3]),
        (sp, sq): (&[Vec3; 4], &[Vec3; 4]),
    ) -> Option<(E, PairGradient)> {
        let mut input = super::kernel::PairInput {
            terms: &self.dual,
            values: &self.terms,
            supports: &self.supports,
            weights,
            eps_bond: None,
            chi: 1.0,
            dna1: self.params.model() == ModelKind::Dna1,
            fene_limit: self.strict_fene.then_some(self.fene_bounds),
        };
        if let Some(k) = bond {
            input.eps_bond = Some(self.bonded_eps[k]);
            return super::kernel::bonded::<GRAD, E>(&input, d, a, b, sp, sq);
        }
        if self.neighbours[p].contains(&Some(q)) {
            return None;
        }
        let c2 = d.norm2();
        if c2 >= self.cutoff * self.cutoff {
            return None;
        }
        input.eps_bond = self.strength_index(TermId::HydrogenBonding, p, q).map(|s| self.strengths.1[s]);
        input.chi = self.chi[p] * self.chi[q];
        super::kernel::nonbonded::<GRAD, E>(&input, d, a, b, sp, sq)
    }

    /// The weighted energy of the interaction of nucleotides `p` and `q` (every term, built-in
    /// and the user's) with `q` at separation `d` = r_q − r_p (minimum image) from `p`, frames
    /// `a` of `p` and `b` of `q` (orthonormal a1, a2, a3): one term of the pair sum, for Monte
    /// Carlo moves that place nucleotides anywhere. Summed over all pairs p < q and added to
    /// [`EnergyModel::nucleotide_interaction`] of each nucleotide it is [`EnergyModel::energy`].
    /// A backbone bond stretched to FENE's divergence gives `+∞`.
    ///
    /// `p` and `q` must be different nucleotides of the model.
    #[must_use]
    pub fn pair_interaction(&self, p: usize, q: usize, d: Vec3, a: &[Vec3; 3], b: &[Vec3; 3]) -> f64 {
        let geo = &self.terms.geo;
        self.pair_interaction_sites(p, q, d, (a, b), (&geo.offsets(a), &geo.offsets(b)))
    }

    /// The sites' offsets from a nucleotide's centre for frame `a` (backbone, oxDNA1 backbone,
    /// stacking, base), for [`EnergyModel::pair_interaction_sites`].
    #[must_use]
    pub fn site_offsets(&self, a: &[Vec3; 3]) -> [Vec3; 4] {
        self.terms.geo.offsets(a)
    }

    /// [`EnergyModel::pair_interaction`] with the site offsets of both nucleotides given
    /// ([`EnergyModel::site_offsets`]): Monte Carlo keeps them for its nucleotides.
    #[must_use]
    pub fn pair_interaction_sites(
        &self,
        p: usize,
        q: usize,
        d: Vec3,
        (a, b): (&[Vec3; 3], &[Vec3; 3]),
        (sp, sq): (&[Vec3; 4], &[Vec3; 4]),
    ) -> f64 {
        let bonded = self.neighbours[p].contains(&Some(q));
        // beyond the cut-off only bonds and chosen pairs act
        if !bonded && d.norm2() >= self.cutoff * self.cutoff && !self.has_pair_lists() {
            return 0.0;
        }
        let (bond, swap) = self.ordered(p, q);
        let ((p, q), d, (a, b), (sp, sq)) =
            if swap { ((q, p), -d, (b, a), (sq, sp)) } else { ((p, q), d, (a, b), (sp, sq)) };
        let geo = &self.terms.geo;
        let builtin =
            self.kernel_pair::<false, f64>(&self.weights, bond, (p, q), d, (a, b), (sp, sq)).map_or(0.0, |(e, _)| e);
        self.custom.iter().filter(|t| t.weight != 0.0).fold(builtin, |e, t| {
            e + t.weight * t.pair_unweighted(geo, &self.topology, (p, q), d, a, b, bond.is_some())
        })
    }

    /// The unweighted energy of one term, by name (a built-in term's, e.g. `HydrogenBonding`, or
    /// a user's term's), on the pair (p, q) placed as in [`EnergyModel::pair_interaction`];
    /// `None` if the model has no such term. Order parameters count base pairs with it.
    #[must_use]
    pub fn pair_term_energy(
        &self,
        term: &str,
        p: usize,
        q: usize,
        d: Vec3,
        a: &[Vec3; 3],
        b: &[Vec3; 3],
    ) -> Option<f64> {
        let (bond, swap) = self.ordered(p, q);
        let ((p, q), d, (a, b)) = if swap { ((q, p), -d, (b, a)) } else { ((p, q), d, (a, b)) };
        let geo = &self.terms.geo;
        if let Some(t) = TermId::ALL.into_iter().find(|t| t.term().name() == term) {
            let bonded_term = matches!(t, TermId::Fene | TermId::BondedExcludedVolume | TermId::Stacking);
            if bonded_term != bond.is_some() || (!bonded_term && d.norm() >= self.ranges[t as usize]) {
                return Some(0.0);
            }
            let Some(strength) = self.strength_index(t, p, q) else { return Some(0.0) };
            let v = |x: &[Vec3; 3]| x.map(V3::from);
            return Some(self.terms.pair_energy(t, &geo.pair(d.into(), v(a), v(b)), &self.eps(t, strength)));
        }
        let t = self.custom.iter().find(|t| &*t.name == term)?;
        Some(t.pair_unweighted(geo, &self.topology, (p, q), d, a, b, bond.is_some()))
    }

    /// The pair (p, q) as the pair sum orders it: its bond number, and whether to swap p and q
    /// (a bond as (p, n3(p)), others p < q).
    fn ordered(&self, p: usize, q: usize) -> (Option<usize>, bool) {
        let bond = |p: usize, q: usize| {
            (self.topology[p].n3 == Some(q)).then(|| self.bonded.binary_search_by_key(&p, |b| b.0).ok()).flatten()
        };
        match (bond(p, q), bond(q, p)) {
            (Some(k), _) => (Some(k), false),
            (None, Some(k)) => (Some(k), true),
            _ => (None, p > q),
        }
    }

    /// The weighted energy of nucleotide `i` on its own at `r` with frame `a`: the users'
    /// single-nucleotide terms (0 for oxDNA's terms, which all act on pairs). See
    /// [`EnergyModel::pair_interaction`].
    #[must_use]
    pub fn nucleotide_interaction(&self, i: usize, r: Vec3, a: &[Vec3; 3]) -> f64 {
        self.custom.iter().map(|t| t.nucleotide_weighted(&self.terms.geo, i, r, a)).sum()
    }

    /// Whether any term acts on single nucleotides ([`EnergyModel::nucleotide_interaction`]).
    #[must_use]
    pub fn has_nucleotide_terms(&self) -> bool {
        self.custom.iter().any(|t| !t.nucleotides().is_empty() && t.weight != 0.0)
    }

    /// Whether the user's terms include a chosen-pairs scope ([`super::Scope::Pairs`]): pairs
    /// that interact at any distance, beyond [`EnergyModel::cutoff`].
    #[must_use]
    pub fn has_pair_lists(&self) -> bool {
        self.custom.iter().any(|t| matches!(t.scope, super::Scope::Pairs(_)) && t.weight != 0.0)
    }

    /// What is wrong with a frame whose energy is not finite: backbone bonds stretched to FENE's
    /// divergence (|r − r0| ≥ Δ), nucleotides whose coordinates are not finite, and nucleotides
    /// at the same place.
    #[must_use]
    pub fn diagnose(&self, frame: &Frame) -> String {
        let (r0, delta) = self.fene_bounds;
        let mut parts = Vec::new();
        let bad: Vec<usize> =
            (0..self.n).filter(|&i| !frame.r[i].is_finite() || !frame.axes[i].iter().all(|a| a.is_finite())).collect();
        if !bad.is_empty() {
            let list: Vec<String> = bad.iter().take(10).map(ToString::to_string).collect();
            parts.push(format!(
                "non-finite coordinates of nucleotide(s) {}{}",
                list.join(", "),
                if bad.len() > 10 { ", …" } else { "" }
            ));
        }
        for &(p, q) in &self.bonded {
            let bb = |i: usize| frame.r[i] + self.terms.geo.offsets(&frame.axes[i])[0];
            let d = frame.bx.min_image(bb(q) - bb(p)).norm();
            if (d - r0).abs() >= delta || !d.is_finite() {
                parts.push(format!(
                    "the backbone bond between nucleotides {p} and {q} is {d:.4} long, beyond FENE's divergence at {:.4}–{:.4} (distance between bonded neighbors exceeded)",
                    r0 - delta,
                    r0 + delta
                ));
                if parts.len() >= 6 {
                    break;
                }
            }
        }
        // coincident nucleotides (a site distance of 0 makes the repulsions 0/0)
        let mut overlaps = 0;
        'pairs: for p in 0..self.n {
            for q in p + 1..self.n {
                let d = frame.bx.min_image(frame.r[q] - frame.r[p]).norm();
                if d < 1e-6 {
                    parts.push(format!("nucleotides {p} and {q} are at the same place ({d:.1e} apart)"));
                    overlaps += 1;
                    if overlaps >= 6 {
                        break 'pairs;
                    }
                }
            }
        }
        if parts.is_empty() {
            parts.push("the potential energy is not finite".into());
        }
        parts.join("; ")
    }

    /// In MD, a backbone bond stretched to FENE's divergence stops the run, as in oxDNA
    /// (`strict`, the default); otherwise FENE continues with the bounded force of `fmax` and
    /// `finf` (oxDNA's `max_backbone_force` option).
    #[must_use]
    pub fn fene_limit(mut self, strict: bool) -> EnergyModel {
        self.strict_fene = strict;
        self
    }

    /// Energy, forces and torques of one configuration (native, analytic).
    pub fn forces(&self, c: &Configuration) -> Result<Forces> {
        self.check(c)?;
        let frame = Frame::new(c);
        let mut out = Forces::zeros(self.n);
        let candidates = pairs_within(&frame.r, &frame.bx, self.cutoff);
        self.accumulate_forces_unchecked(&frame, &candidates, &mut out, &mut ForceWorkspace::default());
        Ok(out)
    }

    /// Per-term energies of one configuration (system totals, unweighted; a built-in term of
    /// weight 0 is not evaluated and reads 0).
    pub fn breakdown(&self, c: &Configuration) -> Result<Breakdown> {
        self.check(c)?;
        let frame = Frame::new(c);
        let mut b = Breakdown::default();
        let candidates = pairs_within(&frame.r, &frame.bx, self.cutoff);
        if self.weights.iter().any(|&w| w != 0.0) {
            b.builtin = self.term_energies(&frame, &candidates);
        }
        if !self.custom.is_empty() {
            for t in &self.custom {
                let pairs = t.pairs(&frame, &self.bonded, &self.topology, &candidates);
                b.custom.push((t.name.to_string(), t.energy(&self.terms.geo, &frame, &pairs)));
            }
        }
        Ok(b)
    }

    /// The unweighted energy of each built-in term of non-zero weight (0 for the others) over the
    /// bonded pairs and the non-bonded `candidates`: the pair kernel, energies only, term by
    /// term, each pair's terms added to the totals in pair order.
    fn term_energies(&self, frame: &Frame, candidates: &[(usize, usize)]) -> [f64; 8] {
        let unit = self.weights.map(|w| if w == 0.0 { 0.0 } else { 1.0 });
        let sites: Vec<[Vec3; 4]> = frame.axes.iter().map(|a| self.terms.geo.offsets(a)).collect();
        let mut total = [0.0; 8];
        let pairs = self.bonded.iter().enumerate().map(|(k, &pq)| (Some(k), pq));
        for (bond, (p, q)) in pairs.chain(candidates.iter().map(|&pq| (None, pq))) {
            let d = frame.bx.min_image(frame.r[q] - frame.r[p]);
            let ends = (&frame.axes[p], &frame.axes[q]);
            if let Some((e, _)) =
                self.kernel_pair::<false, [f64; 8]>(&unit, bond, (p, q), d, ends, (&sites[p], &sites[q]))
            {
                for (t, e) in total.iter_mut().zip(e) {
                    *t += e;
                }
            }
        }
        total
    }

    /// The (weighted) energy of one configuration.
    pub fn energy(&self, c: &Configuration) -> Result<f64> {
        let b = self.breakdown(c)?;
        // a term of weight 0 is dropped, even where its energy is not finite
        let builtin: f64 = b.builtin.iter().zip(&self.weights).filter(|(_, w)| **w != 0.0).map(|(e, w)| e * w).sum();
        let custom: f64 =
            b.custom.iter().zip(&self.custom).filter(|(_, t)| t.weight != 0.0).map(|((_, e), t)| e * t.weight).sum();
        Ok(builtin + custom)
    }

    /// The user's terms, for the tensor evaluation.
    pub(crate) fn attached(&self) -> &[super::custom::Attached] {
        &self.custom
    }

    /// The topology's nucleotides.
    pub(crate) fn topology_nucleotides(&self) -> &[crate::system::Nucleotide] {
        &self.topology
    }

    /// The energy of every frame, `[frames]`.
    pub fn map(&self, frames: &[Configuration]) -> Result<Vec<f64>> {
        frames.iter().map(|c| self.energy(c)).collect()
    }

    /// Checks that every frame has the topology's nucleotide count.
    pub fn check_frames(&self, frames: &[Configuration]) -> Result<()> {
        frames.iter().try_for_each(|c| self.check(c))
    }
}

/// What a model derives from its parameters when it is built, every name read once through one
/// [`Checked`] source: a name the set does not have is an error here, not a panic later.
struct Derived {
    terms: Terms<f64>,
    dual: Terms<Dual>,
    /// The strength tables (stacking `[16]`, H-bonding `[2]`) for [`EnergyModel::strength_index`].
    strengths: (Vec<f64>, Vec<f64>),
    /// FENE's r0 and Δ.
    fene_bounds: (f64, f64),
    /// oxDNA2 with half charges at strand ends.
    half_charged: bool,
}

impl Derived {
    fn new(params: &ParamSet) -> Result<Derived> {
        let src = Checked::new(params);
        let model = params.model();
        let derived = Derived {
            terms: Terms::new(&src, model),
            dual: Terms::new(&src, model),
            strengths: Strengths::new(params.is_sequence_dependent(), |n| src.value(n)).tables(),
            fene_bounds: (src.value("r0_backbone"), src.value("delta_backbone")),
            half_charged: model == ModelKind::Dna2 && src.value("half_charged_ends") != 0.0,
        };
        src.finish()?;
        Ok(derived)
    }
}

/// Below this many pairs a force evaluation stays on one thread (the pool costs more than it
/// saves).
const PARALLEL_PAIRS: usize = 2048;

/// Pairs are computed in chunks of this many (a thread's unit of work) and their energies summed
/// per chunk, on any number of threads.
const PAIR_CHUNK: usize = 256;

/// Buffers reused from one force evaluation to the next, and the threads that share one.
#[derive(Default)]
pub struct ForceWorkspace {
    sites: Vec<[Vec3; 4]>,
    /// The RNA sites (models with oxRNA2 terms).
    rna_sites: Vec<[Vec3; 4]>,
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
    /// The pairs that act and their gradients, packed from the start of each chunk of
    /// [`PAIR_CHUNK`] pairs.
    acting: Vec<(u32, u32)>,
    results: Vec<PairGradient>,
    /// For each chunk, how many of its pairs act and their energy, summed in pair order.
    chunks: Vec<(usize, f64)>,
}

impl ForceWorkspace {
    /// Buffers for one thread, or for `threads` threads (a pool of its own).
    pub fn with_threads(threads: usize) -> Result<ForceWorkspace> {
        let pool = if threads > 1 {
            Some(std::sync::Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|k| format!("oxgrad-md-{k}"))
                    .build()
                    .map_err(|e| Error::invalid("threads", threads, format!("cannot start the threads: {e}")))?,
            ))
        } else {
            None
        };
        Ok(ForceWorkspace { pool, ..ForceWorkspace::default() })
    }

    /// Room for `pairs` pairs.
    fn resize(&mut self, pairs: usize) {
        if self.acting.len() != pairs {
            self.acting.resize(pairs, (0, 0));
            self.results.resize(pairs, PairGradient::default());
            self.chunks.resize(pairs.div_ceil(PAIR_CHUNK), (0, 0.0));
        }
    }

    /// Threads used.
    #[must_use]
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.current_num_threads())
    }

    /// The thread pool, if more than one thread (a caller may run a whole MD step in it, so the
    /// threads stay busy between force evaluations).
    #[must_use]
    pub fn pool(&self) -> Option<std::sync::Arc<rayon::ThreadPool>> {
        self.pool.clone()
    }
}

impl std::fmt::Debug for ForceWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ForceWorkspace({} threads)", self.threads())
    }
}

/// Adds one pair's energy and gradient to the totals: F_p = ∂E/∂d, F_q = −∂E/∂d, τ = −∂E/∂θ.
#[inline]
pub(crate) fn add_pair(out: &mut Forces, pair: (usize, usize), e: f64, g: &PairGradient) {
    out.energy += e;
    add_gradient(out, pair, g);
}

/// Adds one pair's forces and torques to the totals ([`add_pair`] without the energy).
#[inline]
fn add_gradient(out: &mut Forces, (p, q): (usize, usize), g: &PairGradient) {
    out.f[p] += g.d;
    out.f[q] -= g.d;
    out.torque[p] -= g.p;
    out.torque[q] -= g.q;
}

/// Parameters of users' terms that the model does not have are an error (mythos' strict
/// namespace): they would be silently ignored.
fn unused_custom(params: &ParamSet, attached: &[super::custom::Attached]) -> Result<()> {
    let unused: Vec<&str> =
        params.custom_terms().into_iter().filter(|t| !attached.iter().any(|a| &*a.name == *t)).collect();
    if unused.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        "parameter set",
        params.model(),
        format!(
            "Some parameters were not used in any energy function: those of term(s) {}. Attach the term(s) with EnergyModel::with_term first, then apply these parameters with with_params (the oxgrad command line knows only the built-in terms)",
            unused.join(", ")
        ),
    ))
}

/// Checks that every parameter lies in the domain where the model is defined.
pub fn validate(p: &ParamSet) -> Result<()> {
    let positive = |name: &str| -> Result<()> {
        let v = p.get(name)?;
        if v > 0.0 {
            Ok(())
        } else {
            Err(Error::invalid(name, v, "must be positive"))
        }
    };
    for n in ["eps_backbone", "delta_backbone", "fmax", "eps_exc", "a_stack", "a_hb", "k_cross", "k_coax", "kt"] {
        positive(n)?;
    }
    let ordered = |names: [&str; 4], what: &str| -> Result<()> {
        let v = [p.get(names[0])?, p.get(names[1])?, p.get(names[2])?, p.get(names[3])?];
        if v[0] < v[1] && v[1] < v[2] && v[2] < v[3] {
            Ok(())
        } else {
            Err(Error::invalid(
                names[1],
                v[1],
                format!("{what}: need {} < {} < {} < {} (values {:?})", names[0], names[1], names[2], names[3], v),
            ))
        }
    };
    ordered(
        ["dr_low_stack", "dr0_stack", "dr_high_stack", "dr_c_stack"],
        "the stacking well must have positive width",
    )?;
    ordered(["dr_low_hb", "dr0_hb", "dr_high_hb", "dr_c_hb"], "the H-bond well must have positive width")?;
    ordered(
        ["dr_low_cross", "r0_cross", "dr_high_cross", "dr_c_cross"],
        "the cross-stacking well must have positive width",
    )?;
    ordered(
        ["dr_low_coax", "dr0_coax", "dr_high_coax", "dr_c_coax"],
        "the coaxial-stacking well must have positive width",
    )?;
    for site in crate::params::EXCLUDED_VOLUME_SITES {
        let (s, r) = (p.get(&format!("sigma_{site}"))?, p.get(&format!("dr_star_{site}"))?);
        if !(r > 0.0 && r < s) {
            return Err(Error::invalid(
                format!("dr_star_{site}"),
                r,
                format!("the excluded-volume switch point must satisfy 0 < dr_star_{site} < sigma_{site} = {s}"),
            ));
        }
    }
    for (x, ks) in crate::params::ANGULAR_FACTORS {
        for k in ks {
            let (a, ts) = (p.get(&format!("a_{x}_{k}"))?, p.get(&format!("delta_theta_star_{x}_{k}"))?);
            if !(a > 0.0 && ts > 0.0 && a * ts * ts < 1.0) {
                return Err(Error::invalid(
                    format!("delta_theta_star_{x}_{k}"),
                    ts,
                    format!("the angular cut-off width must be positive with a·Δθ*² < 1 (a_{x}_{k} = {a})"),
                ));
            }
        }
    }
    let mut phis = vec![("a_stack_1", "neg_cos_phi1_star_stack"), ("a_stack_2", "neg_cos_phi2_star_stack")];
    if p.model() == ModelKind::Dna1 {
        phis.extend([("a_coax_3p", "cos_phi3_star_coax"), ("a_coax_4p", "cos_phi4_star_coax")]);
    }
    for (a, xs) in phis {
        let (av, xv) = (p.get(a)?, p.get(xs)?);
        if !(av > 0.0 && xv < 0.0 && av * xv * xv < 1.0) {
            return Err(Error::invalid(
                xs,
                xv,
                format!("the φ switch point must be negative with a·x*² < 1 ({a} = {av})"),
            ));
        }
    }
    if p.model() == ModelKind::Dna2 {
        for n in ["salt_conc", "lambda_factor", "q_eff", "prefactor_coeff"] {
            positive(n)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{validate, EnergyModel, Frame, TermId};
    use crate::generate::{helix, parse_sequence, Shape};
    use crate::params::{ModelKind, ParamSet};
    use crate::system::TopologyFormat;

    /// Each domain rule of [`validate`] at its edge: the defaults pass, a value just inside passes,
    /// the value at the edge is refused with the parameter named.
    #[test]
    fn validate_refuses_each_parameter_at_the_edge_of_its_domain() {
        for model in [ModelKind::Dna1, ModelKind::Dna2] {
            let base = ParamSet::defaults(model);
            let with = |vals: &[(&str, f64)]| base.with_params(vals.iter().copied()).unwrap();
            let accepted = |vals: &[(&str, f64)]| {
                if let Err(e) = validate(&with(vals)) {
                    panic!("{model}: {vals:?} refused: {e}");
                }
            };
            let refused = |vals: &[(&str, f64)], named: &str| match validate(&with(vals)) {
                Ok(()) => panic!("{model}: {vals:?} accepted"),
                Err(e) => assert!(e.to_string().contains(&format!("invalid {named} ")), "{model}: {vals:?}: {e}"),
            };
            accepted(&[]);
            let mut positive =
                vec!["eps_backbone", "delta_backbone", "fmax", "eps_exc", "a_stack", "a_hb", "k_cross", "k_coax", "kt"];
            if model == ModelKind::Dna2 {
                positive.extend(["salt_conc", "lambda_factor", "q_eff", "prefactor_coeff"]);
            }
            for n in positive {
                refused(&[(n, 0.0)], n);
                accepted(&[(n, 1e-3)]);
            }
            for names in [
                ["dr_low_stack", "dr0_stack", "dr_high_stack", "dr_c_stack"],
                ["dr_low_hb", "dr0_hb", "dr_high_hb", "dr_c_hb"],
                ["dr_low_cross", "r0_cross", "dr_high_cross", "dr_c_cross"],
                ["dr_low_coax", "dr0_coax", "dr_high_coax", "dr_c_coax"],
            ] {
                for i in 0..3 {
                    // each neighbour pair equal in turn, the rest as they are
                    refused(&[(names[i + 1], base.value(names[i]))], names[1]);
                    let between = 0.5 * (base.value(names[i]) + base.value(names[i + 1]));
                    accepted(&[(names[i + 1], between)]);
                }
            }
            for site in crate::params::EXCLUDED_VOLUME_SITES {
                let (sigma, star) = (format!("sigma_{site}"), format!("dr_star_{site}"));
                let s = base.value(&sigma);
                refused(&[(star.as_str(), s)], &star);
                refused(&[(star.as_str(), 0.0)], &star);
                accepted(&[(star.as_str(), 0.999 * s)]);
                accepted(&[(star.as_str(), 1e-3)]);
            }
            // a·Δθ*² = 1 exactly at a = 4, Δθ* = 0.5
            for (x, ks) in crate::params::ANGULAR_FACTORS {
                for k in ks {
                    let (a, ts) = (format!("a_{x}_{k}"), format!("delta_theta_star_{x}_{k}"));
                    let (a, ts) = (a.as_str(), ts.as_str());
                    refused(&[(a, 4.0), (ts, 0.5)], ts);
                    accepted(&[(a, 4.0), (ts, 0.49)]);
                    refused(&[(ts, 0.0)], ts);
                    refused(&[(a, 0.0)], ts);
                    accepted(&[(a, 1e-3)]);
                }
            }
            // a·x*² = 1 exactly at a = 4, x* = −0.5
            let mut phis = vec![("a_stack_1", "neg_cos_phi1_star_stack"), ("a_stack_2", "neg_cos_phi2_star_stack")];
            if model == ModelKind::Dna1 {
                phis.extend([("a_coax_3p", "cos_phi3_star_coax"), ("a_coax_4p", "cos_phi4_star_coax")]);
            }
            for (a, xs) in phis {
                refused(&[(a, 4.0), (xs, -0.5)], xs);
                accepted(&[(a, 4.0), (xs, -0.49)]);
                refused(&[(xs, 0.0)], xs);
                refused(&[(a, 0.0)], xs);
                accepted(&[(a, 1e-3)]);
            }
        }
    }

    fn duplex(seq: &str) -> (crate::system::Topology, crate::io::Configuration) {
        helix(&parse_sequence(seq).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap()
    }

    /// What `diagnose` reports: every nucleotide with non-finite coordinates (the first ten), each
    /// backbone bond at or past FENE's divergence (|r − r0| ≥ Δ, the first six reports), and a
    /// plain sentence when neither is found.
    #[test]
    fn diagnose_names_the_broken_bonds_and_the_non_finite_nucleotides() {
        let (top, conf) = duplex("ACGTACGTACGTACGT");
        let model = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
        let (r0, delta) = (model.params().value("r0_backbone"), model.params().value("delta_backbone"));
        let frame = Frame::new(&conf);
        assert_eq!(model.diagnose(&frame), "the potential energy is not finite");

        let mut bad = frame.clone();
        for i in [3, 5] {
            bad.r[i].0[0] = f64::NAN;
        }
        let mut twin = frame.clone();
        twin.r[9] = twin.r[2];
        // (moving 9 onto 2 also stretches 9's two backbone bonds)
        let d = model.diagnose(&twin);
        assert!(d.ends_with("; nucleotides 2 and 9 are at the same place (0.0e0 apart)"), "{d}");
        assert_eq!(d.matches("the backbone bond between nucleotides").count(), 2, "{d}");

        bad.axes[7][1].0[1] = f64::INFINITY;
        let d = model.diagnose(&bad);
        assert!(d.starts_with("non-finite coordinates of nucleotide(s) 3, 5, 7;"), "{d}");
        for i in 0..10 {
            bad.r[i].0[0] = f64::NAN;
        }
        let d = model.diagnose(&bad);
        assert!(d.starts_with("non-finite coordinates of nucleotide(s) 0, 1, 2, 3, 4, 5, 6, 7, 8, 9;"), "{d}");
        bad.r[11].0[2] = f64::NAN;
        let d = model.diagnose(&bad);
        assert!(d.starts_with("non-finite coordinates of nucleotide(s) 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, …;"), "{d}");

        // nucleotide 15 ends the first strand, bonded to 14 only: moved along the
        // backbone-backbone direction until the bond is at (refused) or just inside r0 ± Δ
        let (end, other) = (15, 14);
        let (p, q) = *model.bonded_pairs().iter().find(|&&pq| pq == (end, other) || pq == (other, end)).unwrap();
        let bb = |f: &Frame, i: usize| f.r[i] + model.terms.geo.offsets(&f.axes[i])[0];
        let stretch = |len: f64| {
            let mut f = frame.clone();
            let v = bb(&f, end) - bb(&f, other);
            f.r[end] += v.normalized() * (len - v.norm());
            f
        };
        for len in [r0 + 0.999 * delta, r0 - 0.999 * delta] {
            assert_eq!(model.diagnose(&stretch(len)), "the potential energy is not finite");
        }
        for len in [r0 + delta + 1e-9, r0 - delta - 1e-9, r0 + 2.0 * delta] {
            let d = model.diagnose(&stretch(len));
            let want = format!(
                "the backbone bond between nucleotides {p} and {q} is {len:.4} long, beyond FENE's divergence at {:.4}–{:.4}",
                r0 - delta,
                r0 + delta
            );
            assert!(d.starts_with(&want) && !d.contains(';'), "{d}\nwant {want}");
        }
        // every nucleotide moved apart: at most six reports
        let mut far = frame.clone();
        for (i, r) in far.r.iter_mut().enumerate() {
            *r = *r * 3.0 + crate::geometry::Vec3::new(i as f64, 0.0, 0.0);
        }
        let d = model.diagnose(&far);
        assert_eq!(d.matches("the backbone bond").count(), 6, "{d}");
    }

    /// Inputs that do not match the topology are refused, with what to do, before anything is
    /// written; what matches is accepted.
    #[test]
    fn mismatched_frames_buffers_and_pairs_are_refused_and_change_nothing() {
        use super::{ForceWorkspace, Forces};
        let (top, conf) = duplex("ACGTACGT");
        let model = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
        let n = model.len();
        assert_eq!(n, 16);
        assert!(!model.is_empty());
        let none = crate::system::Topology::from_sequences::<Vec<crate::system::Base>>(&[], TopologyFormat::Classic);
        assert!(EnergyModel::new(&none, ParamSet::dna2_defaults()).unwrap().is_empty());

        let (_, longer) = duplex("ACGTACGTA");
        let e = model.energy(&longer).unwrap_err().to_string();
        assert!(e.contains("the configuration has 18 nucleotides, the topology 16"), "{e}");
        assert!(model.check_frames(&[conf.clone(), longer]).is_err());
        model.check_frames(&[conf.clone(), conf.clone()]).unwrap();

        let frame = Frame::new(&conf);
        let mut no_axis = frame.clone();
        no_axis.axes.pop();
        let mut no_centre = frame.clone();
        no_centre.r.pop();
        for f in [&no_axis, &no_centre] {
            let e = model.visit_pairs(f, |_| {}).unwrap_err().to_string();
            assert!(e.contains("build the frame from a configuration of this topology"), "{e}");
            assert!(model.accumulate_forces(f, &[], &mut Forces::zeros(n)).is_err());
        }
        let mut visited = 0;
        model.visit_pairs(&frame, |_| visited += 1).unwrap();
        assert!(visited > 0);

        let untouched = Forces::zeros(n);
        let mut out = untouched.clone();
        for bad in [(n, 0), (0, n), (3, 3)] {
            let e = model.accumulate_forces(&frame, &[(0, 5), bad], &mut out).unwrap_err().to_string();
            assert!(e.contains(&format!("pair ({}, {}) for 16 nucleotides", bad.0, bad.1)), "{e}");
            assert_eq!(out, untouched);
        }
        let mut no_torque = Forces::zeros(n);
        no_torque.torque.pop();
        for mut bad in [Forces::zeros(n - 1), no_torque] {
            let e = model.accumulate_forces(&frame, &[], &mut bad).unwrap_err().to_string();
            assert!(e.contains("start from Forces::zeros(16)"), "{e}");
        }
        model.accumulate_forces(&frame, &[(0, n - 1), (n - 1, 0)], &mut out).unwrap();
        assert!(out.energy != 0.0);

        for (threads, pool) in [(0, false), (1, false), (2, true), (3, true)] {
            let ws = ForceWorkspace::with_threads(threads).unwrap();
            assert_eq!(ws.threads(), threads.max(1));
            assert_eq!(ws.pool().is_some(), pool);
            assert_eq!(format!("{ws:?}"), format!("ForceWorkspace({} threads)", threads.max(1)));
        }
    }

    /// Pair energies are summed in chunks of [`super::PAIR_CHUNK`] pairs, each from zero, the chunks
    /// in order: on one thread as on several, so the energy is the same to the last bit.
    #[test]
    fn pair_energies_are_summed_per_chunk_on_any_number_of_threads() {
        use super::{ForceWorkspace, Forces, PAIR_CHUNK, PARALLEL_PAIRS};
        let (top, ideal) = duplex(&"ACGTTGCAGCATGCAATCGGATCCAGTCAGTTGACCGTAGCATGCAAGTCCATGGAATTCGATCG".repeat(2));
        let model = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
        let sum = |v: &[f64]| v.iter().fold(0.0, |s, e| s + e);
        // how often another grouping rounds differently: the test must be able to tell
        let (mut whole, mut shifted) = (0, 0);
        for amplitude in [0.0, 0.01, 0.02, 0.03, 0.04, 0.05] {
            let mut conf = ideal.clone();
            for (i, r) in conf.r.iter_mut().enumerate() {
                let t = i as f64;
                *r += crate::geometry::Vec3::new((1.3 * t).sin(), 0.7 * (0.7 * t).cos(), 0.8 * (2.1 * t).sin())
                    * amplitude;
            }
            let frame = Frame::new(&conf);
            let candidates = super::pairs_within(&frame.r, &frame.bx, model.cutoff());
            let n = model.bonded_pairs().len() + candidates.len();
            assert!(n > PARALLEL_PAIRS, "{n} pairs: the parallel path");
            let sites: Vec<_> = frame.axes.iter().map(|a| model.terms.geo.offsets(a)).collect();
            let energies: Vec<f64> = (0..n)
                .map(|k| model.pair_forces(&frame, (&sites, &[]), &candidates, k).map_or(0.0, |(e, _)| e))
                .collect();
            let chunked = energies.chunks(PAIR_CHUNK).fold(0.0, |t, c| t + sum(c));
            whole += usize::from(chunked.to_bits() != sum(&energies).to_bits());
            let off_by_one = energies[1..].chunks(PAIR_CHUNK).fold(energies[0], |t, c| t + sum(c));
            shifted += usize::from(chunked.to_bits() != off_by_one.to_bits());
            for threads in [1, 2, 3] {
                let mut out = Forces::zeros(model.len());
                let mut ws = ForceWorkspace::with_threads(threads).unwrap();
                model.accumulate_forces_with(&frame, &candidates, &mut out, &mut ws).unwrap();
                assert_eq!(out.energy.to_bits(), chunked.to_bits(), "{threads} threads: {} vs {chunked}", out.energy);
            }
        }
        assert!(whole > 0 && shifted > 0, "no configuration tells the groupings apart: {whole}, {shifted}");
    }

    #[test]
    fn every_term_id_names_its_parameter_group() {
        for t in TermId::ALL {
            assert_eq!(format!("{t:?}"), format!("{:?}", t.term()));
        }
    }

    /// The force kernel's oxRNA2 forces, torques and energy are the terms' own (their users'-term
    /// route, dual numbers of 9 directions through each term's energy) to rounding, on the
    /// jittered reference frames of a nicked duplex (every term acts in some of them), for the
    /// averaged and the sequence-dependent model (strengths per pair, the G–U wobble pair); the
    /// terms it evaluates are exactly oxRNA2's eight.
    #[test]
    fn the_rna_kernel_equals_the_terms_own_forces() {
        use crate::energy::rna2;
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oxdna");
        let jittered = data.join("extra-rna2-avg-nicked-jittered-12bp-T300-salt1.0");
        let wobble = data.join("extra-rna2-seqdep-wobble-jittered-12bp-T300-salt1.0");
        let (top, _) = crate::system::Topology::read(jittered.join("init.top")).unwrap();
        let (seq_top, _) = crate::system::Topology::read(wobble.join("init.top")).unwrap();
        let frames: Vec<_> = crate::io::TrajectoryReader::open(jittered.join("trajectory.dat"), top.len())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let seq = rna2::SequenceDependence::read(wobble.join("seq_dep_rna.txt")).unwrap();
        let averaged = rna2::model(&top, 0.1, 1.0).unwrap();
        let dependent = rna2::model_with(
            &seq_top,
            0.1,
            rna2::Fene::strict(),
            rna2::DebyeHuckel::new(1.0, 0.1).unwrap(),
            Some(&seq),
        )
        .unwrap();
        let mut acting = [false; 8];
        for model in [averaged, dependent] {
            assert_eq!(model.rna.as_ref().unwrap().handled, vec![true; 8]);
            for conf in &frames {
                let b = model.breakdown(conf).unwrap();
                for (k, (_, e)) in b.custom.iter().enumerate() {
                    acting[k] |= *e != 0.0;
                }
                let frame = Frame::new(conf);
                let candidates = super::pairs_within(&frame.r, &frame.bx, model.cutoff());
                let kernel = model.forces(conf).unwrap();
                let mut own = super::Forces::zeros(model.len());
                for t in &model.custom {
                    t.add_forces(&model.terms.geo, &frame, &model.bonded, &model.topology, &candidates, &mut own);
                }
                let scale = own.energy.abs().max(1.0);
                assert!((kernel.energy - own.energy).abs() < 1e-11 * scale, "{} vs {}", kernel.energy, own.energy);
                for i in 0..model.len() {
                    let (f, t) = (own.f[i], own.torque[i]);
                    assert!(
                        (kernel.f[i] - f).norm() < 1e-10 * f.norm().max(1.0),
                        "force {i}: {:?} vs {f:?}",
                        kernel.f[i]
                    );
                    assert!((kernel.torque[i] - t).norm() < 1e-10 * t.norm().max(1.0), "torque {i}");
                }
            }
        }
        assert_eq!(acting, [true; 8], "every term acts in some frame");
    }

    /// oxRNA2 forces are bit for bit the same on any number of threads (a duplex large enough
    /// for the parallel path).
    #[test]
    fn rna_forces_are_the_same_on_any_number_of_threads() {
        let (top, mut conf) = duplex(&"ACGUUGCAGU".repeat(30));
        for (i, r) in conf.r.iter_mut().enumerate() {
            let t = i as f64;
            *r += crate::geometry::Vec3::new((1.3 * t).sin(), 0.7 * (0.7 * t).cos(), 0.8 * (2.1 * t).sin()) * 0.02;
        }
        let model = crate::energy::rna2::model(&top, 0.1, 1.0).unwrap();
        let frame = Frame::new(&conf);
        let candidates = super::pairs_within(&frame.r, &frame.bx, model.cutoff());
        assert!(model.bonded_pairs().len() + candidates.len() > super::PARALLEL_PAIRS);
        let run = |threads: usize| {
            let mut out = super::Forces::zeros(model.len());
            let mut ws = super::ForceWorkspace::with_threads(threads).unwrap();
            let pool = ws.pool();
            match pool {
                // as the MD engine calls it: from inside the pool
                Some(pool) => pool.install(|| model.accumulate_forces_with(&frame, &candidates, &mut out, &mut ws)),
                None => model.accumulate_forces_with(&frame, &candidates, &mut out, &mut ws),
            }
            .unwrap();
            out
        };
        let one = run(1);
        for threads in [2, 3] {
            let other = run(threads);
            assert_eq!(one.energy.to_bits(), other.energy.to_bits(), "{threads} threads");
            for i in 0..model.len() {
                assert_eq!(one.f[i].0.map(f64::to_bits), other.f[i].0.map(f64::to_bits), "{threads} threads, {i}");
                assert_eq!(one.torque[i].0.map(f64::to_bits), other.torque[i].0.map(f64::to_bits));
            }
        }
    }

    /// Users' terms for the tests of the MD force path: sites, frames, branches (so the tape is
    /// recorded afresh where a pair takes the other branch), every operation of `Real`.
    mod user_terms {
        use crate::energy::terms::{Pair, Site};
        use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
        use crate::math::Real;
        use crate::system::{Base, Nucleotide};

        /// A Gaussian between the base site of p and the backbone site of q.
        #[derive(Debug)]
        pub struct Bump;
        impl EnergyTerm for Bump {
            fn name(&self) -> &str {
                "Bump"
            }
            fn params(&self) -> Vec<ParamSpec> {
                vec![ParamSpec::new("a_bump", 0.05, "", ""), ParamSpec::new("w_bump", 0.6, "", "")]
            }
            fn scope(&self) -> Scope {
                Scope::NonBonded { cutoff: 1.6 }
            }
            fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
                let r = pair.between(Site::Base, Site::Backbone);
                let w = p.get("w_bump");
                (-(r.dot(&r) / (w.clone() * w))).exp() * p.get("a_bump")
            }
        }

        /// Branches on the stacking-site distance, reads both frames, its own sites, a scale and
        /// a strength by bases, and every operation.
        #[derive(Debug)]
        pub struct Twisty;
        impl EnergyTerm for Twisty {
            fn name(&self) -> &str {
                "Twisty"
            }
            fn params(&self) -> Vec<ParamSpec> {
                vec![
                    ParamSpec::new("k_tw", 0.3, "", ""),
                    ParamSpec::new("r_tw", 1.1, "", ""),
                    ParamSpec::new("s_at", 1.5, "", ""),
                    ParamSpec::shared("kt"),
                ]
            }
            fn scope(&self) -> Scope {
                Scope::NonBonded { cutoff: 2.0 }
            }
            fn sites(&self) -> Option<SiteOffsets> {
                Some([[-0.4, 0.1, 0.05], [-0.4, 0.0, 0.0], [0.34, 0.0, -0.02], [0.4, 0.0, 0.0]])
            }
            fn acts_on(&self, p: (usize, &Nucleotide), q: (usize, &Nucleotide)) -> bool {
                !(p.0 + q.0).is_multiple_of(5)
            }
            fn pair_scale(&self, p: (usize, &Nucleotide), _q: (usize, &Nucleotide)) -> f64 {
                if p.0.is_multiple_of(2) {
                    0.5
                } else {
                    1.0
                }
            }
            fn pair_strength(&self, p: Base, q: Base) -> Option<&str> {
                (p == Base::A && q == Base::T).then_some("s_at")
            }
            fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
                let r = pair.between(Site::Stack, Site::Stack);
                let dist = r.norm();
                let cos = pair.a[2].dot(&pair.b[2]);
                let theta = cos.clone().acos_clamped();
                let k = p.get("k_tw") * (p.get("kt") * 10.0);
                let near = dist.lt(&p.get("r_tw"));
                let radial = T::choose(
                    &near,
                    || (dist.clone() - p.get("r_tw")).powi(2) * 2.0 + (dist.clone() + 1.0).ln(),
                    || (p.get("r_tw") + 1.0).ln() + (dist.clone() - p.get("r_tw")).abs() / (dist.clone() * 3.0),
                );
                let side = pair.d.dot(&pair.a[1]);
                let twist = (theta * 1.5).cos() + side.clone().abs().sqrt() * 0.1 + (r.dot(&r) + 1.0).recip()
                    - (side.clone() * side + 2.0) / (dist.clone() + 0.5);
                let flat = T::choose(&cos.le(&dist.cst(0.2)), || dist.cst(0.3), || twist.clone());
                k * radial * (twist + flat) * 0.01 - dist.cst(1.0) / (dist.clone() + 2.0)
            }
        }

        /// A FENE-like bond between stacking sites.
        #[derive(Debug)]
        pub struct Bond;
        impl EnergyTerm for Bond {
            fn name(&self) -> &str {
                "Bond"
            }
            fn params(&self) -> Vec<ParamSpec> {
                vec![ParamSpec::new("k_bond", 0.2, "", "")]
            }
            fn scope(&self) -> Scope {
                Scope::Bonded
            }
            fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
                let r = pair.between(Site::Stack, Site::Backbone1);
                let x = r.dot(&r) / 4.0;
                -((x * -1.0) + 1.0).ln() * p.get("k_bond")
            }
        }

        /// A spring on two chosen pairs, one named twice.
        #[derive(Debug)]
        pub struct Springs;
        impl EnergyTerm for Springs {
            fn name(&self) -> &str {
                "Springs"
            }
            fn params(&self) -> Vec<ParamSpec> {
                vec![ParamSpec::new("k_sp", 1.0, "", "")]
            }
            fn scope(&self) -> Scope {
                Scope::Pairs(vec![(0, 19), (7, 3), (0, 19)])
            }
            fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
                let s = pair.d.norm() - 1.0;
                s.clone() * s * p.get("k_sp")
            }
        }
    }

    /// A jittered duplex with the test terms of [`user_terms`].
    fn with_user_terms(seq: &str) -> (EnergyModel, crate::io::Configuration) {
        use crate::geometry::Vec3;
        let (top, mut conf) = duplex(seq);
        for i in 0..conf.r.len() {
            let t = i as f64;
            conf.r[i] += Vec3::new((1.3 * t).sin(), 0.7 * (0.7 * t).cos(), 0.8 * (2.1 * t).sin()) * 0.05;
            conf.a1[i] += Vec3::new((0.9 * t).cos(), (1.7 * t).sin(), 0.3) * 0.05;
            conf.a3[i] += Vec3::new((2.3 * t).sin(), 0.2, (0.4 * t).cos()) * 0.05;
        }
        let model = EnergyModel::new(&top, ParamSet::dna2_defaults())
            .unwrap()
            .with_term(user_terms::Bump, 1.0)
            .unwrap()
            .with_term(user_terms::Twisty, 0.7)
            .unwrap()
            .with_term(user_terms::Bond, 1.3)
            .unwrap()
            .with_term(user_terms::Springs, 1.0)
            .unwrap();
        (model, conf)
    }

    /// Users' terms' forces from the tape (recorded once, replayed in batches, recorded afresh
    /// where a pair branches otherwise) are those of one 9-direction dual-number evaluation per
    /// pair, and their energies those of the `f64` energy.
    #[test]
    fn users_terms_forces_from_the_tape_are_those_of_dual_numbers() {
        let (model, conf) = with_user_terms("ACGTTGCAATGCCGTAAGCTTGACCATGG");
        let frame = Frame::new(&conf);
        let candidates = super::pairs_within(&frame.r, &frame.bx, model.cutoff());
        let b = model.breakdown(&conf).unwrap();
        for t in &model.custom {
            let pairs = t.pairs(&frame, &model.bonded, &model.topology, &candidates);
            assert!(pairs.len() > 1, "{}: {} pairs", t.name, pairs.len());
            let (mut tape, mut jets) = (super::Forces::zeros(model.len()), super::Forces::zeros(model.len()));
            t.add_forces(&model.terms.geo, &frame, &model.bonded, &model.topology, &candidates, &mut tape);
            t.add_pair_forces_by_jets(&model.terms.geo, &frame, &pairs, &mut jets);
            let column = b.custom(&t.name).unwrap() * t.weight;
            let scale = jets.energy.abs().max(1e-3);
            assert!(
                (tape.energy - jets.energy).abs() < 1e-12 * scale,
                "{}: {} vs {}",
                t.name,
                tape.energy,
                jets.energy
            );
            assert!((tape.energy - column).abs() < 1e-12 * scale, "{}: {} vs {column}", t.name, tape.energy);
            let big = jets.f.iter().chain(&jets.torque).map(|v| v.norm()).fold(0.0, f64::max);
            assert!(big > 0.0, "{}", t.name);
            for i in 0..model.len() {
                assert!(
                    (tape.f[i] - jets.f[i]).norm() < 1e-10 * big,
                    "{} force {i}: {:?} vs {:?}",
                    t.name,
                    tape.f[i],
                    jets.f[i]
                );
                assert!(
                    (tape.torque[i] - jets.torque[i]).norm() < 1e-10 * big,
                    "{} torque {i}: {:?} vs {:?}",
                    t.name,
                    tape.torque[i],
                    jets.torque[i]
                );
            }
        }
    }

    /// With users' terms the forces are bit for bit the same on any number of threads.
    #[test]
    fn users_terms_forces_are_the_same_on_any_number_of_threads() {
        let (model, conf) = with_user_terms(&"ACGTTGCAATGCCGTAAGCT".repeat(12));
        let frame = Frame::new(&conf);
        let candidates = super::pairs_within(&frame.r, &frame.bx, model.cutoff());
        assert!(model.bonded_pairs().len() + candidates.len() > super::PARALLEL_PAIRS);
        let run = |threads: usize| {
            let mut out = super::Forces::zeros(model.len());
            let mut ws = super::ForceWorkspace::with_threads(threads).unwrap();
            match ws.pool() {
                Some(pool) => pool.install(|| model.accumulate_forces_with(&frame, &candidates, &mut out, &mut ws)),
                None => model.accumulate_forces_with(&frame, &candidates, &mut out, &mut ws),
            }
            .unwrap();
            out
        };
        let one = run(1);
        let energy = model.energy(&conf).unwrap();
        assert!((one.energy - energy).abs() < 1e-12 * energy.abs(), "{} vs {energy}", one.energy);
        for threads in [2, 3] {
            let other = run(threads);
            assert_eq!(one.energy.to_bits(), other.energy.to_bits(), "{threads} threads");
            for i in 0..model.len() {
                assert_eq!(one.f[i].0.map(f64::to_bits), other.f[i].0.map(f64::to_bits), "{threads} threads, {i}");
                assert_eq!(one.torque[i].0.map(f64::to_bits), other.torque[i].0.map(f64::to_bits));
            }
        }
    }
}
