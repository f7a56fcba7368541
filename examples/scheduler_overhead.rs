//! Scheduler overhead and parallel efficiency of the local thread pool.
//!
//! `cargo run --release --example scheduler_overhead` prints one JSON line:
//! - `overhead_us_per_task`: a step of 64 no-op simulators and one objective that needs all of
//!   them, divided by its 65 tasks (median of 20 steps; every step re-simulates);
//! - `parallel_efficiency`: 8 CPU-bound simulators of 200 ms each on all cores; ideal time
//!   (⌈8 / cores⌉ × 200 ms) divided by the measured step time.

use oxgrad::optimize::*;
use oxgrad::params::ParamGrads;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Work {
    name: String,
    busy: Duration,
}

impl Simulator for Work {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        "Work"
    }
    fn produces(&self) -> Vec<String> {
        vec!["done".into()]
    }
    fn run(&self, _: &TaskContext, p: &Params, _: &State) -> oxgrad::Result<SimOutput> {
        // CPU-bound: spin (do arithmetic) until the time is used
        let start = Instant::now();
        let mut x = p["theta"];
        while start.elapsed() < self.busy {
            for _ in 0..1000 {
                x = (x * 1.000_000_1).sin() + 1.0;
            }
        }
        Ok(SimOutput { observables: vec![Observation::Scalar(std::hint::black_box(x))], state: State::new() })
    }
}

/// Needs every simulator's output.
struct All {
    ids: Vec<ObservableId>,
}

impl Objective for All {
    fn name(&self) -> &str {
        "all"
    }
    fn required_observables(&self) -> Vec<ObservableId> {
        self.ids.clone()
    }
    fn calculate(
        &self,
        _: &TaskContext,
        obs: &[Arc<Observation>],
        _: &Params,
        _: &State,
    ) -> oxgrad::Result<ObjectiveOutput> {
        let g: f64 = obs.iter().filter_map(|o| o.as_scalar()).sum::<f64>() * 0.0;
        Ok(ObjectiveOutput::ready(ParamGrads([("theta".to_string(), g)].into()), BTreeMap::new()))
    }
}

fn optimization(n: usize, busy: Duration) -> Optimization {
    let sims = create_n(n, Some("w"), |name| Work { name, busy });
    let ids = sims.iter().flat_map(Simulator::exposes).collect();
    Optimization::new(UpdateRule::sgd(1e-3).unwrap())
        .simulators(sims)
        .objective(All { ids })
        .aggregate(Aggregate::Mean)
        .executor(LocalPool::new())
}

fn main() -> oxgrad::Result<()> {
    let theta: Params = [("theta".to_string(), 0.5)].into();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);

    // overhead: 64 no-op simulators + 1 objective per step
    let mut opt = optimization(64, Duration::ZERO);
    let mut state = OptimizerState::default();
    let mut times = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let out = opt.step(&theta, state)?;
        times.push(t.elapsed().as_secs_f64());
        state = out.state;
        // forget the cache so every step runs all 64 simulators again
        state.observables.clear();
    }
    times.remove(0); // warm-up (thread start)
    times.sort_by(f64::total_cmp);
    let overhead_us = times[times.len() / 2] / 65.0 * 1e6;

    // parallel efficiency: 8 × 200 ms of CPU work on all cores
    let mut opt = optimization(8, Duration::from_millis(200));
    let t = Instant::now();
    opt.step(&theta, OptimizerState::default())?;
    let measured = t.elapsed().as_secs_f64();
    let ideal = (8usize.div_ceil(cores)) as f64 * 0.2;
    println!(
        "{{\"cores\":{cores},\"overhead_us_per_task\":{overhead_us:.1},\"parallel_efficiency\":{:.3},\"measured_s\":{measured:.3},\"ideal_s\":{ideal:.3}}}",
        ideal / measured
    );
    Ok(())
}
