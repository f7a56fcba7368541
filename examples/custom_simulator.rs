//! A custom simulator that wraps an external program: the optimizer hands it parameters, it
//! writes the program's input files into a fresh directory, runs the program as a child process
//! (with the task's CPU environment, `TaskContext::command`) and reads the trajectory back.
//!
//! The external program here is `oxgrad simulate` itself, given the parameters as a TOML file;
//! wrapping oxDNA, or any engine that writes oxDNA trajectories, takes the same few lines. A
//! failing run becomes an [`oxgrad::Error::External`] naming the program, its exit status and
//! the end of its output; the scheduler retries it as the simulator's hints say.
//!
//! DiffTRe then trains the stacking parameters so that the duplex's rise moves towards 0.345 nm.
//!
//! ```sh
//! cargo build --release && cargo run --release --example custom_simulator [-- path/to/oxgrad]
//! ```
//!
//! With `OXGRAD_EXAMPLE_QUICK=1` each simulation is 10 times shorter.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::io::{InputFile, TrajectoryReader};
use oxgrad::objective::{DiffTre, Loss};
use oxgrad::observable::{BasePairs, Observable, Rise};
use oxgrad::optimize::{
    Aggregate, Observation, Optimization, Params, SchedulerHints, SimOutput, Simulator, State, TaskContext, UpdateRule,
};
use oxgrad::params::{ParamSelection, ParamSet, Term};
use oxgrad::system::{Topology, TopologyFormat};
use oxgrad::trajectory::Trajectory;
use oxgrad::Error;
use std::path::PathBuf;
use std::sync::Arc;

/// `OXGRAD_EXAMPLE_QUICK=1` runs everything short (`tests/examples.rs` runs every example so).
fn quick() -> bool {
    std::env::var("OXGRAD_EXAMPLE_QUICK").is_ok_and(|v| v == "1")
}

/// Runs `program simulate input --params params.toml` in a directory of its own per run.
struct ExternalMd {
    name: String,
    program: PathBuf,
    topology: Topology,
    start: oxgrad::io::Configuration,
    base: ParamSet,
    steps: u64,
    every: u64,
    hints: SchedulerHints,
}

impl Simulator for ExternalMd {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "ExternalMd"
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn run(&self, ctx: &TaskContext, params: &Params, state: &State) -> oxgrad::Result<SimOutput> {
        let dir = std::env::temp_dir().join(format!(
            "oxgrad-{}-{}-step{}-try{}",
            self.name,
            std::process::id(),
            ctx.step,
            ctx.attempt
        ));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        // the program's inputs: topology, start, parameters and an oxDNA input file
        let set = self.base.with_params(params.iter().map(|(k, v)| (k.as_str(), *v)))?;
        self.topology.write(dir.join("init.top"), TopologyFormat::Classic)?;
        self.start.write(dir.join("init.dat"))?;
        set.write(dir.join("params.toml"))?;
        let mut input = InputFile::new(dir.join("input"));
        let every = self.every.to_string();
        for (key, value) in [
            ("sim_type", "MD"),
            ("interaction_type", "DNA"),
            ("T", "300K"),
            ("dt", "0.005"),
            ("steps", &self.steps.to_string()),
            ("thermostat", "john"),
            ("newtonian_steps", "103"),
            ("diff_coeff", "2.5"),
            ("verlet_skin", "0.05"),
            ("seed", &(ctx.step as u64 + 11).to_string()),
            ("topology", "init.top"),
            ("conf_file", "init.dat"),
            ("trajectory_file", "trajectory.dat"),
            ("energy_file", "energy.dat"),
            ("lastconf_file", "last_conf.dat"),
            ("print_conf_interval", &every),
            ("print_energy_every", &every),
            ("refresh_vel", "true"),
        ] {
            input.set(key, value);
        }
        input.write(dir.join("input"))?;
        // run it with the task's environment (RAYON_NUM_THREADS / OMP_NUM_THREADS from the hints)
        let program = self.program.display().to_string();
        let out = ctx
            .command(&self.program)
            .args(["simulate", "input", "--params", "params.toml", "--force"])
            .current_dir(&dir)
            .output()
            .map_err(|e| Error::External { program: program.clone(), detail: format!("could not be started: {e}") })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            let detail = format!(
                "{} in {}: {}",
                out.status,
                dir.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
            return Err(Error::External { program, detail });
        }
        // the states it sampled, each at the simulation's temperature
        let frames = TrajectoryReader::open(dir.join("trajectory.dat"), self.topology.len())?
            .collect::<oxgrad::Result<Vec<_>>>()?;
        let kt = vec![set.value("kt"); frames.len()];
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
        Ok(SimOutput {
            observables: vec![Observation::Trajectory(Trajectory::new(frames, Some(kt))?)],
            state: state.clone(),
        })
    }
}

fn main() -> oxgrad::Result<()> {
    let program = std::env::args().nth(1).map_or_else(|| PathBuf::from("target/release/oxgrad"), PathBuf::from);
    if !program.exists() {
        return Err(Error::External {
            program: program.display().to_string(),
            detail: "does not exist: run `cargo build --release` first or pass the program's path".into(),
        });
    }
    // the runs happen in directories of their own: make the path absolute
    let program = std::fs::canonicalize(&program).map_err(|e| Error::io("resolve", &program, e))?;
    let (topology, start) = helix(&parse_sequence("ACGTTGCAAGCT")?, Shape::Duplex, None, TopologyFormat::Classic)?;
    let mut base = ParamSet::dna1_defaults();
    base.set("kt", oxgrad::units::kt_from_str("300K")?)?;
    let sim = ExternalMd {
        name: "external".into(),
        program,
        topology: topology.clone(),
        start,
        base: base.clone(),
        steps: if quick() { 6_000 } else { 60_000 },
        every: 300,
        hints: SchedulerHints { max_retries: Some(1), ..SchedulerHints::default() },
    };
    let rise: Arc<dyn Observable> = Arc::new(Rise::new(BasePairs::duplex(&topology, 2)?)?);
    let objective = DiffTre::new(
        "rise",
        sim.exposes(),
        EnergyModel::new(&topology, base.clone())?,
        vec![rise],
        Loss::squared(0.345),
    )?;
    let trained = ParamSelection::Terms(vec![Term::Stacking]).resolve(&base)?;
    let theta: Params = trained.iter().map(|n| (n.clone(), base.value(n))).collect();
    let mut report = |out: &oxgrad::optimize::StepOutput, step: usize| {
        let s = out.scalars();
        println!("step {step}: rise {:.4} ± {:.4} nm, n_eff {:.2}", s["rise.rise"], s["rise.rise_se"], s["rise.neff"]);
        (None, true)
    };
    let result = Optimization::new(UpdateRule::adam(2e-3)?)
        .simulator(sim)
        .objective(objective)
        .aggregate(Aggregate::Passthrough)
        .run(theta, 4, Some(&mut report))?;
    println!("eps_stack_base: {:.4} → {:.4}", base.value("eps_stack_base"), result.params["eps_stack_base"]);
    Ok(())
}
