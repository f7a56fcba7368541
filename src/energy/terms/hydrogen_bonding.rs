//! Watson–Crick hydrogen bonding (non-bonded; `spec/oxdna-model.md` §4.5):
//!
//! ```text
//! V = f1(r_hb; ε_hb(s_p, s_q)) f4(θ1) f4(θ2) f4(θ3) f4(θ4) f4(θ7) f4(θ8)
//! cos θ1 = −a1·b1, cos θ2 = −b1·r̂, cos θ3 = a1·r̂, cos θ4 = a3·b3, cos θ7 = −b3·r̂, cos θ8 = a3·r̂
//! ```
//!
//! r_hb joins the base sites. Only complementary pairs (A–T/U, C–G) bond; ε_hb is supplied per pair.

use super::{unit, Pair, Site};
use crate::energy::functions::{ParamSource, F1, F4};
use crate::math::{Real, V3};

/// The base–base separation r_hb: its unit vector and length.
pub(crate) fn base_separation<T: Real>(pair: &Pair<T>) -> (V3<T>, T) {
    unit(&pair.between(Site::Base, Site::Base))
}

/// The six angle cosines shared by hydrogen bonding and cross-stacking (θ1, θ2, θ3, θ4, θ7, θ8).
pub(crate) fn base_cosines<T: Real>(pair: &Pair<T>, rhat: &V3<T>) -> [T; 6] {
    let [a1, _, a3] = &pair.a;
    let [b1, _, b3] = &pair.b;
    [-a1.dot(b1), -b1.dot(rhat), a1.dot(rhat), a3.dot(b3), -b3.dot(rhat), a3.dot(rhat)]
}

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

    /// Energy of one complementary pair with strength `eps`.
    pub fn energy(&self, pair: &Pair<T>, eps: &T) -> T {
        let (rhat, r) = base_separation(pair);
        let mut e = self.f1.eval(&r, eps);
        if e.is_zero() {
            return e;
        }
        for (f, c) in self.t.iter().zip(base_cosines(pair, &rhat)) {
            e = e * f.eval(&c.acos_clamped());
        }
        e
    }
}
