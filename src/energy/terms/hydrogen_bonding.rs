//! Watson–Crick hydrogen bonding (non-bonded; Ouldridge et al. 2011):
//!
//! ```text
//! V = f1(r_hb; ε_hb(s_p, s_q)) f4(θ1) f4(θ2) f4(θ3) f4(θ4) f4(θ7) f4(θ8)
//! cos θ1 = −a1·b1, cos θ2 = −b1·r̂, cos θ3 = a1·r̂, cos θ4 = a3·b3, cos θ7 = −b3·r̂, cos θ8 = a3·r̂
//! ```
//!
//! r_hb joins the base sites. Only complementary pairs (A–T/U, C–G) bond; ε_hb is supplied per pair.

use super::{energy, Axis, Factors, Feature, Pair, Site, Spec};
use crate::energy::functions::{ParamSource, F1, F4};
use crate::math::Real;
use crate::params::smoothing::f1_tail;

use Site::Base as Ba;

/// The radial feature and the six angles shared with cross-stacking (θ1, θ2, θ3, θ4, θ7, θ8).
pub(crate) const BASE_FEATURES: [Feature; 7] = [
    Feature::Dist(Ba, Ba),
    Feature::FrameDot(0, 0, -1.0),
    Feature::AxisOnSep(Axis::Q(0), Ba, Ba, -1.0),
    Feature::AxisOnSep(Axis::P(0), Ba, Ba, 1.0),
    Feature::FrameDot(2, 2, 1.0),
    Feature::AxisOnSep(Axis::Q(2), Ba, Ba, -1.0),
    Feature::AxisOnSep(Axis::P(2), Ba, Ba, 1.0),
];

/// The term: f1 and six f4 factors.
pub const SPEC: Spec = &[&[
    (BASE_FEATURES[0], 0),
    (BASE_FEATURES[1], 1),
    (BASE_FEATURES[2], 2),
    (BASE_FEATURES[3], 3),
    (BASE_FEATURES[4], 4),
    (BASE_FEATURES[5], 5),
    (BASE_FEATURES[6], 6),
]];

/// Hydrogen-bonding parameters.
#[derive(Debug, Clone)]
pub struct HydrogenBonding<T> {
    f1: F1<T>,
    t: [F4<T>; 6],
}

impl<T: Real> HydrogenBonding<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        HydrogenBonding { f1: F1::new(src, "hb"), t: [1, 2, 3, 4, 7, 8].map(|k| F4::new(src, "hb", k)) }
    }

    /// Range of base-site separations where the term can be non-zero.
    pub fn support(&self) -> (T, T) {
        self.f1.support()
    }
}

impl<T: Real> Factors<T> for HydrogenBonding<T> {
    fn factor(&self, k: u8, s: &T, eps: &T) -> T {
        match k {
            0 => self.f1.eval(s, eps),
            _ => self.t[k as usize - 1].eval_cos(s),
        }
    }
}

/// The term on one pair with strength `eps`, its parameters read by name from `src` on every
/// call, as a user's term ([`crate::energy::EnergyTerm`]) reads them: most pairs are beyond the
/// radial factor's reach, so the factors are built only within it. oxRNA2's hydrogen bonding is
/// this on the RNA sites; `tests/builtin_as_terms.rs` checks it against the built-in evaluation
/// on the DNA sites.
pub fn energy_within_reach<T: Real>(src: &impl ParamSource<T>, pair: &Pair<T>, eps: &T) -> T {
    let (_, reach) = f1_tail(src.p("a_hb"), src.p("dr0_hb"), src.p("dr_c_hb"), src.p("dr_high_hb"));
    if !T::any(&pair.between(Ba, Ba).norm().lt(&reach)) {
        return eps.cst(0.0);
    }
    energy(SPEC, &HydrogenBonding::new(src), pair, eps)
}
