//! Stacking between bonded neighbours (Ouldridge et al. 2011).
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

use super::{Axis, Factors, Feature, Site, Spec};
use crate::energy::functions::{ParamSource, F1, F4, F5};
use crate::math::Real;

use Site::{Backbone1 as B1, Stack as St};

/// The term: radial factor first, then θ4, θ5, θ6, φ (b2), φ (a2).
pub const SPEC: Spec = &[&[
    (Feature::Dist(St, St), 0),
    (Feature::FrameDot(2, 2, 1.0), 1),
    (Feature::AxisOnSep(Axis::P(2), St, St, -1.0), 2),
    (Feature::AxisOnSep(Axis::Q(2), St, St, -1.0), 3),
    (Feature::AxisOnSep(Axis::Q(1), B1, B1, 1.0), 4),
    (Feature::AxisOnSep(Axis::P(1), B1, B1, 1.0), 5),
]];

/// Stacking parameters.
#[derive(Debug, Clone)]
pub struct Stacking<T> {
    f1: F1<T>,
    t: [F4<T>; 3],
    phi: [F5<T>; 2],
}

impl<T: Real> Stacking<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        Stacking {
            f1: F1::new(src, "stack"),
            t: [4, 5, 6].map(|k| F4::new(src, "stack", k)),
            phi: [
                F5::new(src, "a_stack_1", "neg_cos_phi1_star_stack"),
                F5::new(src, "a_stack_2", "neg_cos_phi2_star_stack"),
            ],
        }
    }
}

impl<T: Real> Stacking<T> {
    /// Range of stacking-site separations where the term can be non-zero.
    pub fn support(&self) -> (T, T) {
        self.f1.support()
    }
}

impl<T: Real> Factors<T> for Stacking<T> {
    fn factor(&self, k: u8, s: &T, eps: &T) -> T {
        match k {
            0 => self.f1.eval(s, eps),
            1..=3 => self.t[k as usize - 1].eval_cos(s),
            _ => self.phi[k as usize - 4].eval(s),
        }
    }
}
