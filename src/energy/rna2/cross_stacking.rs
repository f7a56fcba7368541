//! Cross-stacking of oxRNA2, between the base sites of any two non-bonded nucleotides:
//!
//! ```text
//! V = f2(r) f4(θ1) f4(θ2) f4(θ3) [f4(θ7) + f4(π − θ7)] [f4(θ8) + f4(π − θ8)]
//! cos θ1 = −a1·b1, cos θ2 = −b1·r̂, cos θ3 = a1·r̂, cos θ7 = −b3·r̂, cos θ8 = a3·r̂
//! ```
//!
//! (no θ4 factor, unlike DNA). f2: K 59.9626, r0 0.5, rc 0.6, r_low 0.42, r_high 0.58;
//! (a, θ0, Δθ*) = (2.25, 0.505, 0.58) for θ1, (1.7, 1.266, 0.68) for θ2, θ3, (1.7, 0.309, 0.68)
//! for θ7, θ8. The sequence-dependent model has a K per pair of bases, `cross_X_Y` (X ≤ Y).

use super::sequence::CROSS_NAMES;
use super::{angle_specs, spec, specs, SequenceDependence};
use crate::energy::functions::{F2, F4};
use crate::energy::terms::{Pair, Site};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::math::Real;
use crate::system::Base;

/// The oxRNA2 cross-stacking term, sequence-averaged ([`CrossStacking::default`]) or with a
/// strength per pair of bases ([`CrossStacking::sequence_dependent`]).
#[derive(Debug, Clone, Default)]
pub struct CrossStacking {
    /// `CROSS_X_Y` (symmetric), when sequence-dependent.
    sequence: Option<[[f64; 4]; 4]>,
}

impl CrossStacking {
    /// With the cross-stacking strengths of `s`.
    #[must_use]
    pub fn sequence_dependent(s: &SequenceDependence) -> CrossStacking {
        CrossStacking { sequence: Some(s.cross) }
    }
}

impl EnergyTerm for CrossStacking {
    fn name(&self) -> &str {
        "RnaCrossStacking"
    }
    fn sites(&self) -> Option<SiteOffsets> {
        Some(super::SITES)
    }
    fn settings(&self) -> toml::Table {
        super::sequence_setting(self.sequence.is_some())
    }
    fn params(&self) -> Vec<ParamSpec> {
        let mut p = match &self.sequence {
            None => specs(&[("k_cross", 59.9626)]),
            Some(k) => (0..4)
                .flat_map(|x| (x..4).map(move |y| (x, y)))
                .map(|(x, y)| spec(CROSS_NAMES[x][y], k[x][y]))
                .collect(),
        };
        p.extend(specs(&[("r0_cross", 0.5), ("dr_c_cross", 0.6), ("dr_low_cross", 0.42), ("dr_high_cross", 0.58)]));
        p.extend(angle_specs(
            "cross",
            &[
                (1, 2.25, 0.505, 0.58),
                (2, 1.7, 1.266, 0.68),
                (3, 1.7, 1.266, 0.68),
                (7, 1.7, 0.309, 0.68),
                (8, 1.7, 0.309, 0.68),
            ],
        ));
        p
    }
    fn scope(&self) -> Scope {
        // base sites 0.4 from the centre, f2 zero beyond 0.625
        Scope::NonBonded { cutoff: 2.0 }
    }
    fn pair_strength(&self, p: Base, q: Base) -> Option<&str> {
        self.sequence.map(|_| CROSS_NAMES[p.index()][q.index()])
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let r = pair.between(Site::Base, Site::Base);
        let n = r.norm();
        let (r0, rc, low, high) = ("r0_cross", "dr_c_cross", "dr_low_cross", "dr_high_cross");
        let radial = match self.sequence {
            None => F2::new(p, "k_cross", r0, rc, low, high),
            Some(_) => F2::unit(p, r0, rc, low, high),
        }
        .eval(&n);
        if radial.is_zero() {
            return radial;
        }
        let u = r.div(&n);
        let (a, b) = (&pair.a, &pair.b);
        let f4 = |k: u8| F4::new(p, "cross", k);
        radial
            * f4(1).eval_cos(&-a[0].dot(&b[0]))
            * f4(2).eval_cos(&-b[0].dot(&u))
            * f4(3).eval_cos(&a[0].dot(&u))
            * f4(7).eval_sym_cos(&-b[2].dot(&u))
            * f4(8).eval_sym_cos(&a[2].dot(&u))
    }
}
