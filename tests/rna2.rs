//! oxRNA2 built from users' terms (`oxgrad::energy::rna2`) against oxDNA's own split energies of
//! `rna2-avg-12bp-T300-salt1.0` (copied from ../shared/reference/oxdna, see
//! tests/data/oxdna/PROVENANCE), forces against autodiff, and native MD at constant temperature.

mod common;

use common::case_dir;
use oxgrad::energy::{rna2, EnergyModel};
use oxgrad::io::TrajectoryReader;
use oxgrad::prelude::*;

/// oxDNA's reference duplex, and the same frames with strand 2 nicked and 20 jittered copies
/// (coaxial stacking in every frame, excluded volume in some: oxDNA's DNAnalysis, see PROVENANCE).
const CASES: [&str; 2] = ["rna2-avg-12bp-T300-salt1.0", "extra-rna2-avg-nicked-jittered-12bp-T300-salt1.0"];

/// The sequence-dependent case: CASES[1]'s frames on a topology with two G–U pairs and a
/// mismatch, with made-up asymmetric strengths in `seq_dep_rna.txt` (PROVENANCE).
const SEQDEP: &str = "extra-rna2-seqdep-wobble-jittered-12bp-T300-salt1.0";

fn reference(case: &str) -> (Topology, Vec<Configuration>, Vec<Vec<f64>>) {
    let dir = case_dir(case);
    let (top, _) = Topology::read(dir.join("init.top")).unwrap();
    let traj = if case == SEQDEP { case_dir(CASES[1]) } else { dir.clone() }.join("trajectory.dat");
    let frames: Vec<Configuration> = TrajectoryReader::open(traj, top.len()).unwrap().map(Result::unwrap).collect();
    let text = std::fs::read_to_string(dir.join("energies.tsv")).unwrap();
    let rows =
        text.lines().skip(1).map(|l| l.split('\t').skip(3).take(8).map(|x| x.parse().unwrap()).collect()).collect();
    (top, frames, rows)
}

/// Every term of every frame, per nucleotide: hydrogen bonding within 5e-5 (oxDNA interpolates
/// its angular factors from tables, these are exact; 1.1e-5 on the MD frames, more on the
/// jittered ones), the other seven within 5e-7 + 2e-6 relative (oxDNA keeps its constants in single
/// precision, which the steep excluded volume of the jittered frames amplifies).
#[test]
fn energies_match_oxdna_term_by_term() {
    for case in CASES {
        let (top, frames, rows) = reference(case);
        let nonzero = check_energies(case, &rna2::model(&top, 0.1, 1.0).unwrap(), &frames, &rows);
        if case.starts_with("extra") {
            assert!(nonzero.iter().all(|k| *k > 0), "every term is exercised: {nonzero:?}");
        }
    }
}

/// Coaxial stacking where the duplexes never take it: two one-nucleotide strands twisted about
/// their normals, so that cos φ3 = cos φ4 runs through (−0.65, 0), where f5 bends, and below it,
/// and six with one normal turned, where the RNA backbone sites (−0.4 a1 + 0.2 a3) give other
/// φ3, φ4 than oxDNA1's (oxDNA's DNAnalysis, see PROVENANCE). Pins those sites and the signs of
/// `cos_phi3_star_coax` and `cos_phi4_star_coax`.
#[test]
fn coaxial_stacking_of_twisted_pairs_matches_oxdna() {
    let case = "extra-rna2-coax-twisted-pairs";
    let (top, frames, rows) = reference(case);
    let nonzero = check_energies(case, &rna2::model(&top, 0.1, 1.0).unwrap(), &frames, &rows);
    assert_eq!(nonzero[6], frames.len(), "coaxial stacking acts in every frame");
}

/// The sequence-dependent model from oxDNA's file format: stacking strengths by base step in
/// oxDNA's orientation (the transposed table misses by 1e-2), H-bonding by pair including G–U
/// wobble pairs, cross-stacking by pair of bases; the uniform tables give the averaged model.
/// Debye–Hückel's pairs reach as far as the term promises (λ up to 1.5 times its value at the
/// model's salt and temperature, r_c = 4.5 λ between backbone sites) and no further, away from
/// the references' 1 M and 300 K: two charges whose backbone sites face each other just inside
/// that reach still repel, and the model's cut-off is exactly r_c at its parameters plus both
/// backbone offsets.
#[test]
fn debye_huckel_reaches_its_cut_off_at_any_salt_and_temperature() {
    use oxgrad::system::StrandKind;
    let (kt, salt) = (0.11, 0.2);
    let strands = [(vec![Base::A], StrandKind::Rna, false), (vec![Base::C], StrandKind::Rna, false)];
    let top = Topology::from_sequences(&strands, TopologyFormat::Classic);
    let model = rna2::model(&top, kt, salt).unwrap();
    let lambda = 0.366_725_8 * (kt / 0.1_f64).sqrt() / salt.sqrt();
    // the RNA backbone site −0.4 a1 + 0.2 a3 lies along +x for a1 = (−cos θ, 0, sin θ),
    // a3 = (sin θ, 0, cos θ) with tan θ = 1/2
    let (sin, cos) = (0.5_f64).atan().sin_cos();
    let (a1, a3) = (Vec3::new(-cos, 0.0, sin), Vec3::new(sin, 0.0, cos));
    let backbone = 0.2_f64.sqrt();
    let reach = 4.5 * 1.5 * lambda;
    // the neighbour cut-off is the term's reach at the model's parameters (r_c = 4.5 λ)
    let own = 4.5 * lambda + 2.0 * backbone;
    assert!((model.cutoff() - own).abs() < 1e-6, "cut-off {} for r_c {}", model.cutoff(), 4.5 * lambda);
    let trained = model
        .with_params(model.params().with_params([("RnaDebyeHuckel.lambda_factor", 1.5 * 0.366_725_8)]).unwrap())
        .unwrap();
    assert!(
        (trained.cutoff() - (reach + 2.0 * backbone)).abs() < 1e-6,
        "cut-off {} for reach {reach}",
        trained.cutoff()
    );
    let energy = |m: &EnergyModel, d: f64| {
        let c = Configuration {
            step: 0,
            box_sides: Vec3::new(40.0, 40.0, 40.0),
            energy: [0.0; 3],
            r: vec![Vec3::new(0.0, 0.0, 0.0), Vec3::new(d + 2.0 * backbone, 0.0, 0.0)],
            a1: vec![a1, -a1],
            a3: vec![a3, -a3],
            v: vec![Vec3::ZERO; 2],
            l: vec![Vec3::ZERO; 2],
        };
        m.breakdown(&c).unwrap().custom("RnaDebyeHuckel").unwrap()
    };
    assert!(energy(&trained, reach * 0.999) > 0.0, "a pair inside r_c is lost");
    assert_eq!(energy(&trained, reach * 1.001), 0.0);
    // at the trained λ the default model's pair at 0.999 r_c(λ) is beyond its own r_c
    assert_eq!(energy(&model, reach * 0.999), 0.0);
    assert!(energy(&model, 4.5 * lambda * 0.999) > 0.0);
}

#[test]
fn sequence_dependent_energies_match_oxdna() {
    let (top, frames, rows) = reference(SEQDEP);
    let seq = rna2::SequenceDependence::read(case_dir(SEQDEP).join("seq_dep_rna.txt")).unwrap();
    let model = seq_model(&top, &seq);
    let nonzero = check_energies(SEQDEP, &model, &frames, &rows);
    assert!(nonzero.iter().all(|k| *k > 0), "every term is exercised: {nonzero:?}");
    // a table built in code is checked as a file is
    let mut asymmetric = seq.clone();
    asymmetric.cross[0][3] += 1.0;
    let debye = rna2::DebyeHuckel::new(1.0, 0.1).unwrap();
    let e = rna2::model_with(&top, 0.1, rna2::Fene::strict(), debye, Some(&asymmetric)).unwrap_err();
    assert!(e.to_string().contains("(the table is symmetric)"), "{e}");
    let mut transposed = seq.clone();
    for x in 0..4 {
        for y in 0..4 {
            transposed.stack[x][y] = seq.stack[y][x];
        }
    }
    let stacking = |m: &EnergyModel| m.breakdown(&frames[0]).unwrap().custom("RnaStacking").unwrap() / 24.0;
    let off = (stacking(&seq_model(&top, &transposed)) - rows[0][2]).abs();
    assert!(off > 1e-3, "the transposed stacking table is told apart: {off}");
    // the wobble pairs bond: without them H-bonding is weaker
    let no_wobble = model.with_params(model.params().with_params([("hydr_G_U", 0.0)]).unwrap()).unwrap();
    let hb = |m: &EnergyModel| m.breakdown(&frames[0]).unwrap().custom("RnaHydrogenBonding").unwrap();
    assert!(hb(&model) < hb(&no_wobble) - 0.05, "{} vs {}", hb(&model), hb(&no_wobble));
    // a trained sequence-dependent model saves and reads back whole, and its strengths write
    // back to oxDNA's file format
    let dir = tempfile::tempdir().unwrap();
    let trained =
        model.with_params(model.params().with_params([("stck_G_C", 1.7), ("cross_A_U", 61.0)]).unwrap()).unwrap();
    trained.write(dir.path().join("m.toml")).unwrap();
    let back = EnergyModel::read(&top, dir.path().join("m.toml"), &rna2::registry()).unwrap();
    assert_eq!(back.params(), trained.params());
    assert_eq!(back.energy(&frames[5]).unwrap(), trained.energy(&frames[5]).unwrap());
    assert_ne!(back.energy(&frames[5]).unwrap(), model.energy(&frames[5]).unwrap());
    seq.to_file().write(dir.path().join("seq.txt")).unwrap();
    assert_eq!(rna2::SequenceDependence::read(dir.path().join("seq.txt")).unwrap(), seq);
    // uniform strengths are the averaged model
    let (top, frames, _) = reference(CASES[1]);
    let uniform = seq_model(&top, &rna2::SequenceDependence::uniform());
    let averaged = rna2::model(&top, 0.1, 1.0).unwrap();
    for f in &frames {
        let (a, b) = (uniform.energy(f).unwrap(), averaged.energy(f).unwrap());
        assert!((a - b).abs() < 1e-12 * a.abs(), "{a} vs {b}");
    }
}

fn seq_model(top: &Topology, seq: &rna2::SequenceDependence) -> EnergyModel {
    let debye = rna2::DebyeHuckel::new(1.0, 0.1).unwrap();
    rna2::model_with(top, 0.1, rna2::Fene::strict(), debye, Some(seq)).unwrap()
}

/// Checks every term of every frame; returns in how many frames each of oxDNA's terms is not zero.
fn check_energies(case: &str, model: &EnergyModel, frames: &[Configuration], rows: &[Vec<f64>]) -> [usize; 8] {
    let n = model.len() as f64;
    let mut worst = [0.0_f64; 8];
    let mut nonzero = [0_usize; 8];
    for (frame, row) in frames.iter().zip(rows) {
        let b = model.breakdown(frame).unwrap();
        for (k, (name, header)) in rna2::HEADERS.iter().enumerate() {
            let got = b.custom(name).unwrap() / n;
            worst[k] = worst[k].max((got - row[k]).abs());
            // single-precision constants move the steep excluded volume by ~1e-6 relative
            let tol = if *header == "HYDROGEN_BONDING" { 5e-5 } else { 5e-7 + 2e-6 * row[k].abs() };
            assert!((got - row[k]).abs() < tol, "{case} {header}: {got} vs oxDNA {}", row[k]);
            nonzero[k] += usize::from(row[k] != 0.0);
        }
        // the built-in DNA terms are off: not evaluated, and the breakdown's total is the model's
        assert_eq!(b.builtin, [0.0; 8]);
        assert!((model.energy(frame).unwrap() - b.total()).abs() < 1e-12);
    }
    println!(
        "{case}: largest difference per nucleotide {:?}",
        rna2::HEADERS.iter().map(|h| h.1).zip(worst).collect::<Vec<_>>()
    );
    println!("{case}: frames where oxDNA's term is not zero {nonzero:?}");
    nonzero
}

/// Forces and torques from the terms' dual numbers equal automatic differentiation of the same
/// definitions, on jittered frames where every term acts, for the averaged and the
/// sequence-dependent model (strengths per pair).
#[test]
fn forces_and_torques_equal_autodiff() {
    let (top, frames, rows) = reference(CASES[1]);
    check_forces(&rna2::model(&top, 0.1, 1.0).unwrap(), &frames, &rows);
    let (top, frames, rows) = reference(SEQDEP);
    let seq = rna2::SequenceDependence::read(case_dir(SEQDEP).join("seq_dep_rna.txt")).unwrap();
    check_forces(&seq_model(&top, &seq), &frames, &rows);
}

fn check_forces(model: &EnergyModel, frames: &[Configuration], rows: &[Vec<f64>]) {
    let top_len = model.len();
    let mut checked = 0;
    for (frame, row) in frames.iter().zip(rows).skip(10) {
        if row[1] == 0.0 && row[3] == 0.0 {
            continue; // frames with excluded volume
        }
        let f = model.forces(frame).unwrap();
        let (fa, ta) = model.forces_torques_autodiff(frame).unwrap();
        for i in 0..top_len {
            assert!((f.f[i] - fa[i]).norm() < 1e-7 * fa[i].norm().max(1.0), "force {i}: {:?} vs {:?}", f.f[i], fa[i]);
            assert!((f.torque[i] - ta[i]).norm() < 1e-7 * ta[i].norm().max(1.0), "torque {i}");
        }
        assert!((f.energy - model.energy(frame).unwrap()).abs() < 1e-9);
        let net = f.f.iter().fold(Vec3::ZERO, |a, b| a + *b);
        assert!(net.norm() < 1e-9, "Newton's third law: net force {net:?}");
        checked += 1;
    }
    assert!(checked >= 5, "{checked} frames");
}

/// Native MD of the RNA duplex with the John thermostat holds the kinetic temperature and the
/// duplex (its hydrogen bonds stay formed).
#[test]
fn native_md_holds_temperature_and_the_duplex() {
    use oxgrad::simulate::{Md, MdConfig, MdState, Thermostat};
    let (top, frames, _) = reference(CASES[0]);
    let model = rna2::model(&top, 0.1, 1.0).unwrap();
    let cfg = MdConfig {
        dt: 0.003,
        steps: 0,
        thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
        verlet_skin: 0.05,
        seed: 11,
    };
    let mut state = MdState::from_configuration(&frames[0]);
    let mut md = Md::new(&model, cfg, &state).unwrap();
    md.refresh_velocities(&mut state);
    let (mut kin, mut samples) = (0.0, 0);
    for step in 1..=4000 {
        md.step(&mut state).unwrap();
        if step > 1000 && step % 10 == 0 {
            // equipartition: ½ kT per degree of freedom, 3 translational and 3 rotational each
            let (kt, kr) = state.kinetic();
            kin += (kt + kr) / (3.0 * 24.0);
            samples += 1;
        }
    }
    let t = kin / f64::from(samples);
    assert!((t - 0.1).abs() < 0.01, "mean kinetic temperature {t} (kT 0.1)");
    let hb = model.breakdown(&state.to_configuration(md.potential())).unwrap().custom("RnaHydrogenBonding").unwrap();
    assert!(hb / 24.0 < -0.15, "the duplex stays paired: H-bonding {} per nucleotide", hb / 24.0);
}

/// Parameter gradients of oxRNA2 (through the tensor path of the users' terms) equal central
/// differences of the native energies, for parameters of five terms and the shared kT, and for
/// the per-pair strengths of the sequence-dependent model.
#[test]
fn parameter_gradients_equal_finite_differences() {
    let (top, frames, _) = reference(CASES[1]);
    let names = [
        "RnaStacking.eps_stack_base",
        "RnaStacking.a_stack_9",
        "RnaHydrogenBonding.eps_hb",
        "RnaCrossStacking.theta0_cross_1",
        "RnaCoaxialStacking.k_coax",
        "RnaDebyeHuckel.lambda_factor",
        "RnaNonbondedExcludedVolume.sigma_backbone",
        "kt",
    ];
    check_gradients(&rna2::model(&top, 0.1, 1.0).unwrap(), &frames[10..14], &names);
    let (top, frames, _) = reference(SEQDEP);
    let seq = rna2::SequenceDependence::read(case_dir(SEQDEP).join("seq_dep_rna.txt")).unwrap();
    let names =
        ["stck_G_G", "stck_U_A", "st_t_dep", "hydr_A_U", "hydr_C_G", "hydr_G_U", "cross_C_U", "cross_G_G", "kt"];
    check_gradients(&seq_model(&top, &seq), &frames[10..14], &names);
}

fn check_gradients(model: &EnergyModel, frames: &[Configuration], names: &[&str]) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let weights = vec![0.25; frames.len()];
    let (_, grads) = model.vjp(frames, &weights, &names).unwrap();
    for name in &names {
        let at = |h: f64| {
            let v = model.params().get(name).unwrap();
            let m = model.with_params(model.params().with_params([(name.as_str(), v + h)]).unwrap()).unwrap();
            frames.iter().map(|f| 0.25 * m.energy(f).unwrap()).sum::<f64>()
        };
        let h = 1e-6;
        let fd = (at(h) - at(-h)) / (2.0 * h);
        let g = grads.get(name).unwrap();
        assert!((g - fd).abs() < 1e-5 * fd.abs().max(1.0), "{name}: autodiff {g} vs finite differences {fd}");
        assert!(g.abs() > 1e-6, "{name}: {g} is not trivially zero");
    }
}

/// A backbone bond stretched past FENE's divergence makes the energy non-finite (so MD stops,
/// as oxDNA does), unless FENE is bounded as with `max_backbone_force`; a saved oxRNA2 model
/// reads back whole with `rna2::registry()`.
#[test]
fn fene_diverges_and_models_read_back() {
    let (top, frames, _) = reference(CASES[0]);
    let mut far = frames[0].clone();
    let (p, q) = (1, 0);
    let d = far.r[q] - far.r[p];
    far.r[q] += d * (0.4 / d.norm());
    let strict = rna2::model(&top, 0.1, 1.0).unwrap();
    assert!(!strict.energy(&far).unwrap().is_finite());
    let bounded =
        rna2::model_with(&top, 0.1, rna2::Fene::bounded(), rna2::DebyeHuckel::new(1.0, 0.1).unwrap(), None).unwrap();
    let e = bounded.energy(&far).unwrap();
    assert!(e.is_finite() && e > strict.energy(&frames[0]).unwrap(), "{e}");
    // model files
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rna2.toml");
    let changed =
        bounded.with_params(bounded.params().with_params([("RnaHydrogenBonding.eps_hb", 0.9)]).unwrap()).unwrap();
    changed.write(&path).unwrap();
    let back = EnergyModel::read(&top, &path, &rna2::registry()).unwrap();
    assert_eq!(back.energy(&far).unwrap(), changed.energy(&far).unwrap());
    assert_eq!(back.energy(&frames[3]).unwrap(), changed.energy(&frames[3]).unwrap());
    assert_eq!(back.params(), changed.params());
    // settings are read strictly: a misspelt one, or one of the wrong kind, names the term, the
    // setting and the file's line
    let text = std::fs::read_to_string(&path).unwrap();
    let line = |key: &str| text.lines().position(|l| l.trim_start().starts_with(key)).unwrap() + 1;
    let refused =
        |text: String| EnergyModel::from_toml_str(&top, &text, &path, &rna2::registry()).unwrap_err().to_string();
    let e = refused(text.replace("bounded = true", "bounded = 1"));
    assert!(e.contains("RnaFene setting 'bounded'") && e.contains("true or false"), "{e}");
    assert!(e.contains(&format!("rna2.toml:{}", line("name = \"RnaFene\""))), "{e}");
    let e = refused(text.replace("half_charged_ends", "half_charged_end"));
    assert!(
        e.contains("'half_charged_end'") && e.contains("RnaDebyeHuckel's settings are salt, kt, half_charged_ends"),
        "{e}"
    );
    let e = refused(text.replace(
        "[[model.terms]]\nname = \"RnaStacking\"",
        "[[model.terms]]\nname = \"RnaStacking\"\nsettings = { sequence_dependant = true }",
    ));
    assert!(e.contains("'sequence_dependant'") && e.contains("RnaStacking's settings are sequence_dependent"), "{e}");
}

/// `[model] kind = "rna2"` in a training configuration: "all" trains the oxRNA2 terms' parameters
/// only (none of the DNA ones the set carries unused), a term name its parameters, a name the DNA
/// terms share resolves to the one RNA term that has it; a `seq_dep_file` and `[custom.Term]`
/// overrides reach the simulators' and the objective's models; `oxgrad optimize` trains a
/// sequence-dependent strength end to end and writes it to its parameter files.
#[test]
fn training_configurations_take_oxrna2() {
    use oxgrad::config::ConfigFile;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(case_dir(SEQDEP).join("seq_dep_rna.txt"), dir.path().join("seq.txt")).unwrap();
    std::fs::write(dir.path().join("start.toml"), "[custom.RnaStacking]\nstck_A_A = 1.5\n").unwrap();
    let config = |train: &str, extra: &str| {
        format!(
            r#"
[model]
kind = "rna2"
temperature = "290K"
{extra}

[optimizer]
learning_rate = 0.05
steps = 1
train = [{train}]

[[simulator]]
name = "strand"
kind = "native"
copies = 1
strand = "AAAAAA"
md_steps = 2000
sample_every = 100

[[objective]]
name = "ends"
simulators = ["strand"]
observable = {{ kind = "end_to_end", strand = 0 }}
target = 1.5

[validation]
enabled = false
"#
        )
    };
    let plan = |train: &str, extra: &str| {
        ConfigFile::parse(&config(train, extra), &dir.path().join("c.toml")).and_then(ConfigFile::build).unwrap()
    };
    let all = plan("\"all\"", "").trained;
    assert!(all.iter().any(|n| n == "RnaStacking.eps_stack_base") && all.iter().any(|n| n == "a_stack_9"), "{all:?}");
    assert!(!all.iter().any(|n| n == "eps_stack_base" || n == "eps_backbone" || n == "kt"), "{all:?}");
    let stacking = plan("\"RnaStacking\"", "").trained;
    assert!(stacking.iter().all(|n| all.contains(n)) && stacking.len() == 23, "{stacking:?}");
    assert_eq!(plan("\"eps_backbone\"", "").trained, ["RnaFene.eps_backbone"]);
    // an override of a DNA parameter the model does not read is refused; a term's table is taken
    std::fs::write(dir.path().join("dna.toml"), "a_hb = 7.0\n").unwrap();
    let e = ConfigFile::parse(&config("\"all\"", "params = \"dna.toml\""), &dir.path().join("c.toml"))
        .and_then(ConfigFile::build)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains(
            "sets 'a_hb', a parameter of the DNA terms that the rna2 model does not use: write RnaHydrogenBonding.a_hb"
        ),
        "{e}"
    );
    std::fs::write(dir.path().join("term.toml"), "[RnaHydrogenBonding]\na_hb = 7.0\n").unwrap();
    let p = plan("\"all\"", "params = \"term.toml\"");
    assert_eq!(p.params.get("RnaHydrogenBonding.a_hb").unwrap(), 7.0);
    // a state parameter is named as such, an extra one is trained when named
    let e =
        ConfigFile::parse(&config("\"kt\"", ""), &dir.path().join("c.toml")).and_then(ConfigFile::build).err().unwrap();
    assert!(e.to_string().contains("property of the simulated state"), "{e}");
    // sequence-dependent, from the file, with an override of one strength
    let p = plan("\"stck_A_A\", \"hydr_G_U\"", "seq_dep_file = \"seq.txt\"\nparams = \"start.toml\"");
    assert_eq!(p.trained, ["stck_A_A", "hydr_G_U"]);
    assert_eq!(p.params.get("stck_A_A").unwrap(), 1.5);
    assert_eq!(p.params.get("stck_G_C").unwrap(), 1.67309, "STCK_G_C of the file");
    let oxgrad::config::plan::SimulatorKind::Native { copies } = &p.simulators[0].kind else { panic!("native") };
    let model = copies[0].model();
    assert_eq!(model.params().get("stck_A_A").unwrap(), 1.5);
    assert!((model.params().get("kt").unwrap() - 290.0 / 3000.0).abs() < 1e-15);
    assert_eq!(model.custom_terms().len(), 8);
    // end to end through the command line
    std::fs::write(dir.path().join("c.toml"), config("\"stck_A_A\"", "sequence_dependent = true")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["optimize", "c.toml", "-o", "run"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fin = std::fs::read_to_string(dir.path().join("run/params_final.toml")).unwrap();
    let start = std::fs::read_to_string(dir.path().join("run/params_initial.toml")).unwrap();
    let value = |text: &str| -> f64 {
        let t: toml::Table = toml::from_str(text).unwrap();
        t["custom"]["RnaStacking"]["stck_A_A"].as_float().unwrap()
    };
    assert!((value(&start) - 1.31585).abs() < 1e-12, "oxDNA's shipped STCK_A_A");
    assert!((value(&fin) - value(&start)).abs() > 1e-3, "trained: {} → {}", value(&start), value(&fin));
}
