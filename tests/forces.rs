//! The native engine's analytic forces and torques (dual-number factor derivatives, analytic
//! feature gradients) against oxDNA's and against autodiff of the tensor model.

mod common;

use common::case_dir;
use oxgrad::energy::ModelSetup;
use oxgrad::io::{Configuration, InputFile, TrajectoryReader};

#[test]
fn native_forces_match_oxdna() {
    for case in [
        "dna1-avg-8bp-T296",
        "dna2-avg-20bp-T300-salt0.5",
        "dna1-seqdep-20bp-T300",
        "dna2-seqdep-16bp-T330-salt0.2",
        "extra-dna1-avg-nicked-20bp-T300",
        "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
    ] {
        let dir = case_dir(case);
        let s = ModelSetup::from_input(&InputFile::read(dir.join("input_forces_nomesh")).unwrap()).unwrap();
        let frame = Configuration::read(dir.join("frame0.dat"), s.topology.len()).unwrap();
        let f = s.model.forces(&frame).unwrap();
        let text = std::fs::read_to_string(dir.join("forces_torques_frame0_nomesh.tsv")).unwrap();
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split('\t').collect();
            let i: usize = c[0].parse().unwrap();
            for k in 0..3 {
                for (got, col) in [(f.f[i][k], 1 + k), (f.torque[i][k], 4 + k)] {
                    let want: f64 = c[col].parse().unwrap();
                    let ok = (got - want).abs() <= 1e-4 * want.abs() || (got - want).abs() <= 1e-5;
                    assert!(ok, "{case} nucleotide {i} column {col}: native {got}, oxDNA {want}");
                }
            }
        }
        let e = s.model.energy(&frame).unwrap();
        assert!((f.energy - e).abs() < 1e-12 * e.abs(), "{case}: force pass energy {} vs {e}", f.energy);
    }
}

#[test]
fn native_forces_equal_autodiff_forces_on_every_case() {
    for case in [
        "dna1-avg-8bp-T296",
        "dna1-seqdep-20bp-T300",
        "dna2-avg-20bp-T300-salt0.5",
        "extra-dna1-avg-nicked-20bp-T300",
        "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
        "dna2-seqdep-16bp-T330-salt0.2",
    ] {
        let dir = case_dir(case);
        let s = ModelSetup::from_input(&InputFile::read(dir.join("input_analysis_nomesh")).unwrap()).unwrap();
        for frame in TrajectoryReader::open(dir.join("trajectory.dat"), s.topology.len()).unwrap().step_by(4) {
            let frame = frame.unwrap();
            let native = s.model.forces(&frame).unwrap();
            let (f, t) = s.model.forces_torques_autodiff(&frame).unwrap();
            let scale = native.f.iter().chain(&native.torque).map(|v| v.norm()).fold(0.0, f64::max);
            for i in 0..s.topology.len() {
                assert!(
                    (native.f[i] - f[i]).norm() < 1e-9 * scale,
                    "{case} force {i}: {:?} vs {:?}",
                    native.f[i],
                    f[i]
                );
                assert!(
                    (native.torque[i] - t[i]).norm() < 1e-9 * scale,
                    "{case} torque {i}: {:?} vs {:?}",
                    native.torque[i],
                    t[i]
                );
            }
        }
    }
}
