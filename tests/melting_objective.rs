//! The melting temperature as a training target (`objective::melting`): its gradient is the
//! derivative of what it computes (finite differences through the temperature extrapolation and
//! the reweighting), and the Tm it reads from the saved states of an umbrella-sampled run agrees
//! with the Tm of the same run's histogram (every move attempt counted, `oxgrad melting`).

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::io::order_parameter::{MissingWeights, OrderParameters, Weights};
use oxgrad::objective::{Loss, MeltingObjective};
use oxgrad::observable::melting::{Melting, Molecularity};
use oxgrad::observable::melting_temperature::MeltingTemperature;
use oxgrad::optimize::Params;
use oxgrad::params::ParamSet;
use oxgrad::simulate::native::MonteCarlo;
use oxgrad::simulate::{McConfig, MdConfig, NativeSimulator};
use oxgrad::system::{Topology, TopologyFormat};
use oxgrad::trajectory::Trajectory;
use oxgrad::units::kt_from_str;
use std::path::Path;
use std::sync::Arc;

const SEQUENCE: &str = "AGCGTGAC";

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/melting").join(name)
}

/// The duplex in a box of side 12, its order parameters (the eight native pairs, the
/// separation of parted strands) and umbrella weights (those of `examples/melting.toml`).
fn system() -> (Topology, oxgrad::io::Configuration, OrderParameters, Weights) {
    let (top, conf) =
        helix(&parse_sequence(SEQUENCE).unwrap(), Shape::Duplex, Some(12.0), TopologyFormat::Classic).unwrap();
    let ops = OrderParameters::read(data("duplex_op.txt"), 16).unwrap();
    let weights = Weights::read(data("duplex_weights.txt"), &ops, MissingWeights::Refuse).unwrap();
    (top, conf, ops, weights)
}

fn params_at(t: &str) -> ParamSet {
    let mut p = ParamSet::dna1_defaults();
    p.set("kt", kt_from_str(t).unwrap()).unwrap();
    p
}

/// The hydrogen-bonding strength the umbrella weights were refined for (near its Tm at 62 °C).
const EPS_HB_OF_THE_WEIGHTS: f64 = 1.16;

fn params_of_the_weights(t: &str) -> ParamSet {
    let mut p = params_at(t);
    p.set("eps_hb", EPS_HB_OF_THE_WEIGHTS).unwrap();
    p
}

/// Tm of the duplex's states on a grid of temperatures (°C), with the parameters `params(T)`.
fn melting_temperature(
    top: &Topology,
    ops: OrderParameters,
    weights: Weights,
    t0: &str,
    grid: &[u32],
    params: fn(&str) -> ParamSet,
) -> MeltingTemperature {
    let models = grid
        .iter()
        .map(|c| {
            let p = params(&format!("{c}C"));
            (p.value("kt"), EnergyModel::new(top, p).unwrap())
        })
        .collect();
    MeltingTemperature::new(
        EnergyModel::new(top, params(t0)).unwrap(),
        Melting::new(Molecularity::Bimolecular),
        ops,
        Some(weights),
        models,
    )
    .unwrap()
}

/// The duplex's second strand moved 5 length units away: a start among the unbound states.
fn separated(conf: &oxgrad::io::Configuration) -> oxgrad::io::Configuration {
    let mut c = conf.clone();
    for r in &mut c.r[8..] {
        r.0[2] += 5.0;
    }
    c
}

/// Independent VMMC runs with the umbrella from each of `starts`, `steps` each, a state every
/// `every`.
fn sample(
    top: &Topology,
    starts: &[oxgrad::io::Configuration],
    ops: &OrderParameters,
    weights: &Weights,
    t0: &str,
    steps: u64,
    every: u64,
) -> Vec<Trajectory> {
    starts
        .iter()
        .enumerate()
        .map(|(k, start)| run_from(top, start, ops, weights, t0, steps, every, 100 + k as u64))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn run_from(
    top: &Topology,
    start: &oxgrad::io::Configuration,
    ops: &OrderParameters,
    weights: &Weights,
    t0: &str,
    steps: u64,
    every: u64,
    seed: u64,
) -> Trajectory {
    let p = params_at(t0);
    let sim = NativeSimulator::new("duplex", top.clone(), start.clone(), p.clone(), MdConfig::default(), every)
        .unwrap()
        .at_temperature(p.value("kt"))
        .unwrap()
        .monte_carlo(MonteCarlo {
            config: McConfig { steps, ..McConfig::default() },
            umbrella: Some((ops.clone(), weights.clone())),
        })
        .unwrap()
        .equilibration_steps(steps / 10);
    sim.run_with(&p, seed).unwrap()
}

/// ∂L/∂θ of L = (Tm − target)² equals central differences of the loss the objective evaluates,
/// for a parameter that changes with temperature (the stacking strength's base, whose ε moves
/// with T) and ones that do not (hydrogen bonding, the backbone's FENE spring), reweighted from
/// a reference θ_ref ≠ θ so the reweighting's dependence is in it too. One run starts paired,
/// one apart, so both kinds of state are there however short the runs.
#[test]
fn the_gradient_of_tm_is_its_finite_difference() {
    let (top, conf, ops, weights) = system();
    let trajs = sample(&top, &[conf.clone(), separated(&conf)], &ops, &weights, "60C", 20_000, 20);
    let grid: Vec<u32> = (30..=70).step_by(4).collect();
    let tm = Arc::new(melting_temperature(&top, ops, weights, "60C", &grid, params_at));
    let objective = MeltingObjective::new("tm", vec![], tm, Loss::squared(330.0)).unwrap();
    let base = ParamSet::dna1_defaults();
    let theta_ref: Params =
        ["eps_hb", "eps_stack_base", "eps_backbone"].iter().map(|n| (n.to_string(), base.value(n))).collect();
    let mut theta = theta_ref.clone();
    theta.insert("eps_hb".into(), base.value("eps_hb") * 1.004);
    let e = objective.evaluate(&trajs, &theta_ref, &theta).unwrap();
    assert!(e.tm.value.is_finite() && e.tm.std_err > 0.0, "{:?}", e.tm);
    assert!(e.n_eff < 1.0 && e.n_eff > 0.5, "θ ≠ θ_ref reweights: n_eff {}", e.n_eff);
    let loss = |p: &Params| objective.evaluate(&trajs, &theta_ref, p).unwrap().loss;
    for name in theta.keys() {
        let h = 1e-5 * theta[name].abs();
        let (mut up, mut down) = (theta.clone(), theta.clone());
        *up.get_mut(name).unwrap() += h;
        *down.get_mut(name).unwrap() -= h;
        let fd = (loss(&up) - loss(&down)) / (2.0 * h);
        let g = e.grads.get(name).unwrap();
        assert!(g.abs() > 1e-3, "{name}: the loss depends on it ({g})");
        assert!((g - fd).abs() < 1e-4 * fd.abs().max(1.0), "{name}: autodiff {g}, finite difference {fd}");
    }
}

/// One umbrella-sampled VMMC run at 62 °C (box side 12, bonds and separation as order
/// parameters, the hydrogen-bonding strength the weights were made for): the Tm of its saved
/// states, reweighted to each temperature (`MeltingTemperature`, what training differentiates),
/// equals the Tm of the same run's histogram, which counts every move attempt and reweights each
/// with the running energy differences (`oxgrad melting`), within three standard errors of the
/// states' estimate.
#[test]
fn tm_of_the_states_is_the_tm_of_the_histogram() {
    use oxgrad::io::histogram::Histogram;
    use oxgrad::io::InputFile;
    let d = tempfile::tempdir().unwrap();
    let (top, conf) =
        helix(&parse_sequence(SEQUENCE).unwrap(), Shape::Duplex, Some(12.0), TopologyFormat::Classic).unwrap();
    top.write(d.path().join("duplex.top"), TopologyFormat::Classic).unwrap();
    conf.write(d.path().join("init.dat")).unwrap();
    for f in ["duplex_op.txt", "duplex_weights.txt"] {
        std::fs::copy(data(f), d.path().join(f)).unwrap();
    }
    let grid: Vec<u32> = (48..=76).step_by(2).collect();
    let extrapolate: Vec<String> = grid.iter().map(|c| format!("{c}C")).collect();
    let input = d.path().join("input");
    std::fs::write(
        &input,
        format!(
            "sim_type = VMMC\nsteps = 1000000\nseed = 3\nT = 62C\ndelta_translation = 0.22\ndelta_rotation = 0.22\ntopology = duplex.top\nconf_file = init.dat\ntrajectory_file = trajectory.dat\nenergy_file = energy.dat\nlastconf_file = last_conf.dat\nprint_conf_interval = 500\nprint_energy_every = 10000\nrestart_step_counter = 1\numbrella_sampling = 1\nop_file = duplex_op.txt\nweights_file = duplex_weights.txt\nextrapolate_hist = {}\n",
            extrapolate.join(", ")
        ),
    )
    .unwrap();
    let run = oxgrad::simulate::SimRun::from_input_with(
        &InputFile::read(&input).unwrap(),
        Some(&params_of_the_weights("62C")),
    )
    .unwrap();
    run.run(|_, _| {}).unwrap();
    let hist = Histogram::read(d.path().join("last_hist.dat")).unwrap();
    let from_hist = Melting::new(Molecularity::Bimolecular).run(&hist, Path::new("last_hist.dat")).unwrap();
    let frames: Vec<_> =
        oxgrad::io::TrajectoryReader::open(d.path().join("trajectory.dat"), 16).unwrap().map(Result::unwrap).collect();
    let t0 = kt_from_str("62C").unwrap();
    let n = frames.len();
    let traj = Trajectory::new(frames, Some(vec![t0; n])).unwrap();
    let ops = OrderParameters::read(data("duplex_op.txt"), 16).unwrap();
    let weights = Weights::read(data("duplex_weights.txt"), &ops, MissingWeights::Refuse).unwrap();
    let tm = melting_temperature(&top, ops, weights, "62C", &grid, params_of_the_weights);
    let from_states = tm.estimate_at(&[traj], &params_of_the_weights("62C")).unwrap();
    let hist_k = oxgrad::units::kelvin_from_kt(from_hist.tm);
    assert!(
        (from_states.value - hist_k).abs() < 3.0 * from_states.std_err,
        "states: {} ± {} K, histogram: {hist_k} K",
        from_states.value,
        from_states.std_err
    );
    assert!(from_states.std_err < 3.0, "a 10⁶-step run pins Tm to a few kelvin: ± {}", from_states.std_err);
}

/// With `kind = "oxdna"` (oxDNA's VMMC, or anything with its command line), the melting
/// objective takes the umbrella's files, the sampling temperature and the box from the input
/// directory, so one directory serves oxDNA and the objective alike.
#[test]
fn an_oxdna_simulator_gives_the_objective_its_umbrella_files() {
    use oxgrad::config::plan::PlannedObjective;
    use oxgrad::config::ConfigFile;
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("vmmc");
    std::fs::create_dir(&run).unwrap();
    let (top, conf) =
        helix(&parse_sequence(SEQUENCE).unwrap(), Shape::Duplex, Some(12.0), TopologyFormat::Classic).unwrap();
    top.write(run.join("duplex.top"), TopologyFormat::Classic).unwrap();
    conf.write(run.join("init.dat")).unwrap();
    for f in ["duplex_op.txt", "duplex_weights.txt"] {
        std::fs::copy(data(f), run.join(f)).unwrap();
    }
    std::fs::write(
        run.join("input"),
        "sim_type = VMMC\nsteps = 1000\nT = 62C\ntopology = duplex.top\nconf_file = init.dat\ntrajectory_file = trajectory.dat\nenergy_file = energy.dat\nprint_conf_interval = 100\nprint_energy_every = 100\numbrella_sampling = 1\nop_file = duplex_op.txt\nweights_file = duplex_weights.txt\n",
    )
    .unwrap();
    let config = format!(
        "[model]\nkind = \"dna1\"\n[optimizer]\nsteps = 1\ntrain = [\"eps_hb\"]\n[[simulator]]\nname = \"vmmc\"\nkind = \"oxdna\"\ninput_dir = \"vmmc\"\nprogram = \"{}\"\nprogram_args = [\"simulate\"]\n[[objective]]\nname = \"tm\"\nsimulators = [\"vmmc\"]\nobservable = {{ kind = \"melting_temperature\", temperatures = [\"50C\", \"70C\"], concentration = 1e-3 }}\ntarget = \"60C\"\n",
        env!("CARGO_BIN_EXE_oxgrad").replace('\\', "/")
    );
    let path = d.path().join("tm.toml");
    std::fs::write(&path, config).unwrap();
    let plan = ConfigFile::read(&path).unwrap().build().unwrap();
    let PlannedObjective::Melting(m) = &plan.objectives[0].objective else { panic!("a melting objective") };
    let tm = m.melting_temperature();
    let names: Vec<&str> = tm.order_parameters().params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["base_pairs", "separation"], "the input's op_file");
    let t0 = tm.sampling_model().params().value("kt");
    assert!((t0 - kt_from_str("62C").unwrap()).abs() < 1e-15, "the input's T: {t0}");
    assert_eq!(tm.temperatures().len(), 2);
    assert!(
        (plan.objectives[0].targets[0] - 333.15).abs() < 1e-9,
        "\"60C\" in kelvin: {:?}",
        plan.objectives[0].targets
    );
}
