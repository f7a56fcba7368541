//! Parameters to and from mythos / jax_dna and oxDNA's seq_dep_file: round trips are the
//! identity, conventions are mapped, and what cannot be taken as given is refused.

use oxgrad::io::SeqDepFile;
use oxgrad::params::exchange::{from_mythos_toml, theta8_mythos, to_mythos_toml};
use oxgrad::params::{ModelKind, ParamSet, SHIPPED_SEQ_DEP};
use std::f64::consts::PI;
use std::path::Path;

fn seq_dep(model: ModelKind) -> ParamSet {
    let (name, text) = SHIPPED_SEQ_DEP[if model == ModelKind::Dna1 { 0 } else { 1 }];
    ParamSet::defaults(model).with_sequence_dependence(&SeqDepFile::parse(text, Path::new(name)).unwrap()).unwrap()
}

/// Every parameter moved off its default, so that a swapped or dropped name shows.
fn perturbed(set: &ParamSet) -> ParamSet {
    let names: Vec<String> = set.names().map(String::from).collect();
    let mut out = set.clone();
    for (k, n) in names.iter().enumerate() {
        let v = set.value(n);
        // keep every value valid: a small relative change, distinct per parameter
        let _ = out.set(n, v * (1.0 + 1e-4 * (k as f64 + 1.0)) + if v == 0.0 { 1e-6 * k as f64 } else { 0.0 });
    }
    out
}

#[test]
fn mythos_round_trips_are_the_identity() {
    for set in [
        ParamSet::dna1_defaults(),
        ParamSet::dna2_defaults(),
        seq_dep(ModelKind::Dna1),
        seq_dep(ModelKind::Dna2),
        perturbed(&ParamSet::dna1_defaults()),
        perturbed(&seq_dep(ModelKind::Dna2)),
    ] {
        let text = to_mythos_toml(&set);
        let back = from_mythos_toml(&text, Path::new("m.toml"), set.model()).unwrap();
        assert_eq!(back.names().collect::<Vec<_>>(), set.names().collect::<Vec<_>>());
        for (name, v) in set.iter() {
            // exact, except θ8 through π − (π − θ): one rounding
            let tol = if name == "theta0_hb_8" { 4.0 * f64::EPSILON } else { 0.0 };
            assert!((back.value(name) - v).abs() <= tol, "{}: {name} {v} came back as {}", set.model(), back.value(name));
        }
    }
}

#[test]
fn mythos_theta8_is_pi_minus_oxdnas() {
    let mut set = ParamSet::dna1_defaults();
    set.set("theta0_hb_8", 1.2).unwrap();
    let text = to_mythos_toml(&set);
    let table: toml::Table = toml::from_str(&text).unwrap();
    let written = table["hydrogen_bonding"]["theta0_hb_8"].as_float().unwrap();
    assert_eq!(written, PI - 1.2);
    assert!((theta8_mythos(theta8_mythos(0.3)) - 0.3).abs() <= 2.0 * f64::EPSILON);
    // a file written by mythos with its θ8 = 2.0 is oxDNA's π − 2.0
    let set = from_mythos_toml("[hydrogen_bonding]\ntheta0_hb_8 = 2.0\n", Path::new("m.toml"), ModelKind::Dna1).unwrap();
    assert_eq!(set.value("theta0_hb_8"), PI - 2.0);
}

#[test]
fn mythos_sequence_tables_are_4x4_with_the_3prime_base_first() {
    let set = seq_dep(ModelKind::Dna1);
    let table: toml::Table = toml::from_str(&to_mythos_toml(&set)).unwrap();
    let stack = table["stacking"]["ss_stack_weights"].as_array().unwrap();
    // A, C, G, T: row G (3'-side), column C (5'-side) is oxDNA's STCK_G_C
    assert_eq!(stack[2].as_array().unwrap()[1].as_float(), Some(set.value("ss_stack_weights_G_C")));
    assert_eq!(set.value("ss_stack_weights_G_C"), 1.684);
    let hb = table["hydrogen_bonding"]["ss_hb_weights"].as_array().unwrap();
    assert_eq!(hb[0].as_array().unwrap()[3].as_float(), Some(set.value("ss_hb_weights_A_T")));
    assert_eq!(hb[0].as_array().unwrap()[0].as_float(), Some(0.0), "A–A has no hydrogen bond");
}

#[test]
fn mythos_files_that_cannot_be_taken_as_given_are_refused() {
    let err = |text: &str| from_mythos_toml(text, Path::new("m.toml"), ModelKind::Dna1).unwrap_err().to_string();
    assert_eq!(err("[stacking]\neps_stack_bse = 1.3\n"), "unknown parameter 'eps_stack_bse'; did you mean 'eps_stack_base'?");
    assert_eq!(
        err("[stacking]\nb_low_stack = 3.0\n"),
        "invalid b_low_stack = 3: m.toml: a dependent constant, derived from the others as -68.18573701786157: remove it, or change the parameters it is derived from"
    );
    let asym = "[hydrogen_bonding]\nss_hb_weights = [[0, 0, 0, 1.0], [0, 0, 1.2, 0], [0, 1.2, 0, 0], [0.9, 0, 0, 0]]\n";
    assert_eq!(
        err(asym),
        "invalid ss_hb_weights A–T = 1 and 0.9: m.toml: oxDNA's hydrogen bonding is symmetric: give both orders the same value"
    );
    assert!(err("[stacking]\nss_stack_weights = [[1.0, 2.0]]\n").contains("a 4 × 4 array of numbers, bases in the order A, C, G, T"));
    // a dependent that agrees with the derived value is accepted (mythos dumps them)
    let derived = ParamSet::dna1_defaults().dependents()["b_low_stack"];
    let ok = from_mythos_toml(&format!("[stacking]\nb_low_stack = {derived}\n"), Path::new("m.toml"), ModelKind::Dna1).unwrap();
    assert!(ok == ParamSet::dna1_defaults());
}

#[test]
fn seq_dep_files_round_trip() {
    for model in [ModelKind::Dna1, ModelKind::Dna2] {
        let set = perturbed(&seq_dep(model));
        let file = set.to_seq_dep_file().unwrap();
        let text = file.to_text();
        let back_file = SeqDepFile::parse(&text, Path::new("seq.txt")).unwrap();
        let back = set.with_sequence_dependence(&back_file).unwrap();
        assert!(back == set, "{model}: the seq_dep_file round trip changed a value");
        assert_eq!(back_file.get("HYDR_T_A"), back_file.get("HYDR_A_T"));
    }
    let e = ParamSet::dna1_defaults().to_seq_dep_file().unwrap_err().to_string();
    assert!(e.contains("it is sequence-averaged"), "{e}");
}
