//! A user's own energy term, from definition to a validated fit, in this one file.
//!
//! A harmonic restraint between chosen nucleotides is added to oxDNA2: a spring of rest length
//! zero between the two ends of a 12-nucleotide single strand (poly-T, which cannot pair with
//! itself), pulling them together as a loop closure would. How close the ends come depends on
//! the spring's stiffness `k_restraint`, so DiffTRe trains the stiffness until the mean
//! end-to-end distance is 2.5 nm, with native MD of the restrained model; fresh simulations then
//! check the fit. Nothing outside this file is edited: the term is written once, generically over
//! [`Real`], and the crate evaluates it as energies, as MD forces and torques, and as tensors for
//! the gradient.
//!
//! ```sh
//! cargo run --release --example custom_term          # about 2 minutes on 2 cores
//! ```
//!
//! With `OXGRAD_EXAMPLE_QUICK=1` every run is 5 times shorter and the fit takes 5 steps: the
//! same lines in seconds, with noisier numbers.
//!
//! The last line is one JSON object: the stiffness before and after, and the validated
//! end-to-end distance with each.

use oxgrad::energy::terms::Pair;
use oxgrad::energy::{EnergyModel, EnergyTerm, ParamSpec, Scope, TermParams};
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::math::Real;
use oxgrad::objective::{DiffTre, Loss};
use oxgrad::observable::{Distance, Observable};
use oxgrad::optimize::{create_n, Aggregate, LocalPool, Optimization, OptimizerState, Params, Simulator, UpdateRule};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{MdConfig, NativeSimulator};
use oxgrad::system::TopologyFormat;
use oxgrad::train::Validation;
use std::sync::Arc;

/// E = ½ k (|r_q − r_p| − r0)² for each chosen pair of nucleotide centres.
#[derive(Debug)]
struct Restraint {
    pairs: Vec<(usize, usize)>,
}

impl EnergyTerm for Restraint {
    fn name(&self) -> &str {
        "Restraint"
    }

    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("k_restraint", 0.005, "energy / length²", "stiffness"),
            ParamSpec::new("r0_restraint", 0.0, "length", "rest length").extra(),
        ]
    }

    fn scope(&self) -> Scope {
        Scope::Pairs(self.pairs.clone())
    }

    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let stretch = pair.d.norm() - p.get("r0_restraint");
        stretch.clone() * stretch * p.get("k_restraint") * 0.5
    }
}

const TARGET_NM: f64 = 2.5;

/// `OXGRAD_EXAMPLE_QUICK=1` runs everything short (`tests/examples.rs` runs every example so).
fn quick() -> bool {
    std::env::var("OXGRAD_EXAMPLE_QUICK").is_ok_and(|v| v == "1")
}

fn main() -> oxgrad::Result<()> {
    // a single strand of 12 T at 300 K
    let (topology, start) = helix(&parse_sequence("TTTTTTTTTTTT")?, Shape::Strand, None, TopologyFormat::Classic)?;
    let mut params = ParamSet::dna2_defaults();
    params.set("kt", oxgrad::units::kt_from_str("300K")?)?;
    let model = EnergyModel::new(&topology, params)?.with_term(Restraint { pairs: vec![(0, 11)] }, 1.0)?;
    let base = model.params().clone();

    // two copies of the native engine simulating the restrained model
    let shorter = if quick() { 5 } else { 1 };
    let md = MdConfig::with_steps(400_000 / shorter);
    let template = NativeSimulator::of_model("restrained", topology.clone(), start, model.clone(), md, 1_000)?
        .equilibration_steps(50_000 / shorter);
    let simulators = create_n(2, Some("restrained"), |name| template.renamed(name));
    let trajectories = simulators.iter().flat_map(Simulator::exposes).collect();

    // DiffTRe on the end-to-end distance, squared error to the target
    let end_to_end: Arc<dyn Observable> = Arc::new(Distance::between(&topology, 0, 11)?);
    let objective = DiffTre::new("closure", trajectories, model, vec![end_to_end.clone()], Loss::squared(TARGET_NM))?
        .max_valid_opt_steps(3)?;

    // train the stiffness alone
    let mut theta: Params = [("k_restraint".to_string(), base.value("k_restraint"))].into_iter().collect();
    let mut opt = Optimization::new(UpdateRule::adam(0.005)?)
        .simulators(simulators)
        .objective(objective)
        .aggregate(Aggregate::Passthrough)
        .executor(LocalPool::new());
    let mut state = OptimizerState::default();
    let mut best = (f64::INFINITY, theta.clone());
    let steps = if quick() { 5 } else { 12 };
    for step in 0..=steps {
        let out = if step < steps { opt.step(&theta, state)? } else { opt.evaluate(&theta, state)? };
        let s = out.scalars();
        let (d, se, loss) = (s["closure.distance_0_11"], s["closure.distance_0_11_se"], s["closure.loss"]);
        println!(
            "step {step:2}: k_restraint {:.4}, end-to-end {d:.3} ± {se:.3} nm, loss {loss:.2e}",
            theta["k_restraint"]
        );
        if loss < best.0 {
            best = (loss, theta.clone());
        }
        theta = out.params.clone();
        state = out.state;
    }

    // the independent check: fresh, longer simulations with the same seeds for both stiffnesses
    let fitted = base.with_params(best.1.iter().map(|(k, v)| (k.as_str(), *v)))?;
    let mut long = template.config().clone();
    long.steps = 2_000_000 / shorter;
    let validation = Validation {
        simulators: vec![template.with_config(long, 1_000)?],
        copies: 2,
        seed: 1001,
        observables: vec![end_to_end],
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let v = validation.run(&[&base, &fitted], threads)?;
    println!(
        "{}",
        serde_json::json!({
            "target_nm": TARGET_NM,
            "initial": { "k_restraint": base.value("k_restraint"), "end_to_end_nm": v[0][0].value, "std_err": v[0][0].std_err },
            "fitted": { "k_restraint": fitted.value("k_restraint"), "end_to_end_nm": v[1][0].value, "std_err": v[1][0].std_err },
        })
    );
    Ok(())
}
