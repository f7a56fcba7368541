//! oxRNA2 (Šulc et al. 2014, J. Chem. Phys. 140, 235102; salt dependence: Matek et al. 2015,
//! J. Chem. Phys. 143, 243122), sequence-averaged and sequence-dependent, written entirely through the public
//! user-term API ([`super::EnergyTerm`]): each of its eight terms is a user's term in a file of
//! its own, so the model family gets energies, MD forces and torques, parameter gradients and
//! `map` batching exactly as any user's term does. [`model`] composes them.
//!
//! Interaction sites of a nucleotide with frame (a1, a2, a3), offsets from its centre
//! (oxDNA simulation units):
//!
//! ```text
//! backbone  −0.4 a1 + 0.2 a3        stack (coaxial)  0.34 a1        base  0.4 a1
//! stack_3    0.4 a1 + 0.1 a2        stack_5          0.124906078525 a1 − 0.00866274917473 a2
//! p3 = −0.462510 a1 − 0.528218 a2 + 0.712089 a3      p5 = −0.104402 a1 − 0.841783 a2 + 0.529624 a3
//! ```
//!
//! Bonded pairs are (p, q = n3(p)) with d = r_q − r_p (minimum image), as for oxDNA. The terms
//! reuse the crate's generic factors (f1…f5, [`super::functions`]) and, where the geometry is
//! oxDNA's with other sites, the built-in specs (excluded volume, H-bonding, coaxial stacking,
//! FENE, Debye–Hückel) evaluated on a pair whose site slots hold the RNA sites.
//!
//! **Accuracy against oxDNA.** oxDNA evaluates every RNA2 factor exactly except the six angular
//! factors of hydrogen bonding, which it interpolates from tables (a cubic Hermite mesh on cos θ);
//! there is no table-free RNA2 in oxDNA. Here every factor is exact, so hydrogen bonding differs
//! from oxDNA by up to about 1e-5 per nucleotide on MD frames (1.5e-6 to 1.1e-5) and 3e-5 on
//! jittered ones, and the other seven terms agree to about 1e-7 (oxDNA stores its RNA constants
//! in single precision; 2e-6 relative where jittered frames overlap). `tests/rna2.rs` checks them
//! against `rna2-avg-12bp-T300-salt1.0` and against `extra-rna2-avg-nicked-jittered-12bp-T300-salt1.0`
//! (a nick and jittered frames: coaxial stacking, excluded volume, half charges).
//!
//! **MD forces.** Each term's energy is a spec of (feature, factor) with its factors (the DNA
//! terms' where the form is oxDNA's: excluded volume, H-bonding, coaxial stacking, Debye–Hückel,
//! FENE; its own for stacking and cross-stacking, `stacking::SPEC` and `cross_stacking::SPEC`).
//! The MD force kernel recognises these eight terms in a model and evaluates the same specs and
//! factors as it does the DNA terms' (factors built once per parameter set, separations shared,
//! radial checks on squared distances), instead of the users'-term route (a recorded tape replayed per
//! pair; one 9-direction dual number per pair when this was measured); a unit test holds the two routes equal on the reference frames. oxRNA2 MD is
//! then 1.2–1.6 times oxDNA's speed (BENCHMARKS.md; it was 12 times slower). Energies, parameter
//! gradients and Monte Carlo still evaluate the terms through the users'-term API.
//!
//! **Sequence dependence** ([`SequenceDependence`], oxDNA's `use_average_seq = false`): stacking,
//! H-bonding (with the G–U wobble pair) and cross-stacking take a strength per base step or pair,
//! each a trainable parameter that multiplies the energy of the pairs of its bases
//! ([`super::EnergyTerm::pair_strength`]). `tests/rna2.rs` checks it against oxDNA on
//! `extra-rna2-seqdep-wobble-jittered-12bp-T300-salt1.0` (made-up asymmetric tables, G–U pairs).
//!
//! Not here: oxDNA's optional mismatch repulsion (off by default there).

pub(crate) mod coaxial_stacking;
pub(crate) mod cross_stacking;
pub(crate) mod debye;
pub(crate) mod excluded_volume;
pub(crate) mod fene;
pub(crate) mod hydrogen_bonding;
mod sequence;
pub(crate) mod stacking;

pub use coaxial_stacking::CoaxialStacking;
pub use cross_stacking::CrossStacking;
pub use debye::DebyeHuckel;
pub use excluded_volume::ExcludedVolume;
pub use fene::Fene;
pub use hydrogen_bonding::HydrogenBonding;
pub use sequence::SequenceDependence;
pub use stacking::Stacking;

use super::{EnergyModel, ParamSpec, TermId, TermRegistry};
use crate::error::Result;
use crate::params::ParamSet;
use crate::system::Topology;

/// The oxRNA2 model of `topology` at temperature `kt` (simulation units) and salt concentration
/// `salt` (mol/L), half charges at strand ends: the eight terms, in oxDNA's order, on a model
/// whose built-in (DNA) terms are switched off. The DNA parameters stay in the parameter set,
/// unused; the RNA ones are under `[custom.RnaFene]` … (qualified as `RnaStacking.a_stack` where
/// a DNA parameter has the same name). The temperature is the shared `kt`; the salt is a
/// setting of the Debye–Hückel term (its cut-off depends on it).
pub fn model(topology: &Topology, kt: f64, salt: f64) -> Result<EnergyModel> {
    model_with(topology, kt, Fene::strict(), DebyeHuckel::new(salt, kt)?, None)
}

/// [`model`] with FENE and Debye–Hückel terms of other settings ([`Fene::bounded`],
/// [`DebyeHuckel::half_charged_ends`]), and sequence-dependent strengths when `sequence` is given.
pub fn model_with(
    topology: &Topology,
    kt: f64,
    fene: Fene,
    debye: DebyeHuckel,
    sequence: Option<&SequenceDependence>,
) -> Result<EnergyModel> {
    let mut base = ParamSet::dna1_defaults();
    base.set("kt", kt)?;
    let m = EnergyModel::new(topology, base)?.without_terms(&TermId::ALL);
    if let Some(s) = sequence {
        s.check()?;
    }
    let (stacking, hb, cross) = match sequence {
        None => (Stacking::default(), HydrogenBonding::default(), CrossStacking::default()),
        Some(s) => (
            Stacking::sequence_dependent(s),
            HydrogenBonding::sequence_dependent(s),
            CrossStacking::sequence_dependent(s),
        ),
    };
    m.with_term(fene, 1.0)?
        .with_term(ExcludedVolume::bonded(), 1.0)?
        .with_term(stacking, 1.0)?
        .with_term(ExcludedVolume::nonbonded(), 1.0)?
        .with_term(hb, 1.0)?
        .with_term(cross, 1.0)?
        .with_term(CoaxialStacking, 1.0)?
        .with_term(debye, 1.0)
}

/// The parameters of the oxRNA2 model at temperature `kt` and salt `salt` (sequence-dependent
/// with `sequence`): every term's parameters with their defaults, as [`model_with`]'s model has
/// them for any topology (for training configurations and parameter files).
pub fn parameters(kt: f64, salt: f64, sequence: Option<&SequenceDependence>) -> Result<ParamSet> {
    use crate::generate::{helix, Shape};
    use crate::system::{Base, TopologyFormat};
    let (top, _) = helix(&[Base::A, Base::U], Shape::Strand, None, TopologyFormat::Classic)?;
    Ok(model_with(&top, kt, Fene::strict(), DebyeHuckel::new(salt, kt)?, sequence)?.params().clone())
}

/// The setting that marks a sequence-dependent term in a model file (its strengths are among the
/// file's parameters).
fn sequence_setting(dependent: bool) -> toml::Table {
    let mut t = toml::Table::new();
    if dependent {
        t.insert("sequence_dependent".into(), true.into());
    }
    t
}

/// A term's settings in a model file: only the names in `known`, each checked by its reader
/// (an unknown or misspelt setting is an error, not ignored).
fn settings_of(term: &str, t: &toml::Table, known: &[&str]) -> Result<()> {
    match t.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(crate::error::Error::invalid(
            format!("{term} setting"),
            format!("'{k}'"),
            if known.is_empty() {
                format!("{term} has no settings")
            } else {
                format!("{term}'s settings are {}", known.join(", "))
            },
        )),
    }
}

/// A boolean setting (`default` when absent).
fn flag(term: &str, t: &toml::Table, k: &str, default: bool) -> Result<bool> {
    t.get(k).map_or(Ok(default), |v| {
        v.as_bool().ok_or_else(|| crate::error::Error::invalid(format!("{term} setting '{k}'"), v, "true or false"))
    })
}

/// A number setting (required).
fn number(term: &str, t: &toml::Table, k: &str) -> Result<f64> {
    t.get(k).and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64))).ok_or_else(|| {
        crate::error::Error::invalid(
            format!("{term} setting '{k}'"),
            t.get(k).map_or("nothing".to_string(), ToString::to_string),
            "a number",
        )
    })
}

/// Whether a term's settings mark it sequence-dependent.
fn dependent(term: &str, t: &toml::Table) -> Result<bool> {
    settings_of(term, t, &["sequence_dependent"])?;
    flag(term, t, "sequence_dependent", false)
}

/// The constructors of the eight terms, for reading a saved oxRNA2 model
/// ([`EnergyModel::read`]); add your own terms to it with [`TermRegistry::register`]. Settings
/// are read strictly: an unknown one, or a value of the wrong kind, is an error.
#[must_use]
pub fn registry() -> TermRegistry {
    let uniform = SequenceDependence::uniform;
    TermRegistry::new()
        .register("RnaFene", |t| {
            settings_of("RnaFene", t, &["bounded"])?;
            Ok(if flag("RnaFene", t, "bounded", false)? { Fene::bounded() } else { Fene::strict() })
        })
        .register("RnaBondedExcludedVolume", |t| {
            settings_of("RnaBondedExcludedVolume", t, &[]).map(|()| ExcludedVolume::bonded())
        })
        // a sequence-dependent term starts from uniform strengths; the file's parameters follow
        .register("RnaStacking", move |t| {
            Ok(if dependent("RnaStacking", t)? {
                Stacking::sequence_dependent(&uniform())
            } else {
                Stacking::default()
            })
        })
        .register("RnaNonbondedExcludedVolume", |t| {
            settings_of("RnaNonbondedExcludedVolume", t, &[]).map(|()| ExcludedVolume::nonbonded())
        })
        .register("RnaHydrogenBonding", move |t| {
            Ok(if dependent("RnaHydrogenBonding", t)? {
                HydrogenBonding::sequence_dependent(&uniform())
            } else {
                HydrogenBonding::default()
            })
        })
        .register("RnaCrossStacking", move |t| {
            Ok(if dependent("RnaCrossStacking", t)? {
                CrossStacking::sequence_dependent(&uniform())
            } else {
                CrossStacking::default()
            })
        })
        .register("RnaCoaxialStacking", |t| settings_of("RnaCoaxialStacking", t, &[]).map(|()| CoaxialStacking))
        .register("RnaDebyeHuckel", |t| {
            let term = "RnaDebyeHuckel";
            settings_of(term, t, &["salt", "kt", "half_charged_ends"])?;
            Ok(DebyeHuckel::new(number(term, t, "salt")?, number(term, t, "kt")?)?.half_charged_ends(flag(
                term,
                t,
                "half_charged_ends",
                true,
            )?))
        })
}

/// oxDNA's split-energy column of each term, in order (for `oxgrad energy`).
pub const HEADERS: [(&str, &str); 8] = [
    ("RnaFene", "FENE"),
    ("RnaBondedExcludedVolume", "BONDED_EXCL_VOL"),
    ("RnaStacking", "STACKING"),
    ("RnaNonbondedExcludedVolume", "NONBONDED_EXCL_VOL"),
    ("RnaHydrogenBonding", "HYDROGEN_BONDING"),
    ("RnaCrossStacking", "CROSS_STACKING"),
    ("RnaCoaxialStacking", "COAXIAL_STACKING"),
    ("RnaDebyeHuckel", "DEBYE_HUCKEL"),
];

/// The RNA sites in the slots of [`crate::energy::terms::Site`]: backbone (in both backbone
/// slots), the coaxial stacking site, the base ([`super::EnergyTerm::sites`]).
pub(crate) const SITES: super::SiteOffsets = [[-0.4, 0.0, 0.2], [-0.4, 0.0, 0.2], [0.34, 0.0, 0.0], [0.4, 0.0, 0.0]];

/// An oxRNA2 parameter with its default.
fn spec(name: impl Into<String>, default: f64) -> ParamSpec {
    ParamSpec::new(name, default, "oxDNA units", "oxRNA2")
}

/// `ParamSpec`s from (name, default) lists.
fn specs(list: &[(&str, f64)]) -> Vec<ParamSpec> {
    list.iter().map(|(n, v)| spec(*n, *v)).collect()
}

/// The f4 parameters (`a_X_k`, `theta0_X_k`, `delta_theta_star_X_k`) of each angle
/// (k, a, θ0, Δθ*) of factor group `x`.
fn angle_specs(x: &str, angles: &[(u8, f64, f64, f64)]) -> Vec<ParamSpec> {
    angles
        .iter()
        .flat_map(|&(k, a, theta0, star)| {
            [
                spec(format!("a_{x}_{k}"), a),
                spec(format!("theta0_{x}_{k}"), theta0),
                spec(format!("delta_theta_star_{x}_{k}"), star),
            ]
        })
        .collect()
}
