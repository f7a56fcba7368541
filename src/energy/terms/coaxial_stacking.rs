//! Coaxial stacking (non-bonded; `spec/oxdna-model.md` §4.7). With r_st between stacking sites,
//! cos θ1 = −a1·b1, cos θ4 = a3·b3, cos θ5 = a3·r̂_st (no minus sign), cos θ6 = −b3·r̂_st:
//!
//! ```text
//! oxDNA1: V = f2(r_st) f4(θ4) [f4(θ1) + f4(2π−θ1)] [f4(θ5) + f4(π−θ5)] [f4(θ6) + f4(π−θ6)] f5(cos φ3) f5(cos φ4)
//!         cos φ3 = r̂_st·(r̂_b1 × a1), cos φ4 = r̂_st·(r̂_b1 × b1)
//! oxDNA2: V = f2(r_st) f4(θ4) [f4(θ1) + f6(θ1)] [f4(θ5) + f4(π−θ5)] [f4(θ6) + f4(π−θ6)]
//! ```

use super::{unit, Pair, Site};
use crate::energy::functions::{ParamSource, F2, F4, F5, F6};
use crate::math::Real;
use crate::params::ModelKind;

#[derive(Debug, Clone)]
enum Theta1<T> {
    /// oxDNA1: the 2π − θ1 image and the φ3, φ4 factors.
    Dna1 { phi3: F5<T>, phi4: F5<T> },
    /// oxDNA2: f6 on θ1.
    Dna2 { f6: F6<T> },
}

/// Coaxial-stacking parameters.
#[derive(Debug, Clone)]
pub struct CoaxialStacking<T> {
    f2: F2<T>,
    t1: F4<T>,
    t4: F4<T>,
    t5: F4<T>,
    t6: F4<T>,
    model: Theta1<T>,
}

impl<T: Real> CoaxialStacking<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>, model: ModelKind) -> Self {
        CoaxialStacking {
            f2: F2::new(src, "k_coax", "dr0_coax", "dr_c_coax", "dr_low_coax", "dr_high_coax"),
            t1: F4::new(src, "coax", 1),
            t4: F4::new(src, "coax", 4),
            t5: F4::new(src, "coax", 5),
            t6: F4::new(src, "coax", 6),
            model: match model {
                ModelKind::Dna1 => Theta1::Dna1 {
                    phi3: F5::new(src, "a_coax_3p", "cos_phi3_star_coax"),
                    phi4: F5::new(src, "a_coax_4p", "cos_phi4_star_coax"),
                },
                ModelKind::Dna2 => Theta1::Dna2 { f6: F6::new(src) },
            },
        }
    }

    /// Range of stacking-site separations where the term can be non-zero.
    pub fn support(&self) -> (T, T) {
        self.f2.support()
    }

    /// Energy of one pair.
    pub fn energy(&self, pair: &Pair<T>) -> T {
        let (rhat, r) = unit(&pair.between(Site::Stack, Site::Stack));
        let radial = self.f2.eval(&r);
        if radial.is_zero() {
            return radial;
        }
        let [a1, _, a3] = &pair.a;
        let [b1, _, b3] = &pair.b;
        let theta1 = (-a1.dot(b1)).acos_clamped();
        let common = radial
            * self.t4.eval(&a3.dot(b3).acos_clamped())
            * self.t5.eval_sym(&a3.dot(&rhat).acos_clamped())
            * self.t6.eval_sym(&(-b3.dot(&rhat)).acos_clamped());
        match &self.model {
            Theta1::Dna1 { phi3, phi4 } => {
                let (rb1, _) = unit(&pair.between(Site::Backbone1, Site::Backbone1));
                let image = -theta1.clone() + 2.0 * std::f64::consts::PI;
                common
                    * (self.t1.eval(&theta1) + self.t1.eval(&image))
                    * phi3.eval(&rhat.dot(&rb1.cross(a1)))
                    * phi4.eval(&rhat.dot(&rb1.cross(b1)))
            }
            Theta1::Dna2 { f6 } => common * (self.t1.eval(&theta1) + f6.eval(&theta1)),
        }
    }
}
