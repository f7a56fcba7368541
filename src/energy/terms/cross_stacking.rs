//! Cross-stacking (non-bonded, every sequence; `spec/oxdna-model.md` §4.6), with the angles of
//! hydrogen bonding:
//!
//! ```text
//! V = f2(r_hb) f4(θ1) f4(θ2) f4(θ3) [f4(θ4) + f4(π−θ4)] [f4(θ7) + f4(π−θ7)] [f4(θ8) + f4(π−θ8)]
//! ```

use super::hydrogen_bonding::{base_cosines, base_separation};
use super::Pair;
use crate::energy::functions::{ParamSource, F2, F4};
use crate::math::Real;

/// Cross-stacking parameters.
#[derive(Debug, Clone)]
pub struct CrossStacking<T> {
    f2: F2<T>,
    t: [F4<T>; 6],
}

impl<T: Real> CrossStacking<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        CrossStacking {
            f2: F2::new(src, "k_cross", "r0_cross", "dr_c_cross", "dr_low_cross", "dr_high_cross"),
            t: [1, 2, 3, 4, 7, 8].map(|k| F4::new(src, "cross", k)),
        }
    }

    /// Range of base-site separations where the term can be non-zero.
    pub fn support(&self) -> (T, T) {
        self.f2.support()
    }

    /// Energy of one pair.
    pub fn energy(&self, pair: &Pair<T>) -> T {
        let (rhat, r) = base_separation(pair);
        let mut e = self.f2.eval(&r);
        if e.is_zero() {
            return e;
        }
        for (k, (f, c)) in self.t.iter().zip(base_cosines(pair, &rhat)).enumerate() {
            let theta = c.acos_clamped();
            e = e * if k < 3 { f.eval(&theta) } else { f.eval_sym(&theta) };
        }
        e
    }
}
