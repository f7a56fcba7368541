//! Coaxial stacking of oxRNA2: oxDNA1's form (the 2π − θ1 image and both φ factors, no f6)
//! between the stacking sites 0.34 a1, with φ3, φ4 measured about the RNA backbone sites
//! (−0.4 a1 + 0.2 a3, so cos φ3 ≠ cos φ4 in general):
//!
//! ```text
//! V = f2(r) [f4(θ1) + f4(2π − θ1)] f4(θ4) [f4(θ5) + f4(π − θ5)] [f4(θ6) + f4(π − θ6)] f5(cos φ3) f5(cos φ4)
//! ```
//!
//! f2: K 80, r0 0.5, rc 0.6, r_low 0.42, r_high 0.58; (a, θ0, Δθ*) = (2, 2.592, 0.65) for θ1,
//! (1.3, 0.151, 0.8) for θ4, (0.9, 0.685, 0.95) for θ5, θ6; f5: a 2, x* −0.65.

use super::{angle_specs, specs};
use crate::energy::functions::F2;
use crate::energy::terms::{coaxial_stacking, energy, Pair, Site};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::math::Real;
use crate::params::ModelKind;

/// The oxRNA2 coaxial-stacking term.
#[derive(Debug, Clone, Copy)]
pub struct CoaxialStacking;

impl EnergyTerm for CoaxialStacking {
    fn name(&self) -> &str {
        "RnaCoaxialStacking"
    }
    fn sites(&self) -> Option<SiteOffsets> {
        Some(super::SITES)
    }
    fn params(&self) -> Vec<ParamSpec> {
        let mut p = specs(&[
            ("k_coax", 80.0),
            ("dr0_coax", 0.5),
            ("dr_c_coax", 0.6),
            ("dr_low_coax", 0.42),
            ("dr_high_coax", 0.58),
            ("a_coax_3p", 2.0),
            ("cos_phi3_star_coax", -0.65),
            ("a_coax_4p", 2.0),
            ("cos_phi4_star_coax", -0.65),
        ]);
        p.extend(angle_specs(
            "coax",
            &[(1, 2.0, 2.592, 0.65), (4, 1.3, 0.151, 0.8), (5, 0.9, 0.685, 0.95), (6, 0.9, 0.685, 0.95)],
        ));
        p
    }
    fn scope(&self) -> Scope {
        // stacking sites 0.34 from the centre, f2 zero beyond 0.625
        Scope::NonBonded { cutoff: 2.0 }
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let radial = F2::new(p, "k_coax", "dr0_coax", "dr_c_coax", "dr_low_coax", "dr_high_coax");
        if radial.eval(&pair.between(Site::Stack, Site::Stack).norm()).is_zero() {
            return pair.d.x.cst(0.0);
        }
        let term = coaxial_stacking::CoaxialStacking::new(p, ModelKind::Dna1);
        energy(term.spec(), &term, pair, &pair.d.x.cst(0.0))
    }
}
