//! Debye–Hückel electrostatics (oxDNA2, non-bonded; Snodin et al. 2015):
//!
//! ```text
//! V = χ_p χ_q · { A e^{−r/λ}/r  (r < r_high);  B (r − r_c)²  (r_high ≤ r < r_c);  0 }
//! λ = λ0 √(kT/0.1) / √I,   r_high = 3λ,   A = prefactor_coeff · q_eff²
//! ```
//!
//! r joins the (grooved) backbone sites; χ = ½ at strand ends with half-charged ends, else 1.
//! `lambda_factor` = λ0 (0.3616455 at 300 K, 1 M), salt I in molar. mythos' default A is 0.0542925,
//! 0.014 % below oxDNA's 0.0543.

use super::{Factors, Feature, Site, Spec};
use crate::energy::functions::ParamSource;
use crate::math::Real;
use crate::params::smoothing::debye;

/// The term: one factor of the backbone distance, times the charge product.
pub const SPEC: Spec = &[&[(Feature::Dist(Site::Backbone, Site::Backbone), 0)]];

/// Debye–Hückel constants, derived from `lambda_factor`, `prefactor_coeff`, `q_eff`, `kt`, `salt_conc`.
#[derive(Debug, Clone)]
pub struct Debye<T> {
    kappa: T,
    r_high: T,
    a: T,
    b: T,
    rc: T,
}

impl<T: Real> Debye<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        let [_, kappa, r_high, a, b, rc] =
            debye(src.p("lambda_factor"), src.p("prefactor_coeff"), src.p("q_eff"), src.p("kt"), src.p("salt_conc"));
        Debye { kappa, r_high, a, b, rc }
    }

    /// The cut-off between backbone sites.
    pub fn cutoff(&self) -> T {
        self.rc.clone()
    }
}

impl<T: Real> Factors<T> for Debye<T> {
    /// V(r) times `chi`, the charge product χ_p χ_q.
    fn factor(&self, _: u8, r: &T, chi: &T) -> T {
        let inside = r.lt(&self.rc);
        if !T::any(&inside) {
            return r.cst(0.0);
        }
        let near = r.lt(&self.r_high);
        let v = T::choose(
            &near,
            || self.a.clone() * (-(self.kappa.clone() * r.clone())).exp() / r.clone(),
            || {
                let d = r.clone() - self.rc.clone();
                T::choose(&inside, || self.b.clone() * d.clone() * d.clone(), || r.cst(0.0))
            },
        );
        v * chi.clone()
    }
}
