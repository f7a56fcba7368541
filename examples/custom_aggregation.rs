//! A custom gradient aggregation: "projecting conflicting gradients" (PCGrad; Yu et al.,
//! NeurIPS 2020) for objectives that pull shared parameters in opposite directions.
//!
//! Each objective's gradient g_i loses its component along any other g_j it conflicts with
//! (g_i · g_j < 0): g_i ← g_i − (g_i · g_j / |g_j|²) g_j; the projected gradients are summed. Any
//! function of the objectives' gradients (in objective order) can be plugged in the same way with
//! [`Aggregate::custom`]; a training configuration names the built-in ones (`mean`, `weighted`,
//! `passthrough`).
//!
//! Two analytic objectives share (a, b): L₁ = (a + b − 2)² and L₂ = (a − 3b)², both zero at
//! (1.5, 0.5). The example runs SGD with the mean and with PCGrad from the same start and prints
//! both ends.
//!
//! ```sh
//! cargo run --release --example custom_aggregation
//! ```

use oxgrad::optimize::{
    Aggregate, GenericObjective, ObservableId, Observation, Optimization, Params, SimOutput, Simulator, State,
    TaskContext, UpdateRule,
};
use oxgrad::params::ParamGrads;
use std::collections::BTreeMap;

/// PCGrad over gradients by parameter name (a name missing from one gradient counts as 0).
fn pcgrad(grads: &[ParamGrads]) -> ParamGrads {
    let dot = |x: &ParamGrads, y: &ParamGrads| x.0.iter().map(|(k, v)| v * y.0.get(k).unwrap_or(&0.0)).sum::<f64>();
    let mut total = ParamGrads::default();
    for (i, g) in grads.iter().enumerate() {
        let mut projected = g.clone();
        for (j, other) in grads.iter().enumerate() {
            let (d, norm2) = (dot(&projected, other), dot(other, other));
            if i != j && d < 0.0 && norm2 > 0.0 {
                projected.add_assign(&other.scaled(-d / norm2));
            }
        }
        total.add_assign(&projected);
    }
    total
}

/// A "simulator" whose observable is the parameter vector itself (a stand-in for a simulation).
struct Identity;

impl Simulator for Identity {
    fn name(&self) -> &str {
        "point"
    }
    fn kind(&self) -> &str {
        "Identity"
    }
    fn produces(&self) -> Vec<String> {
        vec!["ab".into()]
    }
    fn run(&self, _: &TaskContext, p: &Params, _: &State) -> oxgrad::Result<SimOutput> {
        Ok(SimOutput { observables: vec![Observation::Vector(vec![p["a"], p["b"]])], state: State::new() })
    }
}

/// An objective (u·(a, b) − c)² with its gradient.
fn linear(name: &str, u: [f64; 2], c: f64) -> GenericObjective {
    let id = ObservableId::new("ab", "Identity", "point");
    GenericObjective::new(name, vec![id], move |obs, _| {
        let Observation::Vector(ab) = obs[0].as_ref() else { unreachable!("Identity returns a vector") };
        let r = u[0] * ab[0] + u[1] * ab[1] - c;
        let grads = ParamGrads([("a".into(), 2.0 * r * u[0]), ("b".into(), 2.0 * r * u[1])].into());
        Ok((grads, BTreeMap::from([("loss".into(), Observation::Scalar(r * r))])))
    })
    .resimulate_each_step()
}

fn fit(aggregate: Aggregate) -> oxgrad::Result<Params> {
    let start: Params = [("a".to_string(), -1.0), ("b".to_string(), 2.0)].into();
    let result = Optimization::new(UpdateRule::sgd(0.02)?)
        .simulator(Identity)
        .objective(linear("sum", [1.0, 1.0], 2.0))
        .objective(linear("ratio", [1.0, -3.0], 0.0))
        .aggregate(aggregate)
        .run(start, 150, None)?;
    Ok(result.params)
}

fn main() -> oxgrad::Result<()> {
    for (label, aggregate) in [("mean", Aggregate::Mean), ("pcgrad", Aggregate::custom(pcgrad))] {
        let p = fit(aggregate)?;
        let (l1, l2) = ((p["a"] + p["b"] - 2.0).powi(2), (p["a"] - 3.0 * p["b"]).powi(2));
        println!("{label:>6}: a = {:.4}, b = {:.4}, L1 = {l1:.1e}, L2 = {l2:.1e}", p["a"], p["b"]);
    }
    Ok(())
}
