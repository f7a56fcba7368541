//! `NativeSimulator`: the embedded MD engine (or its Monte Carlo, with an umbrella bias if asked,
//! [`NativeSimulator::monte_carlo`]) as a simulator of the optimizer. Parameters in (the
//! optimised names override its base parameter set), a trajectory out: one state every
//! `sample_every` steps after `equilibration_steps`, each with its temperature.

use super::external::ExternalForce;
use super::mc::{Mc, McConfig, McState};
use super::md::{Md, MdConfig, MdState};
use super::umbrella::Umbrella;
use crate::component::{Observation, Params, SchedulerHints, SimOutput, Simulator, State, TaskContext};
use crate::energy::EnergyModel;
use crate::error::{Error, Result};
use crate::io::order_parameter::{OrderParameters, Weights};
use crate::io::Configuration;
use crate::params::ParamSet;
use crate::system::Topology;
use crate::trajectory::Trajectory;
use std::collections::BTreeMap;

/// The native MD engine, ready to run with any parameter values.
#[derive(Debug, Clone)]
pub struct NativeSimulator {
    name: String,
    topology: Topology,
    initial: Configuration,
    params: ParamSet,
    /// The energy model at the base parameters (its terms and weights are kept in every run).
    model: EnergyModel,
    config: MdConfig,
    monte_carlo: Option<MonteCarlo>,
    /// A temperature of its own (simulation units), whatever the parameters passed in say.
    temperature: Option<f64>,
    equilibration_steps: u64,
    sample_every: u64,
    hints: SchedulerHints,
    /// External forces acting in every run (traps, pulls; [`super::external`]).
    external: Vec<ExternalForce>,
    /// Metadata every sampled state carries (e.g. its pulling `force` in pN).
    metadata: BTreeMap<String, f64>,
}

/// Monte Carlo sampling instead of MD ([`NativeSimulator::monte_carlo`]).
#[derive(Debug, Clone)]
pub struct MonteCarlo {
    /// Moves, step sizes and production steps (each run replaces the seed with its own).
    pub config: McConfig,
    /// An umbrella bias: order parameters and their weights (oxDNA's `op_file`, `weights_file`).
    pub umbrella: Option<(OrderParameters, Weights)>,
}

impl NativeSimulator {
    /// A simulator named `name` of `topology` from `initial`, with base parameters `params`
    /// (their `kt` is the temperature), MD settings `config` (`config.steps` production steps),
    /// sampling a state every `sample_every` steps. Velocities are drawn afresh at each run.
    ///
    /// ```
    /// use oxgrad::generate::{helix, parse_sequence, Shape};
    /// use oxgrad::params::ParamSet;
    /// use oxgrad::simulate::{MdConfig, NativeSimulator};
    /// use oxgrad::system::TopologyFormat;
    /// let (top, start) = helix(&parse_sequence("ACGTTGCA")?, Shape::Duplex, None, TopologyFormat::Classic)?;
    /// let mut params = ParamSet::dna1_defaults();
    /// params.set("kt", oxgrad::units::kt_from_str("300K")?)?;
    /// let md = MdConfig::with_steps(1000);
    /// let sim = NativeSimulator::new("duplex", top, start, params.clone(), md, 100)?.equilibration_steps(200);
    /// let traj = sim.run_with(&params, 7)?; // 10 states, every 100 steps
    /// assert_eq!(traj.len(), 10);
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn new(
        name: impl Into<String>,
        topology: Topology,
        initial: Configuration,
        params: ParamSet,
        config: MdConfig,
        sample_every: u64,
    ) -> Result<NativeSimulator> {
        let model = EnergyModel::new(&topology, params)?;
        NativeSimulator::of_model(name, topology, initial, model, config, sample_every)
    }

    /// As [`NativeSimulator::new`], simulating `model` (a model of `topology` with users' terms,
    /// oxRNA2, other term weights), whose parameters are the base parameters.
    pub fn of_model(
        name: impl Into<String>,
        topology: Topology,
        initial: Configuration,
        model: EnergyModel,
        config: MdConfig,
        sample_every: u64,
    ) -> Result<NativeSimulator> {
        if initial.len() != topology.len() {
            return Err(Error::mismatch(
                "configuration and topology",
                format!("the configuration has {} nucleotides, the topology {}", initial.len(), topology.len()),
            ));
        }
        check_settings(&config, sample_every, model.params())?;
        NativeSimulator {
            name: name.into(),
            params: model.params().clone(),
            model: model.clone(),
            topology,
            initial,
            config,
            monte_carlo: None,
            temperature: None,
            equilibration_steps: 0,
            sample_every,
            hints: SchedulerHints::default(),
            external: Vec::new(),
            metadata: BTreeMap::new(),
        }
        .with_model(model)
    }

    /// Samples with Monte Carlo (single-nucleotide moves or VMMC, `mc.config.steps` steps)
    /// instead of MD, biased by `mc.umbrella` if given; the MD settings are then unused.
    pub fn monte_carlo(mut self, mc: MonteCarlo) -> Result<NativeSimulator> {
        mc.config.validate()?;
        self.monte_carlo = Some(mc);
        Ok(self)
    }

    /// Always simulates at `kt` (simulation units), whatever temperature the parameter sets of
    /// its runs carry: a melting simulation at 72 °C in a training whose model is at 300 K.
    pub fn at_temperature(mut self, kt: f64) -> Result<NativeSimulator> {
        crate::units::check_kt(kt).map_err(|m| Error::invalid("temperature", kt, m))?;
        self.params.set("kt", kt)?;
        self.model = self.model.with_params(self.params.clone())?;
        self.temperature = Some(kt);
        Ok(self)
    }

    /// The temperature it simulates at (simulation units).
    #[must_use]
    pub fn temperature(&self) -> f64 {
        self.params.value("kt")
    }

    /// The starting configuration.
    #[must_use]
    pub fn initial(&self) -> &Configuration {
        &self.initial
    }

    /// Its Monte Carlo settings, if it samples with Monte Carlo.
    #[must_use]
    pub fn monte_carlo_settings(&self) -> Option<&MonteCarlo> {
        self.monte_carlo.as_ref()
    }

    /// Production steps per run (MD or Monte Carlo).
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.monte_carlo.as_ref().map_or(self.config.steps, |m| m.config.steps)
    }

    /// The same simulator with `steps` production steps per run (MD or Monte Carlo) and a state
    /// sampled every `sample_every` steps.
    pub fn with_steps(&self, steps: u64, sample_every: u64) -> Result<NativeSimulator> {
        let mut out = self.clone();
        match &mut out.monte_carlo {
            Some(m) => m.config.steps = steps,
            None => out.config.steps = steps,
        }
        out.sample_every = sample_every;
        check_settings(&out.config, sample_every, &out.params)?;
        Ok(out)
    }

    /// The master seed each run derives its own from.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.monte_carlo.as_ref().map_or(self.config.seed, |m| m.config.seed)
    }

    /// Steps run before sampling starts.
    #[must_use]
    pub fn equilibration_steps(mut self, steps: u64) -> Self {
        self.equilibration_steps = steps;
        self
    }

    /// With scheduler hints.
    #[must_use]
    pub fn hints(mut self, hints: SchedulerHints) -> Self {
        self.hints = hints;
        self
    }

    /// With external forces acting in every run, MD or Monte Carlo (oxDNA's
    /// `external_forces_file`, [`super::external::read`]); they replace any given before.
    #[must_use]
    pub fn external_forces(mut self, forces: Vec<ExternalForce>) -> Self {
        self.external = forces;
        self
    }

    /// Its external forces.
    #[must_use]
    pub fn forces(&self) -> &[ExternalForce] {
        &self.external
    }

    /// With `value` as the `key` metadata of every state it samples (the pulling `force` in pN
    /// that tells a modulus which run a state belongs to, [`crate::observable::mechanics`]).
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: f64) -> Self {
        self.metadata.insert(key.into(), value);
        self
    }

    /// The metadata every sampled state carries.
    #[must_use]
    pub fn state_metadata(&self) -> &BTreeMap<String, f64> {
        &self.metadata
    }

    /// Its MD settings (`steps` = production steps per run).
    #[must_use]
    pub fn config(&self) -> &MdConfig {
        &self.config
    }

    /// Steps between sampled states.
    #[must_use]
    pub fn sample_every(&self) -> u64 {
        self.sample_every
    }

    /// Steps run before sampling.
    #[must_use]
    pub fn equilibration(&self) -> u64 {
        self.equilibration_steps
    }

    /// The same system with other MD settings and sampling interval (validated).
    pub fn with_config(&self, config: MdConfig, sample_every: u64) -> Result<NativeSimulator> {
        check_settings(&config, sample_every, &self.params)?;
        Ok(NativeSimulator { config, sample_every, ..self.clone() })
    }

    /// The same simulator under another name (for [`crate::component::create_n`]).
    #[must_use]
    pub fn renamed(&self, name: impl Into<String>) -> Self {
        NativeSimulator { name: name.into(), ..self.clone() }
    }

    /// Simulates `model` instead of the plain oxDNA model of the base parameters: its user terms
    /// ([`crate::energy::EnergyTerm`]) and term weights are kept in every run, and its
    /// parameters (the user terms' included) become the base parameters. The model must be of
    /// this simulator's topology.
    pub fn with_model(mut self, model: EnergyModel) -> Result<NativeSimulator> {
        if model.len() != self.topology.len() || model.bonded_pairs() != self.topology.bonded_pairs().as_slice() {
            return Err(Error::mismatch(
                "energy model and topology",
                format!(
                    "the model has {} nucleotides, the simulator's topology {} (or their strands differ): build the model from the same topology",
                    model.len(),
                    self.topology.len()
                ),
            ));
        }
        self.config.validate(model.params().value("kt"))?;
        self.params = model.params().clone();
        self.model = model;
        Ok(self)
    }

    /// The energy model at the base parameters.
    #[must_use]
    pub fn model(&self) -> &EnergyModel {
        &self.model
    }

    /// Runs with `params` and `seed` on one thread; the sampled trajectory.
    pub fn run_with(&self, params: &ParamSet, seed: u64) -> Result<Trajectory> {
        self.run_threads(params, seed, 1)
    }

    /// Runs with `params` and `seed` on `threads` threads (the same trajectory for any number).
    pub fn run_threads(&self, params: &ParamSet, seed: u64, threads: usize) -> Result<Trajectory> {
        let params = &match self.temperature {
            Some(kt) => params.with_params([("kt", kt)])?,
            None => params.clone(),
        };
        let model = self.model.with_params(params.clone())?;
        let frames = match &self.monte_carlo {
            Some(mc) => self.sample_mc(&model, mc, seed)?,
            None => self.sample_md(&model, seed, threads)?,
        };
        let kt = params.value("kt");
        let n = frames.len();
        let mut traj = Trajectory::new(frames, Some(vec![kt; n]))?;
        for (k, v) in &self.metadata {
            traj.metadata.insert(k.clone(), vec![*v; n]);
        }
        Ok(traj)
    }

    fn sample_md(&self, model: &EnergyModel, seed: u64, threads: usize) -> Result<Vec<Configuration>> {
        let mut state = MdState::from_configuration(&self.initial);
        state.step = 0;
        let mut md = Md::new(model, MdConfig { seed, ..self.config.clone() }, &state)?
            .external(self.external.clone(), &state)
            .threads(threads)?;
        md.refresh_velocities(&mut state);
        md.within(|md| -> Result<Vec<Configuration>> {
            for _ in 0..self.equilibration_steps {
                md.step(&mut state)?;
                self.check_stop("MD")?;
            }
            state.step = 0;
            let mut frames = Vec::new();
            for k in 1..=self.config.steps {
                md.step(&mut state)?;
                self.check_stop("MD")?;
                if k % self.sample_every == 0 {
                    frames.push(state.to_configuration(md.interaction_potential()));
                }
            }
            Ok(frames)
        })
    }

    /// Monte Carlo on one thread (the umbrella's own histogram is not kept: the states are).
    fn sample_mc(&self, model: &EnergyModel, mc: &MonteCarlo, seed: u64) -> Result<Vec<Configuration>> {
        let mut state = McState::from_configuration(&self.initial);
        state.step = 0;
        let mut engine =
            Mc::new(model, McConfig { seed, ..mc.config.clone() }, &state)?.external(self.external.clone(), &state)?;
        let mut umbrella = match &mc.umbrella {
            Some((ops, weights)) => {
                Some(Umbrella::new(model, &state.frame, ops.clone(), Some(weights.clone()), Vec::new(), 0)?)
            }
            None => None,
        };
        let mut step = |engine: &mut Mc<'_>, state: &mut McState| -> Result<()> {
            engine.step(state, umbrella.as_mut().map(|u| u as &mut dyn super::mc::Bias))?;
            self.check_stop("Monte Carlo")
        };
        for _ in 0..self.equilibration_steps {
            step(&mut engine, &mut state)?;
        }
        let mut frames = Vec::new();
        for k in 1..=mc.config.steps {
            step(&mut engine, &mut state)?;
            if k % self.sample_every == 0 {
                let mut c = state.to_configuration(engine.interaction_potential(&state));
                c.step = k;
                frames.push(c);
            }
        }
        Ok(frames)
    }

    fn check_stop(&self, what: &str) -> Result<()> {
        if crate::component::stop_requested() {
            return Err(Error::Stopped { what: format!("the {what} run of simulator '{}'", self.name) });
        }
        Ok(())
    }

    /// The base parameters with the optimiser's values applied.
    pub fn params_with(&self, values: &Params) -> Result<ParamSet> {
        self.params.with_params(values.iter().map(|(k, v)| (k.as_str(), *v)))
    }
}

fn check_settings(config: &MdConfig, sample_every: u64, params: &ParamSet) -> Result<()> {
    if sample_every == 0 {
        return Err(Error::invalid("sample_every", 0, "sample a state every 1 or more steps"));
    }
    config.validate(params.value("kt"))
}

/// A seed from a master seed, a name and a step (reproducible, and distinct for every simulator and step, so copies never share a random stream).
#[must_use]
pub fn derive_seed(master: u64, name: &str, step: usize) -> u64 {
    // FNV-1a over the name, mixed with the master seed and the step (splitmix64 finaliser)
    let mut z = fnv1a(name.as_bytes())
        ^ master.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (step as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bits: a stable hash of bytes (seeds from names, names of builds).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

impl Simulator for NativeSimulator {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "NativeSimulator"
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn run(&self, ctx: &TaskContext, params: &Params, state: &State) -> Result<SimOutput> {
        let set = self.params_with(params)?;
        let seed = derive_seed(self.seed(), &self.name, ctx.step);
        // the CPUs the task was given (its num_cpus hint; one without)
        let threads = ctx
            .env
            .iter()
            .find(|(k, _)| k == "RAYON_NUM_THREADS")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let traj = self.run_threads(&set, seed, threads)?;
        let mut st = state.clone();
        st.insert("seed".into(), seed.into());
        Ok(SimOutput { observables: vec![Observation::Trajectory(traj)], state: st })
    }
}
