//! The Burn model against the native engine and finite differences: identical energies,
//! parameter gradients equal to central differences, position gradients equal to oxDNA's forces,
//! and `map` batching that changes nothing.

mod common;

use common::case_dir;
use oxgrad::energy::{EnergyModel, ModelSetup};
use oxgrad::io::{Configuration, InputFile, TrajectoryReader};
use oxgrad::params::{ParamClass, ParamSelection};

fn setup(case: &str) -> (ModelSetup, Vec<Configuration>) {
    let input = InputFile::read(case_dir(case).join("input_analysis_nomesh")).unwrap();
    let s = ModelSetup::from_input(&input).unwrap();
    let frames =
        TrajectoryReader::open(s.trajectory.as_ref().unwrap(), s.topology.len()).unwrap().map(Result::unwrap).collect();
    (s, frames)
}

const CASES: [&str; 6] = [
    "dna1-avg-8bp-T296",
    "dna1-seqdep-20bp-T300",
    "dna2-avg-20bp-T300-salt0.5",
    "extra-dna1-avg-nicked-20bp-T300",
    "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
    "dna2-seqdep-16bp-T330-salt0.2",
];

/// Every optimisable parameter: term parameters, site offsets, sequence tables.
fn all_optimisable(model: &EnergyModel) -> Vec<String> {
    let p = model.params();
    p.names().filter(|n| p.class_of(n).unwrap() != ParamClass::State).map(String::from).collect()
}

#[test]
fn tensor_energies_equal_native_energies() {
    for case in CASES {
        let (s, frames) = setup(case);
        let native = s.model.map(&frames).unwrap();
        let (tensor, _) = s.model.vjp(&frames, &vec![0.0; frames.len()], &[]).unwrap();
        for (a, b) in native.iter().zip(&tensor) {
            assert!((a - b).abs() < 1e-10 * (1.0 + a.abs()), "{case}: native {a}, tensor {b}");
        }
    }
}

#[test]
fn parameter_gradients_match_central_differences() {
    for case in CASES {
        let (s, frames) = setup(case);
        let frames = &frames[..3];
        let names = all_optimisable(&s.model);
        // a generic cotangent: the loss is Σ_t c_t E_t
        let c: Vec<f64> = (0..frames.len()).map(|t| 1.0 + 0.5 * t as f64).collect();
        let (_, ad) = s.model.vjp(frames, &c, &names).unwrap();
        let loss = |m: &EnergyModel| -> f64 { m.map(frames).unwrap().iter().zip(&c).map(|(e, w)| e * w).sum() };
        let mut checked = 0;
        for name in &names {
            let v = s.model.params().get(name).unwrap();
            let h = 1e-6 * v.abs().max(0.1);
            let at = |x: f64| {
                loss(&s.model.with_params(s.model.params().with_params([(name.as_str(), x)]).unwrap()).unwrap())
            };
            let fd = (at(v + h) - at(v - h)) / (2.0 * h);
            let g = ad.get(name).unwrap();
            let tol = 1e-5 * fd.abs().max(g.abs()) + 2e-7;
            assert!((g - fd).abs() <= tol, "{case}: d/d{name}: autodiff {g}, finite difference {fd}");
            checked += 1;
        }
        assert!(checked >= 100, "{case}: {checked} parameters");
        // averaged models train eps_stack_base, sequence-dependent ones the table
        let stacking = if s.model.params().is_sequence_dependent() { "ss_stack_weights_A_A" } else { "eps_stack_base" };
        assert!(ad.get(stacking).unwrap().abs() > 0.1, "{case}: stacking gradient");
    }
}

#[test]
fn position_gradients_reproduce_oxdna_forces_and_torques() {
    for case in ["dna1-avg-8bp-T296", "dna2-avg-20bp-T300-salt0.5"] {
        let dir = case_dir(case);
        let input = InputFile::read(dir.join("input_forces_nomesh")).unwrap();
        let s = ModelSetup::from_input(&input).unwrap();
        let frame = Configuration::read(dir.join("frame0.dat"), s.topology.len()).unwrap();
        let (forces, torques) = s.model.forces_torques_autodiff(&frame).unwrap();
        let text = std::fs::read_to_string(dir.join("forces_torques_frame0_nomesh.tsv")).unwrap();
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let i: usize = f[0].parse().unwrap();
            for k in 0..3 {
                for (got, col) in [(forces[i][k], 1 + k), (torques[i][k], 4 + k)] {
                    let want: f64 = f[col].parse().unwrap();
                    let ok = (got - want).abs() <= 1e-4 * want.abs() || (got - want).abs() <= 1e-5;
                    assert!(ok, "{case} nucleotide {i} column {col}: autodiff {got}, oxDNA {want}");
                }
            }
            rows += 1;
        }
        assert_eq!(rows, s.topology.len());
        // Newton's third law: the total force vanishes
        let total = forces.iter().fold(oxgrad::geometry::Vec3::ZERO, |a, &b| a + b);
        assert!(total.norm() < 1e-10, "{case}: net force {total:?}");
    }
}

#[test]
fn map_batching_and_checkpointing_change_nothing() {
    let (s, frames) = setup("dna2-avg-20bp-T300-salt0.5");
    let names = ParamSelection::All.resolve(s.model.params()).unwrap();
    let c: Vec<f64> = (0..frames.len()).map(|t| (t as f64 * 0.7).sin()).collect();
    let mut reference = None;
    for batch in [1, 7, 100] {
        for checkpoint in [true, false] {
            let mut m = s.model.clone();
            m.map_batch_size = batch;
            m.map_checkpoint = checkpoint;
            let (e, g) = m.vjp(&frames, &c, &names).unwrap();
            match &reference {
                None => reference = Some((e, g)),
                Some((e0, g0)) => {
                    for (a, b) in e.iter().zip(e0) {
                        assert!((a - b).abs() < 1e-12 * b.abs().max(1.0), "batch {batch} ckpt {checkpoint}: energy");
                    }
                    for (name, v) in &g.0 {
                        let v0 = g0.get(name).unwrap();
                        assert!(
                            (v - v0).abs() <= 1e-11 * v0.abs().max(1.0),
                            "batch {batch} ckpt {checkpoint}: d/d{name} {v} vs {v0}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn generated_duplex_has_finite_gradients() {
    // an ideal helix has cos θ1 = 1 exactly: the clamped arccos must not produce NaN
    use oxgrad::generate::{helix, parse_sequence, Shape};
    let (top, conf) =
        helix(&parse_sequence("ACGTACGTAC").unwrap(), Shape::Duplex, None, oxgrad::system::TopologyFormat::Classic)
            .unwrap();
    for params in [oxgrad::params::ParamSet::dna1_defaults(), oxgrad::params::ParamSet::dna2_defaults()] {
        let m = EnergyModel::new(&top, params).unwrap();
        let names = ParamSelection::All.resolve(m.params()).unwrap();
        let (_, g) = m.vjp(std::slice::from_ref(&conf), &[1.0], &names).unwrap();
        assert!(g.first_non_finite().is_none(), "{:?}", g.first_non_finite());
        let (f, t) = m.forces_torques_autodiff(&conf).unwrap();
        assert!(f.iter().chain(&t).all(|v| v.is_finite()));
    }
}

#[test]
fn energy_parameters_are_a_burn_module() {
    use burn::module::Module;
    use oxgrad::energy::tensor::EnergyParams;
    let (s, frames) = setup("dna1-avg-8bp-T296");
    let names = ParamSelection::Terms(vec![oxgrad::params::Term::Stacking]).resolve(s.model.params()).unwrap();
    let device = oxgrad::backend::cpu_autodiff();
    let module = EnergyParams::new(&s.model, &names, &device).unwrap();
    assert_eq!(module.num_params(), names.len());
    let energies = s.model.forward(&module, &frames[..3], &device).unwrap();
    let grads = module.grads(&energies.sum().backward());
    let (_, expected) = s.model.vjp(&frames[..3], &[1.0; 3], &names).unwrap();
    for n in &names {
        assert!(
            (grads.get(n).unwrap() - expected.get(n).unwrap()).abs() <= 1e-12 * expected.get(n).unwrap().abs().max(1.0),
            "{n}"
        );
    }
}
