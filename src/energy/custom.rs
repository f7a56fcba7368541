//! Energy terms written by users: a term is defined once, generically over [`Real`], and is then
//! evaluated like the built-in ones — as `f64` energies, as forces and torques for molecular
//! dynamics (from a small reverse-mode tape, [`Tape`], no autodiff graph in the MD loop) and as Burn
//! tensors over batches of frames, so its parameters get gradients (DiffTRe, `vjp`,
//! `map_batch_size`, `map_checkpoint`).
//!
//! A term says
//! - its **name** (the column header in breakdowns, the prefix of its qualified parameter names);
//! - its **parameters** ([`ParamSpec`]: name, default, unit, description): they join the model's
//!   one parameter namespace, under their own name when no built-in parameter and no other
//!   term's has it, and as `Term.name` otherwise (the qualified form always works). They are saved in parameter files under
//!   `[custom.Term]`, selected and optimised like any other. A term reads a parameter the
//!   model already has — the temperature `kt`, `salt_conc`, a built-in constant — by declaring
//!   it [`ParamSpec::shared`]: one value, tied, whose gradient collects every use;
//! - its **scope** ([`Scope`]): the bonded pairs, the non-bonded pairs within a centre cut-off,
//!   chosen pairs, or chosen nucleotides; and, optionally, which pairs of the scope it acts on by
//!   their bases, strands or indices ([`EnergyTerm::acts_on`]: a base-pairing term takes
//!   complementary bases only), with which constant factor from the topology
//!   ([`EnergyTerm::pair_scale`]: half charges at strand ends) and with which of its parameters
//!   as a strength by the pair's bases ([`EnergyTerm::pair_strength`]: a trainable strength per
//!   base step or base pair, as in sequence-dependent models);
//! - its **energy** of one pair ([`EnergyTerm::pair_energy`], a function of the minimum-image
//!   separation `d = r_q − r_p`, both frames and both sets of interaction sites) or of one
//!   nucleotide ([`EnergyTerm::nucleotide_energy`], its position, frame and sites).
//!
//! Forces and torques are exact derivatives of that energy. A pair term's energy is recorded once
//! per force evaluation on a [`Tape`] (its operations in `f64`, as a function of `d`, both frames
//! and both sets of sites), then replayed on the other pairs [`crate::math::LANES`] at a time, each
//! operation on every pair of a batch, with one backward sweep for the derivatives, which turn
//! into forces and torques by hand (∂E/∂θ = Σ v × ∂E/∂v over the vectors that turn with a
//! frame). The tape records the outcome of every comparison ([`Real::lt`], [`Real::le`]); a pair
//! whose comparisons come out otherwise runs the term's code again and is recorded afresh. So the
//! term's code must branch on values only through those comparisons — as code generic over
//! [`Real`] does (tensors have no other way either). A nucleotide is evaluated once with a dual
//! number of 6 directions ([`Jet`]: 3 translations, 3 rotations). The energies are those of the
//! `f64` evaluation, bit for bit; the forces agree with dual numbers to rounding (a unit test
//! holds them to 1e-10). A non-bonded Gaussian over every pair within 1.6 makes the force routine
//! 1.2 times as long (1.28 times the instructions) as the same Gaussian written by hand
//! (BENCHMARKS.md). oxRNA2's eight terms ([`super::rna2`]) are the
//! exception: the MD force kernel recognises them and evaluates their specs and factors directly.
//!
//! A model with users' terms saves and loads as a TOML file ([`super::model_file`]), and
//! [`super::rna2`] builds a whole model family, oxRNA2, from eight such terms.
//!
//! **Sampling.** DiffTRe reweights trajectories sampled from the model it trains, so they must
//! come from a simulator that includes the user's terms: [`crate::simulate::NativeSimulator`]
//! with [`with_model`](crate::simulate::NativeSimulator::with_model). An installed oxDNA cannot
//! run them, and [`crate::simulate::OxdnaSimulator`] refuses parameters of users' terms.
//!
//! Units are oxDNA's simulation units (length 0.8518 nm, energy k_B · 3000 K).
//!
//! ```
//! use oxgrad::energy::{EnergyModel, EnergyTerm, ParamSpec, Scope, TermParams};
//! use oxgrad::energy::terms::Pair;
//! use oxgrad::generate::{helix, parse_sequence, Shape};
//! use oxgrad::math::Real;
//! use oxgrad::prelude::*;
//!
//! /// A harmonic spring between the centres of two nucleotides.
//! #[derive(Debug)]
//! struct Spring(usize, usize);
//!
//! impl EnergyTerm for Spring {
//!     fn name(&self) -> &str {
//!         "Spring"
//!     }
//!     fn params(&self) -> Vec<ParamSpec> {
//!         vec![
//!             ParamSpec::new("k_spring", 2.0, "energy / length²", "stiffness"),
//!             ParamSpec::new("r0_spring", 1.5, "length", "rest length").extra(),
//!         ]
//!     }
//!     fn scope(&self) -> Scope {
//!         Scope::Pairs(vec![(self.0, self.1)])
//!     }
//!     fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
//!         let stretch = pair.d.norm() - p.get("r0_spring");
//!         stretch.clone() * stretch * p.get("k_spring") * 0.5
//!     }
//! }
//!
//! let (top, conf) = helix(&parse_sequence("ACGTACGT")?, Shape::Duplex, None, TopologyFormat::Classic)?;
//! let plain = EnergyModel::new(&top, ParamSet::dna2_defaults())?;
//! let model = plain.clone().with_term(Spring(0, 15), 1.0)?;
//! let spring = model.breakdown(&conf)?.custom("Spring").expect("a column per term");
//! assert!(spring > 0.0);
//! assert!((model.energy(&conf)? - plain.energy(&conf)? - spring).abs() < 1e-12);
//! assert_eq!(model.params().get("Spring.k_spring")?, 2.0); // qualified names work too
//! # Ok::<(), oxgrad::Error>(())
//! ```

use super::model::{add_pair, Forces, Frame};
use super::tensor::T1;
use super::terms::{Geometry, Pair, PairGradient, Site};
use crate::error::{Error, Result};
use crate::geometry::Vec3;
use crate::math::{Jet, Lanes, Real, Tape, Var, LANES, V3};
use crate::params::{ParamClass, ParamSet};
use crate::system::{Base, Nucleotide as TopologyNucleotide};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One parameter of a term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Its name inside the term (letters, digits, `_`).
    pub name: String,
    /// The value a model starts with.
    pub default: f64,
    /// Its unit, in oxDNA simulation units (documentation).
    pub unit: String,
    /// What it is (documentation).
    pub doc: String,
    /// How it may be optimised: [`ParamClass::Default`] (part of "all parameters"),
    /// [`ParamClass::Extra`] (only when named) or [`ParamClass::State`] (never).
    pub class: ParamClass,
    /// Whether this is a parameter the model already has (`kt`, `salt_conc`, another term's
    /// constant) that the term reads rather than owns ([`ParamSpec::shared`]).
    #[serde(default)]
    pub shared: bool,
}

impl ParamSpec {
    /// A parameter optimised with "all parameters".
    pub fn new(name: impl Into<String>, default: f64, unit: impl Into<String>, doc: impl Into<String>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            default,
            unit: unit.into(),
            doc: doc.into(),
            class: ParamClass::Default,
            shared: false,
        }
    }

    /// A parameter of the model that the term reads (tied, as in mythos' global namespace): the
    /// temperature `kt`, the salt concentration `salt_conc`, or any other parameter already in
    /// the model (built-in or another term's). Its value and class are the model's; its gradient
    /// collects every use. A model without it refuses the term.
    pub fn shared(name: impl Into<String>) -> ParamSpec {
        ParamSpec { shared: true, class: ParamClass::State, ..ParamSpec::new(name, 0.0, "", "") }
    }

    /// Optimised only when named (a target distance, a geometric constant).
    #[must_use]
    pub fn extra(mut self) -> ParamSpec {
        self.class = ParamClass::Extra;
        self
    }
}

/// Interaction-site offsets in a nucleotide's frame: for each [`Site`] slot, the components
/// along (a1, a2, a3), simulation length units ([`EnergyTerm::sites`]).
pub type SiteOffsets = [[f64; 3]; 4];

/// `c[0] a1 + c[1] a2 + c[2] a3` for the frame `f` (zero coefficients skipped).
pub fn comb<T: Real>(f: &[V3<T>; 3], c: [f64; 3]) -> V3<T> {
    // component by component: whole vectors of wide numbers are costly to move
    let component = |get: fn(&V3<T>) -> &T| {
        let mut acc: Option<T> = None;
        for (v, k) in f.iter().zip(c) {
            if k != 0.0 {
                let t = get(v).clone() * k;
                acc = Some(match acc {
                    Some(a) => a + t,
                    None => t,
                });
            }
        }
        acc.unwrap_or_else(|| f[0].x.cst(0.0))
    };
    V3::new(component(|v| &v.x), component(|v| &v.y), component(|v| &v.z))
}

/// Which nucleotides a term acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Scope {
    /// Every backbone-bonded pair (p, q = n3(p)), as FENE and stacking.
    Bonded,
    /// Every pair p < q that is not backbone-bonded, with centres closer than `cutoff`
    /// (minimum image; the model's neighbour lists grow to cover it). The energy should go to
    /// zero smoothly at the cut-off: a jump there is a force MD never sees, and energy drifts.
    NonBonded {
        /// Centre-distance cut-off, simulation length units.
        cutoff: f64,
    },
    /// These pairs (p, q), at any distance (minimum image).
    Pairs(Vec<(usize, usize)>),
    /// These nucleotides, one at a time ([`EnergyTerm::nucleotide_energy`]).
    Nucleotides(Vec<usize>),
}

/// One nucleotide as a single-nucleotide term sees it.
#[derive(Debug, Clone)]
pub struct NucleotideFrame<T> {
    /// Its centre, as stored in the configuration (not folded into the box).
    pub r: V3<T>,
    /// Its frame (a1, a2, a3).
    pub a: [V3<T>; 3],
    /// Its interaction sites' offsets from the centre, indexed by [`super::terms::Site`].
    pub sites: [V3<T>; 4],
}

/// The values of a term's parameters, by the names the term declared.
#[derive(Debug, Clone)]
pub struct TermParams<T> {
    term: Arc<str>,
    names: Arc<[String]>,
    values: Vec<T>,
    /// While a term is checked ([`EnergyModel::with_term`](super::EnergyModel::with_term)):
    /// the undeclared names it reads, and the value they get meanwhile.
    probe: Option<(Arc<std::sync::Mutex<Vec<String>>>, T)>,
}

impl<T: Clone> TermParams<T> {
    /// The value of the term's parameter `name`.
    ///
    /// # Panics
    /// If the term did not declare `name` in [`EnergyTerm::params`] (a mistake in the term's
    /// code). [`EnergyModel::with_term`](super::EnergyModel::with_term) evaluates the term in
    /// `f64` and as tensors, which take both sides of every [`Real::choose`], and reports such
    /// names as an error: a term attached to a model reads only names it declared, unless it
    /// chooses names by something other than its [`Real`] arithmetic (a global, a counter).
    #[must_use]
    pub fn get(&self, name: &str) -> T {
        // byte by byte: names are short, and a call to `memcmp` per name costs more than this
        let same = |n: &String| n.len() == name.len() && n.bytes().zip(name.bytes()).all(|(x, y)| x == y);
        match self.names.iter().position(same) {
            Some(k) => self.values[k].clone(),
            None if self.probe.is_some() => {
                let (misses, value) = self.probe.as_ref().expect("checked");
                if let Ok(mut m) = misses.lock() {
                    m.push(name.to_string());
                }
                value.clone()
            }
            None => panic!(
                "energy term '{}' reads parameter '{name}', which its params() does not declare (it declares: {})",
                self.term,
                self.names.join(", ")
            ),
        }
    }
}

/// A term's parameters serve the crate's building blocks ([`super::functions`], the built-in
/// terms' factors in [`super::terms`]), which read parameters by name.
impl<T: Clone> super::functions::ParamSource<T> for TermParams<T> {
    fn p(&self, name: &str) -> T {
        self.get(name)
    }
}

/// A user's energy term (see the [module docs](self)). Only [`EnergyTerm::name`],
/// [`EnergyTerm::params`], [`EnergyTerm::scope`] and the energy that the scope calls are needed.
pub trait EnergyTerm: Send + Sync + std::fmt::Debug + 'static {
    /// The term's name: letters, digits and `_`, not one of the built-in terms' names.
    fn name(&self) -> &str;

    /// Its parameters.
    fn params(&self) -> Vec<ParamSpec>;

    /// The nucleotides it acts on.
    fn scope(&self) -> Scope;

    /// What rebuilds this term, as its [`super::model_file::TermRegistry`] constructor reads it
    /// back from a model file (e.g. the chosen nucleotides). The default, an empty table, suits
    /// terms without settings.
    fn settings(&self) -> toml::Table {
        toml::Table::new()
    }

    /// Whether the term acts on the pair (p, q) of its scope, from the two nucleotides as the
    /// topology has them (base, strand, neighbours) and their indices: a base-pairing term acts
    /// on complementary bases only. The default: every pair of the scope.
    fn acts_on(&self, p: (usize, &TopologyNucleotide), q: (usize, &TopologyNucleotide)) -> bool {
        let _ = (p, q);
        true
    }

    /// A constant factor of the pair's energy from the topology (default 1): a charge product
    /// (half charges at strand ends), a strength that depends on the bases. It multiplies the
    /// energy of [`EnergyTerm::pair_energy`] and so its forces and gradients; parameters that
    /// should be trained belong in [`EnergyTerm::params`] instead.
    fn pair_scale(&self, p: (usize, &TopologyNucleotide), q: (usize, &TopologyNucleotide)) -> f64 {
        let _ = (p, q);
        1.0
    }

    /// A parameter of the term, by the name it declared, that multiplies the energy of pairs of
    /// these bases (`p` as the scope gives the pair: the 5' side of a bonded pair, the lower
    /// index of a non-bonded one): a strength per base step or base pair, trained like any
    /// parameter (oxRNA2's sequence-dependent stacking, H-bonding and cross-stacking use it).
    /// It depends on the bases only, so the model checks every answer when the term is added.
    /// The default: none.
    fn pair_strength(&self, p: Base, q: Base) -> Option<&str> {
        let _ = (p, q);
        None
    }

    /// The term's own interaction sites, if the model's (oxDNA1/oxDNA2) are not its: each
    /// site's offset from the centre as components along (a1, a2, a3), in the slots of
    /// [`Site`] (backbone, oxDNA1 backbone, stacking, base). The pairs and nucleotides the term
    /// receives carry these sites. oxRNA2's terms give the RNA sites. Default: the model's.
    fn sites(&self) -> Option<SiteOffsets> {
        None
    }

    /// The energy of one pair (scopes [`Scope::Bonded`], [`Scope::NonBonded`], [`Scope::Pairs`]).
    /// With tensors, `pair` holds every pair of a batch at once: use only arithmetic and the
    /// [`Real`] methods, no branches on values (use [`Real::choose`]).
    fn pair_energy<T: Real>(&self, params: &TermParams<T>, pair: &Pair<T>) -> T {
        let _ = params;
        pair.d.x.cst(0.0)
    }

    /// The energy of one nucleotide (scope [`Scope::Nucleotides`]).
    fn nucleotide_energy<T: Real>(&self, params: &TermParams<T>, nucleotide: &NucleotideFrame<T>) -> T {
        let _ = params;
        nucleotide.r.x.cst(0.0)
    }
}

/// [`EnergyTerm`] with its generic energies instantiated for the three number types.
trait Evaluate: Send + Sync + std::fmt::Debug {
    fn as_any(&self) -> &dyn std::any::Any;
    fn acts(&self, p: (usize, &TopologyNucleotide), q: (usize, &TopologyNucleotide)) -> bool;
    fn scale(&self, p: (usize, &TopologyNucleotide), q: (usize, &TopologyNucleotide)) -> f64;
    fn pair_f64(&self, p: &TermParams<f64>, pair: &Pair<f64>) -> f64;
    fn pair_var<'t>(&self, p: &TermParams<Var<'t>>, pair: &Pair<Var<'t>>) -> Var<'t>;
    #[cfg(test)]
    fn pair_jet(&self, p: &TermParams<Jet<9>>, pair: &Pair<Jet<9>>) -> Jet<9>;
    fn pair_tensor(&self, p: &TermParams<T1>, pair: &Pair<T1>) -> T1;
    fn nt_f64(&self, p: &TermParams<f64>, nt: &NucleotideFrame<f64>) -> f64;
    fn nt_jet(&self, p: &TermParams<Jet<6>>, nt: &NucleotideFrame<Jet<6>>) -> Jet<6>;
    fn nt_tensor(&self, p: &TermParams<T1>, nt: &NucleotideFrame<T1>) -> T1;
}

impl<E: EnergyTerm> Evaluate for E {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn acts(&self, p: (usize, &TopologyNucleotide), q: (usize, &TopologyNucleotide)) -> bool {
        self.acts_on(p, q)
    }
    fn scale(&self, p: (usize, &TopologyNucleotide), q: (usize, &TopologyNucleotide)) -> f64 {
        self.pair_scale(p, q)
    }
    fn pair_f64(&self, p: &TermParams<f64>, pair: &Pair<f64>) -> f64 {
        self.pair_energy(p, pair)
    }
    fn pair_var<'t>(&self, p: &TermParams<Var<'t>>, pair: &Pair<Var<'t>>) -> Var<'t> {
        self.pair_energy(p, pair)
    }
    #[cfg(test)]
    fn pair_jet(&self, p: &TermParams<Jet<9>>, pair: &Pair<Jet<9>>) -> Jet<9> {
        self.pair_energy(p, pair)
    }
    fn pair_tensor(&self, p: &TermParams<T1>, pair: &Pair<T1>) -> T1 {
        self.pair_energy(p, pair)
    }
    fn nt_f64(&self, p: &TermParams<f64>, nt: &NucleotideFrame<f64>) -> f64 {
        self.nucleotide_energy(p, nt)
    }
    fn nt_jet(&self, p: &TermParams<Jet<6>>, nt: &NucleotideFrame<Jet<6>>) -> Jet<6> {
        self.nucleotide_energy(p, nt)
    }
    fn nt_tensor(&self, p: &TermParams<T1>, nt: &NucleotideFrame<T1>) -> T1 {
        self.nucleotide_energy(p, nt)
    }
}

/// A user's term attached to a model: its scope and parameter names resolved, with a weight.
#[derive(Debug, Clone)]
pub(crate) struct Attached {
    term: Arc<dyn Evaluate>,
    pub(crate) name: Arc<str>,
    pub(crate) scope: Scope,
    pub(crate) weight: f64,
    /// Its settings, for model files.
    pub(crate) settings: toml::Table,
    /// The term's own parameter names; the names that find them in the model's set whatever
    /// other terms it has (`Term.local` for its own, the given name for shared ones); the names
    /// they are stored under now.
    locals: Arc<[String]>,
    keys: Vec<String>,
    stored: Vec<String>,
    classes: Vec<Option<ParamClass>>,
    /// The index of the parameter that multiplies a pair's energy, by the pair's bases
    /// ([`EnergyTerm::pair_strength`]).
    strengths: [[Option<usize>; 5]; 5],
    /// The term's own sites ([`EnergyTerm::sites`]).
    sites: Option<SiteOffsets>,
    values: TermParams<f64>,
    jets6: TermParams<Jet<6>>,
}

impl Attached {
    /// Checks `term` against a model of `n` nucleotides and registers its parameters in `params`.
    pub(crate) fn new<E: EnergyTerm>(
        term: E,
        weight: f64,
        n: usize,
        params: &mut ParamSet,
        geo: &Geometry<f64>,
    ) -> Result<Attached> {
        let name: Arc<str> = term.name().into();
        crate::params::check_term_name(&name)?;
        if !weight.is_finite() {
            return Err(Error::invalid(format!("weight of term '{name}'"), weight, "a finite number"));
        }
        let scope = term.scope();
        let settings = term.settings();
        let bad_index = |i: usize| i >= n;
        match &scope {
            Scope::Bonded => {}
            Scope::NonBonded { cutoff } => {
                if !(cutoff.is_finite() && *cutoff > 0.0) {
                    return Err(Error::invalid(format!("cut-off of term '{name}'"), cutoff, "a positive length"));
                }
            }
            Scope::Pairs(pairs) => {
                if let Some((p, q)) = pairs.iter().find(|(p, q)| bad_index(*p) || bad_index(*q) || p == q) {
                    return Err(Error::invalid(
                        format!("pair of term '{name}'"),
                        format!("({p}, {q})"),
                        format!("pairs are two different nucleotide indices below {n} (0-based, as in the topology)"),
                    ));
                }
            }
            Scope::Nucleotides(list) => {
                if let Some(i) = list.iter().find(|i| bad_index(**i)) {
                    return Err(Error::invalid(
                        format!("nucleotide of term '{name}'"),
                        i,
                        format!("indices are below {n} (0-based, as in the topology)"),
                    ));
                }
            }
        }
        let specs = term.params();
        let mut locals = Vec::with_capacity(specs.len());
        let mut keys = Vec::with_capacity(specs.len());
        // the classes of the term's own parameters (a shared one keeps the model's)
        let classes = specs.iter().map(|s| (!s.shared).then_some(s.class)).collect();
        for s in &specs {
            if locals.contains(&s.name) {
                return Err(Error::invalid(
                    format!("parameter of term '{name}'"),
                    &s.name,
                    "declared twice: give each parameter one ParamSpec",
                ));
            }
            if !s.shared && params.contains(&s.name) && params.class_of(&s.name).is_ok_and(|c| c == ParamClass::State) {
                return Err(Error::invalid(
                    format!("parameter of term '{name}'"),
                    &s.name,
                    format!(
                        "the model's '{}' describes the simulated state (temperature, salt): declare it ParamSpec::shared(\"{}\") to read it, or give the term's own parameter another name",
                        s.name, s.name
                    ),
                ));
            }
            keys.push(if s.shared {
                params.canonical(&s.name).map_err(|_| {
                    Error::invalid(
                        format!("shared parameter of term '{name}'"),
                        &s.name,
                        "the model has no parameter of this name: use ParamSpec::new for a parameter the term owns",
                    )
                })?;
                s.name.clone()
            } else {
                params.register_custom(&name, &s.name, s.default, s.class)?;
                format!("{name}.{}", s.name)
            });
            locals.push(s.name.clone());
        }
        let strengths = resolve_strengths(&term, &name, &locals)?;
        let sites = term.sites();
        if let Some(bad) = sites.iter().flatten().flatten().find(|x| !x.is_finite()) {
            return Err(Error::invalid(format!("sites of term '{name}'"), bad, "finite offsets"));
        }
        let locals: Arc<[String]> = locals.into();
        let values = TermParams { term: name.clone(), names: locals.clone(), values: Vec::new(), probe: None };
        let jets6 = TermParams { term: name.clone(), names: locals.clone(), values: Vec::new(), probe: None };
        let mut a = Attached {
            term: Arc::new(term),
            name,
            scope,
            weight,
            settings,
            locals,
            keys,
            stored: Vec::new(),
            classes,
            strengths,
            sites,
            values,
            jets6,
        };
        a.set_params(params)?;
        a.probe(geo)?;
        Ok(a)
    }

    /// Evaluates the term once on a made-up pair or nucleotide, in `f64` and as tensors: a
    /// parameter it reads without declaring it is an error now rather than a panic in the middle
    /// of a run. The tensor evaluation takes both sides of every [`Real::choose`] (and no early
    /// exit), so it reads every name that any evaluation of the term can read.
    fn probe(&self, geo: &Geometry<f64>) -> Result<()> {
        let misses = Arc::new(std::sync::Mutex::new(Vec::new()));
        let p = TermParams { probe: Some((misses.clone(), 1.0)), ..self.values.clone() };
        let axes = [Vec3::new(1.0, 0.0, 0.0), Vec3::new(0.0, 1.0, 0.0), Vec3::new(0.0, 0.0, 1.0)];
        let (centre, separation) = (Vec3::new(0.5, 0.3, 0.2), Vec3::new(0.6, 0.3, 0.2));
        let frame = axes.map(V3::from);
        let nucleotide = matches!(self.scope, Scope::Nucleotides(_));
        if nucleotide {
            let sites = self.nucleotide_sites(geo, &frame);
            self.term.nt_f64(&p, &NucleotideFrame { r: V3::from(centre), a: frame, sites });
        } else {
            self.term.pair_f64(&p, &self.pair(geo, V3::from(separation), frame.clone(), frame));
        }
        let device = crate::backend::cpu();
        let c = |x: f64| T1::from_data(burn::tensor::TensorData::new(vec![x], [1]), &device);
        let v = |x: Vec3| V3::new(c(x.0[0]), c(x.0[1]), c(x.0[2]));
        let values = self.values.values.iter().map(|&x| c(x)).collect();
        let p = TermParams {
            term: self.name.clone(),
            names: self.locals.clone(),
            values,
            probe: Some((misses.clone(), c(1.0))),
        };
        let (geo, frame) = (geo.map(|x| c(*x)), axes.map(v));
        if nucleotide {
            let sites = self.nucleotide_sites(&geo, &frame);
            self.term.nt_tensor(&p, &NucleotideFrame { r: v(centre), a: frame, sites });
        } else {
            self.term.pair_tensor(&p, &self.pair(&geo, v(separation), frame.clone(), frame));
        }
        let all = misses.lock().map_or_else(|e| e.into_inner().clone(), |m| m.clone());
        let mut misses: Vec<String> = Vec::new();
        for name in all {
            if !misses.contains(&name) {
                misses.push(name);
            }
        }
        if misses.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(
            format!("energy of term '{}'", self.name),
            misses.join(", "),
            format!(
                "it reads parameter(s) its params() does not declare (it declares: {}): add a ParamSpec for each (ParamSpec::shared for one the model already has)",
                self.locals.join(", ")
            ),
        ))
    }

    /// Reads the term's values from `params` (which must hold them: a set derived from the
    /// model's own, or read from a file that has them) and gives them the term's classes (a
    /// file does not record how a parameter may be optimised).
    pub(crate) fn set_params(&mut self, params: &mut ParamSet) -> Result<()> {
        let stored = self
            .keys
            .iter()
            .map(|s| {
                params.canonical(s).map(str::to_string).map_err(|_| {
                    Error::invalid(
                        "parameter set",
                        params.model(),
                        format!(
                            "it has no '{s}' for the model's term '{}': derive new values from model.params() (e.g. model.params().with_params(...)) so they keep the terms' parameters",
                            self.name
                        ),
                    )
                })
            })
            .collect::<Result<Vec<String>>>()?;
        let values = stored.iter().map(|s| params.get(s)).collect::<Result<Vec<f64>>>()?;
        self.stored = stored;
        for (s, class) in self.stored.iter().zip(&self.classes) {
            if let Some(class) = class {
                params.set_class(s, *class)?;
            }
        }
        self.jets6.values = values.iter().map(|&v| Jet::cst(v)).collect();
        self.values.values = values;
        Ok(())
    }

    /// The term, if it is an `E` (the force kernel evaluates oxRNA2's own terms itself).
    pub(crate) fn term_as<E: EnergyTerm>(&self) -> Option<&E> {
        self.term.as_any().downcast_ref()
    }

    /// The term's parameter values, by the names it declared.
    pub(crate) fn values(&self) -> &TermParams<f64> {
        &self.values
    }

    /// The constant factor of the pair (p, q) of the term's scope, weight included, as
    /// [`Attached::add_forces`] applies it; `None` where the term does not act on the pair.
    pub(crate) fn pair_weight(&self, topology: &[TopologyNucleotide], p: usize, q: usize) -> Option<f64> {
        self.term
            .acts((p, &topology[p]), (q, &topology[q]))
            .then(|| self.weight * self.factor(&self.term_pair(topology, p, q)))
    }

    /// The term's parameters as tensors, from any parameter source of the model.
    pub(crate) fn tensor_params(&self, src: &impl super::functions::ParamSource<T1>) -> TermParams<T1> {
        TermParams {
            term: self.name.clone(),
            names: self.locals.clone(),
            values: self.stored.iter().map(|s| src.p(s)).collect(),
            probe: None,
        }
    }

    /// The pair (separation `d`, frames `a`, `b`) with the term's sites.
    pub(crate) fn pair<T: Real>(&self, geo: &Geometry<T>, d: V3<T>, a: [V3<T>; 3], b: [V3<T>; 3]) -> Pair<T> {
        match &self.sites {
            None => geo.pair(d, a, b),
            Some(o) => {
                // array literals build in place (`map` moves every wide vector once more)
                let sp = [comb(&a, o[0]), comb(&a, o[1]), comb(&a, o[2]), comb(&a, o[3])];
                let sq = [comb(&b, o[0]), comb(&b, o[1]), comb(&b, o[2]), comb(&b, o[3])];
                Pair { d, a, b, sp, sq }
            }
        }
    }

    /// The term's sites of a nucleotide with frame `a`.
    pub(crate) fn nucleotide_sites<T: Real>(&self, geo: &Geometry<T>, a: &[V3<T>; 3]) -> [V3<T>; 4] {
        match &self.sites {
            None => [Site::Backbone, Site::Backbone1, Site::Stack, Site::Base].map(|s| geo.offset(s, a)),
            Some(o) => [comb(a, o[0]), comb(a, o[1]), comb(a, o[2]), comb(a, o[3])],
        }
    }

    /// The term's parameters as one tensor `[m + 1]` whose last entry is 1, and each pair's
    /// index into it ([`EnergyTerm::pair_strength`], the last entry for a pair without one);
    /// `None` when the term names no strengths.
    pub(crate) fn strength_table(&self, params: &TermParams<T1>, pairs: &[TermPair]) -> Option<(T1, Vec<i64>)> {
        if self.strengths.iter().flatten().all(Option::is_none) {
            return None;
        }
        let m = params.values.len();
        let mut entries = params.values.clone();
        entries.push(params.values[0].ones_like());
        let index = pairs.iter().map(|t| t.strength.unwrap_or(m) as i64).collect();
        Some((T1::cat(entries, 0), index))
    }

    /// Centre-distance range of a non-bonded term (0 otherwise).
    pub(crate) fn range(&self) -> f64 {
        match self.scope {
            Scope::NonBonded { cutoff } => cutoff,
            _ => 0.0,
        }
    }

    /// The pairs the term acts on in `frame`: bonded, chosen, or the non-bonded `candidates`
    /// within its cut-off (pairs p < q that are not `bonded`).
    pub(crate) fn pairs(
        &self,
        frame: &Frame,
        bonded: &[(usize, usize)],
        topology: &[TopologyNucleotide],
        candidates: &[(usize, usize)],
    ) -> Vec<TermPair> {
        let is_bonded = |p: usize, q: usize| topology[p].n3 == Some(q) || topology[p].n5 == Some(q);
        let acts = |&(p, q): &(usize, usize)| self.term.acts((p, &topology[p]), (q, &topology[q]));
        let scaled = |(p, q): (usize, usize)| self.term_pair(topology, p, q);
        match &self.scope {
            Scope::Bonded => bonded.iter().copied().filter(acts).map(scaled).collect(),
            Scope::Pairs(pairs) => pairs.iter().copied().filter(acts).map(scaled).collect(),
            Scope::NonBonded { cutoff } => candidates
                .iter()
                .copied()
                .filter(|&(p, q)| {
                    !is_bonded(p, q) && frame.bx.min_image(frame.r[q] - frame.r[p]).norm2() < cutoff * cutoff
                })
                .filter(acts)
                .map(scaled)
                .collect(),
            Scope::Nucleotides(_) => Vec::new(),
        }
    }

    /// The pair (p, q) as the term evaluates it: its scale and strength from the topology.
    fn term_pair(&self, topology: &[TopologyNucleotide], p: usize, q: usize) -> TermPair {
        TermPair {
            p,
            q,
            scale: self.term.scale((p, &topology[p]), (q, &topology[q])),
            strength: self.strengths[base_slot(topology[p].base)][base_slot(topology[q].base)],
        }
    }

    /// The unweighted energy of the pair (p, q) at separation `d` = r_q − r_p (minimum image)
    /// with frames `a`, `b`, where the term acts on it (0 elsewhere): one pair of Monte Carlo's
    /// pair sum. `bonded`: p and q are backbone neighbours, ordered as the model's bonded pairs
    /// (p, n3(p)); a non-bonded pair comes with p < q, as the candidates of [`Attached::pairs`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pair_unweighted(
        &self,
        geo: &Geometry<f64>,
        topology: &[TopologyNucleotide],
        (p, q): (usize, usize),
        d: Vec3,
        a: &[Vec3; 3],
        b: &[Vec3; 3],
        bonded: bool,
    ) -> f64 {
        let one = |p: usize, q: usize, d: Vec3, a: &[Vec3; 3], b: &[Vec3; 3]| {
            if !self.term.acts((p, &topology[p]), (q, &topology[q])) {
                return 0.0;
            }
            let v = |x: &[Vec3; 3]| x.map(V3::from);
            let pair = self.pair(geo, d.into(), v(a), v(b));
            self.factor(&self.term_pair(topology, p, q)) * self.term.pair_f64(&self.values, &pair)
        };
        match &self.scope {
            Scope::Bonded if bonded => one(p, q, d, a, b),
            Scope::NonBonded { cutoff } if !bonded && d.norm2() < cutoff * cutoff => one(p, q, d, a, b),
            // a chosen pair counts as often, and in the order, as the list names it
            Scope::Pairs(list) => list
                .iter()
                .map(|&t| match t {
                    t if t == (p, q) => one(p, q, d, a, b),
                    t if t == (q, p) => one(q, p, -d, b, a),
                    _ => 0.0,
                })
                .sum(),
            _ => 0.0,
        }
    }

    /// The weighted energy of nucleotide `i` at `r` with frame `a` (single-nucleotide terms; 0
    /// for other scopes), as often as the scope names it.
    pub(crate) fn nucleotide_weighted(&self, geo: &Geometry<f64>, i: usize, r: Vec3, a: &[Vec3; 3]) -> f64 {
        let times = self.nucleotides().iter().filter(|&&k| k == i).count();
        if times == 0 || self.weight == 0.0 {
            return 0.0;
        }
        self.weight * times as f64 * self.nucleotide_f64(geo, r, a)
    }

    /// The term's unweighted energy of one nucleotide.
    fn nucleotide_f64(&self, geo: &Geometry<f64>, r: Vec3, a: &[Vec3; 3]) -> f64 {
        let a = a.map(V3::from);
        let sites = self.nucleotide_sites(geo, &a);
        self.term.nt_f64(&self.values, &NucleotideFrame { r: r.into(), a, sites })
    }

    /// The nucleotides of a single-nucleotide term.
    pub(crate) fn nucleotides(&self) -> &[usize] {
        match &self.scope {
            Scope::Nucleotides(list) => list,
            _ => &[],
        }
    }

    /// The term's unweighted energy in `frame` over `pairs` and its nucleotides.
    pub(crate) fn energy(&self, geo: &Geometry<f64>, frame: &Frame, pairs: &[TermPair]) -> f64 {
        let mut e = 0.0;
        let v = |x: &[Vec3; 3]| x.map(V3::from);
        for t in pairs {
            let d = frame.bx.min_image(frame.r[t.q] - frame.r[t.p]).into();
            let pair = self.pair(geo, d, v(&frame.axes[t.p]), v(&frame.axes[t.q]));
            e += self.factor(t) * self.term.pair_f64(&self.values, &pair);
        }
        for &i in self.nucleotides() {
            e += self.nucleotide_f64(geo, frame.r[i], &frame.axes[i]);
        }
        e
    }

    /// Adds the weighted energy, forces and torques over the term's pairs in `frame` (those of
    /// [`Attached::pairs`], in the same order) and its nucleotides: per pair one `f64`
    /// evaluation that records a [`Tape`] and one backward sweep over it (the derivatives by the
    /// separation, both frames and both sets of sites, turned into forces and torques by hand);
    /// per nucleotide one evaluation with 6 derivative directions (translation, rotation).
    pub(crate) fn add_forces(
        &self,
        geo: &Geometry<f64>,
        frame: &Frame,
        bonded: &[(usize, usize)],
        topology: &[TopologyNucleotide],
        candidates: &[(usize, usize)],
        out: &mut Forces,
    ) {
        let offsets = self.sites.unwrap_or_else(|| geo.site_offsets());
        let tape = Tape::new(PAIR_INPUTS);
        let mut run = PairRunner::new(self, &tape);
        let sites_of = |i: usize| offsets.map(|o| site(&frame.axes[i], o));
        match &self.scope {
            Scope::NonBonded { cutoff } => {
                // the candidates walked once: the separation serves the cut-off and the energy,
                // each nucleotide's sites are computed once
                let sites: Vec<[Vec3; 4]> = (0..frame.r.len()).map(sites_of).collect();
                let is_bonded = |p: usize, q: usize| topology[p].n3 == Some(q) || topology[p].n5 == Some(q);
                for &(p, q) in candidates {
                    let d = frame.bx.min_image(frame.r[q] - frame.r[p]);
                    if is_bonded(p, q) || d.norm2() >= cutoff * cutoff {
                        continue;
                    }
                    if self.term.acts((p, &topology[p]), (q, &topology[q])) {
                        run.push(
                            self.term_pair(topology, p, q),
                            pair_vectors(&d, &frame.axes[p], &frame.axes[q], &sites[p], &sites[q]),
                            out,
                        );
                    }
                }
            }
            _ => {
                for t in self.pairs(frame, bonded, topology, candidates) {
                    let d = frame.bx.min_image(frame.r[t.q] - frame.r[t.p]);
                    let (sp, sq) = (sites_of(t.p), sites_of(t.q));
                    run.push(t, pair_vectors(&d, &frame.axes[t.p], &frame.axes[t.q], &sp, &sq), out);
                }
            }
        }
        run.flush(out);
        let w = self.weight;
        let geo6 = geo.map(|x| Jet::<6>::cst(*x));
        for &i in self.nucleotides() {
            let a = turned(&frame.axes[i], 3);
            let sites = self.nucleotide_sites(&geo6, &a);
            let e = self.term.nt_jet(&self.jets6, &NucleotideFrame { r: moved(frame.r[i], 0), a, sites });
            out.energy += w * e.v;
            for k in 0..3 {
                out.f[i].0[k] -= w * e.d[k];
                out.torque[i].0[k] -= w * e.d[3 + k];
            }
        }
    }

    /// The forces of the term's `pairs` as they were computed before the tape: one evaluation
    /// with a 9-direction dual number per pair (the reference of the tests).
    #[cfg(test)]
    pub(crate) fn add_pair_forces_by_jets(
        &self,
        geo: &Geometry<f64>,
        frame: &Frame,
        pairs: &[TermPair],
        out: &mut Forces,
    ) {
        let params = TermParams {
            term: self.name.clone(),
            names: self.locals.clone(),
            values: self.values.values.iter().map(|&v| Jet::cst(v)).collect(),
            probe: None,
        };
        let offsets = self.sites.unwrap_or_else(|| geo.site_offsets());
        for t in pairs {
            let (p, q) = (t.p, t.q);
            let w = self.weight * self.factor(t);
            let d = frame.bx.min_image(frame.r[q] - frame.r[p]);
            let (a, b): ([V3<Jet<9>>; 3], [V3<Jet<9>>; 3]) = (turned(&frame.axes[p], 3), turned(&frame.axes[q], 6));
            let sp = [comb(&a, offsets[0]), comb(&a, offsets[1]), comb(&a, offsets[2]), comb(&a, offsets[3])];
            let sq = [comb(&b, offsets[0]), comb(&b, offsets[1]), comb(&b, offsets[2]), comb(&b, offsets[3])];
            let e = self.term.pair_jet(&params, &Pair { d: moved(d, 0), a, b, sp, sq });
            let g = PairGradient {
                d: Vec3(std::array::from_fn(|k| w * e.d[k])),
                p: Vec3(std::array::from_fn(|k| w * e.d[3 + k])),
                q: Vec3(std::array::from_fn(|k| w * e.d[6 + k])),
            };
            add_pair(out, (p, q), w * e.v, &g);
        }
    }

    /// The constant factor of a pair's energy: its scale times its strength parameter's value.
    fn factor(&self, t: &TermPair) -> f64 {
        t.scale * t.strength.map_or(1.0, |k| self.values.values[k])
    }

    /// The term's unweighted energy of one pair of a batch, as tensors.
    pub(crate) fn pair_tensor(&self, params: &TermParams<T1>, pair: &Pair<T1>) -> T1 {
        self.term.pair_tensor(params, pair)
    }

    /// The term's unweighted energy of nucleotides of a batch, as tensors.
    pub(crate) fn nucleotide_tensor(&self, params: &TermParams<T1>, nt: &NucleotideFrame<T1>) -> T1 {
        self.term.nt_tensor(params, nt)
    }
}

/// The pairs of one term in one frame, evaluated in batches of [`LANES`]: the term's energy is
/// recorded on a [`Tape`] once and replayed on every pair of a batch at once, each pair whose
/// comparisons come out otherwise run (and recorded afresh) on its own. The pairs' energies,
/// forces and torques are added in the order the pairs come, whatever the batches.
struct PairRunner<'t, 'a> {
    term: &'a Attached,
    tape: &'t Tape,
    params: TermParams<Var<'t>>,
    /// The pairs waiting for a batch, their inputs in the lanes of `inputs`.
    pending: Vec<TermPair>,
    lanes: Lanes,
    inputs: [[f64; LANES]; PAIR_INPUTS],
    grads: Vec<[f64; LANES]>,
    adjoint: Vec<f64>,
    grad: [f64; PAIR_INPUTS],
    /// The vectors the recorded energy reads (the others' derivatives are zero).
    read: Vec<usize>,
}

impl<'t, 'a> PairRunner<'t, 'a> {
    fn new(term: &'a Attached, tape: &'t Tape) -> Self {
        let params = TermParams {
            term: term.name.clone(),
            names: term.locals.clone(),
            values: term.values.values.iter().map(|&v| tape.cst(v)).collect(),
            probe: None,
        };
        PairRunner {
            term,
            tape,
            params,
            pending: Vec::with_capacity(LANES),
            lanes: Lanes::default(),
            inputs: [[0.0; LANES]; PAIR_INPUTS],
            grads: vec![[0.0; LANES]; PAIR_INPUTS],
            adjoint: Vec::new(),
            grad: [0.0; PAIR_INPUTS],
            read: Vec::new(),
        }
    }

    /// Adds the pair `t` with its inputs as 15 vectors (d, p's frame, q's frame, p's sites, q's
    /// sites), evaluated with the next batch.
    fn push(&mut self, t: TermPair, vectors: [&Vec3; 15], out: &mut Forces) {
        let j = self.pending.len();
        assert!(j < LANES, "a full batch is evaluated at once");
        for (k, x) in vectors.into_iter().enumerate() {
            self.inputs[3 * k][j] = x.0[0];
            self.inputs[3 * k + 1][j] = x.0[1];
            self.inputs[3 * k + 2][j] = x.0[2];
        }
        self.pending.push(t);
        if j + 1 == LANES {
            self.flush(out);
        }
    }

    /// Evaluates the pending pairs and adds them to `out`, in order.
    fn flush(&mut self, out: &mut Forces) {
        let n = self.pending.len();
        if n == 0 {
            return;
        }
        // spare lanes repeat the first pair (numbers that are computed and dropped)
        for x in &mut self.inputs {
            for j in n..LANES {
                x[j] = x[0];
            }
        }
        let (values, ok) = self.tape.replay_lanes(&mut self.lanes, &self.inputs);
        let constant = self.tape.is_constant();
        if !constant && ok.iter().any(|&x| x) {
            self.tape.gradient_lanes(&mut self.lanes, &mut self.grads);
        }
        // a pair that runs on its own may record afresh: the batch's pairs keep its reads
        let mut batch_read = [0; 15];
        batch_read[..self.read.len()].copy_from_slice(&self.read);
        let read = &batch_read[..self.read.len()];
        let pending = std::mem::take(&mut self.pending);
        for (j, t) in pending.iter().enumerate() {
            let inputs = &self.inputs;
            let vector = |k: usize| Vec3([inputs[3 * k][j], inputs[3 * k + 1][j], inputs[3 * k + 2][j]]);
            if !ok[j] {
                let vectors = std::array::from_fn(vector);
                self.one(t, &vectors, out);
                continue;
            }
            let w = self.term.weight * self.term.factor(t);
            if constant {
                out.energy += w * values[j];
                continue;
            }
            let grads = &self.grads;
            let derivative = |k: usize| Vec3([grads[3 * k][j], grads[3 * k + 1][j], grads[3 * k + 2][j]]);
            let g = pair_gradient(derivative, vector, read);
            add_pair(out, (t.p, t.q), w * values[j], &PairGradient { d: g.d * w, p: g.p * w, q: g.q * w });
        }
        self.pending = pending;
        self.pending.clear();
    }

    /// One pair on its own: replayed, or recorded afresh where the term's code would take
    /// another branch (or nothing is recorded yet).
    fn one(&mut self, t: &TermPair, vectors: &[Vec3; 15], out: &mut Forces) {
        let mut inputs = [0.0; PAIR_INPUTS];
        for (x, v) in inputs.chunks_exact_mut(3).zip(vectors) {
            x.copy_from_slice(&v.0);
        }
        let tape = self.tape;
        let e = match tape.replay(&inputs) {
            Some(e) => e,
            None => {
                tape.clear();
                let e = self.term.term.pair_var(&self.params, &var_pair(tape, &inputs));
                tape.finish(&e);
                self.read.clear();
                self.read.extend(tape.reads().into_iter().map(|k| k / 3));
                self.read.dedup();
                e.v
            }
        };
        let w = self.term.weight * self.term.factor(t);
        if tape.is_constant() {
            // no input reaches it (a pair beyond the term's own reach): no forces
            out.energy += w * e;
            return;
        }
        tape.gradient(&mut self.adjoint, &mut self.grad);
        let grad = &self.grad;
        let g = pair_gradient(|k| Vec3([grad[3 * k], grad[3 * k + 1], grad[3 * k + 2]]), |k| vectors[k], &self.read);
        add_pair(out, (t.p, t.q), w * e, &PairGradient { d: g.d * w, p: g.p * w, q: g.q * w });
    }
}

/// A pair a term acts on in one frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TermPair {
    pub(crate) p: usize,
    pub(crate) q: usize,
    /// [`EnergyTerm::pair_scale`].
    pub(crate) scale: f64,
    /// The index of the term's parameter that multiplies the energy ([`EnergyTerm::pair_strength`]).
    pub(crate) strength: Option<usize>,
}

/// The row of a base in the strength table.
fn base_slot(b: Base) -> usize {
    match b {
        Base::A => 0,
        Base::C => 1,
        Base::G => 2,
        Base::T => 3,
        Base::U => 4,
    }
}

/// The term's [`EnergyTerm::pair_strength`] for every pair of bases, as indices into its
/// parameters (`locals`); a name it did not declare is an error.
fn resolve_strengths<E: EnergyTerm>(term: &E, name: &str, locals: &[String]) -> Result<[[Option<usize>; 5]; 5]> {
    const ALL: [Base; 5] = [Base::A, Base::C, Base::G, Base::T, Base::U];
    let mut table = [[None; 5]; 5];
    for p in ALL {
        for q in ALL {
            let Some(s) = term.pair_strength(p, q) else { continue };
            let k = locals.iter().position(|l| l == s).ok_or_else(|| {
                Error::invalid(
                    format!("pair strength of term '{name}' for bases {}–{}", p.letter(), q.letter()),
                    s,
                    format!(
                        "pair_strength names one of the term's own parameters (it declares: {})",
                        locals.join(", ")
                    ),
                )
            })?;
            table[base_slot(p)][base_slot(q)] = Some(k);
        }
    }
    Ok(table)
}

/// The inputs of a pair's energy on a [`Tape`]: the separation (3), both frames (9 each), both
/// sets of site offsets (12 each).
const PAIR_INPUTS: usize = 45;

/// `c[0] a1 + c[1] a2 + c[2] a3` as [`comb`] computes it in `f64` (zero coefficients skipped).
fn site(f: &[Vec3; 3], c: [f64; 3]) -> Vec3 {
    let mut acc: Option<Vec3> = None;
    for (v, k) in f.iter().zip(c) {
        if k != 0.0 {
            let t = *v * k;
            acc = Some(match acc {
                Some(a) => a + t,
                None => t,
            });
        }
    }
    acc.unwrap_or(Vec3::ZERO)
}

/// A pair's inputs as 15 vectors: d, p's frame, q's frame, p's sites, q's sites.
fn pair_vectors<'v>(
    d: &'v Vec3,
    a: &'v [Vec3; 3],
    b: &'v [Vec3; 3],
    sp: &'v [Vec3; 4],
    sq: &'v [Vec3; 4],
) -> [&'v Vec3; 15] {
    [d, &a[0], &a[1], &a[2], &b[0], &b[1], &b[2], &sp[0], &sp[1], &sp[2], &sp[3], &sq[0], &sq[1], &sq[2], &sq[3]]
}

/// The pair as inputs of `tape` at `x`: the separation, both frames, both sets of sites, in
/// the order [`pair_gradient`] reads their derivatives back.
fn var_pair<'t>(tape: &'t Tape, x: &[f64; PAIR_INPUTS]) -> Pair<Var<'t>> {
    let v = |first: usize| {
        V3::new(tape.input(first, x[first]), tape.input(first + 1, x[first + 1]), tape.input(first + 2, x[first + 2]))
    };
    Pair {
        d: v(0),
        a: [v(3), v(6), v(9)],
        b: [v(12), v(15), v(18)],
        sp: [v(21), v(24), v(27), v(30)],
        sq: [v(33), v(36), v(39), v(42)],
    }
}

/// Forces and torques from the derivatives of a pair's energy by its inputs: ∂E/∂d, and for
/// each nucleotide ∂E/∂θ = Σ v × ∂E/∂v over its frame vectors and sites v, which all turn with
/// the frame. `vector(k)`: input vector `k` of the 15 (d, p's frame, q's frame, p's sites, q's
/// sites, the order of [`var_pair`]); `derivative(k)`: the energy's derivative by it; `read`:
/// the vectors the energy reads (the others' derivatives are zero), in increasing order.
fn pair_gradient(derivative: impl Fn(usize) -> Vec3, vector: impl Fn(usize) -> Vec3, read: &[usize]) -> PairGradient {
    let mut out = PairGradient { d: Vec3::ZERO, p: Vec3::ZERO, q: Vec3::ZERO };
    for &k in read {
        let dv = derivative(k);
        match k {
            0 => out.d = dv,
            1..=3 | 7..=10 => out.p += vector(k).cross(dv),
            _ => out.q += vector(k).cross(dv),
        }
    }
    out
}

/// `v` moving along the three axes: derivative slots `first..first + 3`.
fn moved<const N: usize>(v: Vec3, first: usize) -> V3<Jet<N>> {
    let c = |k: usize| {
        let mut j = Jet::cst(v.0[k]);
        j.d[first + k] = 1.0;
        j
    };
    V3::new(c(0), c(1), c(2))
}

/// A frame turning about the three axes: in slot `first + k` each vector `v` moves along
/// `e_k × v`.
fn turned<const N: usize>(f: &[Vec3; 3], first: usize) -> [V3<Jet<N>>; 3] {
    // e_x × v = (0, −v_z, v_y), e_y × v = (v_z, 0, −v_x), e_z × v = (−v_y, v_x, 0)
    let turn = |v: Vec3| {
        let [vx, vy, vz] = v.0;
        let (mut x, mut y, mut z) = (Jet::cst(vx), Jet::cst(vy), Jet::cst(vz));
        (y.d[first], z.d[first]) = (-vz, vy);
        (x.d[first + 1], z.d[first + 1]) = (vz, -vx);
        (x.d[first + 2], y.d[first + 2]) = (-vy, vx);
        V3::new(x, y, z)
    };
    [turn(f[0]), turn(f[1]), turn(f[2])]
}

#[cfg(test)]
mod tests {
    use super::TermParams;
    use std::sync::Arc;

    /// Outside the check in `with_term`, an undeclared name is the term's mistake: the panic
    /// names the term, the name and what it declares.
    #[test]
    #[should_panic(
        expected = "energy term 'T' reads parameter 'b', which its params() does not declare (it declares: a)"
    )]
    fn an_undeclared_name_read_later_names_the_term() {
        let p = TermParams {
            term: Arc::from("T"),
            names: Arc::from(vec!["a".to_string()]),
            values: vec![1.0],
            probe: None,
        };
        assert_eq!(p.get("a"), 1.0);
        let _ = p.get("b");
    }
}
