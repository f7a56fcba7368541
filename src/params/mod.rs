//! Parameter sets: every physical constant of a model as a named `f64`.
//!
//! A [`ParamSet`] is one global namespace (as in mythos): a name used by two terms, such as
//! `eps_exc` in both excluded-volume terms or `kt` in stacking and Debye–Hückel, is one parameter
//! whose gradient collects both uses. Only independent parameters are stored; the dependent
//! smoothing constants and strengths are derived on demand by [`ParamSet::dependents`], so they
//! can never be stale, from the one definition of each formula ([`smoothing`], [`strength`])
//! that the energy models evaluate too. Defaults ship in `data/params/{dna1,dna2}/default_energy.toml` (embedded in the binary).
//!
//! ```
//! use oxgrad::params::{ParamSet, ParamSelection, Term};
//! let mut p = ParamSet::dna1_defaults();
//! p.set("eps_stack_base", 1.40)?;
//! let deps = p.dependents();
//! assert!(deps["b_low_stack"] < 0.0);
//! let names = ParamSelection::Terms(vec![Term::Fene]).resolve(&p)?;
//! assert_eq!(names, ["eps_backbone", "r0_backbone", "delta_backbone", "fmax", "finf"]);
//! assert!(p.set("eps_stak_base", 1.0).unwrap_err().to_string().contains("did you mean 'eps_stack_base'"));
//! # Ok::<(), oxgrad::Error>(())
//! ```

pub mod exchange;
pub mod expr;
pub mod smoothing;
pub mod strength;

use crate::error::{Error, Result};
use crate::io::SeqDepFile;
use serde::{Deserialize, Serialize};
use smoothing::{debye, f1_tail, f2_tail, f3_tail, f4_tail};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The oxDNA-family models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// oxDNA1 (Ouldridge et al. 2011).
    Dna1,
    /// oxDNA2 (Snodin et al. 2015).
    Dna2,
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModelKind::Dna1 => "dna1",
            ModelKind::Dna2 => "dna2",
        })
    }
}

/// The terms of the energy (and the interaction-site geometry), named as in mythos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Term {
    /// Interaction-site offsets.
    Geometry,
    /// FENE backbone bond.
    Fene,
    /// Excluded volume between bonded neighbours.
    BondedExcludedVolume,
    /// Stacking between bonded neighbours.
    Stacking,
    /// Excluded volume between non-bonded nucleotides.
    UnbondedExcludedVolume,
    /// Watson–Crick hydrogen bonding.
    HydrogenBonding,
    /// Cross-stacking.
    CrossStacking,
    /// Coaxial stacking.
    CoaxialStacking,
    /// Debye–Hückel electrostatics (oxDNA2).
    Debye,
}

impl Term {
    /// Every term, in file order.
    pub const ALL: [Term; 9] = [
        Term::Geometry,
        Term::Fene,
        Term::BondedExcludedVolume,
        Term::Stacking,
        Term::UnbondedExcludedVolume,
        Term::HydrogenBonding,
        Term::CrossStacking,
        Term::CoaxialStacking,
        Term::Debye,
    ];

    /// The TOML section name (`bonded_excluded_volume`).
    #[must_use]
    pub fn section(self) -> &'static str {
        match self {
            Term::Geometry => "geometry",
            Term::Fene => "fene",
            Term::BondedExcludedVolume => "bonded_excluded_volume",
            Term::Stacking => "stacking",
            Term::UnbondedExcludedVolume => "unbonded_excluded_volume",
            Term::HydrogenBonding => "hydrogen_bonding",
            Term::CrossStacking => "cross_stacking",
            Term::CoaxialStacking => "coaxial_stacking",
            Term::Debye => "debye",
        }
    }

    /// The term's name as mythos prints it (`BondedExcludedVolume`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Term::Geometry => "Geometry",
            Term::Fene => "Fene",
            Term::BondedExcludedVolume => "BondedExcludedVolume",
            Term::Stacking => "Stacking",
            Term::UnbondedExcludedVolume => "UnbondedExcludedVolume",
            Term::HydrogenBonding => "HydrogenBonding",
            Term::CrossStacking => "CrossStacking",
            Term::CoaxialStacking => "CoaxialStacking",
            Term::Debye => "Debye",
        }
    }

    /// From a section or term name (`stacking` or `Stacking`).
    #[must_use]
    pub fn from_name(s: &str) -> Option<Term> {
        Term::ALL.into_iter().find(|t| t.section() == s || t.name() == s)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a parameter may be optimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParamClass {
    /// Optimised by [`ParamSelection::All`] (a term's own TOML key).
    Default,
    /// Optimisable when named, but not part of `All` (site offsets, sequence tables).
    Extra,
    /// A property of the simulated state (temperature, salt): never optimised.
    State,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Param {
    name: String,
    value: f64,
    terms: Vec<Term>,
    class: ParamClass,
    /// For a parameter of a user's term ([`crate::energy::EnergyTerm`]): the term's name and the
    /// parameter's name inside the term.
    owner: Option<(String, String)>,
}

/// The excluded-volume site pairs, by the suffix of their `sigma_*`, `dr_star_*` parameters.
pub(crate) const EXCLUDED_VOLUME_SITES: [&str; 4] = ["base", "back_base", "base_back", "backbone"];

/// The angular factors f4(θ) of each term: its suffix and the angles k with parameters `a_{x}_{k}`
/// and `delta_theta_star_{x}_{k}`.
pub(crate) const ANGULAR_FACTORS: [(&str, &[u8]); 4] =
    [("stack", &[4, 5, 6]), ("hb", &[1, 2, 3, 4, 7, 8]), ("cross", &[1, 2, 3, 4, 7, 8]), ("coax", &[1, 4, 5, 6])];

/// An ordered set of named model parameters (one global namespace).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSet {
    model: ModelKind,
    params: Vec<Param>,
    index: BTreeMap<String, usize>,
}

/// oxDNA's sequence-dependent parameter files, embedded.
pub const SHIPPED_SEQ_DEP: [(&str, &str); 3] = [
    (
        "oxDNA1_sequence_dependent_parameters.txt",
        include_str!("../../data/params/seqdep/oxDNA1_sequence_dependent_parameters.txt"),
    ),
    (
        "oxDNA2_sequence_dependent_parameters.txt",
        include_str!("../../data/params/seqdep/oxDNA2_sequence_dependent_parameters.txt"),
    ),
    (
        "rna_sequence_dependent_parameters.txt",
        include_str!("../../data/params/seqdep/rna_sequence_dependent_parameters.txt"),
    ),
];

/// The section of a parameter file that holds the parameters of the user's terms.
const CUSTOM_SECTION: &str = "custom";

const DNA1_TOML: &str = include_str!("../../data/params/dna1/default_energy.toml");
const DNA2_TOML: &str = include_str!("../../data/params/dna2/default_energy.toml");

/// The names of the sequence-dependent stacking table, `ss_stack_weights_X_Y` (X: 3'-side base).
fn seq_stack_names() -> Vec<String> {
    strength::STACK_PAIRS.iter().map(|xy| format!("ss_stack_weights_{xy}")).collect()
}

/// The sequence-dependent hydrogen-bonding strengths (symmetric: A–T and C–G).
const SEQ_HB_NAMES: [&str; 2] = ["ss_hb_weights_A_T", "ss_hb_weights_C_G"];

fn class_of(term: Term, name: &str) -> ParamClass {
    match (term, name) {
        (_, "kt" | "salt_conc" | "half_charged_ends") => ParamClass::State,
        (Term::Geometry, _) => ParamClass::Extra,
        (_, n) if n.starts_with("ss_") => ParamClass::Extra,
        _ => ParamClass::Default,
    }
}

impl ParamSet {
    /// oxDNA1 defaults (sequence-averaged, kT of 296.15 K).
    #[must_use]
    pub fn dna1_defaults() -> ParamSet {
        ParamSet::parse_raw(DNA1_TOML, Path::new("data/params/dna1/default_energy.toml"))
            .expect("the embedded oxDNA1 defaults are valid")
    }

    /// oxDNA2 defaults (sequence-averaged, kT of 296.15 K, 0.5 M salt).
    #[must_use]
    pub fn dna2_defaults() -> ParamSet {
        ParamSet::parse_raw(DNA2_TOML, Path::new("data/params/dna2/default_energy.toml"))
            .expect("the embedded oxDNA2 defaults are valid")
    }

    /// The defaults of `model`.
    #[must_use]
    pub fn defaults(model: ModelKind) -> ParamSet {
        match model {
            ModelKind::Dna1 => ParamSet::dna1_defaults(),
            ModelKind::Dna2 => ParamSet::dna2_defaults(),
        }
    }

    /// Reads a parameter file (see [`ParamSet::from_toml_str`]).
    pub fn read(path: impl AsRef<Path>) -> Result<ParamSet> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read parameter file", path, e))?;
        ParamSet::from_toml_str(&text, path)
    }

    /// Parses a parameter file: `model = "dna1"|"dna2"` and one table per term (`[fene]`,
    /// `[stacking]`, …). Values are numbers or expressions such as `"pi - 2.35"`. Unknown names
    /// are errors that list the closest valid names. A complete file (as `oxgrad optimize`
    /// writes them) is taken as it is; a partial one gives the values it names over the model's
    /// defaults, as a configuration's `[model] params` does. Parameters of users' terms
    /// (`[custom.Term]` tables) are read as optimised by default: a file does not record their
    /// class, which the term restores when a model that has it takes the set
    /// ([`crate::energy::EnergyModel::with_params`]); a file with users' terms must be complete.
    pub fn from_toml_str(text: &str, source: &Path) -> Result<ParamSet> {
        let set = ParamSet::parse_raw(text, source)?;
        let reference = ParamSet::defaults(set.model);
        if let Some(p) = set
            .params
            .iter()
            .find(|p| p.owner.is_none() && !reference.index.contains_key(&p.name) && !p.name.starts_with("ss_"))
        {
            return Err(Error::UnknownParameter {
                name: p.name.clone(),
                suggestions: closest(&p.name, reference.params.iter().map(|p| p.name.as_str())),
            });
        }
        let missing: Vec<&str> =
            reference.params.iter().map(|p| p.name.as_str()).filter(|n| !set.index.contains_key(*n)).collect();
        if missing.is_empty() {
            return Ok(set);
        }
        let partial_ok = !set.params.iter().any(|p| p.owner.is_some() || p.name.starts_with("ss_"));
        if partial_ok {
            let (given, defaulted) = (reference.len() - missing.len(), missing.len());
            let mut full = ParamSet::defaults(set.model);
            full.apply_toml_str(text, source)?;
            tracing::info!(
                "{}: {given} parameter(s) given, the other {defaulted} at the {} defaults",
                source.display(),
                full.model
            );
            return Ok(full);
        }
        let shown: Vec<&str> = missing.iter().take(5).copied().collect();
        Err(Error::invalid(
            "parameter file",
            source.display(),
            format!(
                "a file with users' terms or sequence tables must give every parameter, and {} are missing ({}{}): start from a complete file, e.g. a run's params_initial.toml",
                missing.len(),
                shown.join(", "),
                if missing.len() > shown.len() { ", …" } else { "" }
            ),
        ))
    }

    /// Parses a parameter file without checking it against the model's defaults.
    fn parse_raw(text: &str, source: &Path) -> Result<ParamSet> {
        let raw: toml::Table = toml::from_str(text).map_err(|e| toml_error(source, text, &e))?;
        let model = match raw.get("model").and_then(toml::Value::as_str) {
            Some("dna1") => ModelKind::Dna1,
            Some("dna2") => ModelKind::Dna2,
            other => {
                return Err(Error::invalid(
                    "model",
                    other.map_or("(missing)".to_string(), |m| format!("\"{m}\"")),
                    format!("{}: set model = \"dna1\" or \"dna2\" at the top of the file", source.display()),
                ))
            }
        };
        let mut set = ParamSet { model, params: Vec::new(), index: BTreeMap::new() };
        for (section, body) in &raw {
            if section == "model" {
                continue;
            }
            if section == CUSTOM_SECTION {
                set.parse_custom(body, source)?;
                continue;
            }
            let term = Term::from_name(section).ok_or_else(|| Error::UnknownParameter {
                name: format!("[{section}]"),
                suggestions: closest(section, Term::ALL.iter().map(|t| t.section())),
            })?;
            let table = body.as_table().ok_or_else(|| {
                Error::invalid(format!("[{section}]"), body, format!("{}: a table of name = value", source.display()))
            })?;
            for (name, v) in table {
                let value = value_of(name, v)?;
                set.insert(term, name, value)?;
            }
        }
        set.check_sequence_tables()?;
        Ok(set)
    }

    /// `[custom.TermName]` tables: the parameters of the user's terms.
    fn parse_custom(&mut self, body: &toml::Value, source: &Path) -> Result<()> {
        let expected = || {
            Error::invalid(
                format!("[{CUSTOM_SECTION}]"),
                body,
                format!("{}: one table per term, [{CUSTOM_SECTION}.TermName], of name = value", source.display()),
            )
        };
        for (term, table) in body.as_table().ok_or_else(expected)? {
            for (local, v) in table.as_table().ok_or_else(expected)? {
                let stored = self.register_custom(term, local, value_of(local, v)?, ParamClass::Default)?;
                self.set(&stored, value_of(local, v)?)?;
            }
        }
        Ok(())
    }

    fn insert(&mut self, term: Term, name: &str, value: f64) -> Result<()> {
        match self.index.get(name) {
            Some(&i) => {
                let p = &mut self.params[i];
                if p.value.to_bits() != value.to_bits() {
                    return Err(Error::invalid(
                        name,
                        value,
                        format!(
                            "'{name}' is shared by [{}] and [{}]: give it the same value in both",
                            p.terms[0].section(),
                            term.section()
                        ),
                    ));
                }
                if !p.terms.contains(&term) {
                    p.terms.push(term);
                    self.index.insert(format!("{}.{name}", term.name()), i);
                }
            }
            None => self.push(term, name, value),
        }
        Ok(())
    }

    /// Appends a new parameter.
    fn push(&mut self, term: Term, name: &str, value: f64) {
        self.index.insert(name.to_string(), self.params.len());
        self.index.insert(format!("{}.{name}", term.name()), self.params.len());
        self.params.push(Param {
            name: name.to_string(),
            value,
            terms: vec![term],
            class: class_of(term, name),
            owner: None,
        });
    }

    /// Registers parameter `local` of the user's term `term` (or finds it, keeping its value,
    /// when the set already has it, e.g. read from a file) and returns the name it is stored
    /// under: `local` itself when no built-in parameter and no other term's parameter has that
    /// name, otherwise the qualified `term.local` (for both terms that declare it). The
    /// qualified name always works as well.
    pub(crate) fn register_custom(
        &mut self,
        term: &str,
        local: &str,
        default: f64,
        class: ParamClass,
    ) -> Result<String> {
        check_term_name(term)?;
        if !valid_name(local) {
            return Err(Error::invalid(
                "term parameter",
                format!("{term}.{local}"),
                "parameter names are non-empty and use only letters, digits and '_'",
            ));
        }
        if !default.is_finite() {
            return Err(Error::invalid(format!("{term}.{local}"), default, "parameters must be finite numbers"));
        }
        let qualified = format!("{term}.{local}");
        if let Some(&i) = self.index.get(&qualified) {
            let p = &mut self.params[i];
            p.class = class;
            return Ok(p.name.clone());
        }
        // a name two terms declare is ambiguous: both are stored qualified, whatever the order in
        // which the terms (or a file's sections) arrive
        if let Some(&i) = self.index.get(local) {
            if self.params[i].owner.is_some() {
                let other = &mut self.params[i];
                let (t, l) = other.owner.clone().expect("checked above");
                other.name = format!("{t}.{l}");
                self.index.remove(local);
            }
        }
        let taken = self.index.contains_key(local)
            || self.params.iter().any(|p| p.owner.as_ref().is_some_and(|(t, l)| l == local && t != term));
        let stored = if taken { qualified.clone() } else { local.to_string() };
        let i = self.params.len();
        self.index.insert(stored.clone(), i);
        self.index.insert(qualified, i);
        self.params.push(Param {
            name: stored.clone(),
            value: default,
            terms: Vec::new(),
            class,
            owner: Some((term.to_string(), local.to_string())),
        });
        Ok(stored)
    }

    /// Sets how parameter `name` may be optimised.
    pub(crate) fn set_class(&mut self, name: &str, class: ParamClass) -> Result<()> {
        let i = self.position(name)?;
        self.params[i].class = class;
        Ok(())
    }

    /// The name `name` is stored under: itself, or the parameter a qualified name
    /// (`Stacking.eps_stack_base`, `MyTerm.k`) stands for.
    pub fn canonical(&self, name: &str) -> Result<&str> {
        Ok(&self.params[self.position(name)?].name)
    }

    /// The user's terms that have parameters in this set, in order of appearance.
    #[must_use]
    pub fn custom_terms(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (term, _) in self.params.iter().filter_map(|p| p.owner.as_ref()) {
            if !out.contains(&term.as_str()) {
                out.push(term);
            }
        }
        out
    }

    /// The user's term that owns `name` (any spelling), if a user's term does.
    #[must_use]
    pub fn owner(&self, name: &str) -> Option<&str> {
        let i = *self.index.get(name)?;
        self.params[i].owner.as_ref().map(|(t, _)| t.as_str())
    }

    /// The parameters a user's term owns that "all parameters" includes
    /// ([`ParamClass::Default`]), by the names they are stored under.
    #[must_use]
    pub fn term_params(&self, term: &str) -> Vec<String> {
        self.params
            .iter()
            .filter(|p| p.class == ParamClass::Default && p.owner.as_ref().is_some_and(|(t, _)| t == term))
            .map(|p| p.name.clone())
            .collect()
    }

    fn check_sequence_tables(&self) -> Result<()> {
        let names: Vec<String> =
            seq_stack_names().into_iter().chain(SEQ_HB_NAMES.iter().map(ToString::to_string)).collect();
        let present = names.iter().filter(|n| self.index.contains_key(*n)).count();
        if present != 0 && present != names.len() {
            let missing: Vec<&str> =
                names.iter().filter(|n| !self.index.contains_key(*n)).map(String::as_str).collect();
            return Err(Error::invalid(
                "sequence-dependent parameters",
                format!("{present} of {}", names.len()),
                format!(
                    "give all of ss_stack_weights_X_Y and ss_hb_weights_A_T/C_G, or none; missing {}",
                    missing.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// The model these parameters belong to.
    #[must_use]
    pub fn model(&self) -> ModelKind {
        self.model
    }

    /// All parameter names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.params.iter().map(|p| p.name.as_str())
    }

    /// `(name, value)` pairs in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.params.iter().map(|p| (p.name.as_str(), p.value))
    }

    /// Number of parameters.
    #[must_use]
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Whether `name` is a parameter of this set.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn position(&self, name: &str) -> Result<usize> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownParameter { name: name.to_string(), suggestions: closest(name, self.names()) })
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Result<f64> {
        Ok(self.params[self.position(name)?].value)
    }

    /// The value of a parameter this model is known to define.
    ///
    /// # Panics
    /// If `name` is not a parameter of the model (an internal invariant: call sites name only
    /// parameters of the default files).
    #[must_use]
    pub fn value(&self, name: &str) -> f64 {
        match self.index.get(name) {
            Some(&i) => self.params[i].value,
            None => panic!("invariant: parameter '{name}' is defined by every {} parameter set", self.model),
        }
    }

    /// The terms that use `name`.
    pub fn terms_of(&self, name: &str) -> Result<&[Term]> {
        Ok(&self.params[self.position(name)?].terms)
    }

    /// The class of `name` (how it may be optimised).
    pub fn class_of(&self, name: &str) -> Result<ParamClass> {
        Ok(self.params[self.position(name)?].class)
    }

    /// Sets `name` to a finite `value`. Unknown names are errors listing the closest valid names.
    pub fn set(&mut self, name: &str, value: f64) -> Result<()> {
        let i = self.position(name)?;
        if !value.is_finite() {
            return Err(Error::invalid(name, value, "parameters must be finite numbers"));
        }
        self.params[i].value = value;
        Ok(())
    }

    /// A copy with the given values applied in order (mythos' `with_params`).
    pub fn with_params<'a>(&self, values: impl IntoIterator<Item = (&'a str, f64)>) -> Result<ParamSet> {
        let mut out = self.clone();
        for (k, v) in values {
            out.set(k, v)?;
        }
        Ok(out)
    }

    /// Applies a partial TOML file of overrides: `name = value` at top level or inside term
    /// tables (`[stacking] eps_stack_base = 1.4`); expressions are allowed.
    pub fn apply_toml_str(&mut self, text: &str, source: &Path) -> Result<()> {
        let raw: toml::Table = toml::from_str(text).map_err(|e| toml_error(source, text, &e))?;
        for (k, v) in &raw {
            match v {
                // a user's term's table, [Term] or [custom.Term]: its parameters, qualified
                toml::Value::Table(t) if self.custom_terms().contains(&k.as_str()) => {
                    for (name, v) in t {
                        self.set(&format!("{k}.{name}"), value_of(name, v)?)?;
                    }
                }
                toml::Value::Table(t) if k == CUSTOM_SECTION => {
                    for (term, body) in t {
                        let body = body.as_table().ok_or_else(|| {
                            Error::invalid(format!("{k}.{term}"), body, "a table of the term's parameters")
                        })?;
                        for (name, v) in body {
                            self.set(&format!("{term}.{name}"), value_of(name, v)?)?;
                        }
                    }
                }
                toml::Value::Table(t) => {
                    for (name, v) in t {
                        self.set(name, value_of(name, v)?)?;
                    }
                }
                _ if k == "model" => {
                    if v.as_str() != Some(&self.model.to_string()) {
                        return Err(Error::invalid(
                            "model",
                            v,
                            format!("these overrides are applied to a {} parameter set", self.model),
                        ));
                    }
                }
                _ => self.set(k, value_of(k, v)?)?,
            }
        }
        Ok(())
    }

    /// Switches to the sequence-dependent model of Šulc et al. 2012 with oxDNA's parameter file:
    /// adds `ss_stack_weights_X_Y` and `ss_hb_weights_A_T`/`_C_G`, and sets `eps_stack_kt_coeff` to
    /// `STCK_FACT_EPS` (so ε_st = STCK_X_Y · (1 − f + 9 f kT), as in mythos). oxDNA reads the file
    /// as single-precision floats; the values are kept as written.
    pub fn with_sequence_dependence(&self, file: &SeqDepFile) -> Result<ParamSet> {
        let mut out = self.clone();
        let stack = file.table("STCK")?;
        for (name, v) in seq_stack_names().iter().zip(stack.iter().flatten()) {
            out.insert_or_set(Term::Stacking, name, *v);
        }
        out.insert_or_set(Term::HydrogenBonding, SEQ_HB_NAMES[0], file.symmetric("HYDR", 'A', 'T')?);
        out.insert_or_set(Term::HydrogenBonding, SEQ_HB_NAMES[1], file.symmetric("HYDR", 'C', 'G')?);
        out.set("eps_stack_kt_coeff", file.stck_fact_eps()?)?;
        Ok(out)
    }

    /// The sequence-dependent strengths as oxDNA's `seq_dep_file` (the inverse of
    /// [`ParamSet::with_sequence_dependence`]): `STCK_FACT_EPS`, the 16 `STCK_X_Y` and both
    /// spellings of `HYDR_A_T` and `HYDR_C_G`.
    pub fn to_seq_dep_file(&self) -> Result<SeqDepFile> {
        if !self.is_sequence_dependent() {
            return Err(Error::invalid(
                "parameter set",
                self.model,
                "it is sequence-averaged: only sequence-dependent parameters (with ss_stack_weights_X_Y) make a seq_dep_file",
            ));
        }
        let mut entries = BTreeMap::new();
        entries.insert("STCK_FACT_EPS".to_string(), (self.get("eps_stack_kt_coeff")?, 0));
        for name in seq_stack_names() {
            entries.insert(name.replace("ss_stack_weights", "STCK"), (self.get(&name)?, 0));
        }
        for (name, (x, y)) in SEQ_HB_NAMES.iter().zip([('A', 'T'), ('C', 'G')]) {
            let v = self.get(name)?;
            entries.insert(format!("HYDR_{x}_{y}"), (v, 0));
            entries.insert(format!("HYDR_{y}_{x}"), (v, 0));
        }
        Ok(SeqDepFile { source: PathBuf::from("(written by oxgrad)"), entries })
    }

    fn insert_or_set(&mut self, term: Term, name: &str, value: f64) {
        match self.index.get(name) {
            Some(&i) => self.params[i].value = value,
            None => self.push(term, name, value),
        }
    }

    /// Whether the sequence-dependent tables are present.
    #[must_use]
    pub fn is_sequence_dependent(&self) -> bool {
        self.index.contains_key("ss_stack_weights_A_A")
    }

    /// The dependent parameters, derived from the current values (names as in mythos).
    #[must_use]
    pub fn dependents(&self) -> BTreeMap<String, f64> {
        let v = |n: &str| self.value(n);
        let mut d = BTreeMap::new();
        let mut put = |name: String, x: f64| {
            d.insert(name, x);
        };
        for site in EXCLUDED_VOLUME_SITES {
            let (b, rc) = f3_tail(v(&format!("sigma_{site}")), v(&format!("dr_star_{site}")));
            put(format!("b_{site}"), b);
            put(format!("dr_c_{site}"), rc);
        }
        for (suffix, r0) in [("stack", "dr0_stack"), ("hb", "dr0_hb")] {
            let a = v(&format!("a_{suffix}"));
            let rc = v(&format!("dr_c_{suffix}"));
            for side in ["low", "high"] {
                let (b, xc) = f1_tail(a, v(r0), rc, v(&format!("dr_{side}_{suffix}")));
                put(format!("b_{side}_{suffix}"), b);
                put(format!("dr_c_{side}_{suffix}"), xc);
            }
        }
        for (suffix, r0) in [("cross", "r0_cross"), ("coax", "dr0_coax")] {
            let rc = v(&format!("dr_c_{suffix}"));
            for side in ["low", "high"] {
                let (b, xc) = f2_tail(v(r0), rc, v(&format!("dr_{side}_{suffix}")));
                put(format!("b_{side}_{suffix}"), b);
                put(format!("dr_c_{side}_{suffix}"), xc);
            }
        }
        for (x, ks) in ANGULAR_FACTORS {
            for k in ks {
                let (b, tc) = f4_tail(v(&format!("a_{x}_{k}")), v(&format!("delta_theta_star_{x}_{k}")));
                put(format!("b_{x}_{k}"), b);
                put(format!("delta_theta_{x}_{k}_c"), tc);
            }
        }
        for k in [1, 2] {
            let (b, xc) = f4_tail(v(&format!("a_stack_{k}")), v(&format!("neg_cos_phi{k}_star_stack")));
            put(format!("b_neg_cos_phi{k}_stack"), b);
            put(format!("neg_cos_phi{k}_c_stack"), xc);
        }
        if self.model == ModelKind::Dna1 {
            for (k, a) in [(3, "a_coax_3p"), (4, "a_coax_4p")] {
                let (b, xc) = f4_tail(v(a), v(&format!("cos_phi{k}_star_coax")));
                put(format!("b_cos_phi{k}_coax"), b);
                put(format!("cos_phi{k}_c_coax"), xc);
            }
        }
        match strength::Strengths::new(self.is_sequence_dependent(), v) {
            strength::Strengths::Sequence { stack, .. } => {
                for (xy, eps) in strength::STACK_PAIRS.iter().zip(stack) {
                    put(format!("eps_stack_{xy}"), eps);
                }
            }
            strength::Strengths::Averaged { stack, .. } => put("eps_stack".into(), stack),
        }
        if self.model == ModelKind::Dna2 {
            let names = ["lambda_", "kappa", "r_high", "prefactor", "smoothing_coeff", "r_cut"];
            let vals = debye(v("lambda_factor"), v("prefactor_coeff"), v("q_eff"), v("kt"), v("salt_conc"));
            for (n, x) in names.iter().zip(vals) {
                put((*n).to_string(), x);
            }
        }
        d
    }

    /// The set as a complete TOML parameter file (reads back to an identical set).
    #[must_use]
    pub fn to_toml_string(&self) -> String {
        let mut root = toml::Table::new();
        root.insert("model".into(), toml::Value::String(self.model.to_string()));
        for term in Term::ALL {
            let mut t = toml::Table::new();
            for p in self.params.iter().filter(|p| p.terms.contains(&term)) {
                t.insert(p.name.clone(), toml::Value::Float(p.value));
            }
            if !t.is_empty() {
                root.insert(term.section().into(), toml::Value::Table(t));
            }
        }
        let mut custom = toml::Table::new();
        for p in &self.params {
            if let Some((term, local)) = &p.owner {
                let t = custom.entry(term.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(t) = t {
                    t.insert(local.clone(), toml::Value::Float(p.value));
                }
            }
        }
        if !custom.is_empty() {
            root.insert(CUSTOM_SECTION.into(), toml::Value::Table(custom));
        }
        toml::to_string(&root).expect("a table of finite floats serialises")
    }

    /// Writes the set as a TOML file, whole or not at all.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::atomic::write(path.as_ref(), self.to_toml_string().as_bytes())
    }
}

impl Serialize for ParamSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let table: toml::Table = toml::from_str(&self.to_toml_string()).map_err(serde::ser::Error::custom)?;
        table.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ParamSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        let text = toml::to_string(&table).map_err(serde::de::Error::custom)?;
        ParamSet::from_toml_str(&text, Path::new("<serde>")).map_err(serde::de::Error::custom)
    }
}

fn value_of(name: &str, v: &toml::Value) -> Result<f64> {
    let x = match v {
        toml::Value::Float(f) => *f,
        toml::Value::Integer(i) => *i as f64,
        toml::Value::String(s) => {
            expr::eval(s).map_err(|msg| Error::Expression { name: name.to_string(), expr: s.clone(), msg })?
        }
        other => {
            return Err(Error::invalid(name, other, "a number or an expression string such as \"pi - 2.35\""));
        }
    };
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::invalid(name, x, "parameters must be finite numbers"))
    }
}

fn toml_error(source: &Path, text: &str, e: &toml::de::Error) -> Error {
    let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    Error::parse(source, line, "a TOML parameter file", e.message().to_string())
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks the name of a user's term: letters, digits and `_`, not a built-in term's name.
pub(crate) fn check_term_name(term: &str) -> Result<()> {
    if !valid_name(term) {
        return Err(Error::invalid("term name", term, "term names are non-empty and use only letters, digits and '_'"));
    }
    if Term::from_name(term).is_some() {
        return Err(Error::invalid(
            "term name",
            term,
            "this is the name of a built-in term of the oxDNA models: give your term its own name",
        ));
    }
    Ok(())
}

/// The valid names closest to `name` (edit distance), best first, at most three.
pub(crate) fn closest<'a>(name: &str, valid: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = valid.map(|v| (strsim::damerau_levenshtein(name, v), v)).collect();
    scored.sort();
    // only the nearest names, and only if they are plausibly typos
    let best = scored.first().map_or(0, |s| s.0);
    let limit = (name.len() / 3).max(2).min(best);
    scored.into_iter().filter(|(d, _)| *d <= limit).take(3).map(|(_, v)| v.to_string()).collect()
}

/// Which parameters an optimisation changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamSelection {
    /// Every term parameter (mythos' `("*",)`): not the site offsets, sequence tables or state.
    All,
    /// Exactly these names.
    Names(Vec<String>),
    /// Every default-optimisable parameter of these terms.
    Terms(Vec<Term>),
}

impl ParamSelection {
    /// The selected names, in the parameter set's order, validated.
    pub fn resolve(&self, set: &ParamSet) -> Result<Vec<String>> {
        match self {
            ParamSelection::All => {
                Ok(set.params.iter().filter(|p| p.class == ParamClass::Default).map(|p| p.name.clone()).collect())
            }
            ParamSelection::Terms(terms) => {
                for t in terms {
                    if !set.params.iter().any(|p| p.terms.contains(t)) {
                        return Err(Error::invalid("term", t, format!("the {} model has no {t} term", set.model)));
                    }
                }
                Ok(set
                    .params
                    .iter()
                    .filter(|p| p.class == ParamClass::Default && p.terms.iter().any(|t| terms.contains(t)))
                    .map(|p| p.name.clone())
                    .collect())
            }
            ParamSelection::Names(names) => {
                let mut out = Vec::with_capacity(names.len());
                for n in names {
                    let n = &set.canonical(n)?.to_string();
                    if set.class_of(n)? == ParamClass::State {
                        return Err(Error::invalid(
                            "optimised parameter",
                            n,
                            "this is a property of the simulated state (temperature, salt), not a model parameter: set it, don't optimise it",
                        ));
                    }
                    if !out.contains(n) {
                        out.push(n.clone());
                    }
                }
                let order = |n: &String| set.index[n];
                out.sort_by_key(order);
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_with_shared_names() {
        let p = ParamSet::dna1_defaults();
        assert_eq!(p.terms_of("eps_exc").unwrap(), &[Term::BondedExcludedVolume, Term::UnbondedExcludedVolume]);
        assert!((p.get("theta0_cross_1").unwrap() - (std::f64::consts::PI - 2.35)).abs() < 1e-15);
        let p2 = ParamSet::dna2_defaults();
        assert_eq!(p2.terms_of("kt").unwrap(), &[Term::Stacking, Term::Debye]);
        assert!(p2.contains("a_coax_1_f6") && !p2.contains("a_coax_3p"));
    }

    #[test]
    fn toml_round_trip_is_exact() {
        for p in [ParamSet::dna1_defaults(), ParamSet::dna2_defaults()] {
            let back = ParamSet::from_toml_str(&p.to_toml_string(), Path::new("x.toml")).unwrap();
            assert_eq!(back, p);
        }
    }

    #[test]
    fn dependents_follow_independents() {
        let mut p = ParamSet::dna1_defaults();
        let before = p.dependents()["delta_theta_stack_4_c"];
        p.set("delta_theta_star_stack_4", 0.9).unwrap();
        let after = p.dependents()["delta_theta_stack_4_c"];
        assert!((before - 1.0 / (1.3 * 0.8)).abs() < 1e-15);
        assert!((after - 1.0 / (1.3 * 0.9)).abs() < 1e-15);
    }

    #[test]
    fn selection_rules() {
        let p = ParamSet::dna2_defaults();
        let all = ParamSelection::All.resolve(&p).unwrap();
        assert!(!all.iter().any(|n| n == "kt" || n == "com_to_hb" || n == "salt_conc"));
        assert!(all.iter().any(|n| n == "q_eff"));
        let e = ParamSelection::Names(vec!["kt".into()]).resolve(&p).unwrap_err();
        assert!(e.to_string().contains("property of the simulated state"));
        let e = ParamSelection::Terms(vec![Term::Debye]).resolve(&ParamSet::dna1_defaults()).unwrap_err();
        assert_eq!(e.to_string(), "invalid term = Debye: the dna1 model has no Debye term");
        let geo = ParamSelection::Names(vec!["com_to_hb".into(), "eps_backbone".into()]).resolve(&p).unwrap();
        assert_eq!(geo, ["com_to_hb", "eps_backbone"]);
    }
}

/// Gradients by parameter name: the form in which results cross threads and processes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ParamGrads(pub BTreeMap<String, f64>);

impl ParamGrads {
    /// Zero for each name.
    #[must_use]
    pub fn zeros(names: &[String]) -> ParamGrads {
        ParamGrads(names.iter().map(|n| (n.clone(), 0.0)).collect())
    }

    /// Adds `other` name by name (names only in `other` are inserted).
    pub fn add_assign(&mut self, other: &ParamGrads) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_insert(0.0) += v;
        }
    }

    /// Every gradient times `s`.
    #[must_use]
    pub fn scaled(&self, s: f64) -> ParamGrads {
        ParamGrads(self.0.iter().map(|(k, v)| (k.clone(), v * s)).collect())
    }

    /// The gradient of `name`; a name that was not differentiated is an error listing the closest
    /// names that were.
    pub fn get(&self, name: &str) -> Result<f64> {
        self.0.get(name).copied().ok_or_else(|| Error::UnknownParameter {
            name: name.to_string(),
            suggestions: closest(name, self.0.keys().map(String::as_str)),
        })
    }

    /// The first non-finite entry, if any.
    #[must_use]
    pub fn first_non_finite(&self) -> Option<(&str, f64)> {
        self.0.iter().find(|(_, v)| !v.is_finite()).map(|(k, v)| (k.as_str(), *v))
    }
}
