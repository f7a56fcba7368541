//! MD steps per second of the native engine (oxDNA1, 300 K, dt 0.005, john thermostat,
//! verlet_skin 0.05 as in oxDNA's inputs) for 24-, 120-, 400- and 2000-nucleotide duplexes on one
//! thread, and for 2000 and 4000 nucleotides on two threads. Run: `cargo bench --bench simulate`;
//! criterion reports the time of 100 steps. The side-by-side comparison with oxDNA itself is
//! `benches/md_vs_oxdna.sh` (BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxgrad::simulate::Md;

mod common;

fn simulate(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    for (nt, threads) in [(24, 1), (120, 1), (400, 1), (2000, 1), (2000, 2), (4000, 1), (4000, 2)] {
        let (model, cfg, mut state) = common::duplex(nt);
        let mut md = Md::new(&model, cfg, &state).unwrap().threads(threads).unwrap();
        md.refresh_velocities(&mut state);
        for _ in 0..1000 {
            md.step(&mut state).unwrap(); // thermalise away from the ideal helix
        }
        g.throughput(Throughput::Elements(100 * nt as u64));
        g.bench_function(BenchmarkId::new(format!("100_steps/{threads}_threads"), nt), |b| {
            b.iter(|| {
                for _ in 0..100 {
                    md.step(&mut state).unwrap();
                }
            })
        });
    }
    g.finish();
}

// criterion's HTML plots need system fonts this crate's plotters build does not load
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = simulate
}
criterion_main!(benches);
