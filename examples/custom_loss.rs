//! A custom loss written as a closure over tensors: lower the propeller twist of a 12-bp duplex
//! to 19° while holding its rise at the model's own value, and keep the trained parameters close
//! to oxDNA1's (a Gaussian prior). The closure sees the observables' values (`[2]`: propeller
//! twist in degrees, rise in nm) and every parameter as a tensor; DiffTRe differentiates it with
//! autodiff, so no derivative is written by hand.
//!
//! ```sh
//! cargo run --release --example custom_loss        # about a minute on 2 cores
//! ```
//!
//! With `OXGRAD_EXAMPLE_QUICK=1` every run is 10 times shorter and the fit takes 3 steps.
//!
//! The last line is one JSON object with the reweighted estimates before and after.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::objective::{DiffTre, Loss, Reference};
use oxgrad::observable::{BasePairs, Observable, PropellerTwist, Rise};
use oxgrad::optimize::{create_n, Aggregate, Optimization, Simulator, UpdateRule};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{MdConfig, NativeSimulator};
use oxgrad::system::TopologyFormat;
use std::sync::Arc;

/// `OXGRAD_EXAMPLE_QUICK=1` runs everything short (`tests/examples.rs` runs every example so).
fn quick() -> bool {
    std::env::var("OXGRAD_EXAMPLE_QUICK").is_ok_and(|v| v == "1")
}

fn main() -> oxgrad::Result<()> {
    let (topology, start) = helix(&parse_sequence("ACGTTGCAATGC")?, Shape::Duplex, None, TopologyFormat::Classic)?;
    let mut params = ParamSet::dna1_defaults();
    params.set("kt", 0.1)?; // 300 K
    let shorter = if quick() { 10 } else { 1 };
    let md = MdConfig { seed: 3, ..MdConfig::with_steps(100_000 / shorter) };
    let template = NativeSimulator::new("duplex", topology.clone(), start, params.clone(), md, 500)?
        .equilibration_steps(10_000 / shorter);
    let simulators = create_n(2, Some("duplex"), |n| template.renamed(n));
    let ids = simulators.iter().flat_map(Simulator::exposes).collect();
    let pairs = BasePairs::duplex(&topology, 2)?;
    let observables: Vec<Arc<dyn Observable>> =
        vec![Arc::new(PropellerTwist::new(pairs.clone())), Arc::new(Rise::new(pairs)?)];

    // the parameters trained, and their oxDNA1 values for the prior
    let trained = ["r0_cross", "dr_c_cross", "theta0_hb_4", "dr0_stack"];
    let prior: Vec<(String, f64)> = trained.iter().map(|n| (n.to_string(), params.value(n))).collect();
    let rise0 = 0.3426; // nm: the model's rise for these base pairs at 300 K
    let loss = Loss::custom(move |o, p| {
        let twist = o.clone().slice(0..1) - 19.0;
        let rise = (o.clone().slice(1..2) - rise0) * 100.0; // 0.01 nm counts like 1°
        let mut l = twist.clone() * twist + rise.clone() * rise;
        for (name, v0) in &prior {
            let d = (p.p(name) - *v0) / 0.02; // a prior of width 0.02 around oxDNA1's value
            l = l + d.clone() * d * 0.1;
        }
        l
    });
    let model = EnergyModel::new(&topology, params.clone())?;
    let objective = Arc::new(DiffTre::new("shape", ids, model, observables, loss)?);
    let theta: oxgrad::optimize::Params = trained.iter().map(|n| (n.to_string(), params.value(n))).collect();

    let result = Optimization::new(UpdateRule::adam(2e-3)?)
        .simulators(simulators.clone())
        .add_objective(objective.clone())
        .aggregate(Aggregate::Passthrough)
        .run(theta.clone(), if quick() { 3 } else { 12 }, None)?;

    // the same objective evaluated on its own: initial vs fitted parameters, on fresh trajectories
    let fresh = |p: &oxgrad::optimize::Params| -> oxgrad::Result<Vec<oxgrad::trajectory::Trajectory>> {
        let set = params.with_params(p.iter().map(|(k, v)| (k.as_str(), *v)))?;
        (0..2).map(|k| template.run_with(&set, 500 + k)).collect()
    };
    let before = objective.evaluate(&fresh(&theta)?, Reference::Current, &theta)?;
    let after = objective.evaluate(&fresh(&result.params)?, Reference::Current, &result.params)?;
    let show = |e: &oxgrad::objective::Evaluation| {
        serde_json::json!({
            "loss": e.loss,
            "propeller_twist": [e.observables[0].estimate.value, e.observables[0].estimate.std_err],
            "rise_nm": [e.observables[1].estimate.value, e.observables[1].estimate.std_err],
        })
    };
    println!("{}", serde_json::json!({ "before": show(&before), "after": show(&after), "params": result.params }));
    Ok(())
}
