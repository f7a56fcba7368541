//! Monte Carlo steps (N move attempts each) of the native engine: VMMC and single-nucleotide
//! moves on 16- and 60-nucleotide duplexes (oxDNA1, 300 K, δ_t = δ_r = 0.22, box 20), the sizes
//! issue 25 measures against oxDNA. Run: `cargo bench --bench mc`; criterion reports the time of
//! 100 steps. The side-by-side comparison with oxDNA itself is
//! `SIM=VMMC benches/md_vs_oxdna.sh` (BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, Shape};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{Mc, McConfig, McMoves, McState};
use oxgrad::system::{Base, TopologyFormat};

fn mc(c: &mut Criterion) {
    let mut g = c.benchmark_group("mc");
    g.sample_size(10);
    for nt in [16, 60] {
        let seq: Vec<Base> = (0..nt / 2).map(|k| [Base::A, Base::C, Base::G, Base::T][(k * 7 + k / 3) % 4]).collect();
        let (top, conf) = helix(&seq, Shape::Duplex, Some(20.0), TopologyFormat::Classic).unwrap();
        let model = EnergyModel::new(&top, ParamSet::dna1_defaults()).unwrap();
        for (name, moves) in [("vmmc", McMoves::Vmmc { maxclust: nt }), ("single", McMoves::Single)] {
            let mut state = McState::from_configuration(&conf);
            let cfg = McConfig { moves, steps: 1, seed: 1, ..McConfig::default() };
            let mut engine = Mc::new(&model, cfg, &state).unwrap();
            for _ in 0..200 {
                engine.step(&mut state, None).unwrap(); // away from the ideal helix
            }
            g.throughput(Throughput::Elements(100 * nt as u64));
            g.bench_function(BenchmarkId::new(format!("100_steps/{name}"), nt), |b| {
                b.iter(|| {
                    for _ in 0..100 {
                        engine.step(&mut state, None).unwrap();
                    }
                })
            });
        }
    }
    g.finish();
}

// criterion's HTML plots need system fonts this crate's plotters build does not load
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = mc
}
criterion_main!(benches);
