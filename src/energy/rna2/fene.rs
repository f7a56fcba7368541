//! FENE backbone of oxRNA2, between bonded neighbours' backbone sites (−0.4 a1 + 0.2 a3):
//! V = −(ε/2) ln(1 − (r − r0)²/Δ²), ε = 2, r0 = 0.761070781051, Δ = 0.25. At |r − r0| ≥ Δ the
//! energy is not finite, so MD stops there with an error and `error_conf.dat`, as oxDNA does
//! (its RNA code returns 1e12). [`Fene::bounded`] instead continues past the stretch where the
//! force reaches `fmax` with a force falling to `finf` (oxDNA's `max_backbone_force`).

use super::specs;
use crate::energy::functions::ParamSource;
use crate::energy::terms::{energy, fene, Factors, Pair};
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
        energy(fene::SPEC, &self.factors(p), pair, &pair.d.x.cst(0.0))
    }
}

impl Fene {
    /// The factor of [`fene::SPEC`].
    pub(crate) fn factors<T: Real>(&self, p: &impl ParamSource<T>) -> FeneFactor<T> {
        if self.bounded {
            FeneFactor::Bounded(fene::Fene::new(p))
        } else {
            FeneFactor::Strict { eps: p.p("eps_backbone"), r0: p.p("r0_backbone"), delta: p.p("delta_backbone") }
        }
    }
}

/// FENE of the backbone distance, strict or bounded.
#[derive(Debug, Clone)]
pub(crate) enum FeneFactor<T> {
    /// −(ε/2) ln(1 − (r − r0)²/Δ²), not finite at |r − r0| ≥ Δ (the MD engine stops there).
    Strict { eps: T, r0: T, delta: T },
    /// [`fene::Fene`].
    Bounded(fene::Fene<T>),
}

impl<T: Real> Factors<T> for FeneFactor<T> {
    fn factor(&self, _: u8, r: &T, _: &T) -> T {
        match self {
            FeneFactor::Strict { eps, r0, delta } => {
                let x = r.clone() - r0.clone();
                -(eps.clone() * 0.5) * (-(x.clone() * x) / (delta.clone() * delta.clone()) + 1.0).ln()
            }
            FeneFactor::Bounded(f) => f.eval(r),
        }
    }
}
