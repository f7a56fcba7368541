//! DiffTRe: reweighting gradients against finite differences of the reweighted loss computed
//! independently, non-linear observables and losses that use parameters, the n_eff gate, the
//! reuse limit, errors, and a run under the optimizer with native simulators.

mod common;

use common::case_dir;
use oxgrad::energy::{EnergyModel, ModelSetup};
use oxgrad::io::{InputFile, TrajectoryReader};
use oxgrad::objective::{DiffTre, Loss, Reference};
use oxgrad::observable::{BasePairs, Distance, Observable, Pitch};
use oxgrad::optimize::*;
use oxgrad::system::Topology;
use oxgrad::trajectory::Trajectory;
use std::sync::Arc;

/// The 8-bp reference trajectory with its temperature, its model and topology.
fn reference() -> (EnergyModel, Trajectory, Topology) {
    let dir = case_dir("dna1-avg-8bp-T296");
    let s = ModelSetup::from_input(&InputFile::read(dir.join("input_analysis_nomesh")).unwrap()).unwrap();
    let frames: Vec<_> = TrajectoryReader::open(dir.join("trajectory.dat"), 16).unwrap().map(Result::unwrap).collect();
    let kt = s.model.params().value("kt");
    let n = frames.len();
    (s.model, Trajectory::new(frames, Some(vec![kt; n])).unwrap(), s.topology)
}

/// The distance between the centres of nucleotides 0 and 15 in each state, nm (computed here,
/// independently of the observable's code).
fn distances_nm(t: &Trajectory) -> Vec<f64> {
    t.frames.iter().map(|f| (f.r[15] - f.r[0]).norm() * 0.8518).collect()
}

const TARGET_NM: f64 = 1.0;

/// The reweighted squared-error loss at θ for a reference at θ_ref, computed directly.
fn reweighted(model: &EnergyModel, t: &Trajectory, theta: &Params, theta_ref: &Params) -> f64 {
    let at = |p: &Params| {
        model.with_params(model.params().with_params(p.iter().map(|(k, v)| (k.as_str(), *v))).unwrap()).unwrap()
    };
    let (e, e0) = (at(theta).map(&t.frames).unwrap(), at(theta_ref).map(&t.frames).unwrap());
    let kt = t.temperature.as_ref().unwrap();
    let a: Vec<f64> = (0..t.len()).map(|i| -(e[i] - e0[i]) / kt[i]).collect();
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = a.iter().map(|x| (x - m).exp()).sum();
    let mean: f64 = distances_nm(t).iter().zip(&a).map(|(d, x)| d * (x - m).exp() / z).sum();
    (mean - TARGET_NM).powi(2)
}

fn distance(top: &Topology) -> Vec<Arc<dyn Observable>> {
    vec![Arc::new(Distance::between(top, 0, 15).unwrap())]
}

fn ctx() -> TaskContext {
    TaskContext { task: "objective_compute:d".into(), step: 0, attempt: 1, env: vec![], env_remove: vec![] }
}

fn theta0() -> Params {
    [("eps_stack_base", 1.3448), ("eps_hb", 1.077), ("a_stack", 6.0), ("dr0_stack", 0.4)]
        .map(|(k, v)| (k.to_string(), v))
        .into()
}

#[test]
fn reweighting_gradients_match_finite_differences() {
    let (model, traj, top) = reference();
    let id = ObservableId::new("trajectory", "NativeSimulator", "x");
    let d = DiffTre::new("d", vec![id], model.clone(), distance(&top), Loss::squared(TARGET_NM))
        .unwrap()
        .min_n_eff(0.5)
        .unwrap();
    let obs = vec![Arc::new(Observation::Trajectory(traj.clone()))];
    let theta0 = theta0();
    let first = d.calculate(&ctx(), &obs, &theta0, &State::new()).unwrap();
    assert!(first.is_ready);
    assert!((first.observables["neff"].as_scalar().unwrap() - 1.0).abs() < 1e-12, "uniform weights at θ_ref");
    // a second call at a nearby θ reweights against θ_ref = θ0
    let mut theta1 = theta0.clone();
    *theta1.get_mut("eps_stack_base").unwrap() += 0.004;
    *theta1.get_mut("eps_hb").unwrap() -= 0.003;
    let second = d.calculate(&ctx(), &obs, &theta1, &first.state).unwrap();
    assert!(second.is_ready);
    for (out, theta) in [(&first, &theta0), (&second, &theta1)] {
        let loss = out.observables["loss"].as_scalar().unwrap();
        assert!((loss - reweighted(&model, &traj, theta, &theta0)).abs() < 1e-12, "the loss is the reweighted loss");
        let g = out.grads.as_ref().unwrap();
        for name in theta.keys() {
            let h = 1e-6;
            let mut up = theta.clone();
            *up.get_mut(name).unwrap() += h;
            let mut down = theta.clone();
            *down.get_mut(name).unwrap() -= h;
            let fd = (reweighted(&model, &traj, &up, &theta0) - reweighted(&model, &traj, &down, &theta0)) / (2.0 * h);
            let ad = g.get(name).unwrap();
            assert!(ad.abs() > 1e-8, "d/d{name} should not vanish");
            assert!(
                (ad - fd).abs() <= 1e-5 * fd.abs().max(ad.abs()) + 1e-10,
                "d/d{name}: DiffTRe {ad}, finite difference {fd}"
            );
        }
    }
    assert!(second.observables["neff"].as_scalar().unwrap() < 1.0);
}

/// A non-linear observable (pitch = 360°/⟨twist⟩) and a custom loss that also uses a parameter
/// directly: the autodiff gradient equals central differences of `evaluate`'s own loss with the
/// reference fixed.
#[test]
fn nonlinear_observables_and_parameter_dependent_losses_differentiate_exactly() {
    let (model, traj, top) = reference();
    let pitch: Arc<dyn Observable> = Arc::new(Pitch::new(BasePairs::duplex(&top, 1).unwrap()).unwrap());
    let loss = Loss::custom(|o, p| {
        let d = o.clone().slice(0..1) - 10.5;
        d.clone() * d + (p.p("eps_hb") - 1.0).powf_scalar(2.0) * 3.0
    });
    let d = DiffTre::new("p", vec![], model, vec![pitch], loss).unwrap();
    let theta0 = theta0();
    let eval = |t: &Params| d.evaluate(std::slice::from_ref(&traj), Reference::Params(&theta0), t).unwrap();
    let mut theta = theta0.clone();
    *theta.get_mut("a_stack").unwrap() += 0.05;
    let e = eval(&theta);
    assert!(e.n_eff_min < 1.0 && e.n_eff_min > 0.5);
    common::check_gradient_and_step(&theta, e.loss, &e.grads, |t| eval(t).loss);
    // the direct term: ∂/∂eps_hb includes 6 (eps_hb − 1)
    assert!(e.grads.get("eps_hb").unwrap().abs() > 0.4);
    // the pitch estimate is 360° over the reweighted mean twist, with an error bar
    let p = &e.observables[0];
    assert_eq!((p.name.as_str(), p.unit.as_str()), ("pitch", "bp/turn"));
    assert!(p.estimate.value > 8.0 && p.estimate.value < 13.0 && p.estimate.std_err > 0.0, "{p:?}");
}

#[test]
fn the_neff_gate_and_the_reuse_limit_ask_for_fresh_data() {
    let (model, traj, top) = reference();
    let id = ObservableId::new("trajectory", "NativeSimulator", "x");
    let obs = vec![Arc::new(Observation::Trajectory(traj))];
    let theta0: Params = [("eps_stack_base".to_string(), 1.3448)].into();
    let d = DiffTre::new("d", vec![id.clone()], model.clone(), distance(&top), Loss::squared(TARGET_NM)).unwrap();
    let first = d.calculate(&ctx(), &obs, &theta0, &State::new()).unwrap();
    let far: Params = [("eps_stack_base".to_string(), 2.5)].into();
    let out = d.calculate(&ctx(), &obs, &far, &first.state).unwrap();
    assert!(!out.is_ready, "a large step leaves too few effective samples");
    assert_eq!(out.needs_update, vec![id.clone()]);
    assert!(out.observables["neff"].as_scalar().unwrap() < 0.95);

    let limited = DiffTre::new("d", vec![id.clone()], model.clone(), distance(&top), Loss::squared(1.0))
        .unwrap()
        .max_valid_opt_steps(1)
        .unwrap();
    let first = limited.calculate(&ctx(), &obs, &theta0, &State::new()).unwrap();
    let out = limited.calculate(&ctx(), &obs, &theta0, &first.state).unwrap();
    assert!(!out.is_ready, "one update per trajectory");
    let e = DiffTre::new("d", vec![id], model, distance(&top), Loss::squared(1.0))
        .unwrap()
        .max_valid_opt_steps(0)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(e, "invalid max_valid_opt_steps = 0: max_valid_opt_steps must be positive or infinity.");
}

#[test]
fn difftre_refuses_what_it_cannot_compute() {
    let (model, _, top) = reference();
    let id = ObservableId::new("value", "Sampler", "s");
    let d = DiffTre::new("d", vec![id], model.clone(), distance(&top), Loss::squared(1.0)).unwrap();
    let e = d.calculate(&ctx(), &[Arc::new(Observation::Scalar(1.0))], &Params::new(), &State::new()).unwrap_err();
    assert_eq!(e.to_string(), "invalid observables = d: No SimulatorTrajectory observables found in observables.");
    // a diameter is measured at fixed backbone sites: training their offset with it is refused
    let diameter: Arc<dyn Observable> =
        Arc::new(oxgrad::observable::Diameter::new(BasePairs::duplex(&top, 0).unwrap(), model.params()));
    let d = DiffTre::new("dia", vec![], model, vec![diameter], Loss::squared(2.0)).unwrap();
    let traj = reference().1;
    let e = d.evaluate(&[traj], Reference::Current, &[("com_to_backbone".to_string(), -0.4)].into()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid trained parameter = com_to_backbone: objective 'dia': observable 'diameter' is measured at fixed interaction sites and cannot train 'com_to_backbone'; leave it out of the trained parameters"
    );
}

#[test]
fn difftre_trains_with_native_simulators() {
    use oxgrad::generate::{helix, parse_sequence, Shape};
    use oxgrad::params::ParamSet;
    use oxgrad::simulate::{MdConfig, NativeSimulator, Thermostat};
    let (top, conf) =
        helix(&parse_sequence("ACGTTGCA").unwrap(), Shape::Duplex, None, oxgrad::system::TopologyFormat::Classic)
            .unwrap();
    let mut p = ParamSet::dna1_defaults();
    p.set("kt", 0.1).unwrap();
    let md = MdConfig {
        dt: 0.005,
        steps: 3000,
        thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
        verlet_skin: 0.1,
        seed: 3,
    };
    let base = NativeSimulator::new("helix", top.clone(), conf, p.clone(), md, 100).unwrap().equilibration_steps(1000);
    let sims = create_n(2, Some("helix"), |name| base.renamed(name));
    let ids: Vec<ObservableId> = sims.iter().flat_map(Simulator::exposes).collect();
    let model = EnergyModel::new(&top, p).unwrap();
    let objective =
        DiffTre::new("distance", ids, model, distance(&top), Loss::squared(TARGET_NM)).unwrap().min_n_eff(0.9).unwrap();
    let mut losses = Vec::new();
    let mut first_step = None;
    let mut cb = |out: &StepOutput, _| {
        losses.push(out.scalars()["distance.loss"]);
        first_step.get_or_insert((out.grads.get("eps_stack_base").unwrap(), out.params["eps_stack_base"]));
        (None, true)
    };
    let r = Optimization::new(UpdateRule::adam(1e-2).unwrap())
        .simulators(sims)
        .objective(objective)
        .aggregate(Aggregate::Passthrough)
        .executor(LocalPool::with_cpus(2))
        .run([("eps_stack_base".to_string(), 1.3448)].into(), 4, Some(&mut cb))
        .unwrap();
    assert_eq!(losses.len(), 4);
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!((r.params["eps_stack_base"] - 1.3448).abs() > 1e-3, "Adam moved the parameter");
    // Adam's first step is −lr · sign(g): downhill, whatever the gradient's size
    let (g, after) = first_step.unwrap();
    assert!(g.abs() > 0.0);
    assert!(((after - 1.3448) + 1e-2 * g.signum()).abs() < 1e-6, "first step {} against gradient {g}", after - 1.3448);
}

/// One DiffTRe step under the optimizer, on a replayed trajectory: SGD moves θ by −η g, and the
/// reweighted loss (computed here independently) falls by what the gradient predicts, −η |g|²,
/// to first order.
#[test]
fn a_difftre_step_lowers_the_loss_by_what_the_gradient_predicts() {
    let (model, traj, top) = reference();
    let sim = oxgrad::simulate::TrajectorySimulator::new("replay", traj.clone());
    let theta0 = theta0();
    let d = DiffTre::new("d", sim.exposes(), model.clone(), distance(&top), Loss::squared(TARGET_NM))
        .unwrap()
        .min_n_eff(0.5)
        .unwrap();
    // a learning rate that moves θ by 1e-4 in norm (first order holds to a few per cent there)
    let g0 = d
        .calculate(&ctx(), &[Arc::new(Observation::Trajectory(traj.clone()))], &theta0, &State::new())
        .unwrap()
        .grads
        .unwrap();
    let norm2: f64 = g0.0.values().map(|g| g * g).sum();
    let lr = 1e-4 / norm2.sqrt();
    let mut steps: Vec<(Params, f64)> = Vec::new();
    let mut cb = |out: &StepOutput, _| {
        steps.push((out.params.clone(), out.scalars()["d.loss"]));
        (None, true)
    };
    Optimization::new(UpdateRule::sgd(lr).unwrap())
        .simulator(sim)
        .objective(d)
        .aggregate(Aggregate::Passthrough)
        .run(theta0.clone(), 2, Some(&mut cb))
        .unwrap();
    let (theta1, loss0) = (&steps[0].0, steps[0].1);
    for (name, g) in &g0.0 {
        let moved = theta1[name] - theta0[name];
        // exact up to the rounding of θ − η g at the size of θ
        assert!(
            (moved + lr * g).abs() <= 4.0 * f64::EPSILON * theta0[name].abs(),
            "{name} moved {moved}, −η g = {}",
            -lr * g
        );
    }
    let l0 = reweighted(&model, &traj, &theta0, &theta0);
    let l1 = reweighted(&model, &traj, theta1, &theta0);
    assert!((loss0 - l0).abs() < 1e-12);
    assert!((steps[1].1 - l1).abs() < 1e-12, "step 1 reports the reweighted loss at θ1");
    let predicted = -lr * norm2;
    let ratio = (l1 - l0) / predicted;
    assert!(l1 < l0, "the step lowered the loss: {l0} → {l1}");
    assert!((ratio - 1.0).abs() < 0.05, "actual change {} vs predicted {predicted} (ratio {ratio})", l1 - l0);
}
