//! Energy alone (native f64) and energy + gradient with respect to every optimisable parameter
//! (Burn autodiff, map_batch_size 100, checkpointed), for 1, 100 and 1000 frames of 16-, 40- and
//! 120-nucleotide oxDNA1 duplexes. Criterion reports time per call; divide by frames for per frame.
//! Run: `cargo bench --bench energy`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, perturbed, Shape};
use oxgrad::params::{ParamClass, ParamSet};
use oxgrad::system::TopologyFormat;

const SEQ: &str = "ACGTTGCAATGCCGTAAGCTTGACCATGGTCAGTCAAGTCCTAGGATCCAGTTCACGTGA";

fn system(nt: usize, frames: usize) -> (EnergyModel, Vec<oxgrad::io::Configuration>) {
    let (top, conf) =
        helix(&parse_sequence(&SEQ[..nt / 2]).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let model = EnergyModel::new(&top, ParamSet::dna1_defaults()).unwrap();
    let frames = (0..frames).map(|k| perturbed(&conf, 0.03, 0.05, k as u64)).collect();
    (model, frames)
}

fn energy(c: &mut Criterion) {
    let mut g = c.benchmark_group("energy");
    g.sample_size(10);
    for nt in [16, 40, 120] {
        for frames in [1, 100, 1000] {
            let (model, confs) = system(nt, frames);
            g.throughput(Throughput::Elements(frames as u64));
            g.bench_with_input(BenchmarkId::new(format!("energy/{nt}nt"), frames), &confs, |b, confs| {
                b.iter(|| model.map(confs).unwrap())
            });
        }
    }
    g.finish();
    let mut g = c.benchmark_group("energy_grad");
    g.sample_size(10);
    for nt in [16, 40, 120] {
        for frames in [1, 100, 1000] {
            let (model, confs) = system(nt, frames);
            let p = model.params();
            let names: Vec<String> =
                p.names().filter(|n| p.class_of(n).unwrap() != ParamClass::State).map(String::from).collect();
            let cot = vec![1.0; frames];
            g.throughput(Throughput::Elements(frames as u64));
            g.bench_with_input(BenchmarkId::new(format!("energy_grad/{nt}nt"), frames), &confs, |b, confs| {
                b.iter(|| model.vjp(confs, &cot, &names).unwrap())
            });
        }
    }
    g.finish();
}

// criterion's HTML plots need system fonts this crate's plotters build does not load
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = energy
}
criterion_main!(benches);
