//! Melting curves and melting temperatures from umbrella-sampling histograms
//! ([`crate::io::histogram`]), as oxDNA users compute them.
//!
//! **Bound states.** A state is bound when a chosen `bond` order parameter (the number of formed
//! base pairs) is at least `min_bonds` (default 1). At each extrapolation temperature T of a
//! histogram, the ratio of bound to unbound probability is
//!
//! ```text
//! Φ(T) = Σ_{bound s} N_T(s) / Σ_{unbound s} N_T(s)
//! ```
//!
//! with N_T the unbiased, reweighted counts of the histogram's column for T.
//!
//! **Two strands in a box: the finite-size correction** (Ouldridge, Louis & Doye, J. Phys.:
//! Condens. Matter 22, 104102 (2010)). One strand A and one strand B in a periodic box of volume
//! V, with z the internal partition functions and K = z_AB / (z_A z_B) the association constant:
//!
//! ```text
//! unbound, each strand moves through the whole box:   Z_unbound = V² z_A z_B
//! bound, the duplex does:                             Z_bound   = V z_AB
//! Φ = Z_bound / Z_unbound = K / V = K c               c = 1/V, the concentration of each strand
//! ```
//!
//! In bulk solution at the same concentrations, A₀ = B₀ = c, a fraction f of the strands in
//! duplexes leaves (1 − f) c of each strand free, and mass action gives the bulk yield:
//!
//! ```text
//! (f c) / ((1 − f) c)² = K   ⇒   f / (1 − f)² = K c = Φ
//! f = 1 + 1/(2Φ) − √((1 + 1/(2Φ))² − 1)     the root in [0, 1], computed as 2Φ / (2Φ + 1 + √(4Φ + 1))
//! ```
//!
//! The bulk yield is smaller than the box's own bound fraction Φ/(1 + Φ): at the melting
//! temperature, f = 1/2 and Φ = 2, the box is bound two thirds of the time. (Z_bound and
//! Z_unbound scale with V as written when the box is large enough that a strand does not meet
//! its own periodic images.) The box holds one strand of each kind, so
//! its strand concentration is c = 1/V ([`crate::units::molar_from_volume`]: 3.36 × 10⁻⁴ M at
//! box side 20); SantaLucia's total strand concentration C_T (Tm = ΔH / (ΔS + R ln(C_T/4))) is
//! 2c. At another concentration c′, K is unchanged, so Φ′ = Φ c′/c. The formula assumes two
//! different strands; a self-complementary strand (two identical strands) is not covered.
//!
//! **Hairpins** (unimolecular): Φ = K, independent of the volume, and f = Φ / (1 + Φ).
//!
//! **Melting temperature and width.** Tm is the temperature where f = 1/2; the width is
//! T(f = 0.2) − T(f = 0.8), the definition of oxDNA's `estimate_Tm.py`. Between the two
//! extrapolation temperatures that bracket a yield, ln Φ is interpolated linearly in 1/T: by van
//! 't Hoff, ln K = −ΔH/(k_B T) + ΔS/k_B, exactly linear for a two-state transition whose ΔH and
//! ΔS do not vary across the interval (oxDNA's script interpolates f linearly in T instead,
//! which differs by a few hundredths of a kelvin on a 2 K grid). Where one of the two
//! temperatures sampled only bound or only unbound states (Φ = ∞ or 0), f is interpolated
//! linearly in T. Each histogram (an independent run) gives one Tm; several give Tm as their
//! mean ± standard error (s/√n); one gives no error bar.
//!
//! Temperatures are in simulation units inside (T\[K\] / 3000), concentrations in mol/L.
//!
//! ```
//! use oxgrad::io::histogram::Histogram;
//! use oxgrad::observable::melting::{Melting, Molecularity};
//! let hist = Histogram::read("tests/data/melting/oxdna_docs_last_hist.dat")?;
//! let run = Melting::new(Molecularity::Bimolecular).run(&hist, "last_hist.dat".as_ref())?;
//! let tm = oxgrad::units::celsius_from_kt(run.tm);
//! assert!((tm - 61.15).abs() < 0.1, "{tm}"); // oxDNA's estimate_Tm.py: 61.149 °C
//! # Ok::<(), oxgrad::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::io::histogram::Histogram;
use crate::math::Real;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How many strands a melting transition involves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Molecularity {
    /// Two different strands forming a duplex: the finite-size correction applies.
    Bimolecular,
    /// One strand folding (a hairpin): f = Φ / (1 + Φ).
    Unimolecular,
}

impl Molecularity {
    /// The yield f for a bound/unbound ratio Φ (the [module docs](self) derive both).
    ///
    /// ```
    /// use oxgrad::observable::melting::Molecularity;
    /// assert!((Molecularity::Bimolecular.yield_of(2.0) - 0.5).abs() < 1e-15);
    /// assert!((Molecularity::Unimolecular.yield_of(1.0) - 0.5).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn yield_of(self, phi: f64) -> f64 {
        if phi == f64::INFINITY {
            return 1.0;
        }
        match self {
            Molecularity::Bimolecular => 2.0 * phi / (2.0 * phi + 1.0 + (4.0 * phi + 1.0).sqrt()),
            Molecularity::Unimolecular => phi / (1.0 + phi),
        }
    }

    /// The ratio Φ that gives the yield `f` in (0, 1): the inverse of [`Molecularity::yield_of`].
    #[must_use]
    pub fn ratio_of(self, f: f64) -> f64 {
        match self {
            Molecularity::Bimolecular => f / ((1.0 - f) * (1.0 - f)),
            Molecularity::Unimolecular => f / (1.0 - f),
        }
    }
}

/// How to turn histograms into melting curves (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Melting {
    /// Duplex or hairpin.
    pub molecularity: Molecularity,
    /// The position of the `bond` order parameter in the histogram's states.
    pub order_parameter: usize,
    /// A state is bound when that parameter is at least this.
    pub min_bonds: i32,
    /// The simulation box's volume, cubic oxDNA length units (needed for concentrations).
    pub box_volume: Option<f64>,
    /// The strand concentration (mol/L) at which to report yields; `None`: the box's.
    pub concentration: Option<f64>,
}

/// The melting curve of one histogram, temperatures ascending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeltingCurve {
    /// Extrapolation temperatures, simulation units.
    pub temperatures: Vec<f64>,
    /// Φ, bound over unbound probability, in the simulation box.
    pub ratios: Vec<f64>,
    /// The yield f at the reported concentration (bulk, finite-size corrected, for duplexes).
    pub yields: Vec<f64>,
    /// Φ at the reported concentration over Φ in the box (c′/c for duplexes, else 1).
    pub scale: f64,
    /// Duplex or hairpin.
    pub molecularity: Molecularity,
}

/// One histogram's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeltingRun {
    /// The histogram file.
    pub source: PathBuf,
    /// Its melting curve.
    pub curve: MeltingCurve,
    /// Its melting temperature, simulation units.
    pub tm: f64,
    /// T(f = 0.2) − T(f = 0.8), simulation units; `None` if the temperatures do not span both.
    pub width: Option<f64>,
}

/// A mean over independent runs with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSe {
    /// The mean.
    pub mean: f64,
    /// s/√n; `None` with one run.
    pub std_err: Option<f64>,
    /// The number of runs.
    pub n: usize,
}

impl MeanSe {
    /// The mean and standard error of independent values (`None` if there are none).
    #[must_use]
    pub fn of(values: &[f64]) -> Option<MeanSe> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std_err = (n >= 2).then(|| {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            (var / n as f64).sqrt()
        });
        Some(MeanSe { mean, std_err, n })
    }
}

/// Melting temperature and width over independent runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeltingSummary {
    /// One result per histogram, in the order given.
    pub runs: Vec<MeltingRun>,
    /// Tm, simulation units.
    pub tm: MeanSe,
    /// The width over the runs that have one, simulation units.
    pub width: Option<MeanSe>,
    /// The strand concentration in the box, mol/L, if its volume is known.
    pub box_concentration: Option<f64>,
    /// The concentration the yields are reported at, mol/L (the box's unless another was asked).
    pub concentration: Option<f64>,
}

impl MeltingSummary {
    /// The yield at each temperature averaged over the runs, if all runs share their
    /// temperatures: `(T, mean f)`, simulation units.
    #[must_use]
    pub fn mean_curve(&self) -> Option<Vec<(f64, f64)>> {
        let first = &self.runs.first()?.curve.temperatures;
        let same = self.runs.iter().all(|r| {
            r.curve.temperatures.len() == first.len()
                && r.curve.temperatures.iter().zip(first).all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs())
        });
        same.then(|| {
            (0..first.len())
                .map(|k| (first[k], self.runs.iter().map(|r| r.curve.yields[k]).sum::<f64>() / self.runs.len() as f64))
                .collect()
        })
    }
}

impl Melting {
    /// A duplex or hairpin analysis with the defaults: the first order parameter, bound from one
    /// base pair, yields at the box's concentration.
    #[must_use]
    pub fn new(molecularity: Molecularity) -> Melting {
        Melting { molecularity, order_parameter: 0, min_bonds: 1, box_volume: None, concentration: None }
    }

    /// The position of the `bond` order parameter in the states (see
    /// [`crate::io::order_parameter::OrderParameters::position`]).
    #[must_use]
    pub fn order_parameter(mut self, position: usize) -> Melting {
        self.order_parameter = position;
        self
    }

    /// The fewest formed base pairs of a bound state (default 1).
    pub fn min_bonds(mut self, n: i32) -> Result<Melting> {
        if n < 1 {
            return Err(Error::invalid("min_bonds", n, "at least 1 base pair: a state with none is unbound"));
        }
        self.min_bonds = n;
        Ok(self)
    }

    /// The box's volume in cubic oxDNA length units (a cube of side L: L³).
    pub fn box_volume(mut self, volume: f64) -> Result<Melting> {
        if !(volume.is_finite() && volume > 0.0) {
            return Err(Error::invalid(
                "box volume",
                volume,
                "a positive volume in cubic oxDNA length units (side 20: 8000)",
            ));
        }
        self.box_volume = Some(volume);
        Ok(self)
    }

    /// Report yields at another strand concentration (mol/L); duplexes only, and the box's
    /// volume must be known.
    pub fn concentration(mut self, molar: f64) -> Result<Melting> {
        if !(molar.is_finite() && molar > 0.0) {
            return Err(Error::invalid("concentration", molar, "a positive strand concentration in mol/L, e.g. 1e-6"));
        }
        if self.molecularity == Molecularity::Unimolecular {
            return Err(Error::invalid(
                "concentration",
                molar,
                "a hairpin's yield does not depend on the concentration (one strand folds on itself); leave it out",
            ));
        }
        self.concentration = Some(molar);
        Ok(self)
    }

    /// The strand concentration in the box, mol/L (one strand of each kind in its volume).
    #[must_use]
    pub fn box_concentration(&self) -> Option<f64> {
        self.box_volume.map(crate::units::molar_from_volume)
    }

    fn scale(&self) -> Result<f64> {
        match (self.concentration, self.box_concentration()) {
            (None, _) => Ok(1.0),
            (Some(c), Some(c_box)) => Ok(c / c_box),
            (Some(c), None) => Err(Error::invalid(
                "concentration",
                c,
                "the box's volume is needed to move yields to another concentration: give the box side or the input file",
            )),
        }
    }

    /// The melting curve of one histogram; `source` names it in errors.
    pub fn curve(&self, hist: &Histogram, source: &Path) -> Result<MeltingCurve> {
        let what = || format!("melting curve of {}", source.display());
        let dims = hist.sizes.len();
        if self.order_parameter >= dims {
            return Err(Error::mismatch(
                what(),
                format!(
                    "order parameter {} asked for, but the histogram has {dims} (positions 0 to {})",
                    self.order_parameter,
                    dims - 1
                ),
            ));
        }
        if hist.temperatures.len() < 2 {
            return Err(Error::mismatch(
                what(),
                format!(
                    "{} extrapolation temperature(s) in the histogram; at least two are needed to interpolate Tm: list temperatures around the expected Tm in the input's extrapolate_hist",
                    hist.temperatures.len()
                ),
            ));
        }
        let scale = if self.molecularity == Molecularity::Bimolecular { self.scale()? } else { 1.0 };
        let mut order: Vec<usize> = (0..hist.temperatures.len()).collect();
        order.sort_by(|a, b| hist.temperatures[*a].total_cmp(&hist.temperatures[*b]));
        // a run that never left the bound states (or never bound) says nothing about the
        // transition, whatever the extrapolation: say so rather than a Tm outside the range
        let visited = |bound: bool| {
            hist.rows.iter().any(|r| (r.state[self.order_parameter] >= self.min_bonds) == bound && r.biased > 0.0)
        };
        for (bound, which, hint) in
            [(false, "unbound", "the strands never parted"), (true, "bound", "the strands never paired")]
        {
            if !visited(bound) {
                return Err(Error::mismatch(
                    what(),
                    format!(
                        "no {which} state was visited ({hint}; bound: the order parameter at position {} ≥ {}): the run has not sampled the transition; run longer, or weigh the {which} states more in the weights file",
                        self.order_parameter,
                        self.min_bonds
                    ),
                ));
            }
        }
        let mut ratios = Vec::with_capacity(order.len());
        for &k in &order {
            let (mut bound, mut unbound) = (0.0, 0.0);
            for row in &hist.rows {
                if row.state[self.order_parameter] >= self.min_bonds {
                    bound += row.extrapolated[k];
                } else {
                    unbound += row.extrapolated[k];
                }
            }
            if bound + unbound <= 0.0 {
                return Err(Error::mismatch(
                    what(),
                    format!(
                        "no counts at {:.2} K: the column is empty (the run recorded no state yet)",
                        crate::units::kelvin_from_kt(hist.temperatures[k])
                    ),
                ));
            }
            ratios.push(bound / unbound);
        }
        let yields = ratios.iter().map(|phi| self.molecularity.yield_of(phi * scale)).collect();
        let temperatures = order.iter().map(|k| hist.temperatures[*k]).collect();
        Ok(MeltingCurve { temperatures, ratios, yields, scale, molecularity: self.molecularity })
    }

    /// The melting temperature and width of one histogram.
    pub fn run(&self, hist: &Histogram, source: &Path) -> Result<MeltingRun> {
        let curve = self.curve(hist, source)?;
        let Some(tm) = curve.temperature_at(0.5) else {
            let (lo, hi) = (curve.temperatures[0], curve.temperatures[curve.temperatures.len() - 1]);
            let k = |t: f64| crate::units::kelvin_from_kt(t);
            let side = if curve.yields.iter().all(|f| *f > 0.5) { "above the highest" } else { "below the lowest" };
            let range: Vec<String> = curve.yields.iter().map(|f| format!("{f:.3}")).collect();
            return Err(Error::mismatch(
                format!("melting temperature of {}", source.display()),
                format!(
                    "the yield does not cross 1/2 between {:.2} K and {:.2} K (yields {}): Tm lies {side} temperature; extend extrapolate_hist",
                    k(lo),
                    k(hi),
                    range.join(", ")
                ),
            ));
        };
        let width = curve.temperature_at(0.2).zip(curve.temperature_at(0.8)).map(|(t20, t80)| t20 - t80);
        Ok(MeltingRun { source: source.to_path_buf(), curve, tm, width })
    }

    /// Tm and width over independent runs, one histogram each.
    pub fn analyse(&self, histograms: &[(PathBuf, Histogram)]) -> Result<MeltingSummary> {
        let runs = histograms.iter().map(|(p, h)| self.run(h, p)).collect::<Result<Vec<_>>>()?;
        let tms: Vec<f64> = runs.iter().map(|r| r.tm).collect();
        let tm =
            MeanSe::of(&tms).ok_or_else(|| Error::invalid("histograms", "none", "give at least one histogram file"))?;
        let widths: Vec<f64> = runs.iter().filter_map(|r| r.width).collect();
        let box_concentration = self.box_concentration();
        let concentration = self.concentration.or(box_concentration);
        Ok(MeltingSummary { runs, tm, width: MeanSe::of(&widths), box_concentration, concentration })
    }
}

impl MeltingCurve {
    /// The temperature (simulation units) where the yield is `f`, interpolated as the
    /// [module docs](self) say; `None` if the curve does not reach `f`. The first crossing from
    /// the lowest temperature counts.
    #[must_use]
    pub fn temperature_at(&self, f: f64) -> Option<f64> {
        let target = self.molecularity.ratio_of(f).ln();
        let t = &self.temperatures;
        let g: Vec<f64> = self.ratios.iter().map(|phi| (phi * self.scale).ln() - target).collect();
        (0..t.len().saturating_sub(1)).find_map(|k| {
            let (a, b) = (g[k], g[k + 1]);
            if a == 0.0 {
                return Some(t[k]);
            }
            if (a > 0.0) == (b > 0.0) || b.is_nan() || a.is_nan() {
                return None;
            }
            if a.is_finite() && b.is_finite() {
                Some(crossing(t[k], t[k + 1], a, b))
            } else {
                let (fa, fb) = (self.yields[k], self.yields[k + 1]);
                Some(t[k] + (t[k + 1] - t[k]) * (fa - f) / (fa - fb))
            }
        })
    }
}

/// Where g, linear in 1/T between (T_a, g_a) and (T_b, g_b), is zero: the temperature
/// 1 / (1/T_a + (1/T_b − 1/T_a) g_a / (g_a − g_b)). The one interpolation of Tm, for `f64` curves
/// and for the differentiated tensors of [`super::melting_temperature`].
pub fn crossing<R: Real>(ta: f64, tb: f64, ga: R, gb: R) -> R {
    let (xa, xb) = (1.0 / ta, 1.0 / tb);
    ((ga.clone() / (ga - gb)) * (xb - xa) + xa).recip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// The bulk yield solves mass action f / (1 − f)² = Φ (a second, independent route: bisection).
    #[test]
    fn bimolecular_yield_solves_mass_action() {
        for phi in [1e-9, 1e-3, 0.3125, 1.0, 2.0, 20.0, 1e6, 1e12] {
            let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid / ((1.0 - mid) * (1.0 - mid)) < phi {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let f = Molecularity::Bimolecular.yield_of(phi);
            assert_relative_eq!(f, 0.5 * (lo + hi), max_relative = 1e-12);
            // the literal form of Ouldridge et al. agrees where it does not cancel its digits away
            if (1e-3..1e4).contains(&phi) {
                let x = 1.0 + 1.0 / (2.0 * phi);
                assert_relative_eq!(f, x - (x * x - 1.0).sqrt(), max_relative = 1e-6);
            }
            assert_relative_eq!(Molecularity::Bimolecular.ratio_of(f), phi, max_relative = 1e-9);
        }
        assert_eq!(Molecularity::Bimolecular.yield_of(0.0), 0.0);
        assert_eq!(Molecularity::Bimolecular.yield_of(f64::INFINITY), 1.0);
        assert_relative_eq!(Molecularity::Unimolecular.yield_of(3.0), 0.75);
    }

    #[test]
    fn mean_and_standard_error() {
        let m = MeanSe::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_relative_eq!(m.mean, 2.5);
        assert_relative_eq!(m.std_err.unwrap(), (5.0_f64 / 3.0 / 4.0).sqrt());
        assert_eq!(MeanSe::of(&[7.0]).unwrap().std_err, None);
        assert!(MeanSe::of(&[]).is_none());
    }

    #[test]
    fn settings_are_checked() {
        let m = Melting::new(Molecularity::Unimolecular);
        assert_eq!(
            m.clone().concentration(1e-6).unwrap_err().to_string(),
            "invalid concentration = 0.000001: a hairpin's yield does not depend on the concentration (one strand folds on itself); leave it out"
        );
        assert!(m.clone().min_bonds(0).is_err() && m.box_volume(-1.0).is_err());
        let d = Melting::new(Molecularity::Bimolecular).concentration(1e-6).unwrap();
        let h = Histogram::new(vec![2], vec![0.1, 0.11]).unwrap();
        assert_eq!(
            d.curve(&h, Path::new("h.dat")).unwrap_err().to_string(),
            "invalid concentration = 0.000001: the box's volume is needed to move yields to another concentration: give the box side or the input file"
        );
    }
}
