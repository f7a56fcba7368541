//! Bad input gets a clear error, never a panic: every fixture in tests/inputs/bad against its
//! expected message, and random bytes into every parser.

use oxgrad::io::histogram::Histogram;
use oxgrad::io::order_parameter::{MissingWeights, OrderParameters, Weights};
use oxgrad::io::{InputFile, SeqDepFile, TrajectoryReader};
use oxgrad::params::ParamSet;
use oxgrad::system::Topology;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn load(path: &Path) -> oxgrad::Result<()> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("top") => Topology::read(path).map(drop),
        Some("dat") => TrajectoryReader::open(path, 2)?.try_for_each(|f| f.map(drop)),
        Some("input") => {
            let f = InputFile::read(path)?;
            if f.get("T").is_some() {
                f.temperature("T")?;
            }
            Ok(())
        }
        Some("toml") => {
            let text = std::fs::read_to_string(path).unwrap();
            ParamSet::dna1_defaults().apply_toml_str(&text, path)
        }
        Some("seqdep") => SeqDepFile::read(path)?.table("STCK").map(drop),
        Some("op") => OrderParameters::read(path, 16).map(drop),
        Some("weights") => {
            let ops = OrderParameters::read("tests/data/melting/op.txt", 16)?;
            Weights::read(path, &ops, MissingWeights::Refuse).map(drop)
        }
        Some("hist") => Histogram::read_all(path).map(drop),
        other => panic!("fixture {} has unknown extension {other:?}", path.display()),
    }
}

#[test]
fn every_bad_fixture_gives_its_message() {
    let dir = PathBuf::from("tests/inputs/bad");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if ext == "expected" || ext == "md" {
            continue;
        }
        let expected = std::fs::read_to_string(path.with_extension("expected"))
            .unwrap_or_else(|_| panic!("{} has no .expected file", path.display()));
        let expected = expected.trim_end().replace("{path}", &path.display().to_string());
        match load(&path) {
            Ok(()) => panic!("{} was accepted; expected: {expected}", path.display()),
            Err(e) => assert_eq!(e.to_string(), expected, "{}", path.display()),
        }
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} fixtures");
}

fn mutate(valid: &str, edits: &[(usize, u8)]) -> String {
    let mut bytes = valid.as_bytes().to_vec();
    for &(pos, b) in edits {
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] = b;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

const TOP: &str = "4 2\n1 A -1 1\n1 C 0 -1\n2 G -1 3\n2 T 2 -1\n";
const NEW_TOP: &str = "4 2 5->3\nAC type=DNA circular=false\nGT type=RNA\n";
const DAT: &str = "t = 0\nb = 10 10 10\nE = 0 0 0\n1 2 3 1 0 0 0 0 1 0 0 0 0 0 0\n4 5 6 0 1 0 0 0 1 0 0 0 0 0 0\n";
const INPUT: &str = "T = 300K\nsteps = 10\nb = {\n c = { d = 1 }\n}\n";
const PARAMS: &str = "[stacking]\neps_stack_base = \"1.3 + pi/10\"\n";
const OP: &str = "{\norder_parameter = bond\nname = b\npair1 = 0-1, 2-3\n}\n{ order_parameter = mindistance; name = d; pair1 = 0, 3; interfaces = 1, 2 }\n";
const HIST: &str = "#t = 10; extr. Ts: 0.1 0.11\n0 0 5 5 5 5\n1 0 5 5 5 5\n2 2 1 1 1 1\n";

fn exercise(text: &str) {
    let p = Path::new("fuzz");
    let _ = Topology::parse(text, p);
    for n in [0, 1, 2, 3] {
        let _ = TrajectoryReader::new(text.as_bytes(), p, n).count();
    }
    if let Ok(f) = InputFile::parse(text, p) {
        let _ = InputFile::parse(&f.to_text(), p).expect("written input reads back");
        for k in ["T", "steps", "b"] {
            let _ = (f.temperature(k), f.u64(k), f.f64(k), f.bool_or(k, false));
        }
    }
    if let Ok(s) = SeqDepFile::parse(text, p) {
        let _ = (s.table("STCK"), s.symmetric("HYDR", 'A', 'T'));
    }
    let _ = ParamSet::dna1_defaults().apply_toml_str(text, p);
    if let Ok(ops) = OrderParameters::parse(text, p, 4) {
        let _ = ops.sizes();
    }
    let ops = OrderParameters::parse(OP, p, 4).expect("the valid order-parameter file");
    if let Ok(w) = Weights::parse(text, p, &ops, MissingWeights::Default(1.0)) {
        let _ = w.weight(&[1, 2]);
    }
    if let Ok(all) = Histogram::parse_all(text, p) {
        for h in all {
            let again = Histogram::parse_all(&h.to_text(), p).expect("a written histogram reads back");
            assert_eq!(again, vec![h]);
        }
    }
    let _ = oxgrad::params::expr::eval(text);
    let _ = oxgrad::units::parse_temperature(text);
    let _ = oxgrad::generate::parse_sequence(text);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parsers_never_panic_on_mutated_valid_files(
        which in 0usize..7,
        edits in proptest::collection::vec((any::<usize>(), prop_oneof![Just(b' '), Just(b'\n'), Just(b'-'), Just(b'{'), Just(b'}'), Just(b'='), Just(b'9'), Just(b'e'), Just(b'#'), any::<u8>()]), 1..6),
    ) {
        let valid = [TOP, NEW_TOP, DAT, INPUT, PARAMS, OP, HIST][which];
        exercise(&mutate(valid, &edits));
    }
}
