//! Energy models as TOML files: the weights of the built-in terms, the user's terms (each with
//! its weight and settings), the batching options and the parameters, so a trained model can be
//! saved and loaded again.
//!
//! ```toml
//! [model]
//! map_batch_size = 100
//! map_checkpoint = true
//! weights = { Fene = 1.0, BondedExcludedVolume = 1.0, Stacking = 0.5, … }
//!
//! [[model.terms]]
//! name = "Restraint"
//! weight = 1.0
//! settings = { pairs = [[0, 11]] }
//!
//! [params]                 # a complete parameter file (ParamSet), the user's terms under
//! model = "dna2"           # [params.custom.Restraint]
//! …
//! ```
//!
//! A user's term is rebuilt from its settings by the constructor registered under its name in a
//! [`TermRegistry`]: the program that reads the file knows its own terms. Every key is checked:
//! an unknown key, a term no constructor is registered for, or a built-in term that does not
//! exist is an error naming the file and what was expected.

use super::custom::EnergyTerm;
use super::model::{EnergyModel, TermId};
use crate::error::{Error, Result};
use crate::params::ParamSet;
use crate::system::Topology;
use std::collections::BTreeMap;
use std::path::Path;

type Maker = Box<dyn Fn(EnergyModel, &toml::Table, f64) -> Result<EnergyModel> + Send + Sync>;

/// Constructors of users' terms by name, for reading model files.
#[derive(Default)]
pub struct TermRegistry {
    makers: BTreeMap<String, Maker>,
}

impl std::fmt::Debug for TermRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.makers.keys()).finish()
    }
}

impl TermRegistry {
    /// An empty registry (files with built-in terms only).
    #[must_use]
    pub fn new() -> TermRegistry {
        TermRegistry::default()
    }

    /// Registers the term called `name`: `make` builds it from the settings its
    /// [`EnergyTerm::settings`] wrote. A second registration under the same name replaces the
    /// first.
    #[must_use]
    pub fn register<E: EnergyTerm>(
        mut self,
        name: &str,
        make: impl Fn(&toml::Table) -> Result<E> + Send + Sync + 'static,
    ) -> TermRegistry {
        self.makers.insert(
            name.to_string(),
            Box::new(move |model, settings, weight| model.with_term(make(settings)?, weight)),
        );
        self
    }
}

impl EnergyModel {
    /// The model as a TOML file (see [`super::model_file`]).
    #[must_use]
    pub fn to_toml_string(&self) -> String {
        let mut model = toml::Table::new();
        model.insert("map_batch_size".into(), toml::Value::Integer(self.map_batch_size as i64));
        model.insert("map_checkpoint".into(), toml::Value::Boolean(self.map_checkpoint));
        let weights: toml::Table = TermId::ALL
            .iter()
            .filter(|t| **t != TermId::Debye || self.params().model() == crate::params::ModelKind::Dna2)
            .map(|t| (t.term().name().to_string(), toml::Value::Float(self.term_weights()[*t as usize])))
            .collect();
        model.insert("weights".into(), toml::Value::Table(weights));
        let terms: Vec<toml::Value> = self
            .attached()
            .iter()
            .map(|t| {
                let mut e = toml::Table::new();
                e.insert("name".into(), toml::Value::String(t.name.to_string()));
                e.insert("weight".into(), toml::Value::Float(t.weight));
                if !t.settings.is_empty() {
                    e.insert("settings".into(), toml::Value::Table(t.settings.clone()));
                }
                toml::Value::Table(e)
            })
            .collect();
        if !terms.is_empty() {
            model.insert("terms".into(), toml::Value::Array(terms));
        }
        let params: toml::Table =
            toml::from_str(&self.params().to_toml_string()).expect("invariant: a parameter file is valid TOML");
        let mut root = toml::Table::new();
        root.insert("model".into(), toml::Value::Table(model));
        root.insert("params".into(), toml::Value::Table(params));
        toml::to_string(&root).expect("invariant: a table of numbers and strings serialises")
    }

    /// Writes the model as a TOML file, whole or not at all.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::atomic::write(path.as_ref(), self.to_toml_string().as_bytes())
    }

    /// Reads a model file for `topology`, rebuilding the user's terms with `registry`.
    pub fn read(topology: &Topology, path: impl AsRef<Path>, registry: &TermRegistry) -> Result<EnergyModel> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read model file", path, e))?;
        EnergyModel::from_toml_str(topology, &text, path, registry)
    }

    /// Parses a model file (`source` names it in errors).
    pub fn from_toml_str(
        topology: &Topology,
        text: &str,
        source: &Path,
        registry: &TermRegistry,
    ) -> Result<EnergyModel> {
        let raw: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Error::parse(source, line, "a TOML model file", e.message().to_string())
        })?;
        // the line of a key, for the message (the first line that starts with its last part)
        let line_of = |key: &str| {
            let last = key.rsplit('.').next().unwrap_or(key);
            text.lines().position(|l| l.trim_start().starts_with(last)).map_or(0, |i| i + 1)
        };
        // the line of a [[model.terms]] entry
        let entry_line = |name: &str| {
            let wanted = format!("name = {}", toml::Value::String(name.to_string()));
            text.lines().position(|l| l.trim() == wanted).map_or(0, |i| i + 1)
        };
        let bad =
            |key: &str, expected: &str| Error::parse(source, line_of(key), expected.to_string(), format!("'{key}'"));
        only_keys(&raw, &["model", "params"], "", &bad)?;
        let params_table = raw.get("params").and_then(toml::Value::as_table).ok_or_else(|| {
            bad("params", "a [params] table: the complete parameter set (as `oxgrad params` writes it)")
        })?;
        let params_text = toml::to_string(params_table).map_err(|e| Error::internal(e.to_string()))?;
        let params = ParamSet::from_toml_str(&params_text, source)?;
        let empty = toml::Table::new();
        let model = match raw.get("model") {
            None => &empty,
            Some(v) => v.as_table().ok_or_else(|| bad("model", "a [model] table"))?,
        };
        only_keys(model, &["map_batch_size", "map_checkpoint", "weights", "terms"], "model.", &bad)?;
        let mut m = EnergyModel::new(topology, ParamSet::defaults(params.model()))?;
        if let Some(v) = model.get("map_batch_size") {
            m.map_batch_size = v
                .as_integer()
                .and_then(|x| usize::try_from(x).ok())
                .filter(|x| *x > 0)
                .ok_or_else(|| bad("model.map_batch_size", "a positive whole number of frames"))?;
        }
        if let Some(v) = model.get("map_checkpoint") {
            m.map_checkpoint = v.as_bool().ok_or_else(|| bad("model.map_checkpoint", "true or false"))?;
        }
        for entry in model.get("terms").and_then(toml::Value::as_array).map_or(&[][..], Vec::as_slice) {
            let e = entry.as_table().ok_or_else(|| bad("model.terms", "[[model.terms]] tables"))?;
            only_keys(e, &["name", "weight", "settings"], "model.terms.", &bad)?;
            let name = e
                .get("name")
                .and_then(toml::Value::as_str)
                .ok_or_else(|| bad("model.terms", "name = \"TermName\" in every [[model.terms]]"))?;
            let weight = e.get("weight").map_or(Some(1.0), number).ok_or_else(|| bad("weight", "a number"))?;
            let settings = match e.get("settings") {
                None => &empty,
                Some(s) => s.as_table().ok_or_else(|| bad("settings", "a table"))?,
            };
            let make = registry.makers.get(name).ok_or_else(|| {
                let known: Vec<&str> = registry.makers.keys().map(String::as_str).collect();
                Error::parse(
                    source,
                    entry_line(name),
                    format!(
                        "a term this program registered ({}): register it with TermRegistry::register (the oxgrad command line knows only the built-in terms)",
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ),
                    format!("term '{name}'"),
                )
            })?;
            // a term's own error (a bad setting) with the file and line of its entry
            m = make(m, settings, weight).map_err(|e| match e {
                Error::InvalidSetting { .. } => {
                    Error::parse(source, entry_line(name), format!("settings term '{name}' accepts"), e.to_string())
                }
                other => other,
            })?;
        }
        if let Some(w) = model.get("weights") {
            let w = w.as_table().ok_or_else(|| bad("model.weights", "a table of term = weight"))?;
            for (term, v) in w {
                let weight = number(v).ok_or_else(|| bad(term, "a number"))?;
                if m.attached().iter().any(|t| &*t.name == term) {
                    return Err(bad(term, "the weight of a user's term in its [[model.terms]] entry"));
                }
                m = m.with_weight(term, weight)?;
            }
        }
        m.with_params(params)
    }
}

fn number(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).filter(|x| x.is_finite())
}

fn only_keys(table: &toml::Table, allowed: &[&str], prefix: &str, bad: &dyn Fn(&str, &str) -> Error) -> Result<()> {
    match table.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(
            &format!("{prefix}{k}"),
            &format!("one of {}", allowed.iter().map(|a| format!("{prefix}{a}")).collect::<Vec<_>>().join(", ")),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{helix, parse_sequence, Shape};
    use crate::params::ModelKind;
    use crate::system::TopologyFormat;

    fn topology() -> Topology {
        helix(&parse_sequence("ACGTACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap().0
    }

    /// Debye–Hückel's weight is written for oxDNA2, which has the term, and read back; oxDNA1's
    /// file has no such weight.
    #[test]
    fn each_model_writes_the_weights_of_its_own_terms() {
        let top = topology();
        let dna2 = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap().with_weight("Debye", 0.5).unwrap();
        let text = dna2.to_toml_string();
        assert!(text.contains("Debye = 0.5"), "{text}");
        let back = EnergyModel::from_toml_str(&top, &text, Path::new("m.toml"), &TermRegistry::new()).unwrap();
        assert_eq!(back.term_weights(), dna2.term_weights());
        let dna1 = EnergyModel::new(&top, ParamSet::defaults(ModelKind::Dna1)).unwrap();
        let text = dna1.to_toml_string();
        assert!(!text.contains("Debye") && text.contains("Stacking = 1.0"), "{text}");
    }

    #[test]
    fn bad_files_name_the_line_and_what_was_expected() {
        let top = topology();
        let text = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap().to_toml_string();
        let read = |t: &str| {
            EnergyModel::from_toml_str(&top, t, Path::new("m.toml"), &TermRegistry::new()).unwrap_err().to_string()
        };
        // a TOML syntax error on line 3
        let e = read("[model]\nmap_batch_size = 7\nmap_checkpoint = = true\n");
        assert!(e.contains("m.toml:3"), "{e}");
        let e = read(&text.replace("map_batch_size = 100", "map_batch_size = 0"));
        assert!(e.contains("a positive whole number of frames"), "{e}");
        let back = EnergyModel::from_toml_str(
            &top,
            &text.replace("map_batch_size = 100", "map_batch_size = 1"),
            Path::new("m.toml"),
            &TermRegistry::new(),
        )
        .unwrap();
        assert_eq!(back.map_batch_size, 1);
    }

    #[test]
    fn a_registry_lists_its_terms() {
        assert_eq!(format!("{:?}", TermRegistry::new()), "[]");
        let names = format!("{:?}", crate::energy::rna2::registry());
        assert!(names.starts_with("[\"") && names.contains("\"RnaFene\""), "{names}");
    }
}
