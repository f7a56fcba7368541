//! Parameter updates: SGD and Adam on the named parameter tree, in f64.
//!
//! Adam follows optax (Kingma & Ba 2015): m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g²,
//! θ ← θ − lr · m̂ / (√v̂ + ε) with m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ); defaults β1 0.9, β2 0.999,
//! ε 1e-8 (optax's, not burn's 1e-5). Optional clipping scales the gradient to a maximum global
//! norm first.

use crate::component::Params;
use crate::error::{Error, Result};
use crate::params::ParamGrads;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An update rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UpdateRule {
    /// θ ← θ − lr · g.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Clip the gradient to this global norm first.
        clip_norm: Option<f64>,
    },
    /// Adam.
    Adam {
        /// Learning rate.
        lr: f64,
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Denominator offset.
        eps: f64,
        /// Clip the gradient to this global norm first.
        clip_norm: Option<f64>,
    },
}

/// The update rule's state: step count and moments, by parameter name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UpdateState {
    /// Updates applied so far.
    pub t: u64,
    /// First moments.
    pub m: BTreeMap<String, f64>,
    /// Second moments.
    pub v: BTreeMap<String, f64>,
}

impl UpdateRule {
    /// Adam with optax's defaults and learning rate `lr`.
    ///
    /// ```
    /// use oxgrad::optimize::{UpdateRule, UpdateState};
    /// use oxgrad::params::ParamGrads;
    /// let rule = UpdateRule::adam(0.01)?;
    /// let mut state = UpdateState::default();
    /// let p = [("eps".to_string(), 1.0)].into();
    /// let next = rule.apply(&p, &ParamGrads([("eps".to_string(), 2.0)].into()), &mut state);
    /// // Adam's first step is the learning rate, against the gradient's sign
    /// assert!((next["eps"] - 0.99).abs() < 1e-9);
    /// assert!(UpdateRule::adam(-1.0).is_err());
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn adam(lr: f64) -> Result<UpdateRule> {
        check_lr(lr)?;
        Ok(UpdateRule::Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, clip_norm: None })
    }

    /// Plain gradient descent with learning rate `lr`.
    pub fn sgd(lr: f64) -> Result<UpdateRule> {
        check_lr(lr)?;
        Ok(UpdateRule::Sgd { lr, clip_norm: None })
    }

    /// The same rule with gradient clipping to a global norm.
    pub fn clip_norm(mut self, max: f64) -> Result<UpdateRule> {
        if !(max > 0.0 && max.is_finite()) {
            return Err(Error::invalid("clip_norm", max, "a positive, finite gradient norm"));
        }
        match &mut self {
            UpdateRule::Sgd { clip_norm, .. } | UpdateRule::Adam { clip_norm, .. } => *clip_norm = Some(max),
        }
        Ok(self)
    }

    /// New parameters from `params` and `grads` (names missing from `grads` do not move).
    pub fn apply(&self, params: &Params, grads: &ParamGrads, state: &mut UpdateState) -> Params {
        let clip = match self {
            UpdateRule::Sgd { clip_norm, .. } | UpdateRule::Adam { clip_norm, .. } => *clip_norm,
        };
        let norm = grads.0.values().map(|g| g * g).sum::<f64>().sqrt();
        let scale = clip.map_or(1.0, |c| if norm > c { c / norm } else { 1.0 });
        state.t += 1;
        let mut out = params.clone();
        for (name, value) in out.iter_mut() {
            let Some(&g) = grads.0.get(name) else { continue };
            let g = g * scale;
            match self {
                UpdateRule::Sgd { lr, .. } => *value -= lr * g,
                UpdateRule::Adam { lr, beta1, beta2, eps, .. } => {
                    let m = state.m.entry(name.clone()).or_insert(0.0);
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    let v = state.v.entry(name.clone()).or_insert(0.0);
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    let mhat = *m / (1.0 - beta1.powi(state.t as i32));
                    let vhat = *v / (1.0 - beta2.powi(state.t as i32));
                    *value -= lr * mhat / (vhat.sqrt() + eps);
                }
            }
        }
        out
    }
}

fn check_lr(lr: f64) -> Result<()> {
    if lr > 0.0 && lr.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid("learning rate", lr, "a positive, finite number; the mythos examples use 5e-4 to 1e-3"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_clipping_take_only_positive_finite_numbers_and_clipping_scales_long_gradients() {
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            let e = UpdateRule::sgd(0.1).unwrap().clip_norm(bad).unwrap_err().to_string();
            assert!(e.ends_with(": a positive, finite gradient norm"), "{bad}: {e}");
            for rule in [UpdateRule::sgd(bad), UpdateRule::adam(bad)] {
                let e = rule.unwrap_err().to_string();
                assert!(e.ends_with(": a positive, finite number; the mythos examples use 5e-4 to 1e-3"), "{bad}: {e}");
            }
        }
        let rule = UpdateRule::sgd(1.0).unwrap().clip_norm(1.0).unwrap();
        let p: Params = [("x".to_string(), 0.0), ("y".to_string(), 0.0)].into();
        let long = ParamGrads([("x".to_string(), 3.0), ("y".to_string(), 4.0)].into());
        let out = rule.apply(&p, &long, &mut UpdateState::default());
        assert!((out["x"] + 0.6).abs() < 1e-15 && (out["y"] + 0.8).abs() < 1e-15, "{out:?}");
        let short = ParamGrads([("x".to_string(), 0.3)].into());
        assert_eq!(rule.apply(&p, &short, &mut UpdateState::default())["x"], -0.3);
    }

    /// Two Adam steps against numbers worked by hand from optax's formulas.
    #[test]
    fn adam_matches_optax_by_hand() {
        let rule = UpdateRule::adam(0.1).unwrap();
        let mut st = UpdateState::default();
        let p: Params = [("x".to_string(), 1.0)].into();
        let g = ParamGrads([("x".to_string(), 2.0)].into());
        let p1 = rule.apply(&p, &g, &mut st);
        // t=1: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4: θ = 1 − 0.1·2/(2 + 1e-8)
        assert!((p1["x"] - (1.0 - 0.1 * 2.0 / (2.0 + 1e-8))).abs() < 1e-15);
        let g2 = ParamGrads([("x".to_string(), -1.0)].into());
        let p2 = rule.apply(&p1, &g2, &mut st);
        let (m, v) = (0.9 * 0.2 - 0.1, 0.999 * 0.004 + 0.001);
        let (mh, vh) = (m / (1.0 - 0.81), v / (1.0 - 0.999f64.powi(2)));
        assert!((p2["x"] - (p1["x"] - 0.1 * mh / (vh.sqrt() + 1e-8))).abs() < 1e-15);
    }

    #[test]
    fn sgd_with_clipping() {
        let rule = UpdateRule::sgd(0.5).unwrap().clip_norm(1.0).unwrap();
        let p: Params = [("a".to_string(), 0.0), ("b".to_string(), 0.0)].into();
        let g = ParamGrads([("a".to_string(), 3.0), ("b".to_string(), 4.0)].into());
        let out = rule.apply(&p, &g, &mut UpdateState::default());
        assert!((out["a"] + 0.5 * 0.6).abs() < 1e-15 && (out["b"] + 0.5 * 0.8).abs() < 1e-15);
        assert!(UpdateRule::adam(f64::NAN).is_err());
    }
}
