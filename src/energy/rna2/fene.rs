//! FENE backbone of oxRNA2, between bonded neighbours' backbone sites (−0.4 a1 + 0.2 a3):
//! V = −(ε/2) ln(1 − (r − r0)²/Δ²), ε = 2, r0 = 0.761070781051, Δ = 0.25. Beyond the stretch
//! where the force reaches `fmax` the energy continues with a bounded force, as oxgrad's DNA FENE
//! does (oxDNA's RNA code returns 1e12 there).

use super::{rna_pair, specs};
use crate::energy::terms::{energy, fene, Pair};
use crate::energy::{EnergyTerm, ParamSpec, Scope, TermParams};
use crate::math::Real;

/// The oxRNA2 FENE term.
#[derive(Debug, Clone, Copy)]
pub struct Fene;

impl EnergyTerm for Fene {
    fn name(&self) -> &str {
        "RnaFene"
    }
    fn params(&self) -> Vec<ParamSpec> {
        let mut p = specs(&[("eps_backbone", 2.0), ("r0_backbone", 0.761_070_781_051), ("delta_backbone", 0.25)]);
        p.extend(specs(&[("fmax", 500.0), ("finf", 4.0)]).into_iter().map(ParamSpec::extra));
        p
    }
    fn scope(&self) -> Scope {
        Scope::Bonded
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        energy(fene::SPEC, &fene::Fene::new(p), &rna_pair(pair), &pair.d.x.cst(0.0))
    }
}
