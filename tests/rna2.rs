//! oxRNA2 built from users' terms (`oxgrad::energy::rna2`) against oxDNA's own split energies of
//! `rna2-avg-12bp-T300-salt1.0` (copied from ../shared/reference/oxdna, see
//! tests/data/oxdna/PROVENANCE), forces against autodiff, and native MD at constant temperature.

mod common;

use common::case_dir;
use oxgrad::energy::rna2;
use oxgrad::io::TrajectoryReader;
use oxgrad::prelude::*;

const CASE: &str = "rna2-avg-12bp-T300-salt1.0";

fn reference() -> (Topology, Vec<Configuration>, Vec<Vec<f64>>) {
    let dir = case_dir(CASE);
    let (top, _) = Topology::read(dir.join("init.top")).unwrap();
    let frames: Vec<Configuration> =
        TrajectoryReader::open(dir.join("trajectory.dat"), top.len()).unwrap().map(Result::unwrap).collect();
    let text = std::fs::read_to_string(dir.join("energies.tsv")).unwrap();
    let rows = text.lines().skip(1).map(|l| l.split('\t').skip(3).take(8).map(|x| x.parse().unwrap()).collect()).collect();
    (top, frames, rows)
}

/// Every term of every frame, per nucleotide: hydrogen bonding within 2e-5 (oxDNA interpolates
/// its angular factors from tables, these are exact), the other seven within 5e-7 (oxDNA keeps
/// its constants in single precision).
#[test]
fn energies_match_oxdna_term_by_term() {
    let (top, frames, rows) = reference();
    let model = rna2::model(&top, 0.1, 1.0).unwrap();
    let n = top.len() as f64;
    let mut worst = [0.0_f64; 8];
    for (frame, row) in frames.iter().zip(&rows) {
        let b = model.breakdown(frame).unwrap();
        for (k, (name, header)) in rna2::HEADERS.iter().enumerate() {
            let got = b.custom(name).unwrap() / n;
            worst[k] = worst[k].max((got - row[k]).abs());
            let tol = if *header == "HYDROGEN_BONDING" { 2e-5 } else { 5e-7 };
            assert!((got - row[k]).abs() < tol, "{header}: {got} vs oxDNA {}", row[k]);
        }
        // the built-in DNA terms are off
        assert!((model.energy(frame).unwrap() - b.custom.iter().map(|(_, e)| e).sum::<f64>()).abs() < 1e-12);
    }
    println!("largest difference per nucleotide: {:?}", rna2::HEADERS.iter().map(|h| h.1).zip(worst).collect::<Vec<_>>());
    assert!(rows.iter().any(|r| r[5] < -0.05) && rows.iter().any(|r| r[7] > 0.0), "cross-stacking and Debye–Hückel are exercised");
}
