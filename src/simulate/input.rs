//! Running MD from an oxDNA input file, as `oxDNA input` would.
//!
//! Keys: `sim_type` (MD), `dt`, `steps`, `T`, `thermostat` (`no`, `john`/`brownian`,
//! `langevin`), `newtonian_steps`, `diff_coeff`, `gamma_trans`, `gamma_rot`, `verlet_skin`,
//! `seed`, `interaction_type`, `salt_concentration`, `use_average_seq`, `seq_dep_file`,
//! `topology`, `conf_file`, `trajectory_file`, `lastconf_file`, `energy_file`,
//! `print_conf_interval`, `print_energy_every`, `refresh_vel`, `restart_step_counter`. Paths are
//! relative to the input file's directory. Outputs are oxDNA's: a trajectory of configurations,
//! the last configuration, and an energy file with `time U/N K/N Etot/N` per line.

use super::md::{Md, MdConfig, MdState, Thermostat};
use crate::energy::ModelSetup;
use crate::error::{Error, Result};
use crate::io::{Configuration, InputFile, TrajectoryWriter};
use std::io::Write;
use std::path::PathBuf;

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
    /// Where to write the last configuration.
    pub lastconf: PathBuf,
    /// Where to write energies, and how often.
    pub energy: (PathBuf, u64),
    /// The files the input names as inputs (topology, configuration, sequence-dependent file).
    pub inputs: Vec<PathBuf>,
}

/// The thermostats oxgrad knows, as the error lists them.
const THERMOSTATS: &str = "no, john (or brownian), langevin";

impl MdRun {
    /// Reads an MD input file and everything it names.
    pub fn from_input(input: &InputFile) -> Result<MdRun> {
        MdRun::from_input_with(input, None)
    }

    /// As [`MdRun::from_input`], with model parameters from `params` (fitted parameters); the
    /// input still sets temperature and salt.
    pub fn from_input_with(input: &InputFile, params: Option<&crate::params::ParamSet>) -> Result<MdRun> {
        let sim_type = input.get("sim_type").unwrap_or("MD");
        if sim_type != "MD" {
            return Err(Error::invalid(
                "sim_type",
                sim_type,
                format!("{}: oxgrad's native engine runs sim_type = MD", input.source.display()),
            ));
        }
        if let Some(ts) = input.get("time_scale").filter(|t| *t != "linear") {
            return Err(Error::invalid(
                "time_scale",
                ts,
                format!(
                    "{}: oxgrad writes configurations at linear intervals (time_scale = linear)",
                    input.source.display()
                ),
            ));
        }
        let setup = ModelSetup::from_input_with(input, params)?;
        let kt = setup.model.params().value("kt");
        let dt = input.f64("dt")?;
        let thermostat = match input.get("thermostat").unwrap_or("no") {
            "no" => Thermostat::None,
            "john" | "brownian" => Thermostat::John {
                newtonian_steps: input.u64("newtonian_steps")?,
                diff_coeff: input.f64("diff_coeff")?,
            },
            "langevin" => {
                let d = input.opt_f64("diff_coeff")?.unwrap_or(2.5);
                Thermostat::Langevin {
                    gamma_trans: input.opt_f64("gamma_trans")?.unwrap_or(kt / d),
                    gamma_rot: input.opt_f64("gamma_rot")?.unwrap_or(kt / (3.0 * d)),
                }
            }
            other => {
                return Err(Error::invalid(
                    "thermostat",
                    other,
                    format!("{}: unknown thermostat; valid thermostats are {THERMOSTATS}", input.source.display()),
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
        let config = MdConfig {
            dt,
            steps: input.u64("steps")?,
            thermostat,
            verlet_skin: input.opt_f64("verlet_skin")?.unwrap_or(0.05),
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
        let interval = |k: &str, default: u64| -> Result<u64> { Ok(input.opt_u64(k)?.unwrap_or(default).max(1)) };
        let trajectory = match input.get("trajectory_file") {
            Some(_) => Some((input.path("trajectory_file")?, interval("print_conf_interval", config.steps)?)),
            None => None,
        };
        let lastconf = input.dir().join(input.get("lastconf_file").unwrap_or("last_conf.dat"));
        let energy_every = interval("print_energy_every", trajectory.as_ref().map_or(config.steps, |t| t.1))?;
        let energy = (input.dir().join(input.get("energy_file").unwrap_or("energy.dat")), energy_every);
        Ok(MdRun {
            setup,
            config,
            initial,
            refresh_vel: input.bool_or("refresh_vel", false)?,
            restart_step_counter: input.bool_or("restart_step_counter", false)?,
            trajectory,
            lastconf,
            energy,
            inputs,
        })
    }

    /// The files a run writes: trajectory (if any), energy file, last configuration.
    #[must_use]
    pub fn outputs(&self) -> Vec<&std::path::Path> {
        let mut out: Vec<&std::path::Path> = self.trajectory.iter().map(|t| t.0.as_path()).collect();
        out.push(&self.energy.0);
        out.push(&self.lastconf);
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
                    "two of trajectory_file, energy_file and lastconf_file name the same file: give each its own",
                ));
            }
        }
        io.check_all(outs)
    }

    /// Runs the simulation, writing the trajectory, energy file and last configuration;
    /// `progress(step_done, total)` is called now and then. Returns the final state.
    pub fn run(&self, mut progress: impl FnMut(u64, u64)) -> Result<MdState> {
        let mut state = MdState::from_configuration(&self.initial);
        if self.restart_step_counter {
            state.step = 0;
        }
        let model = &self.setup.model;
        let mut md = Md::new(model, self.config.clone(), &state)?;
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
        let start = state.step;
        let write_energy = |f: &mut std::io::BufWriter<std::fs::File>, st: &MdState, u: f64| -> std::io::Result<()> {
            let (kt, kr) = st.kinetic();
            let k = (kt + kr) / n;
            writeln!(f, "{:>14.4} {:>10.6} {:>10.6} {:>10.6} ", st.step as f64 * self.config.dt, u / n, k, u / n + k)
        };
        write_energy(&mut efile, &state, md.potential()).map_err(io(epath))?;
        let report = (self.config.steps / 200).max(1);
        for k in 1..=self.config.steps {
            md.step(&mut state);
            let u = md.potential();
            if !u.is_finite() {
                return Err(Error::invalid(
                    "simulation",
                    format!("step {}", state.step),
                    format!("the potential energy became {u}: reduce dt or start from a relaxed configuration"),
                ));
            }
            let done = state.step - start;
            if done % every == 0 {
                write_energy(&mut efile, &state, u).map_err(io(epath))?;
            }
            if let Some((w, interval)) = traj.as_mut() {
                if done % *interval == 0 {
                    w.write(&state.to_configuration(u))?;
                }
            }
            if k % report == 0 {
                progress(k, self.config.steps);
            }
        }
        efile.flush().map_err(io(epath))?;
        if let Some((w, _)) = traj {
            w.finish()?;
        }
        state.to_configuration(md.potential()).write(&self.lastconf)?;
        Ok(state)
    }
}
