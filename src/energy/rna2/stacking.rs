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
use crate::energy::functions::{F1, F4, F5};
use crate::energy::terms::{Pair, Site};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::math::Real;
use crate::system::Base;

/// Stacking sites and backbone directions, as (a1, a2, a3) components.
const STACK_3: [f64; 3] = [0.4, 0.1, 0.0];
const STACK_5: [f64; 3] = [0.124_906_078_525, -0.008_662_749_174_73, 0.0];
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
        let (a, b) = (&pair.a, &pair.b);
        let r_st = pair.d.add(&comb(b, STACK_5)).sub(&comb(a, STACK_3));
        let n_st = r_st.norm();
        let eps = match self.sequence {
            None => {
                crate::params::strength::eps_stack(p.get("eps_stack_base"), p.get("eps_stack_kt_coeff"), p.get("kt"))
            }
            Some(_) => p.get("st_t_dep") * p.get("kt") + 1.0,
        };
        let radial = F1::new(p, "stack").eval(&n_st, &eps);
        if radial.is_zero() {
            return radial;
        }
        let u_st = r_st.div(&n_st);
        let r_bb = pair.between(Site::Backbone, Site::Backbone);
        let u_bb = r_bb.div(&r_bb.norm());
        let f4 = |k: u8, c: T| F4::new(p, "stack", k).eval_cos(&c);
        radial
            * f4(5, -a[2].dot(&u_st))
            * f4(6, -b[2].dot(&u_st))
            * F5::new(p, "a_stack_1", "neg_cos_phi1_star_stack").eval(&a[1].dot(&u_bb))
            * F5::new(p, "a_stack_2", "neg_cos_phi2_star_stack").eval(&b[1].dot(&u_bb))
            * f4(9, -u_bb.dot(&comb(a, P3)))
            * f4(10, -u_bb.dot(&comb(b, P5)))
    }
}
