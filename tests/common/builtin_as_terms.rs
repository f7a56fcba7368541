//! Two built-in oxDNA terms written through the public term API ([`EnergyTerm`]): non-bonded
//! excluded volume (purely radial: four f3 factors of site distances) and hydrogen bonding (one
//! f1 and six angular f4 factors, a strength per base pair). They read the model's own
//! parameters ([`ParamSpec::shared`], one value each, gradients collected from both uses) and
//! evaluate the terms' own specs and factors (`terms::excluded_volume`,
//! `terms::hydrogen_bonding`), so they are the built-in terms, evaluated the users' way: forces
//! from one 9-direction dual number per pair instead of the hand-laid kernel.
//!
//! `tests/builtin_as_terms.rs` checks them against the built-in terms (energies, forces, parameter
//! gradients); `benches/builtin_via_term.rs` (which includes this file by path) measures what they
//! cost. They live here, not in the library: a second public way to evaluate a built-in term
//! would be one more thing to keep equal and to choose between, and their cut-offs are fixed
//! when they are built (the parameters' values then).

use oxgrad::energy::terms::{excluded_volume, hydrogen_bonding, Geometry, Pair};
use oxgrad::energy::{EnergyTerm, ParamSpec, Scope, TermParams};
use oxgrad::math::Real;
use oxgrad::params::ParamSet;
use oxgrad::system::{Base, Nucleotide};

/// The parameters of non-bonded excluded volume.
const EXCL: [&str; 9] = [
    "eps_exc",
    "sigma_base",
    "dr_star_base",
    "sigma_base_back",
    "dr_star_base_back",
    "sigma_back_base",
    "dr_star_back_base",
    "sigma_backbone",
    "dr_star_backbone",
];

/// The centre distance beyond which a term whose sites interact up to `reach` vanishes: the
/// model's rule (`EnergyModel::cutoff`), the reach plus twice the farthest site.
fn centre_cutoff(params: &ParamSet, reach: f64) -> f64 {
    reach + 2.0 * Geometry::<f64>::new(params, params.model()).max_offset()
}

/// The built-in non-bonded excluded volume as a user's term.
#[derive(Debug, Clone)]
pub struct ExcludedVolumeTerm {
    cutoff: f64,
}

impl ExcludedVolumeTerm {
    /// With the cut-off of `params`' values.
    pub fn new(params: &ParamSet) -> ExcludedVolumeTerm {
        let reach = excluded_volume::ExcludedVolume::new(params).cutoffs().into_iter().fold(0.0, f64::max);
        ExcludedVolumeTerm { cutoff: centre_cutoff(params, reach) }
    }
}

impl EnergyTerm for ExcludedVolumeTerm {
    fn name(&self) -> &str {
        "ExcludedVolumeAsTerm"
    }
    fn params(&self) -> Vec<ParamSpec> {
        EXCL.into_iter().map(ParamSpec::shared).collect()
    }
    fn scope(&self) -> Scope {
        Scope::NonBonded { cutoff: self.cutoff }
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        excluded_volume::energy_within_reach(p, pair, excluded_volume::NONBONDED)
    }
}

/// The built-in hydrogen bonding as a user's term: complementary pairs only, strength `eps_hb`
/// or, sequence-dependent, `ss_hb_weights_A_T` and `ss_hb_weights_C_G` by the pair's bases.
#[derive(Debug, Clone)]
pub struct HydrogenBondingTerm {
    cutoff: f64,
    sequence_dependent: bool,
}

impl HydrogenBondingTerm {
    /// With the cut-off of `params`' values, sequence-dependent as `params` are.
    pub fn new(params: &ParamSet) -> HydrogenBondingTerm {
        let reach = hydrogen_bonding::HydrogenBonding::new(params).support().1;
        HydrogenBondingTerm { cutoff: centre_cutoff(params, reach), sequence_dependent: params.is_sequence_dependent() }
    }
}

/// Watson–Crick: A–T or C–G (base indices A 0, C 1, G 2, T 3).
fn complementary(p: Base, q: Base) -> bool {
    p.index() + q.index() == 3 && p != Base::U && q != Base::U
}

impl EnergyTerm for HydrogenBondingTerm {
    fn name(&self) -> &str {
        "HydrogenBondingAsTerm"
    }
    fn params(&self) -> Vec<ParamSpec> {
        let strengths: &[&str] =
            if self.sequence_dependent { &["ss_hb_weights_A_T", "ss_hb_weights_C_G"] } else { &["eps_hb"] };
        let radial = ["a_hb", "dr0_hb", "dr_c_hb", "dr_low_hb", "dr_high_hb"].map(String::from);
        let angular = [1, 2, 3, 4, 7, 8]
            .into_iter()
            .flat_map(|k| ["a_hb", "theta0_hb", "delta_theta_star_hb"].map(|x| format!("{x}_{k}")));
        strengths.iter().map(|s| s.to_string()).chain(radial).chain(angular).map(ParamSpec::shared).collect()
    }
    fn scope(&self) -> Scope {
        Scope::NonBonded { cutoff: self.cutoff }
    }
    fn acts_on(&self, p: (usize, &Nucleotide), q: (usize, &Nucleotide)) -> bool {
        complementary(p.1.base, q.1.base)
    }
    fn pair_strength(&self, p: Base, q: Base) -> Option<&str> {
        let at = p == Base::A || p == Base::T;
        (self.sequence_dependent && complementary(p, q)).then_some(if at {
            "ss_hb_weights_A_T"
        } else {
            "ss_hb_weights_C_G"
        })
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        // sequence-dependent: the strength multiplies the energy (`pair_strength`)
        let eps = if self.sequence_dependent { pair.d.x.cst(1.0) } else { p.get("eps_hb") };
        hydrogen_bonding::energy_within_reach(p, pair, &eps)
    }
}
