//! `oxgrad energy` in a reference case directory prints oxDNA's numbers; bad inputs are clear
//! errors: a parameter outside its domain, a topology that does not match the trajectory, a missing
//! sequence-dependent file.

mod common;

use common::case_dir;
use oxgrad::energy::EnergyModel;
use oxgrad::params::ParamSet;
use oxgrad::system::Topology;
use std::process::Command;

fn oxgrad(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_oxgrad")).current_dir(dir).args(args).output().unwrap()
}

#[test]
fn energy_command_reproduces_oxdna_in_a_case_directory() {
    for case in ["dna1-seqdep-20bp-T300", "dna2-avg-20bp-T300-salt0.5"] {
        let dir = case_dir(case);
        let out = oxgrad(&dir, &["energy", "input_analysis_nomesh"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mine = String::from_utf8(out.stdout).unwrap();
        let theirs = std::fs::read_to_string(dir.join("energies_nomesh.tsv")).unwrap();
        let mut mine_lines = mine.lines();
        let header: Vec<&str> = mine_lines.next().unwrap().split('\t').collect();
        assert_eq!(&header[..3], &["frame", "step", "FENE"]);
        assert_eq!(*header.last().unwrap(), "TOTAL");
        let their_lines: Vec<&str> = theirs.lines().collect();
        let their_header: Vec<&str> = their_lines[0].split('\t').collect();
        let mut rows = 0;
        for (m, t) in mine_lines.zip(&their_lines[1..]) {
            let m: Vec<&str> = m.split('\t').collect();
            let t: Vec<&str> = t.split('\t').collect();
            assert_eq!(m[1], t[1], "step");
            for (k, name) in header.iter().enumerate().skip(2) {
                let col = if *name == "TOTAL" { "TOTAL_oxdna" } else { name };
                let j = their_header.iter().position(|h| *h == col).unwrap();
                let (a, b): (f64, f64) = (m[k].parse().unwrap(), t[j].parse().unwrap());
                assert!((a - b).abs() < 1e-6, "{case}: {name} {a} vs {b}");
            }
            rows += 1;
        }
        assert_eq!(rows, 10);
        let json = oxgrad(&dir, &["energy", "input_analysis_nomesh", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(v["frames"].as_array().unwrap().len(), 10);
        assert!(v["frames"][0]["STACKING"].as_f64().unwrap() < -1.0);
    }
}

#[test]
fn parameter_outside_its_domain_is_refused() {
    let (top, _) = Topology::read(case_dir("dna1-avg-8bp-T296").join("init.top")).unwrap();
    let mut p = ParamSet::dna1_defaults();
    p.set("delta_theta_star_stack_4", -0.1).unwrap();
    let e = EnergyModel::new(&top, p).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid delta_theta_star_stack_4 = -0.1: the angular cut-off width must be positive with a·Δθ*² < 1 (a_stack_4 = 1.3)"
    );
    let mut p = ParamSet::dna1_defaults();
    p.set("dr_high_hb", 0.3).unwrap();
    let e = EnergyModel::new(&top, p).unwrap_err().to_string();
    assert!(e.starts_with("invalid dr0_hb = 0.4: the H-bond well must have positive width"), "{e}");
}

#[test]
fn topology_that_does_not_match_the_trajectory() {
    let tmp = tempfile::tempdir().unwrap();
    let src = case_dir("dna1-avg-8bp-T296");
    // the 16-nucleotide trajectory with the 40-nucleotide topology of another case
    std::fs::copy(case_dir("dna1-seqdep-20bp-T300").join("init.top"), tmp.path().join("init.top")).unwrap();
    std::fs::copy(src.join("trajectory.dat"), tmp.path().join("trajectory.dat")).unwrap();
    std::fs::write(
        tmp.path().join("input"),
        "interaction_type = DNA\nT = 300K\ntopology = init.top\ntrajectory_file = trajectory.dat\n",
    )
    .unwrap();
    let out = oxgrad(tmp.path(), &["energy", "input"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("trajectory.dat:20: expected 40 nucleotide rows"), "{err}");
    assert!(err.contains("or the topology does not match"), "{err}");
    // and the library check on an in-memory configuration
    let (top, _) = Topology::read(tmp.path().join("init.top")).unwrap();
    let frame = oxgrad::io::Configuration::read(src.join("init.dat"), 16).unwrap();
    let e = EnergyModel::new(&top, ParamSet::dna1_defaults()).unwrap().energy(&frame).unwrap_err().to_string();
    assert_eq!(
        e,
        "configuration and topology: the configuration has 16 nucleotides, the topology 40: use the topology the trajectory was written with"
    );
}

#[test]
fn missing_sequence_dependent_file() {
    let tmp = tempfile::tempdir().unwrap();
    let src = case_dir("dna1-seqdep-20bp-T300");
    std::fs::copy(src.join("init.top"), tmp.path().join("init.top")).unwrap();
    std::fs::write(
        tmp.path().join("input"),
        "interaction_type = DNA\nT = 300K\nuse_average_seq = false\nseq_dep_file = my_params.txt\ntopology = init.top\ntrajectory_file = t.dat\n",
    )
    .unwrap();
    let out = oxgrad(tmp.path(), &["energy", "input"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: cannot read sequence-dependent parameter file '")
            && err.contains("my_params.txt': no such file (seq_dep_file in the input)"),
        "{err}"
    );
    // oxRNA1 and the sequence-dependent oxRNA2 are refused by name
    std::fs::write(tmp.path().join("input2"), "interaction_type = RNA\nT = 300K\ntopology = init.top\n").unwrap();
    let err = String::from_utf8_lossy(&oxgrad(tmp.path(), &["energy", "input2"]).stderr).to_string();
    assert!(
        err.contains("invalid interaction_type = RNA:") && err.contains("RNA2 (oxRNA2, sequence-averaged or dependent"),
        "{err}"
    );
    std::fs::write(
        tmp.path().join("input3"),
        "interaction_type = RNA2\nT = 300K\nuse_average_seq = false\ntopology = init.top\ntrajectory_file = t.dat\n",
    )
    .unwrap();
    let err = String::from_utf8_lossy(&oxgrad(tmp.path(), &["energy", "input3"]).stderr).to_string();
    assert!(
        err.contains("missing required key 'seq_dep_file'")
            && err.contains("seq_dep_file = rna_sequence_dependent_parameters.txt"),
        "{err}"
    );
    // an oxDNA DNA file is not an RNA one
    std::fs::write(tmp.path().join("dna.txt"), "STCK_FACT_EPS = 0.18\n").unwrap();
    std::fs::write(
        tmp.path().join("input3"),
        "interaction_type = RNA2\nT = 300K\nuse_average_seq = false\nseq_dep_file = dna.txt\ntopology = init.top\n",
    )
    .unwrap();
    let err = String::from_utf8_lossy(&oxgrad(tmp.path(), &["energy", "input3"]).stderr).to_string();
    assert!(err.contains("dna.txt:1: expected an oxRNA2 key: STCK_FACT_EPS belongs to oxDNA's DNA files"), "{err}");
    // oxRNA2 outside 0–100 °C, and oxDNA's r_high key, are refused by name
    for (key, line) in [("T", "T = 400K"), ("debye_huckel_rhigh", "T = 300K\ndebye_huckel_rhigh = 1.2")] {
        std::fs::write(tmp.path().join("input4"), format!("interaction_type = RNA2\n{line}\ntopology = init.top\n"))
            .unwrap();
        let err = String::from_utf8_lossy(&oxgrad(tmp.path(), &["energy", "input4"]).stderr).to_string();
        assert!(err.contains(&format!("invalid {key} = ")), "{err}");
    }
}

/// `oxgrad energy` on oxDNA's own RNA2 analysis inputs (sequence-averaged, and sequence-dependent
/// with a `seq_dep_file`) prints oxDNA's columns, within 1.2e-5 per nucleotide of oxDNA's numbers
/// (hydrogen bonding and the total; 3e-5 on jittered frames), the rest within 2e-7.
#[test]
fn rna2_energies_through_the_command_line() {
    for (case, frames, tol_hb) in
        [("rna2-avg-12bp-T300-salt1.0", 10, 1.2e-5), ("extra-rna2-seqdep-wobble-jittered-12bp-T300-salt1.0", 30, 5e-5)]
    {
        rna2_energies_of(case, frames, tol_hb);
    }
    // a parameter file of the other kind (averaged / sequence-dependent) is refused by name
    let tmp = tempfile::tempdir().unwrap();
    let averaged = tmp.path().join("averaged.toml");
    let dependent = tmp.path().join("dependent.toml");
    oxgrad::energy::rna2::parameters(0.1, 1.0, None).unwrap().write(&averaged).unwrap();
    let seq = oxgrad::energy::rna2::SequenceDependence::uniform();
    oxgrad::energy::rna2::parameters(0.1, 1.0, Some(&seq)).unwrap().write(&dependent).unwrap();
    for (case, params, file, says) in [
        ("rna2-avg-12bp-T300-salt1.0", &dependent, "sequence-dependent", "use_average_seq = true"),
        (
            "extra-rna2-seqdep-wobble-jittered-12bp-T300-salt1.0",
            &averaged,
            "sequence-averaged",
            "use_average_seq = false",
        ),
    ] {
        let out = oxgrad(&case_dir(case), &["energy", "input_analysis", "--params", params.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(&format!("the oxRNA2 parameter file is {file}")) && err.contains(says), "{err}");
    }
    // and a file of the same kind is taken
    let out = oxgrad(
        &case_dir("rna2-avg-12bp-T300-salt1.0"),
        &["energy", "input_analysis", "--params", averaged.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn rna2_energies_of(case: &str, frames: usize, tol_hb: f64) {
    let dir = case_dir(case);
    let out = oxgrad(&dir, &["energy", "input_analysis"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "frame\tstep\tFENE\tBONDED_EXCL_VOL\tSTACKING\tNONBONDED_EXCL_VOL\tHYDROGEN_BONDING\tCROSS_STACKING\tCOAXIAL_STACKING\tDEBYE_HUCKEL\tTOTAL"
    );
    let reference = std::fs::read_to_string(dir.join("energies.tsv")).unwrap();
    let mut rows = 0;
    for (got, want) in lines.zip(reference.lines().skip(1)) {
        let g: Vec<f64> = got.split('\t').skip(2).map(|x| x.parse().unwrap()).collect();
        let w: Vec<f64> = want.split('\t').skip(3).take(9).map(|x| x.parse().unwrap()).collect();
        for (k, (a, b)) in g.iter().zip(&w).enumerate() {
            let tol = if k == 4 || k == 8 { tol_hb } else { 5e-7 + 2e-6 * b.abs() };
            assert!((a - b).abs() < tol, "{case} column {k}: {a} vs {b}");
        }
        rows += 1;
    }
    assert_eq!(rows, frames);
}

#[test]
fn composition_weights_and_drops_terms() {
    use oxgrad::energy::TermId;
    let dir = case_dir("extra-dna1-avg-nicked-20bp-T300");
    let (top, _) = Topology::read(dir.join("init.top")).unwrap();
    let frame = oxgrad::io::Configuration::read(dir.join("trajectory.dat"), top.len()).unwrap();
    let mut p = ParamSet::dna1_defaults();
    p.set("kt", 0.1).unwrap();
    let full = EnergyModel::new(&top, p).unwrap();
    let b = full.breakdown(&frame).unwrap();
    assert!(b.term(TermId::CoaxialStacking) < 0.0, "the nicked duplex coaxially stacks");
    let dropped = full.clone().without_terms(&[TermId::Stacking, TermId::CoaxialStacking]);
    let expected = b.total() - b.term(TermId::Stacking) - b.term(TermId::CoaxialStacking);
    assert!((dropped.energy(&frame).unwrap() - expected).abs() < 1e-12);
    let mut w = [1.0; 8];
    w[TermId::HydrogenBonding as usize] = 2.0;
    let weighted = full.clone().with_term_weights(w);
    assert!((weighted.energy(&frame).unwrap() - (b.total() + b.term(TermId::HydrogenBonding))).abs() < 1e-12);
    // forces follow the weights too
    let f_full = full.forces(&frame).unwrap();
    let f_drop = dropped.forces(&frame).unwrap();
    assert!((f_drop.energy - expected).abs() < 1e-12);
    assert!(f_full.f.iter().zip(&f_drop.f).any(|(a, b)| (*a - *b).norm() > 1e-3));
}

#[test]
fn parameter_sets_round_trip_through_serde() {
    let mut p = ParamSet::dna2_defaults();
    p.set("eps_stack_base", 1.41).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    let back: ParamSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let bad = json.replace("\"q_eff\"", "\"q_ef\"");
    let e = serde_json::from_str::<ParamSet>(&bad).unwrap_err().to_string();
    assert!(e.contains("q_eff"), "{e}");
}

/// `oxgrad simulate` runs oxDNA's own RNA2 MD input (shortened) and writes oxDNA's files: a
/// trajectory whose frames parse, finite energies, a last configuration.
#[test]
fn rna2_simulates_through_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let src = case_dir("rna2-avg-12bp-T300-salt1.0");
    for f in ["init.top", "init.dat"] {
        std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
    }
    let input = std::fs::read_to_string(src.join("input_md")).unwrap();
    let short: Vec<String> = input
        .lines()
        .filter(|l| !l.starts_with("equilibration_steps"))
        .map(|l| match l.split('=').next().map(str::trim) {
            Some("steps") => "steps = 300".to_string(),
            Some("print_conf_interval") => "print_conf_interval = 100".to_string(),
            Some("print_energy_every") => "print_energy_every = 100".to_string(),
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(tmp.path().join("input"), short.join("\n")).unwrap();
    let out = oxgrad(tmp.path(), &["simulate", "input"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let frames: Vec<_> = oxgrad::io::TrajectoryReader::open(tmp.path().join("trajectory.dat"), 24)
        .unwrap()
        .collect::<oxgrad::Result<_>>()
        .unwrap();
    assert_eq!(frames.len(), 3);
    let energies = std::fs::read_to_string(tmp.path().join("energy_md.dat")).unwrap();
    let rows: Vec<Vec<f64>> =
        energies.lines().map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect()).collect();
    assert!(rows.len() >= 3 && rows.iter().all(|r| r.iter().all(|x| x.is_finite())), "{energies}");
    // the potential energy per nucleotide of an RNA duplex, not of a DNA one evaluated on it
    assert!(rows.iter().all(|r| r[1] < -0.5 && r[1] > -2.0), "{energies}");
    assert!(tmp.path().join("last_conf.dat").exists());
}
