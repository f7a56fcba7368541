//! Coaxial stacking (non-bonded; Ouldridge et al. 2011, oxDNA2's form from Snodin et al. 2015). With r_st between stacking sites,
//! cos θ1 = −a1·b1, cos θ4 = a3·b3, cos θ5 = a3·r̂_st (no minus sign), cos θ6 = −b3·r̂_st:
//!
//! ```text
//! oxDNA1: V = f2(r_st) f4(θ4) [f4(θ1) + f4(2π−θ1)] [f4(θ5) + f4(π−θ5)] [f4(θ6) + f4(π−θ6)] f5(cos φ3) f5(cos φ4)
//!         cos φ3 = r̂_st·(r̂_b1 × a1), cos φ4 = r̂_st·(r̂_b1 × b1)
//! oxDNA2: V = f2(r_st) f4(θ4) [f4(θ1) + f6(θ1)] [f4(θ5) + f4(π−θ5)] [f4(θ6) + f4(π−θ6)]
//! ```

use super::{Axis, Factors, Feature, Site, Spec};
use crate::energy::functions::{ParamSource, F2, F4, F5, F6};
use crate::math::Real;
use crate::params::ModelKind;

use Site::{Backbone1 as B1, Stack as St};

const COMMON: [(Feature, u8); 5] = [
    (Feature::Dist(St, St), 0),
    (Feature::FrameDot(2, 2, 1.0), 1),
    (Feature::FrameDot(0, 0, -1.0), 2),
    (Feature::AxisOnSep(Axis::P(2), St, St, 1.0), 3),
    (Feature::AxisOnSep(Axis::Q(2), St, St, -1.0), 4),
];

/// oxDNA1: the common factors and the two φ factors.
pub const SPEC_DNA1: Spec = &[&[
    COMMON[0],
    COMMON[1],
    COMMON[2],
    COMMON[3],
    COMMON[4],
    (Feature::Triple((St, St), (B1, B1), Axis::P(0)), 5),
    (Feature::Triple((St, St), (B1, B1), Axis::Q(0)), 6),
]];
/// oxDNA2: the common factors (θ1 with f6 instead of the 2π image).
pub const SPEC_DNA2: Spec = &[&[COMMON[0], COMMON[1], COMMON[2], COMMON[3], COMMON[4]]];

#[derive(Debug, Clone)]
enum Theta1<T> {
    /// oxDNA1: the 2π − θ1 image and the φ3, φ4 factors.
    Dna1 { phi: [F5<T>; 2] },
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
                    phi: [
                        F5::new(src, "a_coax_3p", "cos_phi3_star_coax"),
                        F5::new(src, "a_coax_4p", "cos_phi4_star_coax"),
                    ],
                },
                ModelKind::Dna2 => Theta1::Dna2 { f6: F6::new(src) },
            },
        }
    }

    /// The term's spec for this model.
    pub fn spec(&self) -> Spec {
        match self.model {
            Theta1::Dna1 { .. } => SPEC_DNA1,
            Theta1::Dna2 { .. } => SPEC_DNA2,
        }
    }

    /// Range of stacking-site separations where the term can be non-zero.
    pub fn support(&self) -> (T, T) {
        self.f2.support()
    }
}

impl<T: Real> Factors<T> for CoaxialStacking<T> {
    fn factor(&self, k: u8, s: &T, _: &T) -> T {
        match (k, &self.model) {
            (0, _) => self.f2.eval(s),
            (1, _) => self.t4.eval_cos(s),
            (2, Theta1::Dna1 { .. }) => {
                let theta = s.clone().acos_clamped();
                self.t1.eval(&theta) + self.t1.eval(&(-theta.clone() + 2.0 * std::f64::consts::PI))
            }
            (2, Theta1::Dna2 { f6 }) => {
                let theta = s.clone().acos_clamped();
                self.t1.eval(&theta) + f6.eval(&theta)
            }
            (3, _) => self.t5.eval_sym_cos(s),
            (4, _) => self.t6.eval_sym_cos(s),
            (_, Theta1::Dna1 { phi }) => phi[k as usize - 5].eval(s),
            (_, Theta1::Dna2 { .. }) => s.cst(0.0),
        }
    }
}
