//! Persistence length of a duplex from tangent correlations, nm.
//!
//! With base-pair midpoints m_k (see [`super::helix`]), steps l_k = m_{k+1} − m_k and unit
//! tangents t_k = l_k / |l_k|, the correlation at separation n is C_n = mean_k t_k · t_{k+n}. A
//! worm-like chain has ⟨C_n⟩ = exp(−n ⟨|l|⟩ / L_p), so
//!
//! ```text
//! slope s = Σ_n n ln⟨C_n⟩ / Σ_n n²        (least squares through the origin, n = 1…n_max)
//! L_p = −⟨|l|⟩ / s                         [nm]
//! ```
//!
//! The correlations are averaged over states (with DiffTRe's weights) before the logarithm is
//! taken, as in mythos' `PersistenceLength`; the result is in nm (mythos returned oxDNA units
//! labelled nm). The default `n_max` is half the number of steps. Pairs near the ends
//! fray; by default two are dropped at each end. oxDNA1 gives roughly 40–50 nm at 300 K on a
//! 60-bp duplex; duplexes much shorter than L_p give a noisy estimate.

use super::helix::BasePairs;
use super::{nm, Observable};
use crate::energy::functions::ParamSource;
use crate::energy::tensor::T1;
use crate::error::{Error, Result};
use crate::io::Configuration;
use burn::tensor::TensorData;

/// Persistence length of the selected base pairs' axis.
#[derive(Debug, Clone)]
pub struct PersistenceLength {
    pairs: BasePairs,
    max_lag: usize,
}

impl PersistenceLength {
    /// Over `pairs` (at least three), fitting separations 1…`max_lag` (default: half the steps).
    pub fn new(pairs: BasePairs, max_lag: Option<usize>) -> Result<PersistenceLength> {
        let steps = pairs.len().saturating_sub(1);
        if steps < 2 {
            return Err(Error::invalid(
                "persistence_length",
                format!("{} base pairs", pairs.len()),
                "needs at least three base pairs: use a longer duplex or lower exclude_end_pairs",
            ));
        }
        let max_lag = max_lag.unwrap_or((steps / 2).max(1));
        if max_lag == 0 || max_lag >= steps {
            return Err(Error::invalid(
                "max_lag",
                max_lag,
                format!("between 1 and {} (one less than the {steps} base-pair steps)", steps - 1),
            ));
        }
        Ok(PersistenceLength { pairs, max_lag })
    }
}

impl Observable for PersistenceLength {
    fn name(&self) -> &str {
        "persistence_length"
    }
    fn unit(&self) -> &'static str {
        "nm"
    }
    fn dim(&self) -> usize {
        self.max_lag + 1
    }
    /// C_1 … C_{n_max} and the mean step length (oxDNA units).
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        let steps = self.pairs.steps(conf);
        let t: Vec<_> = steps.iter().map(|s| s.dm.normalized()).collect();
        let mut out: Vec<f64> = (1..=self.max_lag)
            .map(|n| {
                let m = t.len() - n;
                (0..m).map(|k| t[k].dot(t[k + n])).sum::<f64>() / m as f64
            })
            .collect();
        out.push(steps.iter().map(|s| s.dm.norm()).sum::<f64>() / steps.len() as f64);
        Ok(out)
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        let l = self.max_lag;
        let lags: Vec<f64> = (1..=l).map(|n| n as f64).collect();
        let sum_n2: f64 = lags.iter().map(|n| n * n).sum();
        let lags = T1::from_data(TensorData::new(lags, [l]), &mean.device());
        // −slope = −Σ n ln C_n / Σ n² ≥ 0 (C_n ≤ 1); a straight rod (C_n = 1) has L_p = +∞
        let neg_slope = (-(mean.clone().slice(0..l).log() * lags).sum() / sum_n2).clamp_min(0.0);
        nm(mean.slice(l..l + 1) / neg_slope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Vec3;

    /// Base pairs whose midpoints follow a circular arc turning by `alpha` per step: C_n = cos(nα).
    fn arc(n_pairs: usize, alpha: f64, step: f64) -> (BasePairs, Configuration) {
        let radius = step / (2.0 * (alpha / 2.0).sin());
        let mut r = Vec::new();
        for k in 0..n_pairs {
            let phi = k as f64 * alpha;
            let m = Vec3::new(radius * phi.cos(), radius * phi.sin(), 0.0);
            r.push(m + Vec3::new(0.0, 0.0, 0.6));
            r.push(m - Vec3::new(0.0, 0.0, 0.6));
        }
        let n = r.len();
        let x = vec![Vec3::new(1.0, 0.0, 0.0); n];
        let conf = Configuration {
            step: 0,
            box_sides: Vec3::new(1e3, 1e3, 1e3),
            energy: [0.0; 3],
            r,
            a1: x.clone(),
            a3: vec![Vec3::new(0.0, 1.0, 0.0); n],
            v: x.clone(),
            l: x,
        };
        let pairs = BasePairs::from_pairs((0..n_pairs).map(|k| (2 * k, 2 * k + 1)).collect(), 0).unwrap();
        (pairs, conf)
    }

    #[test]
    fn correlations_of_an_arc_are_cosines_and_the_fit_is_the_closed_form() {
        let (alpha, step) = (0.05, 0.39);
        let (pairs, conf) = arc(20, alpha, step);
        let lp = PersistenceLength::new(pairs, Some(6)).unwrap();
        let x = lp.features(&conf).unwrap();
        for n in 1..=6 {
            assert!((x[n - 1] - (n as f64 * alpha).cos()).abs() < 1e-12);
        }
        assert!((x[6] - step).abs() < 1e-12);
        // the fit, computed independently: Lp = −l Σn² / Σ n ln cos(nα)
        let num: f64 = (1..=6).map(|n| (n * n) as f64).sum();
        let den: f64 = (1..=6).map(|n| n as f64 * (n as f64 * alpha).cos().ln()).sum();
        let expected = -step * num / den * crate::units::LENGTH_NM;
        let got = super::super::value(&lp, &[x], &[1.0], &crate::params::ParamSet::dna1_defaults());
        assert!((got - expected).abs() < 1e-9 * expected, "{got} vs {expected}");
    }
}
