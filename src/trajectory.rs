//! `Trajectory`: states of a simulation with their temperature and metadata (mythos'
//! `SimulatorTrajectory`). Every per-state field has one entry per state.

use crate::error::{Error, Result};
use crate::io::Configuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// States of a simulation, `[states]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Trajectory {
    /// The configurations.
    pub frames: Vec<Configuration>,
    /// k_B T of each state (simulation units), if known.
    pub temperature: Option<Vec<f64>>,
    /// Per-state metadata (e.g. `force`, `torque`).
    pub metadata: BTreeMap<String, Vec<f64>>,
}

impl Trajectory {
    /// From frames and optional per-state temperatures; lengths are checked.
    pub fn new(frames: Vec<Configuration>, temperature: Option<Vec<f64>>) -> Result<Trajectory> {
        if let Some(t) = &temperature {
            if t.len() != frames.len() {
                return Err(Error::mismatch(
                    "trajectory temperatures",
                    format!("{} temperatures for {} states: give one per state", t.len(), frames.len()),
                ));
            }
        }
        Ok(Trajectory { frames, temperature, metadata: BTreeMap::new() })
    }

    /// Number of states.
    #[must_use]
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether there are no states.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Joins trajectories (mythos' `concat`, same rules and messages): temperatures must be all
    /// present or all absent; metadata keys are united, missing values filled with NaN.
    pub fn concat(trajs: &[Trajectory]) -> Result<Trajectory> {
        let err = |m: &str| Error::invalid("trajectories", "concat", m);
        match trajs {
            [] => return Err(err("Cannot concatenate an empty list of trajectories.")),
            [one] => return Ok(one.clone()),
            _ => {}
        }
        let with_t = trajs.iter().filter(|t| t.temperature.is_some()).count();
        if with_t != 0 && with_t != trajs.len() {
            return Err(err("Cannot concatenate, trajectories have incompatible temperatures."));
        }
        let mut out = Trajectory::default();
        let keys: std::collections::BTreeSet<&String> = trajs.iter().flat_map(|t| t.metadata.keys()).collect();
        for t in trajs {
            out.frames.extend(t.frames.iter().cloned());
            if let Some(temp) = &t.temperature {
                out.temperature.get_or_insert_with(Vec::new).extend(temp);
            }
            for k in &keys {
                let values = t.metadata.get(*k).cloned().unwrap_or_else(|| vec![f64::NAN; t.len()]);
                out.metadata.entry((*k).clone()).or_default().extend(values);
            }
        }
        Ok(out)
    }
}
