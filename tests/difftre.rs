//! DiffTRe: reweighting gradients against finite differences of the reweighted loss, the n_eff
//! gate, the reuse limit, errors, and a run under the optimizer with native simulators.

mod common;

use common::case_dir;
use oxgrad::energy::{EnergyModel, ModelSetup};
use oxgrad::io::{InputFile, TrajectoryReader};
use oxgrad::objective::{DiffTre, LossOutput};
use oxgrad::optimize::*;
use oxgrad::trajectory::Trajectory;
use std::sync::Arc;

/// The 8-bp reference trajectory with its temperature, and its model.
fn reference() -> (EnergyModel, Trajectory) {
    let dir = case_dir("dna1-avg-8bp-T296");
    let s = ModelSetup::from_input(&InputFile::read(dir.join("input_analysis_nomesh")).unwrap()).unwrap();
    let frames: Vec<_> = TrajectoryReader::open(dir.join("trajectory.dat"), 16).unwrap().map(Result::unwrap).collect();
    let kt = s.model.params().value("kt");
    let n = frames.len();
    (s.model, Trajectory::new(frames, Some(vec![kt; n])).unwrap())
}

/// A θ-independent observable per state: the distance between the centres of nucleotides 0 and 15.
fn observable(t: &Trajectory) -> Vec<f64> {
    t.frames.iter().map(|f| (f.r[15] - f.r[0]).norm()).collect()
}

const TARGET: f64 = 1.2;

fn loss(t: &Trajectory, w: &[f64]) -> oxgrad::Result<LossOutput> {
    let o = observable(t);
    let mean: f64 = o.iter().zip(w).map(|(a, b)| a * b).sum();
    let mut reported = std::collections::BTreeMap::new();
    reported.insert("distance".to_string(), Observation::Scalar(mean));
    Ok(LossOutput {
        loss: (mean - TARGET).powi(2),
        dloss_dweights: o.iter().map(|x| 2.0 * (mean - TARGET) * x).collect(),
        reported,
    })
}

/// The reweighted loss at θ, for a reference at θ_ref, computed directly.
fn reweighted(model: &EnergyModel, t: &Trajectory, theta: &Params, theta_ref: &Params) -> f64 {
    let at = |p: &Params| {
        model.with_params(model.params().with_params(p.iter().map(|(k, v)| (k.as_str(), *v))).unwrap()).unwrap()
    };
    let (e, e0) = (at(theta).map(&t.frames).unwrap(), at(theta_ref).map(&t.frames).unwrap());
    let kt = t.temperature.as_ref().unwrap();
    let a: Vec<f64> = (0..t.len()).map(|i| -(e[i] - e0[i]) / kt[i]).collect();
    let (w, _) = oxgrad::objective::difftre::weights(&a);
    loss(t, &w).unwrap().loss
}

fn ctx() -> TaskContext {
    TaskContext { task: "objective_compute:d".into(), step: 0, attempt: 1, env: vec![] }
}

#[test]
fn reweighting_gradients_match_finite_differences() {
    let (model, traj) = reference();
    let id = ObservableId::new("trajectory", "NativeSimulator", "x");
    let d = DiffTre::new("d", vec![id], model.clone(), loss).min_n_eff(0.5).unwrap();
    let obs = vec![Arc::new(Observation::Trajectory(traj.clone()))];
    let theta0: Params =
        [("eps_stack_base", 1.3448), ("eps_hb", 1.077), ("a_stack", 6.0)].map(|(k, v)| (k.to_string(), v)).into();
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
        let g = out.grads.as_ref().unwrap();
        for name in theta.keys() {
            let h = 1e-6;
            let mut up = theta.clone();
            *up.get_mut(name).unwrap() += h;
            let mut down = theta.clone();
            *down.get_mut(name).unwrap() -= h;
            let fd = (reweighted(&model, &traj, &up, &theta0) - reweighted(&model, &traj, &down, &theta0)) / (2.0 * h);
            let ad = g.get(name);
            assert!(
                (ad - fd).abs() <= 1e-5 * fd.abs().max(ad.abs()) + 1e-10,
                "d/d{name}: DiffTRe {ad}, finite difference {fd}"
            );
        }
    }
    assert!(second.observables["neff"].as_scalar().unwrap() < 1.0);
}

#[test]
fn the_neff_gate_and_the_reuse_limit_ask_for_fresh_data() {
    let (model, traj) = reference();
    let id = ObservableId::new("trajectory", "NativeSimulator", "x");
    let obs = vec![Arc::new(Observation::Trajectory(traj))];
    let theta0: Params = [("eps_stack_base".to_string(), 1.3448)].into();
    let d = DiffTre::new("d", vec![id.clone()], model.clone(), loss);
    let first = d.calculate(&ctx(), &obs, &theta0, &State::new()).unwrap();
    let far: Params = [("eps_stack_base".to_string(), 2.5)].into();
    let out = d.calculate(&ctx(), &obs, &far, &first.state).unwrap();
    assert!(!out.is_ready, "a large step leaves too few effective samples");
    assert_eq!(out.needs_update, vec![id.clone()]);
    assert!(out.observables["neff"].as_scalar().unwrap() < 0.95);

    let limited = DiffTre::new("d", vec![id.clone()], model, loss).max_valid_opt_steps(1).unwrap();
    let first = limited.calculate(&ctx(), &obs, &theta0, &State::new()).unwrap();
    let out = limited.calculate(&ctx(), &obs, &theta0, &first.state).unwrap();
    assert!(!out.is_ready, "one update per trajectory");
    let e = DiffTre::new("d", vec![id], reference().0, loss).max_valid_opt_steps(0).err().unwrap().to_string();
    assert_eq!(e, "invalid max_valid_opt_steps = 0: max_valid_opt_steps must be positive or infinity.");
}

#[test]
fn difftre_without_a_trajectory_is_an_error() {
    let (model, _) = reference();
    let id = ObservableId::new("value", "Sampler", "s");
    let d = DiffTre::new("d", vec![id], model, loss);
    let e = d.calculate(&ctx(), &[Arc::new(Observation::Scalar(1.0))], &Params::new(), &State::new()).unwrap_err();
    assert_eq!(e.to_string(), "invalid observables = d: No SimulatorTrajectory observables found in observables.");
}

#[test]
fn difftre_trains_with_native_simulators() {
    use oxgrad::params::ParamSet;
    use oxgrad::simulate::{MdConfig, NativeSimulator, Thermostat};
    use oxgrad::system::generate::{helix, parse_sequence, Shape};
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
    let objective = DiffTre::new("distance", ids, model, loss).min_n_eff(0.9).unwrap();
    let mut losses = Vec::new();
    let mut cb = |out: &StepOutput, _| {
        losses.push(out.scalars()["distance.loss"]);
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
}
