//! Running MD from an oxDNA input file, as `oxDNA input` would — and never silently wrong.
//!
//! Keys read: `sim_type` (MD), `backend` (CPU), `backend_precision`, `interaction_type`, `T`,
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
//!   spelling ([`MdRun::unused_keys`]; `oxgrad simulate --strict` makes that an error); a key
//!   given twice warns (the last value counts, as in oxDNA); settings oxgrad does not implement
//!   (`sim_type = VMMC`, `backend = CUDA`, other thermostats, JSON force files) are refused by
//!   name.
//! - A backbone bond stretched to FENE's divergence, or any non-finite energy, stops the run with
//!   an error naming the step and the nucleotides, and the last good configuration is written to
//!   `error_conf.dat` beside the input (oxDNA's convention). `max_backbone_force` lets FENE
//!   continue with a bounded force instead, as in oxDNA.
//! - Outputs are oxDNA's: each trajectory frame written whole, energy lines (`time U/N K/N
//!   Etot/N`) flushed as written, and the last configuration refreshed, whole, at every
//!   `print_conf_interval`. A stop request (SIGINT, SIGTERM) ends the run after the current step
//!   with the last configuration written.
//! - With `restart_step_counter = false` the run continues the configuration's step counter up
//!   to `steps` (oxDNA's meaning of `steps`), so a run continues from its `last_conf`.

use super::external::{self, ExternalForce};
use super::md::{Md, MdConfig, MdState, Thermostat};
use crate::energy::ModelSetup;
use crate::error::{Error, Result};
use crate::io::{Configuration, InputFile, TrajectoryWriter};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Everything an MD input file asks for.
#[derive(Debug, Clone)]
pub struct MdRun {
    /// Model and topology.
    pub setup: ModelSetup,
    /// Integrator settings.
    pub config: MdConfig,
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

/// Every key the MD engine reads (and `oxgrad energy`'s analysis keys, which MD inputs often
/// carry harmlessly).
const KNOWN: [&str; 46] = [
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
    "dt",
    "steps",
    "thermostat",
    "newtonian_steps",
    "diff_coeff",
    "pt",
    "gamma_trans",
    "gamma_rot",
    "verlet_skin",
    "seed",
    "topology",
    "conf_file",
    "trajectory_file",
    "lastconf_file",
    "energy_file",
    "print_conf_interval",
    "print_energy_every",
    "refresh_vel",
    "restart_step_counter",
    "time_scale",
    "external_forces",
    "external_forces_file",
    "external_forces_as_JSON",
    "max_backbone_force",
    "max_backbone_force_far",
    "threads",
    // accepted and without effect on a native run: oxDNA's console output and bookkeeping
    "no_stdout_energy",
    "print_conf_ppc",
    "show_overwrite_warnings",
    "log_file",
    "reset_com_momentum",
    "reset_initial_com_momentum",
    "fix_diffusion",
];

impl MdRun {
    /// Reads an MD input file and everything it names.
    pub fn from_input(input: &InputFile) -> Result<MdRun> {
        MdRun::from_input_with(input, None)
    }

    /// As [`MdRun::from_input`], with model parameters from `params` (fitted parameters); the
    /// input still sets temperature and salt.
    pub fn from_input_with(input: &InputFile, params: Option<&crate::params::ParamSet>) -> Result<MdRun> {
        let src = input.source.display().to_string();
        let refuse = |key: &str, value: &str, hint: &str| Error::invalid(key, value, format!("{src}: {hint}"));
        let sim_type = input.get("sim_type").unwrap_or("MD");
        if sim_type != "MD" {
            return Err(refuse(
                "sim_type",
                sim_type,
                "oxgrad's native engine runs sim_type = MD (no Monte Carlo, VMMC or forward-flux sampling)",
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
        if let Some(fmax) = input.opt_f64("max_backbone_force")?.filter(|_| dna) {
            let finf = input.opt_f64("max_backbone_force_far")?.unwrap_or(0.04);
            let p = setup.model.params().with_params([("fmax", fmax), ("finf", finf)])?;
            setup.model = setup.model.with_params(p)?.fene_limit(false);
        }
        let kt = setup.model.params().value("kt");
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
        let config = MdConfig {
            dt,
            steps,
            thermostat,
            verlet_skin: input.opt_f64("verlet_skin")?.unwrap_or(MdConfig::VERLET_SKIN),
            seed,
        };
        config.validate(kt)?;
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
        let conf_every = interval("print_conf_interval", config.steps)?;
        let trajectory = match input.get("trajectory_file") {
            Some(_) => Some((input.path("trajectory_file")?, conf_every)),
            None => None,
        };
        let lastconf = (input.dir().join(input.get("lastconf_file").unwrap_or("last_conf.dat")), conf_every);
        let energy_every = interval("print_energy_every", conf_every)?;
        let energy = (input.dir().join(input.get("energy_file").unwrap_or("energy.dat")), energy_every);
        let run = MdRun {
            setup,
            config,
            initial,
            refresh_vel: input.bool_or("refresh_vel", false)?,
            restart_step_counter: input.bool_or("restart_step_counter", false)?,
            trajectory,
            lastconf,
            energy,
            external,
            threads,
            inputs,
            error_conf: input.dir().join("error_conf.dat"),
            unused_keys: unused_keys(input),
            source: input.source.clone(),
        };
        if !run.restart_step_counter && run.initial.step >= run.config.steps {
            return Err(Error::invalid(
                "steps",
                run.config.steps,
                format!(
                    "{src}: the configuration is at step {} and restart_step_counter = false continues it up to steps = {}: nothing to do; raise steps or set restart_step_counter = true",
                    run.initial.step, run.config.steps
                ),
            ));
        }
        Ok(run)
    }

    /// The files a run may write: trajectory (if any), energy file, last configuration, and the
    /// last good configuration if it blows up (`error_conf.dat`).
    #[must_use]
    pub fn outputs(&self) -> Vec<&Path> {
        let mut out: Vec<&Path> = self.trajectory.iter().map(|t| t.0.as_path()).collect();
        out.push(&self.energy.0);
        out.push(&self.lastconf.0);
        out.push(&self.error_conf);
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
                    "two of trajectory_file, energy_file, lastconf_file and error_conf.dat (written beside the input on a blow-up) name the same file: give each its own",
                ));
            }
        }
        io.check_all(outs)
    }

    /// The step the run starts from and the number of steps it makes.
    #[must_use]
    pub fn span(&self) -> (u64, u64) {
        if self.restart_step_counter {
            (0, self.config.steps)
        } else {
            (self.initial.step, self.config.steps - self.initial.step)
        }
    }

    /// Runs the simulation on `threads` threads, writing the trajectory, energy file and last
    /// configuration; `progress(steps_done, total)` is called now and then; `stop` (set by a
    /// signal handler) ends the run after the current step. Returns the final state.
    pub fn run_with(
        &self,
        threads: usize,
        stop: Option<&AtomicBool>,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> Result<MdState> {
        let mut state = MdState::from_configuration(&self.initial);
        let (start, total) = self.span();
        state.step = start;
        let model = &self.setup.model;
        let mut md =
            Md::new(model, self.config.clone(), &state)?.threads(threads)?.external(self.external.clone(), &state);
        if self.refresh_vel {
            md.refresh_velocities(&mut state);
        }
        let n = model.len() as f64;
        let (epath, every) = &self.energy;
        let io = |p: &PathBuf| {
            let p = p.clone();
            move |e| Error::io("write", &p, e)
        };
        let mut efile = std::io::BufWriter::new(std::fs::File::create(epath).map_err(io(epath))?);
        let mut traj = match &self.trajectory {
            Some((p, k)) => Some((TrajectoryWriter::streaming(p)?, *k)),
            None => None,
        };
        let dt = self.config.dt;
        // each energy line is written whole and flushed: a reader never sees half of one
        let write_energy = |f: &mut std::io::BufWriter<std::fs::File>, st: &MdState, u: f64| -> std::io::Result<()> {
            let (kt, kr) = st.kinetic();
            let k = (kt + kr) / n;
            writeln!(f, "{:>14.4} {:>10.6} {:>10.6} {:>10.6} ", st.step as f64 * dt, u / n, k, u / n + k)?;
            f.flush()
        };
        write_energy(&mut efile, &state, md.potential()).map_err(io(epath))?;
        let report = (total / 200).max(1);
        let mut last_good = (state.clone(), md.potential());
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
                let u = md.potential();
                if state.step % every == 0 {
                    write_energy(&mut efile, &state, u).map_err(io(epath))?;
                }
                if let Some((w, interval)) = traj.as_mut() {
                    if state.step % *interval == 0 {
                        w.write(&state.to_configuration(u))?;
                    }
                }
                if state.step % self.lastconf.1 == 0 {
                    state.to_configuration(u).write(&self.lastconf.0)?;
                }
                if k % report == 0 {
                    progress(k, total);
                }
                if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                    state.to_configuration(u).write(&self.lastconf.0)?;
                    return Err(Error::Interrupted {
                        step: state.step as usize,
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
                    });
                }
                last_good.0.copy_from(&state);
                last_good.1 = u;
            }
            Ok(())
        })?;
        if let Some((w, _)) = traj {
            w.finish()?;
        }
        state.to_configuration(md.potential()).write(&self.lastconf.0)?;
        Ok(state)
    }

    /// [`MdRun::run_with`] on the input's `threads` (default 1), without a stop request.
    pub fn run(&self, progress: impl FnMut(u64, u64) + Send) -> Result<MdState> {
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

/// The top-level keys of `input` that are not [`KNOWN`] (blocks such as `data_output_1` too),
/// with their line and closest known key; duplicated keys are warned about here.
fn unused_keys(input: &InputFile) -> Vec<(String, usize, Option<String>)> {
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for (key, _, line) in input.root.entries() {
        if let Some(first) = seen.insert(key, line) {
            tracing::warn!(
                "{}: '{key}' is given twice (lines {first} and {line}); the last value counts, as in oxDNA",
                input.source.display()
            );
        }
        if !KNOWN.contains(&key) && !out.iter().any(|(k, _, _): &(String, usize, Option<String>)| k == key) {
            let best = crate::params::closest(key, KNOWN.iter().copied()).into_iter().next();
            out.push((key.to_string(), line, best));
        }
    }
    out
}
