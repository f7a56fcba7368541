//! Users' energy terms (`EnergyTerm`): energies against hand computation, forces and torques
//! against automatic differentiation of the same definition, parameter gradients against finite
//! differences, the parameter namespace (own, shared and qualified names, files), and native MD
//! that responds to a restraint.

use oxgrad::energy::terms::{Pair, Site};
use oxgrad::energy::{EnergyModel, EnergyTerm, NucleotideFrame, ParamSpec, Scope, TermParams, TermRegistry};
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::math::{Real, V3};
use oxgrad::objective::{DiffTre, Loss, Reference};
use oxgrad::observable::{Distance, Observable};
use oxgrad::optimize::Params;
use oxgrad::prelude::*;
use oxgrad::simulate::{MdConfig, NativeSimulator, Thermostat};
use std::sync::Arc;

mod common;

use common::terms::{Bump, Spring};

/// Bonded: aligns the base normals and pulls the stacking sites together (uses frames and sites).
#[derive(Debug)]
struct Align;

impl EnergyTerm for Align {
    fn name(&self) -> &str {
        "Align"
    }
    fn params(&self) -> Vec<ParamSpec> {
        // `eps_exc` is also a built-in name: this one is stored as `Align.eps_exc`
        vec![
            ParamSpec::new("k_align", 0.7, "energy", "normal alignment"),
            ParamSpec::new("eps_exc", 0.3, "energy / length²", "site pull"),
        ]
    }
    fn scope(&self) -> Scope {
        Scope::Bonded
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let r = pair.between(Site::Stack, Site::Stack);
        let align = (-pair.a[2].dot(&pair.b[2]) + 1.0) * p.get("k_align");
        align + r.dot(&r) * p.get("eps_exc")
    }
}

/// Single nucleotides: the base site held near a point.
#[derive(Debug)]
struct Trap {
    nucleotides: Vec<usize>,
    at: [f64; 3],
}

impl EnergyTerm for Trap {
    fn name(&self) -> &str {
        "Trap"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::new("k_trap", 0.4, "energy / length²", "stiffness")]
    }
    fn scope(&self) -> Scope {
        Scope::Nucleotides(self.nucleotides.clone())
    }
    fn nucleotide_energy<T: Real>(&self, p: &TermParams<T>, nt: &NucleotideFrame<T>) -> T {
        let x = &nt.r.x;
        let at = V3::new(x.cst(self.at[0]), x.cst(self.at[1]), x.cst(self.at[2]));
        let r = nt.r.add(&nt.sites[Site::Base as usize]).sub(&at);
        r.dot(&r) * p.get("k_trap") * 0.5
    }
}

/// Single nucleotides, each with a constant energy μ: the parameter on its own, which on tensors
/// is one value that must count once per nucleotide and frame.
#[derive(Debug)]
struct Potential;

impl EnergyTerm for Potential {
    fn name(&self) -> &str {
        "Potential"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::new("mu", 0.25, "energy", "energy per nucleotide")]
    }
    fn scope(&self) -> Scope {
        Scope::Nucleotides(vec![1, 4, 6])
    }
    fn nucleotide_energy<T: Real>(&self, p: &TermParams<T>, _: &NucleotideFrame<T>) -> T {
        p.get("mu")
    }
}

#[test]
fn a_constant_term_counts_once_per_nucleotide_and_frame() {
    let (top, conf) = duplex();
    let plain = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let model = plain.clone().with_term(Potential, 2.0).unwrap();
    let expected = plain.energy(&conf).unwrap() + 2.0 * 3.0 * 0.25;
    assert!((model.energy(&conf).unwrap() - expected).abs() < 1e-12);
    let (energies, g) = model.vjp(&[conf.clone(), conf], &[1.0, 0.5], &["mu".to_string()]).unwrap();
    for e in &energies {
        assert!((e - expected).abs() < 1e-9, "{energies:?} vs {expected}");
    }
    // ∂/∂μ of Σ_f c_f E_f = (1 + 0.5) · weight 2 · 3 nucleotides
    assert!((g.get("mu").unwrap() - 9.0).abs() < 1e-9, "{:?}", g.get("mu"));
}

fn duplex() -> (Topology, Configuration) {
    let (top, mut conf) =
        helix(&parse_sequence("ACGTTGCAGC").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    // move every nucleotide off the ideal helix a little, so no derivative vanishes by symmetry
    for (i, r) in conf.r.iter_mut().enumerate() {
        let t = i as f64;
        *r += Vec3::new(0.03 * (1.3 * t).sin(), 0.02 * (0.7 * t).cos(), 0.025 * (2.1 * t).sin());
    }
    for (i, a3) in conf.a3.iter_mut().enumerate() {
        let t = i as f64;
        *a3 = (*a3 + Vec3::new(0.08 * (0.9 * t).cos(), 0.06 * (1.7 * t).sin(), 0.0)).normalized();
    }
    (top, conf)
}

fn full_model(top: &Topology) -> EnergyModel {
    EnergyModel::new(top, ParamSet::dna2_defaults())
        .unwrap()
        .with_term(Spring { p: 0, q: 19 }, 1.0)
        .unwrap()
        .with_term(Align, 0.5)
        .unwrap()
        .with_term(Bump, 2.0)
        .unwrap()
        .with_term(Trap { nucleotides: vec![3, 12], at: [0.5, -0.2, 1.0] }, 1.5)
        .unwrap()
}

#[test]
fn energies_are_the_terms_definitions_weighted() {
    let (top, conf) = duplex();
    let plain = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let model = full_model(&top);
    let b = model.breakdown(&conf).unwrap();
    // by hand: the spring between the centres of 0 and 19
    let d = (conf.r[19] - conf.r[0]).norm();
    let spring = 0.5 * 3.0 * (d - 0.9) * (d - 0.9);
    assert!((b.custom("Spring").unwrap() - spring).abs() < 1e-12, "{:?} vs {spring}", b.custom("Spring"));
    // the trap on its own nucleotides 3 and 12 (base sites 0.4 a1 from the centres, a1 made
    // orthogonal to the perturbed a3 as the model reads it)
    let frame = oxgrad::energy::Frame::new(&conf);
    let trap: f64 = [3, 12]
        .iter()
        .map(|&i| {
            let r = conf.r[i] + frame.axes[i][0] * 0.4 - Vec3::new(0.5, -0.2, 1.0);
            0.5 * 0.4 * r.norm2()
        })
        .sum();
    assert!((b.custom("Trap").unwrap() - trap).abs() < 1e-12, "{:?} vs {trap}", b.custom("Trap"));
    let names: Vec<&str> = b.custom.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Spring", "Align", "Bump", "Trap"]);
    for (_, e) in &b.custom {
        assert!(*e > 0.0, "every term contributes: {:?}", b.custom);
    }
    let expected = plain.energy(&conf).unwrap()
        + b.custom("Spring").unwrap()
        + 0.5 * b.custom("Align").unwrap()
        + 2.0 * b.custom("Bump").unwrap()
        + 1.5 * b.custom("Trap").unwrap();
    assert!((model.energy(&conf).unwrap() - expected).abs() < 1e-10);
    // the tensor evaluation (the gradients' path) agrees with the native one
    let (e, _) = model.vjp(std::slice::from_ref(&conf), &[1.0], &[]).unwrap();
    assert!((e[0] - expected).abs() < 1e-9, "{} vs {expected}", e[0]);
    // and so does the force routine's energy
    assert!((model.forces(&conf).unwrap().energy - expected).abs() < 1e-9);
    // weights and removal by name
    let dropped = model.clone().with_weight("Bump", 0.0).unwrap().with_weight("Stacking", 0.0).unwrap();
    let expected = expected - 2.0 * b.custom("Bump").unwrap() - b.term(oxgrad::energy::TermId::Stacking);
    assert!((dropped.energy(&conf).unwrap() - expected).abs() < 1e-10);
    // a built-in term weighted, natively and on tensors
    let halved = model.clone().with_weight("Stacking", 0.5).unwrap();
    let (e, _) = halved.vjp(std::slice::from_ref(&conf), &[1.0], &[]).unwrap();
    let expected = model.energy(&conf).unwrap() - 0.5 * b.term(oxgrad::energy::TermId::Stacking);
    assert!((halved.energy(&conf).unwrap() - expected).abs() < 1e-10);
    assert!((e[0] - expected).abs() < 1e-9, "{} vs {expected}", e[0]);
    let e = model.with_weight("Bumpp", 1.0).unwrap_err().to_string();
    assert!(e.contains("Bump") && e.contains("Stacking"), "{e}");
}

/// A non-bonded term acts on pairs whose centres are closer than its cut-off: not at it.
#[test]
fn a_non_bonded_term_stops_at_its_cut_off() {
    let (top, mut conf) = helix(&parse_sequence("A").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let model = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap().with_term(Bump, 1.0).unwrap();
    let bump = |x: f64, conf: &mut Configuration| {
        conf.box_sides = Vec3::new(50.0, 50.0, 50.0);
        conf.r[0] = Vec3::new(0.0, 0.0, 0.0);
        conf.r[1] = Vec3::new(x, 0.0, 0.0);
        model.breakdown(conf).unwrap().custom("Bump").unwrap()
    };
    assert_eq!(bump(1.6, &mut conf), 0.0, "at the cut-off");
    assert_eq!((conf.r[1] - conf.r[0]).norm2(), 1.6 * 1.6, "exactly at it");
    assert!(bump(1.6 - 1e-9, &mut conf) > 0.0, "just inside");
}

#[test]
fn forces_and_torques_equal_autodiff_of_the_definition() {
    let (top, conf) = duplex();
    let plain = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let model = full_model(&top);
    let f = model.forces(&conf).unwrap();
    let f0 = plain.forces(&conf).unwrap();
    let (fa, ta) = model.forces_torques_autodiff(&conf).unwrap();
    let mut moved = 0.0_f64;
    for i in 0..top.len() {
        assert!((f.f[i] - fa[i]).norm() < 1e-8, "force {i}: {:?} vs {:?}", f.f[i], fa[i]);
        assert!((f.torque[i] - ta[i]).norm() < 1e-8, "torque {i}: {:?} vs {:?}", f.torque[i], ta[i]);
        moved = moved.max((f.f[i] - f0.f[i]).norm()).max((f.torque[i] - f0.torque[i]).norm());
    }
    assert!(moved > 0.05, "the user's terms change the forces ({moved})");
}

#[test]
fn parameter_gradients_equal_finite_differences() {
    let (top, conf) = duplex();
    let model = full_model(&top);
    let frames = vec![conf.clone(), {
        let mut c = conf.clone();
        c.r[5] += Vec3::new(0.05, 0.0, -0.03);
        // and one the trap holds, so each frame's nucleotides are its own
        c.r[12] += Vec3::new(-0.02, 0.04, 0.01);
        c
    }];
    let names: Vec<String> =
        ["Spring.k_spring", "r0_spring", "k_align", "Align.eps_exc", "eps_exc", "a_bump", "w_bump", "k_trap"]
            .map(String::from)
            .to_vec();
    let (energies, grads) = model.vjp(&frames, &[1.0, 0.5], &names).unwrap();
    for (e, c) in energies.iter().zip(&frames) {
        let native = model.energy(c).unwrap();
        assert!((e - native).abs() < 1e-9, "tensor {e} vs native {native}");
    }
    assert!((energies[0] - energies[1]).abs() > 1e-6, "the two frames differ: {energies:?}");
    // batching and checkpointing (mythos' map_batch_size, map_checkpoint) change nothing
    let mut batched = model.clone();
    batched.map_batch_size = 1;
    for checkpoint in [true, false] {
        batched.map_checkpoint = checkpoint;
        let (_, other) = batched.vjp(&frames, &[1.0, 0.5], &names).unwrap();
        for n in &names {
            let (a, b) = (grads.get(n).unwrap(), other.get(n).unwrap());
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{n}, checkpoint {checkpoint}: {a} vs {b}");
        }
    }
    for name in &names {
        let at = |h: f64| {
            let v = model.params().get(name).unwrap();
            let m = model.with_params(model.params().with_params([(name.as_str(), v + h)]).unwrap()).unwrap();
            m.energy(&frames[0]).unwrap() + 0.5 * m.energy(&frames[1]).unwrap()
        };
        let h = 1e-5;
        let fd = (at(h) - at(-h)) / (2.0 * h);
        // the gradient keeps the name it was asked for, qualified or not
        let g = grads.get(name).unwrap();
        assert!((g - fd).abs() < 1e-6 * fd.abs().max(1.0), "{name}: autodiff {g} vs finite differences {fd}");
        assert!(g.abs() > 1e-4, "{name}: the gradient is not trivially zero ({g})");
    }
}

#[test]
fn parameters_share_one_namespace_with_qualified_names() {
    let (top, conf) = duplex();
    let model = full_model(&top);
    let p = model.params();
    // own names stay plain, a clash with a built-in name is qualified, and qualified names always work
    assert_eq!(p.canonical("k_spring").unwrap(), "k_spring");
    assert_eq!(p.canonical("Spring.k_spring").unwrap(), "k_spring");
    assert_eq!(p.canonical("Align.eps_exc").unwrap(), "Align.eps_exc");
    assert_eq!(p.canonical("eps_exc").unwrap(), "eps_exc");
    assert_eq!(p.canonical("UnbondedExcludedVolume.eps_exc").unwrap(), "eps_exc");
    assert_eq!(p.get("Stacking.eps_stack_base").unwrap(), p.get("eps_stack_base").unwrap());
    assert_eq!(p.get("Align.eps_exc").unwrap(), 0.3);
    assert_eq!(p.get("eps_exc").unwrap(), ParamSet::dna2_defaults().get("eps_exc").unwrap());
    // the class decides what "all parameters" optimises
    let all = ParamSelection::All.resolve(p).unwrap();
    assert!(all.contains(&"k_spring".to_string()) && !all.contains(&"r0_spring".to_string()));
    let named = ParamSelection::Names(vec!["Spring.r0_spring".into()]).resolve(p).unwrap();
    assert_eq!(named, ["r0_spring"]);
    // strict: a name no term has is refused with suggestions
    let e = p.with_params([("k_sprin", 1.0)]).unwrap_err().to_string();
    assert!(e.contains("k_spring"), "{e}");
    // files keep the user's parameters, and a model built from a file keeps the file's values
    let changed = p.with_params([("k_trap", 0.9), ("Align.eps_exc", 0.25)]).unwrap();
    let text = changed.to_toml_string();
    assert!(text.contains("[custom.Trap]") && text.contains("[custom.Align]"), "{text}");
    let back = ParamSet::from_toml_str(&text, std::path::Path::new("p.toml")).unwrap();
    assert_eq!(back.get("Align.eps_exc").unwrap(), 0.25);
    // a model for such a file is built with its terms, then given the file's values
    let e = EnergyModel::new(&top, back.clone()).unwrap_err().to_string();
    assert!(
        e.contains("Some parameters were not used in any energy function: those of term(s) Spring, Align, Bump, Trap"),
        "{e}"
    );
    let rebuilt = full_model(&top).with_params(back).unwrap();
    // (the classes are the terms' own: they return when the terms are attached)
    assert!(rebuilt.params() == &changed, "the file and the terms rebuild the same parameters");
    let direct = model.with_params(changed).unwrap();
    assert_eq!(rebuilt.energy(&conf).unwrap(), direct.energy(&conf).unwrap());
    // a parameter set without the terms' parameters is refused, saying what to do
    let e = model.with_params(ParamSet::dna2_defaults()).unwrap_err().to_string();
    assert!(e.contains("k_spring") && e.contains("model.params()"), "{e}");
}

#[test]
fn bad_terms_are_refused_with_clear_errors() {
    let (top, _) = duplex();
    let m = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let e = m.clone().with_term(Spring { p: 0, q: 20 }, 1.0).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid pair of term 'Spring' = (0, 20): pairs are two different nucleotide indices below 20 (0-based, as in the topology)"
    );
    let e = m.clone().with_term(Trap { nucleotides: vec![25], at: [0.0; 3] }, 1.0).unwrap_err().to_string();
    assert!(e.contains("below 20"), "{e}");
    let e = m.clone().with_term(Align, f64::NAN).unwrap_err().to_string();
    assert!(e.contains("finite"), "{e}");
    let twice = m.clone().with_term(Align, 1.0).unwrap().with_term(Align, 1.0).unwrap_err().to_string();
    assert!(twice.contains("already has a term of this name"), "{twice}");
    #[derive(Debug)]
    struct Stacking;
    impl EnergyTerm for Stacking {
        fn name(&self) -> &str {
            "Stacking"
        }
        fn params(&self) -> Vec<ParamSpec> {
            vec![ParamSpec::new("k", 1.0, "", "")]
        }
        fn scope(&self) -> Scope {
            Scope::Bonded
        }
    }
    let e = m.with_term(Stacking, 1.0).unwrap_err().to_string();
    assert!(e.contains("built-in term"), "{e}");
}

/// Native MD with a spring that pulls the terminal base pair apart: the pair opens to near the
/// spring's rest length (and stays closed without it), and the trajectory is the same on one and
/// two threads.
#[test]
fn native_md_follows_a_restraint() {
    let (top, conf) = duplex();
    let mut params = ParamSet::dna2_defaults();
    params.set("kt", oxgrad::units::kt_from_str("300K").unwrap()).unwrap();
    // nucleotide 0 (5' end of strand 1) pairs with 19 (3' end of strand 2)
    let dist = |c: &Configuration| (c.r[19] - c.r[0]).norm();
    let start = dist(&conf);
    let model = EnergyModel::new(&top, params.clone()).unwrap().with_term(Spring { p: 0, q: 19 }, 1.0).unwrap();
    let target = start + 1.5;
    let model =
        model.with_params(model.params().with_params([("k_spring", 10.0), ("r0_spring", target)]).unwrap()).unwrap();
    let md = MdConfig {
        dt: 0.003,
        steps: 3000,
        thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
        verlet_skin: 0.05,
        seed: 5,
    };
    let sim = NativeSimulator::new("restrained", top.clone(), conf.clone(), params.clone(), md, 100)
        .unwrap()
        .with_model(model.clone())
        .unwrap();
    let set = sim.model().params().clone();
    let traj = sim.run_threads(&set, 11, 1).unwrap();
    let mean = traj.frames.iter().map(dist).sum::<f64>() / traj.frames.len() as f64;
    assert!((mean - target).abs() < 0.3, "mean distance {mean}, target {target}, start {start}");
    let two = sim.run_threads(&set, 11, 2).unwrap();
    assert_eq!(traj.frames.last().unwrap().r, two.frames.last().unwrap().r, "thread count changes the trajectory");
    // without the spring the ends stay apart
    let free = NativeSimulator::new("free", top, conf, params.clone(), sim.config().clone(), 100).unwrap();
    let traj = free.run_threads(&params, 11, 1).unwrap();
    let mean_free = traj.frames.iter().map(dist).sum::<f64>() / traj.frames.len() as f64;
    assert!((mean_free - start).abs() < 0.4, "free: {mean_free} (start {start})");
}

/// The registry that rebuilds the four test terms from a model file.
fn registry() -> TermRegistry {
    let index = |t: &toml::Table, k: &str| -> oxgrad::Result<usize> {
        t.get(k).and_then(toml::Value::as_integer).and_then(|x| usize::try_from(x).ok()).ok_or_else(|| {
            oxgrad::Error::invalid(format!("Spring setting '{k}'"), format!("{:?}", t.get(k)), "a nucleotide index")
        })
    };
    TermRegistry::new()
        .register("Spring", move |t| Ok(Spring { p: index(t, "p")?, q: index(t, "q")? }))
        .register("Align", |_| Ok(Align))
        .register("Bump", |_| Ok(Bump))
        .register("Trap", |_| Ok(Trap { nucleotides: vec![3, 12], at: [0.5, -0.2, 1.0] }))
}

#[test]
fn models_are_saved_and_loaded_whole() {
    let (top, conf) = duplex();
    let model = full_model(&top).with_weight("Stacking", 0.5).unwrap().with_weight("Spring", 2.0).unwrap();
    let mut model =
        model.with_params(model.params().with_params([("k_trap", 0.8), ("Align.eps_exc", 0.2)]).unwrap()).unwrap();
    model.map_batch_size = 7;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.toml");
    model.write(&path).unwrap();
    let back = EnergyModel::read(&top, &path, &registry()).unwrap();
    assert_eq!(back.energy(&conf).unwrap(), model.energy(&conf).unwrap());
    assert_eq!(back.params(), model.params());
    assert_eq!(back.term_weights(), model.term_weights());
    assert_eq!(back.custom_terms(), model.custom_terms());
    assert_eq!(back.map_batch_size, 7);
    assert_eq!(back.to_toml_string(), model.to_toml_string());

    // a term the reading program does not know, a misspelt key, bad settings: clear errors
    let text = model.to_toml_string();
    let e = EnergyModel::from_toml_str(&top, &text, &path, &TermRegistry::new()).unwrap_err().to_string();
    assert!(e.contains("term 'Spring'") && e.contains("TermRegistry::register") && e.contains("model.toml"), "{e}");
    let e = EnergyModel::from_toml_str(&top, &text.replace("map_checkpoint", "map_checkpointt"), &path, &registry())
        .unwrap_err()
        .to_string();
    assert!(e.contains("'model.map_checkpointt'") && e.contains("model.map_checkpoint,"), "{e}");
    let line = text.lines().position(|l| l.starts_with("map_checkpoint")).unwrap() + 1;
    assert!(e.contains(&format!("model.toml:{line}")), "{e}");
    let e = EnergyModel::from_toml_str(&top, &text.replace("q = 19", "q = -1"), &path, &registry())
        .unwrap_err()
        .to_string();
    assert!(e.contains("Spring setting 'q'"), "{e}");
    let e = EnergyModel::from_toml_str(&top, &text.replace("Stacking = 0.5", "Stacked = 0.5"), &path, &registry())
        .unwrap_err()
        .to_string();
    assert!(e.contains("Stacked") && e.contains("this model's terms are"), "{e}");
}

/// Reads the model's temperature: E = kT · k_t · |d| for one pair.
#[derive(Debug)]
struct Thermal;

impl EnergyTerm for Thermal {
    fn name(&self) -> &str {
        "Thermal"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::shared("kt"), ParamSpec::new("k_t", 0.7, "1 / length", "slope")]
    }
    fn scope(&self) -> Scope {
        Scope::Pairs(vec![(2, 15)])
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        pair.d.norm() * p.get("kt") * p.get("k_t")
    }
}

#[test]
fn shared_parameters_are_the_models_own() {
    let (top, conf) = duplex();
    let mut params = ParamSet::dna2_defaults();
    params.set("kt", oxgrad::units::kt_from_str("330K").unwrap()).unwrap();
    let model = EnergyModel::new(&top, params).unwrap().with_term(Thermal, 1.0).unwrap();
    let d = (conf.r[15] - conf.r[2]).norm();
    let e = model.breakdown(&conf).unwrap().custom("Thermal").unwrap();
    assert!((e - 0.11 * 0.7 * d).abs() < 1e-12, "{e} vs {}", 0.11 * 0.7 * d);
    assert!(!model.params().contains("Thermal.kt"), "the term does not own a kt");
    // one kT: changing it changes the term, and its gradient collects the term and the built-ins
    let at =
        |kt: f64| model.with_params(model.params().with_params([("kt", kt)]).unwrap()).unwrap().energy(&conf).unwrap();
    let warmer = model.with_params(model.params().with_params([("kt", 0.12)]).unwrap()).unwrap();
    assert!((warmer.breakdown(&conf).unwrap().custom("Thermal").unwrap() - 0.12 * 0.7 * d).abs() < 1e-12);
    let (_, g) = model.vjp(std::slice::from_ref(&conf), &[1.0], &["kt".to_string()]).unwrap();
    let h = 1e-6;
    let fd = (at(0.11 + h) - at(0.11 - h)) / (2.0 * h);
    let g = g.get("kt").unwrap();
    assert!((g - fd).abs() < 1e-6 * fd.abs().max(1.0), "autodiff {g} vs finite differences {fd}");
    // the term alone would give 0.7 |d|: the built-in terms' dependence on kT is in it too
    assert!((g - 0.7 * d).abs() > 1e-3, "the gradient collects the built-in terms' uses of kT: {g}");
    // a shared name the model lacks, and a term that would own a state parameter, are refused
    #[derive(Debug)]
    struct Wrong(bool);
    impl EnergyTerm for Wrong {
        fn name(&self) -> &str {
            "Wrong"
        }
        fn params(&self) -> Vec<ParamSpec> {
            vec![if self.0 { ParamSpec::shared("kT") } else { ParamSpec::new("salt_conc", 1.0, "M", "") }]
        }
        fn scope(&self) -> Scope {
            Scope::Bonded
        }
    }
    let base = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let e = base.clone().with_term(Wrong(true), 1.0).unwrap_err().to_string();
    assert!(e.contains("has no parameter of this name"), "{e}");
    let e = base.with_term(Wrong(false), 1.0).unwrap_err().to_string();
    assert!(e.contains("ParamSpec::shared(\"salt_conc\")"), "{e}");
}

/// A term with one parameter `k` (two of them share the name): E = k · |d|.
#[derive(Debug)]
struct Named(&'static str, usize, usize);

impl EnergyTerm for Named {
    fn name(&self) -> &str {
        self.0
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::new("k", 1.0, "energy / length", "slope")]
    }
    fn scope(&self) -> Scope {
        Scope::Pairs(vec![(self.1, self.2)])
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        pair.d.norm() * p.get("k")
    }
}

/// Two terms that declare the same name are both qualified, in whichever order they come, and a
/// file's values reach the right term whatever the order of its sections.
#[test]
fn a_name_two_terms_declare_is_qualified_for_both() {
    let (top, conf) = duplex();
    let base = || EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let ab = base().with_term(Named("A", 0, 5), 1.0).unwrap().with_term(Named("B", 1, 7), 1.0).unwrap();
    let ba = base().with_term(Named("B", 1, 7), 1.0).unwrap().with_term(Named("A", 0, 5), 1.0).unwrap();
    for m in [&ab, &ba] {
        assert!(!m.params().contains("k"), "an ambiguous plain name does not exist");
        assert_eq!(m.params().canonical("A.k").unwrap(), "A.k");
        assert_eq!(m.params().canonical("B.k").unwrap(), "B.k");
    }
    let set = ab.params().with_params([("A.k", 7.0), ("B.k", 5.0)]).unwrap();
    let text = set.to_toml_string();
    let file = ParamSet::from_toml_str(&text, std::path::Path::new("p.toml")).unwrap();
    let m = ba.with_params(file).unwrap();
    let b = m.breakdown(&conf).unwrap();
    let (da, db) = ((conf.r[5] - conf.r[0]).norm(), (conf.r[7] - conf.r[1]).norm());
    assert!((b.custom("A").unwrap() - 7.0 * da).abs() < 1e-12 && (b.custom("B").unwrap() - 5.0 * db).abs() < 1e-12);
    // one parameter under two names would split its gradient: refused
    let e = ab.vjp(std::slice::from_ref(&conf), &[1.0], &["eps_stack_base".into(), "Stacking.eps_stack_base".into()]);
    assert!(e.unwrap_err().to_string().contains("both name the same parameter"));
}

#[test]
fn a_term_is_checked_when_it_is_added() {
    let (top, _) = duplex();
    let m = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    // reads a parameter it does not declare: an error now, not a panic in the middle of a run
    #[derive(Debug)]
    struct Sloppy;
    impl EnergyTerm for Sloppy {
        fn name(&self) -> &str {
            "Sloppy"
        }
        fn params(&self) -> Vec<ParamSpec> {
            vec![ParamSpec::new("k_sloppy", 1.0, "", "")]
        }
        fn scope(&self) -> Scope {
            Scope::Nucleotides(vec![0])
        }
        fn nucleotide_energy<T: Real>(&self, p: &TermParams<T>, nt: &NucleotideFrame<T>) -> T {
            nt.r.norm() * p.get("k_sloppy") * p.get("r0_sloppy")
        }
    }
    let e = m.clone().with_term(Sloppy, 1.0).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid energy of term 'Sloppy' = r0_sloppy: it reads parameter(s) its params() does not declare (it declares: k_sloppy): add a ParamSpec for each (ParamSpec::shared for one the model already has)"
    );
    // a term without parameters still gets its name checked
    #[derive(Debug)]
    struct Debye;
    impl EnergyTerm for Debye {
        fn name(&self) -> &str {
            "Debye"
        }
        fn params(&self) -> Vec<ParamSpec> {
            Vec::new()
        }
        fn scope(&self) -> Scope {
            Scope::Bonded
        }
    }
    assert!(m.with_term(Debye, 1.0).unwrap_err().to_string().contains("built-in term"));
}

/// A misspelt parameter name on a branch the term's first `f64` evaluation does not take (here:
/// pairs beyond a switch distance) is an error when the term is added, not a panic when a pair
/// first reaches the branch in the middle of a run.
#[test]
fn a_misspelt_name_on_any_branch_is_an_error_when_the_term_is_added() {
    let (top, conf) = duplex();
    let m = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    #[derive(Debug)]
    struct Switched(&'static str);
    impl EnergyTerm for Switched {
        fn name(&self) -> &str {
            "Switched"
        }
        fn params(&self) -> Vec<ParamSpec> {
            vec![ParamSpec::new("k_near", 1.0, "", ""), ParamSpec::new("k_far", 0.5, "", "")]
        }
        fn scope(&self) -> Scope {
            Scope::NonBonded { cutoff: 3.0 }
        }
        fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
            let r = pair.d.norm();
            let cut = r.cst(3.0) - r.clone();
            // near pairs and far pairs have their own stiffness; `self.0` names the far one
            T::choose(&r.lt(&r.cst(1.0)), || cut.clone() * p.get("k_near"), || cut.clone() * p.get(self.0))
        }
    }
    let Err(e) = m.clone().with_term(Switched("k_fra"), 1.0) else { panic!("the misspelt name was accepted") };
    assert_eq!(
        e.to_string(),
        "invalid energy of term 'Switched' = k_fra: it reads parameter(s) its params() does not declare (it declares: k_near, k_far): add a ParamSpec for each (ParamSpec::shared for one the model already has)"
    );
    // spelt right, the term works on both branches
    let ok = m.with_term(Switched("k_far"), 1.0).unwrap();
    assert!(ok.breakdown(&conf).unwrap().custom("Switched").unwrap() > 0.0);
    ok.forces(&conf).unwrap();
}

/// The parallel force routine (above 2048 pairs) with users' terms gives the same forces, bit
/// for bit, as one thread.
#[test]
fn forces_with_users_terms_do_not_depend_on_threads() {
    let seq = "ACGTTGCAGCATGCAATCGGATCCAGTCAGTTGACCGTAGCATGCAAGTCCATGGAATTCGATCG";
    let seq = seq.repeat(2);
    let (top, conf) = helix(&parse_sequence(&seq).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let model = EnergyModel::new(&top, ParamSet::dna2_defaults())
        .unwrap()
        .with_term(Bump, 1.0)
        .unwrap()
        .with_term(Trap { nucleotides: vec![3, 40, 100], at: [1.0, 2.0, 3.0] }, 1.0)
        .unwrap();
    let frame = oxgrad::energy::Frame::new(&conf);
    let candidates = oxgrad::energy::neighbors::pairs_within(&frame.r, &frame.bx, model.cutoff());
    assert!(candidates.len() + model.bonded_pairs().len() > 2048, "{} pairs: the parallel path", candidates.len());
    let run = |threads: usize| {
        let mut out = oxgrad::energy::Forces::zeros(top.len());
        let mut ws = oxgrad::energy::ForceWorkspace::with_threads(threads).unwrap();
        model.accumulate_forces_with(&frame, &candidates, &mut out, &mut ws).unwrap();
        out
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one, two);
    let bumps = model.breakdown(&conf).unwrap().custom("Bump").unwrap();
    let e = model.energy(&conf).unwrap();
    assert!(bumps > 0.0 && (one.energy - e).abs() < 1e-9 * e.abs(), "{bumps}, {} vs {e}", one.energy);
}

/// A new base-pairing term: an extra attraction between the base sites of G–C pairs only.
#[derive(Debug)]
struct ExtraGc;

impl EnergyTerm for ExtraGc {
    fn name(&self) -> &str {
        "ExtraGc"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::new("eps_gc", 0.2, "energy", "depth"), ParamSpec::new("w_gc", 0.3, "length", "width")]
    }
    fn scope(&self) -> Scope {
        Scope::NonBonded { cutoff: 2.0 }
    }
    fn acts_on(&self, p: (usize, &oxgrad::system::Nucleotide), q: (usize, &oxgrad::system::Nucleotide)) -> bool {
        matches!((p.1.base, q.1.base), (Base::G, Base::C) | (Base::C, Base::G))
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let r = pair.between(Site::Base, Site::Base);
        let w = p.get("w_gc");
        -(-(r.dot(&r) / (w.clone() * w))).exp() * p.get("eps_gc")
    }
}

#[test]
fn a_base_pairing_term_acts_on_the_pairs_it_chooses() {
    let (top, conf) = duplex();
    let model = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap().with_term(ExtraGc, 1.0).unwrap();
    // by hand: every non-bonded G–C pair with centres closer than 2.0
    let frame = oxgrad::energy::Frame::new(&conf);
    let geo = oxgrad::energy::terms::Geometry::new(model.params(), oxgrad::params::ModelKind::Dna2);
    let mut expected = 0.0;
    let mut pairs = 0;
    for p in 0..top.len() {
        for q in p + 1..top.len() {
            let (a, b) = (&top.nucleotides[p], &top.nucleotides[q]);
            let gc = matches!((a.base, b.base), (Base::G, Base::C) | (Base::C, Base::G));
            if !gc || a.n3 == Some(q) || a.n5 == Some(q) || (conf.r[q] - conf.r[p]).norm() >= 2.0 {
                continue;
            }
            let base = |i: usize| frame.r[i] + geo.offsets(&frame.axes[i])[Site::Base as usize];
            let r2 = (base(q) - base(p)).norm2();
            expected += -0.2 * (-r2 / 0.09).exp();
            pairs += 1;
        }
    }
    assert!(pairs >= 4 && expected < -0.1, "{pairs} G–C pairs, {expected}");
    let got = model.breakdown(&conf).unwrap().custom("ExtraGc").unwrap();
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    let (e, g) = model.vjp(std::slice::from_ref(&conf), &[1.0], &["eps_gc".to_string()]).unwrap();
    assert!((e[0] - model.energy(&conf).unwrap()).abs() < 1e-9);
    assert!((g.get("eps_gc").unwrap() - expected / 0.2).abs() < 1e-9);
    let f = model.forces(&conf).unwrap();
    let (fa, ta) = model.forces_torques_autodiff(&conf).unwrap();
    for i in 0..top.len() {
        assert!((f.f[i] - fa[i]).norm() < 1e-8 && (f.torque[i] - ta[i]).norm() < 1e-8, "nucleotide {i}");
    }
}

/// The base-pairing attraction with a trainable strength per pair type (A–T, G–C), chosen by
/// `pair_strength`; `typo` names a strength the term does not declare.
#[derive(Debug)]
struct PairStrengths {
    typo: bool,
}

impl EnergyTerm for PairStrengths {
    fn name(&self) -> &str {
        "PairStrengths"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::new("s_at", 0.1, "energy", "A–T depth"),
            ParamSpec::new("s_gc", 0.2, "energy", "G–C depth"),
            ParamSpec::new("w_pair", 0.3, "length", "width"),
        ]
    }
    fn scope(&self) -> Scope {
        Scope::NonBonded { cutoff: 2.0 }
    }
    fn pair_strength(&self, p: Base, q: Base) -> Option<&str> {
        match (p, q) {
            (Base::A, Base::T) | (Base::T, Base::A) => Some(if self.typo { "s_AT" } else { "s_at" }),
            (Base::G, Base::C) | (Base::C, Base::G) => Some("s_gc"),
            _ => None,
        }
    }
    fn acts_on(&self, p: (usize, &oxgrad::system::Nucleotide), q: (usize, &oxgrad::system::Nucleotide)) -> bool {
        self.pair_strength(p.1.base, q.1.base).is_some()
    }
    fn pair_energy<T: Real>(&self, p: &TermParams<T>, pair: &Pair<T>) -> T {
        let r = pair.between(Site::Base, Site::Base);
        let w = p.get("w_pair");
        -(-(r.dot(&r) / (w.clone() * w))).exp()
    }
}

/// Strengths per pair type multiply each pair's energy: with the A–T strength at 0 the term is
/// the G–C-only term above; its energy is linear in each strength (gradient = the energy of that
/// type's pairs over its strength); forces follow; an undeclared strength is refused.
#[test]
fn pair_strengths_are_parameters_chosen_by_bases() {
    let (top, conf) = duplex();
    let plain = EnergyModel::new(&top, ParamSet::dna2_defaults()).unwrap();
    let model = plain.clone().with_term(PairStrengths { typo: false }, 1.0).unwrap();
    let gc_only = model.with_params(model.params().with_params([("s_at", 0.0)]).unwrap()).unwrap();
    let extra = plain.clone().with_term(ExtraGc, 1.0).unwrap().breakdown(&conf).unwrap().custom("ExtraGc").unwrap();
    let gc = gc_only.breakdown(&conf).unwrap().custom("PairStrengths").unwrap();
    assert!(extra < -0.1 && (gc - extra).abs() < 1e-12, "{gc} vs {extra}");
    let total = model.breakdown(&conf).unwrap().custom("PairStrengths").unwrap();
    let at = total - gc;
    assert!(at < -0.05, "A–T pairs attract: {at}");
    let names = ["s_at".to_string(), "s_gc".to_string()];
    let (_, g) = model.vjp(std::slice::from_ref(&conf), &[1.0], &names).unwrap();
    assert!((g.get("s_at").unwrap() - at / 0.1).abs() < 1e-9, "{:?}", g.get("s_at"));
    assert!((g.get("s_gc").unwrap() - gc / 0.2).abs() < 1e-9, "{:?}", g.get("s_gc"));
    let f = model.forces(&conf).unwrap();
    let (fa, ta) = model.forces_torques_autodiff(&conf).unwrap();
    for i in 0..top.len() {
        assert!((f.f[i] - fa[i]).norm() < 1e-8 && (f.torque[i] - ta[i]).norm() < 1e-8, "nucleotide {i}");
    }
    let e = plain.with_term(PairStrengths { typo: true }, 1.0).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid pair strength of term 'PairStrengths' for bases A–T = s_AT: pair_strength names one of the term's own parameters (it declares: s_at, s_gc, w_pair)"
    );
}

/// DiffTRe takes a model with a user's term: on the 8-bp oxDNA reference trajectory, the
/// gradient of the reweighted loss with respect to the term's parameters equals central
/// differences, and a small step along it lowers the loss by what it predicts.
#[test]
fn difftre_trains_a_users_term() {
    let dir = common::case_dir("dna1-avg-8bp-T296");
    let (top, _) = Topology::read(dir.join("init.top")).unwrap();
    let frames: Vec<Configuration> = oxgrad::io::TrajectoryReader::open(dir.join("trajectory.dat"), top.len())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut params = ParamSet::dna1_defaults();
    params.set("kt", oxgrad::units::kt_from_str("296.15K").unwrap()).unwrap();
    let kt = params.value("kt");
    let n = frames.len();
    let traj = oxgrad::trajectory::Trajectory::new(frames, Some(vec![kt; n])).unwrap();
    let model = EnergyModel::new(&top, params).unwrap().with_term(Spring { p: 0, q: 15 }, 1.0).unwrap();
    let obs: Vec<Arc<dyn Observable>> = vec![Arc::new(Distance::between(&top, 0, 15).unwrap())];
    let d = DiffTre::new("d", vec![], model, obs, Loss::squared(2.0)).unwrap();
    let theta0: Params = [("Spring.k_spring".to_string(), 3.0), ("r0_spring".to_string(), 0.9)].into();
    let eval = |t: &Params| d.evaluate(std::slice::from_ref(&traj), Reference::Params(&theta0), t).unwrap();
    let theta: Params = [("Spring.k_spring".to_string(), 8.0), ("r0_spring".to_string(), 1.3)].into();
    let e = eval(&theta);
    assert!(e.n_eff_min < 0.99 && e.n_eff_min > 0.2, "n_eff {}", e.n_eff_min);
    common::check_gradient_and_step(&theta, e.loss, &e.grads, |t| eval(t).loss);
    for name in theta.keys() {
        let g = e.grads.get(name).unwrap();
        assert!(g.abs() > 1e-4, "d/d{name} = {g} is not trivially zero");
    }
}
