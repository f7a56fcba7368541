//! The scalar interface shared by plain `f64` code and tensor code.
//!
//! Formulas that must agree bit for bit between the native engine (`f64`) and the Burn energy
//! model (tensors, for gradients) are written once, generically over [`Real`]: the smoothing
//! constants of `energy::smoothing` are the prime example (see `spec/oxdna-model.md` §3).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// Arithmetic that both `f64` and element-wise tensors provide.
pub trait Real:
    Clone
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// e^self.
    fn exp(self) -> Self;
    /// √self.
    fn sqrt(self) -> Self;
    /// self^n.
    fn powi(self, n: i32) -> Self;
    /// 1 / self.
    fn recip(self) -> Self;
}

impl Real for f64 {
    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    #[inline]
    fn recip(self) -> Self {
        1.0 / self
    }
}
