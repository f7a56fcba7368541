//! `[[objective]]`: one struct of keys per objective kind. A new kind is a variant of
//! [`ObjectiveConfig`], its struct here, and its arm in `plan.rs`, which builds the objective.

use super::tagged::tagged;
use crate::component::SchedulerHints;
use crate::observable::ObservableSpec;
use serde::{Deserialize, Serialize};

tagged!(
    /// `[[objective]]`: `kind` (default `"difftre"`) picks the keys the table may hold.
    ObjectiveConfig default "difftre" {
        /// `"difftre"`: DiffTRe (Thaler & Zavadlav 2021).
        Difftre(DifftreConfig) = "difftre",
    }
);

impl ObjectiveConfig {
    /// Its unique name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            ObjectiveConfig::Difftre(c) => &c.name,
        }
    }

    /// Its observables' specifications.
    pub fn observables(&self) -> impl Iterator<Item = &ObservableSpec> {
        match self {
            ObjectiveConfig::Difftre(c) => c.observable.iter().chain(c.observables.iter().flatten()),
        }
    }

    /// Its observables' specifications, to change (the paths they read made absolute).
    pub fn observables_mut(&mut self) -> impl Iterator<Item = &mut ObservableSpec> {
        match self {
            ObjectiveConfig::Difftre(c) => c.observable.iter_mut().chain(c.observables.iter_mut().flatten()),
        }
    }
}

/// `kind = "difftre"` (the default): DiffTRe reweighting of the simulators' trajectories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DifftreConfig {
    /// Unique name.
    pub name: String,
    /// The simulators whose trajectories it reweights (all copies of each).
    pub simulators: Vec<String>,
    /// One observable (or use `observables`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observable: Option<ObservableSpec>,
    /// Several observables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observables: Option<Vec<ObservableSpec>>,
    /// The target of `observable`, in its unit (a melting temperature's as a temperature:
    /// `"56C"`, `"329.15K"` or simulation units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<super::TomlNumberOrString>,
    /// The targets of `observables`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<f64>>,
    /// `"squared"` (default), `"absolute"` or `"rmse"`.
    #[serde(default = "default_squared")]
    pub loss: String,
    /// Weight in `[aggregate] kind = "weighted"` (default 1).
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// Smallest normalised effective sample size before re-simulating (default 0.95).
    #[serde(default = "default_neff")]
    pub min_n_eff: f64,
    /// Updates a trajectory may serve before it is re-simulated (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_valid_opt_steps: Option<u64>,
    /// States dropped from the start of each trajectory (default 0).
    #[serde(default)]
    pub equilibration_states: usize,
    /// Scheduler hints.
    #[serde(default, skip_serializing_if = "super::is_default_hints")]
    pub hints: SchedulerHints,
}

fn default_squared() -> String {
    "squared".into()
}
fn default_weight() -> f64 {
    1.0
}
fn default_neff() -> f64 {
    0.95
}
