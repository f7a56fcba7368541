//! Cross-stacking (non-bonded, every sequence; Ouldridge et al. 2011), with the angles of
//! hydrogen bonding:
//!
//! ```text
//! V = f2(r_hb) f4(θ1) f4(θ2) f4(θ3) [f4(θ4) + f4(π−θ4)] [f4(θ7) + f4(π−θ7)] [f4(θ8) + f4(π−θ8)]
//! ```

use super::hydrogen_bonding::BASE_FEATURES as F;
use super::{Factors, Spec};
use crate::energy::functions::{ParamSource, F2, F4};
use crate::math::Real;

/// The term: f2, three f4 and three symmetrised f4 factors.
pub const SPEC: Spec = &[&[(F[0], 0), (F[1], 1), (F[2], 2), (F[3], 3), (F[4], 4), (F[5], 5), (F[6], 6)]];

/// Cross-stacking parameters: f2 and `N` angular factors, three plain (θ1, θ2, θ3) then
/// symmetrised ones (DNA: θ4, θ7, θ8; oxRNA2, which has no θ4: θ7, θ8).
#[derive(Debug, Clone)]
pub struct CrossStacking<T, const N: usize = 6> {
    f2: F2<T>,
    t: [F4<T>; N],
}

impl<T: Real> CrossStacking<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        let f2 = F2::new(src, "k_cross", "r0_cross", "dr_c_cross", "dr_low_cross", "dr_high_cross");
        CrossStacking::with_angles(f2, src, [1, 2, 3, 4, 7, 8])
    }
}

impl<T: Real, const N: usize> CrossStacking<T, N> {
    /// With radial factor `f2` and the f4 factors of `angles` (`a_cross_k`, … for each k).
    pub(crate) fn with_angles(f2: F2<T>, src: &impl ParamSource<T>, angles: [u8; N]) -> Self {
        CrossStacking { f2, t: angles.map(|k| F4::new(src, "cross", k)) }
    }

    /// Range of base-site separations where the term can be non-zero.
    pub fn support(&self) -> (T, T) {
        self.f2.support()
    }
}

impl<T: Real, const N: usize> Factors<T> for CrossStacking<T, N> {
    fn factor(&self, k: u8, s: &T, _: &T) -> T {
        match k {
            0 => self.f2.eval(s),
            1..=3 => self.t[k as usize - 1].eval_cos(s),
            _ => self.t[k as usize - 1].eval_sym_cos(s),
        }
    }
}
