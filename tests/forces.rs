//! The native engine's analytic forces and torques (dual-number factor derivatives, analytic
//! feature gradients) against oxDNA's and against autodiff of the tensor model.

mod common;

use common::case_dir;
use oxgrad::energy::{ModelSetup, TermId};
use oxgrad::io::{Configuration, InputFile, TrajectoryReader};

#[test]
fn native_forces_match_oxdna() {
    for case in [
        "dna1-avg-8bp-T296",
        "dna2-avg-20bp-T300-salt0.5",
        "dna1-seqdep-20bp-T300",
        "dna2-seqdep-16bp-T330-salt0.2",
        "extra-dna1-avg-nicked-20bp-T300",
        "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
    ] {
        let dir = case_dir(case);
        let s = ModelSetup::from_input(&InputFile::read(dir.join("input_forces_nomesh")).unwrap()).unwrap();
        let frame = Configuration::read(dir.join("frame0.dat"), s.topology.len()).unwrap();
        let f = s.model.forces(&frame).unwrap();
        let text = std::fs::read_to_string(dir.join("forces_torques_frame0_nomesh.tsv")).unwrap();
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split('\t').collect();
            let i: usize = c[0].parse().unwrap();
            for k in 0..3 {
                for (got, col) in [(f.f[i][k], 1 + k), (f.torque[i][k], 4 + k)] {
                    let want: f64 = c[col].parse().unwrap();
                    let ok = (got - want).abs() <= 1e-4 * want.abs() || (got - want).abs() <= 1e-5;
                    assert!(ok, "{case} nucleotide {i} column {col}: native {got}, oxDNA {want}");
                }
            }
        }
        let e = s.model.energy(&frame).unwrap();
        assert!((f.energy - e).abs() < 1e-12 * e.abs(), "{case}: force pass energy {} vs {e}", f.energy);
    }
}

#[test]
fn native_forces_equal_autodiff_forces_on_every_case() {
    let mut overlapping = 0;
    for case in [
        "dna1-avg-8bp-T296",
        "dna1-seqdep-20bp-T300",
        "dna2-avg-20bp-T300-salt0.5",
        "extra-dna1-avg-nicked-20bp-T300",
        "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
        "dna2-seqdep-16bp-T330-salt0.2",
    ] {
        let dir = case_dir(case);
        let s = ModelSetup::from_input(&InputFile::read(dir.join("input_analysis_nomesh")).unwrap()).unwrap();
        let frames = TrajectoryReader::open(dir.join("trajectory.dat"), s.topology.len()).unwrap();
        for (k, frame) in frames.enumerate() {
            let frame = frame.unwrap();
            // every fourth frame, and every frame where bonded neighbours overlap (the only
            // ones where bonded excluded volume acts: frame 1 of the dense case)
            let bonded_excl = s.model.breakdown(&frame).unwrap().term(TermId::BondedExcludedVolume);
            if k % 4 != 0 && bonded_excl == 0.0 {
                continue;
            }
            overlapping += usize::from(bonded_excl > 0.0);
            let native = s.model.forces(&frame).unwrap();
            let e = s.model.energy(&frame).unwrap();
            assert!((native.energy - e).abs() < 1e-12 * e.abs(), "{case} frame {k}: {} vs {e}", native.energy);
            let (f, t) = s.model.forces_torques_autodiff(&frame).unwrap();
            let scale = native.f.iter().chain(&native.torque).map(|v| v.norm()).fold(0.0, f64::max);
            for i in 0..s.topology.len() {
                assert!(
                    (native.f[i] - f[i]).norm() < 1e-9 * scale,
                    "{case} force {i}: {:?} vs {:?}",
                    native.f[i],
                    f[i]
                );
                assert!(
                    (native.torque[i] - t[i]).norm() < 1e-9 * scale,
                    "{case} torque {i}: {:?} vs {:?}",
                    native.torque[i],
                    t[i]
                );
            }
        }
    }
    assert!(overlapping > 0, "a frame with bonded excluded volume is checked");
}

/// Coaxial stacking where its φ3 and φ4 factors bend (cos φ < 0, which the reference systems
/// never reach): two one-nucleotide strands stacked as across a nick, each twisted about its a3
/// around its stacking site. Native forces and torques equal autodiff's, and each φ parameter
/// changes the energy (so both factors, and their torques, are live).
#[test]
fn coaxial_phi_torques_match_autodiff_where_the_phi_factors_bend() {
    use oxgrad::energy::{EnergyModel, TermId};
    use oxgrad::generate::{helix, parse_sequence, Shape};
    use oxgrad::geometry::rotate;
    use oxgrad::params::ParamSet;
    use oxgrad::system::{Topology, TopologyFormat};
    let (_, ideal) = helix(&parse_sequence("AC").unwrap(), Shape::Strand, None, TopologyFormat::Classic).unwrap();
    let (nicked, _) = Topology::parse("2 2\n1 A -1 -1\n2 C -1 -1\n", std::path::Path::new("nicked.top")).unwrap();
    let mut p = ParamSet::dna1_defaults();
    p.set("kt", 0.1).unwrap();
    let model = EnergyModel::new(&nicked, p.clone()).unwrap();
    let coax = |m: &EnergyModel, c: &Configuration| m.breakdown(c).unwrap().term(TermId::CoaxialStacking);
    let bent = |c: &Configuration, name: &str| {
        let mut q = p.clone();
        q.set(name, p.value(name) * 1.1).unwrap();
        (coax(&EnergyModel::new(&nicked, q).unwrap(), c) - coax(&model, c)).abs() > 1e-6
    };
    let mut checked = 0;
    for i in -12..=12 {
        for j in -12..=12 {
            let mut c = ideal.clone();
            for (k, angle) in [(0, 0.12 * f64::from(i)), (1, 0.12 * f64::from(j))] {
                let a1 = rotate(c.a1[k], c.a3[k], angle);
                c.r[k] = c.r[k] + (c.a1[k] - a1) * 0.34;
                c.a1[k] = a1;
            }
            if coax(&model, &c) > -1e-3 || !bent(&c, "a_coax_3p") || !bent(&c, "a_coax_4p") {
                continue;
            }
            let native = model.forces(&c).unwrap();
            let (f, t) = model.forces_torques_autodiff(&c).unwrap();
            let scale = native.f.iter().chain(&native.torque).map(|v| v.norm()).fold(0.0, f64::max);
            for k in 0..2 {
                assert!(
                    (native.f[k] - f[k]).norm() < 1e-9 * scale,
                    "twist ({i}, {j}) force {k}: {:?} vs {:?}",
                    native.f[k],
                    f[k]
                );
                assert!(
                    (native.torque[k] - t[k]).norm() < 1e-9 * scale,
                    "twist ({i}, {j}) torque {k}: {:?} vs autodiff {:?}",
                    native.torque[k],
                    t[k]
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} twists with both φ factors bent and the pair coaxially stacked");
}

/// Coaxial stacking where the other references never go, against oxDNA
/// (`extra-coax-twisted-pairs`): two one-nucleotide strands twisted about their a3 so that θ1
/// comes near π (the 2π − θ1 image of oxDNA1, oxDNA2's f6 side) and the φ3/φ4 factors bend.
/// Energies per term for both models on every frame; forces and torques where oxDNA's six printed
/// digits still resolve them (no frame whose largest force is above 100, i.e. no overlapping
/// backbones).
#[test]
fn coaxial_stacking_of_twisted_pairs_matches_oxdna() {
    let dir = case_dir("extra-coax-twisted-pairs");
    for (input, energies, forces) in [
        ("input_analysis_nomesh", "energies_nomesh.tsv", "forces_torques_nomesh.tsv"),
        ("input_analysis_dna2_nomesh", "energies_dna2_nomesh.tsv", "forces_torques_dna2_nomesh.tsv"),
    ] {
        let s = ModelSetup::from_input(&InputFile::read(dir.join(input)).unwrap()).unwrap();
        let frames: Vec<Configuration> =
            TrajectoryReader::open(dir.join("trajectory.dat"), 2).unwrap().map(Result::unwrap).collect();
        let text = std::fs::read_to_string(dir.join(energies)).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
        let mut coax_frames = 0;
        for (line, frame) in text.lines().skip(1).zip(&frames) {
            let c: Vec<&str> = line.split('\t').collect();
            let b = s.model.breakdown(frame).unwrap();
            for t in oxgrad::energy::TermId::ALL {
                let Some(col) = header.iter().position(|h| *h == t.header()) else { continue };
                let want: f64 = c[col].parse().unwrap();
                let got = b.term(t) / 2.0;
                // oxDNA keeps some constants in single precision: ~2e-7 relative, up to 1e-6
                // where a factor sits near the end of its smooth tail
                assert!(
                    (got - want).abs() <= 2e-6 * want.abs() + 1e-9,
                    "{input} frame {}: {t:?} {got} vs oxDNA {want}",
                    c[0]
                );
                if t == oxgrad::energy::TermId::CoaxialStacking && want != 0.0 {
                    coax_frames += 1;
                }
            }
        }
        assert!(coax_frames >= 10, "{input}: coaxial stacking in {coax_frames} frames");
        let text = std::fs::read_to_string(dir.join(forces)).unwrap();
        let rows: Vec<Vec<f64>> =
            text.lines().skip(1).map(|l| l.split('\t').take(8).map(|x| x.parse().unwrap()).collect()).collect();
        let mut compared = 0;
        for (k, frame) in frames.iter().enumerate() {
            let mine: Vec<&Vec<f64>> = rows.iter().filter(|r| r[0] as usize == k).collect();
            if mine.iter().any(|r| r[2..5].iter().any(|x| x.abs() > 100.0)) {
                continue;
            }
            let f = s.model.forces(frame).unwrap();
            // the force routine's energy is the model's (coaxial stacking included)
            let e = s.model.energy(frame).unwrap();
            assert!((f.energy - e).abs() <= 1e-10, "{input} frame {k}: {} vs {e}", f.energy);
            for r in mine {
                let i = r[1] as usize;
                for a in 0..3 {
                    for (got, want) in [(f.f[i][a], r[2 + a]), (f.torque[i][a], r[5 + a])] {
                        assert!(
                            (got - want).abs() <= 1e-4 * want.abs() + 1e-5,
                            "{input} frame {k} nucleotide {i}: {got} vs oxDNA {want}"
                        );
                    }
                }
            }
            compared += 1;
        }
        assert!(compared >= 6, "{input}: forces compared on {compared} frames");
    }
}

/// Overlaps no reference frame reaches, through the force routine (whose support tests skip
/// pairs before computing them) and the model's energy alike: two nucleotides almost on top of
/// each other (oxDNA2, every term that can act at once), and two whose backbones
/// overlap while their bases point apart (excluded volume the only term acting, in oxDNA1).
#[test]
fn the_force_routine_sees_overlaps_the_references_never_reach() {
    use oxgrad::energy::EnergyModel;
    use oxgrad::generate::{helix, parse_sequence, Shape};
    use oxgrad::geometry::Vec3;
    use oxgrad::params::ParamSet;
    use oxgrad::system::TopologyFormat;
    let (top, mut conf) = helix(&parse_sequence("A").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    conf.box_sides = Vec3::new(20.0, 20.0, 20.0);
    let x = Vec3::new(1.0, 0.0, 0.0);
    let z = Vec3::new(0.0, 0.0, 1.0);
    let cases = [
        ("on top of each other", Vec3::new(0.1, 0.05, 0.02), x, ParamSet::dna2_defaults()),
        ("backbones only", Vec3::new(-0.8, 0.3, 0.0), x * -1.0, ParamSet::dna1_defaults()),
    ];
    for (what, at, a1, params) in cases {
        conf.r[0] = Vec3::new(5.0, 5.0, 5.0);
        conf.a1[0] = x;
        conf.a3[0] = z;
        conf.r[1] = conf.r[0] + at;
        conf.a1[1] = a1;
        conf.a3[1] = z;
        let model = EnergyModel::new(&top, params).unwrap();
        let b = model.breakdown(&conf).unwrap();
        let excl = b.term(TermId::UnbondedExcludedVolume);
        assert!(excl > 0.0, "{what}: excluded volume acts ({excl})");
        let e = model.energy(&conf).unwrap();
        let f = model.forces(&conf).unwrap();
        assert!((f.energy - e).abs() <= 1e-12 * e.abs(), "{what}: {} vs {e}", f.energy);
        if what == "backbones only" {
            assert_eq!(e, excl, "{what}: nothing but excluded volume acts");
        }
        let (fa, ta) = model.forces_torques_autodiff(&conf).unwrap();
        let scale = f.f.iter().chain(&f.torque).map(|v| v.norm()).fold(0.0, f64::max);
        for i in 0..2 {
            assert!(
                (f.f[i] - fa[i]).norm() < 1e-9 * scale && (f.torque[i] - ta[i]).norm() < 1e-9 * scale,
                "{what} {i}"
            );
        }
    }
}
