//! Standard errors of (reweighted) observables from correlated samples: a block jackknife over
//! blocks several integrated autocorrelation times long.
//!
//! Consecutive MD states are correlated, so the naive σ/√N underestimates the error by a factor
//! √(2τ_int). The error of an estimate from N states (weights w_i, features X_i, `[dim]`, in the
//! observable's feature units; the error is in the observable's unit) comes in three steps.
//!
//! 1. **A linearised series.** The estimate is f(m̄) with m̄ = Σ_i w_i X_i / Σ_i w_i and
//!    f = [`Observable::reduce`]. To first order (the delta method for a ratio estimator, which
//!    covers reweighted means) its error is that of
//!
//!    ```text
//!    y_i = w_i ∇f(m̄)·(X_i − m̄),        Var f̂ ≈ Var(Σ_i y_i) / (Σ_i w_i)²
//!    ```
//!
//!    ∇f is the autodiff gradient of `reduce` at m̄ (exact: a finite difference with a step set
//!    by the features' spread is not when `reduce` curves on a smaller scale, as a variance
//!    computed from mean squares does); a feature along which f is not finite counts as flat.
//! 2. **The integrated autocorrelation time** of y, in states, with Sokal's automatic window:
//!
//!    ```text
//!    ρ(t) = C(t)/C(0),  C(t) = mean of (y_i − ȳ)(y_{i+t} − ȳ) over pairs within one segment
//!    τ_int = 1/2 + Σ_{t=1}^{W} ρ(t),   W = the smallest lag with W ≥ c·τ_int(W),  c = 6
//!    ```
//!
//!    pooled over the independent runs (segments): no pair straddles a segment boundary. The
//!    variance of a mean of N correlated states is 2τ_int σ²/N, so 2τ_int is the statistical
//!    inefficiency, the number of states per independent sample (Madras & Sokal, J. Stat. Phys.
//!    50, 109, 1988; Sokal, "Monte Carlo methods in statistical mechanics: foundations and new
//!    algorithms", in *Functional Integration*, Plenum, 1997). The window stops when the pairs at
//!    lag W would cover fewer than half the states; τ_int is then unconverged. An anticorrelated
//!    or oscillating series (the twist of a duplex sampled at a fraction of its torsional
//!    period) can give τ_int below 1/2, even below 0, as the window closes at the first lags.
//! 3. **A block jackknife.** The states of each segment are grouped into blocks of
//!    b = ⌈k·max(τ_int, 1/2)⌉ consecutive states, k = [`BLOCK_TAUS`] = 10 (five statistical
//!    inefficiencies). Leaving one block out at a time gives the estimates f₋ₖ (weights
//!    renormalised over the states kept, features averaged, then `reduce` applied, so non-linear
//!    observables are handled exactly, not linearised), and
//!
//!    ```text
//!    SE² = (B − 1)/B · Σ_k (f₋ₖ − f̄)²        over the B blocks
//!    ```
//!
//!    (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461, 1989). Neighbouring blocks stay correlated
//!    over about τ_int states at their common edge, which lowers SE² by about τ_int/b for
//!    exponentially decaying correlations: 10 % at k = 10, an SE about 5 % low. A segment shorter
//!    than b is one block (independent copies are then the unit); states left at the end of a
//!    segment join its last block.
//!
//! 4. **Independent copies as a floor.** With at least [`MIN_BLOCKS`] independent copies, the
//!    jackknife over whole copies (each copy one unit) is computed too, and the larger of the two
//!    errors is reported. A slow fluctuation of small amplitude (a few per cent of the variance,
//!    decaying over hundreds of states) hides in the autocorrelation window, which closes at a
//!    few τ_int of the fast part, yet it makes the means of independent runs differ by more than
//!    the block errors say: pulled duplexes show it (`tests/mechanics.rs`, README "Mechanics").
//!    Copies cannot hide it.
//!
//! The jackknife SE over B blocks scatters by about 1/√(2(B − 1)), 27 % at B = 8. The error is
//! flagged ([`Estimate::reliable`] is false; the remedy is a longer simulation or more independent
//! copies) when fewer than [`MIN_BLOCKS`] blocks of b states fit, and it then comes from the
//! largest blocks that still leave [`MIN_BLOCKS`] (single states when there are fewer); and when
//! τ_int did not converge, unless there are at least [`MIN_BLOCKS`] independent copies: each copy
//! is then one block, whatever τ_int.

use super::{Observable, Reducer};
use serde::{Deserialize, Deserializer};

/// Block length in integrated autocorrelation times: b = ⌈`BLOCK_TAUS`·τ_int⌉.
pub const BLOCK_TAUS: f64 = 10.0;
/// Fewest blocks for a reliable error (the SE of the jackknife then scatters by about 27 %).
pub const MIN_BLOCKS: usize = 8;
/// Sokal's window constant c: the window W is the smallest lag with W ≥ c·τ_int(W).
const WINDOW_C: f64 = 6.0;

/// An observable's estimate with its standard error.
///
/// In JSON a NaN is written as `null` and read back as NaN. Files written before `tau_int`,
/// `block_len` and `reliable` existed read as τ_int = NaN, `block_len` = 0 and not reliable:
/// their errors came from the largest of the block-jackknife errors over blocks of 1, 2, 4, …
/// states, which underestimates the error of strongly correlated series.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    /// The estimate.
    #[serde(deserialize_with = "nan_if_null")]
    pub value: f64,
    /// Its standard error (block jackknife); NaN with fewer than two states.
    #[serde(deserialize_with = "nan_if_null")]
    pub std_err: f64,
    /// States used.
    pub states: usize,
    /// Blocks of the reported error.
    pub blocks: usize,
    /// Integrated autocorrelation time of the linearised series, in states (1/2 for independent
    /// states, below 1/2 for anticorrelated ones); NaN with fewer than two states.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub tau_int: f64,
    /// States per block of the reported error (a segment shorter than this is one block, states
    /// left at a segment's end join its last block); 0 with fewer than two states.
    #[serde(default)]
    pub block_len: usize,
    /// Whether the error can be trusted: τ_int converged and at least [`MIN_BLOCKS`] blocks of
    /// ⌈[`BLOCK_TAUS`]·τ_int⌉ states were available. When false, simulate longer.
    #[serde(default)]
    pub reliable: bool,
}

fn nan() -> f64 {
    f64::NAN
}

/// A number or `null` (how JSON writes NaN) as `f64`.
pub(crate) fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}±{}", fmt_sig(self.value), fmt_sig(self.std_err))
    }
}

/// A number with about five significant digits, for reports.
#[must_use]
pub fn fmt_sig(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let zero = x.abs() < f64::MIN_POSITIVE;
    if zero || (1e-4..1e6).contains(&x.abs()) {
        let digits = if zero { 0 } else { (4 - x.abs().log10().floor() as i32).max(0) as usize };
        format!("{x:.digits$}")
    } else {
        format!("{x:.4e}")
    }
}

/// `value ± std_err` for reports, or the value alone with the reason when there is no error
/// (a NaN or infinite `std_err`: fewer than two states).
#[must_use]
pub fn fmt_with_err(value: f64, std_err: f64) -> String {
    if std_err.is_finite() {
        format!("{} ± {}", fmt_sig(value), fmt_sig(std_err))
    } else {
        format!("{} (no error: fewer than 2 states)", fmt_sig(value))
    }
}

/// The estimate of `obs` from a feature table (`[states][dim]`), normalised `weights` and the
/// lengths of the independent runs (`segments`, in table order, summing to the number of states);
/// the method is in the [module docs](self).
#[must_use]
pub fn estimate(
    obs: &dyn Observable,
    reducer: &Reducer,
    table: &[Vec<f64>],
    weights: &[f64],
    segments: &[usize],
) -> Estimate {
    let n = table.len();
    let dim = obs.dim();
    let total = super::weighted_mean(table, weights, dim);
    let wsum: f64 = weights.iter().sum();
    let mean: Vec<f64> = total.iter().map(|x| x / wsum).collect();
    let value = reducer.value(obs, &mean);
    let mut e =
        Estimate { value, std_err: f64::NAN, states: n, blocks: 0, tau_int: f64::NAN, block_len: 0, reliable: false };
    if n < 2 {
        return e;
    }
    let y = linearised(obs, reducer, table, weights, &mean);
    let (tau, converged) = tau_int(&y, segments);
    let wanted = (BLOCK_TAUS * tau.max(0.5)).ceil() as usize;
    let copies = segments.iter().filter(|&&len| len > 0).count();
    let (b, reliable) = if block_count(segments, wanted) < MIN_BLOCKS {
        (largest_block_len(segments, wanted), false)
    } else if converged {
        (wanted, true)
    } else if copies >= MIN_BLOCKS {
        // τ_int is unknown, but whole independent copies are independent blocks
        (segments.iter().copied().max().unwrap_or(1), true)
    } else {
        (wanted, false)
    };
    let units = blocks(segments, b);
    e.std_err = jackknife(obs, reducer, table, weights, &total, wsum, &units);
    e.tau_int = tau;
    e.block_len = b;
    e.blocks = units.len();
    e.reliable = reliable;
    // enough independent copies: their scatter bounds the error from below, whatever the
    // autocorrelation window saw (step 4 of the module docs)
    if copies >= MIN_BLOCKS && units.len() > copies {
        let whole = blocks(segments, usize::MAX);
        let between = jackknife(obs, reducer, table, weights, &total, wsum, &whole);
        if between > e.std_err {
            e.std_err = between;
            e.blocks = whole.len();
            e.block_len = segments.iter().copied().max().unwrap_or(1);
        }
    }
    e
}

/// The linearised per-state series y_i = w_i ∇f(m̄)·(X_i − m̄) (module docs, step 1).
fn linearised(obs: &dyn Observable, reducer: &Reducer, table: &[Vec<f64>], weights: &[f64], mean: &[f64]) -> Vec<f64> {
    // a direction along which f is not finite counts as flat
    let grad: Vec<f64> = reducer.gradient(obs, mean).into_iter().map(|g| if g.is_finite() { g } else { 0.0 }).collect();
    table
        .iter()
        .zip(weights)
        .map(|(x, w)| w * x.iter().zip(mean).zip(&grad).map(|((x, m), g)| g * (x - m)).sum::<f64>())
        .collect()
}

/// Integrated autocorrelation time of `y` in states, pooled over `segments`, with Sokal's
/// window (module docs, step 2), and whether the window converged. A constant series has 1/2.
fn tau_int(y: &[f64], segments: &[usize]) -> (f64, bool) {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let c0 = d.iter().map(|v| v * v).sum::<f64>() / n as f64;
    if !(c0 > 0.0 && c0.is_finite()) {
        return (0.5, c0 == 0.0);
    }
    let (mut tau, mut t) = (0.5, 0);
    loop {
        t += 1;
        let (mut sum, mut pairs, mut start) = (0.0, 0, 0);
        for &len in segments {
            if len > t {
                sum += (start..start + len - t).map(|i| d[i] * d[i + t]).sum::<f64>();
                pairs += len - t;
            }
            start += len;
        }
        if 2 * pairs < n {
            return (tau, false);
        }
        tau += sum / pairs as f64 / c0;
        if t as f64 >= WINDOW_C * tau {
            return (tau, true);
        }
    }
}

/// The jackknife standard error over `units` (module docs, step 3), given Σ w X (`total`) and Σ w.
fn jackknife(
    obs: &dyn Observable,
    reducer: &Reducer,
    table: &[Vec<f64>],
    weights: &[f64],
    total: &[f64],
    wsum: f64,
    units: &[std::ops::Range<usize>],
) -> f64 {
    let estimates: Vec<f64> = units
        .iter()
        .map(|r| {
            let mut s = total.to_vec();
            let mut w = wsum;
            for i in r.clone() {
                w -= weights[i];
                for (sk, x) in s.iter_mut().zip(&table[i]) {
                    *sk -= weights[i] * x;
                }
            }
            reducer.value(obs, &s.iter().map(|x| x / w).collect::<Vec<_>>())
        })
        .collect();
    let k = estimates.len() as f64;
    let mean = estimates.iter().sum::<f64>() / k;
    ((k - 1.0) / k * estimates.iter().map(|f| (f - mean).powi(2)).sum::<f64>()).sqrt()
}

/// The number of blocks [`blocks`] makes (non-increasing in `b`).
fn block_count(segments: &[usize], b: usize) -> usize {
    segments.iter().filter(|&&len| len > 0).map(|&len| (len / b).max(1)).sum()
}

/// The largest block length below `b` that leaves [`MIN_BLOCKS`] blocks, or 1 when even single
/// states are fewer.
fn largest_block_len(segments: &[usize], b: usize) -> usize {
    let (mut lo, mut hi) = (1, b); // block_count(lo) ≥ MIN_BLOCKS or lo = 1; block_count(hi) < MIN_BLOCKS
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if block_count(segments, mid) >= MIN_BLOCKS {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Blocks of `b` consecutive states within each segment; leftovers join the segment's last block.
fn blocks(segments: &[usize], b: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for &len in segments {
        let count = len / b;
        for k in 0..count {
            let end = if k + 1 == count { start + len } else { start + (k + 1) * b };
            out.push(start + k * b..end);
        }
        if count == 0 && len > 0 {
            out.push(start..start + len);
        }
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::functions::ParamSource;
    use crate::energy::tensor::T1;
    use rand::{RngExt, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The mean of one feature (the default `reduce`).
    struct Mean;
    impl Observable for Mean {
        fn name(&self) -> &str {
            "mean"
        }
        fn unit(&self) -> &'static str {
            "1"
        }
        fn features(&self, _: &crate::io::Configuration) -> crate::Result<Vec<f64>> {
            Ok(vec![0.0])
        }
    }

    /// The square of the mean of one feature: a non-linear observable.
    struct Square;
    impl Observable for Square {
        fn name(&self) -> &str {
            "square"
        }
        fn unit(&self) -> &'static str {
            "1"
        }
        fn features(&self, _: &crate::io::Configuration) -> crate::Result<Vec<f64>> {
            Ok(vec![0.0])
        }
        fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
            mean.clone() * mean
        }
    }

    fn reducer() -> Reducer {
        Reducer::new(&crate::params::ParamSet::dna1_defaults())
    }

    /// μ + an AR(1) series x_t = φ x_{t−1} + √(1 − φ²) ε_t (unit variance, started stationary)
    /// per segment, as a one-feature table.
    fn ar1(phi: f64, mu: f64, segments: &[usize], rng: &mut Xoshiro256PlusPlus) -> Vec<Vec<f64>> {
        let mut out = Vec::new();
        for &len in segments {
            let mut x: f64 = rng.sample(StandardNormal);
            for _ in 0..len {
                out.push(vec![mu + x]);
                x = phi * x + (1.0 - phi * phi).sqrt() * rng.sample::<f64, _>(StandardNormal);
            }
        }
        out
    }

    /// The exact variance of the mean of L consecutive AR(1) values of unit variance.
    fn ar1_var_of_mean(phi: f64, l: usize) -> f64 {
        let l = l as f64;
        ((1.0 + phi) / (1.0 - phi) - 2.0 * phi * (1.0 - phi.powf(l)) / (l * (1.0 - phi).powi(2))) / l
    }

    /// `m` replicas: each estimate and each sample mean.
    fn replicas(
        obs: &dyn Observable,
        phi: f64,
        mu: f64,
        segments: &[usize],
        m: usize,
        seed: u64,
    ) -> Vec<(Estimate, f64)> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let r = reducer();
        let n: usize = segments.iter().sum();
        (0..m)
            .map(|_| {
                let table = ar1(phi, mu, segments, &mut rng);
                let mean = table.iter().map(|x| x[0]).sum::<f64>() / n as f64;
                (estimate(obs, &r, &table, &vec![1.0 / n as f64; n], segments), mean)
            })
            .collect()
    }

    fn rms(x: impl Iterator<Item = f64>) -> f64 {
        let v: Vec<f64> = x.collect();
        (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt()
    }

    /// AR(1), φ = 0.9, 20 000 states: τ_int = (1 + φ)/(2(1 − φ)) = 9.5 and the exact SD of the
    /// mean is 4.4 times the naive σ/√N. Sokal's estimate of τ_int scatters by
    /// √(2(2W + 1)/N) ≈ 11 % per series (W ≈ 6τ_int), so the mean over 200 series is within 5 %.
    #[test]
    fn ar1_error_and_tau_match_the_exact_values() {
        let (phi, n, m) = (0.9, 20_000, 200);
        let runs = replicas(&Mean, phi, 0.0, &[n], m, 11);
        let exact = ar1_var_of_mean(phi, n).sqrt();
        let se = rms(runs.iter().map(|r| r.0.std_err));
        let tau = runs.iter().map(|r| r.0.tau_int).sum::<f64>() / m as f64;
        let scatter = rms(runs.iter().map(|r| r.0.tau_int / 9.5 - 1.0));
        let sd_means = rms(runs.iter().map(|r| r.1)); // the true mean is 0
        eprintln!("φ = 0.9: RMS SE {se:.5}, exact {exact:.5}, SD of the means {sd_means:.5}, mean τ_int {tau:.3} (scatter {scatter:.3})");
        assert!((se / exact - 1.0).abs() < 0.2, "RMS SE {se} vs exact {exact}");
        assert!((sd_means / exact - 1.0).abs() < 0.15, "the generator: SD of the means {sd_means} vs {exact}");
        assert!((tau / 9.5 - 1.0).abs() < 0.05, "mean τ_int {tau}, exact 9.5");
        assert!(scatter < 0.2, "τ_int scatters by {scatter}");
        assert!(runs.iter().all(|r| r.0.reliable && r.0.block_len >= 50 && r.0.blocks >= MIN_BLOCKS));
        // what blocks of one state (the old method's smallest block) would report: σ/√N, far too small
        let naive = 1.0 / (n as f64).sqrt();
        assert!(se > 3.0 * naive, "RMS SE {se} vs naive {naive}");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
        let table = ar1(phi, 0.0, &[n], &mut rng);
        let w = vec![1.0 / n as f64; n];
        let b1 = jackknife(
            &Mean,
            &reducer(),
            &table,
            &w,
            &super::super::weighted_mean(&table, &w, 1),
            1.0,
            &blocks(&[n], 1),
        );
        assert!(b1 < 0.3 * exact, "b = 1 gives {b1}, exact {exact}");
    }

    /// Anticorrelated states (AR(1), φ = −0.5, τ_int = 1/6): Sokal's window closes at W = 1
    /// with τ_int ≈ 0, blocks hold 5 states, and the error (exact for blocks of 5: 13 % above
    /// the asymptotic one, still below σ/√N) stays within 20 %.
    #[test]
    fn anticorrelated_states_get_blocks_of_five() {
        let (phi, n, m) = (-0.5, 4000, 100);
        let runs = replicas(&Mean, phi, 0.0, &[n], m, 61);
        let exact = ar1_var_of_mean(phi, n).sqrt();
        let se = rms(runs.iter().map(|r| r.0.std_err));
        let tau = runs.iter().map(|r| r.0.tau_int).sum::<f64>() / m as f64;
        eprintln!(
            "φ = −0.5: RMS SE {se:.5}, exact {exact:.5}, σ/√N {:.5}, mean τ_int {tau:.3}",
            1.0 / (n as f64).sqrt()
        );
        assert!((se / exact - 1.0).abs() < 0.2, "RMS SE {se} vs exact {exact}");
        assert!(se < 1.0 / (n as f64).sqrt());
        assert!(tau.abs() < 0.1, "mean τ_int {tau}");
        assert!(runs.iter().all(|r| r.0.reliable && r.0.block_len == 5));
    }

    /// A non-linear observable (x̄², μ = 2) over 4 independent segments of AR(1) with φ = 0.5:
    /// the exact SD is √(4μ²v + 2v²), v the variance of the mean; τ_int = 1.5.
    #[test]
    fn nonlinear_observable_over_segments_gets_the_delta_method_error() {
        let (phi, mu, m) = (0.5, 2.0, 100);
        let runs = replicas(&Square, phi, mu, &[5000; 4], m, 21);
        let v = ar1_var_of_mean(phi, 5000) / 4.0;
        let exact = (4.0 * mu * mu * v + 2.0 * v * v).sqrt();
        let se = rms(runs.iter().map(|r| r.0.std_err));
        let tau = runs.iter().map(|r| r.0.tau_int).sum::<f64>() / m as f64;
        eprintln!("φ = 0.5, x̄²: RMS SE {se:.5}, exact {exact:.5}, mean τ_int {tau:.3}");
        assert!((se / exact - 1.0).abs() < 0.2, "RMS SE {se} vs exact {exact}");
        assert!((tau / 1.5 - 1.0).abs() < 0.05, "mean τ_int {tau}, exact 1.5");
        assert!(runs.iter().all(|r| r.0.reliable && r.0.block_len == (10.0 * r.0.tau_int).ceil() as usize));
    }

    /// Independent states: τ_int = 1/2 and the error is σ/√N.
    #[test]
    fn uncorrelated_states_get_the_textbook_error() {
        let (n, m) = (4000, 100);
        let runs = replicas(&Mean, 0.0, 1.0, &[n], m, 31);
        let se = rms(runs.iter().map(|r| r.0.std_err));
        let tau = runs.iter().map(|r| r.0.tau_int).sum::<f64>() / m as f64;
        let naive = 1.0 / (n as f64).sqrt();
        eprintln!("φ = 0: RMS SE {se:.5}, σ/√N {naive:.5}, mean τ_int {tau:.3}");
        assert!((se / naive - 1.0).abs() < 0.2, "RMS SE {se} vs {naive}");
        assert!((tau - 0.5).abs() < 0.05, "mean τ_int {tau}");
        assert!(runs.iter().all(|r| r.0.reliable && r.0.block_len >= 5));
    }

    /// With single-state blocks the jackknife of a plain mean is σ/√N exactly.
    #[test]
    fn jackknife_over_single_states_is_the_textbook_error() {
        let values: Vec<f64> = (0..64).map(|k| ((k * 37 % 64) as f64) / 10.0).collect();
        let table: Vec<Vec<f64>> = values.iter().map(|v| vec![*v]).collect();
        let w = vec![1.0 / 64.0; 64];
        let mean = values.iter().sum::<f64>() / 64.0;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 63.0).sqrt();
        let total = super::super::weighted_mean(&table, &w, 1);
        let se = jackknife(&Mean, &reducer(), &table, &w, &total, 1.0, &blocks(&[64], 1));
        assert!((se - sd / 8.0).abs() < 1e-12 * sd, "{se} vs {}", sd / 8.0);
        let e = estimate(&Mean, &reducer(), &table, &w, &[64]);
        assert!((e.value - mean).abs() < 1e-12);
    }

    /// 256 independent values, each held for 16 states: τ_int = 8 (half the 16 states per
    /// independent sample), and the error is that of 256 values, 4 times σ/√N over 4096 states.
    #[test]
    fn correlated_samples_get_a_larger_error() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(41);
        let vals: Vec<f64> = (0..256).map(|_| rng.sample(StandardNormal)).collect();
        let table: Vec<Vec<f64>> = (0..4096).map(|i| vec![vals[i / 16]]).collect();
        let e = estimate(&Mean, &reducer(), &table, &[1.0 / 4096.0; 4096], &[4096]);
        let m = vals.iter().sum::<f64>() / 256.0;
        let se256 = (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 255.0 / 256.0).sqrt();
        assert!((e.std_err / se256 - 1.0).abs() < 0.2, "{} vs {se256}", e.std_err);
        assert!((e.tau_int / 8.0 - 1.0).abs() < 0.25, "τ_int {}", e.tau_int);
        assert!(e.reliable && e.block_len >= 60, "{e:?}");
    }

    /// Too few states for blocks of 10 τ_int: the largest blocks leaving 8, flagged. Short
    /// independent copies, whose τ_int cannot converge: each copy is a block, and the error holds.
    #[test]
    fn short_series_are_flagged_and_copies_become_the_blocks() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(51);
        let table = ar1(0.9, 0.0, &[200], &mut rng);
        let e = estimate(&Mean, &reducer(), &table, &[1.0 / 200.0; 200], &[200]);
        assert!(!e.reliable && e.block_len == 25 && e.blocks == MIN_BLOCKS, "{e:?}");

        let runs = replicas(&Mean, 0.9, 0.0, &[50; 16], 200, 52);
        let exact = (ar1_var_of_mean(0.9, 50) / 16.0).sqrt();
        let se = rms(runs.iter().map(|r| r.0.std_err));
        let converged = runs.iter().filter(|r| r.0.block_len < 50).count();
        eprintln!(
            "16 copies of 50 states, φ = 0.9: RMS SE {se:.5}, exact {exact:.5}; τ_int converged in {converged} of 200"
        );
        assert!((se / exact - 1.0).abs() < 0.2, "RMS SE {se} vs exact {exact}");
        let odd: Vec<&Estimate> = runs.iter().map(|r| &r.0).filter(|e| !e.reliable || e.blocks != 16).collect();
        assert!(odd.is_empty(), "{odd:?}");

        let one = estimate(&Mean, &reducer(), &[vec![1.0]], &[1.0], &[1]);
        assert!(one.std_err.is_nan() && one.tau_int.is_nan() && !one.reliable && one.blocks == 0);
    }

    /// A slow fluctuation the window misses: each of 16 copies carries its own offset (6 % of
    /// the variance, constant over the copy) on top of independent states. The block errors see
    /// only the fast part (τ_int stops near 1); the copies' scatter gives the error of the mean.
    #[test]
    fn copies_bound_the_error_of_a_slow_fluctuation_the_window_misses() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(53);
        let (copies, len, offset_sd) = (16usize, 2000usize, 0.25);
        let exact = ((1.0 / len as f64 + offset_sd * offset_sd) / copies as f64).sqrt();
        let mut z = Vec::new();
        for _ in 0..100 {
            let mut table = Vec::new();
            for _ in 0..copies {
                let offset: f64 = offset_sd * rng.sample::<f64, _>(StandardNormal);
                table.extend((0..len).map(|_| vec![offset + rng.sample::<f64, _>(StandardNormal)]));
            }
            let n = table.len();
            let e = estimate(&Mean, &reducer(), &table, &vec![1.0 / n as f64; n], &[len; 16]);
            assert_eq!(e.blocks, copies, "{e:?}");
            z.push(e.value / e.std_err);
            assert!((e.std_err / exact - 1.0).abs() < 0.6, "SE {} against {exact}", e.std_err);
        }
        let sd = (z.iter().map(|x| x * x).sum::<f64>() / z.len() as f64).sqrt();
        assert!((0.8..1.25).contains(&sd), "SD of z {sd}: the errors do not cover the copies' scatter");
    }

    #[test]
    fn blocks_stay_within_segments() {
        assert_eq!(blocks(&[5, 3], 2), vec![0..2, 2..5, 5..8]);
        assert_eq!(blocks(&[5, 3], 4), vec![0..5, 5..8]);
        assert_eq!([block_count(&[5, 3], 2), block_count(&[5, 3, 0], 4)], [3, 2]);
        assert_eq!(
            [largest_block_len(&[100], 50), largest_block_len(&[10, 7], 9), largest_block_len(&[5], 9)],
            [12, 2, 1]
        );
    }

    /// NaN is written as `null` and read back; files without the new fields still read.
    #[test]
    fn estimates_round_trip_through_json_and_old_files_read() {
        let e = estimate(&Mean, &reducer(), &[vec![1.0]], &[1.0], &[1]);
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            r#"{"value":1.0,"std_err":null,"states":1,"blocks":0,"tau_int":null,"block_len":0,"reliable":false}"#
        );
        let back: Estimate = serde_json::from_str(&text).unwrap();
        assert!(back.std_err.is_nan() && (back.value - 1.0).abs() < 1e-15);
        let old: Estimate = serde_json::from_str(r#"{"value":2.5,"std_err":0.1,"states":2000,"blocks":2000}"#).unwrap();
        assert!(old.tau_int.is_nan() && old.block_len == 0 && !old.reliable && old.to_string() == "2.5000±0.10000");
        assert_eq!(
            [fmt_with_err(2.5, 0.1), fmt_with_err(2.5, f64::NAN)],
            ["2.5000 ± 0.10000", "2.5000 (no error: fewer than 2 states)"]
        );
    }
}
