//! Parameters in other programs' formats: mythos / jax_dna parameter TOML and oxDNA's
//! sequence-dependent parameter file. A round trip through either is the identity (up to one
//! rounding of π − θ for mythos' `theta0_hb_8`).
//!
//! * **mythos / jax_dna**: one table per term with the same names as oxgrad, and no `model` key.
//!   Two conventions differ. mythos evaluates the hydrogen-bonding factor of θ8 at
//!   π − arccos(a3 · r̂) where oxDNA (and oxgrad) take arccos(a3 · r̂), so its
//!   `theta0_hb_8` is π − oxgrad's (both π/2 at the defaults). Its sequence tables are 4 × 4 arrays,
//!   `ss_stack_weights[x][y]` for the stacking strength with x the base of the 3'-side nucleotide
//!   and y that of the 5'-side one, and `ss_hb_weights[x][y]` for the pair x–y (non-zero for A–T
//!   and C–G only), bases in the order A, C, G, T; oxgrad names them `ss_stack_weights_X_Y` and
//!   `ss_hb_weights_A_T` / `_C_G`. Dependent constants in a mythos dump (`b_*`, `dr_c_*`, …) are
//!   checked against the ones derived from the rest, never taken as given.
//! * **oxDNA's `seq_dep_file`**: `STCK_FACT_EPS`, `STCK_X_Y`, `HYDR_X_Y`
//!   ([`ParamSet::to_seq_dep_file`], [`ParamSet::with_sequence_dependence`]).

use super::{closest, ModelKind, ParamSet};
use crate::error::{Error, Result};
use crate::io::seqdep::BASES;
use std::f64::consts::PI;
use std::path::Path;

/// mythos' `theta0_hb_8` for oxgrad's (and back: the map is its own inverse).
#[must_use]
pub fn theta8_mythos(theta0_hb_8: f64) -> f64 {
    PI - theta0_hb_8
}

/// The set as a mythos / jax_dna parameter file.
#[must_use]
pub fn to_mythos_toml(set: &ParamSet) -> String {
    let mut root = toml::Table::new();
    for term in super::Term::ALL {
        let mut t = toml::Table::new();
        for p in set.params.iter().filter(|p| p.terms.contains(&term) && !p.name.starts_with("ss_")) {
            let v = if p.name == "theta0_hb_8" { theta8_mythos(p.value) } else { p.value };
            t.insert(p.name.clone(), toml::Value::Float(v));
        }
        if set.is_sequence_dependent() {
            let table = |f: &dyn Fn(char, char) -> f64| {
                toml::Value::Array(
                    BASES.iter().map(|&x| toml::Value::Array(BASES.iter().map(|&y| toml::Value::Float(f(x, y))).collect())).collect(),
                )
            };
            match term {
                super::Term::Stacking => {
                    t.insert("ss_stack_weights".into(), table(&|x, y| set.value(&format!("ss_stack_weights_{x}_{y}"))));
                }
                super::Term::HydrogenBonding => {
                    t.insert("ss_hb_weights".into(), table(&|x, y| hb_weight(set, x, y).unwrap_or(0.0)));
                }
                _ => {}
            }
        }
        if !t.is_empty() {
            root.insert(term.section().into(), toml::Value::Table(t));
        }
    }
    let body = toml::to_string(&root).unwrap_or_default();
    format!(
        "# {} parameters for mythos / jax_dna, written by oxgrad: theta0_hb_8 in mythos' convention\n\
         # (π − oxDNA's); ss_*_weights[x][y], x the 3'-side base, bases in the order A, C, G, T.\n{body}",
        set.model()
    )
}

/// The H-bond strength of the pair x–y, if it is a Watson–Crick pair.
fn hb_weight(set: &ParamSet, x: char, y: char) -> Option<f64> {
    match (x, y) {
        ('A', 'T') | ('T', 'A') => Some(set.value("ss_hb_weights_A_T")),
        ('C', 'G') | ('G', 'C') => Some(set.value("ss_hb_weights_C_G")),
        _ => None,
    }
}

/// Reads a mythos / jax_dna parameter file over the defaults of `model`: every value it gives
/// replaces the default; names it does not give keep theirs.
pub fn from_mythos_toml(text: &str, source: &Path, model: ModelKind) -> Result<ParamSet> {
    let raw: toml::Table = toml::from_str(text).map_err(|e| super::toml_error(source, text, &e))?;
    let mut set = ParamSet::defaults(model);
    // sequence tables first: adding them resets eps_stack_kt_coeff to oxDNA's STCK_FACT_EPS
    let has_tables = raw.values().filter_map(toml::Value::as_table).any(|t| t.contains_key("ss_stack_weights") || t.contains_key("ss_hb_weights"));
    if has_tables {
        set = with_seq_tables(&set)?;
    }
    let mut dependents = Vec::new();
    let derived_names = set.dependents();
    let at = |what: &str| format!("{}: {what}", source.display());
    for (section, body) in &raw {
        let table = match body {
            toml::Value::Table(t) => t.clone(),
            _ => std::iter::once((section.clone(), body.clone())).collect(),
        };
        for (name, v) in &table {
            match name.as_str() {
                "ss_stack_weights" => {
                    let m = matrix(v, name, source)?;
                    for (i, x) in BASES.iter().enumerate() {
                        for (j, y) in BASES.iter().enumerate() {
                            set.set(&format!("ss_stack_weights_{x}_{y}"), m[i][j])?;
                        }
                    }
                }
                "ss_hb_weights" => {
                    let m = matrix(v, name, source)?;
                    for (i, x) in BASES.iter().enumerate() {
                        for (j, y) in BASES.iter().enumerate() {
                            let partner = hb_weight(&set, *x, *y).is_some();
                            if !partner && m[i][j] != 0.0 {
                                return Err(Error::invalid(
                                    format!("ss_hb_weights[{i}][{j}]"),
                                    m[i][j],
                                    at(&format!("{x}–{y} is not a Watson–Crick pair: oxDNA gives it no hydrogen bond; write 0")),
                                ));
                            }
                        }
                    }
                    for (x, y, name) in [('A', 'T', "ss_hb_weights_A_T"), ('C', 'G', "ss_hb_weights_C_G")] {
                        let (i, j) = (BASES.iter().position(|b| *b == x).unwrap_or(0), BASES.iter().position(|b| *b == y).unwrap_or(0));
                        if m[i][j].to_bits() != m[j][i].to_bits() {
                            return Err(Error::invalid(
                                format!("ss_hb_weights {x}–{y}"),
                                format!("{} and {}", m[i][j], m[j][i]),
                                at("oxDNA's hydrogen bonding is symmetric: give both orders the same value"),
                            ));
                        }
                        set.set(name, m[i][j])?;
                    }
                }
                _ => {
                    let value = super::value_of(name, v)?;
                    if set.contains(name) {
                        set.set(name, if name == "theta0_hb_8" { theta8_mythos(value) } else { value })?;
                    } else if derived_names.contains_key(name) {
                        dependents.push((name.clone(), value));
                    } else if matches!(name.as_str(), "kt" | "kT" | "salt_conc" | "half_charged_ends") {
                        // simulation state, not a model constant: oxgrad takes it from the input / config
                    } else {
                        return Err(Error::UnknownParameter {
                            name: name.clone(),
                            suggestions: closest(name, set.names().chain(derived_names.keys().map(String::as_str))),
                        });
                    }
                }
            }
        }
    }
    let derived = set.dependents();
    for (name, value) in dependents {
        let want = derived[&name];
        if (value - want).abs() > 1e-9 * want.abs().max(1.0) {
            return Err(Error::invalid(
                &name,
                value,
                at(&format!(
                    "a dependent constant, derived from the others as {want}: remove it, or change the parameters it is derived from"
                )),
            ));
        }
    }
    Ok(set)
}

/// The set with the sequence tables added (oxDNA's shipped values), to be overwritten.
fn with_seq_tables(set: &ParamSet) -> Result<ParamSet> {
    let (name, text) = match set.model() {
        ModelKind::Dna1 => ("oxDNA1_sequence_dependent_parameters.txt", super::SHIPPED_SEQ_DEP[0].1),
        ModelKind::Dna2 => ("oxDNA2_sequence_dependent_parameters.txt", super::SHIPPED_SEQ_DEP[1].1),
    };
    set.with_sequence_dependence(&crate::io::SeqDepFile::parse(text, Path::new(name))?)
}

fn matrix(v: &toml::Value, name: &str, source: &Path) -> Result<[[f64; 4]; 4]> {
    let bad = || Error::invalid(name, v, format!("{}: a 4 × 4 array of numbers, bases in the order A, C, G, T", source.display()));
    let rows = v.as_array().filter(|r| r.len() == 4).ok_or_else(bad)?;
    let mut m = [[0.0; 4]; 4];
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_array().filter(|r| r.len() == 4).ok_or_else(bad)?;
        for (j, x) in row.iter().enumerate() {
            m[i][j] = x.as_float().or_else(|| x.as_integer().map(|k| k as f64)).ok_or_else(bad)?;
        }
    }
    Ok(m)
}
