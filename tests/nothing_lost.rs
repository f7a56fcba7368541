//! Nothing is lost: every way an earlier version destroyed data (each of these fails on commit
//! 96bdd75) now fails cleanly, with the inputs and earlier outputs byte for byte as they were.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn oxgrad(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxgrad")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The error line of a failed command, exactly as the user reads it.
fn error_line(o: &Output) -> String {
    assert!(!o.status.success(), "the command should have failed: {}", stderr(o));
    stderr(o).lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_string()
}

const IS_INPUT: &str = "writing it would destroy what is being read; choose another output";
const EXISTS: &str = "the file exists: pass --force to replace it, or choose another output";

/// A copy of the 8-bp reference case in a scratch directory.
fn case() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = common::case_dir("dna1-avg-8bp-T296");
    for f in ["init.top", "init.dat", "trajectory.dat", "input_md", "input_analysis_nomesh"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn convert_into_the_inputs_directory_leaves_the_inputs_alone() {
    let d = case();
    let before = (bytes(&d.path().join("init.top")), bytes(&d.path().join("trajectory.dat")));
    let out = oxgrad(&["convert", "-t", "init.top", "-c", "trajectory.dat", "--to", "new", "-o", "."], d.path());
    assert_eq!(error_line(&out), format!("error: invalid output = ./init.top: it is the input 'init.top': {IS_INPUT}"));
    // also through other spellings of the same directory: a path through a new directory, a link
    let out =
        oxgrad(&["convert", "-t", "init.top", "-c", "trajectory.dat", "--to", "new", "-o", "new_dir/.."], d.path());
    assert_eq!(
        error_line(&out),
        format!("error: invalid output = new_dir/../init.top: it is the input 'init.top': {IS_INPUT}")
    );
    std::os::unix::fs::symlink(d.path(), d.path().join("link")).unwrap();
    let out = oxgrad(&["convert", "-t", "init.top", "-c", "trajectory.dat", "--to", "new", "-o", "link"], d.path());
    assert_eq!(
        error_line(&out),
        format!("error: invalid output = link/init.top: it is the input 'init.top': {IS_INPUT}")
    );
    assert_eq!((bytes(&d.path().join("init.top")), bytes(&d.path().join("trajectory.dat"))), before);
    // into another directory it works, and every output is complete
    let out = oxgrad(&["convert", "-t", "init.top", "-c", "trajectory.dat", "--to", "new", "-o", "new"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(bytes(&d.path().join("new/trajectory.dat")).len(), bytes(&d.path().join("trajectory.dat")).len());
}

#[test]
fn energy_never_writes_over_its_own_input() {
    let d = case();
    let before = bytes(&d.path().join("trajectory.dat"));
    let out = oxgrad(&["energy", "input_analysis_nomesh", "-o", "trajectory.dat", "--force"], d.path());
    assert_eq!(
        error_line(&out),
        format!("error: invalid output = trajectory.dat: it is the input 'trajectory.dat': {IS_INPUT}")
    );
    assert_eq!(bytes(&d.path().join("trajectory.dat")), before);
    // an existing output needs --force; without it nothing changes
    std::fs::write(d.path().join("e.tsv"), "keep me").unwrap();
    let out = oxgrad(&["energy", "input_analysis_nomesh", "-o", "e.tsv"], d.path());
    assert_eq!(error_line(&out), format!("error: invalid output = e.tsv: {EXISTS}"));
    assert_eq!(std::fs::read_to_string(d.path().join("e.tsv")).unwrap(), "keep me");
}

#[test]
fn simulate_checks_every_output_before_touching_any() {
    let d = case();
    std::fs::write(d.path().join("energy_md.dat"), "earlier energies\n").unwrap();
    std::fs::create_dir(d.path().join("traj_dir")).unwrap();
    let mut input = oxgrad::io::InputFile::read(d.path().join("input_md")).unwrap();
    input.set("steps", 100);
    input.set("trajectory_file", "traj_dir");
    input.set("energy_file", "energy_md.dat");
    input.write(d.path().join("input_bad")).unwrap();
    let out = oxgrad(&["simulate", "input_bad", "--force"], d.path());
    assert_eq!(error_line(&out), "error: invalid output = traj_dir: it is a directory: give a file name");
    assert_eq!(std::fs::read_to_string(d.path().join("energy_md.dat")).unwrap(), "earlier energies\n");
    // without --force an existing output is kept
    input.set("trajectory_file", "t.dat");
    input.write(d.path().join("input_ok")).unwrap();
    let out = oxgrad(&["simulate", "input_ok"], d.path());
    assert_eq!(error_line(&out), format!("error: invalid output = energy_md.dat: {EXISTS}"));
    assert_eq!(std::fs::read_to_string(d.path().join("energy_md.dat")).unwrap(), "earlier energies\n");
    // the trajectory may not be the starting configuration either
    input.set("trajectory_file", "init.dat");
    input.write(d.path().join("input_same")).unwrap();
    let before = bytes(&d.path().join("init.dat"));
    let out = oxgrad(&["simulate", "input_same", "--force"], d.path());
    assert_eq!(error_line(&out), format!("error: invalid output = init.dat: it is the input 'init.dat': {IS_INPUT}"));
    assert_eq!(bytes(&d.path().join("init.dat")), before);
}

#[test]
fn generate_does_not_overwrite_a_simulation() {
    let d = tempfile::tempdir().unwrap();
    let out = oxgrad(&["generate", "duplex", "-s", "ACGTACGT", "-o", "sim"], d.path());
    assert!(out.status.success());
    std::fs::write(d.path().join("sim/init.dat"), "my relaxed configuration").unwrap();
    let out = oxgrad(&["generate", "duplex", "-s", "GGGG", "-o", "sim"], d.path());
    assert_eq!(error_line(&out), format!("error: invalid output = sim/init.top: {EXISTS}"));
    assert_eq!(std::fs::read_to_string(d.path().join("sim/init.dat")).unwrap(), "my relaxed configuration");
    let top = std::fs::read_to_string(d.path().join("sim/init.top")).unwrap();
    assert!(top.starts_with("16 2"), "the topology was not replaced either");
}

const SHORT: &str = r#"
[model]
kind = "dna1"

[optimizer]
steps = 6
train = ["Stacking"]

[[simulator]]
name = "duplex"
kind = "native"
copies = 2
duplex = "ACGTTGCA"
md_steps = 30000
sample_every = 300

[[objective]]
name = "rise"
simulators = ["duplex"]
observable = { kind = "rise", exclude_end_pairs = 1 }
target = 0.36
max_valid_opt_steps = 2

[validation]
md_steps = 3000
"#;

#[test]
fn optimize_validates_before_touching_a_run_and_locks_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("short.toml"), SHORT).unwrap();
    std::fs::write(d.path().join("nan.toml"), SHORT.replace("steps = 6", "steps = 6\nlearning_rate = nan")).unwrap();
    // a long run holds the directory ...
    let mut first = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["optimize", "short.toml", "-o", "run"])
        .current_dir(d.path())
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let metrics = d.path().join("run/metrics.jsonl");
    let t = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(true, |m| m.lines().count() < 1) {
        assert!(t.elapsed().as_secs() < 120, "the first run did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // ... so a second one into it fails at once, naming the holder, even with --force
    let second = oxgrad(&["optimize", "short.toml", "-o", "run", "--force"], d.path());
    assert!(!second.status.success());
    assert!(stderr(&second).contains("another oxgrad process is writing it (pid"), "{}", stderr(&second));
    assert!(first.wait().unwrap().success());
    let done = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(done.lines().count(), 7, "the first run's rows, uninterleaved");
    // an invalid setting is found before the run directory is touched, --force or not
    let bad = oxgrad(&["optimize", "nan.toml", "-o", "run", "--force"], d.path());
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("learning_rate"), "{}", stderr(&bad));
    assert_eq!(std::fs::read_to_string(&metrics).unwrap(), done);
}

/// `oxgrad … | head`: the reader leaves early; the command ends quietly, without a panic.
#[test]
fn a_closed_pipe_ends_commands_quietly() {
    let d = case();
    let config = "[model]\nkind = \"dna1\"\ntemperature = \"296.15K\"\n[optimizer]\nsteps = 1\ntrain = [\"eps_stack_base\"]\n[[simulator]]\nname = \"x\"\nkind = \"trajectory\"\ntopology = \"init.top\"\ntrajectory = \"trajectory.dat\"\n[[objective]]\nname = \"r\"\nsimulators = [\"x\"]\nobservable = { kind = \"rise\" }\ntarget = 0.34\n";
    std::fs::write(d.path().join("g.toml"), config).unwrap();
    let mut input = oxgrad::io::InputFile::read(d.path().join("input_md")).unwrap();
    input.set("steps", 50);
    input.set("trajectory_file", "short_traj.dat");
    input.set("energy_file", "short_energy.dat");
    input.set("lastconf_file", "short_last.dat");
    input.write(d.path().join("input_short")).unwrap();
    for args in [
        &["generate", "duplex", "-s", "ACGT", "-o", "gen"][..],
        &["simulate", "input_short"][..],
        &["optimize", "g.toml", "--gradient-only"][..],
        &["observe", "rise", "-t", "init.top", "--trajectory", "trajectory.dat"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
            .args(args)
            .current_dir(d.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is printed
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {:?} {}", out.status, stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
    }
}
