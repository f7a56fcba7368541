//! The built-in terms and the same terms through the public term API ([`EnergyTerm`],
//! `tests/common/builtin_as_terms.rs`) are equal: the two term systems are kept checked against
//! each other. For every DNA reference case (one test each), a model with non-bonded excluded
//! volume and hydrogen bonding switched off and their `EnergyTerm` versions added, against the
//! built-in model: each term's energy per frame, the total, the MD forces and torques (kernel
//! against dual numbers) and the parameter gradients over the trajectory (both tensor paths).
//!
//! [`EnergyTerm`]: oxgrad::energy::EnergyTerm

mod common;

use common::builtin_as_terms::{ExcludedVolumeTerm, HydrogenBondingTerm};
use common::case_dir;
use oxgrad::energy::{EnergyModel, ModelSetup, TermId};
use oxgrad::io::{Configuration, InputFile, TrajectoryReader};
use oxgrad::params::ParamClass;

/// Equal to 1e-10, relative where larger than 1.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-10 * a.abs().max(b.abs()).max(1.0)
}

/// The built-in model of `case`, the model with the two terms replaced, and the trajectory.
fn models(case: &str) -> (EnergyModel, EnergyModel, Vec<Configuration>) {
    let dir = case_dir(case);
    let s = ModelSetup::from_input(&InputFile::read(dir.join("input_analysis_nomesh")).unwrap()).unwrap();
    let params = s.model.params().clone();
    let replaced = s
        .model
        .clone()
        .without_terms(&[TermId::UnbondedExcludedVolume, TermId::HydrogenBonding])
        .with_term(ExcludedVolumeTerm::new(&params), 1.0)
        .unwrap()
        .with_term(HydrogenBondingTerm::new(&params), 1.0)
        .unwrap();
    let frames = TrajectoryReader::open(dir.join("trajectory.dat"), s.topology.len())
        .unwrap()
        .collect::<oxgrad::Result<Vec<_>>>()
        .unwrap();
    (s.model, replaced, frames)
}

fn check(case: &str) {
    let (builtin, replaced, frames) = models(case);
    assert_eq!(replaced.cutoff(), builtin.cutoff(), "{case}: the terms' cut-offs are the built-in ranges");
    let mut acting = false;
    for (k, frame) in frames.iter().enumerate() {
        let (b, r) = (builtin.breakdown(frame).unwrap(), replaced.breakdown(frame).unwrap());
        for (term, name) in [
            (TermId::UnbondedExcludedVolume, "ExcludedVolumeAsTerm"),
            (TermId::HydrogenBonding, "HydrogenBondingAsTerm"),
        ] {
            let (want, got) = (b.term(term), r.custom(name).unwrap());
            assert!(close(got, want), "{case} frame {k} {term:?}: built-in {want}, as a term {got}");
        }
        acting |= b.term(TermId::HydrogenBonding) != 0.0 || b.term(TermId::UnbondedExcludedVolume) != 0.0;
        let (want, got) = (builtin.energy(frame).unwrap(), replaced.energy(frame).unwrap());
        assert!(close(got, want), "{case} frame {k}: total built-in {want}, as terms {got}");

        let (fb, fr) = (builtin.forces(frame).unwrap(), replaced.forces(frame).unwrap());
        assert!(close(fr.energy, fb.energy), "{case} frame {k}: force pass energy {} vs {}", fr.energy, fb.energy);
        for i in 0..frame.len() {
            for c in 0..3 {
                let (f, t) = ((fb.f[i][c], fr.f[i][c]), (fb.torque[i][c], fr.torque[i][c]));
                assert!(close(f.1, f.0), "{case} frame {k} nucleotide {i} force {c}: kernel {}, term {}", f.0, f.1);
                assert!(close(t.1, t.0), "{case} frame {k} nucleotide {i} torque {c}: kernel {}, term {}", t.0, t.1);
            }
        }
    }
    assert!(acting, "{case}: one of the two terms acts (the check is not empty)");

    let p = builtin.params();
    let names: Vec<String> =
        p.names().filter(|n| p.class_of(n).unwrap() != ParamClass::State).map(String::from).collect();
    let cot: Vec<f64> = (0..frames.len()).map(|k| 1.0 + 0.1 * k as f64).collect();
    let (eb, gb) = builtin.vjp(&frames, &cot, &names).unwrap();
    let (er, gr) = replaced.vjp(&frames, &cot, &names).unwrap();
    for (k, (b, r)) in eb.iter().zip(&er).enumerate() {
        assert!(close(*r, *b), "{case} frame {k}: tensor energy built-in {b}, as terms {r}");
    }
    assert_eq!(gb.0.keys().collect::<Vec<_>>(), gr.0.keys().collect::<Vec<_>>(), "{case}: the same parameters");
    for (name, want) in &gb.0 {
        let got = gr.0[name];
        assert!(close(got, *want), "{case} ∂/∂{name}: built-in {want}, as terms {got}");
    }
}

/// Excluded volume between non-bonded neighbours acts in the dense case (the check of that term
/// is not empty).
#[test]
fn excluded_volume_acts_in_the_dense_case() {
    let (builtin, _, frames) = models("extra-dna2-avg-dense-8x10nt-T300-salt0.5");
    let acting = frames.iter().filter(|f| builtin.breakdown(f).unwrap().term(TermId::UnbondedExcludedVolume) != 0.0);
    assert!(acting.count() > 0);
}

macro_rules! cases {
    ($($test:ident: $case:literal,)*) => {$(
        #[test]
        fn $test() {
            check($case);
        }
    )*};
}

cases! {
    dna1_avg_8bp: "dna1-avg-8bp-T296",
    dna1_seqdep_20bp: "dna1-seqdep-20bp-T300",
    dna2_avg_20bp: "dna2-avg-20bp-T300-salt0.5",
    dna2_seqdep_16bp: "dna2-seqdep-16bp-T330-salt0.2",
    dna1_avg_nicked_20bp: "extra-dna1-avg-nicked-20bp-T300",
    dna2_avg_dense_8x10nt: "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
}
