//! Nothing wrong is accepted silently, nothing is replaced that oxgrad did not write, and every
//! message leads to the fix (issue 27: each probe of that round, one test each).

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn oxgrad(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxgrad")).args(args).current_dir(dir).env_remove("RUST_LOG").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The error line of a failed command, exactly as the user reads it.
fn error_line(o: &Output) -> String {
    assert!(!o.status.success(), "the command should have failed: {}", stderr(o));
    stderr(o).lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_string()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// A copy of the 8-bp reference case in a scratch directory, with `edit` applied to `input_md`.
fn case(edit: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = common::case_dir("dna1-avg-8bp-T296");
    for f in ["init.top", "init.dat", "trajectory.dat", "input_md", "input_analysis_nomesh"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let mut input = oxgrad::io::InputFile::read(dir.path().join("input_md")).unwrap();
    input.set("steps", "200");
    input.set("print_conf_interval", "100");
    input.set("print_energy_every", "100");
    input.set("trajectory_file", "md_trajectory.dat");
    for (k, v) in edit {
        input.set(k, v);
    }
    input.write(dir.path().join("input_md")).unwrap();
    dir
}

const TRAINING: &str = r#"
[model]
kind = "dna1"
temperature = "300K"

[optimizer]
learning_rate = 1e-3
steps = 1
train = ["Stacking"]

[[simulator]]
name = "duplex"
kind = "native"
duplex = "ACGTTGCA"
md_steps = 400
sample_every = 100

[[objective]]
name = "rise"
simulators = ["duplex"]
observable = { kind = "rise", exclude_end_pairs = 1 }
target = 0.36

[validation]
enabled = false
"#;

#[test]
fn a_run_directory_with_files_of_the_users_is_not_replaced_without_force() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("t.toml"), TRAINING).unwrap();
    std::fs::create_dir(d.path().join("run")).unwrap();
    for own in ["config.toml", "seeds.toml", "report.html"] {
        let p = d.path().join("run").join(own);
        std::fs::write(&p, "mine").unwrap();
        let out = oxgrad(&["optimize", "t.toml", "-o", "run"], d.path());
        assert_eq!(
            error_line(&out),
            format!("error: invalid run directory = run: it holds files a run would replace ({own}): continue an interrupted run with --resume, replace it with --force, or choose another directory")
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "mine");
        std::fs::remove_file(p).unwrap();
    }
}

#[test]
fn the_configuration_is_never_replaced_by_its_own_run_even_with_force() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("run")).unwrap();
    std::fs::write(d.path().join("run/config.toml"), TRAINING).unwrap();
    let out = oxgrad(&["optimize", "run/config.toml", "-o", "run", "--force"], d.path());
    assert_eq!(
        error_line(&out),
        "error: invalid output = run/config.toml: it is the input 'run/config.toml': writing it would destroy what is being read; choose another output"
    );
    assert_eq!(std::fs::read_to_string(d.path().join("run/config.toml")).unwrap(), TRAINING);
}

#[test]
fn a_blow_up_never_overwrites_the_starting_configuration() {
    let d = case(&[("conf_file", "error_conf.dat")]);
    std::fs::rename(d.path().join("init.dat"), d.path().join("error_conf.dat")).unwrap();
    let before = std::fs::read(d.path().join("error_conf.dat")).unwrap();
    let out = oxgrad(&["simulate", "input_md", "--force"], d.path());
    assert_eq!(
        error_line(&out),
        "error: invalid output = error_conf.dat: it is the input 'error_conf.dat': writing it would destroy what is being read; choose another output"
    );
    assert_eq!(std::fs::read(d.path().join("error_conf.dat")).unwrap(), before);
}

#[test]
fn a_parameter_file_is_an_input_of_energy_and_simulate() {
    let d = case(&[("energy_file", "p.toml")]);
    std::fs::write(d.path().join("p.toml"), "model = \"dna1\"\n[stacking]\neps_stack_base = 1.4\n").unwrap();
    let out = oxgrad(&["energy", "input_analysis_nomesh", "--params", "p.toml", "-o", "p.toml", "--force"], d.path());
    assert_eq!(
        error_line(&out),
        "error: invalid output = p.toml: it is the input 'p.toml': writing it would destroy what is being read; choose another output"
    );
    let out = oxgrad(&["simulate", "input_md", "--params", "p.toml", "--force"], d.path());
    assert!(error_line(&out).contains("it is the input 'p.toml'"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(d.path().join("p.toml")).unwrap(),
        "model = \"dna1\"\n[stacking]\neps_stack_base = 1.4\n"
    );
}

#[test]
fn hostile_component_names_are_refused_for_every_kind() {
    let d = tempfile::tempdir().unwrap();
    for hostile in ["../../x", "/abs/x", "a/b", "..", ".x", "-x", "a b", ""] {
        let sim = TRAINING
            .replace("name = \"duplex\"", &format!("name = {hostile:?}"))
            .replace("simulators = [\"duplex\"]", &format!("simulators = [{hostile:?}]"));
        let obj = TRAINING.replace("name = \"rise\"", &format!("name = {hostile:?}"));
        for (what, text) in [("simulator[0].name", sim), ("objective[0].name", obj)] {
            std::fs::write(d.path().join("t.toml"), text).unwrap();
            let out = oxgrad(&["optimize", "t.toml", "--gradient-only"], d.path());
            let e = error_line(&out);
            assert!(e.contains(what) && e.contains("never paths"), "{hostile}: {e}");
        }
    }
    // a replayed trajectory is a simulator kind of its own
    let case = common::case_dir("dna1-avg-8bp-T296");
    let replay = format!(
        "[model]\nkind = \"dna1\"\n[optimizer]\nsteps = 1\n[[simulator]]\nname = \"../t\"\nkind = \"trajectory\"\ntopology = \"{}\"\ntrajectory = \"{}\"\n[[objective]]\nname = \"r\"\nsimulators = [\"../t\"]\nobservable = {{ kind = \"rise\", exclude_end_pairs = 1 }}\ntarget = 0.36\n",
        case.join("init.top").display(),
        case.join("trajectory.dat").display()
    );
    std::fs::write(d.path().join("t.toml"), replay).unwrap();
    let e = error_line(&oxgrad(&["optimize", "t.toml", "--gradient-only"], d.path()));
    assert!(e.contains("simulator[0].name") && e.contains("never paths"), "{e}");
}

#[test]
fn thread_counts_beyond_the_machines_cores_are_refused_with_the_count() {
    let d = case(&[]);
    let n = cores();
    let out = oxgrad(&["simulate", "input_md", "--threads", "10000"], d.path());
    assert_eq!(
        error_line(&out),
        format!("error: invalid --threads = 10000: between 1 and the {n} cores of this machine (the trajectory is the same for any count)")
    );
    let d = case(&[("threads", "100000")]);
    let out = oxgrad(&["simulate", "input_md"], d.path());
    assert!(error_line(&out).starts_with("error: invalid threads = 100000: "), "{}", stderr(&out));
    assert!(error_line(&out).contains(&format!("the {n} cores")), "{}", stderr(&out));
    assert!(!d.path().join("energy_md.dat").exists(), "nothing ran");
    // a task's num_cpus reaches `oxgrad simulate` (run by an oxDNA-kind simulator) as RAYON_NUM_THREADS
    let d = case(&[]);
    let sim = |v: &str| {
        Command::new(env!("CARGO_BIN_EXE_oxgrad"))
            .args(["simulate", "input_md", "--force"])
            .current_dir(d.path())
            .env("RAYON_NUM_THREADS", v)
            .output()
            .unwrap()
    };
    let one = sim("1");
    assert!(String::from_utf8_lossy(&one.stdout).contains("on 1 thread(s)"), "{}", stderr(&one));
    let e = error_line(&sim("100000"));
    assert!(e.starts_with("error: invalid RAYON_NUM_THREADS = 100000: environment: between 1 and"), "{e}");
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("t.toml"), format!("{TRAINING}\n[executor]\ncpus = 100000\n")).unwrap();
    let out = oxgrad(&["optimize", "t.toml", "--gradient-only"], t.path());
    let e = error_line(&out);
    assert!(e.contains("executor.cpus") && e.contains(&format!("the {n} cores")), "{e}");
}

#[test]
fn a_temperature_in_the_wrong_unit_is_refused_with_the_rule() {
    let d = case(&[("T", "300")]);
    let out = oxgrad(&["simulate", "input_md"], d.path());
    let e = error_line(&out);
    assert!(e.contains("T") && e.contains("a bare number is in simulation units") && e.contains("900000 K"), "{e}");
    assert!(!e.contains("newtonian_steps"), "{e}");
    let out = oxgrad(&["energy", "input_md"], d.path());
    assert!(error_line(&out).contains("900000 K"), "{}", stderr(&out));
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("t.toml"), TRAINING.replace("\"300K\"", "300")).unwrap();
    let e = error_line(&oxgrad(&["optimize", "t.toml", "--gradient-only"], t.path()));
    assert!(e.contains("model.temperature") && e.contains("900000 K"), "{e}");
}

#[test]
fn a_zero_interval_is_refused_not_taken_as_one() {
    for key in ["print_conf_interval", "print_energy_every"] {
        let d = case(&[(key, "0")]);
        let e = error_line(&oxgrad(&["simulate", "input_md"], d.path()));
        assert!(e.starts_with(&format!("error: invalid {key} = 0: ")) && e.contains("at least 1 step"), "{e}");
    }
}

#[test]
fn an_empty_trajectory_and_overlapping_nucleotides_are_errors() {
    let d = case(&[]);
    std::fs::write(d.path().join("empty.dat"), "").unwrap();
    let out = oxgrad(&["energy", "input_analysis_nomesh", "--trajectory", "empty.dat", "-o", "e.tsv"], d.path());
    assert_eq!(
        error_line(&out),
        "error: invalid trajectory = empty.dat: the file holds no frame: give a trajectory with at least one configuration"
    );
    assert!(!d.path().join("e.tsv").exists());
    // nucleotides 2 and 5 at the same place
    let text = std::fs::read_to_string(d.path().join("init.dat")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3 + 5] = lines[3 + 2].clone();
    std::fs::write(d.path().join("twin.dat"), lines.join("\n") + "\n").unwrap();
    let out = oxgrad(&["energy", "input_analysis_nomesh", "--trajectory", "twin.dat"], d.path());
    let e = error_line(&out);
    assert!(
        e.contains("frame 0")
            && e.contains("non-finite energy")
            && e.contains("nucleotides 2 and 5 are at the same place"),
        "{e}"
    );
}

#[test]
fn a_resumed_run_refuses_an_edited_configuration_with_the_keys() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("t.toml"), TRAINING).unwrap();
    let out = oxgrad(&["optimize", "t.toml", "-o", "run"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let cfg = d.path().join("run/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let edited =
        text.replace("learning_rate = 0.001", "learning_rate = 0.01").replace("md_steps = 400", "md_steps = 800");
    assert_ne!(edited, text);
    std::fs::write(&cfg, &edited).unwrap();
    let e = error_line(&oxgrad(&["optimize", "--resume", "run"], d.path()));
    assert!(
        e.starts_with("error: invalid --resume = run: its config.toml differs from the configuration the run started with (optimizer.learning_rate, simulator[0].md_steps): "),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), edited, "the edit is kept");
    // undone: the run resumes (and is complete already)
    std::fs::write(&cfg, &text).unwrap();
    let out = oxgrad(&["optimize", "--resume", "run"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn params_import_says_what_it_read_and_finds_the_model() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("empty.toml"), "").unwrap();
    let out = oxgrad(&["params", "import", "--from", "mythos", "empty.toml", "-o", "p.toml"], d.path());
    assert_eq!(
        error_line(&out),
        "error: invalid parameter file = empty.toml: it holds no parameter: a mythos / jax_dna parameter file has tables such as [stacking] with values like eps_stack_base = 1.3448"
    );
    assert!(!d.path().join("p.toml").exists());
    // an oxDNA2 export reads back as oxDNA2 without --model
    let out = oxgrad(&["params", "export", "--to", "mythos", "--model", "dna2", "-o", "m2.toml"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = oxgrad(&["params", "import", "--from", "mythos", "m2.toml", "-o", "p2.toml"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(line.contains("a complete dna2 parameter set") && line.contains("from m2.toml"), "{line}");
    assert!(std::fs::read_to_string(d.path().join("p2.toml")).unwrap().contains("model = \"dna2\""));
    // one value: one value read
    std::fs::write(d.path().join("one.toml"), "[stacking]\neps_stack_base = 1.4\n").unwrap();
    let out = oxgrad(&["params", "import", "--from", "mythos", "one.toml", "-o", "p1.toml"], d.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 value(s) from one.toml"), "{}", stderr(&out));
}

#[test]
fn a_parameter_file_names_its_unknown_key_and_may_be_partial() {
    let d = case(&[]);
    std::fs::write(d.path().join("typo.toml"), "model = \"dna1\"\n[stacking]\neps_stack_bse = 1.4\n").unwrap();
    let out = oxgrad(&["energy", "input_analysis_nomesh", "--params", "typo.toml"], d.path());
    let e = error_line(&out);
    assert!(e.contains("eps_stack_bse") && e.contains("eps_stack_base"), "{e}");
    assert!(e.len() < 400, "a short message: {e}");
    // a partial file: its values over the defaults
    std::fs::write(d.path().join("part.toml"), "model = \"dna1\"\n[stacking]\neps_stack_base = 1.4\n").unwrap();
    let part = oxgrad(&["energy", "input_analysis_nomesh", "--params", "part.toml"], d.path());
    let default = oxgrad(&["energy", "input_analysis_nomesh"], d.path());
    assert!(part.status.success(), "{}", stderr(&part));
    let col = |o: &Output, name: &str| -> f64 {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let mut lines = text.lines();
        let k = lines.next().unwrap().split('\t').position(|h| h == name).unwrap();
        lines.next().unwrap().split('\t').nth(k).unwrap().parse().unwrap()
    };
    let (s1, s0) = (col(&part, "STACKING"), col(&default, "STACKING"));
    assert!(s1 < s0 && s1 != s0, "deeper stacking with a larger eps_stack_base: {s1} vs {s0}");
    assert_eq!(col(&part, "FENE").to_bits(), col(&default, "FENE").to_bits(), "the rest at the defaults");
}

#[test]
fn equilibration_states_beyond_the_run_are_refused_before_any_simulation() {
    let d = tempfile::tempdir().unwrap();
    let text = TRAINING.replace("target = 0.36", "target = 0.36\nequilibration_states = 4");
    std::fs::write(d.path().join("t.toml"), text).unwrap();
    let out = oxgrad(&["optimize", "t.toml", "-o", "run"], d.path());
    let e = error_line(&out);
    assert!(
        e.contains("objective[0].equilibration_states")
            && e.contains("4 states are dropped from each run, and simulator 'duplex' samples 4 per run"),
        "{e}"
    );
    assert!(!e.contains("n_equilibration_steps"), "{e}");
    assert!(!d.path().join("run").exists(), "refused before anything ran");
}

/// GPUs: none detected, a `num_gpus` hint is refused with the key that adds them; a stand-in
/// `nvidia-smi` listing one device, or `[executor] gpus`, makes the pool hand it out.
#[test]
fn gpu_hints_are_met_by_detected_or_configured_gpus() {
    let d = tempfile::tempdir().unwrap();
    let text = TRAINING.replace("sample_every = 100", "sample_every = 100\nhints = { num_gpus = 0.5 }");
    std::fs::write(d.path().join("t.toml"), &text).unwrap();
    let bin = d.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let run = |path: &str, extra: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_oxgrad"));
        c.args(["optimize", "t.toml", "--gradient-only"]).current_dir(d.path()).env("PATH", path);
        c.env_remove("CUDA_VISIBLE_DEVICES");
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let none = run(bin.to_str().unwrap(), &[]);
    let e = error_line(&none);
    assert!(
        e.ends_with("simulator[0].hints.num_gpus: simulator 'duplex' asks for 0.5 GPUs and the pool has 0: lower its num_gpus hint or give the pool GPUs (`[executor] gpus = N`, or run where CUDA_VISIBLE_DEVICES or nvidia-smi -L shows them)"),
        "{e}"
    );
    let smi = bin.join("nvidia-smi");
    std::fs::write(&smi, "#!/bin/sh\necho 'GPU 0: Stand-in GPU (UUID: GPU-0)'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&smi, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let one = run(&path, &[]);
    assert!(one.status.success(), "{}", stderr(&one));
    let listed = run(bin.to_str().unwrap(), &[("CUDA_VISIBLE_DEVICES", "3")]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    std::fs::write(d.path().join("t.toml"), format!("{text}\n[executor]\ngpus = 1\n")).unwrap();
    let configured = run(bin.parent().unwrap().to_str().unwrap(), &[]);
    assert!(configured.status.success(), "{}", stderr(&configured));
    // more than this process was given is refused by name
    std::fs::write(d.path().join("t.toml"), format!("{text}\n[executor]\ngpus = 4\n")).unwrap();
    let more = run(bin.to_str().unwrap(), &[("CUDA_VISIBLE_DEVICES", "2,5")]);
    let e = error_line(&more);
    assert!(
        e.ends_with("executor.gpus: is 4, and this process sees 2 GPU(s) (2,5, from CUDA_VISIBLE_DEVICES or nvidia-smi -L): ask for at most 2, or run where there are more"),
        "{e}"
    );
}

/// A first Ctrl-C during a long equilibration is acknowledged at once and the run stops within
/// seconds (native MD checks between steps), saying nothing was committed.
#[test]
fn ctrl_c_during_a_long_equilibration_is_acknowledged_and_stops_within_seconds() {
    for executor in ["thread", "process"] {
        ctrl_c_stops(executor);
    }
}

fn ctrl_c_stops(executor: &str) {
    let d = tempfile::tempdir().unwrap();
    let text = TRAINING.replace("sample_every = 100", "sample_every = 100\nequilibration_steps = 100000000");
    std::fs::write(d.path().join("t.toml"), format!("{text}\n[executor]\nkind = \"{executor}\"\n")).unwrap();
    let mut run = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["optimize", "t.toml", "-o", "run"])
        .current_dir(d.path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // the run has started simulating once its directory holds the initial parameters
    let t = std::time::Instant::now();
    while !d.path().join("run/params_initial.toml").exists() {
        assert!(t.elapsed().as_secs() < 60 && run.try_wait().unwrap().is_none(), "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(Command::new("kill").args(["-INT", &run.id().to_string()]).status().unwrap().success());
    let sent = std::time::Instant::now();
    let out = run.wait_with_output().unwrap();
    let waited = sent.elapsed();
    let err = stderr(&out);
    assert!(waited.as_secs_f64() < 10.0, "{executor}: stopped after {waited:?}: {err}");
    assert!(err.contains("Ctrl-C received: stopping cleanly"), "{err}");
    assert_eq!(
        err.lines().last().unwrap(),
        "error: stopped on request during the first step of the run in run (no step was committed: start the run again)"
    );
}

/// Numbers with a physical range, beyond it: a step count of 0, a time step at which MD cannot
/// be stable, salt meant in mM, a negative length as a target.
#[test]
fn numbers_outside_their_physical_range_are_refused_by_name() {
    for (key, value, want) in [
        ("steps", "0", "error: invalid steps = 0: "),
        ("dt", "5", "error: invalid dt = 5: a positive time step up to 0.05"),
    ] {
        let d = case(&[(key, value)]);
        let e = error_line(&oxgrad(&["simulate", "input_md"], d.path()));
        assert!(e.starts_with(want), "{key}: {e}");
    }
    let d = case(&[("interaction_type", "DNA2"), ("salt_concentration", "100")]);
    let e = error_line(&oxgrad(&["simulate", "input_md"], d.path()));
    assert!(e.starts_with("error: invalid salt_concentration = 100: ") && e.contains("100 mM is 0.1"), "{e}");
    let t = tempfile::tempdir().unwrap();
    for (from, to, key) in [
        ("kind = \"dna1\"", "kind = \"dna2\"\nsalt = 150", "model.salt"),
        ("target = 0.36", "target = -5", "objective[0].observable"),
        ("sample_every = 100", "sample_every = 100\ndt = 5", "simulator[0].dt"),
    ] {
        std::fs::write(t.path().join("t.toml"), TRAINING.replace(from, to)).unwrap();
        let e = error_line(&oxgrad(&["optimize", "t.toml", "--gradient-only"], t.path()));
        assert!(e.contains(key) && !e.contains("newtonian_steps"), "{to}: {e}");
    }
}

/// `--force` replaces what a run writes, never a file of the user's that happens to sit in the
/// run's `state/` directory.
#[test]
fn force_replaces_only_what_a_run_writes() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("t.toml"), TRAINING).unwrap();
    std::fs::create_dir_all(d.path().join("run/state")).unwrap();
    std::fs::write(d.path().join("run/state/mine.json"), "{}").unwrap();
    std::fs::write(d.path().join("run/state/notes.txt"), "mine").unwrap();
    let e = error_line(&oxgrad(&["optimize", "t.toml", "-o", "run"], d.path()));
    assert!(e.contains("(state/)") && e.contains("--force"), "{e}");
    let out = oxgrad(&["optimize", "t.toml", "-o", "run", "--force"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(d.path().join("run/state/mine.json")).unwrap(), "{}");
    assert_eq!(std::fs::read_to_string(d.path().join("run/state/notes.txt")).unwrap(), "mine");
    assert!(d.path().join("run/checkpoint.json").is_file());
}
