//! Combining the objectives' gradient trees into one, in the objectives' order.

use crate::error::{Error, Result};
use crate::params::ParamGrads;
use std::fmt;
use std::sync::Arc;

/// A user aggregation function.
pub type AggregateFn = dyn Fn(&[ParamGrads]) -> ParamGrads + Send + Sync;

/// How gradients of several objectives become one.
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
            Aggregate::WeightedSum(w) if w.len() != n => Err(Error::invalid(
                "WeightedSum weights",
                format!("{w:?}"),
                format!("give one weight per objective ({n}), in objective order"),
            )),
            Aggregate::Passthrough if n != 1 => Err(Error::invalid(
                "aggregate",
                "Passthrough",
                format!("passthrough takes the gradients of exactly one objective, and {n} are configured: use Mean or WeightedSum"),
            )),
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
