//! Losses of observable values, written on Burn tensors so their gradients come from autodiff.
//!
//! A loss receives the objective's observable values `o` (`[k]`, in the observables' units, in
//! the order they were given) and every model parameter as a tensor, and returns a `[1]` tensor:
//!
//! | loss | formula | mythos |
//! |---|---|---|
//! | [`Loss::Squared`] | Σ_k (o_k − t_k)² | `SquaredError`, `l2_loss` |
//! | [`Loss::Absolute`] | Σ_k \|o_k − t_k\| | the examples' √((⟨x⟩ − t)²) |
//! | [`Loss::Rmse`] | √(mean_k (o_k − t_k)²) | `RootMeanSquaredError` |
//! | [`Loss::Custom`] | any tensor function | a user `loss_fn` |
//!
//! ```
//! use oxgrad::objective::Loss;
//! // a custom loss: squared error of the first observable plus a weak pull of eps_hb to 1.0
//! let loss = Loss::custom(|o, p| {
//!     let d = o.clone().slice(0..1) - 21.0;
//!     d.clone() * d + (p.p("eps_hb") - 1.0).powf_scalar(2.0) * 0.1
//! });
//! assert!(loss.targets().is_none());
//! ```

use crate::energy::functions::ParamSource;
use crate::energy::tensor::T1;
use crate::error::{Error, Result};
use burn::tensor::TensorData;
use std::fmt;
use std::sync::Arc;

/// A user loss: observable values `[k]` and parameters → loss `[1]`.
pub type LossFn = dyn Fn(&T1, &dyn ParamSource<T1>) -> T1 + Send + Sync;

/// How an objective turns observable values into a loss.
#[derive(Clone)]
pub enum Loss {
    /// Σ_k (o_k − t_k)².
    Squared(Vec<f64>),
    /// Σ_k |o_k − t_k|.
    Absolute(Vec<f64>),
    /// √(mean_k (o_k − t_k)²).
    Rmse(Vec<f64>),
    /// A tensor function of the observable values and the parameters.
    Custom(Arc<LossFn>),
}

impl fmt::Debug for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Squared(t) => write!(f, "Squared({t:?})"),
            Loss::Absolute(t) => write!(f, "Absolute({t:?})"),
            Loss::Rmse(t) => write!(f, "Rmse({t:?})"),
            Loss::Custom(_) => write!(f, "Custom(..)"),
        }
    }
}

impl Loss {
    /// The names a configuration may give (`squared`, `absolute`, `rmse`).
    pub const NAMES: [&'static str; 3] = ["squared", "absolute", "rmse"];

    /// Squared error against one target.
    #[must_use]
    pub fn squared(target: f64) -> Loss {
        Loss::Squared(vec![target])
    }

    /// A loss from a tensor closure.
    pub fn custom(f: impl Fn(&T1, &dyn ParamSource<T1>) -> T1 + Send + Sync + 'static) -> Loss {
        Loss::Custom(Arc::new(f))
    }

    /// A built-in loss by name with its targets.
    pub fn named(name: &str, targets: Vec<f64>) -> Result<Loss> {
        if let Some(t) = targets.iter().find(|t| !t.is_finite()) {
            return Err(Error::invalid("target", t, "targets must be finite numbers"));
        }
        match name {
            "squared" => Ok(Loss::Squared(targets)),
            "absolute" => Ok(Loss::Absolute(targets)),
            "rmse" => Ok(Loss::Rmse(targets)),
            other => Err(Error::invalid(
                "loss",
                format!("\"{other}\""),
                format!("one of {}; or a closure over tensors in Rust (Loss::custom)", Loss::NAMES.join(", ")),
            )),
        }
    }

    /// The targets of a built-in loss.
    #[must_use]
    pub fn targets(&self) -> Option<&[f64]> {
        match self {
            Loss::Squared(t) | Loss::Absolute(t) | Loss::Rmse(t) => Some(t),
            Loss::Custom(_) => None,
        }
    }

    /// Checks that a built-in loss has one target per observable.
    pub fn check(&self, observables: usize) -> Result<()> {
        match self.targets() {
            Some(t) if t.len() != observables => Err(Error::invalid(
                "targets",
                format!("{t:?}"),
                format!("give one target per observable ({observables}), in the same order"),
            )),
            _ => Ok(()),
        }
    }

    /// The loss of observable values `o` (`[k]`) at parameters `p`: a `[1]` tensor.
    pub fn eval(&self, o: &T1, p: &dyn ParamSource<T1>) -> T1 {
        let diff = |t: &[f64]| o.clone() - T1::from_data(TensorData::new(t.to_vec(), [t.len()]), &o.device());
        match self {
            Loss::Squared(t) => diff(t).powf_scalar(2.0).sum(),
            Loss::Absolute(t) => diff(t).abs().sum(),
            Loss::Rmse(t) => diff(t).powf_scalar(2.0).mean().sqrt(),
            Loss::Custom(f) => f(o, p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Loss;

    #[test]
    fn named_losses_take_finite_targets_and_say_what_they_are() {
        for name in Loss::NAMES {
            let loss = Loss::named(name, vec![1.5, -2.0]).unwrap();
            assert_eq!(loss.targets(), Some(&[1.5, -2.0][..]));
            for bad in [f64::NAN, f64::INFINITY] {
                let e = Loss::named(name, vec![1.0, bad]).unwrap_err().to_string();
                assert!(e.contains("targets must be finite numbers"), "{e}");
            }
        }
        assert!(Loss::named("l1", vec![1.0]).unwrap_err().to_string().contains("one of squared, absolute, rmse"));
        assert_eq!(format!("{:?}", Loss::named("rmse", vec![0.5]).unwrap()), "Rmse([0.5])");
        assert_eq!(format!("{:?}", Loss::squared(2.0)), "Squared([2.0])");
        assert_eq!(format!("{:?}", Loss::named("absolute", vec![]).unwrap()), "Absolute([])");
        assert_eq!(format!("{:?}", Loss::custom(|o, _| o.clone())), "Custom(..)");
    }
}
