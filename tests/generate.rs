//! `oxgrad generate` builds an ideal helix: bonded neighbours at the FENE rest length, paired bases
//! facing each other, files that read back in both topology formats.

use oxgrad::geometry::{orthonormalize, Vec3};
use oxgrad::io::Configuration;
use oxgrad::params::ParamSet;
use oxgrad::system::{Topology, TopologyFormat};
use std::path::Path;
use std::process::Command;

fn oxgrad(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_oxgrad")).args(args).output().expect("the oxgrad binary runs")
}

fn generate(dir: &Path, what: &str, seq: &str, format: &str) -> (Topology, Configuration) {
    let out = oxgrad(&["generate", what, "--sequence", seq, "--topology-format", format, "-o", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (top, f) = Topology::read(dir.join("init.top")).unwrap();
    assert_eq!(format!("{f:?}").to_lowercase(), format);
    let conf = Configuration::read(dir.join("init.dat"), top.len()).unwrap();
    (top, conf)
}

/// Backbone sites of both models: oxDNA1 r + c·a1; oxDNA2 r + x·a1 + y·a2 (grooved).
fn backbone(p: &ParamSet, conf: &Configuration, i: usize, dna2: bool) -> Vec3 {
    let (a1, a2, _) = orthonormalize(conf.a1[i], conf.a3[i]);
    if dna2 {
        conf.r[i] + a1 * p.value("com_to_backbone_x") + a2 * p.value("com_to_backbone_y")
    } else {
        conf.r[i] + a1 * p.value("com_to_backbone")
    }
}

#[test]
fn duplex_bonds_at_fene_rest_length_and_bases_face_each_other() {
    let seq = "ACGTTGCAATGCCGTA";
    for format in ["classic", "new"] {
        let dir = tempfile::tempdir().unwrap();
        let (top, conf) = generate(dir.path(), "duplex", seq, format);
        assert_eq!(top.len(), 2 * seq.len());
        assert_eq!(top.sequence(0), seq);
        assert_eq!(top.sequence(1), "TACGGCATTGCAACGT");
        for (params, dna2) in [(ParamSet::dna1_defaults(), false), (ParamSet::dna2_defaults(), true)] {
            let r0 = params.value("r0_backbone");
            for (p, q) in top.bonded_pairs() {
                let d = (backbone(&params, &conf, q, dna2) - backbone(&params, &conf, p, dna2)).norm();
                assert!((d - r0).abs() < 0.05, "{format} dna2={dna2}: bond {p}-{q} is {d}, FENE rest length {r0}");
            }
        }
        // base pair k: k-th nucleotide of strand 1 from the 5' end with the k-th of strand 2 from the 3' end
        let n = seq.len();
        for k in 0..n {
            let i = top.strands[0].nucleotides[k];
            let j = top.strands[1].nucleotides[n - 1 - k];
            assert!(top.nucleotides[i].base.pairs_with(top.nucleotides[j].base));
            let (ai, _, a3i) = orthonormalize(conf.a1[i], conf.a3[i]);
            let (aj, _, a3j) = orthonormalize(conf.a1[j], conf.a3[j]);
            let hb_i = conf.r[i] + ai * 0.4;
            let hb_j = conf.r[j] + aj * 0.4;
            let sep = hb_j - hb_i;
            assert!((sep.norm() - 0.4).abs() < 1e-9, "H-bond sites 0.4 apart (the H-bond minimum)");
            assert!((ai.dot(aj) + 1.0).abs() < 1e-12, "a1 vectors antiparallel: bases face each other");
            assert!((ai.dot(sep.normalized()) - 1.0).abs() < 1e-12, "a1 points at the partner's base");
            assert!((a3i.dot(a3j) + 1.0).abs() < 1e-12, "base normals antiparallel");
        }
        // the MD input written beside them runs as it is
        let input = oxgrad::io::InputFile::read(dir.path().join("input_md")).unwrap();
        let run = oxgrad::simulate::SimRun::from_input(&input).unwrap();
        assert_eq!(run.setup.topology.len(), top.len());
        // everything inside the box
        for r in &conf.r {
            assert!((0..3).all(|c| r[c] > 0.0 && r[c] < conf.box_sides[c]));
        }
    }
}

#[test]
fn strand_is_stacked_and_converts() {
    let dir = tempfile::tempdir().unwrap();
    let (top, conf) = generate(dir.path(), "strand", "AAAAACCCCC", "classic");
    assert_eq!(top.strands.len(), 1);
    for (p, q) in top.bonded_pairs() {
        // a3 points from the 3' neighbour towards the nucleotide: stacked along -a3 to the 3' side
        let step = conf.r[q] - conf.r[p];
        assert!(step.dot(conf.a3[p]) < 0.0);
    }
    let out = dir.path().join("new");
    let o = oxgrad(&[
        "convert",
        "-t",
        dir.path().join("init.top").to_str().unwrap(),
        "-c",
        dir.path().join("init.dat").to_str().unwrap(),
        "--to",
        "new",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (new, f) = Topology::read(out.join("init.top")).unwrap();
    assert_eq!(f, TopologyFormat::New);
    assert_eq!(new.sequence(0), "AAAAACCCCC");
    let conf_new = Configuration::read(out.join("init.dat"), new.len()).unwrap();
    // the 5' end is row 0 in the new format and the last row in the classic one
    assert_eq!(conf_new.r[0], conf.r[top.strands[0].nucleotides[0]]);
}

#[test]
fn bad_sequence_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = oxgrad(&["generate", "duplex", "--sequence", "ACGZ", "-o", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: invalid sequence = ACGZ: character 4 is 'Z'; use only the bases A, C, G, T and U"
    );
}
