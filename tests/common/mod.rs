//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod builtin_as_terms;
pub mod terms;

use std::path::PathBuf;

/// The oxDNA reference cases copied from ../shared/reference/oxdna (see tests/data/oxdna/PROVENANCE).
pub const CASES: [&str; 7] = [
    "dna1-avg-8bp-T296",
    "dna1-seqdep-20bp-T300",
    "dna2-avg-20bp-T300-salt0.5",
    "rna2-avg-12bp-T300-salt1.0",
    "extra-dna1-avg-nicked-20bp-T300",
    "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
    "dna2-seqdep-16bp-T330-salt0.2",
];

/// Directory of one reference case.
pub fn case_dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/oxdna").join(case)
}

/// A DiffTRe evaluation's gradient at `theta` against central differences of `loss` (to 2e-5
/// relative), and a step of 1e-4 along −∇L lowering the loss by what the gradient predicts
/// (to 2 %). `loss_at_theta` and `grads` are the evaluation's own.
pub fn check_gradient_and_step(
    theta: &oxgrad::optimize::Params,
    loss_at_theta: f64,
    grads: &oxgrad::params::ParamGrads,
    loss: impl Fn(&oxgrad::optimize::Params) -> f64,
) {
    for name in theta.keys() {
        let h = 1e-6;
        let (mut up, mut down) = (theta.clone(), theta.clone());
        *up.get_mut(name).unwrap() += h;
        *down.get_mut(name).unwrap() -= h;
        let fd = (loss(&up) - loss(&down)) / (2.0 * h);
        let ad = grads.get(name).unwrap();
        assert!((ad - fd).abs() <= 2e-5 * fd.abs().max(ad.abs()) + 1e-9, "d/d{name}: {ad} vs {fd}");
    }
    let g2: f64 = theta.keys().map(|n| grads.get(n).unwrap().powi(2)).sum();
    let h = 1e-4 / g2.sqrt();
    let stepped: oxgrad::optimize::Params =
        theta.iter().map(|(k, v)| (k.clone(), v - h * grads.get(k).unwrap())).collect();
    let drop = loss_at_theta - loss(&stepped);
    assert!((drop - h * g2).abs() < 0.02 * h * g2, "loss dropped {drop}, gradient predicts {}", h * g2);
}

/// The text of a training configuration from examples/ with `steps` updates and short
/// simulations (`md_steps` per run, a state every 100 steps, `equilibration` steps first, 4000
/// validation steps): the example as a test can afford it.
pub fn shortened_example(file: &str, steps: i64, md_steps: i64, equilibration: i64) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(file);
    let mut t: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let set = |t: &mut toml::Table, key: &str, v: i64| {
        assert!(t.contains_key(key), "{file} has no {key}: update this test");
        t.insert(key.into(), toml::Value::Integer(v));
    };
    set(t["optimizer"].as_table_mut().unwrap(), "steps", steps);
    for s in t["simulator"].as_array_mut().unwrap() {
        let s = s.as_table_mut().unwrap();
        set(s, "md_steps", md_steps);
        set(s, "sample_every", 100);
        set(s, "equilibration_steps", equilibration);
    }
    set(t["validation"].as_table_mut().unwrap(), "md_steps", 4_000);
    toml::to_string(&t).unwrap()
}
