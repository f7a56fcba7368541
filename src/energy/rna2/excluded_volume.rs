//! Excluded volume of oxRNA2: the repulsive f3 between base sites (σ 0.33, r* 0.32), between a
//! base and a backbone site (σ 0.515, r* 0.50, both ways) and, between non-bonded nucleotides,
//! between backbone sites (σ 0.70, r* 0.675); ε = 2. The RNA backbone site is −0.4 a1 + 0.2 a3.

use super::specs;
use crate::energy::terms::{excluded_volume, Pair};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::math::Real;

/// Bonded or non-bonded excluded volume.
#[derive(Debug, Clone, Copy)]
pub struct ExcludedVolume {
    bonded: bool,
}

impl ExcludedVolume {
    /// Between bonded neighbours (no backbone–backbone pair).
    #[must_use]
    pub fn bonded() -> ExcludedVolume {
        ExcludedVolume { bonded: true }
    }

    /// Between every other pair.
    #[must_use]
    pub fn nonbonded() -> ExcludedVolume {
        ExcludedVolume { bonded: false }
    }
}

impl EnergyTerm for ExcludedVolume {
    fn name(&self) -> &str {
        if self.bonded {
            "RnaBondedExcludedVolume"
        } else {
            "RnaNonbondedExcludedVolume"
        }
    }
    fn sites(&self) -> Option<SiteOffsets> {
        Some(super::SITES)
    }
    fn params(&self) -> Vec<ParamSpec> {
        specs(&[
            ("eps_exc", 2.0),
            ("sigma_base", 0.33),
            ("dr_star_base", 0.32),
            ("sigma_base_back", 0.515),
            ("dr_star_base_back", 0.50),
            ("sigma_back_base", 0.515),
            ("dr_star_back_base", 0.50),
            ("sigma_backbone", 0.70),
            ("dr_star_backbone", 0.675),
        ])
    }
    fn scope(&self) -> Scope {
        // sites reach 0.45 from the centre and f3 at most 0.72
        if self.bonded {
            Scope::Bonded
        } else {
            Scope::NonBonded { cutoff: 2.0 }
        }
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let spec = if self.bonded { excluded_volume::BONDED } else { excluded_volume::NONBONDED };
        excluded_volume::energy_within_reach(p, pair, spec)
    }
}
