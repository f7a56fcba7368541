//! `oxgrad melting`: Tm ± SE of synthetic two-state runs as van 't Hoff gives it, the box and
//! order parameter from an input file, the plot, and clear errors for bad files and arguments.

use std::path::Path;
use std::process::Command;

const DIR: &str = "tests/data/melting";

fn oxgrad(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad")).current_dir(DIR).args(args).output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// The numbers after `prefix` on the line that starts with it.
fn numbers_after(text: &str, prefix: &str) -> Vec<f64> {
    let line =
        text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line '{prefix}…' in:\n{text}"));
    line[prefix.len()..]
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter_map(|w| w.parse().ok())
        .collect()
}

const RUNS: [&str; 3] = ["two_state_run1.dat", "two_state_run2.dat", "two_state_run3.dat"];

/// The fixtures are exact two-state duplexes (tests/data/melting/PROVENANCE): van 't Hoff's
/// Tm = ΔH / (ΔS + R ln(c/2)) at c = 3.3585e-4 M (box side 20) gives 319.876, 320.388 and
/// 321.074 K, mean 320.446 K, standard error 0.347 K; at 1 µM, 301.814 ± 0.308 K.
#[test]
fn three_runs_give_tm_with_its_standard_error() {
    let mut args = vec!["melting", "--bimolecular", "--box-side", "20"];
    args.extend(RUNS);
    let (ok, out, err) = oxgrad(&args);
    assert!(ok, "{err}");
    assert!(out.contains("strand concentration 3.3585e-4 M (the box's)"), "{out}");
    let tm = numbers_after(&out, "Tm = ");
    assert!((tm[0] - 320.446).abs() < 0.01 && (tm[1] - 0.347).abs() < 0.01, "{out}");
    assert!((tm[2] - 47.296).abs() < 0.01, "°C: {out}");
    assert!(out.contains("(mean ± standard error of 3 runs)"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("width = ")), "{out}");

    args.extend(["--concentration", "1uM"]);
    let (ok, out, err) = oxgrad(&args);
    assert!(ok, "{err}");
    let tm = numbers_after(&out, "Tm = ");
    assert!((tm[0] - 301.814).abs() < 0.01 && (tm[1] - 0.308).abs() < 0.01, "{out}");
    assert!(out.contains("yields and Tm at 1.0000e-6 M"), "{out}");
}

#[test]
fn one_run_from_an_input_file_with_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("curve.png");
    let plot_arg = plot.to_str().unwrap();
    let args = [
        "melting",
        "oxdna_docs_last_hist.dat",
        "--bimolecular",
        "--input",
        "input_vmmc",
        "--order-parameter",
        "all_native_bonds",
        "--plot",
        plot_arg,
    ];
    let (ok, out, err) = oxgrad(&args);
    assert!(ok, "{err}");
    assert!(out.contains("bound: 'all_native_bonds' ≥ 1"), "{out}");
    let tm = numbers_after(&out, "Tm = ");
    assert!((tm[1] - 61.165).abs() < 0.01, "oxDNA's estimate_Tm.py gives 61.149 °C: {out}");
    assert!(out.contains("(one run: no error bar"), "{out}");
    let png = std::fs::read(&plot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a drawn PNG");
    // an existing plot is kept unless --force
    let (ok, _, err) = oxgrad(&args);
    assert!(!ok && err.contains("the file exists: pass --force to replace it"), "{err}");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(oxgrad(&forced).0);
}

#[test]
fn bad_files_and_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("last_hist.dat");
    std::fs::write(&bad, "#t = 10; extr. Ts: 0.1 0.11\n0 5 5 5 5\n1 5 5 5\n").unwrap();
    let bad = bad.to_str().unwrap();
    let cases: [(&[&str], String); 6] = [
        (
            &["melting", "--hairpin", bad],
            format!("{bad}:3: expected 1 state value(s), the biased and the unbiased count and 2 extrapolated count(s) (one per temperature of the header), found 4 numbers in '1 5 5 5'"),
        ),
        (&["melting", "two_state_run1.dat"], "the following required arguments were not provided".into()),
        (
            &["melting", "--bimolecular", "two_state_run1.dat", "--order-parameter", "bonds"],
            "invalid --order-parameter = bonds: names come from the op_file of the runs' input file: add --input FILE (with op_file = …)".into(),
        ),
        (
            &["melting", "--bimolecular", "two_state_run1.dat", "--input", "input_vmmc", "--order-parameter", "bonds"],
            "invalid order parameter = bonds: not in the order-parameter file; it has all_native_bonds".into(),
        ),
        (
            &["melting", "--bimolecular", "two_state_run1.dat", "--concentration", "1uM"],
            "invalid concentration = 0.000001: the box's volume is needed to move yields to another concentration: give the box side or the input file".into(),
        ),
        (&["melting", "--bimolecular", "missing.dat"], "cannot read 'missing.dat'".into()),
    ];
    for (args, message) in cases {
        let (ok, _, err) = oxgrad(args);
        assert!(!ok && err.contains(&message), "{args:?}: expected '{message}', got:\n{err}");
    }
    assert!(Path::new(DIR).join("two_state_run1.dat").exists());
}

/// `--nearest-neighbour`: SantaLucia's (1998) Tm against an independent calculator. Biopython
/// 1.88's `Tm_NN(seq, nn_table=DNA_NN3, dnac1=c, dnac2=c, Na=…, saltcorr=5)` (the same unified
/// parameters and salt correction): 71.467 °C for GCGTCATACAGTGC with c = 3.3585e-4 M (one strand
/// of each kind in a box of side 20) and 0.5 M Na⁺, run by hand; 60.32 °C for its documented
/// example (module docs of Bio.SeqUtils.MeltingTemp: 25 nM each strand, 50 mM Na⁺).
#[test]
fn nearest_neighbour_tm_against_biopython() {
    let (ok, out, err) =
        oxgrad(&["melting", "--nearest-neighbour", "GCGTCATACAGTGC", "--box-side", "20", "--salt", "0.5"]);
    assert!(ok, "{err}");
    assert!(out.contains("3'-CGCAGTATGTCACG-5'  (14 bp; two different strands"), "{out}");
    assert!(
        out.contains(
            "strand concentration 3.3585e-4 M each (one strand of each kind in a box of side 20), C_T = 6.7170e-4 M"
        ),
        "{out}"
    );
    let tm = numbers_after(&out, "Tm = ");
    assert!((tm[1] - 71.467).abs() < 0.01 && (tm[0] - 273.15 - tm[1]).abs() < 0.011, "{out}");

    let args =
        ["melting", "--nearest-neighbor", "CGTTCCAAAGATGTGGGCATGAGCTTAC", "--concentration", "25nM", "--salt", "50mM"];
    let (ok, out, err) = oxgrad(&args);
    assert!(ok, "{err}");
    assert!((numbers_after(&out, "Tm = ")[1] - 60.32).abs() < 0.006, "{out}");

    // SantaLucia's worked example, 5'-CGTTGA-3': ΔG°37 = −5.35 kcal/mol from the paper's column
    let (ok, out, err) = oxgrad(&["melting", "--nearest-neighbour", "cgttga", "--concentration", "1uM"]);
    assert!(ok, "{err}");
    assert!(out.contains("the paper's ΔG°37 column sums to -5.35"), "{out}");
}

#[test]
fn nearest_neighbour_and_histograms_are_separate_modes() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["melting", "--bimolecular", "--nearest-neighbour", "ACGT", "--concentration", "1uM"],
            "the argument '--bimolecular' cannot be used with '--nearest-neighbour <SEQ>'",
        ),
        (
            &["melting", "two_state_run1.dat", "--nearest-neighbour", "ACGT", "--box-side", "20"],
            "the argument '[HISTOGRAMS]...' cannot be used with '--nearest-neighbour <SEQ>'",
        ),
        (
            &["melting", "--nearest-neighbour", "ACGT", "--box-side", "20", "--plot", "x.png"],
            "cannot be used with '--plot <PLOT>'",
        ),
        (&["melting", "--bimolecular", "two_state_run1.dat", "--salt", "0.5"], "cannot be used with '--salt <SALT>'"),
        (
            &["melting", "--nearest-neighbour", "ACGX", "--box-side", "20"],
            "invalid --nearest-neighbour = ACGX: character 4 is 'X'; SantaLucia's (1998) parameters cover the DNA bases A, C, G and T only",
        ),
        (&["melting", "--nearest-neighbour", "A", "--box-side", "20"], "a duplex needs at least 2 base pairs"),
        (
            &["melting", "--nearest-neighbour", "ACGT"],
            "invalid strand concentration = none given: give --concentration C (each of the two strands, e.g. 1uM) or --box-side L",
        ),
        (
            &["melting", "--nearest-neighbour", "ACGT", "--box-side", "20", "--concentration", "1uM"],
            "invalid --concentration = 1uM: --box-side 20 also sets the strand concentration: give one of the two",
        ),
        (&["melting", "--nearest-neighbour", "ACGT", "--box-side", "20", "--salt", "0"], "invalid --salt = 0"),
    ];
    for (args, message) in cases {
        let (ok, _, err) = oxgrad(args);
        assert!(!ok && err.contains(message), "{args:?}: expected '{message}', got:\n{err}");
    }
}
