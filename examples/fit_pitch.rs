//! The flagship fit (`examples/flagship.toml`) written in Rust: oxDNA1's 12-bp duplex winds
//! about 10.35 base pairs per turn at 300 K; B-DNA in solution has 10.5. DiffTRe trains the FENE
//! and stacking parameters against the helical pitch, with two native simulators in parallel,
//! then fresh simulations check the fit.
//!
//! ```sh
//! cargo run --release --example fit_pitch            # about 3 minutes on 2 cores
//! ```
//!
//! With `OXGRAD_EXAMPLE_QUICK=1` every run is 10 times shorter and the fit takes 5 steps: the
//! same lines in seconds, with noisier numbers.
//!
//! The last line is one JSON object: the initial and fitted parameters' validated pitch.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::objective::{DiffTre, Loss};
use oxgrad::observable::{BasePairs, Observable, Pitch};
use oxgrad::optimize::{create_n, Aggregate, LocalPool, Optimization, OptimizerState, Simulator};
use oxgrad::params::{ParamSelection, ParamSet, Term};
use oxgrad::simulate::{MdConfig, NativeSimulator};
use oxgrad::system::TopologyFormat;
use oxgrad::train::Validation;
use std::sync::Arc;

/// `OXGRAD_EXAMPLE_QUICK=1` runs everything short (`tests/examples.rs` runs every example so).
fn quick() -> bool {
    std::env::var("OXGRAD_EXAMPLE_QUICK").is_ok_and(|v| v == "1")
}

fn main() -> oxgrad::Result<()> {
    // the system and the model at 300 K
    let (topology, start) = helix(&parse_sequence("ACGTTGCAATGC")?, Shape::Duplex, None, TopologyFormat::Classic)?;
    let mut params = ParamSet::dna1_defaults();
    params.set("kt", oxgrad::units::kt_from_str("300K")?)?;

    // two copies of the native MD engine: 200 000 steps, a state every 1 000
    let shorter = if quick() { 10 } else { 1 };
    let md = MdConfig::with_steps(200_000 / shorter);
    let template = NativeSimulator::new("duplex", topology.clone(), start, params.clone(), md, 1_000)?
        .equilibration_steps(20_000 / shorter);
    let simulators = create_n(2, Some("duplex"), |name| template.renamed(name));
    let trajectories = simulators.iter().flat_map(Simulator::exposes).collect();

    // DiffTRe on the pitch of the inner base pairs, squared error to 10.5 bp/turn
    let pitch: Arc<dyn Observable> = Arc::new(Pitch::new(BasePairs::duplex(&topology, 2)?)?);
    let model = EnergyModel::new(&topology, params.clone())?;
    let objective =
        DiffTre::new("pitch", trajectories, model, vec![pitch.clone()], Loss::squared(10.5))?.max_valid_opt_steps(4)?;

    // train FENE and stacking with Adam, evaluating the parameters after the last update too
    let trained = ParamSelection::Terms(vec![Term::Fene, Term::Stacking]).resolve(&params)?;
    let mut theta: oxgrad::optimize::Params = trained.iter().map(|n| (n.clone(), params.value(n))).collect();
    let mut opt = Optimization::new(oxgrad::optimize::UpdateRule::adam(1e-3)?)
        .simulators(simulators)
        .objective(objective)
        .aggregate(Aggregate::Passthrough)
        .executor(LocalPool::new());
    let mut state = OptimizerState::default();
    let mut best = (f64::INFINITY, theta.clone());
    let steps = if quick() { 5 } else { 20 };
    for step in 0..=steps {
        let out = if step < steps { opt.step(&theta, state)? } else { opt.evaluate(&theta, state)? };
        let s = out.scalars();
        println!(
            "step {step:2}: pitch {:.3} ± {:.3} bp/turn, loss {:.2e}",
            s["pitch.pitch"], s["pitch.pitch_se"], s["pitch.loss"]
        );
        if s["pitch.loss"] < best.0 {
            best = (s["pitch.loss"], theta.clone());
        }
        theta = out.params.clone();
        state = out.state;
    }

    // the independent check: fresh simulations, same seeds for both parameter sets
    let fitted = params.with_params(best.1.iter().map(|(k, v)| (k.as_str(), *v)))?;
    let mut long = template.config().clone();
    long.steps = 1_000_000 / shorter;
    let validation = Validation {
        simulators: vec![template.with_config(long, 1_000)?],
        copies: 2,
        seed: 1001,
        observables: vec![pitch],
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let v = validation.run(&[&params, &fitted], threads)?;
    println!(
        "{}",
        serde_json::json!({
            "target": 10.5,
            "initial": { "pitch": v[0][0].value, "std_err": v[0][0].std_err },
            "fitted": { "pitch": v[1][0].value, "std_err": v[1][0].std_err },
            "r0_backbone": fitted.value("r0_backbone"),
            "dr0_stack": fitted.value("dr0_stack"),
        })
    );
    Ok(())
}
