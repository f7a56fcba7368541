//! Stacking of oxRNA2, between bonded neighbours p (5' side) and q = n3(p):
//!
//! ```text
//! V = f1(|r_st|; ε) f4(θ5) f4(θ6) f5(cos φ1) f5(cos φ2) f4(θB1) f4(θB2)
//! r_st = d + stack_5(q) − stack_3(p),   cos θ5 = −a3·r̂_st,   cos θ6 = −b3·r̂_st
//! r_bb between the backbone sites,      cos φ1 = a2·r̂_bb,    cos φ2 = b2·r̂_bb
//! cos θB1 = −r̂_bb·p3(p),  cos θB2 = −r̂_bb·p5(q),   ε = 1.40206 + 2.77 kT
//! ```
//!
//! (no θ4 factor, unlike DNA). f1: a 6, r0 0.43, rc 0.93, r_low 0.35, r_high 0.78. In the
//! sequence-dependent model ε = `stck_X_Y` (1 + kT `st_t_dep`), X the base of q, Y of p
//! ([`super::SequenceDependence`]).

use super::sequence::STACK_NAMES;
use super::{angle_specs, spec, specs, SequenceDependence};
use crate::energy::comb;
use crate::energy::functions::{ParamSource, F1, F4, F5};
use crate::energy::terms::{energy, Axis, Factors, Feature, Pair, Side, Site, Spec};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::math::Real;
use crate::system::Base;

/// Stacking sites and backbone directions, as (a1, a2, a3) components.
pub(crate) const STACK_3: [f64; 3] = [0.4, 0.1, 0.0];
pub(crate) const STACK_5: [f64; 3] = [0.124_906_078_525, -0.008_662_749_174_73, 0.0];
const P3: [f64; 3] = [-0.462_510, -0.528_218, 0.712_089];
const P5: [f64; 3] = [-0.104_402, -0.841_783, 0.529_624];

/// The oxRNA2 stacking term, sequence-averaged ([`Stacking::default`]) or with a strength per
/// base step ([`Stacking::sequence_dependent`]).
#[derive(Debug, Clone, Default)]
pub struct Stacking {
    /// `STCK_X_Y` and `ST_T_DEP`, when sequence-dependent.
    sequence: Option<([[f64; 4]; 4], f64)>,
}

impl Stacking {
    /// With the stacking strengths of `s`.
    #[must_use]
    pub fn sequence_dependent(s: &SequenceDependence) -> Stacking {
        Stacking { sequence: Some((s.stack, s.st_t_dep)) }
    }
}

impl EnergyTerm for Stacking {
    fn name(&self) -> &str {
        "RnaStacking"
    }
    fn sites(&self) -> Option<SiteOffsets> {
        Some(super::SITES)
    }
    fn settings(&self) -> toml::Table {
        super::sequence_setting(self.sequence.is_some())
    }
    fn params(&self) -> Vec<ParamSpec> {
        let mut p = vec![ParamSpec::shared("kt")];
        match &self.sequence {
            None => p.extend(specs(&[("eps_stack_base", 1.40206), ("eps_stack_kt_coeff", 2.77)])),
            Some((table, t_dep)) => {
                p.push(spec("st_t_dep", *t_dep));
                for (names, row) in STACK_NAMES.iter().zip(table) {
                    p.extend(names.iter().zip(row).map(|(n, v)| spec(*n, *v)));
                }
            }
        }
        p.extend(specs(&[
            ("a_stack", 6.0),
            ("dr0_stack", 0.43),
            ("dr_c_stack", 0.93),
            ("dr_low_stack", 0.35),
            ("dr_high_stack", 0.78),
            ("a_stack_1", 2.0),
            ("neg_cos_phi1_star_stack", -0.65),
            ("a_stack_2", 2.0),
            ("neg_cos_phi2_star_stack", -0.65),
        ]));
        p.extend(angle_specs(
            "stack",
            &[(5, 0.9, 0.0, 0.95), (6, 0.9, 0.0, 0.95), (9, 1.3, 0.0, 0.8), (10, 1.3, 0.0, 0.8)],
        ));
        p
    }
    fn scope(&self) -> Scope {
        Scope::Bonded
    }
    fn pair_strength(&self, p: Base, q: Base) -> Option<&str> {
        self.sequence.as_ref().map(|_| STACK_NAMES[q.index()][p.index()])
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        // the stacking slots hold stack_3 of p and stack_5 of q
        let pair = Pair {
            d: pair.d.clone(),
            sp: [pair.sp[0].clone(), pair.sp[1].clone(), comb(&pair.a, STACK_3), pair.sp[3].clone()],
            sq: [pair.sq[0].clone(), pair.sq[1].clone(), comb(&pair.b, STACK_5), pair.sq[3].clone()],
            a: pair.a.clone(),
            b: pair.b.clone(),
        };
        energy(SPEC, &self.factors(p), &pair, &self.eps(p))
    }
}

impl Stacking {
    /// The strength in f1: ε_st = `eps_stack_base` + `eps_stack_kt_coeff` kT, or (1 + kT
    /// `st_t_dep`) sequence-dependent (the pair's `stck_X_Y` multiplies the energy).
    pub(crate) fn eps<T: Real>(&self, p: &impl ParamSource<T>) -> T {
        match self.sequence {
            None => crate::params::strength::eps_stack(p.p("eps_stack_base"), p.p("eps_stack_kt_coeff"), p.p("kt")),
            Some(_) => p.p("st_t_dep") * p.p("kt") + 1.0,
        }
    }

    /// The factors of [`SPEC`].
    pub(crate) fn factors<T: Real>(&self, p: &impl ParamSource<T>) -> StackingFactors<T> {
        let f4 = |k: u8| F4::new(p, "stack", k);
        StackingFactors {
            f1: F1::new(p, "stack"),
            theta: [f4(5), f4(6)],
            phi: [
                F5::new(p, "a_stack_1", "neg_cos_phi1_star_stack"),
                F5::new(p, "a_stack_2", "neg_cos_phi2_star_stack"),
            ],
            backbone: [f4(9), f4(10)],
        }
    }
}

use Site::{Backbone as Bb, Stack as St};

/// The term, on a pair whose stacking slots hold stack_3 of p and stack_5 of q: f1(|r_st|),
/// θ5, θ6, φ1, φ2, θB1, θB2.
pub(crate) const SPEC: Spec = &[&[
    (Feature::Dist(St, St), 0),
    (Feature::AxisOnSep(Axis::P(2), St, St, -1.0), 1),
    (Feature::AxisOnSep(Axis::Q(2), St, St, -1.0), 2),
    (Feature::AxisOnSep(Axis::P(1), Bb, Bb, 1.0), 3),
    (Feature::AxisOnSep(Axis::Q(1), Bb, Bb, 1.0), 4),
    (Feature::CombOnSep(Side::P, P3, Bb, Bb, -1.0), 5),
    (Feature::CombOnSep(Side::Q, P5, Bb, Bb, -1.0), 6),
]];

/// The one-dimensional factors of [`SPEC`].
#[derive(Debug, Clone)]
pub(crate) struct StackingFactors<T> {
    f1: F1<T>,
    theta: [F4<T>; 2],
    phi: [F5<T>; 2],
    backbone: [F4<T>; 2],
}

impl<T: Real> StackingFactors<T> {
    /// Range of stacking-site separations where the term can be non-zero.
    pub(crate) fn support(&self) -> (T, T) {
        self.f1.support()
    }
}

impl<T: Real> Factors<T> for StackingFactors<T> {
    fn factor(&self, k: u8, s: &T, eps: &T) -> T {
        match k {
            0 => self.f1.eval(s, eps),
            1 | 2 => self.theta[k as usize - 1].eval_cos(s),
            3 | 4 => self.phi[k as usize - 3].eval(s),
            _ => self.backbone[k as usize - 5].eval_cos(s),
        }
    }
}
