//! `TrajectorySimulator`: replays an existing trajectory (for example one oxDNA wrote) as a
//! simulator of the optimizer. Every run returns the same states, so DiffTRe reweights one fixed
//! ensemble: when its effective sample size drops, re-referencing starts again from the same
//! states at the current parameters.

use crate::component::{Observation, Params, SchedulerHints, SimOutput, Simulator, State, TaskContext};
use crate::error::Result;
use crate::trajectory::Trajectory;
use std::sync::Arc;

/// A simulator that returns a fixed trajectory.
#[derive(Debug, Clone)]
pub struct TrajectorySimulator {
    name: String,
    trajectory: Arc<Trajectory>,
    hints: SchedulerHints,
}

impl TrajectorySimulator {
    /// Named `name`, replaying `trajectory` (whose states carry their temperature).
    ///
    /// ```
    /// use oxgrad::io::{Configuration, TrajectoryReader};
    /// use oxgrad::component::Simulator;
    /// use oxgrad::simulate::TrajectorySimulator;
    /// use oxgrad::trajectory::Trajectory;
    /// let frames: Vec<Configuration> =
    ///     TrajectoryReader::open("tests/data/oxdna/dna1-avg-8bp-T296/trajectory.dat", 16)?.collect::<oxgrad::Result<_>>()?;
    /// let sim = TrajectorySimulator::new("replay", Trajectory::new(frames, None)?);
    /// assert_eq!(sim.exposes()[0].to_string(), "trajectory.TrajectorySimulator.replay");
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn new(name: impl Into<String>, trajectory: Trajectory) -> TrajectorySimulator {
        TrajectorySimulator { name: name.into(), trajectory: Arc::new(trajectory), hints: SchedulerHints::default() }
    }

    /// The replayed trajectory.
    #[must_use]
    pub fn trajectory(&self) -> &Trajectory {
        &self.trajectory
    }
}

impl Simulator for TrajectorySimulator {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "TrajectorySimulator"
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn run(&self, _: &TaskContext, _: &Params, state: &State) -> Result<SimOutput> {
        Ok(SimOutput { observables: vec![Observation::Trajectory((*self.trajectory).clone())], state: state.clone() })
    }
}
