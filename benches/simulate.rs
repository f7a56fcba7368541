//! MD steps per second of the native engine (oxDNA1, 300 K, dt 0.005, john thermostat,
//! verlet_skin 0.05 as in oxDNA's inputs) for 24-, 120-, 400- and 2000-nucleotide duplexes on one
//! thread, and for 2000 and 4000 nucleotides on two threads. Run: `cargo bench --bench simulate`;
//! criterion reports the time of 100 steps. The side-by-side comparison with oxDNA itself is
//! `benches/md_vs_oxdna.sh` (BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, Shape};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{Md, MdConfig, MdState, Thermostat};
use oxgrad::system::{Base, TopologyFormat};

fn sequence(bp: usize) -> Vec<Base> {
    // a fixed pseudo-random sequence
    let mut s = 0x2545_f491_4f6c_dd1du64;
    (0..bp)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            [Base::A, Base::C, Base::G, Base::T][(s % 4) as usize]
        })
        .collect()
}

fn simulate(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    for (nt, threads) in [(24, 1), (120, 1), (400, 1), (2000, 1), (2000, 2), (4000, 1), (4000, 2)] {
        let (top, conf) = helix(&sequence(nt / 2), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        let mut p = ParamSet::dna1_defaults();
        p.set("kt", 0.1).unwrap();
        let model = EnergyModel::new(&top, p).unwrap();
        let cfg = MdConfig {
            dt: 0.005,
            steps: 0,
            thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
            verlet_skin: 0.05,
            seed: 1,
        };
        let mut state = MdState::from_configuration(&conf);
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
