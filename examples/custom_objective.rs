//! A custom objective: your own estimator and gradient, scheduled by the optimizer like any other.
//!
//! `FluctuationFit` drives the mean rise of a duplex towards a target with the thermodynamic
//! fluctuation formula instead of DiffTRe's reweighting. For states sampled at the current
//! parameters θ with energies E_t(θ) at β = 1/kT,
//!
//! ```text
//! d⟨O⟩/dθ = −β (⟨O ∂E/∂θ⟩ − ⟨O⟩⟨∂E/∂θ⟩),      L = (⟨O⟩ − target)²,
//! ```
//!
//! which is one vector–Jacobian product of the energy model with the per-state weights
//! c_t = −2β(⟨O⟩ − target)(O_t − ⟨O⟩)/N. At the sampling parameters this is exactly the gradient
//! DiffTRe reports, and the example checks that it is; unlike DiffTRe it cannot reuse states at
//! new parameters, so the objective asks for fresh ones at every step.
//!
//! ```sh
//! cargo run --release --example custom_objective     # about 20 s on 2 cores
//! ```
//!
//! With `OXGRAD_EXAMPLE_QUICK=1` every simulation is 10 times shorter.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::objective::{DiffTre, Loss, Reference};
use oxgrad::observable::{feature_table, BasePairs, Observable, Rise};
use oxgrad::optimize::{
    Aggregate, Objective, ObjectiveOutput, ObservableId, Observation, Optimization, Params, Simulator, State,
    TaskContext, UpdateRule,
};
use oxgrad::params::{ParamGrads, ParamSelection, ParamSet, Term};
use oxgrad::simulate::{MdConfig, NativeSimulator};
use oxgrad::system::TopologyFormat;
use oxgrad::trajectory::Trajectory;
use oxgrad::units::to_nm;
use oxgrad::Error;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `OXGRAD_EXAMPLE_QUICK=1` runs everything short (`tests/examples.rs` runs every example so).
fn quick() -> bool {
    std::env::var("OXGRAD_EXAMPLE_QUICK").is_ok_and(|v| v == "1")
}

/// Fits ⟨O⟩ of one observable to a target with the fluctuation formula.
struct FluctuationFit {
    required: ObservableId,
    base: ParamSet,
    topology: oxgrad::system::Topology,
    observable: Arc<dyn Observable>,
    target: f64,
}

impl FluctuationFit {
    /// Loss, ⟨O⟩ and ∂L/∂θ for the trained parameters `params`, from states sampled with them.
    fn loss_and_grads(&self, traj: &Trajectory, params: &Params) -> oxgrad::Result<(f64, f64, ParamGrads)> {
        let set = self.base.with_params(params.iter().map(|(k, v)| (k.as_str(), *v)))?;
        let model = EnergyModel::new(&self.topology, set.clone())?;
        // the rise feature is in oxDNA length units; the fit is in nm
        let o: Vec<f64> = feature_table(self.observable.as_ref(), traj)?.iter().map(|f| to_nm(f[0])).collect();
        let n = o.len() as f64;
        let mean = o.iter().sum::<f64>() / n;
        let beta = 1.0 / set.value("kt");
        let dl_do = 2.0 * (mean - self.target);
        let weights: Vec<f64> = o.iter().map(|x| -beta * dl_do * (x - mean) / n).collect();
        let trained: Vec<String> = params.keys().cloned().collect();
        let (_, grads) = model.vjp(&traj.frames, &weights, &trained)?;
        Ok(((mean - self.target).powi(2), mean, grads))
    }
}

impl Objective for FluctuationFit {
    fn name(&self) -> &str {
        "rise_fluctuation"
    }
    fn required_observables(&self) -> Vec<ObservableId> {
        vec![self.required.clone()]
    }
    fn calculate(
        &self,
        ctx: &TaskContext,
        observables: &[Arc<Observation>],
        params: &Params,
        state: &State,
    ) -> oxgrad::Result<ObjectiveOutput> {
        // the states must come from the current parameters: at the first call of a new step the
        // cached ones are the last step's, so ask for fresh ones (the scheduler then calls again)
        let mut st = State::new();
        st.insert("step".into(), ctx.step.into());
        if state.get("step").and_then(serde_json::Value::as_u64).is_some_and(|s| s != ctx.step as u64) {
            let mut out = ObjectiveOutput::not_ready(vec![self.required.clone()]);
            out.state = st;
            return Ok(out);
        }
        let Observation::Trajectory(traj) = observables[0].as_ref() else {
            return Err(Error::user(std::io::Error::other("FluctuationFit needs a trajectory observable")));
        };
        let (loss, mean, grads) = self.loss_and_grads(traj, params)?;
        let reported =
            BTreeMap::from([("loss".into(), Observation::Scalar(loss)), ("rise".into(), Observation::Scalar(mean))]);
        let mut out = ObjectiveOutput::ready(grads, reported);
        out.state = st;
        Ok(out)
    }
}

fn main() -> oxgrad::Result<()> {
    let (topology, start) = helix(&parse_sequence("ACGTTGCAAGCT")?, Shape::Duplex, None, TopologyFormat::Classic)?;
    let mut base = ParamSet::dna1_defaults();
    base.set("kt", oxgrad::units::kt_from_str("300K")?)?;
    let shorter = if quick() { 10 } else { 1 };
    let md = MdConfig { seed: 3, ..MdConfig::with_steps(100_000 / shorter) };
    let sim = NativeSimulator::new("duplex", topology.clone(), start, base.clone(), md, 500)?
        .equilibration_steps(10_000 / shorter);
    let rise: Arc<dyn Observable> = Arc::new(Rise::new(BasePairs::duplex(&topology, 2)?)?);
    let trained = ParamSelection::Terms(vec![Term::Stacking]).resolve(&base)?;
    let theta: Params = trained.iter().map(|n| (n.clone(), base.value(n))).collect();
    let fit = FluctuationFit {
        required: sim.exposes()[0].clone(),
        base: base.clone(),
        topology: topology.clone(),
        observable: rise.clone(),
        target: 0.345,
    };

    // 1. at the sampling parameters the fluctuation formula is DiffTRe's gradient
    let traj = sim.run_with(&base, 3)?;
    let (_, mean, mine) = fit.loss_and_grads(&traj, &theta)?;
    let difftre =
        DiffTre::new("rise", vec![], EnergyModel::new(&topology, base.clone())?, vec![rise], Loss::squared(0.345))?;
    let reference = difftre.evaluate(std::slice::from_ref(&traj), Reference::Current, &theta)?;
    let scale = reference.grads.0.values().fold(0.0_f64, |m, g| m.max(g.abs()));
    let worst = trained
        .iter()
        .map(|n| (mine.get(n).unwrap_or(0.0) - reference.grads.get(n).unwrap_or(0.0)).abs())
        .fold(0.0, f64::max);
    println!(
        "rise {mean:.4} nm over {} states; |fluctuation − DiffTRe| ≤ {:.1e} of the largest gradient",
        traj.len(),
        worst / scale
    );
    assert!(worst <= 1e-9 * scale, "the two estimators disagree");

    // 2. the same objective in the optimizer: a fresh simulation at every step
    let mut report = |out: &oxgrad::optimize::StepOutput, step: usize| {
        let s = out.scalars();
        println!("step {step}: rise {:.4} nm, loss {:.2e}", s["rise_fluctuation.rise"], s["rise_fluctuation.loss"]);
        (None, true)
    };
    let result = Optimization::new(UpdateRule::adam(2e-3)?)
        .simulator(sim)
        .objective(fit)
        .aggregate(Aggregate::Passthrough)
        .run(theta, 4, Some(&mut report))?;
    println!("eps_stack_base: {:.4} → {:.4}", base.value("eps_stack_base"), result.params["eps_stack_base"]);
    Ok(())
}
