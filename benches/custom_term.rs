//! What a user's energy term costs in the MD force routine: forces and torques of a 120-nucleotide
//! oxDNA2 duplex with the built-in terms alone, plus a restraint on one pair, plus a non-bonded
//! user term over every pair within 1.6 (a Gaussian between base and backbone sites, the kind of
//! term the built-in kernel has no hand-laid code for). Users' terms take their derivatives from
//! dual numbers (one evaluation with 9 directions per pair), the built-in ones from the
//! hand-written kernel.
//! Run: `cargo bench --bench custom_term`.

use criterion::{criterion_group, criterion_main, Criterion};
use oxgrad::energy::neighbors::pairs_within;
use oxgrad::energy::{EnergyModel, ForceWorkspace, Forces, Frame};
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::params::ParamSet;
use oxgrad::system::TopologyFormat;

/// The same terms as the tests use: a spring on one pair, a Gaussian over non-bonded pairs.
#[path = "../tests/common/terms.rs"]
mod terms;

use terms::{Bump, Spring};

fn forces(c: &mut Criterion) {
    let seq = "ACGTTGCAATGCCGTAAGCTTGACCATGGTCAGTCAAGTCCTAGGATCCAGTTCACGTGA";
    let (top, conf) = helix(&parse_sequence(seq).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let plain = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let restrained = plain.clone().with_term(Spring { p: 0, q: 119 }, 1.0).unwrap();
    let bumped = restrained.clone().with_term(Bump, 1.0).unwrap();
    let frame = Frame::new(&conf);
    let mut g = c.benchmark_group("forces_120nt");
    g.sample_size(30);
    for (name, model) in
        [("builtin", &plain), ("builtin+restraint", &restrained), ("builtin+restraint+nonbonded", &bumped)]
    {
        let candidates = pairs_within(&frame.r, &frame.bx, model.cutoff());
        let mut out = Forces::zeros(top.len());
        let mut ws = ForceWorkspace::default();
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                model.accumulate_forces_with(&frame, &candidates, &mut out, &mut ws).unwrap();
                out.energy
            })
        });
    }
    g.finish();
}

// criterion's HTML plots need system fonts this crate's plotters build does not load
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = forces
}
criterion_main!(benches);
