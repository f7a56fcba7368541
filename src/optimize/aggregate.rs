//! Combining the objectives' gradient trees into one, in the objectives' order.

use crate::error::{Error, Result};
use crate::params::ParamGrads;
use std::fmt;
use std::sync::Arc;

/// A user aggregation function.
pub type AggregateFn = dyn Fn(&[ParamGrads]) -> ParamGrads + Send + Sync;

/// How gradients of several objectives become one.
///
/// ```
/// use oxgrad::optimize::Aggregate;
/// use oxgrad::params::ParamGrads;
/// let g = |x: f64| ParamGrads([("eps".to_string(), x)].into());
/// assert_eq!(Aggregate::Mean.apply(&[g(1.0), g(3.0)]), g(2.0));
/// assert_eq!(Aggregate::WeightedSum(vec![1.0, 0.5]).apply(&[g(1.0), g(4.0)]), g(3.0));
/// // your own: the larger of the two, name by name
/// let max = Aggregate::custom(|gs| ParamGrads([("eps".to_string(), gs[0].0["eps"].max(gs[1].0["eps"]))].into()));
/// assert_eq!(max.apply(&[g(1.0), g(4.0)]), g(4.0));
/// ```
#[derive(Clone)]
pub enum Aggregate {
    /// Σ_k g_k / K, name by name.
    Mean,
    /// Σ_k w_k g_k, weights in objective order.
    WeightedSum(Vec<f64>),
    /// The single objective's gradients (exactly one objective).
    Passthrough,
    /// Any function of the gradient list (objective order).
    Custom(Arc<AggregateFn>),
}

impl fmt::Debug for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregate::Mean => write!(f, "Mean"),
            Aggregate::WeightedSum(w) => write!(f, "WeightedSum({w:?})"),
            Aggregate::Passthrough => write!(f, "Passthrough"),
            Aggregate::Custom(_) => write!(f, "Custom(..)"),
        }
    }
}

impl Aggregate {
    /// A custom aggregation.
    pub fn custom(f: impl Fn(&[ParamGrads]) -> ParamGrads + Send + Sync + 'static) -> Aggregate {
        Aggregate::Custom(Arc::new(f))
    }

    /// Checks that the aggregation fits `n` objectives.
    pub fn check(&self, n: usize) -> Result<()> {
        match self {
            Aggregate::WeightedSum(w) if w.len() != n => Err(Error::Optimization {
                msg: format!("WeightedSum has {} weights {w:?}: give one weight per objective ({n}), in objective order", w.len()),
            }),
            Aggregate::Passthrough if n != 1 => Err(Error::Optimization {
                msg: format!("passthrough takes the gradients of exactly one objective, and {n} are configured: use Mean or WeightedSum"),
            }),
            _ => Ok(()),
        }
    }

    /// The combined gradients.
    #[must_use]
    pub fn apply(&self, grads: &[ParamGrads]) -> ParamGrads {
        match self {
            Aggregate::Mean => {
                let mut sum = ParamGrads::default();
                for g in grads {
                    sum.add_assign(g);
                }
                sum.scaled(1.0 / grads.len().max(1) as f64)
            }
            Aggregate::WeightedSum(w) => {
                let mut sum = ParamGrads::default();
                for (g, w) in grads.iter().zip(w) {
                    sum.add_assign(&g.scaled(*w));
                }
                sum
            }
            Aggregate::Passthrough => grads.first().cloned().unwrap_or_default(),
            Aggregate::Custom(f) => f(grads),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(pairs: &[(&str, f64)]) -> ParamGrads {
        ParamGrads(pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect())
    }

    #[test]
    fn aggregations_combine_and_check_what_they_are_given() {
        let grads = [g(&[("a", 1.0), ("b", 2.0)]), g(&[("a", 3.0)])];
        assert_eq!(Aggregate::Mean.apply(&grads), g(&[("a", 2.0), ("b", 1.0)]));
        assert_eq!(Aggregate::WeightedSum(vec![2.0, -1.0]).apply(&grads), g(&[("a", -1.0), ("b", 4.0)]));
        assert_eq!(Aggregate::Passthrough.apply(&grads[..1]), grads[0]);
        assert_eq!(Aggregate::custom(|gs| gs[1].clone()).apply(&grads), grads[1]);
        assert_eq!(
            Aggregate::WeightedSum(vec![1.0]).check(2).unwrap_err().to_string(),
            "invalid optimization: WeightedSum has 1 weights [1.0]: give one weight per objective (2), in objective order"
        );
        assert!(Aggregate::WeightedSum(vec![1.0, 2.0]).check(2).is_ok());
        assert_eq!(
            Aggregate::Passthrough.check(2).unwrap_err().to_string(),
            "invalid optimization: passthrough takes the gradients of exactly one objective, and 2 are configured: use Mean or WeightedSum"
        );
        assert!(Aggregate::Passthrough.check(1).is_ok() && Aggregate::Mean.check(3).is_ok());
        let names: Vec<String> = [
            Aggregate::Mean,
            Aggregate::WeightedSum(vec![0.5]),
            Aggregate::Passthrough,
            Aggregate::custom(|_| ParamGrads::default()),
        ]
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
        assert_eq!(names, ["Mean", "WeightedSum([0.5])", "Passthrough", "Custom(..)"]);
    }
}
