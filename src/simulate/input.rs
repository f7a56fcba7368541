//! Running a simulation from an oxDNA input file, as `oxDNA input` would — and never silently
//! wrong: molecular dynamics (`sim_type = MD`) or Monte Carlo (`sim_type = MC`, `VMMC`, see
//! [`super::mc`]) with umbrella sampling ([`super::umbrella`]).
//!
//! Keys read: `sim_type` (MD, MC, VMMC), `backend` (CPU), `backend_precision`, `interaction_type`, `T`,
//! `salt_concentration`, `use_average_seq`, `seq_dep_file`, `dh_lambda`, `dh_strength`,
//! `dh_half_charged_ends`, `dt`, `steps`, `thermostat` (`no`, `john`/`brownian`, `langevin`),
//! `newtonian_steps`, `diff_coeff`, `pt`, `gamma_trans`, `gamma_rot`, `verlet_skin`, `seed`,
//! `topology`, `conf_file`, `trajectory_file`, `lastconf_file`, `energy_file`,
//! `print_conf_interval`, `print_energy_every`, `refresh_vel`, `restart_step_counter`,
//! `time_scale` (linear), `external_forces`, `external_forces_file`, `max_backbone_force`,
//! `max_backbone_force_far`, and oxgrad's `threads`. Paths are relative to the input file's
//! directory.
//!
//! - Keys the engine does not use are reported in one warning, each with its closest known
//!   spelling ([`SimRun::unused_keys`]; `oxgrad simulate --strict` makes that an error); a key
//!   given twice warns (the last value counts, as in oxDNA); settings oxgrad does not implement
//!   (other `sim_type`s such as forward-flux sampling, `backend = CUDA`, other thermostats, JSON
//!   force files) are refused by name.
//! - A backbone bond stretched to FENE's divergence, or any non-finite energy, stops the run with
//!   an error naming the step and the nucleotides, and the last good configuration is written to
//!   `error_conf.dat` beside the input (oxDNA's convention). `max_backbone_force` lets FENE
//!   continue with a bounded force instead, as in oxDNA.
//! - Outputs are oxDNA's: each trajectory frame written whole, energy lines (`time U/N K/N
//!   Etot/N`) flushed as written, and the last configuration refreshed, whole, at every
//!   `print_conf_interval`. As in oxDNA 3.7, the potential energy written (`U` of the energy
//!   file, MD or Monte Carlo, and of every configuration's `E =` line, `Etot = U + K`) is the
//!   model's alone: external forces act on the motion and on moves' acceptance, but their
//!   energy is not written, so with forces MD's written `Etot` is not conserved. A stop request (SIGINT, SIGTERM) ends the run after the current step
//!   with the last configuration written.
//! - With `restart_step_counter = false` the run continues the configuration's step counter up
//!   to `steps` (oxDNA's meaning of `steps`), so a run continues from its `last_conf`.

use super::external::{self, ExternalForce};
use super::mc::{Bias, Mc, McConfig, McMoves, McState};
use super::md::{Md, MdConfig, MdState, Thermostat};
use super::umbrella::Umbrella;
use crate::energy::ModelSetup;
use crate::error::{Error, Result};
use crate::io::histogram::extrapolation_temperatures;
use crate::io::order_parameter::{OrderParameters, Weights};
use crate::io::{Configuration, InputFile, TrajectoryWriter};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The engine an input file asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Engine {
    /// Molecular dynamics (`sim_type = MD`).
    Md(MdConfig),
    /// Monte Carlo (`sim_type = MC` or `VMMC`).
    Mc(McConfig),
}

impl Engine {
    /// The number of steps (`steps`).
    #[must_use]
    pub fn steps(&self) -> u64 {
        match self {
            Engine::Md(c) => c.steps,
            Engine::Mc(c) => c.steps,
        }
    }
}

/// Umbrella sampling as an input asks for it (`umbrella_sampling = 1`).
#[derive(Debug, Clone)]
pub struct UmbrellaSettings {
    /// The order parameters (`op_file`).
    pub ops: OrderParameters,
    /// Their weights (`weights_file`).
    pub weights: Weights,
    /// Extrapolation temperatures (`extrapolate_hist`, simulation units), each with the
    /// model built at it.
    pub extrapolate: Vec<(f64, crate::energy::EnergyModel)>,
    /// `last_hist_file` (default `last_hist.dat`).
    pub last_hist: PathBuf,
    /// `traj_hist_file` (default `traj_hist.dat`), unless `print_traj_hist_file = false`.
    pub traj_hist: Option<PathBuf>,
    /// `skip_hist_zeros`.
    pub skip_zeros: bool,
    /// `equilibration_steps`: attempts in these steps are not recorded.
    pub equilibration_steps: u64,
}

/// Everything an input file asks for.
#[derive(Debug, Clone)]
pub struct SimRun {
    /// Model and topology.
    pub setup: ModelSetup,
    /// The engine and its settings.
    pub engine: Engine,
    /// Umbrella sampling (Monte Carlo only).
    pub umbrella: Option<UmbrellaSettings>,
    /// The starting configuration.
    pub initial: Configuration,
    /// Draw fresh velocities at the start.
    pub refresh_vel: bool,
    /// Start counting steps from 0 instead of the configuration's `t`.
    pub restart_step_counter: bool,
    /// Where to write configurations, and how often.
    pub trajectory: Option<(PathBuf, u64)>,
    /// Where to write the last configuration, and how often it is refreshed.
    pub lastconf: (PathBuf, u64),
    /// Where to write energies, and how often.
    pub energy: (PathBuf, u64),
    /// External forces.
    pub external: Vec<ExternalForce>,
    /// Threads for the force evaluation (`threads`; `None`: the caller decides).
    pub threads: Option<usize>,
    /// The files the input names as inputs (topology, configuration, sequence-dependent file).
    pub inputs: Vec<PathBuf>,
    /// Where the last good configuration goes if the run becomes unstable.
    pub error_conf: PathBuf,
    /// Keys of the input the engine does not use, each with its closest known key.
    pub unused_keys: Vec<(String, usize, Option<String>)>,
    /// The input file (paths in it are relative to its directory).
    pub source: PathBuf,
}

/// The thermostats oxgrad knows, as the error lists them.
const THERMOSTATS: &str = "no, john (or brownian), langevin";

/// Keys every engine reads (and `oxgrad energy`'s analysis keys, which inputs often carry
/// harmlessly).
const KNOWN: [&str; 37] = [
    "sim_type",
    "backend",
    "backend_precision",
    "interaction_type",
    "T",
    "salt_concentration",
    "use_average_seq",
    "seq_dep_file",
    "dh_lambda",
    "dh_strength",
    "dh_half_charged_ends",
    "T_force_value",
    "mismatch_repulsion",
    "steps",
    "verlet_skin",
    "seed",
    "topology",
    "conf_file",
    "trajectory_file",
    "lastconf_file",
    "energy_file",
    "print_conf_interval",
    "print_energy_every",
    "restart_step_counter",
    "time_scale",
    "external_forces",
    "external_forces_file",
    "external_forces_as_JSON",
    "threads",
    // accepted and without effect on a native run: oxDNA's console output and bookkeeping
    "no_stdout_energy",
    "print_conf_ppc",
    "show_overwrite_warnings",
    "log_file",
    "reset_com_momentum",
    "reset_initial_com_momentum",
    "fix_diffusion",
    "fix_diffusion_every",
];

/// Keys only molecular dynamics reads.
const KNOWN_MD: [&str; 10] = [
    "dt",
    "thermostat",
    "newtonian_steps",
    "diff_coeff",
    "pt",
    "gamma_trans",
    "gamma_rot",
    "refresh_vel",
    "max_backbone_force",
    "max_backbone_force_far",
];

/// Keys that only act with `umbrella_sampling = 1`.
const UMBRELLA_KEYS: [&str; 8] = [
    "op_file",
    "weights_file",
    "extrapolate_hist",
    "last_hist_file",
    "traj_hist_file",
    "safe_weights",
    "default_weight",
    "skip_hist_zeros",
];

/// Keys only Monte Carlo reads.
const KNOWN_MC: [&str; 19] = [
    "ensemble",
    "delta_translation",
    "delta_rotation",
    "maxclust",
    "small_system",
    "check_energy_every",
    "preserve_topology",
    "adjust_moves",
    "umbrella_sampling",
    "op_file",
    "weights_file",
    "safe_weights",
    "default_weight",
    "extrapolate_hist",
    "last_hist_file",
    "traj_hist_file",
    "print_traj_hist_file",
    "skip_hist_zeros",
    "equilibration_steps",
];

impl SimRun {
    /// Reads an MD input file and everything it names.
    pub fn from_input(input: &InputFile) -> Result<SimRun> {
        SimRun::from_input_with(input, None)
    }

    /// As [`SimRun::from_input`], with model parameters from `params` (fitted parameters); the
    /// input still sets temperature and salt.
    pub fn from_input_with(input: &InputFile, params: Option<&crate::params::ParamSet>) -> Result<SimRun> {
        let src = input.source.display().to_string();
        let refuse = |key: &str, value: &str, hint: &str| Error::invalid(key, value, format!("{src}: {hint}"));
        let sim_type = input.get("sim_type").unwrap_or("MD");
        if !["MD", "MC", "VMMC"].contains(&sim_type) {
            return Err(refuse(
                "sim_type",
                sim_type,
                "oxgrad's native engine runs sim_type = MD, MC or VMMC (no forward-flux sampling, MC2 or parallel tempering)",
            ));
        }
        if let Some(b) = input.get("backend").filter(|b| *b != "CPU") {
            return Err(refuse(
                "backend",
                b,
                "oxgrad's native engine runs on the CPU (backend = CPU); run CUDA inputs with oxDNA itself",
            ));
        }
        if let Some(ts) = input.get("time_scale").filter(|t| *t != "linear") {
            return Err(refuse(
                "time_scale",
                ts,
                "oxgrad writes configurations at linear intervals (time_scale = linear)",
            ));
        }
        if input.bool_or("external_forces_as_JSON", false)? {
            return Err(refuse(
                "external_forces_as_JSON",
                "true",
                "oxgrad reads oxDNA's plain external forces files ({ … } blocks), not the JSON form",
            ));
        }
        let mut setup = ModelSetup::from_input_with(input, params)?;
        // FENE: a bond at its divergence is a blow-up unless max_backbone_force asks for oxDNA's
        // bounded continuation
        // (oxRNA2 takes these keys when its model is built)
        let dna = setup.model.term_weights()[crate::energy::TermId::Fene as usize] != 0.0;
        let md = sim_type == "MD";
        if let Some(fmax) = input.opt_f64("max_backbone_force")?.filter(|_| dna && md) {
            let finf = input.opt_f64("max_backbone_force_far")?.unwrap_or(0.04);
            let p = setup.model.params().with_params([("fmax", fmax), ("finf", finf)])?;
            setup.model = setup.model.with_params(p)?.fene_limit(false);
        }
        let kt = setup.model.params().value("kt");
        let seed = match input.opt_u64("seed")? {
            Some(s) => s,
            None => {
                let s = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                tracing::info!("no seed in the input; using seed = {s}");
                s
            }
        };
        let steps = input.u64("steps")?;
        if steps == 0 {
            return Err(refuse("steps", "0", "at least 1 step"));
        }
        let engine = if md {
            Engine::Md(md_config(input, kt, steps, seed)?)
        } else {
            if input.get("verlet_skin").is_some() {
                tracing::info!("{src}: verlet_skin has no effect on oxgrad's Monte Carlo (it finds neighbours with cell lists); oxDNA requires it, so it may stay");
            }
            Engine::Mc(mc_config(input, sim_type, setup.topology.len(), steps, seed)?)
        };
        let umbrella = match &engine {
            Engine::Mc(_) if input.bool_or("umbrella_sampling", false)? => {
                Some(umbrella_settings(input, setup.topology.len(), params)?)
            }
            _ => {
                let idle: Vec<&str> = UMBRELLA_KEYS.into_iter().filter(|k| input.get(k).is_some()).collect();
                if !idle.is_empty() {
                    tracing::warn!(
                        "{src}: {} set but umbrella_sampling is not: no order parameter is followed and no histogram written (as in oxDNA); set umbrella_sampling = 1 to use them",
                        idle.join(", ")
                    );
                }
                None
            }
        };
        let conf_path = input.path("conf_file")?;
        let mut inputs = vec![input.source.clone(), input.path("topology")?, conf_path.clone()];
        if let Ok(p) = input.path("seq_dep_file") {
            if p.exists() {
                inputs.push(p);
            }
        }
        let mut frames = crate::io::TrajectoryReader::open(&conf_path, setup.topology.len())?;
        let initial = frames.next_frame()?;
        // the configuration must hold exactly the topology's nucleotides: one more row would be
        // read as the next frame's header
        if let Some(Err(Error::Parse { at, .. })) = frames.next() {
            return Err(Error::mismatch(
                "configuration and topology",
                format!(
                    "{at}: the configuration has more rows than the topology's {} nucleotides",
                    setup.topology.len()
                ),
            ));
        }
        let external = if input.bool_or("external_forces", false)? {
            let path = input.path("external_forces_file")?;
            inputs.push(path.clone());
            external::read(&path, &setup.topology)?
        } else {
            if input.get("external_forces_file").is_some() {
                tracing::warn!("{src}: external_forces_file is set but external_forces is not true: no external force acts (as in oxDNA)");
            }
            Vec::new()
        };
        if md && external.iter().any(ExternalForce::monte_carlo_only) {
            return Err(refuse(
                "external_forces_file",
                &input.path("external_forces_file")?.display().to_string(),
                "a hard_wall has an energy and no force: it acts in Monte Carlo only (sim_type = MC or VMMC), as in oxDNA",
            ));
        }
        let threads = match input.opt_u64("threads")? {
            Some(t) => Some(super::md::check_threads("threads", t, &format!("{src}: "))?),
            None => None,
        };
        let interval = |k: &str, default: u64| -> Result<u64> {
            match input.opt_u64(k)? {
                Some(0) => Err(refuse(k, "0", "an interval of at least 1 step (leave the key out for the default)")),
                Some(n) => Ok(n),
                None => Ok(default.max(1)),
            }
        };
        let conf_every = interval("print_conf_interval", engine.steps())?;
        let trajectory = match input.get("trajectory_file") {
            Some(_) => Some((input.path("trajectory_file")?, conf_every)),
            None => None,
        };
        let lastconf = (input.dir().join(input.get("lastconf_file").unwrap_or("last_conf.dat")), conf_every);
        let energy_every = interval("print_energy_every", conf_every)?;
        let energy = (input.dir().join(input.get("energy_file").unwrap_or("energy.dat")), energy_every);
        let run = SimRun {
            setup,
            engine,
            umbrella,
            initial,
            refresh_vel: md && input.bool_or("refresh_vel", false)?,
            restart_step_counter: input.bool_or("restart_step_counter", false)?,
            trajectory,
            lastconf,
            energy,
            external,
            threads,
            inputs,
            error_conf: input.dir().join("error_conf.dat"),
            unused_keys: unused_keys(input, if md { &KNOWN_MD } else { &KNOWN_MC }),
            source: input.source.clone(),
        };
        if !run.restart_step_counter && run.initial.step >= run.engine.steps() {
            return Err(Error::invalid(
                "steps",
                run.engine.steps(),
                format!(
                    "{src}: the configuration is at step {} and restart_step_counter = false continues it up to steps = {}: nothing to do; raise steps or set restart_step_counter = true",
                    run.initial.step,
                    run.engine.steps()
                ),
            ));
        }
        Ok(run)
    }

    /// The files a run may write: trajectory (if any), energy file, last configuration, the
    /// last good configuration if it blows up (`error_conf.dat`) and umbrella histograms.
    #[must_use]
    pub fn outputs(&self) -> Vec<&Path> {
        let mut out: Vec<&Path> = self.trajectory.iter().map(|t| t.0.as_path()).collect();
        out.push(&self.energy.0);
        out.push(&self.lastconf.0);
        out.push(&self.error_conf);
        if let Some(u) = &self.umbrella {
            out.push(&u.last_hist);
            out.extend(u.traj_hist.as_deref());
        }
        out
    }

    /// Checks, before anything is written, that no output is an input or a directory, that no
    /// two outputs are the same file, and that none exists unless `force`.
    pub fn check_outputs(&self, force: bool) -> Result<()> {
        let mut io = crate::io::atomic::Outputs::new(force);
        for p in &self.inputs {
            io.input(p)?;
        }
        let outs = self.outputs();
        for (k, a) in outs.iter().enumerate() {
            if outs[..k].iter().any(|b| b == a) {
                return Err(Error::invalid(
                    "output",
                    a.display(),
                    "two of trajectory_file, energy_file, lastconf_file, last_hist_file, traj_hist_file and error_conf.dat (written beside the input on a blow-up) name the same file: give each its own",
                ));
            }
        }
        io.check_all(outs)
    }

    /// The step the run starts from and the number of steps it makes.
    #[must_use]
    pub fn span(&self) -> (u64, u64) {
        let steps = self.engine.steps();
        if self.restart_step_counter {
            (0, steps)
        } else {
            (self.initial.step, steps - self.initial.step)
        }
    }

    /// Runs the simulation on `threads` threads (MD's force evaluation; Monte Carlo runs on
    /// one), writing the trajectory, energy file, last configuration and histograms;
    /// `progress(steps_done, total)` is called now and then; `stop` (set by a signal handler)
    /// ends the run after the current step. Returns the final step.
    pub fn run_with(
        &self,
        threads: usize,
        stop: Option<&AtomicBool>,
        progress: impl FnMut(u64, u64) + Send,
    ) -> Result<u64> {
        match &self.engine {
            Engine::Md(cfg) => self.run_md(cfg, threads, stop, progress),
            Engine::Mc(cfg) => self.run_mc(cfg, stop, progress),
        }
    }

    /// The energy file and the trajectory writer (with its interval), created empty.
    #[allow(clippy::type_complexity)]
    fn open_outputs(
        &self,
    ) -> Result<(std::io::BufWriter<std::fs::File>, Option<(TrajectoryWriter<std::io::BufWriter<std::fs::File>>, u64)>)>
    {
        let epath = &self.energy.0;
        let efile = std::io::BufWriter::new(std::fs::File::create(epath).map_err(|e| Error::io("write", epath, e))?);
        let traj = match &self.trajectory {
            Some((p, k)) => Some((TrajectoryWriter::streaming(p)?, *k)),
            None => None,
        };
        Ok((efile, traj))
    }

    /// The error of a run stopped at `step` with the last configuration written.
    fn interrupted(&self, step: u64) -> Error {
        Error::Interrupted {
            step: step as usize,
            dir: self.lastconf.0.clone(),
            resume: format!(
                "conf_file = {} and restart_step_counter = false in {} (and new output names, or --force)",
                self.lastconf
                    .0
                    .strip_prefix(self.source.parent().unwrap_or(Path::new("")))
                    .unwrap_or(&self.lastconf.0)
                    .display(),
                self.source.display()
            ),
        }
    }

    /// Monte Carlo: the energy file has `step U/N acc_translation acc_rotation 0` (oxDNA's
    /// columns; the last is its volume moves), then, with umbrella sampling, the order
    /// parameters and the state's weight.
    fn run_mc(&self, cfg: &McConfig, stop: Option<&AtomicBool>, mut progress: impl FnMut(u64, u64)) -> Result<u64> {
        let mut state = McState::from_configuration(&self.initial);
        let (start, total) = self.span();
        state.step = start;
        let model = &self.setup.model;
        let mut mc = Mc::new(model, cfg.clone(), &state)?.external(self.external.clone(), &state)?;
        let mut umbrella = match &self.umbrella {
            Some(u) => {
                let mut b = Umbrella::new(
                    model,
                    &state.frame,
                    u.ops.clone(),
                    Some(u.weights.clone()),
                    u.extrapolate.clone(),
                    u.equilibration_steps,
                )?;
                b.histogram.skip_zeros = u.skip_zeros;
                Some(b)
            }
            None => None,
        };
        let n = model.len() as f64;
        let (epath, every) = &self.energy;
        let io = |e| Error::io("write", epath, e);
        let (mut efile, mut traj) = self.open_outputs()?;
        // the potential written is the model's, without the external forces' (oxDNA's)
        let write_energy =
            |f: &mut std::io::BufWriter<std::fs::File>, st: &McState, mc: &Mc<'_>, u: Option<&Umbrella>| {
                let (t, r) = mc.stats().acceptance();
                let step = st.step;
                write!(f, "{step:>10} {:>10.6} {t:5.3} {r:5.3} {:5.3}", mc.interaction_potential(st) / n, 0.0)?;
                if let Some(u) = u {
                    for v in u.state() {
                        write!(f, " {v:2}")?;
                    }
                    write!(f, " {:.6}", u.weight())?;
                }
                writeln!(f)?;
                f.flush()
            };
        let write_hist = |u: &Umbrella, step: u64, last_only: bool| -> Result<()> {
            let (Some(settings), mut h) = (&self.umbrella, u.histogram.clone()) else { return Ok(()) };
            h.step = step;
            h.write(&settings.last_hist)?;
            match &settings.traj_hist {
                Some(p) if !last_only => h.append(p),
                _ => Ok(()),
            }
        };
        if let Some(p) = self.umbrella.as_ref().and_then(|u| u.traj_hist.as_ref()) {
            // traj_hist.dat starts empty, as oxDNA truncates it
            std::fs::write(p, b"").map_err(|e| Error::io("write", p, e))?;
        }
        write_energy(&mut efile, &state, &mc, umbrella.as_ref()).map_err(io)?;
        let report = (total / 200).max(1);
        for k in 1..=total {
            let bias = umbrella.as_mut().map(|b| b as &mut dyn Bias);
            if let Err(e) = mc.step(&mut state, bias) {
                state.to_configuration(mc.interaction_potential(&state)).write(&self.error_conf)?;
                return Err(e);
            }
            let u = mc.interaction_potential(&state);
            if state.step.is_multiple_of(*every) {
                write_energy(&mut efile, &state, &mc, umbrella.as_ref()).map_err(io)?;
            }
            if let Some((w, interval)) = traj.as_mut() {
                if state.step.is_multiple_of(*interval) {
                    w.write(&state.to_configuration(u))?;
                }
            }
            if state.step.is_multiple_of(self.lastconf.1) {
                state.to_configuration(u).write(&self.lastconf.0)?;
                if let Some(b) = &umbrella {
                    write_hist(b, state.step, false)?;
                }
            }
            if k % report == 0 {
                progress(k, total);
            }
            if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                state.to_configuration(u).write(&self.lastconf.0)?;
                if let Some(b) = &umbrella {
                    write_hist(b, state.step, true)?;
                }
                return Err(self.interrupted(state.step));
            }
        }
        if let Some((w, _)) = traj {
            w.finish()?;
        }
        state.to_configuration(mc.interaction_potential(&state)).write(&self.lastconf.0)?;
        if let Some(b) = &umbrella {
            write_hist(b, state.step, true)?;
        }
        let (t, r) = mc.stats().acceptance();
        tracing::info!("Monte Carlo acceptance: translations {t:.3}, rotations {r:.3}");
        Ok(state.step)
    }

    /// Molecular dynamics.
    fn run_md(
        &self,
        cfg: &MdConfig,
        threads: usize,
        stop: Option<&AtomicBool>,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> Result<u64> {
        let mut state = MdState::from_configuration(&self.initial);
        let (start, total) = self.span();
        state.step = start;
        let model = &self.setup.model;
        let mut md = Md::new(model, cfg.clone(), &state)?.threads(threads)?.external(self.external.clone(), &state);
        if self.refresh_vel {
            md.refresh_velocities(&mut state);
        }
        let n = model.len() as f64;
        let (epath, every) = &self.energy;
        let io = |e| Error::io("write", epath, e);
        let (mut efile, mut traj) = self.open_outputs()?;
        let dt = cfg.dt;
        // each energy line is written whole and flushed: a reader never sees half of one. `u` is
        // the model's potential, without the external forces' (oxDNA's), in lines and frames
        let write_energy = |f: &mut std::io::BufWriter<std::fs::File>, st: &MdState, u: f64| -> std::io::Result<()> {
            let (kt, kr) = st.kinetic();
            let k = (kt + kr) / n;
            writeln!(f, "{:>14.4} {:>10.6} {:>10.6} {:>10.6} ", st.step as f64 * dt, u / n, k, u / n + k)?;
            f.flush()
        };
        write_energy(&mut efile, &state, md.interaction_potential()).map_err(io)?;
        let report = (total / 200).max(1);
        let mut last_good = (state.clone(), md.interaction_potential());
        md.within(|md| -> Result<()> {
            for k in 1..=total {
                if let Err(e) = md.step(&mut state) {
                    last_good.0.to_configuration(last_good.1).write(&self.error_conf)?;
                    return Err(match e {
                        Error::Unstable { step, detail } => Error::Unstable {
                            step,
                            detail: format!(
                                "{detail}; the last good configuration (step {}) is in {}",
                                last_good.0.step,
                                self.error_conf.display()
                            ),
                        },
                        other => other,
                    });
                }
                let u = md.interaction_potential();
                if state.step.is_multiple_of(*every) {
                    write_energy(&mut efile, &state, u).map_err(io)?;
                }
                if let Some((w, interval)) = traj.as_mut() {
                    if state.step.is_multiple_of(*interval) {
                        w.write(&state.to_configuration(u))?;
                    }
                }
                if state.step.is_multiple_of(self.lastconf.1) {
                    state.to_configuration(u).write(&self.lastconf.0)?;
                }
                if k % report == 0 {
                    progress(k, total);
                }
                if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                    state.to_configuration(u).write(&self.lastconf.0)?;
                    return Err(self.interrupted(state.step));
                }
                last_good.0.copy_from(&state);
                last_good.1 = u;
            }
            Ok(())
        })?;
        if let Some((w, _)) = traj {
            w.finish()?;
        }
        state.to_configuration(md.interaction_potential()).write(&self.lastconf.0)?;
        Ok(state.step)
    }

    /// [`SimRun::run_with`] on the input's `threads` (default 1), without a stop request.
    pub fn run(&self, progress: impl FnMut(u64, u64) + Send) -> Result<u64> {
        self.run_with(self.threads.unwrap_or(1), None, progress)
    }

    /// Logs the keys the engine does not use (one warning), or fails with them if `strict`.
    pub fn report_unused_keys(&self, source: &Path, strict: bool) -> Result<()> {
        if self.unused_keys.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = self
            .unused_keys
            .iter()
            .map(|(k, line, best)| match best {
                Some(b) => format!("'{k}' (line {line}; did you mean '{b}'?)"),
                None => format!("'{k}' (line {line})"),
            })
            .collect();
        let msg = format!("{}: keys the engine does not use: {}", source.display(), list.join(", "));
        if strict {
            return Err(Error::invalid(
                "input keys",
                list.len(),
                format!("{msg}; remove them, or run without --strict to only warn"),
            ));
        }
        tracing::warn!("{msg}");
        Ok(())
    }
}

/// The MD settings of an input.
fn md_config(input: &InputFile, kt: f64, steps: u64, seed: u64) -> Result<MdConfig> {
    let src = input.source.display();
    let dt = input.f64("dt")?;
    let thermostat = match input.get("thermostat").unwrap_or("no") {
        "no" => Thermostat::None,
        "john" | "brownian" => {
            let newtonian_steps = input.u64("newtonian_steps")?;
            let diff_coeff = match input.opt_f64("pt")? {
                // pt given directly: the diffusion coefficient it implies
                Some(pt) => kt * newtonian_steps as f64 * dt * (1.0 / pt - 0.5),
                None => input.f64("diff_coeff")?,
            };
            Thermostat::John { newtonian_steps, diff_coeff }
        }
        "langevin" => {
            let (gamma_trans, gamma_rot) =
                Thermostat::langevin_frictions(kt, input.opt_f64("diff_coeff")?.unwrap_or(MdConfig::DIFF_COEFF));
            Thermostat::Langevin {
                gamma_trans: input.opt_f64("gamma_trans")?.unwrap_or(gamma_trans),
                gamma_rot: input.opt_f64("gamma_rot")?.unwrap_or(gamma_rot),
            }
        }
        other => {
            return Err(Error::invalid(
                "thermostat",
                other,
                format!("{src}: unknown thermostat; valid thermostats are {THERMOSTATS}"),
            ))
        }
    };
    let config = MdConfig {
        dt,
        steps,
        thermostat,
        verlet_skin: input.opt_f64("verlet_skin")?.unwrap_or(MdConfig::VERLET_SKIN),
        seed,
    };
    config.validate(kt)?;
    Ok(config)
}

/// The Monte Carlo settings of an input (`sim_type` MC or VMMC) for `n` nucleotides, as oxDNA
/// reads them: `delta_translation` and `delta_rotation` required, `maxclust` 0 or absent = every
/// nucleotide, `check_energy_every` 10 steps.
fn mc_config(input: &InputFile, sim_type: &str, n: usize, steps: u64, seed: u64) -> Result<McConfig> {
    let src = input.source.display();
    let refuse = |key: &str, value: &str, hint: &str| Error::invalid(key, value, format!("{src}: {hint}"));
    match input.get("ensemble") {
        Some(e) if e.eq_ignore_ascii_case("nvt") => {}
        Some(e) => return Err(refuse("ensemble", e, "oxgrad's Monte Carlo samples the canonical ensemble (ensemble = NVT); NPT volume moves are not implemented")),
        None if sim_type == "MC" => return Err(refuse("ensemble", "(missing)", "sim_type = MC needs ensemble = NVT, as in oxDNA")),
        None => {}
    }
    if input.bool_or("adjust_moves", false)? {
        return Err(refuse("adjust_moves", "true", "oxgrad keeps delta_translation and delta_rotation fixed (adjusting them during a run breaks detailed balance); set adjust_moves = false and choose the deltas"));
    }
    if input.bool_or("preserve_topology", false)? {
        return Err(refuse(
            "preserve_topology",
            "true",
            "not implemented: a FENE bond already stops any move that would stretch it past its limit; remove the key",
        ));
    }
    let moves = if sim_type == "VMMC" {
        let maxclust = match input.opt_u64("maxclust")? {
            None | Some(0) => n,
            Some(m) => (m as usize).min(n),
        };
        McMoves::Vmmc { maxclust }
    } else {
        McMoves::Single
    };
    let config = McConfig {
        moves,
        steps,
        delta_translation: input.f64("delta_translation")?,
        delta_rotation: input.f64("delta_rotation")?,
        small_system: input.bool_or("small_system", false)?,
        check_energy_every: input.opt_u64("check_energy_every")?.unwrap_or(10),
        seed,
    };
    config.validate()?;
    Ok(config)
}

/// The umbrella-sampling settings of an input for `n` nucleotides (with the model's
/// parameters `params`, as the simulation has them).
fn umbrella_settings(
    input: &InputFile,
    n: usize,
    params: Option<&crate::params::ParamSet>,
) -> Result<UmbrellaSettings> {
    let ops = OrderParameters::read(input.path("op_file")?, n)?;
    let weights = Weights::from_input(input, &ops)?;
    let traj_hist = if input.bool_or("print_traj_hist_file", true)? {
        Some(input.dir().join(input.get("traj_hist_file").unwrap_or("traj_hist.dat")))
    } else {
        None
    };
    Ok(UmbrellaSettings {
        ops,
        weights,
        extrapolate: extrapolation_temperatures(input)?
            .into_iter()
            .map(|kt| {
                let mut at = input.clone();
                at.set("T", kt);
                Ok((kt, ModelSetup::from_input_with(&at, params)?.model))
            })
            .collect::<Result<Vec<_>>>()?,
        last_hist: input.dir().join(input.get("last_hist_file").unwrap_or("last_hist.dat")),
        traj_hist,
        skip_zeros: input.bool_or("skip_hist_zeros", false)?,
        equilibration_steps: input.opt_u64("equilibration_steps")?.unwrap_or(0),
    })
}

/// The top-level keys of `input` that are not [`KNOWN`] (blocks such as `data_output_1` too),
/// with their line and closest known key; duplicated keys are warned about here.
fn unused_keys(input: &InputFile, engine: &[&str]) -> Vec<(String, usize, Option<String>)> {
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for (key, _, line) in input.root.entries() {
        if let Some(first) = seen.insert(key, line) {
            tracing::warn!(
                "{}: '{key}' is given twice (lines {first} and {line}); the last value counts, as in oxDNA",
                input.source.display()
            );
        }
        if !KNOWN.contains(&key)
            && !engine.contains(&key)
            && !out.iter().any(|(k, _, _): &(String, usize, Option<String>)| k == key)
        {
            let best = crate::params::closest(key, KNOWN.iter().chain(engine).copied()).into_iter().next();
            out.push((key.to_string(), line, best));
        }
    }
    out
}
