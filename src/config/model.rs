//! `[model]`: one struct of keys per model kind. The kinds share their temperature, sequence
//! dependence and starting parameters; only oxDNA2 and oxRNA2 have a salt concentration, each with
//! its own default. `plan.rs` turns the table into the starting parameter set.

use super::tagged::tagged;
use super::TomlNumberOrString;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

tagged!(
    /// `[model]`: `kind` picks the energy model and the keys the table may hold.
    ModelConfig {
        /// `"dna1"`: oxDNA1.
        Dna1(Dna1Config) = "dna1"
            note "oxDNA1 has no electrostatics: remove salt, or use kind = \"dna2\"",
        /// `"dna2"`: oxDNA2.
        Dna2(Dna2Config) = "dna2",
        /// `"rna2"`: oxRNA2, built per system from [`crate::energy::rna2`] (`train = ["all"]`
        /// then means its terms' parameters, and term names are `RnaStacking`, …).
        Rna2(Rna2Config) = "rna2",
    }
);

/// `$body` with `$m` bound to the struct of whichever kind `$config` is (for the keys every kind
/// has).
macro_rules! each_kind {
    ($config:expr, $m:ident => $body:expr) => {
        match $config {
            ModelConfig::Dna1($m) => $body,
            ModelConfig::Dna2($m) => $body,
            ModelConfig::Rna2($m) => $body,
        }
    };
}

impl ModelConfig {
    /// Its temperature, as written.
    #[must_use]
    pub fn temperature(&self) -> &TomlNumberOrString {
        each_kind!(self, m => &m.temperature)
    }

    /// Whether it uses sequence-dependent strengths without naming a file.
    #[must_use]
    pub fn sequence_dependent(&self) -> bool {
        each_kind!(self, m => m.sequence_dependent)
    }

    /// Its sequence-dependent parameter file.
    #[must_use]
    pub fn seq_dep_file(&self) -> Option<&Path> {
        each_kind!(self, m => m.seq_dep_file.as_deref())
    }

    /// Its starting parameters' file.
    #[must_use]
    pub fn params(&self) -> Option<&Path> {
        each_kind!(self, m => m.params.as_deref())
    }

    /// The files it names (`params`, `seq_dep_file`), to change.
    pub fn files_mut(&mut self) -> [&mut Option<PathBuf>; 2] {
        each_kind!(self, m => [&mut m.params, &mut m.seq_dep_file])
    }
}

/// `kind = "dna1"`: oxDNA1, which has no electrostatics (no `salt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dna1Config {
    /// Temperature: `"300K"`, `"27C"` or a number in simulation units (default `"300K"`).
    #[serde(default = "super::default_temperature")]
    pub temperature: TomlNumberOrString,
    /// Use oxDNA's sequence-dependent stacking and H-bonding strengths (default false); without
    /// `seq_dep_file`, the file oxDNA ships for oxDNA1.
    #[serde(default)]
    pub sequence_dependent: bool,
    /// oxDNA's sequence-dependent parameter file (implies `sequence_dependent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_dep_file: Option<PathBuf>,
    /// Starting parameters: a partial or complete parameter TOML applied over the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<PathBuf>,
}

/// `kind = "dna2"`: oxDNA2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dna2Config {
    /// Temperature: `"300K"`, `"27C"` or a number in simulation units (default `"300K"`).
    #[serde(default = "super::default_temperature")]
    pub temperature: TomlNumberOrString,
    /// Salt concentration, mol/L (default 0.5).
    #[serde(default = "dna2_salt")]
    pub salt: f64,
    /// Use oxDNA's sequence-dependent stacking and H-bonding strengths (default false); without
    /// `seq_dep_file`, the file oxDNA ships for oxDNA2.
    #[serde(default)]
    pub sequence_dependent: bool,
    /// oxDNA's sequence-dependent parameter file (implies `sequence_dependent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_dep_file: Option<PathBuf>,
    /// Starting parameters: a partial or complete parameter TOML applied over the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<PathBuf>,
}

/// `kind = "rna2"`: oxRNA2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rna2Config {
    /// Temperature: `"300K"`, `"27C"` or a number in simulation units (default `"300K"`).
    #[serde(default = "super::default_temperature")]
    pub temperature: TomlNumberOrString,
    /// Salt concentration, mol/L (default 1.0, as oxDNA's RNA2).
    #[serde(default = "rna2_salt")]
    pub salt: f64,
    /// Use per-base stacking, H-bonding (with G–U) and cross-stacking strengths (default false);
    /// without `seq_dep_file`, oxDNA's shipped `rna_sequence_dependent_parameters.txt`.
    #[serde(default)]
    pub sequence_dependent: bool,
    /// oxDNA's sequence-dependent parameter file in its RNA format (implies
    /// `sequence_dependent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_dep_file: Option<PathBuf>,
    /// Starting parameters: a partial or complete parameter TOML applied over the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<PathBuf>,
}

fn dna2_salt() -> f64 {
    0.5
}
fn rna2_salt() -> f64 {
    1.0
}
