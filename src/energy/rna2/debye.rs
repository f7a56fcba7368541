//! Debye–Hückel electrostatics of oxRNA2 between the backbone sites (−0.4 a1 + 0.2 a3) of
//! non-bonded nucleotides, the DNA2 form with RNA constants:
//!
//! ```text
//! V = χ_p χ_q · A e^{−r/λ}/r (r < r_high = 3λ),  B (r − r_c)² (r_high ≤ r < r_c),  0 beyond
//! λ = 0.3667258 √(kT/0.1) / √salt,  A = q_eff² · prefactor_coeff = 1.26² · 0.0540438 = 0.0858
//! ```
//!
//! B and r_c make V and its derivative continuous; χ = ½ at a strand end (half-charged ends, on by
//! default in oxDNA), else 1. The salt concentration (mol/L) and the temperature the term is made
//! for are its settings: they decide the cut-off of its pairs, 2 |backbone| + r_c, sized for λ up
//! to 1.5 times its value there (kT up to 2.25 times, or `lambda_factor` trained up by half);
//! beyond that, pairs inside r_c would be missed, so build the model again.

use crate::energy::functions::ParamSource;
use crate::energy::terms::{debye, energy, Pair};
use crate::energy::{EnergyTerm, ParamSpec, Scope, SiteOffsets, TermParams};
use crate::error::{Error, Result};
use crate::math::Real;
use crate::system::Nucleotide;

/// oxRNA2's Debye length at kT 0.1 and 1 M salt (the default of `lambda_factor`).
const LAMBDA_FACTOR: f64 = 0.366_725_8;

/// The oxRNA2 Debye–Hückel term.
#[derive(Debug, Clone, Copy)]
pub struct DebyeHuckel {
    salt: f64,
    kt: f64,
    half_charged_ends: bool,
}

impl DebyeHuckel {
    /// At salt concentration `salt` (mol/L) and temperature `kt` (simulation units), with half
    /// charges at strand ends.
    pub fn new(salt: f64, kt: f64) -> Result<DebyeHuckel> {
        crate::units::check_salt(salt).map_err(|m| Error::invalid("salt_concentration", salt, m))?;
        if !(kt.is_finite() && kt > 0.0) {
            return Err(Error::invalid("kt", kt, "a positive temperature in simulation units (T[K]/3000)"));
        }
        Ok(DebyeHuckel { salt, kt, half_charged_ends: true })
    }

    /// With or without half charges at strand ends (oxDNA's `dh_half_charged_ends`).
    #[must_use]
    pub fn half_charged_ends(mut self, on: bool) -> DebyeHuckel {
        self.half_charged_ends = on;
        self
    }
}

/// The term's parameters and its salt setting, as the DNA2 Debye–Hückel factor reads them.
struct WithSalt<'a, S, T> {
    params: &'a S,
    salt: T,
}

impl<T: Clone, S: ParamSource<T>> ParamSource<T> for WithSalt<'_, S, T> {
    fn p(&self, name: &str) -> T {
        if name == "salt_conc" {
            self.salt.clone()
        } else {
            self.params.p(name)
        }
    }
}

impl DebyeHuckel {
    /// The charge χ of a nucleotide: ½ at a strand end with half-charged ends, else 1 (a pair's
    /// energy scales with χ_p χ_q).
    pub(crate) fn charge(&self, n: &Nucleotide) -> f64 {
        if self.half_charged_ends && (n.n3.is_none() || n.n5.is_none()) {
            0.5
        } else {
            1.0
        }
    }

    /// The factor of [`debye::SPEC`] (`like` gives the number type).
    pub(crate) fn factors<T: Real>(&self, p: &impl ParamSource<T>, like: &T) -> debye::Debye<T> {
        debye::Debye::new(&WithSalt { params: p, salt: like.cst(self.salt) })
    }
}

impl EnergyTerm for DebyeHuckel {
    fn name(&self) -> &str {
        "RnaDebyeHuckel"
    }
    fn sites(&self) -> Option<SiteOffsets> {
        Some(super::SITES)
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::shared("kt"),
            ParamSpec::new("lambda_factor", LAMBDA_FACTOR, "length", "Debye length at kT 0.1 and 1 M"),
            ParamSpec::new("q_eff", 1.26, "", "effective charge"),
            ParamSpec::new("prefactor_coeff", 0.054_043_839_758_125_47, "energy · length", "prefactor per charge²"),
        ]
    }
    fn scope(&self) -> Scope {
        // r_c = 4.5 λ; room for λ 1.5 times its default at this temperature and salt
        let lambda = crate::params::smoothing::debye_length(LAMBDA_FACTOR, self.kt, self.salt);
        Scope::NonBonded { cutoff: 2.0 * 0.447_213_6 + 4.5 * 1.5 * lambda }
    }
    fn settings(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("salt".into(), self.salt.into());
        t.insert("kt".into(), self.kt.into());
        t.insert("half_charged_ends".into(), self.half_charged_ends.into());
        t
    }
    fn pair_scale(&self, p: (usize, &Nucleotide), q: (usize, &Nucleotide)) -> f64 {
        self.charge(p.1) * self.charge(q.1)
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        energy(debye::SPEC, &self.factors(p, &pair.d.x), pair, &pair.d.x.cst(1.0))
    }
}
