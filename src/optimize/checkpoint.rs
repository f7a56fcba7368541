//! Checkpoints: the complete state of an optimisation between two steps, as plain serde data —
//! parameters, the update rule's moments, every component's state and the cached observables
//! (trajectories included) that later steps reuse. Restoring one and stepping on gives exactly
//! the results an uninterrupted run would have given: simulators derive their seeds from the
//! step, and nothing else carries hidden state.

use super::scheduler::OptimizerState;
use super::store::ObjectStore;
use super::update::UpdateState;
use super::Optimization;
use crate::component::{ObservableId, Observation, Params, State};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state of an optimisation before step `step`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The next step to run.
    pub step: usize,
    /// The parameters that step evaluates.
    pub params: Params,
    /// Cached observables by their qualified name (`trajectory.NativeSimulator.duplex.0`).
    pub observables: BTreeMap<String, Observation>,
    /// Each component's state, by name.
    pub component_state: BTreeMap<String, State>,
    /// The update rule's state.
    pub update: UpdateState,
}

impl Optimization {
    /// The checkpoint of `state` with the next parameters `params` (cached observables are
    /// copied out of the object store).
    pub fn snapshot(&self, params: &Params, state: &OptimizerState) -> Result<Checkpoint> {
        snapshot(&self.store, params, state)
    }

    /// Puts a checkpoint's observables back into the object store; the parameters and state to
    /// continue from.
    pub fn restore(&mut self, cp: Checkpoint) -> Result<(Params, OptimizerState)> {
        let mut observables = BTreeMap::new();
        for (id, o) in cp.observables {
            observables.insert(ObservableId::parse(&id)?, self.store.put(o));
        }
        let state =
            OptimizerState { observables, component_state: cp.component_state, update: cp.update, step: cp.step };
        Ok((cp.params, state))
    }
}

/// The checkpoint of `state` with the next parameters `params`, its observables copied out of
/// `store`.
pub(crate) fn snapshot(store: &ObjectStore, params: &Params, state: &OptimizerState) -> Result<Checkpoint> {
    let mut observables = BTreeMap::new();
    for (id, h) in &state.observables {
        let o = store.fetch(*h).map_err(|_| {
            Error::internal(format!("checkpoint: the cached observable {id} is missing from the object store"))
        })?;
        observables.insert(id.to_string(), (*o).clone());
    }
    Ok(Checkpoint {
        step: state.step,
        params: params.clone(),
        observables,
        component_state: state.component_state.clone(),
        update: state.update.clone(),
    })
}
