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
//! * **oxDNA's model header** (`src/model.h`), for a rebuild with other constants:
//!   [`to_oxdna_header`] rewrites oxDNA's own header, macro by macro ([`oxdna_macros`]).

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
                    BASES
                        .iter()
                        .map(|&x| toml::Value::Array(BASES.iter().map(|&y| toml::Value::Float(f(x, y))).collect()))
                        .collect(),
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
    if mythos_entries(&raw) == 0 {
        return Err(Error::invalid(
            "parameter file",
            source.display(),
            "it holds no parameter: a mythos / jax_dna parameter file has tables such as [stacking] with values like eps_stack_base = 1.3448",
        ));
    }
    let mut set = ParamSet::defaults(model);
    // sequence tables first: adding them resets eps_stack_kt_coeff to oxDNA's STCK_FACT_EPS
    let has_tables = raw
        .values()
        .filter_map(toml::Value::as_table)
        .any(|t| t.contains_key("ss_stack_weights") || t.contains_key("ss_hb_weights"));
    if has_tables {
        set = with_seq_tables(&set)?;
    }
    let mut dependents = Vec::new();
    let derived_names = set.dependents();
    let at = |what: &str| format!("{}: {what}", source.display());
    for (section, body) in &raw {
        let table = match body {
            toml::Value::Table(t) => t.clone(),
            // an oxgrad parameter file's `model` key: the model is the one asked for
            _ if section == "model" => {
                if body.as_str() != Some(&model.to_string()) {
                    return Err(Error::invalid(
                        "model",
                        body,
                        at(&format!("importing into a {model} parameter set: pass --model")),
                    ));
                }
                continue;
            }
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
                                    at(&format!(
                                        "{x}–{y} is not a Watson–Crick pair: oxDNA gives it no hydrogen bond; write 0"
                                    )),
                                ));
                            }
                        }
                    }
                    for (x, y, name) in [('A', 'T', "ss_hb_weights_A_T"), ('C', 'G', "ss_hb_weights_C_G")] {
                        let (i, j) = (
                            BASES.iter().position(|b| *b == x).unwrap_or(0),
                            BASES.iter().position(|b| *b == y).unwrap_or(0),
                        );
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
                        tracing::warn!(
                            "{}: '{name}' is the simulated state, not a model constant: not imported (oxgrad takes it from the oxDNA input or the configuration)",
                            source.display()
                        );
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

/// The number of values a mythos parameter file gives (a 4 × 4 table counts once).
fn mythos_entries(raw: &toml::Table) -> usize {
    raw.iter().filter(|(k, _)| k.as_str() != "model").map(|(_, v)| v.as_table().map_or(1, toml::Table::len)).sum()
}

/// What a mythos parameter file holds: the model it belongs to (oxDNA2 if it names a parameter
/// only oxDNA2 has, or says `model = "dna2"`) and the number of values it gives.
pub fn mythos_summary(text: &str, source: &Path) -> Result<(ModelKind, usize)> {
    let raw: toml::Table = toml::from_str(text).map_err(|e| super::toml_error(source, text, &e))?;
    let dna1 = ParamSet::dna1_defaults();
    let dna2_only = |name: &str| ParamSet::dna2_defaults().contains(name) && !dna1.contains(name);
    let said = raw.get("model").and_then(toml::Value::as_str);
    let names_dna2 = raw.values().filter_map(toml::Value::as_table).flat_map(|t| t.keys()).any(|k| dna2_only(k));
    let model = if said == Some("dna2") || (said.is_none() && names_dna2) { ModelKind::Dna2 } else { ModelKind::Dna1 };
    Ok((model, mythos_entries(&raw)))
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
    let bad = || {
        Error::invalid(
            name,
            v,
            format!("{}: a 4 × 4 array of numbers, bases in the order A, C, G, T", source.display()),
        )
    };
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

/// The oxDNA model-header macros a parameter or dependent constant is written to (none for
/// names oxDNA takes elsewhere: `kt`, salt and Debye–Hückel from the input, `fmax`/`finf` as
/// `max_backbone_force`, the sequence tables through the `seq_dep_file`). `*_OXDNA` macros come
/// with their `*_OXDNA2` twin.
///
/// The stacking φ groups are named after the nucleotide they modulate, which is the reverse of
/// oxDNA's numbering: `a_stack_1` (the 3'-side nucleotide's φ) is oxDNA's `STCK_PHI2_A`, and
/// `a_stack_2` its `STCK_PHI1_A` (mythos writes them the other way round, which only matters when
/// the two groups differ).
#[must_use]
pub fn oxdna_macros(name: &str) -> Vec<String> {
    let twins = |m: &str| vec![m.to_string(), format!("{m}2")];
    let one = |m: &str| vec![m.to_string()];
    let prefix = |x: &str| match x {
        "stack" => Some("STCK"),
        "hb" => Some("HYDR"),
        "cross" => Some("CRST"),
        "coax" => Some("CXST"),
        _ => None,
    };
    let site = |s: &str| match s {
        "backbone" => Some(1),
        "base" => Some(2),
        "back_base" => Some(3),
        "base_back" => Some(4),
        _ => None,
    };
    match name {
        "eps_backbone" => return one("FENE_EPS"),
        "delta_backbone" => return one("FENE_DELTA"),
        "r0_backbone" => return twins("FENE_R0_OXDNA"),
        "eps_exc" => return one("EXCL_EPS"),
        "eps_stack_base" => return twins("STCK_BASE_EPS_OXDNA"),
        "eps_stack_kt_coeff" => return twins("STCK_FACT_EPS_OXDNA"),
        "eps_hb" => return twins("HYDR_EPS_OXDNA"),
        "k_cross" => return one("CRST_K"),
        "k_coax" => return twins("CXST_K_OXDNA"),
        "theta0_coax_1" => return twins("CXST_THETA1_T0_OXDNA"),
        "a_coax_1_f6" => return one("CXST_THETA1_SA"),
        "b_coax_1_f6" => return one("CXST_THETA1_SB"),
        "r0_cross" => return one("CRST_R0"),
        "com_to_stacking" => return one("POS_STACK"),
        "com_to_hb" => return one("POS_BASE"),
        "com_to_backbone" | "com_to_backbone_dna1" => return one("POS_BACK"),
        "com_to_backbone_x" => return one("POS_MM_BACK1"),
        "com_to_backbone_y" => return one("POS_MM_BACK2"),
        _ => {}
    }
    // stacking φ: *_1 is the 3'-side nucleotide's, oxDNA's PHI2
    for (k, phi) in [(1, 2), (2, 1)] {
        for (ours, suffix) in [
            (format!("a_stack_{k}"), "A"),
            (format!("neg_cos_phi{k}_star_stack"), "XS"),
            (format!("b_neg_cos_phi{k}_stack"), "B"),
            (format!("neg_cos_phi{k}_c_stack"), "XC"),
        ] {
            if name == ours {
                return one(&format!("STCK_PHI{phi}_{suffix}"));
            }
        }
    }
    for k in [3, 4] {
        for (ours, suffix) in [
            (format!("a_coax_{k}p"), "A"),
            (format!("cos_phi{k}_star_coax"), "XS"),
            (format!("b_cos_phi{k}_coax"), "B"),
            (format!("cos_phi{k}_c_coax"), "XC"),
        ] {
            if name == ours {
                return one(&format!("CXST_PHI{k}_{suffix}"));
            }
        }
    }
    // excluded volume: sigma_/dr_star_/b_/dr_c_ + site
    for (ours, m) in [("sigma_", "S"), ("dr_star_", "R"), ("dr_c_", "RC"), ("b_", "B")] {
        if let Some(n) = name.strip_prefix(ours).and_then(site) {
            return one(&format!("EXCL_{m}{n}"));
        }
    }
    // radial parts: <ours>_<x> with x one of stack, hb, cross, coax
    if let Some((head, x)) = name.rsplit_once('_') {
        if let Some(p) = prefix(x) {
            let m = match head {
                "a" => Some("A"),
                "dr0" => Some("R0"),
                "dr_c" => Some("RC"),
                "dr_low" => Some("RLOW"),
                "dr_high" => Some("RHIGH"),
                "b_low" => Some("BLOW"),
                "b_high" => Some("BHIGH"),
                "dr_c_low" => Some("RCLOW"),
                "dr_c_high" => Some("RCHIGH"),
                _ => None,
            };
            if let Some(m) = m {
                return one(&format!("{p}_{m}"));
            }
        }
    }
    // angular f4 groups: <ours>_<x>_<k>, and delta_theta_<x>_<k>_c
    let angular = |rest: &str| -> Option<(&'static str, u32)> {
        let (x, k) = rest.rsplit_once('_')?;
        Some((prefix(x)?, k.parse().ok()?))
    };
    if let Some(rest) = name.strip_prefix("delta_theta_").and_then(|r| r.strip_suffix("_c")) {
        if let Some((p, k)) = angular(rest) {
            return one(&format!("{p}_THETA{k}_TC"));
        }
    }
    for (ours, m) in [("delta_theta_star_", "TS"), ("theta0_", "T0"), ("a_", "A"), ("b_", "B")] {
        if let Some((p, k)) = name.strip_prefix(ours).and_then(angular) {
            return one(&format!("{p}_THETA{k}_{m}"));
        }
    }
    Vec::new()
}

/// A C literal for `v` in the style of the value it replaces (an `f` suffix if that had one);
/// negative values in parentheses.
fn c_literal(v: f64, float: bool) -> String {
    let mut s = format!("{v:?}");
    if !s.contains(['.', 'e', 'E']) {
        s.push_str(".0");
    }
    if float {
        s.push('f');
    }
    if v < 0.0 {
        format!("({s})")
    } else {
        s
    }
}

/// oxDNA's `src/model.h` (given as `template`) with every macro that a parameter of `set` maps
/// to rewritten for its value. (oxDNA evaluates some angles with the constants of another: θ3 with
/// θ2's, θ8 with θ7's, θ6 with θ5's, so their own macros are written but not read; the oxDNA
/// simulator refuses a build where such a pair differs.) Also written: dependents freshly
/// derived, `FENE_DELTA2` = `FENE_DELTA`², and `CXST_THETA1_SA` = `a_coax_1_f6` / 2 (mythos'
/// convention). Each macro is written once; every
/// other line is kept as it is. A mapped macro missing from the template is an error.
pub fn to_oxdna_header(set: &ParamSet, template: &str, source: &Path) -> Result<String> {
    let mut values: std::collections::BTreeMap<String, (String, f64)> = std::collections::BTreeMap::new();
    let dependents = set.dependents();
    let names = set.iter().map(|(n, v)| (n.to_string(), v)).chain(dependents);
    for (name, v) in names {
        for m in oxdna_macros(&name) {
            let v = match m.as_str() {
                "CXST_THETA1_SA" => v / 2.0,
                _ => v,
            };
            values.insert(m, (name.clone(), v));
        }
    }
    if let Some(delta) = values.get("FENE_DELTA").map(|(_, v)| *v) {
        values.insert("FENE_DELTA2".into(), ("delta_backbone".into(), delta * delta));
    }
    let mut written = std::collections::BTreeSet::new();
    let mut out = String::with_capacity(template.len() + 1024);
    for line in template.lines() {
        let mut parts = line.trim_start().splitn(3, char::is_whitespace);
        let rewritten = match (parts.next(), parts.next(), parts.next()) {
            (Some("#define"), Some(macro_name), Some(old)) => values.get(macro_name).map(|(_, v)| {
                written.insert(macro_name.to_string());
                let float = old.trim().trim_end_matches(')').ends_with('f');
                format!("#define {macro_name} {}", c_literal(*v, float))
            }),
            _ => None,
        };
        out.push_str(rewritten.as_deref().unwrap_or(line));
        out.push('\n');
    }
    if written.is_empty() {
        return Err(Error::invalid(
            "oxDNA header template",
            source.display(),
            "No valid oxDNA parameters found to update: give oxDNA's src/model.h",
        ));
    }
    if let Some((m, (name, _))) = values.iter().find(|(m, _)| !written.contains(*m)) {
        return Err(Error::invalid(
            "oxDNA header template",
            source.display(),
            format!("Parameter {name} ({m}) not found in it: give the src/model.h of the oxDNA version you build"),
        ));
    }
    Ok(out)
}
