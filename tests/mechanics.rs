//! Mechanics (`observable::mechanics`, `observable::persistence`): the moduli of an elastic rod
//! with known S, C and g are recovered from states at several forces, within error bars that are
//! calibrated; the persistence length of worm-like chains with a known Lp is recovered; a duplex
//! pulled by oxDNA `string` forces in the native MD stretches with the force, and the DiffTRe
//! gradient of its stretch modulus equals finite differences of the reweighted estimate.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::geometry::Vec3;
use oxgrad::io::Configuration;
use oxgrad::objective::{DiffTre, Loss, Reference};
use oxgrad::observable::mechanics::{ElasticModulus, Extension, Modulus, Pulled, FORCE_KEY};
use oxgrad::observable::stats::estimate;
use oxgrad::observable::{feature_table, BasePairs, Observable, PersistenceLength, Reducer};
use oxgrad::optimize::Params;
use oxgrad::params::ParamSet;
use oxgrad::simulate::external::{pull_apart, ExternalForce};
use oxgrad::simulate::{MdConfig, NativeSimulator};
use oxgrad::system::TopologyFormat;
use oxgrad::trajectory::Trajectory;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::sync::Arc;

/// One oxDNA energy unit in pN nm.
const ENERGY_PN_NM: f64 = oxgrad::units::ENERGY_J * 1e21;

fn pulled(sequence: &str, exclude: usize) -> Pulled {
    let (top, _) = helix(&parse_sequence(sequence).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    Pulled::new(BasePairs::duplex(&top, exclude).unwrap(), [0.0, 0.0, 1.0]).unwrap()
}

/// A rod of rest length L₀ with moduli S, C, g (pN, pN nm², pN nm) at k_BT = `kt` (simulation
/// units), pulled by each of `forces` with no torque: independent (L, θ) per state from the
/// Gaussian of the rod's linear response, ⟨(L, θ)⟩ = (l₀, θ₀) + F (a₁, a₃) and covariance
/// k_BT [[a₁, a₃], [a₃, a₄]] (module docs of `observable::mechanics`). The twist is offset by
/// 10 rad, as a duplex's is: its variance is a small difference of mean squares (this offset made
/// the error bars 15–20 % too wide and scatter like 8-block ones while the linearisation was a
/// finite difference; it is autodiff now).
#[allow(clippy::too_many_arguments)]
fn rod_states(
    m: &ElasticModulus,
    (s, c, g): (f64, f64, f64),
    l0: f64,
    kt: f64,
    per_force: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<Vec<f64>> {
    let d = s * c - g * g;
    let (a1, a3, a4) = (l0 * c / d, -l0 * g / d, l0 * s / d);
    let kt_pn = kt * ENERGY_PN_NM;
    // Cholesky factor of k_BT [[a1, a3], [a3, a4]]
    let l11 = (kt_pn * a1).sqrt();
    let l21 = kt_pn * a3 / l11;
    let l22 = (kt_pn * a4 - l21 * l21).sqrt();
    let mut table = Vec::new();
    for (k, f) in m.forces().iter().enumerate() {
        for _ in 0..per_force {
            let (z1, z2): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
            let l = l0 + a1 * f + l11 * z1;
            let theta = 10.0 + a3 * f + l21 * z1 + l22 * z2;
            table.push(m.row(k, kt, l, theta));
        }
    }
    table
}

#[test]
fn moduli_of_an_elastic_rod_are_recovered_within_calibrated_error_bars() {
    let rod = (1100.0, 420.0, -90.0); // S, C, g
    let expected = [
        (Modulus::Stretch, rod.0 - rod.2 * rod.2 / rod.1), // S_eff = S − g²/C
        (Modulus::Torsion, rod.1),
        (Modulus::TwistStretch, rod.2),
    ];
    let forces = vec![10.0, 20.0, 30.0, 40.0];
    let per_force = 1000;
    let params = ParamSet::dna2_defaults();
    let reducer = Reducer::new(&params);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(26);
    let replicas = 100;
    for (modulus, truth) in expected {
        let m = ElasticModulus::new(modulus, pulled("ACGTACGTACGTACGTAC", 2), forces.clone()).unwrap();
        let mut z = Vec::new();
        let (mut vals, mut ses) = (Vec::new(), Vec::new());
        for _ in 0..replicas {
            let table = rod_states(&m, rod, 6.0, 0.1, per_force, &mut rng);
            let n = table.len();
            let e = estimate(&m, &reducer, &table, &vec![1.0 / n as f64; n], &[per_force; 4]);
            assert!(e.std_err.is_finite() && e.std_err > 0.0, "{}: {e:?}", m.name());
            z.push((e.value - truth) / e.std_err);
            vals.push(e.value);
            ses.push(e.std_err);
        }
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let sd = (z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (z.len() - 1) as f64).sqrt();
        let vm = vals.iter().sum::<f64>() / vals.len() as f64;
        let vsd = (vals.iter().map(|x| (x - vm).powi(2)).sum::<f64>() / (vals.len() - 1) as f64).sqrt();
        let mean_se = ses.iter().sum::<f64>() / ses.len() as f64;
        eprintln!("{}: mean z {mean}, SD of z {sd}; SD of the estimates {vsd}, mean SE {mean_se}", m.name());
        // unbiased to a fraction of an error bar (the mean of 100 z scatters by 0.1), error bars
        // neither too small nor too large (the SD of 100 z scatters by about 7 %)
        assert!(mean.abs() < 0.35, "{}: mean z {mean} (truth {truth})", m.name());
        assert!((0.8..1.2).contains(&sd), "{}: SD of z {sd}: the error bars are not calibrated", m.name());
    }
}

/// A discrete worm-like chain of `n` steps of length `step` whose tangent turns by an angle of
/// RMS `sigma` about a random perpendicular axis at each step: ⟨t_k·t_{k+n}⟩ = ⟨cos α⟩ⁿ, so
/// L_p = −step / ln⟨cos α⟩. Each midpoint carries a base pair 1.2 units wide.
fn worm_like_chain(n_pairs: usize, step: f64, sigma: f64, rng: &mut Xoshiro256PlusPlus) -> Configuration {
    let mut t = Vec3::new(0.0, 0.0, 1.0);
    let mut m = Vec3::new(0.0, 0.0, 0.0);
    let (mut r, mut a1, mut a3) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n_pairs {
        let helper = if t.0[0].abs() < 0.9 { Vec3::new(1.0, 0.0, 0.0) } else { Vec3::new(0.0, 1.0, 0.0) };
        let u = t.cross(helper).normalized();
        r.push(m + u * 0.6);
        r.push(m - u * 0.6);
        a1.push(u * -1.0);
        a1.push(u);
        a3.push(t * -1.0);
        a3.push(t);
        // turn the tangent: a Gaussian angle in each perpendicular direction
        let v = t.cross(u);
        let (x, y): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
        t = (t + u * (sigma * x) + v * (sigma * y)).normalized();
        m += t * step;
    }
    let k = r.len();
    Configuration {
        step: 0,
        box_sides: Vec3::new(1e4, 1e4, 1e4),
        energy: [0.0; 3],
        r,
        a1,
        a3,
        v: vec![Vec3::new(0.0, 0.0, 0.0); k],
        l: vec![Vec3::new(0.0, 0.0, 0.0); k],
    }
}

#[test]
fn the_persistence_length_of_worm_like_chains_is_the_known_one() {
    let (step, sigma, n_pairs) = (0.39, 0.12, 40);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    // ⟨cos α⟩ of the turn, estimated from a large sample of the same construction
    let cos: f64 = (0..400_000)
        .map(|_| {
            let (x, y): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
            1.0 / (1.0 + sigma * sigma * (x * x + y * y)).sqrt()
        })
        .sum::<f64>()
        / 400_000.0;
    let lp = -oxgrad::units::to_nm(step) / cos.ln();
    let frames: Vec<Configuration> = (0..2000).map(|_| worm_like_chain(n_pairs, step, sigma, &mut rng)).collect();
    let traj = Trajectory::new(frames, None).unwrap();
    let pairs = BasePairs::from_pairs((0..n_pairs).map(|k| (2 * k, 2 * k + 1)).collect(), 0).unwrap();
    let obs = PersistenceLength::new(pairs, Some(10)).unwrap();
    let table = feature_table(&obs, &traj).unwrap();
    let n = table.len();
    let e = estimate(&obs, &Reducer::new(&ParamSet::dna1_defaults()), &table, &vec![1.0 / n as f64; n], &[n]);
    assert!((e.value - lp).abs() < 4.0 * e.std_err, "Lp {} ± {} nm, the chain's {lp} nm", e.value, e.std_err);
    assert!(e.std_err < 0.05 * lp, "{e:?}");
}

/// Runs of an 18-bp oxDNA2 duplex pulled by `string` forces of F/2 on each nucleotide of its
/// end pairs, as an objective's `forces` expand them, each state labelled with its force.
fn pulled_runs(forces: &[f64], steps: u64, params: &ParamSet) -> (EnergyModel, Vec<Trajectory>) {
    let sequence = "GCGTACGTACGTACGTGC";
    let (top, start) =
        helix(&parse_sequence(sequence).unwrap(), Shape::Duplex, Some(40.0), TopologyFormat::Classic).unwrap();
    let pairs = BasePairs::duplex(&top, 0).unwrap();
    let (first, last) = (pairs.pairs()[0], pairs.pairs()[pairs.len() - 1]);
    let model = EnergyModel::new(&top, params.clone()).unwrap();
    let template = NativeSimulator::of_model("pulled", top, start, model.clone(), MdConfig::with_steps(steps), 200)
        .unwrap()
        .equilibration_steps(10_000);
    let runs = forces
        .iter()
        .enumerate()
        .map(|(k, &f)| {
            template
                .clone()
                .external_forces(pull_apart(first, last, f, [0.0, 0.0, 1.0]).unwrap().to_vec())
                .metadata(FORCE_KEY, f)
                .run_with(params, 100 + k as u64)
                .unwrap()
        })
        .collect();
    (model, runs)
}

#[test]
fn a_pulled_duplex_stretches_and_its_stretch_modulus_gradient_is_the_derivative_of_its_estimate() {
    let params = ParamSet::dna2_defaults();
    let forces = [8.0, 24.0, 40.0];
    let (model, runs) = pulled_runs(&forces, 60_000, &params);
    let ext = Extension(pulled("GCGTACGTACGTACGTGC", 2));
    let reducer = Reducer::new(&params);
    let means: Vec<_> = runs
        .iter()
        .map(|t| {
            let table = feature_table(&ext, t).unwrap();
            let n = table.len();
            estimate(&ext, &reducer, &table, &vec![1.0 / n as f64; n], &[n])
        })
        .collect();
    for (w, f) in means.windows(2).zip(forces.windows(2)) {
        let (lo, hi) = (&w[0], &w[1]);
        assert!(
            hi.value - lo.value > 2.0 * (hi.std_err.powi(2) + lo.std_err.powi(2)).sqrt(),
            "extension at {} pN {lo:?} and at {} pN {hi:?}: a pulled duplex lengthens with the force",
            f[0],
            f[1]
        );
    }
    // the moduli and their DiffTRe gradient, reweighted from θ_ref to θ
    let m: Arc<dyn Observable> =
        Arc::new(ElasticModulus::new(Modulus::Stretch, pulled("GCGTACGTACGTACGTGC", 2), forces.to_vec()).unwrap());
    let d = DiffTre::new("stretch", vec![], model, vec![m], Loss::squared(1200.0)).unwrap();
    let names = ["eps_backbone", "eps_stack_base"];
    let theta_ref: Params = names.iter().map(|n| (n.to_string(), params.value(n))).collect();
    let theta: Params = names.iter().map(|n| (n.to_string(), params.value(n) * 1.01)).collect();
    let e = d.evaluate(&runs, Reference::Params(&theta_ref), &theta).unwrap();
    let s = &e.observables[0].estimate;
    assert!(s.value.is_finite() && s.std_err.is_finite(), "{s:?}");
    eprintln!("stretch modulus {} ± {} pN, extensions {means:?}", s.value, s.std_err);
    for n in names {
        let h = 1e-5 * theta[n];
        let at = |x: f64| {
            let mut p = theta.clone();
            p.insert(n.to_string(), x);
            d.evaluate(&runs, Reference::Params(&theta_ref), &p).unwrap().loss
        };
        let fd = (at(theta[n] + h) - at(theta[n] - h)) / (2.0 * h);
        let g = e.grads.get(n).unwrap();
        assert!((g - fd).abs() <= 1e-5 * fd.abs().max(1.0), "dL/d{n}: DiffTRe {g}, finite differences {fd}");
    }
}

#[test]
fn an_objective_with_forces_runs_its_simulator_once_per_force_and_validates_each() {
    let text = r#"
[model]
kind = "dna2"

[optimizer]
steps = 1
train = ["eps_backbone"]

[[simulator]]
name = "duplex"
kind = "native"
duplex = "GCGTACGTACGTGC"
md_steps = 2000
copies = 2

[[objective]]
name = "stiffness"
simulators = ["duplex"]
observable = { kind = "stretch_modulus", forces = ["10pN", "25pN", "40pN"] }
target = 1200.0
"#;
    let plan = oxgrad::config::ConfigFile::parse(text, std::path::Path::new("stretch.toml")).unwrap().build().unwrap();
    let names: Vec<&str> = plan.simulators.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["duplex", "duplex-10pN", "duplex-25pN", "duplex-40pN"]);
    let top = &plan.simulators[0].topology;
    let pairs = BasePairs::duplex(top, 0).unwrap();
    let (first, last) = (pairs.pairs()[0], pairs.pairs()[pairs.len() - 1]);
    for (s, f) in plan.simulators[1..].iter().zip([10.0, 25.0, 40.0]) {
        let oxgrad::config::plan::SimulatorKind::Native { copies } = &s.kind else {
            panic!("{} is not native", s.name)
        };
        assert_eq!(copies.len(), 2);
        for (c, sim) in copies.iter().enumerate() {
            assert_eq!(oxgrad::component::Simulator::name(sim), format!("{}.{c}", s.name));
            assert_eq!(sim.state_metadata().get(FORCE_KEY), Some(&f));
            // F/2 on each nucleotide of the end pairs, the first pulled along −z, the last along +z
            let expected = |p: (usize, usize), z: f64| ExternalForce::String {
                particles: vec![p.0, p.1],
                f0: oxgrad::units::force_from_pn(f / 2.0),
                rate: 0.0,
                dir: Vec3::new(0.0, 0.0, z),
                dir_as_centre: false,
            };
            assert_eq!(sim.forces(), [expected(first, -1.0), expected(last, 1.0)]);
            assert_eq!(sim.forces(), pull_apart(first, last, f, [0.0, 0.0, 2.0]).unwrap());
        }
    }
    // the objective reads every force's copies; the validation re-simulates each force
    let required: Vec<String> =
        plan.objectives[0].objective.objective().required_observables().iter().map(|o| o.name.clone()).collect();
    assert_eq!(required.len(), 6, "{required:?}");
    assert!(required.iter().all(|r| r.starts_with("duplex-")), "{required:?}");
    assert_eq!(plan.objectives[0].validation_simulators.len(), 3);
}
