//! Every reference case: topology (both formats), trajectory, input and parameter files read,
//! written and read again give identical values.

mod common;

use common::{case_dir, CASES};
use oxgrad::io::{Configuration, InputFile, SeqDepFile, TrajectoryReader, TrajectoryWriter};
use oxgrad::system::{Topology, TopologyFormat};
use std::path::Path;

fn read_all(path: &Path, n: usize) -> Vec<Configuration> {
    TrajectoryReader::open(path, n).unwrap().map(Result::unwrap).collect()
}

#[test]
fn topologies_round_trip_in_both_formats() {
    for case in CASES {
        let (top, format) = Topology::read(case_dir(case).join("init.top")).unwrap();
        assert_eq!(format, TopologyFormat::Classic, "{case}");
        assert!(top.is_canonical(TopologyFormat::Classic), "{case}");
        // classic → text → classic: identical, and byte-identical to oxDNA's file
        let text = top.to_text(TopologyFormat::Classic).unwrap();
        let original = std::fs::read_to_string(case_dir(case).join("init.top")).unwrap();
        assert_eq!(text.trim_end(), original.trim_end(), "{case}");
        // classic → new → classic: the same system, and the permutations invert each other
        let (new, perm) = top.converted(TopologyFormat::New);
        let new_text = new.to_text(TopologyFormat::New).unwrap();
        let (new_again, f) = Topology::parse(&new_text, Path::new("new.top")).unwrap();
        assert_eq!(f, TopologyFormat::New);
        assert_eq!(new_again, new, "{case}");
        for (s, strand) in top.strands.iter().enumerate() {
            assert_eq!(new.sequence(s), top.sequence(s), "{case}: strand {s}");
            assert_eq!(strand.nucleotides.len(), new.strands[s].nucleotides.len());
        }
        let (back, perm_back) = new_again.converted(TopologyFormat::Classic);
        assert_eq!(back, top, "{case}");
        for (k, &p) in perm.iter().enumerate() {
            assert_eq!(perm_back[p], k, "{case}: permutations are inverse");
            assert_eq!(new.nucleotides[k].base, top.nucleotides[p].base);
        }
        // bonded pairs map onto each other under the permutation
        let mut pairs: Vec<_> = new.bonded_pairs().into_iter().map(|(p, q)| (perm[p], perm[q])).collect();
        pairs.sort_unstable();
        let mut expected = top.bonded_pairs();
        expected.sort_unstable();
        assert_eq!(pairs, expected, "{case}");
    }
}

#[test]
fn trajectories_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for case in CASES {
        let (top, _) = Topology::read(case_dir(case).join("init.top")).unwrap();
        for file in ["trajectory.dat", "init.dat"] {
            let frames = read_all(&case_dir(case).join(file), top.len());
            assert!(!frames.is_empty());
            if file == "trajectory.dat" {
                assert_eq!(frames.len(), 10, "{case}");
                assert_eq!(frames[0].step, 10_000);
                assert_eq!(frames[9].step, 100_000);
            }
            let out = dir.path().join(format!("{case}-{file}"));
            let mut w = TrajectoryWriter::create(&out).unwrap();
            for f in &frames {
                w.write(f).unwrap();
            }
            w.commit().unwrap();
            assert_eq!(read_all(&out, top.len()), frames, "{case}/{file}");
            // through the new topology format and back
            let (_, perm) = top.converted(TopologyFormat::New);
            let mut inverse = vec![0; perm.len()];
            for (k, &p) in perm.iter().enumerate() {
                inverse[p] = k;
            }
            assert_eq!(frames[0].permuted(&perm).permuted(&inverse), frames[0]);
        }
    }
}

#[test]
fn input_files_round_trip() {
    let mut seen = 0;
    for case in CASES {
        for entry in std::fs::read_dir(case_dir(case)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !(name.starts_with("input") || name == "gen_input") {
                continue;
            }
            let f = InputFile::read(&path).unwrap();
            let again = InputFile::parse(&f.to_text(), &path).unwrap();
            assert_eq!(strip_lines(&again.root), strip_lines(&f.root), "{case}/{name}");
            assert!(
                f.get("topology").is_some() || name == "gen_input" || f.get("conf_file").is_some(),
                "{case}/{name}"
            );
            seen += 1;
        }
    }
    assert!(seen >= 25, "found {seen} input files");
    // typed values of a known file
    let f = InputFile::read(case_dir(CASES[0]).join("input_md")).unwrap();
    assert!((f.temperature("T").unwrap() - 296.15 / 3000.0).abs() < 1e-15);
    assert_eq!(f.u64("steps").unwrap(), 100_000);
    assert!(f.bool_or("refresh_vel", false).unwrap());
    let a = InputFile::read(case_dir(CASES[0]).join("input_analysis")).unwrap();
    let block = a.block("analysis_data_output_1").unwrap();
    assert_eq!(block.block("col_2").unwrap().get("split"), Some("true"));
}

/// Line numbers differ after rewriting a one-line block; compare everything else.
fn strip_lines(b: &oxgrad::io::input::Block) -> Vec<(String, String)> {
    use oxgrad::io::input::{Item, Value};
    let mut out = Vec::new();
    for item in &b.items {
        if let Item::Entry { key, value, .. } = item {
            match value {
                Value::Text(t) => out.push((key.clone(), t.clone())),
                Value::Block(inner) => {
                    out.push((key.clone(), "{".into()));
                    out.extend(strip_lines(inner));
                }
            }
        }
    }
    out
}

#[test]
fn sequence_dependent_files_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let params = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/params/seqdep");
    for name in [
        "oxDNA1_sequence_dependent_parameters.txt",
        "oxDNA2_sequence_dependent_parameters.txt",
        "rna_sequence_dependent_parameters.txt",
    ] {
        let f = SeqDepFile::read(params.join(name)).unwrap();
        let out = dir.path().join(name);
        f.write(&out).unwrap();
        let again = SeqDepFile::read(&out).unwrap();
        let values = |s: &SeqDepFile| s.entries.iter().map(|(k, v)| (k.clone(), v.0)).collect::<Vec<_>>();
        assert_eq!(values(&again), values(&f), "{name}");
        assert!(f.table("STCK").is_ok(), "{name}");
    }
    let dna1 = SeqDepFile::read(params.join("oxDNA1_sequence_dependent_parameters.txt")).unwrap();
    assert!((dna1.stck_fact_eps().unwrap() - 0.18).abs() < 1e-15);
    // STCK_G_C: X = G (3'-side), Y = C; table order A, C, G, T
    assert!((dna1.table("STCK").unwrap()[2][1] - 1.684).abs() < 1e-15);
    assert!((dna1.symmetric("HYDR", 'C', 'G').unwrap() - 1.243).abs() < 1e-15);
    let rna = SeqDepFile::read(params.join("rna_sequence_dependent_parameters.txt")).unwrap();
    assert!((rna.get("ST_T_DEP").unwrap() - 1.97561).abs() < 1e-15);
    assert!(rna.table("CROSS").is_ok());
}
