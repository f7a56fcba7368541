//! Hydrogen bonding of oxRNA2, between the base sites (0.4 a1) of Watson–Crick pairs (A–U, G–C;
//! the sequence-averaged model has no G–U wobble): the DNA form, V = f1(r; ε_HB) f4(θ1) f4(θ2)
//! f4(θ3) f4(θ4) f4(θ7) f4(θ8), with ε_HB = 0.870439, f1 a 8, r0 0.4, rc 0.75, r_low 0.34,
//! r_high 0.70, and (a, θ0, Δθ*) = (1.5, 0, 0.7) for θ1–θ3, (0.46, π, 0.7) for θ4, (4, π/2, 0.45)
//! for θ7, θ8. oxDNA tabulates these six angular factors; here they are exact (module docs).
//! The sequence-dependent model has a strength per pair, `hydr_A_U`, `hydr_C_G` and `hydr_G_U`
//! (the G–U wobble pair bonds only there).

use super::sequence::{hb_pair, HB_NAMES};
use super::{angle_specs, spec, specs, SequenceDependence};
use crate::energy::functions::ParamSource;
use crate::energy::terms::{hydrogen_bonding, Pair};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::math::Real;
use crate::system::{Base, Nucleotide};
use std::f64::consts::PI;

/// The oxRNA2 hydrogen-bonding term, sequence-averaged ([`HydrogenBonding::default`]) or with a
/// strength per base pair ([`HydrogenBonding::sequence_dependent`]).
#[derive(Debug, Clone, Default)]
pub struct HydrogenBonding {
    /// The strengths of A–U, G–C and G–U, when sequence-dependent.
    sequence: Option<[f64; 3]>,
}

impl HydrogenBonding {
    /// With the H-bonding strengths of `s` (and the G–U wobble pair).
    #[must_use]
    pub fn sequence_dependent(s: &SequenceDependence) -> HydrogenBonding {
        HydrogenBonding { sequence: Some(s.hb) }
    }
}

impl EnergyTerm for HydrogenBonding {
    fn name(&self) -> &str {
        "RnaHydrogenBonding"
    }
    fn sites(&self) -> Option<SiteOffsets> {
        Some(super::SITES)
    }
    fn settings(&self) -> toml::Table {
        super::sequence_setting(self.sequence.is_some())
    }
    fn params(&self) -> Vec<ParamSpec> {
        let mut p = match &self.sequence {
            None => specs(&[("eps_hb", 0.870_439)]),
            Some(hb) => HB_NAMES.iter().zip(hb).map(|(n, v)| spec(*n, *v)).collect(),
        };
        p.extend(specs(&[
            ("a_hb", 8.0),
            ("dr0_hb", 0.4),
            ("dr_c_hb", 0.75),
            ("dr_low_hb", 0.34),
            ("dr_high_hb", 0.70),
        ]));
        p.extend(angle_specs(
            "hb",
            &[
                (1, 1.5, 0.0, 0.7),
                (2, 1.5, 0.0, 0.7),
                (3, 1.5, 0.0, 0.7),
                (4, 0.46, PI, 0.7),
                (7, 4.0, PI / 2.0, 0.45),
                (8, 4.0, PI / 2.0, 0.45),
            ],
        ));
        p
    }
    fn scope(&self) -> Scope {
        // base sites 0.4 from the centre, f1 zero beyond 0.784
        Scope::NonBonded { cutoff: 2.0 }
    }
    fn acts_on(&self, p: (usize, &Nucleotide), q: (usize, &Nucleotide)) -> bool {
        hb_pair(p.1.base, q.1.base, self.sequence.is_some()).is_some()
    }
    fn pair_strength(&self, p: Base, q: Base) -> Option<&str> {
        self.sequence.and(hb_pair(p, q, true)).map(|k| HB_NAMES[k])
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        hydrogen_bonding::energy_within_reach(p, pair, &self.eps(p, &pair.d.x))
    }
}

impl HydrogenBonding {
    /// The strength in f1: `eps_hb`, or 1 when sequence-dependent (the pair's `hydr_X_Y`
    /// multiplies the energy). `like` gives the number type.
    pub(crate) fn eps<T: Real>(&self, p: &impl ParamSource<T>, like: &T) -> T {
        match self.sequence {
            None => p.p("eps_hb"),
            Some(_) => like.cst(1.0),
        }
    }
}
