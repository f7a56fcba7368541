//! The native MD engine: energy conservation, thermostats, agreement with oxDNA's MD, seeds,
//! the `simulate` command on the reference inputs, and bad inputs.

mod common;

use common::case_dir;
use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::io::{Configuration, InputFile, TrajectoryReader};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{Md, MdConfig, MdState, SimRun, Thermostat};
use oxgrad::system::TopologyFormat;

fn duplex(seq: &str) -> (EnergyModel, MdState) {
    let (top, conf) = helix(&parse_sequence(seq).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let mut p = ParamSet::dna1_defaults();
    p.set("kt", 0.1).unwrap();
    (EnergyModel::new(&top, p).unwrap(), MdState::from_configuration(&conf))
}

/// Total energy per nucleotide.
fn total(md: &Md, st: &MdState) -> f64 {
    let (kt, kr) = st.kinetic();
    (md.potential() + kt + kr) / st.v.len() as f64
}

#[test]
fn constant_energy_runs_conserve_energy() {
    // 20-bp duplex, thermal velocities at 300 K, no thermostat, 1e5 steps
    for (dt, bound) in [(0.002, 1e-3), (0.005, 1e-2)] {
        let (model, mut st) = duplex("ACGTTGCAATGCCGTAAGCT");
        let cfg = MdConfig { dt, steps: 100_000, thermostat: Thermostat::None, verlet_skin: 0.2, seed: 1 };
        let mut md = Md::new(&model, cfg, &st).unwrap();
        md.refresh_velocities(&mut st);
        let e0 = total(&md, &st);
        let mut worst: f64 = 0.0;
        for k in 0..100_000 {
            md.step(&mut st).unwrap();
            if k % 100 == 99 {
                worst = worst.max((total(&md, &st) - e0).abs());
            }
        }
        eprintln!("dt {dt}: |E - E0| per nucleotide at most {worst:.2e} over 1e5 steps");
        // the Verlet list is rebuilt as nucleotides move, but far from every step
        assert!(md.list_builds() > 10 && md.list_builds() < 20_000, "{} list builds", md.list_builds());
        assert!(worst < bound, "dt {dt}: energy drifts by {worst:e} per nucleotide (bound {bound:e})");
    }
}

fn kinetic_temperature(thermostat: Thermostat) -> (f64, f64) {
    let (model, mut st) = duplex("ACGTTGCAATGC");
    let cfg = MdConfig { dt: 0.005, steps: 0, thermostat, verlet_skin: 0.2, seed: 11 };
    let mut md = Md::new(&model, cfg, &st).unwrap();
    md.refresh_velocities(&mut st);
    let (mut kt_sum, mut kr_sum, mut n) = (0.0, 0.0, 0);
    for k in 0..200_000 {
        md.step(&mut st).unwrap();
        if k >= 20_000 && k % 50 == 0 {
            let (t, r) = st.kinetic();
            kt_sum += t;
            kr_sum += r;
            n += 1;
        }
    }
    let dof = 1.5 * st.v.len() as f64 * n as f64; // K = (3/2) N T per kind of motion
    (kt_sum / dof, kr_sum / dof)
}

#[test]
fn thermostats_hold_the_temperature() {
    // couplings strong enough that 2e5 steps hold ~1000 independent samples (error ~0.6 %)
    for thermostat in [
        Thermostat::John { newtonian_steps: 103, diff_coeff: 0.1 },
        Thermostat::Langevin { gamma_trans: 1.0, gamma_rot: 1.0 },
    ] {
        let (t, r) = kinetic_temperature(thermostat);
        assert!((t - 0.1).abs() < 0.002, "{thermostat:?}: translational kT {t}");
        assert!((r - 0.1).abs() < 0.002, "{thermostat:?}: rotational kT {r}");
    }
}

/// Mean and standard error from the means of blocks of `b` consecutive samples.
fn block_mean(x: &[f64], b: usize) -> (f64, f64) {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let blocks: Vec<f64> = x.chunks_exact(b).map(|c| c.iter().sum::<f64>() / c.len() as f64).collect();
    let bm = blocks.iter().sum::<f64>() / blocks.len() as f64;
    let var = blocks.iter().map(|v| (v - bm).powi(2)).sum::<f64>() / ((blocks.len() - 1) * blocks.len()) as f64;
    (mean, var.sqrt())
}

/// The mean and a conservative standard error: the largest block error over block sizes that
/// leave at least 8 blocks (correlated samples; Flyvbjerg & Petersen).
fn mean_and_error(x: &[f64]) -> (f64, f64) {
    let mut b = 1;
    let mut worst = (0.0, 0.0);
    while x.len() / b >= 8 {
        let (m, e) = block_mean(x, b);
        if e > worst.1 {
            worst = (m, e);
        }
        b *= 2;
    }
    (x.iter().sum::<f64>() / x.len() as f64, worst.1)
}

/// oxDNA's U/N and K/N with errors, from its 3·10⁶-step run (energy_md_long.dat; the first
/// 20 000 steps dropped).
fn oxdna_long(case: &str) -> ((f64, f64), (f64, f64)) {
    let text = std::fs::read_to_string(case_dir(case).join("energy_md_long.dat")).unwrap();
    let rows: Vec<Vec<f64>> =
        text.lines().skip(21).map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect()).collect();
    let col = |k: usize| -> Vec<f64> { rows.iter().map(|r| r[k]).collect() };
    (mean_and_error(&col(1)), mean_and_error(&col(2)))
}

/// The mean potential energy of native MD agrees with oxDNA's long run of the same input, and
/// the kinetic energy with equipartition (3T per nucleotide); every error is a block error.
#[test]
fn mean_potential_energy_agrees_with_oxdna_md() {
    for case in ["dna1-avg-8bp-T296", "dna2-avg-20bp-T300-salt0.5"] {
        let mut input = InputFile::read(case_dir(case).join("input_md")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        for f in ["init.top", "init.dat"] {
            std::fs::copy(case_dir(case).join(f), tmp.path().join(f)).unwrap();
        }
        input.source = tmp.path().join("input_md");
        input.set("steps", 300_000);
        input.set("print_conf_interval", 1000);
        let run = SimRun::from_input(&input).unwrap();
        run.run(|_, _| {}).unwrap();
        let n = run.setup.topology.len();
        let frames: Vec<_> =
            TrajectoryReader::open(tmp.path().join("trajectory.dat"), n).unwrap().map(Result::unwrap).collect();
        let u: Vec<f64> = frames.iter().skip(20).map(|f| f.energy[1]).collect();
        let (mean, err) = mean_and_error(&u);
        let ((ox, ox_err), (ox_k, ox_k_err)) = oxdna_long(case);
        let sigma = (err * err + ox_err * ox_err).sqrt();
        eprintln!("{case}: U/N oxgrad {mean:.4} ± {err:.4}, oxDNA (3e6 steps) {ox:.4} ± {ox_err:.4}");
        assert!((mean - ox).abs() < 3.0 * sigma, "{case}: oxgrad {mean} ± {err}, oxDNA {ox} ± {ox_err}");
        // the kinetic energy per nucleotide: oxDNA's, and 3T (translation + rotation)
        let k: Vec<f64> = frames.iter().skip(20).map(|f| f.energy[2]).collect();
        let (km, kerr) = mean_and_error(&k);
        let kt = run.setup.model.params().value("kt");
        let ks = (kerr * kerr + ox_k_err * ox_k_err).sqrt();
        eprintln!("{case}: K/N {km:.4} ± {kerr:.4}, oxDNA {ox_k:.4} ± {ox_k_err:.4}, 3T = {:.4}", 3.0 * kt);
        assert!((km - ox_k).abs() < 3.0 * ks, "{case}: K/N {km} ± {kerr}, oxDNA {ox_k} ± {ox_k_err}");
        assert!((km - 3.0 * kt).abs() < 3.0 * kerr + 0.01 * kt, "{case}: K/N {km} ± {kerr}, 3T = {}", 3.0 * kt);
    }
}

#[test]
fn fixed_seeds_reproduce_runs() {
    let run = |seed| {
        let (model, mut st) = duplex("ACGTACGT");
        let cfg = MdConfig {
            dt: 0.005,
            steps: 0,
            thermostat: Thermostat::John { newtonian_steps: 10, diff_coeff: 2.5 },
            verlet_skin: 0.1,
            seed,
        };
        let mut md = Md::new(&model, cfg, &st).unwrap();
        md.refresh_velocities(&mut st);
        for _ in 0..2000 {
            md.step(&mut st).unwrap();
        }
        st.frame.r
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
#[cfg(feature = "cli")] // runs the `oxgrad` program
fn simulate_runs_the_reference_inputs_unchanged() {
    let case = "dna1-avg-8bp-T296";
    let tmp = tempfile::tempdir().unwrap();
    for f in ["init.top", "init.dat", "input_md"] {
        std::fs::copy(case_dir(case).join(f), tmp.path().join(f)).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .current_dir(tmp.path())
        .args(["simulate", "input_md"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let frames: Vec<_> =
        TrajectoryReader::open(tmp.path().join("trajectory.dat"), 16).unwrap().map(Result::unwrap).collect();
    assert_eq!(frames.iter().map(|f| f.step).collect::<Vec<_>>(), (1..=10).map(|k| k * 10_000).collect::<Vec<_>>());
    let energy = std::fs::read_to_string(tmp.path().join("energy_md.dat")).unwrap();
    assert_eq!(energy.lines().count(), 11, "t = 0 and every 10 000 steps");
    let first: Vec<f64> = energy.lines().next().unwrap().split_whitespace().map(|x| x.parse().unwrap()).collect();
    assert_eq!(first.len(), 4);
    assert!((first[1] - (-1.555010)).abs() < 2e-6, "U/N of the initial configuration as oxDNA prints it: {}", first[1]);
    assert!(tmp.path().join("last_conf.dat").exists());
}

/// The `L` columns of a configuration are body-frame components (along a1, a2, a3), as oxDNA 3.7
/// reads and writes them: 10 constant-energy steps from oxDNA's own configuration with non-zero
/// angular momenta (`tests/data/md_angular_momentum`, see its PROVENANCE) end where oxDNA's do.
/// Read as lab-frame vectors, U/N ends 5·10⁻³ off and a1 2.5·10⁻³ off.
#[test]
fn md_from_a_configuration_with_angular_momenta_follows_oxdna() {
    let src = std::path::Path::new("tests/data/md_angular_momentum");
    let d = tempfile::tempdir().unwrap();
    for f in ["input", "top.top", "start.dat"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    let file = InputFile::read(d.path().join("input")).unwrap();
    let run = SimRun::from_input(&file).unwrap();
    assert!(run.unused_keys.is_empty(), "{:?}", run.unused_keys);
    run.check_outputs(false).unwrap();
    run.run(|_, _| {}).unwrap();
    let n = 20;
    let ours = Configuration::read(d.path().join("last_conf.dat"), n).unwrap();
    let theirs = Configuration::read(src.join("oxdna_last_conf.dat"), n).unwrap();
    let start = Configuration::read(src.join("start.dat"), n).unwrap();
    assert_eq!((ours.step, theirs.step), (10, 10));
    assert!(start.l.iter().all(|l| l.norm() > 1e-3), "every nucleotide spins");
    let worst = |f: &dyn Fn(&Configuration) -> &Vec<oxgrad::geometry::Vec3>| {
        f(&ours).iter().zip(f(&theirs)).map(|(a, b)| (*a - *b).norm()).fold(0.0, f64::max)
    };
    let (dr, da1, da3, dv, dl) =
        (worst(&|c| &c.r), worst(&|c| &c.a1), worst(&|c| &c.a3), worst(&|c| &c.v), worst(&|c| &c.l));
    eprintln!("after 10 steps, largest differences from oxDNA: r {dr:.1e}, a1 {da1:.1e}, a3 {da3:.1e}, v {dv:.1e}, L {dl:.1e}");
    assert!(dr < 5e-6 && da1 < 5e-6 && da3 < 5e-6, "r {dr}, a1 {da1}, a3 {da3}");
    assert!(dv < 2e-4 && dl < 2e-4, "v {dv}, L {dl}");
    // E = total, potential, kinetic per nucleotide (oxDNA's to 15 digits); the potential differs
    // by the start configuration's 2.6·10⁻⁶ (oxDNA's rounded hydrogen-bonding smoothing constants)
    let (du, dk) = ((ours.energy[1] - theirs.energy[1]).abs(), (ours.energy[2] - theirs.energy[2]).abs());
    assert!(
        du < 1e-5 && dk < 1e-5,
        "U/N {} vs oxDNA {}, K/N {} vs {}",
        ours.energy[1],
        theirs.energy[1],
        ours.energy[2],
        theirs.energy[2]
    );
    // and a configuration read and written again keeps its L (body → lab → body) to rounding
    let back = MdState::from_configuration(&start).to_configuration(0.0);
    for (a, b) in back.l.iter().zip(&start.l) {
        assert!((*a - *b).norm() < 1e-14, "{a:?} vs {b:?}");
    }
}

#[test]
fn bad_md_inputs_are_clear_errors() {
    let case = "dna1-avg-8bp-T296";
    let base = InputFile::read(case_dir(case).join("input_md")).unwrap();
    let mut bad = base.clone();
    bad.set("thermostat", "nose-hoover");
    let e = SimRun::from_input(&bad).unwrap_err().to_string();
    assert!(e.ends_with("unknown thermostat; valid thermostats are no, john (or brownian), langevin"), "{e}");
    let mut bad = base.clone();
    bad.remove("dt");
    let e = SimRun::from_input(&bad).unwrap_err().to_string();
    assert!(e.ends_with("missing required key 'dt': add a line 'dt = ...'"), "{e}");
    let mut bad = base.clone();
    bad.set("conf_file", "../dna1-seqdep-20bp-T300/init.dat"); // 40 nucleotides for a 16-nucleotide topology
    let e = SimRun::from_input(&bad).unwrap_err().to_string();
    assert!(e.contains("the configuration has more rows than the topology's 16 nucleotides"), "{e}");
    let mut bad = base;
    bad.set("newtonian_steps", 100_000);
    let e = SimRun::from_input(&bad).unwrap_err().to_string();
    assert!(e.contains("must be below 1"), "{e}");
}

#[test]
fn native_simulator_runs_under_the_optimizer() {
    use oxgrad::optimize::*;
    use oxgrad::params::ParamGrads;
    use oxgrad::simulate::NativeSimulator;
    use std::sync::{Arc, Mutex};
    let (top, conf) =
        helix(&parse_sequence("ACGTACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let mut p = ParamSet::dna1_defaults();
    p.set("kt", 0.1).unwrap();
    let cfg = MdConfig {
        dt: 0.005,
        steps: 2000,
        thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
        verlet_skin: 0.1,
        seed: 5,
    };
    let base = NativeSimulator::new("x", top, conf, p, cfg, 100).unwrap().equilibration_steps(500);
    let sims = create_n(2, Some("helix"), |name| base.renamed(name));
    let ids: Vec<ObservableId> = sims.iter().flat_map(Simulator::exposes).collect();
    assert_eq!(ids[0].to_string(), "trajectory.NativeSimulator.helix.0");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    let obj = GenericObjective::new("mean_energy", ids, move |obs, _| {
        for o in obs {
            let Observation::Trajectory(t) = &**o else { panic!("a trajectory") };
            seen2.lock().unwrap().push((t.len(), t.temperature.clone().unwrap(), t.frames[0].r[0]));
        }
        Ok((ParamGrads([("eps_stack_base".to_string(), 0.0)].into()), Default::default()))
    });
    Optimization::new(UpdateRule::sgd(1e-3).unwrap())
        .simulators(sims)
        .objective(obj)
        .aggregate(Aggregate::Mean)
        .executor(LocalPool::with_cpus(2))
        .run([("eps_stack_base".to_string(), 1.3448)].into(), 1, None)
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for (len, temps, _) in seen.iter() {
        assert_eq!(*len, 20, "2000 steps sampled every 100");
        assert!(temps.iter().all(|t| (t - 0.1).abs() < 1e-15));
    }
    assert_ne!(seen[0].2, seen[1].2, "each simulator gets its own seed");
    // an optimised name the model does not know is a clear error
    let e = base.params_with(&[("eps_stak_base".to_string(), 1.0)].into()).unwrap_err().to_string();
    assert!(e.contains("did you mean 'eps_stack_base'"), "{e}");
}
