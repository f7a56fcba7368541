//! The README's Quickstart runs as written: every line of its `sh` block, in order, through
//! `sh` with the built `oxgrad` first on PATH, in a temporary directory holding what the lines
//! read from a checkout (`examples/flagship.toml`). The flagship is cut to two updates and short
//! simulations here (`tests/flagship.rs` runs it whole). The one line that needs an oxDNA source
//! tree (`~/oxDNA`) is skipped, and the README says so.

mod common;

use std::path::Path;
use std::process::Command;

/// The lines of the `sh` block under `## Quickstart`.
fn quickstart() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split_once("\n## Quickstart\n").expect("README.md has a '## Quickstart' section").1;
    let block = section.split_once("```sh\n").expect("an sh block under Quickstart").1;
    block.split_once("```").unwrap().0.lines().map(String::from).collect()
}

#[test]
fn the_quickstart_runs_in_order_as_written() {
    let lines = quickstart();
    let (skipped, run): (Vec<&String>, Vec<&String>) = lines.iter().partition(|l| l.contains("~/oxDNA"));
    assert_eq!(skipped.len(), 1, "only the oxDNA header export needs oxDNA: {skipped:?}");
    assert!(skipped[0].starts_with("oxgrad params export ") && skipped[0].contains("--to oxdna-header"));
    assert!(run.len() >= 10, "{run:?}");

    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("examples")).unwrap();
    std::fs::write(
        d.path().join("examples/flagship.toml"),
        common::shortened_example("flagship.toml", 2, 4_000, 1_000),
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_oxgrad")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    for line in run {
        assert!(line.starts_with("oxgrad "), "a Quickstart line runs oxgrad: {line}");
        let out = Command::new("sh").args(["-c", line]).env("PATH", &path).current_dir(d.path()).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{line}\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        // what the comments say a line gives
        if line.contains("--gradient-only") {
            let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
            assert!(v["loss"].is_number() && v["n_eff"].is_object() && v["grads"].is_object(), "{v}");
        }
    }
    for file in [
        "run/params_best.toml",
        "helix/init.top",
        "helix/init.dat",
        "helix/input_md",
        "helix/trajectory.dat",
        "helix/energy.dat",
        "helix/last_conf.dat",
        "ss/init.top",
        "helix-new/init.top",
        "best-mythos.toml",
    ] {
        assert!(d.path().join(file).is_file(), "{file} was written");
    }
}
