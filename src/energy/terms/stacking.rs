//! Stacking between bonded neighbours (Ouldridge et al. 2011; `spec/oxdna-model.md` §4.3).
//!
//! For the bonded pair p (5' side), q = n3(p):
//!
//! ```text
//! V = f1(r_st; ε_st(s_q, s_p)) f4(θ4) f4(θ5) f4(θ6) f5(cos φ1) f5(cos φ2)
//! cos θ4 = a3·b3,  cos θ5 = −a3·r̂_st,  cos θ6 = −b3·r̂_st,
//! cos φ_a = a2·r̂_b1,  cos φ_b = b2·r̂_b1
//! ```
//!
//! r_st joins the stacking sites, r_b1 the oxDNA1 backbone sites (in both models). As in mythos,
//! the `*_1` φ parameters (`a_stack_1`, `neg_cos_phi1_star_stack`) modulate b2 (the 3'-side
//! nucleotide) and `*_2` modulate a2. ε_st is supplied per pair (averaged or sequence-dependent).

use super::{unit, Pair, Site};
use crate::energy::functions::{ParamSource, F1, F4, F5};
use crate::math::Real;

/// Stacking parameters.
#[derive(Debug, Clone)]
pub struct Stacking<T> {
    f1: F1<T>,
    t4: F4<T>,
    t5: F4<T>,
    t6: F4<T>,
    phi1: F5<T>,
    phi2: F5<T>,
}

impl<T: Real> Stacking<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        Stacking {
            f1: F1::new(src, "stack"),
            t4: F4::new(src, "stack", 4),
            t5: F4::new(src, "stack", 5),
            t6: F4::new(src, "stack", 6),
            phi1: F5::new(src, "a_stack_1", "neg_cos_phi1_star_stack"),
            phi2: F5::new(src, "a_stack_2", "neg_cos_phi2_star_stack"),
        }
    }

    /// Energy of one bonded pair with strength `eps`.
    pub fn energy(&self, pair: &Pair<T>, eps: &T) -> T {
        let (rhat, r) = unit(&pair.between(Site::Stack, Site::Stack));
        let radial = self.f1.eval(&r, eps);
        if radial.is_zero() {
            return radial;
        }
        let (rb1, _) = unit(&pair.between(Site::Backbone1, Site::Backbone1));
        let [_, a2, a3] = &pair.a;
        let [_, b2, b3] = &pair.b;
        radial
            * self.t4.eval(&a3.dot(b3).acos_clamped())
            * self.t5.eval(&(-a3.dot(&rhat)).acos_clamped())
            * self.t6.eval(&(-b3.dot(&rhat)).acos_clamped())
            * self.phi1.eval(&b2.dot(&rb1))
            * self.phi2.eval(&a2.dot(&rb1))
    }
}
