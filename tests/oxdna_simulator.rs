//! `OxdnaSimulator` end to end against a program that speaks oxDNA's command line: `oxgrad
//! simulate` itself (`PROGRAM simulate input` in the run directory). Copy, overrides, seeds, the
//! trajectory read back at the input's temperature, refused parameters, sequence-dependent
//! strengths through a written `seq_dep_file`, failures with their logs, truncated output, and a
//! training run configured with `kind = "oxdna"`.

use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::io::{InputFile, SeqDepFile, TrajectoryReader};
use oxgrad::optimize::{Observation, Params, SchedulerHints, Simulator, State, TaskContext};
use oxgrad::params::ParamSet;
use oxgrad::simulate::OxdnaSimulator;
use oxgrad::system::TopologyFormat;
use oxgrad::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const OXGRAD: &str = env!("CARGO_BIN_EXE_oxgrad");

/// An input directory: a generated 6-bp duplex and an MD input of 2000 steps.
fn input_dir(root: &Path, extra: &str) -> PathBuf {
    let dir = root.join("input-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let (top, conf) = helix(&parse_sequence("ACGTGC").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    top.write(dir.join("init.top"), TopologyFormat::Classic).unwrap();
    conf.write(dir.join("init.dat")).unwrap();
    let input = format!(
        "sim_type = MD\nbackend = CPU\ninteraction_type = DNA\nT = 300K\ndt = 0.005\nsteps = 2000\n\
         thermostat = john\nnewtonian_steps = 103\ndiff_coeff = 2.5\nverlet_skin = 0.05\nseed = 5\n\
         topology = init.top\nconf_file = init.dat\ntrajectory_file = trajectory.dat\n\
         energy_file = energy.dat\nlastconf_file = last_conf.dat\nprint_conf_interval = 200\n\
         print_energy_every = 200\nrefresh_vel = true\nrestart_step_counter = true\ntime_scale = linear\n{extra}"
    );
    std::fs::write(dir.join("input"), input).unwrap();
    dir
}

fn ctx(step: usize, attempt: u32) -> TaskContext {
    TaskContext { task: "simulator_run:oxdna".into(), step, attempt, env: vec![], env_remove: vec![] }
}

fn sim(root: &Path, dir: &Path) -> OxdnaSimulator {
    OxdnaSimulator::new("oxdna", dir, OXGRAD, ParamSet::dna1_defaults())
        .unwrap()
        .args(["simulate"])
        .runs_dir(root.join("runs"))
}

fn trajectory(out: &oxgrad::optimize::SimOutput) -> &oxgrad::trajectory::Trajectory {
    match &out.observables[0] {
        Observation::Trajectory(t) => t,
        other => panic!("expected a trajectory, got {other:?}"),
    }
}

#[test]
fn runs_a_copy_with_overrides_and_its_own_seed_and_reads_the_states_back() {
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    let before = std::fs::read_to_string(dir.join("input")).unwrap();
    let overrides = BTreeMap::from([("steps".to_string(), "1000".to_string()), ("T".to_string(), "310K".to_string())]);
    let s = sim(root.path(), &dir).overrides(overrides).unwrap().keep_runs(true);
    let theta: Params = [("eps_stack_base".to_string(), ParamSet::dna1_defaults().value("eps_stack_base"))].into();

    let out = s.run(&ctx(0, 1), &theta, &State::new()).unwrap();
    let run = root.path().join("runs/oxdna/step-0-attempt-1");
    let input = InputFile::read(run.join("input")).unwrap();
    assert_eq!(input.get("steps"), Some("1000"));
    assert_eq!(input.get("T"), Some("310K"));
    let seed = out.state["seed"].as_u64().unwrap();
    assert_eq!(input.get("seed"), Some(seed.to_string().as_str()));
    assert_ne!(seed, 5, "the input's own seed is replaced");
    // every state the program wrote, each at the input's (overridden) temperature
    let written = TrajectoryReader::open(run.join("trajectory.dat"), 12).unwrap().count();
    let t = trajectory(&out);
    assert_eq!(t.len(), written);
    assert!(written >= 5);
    let kt = oxgrad::units::kt_from_str("310K").unwrap();
    assert!(t.temperature.as_ref().unwrap().iter().all(|&k| (k - kt).abs() < 1e-15));
    assert_eq!(std::fs::read_to_string(dir.join("input")).unwrap(), before, "the input directory is left as it was");

    // another step: another seed, another directory; without keep_runs a success leaves nothing
    let s = s.keep_runs(false);
    let next = s.run(&ctx(1, 1), &theta, &State::new()).unwrap();
    assert_ne!(next.state["seed"], out.state["seed"]);
    assert!(!root.path().join("runs/oxdna/step-1-attempt-1").exists());
    // copies draw their own streams
    let other = s.renamed("oxdna.1").run(&ctx(0, 1), &theta, &State::new()).unwrap();
    assert_ne!(other.state["seed"], out.state["seed"]);
}

#[test]
fn parameters_a_binary_cannot_take_are_refused_by_name() {
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    let s = sim(root.path(), &dir);
    let theta: Params = [("eps_stack_base".to_string(), 1.4), ("a_stack".to_string(), 6.0)].into();
    let e = s.run(&ctx(1, 1), &theta, &State::new()).unwrap_err().to_string();
    assert!(e.contains("eps_stack_base = 1.4 (built with 1.3448)"), "{e}");
    assert!(!e.contains("a_stack ="), "an unchanged parameter is not named: {e}");
    assert!(e.contains("train these with the native engine"), "{e}");
}

#[test]
fn sequence_dependent_strengths_go_through_a_written_seq_dep_file() {
    let root = tempfile::tempdir().unwrap();
    let dir =
        input_dir(root.path(), "use_average_seq = false\nseq_dep_file = oxDNA1_sequence_dependent_parameters.txt\n");
    let file = SeqDepFile::parse(
        include_str!("../data/params/seqdep/oxDNA1_sequence_dependent_parameters.txt"),
        Path::new("oxDNA1_sequence_dependent_parameters.txt"),
    )
    .unwrap();
    let base = ParamSet::dna1_defaults().with_sequence_dependence(&file).unwrap();
    let s = OxdnaSimulator::new("seq", &dir, OXGRAD, base.clone())
        .unwrap()
        .args(["simulate"])
        .runs_dir(root.path())
        .keep_runs(true);
    let theta: Params = [("ss_stack_weights_G_C".to_string(), 1.75), ("ss_hb_weights_A_T".to_string(), 1.0)].into();
    s.run(&ctx(0, 1), &theta, &State::new()).unwrap();
    let run = root.path().join("seq/step-0-attempt-1");
    assert_eq!(InputFile::read(run.join("input")).unwrap().get("seq_dep_file"), Some("oxgrad_seq_dep.txt"));
    let written = SeqDepFile::read(run.join("oxgrad_seq_dep.txt")).unwrap();
    assert_eq!(written.get("STCK_G_C"), Some(1.75));
    assert_eq!(written.get("HYDR_A_T"), Some(1.0));
    assert_eq!(written.get("HYDR_T_A"), Some(1.0));
    assert_eq!(written.get("STCK_A_A"), file.get("STCK_A_A"));
    // and it reads back to the same parameters
    let back = ParamSet::dna1_defaults().with_sequence_dependence(&written).unwrap();
    let expected = base.with_params(theta.iter().map(|(k, v)| (k.as_str(), *v))).unwrap();
    assert_eq!(back, expected);
}

#[test]
fn a_failing_program_is_reported_with_its_logs_and_its_directory_kept() {
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    let overrides = BTreeMap::from([("interaction_type".to_string(), "DNA_nonexistent".to_string())]);
    let s = sim(root.path(), &dir).overrides(overrides).unwrap();
    let e = s.run(&ctx(3, 2), &Params::new(), &State::new()).unwrap_err();
    let Error::External { program, detail } = &e else { panic!("expected an external-program error, got {e:?}") };
    assert_eq!(program, OXGRAD);
    let run = root.path().join("runs/oxdna/step-3-attempt-2");
    assert!(detail.starts_with("ended with exit status: 1 (run directory"), "{detail}");
    assert!(detail.contains(&run.display().to_string()), "{detail}");
    assert!(detail.contains("--- last lines of oxdna.err.log ---\n"), "{detail}");
    assert!(detail.contains("DNA_nonexistent"), "the program's own message is quoted: {detail}");
    assert!(run.join("oxdna.err.log").exists(), "the failed run is kept");

    // under the optimizer: retried as the hints say, then reported with the simulator's name
    let s = s.hints(SchedulerHints { max_retries: Some(1), ..SchedulerHints::default() });
    let objective = oxgrad::optimize::GenericObjective::new("never", s.exposes(), |_, _| {
        unreachable!("the simulator never succeeds")
    });
    let e = oxgrad::optimize::Optimization::new(oxgrad::optimize::UpdateRule::sgd(0.1).unwrap())
        .simulator(s)
        .objective(objective)
        .aggregate(oxgrad::optimize::Aggregate::Passthrough)
        .run(Params::new(), 1, None)
        .unwrap_err();
    let Error::TaskFailed { task, attempts, .. } = &e else { panic!("{e:?}") };
    assert_eq!((task.as_str(), *attempts), ("simulator_run:oxdna", 2));
}

#[test]
fn a_truncated_or_missing_trajectory_is_an_error_not_fewer_states() {
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    // a program that succeeds but leaves the last configuration cut short
    let script = root.path().join("cut.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n\"{OXGRAD}\" simulate \"$@\" || exit $?\nhead -c -200 trajectory.dat > t && mv t trajectory.dat\n"),
    )
    .unwrap();
    let script = make_executable(&script);
    let s = OxdnaSimulator::new("cut", &dir, &script, ParamSet::dna1_defaults()).unwrap().runs_dir(root.path());
    let e = s.run(&ctx(0, 1), &Params::new(), &State::new()).unwrap_err().to_string();
    assert!(e.contains("exited successfully but its trajectory could not be read"), "{e}");

    // one that prints no state at all
    let overrides = BTreeMap::from([("print_conf_interval".to_string(), "100000".to_string())]);
    let s = sim(root.path(), &dir).overrides(overrides).unwrap();
    let e = s.run(&ctx(0, 1), &Params::new(), &State::new()).unwrap_err().to_string();
    assert!(e.contains("wrote no state to") && e.contains("check print_conf_interval against steps"), "{e}");
}

fn make_executable(path: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

#[test]
fn construction_checks_the_input_directory_the_program_and_the_overrides() {
    let root = tempfile::tempdir().unwrap();
    let e = OxdnaSimulator::new("x", root.path(), OXGRAD, ParamSet::dna1_defaults()).unwrap_err().to_string();
    assert!(
        e.contains("input") && e.contains("an oxDNA simulator's input directory holds a file named `input`"),
        "{e}"
    );
    let dir = input_dir(root.path(), "");
    let e = OxdnaSimulator::new("x", &dir, root.path().join("no-such-oxDNA"), ParamSet::dna1_defaults())
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "no-such-oxDNA' not found: give the path of an oxDNA binary (or of `oxgrad`, with args [\"simulate\"])"
        ),
        "{e}"
    );
    let e = sim(root.path(), &dir)
        .overrides(BTreeMap::from([("seed".to_string(), "3".to_string())]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("set the simulator's seed instead"), "{e}");
}

#[test]
fn a_training_run_configured_with_kind_oxdna() {
    let root = tempfile::tempdir().unwrap();
    let dir =
        input_dir(root.path(), "use_average_seq = false\nseq_dep_file = oxDNA1_sequence_dependent_parameters.txt\n");
    let config = format!(
        r#"
[model]
kind = "dna1"
temperature = "300K"
sequence_dependent = true

[optimizer]
learning_rate = 1e-3
steps = 2
train = ["ss_stack_weights_G_C", "ss_stack_weights_C_G"]

[[simulator]]
name = "ox"
kind = "oxdna"
copies = 2
input_dir = "{}"
program = "{OXGRAD}"
program_args = ["simulate"]
input_overrides = {{ steps = 1000, print_conf_interval = 100 }}

[[objective]]
name = "rise"
simulators = ["ox"]
observable = {{ kind = "rise", exclude_end_pairs = 1 }}
target = 0.36

[validation]
enabled = false
"#,
        dir.display()
    );
    std::fs::write(root.path().join("ox.toml"), config).unwrap();
    let out = std::process::Command::new(OXGRAD)
        .args(["optimize", "ox.toml", "-o", "run"])
        .current_dir(root.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let metrics = std::fs::read_to_string(root.path().join("run/metrics.jsonl")).unwrap();
    assert!(metrics.lines().count() >= 2, "{metrics}");
    let first = metrics.lines().next().unwrap();
    assert!(
        first.contains("\"task\":\"simulator_run:ox.0\"") && first.contains("\"task\":\"simulator_run:ox.1\""),
        "{first}"
    );

    // a native-only key is refused with the way to say it
    let bad = std::fs::read_to_string(root.path().join("ox.toml"))
        .unwrap()
        .replace("copies = 2", "copies = 2\nmd_steps = 100");
    std::fs::write(root.path().join("bad.toml"), bad).unwrap();
    let out = std::process::Command::new(OXGRAD)
        .args(["optimize", "bad.toml", "-o", "run2"])
        .current_dir(root.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("simulator[0].md_steps") && stderr.contains("does not apply to kind = \"oxdna\""),
        "{stderr}"
    );
}

/// GPUs as a resource, end to end, with a stand-in device list: the driver runs with
/// `CUDA_VISIBLE_DEVICES=2,5`; the two copies of a simulator that asks for half a GPU share one
/// of those devices and a simulator that asks for a whole one gets the other. Each program
/// records the `CUDA_VISIBLE_DEVICES` it was started with (with two cores or more, both copies
/// run at once; the whole GPU's task waits for a core while both halves hold device 2). More
/// than the pool has is refused before anything runs, naming the simulator.
#[test]
fn tasks_get_their_share_of_the_drivers_gpus() {
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    for name in ["half", "whole"] {
        let script = root.path().join(format!("{name}.sh"));
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$CUDA_VISIBLE_DEVICES\" >> \"$0.gpus\"\nexec \"{OXGRAD}\" simulate \"$@\"\n"),
        )
        .unwrap();
        make_executable(&script);
    }
    let simulator = |name: &str, copies: u32, gpus: f64| {
        format!(
            "[[simulator]]\nname = \"{name}\"\nkind = \"oxdna\"\ncopies = {copies}\ninput_dir = \"{}\"\nprogram = \"{}/{name}.sh\"\ninput_overrides = {{ steps = 1000, print_conf_interval = 100 }}\nhints = {{ num_gpus = {gpus} }}\n\n[[objective]]\nname = \"rise_{name}\"\nsimulators = [\"{name}\"]\nobservable = {{ kind = \"rise\", exclude_end_pairs = 1 }}\ntarget = 0.36\n\n",
            dir.display(),
            root.path().display()
        )
    };
    let config = |whole: f64| {
        format!(
            "[model]\nkind = \"dna1\"\ntemperature = \"300K\"\n\n[optimizer]\nlearning_rate = 1e-3\nsteps = 1\ntrain = [\"Stacking\"]\n\n{}{}[validation]\nenabled = false\n",
            simulator("half", 2, 0.5),
            simulator("whole", 1, whole)
        )
    };
    std::fs::write(root.path().join("gpus.toml"), config(1.0)).unwrap();
    let run = |file: &str| {
        std::process::Command::new(OXGRAD)
            .args(["optimize", file, "-o", "run"])
            .current_dir(root.path())
            .env("CUDA_VISIBLE_DEVICES", "2,5")
            .output()
            .unwrap()
    };
    let out = run("gpus.toml");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = |name: &str| std::fs::read_to_string(root.path().join(format!("{name}.sh.gpus"))).unwrap();
    let (half, whole) = (seen("half"), seen("whole"));
    let half: std::collections::BTreeSet<&str> = half.lines().collect();
    let whole: std::collections::BTreeSet<&str> = whole.lines().collect();
    assert_eq!(half.len(), 1, "the copies share one device: {half:?}");
    assert_eq!(whole.len(), 1, "{whole:?}");
    let mut both: Vec<&str> = half.union(&whole).copied().collect();
    both.sort_unstable();
    assert_eq!(both, ["2", "5"], "half: {half:?}, whole: {whole:?}");
    let metrics = std::fs::read_to_string(root.path().join("run/metrics.jsonl")).unwrap();
    assert!(metrics.contains("\"gpus\":0.5") && metrics.contains("\"gpus\":1.0"), "{metrics}");

    std::fs::write(root.path().join("three.toml"), config(3.0)).unwrap();
    let out = run("three.toml");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().last().unwrap(),
        "error: three.toml:32: simulator[1].hints.num_gpus: simulator 'whole' asks for 3 GPUs and the pool has 2: lower its num_gpus hint or give the pool GPUs (`[executor] gpus = N`, or run where CUDA_VISIBLE_DEVICES or nvidia-smi -L shows them)"
    );
    assert!(!root.path().join("three.sh.gpus").exists());
}

/// Opt-in: a real oxDNA (`OXDNA_BIN=/path/to/oxDNA cargo test --release --test oxdna_simulator --
/// --include-ignored oxdna`). Two copies of a sequence-dependent 6-bp duplex train two stacking
/// strengths for two steps; the states oxDNA wrote must have the energies oxgrad computes for
/// them with the parameters of their step (oxDNA's own energy file, per nucleotide).
#[test]
#[ignore = "needs an installed oxDNA: set OXDNA_BIN and pass --include-ignored"]
fn real_oxdna_two_step_optimization() {
    let bin = std::env::var("OXDNA_BIN").expect("set OXDNA_BIN to an oxDNA binary to run this test");
    let root = tempfile::tempdir().unwrap();
    let dir =
        input_dir(root.path(), "use_average_seq = false\nseq_dep_file = oxDNA1_sequence_dependent_parameters.txt\n");
    std::fs::write(
        dir.join("oxDNA1_sequence_dependent_parameters.txt"),
        include_str!("../data/params/seqdep/oxDNA1_sequence_dependent_parameters.txt"),
    )
    .unwrap();
    let file = SeqDepFile::read(dir.join("oxDNA1_sequence_dependent_parameters.txt")).unwrap();
    let mut base = ParamSet::dna1_defaults().with_sequence_dependence(&file).unwrap();
    base.set("kt", oxgrad::units::kt_from_str("300K").unwrap()).unwrap();
    let sims = oxgrad::optimize::create_n(2, Some("ox"), |name| {
        OxdnaSimulator::new(name, &dir, &bin, base.clone())
            .and_then(|s| s.overrides(BTreeMap::from([("interaction_type".to_string(), "DNA_nomesh".to_string())])))
            .unwrap()
            .runs_dir(root.path().join("runs"))
            .keep_runs(true)
    });
    let (top, _) = oxgrad::system::Topology::read(dir.join("init.top")).unwrap();
    let ids: Vec<_> = sims.iter().flat_map(Simulator::exposes).collect();
    let rise = oxgrad::observable::Rise::new(oxgrad::observable::BasePairs::duplex(&top, 1).unwrap()).unwrap();
    let model = oxgrad::energy::EnergyModel::new(&top, base.clone()).unwrap();
    let difftre = oxgrad::objective::DiffTre::new(
        "rise",
        ids,
        model,
        vec![std::sync::Arc::new(rise)],
        oxgrad::objective::Loss::squared(0.36),
    )
    .unwrap()
    .max_valid_opt_steps(1)
    .unwrap();
    let theta: Params = ["ss_stack_weights_G_C", "ss_stack_weights_C_G"].map(|n| (n.to_string(), base.value(n))).into();
    let result = oxgrad::optimize::Optimization::new(oxgrad::optimize::UpdateRule::adam(1e-2).unwrap())
        .simulators(sims)
        .objective(difftre)
        .aggregate(oxgrad::optimize::Aggregate::Passthrough)
        .run(theta.clone(), 2, None)
        .unwrap();
    assert_ne!(result.params, theta);
    // oxDNA's energies of its own states at step 1 (the updated strengths) equal oxgrad's
    let run = root.path().join("runs/ox.0/step-1-attempt-1");
    let written = SeqDepFile::read(run.join("oxgrad_seq_dep.txt")).unwrap();
    let mut params = ParamSet::dna1_defaults().with_sequence_dependence(&written).unwrap();
    params.set("kt", oxgrad::units::kt_from_str("300K").unwrap()).unwrap();
    assert!((params.value("ss_stack_weights_G_C") - base.value("ss_stack_weights_G_C")).abs() > 1e-3);
    let model = oxgrad::energy::EnergyModel::new(&top, params).unwrap();
    let frames: Vec<_> =
        TrajectoryReader::open(run.join("trajectory.dat"), top.len()).unwrap().map(Result::unwrap).collect();
    assert_eq!(frames.len(), 10);
    for f in &frames {
        let mine = model.energy(f).unwrap() / top.len() as f64;
        // oxDNA writes U/N on the configuration's `E =` line
        // (oxDNA reads the seq_dep_file as single-precision floats)
        assert!((mine - f.energy[1]).abs() < 1e-6, "step {}: oxgrad {mine}, oxDNA {}", f.step, f.energy[1]);
    }
}

/// A stand-in oxDNA source tree: a CMake project whose `oxDNA` records the constant it was built
/// with (`STCK_BASE_EPS_OXDNA`, from the force-included header) and then runs
/// `$OXGRAD_FOR_FIXTURE simulate input`, so the run has real output. Its `src/model.h` defines
/// every macro oxgrad writes.
fn fixture_source(root: &Path) -> PathBuf {
    use oxgrad::params::exchange::oxdna_macros;
    let src = root.join("oxdna-src");
    std::fs::create_dir_all(src.join("src")).unwrap();
    let set = ParamSet::dna1_defaults();
    let mut macros: std::collections::BTreeSet<String> = set.iter().flat_map(|(n, _)| oxdna_macros(n)).collect();
    macros.extend(set.dependents().keys().flat_map(|n| oxdna_macros(n)));
    macros.insert("FENE_DELTA2".into());
    let mut header = String::from("#ifndef MODEL_H_\n#define MODEL_H_\n");
    for m in macros {
        header.push_str(&format!("#define {m} 0.0f\n"));
    }
    header.push_str("#endif\n");
    std::fs::write(src.join("src/model.h"), header).unwrap();
    std::fs::write(
        src.join("src/main.cpp"),
        "#include <cstdio>\n#include <cstdlib>\n#include <string>\n\
         int main(int argc, char **argv) {\n\
           FILE *f = std::fopen(\"built_with.txt\", \"w\");\n\
           std::fprintf(f, \"%.17g\\n\", (double) STCK_BASE_EPS_OXDNA);\n\
           std::fclose(f);\n\
           const char *ox = std::getenv(\"OXGRAD_FOR_FIXTURE\");\n\
           if (!ox || argc < 2) return 3;\n\
           std::string cmd = std::string(\"\\\"\") + ox + \"\\\" simulate \" + argv[1];\n\
           return std::system(cmd.c_str()) == 0 ? 0 : 1;\n\
         }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.10)\nproject(oxdna_fixture CXX)\n\
         set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)\nadd_executable(oxDNA src/main.cpp)\n\
         file(APPEND ${CMAKE_SOURCE_DIR}/configured.txt \"${CMAKE_BINARY_DIR}\\n\")\n",
    )
    .unwrap();
    src
}

#[test]
fn a_source_tree_is_built_once_per_set_of_constants() {
    use oxgrad::simulate::OxdnaBuild;
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    let cache = root.path().join("builds");
    let src = fixture_source(root.path());
    let build = OxdnaBuild::new(&src, &cache).unwrap().threads(2);
    let s = OxdnaSimulator::from_source("built", &dir, build, ParamSet::dna1_defaults())
        .unwrap()
        .runs_dir(root.path().join("runs"))
        .keep_runs(true);
    let ctx = |step: usize| TaskContext {
        task: "simulator_run:built".into(),
        step,
        attempt: 1,
        env: vec![("OXGRAD_FOR_FIXTURE".into(), OXGRAD.into())],
        env_remove: vec![],
    };
    let builds = || {
        std::fs::read_dir(&cache)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("oxdna-"))
            .count()
    };
    let built_with = |step: usize| -> f64 {
        let p = root.path().join(format!("runs/built/step-{step}-attempt-1/built_with.txt"));
        std::fs::read_to_string(p).unwrap().trim().parse().unwrap()
    };
    let theta = |eps: f64| -> Params { [("eps_stack_base".to_string(), eps)].into() };

    let out = s.run(&ctx(0), &theta(1.3448), &State::new()).unwrap();
    assert!(!trajectory(&out).is_empty());
    // the template writes its constants as C floats (`0.0f`), and so does the rewritten header
    let float = |x: f64| f64::from(x as f32);
    assert_eq!(built_with(0), float(1.3448));
    assert_eq!(builds(), 1);
    // the same constants again: no new build
    s.run(&ctx(1), &theta(1.3448), &State::new()).unwrap();
    assert_eq!(builds(), 1);
    // new constants: a new build, and the program computes with them
    s.run(&ctx(2), &theta(1.41), &State::new()).unwrap();
    assert_eq!((builds(), built_with(2)), (2, float(1.41)));
    // two simulators needing the same new build at once: one builds, the other waits for it
    let t = std::thread::scope(|scope| {
        let a = scope.spawn(|| s.run(&ctx(3), &theta(1.45), &State::new()).map(|_| ()));
        let b = scope.spawn(|| s.renamed("built2").run(&ctx(3), &theta(1.45), &State::new()).map(|_| ()));
        (a.join().unwrap(), b.join().unwrap())
    });
    t.0.unwrap();
    t.1.unwrap();
    assert_eq!(builds(), 3);
    // every CMake configure of the fixture leaves a line: one per set of constants, none twice
    let configured = std::fs::read_to_string(src.join("configured.txt")).unwrap();
    assert_eq!(configured.lines().count(), 3, "{configured}");
    // a parameter oxDNA takes from its input, not its header, is still refused
    let e = s.run(&ctx(4), &[("fmax".to_string(), 400.0)].into(), &State::new()).unwrap_err().to_string();
    assert!(e.contains("fmax = 400 (built with 500)"), "{e}");
}

#[test]
fn a_failed_build_is_reported_with_its_log() {
    use oxgrad::simulate::OxdnaBuild;
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    let src = fixture_source(root.path());
    std::fs::write(src.join("src/main.cpp"), "int main() { return this_does_not_compile; }\n").unwrap();
    let build = OxdnaBuild::new(&src, root.path().join("builds")).unwrap();
    let s =
        OxdnaSimulator::from_source("broken", &dir, build, ParamSet::dna1_defaults()).unwrap().runs_dir(root.path());
    let e = s.run(&ctx(0, 1), &Params::new(), &State::new()).unwrap_err();
    let Error::External { program, detail } = &e else { panic!("{e:?}") };
    assert!(program.ends_with("cmake"), "{program}");
    assert!(
        detail.contains("--target oxDNA ended with exit status") && detail.contains("this_does_not_compile"),
        "{detail}"
    );
    // nothing half-built is reused: the next run builds again and fails the same way
    let again = s.run(&ctx(1, 1), &Params::new(), &State::new()).unwrap_err().to_string();
    assert!(again.contains("this_does_not_compile"), "{again}");
    let missing = OxdnaBuild::new(root.path().join("nowhere"), root.path()).unwrap_err().to_string();
    assert!(
        missing.contains("give the root of an oxDNA source tree (with CMakeLists.txt and src/model.h)"),
        "{missing}"
    );
}

/// Opt-in: a real oxDNA rebuilt with other constants (`OXDNA_SRC=/path/to/oxDNA cargo test
/// --release --test oxdna_simulator -- --include-ignored oxdna_rebuilt`; the build takes minutes).
/// The states the rebuilt oxDNA writes carry the energies oxgrad computes with the same constants.
#[test]
#[ignore = "needs oxDNA's source tree: set OXDNA_SRC and pass --include-ignored"]
fn oxdna_rebuilt_with_new_constants_computes_oxgrads_energies() {
    use oxgrad::simulate::OxdnaBuild;
    let src = std::env::var("OXDNA_SRC").expect("set OXDNA_SRC to an oxDNA source tree to run this test");
    let root = tempfile::tempdir().unwrap();
    let dir = input_dir(root.path(), "");
    let mut base = ParamSet::dna1_defaults();
    base.set("kt", oxgrad::units::kt_from_str("300K").unwrap()).unwrap();
    let build = OxdnaBuild::new(&src, root.path().join("builds")).unwrap().threads(2);
    let s = OxdnaSimulator::from_source("rebuilt", &dir, build, base.clone())
        .and_then(|s| s.overrides(BTreeMap::from([("interaction_type".to_string(), "DNA_nomesh".to_string())])))
        .unwrap()
        .runs_dir(root.path().join("runs"))
        .keep_runs(true);
    // oxDNA holds θ8's constants equal to θ7's: a_hb_8 alone is refused, the pair together is built
    let alone: Params = [("a_hb_8".to_string(), 3.5)].into();
    let e = s.run(&ctx(0, 1), &alone, &State::new()).unwrap_err().to_string();
    assert!(e.contains("a_hb_8 = 3.5 differs from a_hb_7 = 4"), "{e}");
    let theta: Params =
        [("eps_stack_base".to_string(), 1.45), ("a_hb_7".to_string(), 3.5), ("a_hb_8".to_string(), 3.5)].into();
    s.run(&ctx(0, 1), &theta, &State::new()).unwrap();
    let set = base.with_params(theta.iter().map(|(k, v)| (k.as_str(), *v))).unwrap();
    let (top, _) = oxgrad::system::Topology::read(dir.join("init.top")).unwrap();
    let model = oxgrad::energy::EnergyModel::new(&top, set).unwrap();
    let run = root.path().join("runs/rebuilt/step-0-attempt-1");
    let frames: Vec<_> =
        TrajectoryReader::open(run.join("trajectory.dat"), top.len()).unwrap().map(Result::unwrap).collect();
    assert_eq!(frames.len(), 10);
    for f in &frames {
        let mine = model.energy(f).unwrap() / top.len() as f64;
        // the header writes oxDNA's float literals: ~1e-7 relative
        assert!((mine - f.energy[1]).abs() < 1e-5, "step {}: oxgrad {mine}, rebuilt oxDNA {}", f.step, f.energy[1]);
    }
}

/// A relative `program` is relative to the configuration file (here, from a directory above the
/// configuration's), though each run starts in its own copy of the input directory; and a
/// hostile simulator name never becomes a path.
#[test]
fn a_relative_program_is_found_from_the_run_copy_and_names_stay_inside() {
    let root = tempfile::tempdir().unwrap();
    let cfg_dir = root.path().join("cfg");
    std::fs::create_dir_all(cfg_dir.join("bin")).unwrap();
    std::os::unix::fs::symlink(OXGRAD, cfg_dir.join("bin/sim")).unwrap();
    let dir = input_dir(&cfg_dir, "");
    let config = |name: &str| {
        format!(
            r#"
[model]
kind = "dna1"
[optimizer]
steps = 1
train = ["Stacking"]
[[simulator]]
name = "{name}"
kind = "oxdna"
input_dir = "{}"
program = "bin/sim"
program_args = ["simulate"]
input_overrides = {{ steps = 400, print_conf_interval = 100 }}
[[objective]]
name = "rise"
simulators = ["{name}"]
observable = {{ kind = "rise", exclude_end_pairs = 1 }}
target = 0.36
"#,
            dir.display()
        )
    };
    std::fs::write(cfg_dir.join("ox.toml"), config("ox")).unwrap();
    let out = std::process::Command::new(OXGRAD)
        .args(["optimize", "cfg/ox.toml", "--gradient-only"])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"grads\""));
    for hostile in ["../../escape", "/abs/x", "a/b", ".hidden"] {
        std::fs::write(cfg_dir.join("bad.toml"), config(hostile)).unwrap();
        let out = std::process::Command::new(OXGRAD)
            .args(["optimize", "cfg/bad.toml", "--gradient-only"])
            .current_dir(root.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("simulator[0].name") && err.contains("never paths"),
            "{hostile}: {err}"
        );
    }
    assert!(!root.path().join("escape").exists() && !cfg_dir.join("escape").exists());
    // the library refuses it too, before a run writes anything
    let sim = OxdnaSimulator::new("../x", &dir, OXGRAD, ParamSet::dna1_defaults())
        .unwrap()
        .runs_dir(root.path().join("runs"));
    let e = sim.run(&ctx(0, 1), &Default::default(), &Default::default()).unwrap_err().to_string();
    assert!(e.starts_with("invalid simulator name = \"../x\""), "{e}");
    assert!(!root.path().join("x").exists());
}
