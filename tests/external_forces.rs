//! oxgrad's external forces equal oxDNA's: the energy and the force on every nucleotide of each
//! force of `tests/data/external_forces/forces.txt`, on three frames at steps 0, 1 and 3456 (the
//! forces with a rate at those steps), against oxDNA 3.7's `force_energy` and `external_force`
//! observables from DNAnalysis (see `tests/data/external_forces/PROVENANCE`).

use oxgrad::geometry::{PeriodicBox, Vec3};
use oxgrad::io::TrajectoryReader;
use oxgrad::simulate::external;
use oxgrad::system::Topology;
use std::collections::HashMap;
use std::path::Path;

const DIR: &str = "tests/data/external_forces";

#[test]
fn every_force_s_energy_and_forces_equal_oxdna_s() {
    let dir = Path::new(DIR);
    let (top, _) = Topology::read(dir.join("top.top")).unwrap();
    let forces = external::read(&dir.join("forces.txt"), &top).unwrap();
    let frames: HashMap<u64, _> = TrajectoryReader::open(dir.join("traj.dat"), top.len())
        .unwrap()
        .map(|c| c.unwrap())
        .map(|c| (c.step, c))
        .collect();
    assert_eq!(frames.len(), 3);
    let text = std::fs::read_to_string(dir.join("reference.txt")).unwrap();
    let (mut energies, mut nucleotides) = (0, 0);
    let mut seen = vec![false; forces.len()];
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (k, t): (usize, u64) = (w[1].parse().unwrap(), w[2].parse().unwrap());
        let (f, c) = (&forces[k], &frames[&t]);
        let bx = PeriodicBox::new(c.box_sides);
        seen[k] = true;
        match w[0] {
            "E" => {
                let want: f64 = w[3].parse().unwrap();
                let got = f.energy(t, &|i| c.r[i], &bx);
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "force {k} at step {t}: {got} vs oxDNA {want} ({f:?})"
                );
                energies += 1;
            }
            "F" => {
                let i: usize = w[3].parse().unwrap();
                let want = Vec3::new(w[4].parse().unwrap(), w[5].parse().unwrap(), w[6].parse().unwrap());
                let mut g = vec![Vec3::ZERO; top.len()];
                f.apply(t, &c.r, &bx, &mut g);
                // oxDNA prints the forces with 6 decimals
                for a in 0..3 {
                    assert!(
                        (g[i].0[a] - want.0[a]).abs() <= 5.1e-7 + 1e-12 * want.0[a].abs(),
                        "force {k} at step {t} on nucleotide {i}: {:?} vs oxDNA {want:?} ({f:?})",
                        g[i]
                    );
                }
                nucleotides += 1;
            }
            other => panic!("line kind {other}"),
        }
    }
    assert!(seen.iter().all(|s| *s), "every force has reference values");
    // hard_wall has an energy only
    let with_force = forces.iter().filter(|f| !f.monte_carlo_only()).count();
    assert_eq!((energies, nucleotides), (3 * forces.len(), 3 * 16 * with_force));
    // every force acts somewhere, and those with a rate differ between steps 1 and 3456
    for (k, f) in forces.iter().enumerate() {
        let c = &frames[&3456];
        let bx = PeriodicBox::new(c.box_sides);
        assert!(f.energy(3456, &|i| c.r[i], &bx).abs() > 1e-6, "force {k} acts");
        if f.moves() {
            let (e1, e2) = (f.energy(1, &|i| c.r[i], &bx), f.energy(3456, &|i| c.r[i], &bx));
            assert!((e1 - e2).abs() > 1e-6, "force {k} moves");
        }
    }
}

/// Molecular dynamics with forces that change with the step (a moving trap, a turning twist, a
/// sawtooth and a growing pull), from step 100, follows oxDNA 3.7's own run of the same input
/// (`tests/data/external_forces/md`, no thermostat, 1000 steps): oxDNA evaluates the forces of
/// the step from t to t + 1 at t, and so does oxgrad; one step off moves the trapped nucleotide by
/// 6·10⁻⁴ (checked).
#[test]
fn md_with_moving_forces_follows_oxdna() {
    let src = Path::new(DIR).join("md");
    let d = tempfile::tempdir().unwrap();
    for f in ["input", "top.top", "init.dat", "forces.txt"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    let mut file = oxgrad::io::InputFile::read(d.path().join("input")).unwrap();
    // oxDNA 3.7 ran `steps = 1000` more steps from the configuration's step 100; oxgrad reads a
    // continued run's `steps` as its last step
    file.set("steps", 1100);
    let run = oxgrad::simulate::SimRun::from_input(&file).unwrap();
    assert!(run.unused_keys.is_empty(), "{:?}", run.unused_keys);
    run.check_outputs(false).unwrap();
    run.run(|_, _| {}).unwrap();
    let ours = oxgrad::io::Configuration::read(d.path().join("last_conf.dat"), 3).unwrap();
    let theirs = oxgrad::io::Configuration::read(src.join("oxdna_last_conf.dat"), 3).unwrap();
    let start = oxgrad::io::Configuration::read(src.join("init.dat"), 3).unwrap();
    assert_eq!((ours.step, theirs.step), (1100, 1100));
    let bx = PeriodicBox::new(theirs.box_sides);
    for i in 0..3 {
        let (dr, dv) = (bx.min_image(ours.r[i] - theirs.r[i]), ours.v[i] - theirs.v[i]);
        assert!(
            dr.norm() < 1e-8 && dv.norm() < 1e-8,
            "nucleotide {i}: {:?} {:?} vs oxDNA {:?} {:?}",
            ours.r[i],
            ours.v[i],
            theirs.r[i],
            theirs.v[i]
        );
        assert!(bx.min_image(theirs.r[i] - start.r[i]).norm() > 0.5, "nucleotide {i} moved");
    }
}

/// oxDNA's `hard_wall` has an energy and no force: molecular dynamics refuses it by name (oxDNA
/// stops at its first force evaluation), Monte Carlo takes it.
#[test]
fn md_refuses_a_hard_wall() {
    let src = Path::new(DIR).join("md");
    let d = tempfile::tempdir().unwrap();
    for f in ["input", "top.top", "init.dat"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    std::fs::write(d.path().join("forces.txt"), "{\ntype = hard_wall\nparticle = -1\ndir = 0, 0, 1\nposition = 0\n}\n")
        .unwrap();
    let mut file = oxgrad::io::InputFile::read(d.path().join("input")).unwrap();
    let Err(e) = oxgrad::simulate::SimRun::from_input(&file) else { panic!("MD refuses a hard wall") };
    let e = e.to_string();
    assert!(e.contains("hard_wall") && e.contains("Monte Carlo only"), "{e}");
    file.set("sim_type", "MC");
    file.set("delta_translation", 0.1);
    file.set("delta_rotation", 0.1);
    file.set("ensemble", "NVT");
    file.set("steps", 150);
    let run = oxgrad::simulate::SimRun::from_input(&file).unwrap();
    run.check_outputs(false).unwrap();
    assert_eq!(run.run(|_, _| {}).unwrap(), 150);
}

/// The numbers of an energy file, a row per line.
fn energy_rows(path: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// Runs `input` (MD or MC) of `tests/data/external_forces/energy_file` in a temporary directory;
/// returns the directory, the run and the external forces' energy at step 0.
fn run_energy_file_case(input: &str) -> (tempfile::TempDir, oxgrad::simulate::SimRun, f64) {
    let src = Path::new(DIR).join("energy_file");
    let d = tempfile::tempdir().unwrap();
    for f in [input, "top.top", "init.dat", "forces.txt"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    let file = oxgrad::io::InputFile::read(d.path().join(input)).unwrap();
    let run = oxgrad::simulate::SimRun::from_input(&file).unwrap();
    assert!(run.unused_keys.is_empty(), "{:?}", run.unused_keys);
    assert_eq!(run.external.len(), 2, "a string and a trap");
    let bx = PeriodicBox::new(run.initial.box_sides);
    let ext: f64 = run.external.iter().map(|f| f.energy(0, &|i| run.initial.r[i], &bx)).sum();
    run.check_outputs(false).unwrap();
    run.run(|_, _| {}).unwrap();
    (d, run, ext)
}

/// oxDNA 3.7 writes the model's potential energy alone, without the external forces', in its
/// energy file and in its configurations' `E =` line (`tests/data/external_forces/PROVENANCE`,
/// `energy_file/`): a 10-bp duplex pulled by a `string` and held by a `trap`, 20 MD steps without
/// thermostat from velocities (near-zero angular momenta), which oxgrad follows; so does oxgrad.
#[test]
fn md_writes_the_potential_without_the_forces_as_oxdna_does() {
    let (d, run, ext) = run_energy_file_case("input_md");
    let n = run.setup.model.len() as f64;
    // the forces' energy is large enough to be seen in the files
    assert!(ext.abs() / n > 0.01, "external energy per nucleotide {}", ext / n);
    let u0 = run.setup.model.energy(&run.initial).unwrap() / n;
    let ours = energy_rows(&d.path().join("energy.dat"));
    let theirs = energy_rows(&Path::new(DIR).join("energy_file/oxdna_md_energy.dat"));
    assert_eq!(ours.len(), 3);
    // step 0: the model's energy of the initial configuration, printed with 6 decimals
    assert!((ours[0][1] - u0).abs() < 1e-6, "step 0: U/N {} vs the model's {u0}", ours[0][1]);
    // time, U/N, K/N, Etot/N as oxDNA's at steps 0, 10 and 20; U/N differs from oxDNA's energy
    // of the same configuration by about 2e-6 (with or without forces)
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.len(), 4);
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs oxDNA {b:?}");
        }
    }
    // the E = line (Etot U K per nucleotide) of the last configuration
    let last = oxgrad::io::Configuration::read(d.path().join("last_conf.dat"), 20).unwrap();
    let oxdna = oxgrad::io::Configuration::read(Path::new(DIR).join("energy_file/oxdna_md_last_conf.dat"), 20).unwrap();
    assert_eq!((last.step, oxdna.step), (20, 20));
    let u = run.setup.model.energy(&last).unwrap() / n;
    assert!((last.energy[1] - u).abs() < 1e-12, "last_conf U/N {} vs the model's {u}", last.energy[1]);
    assert!((last.energy[0] - last.energy[1] - last.energy[2]).abs() < 1e-12);
    for k in 0..3 {
        assert!((last.energy[k] - oxdna.energy[k]).abs() < 1e-5, "E = {:?} vs oxDNA {:?}", last.energy, oxdna.energy);
    }
}

/// Monte Carlo's energy file and configurations too carry the model's potential energy alone
/// (oxDNA's step-0 line of the same input, `energy_file/oxdna_mc_energy.dat`; later lines
/// follow other random numbers), while moves are accepted on the energy with the forces'.
#[test]
fn mc_writes_the_potential_without_the_forces_as_oxdna_does() {
    let (d, run, ext) = run_energy_file_case("input_mc");
    let n = run.setup.model.len() as f64;
    assert!(ext.abs() / n > 0.01, "external energy per nucleotide {}", ext / n);
    let u0 = run.setup.model.energy(&run.initial).unwrap() / n;
    let ours = energy_rows(&d.path().join("energy.dat"));
    let theirs = energy_rows(&Path::new(DIR).join("energy_file/oxdna_mc_energy.dat"));
    assert_eq!((ours.len(), ours[0][0], ours[2][0]), (3, 0.0, 20.0));
    assert!((ours[0][1] - u0).abs() < 1e-6, "step 0: U/N {} vs the model's {u0}", ours[0][1]);
    assert!((ours[0][1] - theirs[0][1]).abs() < 1e-5, "step 0: U/N {} vs oxDNA's {}", ours[0][1], theirs[0][1]);
    let traj: Vec<_> =
        TrajectoryReader::open(d.path().join("trajectory.dat"), 20).unwrap().map(|c| c.unwrap()).collect();
    let last = oxgrad::io::Configuration::read(d.path().join("last_conf.dat"), 20).unwrap();
    assert_eq!((traj.len(), last.step), (2, 20));
    for (c, row) in traj.iter().zip(&ours[1..]) {
        let u = run.setup.model.energy(c).unwrap() / n;
        // the running energy less the forces' equals the model's from scratch (1e-6 per
        // nucleotide: the running sum's accuracy check)
        assert!((c.energy[1] - u).abs() < 1e-6, "step {}: E = {:?} vs the model's U/N {u}", c.step, c.energy);
        assert!((row[1] - u).abs() < 2e-6, "step {}: energy file U/N {} vs the model's {u}", c.step, row[1]);
    }
    assert_eq!(last.energy, traj[1].energy);
}
