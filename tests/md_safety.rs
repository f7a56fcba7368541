//! The MD engine is never silently wrong and never loses a frame: a blow-up stops with the step,
//! the nucleotides and the last good configuration; unused and duplicated keys are reported;
//! unimplemented features are refused by name; a killed run leaves whole frames, whole energy
//! lines and a readable last configuration; Ctrl-C ends cleanly; a run continues from its last
//! configuration; thread counts do not change the trajectory; external forces act.

mod common;

use oxgrad::io::{Configuration, InputFile, TrajectoryReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn oxgrad(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxgrad")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `text` with every number replaced by `#` (a message's exact wording, whatever its values).
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        let numeric = c.is_ascii_digit() || (in_number && c == '.');
        if numeric && !in_number {
            out.push('#');
        } else if !numeric {
            out.push(c);
        }
        in_number = numeric;
    }
    out
}

/// A generated duplex with an MD input whose settings `edit` changes.
fn duplex(seq: &str, edit: impl FnOnce(&mut InputFile)) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let out = oxgrad(&["generate", "duplex", "-s", seq, "-o", "."], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let mut input = InputFile::read(d.path().join("input_md")).unwrap();
    input.set("steps", 2000);
    input.set("print_conf_interval", 500);
    input.set("print_energy_every", 500);
    edit(&mut input);
    input.write(d.path().join("input_md")).unwrap();
    d
}

#[test]
fn a_blow_up_stops_with_the_step_the_nucleotides_and_the_last_good_configuration() {
    let d = duplex("ACGTACGTACGT", |i| i.set("dt", "0.05"));
    let out = oxgrad(&["simulate", "input_md", "--threads", "1"], d.path());
    assert!(!out.status.success(), "a blown-up run fails");
    let err = stderr(&out);
    // the exact message, its numbers (steps, nucleotides, lengths) aside: every stretched bond,
    // what to change, and where the last good configuration is
    let line = err.lines().last().unwrap();
    let clauses: Vec<String> = shape(line).split("; ").map(str::to_string).collect();
    let bond = "the backbone bond between nucleotides # and # is # long, beyond FENE's divergence at #–# (distance between bonded neighbors exceeded)";
    assert!(clauses.len() >= 3, "{line}");
    assert_eq!(clauses[0], format!("error: the simulation became unstable at step #: {bond}"), "{line}");
    for c in &clauses[1..clauses.len() - 2] {
        assert_eq!(c, bond, "{line}");
    }
    assert_eq!(clauses[clauses.len() - 2], "reduce dt (now #) or start from a relaxed configuration", "{line}");
    assert_eq!(clauses[clauses.len() - 1], "the last good configuration (step #) is in error_conf.dat", "{line}");
    assert!(line.contains("reduce dt (now 0.05)") && line.contains("FENE's divergence at 0.5025–1.0025"), "{line}");
    let bad: u64 = line.split("unstable at step ").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
    let good: u64 = line.split("configuration (step ").nth(1).unwrap().split(')').next().unwrap().parse().unwrap();
    assert_eq!(good + 1, bad, "{line}");
    // the last good configuration is a whole, readable configuration with finite energies
    let c = Configuration::read(d.path().join("error_conf.dat"), 24).unwrap();
    assert!(c.energy.iter().all(|e| e.is_finite()) && c.step > 0);
    // oxDNA's max_backbone_force lets FENE continue instead (and a small dt runs fine)
    let d = duplex("ACGTACGTACGT", |i| i.set("dt", "0.003"));
    assert!(oxgrad(&["simulate", "input_md"], d.path()).status.success());
}

#[test]
fn unused_and_duplicated_keys_are_reported_and_unimplemented_features_refused() {
    let d = duplex("ACGTACGT", |i| {
        i.remove("thermostat");
        i.set("thermostatt", "john");
    });
    // a duplicate key, added by hand after the others
    let text = std::fs::read_to_string(d.path().join("input_md")).unwrap() + "dt = 0.004\n";
    std::fs::write(d.path().join("input_md"), text).unwrap();
    let out = oxgrad(&["simulate", "input_md"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let input = std::fs::read_to_string(d.path().join("input_md")).unwrap();
    let line_of = |key: &str| input.lines().position(|l| l.split('=').next().unwrap().trim() == key).unwrap() + 1;
    let last_dt = input.lines().count();
    let warnings: Vec<&str> = err.lines().filter_map(|l| l.split(" WARN ").nth(1)).collect();
    assert_eq!(
        warnings,
        [
            format!(
                "input_md: 'dt' is given twice (lines {} and {last_dt}); the last value counts, as in oxDNA",
                line_of("dt")
            ),
            format!(
                "input_md: keys the engine does not use: 'thermostatt' (line {}; did you mean 'thermostat'?)",
                line_of("thermostatt")
            ),
        ],
        "{err}"
    );
    let strict = oxgrad(&["simulate", "input_md", "--strict", "--force"], d.path());
    assert!(!strict.status.success());
    assert_eq!(
        stderr(&strict).lines().last().unwrap(),
        format!(
            "error: invalid input keys = 1: input_md: keys the engine does not use: 'thermostatt' (line {}; did you mean 'thermostat'?); remove them, or run without --strict to only warn",
            line_of("thermostatt")
        )
    );
    for (key, value, says) in [
        (
            "sim_type",
            "FFS_MD",
            "oxgrad's native engine runs sim_type = MD, MC or VMMC (no forward-flux sampling, MC2 or parallel tempering)",
        ),
        (
            "backend",
            "CUDA",
            "oxgrad's native engine runs on the CPU (backend = CPU); run CUDA inputs with oxDNA itself",
        ),
        ("thermostat", "bussi", "unknown thermostat; valid thermostats are no, john (or brownian), langevin"),
        (
            "external_forces_as_JSON",
            "true",
            "oxgrad reads oxDNA's plain external forces files ({ … } blocks), not the JSON form",
        ),
    ] {
        let d = duplex("ACGT", |i| i.set(key, value));
        let out = oxgrad(&["simulate", "input_md"], d.path());
        assert!(!out.status.success(), "{key} = {value}");
        assert_eq!(
            stderr(&out).lines().last().unwrap(),
            format!("error: invalid {key} = {value}: input_md: {says}"),
            "{key}"
        );
    }
}

/// Waits until `path` holds at least `n` lines.
fn wait_lines(path: &Path, n: usize, child: &mut std::process::Child) {
    let t = Instant::now();
    while std::fs::read_to_string(path).map_or(0, |s| s.lines().count()) < n {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(t.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_killed_run_leaves_whole_frames_whole_lines_and_a_readable_last_configuration() {
    let d = duplex(&"ACGTTGCA".repeat(8), |i| {
        i.set("steps", 10_000_000);
        i.set("print_conf_interval", 50);
        i.set("print_energy_every", 10);
    });
    let mut run = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["simulate", "input_md", "--threads", "1"])
        .current_dir(d.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_lines(&d.path().join("energy.dat"), 40, &mut run);
    run.kill().unwrap(); // SIGKILL: nothing gets to clean up
    run.wait().unwrap();
    let n = 128;
    // Each frame is written with one call, but Linux stops a write to a file between pages when
    // SIGKILL arrives (a frame here is 6 pages): the kill may cut the frame being written. Every
    // frame before it is whole, and a cut frame is reported as an error, never read as a frame.
    let mut read: Vec<_> = TrajectoryReader::open(d.path().join("trajectory.dat"), n).unwrap().collect();
    if let Some(Err(e)) = read.last() {
        eprintln!("the kill cut the last frame: {e}");
        read.pop();
    }
    let frames: Vec<Configuration> =
        read.into_iter().collect::<Result<_, _>>().expect("every frame but a cut last one parses");
    assert!(frames.len() >= 5, "{} frames", frames.len());
    let energy = std::fs::read_to_string(d.path().join("energy.dat")).unwrap();
    assert!(energy.ends_with('\n'), "the energy file ends with a whole line");
    for l in energy.lines() {
        let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
        assert_eq!(v.len(), 4, "{l}");
    }
    let last = Configuration::read(d.path().join("last_conf.dat"), n).unwrap();
    assert_eq!(last.step % 50, 0, "refreshed at a print_conf_interval");
    // the frame is appended before last_conf is renamed into place: a kill between the two leaves
    // last_conf one interval behind the trajectory, never more
    assert!(
        last.step + 50 >= frames.last().unwrap().step,
        "last_conf at {}, trajectory at {}",
        last.step,
        frames.last().unwrap().step
    );
}

#[test]
fn ctrl_c_ends_after_the_step_and_a_run_continues_from_its_last_configuration() {
    let d = duplex("ACGTTGCAACGT", |i| {
        i.set("steps", 10_000_000);
        i.set("print_energy_every", 100);
    });
    let mut run = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["simulate", "input_md"])
        .current_dir(d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_lines(&d.path().join("energy.dat"), 5, &mut run);
    assert!(Command::new("kill").args(["-INT", &run.id().to_string()]).status().unwrap().success());
    let out = run.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(
        shape(err.lines().last().unwrap()),
        "error: interrupted after step #: everything up to it is saved in last_conf.dat; continue with: conf_file = last_conf.dat and restart_step_counter = false in input_md (and new output names, or --force)",
        "{err}"
    );
    let last = Configuration::read(d.path().join("last_conf.dat"), 24).unwrap();
    assert!(last.step >= 400, "{}", last.step);
    // continue: from last_conf's step up to `steps`
    let mut input = InputFile::read(d.path().join("input_md")).unwrap();
    input.set("conf_file", "last_conf.dat");
    input.set("lastconf_file", "last2.dat");
    input.set("restart_step_counter", "false");
    input.set("refresh_vel", "false");
    input.set("steps", last.step + 1000);
    input.set("trajectory_file", "traj2.dat");
    input.set("energy_file", "energy2.dat");
    input.write(d.path().join("input_more")).unwrap();
    let out = oxgrad(&["simulate", "input_more"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let more = Configuration::read(d.path().join("last2.dat"), 24).unwrap();
    assert_eq!(more.step, last.step + 1000);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1000 steps of 24 nucleotides"));
}

#[test]
fn thread_counts_give_the_same_trajectory() {
    // 400 nucleotides: enough pairs for the force evaluation to split over threads
    let seq: String = (0..200).map(|k| ['A', 'C', 'G', 'T'][(k * 7 + k / 3) % 4]).collect();
    let d = duplex(&seq, |i| {
        i.set("steps", 300);
        i.set("print_conf_interval", 100);
    });
    let mut trajectories = Vec::new();
    // the command line takes up to the machine's cores (CI has 2)
    for threads in ["1", "2"] {
        let out = oxgrad(&["simulate", "input_md", "--threads", threads, "--force"], d.path());
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("on {threads} thread(s)")));
        trajectories.push(std::fs::read(d.path().join("trajectory.dat")).unwrap());
    }
    // the library takes any count: more threads than cores
    let run = oxgrad::simulate::SimRun::from_input(&InputFile::read(d.path().join("input_md")).unwrap()).unwrap();
    run.check_outputs(true).unwrap();
    run.run_with(3, None, |_, _| {}).unwrap();
    trajectories.push(std::fs::read(d.path().join("trajectory.dat")).unwrap());
    assert_eq!(trajectories[0], trajectories[1], "1 and 2 threads: bit for bit");
    assert_eq!(trajectories[0], trajectories[2], "1 and 3 threads: bit for bit");
}

/// Pulling the two ends of a duplex apart with constant forces (oxDNA's `string`) stretches it:
/// the mean end-to-end distance grows beyond its error bar.
#[test]
fn a_pulled_duplex_is_longer() {
    let extension = |force: f64| -> (f64, f64) {
        let d = duplex("ACGTTGCAACGTTGCA", |i| {
            i.set("steps", 60_000);
            i.set("print_conf_interval", 200);
            i.set("seed", 5);
            i.set("external_forces", "true");
            i.set("external_forces_file", "forces.txt");
        });
        // strand 0 runs up the helix axis (+z) from nucleotide 15 (its 5' end, classic order) to
        // nucleotide 0 (its 3' end): pull those two apart along the axis
        let forces = format!(
            "{{\ntype = string\nparticle = 15\nF0 = {force}\nrate = 0\ndir = 0, 0, -1\n}}\n{{\ntype = string\nparticle = 0\nF0 = {force}\nrate = 0\ndir = 0, 0, 1\n}}\n"
        );
        std::fs::write(d.path().join("forces.txt"), forces).unwrap();
        let out = oxgrad(&["simulate", "input_md"], d.path());
        assert!(out.status.success(), "{}", stderr(&out));
        let frames: Vec<Configuration> =
            TrajectoryReader::open(d.path().join("trajectory.dat"), 32).unwrap().map(Result::unwrap).collect();
        let z: Vec<f64> = frames.iter().skip(50).map(|f| (f.r[0] - f.r[15]).norm()).collect();
        let m = z.iter().sum::<f64>() / z.len() as f64;
        let blocks: Vec<f64> = z.chunks_exact(25).map(|b| b.iter().sum::<f64>() / 25.0).collect();
        let bm = blocks.iter().sum::<f64>() / blocks.len() as f64;
        let se =
            (blocks.iter().map(|b| (b - bm).powi(2)).sum::<f64>() / ((blocks.len() - 1) * blocks.len()) as f64).sqrt();
        (m, se)
    };
    let (free, free_se) = extension(0.0);
    let (pulled, pulled_se) = extension(0.6); // about 29 pN
    let sigma = (free_se * free_se + pulled_se * pulled_se).sqrt();
    assert!(pulled - free > 3.0 * sigma, "end-to-end {free} ± {free_se} free, {pulled} ± {pulled_se} pulled");
}
