//! Every class of configuration error, each a fixture in `tests/inputs/config/bad/` whose last
//! line `#! expect: LINE: KEY: MESSAGE` is the exact error (after the file name). One test per
//! fixture, so a failing fixture names itself and the others still run; a last test checks that
//! every fixture of the directory has its test.

use oxgrad::config::ConfigFile;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/config/bad")
}

fn check(name: &str) {
    let path = dir().join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let expect = text
        .lines()
        .find_map(|l| l.strip_prefix("#! expect: "))
        .unwrap_or_else(|| panic!("{}: no '#! expect:' line", path.display()));
    let err = ConfigFile::read(&path)
        .and_then(ConfigFile::build)
        .err()
        .unwrap_or_else(|| panic!("{} was accepted", path.display()));
    assert_eq!(err.to_string(), format!("{}:{expect}", path.display()));
}

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
        const FIXTURES: &[&str] = &[$(stringify!($name)),*];
    };
}

fixtures!(
    bad_learning_rate,
    bad_temperature,
    cpus_on_slurm,
    duplicate_name,
    force_without_unit,
    key_of_two_kinds,
    maxclust_on_single_moves,
    md_key_on_monte_carlo,
    melting_among_observables,
    melting_on_md,
    missing_kind_key,
    missing_steps,
    modulus_among_observables,
    modulus_on_replayed_trajectory,
    missing_target,
    model_without_kind,
    native_key_on_trajectory,
    no_system,
    one_force,
    oxdna_key_on_native,
    oxdna_program_and_source,
    passthrough_with_two_objectives,
    rna2_diameter,
    rna2_dna_parameter,
    rna2_oxdna_simulator,
    salt_as_text,
    salt_on_dna1,
    simulator_wrong_type,
    spool_on_thread_executor,
    syntax_error,
    temperature_target_on_rise,
    too_many_excluded_pairs,
    two_systems,
    unknown_executor_kind,
    unknown_loss,
    unknown_model,
    unknown_model_key,
    unknown_objective_key,
    unknown_observable,
    unknown_observable_key,
    unknown_optimizer_key,
    unknown_simulator_key,
    unknown_simulator_kind,
    unknown_simulator_reference,
    unknown_trained_parameter,
    wrong_type,
);

#[test]
fn every_fixture_has_its_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed = FIXTURES.to_vec();
    listed.sort_unstable();
    assert_eq!(on_disk, listed, "add the new fixture's name to fixtures!(…)");
}
