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
use crate::energy::functions::{ParamSource, F2};
use crate::energy::terms::hydrogen_bonding::BASE_FEATURES as F;
use crate::energy::terms::{energy, Pair, Site, Spec};
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
        // most pairs are beyond the radial factor: build the angular ones only within it
        let radial = self.radial(p);
        let n = pair.between(Site::Base, Site::Base).norm();
        if !T::any(&T::and(&radial.support().0.lt(&n), &n.lt(&radial.support().1))) {
            return n.cst(0.0);
        }
        energy(SPEC, &self.factors(p), pair, &n.cst(0.0))
    }
}

impl CrossStacking {
    /// f2 with `k_cross`, or with strength 1 when sequence-dependent (the pair's `cross_X_Y`
    /// multiplies the energy).
    fn radial<T: Real>(&self, p: &impl ParamSource<T>) -> F2<T> {
        let (r0, rc, low, high) = ("r0_cross", "dr_c_cross", "dr_low_cross", "dr_high_cross");
        match self.sequence {
            None => F2::new(p, "k_cross", r0, rc, low, high),
            Some(_) => F2::unit(p, r0, rc, low, high),
        }
    }

    /// The factors of [`SPEC`]: DNA's cross-stacking factors without θ4.
    pub(crate) fn factors<T: Real>(&self, p: &impl ParamSource<T>) -> CrossFactors<T> {
        CrossFactors::with_angles(self.radial(p), p, [1, 2, 3, 7, 8])
    }
}

/// The term: DNA's base-site features without θ4 (f2, θ1, θ2, θ3, then θ7 and θ8 symmetrised).
pub(crate) const SPEC: Spec = &[&[(F[0], 0), (F[1], 1), (F[2], 2), (F[3], 3), (F[5], 4), (F[6], 5)]];

/// The one-dimensional factors of [`SPEC`].
pub(crate) type CrossFactors<T> = crate::energy::terms::cross_stacking::CrossStacking<T, 5>;
