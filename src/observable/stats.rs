//! Standard errors of (reweighted) observables from correlated samples: block jackknife.
//!
//! Consecutive MD states are correlated, so the naive σ/√N underestimates the error. The states of
//! each independent run (segment) are grouped into blocks of b consecutive states; leaving one
//! block out at a time gives the jackknife estimates f₋ₖ of the observable (weights renormalised
//! over the states kept, features averaged, then [`Observable::reduce`] applied), and
//!
//! ```text
//! SE²(b) = (B − 1)/B · Σ_k (f₋ₖ − f̄)²        over the B blocks
//! ```
//!
//! This covers non-linear observables (pitch, persistence length) and reweighted means alike; for
//! a plain mean with uniform weights it is the textbook blocking error. Block sizes b = 1, 2, 4, …
//! are tried while at least 8 blocks remain (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461, 1989):
//! the error grows with b until blocks are longer than the correlation time, then levels off.
//! The reported error is the largest over those sizes — conservative, never the optimistic
//! b = 1 value. States at the end of a segment that do not fill a block join its last block.

use super::{Observable, Reducer};

/// An observable's estimate with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard error (block jackknife); NaN with fewer than two states.
    pub std_err: f64,
    /// States used.
    pub states: usize,
    /// Blocks of the reported error.
    pub blocks: usize,
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

/// The estimate of `obs` from a feature table (`[states][dim]`), normalised `weights` and the
/// lengths of the independent runs (`segments`, in table order, summing to the number of states).
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
    let value = reducer.value(obs, &total.iter().map(|x| x / wsum).collect::<Vec<_>>());
    let mut best = Estimate { value, std_err: f64::NAN, states: n, blocks: 0 };
    if n < 2 {
        return best;
    }
    let min_blocks = 8.min(n);
    let mut b = 1;
    loop {
        let blocks = blocks(segments, b);
        if blocks.len() < min_blocks.max(2) {
            break;
        }
        // Σ w X and Σ w over each block, then leave-one-out means
        let estimates: Vec<f64> = blocks
            .iter()
            .map(|r| {
                let mut s = total.clone();
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
        let se = ((k - 1.0) / k * estimates.iter().map(|f| (f - mean).powi(2)).sum::<f64>()).sqrt();
        if best.std_err.is_nan() || se > best.std_err {
            best.std_err = se;
            best.blocks = blocks.len();
        }
        b *= 2;
    }
    best
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
    use crate::observable::{Distance, Observable};

    /// A plain mean of independent values: the jackknife with b = 1 is σ/√N exactly.
    #[test]
    fn uncorrelated_mean_gives_the_textbook_error_at_block_size_one() {
        let top = crate::system::Topology::from_sequences(
            &[(vec![crate::system::Base::A; 2], crate::system::StrandKind::Dna, false)],
            crate::system::TopologyFormat::Classic,
        );
        let d = Distance::between(&top, 0, 1).unwrap();
        let values: Vec<f64> = (0..64).map(|k| ((k * 37 % 64) as f64) / 10.0).collect();
        let table: Vec<Vec<f64>> = values.iter().map(|v| vec![*v]).collect();
        let w = vec![1.0 / 64.0; 64];
        let reducer = Reducer::new(&crate::params::ParamSet::dna1_defaults());
        let e = estimate(&d, &reducer, &table, &w, &[64]);
        let mean = values.iter().sum::<f64>() / 64.0;
        assert!((e.value - mean * crate::units::LENGTH_NM).abs() < 1e-12);
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 63.0).sqrt();
        assert!(e.std_err >= sd / 8.0 * crate::units::LENGTH_NM * (1.0 - 1e-12), "never below the b = 1 error");
        assert_eq!(d.dim(), 1);
    }

    /// Strongly correlated samples (long runs of equal values): blocking finds the larger error.
    #[test]
    fn correlated_samples_get_a_larger_error() {
        let top = crate::system::Topology::from_sequences(
            &[(vec![crate::system::Base::A; 2], crate::system::StrandKind::Dna, false)],
            crate::system::TopologyFormat::Classic,
        );
        let d = Distance::between(&top, 0, 1).unwrap();
        // 16 independent values, each repeated 16 times
        let table: Vec<Vec<f64>> = (0..256).map(|i| vec![((i / 16) * 7 % 16) as f64]).collect();
        let w = vec![1.0 / 256.0; 256];
        let reducer = Reducer::new(&crate::params::ParamSet::dna1_defaults());
        let e = estimate(&d, &reducer, &table, &w, &[256]);
        let vals: Vec<f64> = (0..16).map(|k| (k * 7 % 16) as f64).collect();
        let m = vals.iter().sum::<f64>() / 16.0;
        let se16 = (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 15.0 / 16.0).sqrt() * crate::units::LENGTH_NM;
        assert!((e.std_err - se16).abs() < 1e-9 * se16, "{} vs {se16}", e.std_err);
        assert_eq!(e.blocks, 16);
        assert_eq!(blocks(&[5, 3], 2), vec![0..2, 2..5, 5..8]);
    }
}
