//! Training configurations: one TOML file that says what to train, on which systems, against
//! which observables, and how. The schema with every key, default and unit is in
//! `docs/config.md`; [`Config`] is its typed form and [`ConfigFile::build`] turns it into components
//! ([`plan::Plan`]) that the optimizer runs.
//!
//! ```toml
//! [model]
//! kind = "dna1"
//! temperature = "300K"
//!
//! [optimizer]
//! learning_rate = 1e-3
//! steps = 20
//! train = ["Stacking", "eps_hb"]
//!
//! [[simulator]]
//! name = "duplex"
//! kind = "native"
//! duplex = "ACGTTGCAATGC"
//! md_steps = 200000
//! sample_every = 2000
//!
//! [[objective]]
//! name = "propeller"
//! simulators = ["duplex"]
//! observable = { kind = "propeller_twist", exclude_end_pairs = 2 }
//! target = 20.0
//! ```
//!
//! Every error names the file, the line and the key: an unknown key (with the closest valid
//! spelling), a missing one, a value out of its domain. Paths are relative to the file.

mod model;
mod objective;
pub mod plan;
mod simulator;
mod spans;
mod tagged;

use tagged::tagged;

pub use model::{Dna1Config, Dna2Config, ModelConfig, Rna2Config};
pub use objective::{DifftreConfig, ObjectiveConfig};
pub use simulator::{MonteCarloConfig, NativeConfig, OxdnaConfig, SimulatorConfig, TrajectoryConfig};

use crate::component::SchedulerHints;
use crate::error::{Error, Location, Result};
use crate::observable::ObservableSpec;
use serde::{Deserialize, Serialize};
use spans::Spans;
use std::path::{Path, PathBuf};

/// Declares a configuration kind: a closed set of lowercase names, read and written as TOML
/// strings (an unknown name is an error at its line, with the closest valid name).
macro_rules! kinds {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? } default $default:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }
        impl $name {
            /// Every name, in order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            /// Its name in a configuration.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }
        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

kinds!(
    /// `[optimizer] kind`.
    OptimizerKind {
        /// Adam (β1 0.9, β2 0.999, ε 1e-8).
        Adam = "adam",
        /// Plain gradient descent.
        Sgd = "sgd",
    } default Adam
);
kinds!(
    /// `[aggregate] kind`.
    AggregateKind {
        /// The mean of the objectives' gradients.
        Mean = "mean",
        /// Σ weight · gradient.
        Weighted = "weighted",
        /// The one objective's gradient.
        Passthrough = "passthrough",
    } default Mean
);
/// A whole training configuration (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The energy model and the state it is evaluated at (`kind` picks the keys).
    pub model: ModelConfig,
    /// The update rule and what it trains.
    pub optimizer: OptimizerConfig,
    /// Simulators (`[[simulator]]`), at least one.
    #[serde(rename = "simulator", default)]
    pub simulators: Vec<SimulatorConfig>,
    /// Objectives (`[[objective]]`), at least one.
    #[serde(rename = "objective", default)]
    pub objectives: Vec<ObjectiveConfig>,
    /// How the objectives' gradients are combined.
    #[serde(default)]
    pub aggregate: AggregateConfig,
    /// The fresh simulations that check the fit.
    #[serde(default)]
    pub validation: ValidationConfig,
    /// Where tasks run.
    #[serde(default)]
    pub executor: ExecutorConfig,
}

pub use crate::units::TomlNumberOrString;

fn default_temperature() -> TomlNumberOrString {
    TomlNumberOrString::Text("300K".into())
}

/// `[optimizer]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// `"adam"` (default) or `"sgd"`.
    #[serde(default)]
    pub kind: OptimizerKind,
    /// Learning rate (default 1e-3).
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// Optimisation steps (updates), at least 1.
    pub steps: usize,
    /// What is trained: `"all"`, term names (`"Stacking"`) or parameter names (default `["all"]`).
    #[serde(default = "default_train")]
    pub train: Vec<String>,
    /// Clip each gradient to this global norm first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_norm: Option<f64>,
    /// Calls allowed per objective per step (default 2: cached data, then fresh data).
    #[serde(default = "default_calls")]
    pub max_objective_calls: usize,
}

fn default_lr() -> f64 {
    1e-3
}
fn default_train() -> Vec<String> {
    vec!["all".into()]
}
fn default_calls() -> usize {
    2
}

fn one() -> usize {
    1
}
fn is_default_hints(h: &SchedulerHints) -> bool {
    *h == SchedulerHints::default()
}

/// `[aggregate]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateConfig {
    /// `"mean"` (default), `"weighted"` (the objectives' `weight`s) or `"passthrough"`.
    #[serde(default)]
    pub kind: AggregateKind,
}

impl Default for AggregateConfig {
    fn default() -> Self {
        AggregateConfig { kind: AggregateKind::Mean }
    }
}

/// `[validation]`: fresh simulations with the best and the initial parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationConfig {
    /// Run the validation (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Production MD steps per copy (default: 4 × the simulator's `md_steps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md_steps: Option<u64>,
    /// Copies per parameter set (default: the simulator's copies, at least 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies: Option<usize>,
    /// Equilibration steps (default: the simulator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equilibration_steps: Option<u64>,
    /// Sampling interval (default: the simulator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_every: Option<u64>,
    /// Master seed of the validation runs (default 1001).
    #[serde(default = "default_validation_seed")]
    pub seed: u64,
}

fn yes() -> bool {
    true
}
fn default_validation_seed() -> u64 {
    1001
}

impl Default for ValidationConfig {
    fn default() -> Self {
        ValidationConfig {
            enabled: true,
            md_steps: None,
            copies: None,
            equilibration_steps: None,
            sample_every: None,
            seed: default_validation_seed(),
        }
    }
}

tagged!(
    /// `[executor]`: where tasks run; `kind` (default `"thread"`) picks the keys.
    ExecutorConfig default "thread" {
        /// `"thread"`: threads of the driver.
        Thread(ThreadExecutorConfig) = "thread"
            note "only the process and slurm executors use a spool directory",
        /// `"process"`: a worker process per task.
        Process(ProcessExecutorConfig) = "process",
        /// `"slurm"`: a job step per task, in the allocation the run is in.
        Slurm(SlurmExecutorConfig) = "slurm"
            note "the slurm executor uses the CPUs of the allocation it runs in: ask sbatch for them; `oxgrad slurm-script` writes the script",
    }
);

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig::Thread(ThreadExecutorConfig::default())
    }
}

impl ExecutorConfig {
    /// The CPUs it was given (`None`: every core, or under Slurm the allocation's).
    #[must_use]
    pub fn cpus(&self) -> Option<usize> {
        match self {
            ExecutorConfig::Thread(e) => e.cpus,
            ExecutorConfig::Process(e) => e.cpus,
            ExecutorConfig::Slurm(_) => None,
        }
    }

    /// The GPUs it was given (`None`: those detected).
    #[must_use]
    pub fn gpus(&self) -> Option<usize> {
        match self {
            ExecutorConfig::Thread(e) => e.gpus,
            ExecutorConfig::Process(e) => e.gpus,
            ExecutorConfig::Slurm(e) => e.gpus,
        }
    }
}

/// `[executor] kind = "thread"` (the default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadExecutorConfig {
    /// CPUs the pool may use (default: every core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<usize>,
    /// GPUs the pool may hand out to tasks' `num_gpus` hints (default: those detected —
    /// `CUDA_VISIBLE_DEVICES` if set, else `nvidia-smi -L`; 0 without NVIDIA devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<usize>,
}

/// `[executor] kind = "process"`: worker processes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessExecutorConfig {
    /// CPUs the pool may use (default: every core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<usize>,
    /// GPUs the pool may hand out (default: those detected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<usize>,
    /// Where the workers' job files and observables are exchanged (default: the system's
    /// temporary directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool: Option<PathBuf>,
}

/// `[executor] kind = "slurm"`: job steps of the allocation the run is in (its CPUs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmExecutorConfig {
    /// GPUs handed out to tasks (default: the allocation's; one node only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<usize>,
    /// Nodes `oxgrad slurm-script` asks for (default 1): the tasks' CPUs and GPUs are spread over
    /// them. The run itself uses the nodes of whatever allocation it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// The spool directory, which every node must see (default: `oxgrad-spool` in the current
    /// directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool: Option<PathBuf>,
}

/// A configuration read from a file, with what is needed to report errors at their lines.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The typed configuration.
    pub config: Config,
    /// The file it came from (relative paths are resolved against its directory).
    pub path: PathBuf,
    spans: Spans,
}

impl ConfigFile {
    /// Reads and checks a configuration file.
    pub fn read(path: impl AsRef<Path>) -> Result<ConfigFile> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read configuration", path, e))?;
        ConfigFile::parse(&text, path)
    }

    /// Parses configuration text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile> {
        let spans = Spans::parse(text, path)?;
        let config: Config = toml::from_str(text).map_err(|e| de_error(path, text, &e, &spans))?;
        Ok(ConfigFile { config, path: path.to_path_buf(), spans })
    }

    /// The directory relative paths in the file are resolved against.
    #[must_use]
    pub fn dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// Resolves a path from the file.
    #[must_use]
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir().join(p)
        }
    }

    /// An error at `key` (a dotted path such as `objective[0].target`), at the line it is on.
    #[must_use]
    pub fn error(&self, key: &str, msg: impl Into<String>) -> Error {
        Error::Config {
            at: Location { source: self.path.clone(), line: self.spans.line(key) },
            key: key.to_string(),
            msg: msg.into(),
        }
    }

    /// Every file this configuration reads: the file itself, the model's parameter and
    /// sequence-dependent files, each simulator's topology, configuration, trajectory and program,
    /// the files directly in an oxDNA simulator's `input_dir`, and RMSD references. A run
    /// directory's outputs may never be one of them ([`crate::train::Training::inputs`]).
    #[must_use]
    pub fn inputs(&self) -> Vec<PathBuf> {
        let c = &self.config;
        let mut files = vec![self.path.clone()];
        let mut add = |p: Option<&Path>| files.extend(p.map(|p| self.resolve(p)));
        add(c.model.params());
        add(c.model.seq_dep_file());
        for s in &c.simulators {
            match s {
                SimulatorConfig::Native(n) => {
                    for p in [&n.topology, &n.configuration, &n.external_forces_file] {
                        add(p.as_deref());
                    }
                }
                SimulatorConfig::MonteCarlo(m) => {
                    for p in [&m.topology, &m.configuration, &m.op_file, &m.weights_file, &m.external_forces_file] {
                        add(p.as_deref());
                    }
                }
                SimulatorConfig::Oxdna(o) => add(o.program.as_deref()),
                SimulatorConfig::Trajectory(t) => {
                    add(Some(&t.topology));
                    add(Some(&t.trajectory));
                }
            }
        }
        for spec in c.objectives.iter().flat_map(ObjectiveConfig::observables) {
            match spec {
                ObservableSpec::Rmsd { reference } => add(Some(reference)),
                ObservableSpec::MeltingTemperature { op_file, weights_file, .. } => {
                    add(op_file.as_deref());
                    add(weights_file.as_deref());
                }
                _ => {}
            }
        }
        let input_dirs = c.simulators.iter().filter_map(|s| match s {
            SimulatorConfig::Oxdna(o) => Some(&o.input_dir),
            _ => None,
        });
        for dir in input_dirs {
            if let Ok(entries) = std::fs::read_dir(self.resolve(dir)) {
                files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
            }
        }
        files.retain(|p| p.is_file());
        files
    }

    /// The configuration with its defaults written out (simulator settings, salt, CPUs), as
    /// TOML: the run directory keeps it, and it reads back to the same run.
    #[must_use]
    pub fn resolved_toml(&self) -> String {
        let mut c = self.config.clone();
        // paths become absolute, so the copy in the run directory finds the same files
        let abs_path = |x: &mut PathBuf| {
            let r = self.resolve(x);
            *x = std::fs::canonicalize(&r).unwrap_or(r);
        };
        let abs = |p: &mut Option<PathBuf>| p.iter_mut().for_each(abs_path);
        c.model.files_mut().into_iter().for_each(abs);
        for s in &mut c.simulators {
            match s {
                SimulatorConfig::Native(n) => {
                    abs(&mut n.topology);
                    abs(&mut n.configuration);
                }
                SimulatorConfig::MonteCarlo(m) => {
                    for p in [&mut m.topology, &mut m.configuration, &mut m.op_file, &mut m.weights_file] {
                        abs(p);
                    }
                }
                SimulatorConfig::Oxdna(o) => {
                    abs_path(&mut o.input_dir);
                    abs(&mut o.source);
                    abs(&mut o.program);
                }
                SimulatorConfig::Trajectory(t) => {
                    abs_path(&mut t.topology);
                    abs_path(&mut t.trajectory);
                }
            }
        }
        for spec in c.objectives.iter_mut().flat_map(ObjectiveConfig::observables_mut) {
            match spec {
                ObservableSpec::Rmsd { reference } => abs_path(reference),
                ObservableSpec::MeltingTemperature { op_file, weights_file, .. } => {
                    abs(op_file);
                    abs(weights_file);
                }
                _ => {}
            }
        }
        for s in &mut c.simulators {
            if let SimulatorConfig::MonteCarlo(m) = s {
                let d = crate::simulate::McConfig::default();
                m.sample_every = Some(m.sample_every());
                m.equilibration_steps.get_or_insert(0);
                m.seed.get_or_insert(crate::simulate::MdConfig::SEED);
                m.sim_type.get_or_insert_with(|| "VMMC".into());
                m.delta_translation.get_or_insert(d.delta_translation);
                m.delta_rotation.get_or_insert(d.delta_rotation);
            }
            let SimulatorConfig::Native(s) = s else { continue };
            use crate::simulate::MdConfig;
            s.sample_every = Some(s.sample_every());
            s.equilibration_steps.get_or_insert(0);
            s.seed.get_or_insert(MdConfig::SEED);
            s.dt.get_or_insert(MdConfig::DT);
            let thermostat = s.thermostat.get_or_insert_with(|| "john".into()).clone();
            if thermostat == "john" || thermostat == "brownian" {
                s.newtonian_steps.get_or_insert(MdConfig::NEWTONIAN_STEPS);
            }
            s.diff_coeff.get_or_insert(MdConfig::DIFF_COEFF);
            s.verlet_skin.get_or_insert(MdConfig::VERLET_SKIN);
        }
        match &mut c.executor {
            ExecutorConfig::Thread(ThreadExecutorConfig { cpus, .. })
            | ExecutorConfig::Process(ProcessExecutorConfig { cpus, .. }) => {
                cpus.get_or_insert_with(crate::machine::cores);
            }
            ExecutorConfig::Slurm(_) => {}
        }
        let text = toml::to_string(&c).unwrap_or_else(|e| format!("# cannot serialise the configuration: {e}\n"));
        format!("# {} with its defaults written out (see docs/config.md)\n{text}", self.path.display())
    }
}

/// A deserialisation error at its line, with the key path it concerns. An error in a table whose
/// `kind` picks its keys comes without the key's place (see [`tagged`]): that table is read again
/// from the spanned document for the key, its line and a message that knows the kind.
fn de_error(path: &Path, text: &str, e: &toml::de::Error, spans: &Spans) -> Error {
    let line_at = |pos: usize| text[..pos.min(text.len())].matches('\n').count() + 1;
    let table = e.span().and_then(|s| spans.path_at(s.start)).unwrap_or("");
    let (key, line, msg) = match diagnose(text, table) {
        Some((Some(span), msg)) => (spans.path_at(span.start).unwrap_or(table), line_at(span.start), msg),
        Some((None, msg)) => (table, spans.line(table), msg),
        None => (table, e.span().map_or(0, |s| line_at(s.start)), improve(e.message().trim())),
    };
    Error::Config { at: Location { source: path.to_path_buf(), line }, key: key.to_string(), msg }
}

/// The error of the kind-tagged table at `key` (`simulator[0]`, …), read from the document with
/// the places of its keys; `None` if `key` is no such table.
fn diagnose(text: &str, key: &str) -> Option<(Option<std::ops::Range<usize>>, String)> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let (name, index) = match key.strip_suffix(']').and_then(|k| k.split_once('[')) {
        Some((name, i)) => (name, Some(i.parse::<usize>().ok()?)),
        None => (key, None),
    };
    let item = doc.as_table().get(name)?;
    let item = match (item, index) {
        (toml_edit::Item::ArrayOfTables(a), Some(i)) => toml_edit::Item::Table(a.get(i)?.clone()),
        (item, None) => item.clone(),
        _ => return None,
    };
    match name {
        "model" => tagged::diagnose::<ModelConfig>(&item),
        "simulator" => tagged::diagnose::<SimulatorConfig>(&item),
        "objective" => tagged::diagnose::<ObjectiveConfig>(&item),
        "executor" => tagged::diagnose::<ExecutorConfig>(&item),
        _ => None,
    }
}

/// A serde message about a configuration value, reworded for users: unknown keys and kinds with
/// the closest valid spelling, missing keys, wrong types.
#[must_use]
pub fn explain(msg: &str) -> String {
    improve(msg)
}

/// serde's messages with a closest-spelling suggestion for unknown fields.
fn improve(msg: &str) -> String {
    // "unknown field `x`, expected one of `a`, `b`" or "... expected `a` or `b`"
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        let valid: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let best = crate::params::closest(name, valid.iter().copied());
        let list = valid.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ");
        return match best.first() {
            Some(b) => format!("unknown key '{name}'; did you mean '{b}'? (valid keys: {list})"),
            None => format!("unknown key '{name}' (valid keys: {list})"),
        };
    }
    if let Some((found, expected)) = msg.strip_prefix("invalid type: ").and_then(|m| m.split_once(", expected ")) {
        let want = match expected {
            "usize" | "u64" | "u32" => "a whole number",
            "f64" | "f32" => "a number",
            "a boolean" => "true or false",
            "a string" => "a string in quotes",
            "a sequence" => "a list [..]",
            other => other,
        };
        return format!("expected {want}, found {found}");
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        return format!("missing required key '{name}'");
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or("");
        let valid: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let best = crate::params::closest(name, valid.iter().copied());
        let list = valid.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ");
        return match best.first() {
            Some(b) => format!("unknown kind \"{name}\"; did you mean \"{b}\"? (valid: {list})"),
            None => format!("unknown kind \"{name}\" (valid: {list})"),
        };
    }
    msg.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_the_line_and_the_closest_key() {
        let text = "[model]\nkind = \"dna1\"\n\n[optimizer]\nsteps = 3\nlearnig_rate = 0.1\n";
        let e = ConfigFile::parse(text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.starts_with("c.toml:6: "), "{e}");
        assert!(e.contains("unknown key 'learnig_rate'; did you mean 'learning_rate'?"), "{e}");
    }

    /// A kind's table reads its own keys and is written back with `kind` first; `[executor]` may
    /// leave `kind` out; a missing or non-text `kind` is reported at its line.
    #[test]
    fn tagged_tables_read_and_write_their_kind() {
        let text = "name = \"d\"\nkind = \"native\"\nduplex = \"ACGT\"\nmd_steps = 10\n";
        let s: SimulatorConfig = toml::from_str(text).unwrap();
        let back = toml::to_string(&s).unwrap();
        assert!(back.starts_with("kind = \"native\"\nname = \"d\"\n"), "{back}");
        assert_eq!(toml::from_str::<SimulatorConfig>(&back).unwrap(), s);
        let e: ExecutorConfig = toml::from_str("cpus = 2\n").unwrap();
        assert_eq!(e, ExecutorConfig::Thread(ThreadExecutorConfig { cpus: Some(2), gpus: None }));
        assert_eq!(tagged::keys_of::<SlurmExecutorConfig>(), ["gpus", "nodes", "spool"]);
        let head = "[model]\nkind = \"dna1\"\n[optimizer]\nsteps = 1\n[[simulator]]\nname = \"d\"\n";
        for (rest, expect) in [
            ("", "c.toml:5: simulator[0]: missing required key 'kind'"),
            ("kind = 3\n", "c.toml:7: simulator[0].kind: expected a kind name in quotes, found integer"),
        ] {
            let e = ConfigFile::parse(&format!("{head}{rest}"), Path::new("c.toml")).unwrap_err().to_string();
            assert_eq!(e, expect);
        }
    }

    /// `[model]`'s kind picks its keys and their defaults; the resolved configuration writes the
    /// kind's salt out and reads back to the same model.
    #[test]
    fn model_kinds_resolve_and_read_back() {
        let rest = "[optimizer]\nsteps = 1\n";
        for (kind, salt) in [("dna1", None), ("dna2", Some(0.5)), ("rna2", Some(1.0))] {
            let text = format!("[model]\nkind = \"{kind}\"\n{rest}");
            let file = ConfigFile::parse(&text, Path::new("c.toml")).unwrap();
            let m = &file.config.model;
            assert_eq!((m.kind(), m.temperature()), (kind, &default_temperature()));
            let resolved = file.resolved_toml();
            let back = ConfigFile::parse(&resolved, Path::new("c.toml")).unwrap();
            assert_eq!(&back.config.model, m, "{resolved}");
            let written = resolved.lines().find_map(|l| l.strip_prefix("salt = ")).map(|v| v.parse::<f64>().unwrap());
            assert_eq!(written, salt, "{resolved}");
        }
        let file = ConfigFile::parse(&format!("[model]\nkind = \"dna2\"\nsalt = 0.2\n{rest}"), Path::new("c.toml"));
        assert!(matches!(file.unwrap().config.model, ModelConfig::Dna2(Dna2Config { salt: 0.2, .. })));
    }

    /// One set of MD defaults: a native simulator that names no MD setting runs with
    /// `MdConfig::default()`, and the resolved configuration writes those same values out; an
    /// oxDNA input's Langevin thermostat without frictions takes them from the same rule.
    #[test]
    fn md_defaults_have_one_home() {
        use crate::simulate::{MdConfig, SimRun, Thermostat};
        let text = "[model]\nkind = \"dna1\"\n[optimizer]\nsteps = 1\n[[simulator]]\nname = \"d\"\nkind = \"native\"\nduplex = \"ACGT\"\nmd_steps = 500\n[[objective]]\nname = \"r\"\nsimulators = [\"d\"]\nobservable = { kind = \"rise\", exclude_end_pairs = 1 }\ntarget = 0.36\n";
        let file = ConfigFile::parse(text, Path::new("c.toml")).unwrap();
        let plan = file.clone().build().unwrap();
        let crate::config::plan::SimulatorKind::Native { copies } = &plan.simulators[0].kind else { panic!() };
        assert_eq!(copies[0].config(), &MdConfig::with_steps(500));
        let resolved: Config = toml::from_str(file.resolved_toml().split_once('\n').unwrap().1).unwrap();
        let SimulatorConfig::Native(s) = &resolved.simulators[0] else { panic!("native") };
        let d = MdConfig::default();
        assert_eq!((s.dt, s.verlet_skin, s.seed), (Some(d.dt), Some(d.verlet_skin), Some(d.seed)));
        assert_eq!((s.newtonian_steps, s.diff_coeff), (Some(MdConfig::NEWTONIAN_STEPS), Some(MdConfig::DIFF_COEFF)));
        assert_eq!(d.thermostat, Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 });
        assert_eq!((d.dt, d.verlet_skin, d.seed, d.steps), (0.005, 0.05, 1, 0));
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/oxdna/dna1-avg-8bp-T296");
        let mut input = crate::io::InputFile::read(dir.join("input_md")).unwrap();
        input.set("thermostat", "langevin");
        let run = SimRun::from_input(&input).unwrap();
        let crate::simulate::input::Engine::Md(md) = &run.engine else { panic!("an MD input") };
        assert_eq!(md.thermostat, Thermostat::langevin(296.15 / 3000.0, MdConfig::DIFF_COEFF));
    }
}
