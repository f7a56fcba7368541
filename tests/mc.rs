//! Monte Carlo (`sim_type = MC`, `VMMC`): the pair energies it moves on are the model's energy,
//! and the ensembles it samples are Boltzmann's.

mod common;

use common::{case_dir, CASES};
use oxgrad::energy::{EnergyModel, Frame, ModelSetup};
use oxgrad::io::{InputFile, TrajectoryReader};

/// Σ_{p<q} pair_interaction + Σ_i nucleotide_interaction is the model's energy, on every
/// reference case (oxDNA1, oxDNA2, oxRNA2; averaged and sequence-dependent).
#[test]
fn pair_sum_is_the_energy_on_every_reference_case() {
    let extra =
        ["extra-rna2-avg-nicked-jittered-12bp-T300-salt1.0", "extra-rna2-seqdep-wobble-jittered-12bp-T300-salt1.0"];
    for case in CASES.iter().chain(&extra) {
        let dir = case_dir(case);
        let name = if dir.join("input_analysis_nomesh").exists() { "input_analysis_nomesh" } else { "input_analysis" };
        let input = InputFile::read(dir.join(name)).unwrap();
        let setup = ModelSetup::from_input(&input).unwrap();
        let n = setup.topology.len();
        let frames: Vec<_> =
            TrajectoryReader::open(setup.trajectory.as_ref().unwrap(), n).unwrap().map(Result::unwrap).collect();
        for c in frames.iter().take(3) {
            let want = setup.model.energy(c).unwrap();
            let got = pair_sum(&setup.model, &Frame::new(c));
            assert!((got - want).abs() < 1e-9 * n as f64, "{case}, step {}: pair sum {got}, energy {want}", c.step);
        }
    }
}

fn pair_sum(model: &EnergyModel, f: &Frame) -> f64 {
    let n = f.r.len();
    let mut e = 0.0;
    for p in 0..n {
        e += model.nucleotide_interaction(p, f.r[p], &f.axes[p]);
        for q in p + 1..n {
            e += model.pair_interaction(p, q, f.bx.min_image(f.r[q] - f.r[p]), &f.axes[p], &f.axes[q]);
        }
    }
    e
}

use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::geometry::{orthonormalize, PeriodicBox, Vec3};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{Mc, McConfig, McMoves, McState};
use oxgrad::system::TopologyFormat;
use rand::{RngExt, SeedableRng};

/// Uniformly random unit vector and rotation (a frame) from a seeded generator.
struct Draw(rand_xoshiro::Xoshiro256PlusPlus);

impl Draw {
    fn new(seed: u64) -> Draw {
        Draw(rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed))
    }
    fn u(&mut self) -> f64 {
        self.0.random::<f64>()
    }
    fn normal(&mut self) -> f64 {
        // Box–Muller
        let (a, b) = (self.u().max(1e-300), self.u());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
    fn frame(&mut self) -> [Vec3; 3] {
        let mut v = || Vec3::new(self.normal(), self.normal(), self.normal());
        let (a1, a2, a3) = orthonormalize(v(), v());
        [a1, a2, a3]
    }
}

/// Boltzmann averages of `obs` over the relative placements of nucleotide 1 with respect to
/// nucleotide 0 (fixed at the origin, identity frame), by importance sampling: `place` draws a
/// position and a frame and returns their density relative to the uniform one (uniform over
/// the region and over rotations). Returns (means, standard errors, effective samples).
fn integrate(
    model: &EnergyModel,
    bx: &PeriodicBox,
    samples: usize,
    mut place: impl FnMut(&mut Draw) -> Placement,
    obs: &Observables,
) -> (Vec<f64>, Vec<f64>, f64) {
    let kt = model.params().value("kt");
    let mut draw = Draw::new(7);
    let (mut w_sum, mut w2_sum) = (0.0, 0.0);
    let mut all = Vec::new();
    for _ in 0..samples {
        let (r, b, density) = place(&mut draw);
        let e = model.pair_interaction(0, 1, bx.min_image(r), &ID, &b);
        let w = (-e / kt).exp() / density;
        if w == 0.0 || !w.is_finite() {
            continue;
        }
        w_sum += w;
        w2_sum += w * w;
        all.push((w, obs(model, r, &b)));
    }
    let dim = all[0].1.len();
    let means: Vec<f64> = (0..dim).map(|k| all.iter().map(|(w, o)| w * o[k]).sum::<f64>() / w_sum).collect();
    let errs = (0..dim)
        .map(|k| all.iter().map(|(w, o)| (w * (o[k] - means[k])).powi(2)).sum::<f64>().sqrt() / w_sum)
        .collect();
    (means, errs, w_sum * w_sum / w2_sum)
}

/// Observables of nucleotide 1 placed at a separation with a frame from nucleotide 0 (at the
/// origin, frame `ID`).
type Observables = dyn Fn(&EnergyModel, Vec3, &[Vec3; 3]) -> Vec<f64>;

/// A drawn placement of nucleotide 1: separation, frame, density relative to the uniform one.
type Placement = (Vec3, [Vec3; 3], f64);

const ID: [Vec3; 3] = [Vec3([1.0, 0.0, 0.0]), Vec3([0.0, 1.0, 0.0]), Vec3([0.0, 0.0, 1.0])];

/// Mean and standard error of a series from `blocks` contiguous blocks.
fn block_mean(series: &[f64], blocks: usize) -> (f64, f64) {
    let len = series.len() / blocks;
    let means: Vec<f64> = series.chunks(len).take(blocks).map(|c| c.iter().sum::<f64>() / c.len() as f64).collect();
    let m = means.iter().sum::<f64>() / blocks as f64;
    let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (blocks - 1) as f64;
    (m, (var / blocks as f64).sqrt())
}

/// The integrated autocorrelation time of a series, in samples (Sokal's window, c = 6), on the
/// series thinned to at most 20 000 samples (τ of the thinned series times the thinning; at
/// least the thinning, an overestimate where the series decorrelates faster).
fn tau_int(series: &[f64]) -> f64 {
    let thin = series.len().div_ceil(20_000).max(1);
    let x: Vec<f64> = series.iter().step_by(thin).copied().collect();
    thin as f64 * tau_thinned(&x).max(if thin > 1 { 1.0 } else { 0.0 })
}

fn tau_thinned(x: &[f64]) -> f64 {
    let n = x.len();
    let m = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64;
    if var == 0.0 {
        return 0.5;
    }
    let mut tau = 0.5;
    for t in 1..n / 2 {
        let rho = x[..n - t].iter().zip(&x[t..]).map(|(a, b)| (a - m) * (b - m)).sum::<f64>() / ((n - t) as f64 * var);
        tau += rho;
        if t as f64 >= 6.0 * tau {
            break;
        }
    }
    tau
}

/// [`block_mean`] over 20 blocks, each checked to be at least 5 autocorrelation times long.
fn block_mean_checked(series: &[f64], what: &str) -> (f64, f64) {
    let tau = tau_int(series);
    let len = series.len() / 20;
    eprintln!("{what}: τ_int {tau:.1} samples, blocks of {len}");
    assert!(
        len as f64 >= 5.0 * tau,
        "{what}: blocks of {len} samples are shorter than 5 τ_int = {:.0}: run longer",
        5.0 * tau
    );
    block_mean(series, 20)
}

/// Runs Monte Carlo and returns the per-step series of `obs` (after `skip` steps).
fn sample(
    model: &EnergyModel,
    conf: &oxgrad::io::Configuration,
    cfg: McConfig,
    skip: u64,
    obs: &dyn Fn(&EnergyModel, &McState, f64) -> Vec<f64>,
) -> Vec<Vec<f64>> {
    let mut state = McState::from_configuration(conf);
    let steps = cfg.steps;
    let mut mc = Mc::new(model, cfg, &state).unwrap();
    let mut out = Vec::new();
    for k in 0..steps {
        mc.step(&mut state, None).unwrap();
        if k >= skip {
            out.push(obs(model, &state, mc.potential()));
        }
    }
    let (t, r) = mc.stats().acceptance();
    eprintln!("acceptance: translations {t:.3}, rotations {r:.3}");
    out
}

/// Compares Monte Carlo averages of a two-nucleotide system with the Boltzmann averages from
/// numerical integration, within 4.5 combined standard errors.
fn check_two_nucleotides(
    what: &str,
    model: &EnergyModel,
    conf: &oxgrad::io::Configuration,
    place: impl FnMut(&mut Draw) -> Placement,
    names: &[&str],
    obs: &Observables,
) {
    let bx = PeriodicBox::new(conf.box_sides);
    let (want, want_err, ess) = integrate(model, &bx, 3_000_000, place, obs);
    eprintln!("{what}: integration {want:?} ± {want_err:?} (effective samples {ess:.0})");
    assert!(ess > 2000.0, "{what}: the integration has too few effective samples ({ess})");
    for moves in [McMoves::Single, McMoves::Vmmc { maxclust: 2 }] {
        let cfg = McConfig { moves, steps: 400_000, seed: 11, ..McConfig::default() };
        let series = sample(model, conf, cfg, 1000, &|m, s, _| {
            let f = &s.frame;
            // nucleotide 1 in nucleotide 0's frame
            let a = f.axes[0];
            let d = f.bx.min_image(f.r[1] - f.r[0]);
            let to = |v: Vec3| Vec3::new(a[0].dot(v), a[1].dot(v), a[2].dot(v));
            obs(m, to(d), &f.axes[1].map(to))
        });
        for (k, name) in names.iter().enumerate() {
            let col: Vec<f64> = series.iter().map(|o| o[k]).collect();
            let (got, err) = block_mean(&col, 40);
            let z = (got - want[k]) / (err * err + want_err[k] * want_err[k]).sqrt();
            eprintln!(
                "{what}, {moves:?}, {name}: Monte Carlo {got:.5} ± {err:.5}, integration {:.5} ± {:.5} (z = {z:.2})",
                want[k], want_err[k]
            );
            assert!(
                z.abs() < 4.5,
                "{what}, {moves:?}, {name}: Monte Carlo {got} ± {err}, Boltzmann {} ± {}",
                want[k],
                want_err[k]
            );
        }
    }
}

/// A placement of nucleotide 1 bonded to nucleotide 0 (at the origin, axes `ID`): a random
/// frame, and the backbone sites' separation (site at `back(frame)` from each centre) uniform in
/// the shell r0 ± delta where FENE is finite; the centre follows by a translation, so the
/// measure over placements is uniform.
fn bonded_placement(d: &mut Draw, back: impl Fn(&[Vec3; 3]) -> Vec3, r0: f64, delta: f64) -> Placement {
    let b = d.frame();
    let (lo, hi) = (r0 - delta, r0 + delta);
    let s = loop {
        let v = Vec3::new(2.0 * d.u() - 1.0, 2.0 * d.u() - 1.0, 2.0 * d.u() - 1.0) * hi;
        if v.norm() < hi && v.norm() > lo {
            break v;
        }
    };
    (back(&ID) + s - back(&b), b, 1.0)
}

/// Detailed balance, bonded: a two-nucleotide strand (FENE, excluded volume, stacking) samples
/// the Boltzmann distribution of its relative placement, with single moves and with VMMC.
#[test]
fn a_dimer_samples_the_boltzmann_distribution() {
    let (top, conf) =
        helix(&parse_sequence("AG").unwrap(), Shape::Strand, Some(12.0), TopologyFormat::Classic).unwrap();
    // 480 K: stacked and unstacked both populated (the integration stays accurate)
    let params = ParamSet::dna1_defaults().with_params([("kt", 0.16)]).unwrap();
    let model = EnergyModel::new(&top, params).unwrap();
    check_two_nucleotides(
        "dimer",
        &model,
        &conf,
        // oxDNA1's backbone site is −0.4 a1 from the centre, its FENE finite within 0.7525 ± 0.25
        |d| bonded_placement(d, |b| b[0] * -0.4, 0.7525, 0.25),
        &["energy", "distance", "a3 alignment"],
        &|m, r, b| vec![m.pair_interaction(0, 1, r, &ID, b), r.norm(), b[2][2]],
    );
}

/// Detailed balance with oxRNA2: an RNA dinucleotide (its FENE, excluded volume and stacking,
/// RNA interaction sites) samples the Boltzmann distribution of its relative placement, with
/// single moves and with VMMC.
#[test]
fn an_rna_dimer_samples_the_boltzmann_distribution() {
    let (top, conf) =
        helix(&parse_sequence("AG").unwrap(), Shape::Strand, Some(12.0), TopologyFormat::Classic).unwrap();
    // 465 K: stacked and unstacked both visited while the integration keeps over 2000 effective
    // samples (at 435 K it has 1200, at 390 K 260: the stacked well is too narrow for it)
    let model = oxgrad::energy::rna2::model(&top, 0.155, 1.0).unwrap();
    check_two_nucleotides(
        "RNA dimer",
        &model,
        &conf,
        // oxRNA2's backbone site is −0.4 a1 + 0.2 a3 from the centre, its FENE finite within
        // 0.761 ± 0.25
        |d| bonded_placement(d, |b| b[0] * -0.4 + b[2] * 0.2, 0.761_070_781_051, 0.25),
        &["energy", "distance", "a3 alignment"],
        &|m, r, b| vec![m.pair_interaction(0, 1, r, &ID, b), r.norm(), b[2][2]],
    );
}

/// Detailed balance, non-bonded: two complementary nucleotides on separate strands in a small
/// periodic box sample Boltzmann's distribution of energy and hydrogen bonding.
#[test]
fn two_free_nucleotides_sample_the_boltzmann_distribution() {
    let (model, conf, place) = free_pair();
    check_two_nucleotides("free pair", &model, &conf, place, &["energy", "bonded"], &free_pair_observables);
}

/// Energy and whether the pair is hydrogen-bonded (H-bonding energy below −0.1).
fn free_pair_observables(m: &EnergyModel, r: Vec3, b: &[Vec3; 3]) -> Vec<f64> {
    let hb = m.pair_term_energy("HydrogenBonding", 0, 1, r, &ID, b).unwrap();
    vec![m.pair_interaction(0, 1, r, &ID, b), f64::from(hb < -0.1)]
}

/// Two complementary nucleotides on separate strands at 210 K in the smallest box the cut-off
/// allows (2 × 1.58): about 1 % paired. With the integration's proposal: half the samples
/// uniform, half near the paired placement.
fn free_pair() -> (EnergyModel, oxgrad::io::Configuration, impl FnMut(&mut Draw) -> Placement) {
    let (top, mut conf) =
        helix(&parse_sequence("A").unwrap(), Shape::Duplex, Some(2.5), TopologyFormat::Classic).unwrap();
    let params = ParamSet::dna1_defaults().with_params([("kt", 0.07)]).unwrap();
    let model = EnergyModel::new(&top, params).unwrap();
    let side = 3.2;
    conf.box_sides = Vec3::new(side, side, side);
    // the paired placement: nucleotide 1 in nucleotide 0's frame, as the ideal helix has it
    let f = Frame::new(&conf);
    let to = |v: Vec3| Vec3::new(f.axes[0][0].dot(v), f.axes[0][1].dot(v), f.axes[0][2].dot(v));
    let ideal = (to(f.r[1] - f.r[0]), f.axes[1].map(to));
    let place = move |d: &mut Draw| {
        // near the paired placement: a Gaussian of width SIGMA about its position, a rotation
        // vector uniform in a ball of radius ALPHA
        const SIGMA: f64 = 0.15;
        const ALPHA: f64 = 0.6;
        let (r, b) = if d.u() < 0.5 {
            (Vec3::new(d.u() - 0.5, d.u() - 0.5, d.u() - 0.5) * side, d.frame())
        } else {
            let r = ideal.0 + Vec3::new(d.normal(), d.normal(), d.normal()) * SIGMA;
            let v = loop {
                let v = Vec3::new(2.0 * d.u() - 1.0, 2.0 * d.u() - 1.0, 2.0 * d.u() - 1.0) * ALPHA;
                if v.norm() < ALPHA {
                    break v;
                }
            };
            let turn = |x: Vec3| oxgrad::geometry::rotate(x, v.normalized(), v.norm());
            (r, ideal.1.map(turn))
        };
        let dr = PeriodicBox::new(Vec3::new(side, side, side)).min_image(r - ideal.0);
        let gauss = (-dr.norm2() / (2.0 * SIGMA * SIGMA)).exp() / (std::f64::consts::TAU * SIGMA * SIGMA).powf(1.5);
        // the rotation from the paired frame: its angle from the trace; its density in
        // rotation-vector coordinates relative to Haar's, 8π²θ²/(2(1 − cos θ)) per unit volume
        let cos = ((0..3).map(|k| b[k].dot(ideal.1[k])).sum::<f64>() - 1.0) / 2.0;
        let theta = cos.clamp(-1.0, 1.0).acos();
        let haar = if theta < 1e-6 { 1.0 } else { theta * theta / (2.0 * (1.0 - theta.cos())) };
        let ball = 4.0 / 3.0 * std::f64::consts::PI * ALPHA.powi(3);
        let turn = if theta < ALPHA { 8.0 * std::f64::consts::PI.powi(2) * haar / ball } else { 0.0 };
        (r, b, 0.5 + 0.5 * gauss * side.powi(3) * turn)
    };
    (model, conf, place)
}

/// Umbrella sampling biases as its weights say and undoes the bias in its histogram: the free
/// pair, with the paired state weighted 40×, is paired w·P/(1 − P + w·P) of the time (P the
/// Boltzmann paired fraction from numerical integration, about 1 %), and the histogram's
/// unbiased column gives P back. Sixteen independent VMMC runs (mean ± standard error); single
/// moves leave the paired state too rarely at this temperature to be tested the same way.
#[test]
fn umbrella_weights_bias_and_are_undone_in_the_unbiased_histogram() {
    use oxgrad::io::order_parameter::{MissingWeights, OrderParameters, Weights};
    use oxgrad::simulate::Umbrella;
    let (model, conf, place) = free_pair();
    let bx = PeriodicBox::new(conf.box_sides);
    let (want, want_err, _) = integrate(&model, &bx, 3_000_000, place, &free_pair_observables);
    let src = std::path::Path::new("test");
    let ops = OrderParameters::parse("{\norder_parameter = bond\nname = pair\npair1 = 0, 1\n}\n", src, 2).unwrap();
    let weights = Weights::parse("0 1\n1 40\n", src, &ops, MissingWeights::Refuse).unwrap();
    let w = 40.0;
    let (mut paired, mut biased) = (Vec::new(), Vec::new());
    for seed in 0..16 {
        let mut state = McState::from_configuration(&conf);
        let mut umbrella =
            Umbrella::new(&model, &state.frame, ops.clone(), Some(weights.clone()), Vec::new(), 1000).unwrap();
        let cfg =
            McConfig { moves: McMoves::Vmmc { maxclust: 2 }, steps: 800_000, seed: 100 + seed, ..McConfig::default() };
        let mut mc = Mc::new(&model, cfg, &state).unwrap();
        for _ in 0..800_000 {
            mc.step(&mut state, Some(&mut umbrella)).unwrap();
        }
        let h = &umbrella.histogram;
        paired.push(h.rows[1].unbiased / (h.rows[0].unbiased + h.rows[1].unbiased));
        biased.push(h.rows[1].biased / (h.rows[0].biased + h.rows[1].biased));
    }
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let se =
        |x: &[f64]| (x.iter().map(|v| (v - mean(x)).powi(2)).sum::<f64>() / (x.len() * (x.len() - 1)) as f64).sqrt();
    let p = want[1];
    for (what, x, expect, expect_err) in [
        ("biased", &biased, w * p / (1.0 - p + w * p), want_err[1] * w / (1.0 - p + w * p).powi(2)),
        ("unbiased", &paired, p, want_err[1]),
    ] {
        let (got, err) = (mean(x), se(x));
        let z = (got - expect) / (err * err + expect_err * expect_err).sqrt();
        eprintln!("{what} paired fraction: VMMC {got:.5} ± {err:.5}, from integration {expect:.5} ± {expect_err:.5} (z = {z:.2})");
        assert!(err < 0.2 * expect, "{what}: the runs are too short to test anything ({got} ± {err})");
        assert!(z.abs() < 4.5, "{what} paired fraction: VMMC {got} ± {err}, from integration {expect} ± {expect_err}");
    }
}

/// An 8-bp duplex with an input file for `sim_type` and extra keys, an op_file counting its
/// native pairs and flat weights, in a fresh directory.
fn duplex_input(sim_type: &str, extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let (top, conf) =
        helix(&parse_sequence("CCCGCCGC").unwrap(), Shape::Duplex, Some(20.0), TopologyFormat::Classic).unwrap();
    top.write(d.path().join("duplex.top"), TopologyFormat::Classic).unwrap();
    conf.write(d.path().join("init.dat")).unwrap();
    let pairs: String = (0..8).map(|i| format!("pair{i} = {i}, {}\n", 15 - i)).collect();
    std::fs::write(d.path().join("op.txt"), format!("{{\norder_parameter = bond\nname = native\n{pairs}}}\n")).unwrap();
    let weights: String = (0..=8).map(|k| format!("{k} {}\n", if k == 8 { 1.0 } else { 2.0 })).collect();
    std::fs::write(d.path().join("wfile.txt"), weights).unwrap();
    let input = d.path().join("input");
    std::fs::write(
        &input,
        format!(
            "sim_type = {sim_type}\nensemble = NVT\nbackend = CPU\nsteps = 200\nseed = 5\nT = 72C\ndelta_translation = 0.22\ndelta_rotation = 0.22\ntopology = duplex.top\nconf_file = init.dat\ntrajectory_file = trajectory.dat\nenergy_file = energy.dat\nlastconf_file = last_conf.dat\nprint_conf_interval = 50\nprint_energy_every = 50\nrestart_step_counter = 1\ninteraction_type = DNA\n{extra}"
        ),
    )
    .unwrap();
    (d, input)
}

/// `oxgrad simulate` on a VMMC input with umbrella sampling writes oxDNA's files: the energy
/// file with the order parameter and weight, a trajectory, and histograms whose counts are one
/// per move attempt after the first step (as oxDNA's), extrapolated to every temperature asked.
#[test]
fn vmmc_with_umbrella_sampling_writes_oxdnas_files() {
    use oxgrad::io::histogram::Histogram;
    let (d, input) = duplex_input(
        "VMMC",
        "umbrella_sampling = 1\nop_file = op.txt\nweights_file = wfile.txt\nextrapolate_hist = 68C, 72C, 76C\nsmall_system = 1\n",
    );
    // 1000 steps: the running energy differences to each temperature are checked against a
    // full evaluation at step 1000 (Umbrella::CHECK_EVERY), which fails the run if they drifted
    let mut file = InputFile::read(&input).unwrap();
    file.set("steps", 1000);
    file.set("print_conf_interval", 250);
    let run = oxgrad::simulate::SimRun::from_input(&file).unwrap();
    assert!(run.unused_keys.is_empty(), "{:?}", run.unused_keys);
    run.check_outputs(false).unwrap();
    assert_eq!(run.run(|_, _| {}).unwrap(), 1000);
    let h = Histogram::read(d.path().join("last_hist.dat")).unwrap();
    assert_eq!(h.step, 1000);
    assert_eq!(h.temperatures.len(), 3);
    let counts: f64 = h.rows.iter().map(|r| r.biased).sum();
    assert_eq!(counts, 999.0 * 16.0);
    // unbiased = biased / weight, state by state
    for r in &h.rows {
        let w = if r.state[0] == 8 { 1.0 } else { 2.0 };
        assert!((r.unbiased - r.biased / w).abs() < 1e-9 * r.biased.max(1.0), "{r:?}");
        // reweighting to the simulation's own temperature changes nothing: the running energy
        // differences are exact
        assert!((r.extrapolated[1] - r.unbiased).abs() < 1e-9 * r.unbiased.max(1.0), "{r:?}");
        assert!(r.extrapolated.iter().all(|x| x.is_finite() && *x >= 0.0));
    }
    // colder favours more base pairs than hotter does
    let mean_pairs = |k: usize| {
        h.rows.iter().map(|r| f64::from(r.state[0]) * r.extrapolated[k]).sum::<f64>()
            / h.rows.iter().map(|r| r.extrapolated[k]).sum::<f64>()
    };
    assert!(mean_pairs(0) > mean_pairs(2), "68C {} against 76C {}", mean_pairs(0), mean_pairs(2));
    assert_eq!(Histogram::read_all(d.path().join("traj_hist.dat")).unwrap().len(), 4);
    let energy = std::fs::read_to_string(d.path().join("energy.dat")).unwrap();
    let last: Vec<&str> = energy.lines().last().unwrap().split_whitespace().collect();
    assert_eq!(last.len(), 7, "step, U/N, three acceptances, order parameter, weight: {last:?}");
    assert_eq!(last[0], "1000");
    let frames: Vec<_> =
        TrajectoryReader::open(d.path().join("trajectory.dat"), 16).unwrap().map(Result::unwrap).collect();
    assert_eq!(frames.len(), 4);
}

/// What oxgrad's Monte Carlo does not implement is refused by name, never ignored.
#[test]
fn unsupported_monte_carlo_settings_are_refused_by_name() {
    for (sim_type, extra, key) in [
        ("MC", "ensemble = NPT\n", "ensemble"),
        ("MC", "adjust_moves = 1\n", "adjust_moves"),
        ("VMMC", "preserve_topology = 1\n", "preserve_topology"),
        ("FFS_MD", "", "sim_type"),
        ("VMMC", "delta_translation = 0\n", "delta_translation"),
    ] {
        let (_d, input) = duplex_input(sim_type, extra);
        let mut file = InputFile::read(&input).unwrap();
        if extra.starts_with("ensemble") {
            file.set("ensemble", "NPT");
        }
        if extra.starts_with("delta_translation") {
            file.set("delta_translation", "0");
        }
        let e = oxgrad::simulate::SimRun::from_input(&file).unwrap_err().to_string();
        assert!(e.contains(key), "{sim_type} {extra}: {e}");
    }
    // MD's keys in a Monte Carlo input are reported as unused
    let (_d, input) = duplex_input("MC", "dt = 0.005\n");
    let run = oxgrad::simulate::SimRun::from_input(&InputFile::read(&input).unwrap()).unwrap();
    assert!(run.unused_keys.iter().any(|(k, _, _)| k == "dt"), "{:?}", run.unused_keys);
}

/// Native pairs of an n-bp duplex whose hydrogen-bonding energy is below −0.1 (oxDNA's formed
/// base pair).
fn formed_pairs(model: &EnergyModel, f: &Frame, bp: usize) -> f64 {
    let n = 2 * bp;
    (0..bp)
        .filter(|&i| {
            let j = n - 1 - i;
            let d = f.bx.min_image(f.r[j] - f.r[i]);
            model.pair_term_energy("HydrogenBonding", i, j, d, &f.axes[i], &f.axes[j]).unwrap() < -0.1
        })
        .count() as f64
}

/// The same ensemble three ways: MD (john thermostat), single-nucleotide MC and VMMC on a
/// 10-bp duplex at 300 K, bound throughout but fraying at its ends (a 6-bp duplex at 330 K was
/// tried first: its strands part and rejoin far more slowly than any of these runs, so no
/// two runs agreed). Mean energy per nucleotide and mean number of formed base pairs agree
/// within 4.5 combined standard errors (errors from 20 blocks, each checked to span at least
/// five autocorrelation times).
#[test]
fn md_mc_and_vmmc_sample_the_same_duplex_ensemble() {
    use oxgrad::simulate::{Md, MdConfig, MdState};
    let bp = 10;
    let (top, conf) =
        helix(&parse_sequence("GCATGCTACG").unwrap(), Shape::Duplex, Some(20.0), TopologyFormat::Classic).unwrap();
    let params = ParamSet::dna1_defaults().with_params([("kt", 0.1)]).unwrap();
    let model = EnergyModel::new(&top, params).unwrap();
    let n = top.len() as f64;
    let mut results = Vec::new();
    // MD: a state every 100 steps
    {
        let mut state = MdState::from_configuration(&conf);
        let mut md = Md::new(&model, MdConfig { seed: 3, ..MdConfig::with_steps(1) }, &state).unwrap();
        let (mut u, mut b) = (Vec::new(), Vec::new());
        for k in 0..2_200_000u64 {
            md.step(&mut state).unwrap();
            if k >= 100_000 && k % 100 == 0 {
                u.push(md.potential() / n);
                b.push(formed_pairs(&model, &state.frame, bp));
            }
        }
        results.push(("MD", block_mean_checked(&u, "MD U/N"), block_mean_checked(&b, "MD pairs")));
    }
    for (name, moves) in [("MC", McMoves::Single), ("VMMC", McMoves::Vmmc { maxclust: 20 })] {
        let cfg = McConfig { moves, steps: 70_000, seed: 5, ..McConfig::default() };
        let series = sample(&model, &conf, cfg, 5_000, &|m, s, u| vec![u / n, formed_pairs(m, &s.frame, bp)]);
        let col = |k: usize| series.iter().map(|o| o[k]).collect::<Vec<f64>>();
        results.push((name, block_mean_checked(&col(0), name), block_mean_checked(&col(1), name)));
    }
    for (name, u, b) in &results {
        eprintln!("{name}: U/N {:.5} ± {:.5}, formed pairs {:.3} ± {:.3}", u.0, u.1, b.0, b.1);
    }
    for pair in [(0, 1), (0, 2), (1, 2)] {
        let (a, b) = (&results[pair.0], &results[pair.1]);
        for (what, x, y) in [("U/N", a.1, b.1), ("formed pairs", a.2, b.2)] {
            let z = (x.0 - y.0) / (x.1 * x.1 + y.1 * y.1).sqrt();
            assert!(
                z.abs() < 4.5,
                "{what}: {} {:.5} ± {:.5} against {} {:.5} ± {:.5} (z = {z:.2})",
                a.0,
                x.0,
                x.1,
                b.0,
                y.0,
                y.1
            );
        }
    }
}

/// Cluster moves of several nucleotides keep detailed balance: on a 5-nucleotide strand
/// (stacking, backbone, excluded volume between every pair) VMMC, whose clusters span 1 to 5
/// nucleotides, gives the averages of single-nucleotide Metropolis moves (themselves checked
/// against integration above): energy, end-to-end distance and the mean stacking alignment
/// a3·b3 of neighbours, within 4.5 combined standard errors (blocks checked against τ_int).
#[test]
fn vmmc_clusters_of_several_nucleotides_sample_what_single_moves_sample() {
    let (top, conf) =
        helix(&parse_sequence("ACGTA").unwrap(), Shape::Strand, Some(15.0), TopologyFormat::Classic).unwrap();
    let model = EnergyModel::new(&top, ParamSet::dna1_defaults().with_params([("kt", 0.16)]).unwrap()).unwrap();
    let obs = |_: &EnergyModel, s: &McState, u: f64| {
        let f = &s.frame;
        let align = (0..4).map(|i| f.axes[i][2].dot(f.axes[i + 1][2])).sum::<f64>() / 4.0;
        vec![u, f.bx.min_image(f.r[4] - f.r[0]).norm(), align]
    };
    let mut got = Vec::new();
    for (name, moves) in [("single", McMoves::Single), ("VMMC", McMoves::Vmmc { maxclust: 5 })] {
        let cfg = McConfig { moves, steps: 1_000_000, seed: 21, ..McConfig::default() };
        let series = sample(&model, &conf, cfg, 10_000, &obs);
        let col = |k: usize| series.iter().map(|o| o[k]).collect::<Vec<f64>>();
        got.push((0..3).map(|k| block_mean_checked(&col(k), name)).collect::<Vec<_>>());
    }
    for (k, what) in ["energy", "end-to-end", "alignment"].iter().enumerate() {
        let ((a, ea), (b, eb)) = (got[0][k], got[1][k]);
        let z = (a - b) / (ea * ea + eb * eb).sqrt();
        eprintln!("{what}: single {a:.5} ± {ea:.5}, VMMC {b:.5} ± {eb:.5} (z = {z:.2})");
        assert!(z.abs() < 4.5, "{what}: single moves {a} ± {ea}, VMMC {b} ± {eb}");
    }
}

/// A cluster longer than half the box (a 30-bp duplex, 11.7 length units, in a box of side 20)
/// rotates as one piece: each member turns about the seed along its chain of links, not along
/// its minimum image from the seed (which points the other way beyond half the box). The
/// running energy is checked against a full evaluation after every step. (The first VMMC
/// failed this at once: a 60-nt benchmark's energy jumped from −98 to +17 901.)
#[test]
fn a_cluster_longer_than_half_the_box_turns_as_one_piece() {
    let seq = parse_sequence("ACGTTGCAATGCCGTAAGCTTGACCATGGT").unwrap();
    let (top, conf) = helix(&seq, Shape::Duplex, Some(20.0), TopologyFormat::Classic).unwrap();
    let model = EnergyModel::new(&top, ParamSet::dna1_defaults()).unwrap();
    let mut state = McState::from_configuration(&conf);
    let cfg = McConfig {
        moves: McMoves::Vmmc { maxclust: 60 },
        steps: 1,
        check_energy_every: 1,
        seed: 3,
        ..McConfig::default()
    };
    let mut mc = Mc::new(&model, cfg, &state).unwrap();
    for _ in 0..40 {
        mc.step(&mut state, None).unwrap();
    }
    let full = model.energy(&state.to_configuration(0.0)).unwrap();
    assert!((full - mc.potential()).abs() < 1e-6 * 60.0, "running {} against full {full}", mc.potential());
    assert!(mc.stats().moved > 40 * 60, "clusters of several nucleotides moved");
}

/// Monte Carlo (MC and VMMC) with external forces that change with the step (a moving trap, a
/// turning twist, a growing sphere, a sawtooth pull) and walls: the running energy follows the
/// counter, so the full evaluations every `check_energy_every` steps agree with it.
#[test]
fn monte_carlo_with_moving_external_forces_keeps_its_running_energy() {
    let forces = "{\ntype = trap\nparticle = 0\npos0 = 10, 10, 10\nstiff = 1\nrate = 1e-3\ndir = 0, 0, 1\n}\n\
{\ntype = twist\nparticle = 15\nstiff = 1\nrate = 1e-2\nbase = 0\npos0 = 11, 10, 10\ncenter = 10, 10, 10\naxis = 0, 0, 1\nmask = 1, 1, 1\n}\n\
{\ntype = sphere\nparticle = -1\ncenter = 10, 10, 10\nr0 = 3\nrate = 1e-3\nstiff = 5\n}\n\
{\ntype = sawtooth\nparticle = 7\nF0 = 0.1\nwait_time = 10\nincrement = 0.05\ndir = 1, 0, 0\n}\n\
{\ntype = LJ_wall\nparticle = -1\nposition = 0\ndir = 0, 0, 1\nonly_repulsive = 1\n}\n";
    for sim in ["MC", "VMMC"] {
        let (d, input) =
            duplex_input(sim, "external_forces = 1\nexternal_forces_file = forces.txt\ncheck_energy_every = 10\n");
        std::fs::write(d.path().join("forces.txt"), forces).unwrap();
        let file = InputFile::read(&input).unwrap();
        let run = oxgrad::simulate::SimRun::from_input(&file).unwrap();
        assert!(run.unused_keys.is_empty(), "{:?}", run.unused_keys);
        run.check_outputs(false).unwrap();
        assert_eq!(run.run(|_, _| {}).unwrap(), 200, "{sim}");
    }
}
