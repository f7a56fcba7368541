//! FENE backbone of oxRNA2, between bonded neighbours' backbone sites (−0.4 a1 + 0.2 a3):
//! V = −(ε/2) ln(1 − (r − r0)²/Δ²), ε = 2, r0 = 0.761070781051, Δ = 0.25. At |r − r0| ≥ Δ the
//! energy is not finite, so MD stops there with an error and `error_conf.dat`, as oxDNA does
//! (its RNA code returns 1e12). [`Fene::bounded`] instead continues past the stretch where the
//! force reaches `fmax` with a force falling to `finf` (oxDNA's `max_backbone_force`).

use super::specs;
use crate::energy::terms::{energy, fene, Pair, Site};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::math::Real;

/// The oxRNA2 FENE term.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fene {
    bounded: bool,
}

impl Fene {
    /// FENE that diverges at |r − r0| = Δ (the default).
    #[must_use]
    pub fn strict() -> Fene {
        Fene { bounded: false }
    }

    /// FENE continued past the stretch where its force reaches `fmax` (`RnaFene.fmax`,
    /// `RnaFene.finf`), as oxDNA's `max_backbone_force`.
    #[must_use]
    pub fn bounded() -> Fene {
        Fene { bounded: true }
    }
}

impl EnergyTerm for Fene {
    fn name(&self) -> &str {
        "RnaFene"
    }
    fn sites(&self) -> Option<SiteOffsets> {
        Some(super::SITES)
    }
    fn params(&self) -> Vec<ParamSpec> {
        let mut p = specs(&[("eps_backbone", 2.0), ("r0_backbone", 0.761_070_781_051), ("delta_backbone", 0.25)]);
        p.extend(specs(&[("fmax", 500.0), ("finf", 4.0)]).into_iter().map(ParamSpec::extra));
        p
    }
    fn scope(&self) -> Scope {
        Scope::Bonded
    }
    fn settings(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("bounded".into(), self.bounded.into());
        t
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        if self.bounded {
            return energy(fene::SPEC, &fene::Fene::new(p), pair, &pair.d.x.cst(0.0));
        }
        let x = pair.between(Site::Backbone, Site::Backbone).norm() - p.get("r0_backbone");
        let delta = p.get("delta_backbone");
        // not finite at |x| ≥ Δ: the MD engine stops there
        -(p.get("eps_backbone") * 0.5) * (-(x.clone() * x) / (delta.clone() * delta) + 1.0).ln()
    }
}
