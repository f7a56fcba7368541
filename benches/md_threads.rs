//! How one MD run scales from one thread to two (or `THREADS`), measured side by side in one
//! process: two runs of the same duplex with the same seed (one on one thread, one on several)
//! advance in alternating blocks of steps (which goes first alternates too), so both see the same
//! machine at nearly the same moment and do exactly the same work (their states and potential
//! energies are compared bit for bit after every block). Each round then also runs N independent
//! one-thread copies at once: N times the one-thread block's time over theirs is the machine's own
//! ceiling at that moment (what it gives N unrelated jobs). Prints the median and quartiles of the
//! per-block speed-ups and the median ceiling.
//!
//! Run: `cargo bench --bench md_threads` (`ROUNDS=`, `STEPS=` per block, `THREADS=` to change).
//! oxDNA1, 300 K, dt 0.005, john thermostat, verlet_skin 0.05, as in `benches/simulate.rs`.

use oxgrad::simulate::{Md, MdState};
use std::time::Instant;

mod common;

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
        "{:>6} {:>8} {:>12} {:>12} {:>10} {:>14} {:>10}",
        "nt", "threads", "1 thread s", "N threads s", "speed-up", "quartiles", "ceiling"
    );
    for nt in [2000, 4000] {
        let (model, cfg, start) = common::duplex(nt);
        // one run on one thread, one on N, and N independent one-thread runs (the ceiling: what
        // the machine gives N unrelated jobs at that moment)
        let run = |threads: usize| {
            let mut state = start.clone();
            let mut md = Md::new(&model, cfg.clone(), &state).unwrap().threads(threads).unwrap();
            md.refresh_velocities(&mut state);
            block(&mut md, &mut state, if quick { 5 } else { 500 }); // thermalise
            (md, state)
        };
        let (mut md1, mut one) = run(1);
        let (mut mdn, mut many) = run(threads);
        let mut apart: Vec<_> = (0..threads).map(|_| run(1)).collect();
        let (mut t1, mut tn, mut ratio, mut ceiling) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            // the order alternates
            let (a, b) = if round % 2 == 0 {
                let a = block(&mut md1, &mut one, steps);
                (a, block(&mut mdn, &mut many, steps))
            } else {
                let b = block(&mut mdn, &mut many, steps);
                (block(&mut md1, &mut one, steps), b)
            };
            let t = Instant::now();
            std::thread::scope(|s| {
                for (md, state) in &mut apart {
                    s.spawn(|| block(md, state, steps));
                }
            });
            let together = t.elapsed().as_secs_f64();
            // the same state and energy, bit for bit
            let bits = |s: &MdState, u: f64| {
                let c = s.to_configuration(u);
                let mut all = vec![u];
                for v in [&c.r, &c.a1, &c.a3, &c.v, &c.l] {
                    all.extend(v.iter().flat_map(|x| x.0));
                }
                all.into_iter().map(f64::to_bits).collect::<Vec<u64>>()
            };
            assert!(bits(&one, md1.potential()) == bits(&many, mdn.potential()), "the runs differ");
            t1.push(a);
            tn.push(b);
            ratio.push(a / b);
            ceiling.push(threads as f64 * a / together);
        }
        for v in [&mut t1, &mut tn, &mut ratio, &mut ceiling] {
            v.sort_by(f64::total_cmp);
        }
        println!(
            "{nt:>6} {threads:>8} {:>12.4} {:>12.4} {:>10.2} {:>6.2}–{:<7.2} {:>10.2}",
            quantile(&t1, 0.5),
            quantile(&tn, 0.5),
            quantile(&ratio, 0.5),
            quantile(&ratio, 0.25),
            quantile(&ratio, 0.75),
            quantile(&ceiling, 0.5)
        );
    }
}
