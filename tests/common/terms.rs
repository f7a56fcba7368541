//! Users' energy terms shared by the tests (`tests/custom_term.rs`) and the bench
//! (`benches/custom_term.rs`, which includes this file by path).

use oxgrad::energy::terms::{Pair, Site};
use oxgrad::energy::{EnergyTerm, ParamSpec, Scope, TermParams};
use oxgrad::math::Real;

/// A harmonic spring between two nucleotides' centres.
#[derive(Debug)]
pub struct Spring {
    /// First nucleotide.
    pub p: usize,
    /// Second nucleotide.
    pub q: usize,
}

impl EnergyTerm for Spring {
    fn name(&self) -> &str {
        "Spring"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("k_spring", 3.0, "energy / length²", "stiffness"),
            ParamSpec::new("r0_spring", 0.9, "length", "rest length").extra(),
        ]
    }
    fn scope(&self) -> Scope {
        Scope::Pairs(vec![(self.p, self.q)])
    }
    fn settings(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("p".into(), (self.p as i64).into());
        t.insert("q".into(), (self.q as i64).into());
        t
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let s = pair.d.norm() - p.get("r0_spring");
        s.clone() * s * p.get("k_spring") * 0.5
    }
}

/// Non-bonded: a Gaussian bump between base sites of nucleotides closer than 1.6.
#[derive(Debug)]
pub struct Bump;

impl EnergyTerm for Bump {
    fn name(&self) -> &str {
        "Bump"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::new("a_bump", 0.05, "energy", "height"), ParamSpec::new("w_bump", 0.6, "length", "width")]
    }
    fn scope(&self) -> Scope {
        Scope::NonBonded { cutoff: 1.6 }
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let r = pair.between(Site::Base, Site::Backbone);
        let w = p.get("w_bump");
        (-(r.dot(&r) / (w.clone() * w))).exp() * p.get("a_bump")
    }
}
