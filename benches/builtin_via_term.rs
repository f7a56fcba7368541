//! What two built-in oxDNA terms would cost through the public term API (issue 28): a
//! 120-nucleotide oxDNA2 duplex with thermal-like perturbations, evaluated by
//!
//! - `builtin`: the built-in model (the hand-laid MD force kernel, the spec-driven `f64` energy);
//! - `as_terms`: the same model with non-bonded excluded volume and hydrogen bonding switched off
//!   and added back as users' terms (`tests/common/builtin_as_terms.rs`: the same specs, factors
//!   and parameters; forces from the users'-term route, `math::Tape`);
//! - `without`: the built-in model without those two terms (what the rest costs, so the two
//!   terms' own cost is the difference).
//!
//! Groups: MD forces and torques (`accumulate_forces_with`, one thread), the energy alone
//! (`EnergyModel::energy`, neighbour search included) and energy + gradient over 20 frames with
//! respect to every optimisable parameter (`vjp`, Burn autodiff). All variants run in one
//! process, side by side. Run: `cargo bench --bench builtin_via_term`.
//!
//! Instruction counts (deterministic on a shared machine): `BUILTIN_VIA_TERM_COUNT=<group>/<variant>`
//! runs that one workload a fixed number of times in `counted`, without criterion, e.g.
//! `valgrind --tool=callgrind --toggle-collect='*counted*' target/release/deps/builtin_via_term-*
//! --bench` with `BUILTIN_VIA_TERM_COUNT=forces/as_terms` (BENCHMARKS.md).

use criterion::{criterion_group, Criterion};
use oxgrad::energy::neighbors::pairs_within;
use oxgrad::energy::{EnergyModel, ForceWorkspace, Forces, Frame, TermId};
use oxgrad::generate::{helix, parse_sequence, perturbed, Shape};
use oxgrad::io::Configuration;
use oxgrad::params::{ParamClass, ParamSet};
use oxgrad::system::TopologyFormat;
use std::hint::black_box;

#[path = "../tests/common/builtin_as_terms.rs"]
mod builtin_as_terms;

use builtin_as_terms::{ExcludedVolumeTerm, HydrogenBondingTerm};

const VARIANTS: [&str; 3] = ["builtin", "as_terms", "without"];

/// The three models and 20 perturbed frames of the 120-nucleotide duplex.
fn setup() -> (Vec<(&'static str, EnergyModel)>, Vec<Configuration>) {
    let seq = "ACGTTGCAATGCCGTAAGCTTGACCATGGTCAGTCAAGTCCTAGGATCCAGTTCACGTGA";
    let (top, conf) = helix(&parse_sequence(seq).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let params = ParamSet::dna2_defaults();
    let builtin = EnergyModel::new(&top, params.clone()).unwrap();
    let without = builtin.clone().without_terms(&[TermId::UnbondedExcludedVolume, TermId::HydrogenBonding]);
    let as_terms = without
        .clone()
        .with_term(ExcludedVolumeTerm::new(&params), 1.0)
        .unwrap()
        .with_term(HydrogenBondingTerm::new(&params), 1.0)
        .unwrap();
    let frames = (0..20).map(|k| perturbed(&conf, 0.03, 0.05, k)).collect();
    (vec![("builtin", builtin), ("as_terms", as_terms), ("without", without)], frames)
}

/// Every optimisable parameter of `model`.
fn optimisable(model: &EnergyModel) -> Vec<String> {
    let p = model.params();
    p.names().filter(|n| p.class_of(n).unwrap() != ParamClass::State).map(String::from).collect()
}

/// One call of a workload: `forces`, `energy` or `grad` of `model`.
struct Workload<'a> {
    model: &'a EnergyModel,
    frames: &'a [Configuration],
    frame: Frame,
    candidates: Vec<(usize, usize)>,
    out: Forces,
    ws: ForceWorkspace,
    names: Vec<String>,
    cot: Vec<f64>,
}

impl<'a> Workload<'a> {
    fn new(model: &'a EnergyModel, frames: &'a [Configuration]) -> Workload<'a> {
        let frame = Frame::new(&frames[0]);
        Workload {
            candidates: pairs_within(&frame.r, &frame.bx, model.cutoff()),
            out: Forces::zeros(model.len()),
            ws: ForceWorkspace::default(),
            names: optimisable(model),
            cot: vec![1.0; frames.len()],
            frame,
            model,
            frames,
        }
    }

    fn run(&mut self, group: &str) -> f64 {
        match group {
            "forces" => {
                self.out.clear();
                self.model.accumulate_forces_with(&self.frame, &self.candidates, &mut self.out, &mut self.ws).unwrap();
                self.out.energy
            }
            "energy" => self.model.energy(&self.frames[0]).unwrap(),
            "grad" => {
                let (e, g) = self.model.vjp(self.frames, &self.cot, &self.names).unwrap();
                e[0] + g.0.values().sum::<f64>()
            }
            _ => panic!("groups: forces, energy, grad"),
        }
    }
}

fn side_by_side(c: &mut Criterion) {
    let (models, frames) = setup();
    for (group, samples) in [("forces", 50), ("energy", 50), ("grad", 10)] {
        let mut g = c.benchmark_group(format!("builtin_via_term/{group}"));
        g.sample_size(samples);
        for (name, model) in &models {
            let mut w = Workload::new(model, &frames);
            g.bench_function(*name, |b| b.iter(|| w.run(group)));
        }
        g.finish();
    }
}

/// Runs `work` `times` times: the only function callgrind counts (`--toggle-collect`).
#[inline(never)]
fn counted(times: usize, mut work: impl FnMut() -> f64) -> f64 {
    (0..times).map(|_| black_box(work())).sum()
}

/// `BUILTIN_VIA_TERM_COUNT=<group>/<variant>`: that workload, a fixed number of times.
fn count(which: &str) {
    let (group, variant) = which.split_once('/').expect("BUILTIN_VIA_TERM_COUNT=<forces|energy|grad>/<variant>");
    assert!(VARIANTS.contains(&variant), "variants: {VARIANTS:?}");
    let (models, frames) = setup();
    let model = &models.iter().find(|(n, _)| *n == variant).unwrap().1;
    let mut w = Workload::new(model, &frames);
    let times = if group == "grad" { 2 } else { 200 };
    println!("{which}: {times} calls, sum {}", counted(times, || w.run(group)));
}

// criterion's HTML plots need system fonts this crate's plotters build does not load
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = side_by_side
}

fn main() {
    match std::env::var("BUILTIN_VIA_TERM_COUNT") {
        Ok(which) => count(&which),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
