//! `[[simulator]]`: one struct of keys per simulator kind. A new kind is a variant of
//! [`SimulatorConfig`], its struct here, and its arm in `plan.rs`, which turns it into
//! simulators.

use super::tagged::tagged;
use super::TomlNumberOrString;
use crate::component::SchedulerHints;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

tagged!(
    /// `[[simulator]]`: `kind` picks the keys the table may hold.
    SimulatorConfig {
        /// `"native"`: the embedded MD engine.
        Native(NativeConfig) = "native",
        /// `"monte_carlo"`: the embedded Monte Carlo (VMMC or single moves), with umbrella
        /// sampling.
        MonteCarlo(MonteCarloConfig) = "monte_carlo"
            note "Monte Carlo has no time step or thermostat; its moves are set with sim_type, delta_translation, delta_rotation and maxclust",
        /// `"oxdna"`: an installed oxDNA run on an input directory.
        Oxdna(OxdnaConfig) = "oxdna"
            note "oxDNA's settings come from the input directory's `input`; set them with input_overrides = { steps = …, T = … }",
        /// `"trajectory"`: existing oxDNA files replayed.
        Trajectory(TrajectoryConfig) = "trajectory" note "a replayed trajectory is not simulated",
    }
);

impl SimulatorConfig {
    /// Its unique name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            SimulatorConfig::Native(c) => &c.name,
            SimulatorConfig::MonteCarlo(c) => &c.name,
            SimulatorConfig::Oxdna(c) => &c.name,
            SimulatorConfig::Trajectory(c) => &c.name,
        }
    }
}

/// `kind = "native"`: oxgrad's MD engine on a generated or given system. Unset MD settings are
/// [`crate::simulate::MdConfig::default`]'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeConfig {
    /// Unique name; copies are named `name.0`, `name.1`, …
    pub name: String,
    /// Independent copies (default 1).
    #[serde(default = "super::one")]
    pub copies: usize,
    /// A generated Watson–Crick duplex, this sequence 5'→3' on its first strand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplex: Option<String>,
    /// A generated single strand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strand: Option<String>,
    /// Box side of a generated system (oxDNA units; default from its length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub box_side: Option<f64>,
    /// An oxDNA topology (with `configuration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<PathBuf>,
    /// The starting configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<PathBuf>,
    /// oxDNA's external forces file (traps, pulls, twists, walls), read unchanged; its forces
    /// act in every run (as with oxDNA's `external_forces = 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_forces_file: Option<PathBuf>,
    /// Production MD steps per run.
    pub md_steps: u64,
    /// Sample a state every this many steps (default `md_steps / 100`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_every: Option<u64>,
    /// MD steps before sampling starts (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equilibration_steps: Option<u64>,
    /// Master seed; each copy and step derives its own (default [`crate::simulate::MdConfig::SEED`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Time step (default [`crate::simulate::MdConfig::DT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt: Option<f64>,
    /// `"john"` (default) or `"langevin"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thermostat: Option<String>,
    /// john: steps between velocity refreshes (default
    /// [`crate::simulate::MdConfig::NEWTONIAN_STEPS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newtonian_steps: Option<u64>,
    /// Translational diffusion coefficient (default [`crate::simulate::MdConfig::DIFF_COEFF`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_coeff: Option<f64>,
    /// Verlet-list skin (default [`crate::simulate::MdConfig::VERLET_SKIN`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verlet_skin: Option<f64>,
    /// Scheduler hints (`num_cpus`, `mem_mb`, `max_retries`, …).
    #[serde(default, skip_serializing_if = "super::is_default_hints")]
    pub hints: SchedulerHints,
}

impl NativeConfig {
    /// The sampling interval: `sample_every`, by default a hundredth of `md_steps` (at least 1).
    #[must_use]
    pub fn sample_every(&self) -> u64 {
        self.sample_every.unwrap_or((self.md_steps / 100).max(1))
    }
}

/// `kind = "monte_carlo"`: oxgrad's Monte Carlo on a generated or given system, as oxDNA's
/// `sim_type = VMMC` (or `MC`) runs it, biased by umbrella weights when `op_file` and
/// `weights_file` are given (the states of a melting temperature). Unset move settings are
/// [`crate::simulate::McConfig::default`]'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonteCarloConfig {
    /// Unique name; copies are named `name.0`, `name.1`, …
    pub name: String,
    /// Independent copies (default 1).
    #[serde(default = "super::one")]
    pub copies: usize,
    /// A generated Watson–Crick duplex, this sequence 5'→3' on its first strand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplex: Option<String>,
    /// A generated single strand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strand: Option<String>,
    /// Box side of a generated system (oxDNA units; default from its length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub box_side: Option<f64>,
    /// An oxDNA topology (with `configuration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<PathBuf>,
    /// The starting configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<PathBuf>,
    /// oxDNA's external forces file (traps, pulls, twists, walls), read unchanged; its forces
    /// act in every run (as with oxDNA's `external_forces = 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_forces_file: Option<PathBuf>,
    /// The simulation temperature (default: the model's), e.g. `"72C"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<TomlNumberOrString>,
    /// `"VMMC"` (default, cluster moves) or `"MC"` (single-nucleotide moves), as oxDNA spells them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_type: Option<String>,
    /// Monte Carlo steps per run (one step: one attempted move per nucleotide).
    pub steps: u64,
    /// Sample a state every this many steps (default `steps / 100`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_every: Option<u64>,
    /// Steps before sampling starts (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equilibration_steps: Option<u64>,
    /// Master seed; each copy and step derives its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Largest translation (oxDNA length units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_translation: Option<f64>,
    /// Largest rotation (radians).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_rotation: Option<f64>,
    /// VMMC: the largest cluster moved at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxclust: Option<usize>,
    /// Umbrella sampling: oxDNA's order-parameter file (with `weights_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_file: Option<PathBuf>,
    /// Umbrella sampling: oxDNA's weights file, one line per state (with `op_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_file: Option<PathBuf>,
    /// Scheduler hints (`num_cpus`, `mem_mb`, `max_retries`, …).
    #[serde(default, skip_serializing_if = "super::is_default_hints")]
    pub hints: SchedulerHints,
}

impl MonteCarloConfig {
    /// The sampling interval: `sample_every`, by default a hundredth of `steps` (at least 1).
    #[must_use]
    pub fn sample_every(&self) -> u64 {
        self.sample_every.unwrap_or((self.steps / 100).max(1))
    }
}

/// `kind = "oxdna"`: an installed (or built) oxDNA on a copy of an input directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OxdnaConfig {
    /// Unique name; copies are named `name.0`, `name.1`, …
    pub name: String,
    /// Independent copies (default 1).
    #[serde(default = "super::one")]
    pub copies: usize,
    /// The input directory (its `input`, topology, configuration and the files it names).
    pub input_dir: PathBuf,
    /// The program to run (an oxDNA binary, or `oxgrad` with `program_args = ["simulate"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<PathBuf>,
    /// An oxDNA source tree to build with each run's constants (instead of `program`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PathBuf>,
    /// With `source`: parallel compile jobs (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_threads: Option<usize>,
    /// Arguments before the input file's name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub program_args: Vec<String>,
    /// Input keys set in every run (`steps`, `T`, `print_conf_interval`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_overrides: BTreeMap<String, TomlNumberOrString>,
    /// Master seed; each copy and step gets its own `seed` in the input (default
    /// [`crate::simulate::MdConfig::SEED`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Keep the directories of successful runs (failed ones are always kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_runs: Option<bool>,
    /// Scheduler hints; `num_gpus` reaches the program as `CUDA_VISIBLE_DEVICES`.
    #[serde(default, skip_serializing_if = "super::is_default_hints")]
    pub hints: SchedulerHints,
}

/// `kind = "trajectory"`: an existing oxDNA trajectory, replayed (never simulated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryConfig {
    /// Unique name.
    pub name: String,
    /// Its oxDNA topology.
    pub topology: PathBuf,
    /// The oxDNA trajectory; every frame is a state.
    pub trajectory: PathBuf,
    /// The temperature it was sampled at (default: the model's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<TomlNumberOrString>,
}
