//! Every example under `examples/` runs, with small settings, and prints what the README's table
//! says it shows. The Rust programs run as `cargo test` builds them (target/<profile>/examples/)
//! with `OXGRAD_EXAMPLE_QUICK=1` (each shortens its runs) or small arguments; the training
//! configurations run through the library with their steps and MD lengths cut down (the
//! flagship in full is `tests/flagship.rs`). Seeds are fixed, so what is checked here comes out
//! the same on every run.

mod common;

use oxgrad::config::ConfigFile;
use oxgrad::train::{RunOptions, Summary};
use std::path::{Path, PathBuf};
use std::process::Command;

/// An example program as `cargo test` builds it: this test is target/<profile>/deps/examples-…,
/// the examples are in target/<profile>/examples/.
fn program(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(Path::parent).unwrap().join("examples").join(name);
    assert!(
        path.is_file(),
        "{} is missing: `cargo test --release` builds the examples; with a filter such as `--test examples`, build them first (`cargo build --release --examples`)",
        path.display()
    );
    path
}

/// Runs an example quick, from the repository root; its standard output.
fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(program(name))
        .args(args)
        .env("OXGRAD_EXAMPLE_QUICK", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The last line, a JSON object.
fn last_json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn custom_term_trains_the_restraint_and_validates_it() {
    let out = run("custom_term", &[]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("step ")).count(),
        6,
        "5 updates, then the last evaluation:\n{out}"
    );
    let v = last_json(&out);
    assert_eq!(num(&v["target_nm"]), 2.5);
    let (k0, k1) = (num(&v["initial"]["k_restraint"]), num(&v["fitted"]["k_restraint"]));
    let (d0, d1) = (num(&v["initial"]["end_to_end_nm"]), num(&v["fitted"]["end_to_end_nm"]));
    assert!(k1 > k0, "the ends are too far apart: the spring stiffens, {k0} → {k1}");
    let se = num(&v["initial"]["std_err"]).hypot(num(&v["fitted"]["std_err"]));
    assert!(d0 > 2.5 && d0 - d1 > 2.0 * se, "validated end-to-end distance {d0} → {d1} nm (± {se}), toward 2.5");
}

#[test]
fn fit_pitch_moves_the_validated_pitch_toward_the_target() {
    let out = run("fit_pitch", &[]);
    let v = last_json(&out);
    let (p0, p1) = (num(&v["initial"]["pitch"]), num(&v["fitted"]["pitch"]));
    assert!(p0 < 10.45 && p1 > p0, "validated pitch {p0} → {p1} bp/turn (target 10.5)");
}

#[test]
fn custom_loss_lowers_its_loss() {
    let v = last_json(&run("custom_loss", &[]));
    let (before, after) = (num(&v["before"]["loss"]), num(&v["after"]["loss"]));
    assert!(after < before, "loss {before} → {after}");
    assert!(v["params"].as_object().unwrap().len() == 4, "{v}");
}

#[test]
fn custom_objective_equals_difftre_then_trains() {
    let out = run("custom_objective", &[]);
    assert!(out.contains("|fluctuation − DiffTRe| ≤"), "{out}");
    assert!(out.lines().last().unwrap().starts_with("eps_stack_base: "), "{out}");
}

#[test]
fn custom_simulator_trains_through_an_external_program() {
    let out = run("custom_simulator", &[env!("CARGO_BIN_EXE_oxgrad")]);
    assert_eq!(out.lines().filter(|l| l.starts_with("step ")).count(), 4, "{out}");
    assert!(out.lines().last().unwrap().starts_with("eps_stack_base: "), "{out}");
}

#[test]
fn custom_aggregation_pcgrad_against_the_mean() {
    let out = run("custom_aggregation", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() == 2 && lines[0].trim_start().starts_with("mean: "), "{out}");
    assert!(lines[1].starts_with("pcgrad: a = 1.5000, b = 0.5000,"), "PCGrad reaches both objectives' zero:\n{out}");
}

#[test]
fn simulate_and_differentiate_prints_energies_and_gradients() {
    let out = run("simulate_and_differentiate", &[]);
    assert!(out.starts_with("100 states, mean potential energy "), "{out}");
    for name in ["eps_stack_base", "a_stack", "dr0_stack", "a_stack_4"] {
        assert!(out.contains(&format!("d<E>/d{name} = ")), "{out}");
    }
}

#[test]
fn executors_thread_and_process_give_the_same_parameters() {
    let thread = run("executors", &["--executor", "thread"]);
    let process = run("executors", &["--executor", "process"]);
    let (t, p) = (last_json(&thread), last_json(&process));
    assert!(t.as_object().is_some_and(|o| !o.is_empty()), "{thread}");
    assert_eq!(t, p, "the same final parameters on every executor");
}

#[test]
fn measurement_programs_run() {
    let overhead = last_json(&run("scheduler_overhead", &[]));
    assert!(num(&overhead["overhead_us_per_task"]) > 0.0 && num(&overhead["parallel_efficiency"]) > 0.0, "{overhead}");
    let overhead = last_json(&run("scheduler_overhead", &["--executor", "process"]));
    assert!(num(&overhead["overhead_us_per_task"]) > 0.0, "{overhead}");
    let memory = last_json(&run("map_memory", &["checkpoint", "40", "20"]));
    assert_eq!(memory["mode"], "checkpoint");
    assert!(num(&memory["peak_rss_mb"]) > 0.0 && num(&memory["d_eps_stack_base"]).is_finite(), "{memory}");
}

/// A training configuration from examples/ with one update and short simulations, run in a
/// temporary directory.
fn train_short(file: &str) -> Summary {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(file);
    let text = common::shortened_example(file, 1, 2_000, 500);
    let plan = ConfigFile::parse(&text, &path).unwrap().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = plan.training().unwrap().run(dir.path(), &RunOptions::default()).unwrap();
    assert_eq!(summary.steps, 1);
    summary
}

#[test]
fn two_objectives_fits_pitch_and_rise_of_two_duplexes() {
    let s = train_short("two_objectives.toml");
    let v: Vec<(&str, &str, f64)> =
        s.validation.iter().map(|r| (r.objective.as_str(), r.observables[0].as_str(), r.targets[0])).collect();
    assert_eq!(v, [("pitch", "pitch", 10.5), ("rise", "rise", 0.340)]);
}

#[test]
fn propeller_starts_near_its_target() {
    let s = train_short("propeller.toml");
    let r = &s.validation[0];
    assert_eq!((r.observables[0].as_str(), r.targets[0]), ("propeller_twist", 21.7));
    let initial = r.initial[0].value;
    assert!((initial - 21.7).abs() < 2.0, "the model's own propeller twist {initial}° is near 21.7°");
}

/// `examples/melting.toml` with one update and 4 × 10⁵-step Monte Carlo runs: the melting
/// objective, its Newton-like step and the validation by fresh umbrella sampling run end to end,
/// and the initial Tm lies where the averaged model melts this duplex (well below the target).
#[test]
fn melting_fits_toward_santalucias_tm() {
    let file = "melting.toml";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(file);
    let mut t: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    t["optimizer"].as_table_mut().unwrap().insert("steps".into(), toml::Value::Integer(1));
    let sim = t["simulator"].as_array_mut().unwrap()[0].as_table_mut().unwrap();
    for (key, v) in [("steps", 400_000), ("equilibration_steps", 50_000)] {
        assert!(sim.contains_key(key), "{file} has no {key}: update this test");
        sim.insert(key.into(), toml::Value::Integer(v));
    }
    t["validation"].as_table_mut().unwrap().insert("md_steps".into(), toml::Value::Integer(400_000));
    let plan = ConfigFile::parse(&toml::to_string(&t).unwrap(), &path).unwrap().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = plan.training().unwrap().run(dir.path(), &RunOptions::default()).unwrap();
    let r = &s.validation[0];
    assert_eq!((r.observables[0].as_str(), r.units[0].as_str()), ("melting_temperature", "K"));
    assert!((r.targets[0] - 335.01).abs() < 1e-9, "61.86C in kelvin: {}", r.targets[0]);
    let (initial, best) = (&r.initial[0], &r.best[0]);
    assert!(initial.value.is_finite() && initial.std_err.is_finite(), "{initial:?}");
    assert!((315.0..334.0).contains(&initial.value), "the averaged model melts AGCGTGAC near 329 K: {initial:?}");
    assert!(best.value.is_finite(), "{best:?}");
}

/// `examples/stretch.toml` with one update and short runs: the objective expands its simulator
/// into one per force (four copies each), trains, and the validation re-simulates every force.
#[test]
fn stretch_runs_every_force_and_validates_them() {
    let s = train_short("stretch.toml");
    let r = &s.validation[0];
    assert_eq!((r.observables[0].as_str(), r.units[0].as_str(), r.targets[0]), ("stretch_modulus", "pN", 1200.0));
    assert_eq!(r.copies, 12, "four copies at each of three forces");
    assert!(r.initial[0].value.is_finite() && r.best[0].value.is_finite(), "{:?} {:?}", r.initial, r.best);
}
