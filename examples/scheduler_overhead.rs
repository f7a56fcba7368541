//! Scheduler overhead and parallel efficiency of the executors.
//!
//! `cargo run --release --example scheduler_overhead [-- --executor thread|process|slurm]`
//! prints one JSON line:
//! - `overhead_us_per_task`: a step of 64 no-op simulators and one objective that needs all of
//!   them, divided by its 65 tasks (median of 20 steps on threads, of 6 on worker processes or
//!   Slurm job steps; every step re-simulates);
//! - `parallel_efficiency` (thread pool only): 8 CPU-bound simulators of 200 ms each on all
//!   cores; ideal time (⌈8 / cores⌉ × 200 ms) divided by the measured step time.
//!
//! With `slurm`, run it inside an allocation: `salloc -c2 target/release/examples/scheduler_overhead --executor slurm`.

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

fn optimization(n: usize, busy: Duration, executor: Box<dyn Executor>) -> Optimization {
    let sims = create_n(n, Some("w"), |name| Work { name, busy });
    let ids = sims.iter().flat_map(Simulator::exposes).collect();
    Optimization::new(UpdateRule::sgd(1e-3).unwrap())
        .simulators(sims)
        .objective(All { ids })
        .aggregate(Aggregate::Mean)
        .executor(executor)
}

fn main() -> oxgrad::Result<()> {
    let theta: Params = [("theta".to_string(), 0.5)].into();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);

    let args: Vec<String> = std::env::args().collect();
    let kind =
        args.iter().position(|a| a == "--executor").and_then(|i| args.get(i + 1)).map_or("thread", String::as_str);
    let (executor, steps): (Box<dyn Executor>, usize) = match kind {
        "thread" => (Box::new(LocalPool::new()), 21),
        "process" => (Box::new(ProcessPool::new()?), 7),
        "slurm" => (Box::new(ProcessPool::slurm()?), 7),
        other => return Err(oxgrad::Error::invalid("--executor", other, "use thread, process or slurm")),
    };

    // overhead: 64 no-op simulators + 1 objective per step
    let mut opt = optimization(64, Duration::ZERO, executor);
    let mut state = OptimizerState::default();
    let mut times = Vec::new();
    for _ in 0..steps {
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
    if kind != "thread" {
        // a worker builds the first optimization of this program: only one runs on processes
        println!("{{\"executor\":\"{kind}\",\"cores\":{cores},\"overhead_us_per_task\":{overhead_us:.1}}}");
        return Ok(());
    }

    // parallel efficiency: 8 × 200 ms of CPU work on all cores
    let mut opt = optimization(8, Duration::from_millis(200), Box::new(LocalPool::new()));
    let t = Instant::now();
    opt.step(&theta, OptimizerState::default())?;
    let measured = t.elapsed().as_secs_f64();
    let ideal = (8usize.div_ceil(cores)) as f64 * 0.2;
    println!(
        "{{\"executor\":\"thread\",\"cores\":{cores},\"overhead_us_per_task\":{overhead_us:.1},\"parallel_efficiency\":{:.3},\"measured_s\":{measured:.3},\"ideal_s\":{ideal:.3}}}",
        ideal / measured
    );
    Ok(())
}
