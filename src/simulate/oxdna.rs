//! `OxdnaSimulator`: an installed oxDNA as a simulator of the optimizer.
//!
//! It starts from an input directory (oxDNA's `input`, the topology, the configuration and any file
//! the input names). Each run, in order:
//!
//! 1. copies the directory to a fresh one of its own, `<runs>/<name>/step-<k>-attempt-<a>/`;
//! 2. applies the input overrides (steps, `T`, print intervals, …) and a `seed` derived from the
//!    simulator's seed, its name and the step (so copies never share a random stream);
//! 3. brings in the parameters: a binary computes with the constants it was built with, so a
//!    parameter that differs from them is refused, naming it — except the sequence-dependent
//!    strengths (`ss_stack_weights_X_Y`, `ss_hb_weights_*`, `eps_stack_kt_coeff` of a
//!    sequence-dependent model), which go through a `seq_dep_file` written for the run;
//! 4. removes stale trajectory and energy files (oxDNA appends to them), runs `PROGRAM [ARGS] input`
//!    there with the task's environment (`OMP_NUM_THREADS`, `CUDA_VISIBLE_DEVICES` from the hints),
//!    stdout and stderr in `oxdna.out.log` / `oxdna.err.log`;
//! 5. reads the trajectory back, every state at the input's temperature.
//!
//! A program that fails, or a trajectory that is missing, empty or truncated, is an error with the
//! program, its exit status, the run directory and the last lines of its logs; the failed run's
//! directory is kept for inspection and nothing of it is reused. Successful runs are removed unless
//! [`OxdnaSimulator::keep_runs`] is set.
//!
//! Anything with oxDNA's command-line contract works: `oxgrad simulate input` itself
//! (`.args(["simulate"])`), oxDNA's CUDA build on a GPU node, a wrapper script. Given an oxDNA
//! source tree instead ([`OxdnaSimulator::from_source`]), each run uses a build with its own
//! constants ([`super::oxdna_build`]), so every parameter with an oxDNA macro can be trained.

use super::native::derive_seed;
use super::oxdna_build::OxdnaBuild;
use crate::component::{Observation, Params, SchedulerHints, SimOutput, Simulator, State, TaskContext};
use crate::error::{Error, Result};
use crate::io::{InputFile, TrajectoryReader};
use crate::params::exchange::oxdna_macros;
use crate::params::ParamSet;
use crate::system::Topology;
use crate::trajectory::Trajectory;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file a sequence-dependent run's strengths are written to, in the run directory.
pub const SEQ_DEP_FILE: &str = "oxgrad_seq_dep.txt";

/// Lines of each log quoted in an error.
const LOG_TAIL: usize = 20;

/// An oxDNA program run on an input directory.
#[derive(Debug, Clone)]
pub struct OxdnaSimulator {
    name: String,
    input_dir: PathBuf,
    program: PathBuf,
    args: Vec<String>,
    overrides: BTreeMap<String, String>,
    seed: u64,
    base: ParamSet,
    runs_dir: PathBuf,
    keep_runs: bool,
    hints: SchedulerHints,
    nucleotides: usize,
    kt: f64,
    sequence_dependent: bool,
    cuda: bool,
    build: Option<OxdnaBuild>,
}

impl OxdnaSimulator {
    /// A simulator named `name` that runs `program` on a copy of `input_dir`. `base` are the
    /// parameters the program computes with (oxDNA's defaults for a stock build); the input's `T`
    /// sets their `kt`. Runs go to a directory under the system's temporary directory unless
    /// [`OxdnaSimulator::runs_dir`] says otherwise.
    pub fn new(
        name: impl Into<String>,
        input_dir: impl Into<PathBuf>,
        program: impl Into<PathBuf>,
        base: ParamSet,
    ) -> Result<Self> {
        let program = program.into();
        if !program.is_file() {
            return Err(Error::External {
                program: program.display().to_string(),
                detail: "not found: give the path of an oxDNA binary (or of `oxgrad`, with args [\"simulate\"])".into(),
            });
        }
        OxdnaSimulator::with_program(name.into(), input_dir.into(), program, None, base)
    }

    /// The simulator of `new` and `from_source`, once the program is known.
    fn with_program(
        name: String,
        input_dir: PathBuf,
        program: PathBuf,
        build: Option<OxdnaBuild>,
        base: ParamSet,
    ) -> Result<Self> {
        if let Some(term) = base.custom_terms().first() {
            return Err(Error::invalid(
                "base parameters",
                format!("[custom.{term}]"),
                "oxDNA cannot simulate users' energy terms, so its trajectories would not sample the model being trained: simulate a model with such terms natively (NativeSimulator::with_model)",
            ));
        }
        let input_path = input_dir.join("input");
        if !input_path.is_file() {
            return Err(Error::io(
                "find the oxDNA input file",
                &input_path,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "an oxDNA simulator's input directory holds a file named `input`",
                ),
            ));
        }
        // each run starts in its own copy of the input directory: a relative program path means
        // relative to where it was given (the caller's directory), so it is made absolute here; a
        // bare name (`oxDNA`) is looked up on PATH
        let program = if program.is_absolute() || program.components().count() < 2 {
            program
        } else {
            std::path::absolute(&program).map_err(|e| Error::io("resolve the program path", &program, e))?
        };
        let mut sim = OxdnaSimulator {
            runs_dir: std::env::temp_dir().join(format!("oxgrad-sim-{}", std::process::id())),
            name,
            input_dir,
            program,
            args: Vec::new(),
            overrides: BTreeMap::new(),
            seed: 1,
            base,
            keep_runs: false,
            hints: SchedulerHints::default(),
            nucleotides: 0,
            kt: 0.0,
            sequence_dependent: false,
            cuda: false,
            build,
        };
        sim.read_input()?;
        Ok(sim)
    }

    /// A simulator that builds oxDNA from source with the parameters of each run (cached: a build
    /// per distinct set of constants, shared by every simulator with the same `build`). Every
    /// parameter with an oxDNA macro can then be trained; `base` are the values of the untrained
    /// ones.
    pub fn from_source(
        name: impl Into<String>,
        input_dir: impl Into<PathBuf>,
        build: OxdnaBuild,
        base: ParamSet,
    ) -> Result<Self> {
        // named in errors; each run's binary comes from the build
        let program = build.source().join("<built from source>");
        OxdnaSimulator::with_program(name.into(), input_dir.into(), program, Some(build), base)
    }

    /// Arguments before the input file's name (`["simulate"]` for `oxgrad`).
    #[must_use]
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Input keys set in every run's copy, e.g. `steps`, `T`, `print_conf_interval`. `seed` is
    /// the simulator's own ([`OxdnaSimulator::seed`]); `seq_dep_file` is written by the simulator
    /// for a sequence-dependent model.
    pub fn overrides(mut self, overrides: BTreeMap<String, String>) -> Result<Self> {
        for key in ["seed", "seq_dep_file"] {
            if overrides.contains_key(key) {
                return Err(Error::invalid(
                    format!("input override {key}"),
                    &overrides[key],
                    match key {
                        "seed" => "each run's seed is derived from the simulator's seed, its name and the step: set the simulator's seed instead",
                        _ => "the simulator writes seq_dep_file from the trained parameters: remove this override",
                    },
                ));
            }
        }
        self.overrides = overrides;
        self.read_input()?;
        Ok(self)
    }

    /// Master seed; each run derives its own from it, the name and the step (default 1).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Where run directories go (`<dir>/<name>/step-<k>-attempt-<a>/`).
    #[must_use]
    pub fn runs_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.runs_dir = dir.into();
        self
    }

    /// Keep the directories of successful runs too (failed ones are always kept).
    #[must_use]
    pub fn keep_runs(mut self, keep: bool) -> Self {
        self.keep_runs = keep;
        self
    }

    /// With scheduler hints (`num_gpus` reaches the program as `CUDA_VISIBLE_DEVICES`).
    #[must_use]
    pub fn hints(mut self, hints: SchedulerHints) -> Self {
        self.hints = hints;
        self
    }

    /// The same simulator under another name (for [`crate::component::create_n`]).
    #[must_use]
    pub fn renamed(&self, name: impl Into<String>) -> Self {
        OxdnaSimulator { name: name.into(), ..self.clone() }
    }

    /// The parameters the program computes with.
    #[must_use]
    pub fn base(&self) -> &ParamSet {
        &self.base
    }

    /// The temperature of its runs (the input's `T`), simulation units.
    #[must_use]
    pub fn temperature(&self) -> f64 {
        self.kt
    }

    /// The input with the overrides applied (what every run starts from).
    pub fn input(&self) -> Result<InputFile> {
        let mut input = InputFile::read(self.input_dir.join("input"))?;
        for (k, v) in &self.overrides {
            input.set(k, v);
        }
        Ok(input)
    }

    /// Checks the input and reads what a run needs from it: the topology's size, `T`, whether the
    /// model is sequence-dependent.
    fn read_input(&mut self) -> Result<()> {
        let input = self.input()?;
        let source = input.source.display().to_string();
        for key in ["topology", "trajectory_file", "T"] {
            if input.get(key).is_none() {
                return Err(Error::MissingKey {
                    source_name: source.clone(),
                    key: key.into(),
                    hint: "an oxDNA simulator reads the states back from trajectory_file, at the input's T".into(),
                });
            }
        }
        let t = input.get("T").unwrap_or_default();
        self.kt = crate::units::kt_from_str(t)?;
        self.base.set("kt", self.kt)?;
        let (topology, _) = Topology::read(input.path("topology")?)?;
        self.nucleotides = topology.len();
        self.sequence_dependent = matches!(input.get("use_average_seq").map(str::trim), Some("false" | "0" | "no"));
        self.cuda = input.get("backend").is_some_and(|b| b.trim().eq_ignore_ascii_case("CUDA"));
        if self.sequence_dependent && !self.base.is_sequence_dependent() {
            return Err(Error::mismatch(
                "oxDNA simulator parameters",
                format!(
                    "{source} says use_average_seq = false but the base parameters are sequence-averaged: \
                     give sequence-dependent parameters (ParamSet::with_sequence_dependence)"
                ),
            ));
        }
        Ok(())
    }

    /// The names in `params` that the program cannot take at run time, with their values.
    fn refused(&self, set: &ParamSet) -> Vec<String> {
        let built = |n: &str| self.build.is_some() && !oxdna_macros(n).is_empty();
        let runtime =
            |n: &str| built(n) || (self.sequence_dependent && (n.starts_with("ss_") || n == "eps_stack_kt_coeff"));
        set.iter()
            .filter(|(n, _)| !runtime(n) && *n != "kt")
            .filter(|(n, v)| {
                let b = self.base.value(n);
                (v - b).abs() > 1e-12 * b.abs().max(1.0)
            })
            .map(|(n, v)| format!("{n} = {v} (built with {})", self.base.value(n)))
            .collect()
    }

    /// Angular constants oxDNA's build cannot hold apart: it evaluates each of these angles with the
    /// constants of the one before (its `*_F4_THETA*` table indices coincide), so a build with the
    /// two groups differing would compute another model than oxgrad's.
    fn tied(&self, set: &ParamSet) -> Vec<String> {
        const TIED: [(&str, u8, u8); 6] =
            [("hb", 2, 3), ("hb", 7, 8), ("stack", 5, 6), ("cross", 2, 3), ("cross", 7, 8), ("coax", 5, 6)];
        let mut out = Vec::new();
        for (x, used, tied) in TIED {
            for group in ["a", "theta0", "delta_theta_star"] {
                let (a, b) = (format!("{group}_{x}_{used}"), format!("{group}_{x}_{tied}"));
                if let (Ok(va), Ok(vb)) = (set.get(&a), set.get(&b)) {
                    if (va - vb).abs() > 1e-12 * va.abs().max(1.0) {
                        out.push(format!("{b} = {vb} differs from {a} = {va}"));
                    }
                }
            }
        }
        out
    }

    /// Runs in `dir` (which must not exist yet) with `set`; the sampled trajectory.
    fn run_in(&self, program: &Path, dir: &Path, set: &ParamSet, seed: u64, ctx: &TaskContext) -> Result<Trajectory> {
        copy_dir(&self.input_dir, dir)?;
        let mut input = self.input()?;
        input.source = dir.join("input");
        input.set("seed", seed);
        if self.sequence_dependent {
            set.to_seq_dep_file()?.write(dir.join(SEQ_DEP_FILE))?;
            input.set("seq_dep_file", SEQ_DEP_FILE);
        }
        input.write(dir.join("input"))?;
        for key in ["trajectory_file", "energy_file", "lastconf_file"] {
            if input.get(key).is_some() {
                let p = input.path(key)?;
                if p.exists() {
                    std::fs::remove_file(&p).map_err(|e| Error::io("remove the stale", &p, e))?;
                }
            }
        }
        let out_log = dir.join("oxdna.out.log");
        let err_log = dir.join("oxdna.err.log");
        let open = |p: &Path| std::fs::File::create(p).map_err(|e| Error::io("create", p, e));
        let status = ctx
            .command(program)
            .args(&self.args)
            .arg("input")
            .current_dir(dir)
            .stdout(open(&out_log)?)
            .stderr(open(&err_log)?)
            .status()
            .map_err(|e| Error::External {
                program: program.display().to_string(),
                detail: format!("could not be started: {e}"),
            })?;
        if !status.success() {
            return Err(failure(program, dir, &format!("ended with {status}")));
        }
        let traj = input.path("trajectory_file")?;
        let frames =
            TrajectoryReader::open(&traj, self.nucleotides).and_then(|r| r.collect::<Result<Vec<_>>>()).map_err(
                |e| failure(program, dir, &format!("exited successfully but its trajectory could not be read: {e}")),
            )?;
        if frames.is_empty() {
            return Err(failure(
                program,
                dir,
                &format!("wrote no state to {}: check print_conf_interval against steps", traj.display()),
            ));
        }
        let n = frames.len();
        Trajectory::new(frames, Some(vec![self.kt; n]))
    }
}

impl Simulator for OxdnaSimulator {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "OxdnaSimulator"
    }
    fn hints(&self) -> &SchedulerHints {
        &self.hints
    }
    fn run(&self, ctx: &TaskContext, params: &Params, state: &State) -> Result<SimOutput> {
        let set = self.base.with_params(params.iter().map(|(k, v)| (k.as_str(), *v)))?;
        let refused = self.refused(&set);
        if !refused.is_empty() {
            return Err(Error::invalid(
                format!("parameters for the oxDNA simulator {}", self.name),
                refused.join(", "),
                "an oxDNA binary computes with the constants it was built with and takes only the \
                 sequence-dependent strengths at run time (use_average_seq = false): build from the \
                 oxDNA source tree (OxdnaSimulator::from_source, config `source`), train these with \
                 the native engine (kind = \"native\"), or leave them out of what is trained",
            ));
        }
        if self.build.is_some() {
            let tied = self.tied(&set);
            if !tied.is_empty() {
                return Err(Error::invalid(
                    format!("parameters for the oxDNA simulator {}", self.name),
                    tied.join(", "),
                    "oxDNA evaluates θ3 (H-bonding, cross-stacking) with θ2's constants, θ8 with θ7's and θ6 \
                     (stacking, coaxial) with θ5's: train each pair together (same values) or leave the second at the first's",
                ));
            }
        }
        // oxDNA reads its seed as a C int
        let seed = derive_seed(self.seed, &self.name, ctx.step) % (1 << 31);
        // the name is one path component inside the runs directory, never a path of its own
        crate::component::check_name("simulator", &self.name)?;
        let dir = self.runs_dir.join(&self.name).join(format!("step-{}-attempt-{}", ctx.step, ctx.attempt));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io("clear the earlier run directory", &dir, e))?;
        }
        let program = match &self.build {
            Some(b) => b.binary_for(&set, self.cuda)?,
            None => self.program.clone(),
        };
        let traj = self.run_in(&program, &dir, &set, seed, ctx)?;
        if !self.keep_runs {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove the run directory", &dir, e))?;
        }
        let mut st = state.clone();
        st.insert("seed".into(), seed.into());
        Ok(SimOutput { observables: vec![Observation::Trajectory(traj)], state: st })
    }
}

/// A failed run: the program, what went wrong, where its directory is kept, its logs' last lines.
fn failure(program: &Path, dir: &Path, what: &str) -> Error {
    let tail = |file: &str| {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n")
    };
    Error::External {
        program: program.display().to_string(),
        detail: format!(
            "{what} (run directory {}, kept)\n--- last lines of oxdna.err.log ---\n{}\n--- last lines of oxdna.out.log ---\n{}",
            dir.display(),
            tail("oxdna.err.log"),
            tail("oxdna.out.log")
        ),
    }
}

/// Copies the files and folders of `from` into a new directory `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("create the run directory", to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| Error::io("read the input directory", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read the input directory", from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| Error::io("copy into the run directory", &src, e))?;
        }
    }
    Ok(())
}
