//! The flagship fit with its defaults (`oxgrad optimize` = `examples/flagship.toml`, about 3
//! minutes on 2 cores): the *validated* pitch — fresh simulations with the best parameters, not
//! the optimizer's own estimate — moves toward 10.5 bp/turn by at least half of the initial
//! distance, and by more than 3 standard errors.

use std::process::Command;

#[test]
fn the_flagship_fit_holds_up_in_fresh_simulations() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad")).args(["optimize", "-o"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("validation.json")).unwrap()).unwrap();
    let (initial, best, target) = (&v[0]["initial"][0], &v[0]["best"][0], v[0]["targets"][0].as_f64().unwrap());
    let value = |e: &serde_json::Value| e["value"].as_f64().unwrap();
    let se = |e: &serde_json::Value| e["std_err"].as_f64().unwrap();
    let (d0, d1) = ((value(initial) - target).abs(), (value(best) - target).abs());
    let moved = d0 - d1;
    let combined = (se(initial).powi(2) + se(best).powi(2)).sqrt();
    assert!(
        d0 > 5.0 * se(initial),
        "the default model misses the target by many standard errors: {initial} vs {target}"
    );
    assert!(
        moved >= 0.5 * d0,
        "validated pitch {} → {} (target {target}): moved {moved} of {d0}",
        value(initial),
        value(best)
    );
    assert!(moved > 3.0 * combined, "the move {moved} is more than 3 standard errors ({combined})");
    let last = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();
    assert!(
        last.starts_with("initial_loss=") && last.contains(" validated=") && last.contains("target=10.5"),
        "{last}"
    );
}
