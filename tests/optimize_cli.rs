//! `oxgrad optimize` on built-in defaults (shortened): a run directory with metrics, parameters
//! per step and the final parameter set.

use oxgrad::params::ParamSet;
use std::process::Command;

#[test]
fn optimize_writes_a_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args([
            "optimize",
            "--steps",
            "3",
            "--md-steps",
            "2000",
            "--equilibration",
            "500",
            "--sample-every",
            "100",
            "--simulators",
            "2",
            "-o",
        ])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().next(), Some("step,name,value"));
    for step in 0..3 {
        for name in ["propeller.loss", "propeller.neff", "propeller.propeller_twist_deg"] {
            let line = metrics
                .lines()
                .find(|l| l.starts_with(&format!("{step},{name},")))
                .unwrap_or_else(|| panic!("{step} {name}"));
            let v: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
            assert!(v.is_finite());
        }
    }
    let params = std::fs::read_to_string(run.join("params.csv")).unwrap();
    assert_eq!(params.lines().count(), 4, "a header and one row per step");
    let fitted = ParamSet::read(run.join("params_final.toml")).unwrap();
    let defaults = ParamSet::dna1_defaults();
    assert!((fitted.value("eps_stack_base") - defaults.value("eps_stack_base")).abs() > 1e-5, "stacking was optimised");
    assert!((fitted.value("eps_backbone") - defaults.value("eps_backbone")).abs() < 1e-15, "FENE was not selected");
    assert!(run.join("init.top").exists() && run.join("init.dat").exists());
}

#[test]
fn optimize_refuses_an_unknown_term() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["optimize", "--terms", "Stacking,Stickyness", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid term = Stickyness"));
}
