//! How one MD run scales from one thread to two (or `THREADS`), measured side by side in one
//! process: two runs of the same duplex with the same seed (one on one thread, one on several)
//! advance in alternating blocks of steps, so both see the same machine at nearly the same
//! moment and do exactly the same work (their states are compared bit for bit after every
//! block). Prints the median and quartiles of the per-block speed-ups.
//!
//! Run: `cargo bench --bench md_threads` (`ROUNDS=`, `STEPS=` per block, `THREADS=` to change).
//! oxDNA1, 300 K, dt 0.005, john thermostat, verlet_skin 0.05, as in `benches/simulate.rs`.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, Shape};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{Md, MdConfig, MdState, Thermostat};
use oxgrad::system::{Base, TopologyFormat};
use std::time::Instant;

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

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Seconds for `steps` steps of `md`, all inside its threads.
fn block(md: &mut Md<'_>, state: &mut MdState, steps: usize) -> f64 {
    let t = Instant::now();
    md.within(|md| {
        for _ in 0..steps {
            md.step(state).expect("a stable run");
        }
    });
    t.elapsed().as_secs_f64()
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: stay quick there
    let quick = !std::env::args().any(|a| a == "--bench");
    let (rounds, steps, threads) = (
        setting("ROUNDS", if quick { 1 } else { 15 }),
        setting("STEPS", if quick { 5 } else { 200 }),
        setting("THREADS", 2),
    );
    println!(
        "{:>6} {:>8} {:>12} {:>12} {:>10} {:>16}",
        "nt", "threads", "1 thread s", "N threads s", "speed-up", "quartiles"
    );
    for nt in [2000, 4000] {
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
        let start = MdState::from_configuration(&conf);
        let (mut one, mut many) = (start.clone(), start.clone());
        let mut md1 = Md::new(&model, cfg.clone(), &one).unwrap();
        let mut mdn = Md::new(&model, cfg, &many).unwrap().threads(threads).unwrap();
        md1.refresh_velocities(&mut one);
        mdn.refresh_velocities(&mut many);
        // thermalise away from the ideal helix
        block(&mut md1, &mut one, if quick { 5 } else { 500 });
        block(&mut mdn, &mut many, if quick { 5 } else { 500 });
        let (mut t1, mut tn, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let a = block(&mut md1, &mut one, steps);
            let b = block(&mut mdn, &mut many, steps);
            assert!(one.to_configuration(0.0) == many.to_configuration(0.0), "the runs differ");
            t1.push(a);
            tn.push(b);
            ratio.push(a / b);
        }
        for v in [&mut t1, &mut tn, &mut ratio] {
            v.sort_by(f64::total_cmp);
        }
        println!(
            "{nt:>6} {threads:>8} {:>12.4} {:>12.4} {:>10.2} {:>7.2}–{:<7.2}",
            quantile(&t1, 0.5),
            quantile(&tn, 0.5),
            quantile(&ratio, 0.5),
            quantile(&ratio, 0.25),
            quantile(&ratio, 0.75)
        );
    }
}
