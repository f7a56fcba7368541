//! A configuration turned into components: the starting parameters, what is trained, the
//! simulators (with their copies), the DiffTRe objectives, the aggregation, the update rule and
//! the validation runs. Every problem is reported at its key and line.

use super::{
    AggregateKind, ConfigFile, DifftreConfig, ExecutorConfig, ModelConfig, MonteCarloConfig, NativeConfig,
    ObjectiveConfig, OptimizerKind, OxdnaConfig, Rna2Config, SimulatorConfig, TomlNumberOrString, TrajectoryConfig,
};
use crate::energy::EnergyModel;
use crate::error::{Error, Result};
use crate::generate::{helix, parse_sequence, Shape};
use crate::io::order_parameter::{MissingWeights, OrderParameters, Weights};
use crate::io::{Configuration, InputFile, SeqDepFile, TrajectoryReader};
use crate::objective::{DiffTre, Loss, MeltingObjective};
use crate::observable::mechanics::FORCE_KEY;
use crate::observable::melting::Melting;
use crate::observable::melting_temperature::MeltingTemperature;
use crate::observable::{BasePairs, Observable, ObservableSpec};
use crate::optimize::{
    create_n_names, Aggregate, LocalPool, Objective, ObservableId, Optimization, ProcessPool, Simulator, UpdateRule,
};
use crate::params::{closest, ModelKind, ParamClass, ParamSelection, ParamSet, Term, SHIPPED_SEQ_DEP};
use crate::simulate::external::ExternalForce;
use crate::simulate::native::MonteCarlo;
use crate::simulate::{
    McConfig, McMoves, MdConfig, NativeSimulator, OxdnaBuild, OxdnaSimulator, Thermostat, TrajectorySimulator,
};
use crate::system::{Topology, TopologyFormat};
use crate::train::{ObjectiveInfo, Training, Validation};
use crate::trajectory::Trajectory;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How `[model]` becomes the energy model of a system.
#[derive(Debug, Clone)]
pub enum ModelRecipe {
    /// oxDNA1 or oxDNA2: the parameter set says everything.
    Dna,
    /// oxRNA2 ([`crate::energy::rna2`]) at salt concentration `salt` (mol/L), sequence-dependent
    /// with the tables of `sequence` where given.
    Rna2 {
        /// Salt concentration, mol/L.
        salt: f64,
        /// The sequence-dependent strengths' tables (their values are the parameters'), boxed:
        /// they are large beside the other recipe.
        sequence: Option<Box<crate::energy::rna2::SequenceDependence>>,
    },
}

impl ModelRecipe {
    /// The model of `topology` with parameters `params` (the plan's set, or one derived from it).
    pub fn model(&self, topology: &Topology, params: &ParamSet) -> Result<EnergyModel> {
        match self {
            ModelRecipe::Dna => EnergyModel::new(topology, params.clone()),
            ModelRecipe::Rna2 { salt, sequence } => {
                use crate::energy::rna2;
                let kt = params.value("kt");
                let debye = rna2::DebyeHuckel::new(*salt, kt)?;
                rna2::model_with(topology, kt, rna2::Fene::strict(), debye, sequence.as_deref())?
                    .with_params(params.clone())
            }
        }
    }
}

/// One `[[simulator]]`: its system and its copies.
pub struct SimulatorPlan {
    /// The configured name.
    pub name: String,
    /// The system's topology.
    pub topology: Topology,
    /// What runs.
    pub kind: SimulatorKind,
}

/// The two simulator kinds of a configuration.
pub enum SimulatorKind {
    /// Native MD or Monte Carlo: the copies (named `name.0`, …).
    Native {
        /// The copies, as the optimizer runs them.
        copies: Vec<NativeSimulator>,
    },
    /// A replayed trajectory.
    Trajectory(TrajectorySimulator),
    /// An installed oxDNA: the copies (named `name.0`, …).
    Oxdna {
        /// The copies, as the optimizer runs them.
        copies: Vec<OxdnaSimulator>,
    },
}

impl SimulatorPlan {
    /// Every copy as a simulator of the optimizer.
    #[must_use]
    pub fn simulators(&self) -> Vec<Arc<dyn Simulator>> {
        match &self.kind {
            SimulatorKind::Native { copies } => {
                copies.iter().map(|c| Arc::new(c.clone()) as Arc<dyn Simulator>).collect()
            }
            SimulatorKind::Trajectory(t) => vec![Arc::new(t.clone())],
            SimulatorKind::Oxdna { copies } => {
                copies.iter().map(|c| Arc::new(c.clone()) as Arc<dyn Simulator>).collect()
            }
        }
    }

    /// The observables every copy exposes.
    #[must_use]
    pub fn exposes(&self) -> Vec<ObservableId> {
        self.simulators().iter().flat_map(|s| s.exposes()).collect()
    }
}

/// One `[[objective]]`.
pub struct ObjectivePlan {
    /// The configured name.
    pub name: String,
    /// The objective.
    pub objective: PlannedObjective,
    /// Its observables (shared with the objective).
    pub observables: Vec<Arc<dyn Observable>>,
    /// Targets of a built-in loss, in observable order.
    pub targets: Vec<f64>,
    /// Indices of the simulators a validation re-simulates: the first native one, and one per
    /// distinct state metadata (each pulling force of a modulus).
    pub validation_simulators: Vec<usize>,
    /// Weight for `[aggregate] kind = "weighted"`.
    pub weight: f64,
}

/// The objective of an `[[objective]]`, by what it fits.
#[derive(Clone)]
pub enum PlannedObjective {
    /// DiffTRe on averages of per-state observables.
    Difftre(Arc<DiffTre>),
    /// DiffTRe on umbrella-sampled states for a melting temperature.
    Melting(Arc<MeltingObjective>),
}

impl PlannedObjective {
    /// As the optimizer runs it.
    #[must_use]
    pub fn objective(&self) -> Arc<dyn Objective> {
        match self {
            PlannedObjective::Difftre(d) => d.clone(),
            PlannedObjective::Melting(m) => m.clone(),
        }
    }
}

/// Everything a training run needs.
pub struct Plan {
    /// The configuration it came from.
    pub file: ConfigFile,
    /// The starting parameter set (model, temperature, salt, sequence dependence, overrides).
    pub params: ParamSet,
    /// How a system's energy model is built from it.
    pub recipe: ModelRecipe,
    /// The trained parameter names, in the set's order.
    pub trained: Vec<String>,
    /// The update rule.
    pub update: UpdateRule,
    /// Optimisation steps.
    pub steps: usize,
    /// Simulators, in configuration order.
    pub simulators: Vec<SimulatorPlan>,
    /// Objectives, in configuration order.
    pub objectives: Vec<ObjectivePlan>,
    /// The gradient aggregation.
    pub aggregate: Aggregate,
    /// CPUs of the thread pool.
    pub cpus: usize,
}

/// The keys that name a simulator's system (native MD and Monte Carlo share them).
struct SystemKeys<'a> {
    duplex: Option<&'a String>,
    strand: Option<&'a String>,
    box_side: Option<f64>,
    topology: Option<&'a PathBuf>,
    configuration: Option<&'a PathBuf>,
}

/// The [`SystemKeys`] of a simulator table that has them (their structs cannot share a flattened
/// part: serde's `flatten` does not work with `deny_unknown_fields`).
macro_rules! system_keys {
    ($s:expr) => {
        SystemKeys {
            duplex: $s.duplex.as_ref(),
            strand: $s.strand.as_ref(),
            box_side: $s.box_side,
            topology: $s.topology.as_ref(),
            configuration: $s.configuration.as_ref(),
        }
    };
}

impl ConfigFile {
    /// Builds every component; errors name the key and line.
    pub fn build(self) -> Result<Plan> {
        let c = &self.config;
        let (params, recipe) = self.model_params()?;
        let trained = self.trained(&params, &recipe)?;
        let update = self.update_rule()?;
        if c.optimizer.steps < 1 {
            return Err(self.error("optimizer.steps", "at least 1 optimisation step"));
        }
        if c.optimizer.max_objective_calls < 1 {
            return Err(self.error("optimizer.max_objective_calls", "at least 1 call per objective per step"));
        }
        if c.simulators.is_empty() {
            return Err(self.error("simulator", "At least one simulator is required: add a [[simulator]] table"));
        }
        if c.objectives.is_empty() {
            return Err(self.error("objective", "At least one objective is required: add an [[objective]] table"));
        }
        self.unique_names()?;
        let mut simulators = c
            .simulators
            .iter()
            .enumerate()
            .map(|(i, s)| self.simulator(i, s, &params, &recipe))
            .collect::<Result<Vec<_>>>()?;
        let mut objectives = Vec::new();
        for (i, o) in c.objectives.iter().enumerate() {
            objectives.push(match o {
                ObjectiveConfig::Difftre(d) => match self.per_force(i, d, &mut simulators)? {
                    Some(expanded) => self.difftre(i, &expanded, &params, &recipe, &simulators)?,
                    None => self.difftre(i, d, &params, &recipe, &simulators)?,
                },
            });
        }
        let aggregate = match c.aggregate.kind {
            AggregateKind::Mean => Aggregate::Mean,
            AggregateKind::Weighted => Aggregate::WeightedSum(objectives.iter().map(|o| o.weight).collect()),
            AggregateKind::Passthrough if objectives.len() == 1 => Aggregate::Passthrough,
            AggregateKind::Passthrough => {
                return Err(self.error(
                    "aggregate.kind",
                    format!("passthrough takes the gradients of exactly one objective, and {} are configured: use \"mean\" or \"weighted\"", objectives.len()),
                ))
            }
        };
        let cores = crate::machine::cores();
        let cpus = match c.executor.cpus() {
            Some(n) if n == 0 || n > cores => {
                return Err(self.error(
                    "executor.cpus",
                    format!("between 1 and the {cores} cores of this machine (leave it out to use every core)"),
                ))
            }
            Some(n) => n,
            None => cores,
        };
        self.check_validation()?;
        let steps = c.optimizer.steps;
        Ok(Plan { params, recipe, trained, update, steps, simulators, objectives, aggregate, cpus, file: self })
    }

    fn model_params(&self) -> Result<(ParamSet, ModelRecipe)> {
        let m = &self.config.model;
        let (mut p, recipe) = match m {
            ModelConfig::Dna1(_) => (self.dna_params(ModelKind::Dna1, None)?, ModelRecipe::Dna),
            ModelConfig::Dna2(d) => (self.dna_params(ModelKind::Dna2, Some(d.salt))?, ModelRecipe::Dna),
            ModelConfig::Rna2(r) => self.rna2_params(r)?,
        };
        if let Some(f) = m.params() {
            let path = self.resolve(f);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| self.error("model.params", format!("cannot read '{}': {e}", path.display())))?;
            let before = p.clone();
            p.apply_toml_str(&text, &path).map_err(|e| self.error("model.params", e.to_string()))?;
            if matches!(recipe, ModelRecipe::Rna2 { .. }) {
                // the DNA parameters an oxRNA2 set carries are read by no term: a change is a mistake
                let unused = p.iter().zip(before.iter()).find(|((n, v), (_, w))| {
                    v.to_bits() != w.to_bits()
                        && p.owner(n).is_none()
                        && p.class_of(n).is_ok_and(|c| c != ParamClass::State)
                });
                if let Some(((name, _), _)) = unused {
                    let terms: Vec<String> = p
                        .custom_terms()
                        .iter()
                        .map(|t| format!("{t}.{name}"))
                        .filter(|q| p.owner(q).is_some())
                        .collect();
                    let hint = match terms.as_slice() {
                        [] => String::new(),
                        names => format!(": write {} (or the term's [custom.Term] table)", names.join(" or ")),
                    };
                    return Err(self.error(
                        "model.params",
                        format!(
                            "'{}' sets '{name}', a parameter of the DNA terms that the rna2 model does not use{hint}",
                            path.display()
                        ),
                    ));
                }
            }
        }
        crate::energy::validate(&p).map_err(|e| self.error("model.params", e.to_string()))?;
        Ok((p, recipe))
    }

    /// oxRNA2: sequence-dependent with `seq_dep_file` (oxDNA's RNA format) or, with
    /// `sequence_dependent = true` alone, oxDNA's shipped `rna_sequence_dependent_parameters.txt`.
    fn rna2_params(&self, m: &Rna2Config) -> Result<(ParamSet, ModelRecipe)> {
        use crate::energy::rna2::{self, SequenceDependence};
        let kt = self.temperature(&m.temperature, "model.temperature")?;
        if !(273.15 / 3000.0..=373.15 / 3000.0).contains(&kt) {
            tracing::warn!("oxRNA2 is parametrised between 0 and 100 °C; [model] temperature is {:.2} K", kt * 3000.0);
        }
        let salt = crate::units::check_salt(m.salt).map_err(|m| self.error("model.salt", m))?;
        let sequence = match (&m.seq_dep_file, m.sequence_dependent) {
            (Some(f), _) => Some(
                SequenceDependence::read(self.resolve(f))
                    .map_err(|e| self.error("model.seq_dep_file", e.to_string()))?,
            ),
            (None, true) => {
                let name = "rna_sequence_dependent_parameters.txt";
                let text = SHIPPED_SEQ_DEP.iter().find(|(n, _)| *n == name).map_or("", |(_, t)| *t);
                Some(SequenceDependence::from_file(&SeqDepFile::parse(text, Path::new(name))?)?)
            }
            (None, false) => None,
        };
        let p = rna2::parameters(kt, salt, sequence.as_ref()).map_err(|e| self.error("model", e.to_string()))?;
        Ok((p, ModelRecipe::Rna2 { salt, sequence: sequence.map(Box::new) }))
    }

    /// oxDNA1 or oxDNA2 (with its `salt`).
    fn dna_params(&self, kind: ModelKind, salt: Option<f64>) -> Result<ParamSet> {
        let m = &self.config.model;
        let mut p = ParamSet::defaults(kind);
        let kt = self.temperature(m.temperature(), "model.temperature")?;
        p.set("kt", kt).map_err(|e| self.error("model.temperature", e.to_string()))?;
        if let Some(s) = salt {
            p.set("salt_conc", crate::units::check_salt(s).map_err(|m| self.error("model.salt", m))?)?;
        }
        if m.sequence_dependent() || m.seq_dep_file().is_some() {
            let file = match m.seq_dep_file() {
                Some(f) => {
                    SeqDepFile::read(self.resolve(f)).map_err(|e| self.error("model.seq_dep_file", e.to_string()))?
                }
                None => {
                    let name = match kind {
                        ModelKind::Dna1 => "oxDNA1_sequence_dependent_parameters.txt",
                        ModelKind::Dna2 => "oxDNA2_sequence_dependent_parameters.txt",
                    };
                    let text = SHIPPED_SEQ_DEP.iter().find(|(n, _)| *n == name).map_or("", |(_, t)| *t);
                    SeqDepFile::parse(text, Path::new(name))?
                }
            };
            p = p.with_sequence_dependence(&file).map_err(|e| self.error("model.seq_dep_file", e.to_string()))?;
        }
        Ok(p)
    }

    fn temperature(&self, t: &TomlNumberOrString, key: &str) -> Result<f64> {
        let kt = match t {
            TomlNumberOrString::Number(x) => *x,
            TomlNumberOrString::Text(s) => crate::units::parse_temperature(s).map_err(|m| self.error(key, m))?,
        };
        crate::units::check_kt(kt)
            .map_err(|m| self.error(key, format!("{m} (\"300K\", \"27C\" or simulation units: 0.1 = 300 K)")))
    }

    fn trained(&self, p: &ParamSet, recipe: &ModelRecipe) -> Result<Vec<String>> {
        let mut names: BTreeSet<String> = BTreeSet::new();
        if self.config.optimizer.train.is_empty() {
            return Err(self.error("optimizer.train", "name what to train: [\"all\"], term names or parameter names"));
        }
        for (i, entry) in self.config.optimizer.train.iter().enumerate() {
            let key = format!("optimizer.train[{i}]");
            if matches!(recipe, ModelRecipe::Rna2 { .. }) {
                names.extend(self.rna2_selection(p, entry, &key)?);
                continue;
            }
            let selection = if entry == "all" {
                ParamSelection::All
            } else if let Some(t) = Term::from_name(entry) {
                ParamSelection::Terms(vec![t])
            } else if p.contains(entry) {
                ParamSelection::Names(vec![entry.clone()])
            } else {
                let valid = p.names().chain(Term::ALL.iter().map(|t| t.name())).chain(std::iter::once("all"));
                let hint = match closest(entry, valid).first() {
                    Some(b) => format!("did you mean '{b}'? "),
                    None => String::new(),
                };
                return Err(self.error(
                    &key,
                    format!(
                        "'{entry}' is neither \"all\", a term nor a parameter of the {} model; {hint}(terms: {})",
                        p.model(),
                        Term::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            names.extend(selection.resolve(p).map_err(|e| self.error(&key, e.to_string()))?);
        }
        let order: Vec<String> = p.names().filter(|n| names.contains(*n)).map(ToString::to_string).collect();
        Ok(order)
    }

    /// What `entry` of `train` selects in an oxRNA2 model: `"all"` (every parameter of its
    /// terms), a term (`"RnaStacking"`) or a parameter of a term; the DNA parameters the set
    /// carries unused are refused.
    fn rna2_selection(&self, p: &ParamSet, entry: &str, key: &str) -> Result<Vec<String>> {
        let terms = p.custom_terms();
        let own: Vec<String> = terms.iter().flat_map(|t| p.term_params(t)).collect();
        if entry == "all" {
            return Ok(own);
        }
        if terms.contains(&entry) {
            return Ok(p.term_params(entry));
        }
        // a parameter of an RNA term, as any named parameter (an extra one is taken), or the
        // state (temperature, salt), which is refused as such
        if p.owner(entry).is_some() || p.class_of(entry).is_ok_and(|c| c == ParamClass::State) {
            return ParamSelection::Names(vec![entry.to_string()])
                .resolve(p)
                .map_err(|e| self.error(key, e.to_string()));
        }
        // a name the DNA terms also have: the RNA term's, when only one term has it
        let qualified: Vec<String> =
            terms.iter().map(|t| format!("{t}.{entry}")).filter(|q| p.owner(q).is_some()).collect();
        match qualified.as_slice() {
            [one] => return Ok(vec![p.canonical(one)?.to_string()]),
            [_, _, ..] => {
                return Err(self.error(
                    key,
                    format!("'{entry}' is a parameter of several terms: name one of {}", qualified.join(", ")),
                ))
            }
            [] => {}
        }
        let valid = own.iter().map(String::as_str).chain(terms.iter().copied()).chain(std::iter::once("all"));
        let hint = match closest(entry, valid).first() {
            Some(b) => format!("did you mean '{b}'? "),
            None => String::new(),
        };
        Err(self.error(
            key,
            format!(
                "'{entry}' is neither \"all\", a term nor a parameter of the rna2 model; {hint}(terms: {})",
                terms.join(", ")
            ),
        ))
    }

    fn update_rule(&self) -> Result<UpdateRule> {
        let o = &self.config.optimizer;
        let rule = match o.kind {
            OptimizerKind::Adam => UpdateRule::adam(o.learning_rate),
            OptimizerKind::Sgd => UpdateRule::sgd(o.learning_rate),
        }
        .map_err(|e| self.error("optimizer.learning_rate", e.to_string()))?;
        match o.clip_norm {
            Some(c) => rule.clip_norm(c).map_err(|e| self.error("optimizer.clip_norm", e.to_string())),
            None => Ok(rule),
        }
    }

    fn unique_names(&self) -> Result<()> {
        let mut seen = BTreeSet::new();
        let c = &self.config;
        let names = c
            .simulators
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("simulator[{i}].name"), s.name()))
            .chain(c.objectives.iter().enumerate().map(|(i, o)| (format!("objective[{i}].name"), o.name())));
        for (key, name) in names {
            if let Err(Error::InvalidSetting { hint, .. }) = crate::optimize::check_name("component", name) {
                return Err(self.error(&key, hint));
            }
            if !seen.insert(name) {
                return Err(self.error(
                    &key,
                    format!("'{name}' is used twice: All objective, simulator, and exposes names must be unique"),
                ));
            }
        }
        Ok(())
    }

    fn simulator(
        &self,
        i: usize,
        s: &SimulatorConfig,
        params: &ParamSet,
        recipe: &ModelRecipe,
    ) -> Result<SimulatorPlan> {
        match s {
            SimulatorConfig::Native(n) => self.native(i, n, params, recipe),
            SimulatorConfig::MonteCarlo(m) => self.monte_carlo(i, m, params, recipe),
            SimulatorConfig::Oxdna(_) if matches!(recipe, ModelRecipe::Rna2 { .. }) => Err(self.error(
                &format!("simulator[{i}].kind"),
                "oxgrad passes trained parameters to oxDNA for its DNA models only: simulate oxRNA2 with kind = \"native\" (or replay an oxDNA trajectory with kind = \"trajectory\")",
            )),
            SimulatorConfig::Oxdna(o) => self.oxdna(i, o, params),
            SimulatorConfig::Trajectory(t) => self.trajectory(i, t, params),
        }
    }

    fn trajectory(&self, i: usize, s: &TrajectoryConfig, params: &ParamSet) -> Result<SimulatorPlan> {
        let key = |k: &str| format!("simulator[{i}].{k}");
        let (topology, _) =
            Topology::read(self.resolve(&s.topology)).map_err(|e| self.error(&key("topology"), e.to_string()))?;
        let frames: Vec<Configuration> = TrajectoryReader::open(self.resolve(&s.trajectory), topology.len())
            .and_then(|r| r.collect::<Result<Vec<_>>>())
            .map_err(|e| self.error(&key("trajectory"), e.to_string()))?;
        if frames.is_empty() {
            return Err(self.error(&key("trajectory"), "the trajectory holds no frame"));
        }
        let kt = match &s.temperature {
            Some(t) => self.temperature(t, &key("temperature"))?,
            None => params.value("kt"),
        };
        let n = frames.len();
        let traj = Trajectory::new(frames, Some(vec![kt; n]))?;
        Ok(SimulatorPlan {
            name: s.name.clone(),
            topology,
            kind: SimulatorKind::Trajectory(TrajectorySimulator::new(&s.name, traj)),
        })
    }

    fn oxdna(&self, i: usize, s: &OxdnaConfig, params: &ParamSet) -> Result<SimulatorPlan> {
        let key = |k: &str| format!("simulator[{i}].{k}");
        if s.copies == 0 {
            return Err(self.error(&key("copies"), "at least 1 copy"));
        }
        let dir = &s.input_dir;
        if s.build_threads.is_some() && s.source.is_none() {
            return Err(self.error(&key("build_threads"), "applies to builds from a source tree: give `source`"));
        }
        let overrides = s
            .input_overrides
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    TomlNumberOrString::Number(x) => x.to_string(),
                    TomlNumberOrString::Text(t) => t.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        let template = match (&s.program, &s.source) {
            (Some(program), None) => OxdnaSimulator::new(&s.name, self.resolve(dir), self.resolve(program), params.clone()),
            (None, Some(source)) => {
                let cache = std::env::temp_dir().join("oxgrad-oxdna-builds");
                OxdnaBuild::new(self.resolve(source), cache)
                    .map(|b| b.threads(s.build_threads.unwrap_or(4)))
                    .and_then(|b| OxdnaSimulator::from_source(&s.name, self.resolve(dir), b, params.clone()))
            }
            _ => {
                return Err(self.error(
                    &format!("simulator[{i}]"),
                    "give exactly one of `program` (an oxDNA binary) and `source` (an oxDNA source tree to build with the trained constants)",
                ))
            }
        };
        let template = template
            .and_then(|t| t.overrides(overrides))
            .map_err(|e| self.error(&format!("simulator[{i}]"), e.to_string()))?
            .args(s.program_args.clone())
            .seed(s.seed.unwrap_or(MdConfig::SEED))
            .keep_runs(s.keep_runs.unwrap_or(false))
            .hints(s.hints.clone());
        let input = InputFile::read(self.resolve(dir).join("input"))
            .map_err(|e| self.error(&key("input_dir"), e.to_string()))?;
        let (topology, _) =
            Topology::read(input.path("topology")?).map_err(|e| self.error(&key("input_dir"), e.to_string()))?;
        let copies = create_n_names(s.copies, Some(&s.name)).into_iter().map(|n| template.renamed(n)).collect();
        Ok(SimulatorPlan { name: s.name.clone(), topology, kind: SimulatorKind::Oxdna { copies } })
    }

    /// The system of a simulator: generated from a sequence, or read from files.
    fn system(&self, i: usize, s: &SystemKeys<'_>) -> Result<(Topology, Configuration)> {
        let key = |k: &str| format!("simulator[{i}].{k}");
        let sources = [s.duplex.is_some(), s.strand.is_some(), s.topology.is_some() || s.configuration.is_some()];
        if sources.iter().filter(|x| **x).count() != 1 {
            return Err(self.error(
                &format!("simulator[{i}]"),
                "give exactly one system: duplex = \"ACGT…\", strand = \"ACGT…\", or topology and configuration files",
            ));
        }
        let (topology, initial) = if let Some(seq) = s.duplex.or(s.strand) {
            let which = if s.duplex.is_some() { "duplex" } else { "strand" };
            let shape = if s.duplex.is_some() { Shape::Duplex } else { Shape::Strand };
            let bases = parse_sequence(seq).map_err(|e| self.error(&key(which), e.to_string()))?;
            helix(&bases, shape, s.box_side, TopologyFormat::Classic)
                .map_err(|e| self.error(&key("box_side"), e.to_string()))?
        } else {
            if s.box_side.is_some() {
                return Err(self
                    .error(&key("box_side"), "applies to generated systems only; the configuration file has its box"));
            }
            let top = s.topology.ok_or_else(|| self.error(&key("topology"), "a configuration needs its topology"))?;
            let conf = s
                .configuration
                .ok_or_else(|| self.error(&key("configuration"), "a topology needs a starting configuration"))?;
            let (t, _) = Topology::read(self.resolve(top)).map_err(|e| self.error(&key("topology"), e.to_string()))?;
            let c = Configuration::read(self.resolve(conf), t.len())
                .map_err(|e| self.error(&key("configuration"), e.to_string()))?;
            (t, c)
        };
        Ok((topology, initial))
    }

    fn monte_carlo(
        &self,
        i: usize,
        s: &MonteCarloConfig,
        params: &ParamSet,
        recipe: &ModelRecipe,
    ) -> Result<SimulatorPlan> {
        let key = |k: &str| format!("simulator[{i}].{k}");
        let (topology, initial) = self.system(i, &system_keys!(s))?;
        let sample_every = s.sample_every();
        if sample_every == 0 || sample_every > s.steps {
            return Err(self.error(&key("sample_every"), format!("between 1 and steps = {}", s.steps)));
        }
        if s.copies == 0 {
            return Err(self.error(&key("copies"), "at least 1 copy"));
        }
        let kt = match &s.temperature {
            Some(t) => self.temperature(t, &key("temperature"))?,
            None => params.value("kt"),
        };
        let moves = match s.sim_type.as_deref().unwrap_or("VMMC") {
            "VMMC" => McMoves::Vmmc { maxclust: s.maxclust.unwrap_or(usize::MAX) },
            "MC" if s.maxclust.is_some() => {
                return Err(self
                    .error(&key("maxclust"), "applies to VMMC's cluster moves: remove it, or use sim_type = \"VMMC\""))
            }
            "MC" => McMoves::Single,
            other => return Err(self.error(&key("sim_type"), unknown_choice(other, &["VMMC", "MC"]))),
        };
        let d = McConfig::default();
        let config = McConfig {
            moves,
            steps: s.steps,
            delta_translation: s.delta_translation.unwrap_or(d.delta_translation),
            delta_rotation: s.delta_rotation.unwrap_or(d.delta_rotation),
            seed: s.seed.unwrap_or(MdConfig::SEED),
            ..d
        };
        config.validate().map_err(|e| {
            let k = ["delta_translation", "delta_rotation", "maxclust", "steps"]
                .into_iter()
                .find(|k| e.to_string().contains(k))
                .unwrap_or("steps");
            self.error(&key(k), e.to_string())
        })?;
        let umbrella = match (&s.op_file, &s.weights_file) {
            (Some(op), Some(w)) => {
                Some(self.umbrella_files(op, w, topology.len(), &key("op_file"), &key("weights_file"))?)
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(self.error(
                    &key("weights_file"),
                    "umbrella sampling needs the weights of the op_file's states: give weights_file",
                ))
            }
            (None, Some(_)) => {
                return Err(self.error(
                    &key("op_file"),
                    "the weights file weighs the states of an order-parameter file: give op_file",
                ))
            }
        };
        let mut at = params.clone();
        at.set("kt", kt)?;
        let template = recipe
            .model(&topology, &at)
            .and_then(|model| {
                NativeSimulator::of_model(&s.name, topology.clone(), initial, model, MdConfig::default(), sample_every)
            })
            .and_then(|sim| sim.at_temperature(kt))
            .and_then(|sim| sim.monte_carlo(MonteCarlo { config, umbrella }))
            .map_err(|e| self.error(&format!("simulator[{i}]"), e.to_string()))?
            .equilibration_steps(s.equilibration_steps.unwrap_or(0))
            .hints(s.hints.clone())
            .external_forces(self.external_forces(i, s.external_forces_file.as_deref(), &topology, false)?);
        let copies = create_n_names(s.copies, Some(&s.name)).into_iter().map(|n| template.renamed(n)).collect();
        Ok(SimulatorPlan { name: s.name.clone(), topology, kind: SimulatorKind::Native { copies } })
    }

    /// The forces of simulator `i`'s `external_forces_file`, if any; `md`: refuse those that act
    /// in Monte Carlo only.
    fn external_forces(&self, i: usize, file: Option<&Path>, top: &Topology, md: bool) -> Result<Vec<ExternalForce>> {
        let key = format!("simulator[{i}].external_forces_file");
        let Some(file) = file else { return Ok(Vec::new()) };
        let forces =
            crate::simulate::external::read(&self.resolve(file), top).map_err(|e| self.error(&key, e.to_string()))?;
        if md && forces.iter().any(ExternalForce::monte_carlo_only) {
            return Err(self.error(
                &key,
                "a hard_wall has an energy and no force: it acts in Monte Carlo only (kind = \"monte_carlo\"), as in oxDNA",
            ));
        }
        Ok(forces)
    }

    /// An order-parameter file and its weights (oxDNA's `safe_weights = 1`: every state listed).
    fn umbrella_files(
        &self,
        op: &Path,
        w: &Path,
        n: usize,
        op_key: &str,
        w_key: &str,
    ) -> Result<(OrderParameters, Weights)> {
        let ops = OrderParameters::read(self.resolve(op), n).map_err(|e| self.error(op_key, e.to_string()))?;
        let weights = Weights::read(self.resolve(w), &ops, MissingWeights::Refuse)
            .map_err(|e| self.error(w_key, e.to_string()))?;
        Ok((ops, weights))
    }

    fn native(&self, i: usize, s: &NativeConfig, params: &ParamSet, recipe: &ModelRecipe) -> Result<SimulatorPlan> {
        let key = |k: &str| format!("simulator[{i}].{k}");
        let (topology, initial) = self.system(i, &system_keys!(s))?;
        let md_steps = s.md_steps;
        let sample_every = s.sample_every();
        if sample_every == 0 || sample_every > md_steps {
            return Err(self.error(&key("sample_every"), format!("between 1 and md_steps = {md_steps}")));
        }
        if s.copies == 0 {
            return Err(self.error(&key("copies"), "at least 1 copy"));
        }
        let kt = params.value("kt");
        let diff_coeff = s.diff_coeff.unwrap_or(MdConfig::DIFF_COEFF);
        let thermostat = match s.thermostat.as_deref().unwrap_or("john") {
            "john" | "brownian" => {
                Thermostat::John { newtonian_steps: s.newtonian_steps.unwrap_or(MdConfig::NEWTONIAN_STEPS), diff_coeff }
            }
            "langevin" => {
                if s.newtonian_steps.is_some() {
                    return Err(self.error(&key("newtonian_steps"), "applies to the john thermostat only"));
                }
                Thermostat::langevin(kt, diff_coeff)
            }
            other => return Err(self.error(&key("thermostat"), unknown_choice(other, &["john", "langevin"]))),
        };
        let d = MdConfig::with_steps(md_steps);
        let md = MdConfig {
            dt: s.dt.unwrap_or(d.dt),
            thermostat,
            verlet_skin: s.verlet_skin.unwrap_or(d.verlet_skin),
            seed: s.seed.unwrap_or(d.seed),
            ..d
        };
        md.validate(kt).map_err(|e| self.error(&key(setting_key(&e)), e.to_string()))?;
        let template = recipe
            .model(&topology, params)
            .and_then(|model| NativeSimulator::of_model(&s.name, topology.clone(), initial, model, md, sample_every))
            .map_err(|e| self.error(&format!("simulator[{i}]"), e.to_string()))?
            .equilibration_steps(s.equilibration_steps.unwrap_or(0))
            .hints(s.hints.clone())
            .external_forces(self.external_forces(i, s.external_forces_file.as_deref(), &topology, true)?);
        let copies = create_n_names(s.copies, Some(&s.name)).into_iter().map(|n| template.renamed(n)).collect();
        Ok(SimulatorPlan { name: s.name.clone(), topology, kind: SimulatorKind::Native { copies } })
    }

    /// For an objective whose observable combines runs at several pulling forces (a modulus):
    /// the objective with each of its simulators replaced by one per force, `name-10pN`, added
    /// to `sims`. Each pulls the duplex's outermost base pairs apart along the observable's axis
    /// (oxDNA `string` forces of F/2 on each of the four nucleotides, away from the duplex's
    /// middle) and labels its states with their `force` (pN). `None` for other observables.
    fn per_force(&self, i: usize, o: &DifftreConfig, sims: &mut Vec<SimulatorPlan>) -> Result<Option<DifftreConfig>> {
        let key = |k: &str| format!("objective[{i}].{k}");
        let Some(pulling) = o.observable.as_ref().and_then(ObservableSpec::pulling) else {
            if o.observables.iter().flatten().any(|s| s.pulling().is_some()) {
                return Err(self.error(
                    &key("observables"),
                    "a modulus runs its simulators at each of its forces: give it an [[objective]] of its own with observable = { kind = \"stretch_modulus\", forces = [...] }",
                ));
            }
            return Ok(None);
        };
        let (forces, axis) = pulling.map_err(|e| self.error(&key("observable.forces"), e.to_string()))?;
        let mut names = Vec::new();
        for (k, name) in o.simulators.iter().enumerate() {
            let at = format!("objective[{i}].simulators[{k}]");
            let Some(plan) = sims.iter().find(|s| &s.name == name) else {
                return Err(self.error(&at, format!("no simulator is named '{name}'")));
            };
            let SimulatorKind::Native { copies } = &plan.kind else {
                return Err(self.error(
                    &at,
                    format!("'{name}' is not a native simulator: a modulus runs its simulators once per force, which oxgrad does with its own engines (kind = \"native\" or \"monte_carlo\")"),
                ));
            };
            if copies[0].state_metadata().contains_key(FORCE_KEY) {
                return Err(self.error(&at, format!("'{name}' already runs at one force: name the unpulled simulator")));
            }
            let pairs = BasePairs::duplex(&plan.topology, 0).map_err(|e| self.error(&at, e.to_string()))?;
            let (first, last) = match (pairs.pairs().first(), pairs.pairs().last()) {
                (Some(f), Some(l)) if pairs.len() >= 2 => (*f, *l),
                _ => return Err(self.error(&at, format!("'{name}' is not a duplex of two base pairs or more"))),
            };
            let (topology, copies) = (plan.topology.clone(), copies.clone());
            for f in &forces {
                let variant = format!("{name}-{f}pN");
                names.push(variant.clone());
                if sims.iter().any(|s| s.name == variant) {
                    continue; // another objective expanded it already
                }
                let pulls = crate::simulate::external::pull_apart(first, last, *f, axis)
                    .map_err(|e| self.error(&key("observable.axis"), e.to_string()))?;
                let variants = copies
                    .iter()
                    .enumerate()
                    .map(|(c, sim)| {
                        let mut forces = sim.forces().to_vec();
                        forces.extend(pulls.iter().cloned());
                        sim.renamed(format!("{variant}.{c}")).external_forces(forces).metadata(FORCE_KEY, *f)
                    })
                    .collect();
                sims.push(SimulatorPlan {
                    name: variant,
                    topology: topology.clone(),
                    kind: SimulatorKind::Native { copies: variants },
                });
            }
        }
        Ok(Some(DifftreConfig { simulators: names, ..o.clone() }))
    }

    fn difftre(
        &self,
        i: usize,
        o: &DifftreConfig,
        params: &ParamSet,
        recipe: &ModelRecipe,
        sims: &[SimulatorPlan],
    ) -> Result<ObjectivePlan> {
        let key = |k: &str| format!("objective[{i}].{k}");
        if o.simulators.is_empty() {
            return Err(
                self.error(&key("simulators"), "name the simulators whose trajectories this objective reweights")
            );
        }
        let mut indices = Vec::new();
        for (k, name) in o.simulators.iter().enumerate() {
            let Some(idx) = sims.iter().position(|s| &s.name == name) else {
                let hint = match closest(name, sims.iter().map(|s| s.name.as_str())).first() {
                    Some(b) => format!("; did you mean '{b}'?"),
                    None => String::new(),
                };
                return Err(self.error(
                    &format!("objective[{i}].simulators[{k}]"),
                    format!("no simulator is named '{name}'{hint}"),
                ));
            };
            if sims[idx].topology != sims[indices.first().copied().unwrap_or(idx)].topology {
                return Err(self.error(
                    &format!("objective[{i}].simulators[{k}]"),
                    format!("'{name}' simulates another system than '{}': one objective reweights one system; give each system its own objective", o.simulators[0]),
                ));
            }
            indices.push(idx);
        }
        // equilibration states are dropped from each run: at least one must remain
        for &idx in &indices {
            let states = match &sims[idx].kind {
                SimulatorKind::Native { copies } => Some(copies[0].steps() / copies[0].sample_every()),
                SimulatorKind::Trajectory(t) => Some(t.trajectory().len() as u64),
                SimulatorKind::Oxdna { .. } => None,
            };
            if let Some(states) = states.filter(|&n| o.equilibration_states as u64 >= n) {
                return Err(self.error(
                    &key("equilibration_states"),
                    format!(
                        "{} states are dropped from each run, and simulator '{}' samples {states} per run (md_steps / sample_every): drop fewer, or sample more",
                        o.equilibration_states, sims[idx].name
                    ),
                ));
            }
        }
        if let Some(spec @ ObservableSpec::MeltingTemperature { .. }) = &o.observable {
            return self.melting(i, o, spec, &indices, params, recipe, sims);
        }
        if o.observables.iter().flatten().any(|s| matches!(s, ObservableSpec::MeltingTemperature { .. })) {
            return Err(self.error(
                &key("observables"),
                "a melting temperature is fitted by its own objective: give it an [[objective]] of its own with observable = { kind = \"melting_temperature\", … }",
            ));
        }
        let topology = &sims[indices[0]].topology;
        let target = match &o.target {
            Some(TomlNumberOrString::Number(x)) => Some(*x),
            Some(TomlNumberOrString::Text(t)) => {
                return Err(self.error(
                    &key("target"),
                    format!("\"{t}\" is text: give a number in the observable's unit (temperatures with units are for melting_temperature)"),
                ))
            }
            None => None,
        };
        let (specs, targets, okey) = match (&o.observable, &o.observables, target, &o.targets) {
            (Some(spec), None, Some(t), None) => (vec![spec.clone()], vec![t], key("observable")),
            (None, Some(specs), None, Some(ts)) => {
                if specs.len() != ts.len() {
                    return Err(self.error(&key("targets"), format!("{} targets for {} observables: give one target per observable, in order", ts.len(), specs.len())));
                }
                (specs.clone(), ts.clone(), key("observables"))
            }
            (Some(_), Some(_), _, _) => return Err(self.error(&key("observables"), "give either observable (with target) or observables (with targets), not both")),
            (None, None, _, _) => return Err(self.error(&format!("objective[{i}]"), format!("missing required key 'observable', e.g. observable = {{ kind = \"propeller_twist\", exclude_end_pairs = 1 }} (kinds: {})", ObservableSpec::KINDS.join(", ")))),
            (Some(_), None, None, _) => return Err(self.error(&key("target"), "missing required key 'target': the value the observable should reach, in its unit")),
            (None, Some(_), _, None) => return Err(self.error(&key("targets"), "missing required key 'targets': one value per observable")),
            (Some(_), None, _, Some(_)) => return Err(self.error(&key("targets"), "one observable takes 'target', not 'targets'")),
            (None, Some(_), Some(_), _) => return Err(self.error(&key("target"), "several observables take 'targets', not 'target'")),
        };
        if matches!(recipe, ModelRecipe::Rna2 { .. })
            && specs.iter().any(|s| matches!(s, ObservableSpec::Diameter { .. }))
        {
            return Err(self.error(
                &okey,
                "the diameter observable measures between DNA backbone sites; for oxRNA2 measure with distance, end_to_end, rise, pitch or twist",
            ));
        }
        let observables: Vec<Arc<dyn Observable>> = specs
            .iter()
            .map(|s| s.build(topology, params, &self.dir()).map(Arc::from))
            .collect::<Result<_>>()
            .map_err(|e| self.error(&okey, e.to_string()))?;
        for (obs, t) in observables.iter().zip(&targets) {
            if obs.unit() == "nm" && (t.is_nan() || *t < 0.0) {
                return Err(self.error(
                    &okey,
                    format!("{} is a length in nm and never negative: the target {t} cannot be reached", obs.name()),
                ));
            }
            if obs.name() == "propeller_twist" && *t < 0.0 {
                tracing::warn!("objective '{}': a propeller twist is never negative (180° − the angle between base normals); the target {t} cannot be reached", o.name);
            }
        }
        let loss = Loss::named(&o.loss, targets.clone()).map_err(|e| self.error(&key("loss"), e.to_string()))?;
        let required: Vec<ObservableId> = indices.iter().flat_map(|&s| sims[s].exposes()).collect();
        let model = recipe.model(topology, params)?;
        let mut d = DiffTre::new(&o.name, required, model, observables.clone(), loss)?
            .min_n_eff(o.min_n_eff)
            .map_err(|e| self.error(&key("min_n_eff"), e.to_string()))?
            .n_equilibration_steps(o.equilibration_states)
            .hints(o.hints.clone());
        if let Some(m) = o.max_valid_opt_steps {
            d = d.max_valid_opt_steps(m).map_err(|e| self.error(&key("max_valid_opt_steps"), e.to_string()))?;
        }
        self.objective_plan(i, o, indices, sims, PlannedObjective::Difftre(Arc::new(d)), observables, targets)
    }

    /// The plan of objective `i` once built: its weight checked, validated with its first native
    /// simulator.
    #[allow(clippy::too_many_arguments)]
    fn objective_plan(
        &self,
        i: usize,
        o: &DifftreConfig,
        indices: Vec<usize>,
        sims: &[SimulatorPlan],
        objective: PlannedObjective,
        observables: Vec<Arc<dyn Observable>>,
        targets: Vec<f64>,
    ) -> Result<ObjectivePlan> {
        if !(o.weight.is_finite()) {
            return Err(self.error(&format!("objective[{i}].weight"), "a finite number"));
        }
        let mut validation_simulators: Vec<usize> = Vec::new();
        let metadata = |s: usize| match &sims[s].kind {
            SimulatorKind::Native { copies } => Some(copies[0].state_metadata()),
            _ => None,
        };
        for &s in &indices {
            if metadata(s).is_some() && !validation_simulators.iter().any(|&v| metadata(v) == metadata(s)) {
                validation_simulators.push(s);
            }
        }
        Ok(ObjectivePlan {
            name: o.name.clone(),
            objective,
            observables,
            targets,
            validation_simulators,
            weight: o.weight,
        })
    }

    /// A melting-temperature objective: DiffTRe on the umbrella-sampled states of `indices`.
    #[allow(clippy::too_many_arguments)]
    fn melting(
        &self,
        i: usize,
        o: &DifftreConfig,
        spec: &ObservableSpec,
        indices: &[usize],
        params: &ParamSet,
        recipe: &ModelRecipe,
        sims: &[SimulatorPlan],
    ) -> Result<ObjectivePlan> {
        let key = |k: &str| format!("objective[{i}].{k}");
        let okey = key("observable");
        let ObservableSpec::MeltingTemperature {
            temperatures,
            order_parameter,
            min_bonds,
            molecularity,
            concentration,
            op_file,
            weights_file,
        } = spec
        else {
            return Err(Error::internal("a melting objective without a melting_temperature observable"));
        };
        let first = &sims[indices[0]];
        let topology = &first.topology;
        let n = topology.len();
        // the sampling temperature, the umbrella's files and the box, from the simulators
        let mut t0 = None;
        for &s in indices {
            let kt = match &sims[s].kind {
                SimulatorKind::Native { copies } if copies[0].monte_carlo_settings().is_some() => copies[0].temperature(),
                SimulatorKind::Native { .. } => {
                    return Err(self.error(
                        &key("simulators"),
                        format!("'{}' runs MD; a melting temperature needs umbrella-sampled Monte Carlo states: use kind = \"monte_carlo\" with op_file and weights_file (or kind = \"oxdna\" with sim_type = VMMC)", sims[s].name),
                    ))
                }
                SimulatorKind::Oxdna { copies } => copies[0].temperature(),
                SimulatorKind::Trajectory(t) => {
                    t.trajectory().temperature.as_ref().and_then(|v| v.first().copied()).unwrap_or(f64::NAN)
                }
            };
            match t0 {
                None => t0 = Some(kt),
                Some(t) if (t - kt).abs() > 1e-12 * t => {
                    return Err(self.error(
                        &key("simulators"),
                        format!("'{}' samples at {:.2} K and '{}' at {:.2} K: one melting objective reweights states of one temperature", sims[indices[0]].name, crate::units::kelvin_from_kt(t), sims[s].name, crate::units::kelvin_from_kt(kt)),
                    ))
                }
                Some(_) => {}
            }
        }
        let t0 = t0.unwrap_or(f64::NAN);
        let (ops, weights) = match (op_file, weights_file) {
            (Some(op), Some(w)) => {
                let (ops, w) = self.umbrella_files(op, w, n, &okey, &okey)?;
                (ops, Some(w))
            }
            (None, None) => match &first.kind {
                SimulatorKind::Native { copies } => {
                    let Some(mc) = copies[0].monte_carlo_settings() else {
                        return Err(Error::internal("a melting objective on MD"));
                    };
                    match &mc.umbrella {
                        Some((ops, w)) => (ops.clone(), Some(w.clone())),
                        None => {
                            return Err(self.error(
                                &okey,
                                format!("'{}' samples without umbrella weights, and the observable names no op_file: give the simulator op_file and weights_file (or the observable op_file alone for unbiased states)", first.name),
                            ))
                        }
                    }
                }
                SimulatorKind::Oxdna { copies } => {
                    let input = copies[0].input().map_err(|e| self.error(&okey, e.to_string()))?;
                    let ops = OrderParameters::from_input(&input, n).map_err(|e| self.error(&okey, e.to_string()))?;
                    let w = Weights::from_input(&input, &ops).map_err(|e| self.error(&okey, e.to_string()))?;
                    (ops, Some(w))
                }
                SimulatorKind::Trajectory(_) => {
                    return Err(self.error(&okey, "a replayed trajectory has no umbrella files: give op_file and weights_file (or op_file alone for unbiased states)"))
                }
            },
            (Some(op), None) => {
                let ops = OrderParameters::read(self.resolve(op), n).map_err(|e| self.error(&okey, e.to_string()))?;
                (ops, None)
            }
            (None, Some(_)) => return Err(self.error(&okey, "weights_file weighs the states of an op_file: give op_file too")),
        };
        let position = match order_parameter {
            Some(name) => ops.position(name).map_err(|e| self.error(&okey, e.to_string()))?,
            None => 0,
        };
        let box_volume = match &first.kind {
            SimulatorKind::Native { copies } => Some(copies[0].initial().box_sides),
            SimulatorKind::Trajectory(t) => t.trajectory().frames.first().map(|c| c.box_sides),
            SimulatorKind::Oxdna { copies } => copies[0]
                .input()
                .and_then(|input| Configuration::read(input.path("conf_file")?, n))
                .ok()
                .map(|c| c.box_sides),
        }
        .map(|b| b[0] * b[1] * b[2]);
        let mut melting = Melting::new(*molecularity)
            .order_parameter(position)
            .min_bonds(*min_bonds)
            .map_err(|e| self.error(&okey, e.to_string()))?;
        if let Some(v) = box_volume {
            melting = melting.box_volume(v).map_err(|e| self.error(&okey, e.to_string()))?;
        }
        if let Some(c) = concentration {
            melting = melting.concentration(*c).map_err(|e| self.error(&okey, e.to_string()))?;
        }
        let at = |kt: f64| -> Result<EnergyModel> {
            let mut p = params.clone();
            p.set("kt", kt)?;
            recipe.model(topology, &p)
        };
        let grid = temperatures
            .iter()
            .map(|t| {
                let kt = self.temperature(&TomlNumberOrString::Text(t.clone()), &okey)?;
                Ok((kt, at(kt)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let tm = MeltingTemperature::new(at(t0)?, melting, ops, weights, grid)
            .map_err(|e| self.error(&okey, e.to_string()))?;
        let target = match &o.target {
            Some(t) => crate::units::kelvin_from_kt(self.temperature(t, &key("target"))?),
            None => {
                return Err(self.error(
                    &key("target"),
                    "missing required key 'target': the melting temperature to reach, e.g. target = \"56C\"",
                ))
            }
        };
        if o.targets.is_some() {
            return Err(self.error(&key("targets"), "one observable takes 'target', not 'targets'"));
        }
        let loss = Loss::named(&o.loss, vec![target]).map_err(|e| self.error(&key("loss"), e.to_string()))?;
        let tm = Arc::new(tm);
        let required: Vec<ObservableId> = indices.iter().flat_map(|&s| sims[s].exposes()).collect();
        let mut m = MeltingObjective::new(&o.name, required, tm.clone(), loss)?
            .min_n_eff(o.min_n_eff)
            .map_err(|e| self.error(&key("min_n_eff"), e.to_string()))?
            .n_equilibration_states(o.equilibration_states)
            .hints(o.hints.clone());
        if let Some(k) = o.max_valid_opt_steps {
            m = m.max_valid_opt_steps(k).map_err(|e| self.error(&key("max_valid_opt_steps"), e.to_string()))?;
        }
        let observables = vec![tm as Arc<dyn Observable>];
        self.objective_plan(
            i,
            o,
            indices.to_vec(),
            sims,
            PlannedObjective::Melting(Arc::new(m)),
            observables,
            vec![target],
        )
    }

    fn check_validation(&self) -> Result<()> {
        let v = &self.config.validation;
        if v.md_steps == Some(0) {
            return Err(self.error("validation.md_steps", "at least 1 step"));
        }
        if v.copies == Some(0) {
            return Err(self.error("validation.copies", "at least 1 copy"));
        }
        if v.sample_every == Some(0) {
            return Err(self.error("validation.sample_every", "at least 1 step"));
        }
        Ok(())
    }
}

/// The key an MD-settings error is about.
fn setting_key(e: &Error) -> &'static str {
    let s = e.to_string();
    ["newtonian_steps", "diff_coeff", "verlet_skin", "dt"].into_iter().find(|k| s.contains(k)).unwrap_or("dt")
}

/// "unknown value; did you mean …? (valid: …)".
fn unknown_choice(value: &str, valid: &[&str]) -> String {
    let list = valid.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ");
    match closest(value, valid.iter().copied()).first() {
        Some(b) => format!("unknown value \"{value}\"; did you mean \"{b}\"? (valid: {list})"),
        None => format!("unknown value \"{value}\" (valid: {list})"),
    }
}

impl Plan {
    /// The starting values of the trained parameters.
    #[must_use]
    pub fn start(&self) -> crate::optimize::Params {
        self.trained.iter().map(|n| (n.clone(), self.params.value(n))).collect()
    }

    /// The optimisation this plan describes (simulators, objectives, aggregation, update rule,
    /// the executor of `[executor]`). Fails for `kind = "slurm"` outside an allocation.
    pub fn optimization(&self) -> Result<Optimization> {
        let opt = Optimization::new(self.update.clone())
            .aggregate(self.aggregate.clone())
            .max_objective_calls(self.file.config.optimizer.max_objective_calls);
        let with_spool = |p: ProcessPool, spool: &Option<PathBuf>| match spool {
            Some(dir) => p.spool(self.file.resolve(dir)),
            None => p,
        };
        // `[executor] gpus = N`: the first N devices this process sees; else every one it sees
        let devices = |configured: Option<usize>| -> Result<Vec<String>> {
            let Some(n) = configured else { return Ok(crate::machine::gpu_devices()) };
            crate::machine::gpus_for(n).map_err(|seen| {
                self.file.error(
                    "executor.gpus",
                    format!(
                        "is {n}, and this process sees {} GPU(s) ({}, from CUDA_VISIBLE_DEVICES or nvidia-smi -L): ask for at most {}, or run where there are more",
                        seen.len(),
                        seen.join(","),
                        seen.len()
                    ),
                )
            })
        };
        let mut opt = match &self.file.config.executor {
            ExecutorConfig::Process(e) => {
                let pool = ProcessPool::with_cpus(self.cpus)?.gpu_devices(devices(e.gpus)?);
                self.check_gpus("process", pool.devices().len())?;
                opt.executor(with_spool(pool, &e.spool))
            }
            ExecutorConfig::Slurm(e) => {
                let pool = ProcessPool::slurm().map_err(|err| match err {
                    Error::InvalidSetting { hint, .. } => self.file.error("executor.kind", hint),
                    other => other,
                })?;
                // the allocation's GPUs, unless the configuration names a number
                let pool = match e.gpus {
                    Some(_) if pool.node_names().len() > 1 => {
                        return Err(self.file.error(
                            "executor.gpus",
                            format!(
                                "names the GPUs of one machine, and this allocation has {} nodes ({}), each with the GPUs Slurm gave it there: remove the key, and ask sbatch for GPUs per node (--gpus-per-node)",
                                pool.node_names().len(),
                                pool.node_names().join(",")
                            ),
                        ))
                    }
                    Some(g) => pool.gpu_devices(devices(Some(g))?),
                    None => pool,
                };
                self.check_gpus("slurm", pool.gpus_per_node())?;
                opt.executor(with_spool(pool, &e.spool))
            }
            ExecutorConfig::Thread(e) => {
                let pool = LocalPool::with_cpus(self.cpus).gpu_devices(devices(e.gpus)?);
                self.check_gpus("local", pool.devices().len())?;
                opt.executor(pool)
            }
        };
        for s in &self.simulators {
            for sim in s.simulators() {
                opt = opt.add_simulator(sim);
            }
        }
        for o in &self.objectives {
            opt = opt.add_objective(o.objective.objective());
        }
        Ok(opt)
    }

    /// Refuses, before anything runs, a simulator or objective whose `num_gpus` (after its
    /// `custom` hints for `engine`) is not a share of one GPU or a whole number, or that a pool
    /// of `gpus` devices can never meet.
    fn check_gpus(&self, engine: &str, gpus: usize) -> Result<()> {
        let want = |h: &crate::component::SchedulerHints| {
            h.resolve(engine, &serde_json::Map::new(), &[]).get("num_gpus").and_then(serde_json::Value::as_f64)
        };
        // every copy of a simulator has its hints
        let sims = self.simulators.iter().enumerate().map(|(i, s)| {
            let g = s.simulators().first().and_then(|x| want(x.hints()));
            (format!("simulator[{i}]"), format!("simulator '{}'", s.name), g)
        });
        let objectives = self.objectives.iter().enumerate().map(|(j, o)| {
            let o = o.objective.objective();
            (format!("objective[{j}]"), format!("objective '{}'", o.name()), want(o.hints()))
        });
        let more = if engine == "slurm" {
            "ask the allocation for GPUs (sbatch --gpus=N; `oxgrad slurm-script` writes it from the hints)"
        } else {
            "give the pool GPUs (`[executor] gpus = N`, or run where CUDA_VISIBLE_DEVICES or nvidia-smi -L shows them)"
        };
        for (key, who, g) in sims.chain(objectives) {
            let Some(g) = g else { continue };
            let key = format!("{key}.hints.num_gpus");
            if g.is_nan() || g < 0.0 || (g > 1.0 && g.fract() != 0.0) {
                return Err(self.file.error(
                    &key,
                    format!("{who} asks for {g} GPUs: give a share of one GPU in (0, 1] or a whole number"),
                ));
            }
            if g > gpus as f64 {
                return Err(self.file.error(
                    &key,
                    format!("{who} asks for {g} GPUs and the pool has {gpus}: lower its num_gpus hint or {more}"),
                ));
            }
        }
        Ok(())
    }

    /// The training run: the optimisation, the objectives' observables and validations, the
    /// resolved configuration and seeds for the run directory.
    pub fn training(&self) -> Result<Training> {
        let mut t = Training::new(self.optimization()?, self.params.clone(), self.start(), self.steps)
            .threads(self.cpus)
            .inputs(self.file.inputs());
        let v = &self.file.config.validation;
        for o in &self.objectives {
            let natives: Vec<&NativeSimulator> = o
                .validation_simulators
                .iter()
                .filter_map(|&i| match &self.simulators[i].kind {
                    SimulatorKind::Native { copies } => copies.first(),
                    _ => None,
                })
                .collect();
            let validation = match (v.enabled, natives.is_empty()) {
                (true, false) => {
                    let simulators = natives
                        .iter()
                        .map(|t| {
                            Ok(t.with_steps(
                                v.md_steps.unwrap_or(4 * t.steps()),
                                v.sample_every.unwrap_or(t.sample_every()),
                            )?
                            .equilibration_steps(v.equilibration_steps.unwrap_or(t.equilibration())))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    let copies = match &self.simulators[o.validation_simulators[0]].kind {
                        SimulatorKind::Native { copies } => copies.len(),
                        _ => 1,
                    };
                    Some(Validation {
                        simulators,
                        copies: v.copies.unwrap_or(copies.max(2)),
                        seed: v.seed,
                        observables: o.observables.clone(),
                    })
                }
                (true, _) => {
                    tracing::warn!(
                        "objective '{}': no native simulator to validate with (validation re-simulates with the native engine; replayed trajectories and oxDNA runs are not validated)",
                        o.name
                    );
                    None
                }
                (false, _) => None,
            };
            t = t.objective(ObjectiveInfo {
                name: o.name.clone(),
                observables: o.observables.clone(),
                targets: o.targets.clone(),
                weight: o.weight,
                validation,
            });
        }
        let mut seeds = toml::Table::new();
        for s in &self.file.config.simulators {
            let seed = match s {
                SimulatorConfig::Native(n) => n.seed,
                SimulatorConfig::MonteCarlo(m) => m.seed,
                SimulatorConfig::Oxdna(o) => o.seed,
                SimulatorConfig::Trajectory(_) => continue,
            };
            seeds.insert(s.name().to_string(), toml::Value::Integer(seed.unwrap_or(MdConfig::SEED) as i64));
        }
        seeds.insert("validation".into(), toml::Value::Integer(v.seed as i64));
        let seeds = format!(
            "# master seeds; each copy and step derives its own (recorded per step in metrics.jsonl)\n{}",
            toml::to_string(&seeds).unwrap_or_default()
        );
        Ok(t.config(self.file.resolved_toml(), seeds))
    }
}
