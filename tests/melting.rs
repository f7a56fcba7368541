//! Melting temperatures from umbrella-sampling histograms, against independent calculations: the
//! finite-size correction against the exact partition function of many strand pairs, Tm and width
//! of exact two-state (van 't Hoff) histograms against SantaLucia's closed form, and oxDNA's own
//! analysis of the histogram printed in its documentation.

use oxgrad::io::histogram::Histogram;
use oxgrad::observable::melting::{MeanSe, Melting, Molecularity};
use oxgrad::units::{kt_from_kelvin, molar_from_volume, KELVIN_PER_SIM};
use std::path::{Path, PathBuf};

/// The gas constant, cal/(mol K).
const R: f64 = 1.987_204;

/// The fraction of strands in duplexes among N strands A and N strands B in a volume N·V, from
/// the exact canonical partition function: k duplexes can be formed in C(N,k)² k! ways, each
/// with weight q = K/(N V) = Φ/N relative to two free strands (Φ = K/V, the ratio of one pair in
/// V). N = 1 is the simulation box; N → ∞ is bulk solution at the same concentration.
fn exact_yield(phi: f64, n: usize) -> f64 {
    let q = phi / n as f64;
    let mut ln_w = vec![0.0_f64; n + 1];
    for k in 0..n {
        ln_w[k + 1] = ln_w[k] + 2.0 * ((n - k) as f64).ln() + q.ln() - ((k + 1) as f64).ln();
    }
    let max = ln_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut z, mut kz) = (0.0, 0.0);
    for (k, l) in ln_w.iter().enumerate() {
        let w = (l - max).exp();
        z += w;
        kz += k as f64 * w;
    }
    kz / z / n as f64
}

#[test]
fn the_finite_size_correction_is_the_thermodynamic_limit_of_many_boxes() {
    for phi in [0.05, 0.3125, 1.0, 2.0, 7.0, 20.0, 300.0] {
        let box_yield = exact_yield(phi, 1);
        assert!((box_yield - phi / (1.0 + phi)).abs() < 1e-12, "one pair is the box: {box_yield}");
        let bulk = exact_yield(phi, 200_000);
        let f = Molecularity::Bimolecular.yield_of(phi);
        assert!((f - bulk).abs() < 2e-5, "Φ = {phi}: Ouldridge et al. give {f}, {bulk} from 200 000 pairs");
        assert!(box_yield > f, "the box overestimates the yield");
    }
}

/// A two-state duplex (or hairpin) with enthalpy `dh` (kcal/mol) and entropy `ds` (cal/(mol K)):
/// at each temperature of `temps_k` the unbound state 0 has an arbitrary count and the bound
/// states 1 to 8 together Φ times that, Φ = K(T)·c (duplex, K in 1/M, c the box's strand
/// concentration) or K(T) (hairpin), K = exp(−(ΔH − TΔS)/RT).
fn two_state(dh: f64, ds: f64, molecularity: Molecularity, c_box: f64, temps_k: &[f64]) -> Histogram {
    let temps: Vec<f64> = temps_k.iter().map(|t| kt_from_kelvin(*t)).collect();
    let mut h = Histogram::new(vec![9], temps).unwrap();
    h.step = 1_000_000;
    for (k, t) in temps_k.iter().enumerate() {
        let big_k = (-(dh * 1000.0 - t * ds) / (R * t)).exp();
        let phi = match molecularity {
            Molecularity::Bimolecular => big_k * c_box,
            Molecularity::Unimolecular => big_k,
        };
        let unbound = 1.0e6 + 1.0e5 * k as f64; // normalisation is free in every column
        h.rows[0].extrapolated[k] = unbound;
        for s in 1..=8 {
            h.rows[s].extrapolated[k] = phi * unbound * s as f64 / 36.0; // 1 + … + 8 = 36
        }
    }
    for row in &mut h.rows {
        row.biased = 100.0 + f64::from(row.state[0]);
        row.unbiased = row.extrapolated[0];
    }
    h
}

/// The temperature (K) where a two-state duplex at strand concentration `c` has yield `f`:
/// K c = f/(1 − f)², so T = ΔH / (ΔS − R ln(f / ((1 − f)² c))); at f = 1/2 this is SantaLucia's
/// Tm = ΔH / (ΔS + R ln(C_T/4)) with C_T = 2c.
fn duplex_t(dh: f64, ds: f64, c: f64, f: f64) -> f64 {
    dh * 1000.0 / (ds - R * (f / ((1.0 - f) * (1.0 - f)) / c).ln())
}

fn grid(from: f64, to: f64, step: f64) -> Vec<f64> {
    (0..).map(|k| from + step * f64::from(k)).take_while(|t| *t <= to + 1e-9).collect()
}

const BOX: f64 = 20.0;

#[test]
fn tm_and_width_of_a_two_state_duplex_at_the_box_and_another_concentration() {
    let (dh, ds) = (-60.0, -170.0);
    let c_box = molar_from_volume(BOX.powi(3));
    let h = two_state(dh, ds, Molecularity::Bimolecular, c_box, &grid(300.0, 340.0, 2.0));
    let m = Melting::new(Molecularity::Bimolecular).box_volume(BOX.powi(3)).unwrap();
    let run = m.run(&h, Path::new("synthetic")).unwrap();
    let tm = run.tm * KELVIN_PER_SIM;
    let expected = duplex_t(dh, ds, c_box, 0.5);
    // ln Φ is linear in 1/T for a two-state transition, and so is the interpolation: exact, far
    // inside the 0.1 K asked of the analysis (f linear in T would be off by 0.006 K here)
    assert!((tm - expected).abs() < 1e-6, "Tm {tm} K, van 't Hoff {expected} K");
    let width = run.width.unwrap() * KELVIN_PER_SIM;
    let expected_width = duplex_t(dh, ds, c_box, 0.2) - duplex_t(dh, ds, c_box, 0.8);
    assert!((width - expected_width).abs() < 1e-6, "width {width} K, expected {expected_width} K");

    // the same runs reported at 1 µM: Φ scales with c′/c, Tm drops
    let m1 = m.concentration(1e-6).unwrap();
    let tm1 = m1.run(&h, Path::new("synthetic")).unwrap().tm * KELVIN_PER_SIM;
    let expected1 = duplex_t(dh, ds, 1e-6, 0.5);
    assert!((tm1 - expected1).abs() < 0.1, "Tm at 1 µM {tm1} K, van 't Hoff {expected1} K");
    assert!(expected - expected1 > 10.0, "the test should move Tm far: {expected} vs {expected1}");
}

#[test]
fn tm_of_a_hairpin_is_where_k_is_one() {
    let (dh, ds) = (-40.0, -120.0);
    let h = two_state(dh, ds, Molecularity::Unimolecular, f64::NAN, &grid(320.0, 346.0, 3.0));
    let run = Melting::new(Molecularity::Unimolecular).run(&h, Path::new("hairpin")).unwrap();
    let expected = dh * 1000.0 / ds;
    assert!((run.tm * KELVIN_PER_SIM - expected).abs() < 0.1, "{} vs {expected}", run.tm * KELVIN_PER_SIM);
}

#[test]
fn independent_runs_give_tm_with_a_standard_error() {
    let (dh, c_box) = (-60.0, molar_from_volume(BOX.powi(3)));
    let entropies = [-170.3, -170.0, -169.6];
    let hists: Vec<(PathBuf, Histogram)> = entropies
        .iter()
        .enumerate()
        .map(|(k, ds)| {
            (
                PathBuf::from(format!("run{k}")),
                two_state(dh, *ds, Molecularity::Bimolecular, c_box, &grid(300.0, 340.0, 2.0)),
            )
        })
        .collect();
    let s = Melting::new(Molecularity::Bimolecular).analyse(&hists).unwrap();
    let exact: Vec<f64> = entropies.iter().map(|ds| duplex_t(dh, *ds, c_box, 0.5)).collect();
    let want = MeanSe::of(&exact).unwrap();
    assert!((s.tm.mean * KELVIN_PER_SIM - want.mean).abs() < 0.1);
    assert!((s.tm.std_err.unwrap() * KELVIN_PER_SIM - want.std_err.unwrap()).abs() < 0.01);
    assert!(want.std_err.unwrap() > 0.3, "a visible error bar: {want:?}");
    assert_eq!(s.tm.n, 3);
    assert!(s.mean_curve().is_some());
    let one = Melting::new(Molecularity::Bimolecular).analyse(&hists[..1]).unwrap();
    assert_eq!(one.tm.std_err, None, "one run has no error bar");
}

#[test]
fn a_tm_outside_the_temperatures_is_refused_with_the_way_out() {
    let c_box = molar_from_volume(BOX.powi(3));
    let h = two_state(-60.0, -170.0, Molecularity::Bimolecular, c_box, &grid(280.0, 300.0, 5.0));
    let e = Melting::new(Molecularity::Bimolecular).run(&h, Path::new("cold.dat")).unwrap_err().to_string();
    assert!(
        e.starts_with("melting temperature of cold.dat: the yield does not cross 1/2 between 280.00 K and 300.00 K (yields 0.999, ")
            && e.ends_with("Tm lies above the highest temperature; extend extrapolate_hist"),
        "{e}"
    );
    let e = Melting::new(Molecularity::Bimolecular).order_parameter(1).run(&h, Path::new("h.dat")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "melting curve of h.dat: order parameter 1 asked for, but the histogram has 1 (positions 0 to 0)"
    );
}

/// A run that never left the bound states (or never bound) is refused by what happened, not
/// reported as a Tm outside the temperatures.
#[test]
fn a_run_that_never_parted_or_never_paired_is_refused_as_such() {
    let c_box = molar_from_volume(BOX.powi(3));
    for (empty, which) in [(vec![0], "unbound"), ((1..=8).collect::<Vec<_>>(), "bound")] {
        let mut h = two_state(-60.0, -170.0, Molecularity::Bimolecular, c_box, &grid(280.0, 300.0, 5.0));
        for s in empty {
            let row = &mut h.rows[s];
            row.biased = 0.0;
            row.unbiased = 0.0;
            row.extrapolated.iter_mut().for_each(|x| *x = 0.0);
        }
        let e = Melting::new(Molecularity::Bimolecular).run(&h, Path::new("h.dat")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("melting curve of h.dat: no {which} state was visited (")), "{e}");
        assert!(e.contains("run longer, or weigh the"), "{e}");
    }
}

/// The `last_hist.dat` of oxDNA's documentation (an RNA 8-mer, box side 20), and what oxDNA's
/// `estimate_Tm.py` prints for it on the same page: per temperature (°C), the yield in the box
/// and the finite-size-corrected yield; Tm = 61.149231 °C and width 12.566189 K, from f
/// interpolated linearly in T.
#[test]
fn oxdna_documentation_histogram_gives_oxdna_scripts_numbers() {
    let table = [
        (52.00, 0.9774084, 0.8590862),
        (54.00, 0.9566703, 0.8086249),
        (56.00, 0.9185418, 0.7432626),
        (58.00, 0.8521952, 0.6613256),
        (60.00, 0.7470068, 0.5632429),
        (62.00, 0.6024042, 0.4531267),
        (64.00, 0.4380124, 0.3397566),
        (66.00, 0.2868094, 0.2352155),
        (68.00, 0.1723566, 0.1503401),
        (70.00, 0.0977175, 0.0897356),
    ];
    let h = Histogram::read("tests/data/melting/oxdna_docs_last_hist.dat").unwrap();
    let run = Melting::new(Molecularity::Bimolecular).run(&h, Path::new("last_hist.dat")).unwrap();
    for (k, (t, box_yield, f)) in table.iter().enumerate() {
        let phi = run.curve.ratios[k];
        assert!((oxgrad::units::celsius_from_kt(run.curve.temperatures[k]) - t).abs() < 0.005);
        assert!((phi / (1.0 + phi) - box_yield).abs() < 1e-6, "{t} °C: {} vs {box_yield}", phi / (1.0 + phi));
        assert!((run.curve.yields[k] - f).abs() < 1e-6, "{t} °C: {} vs {f}", run.curve.yields[k]);
    }
    // oxDNA's script interpolates f linearly in T, oxgrad ln Φ linearly in 1/T: on this 2 K grid
    // the two differ by the curvature of f(T) between grid points (0.016 K for Tm, 0.095 K for
    // the width when this test was written)
    let tm = oxgrad::units::celsius_from_kt(run.tm);
    assert!((tm - 61.149231).abs() < 0.05, "Tm {tm} °C, oxDNA's script 61.149 °C");
    let width = run.width.unwrap() * KELVIN_PER_SIM;
    assert!((width - 12.566189).abs() < 0.2, "width {width} K, oxDNA's script 12.566 K");
}

/// The synthetic histograms of `oxgrad melting`'s tests (tests/melting_cli.rs) are what
/// [`two_state`] writes: three runs of a duplex with ΔH = −60 kcal/mol and ΔS = −170.3, −170.0,
/// −169.6 cal/(mol K) in a box of side 20, 300 K to 340 K. `OXGRAD_BLESS=1` rewrites them.
#[test]
fn synthetic_fixtures_are_the_generators_output() {
    let c_box = molar_from_volume(BOX.powi(3));
    for (k, ds) in [-170.3, -170.0, -169.6].iter().enumerate() {
        let path = PathBuf::from(format!("tests/data/melting/two_state_run{}.dat", k + 1));
        let h = two_state(-60.0, *ds, Molecularity::Bimolecular, c_box, &grid(300.0, 340.0, 2.0));
        if std::env::var_os("OXGRAD_BLESS").is_some() {
            h.write(&path).unwrap();
        }
        assert_eq!(Histogram::read(&path).unwrap(), h, "{} is stale: rerun with OXGRAD_BLESS=1", path.display());
    }
}
