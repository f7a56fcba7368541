//! Observables against values worked out by hand on the ideal generated helix, and against a
//! second, independent computation (written here from the definitions) on thermal frames of an
//! oxDNA trajectory; `oxgrad observe` on the same frames.

mod common;

use oxgrad::generate::{helix, parse_sequence, Shape, CM_AXIS_DISTANCE, RISE, TWIST};
use oxgrad::io::{Configuration, TrajectoryReader};
use oxgrad::observable::*;
use oxgrad::params::ParamSet;
use oxgrad::system::{Topology, TopologyFormat};

const NM: f64 = 0.8518;

fn one(obs: &dyn Observable, conf: &Configuration, params: &ParamSet) -> f64 {
    value(obs, &[obs.features(conf).unwrap()], &[1.0], params)
}

#[test]
fn ideal_helix_values_worked_out_by_hand() {
    let n = 10;
    let (top, conf) =
        helix(&parse_sequence("ACGTTGCAAT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let (p1, p2) = (ParamSet::dna1_defaults(), ParamSet::dna2_defaults());
    let bp = BasePairs::duplex(&top, 0).unwrap();
    let close = |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{what}: {a} vs {b}");
    close(one(&Rise::new(bp.clone()).unwrap(), &conf, &p1), RISE * NM, "rise 0.332 nm");
    close(one(&Twist::new(bp.clone()).unwrap(), &conf, &p1), 35.9, "twist 35.9°");
    close(one(&Pitch::new(bp.clone()).unwrap(), &conf, &p1), 360.0 / 35.9, "pitch 10.03 bp/turn");
    assert!(one(&PropellerTwist::new(bp.clone()), &conf, &p1).abs() < 1e-6, "flat base pairs");
    // oxDNA1 backbone r − 0.4 a1: 0.6 + 0.4 from the axis on both sides, plus σ_backbone 0.7
    close(one(&Diameter::new(bp.clone(), &p1), &conf, &p1), (2.0 * 1.0 + 0.7) * NM, "oxDNA1 diameter");
    // oxDNA2 backbone r − 0.34 a1 + 0.3408 a2: the a2 parts are parallel in a pair, 2 × 0.94 apart
    close(one(&Diameter::new(bp.clone(), &p2), &conf, &p2), (2.0 * 0.94 + 0.7) * NM, "oxDNA2 diameter");
    // partners are 2 × 0.6 apart
    let (i, j) = bp.pairs()[3];
    close(one(&Distance::between(&top, i, j).unwrap(), &conf, &p1), 2.0 * CM_AXIS_DISTANCE * NM, "pair distance");
    // strand 0 from base pair 0 to 9: rise 9·RISE, chord 2·0.6·sin(9·TWIST/2)
    let h = 9.0 * RISE;
    let chord = 2.0 * CM_AXIS_DISTANCE * (9.0 * TWIST / 2.0).sin();
    close(one(&Distance::end_to_end(&top, 0).unwrap(), &conf, &p1), (h * h + chord * chord).sqrt() * NM, "end-to-end");
    // a straight helix has perfectly correlated tangents: infinite persistence length
    let lp = one(&PersistenceLength::new(BasePairs::duplex(&top, 0).unwrap(), None).unwrap(), &conf, &p1);
    assert!(lp.is_infinite() && lp > 0.0, "{lp}");
    // the radius of gyration of strand 0 from the pair-distance form Rg² = Σ_ij |r_i − r_j|² / (2n²)
    let s0 = &top.strands[0].nucleotides;
    let pairs: f64 =
        s0.iter().flat_map(|&a| s0.iter().map(move |&b| (a, b))).map(|(a, b)| (conf.r[a] - conf.r[b]).norm2()).sum();
    close(
        one(&RadiusOfGyration::strand(&top, 0).unwrap(), &conf, &p1),
        (pairs / (2.0 * (n * n) as f64)).sqrt() * NM,
        "Rg",
    );
    // a rigid motion of the helix is at zero RMSD from it
    let mut moved = conf.clone();
    let axis = oxgrad::geometry::Vec3::new(0.2, 0.9, -0.3).normalized();
    for k in 0..moved.len() {
        moved.r[k] = oxgrad::geometry::rotate(moved.r[k], axis, 0.8) + oxgrad::geometry::Vec3::new(3.0, 1.0, -2.0);
    }
    assert!(one(&Rmsd::new(conf.clone(), None).unwrap(), &moved, &p1) < 1e-6);
}

/// Plain-array helpers for the independent computation.
type V = [f64; 3];
fn sub(a: V, b: V) -> V {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V, b: V) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: V, b: V) -> V {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
fn unit(a: V) -> V {
    let n = dot(a, a).sqrt();
    [a[0] / n, a[1] / n, a[2] / n]
}

fn thermal() -> (Topology, Vec<Configuration>) {
    let dir = common::case_dir("dna1-seqdep-20bp-T300");
    let (top, _) = Topology::read(dir.join("init.top")).unwrap();
    let frames = TrajectoryReader::open(dir.join("trajectory.dat"), top.len()).unwrap().map(Result::unwrap).collect();
    (top, frames)
}

#[test]
fn thermal_frames_agree_with_an_independent_computation() {
    let (top, frames) = thermal();
    let p = ParamSet::dna1_defaults();
    let ex = 2;
    let bp = BasePairs::duplex(&top, ex).unwrap();
    // the pairs, independently: the k-th of strand 0 from its 5' end with the k-th of strand 1 from its 3' end
    let s0 = &top.strands[0].nucleotides;
    let s1: Vec<usize> = top.strands[1].nucleotides.iter().rev().copied().collect();
    let pairs: Vec<(usize, usize)> = (ex..s0.len() - ex).map(|k| (s0[k], s1[k])).collect();
    assert_eq!(bp.pairs(), &pairs[..]);
    let rise = Rise::new(bp.clone()).unwrap();
    let twist = Twist::new(bp.clone()).unwrap();
    let prop = PropellerTwist::new(bp.clone());
    for c in &frames {
        let r = |i: usize| c.r[i].0;
        let a3 = |i: usize| {
            // oxDNA's repair: a3 normalised (a1 does not change a3)
            unit(c.a3[i].0)
        };
        let (mut rises, mut twists, mut props) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &(i, j)) in pairs.iter().enumerate() {
            let cosang = dot(a3(i), a3(j)).clamp(-1.0, 1.0);
            props.push(180.0 - cosang.acos().to_degrees());
            if k + 1 == pairs.len() {
                continue;
            }
            let (i2, j2) = pairs[k + 1];
            let mid = |a: usize, b: usize| {
                let (x, y) = (r(a), r(b));
                [(x[0] + y[0]) / 2.0, (x[1] + y[1]) / 2.0, (x[2] + y[2]) / 2.0]
            };
            let n = unit({
                let (u, w) = (sub(a3(j), a3(i)), sub(a3(j2), a3(i2)));
                [u[0] + w[0], u[1] + w[1], u[2] + w[2]]
            });
            rises.push(dot(sub(mid(i2, j2), mid(i, j)), n));
            let perp = |d: V| {
                let s = dot(d, n);
                [d[0] - s * n[0], d[1] - s * n[1], d[2] - s * n[2]]
            };
            let (u, w) = (unit(perp(sub(r(j), r(i)))), unit(perp(sub(r(j2), r(i2)))));
            let angle = dot(u, w).clamp(-1.0, 1.0).acos().to_degrees();
            twists.push(if dot(cross(u, w), n) >= 0.0 { angle } else { -angle });
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let close = |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{what}: {a} vs {b}");
        close(one(&rise, c, &p), mean(&rises) * NM, "rise");
        close(one(&twist, c, &p), mean(&twists), "twist");
        close(one(&prop, c, &p), mean(&props), "propeller twist");
        assert!(mean(&rises) * NM > 0.3 && mean(&twists) > 30.0 && mean(&props) > 5.0, "thermal B-like values");
    }
}

#[test]
#[cfg(feature = "cli")] // runs the `oxgrad` program
fn observe_prints_every_frame_and_the_mean_with_its_error() {
    let dir = common::case_dir("dna1-seqdep-20bp-T300");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["observe", "rise", "--exclude-end-pairs", "2", "-t"])
        .arg(dir.join("init.top"))
        .arg("--trajectory")
        .arg(dir.join("trajectory.dat"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "frame\tstep\trise [nm]");
    let (top, frames) = thermal();
    assert_eq!(lines.len(), frames.len() + 2);
    let rise = Rise::new(BasePairs::duplex(&top, 2).unwrap()).unwrap();
    let p = ParamSet::dna1_defaults();
    let per_frame: Vec<f64> = frames.iter().map(|c| one(&rise, c, &p)).collect();
    for (k, l) in lines[1..=frames.len()].iter().enumerate() {
        let cols: Vec<&str> = l.split('\t').collect();
        assert_eq!(cols[1], frames[k].step.to_string());
        assert!((cols[2].parse::<f64>().unwrap() - per_frame[k]).abs() < 1e-12);
    }
    let json: serde_json::Value = serde_json::from_str(lines[frames.len() + 1]).unwrap();
    let mean = per_frame.iter().sum::<f64>() / per_frame.len() as f64;
    assert!((json["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert_eq!(json["frames"], frames.len());
    assert_eq!(json["unit"], "nm");
    // with 10 frames the error is at least σ/√10
    let sd = (per_frame.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
    assert!(json["std_err"].as_f64().unwrap() >= sd / 10f64.sqrt() * (1.0 - 1e-9));
    // 10 frames cannot hold 8 blocks of 10 τ_int: the error comes from single frames, flagged
    assert_eq!(
        (json["reliable"].as_bool(), json["block_len"].as_u64(), json["blocks"].as_u64()),
        (Some(false), Some(1), Some(10))
    );
    assert!(json["tau_int"].as_f64().unwrap() > 0.0, "{json}");
    // an unknown kind is refused with the closest valid one
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["observe", "rize", "-t", "x", "--trajectory", "y"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("did you mean \"rise\""),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
