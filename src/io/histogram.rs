//! oxDNA's umbrella-sampling histograms, `last_hist.dat` and `traj_hist.dat`, in the format of
//! oxDNA's `Histogram::print_to_file` (`src/Utilities/Histogram.cpp`, oxDNA v3.7), so that
//! oxDNA's own scripts (`estimate_Tm.py`) read what oxgrad writes and oxgrad reads what oxDNA
//! writes.
//!
//! ```text
//! #t = 800000000; extr. Ts: 0.108383 0.10905
//! 0 7.82092e+09 9.77615e+08 1.65144e+10 9.03838e+09
//! 1 1.14272e+08 7052.11 146764 76907.7
//! ```
//!
//! The header gives the step and the extrapolation temperatures (`extrapolate_hist`) in
//! simulation units (T\[K\] / 3000). Then one row per state, the first order parameter varying
//! fastest: the state's values, the biased count `N(s)` (Monte Carlo steps spent in `s`), the
//! unbiased count `Σ 1/w(s)` over those steps (`w` the umbrella weight) and, per extrapolation
//! temperature T′, the reweighted count `Σ exp(−[E(T′)/T′ − E(T)/T]) / w(s)`, where E(T) is the
//! energy of the visited configuration at the simulation temperature T and E(T′) the same
//! configuration's energy at T′ (oxDNA's stacking strength, and Debye–Hückel screening, depend on
//! the temperature). Each column of unbiased counts is proportional to the probability of each
//! state at its temperature (Ferrenberg & Swendsen, Phys. Rev. Lett. 61, 2635 (1988)).
//!
//! `last_hist.dat` holds one such block, the histogram so far; `traj_hist.dat` one block per
//! output step, appended. oxDNA writes counts with `%g` (six significant digits); oxgrad writes
//! the shortest text that reads back to the identical number, so a write–read round trip is exact.
//!
//! ```
//! use oxgrad::io::histogram::Histogram;
//! let mut h = Histogram::new(vec![9], vec![0.108383, 0.10905])?; // 8 base pairs, two temperatures
//! let e = -2.5; // this step's energy at T = 0.11, and at the two temperatures below
//! let f = [Histogram::extrapolation_factor(e, 0.11, -2.6, 0.108383), Histogram::extrapolation_factor(e, 0.11, -2.55, 0.10905)];
//! h.add(&[3], 359.7, &f)?; // one step in state 3, umbrella weight 359.7
//! assert_eq!(h.rows[3].biased, 1.0);
//! assert!((h.rows[3].unbiased - 1.0 / 359.7).abs() < 1e-15);
//! # Ok::<(), oxgrad::Error>(())
//! ```

use crate::error::{quoted, Error, Result};
use crate::io::input::InputFile;
use crate::io::order_parameter::{all_states, OrderParameters};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// The most states a histogram holds (a guard against a corrupt state value in a file).
pub const MAX_STATES: usize = 1 << 22;

/// An umbrella-sampling histogram (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The step at which it was written.
    pub step: u64,
    /// The extrapolation temperatures, simulation units (T\[K\] / 3000).
    pub temperatures: Vec<f64>,
    /// The number of states of each order parameter.
    pub sizes: Vec<usize>,
    /// Every state, the first order parameter varying fastest (oxDNA's order).
    pub rows: Vec<HistogramRow>,
    /// Write only visited states (oxDNA's `skip_hist_zeros`): rows whose counts are all zero are
    /// left out. A file does not record the number of states, so a histogram read back from such
    /// a file has as many states per order parameter as its largest visited value + 1.
    pub skip_zeros: bool,
}

/// The counts of one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramRow {
    /// One value per order parameter.
    pub state: Vec<i32>,
    /// Steps spent in the state (biased by the umbrella weights).
    pub biased: f64,
    /// `Σ 1/w` over those steps: proportional to the state's probability without bias.
    pub unbiased: f64,
    /// Per extrapolation temperature, the reweighted unbiased count.
    pub extrapolated: Vec<f64>,
}

impl HistogramRow {
    /// Whether every count is zero (an unvisited state).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.biased == 0.0 && self.unbiased == 0.0 && self.extrapolated.iter().all(|e| *e == 0.0)
    }
}

impl Histogram {
    /// An empty histogram for order parameters with `sizes` states each, extrapolated to
    /// `temperatures` (simulation units).
    pub fn new(sizes: Vec<usize>, temperatures: Vec<f64>) -> Result<Histogram> {
        let total = sizes.iter().try_fold(1usize, |acc, s| acc.checked_mul(*s)).unwrap_or(usize::MAX);
        if sizes.is_empty() || sizes.contains(&0) || total > MAX_STATES {
            return Err(Error::invalid(
                "histogram sizes",
                format!("{sizes:?}"),
                format!(
                    "one or more order parameters, each with at least one state, at most {MAX_STATES} states in all"
                ),
            ));
        }
        for t in &temperatures {
            crate::units::check_kt(*t).map_err(|msg| Error::invalid("extrapolation temperature", t, msg))?;
        }
        let n = temperatures.len();
        let rows = all_states(&sizes)
            .map(|state| HistogramRow { state, biased: 0.0, unbiased: 0.0, extrapolated: vec![0.0; n] })
            .collect();
        Ok(Histogram { step: 0, temperatures, sizes, rows, skip_zeros: false })
    }

    /// An empty histogram for the states of `ops`.
    pub fn for_order_parameters(ops: &OrderParameters, temperatures: Vec<f64>) -> Result<Histogram> {
        Histogram::new(ops.sizes(), temperatures)
    }

    /// The row of `state`, if it is one of the histogram's states.
    #[must_use]
    pub fn index(&self, state: &[i32]) -> Option<usize> {
        if state.len() != self.sizes.len() {
            return None;
        }
        let mut index = 0;
        let mut stride = 1;
        for (v, size) in state.iter().zip(&self.sizes) {
            let v = usize::try_from(*v).ok().filter(|v| v < size)?;
            index += v * stride;
            stride *= size;
        }
        Some(index)
    }

    /// Records one step in `state` with umbrella weight `weight`; `factors[k]` is the step's
    /// reweighting factor to `temperatures[k]` ([`Histogram::extrapolation_factor`]). As in
    /// oxDNA, a weight of zero or less counts as 1 in the unbiased columns.
    pub fn add(&mut self, state: &[i32], weight: f64, factors: &[f64]) -> Result<()> {
        if factors.len() != self.temperatures.len() {
            return Err(Error::mismatch(
                "histogram extrapolation",
                format!("{} factor(s) for {} temperature(s)", factors.len(), self.temperatures.len()),
            ));
        }
        let Some(i) = self.index(state) else {
            return Err(Error::mismatch(
                "histogram state",
                format!("{state:?} is not a state of order parameters with {:?} states", self.sizes),
            ));
        };
        let w = if weight > 0.0 { weight } else { 1.0 };
        let row = &mut self.rows[i];
        row.biased += 1.0;
        row.unbiased += 1.0 / w;
        for (e, f) in row.extrapolated.iter_mut().zip(factors) {
            *e += f / w;
        }
        Ok(())
    }

    /// The factor that moves one configuration from temperature `kt` to `kt_at` (simulation
    /// units): exp(−[E(T′)/T′ − E(T)/T]), with `energy` = E(T) and `energy_at` = E(T′), the
    /// configuration's total energy (the bias excluded) at each temperature.
    #[must_use]
    pub fn extrapolation_factor(energy: f64, kt: f64, energy_at: f64, kt_at: f64) -> f64 {
        (-(energy_at / kt_at - energy / kt)).exp()
    }

    /// The file's text: one header, one row per state (visited states only with `skip_zeros`).
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = format!("#t = {}; extr. Ts:", self.step);
        for t in &self.temperatures {
            let _ = write!(out, " {}", number(*t));
        }
        out.push('\n');
        for row in self.rows.iter().filter(|r| !self.skip_zeros || !r.is_empty()) {
            for v in &row.state {
                let _ = write!(out, "{v} ");
            }
            let _ = write!(out, "{} {}", number(row.biased), number(row.unbiased));
            for e in &row.extrapolated {
                let _ = write!(out, " {}", number(*e));
            }
            out.push('\n');
        }
        out
    }

    /// Writes the histogram to `path` (`last_hist.dat`), whole or not at all.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::atomic::write(path.as_ref(), self.to_text().as_bytes())
    }

    /// Appends the histogram to `path` (`traj_hist.dat`), created if needed, in one write.
    pub fn append(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut f = std::fs::File::options()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io("append to histogram", path, e))?;
        f.write_all(self.to_text().as_bytes())
            .and_then(|()| f.flush())
            .map_err(|e| Error::io("append to histogram", path, e))
    }

    /// Reads a histogram file: its last block (all of `last_hist.dat`; the latest, cumulative
    /// histogram of `traj_hist.dat`).
    ///
    /// ```
    /// use oxgrad::io::histogram::Histogram;
    /// let h = Histogram::read("tests/data/melting/oxdna_docs_last_hist.dat")?;
    /// assert_eq!((h.step, h.temperatures.len(), h.sizes.clone()), (800_000_000, 10, vec![9]));
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Histogram> {
        let path = path.as_ref();
        let mut all = Histogram::read_all(path)?;
        all.pop().ok_or_else(|| Error::parse(path, 0, "a histogram ('#t = …; extr. Ts: …' and rows)", "an empty file"))
    }

    /// Reads every block of a histogram file (`traj_hist.dat`), in order.
    pub fn read_all(path: impl AsRef<Path>) -> Result<Vec<Histogram>> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read histogram", path, e))?;
        Histogram::parse_all(&text, path)
    }

    /// Parses the blocks of a histogram file; `source` names it in errors. States a block does
    /// not list (oxDNA's `skip_hist_zeros`) are unvisited: zero counts. The number of states of
    /// each order parameter is its largest listed value + 1.
    pub fn parse_all(text: &str, source: &Path) -> Result<Vec<Histogram>> {
        let mut blocks: Vec<(Block, usize)> = Vec::new();
        for (k, raw) in text.lines().enumerate() {
            let line = k + 1;
            let content = raw.trim();
            if let Some(rest) = content.strip_prefix("#t") {
                blocks.push((header(rest, source, line, content)?, line));
            } else if content.is_empty() || content.starts_with('#') {
                continue;
            } else {
                let Some((block, _)) = blocks.last_mut() else {
                    return Err(Error::parse(source, line, "a header '#t = STEP; extr. Ts: …' first", quoted(content)));
                };
                block.rows.push(row(content, block.temperatures.len(), block.rows.first(), source, line)?);
            }
        }
        blocks.into_iter().map(|(b, line)| b.into_histogram(source, line)).collect()
    }
}

/// A block as read, before its sizes are known.
struct Block {
    step: u64,
    temperatures: Vec<f64>,
    rows: Vec<(HistogramRow, usize)>,
}

fn header(rest: &str, source: &Path, line: usize, content: &str) -> Result<Block> {
    const EXPECTED: &str = "a header '#t = STEP; extr. Ts: T1 T2 …' (temperatures in simulation units)";
    let bad = || Error::parse(source, line, EXPECTED, quoted(content));
    let (step, temps) = rest.trim_start().strip_prefix('=').and_then(|r| r.split_once(';')).ok_or_else(bad)?;
    let step = step.trim().parse::<u64>().map_err(|_| bad())?;
    let temps = temps.trim_start().strip_prefix("extr. Ts:").ok_or_else(bad)?;
    let temperatures = temps
        .split_whitespace()
        .map(|t| t.parse::<f64>().ok().and_then(|t| crate::units::check_kt(t).ok()))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(bad)?;
    Ok(Block { step, temperatures, rows: Vec::new() })
}

fn row(
    content: &str,
    n_temps: usize,
    first: Option<&(HistogramRow, usize)>,
    source: &Path,
    line: usize,
) -> Result<(HistogramRow, usize)> {
    let words: Vec<&str> = content.split_whitespace().collect();
    let dims = match first {
        Some((r, _)) => r.state.len(),
        None => words.len().saturating_sub(2 + n_temps).max(1),
    };
    let expected = format!(
        "{dims} state value(s), the biased and the unbiased count and {n_temps} extrapolated count(s) (one per temperature of the header)"
    );
    if words.len() != dims + 2 + n_temps {
        return Err(Error::parse(source, line, expected, format!("{} numbers in {}", words.len(), quoted(content))));
    }
    let state = words[..dims]
        .iter()
        .map(|w| w.parse::<i32>().ok().filter(|v| *v >= 0))
        .collect::<Option<Vec<i32>>>()
        .ok_or_else(|| Error::parse(source, line, "whole numbers ≥ 0 for the state", quoted(content)))?;
    let counts = words[dims..]
        .iter()
        .map(|w| w.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| Error::parse(source, line, "counts that are finite numbers ≥ 0", quoted(content)))?;
    Ok((HistogramRow { state, biased: counts[0], unbiased: counts[1], extrapolated: counts[2..].to_vec() }, line))
}

impl Block {
    fn into_histogram(self, source: &Path, header_line: usize) -> Result<Histogram> {
        let Some((first, _)) = self.rows.first() else {
            return Err(Error::parse(source, header_line, "rows of states after this header", "none"));
        };
        let mut sizes = vec![0usize; first.state.len()];
        for (r, _) in &self.rows {
            for (s, v) in sizes.iter_mut().zip(&r.state) {
                *s = (*s).max(usize::try_from(*v).unwrap_or(usize::MAX).saturating_add(1));
            }
        }
        let mut h = Histogram::new(sizes, self.temperatures).map_err(|_| {
            Error::parse(
                source,
                header_line,
                format!("states with at most {MAX_STATES} combinations"),
                "larger state values",
            )
        })?;
        h.step = self.step;
        let mut listed = vec![0usize; h.rows.len()];
        for (r, line) in self.rows {
            let i = h.index(&r.state).expect("invariant: sizes cover every listed state");
            if listed[i] > 0 {
                return Err(Error::parse(
                    source,
                    line,
                    "one row per state",
                    format!("the state of line {} again", listed[i]),
                ));
            }
            listed[i] = line;
            h.rows[i] = r;
        }
        // a file that leaves out unvisited states, and only those, was written with skip_zeros
        h.skip_zeros = listed.contains(&0) && h.rows.iter().zip(&listed).all(|(r, l)| *l == 0 || !r.is_empty());
        Ok(h)
    }
}

/// The shortest text that reads back to `x`, in exponent form only for very large or small values.
fn number(x: f64) -> String {
    if x == 0.0 || (1e-5..1e16).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The extrapolation temperatures of an input file's `extrapolate_hist` (`64C, 68C, 0.11`), in
/// simulation units; none if the key is absent.
pub fn extrapolation_temperatures(input: &InputFile) -> Result<Vec<f64>> {
    let Some((value, line)) =
        input.root.entries().filter(|(k, _, _)| *k == "extrapolate_hist").last().and_then(|(_, v, line)| match v {
            crate::io::input::Value::Text(t) => Some((t.as_str(), line)),
            crate::io::input::Value::Block(_) => None,
        })
    else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(|t| {
            crate::units::parse_temperature(t).map_err(|msg| {
                let expected = msg.split(", found").next().unwrap_or(&msg).to_string();
                Error::parse(&input.source, line, expected, format!("'{}' in extrapolate_hist = {value}", t.trim()))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_histograms_read_back_exactly() {
        let mut h = Histogram::new(vec![3, 2], vec![0.1, 1.0 / 3.0]).unwrap();
        h.step = 1_000_000_000_000;
        h.add(&[2, 1], 0.3, &[1.7, 1e-30]).unwrap();
        h.add(&[2, 1], 0.0, &[2.0, 3e20]).unwrap();
        h.add(&[0, 0], 1.0, &[1.0 / 7.0, 0.5]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("last_hist.dat");
        h.write(&p).unwrap();
        assert_eq!(Histogram::read(&p).unwrap(), h);
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .starts_with("#t = 1000000000000; extr. Ts: 0.1 0.3333333333333333\n0 0 1 1 "));
        h.skip_zeros = true;
        h.write(&p).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap().lines().count(), 3);
        assert_eq!(Histogram::read(&p).unwrap(), h);
    }

    #[test]
    fn trajectory_histograms_append_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("traj_hist.dat");
        let mut h = Histogram::new(vec![2], vec![]).unwrap();
        for step in [10, 20] {
            h.step = step;
            h.add(&[1], 2.0, &[]).unwrap();
            h.append(&p).unwrap();
        }
        let all = Histogram::read_all(&p).unwrap();
        assert_eq!(all.iter().map(|h| (h.step, h.rows[1].biased)).collect::<Vec<_>>(), vec![(10, 1.0), (20, 2.0)]);
        assert_eq!(Histogram::read(&p).unwrap(), h);
    }

    #[test]
    fn states_and_factors_are_checked() {
        let mut h = Histogram::new(vec![3], vec![0.1]).unwrap();
        assert_eq!(
            h.add(&[3], 1.0, &[1.0]).unwrap_err().to_string(),
            "histogram state: [3] is not a state of order parameters with [3] states"
        );
        assert_eq!(
            h.add(&[0], 1.0, &[]).unwrap_err().to_string(),
            "histogram extrapolation: 0 factor(s) for 1 temperature(s)"
        );
        assert!(Histogram::new(vec![], vec![]).is_err() && Histogram::new(vec![2], vec![-0.1]).is_err());
        assert!((Histogram::extrapolation_factor(-1.0, 0.1, -1.2, 0.12) - (-(-10.0_f64) - 10.0).exp()).abs() < 1e-12);
    }

    #[test]
    fn bad_files_name_the_line() {
        let cases = [
            ("0 1 1\n", "h:1: expected a header '#t = STEP; extr. Ts: …' first, found '0 1 1'"),
            ("#t = 5; extr. Ts: 0.1\n0 1 1\n", "h:2: expected 1 state value(s), the biased and the unbiased count and 1 extrapolated count(s) (one per temperature of the header), found 3 numbers in '0 1 1'"),
            ("#t = 5; extr. Ts: 0.1\n0 1 1 1\n1 2 1 1 3\n", "h:3: expected 1 state value(s), the biased and the unbiased count and 1 extrapolated count(s) (one per temperature of the header), found 5 numbers in '1 2 1 1 3'"),
            ("#t = 5; extr. Ts: 0.1\n0 1 -1 1\n", "h:2: expected counts that are finite numbers ≥ 0, found '0 1 -1 1'"),
            ("#t = 5; extr. Ts: 0.1\n0.5 1 1 1\n", "h:2: expected whole numbers ≥ 0 for the state, found '0.5 1 1 1'"),
            ("#t = 5; extr. Ts: 300K\n0 1 1 1\n", "h:1: expected a header '#t = STEP; extr. Ts: T1 T2 …' (temperatures in simulation units), found '#t = 5; extr. Ts: 300K'"),
            ("#t = 5; extr. Ts: 0.1\n0 1 1 1\n0 1 1 1\n", "h:3: expected one row per state, found the state of line 2 again"),
            ("#t = 5; extr. Ts:\n", "h:1: expected rows of states after this header, found none"),
            ("#t = 5; extr. Ts:\n99999999 1 1\n", "h:1: expected states with at most 4194304 combinations, found larger state values"),
        ];
        for (text, message) in cases {
            assert_eq!(Histogram::parse_all(text, Path::new("h")).unwrap_err().to_string(), message, "{text}");
        }
    }

    #[test]
    fn extrapolation_temperatures_as_oxdna_reads_them() {
        let input = InputFile::parse("T = 72C\nextrapolate_hist = 64C, 341.15 K,0.11\n", Path::new("in")).unwrap();
        let t = extrapolation_temperatures(&input).unwrap();
        assert!(
            (t[0] - 337.15 / 3000.0).abs() < 1e-15
                && (t[1] - 341.15 / 3000.0).abs() < 1e-15
                && (t[2] - 0.11).abs() < 1e-15
        );
        let bad = InputFile::parse("\nextrapolate_hist = 64C, 68F\n", Path::new("in")).unwrap();
        assert_eq!(
            extrapolation_temperatures(&bad).unwrap_err().to_string(),
            "in:2: expected a temperature unit K (kelvin), C (Celsius) or none (simulation units), found '68F' in extrapolate_hist = 64C, 68F"
        );
    }
}
