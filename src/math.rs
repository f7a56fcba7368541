//! The scalar interface shared by plain `f64` code and tensor code.
//!
//! The physics of oxgrad is written once, generically over [`Real`]: the same function computes
//! one pair's energy with `T = f64` (the native engine, with early exits) and every pair of a batch
//! of frames at once with `T = Tensor<1>` (the Burn model, for gradients). Piecewise functions use
//! [`Real::choose`], which evaluates only the needed branch for scalars and both branches, masked,
//! for tensors — so tensor branches must be safe on every input (a `NaN` in a masked-out branch still poisons its gradient).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// Arithmetic, comparisons and selection that both `f64` and element-wise tensors provide.
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
    /// The result of an element-wise comparison.
    type Mask: Clone;

    /// e^self.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// √self.
    fn sqrt(self) -> Self;
    /// self^n.
    fn powi(self, n: i32) -> Self;
    /// 1 / self.
    fn recip(self) -> Self;
    /// |self|.
    fn abs(self) -> Self;
    /// cos self.
    fn cos(self) -> Self;
    /// arccos of self clamped to [−1, 1]. Tensors clamp to ±(1 − 10⁻¹²) with a straight-through
    /// gradient, so d f(θ)/dc stays finite where f′(θ) vanishes at θ = 0 or π.
    fn acos_clamped(self) -> Self;
    /// A constant with the shape of `self`.
    fn cst(&self, c: f64) -> Self;
    /// Element-wise `self < rhs`.
    fn lt(&self, rhs: &Self) -> Self::Mask;
    /// Element-wise `self <= rhs`.
    fn le(&self, rhs: &Self) -> Self::Mask;
    /// Element-wise conjunction.
    fn and(a: &Self::Mask, b: &Self::Mask) -> Self::Mask;
    /// Whether any element is set (tensors answer `true`: they never exit early).
    fn any(m: &Self::Mask) -> bool;
    /// Whether this is known to be exactly zero (scalars; tensors answer `false`). Terms use it to
    /// skip their angular factors when the radial factor vanishes.
    fn is_zero(&self) -> bool;
    /// `yes()` where `mask` is set, `no()` elsewhere.
    fn choose(mask: &Self::Mask, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self;
}

impl Real for f64 {
    type Mask = bool;

    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        f64::ln(self)
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
    #[inline]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline]
    fn cos(self) -> Self {
        f64::cos(self)
    }
    #[inline]
    fn acos_clamped(self) -> Self {
        self.clamp(-1.0, 1.0).acos()
    }
    #[inline]
    fn cst(&self, c: f64) -> Self {
        c
    }
    #[inline]
    fn lt(&self, rhs: &Self) -> bool {
        *self < *rhs
    }
    #[inline]
    fn le(&self, rhs: &Self) -> bool {
        *self <= *rhs
    }
    #[inline]
    fn and(a: &bool, b: &bool) -> bool {
        *a && *b
    }
    #[inline]
    fn any(m: &bool) -> bool {
        *m
    }
    #[inline]
    #[allow(clippy::float_cmp)]
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
    #[inline]
    fn choose(mask: &bool, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self {
        if *mask {
            yes()
        } else {
            no()
        }
    }
}

/// A 3-vector over any [`Real`] (one pair, or every pair of a batch, per component).
#[derive(Debug, Clone)]
pub struct V3<T> {
    /// x component.
    pub x: T,
    /// y component.
    pub y: T,
    /// z component.
    pub z: T,
}

impl<T: Real> V3<T> {
    /// From components.
    pub fn new(x: T, y: T, z: T) -> Self {
        V3 { x, y, z }
    }

    /// Dot product.
    pub fn dot(&self, o: &V3<T>) -> T {
        self.x.clone() * o.x.clone() + self.y.clone() * o.y.clone() + self.z.clone() * o.z.clone()
    }

    /// Cross product.
    pub fn cross(&self, o: &V3<T>) -> V3<T> {
        V3 {
            x: self.y.clone() * o.z.clone() - self.z.clone() * o.y.clone(),
            y: self.z.clone() * o.x.clone() - self.x.clone() * o.z.clone(),
            z: self.x.clone() * o.y.clone() - self.y.clone() * o.x.clone(),
        }
    }

    /// Euclidean norm.
    pub fn norm(&self) -> T {
        self.dot(self).sqrt()
    }

    /// Every component times a scalar of the same kind.
    pub fn scale(&self, s: &T) -> V3<T> {
        V3 { x: self.x.clone() * s.clone(), y: self.y.clone() * s.clone(), z: self.z.clone() * s.clone() }
    }

    /// Every component divided by `s`.
    pub fn div(&self, s: &T) -> V3<T> {
        V3 { x: self.x.clone() / s.clone(), y: self.y.clone() / s.clone(), z: self.z.clone() / s.clone() }
    }

    /// Sum.
    pub fn add(&self, o: &V3<T>) -> V3<T> {
        V3 { x: self.x.clone() + o.x.clone(), y: self.y.clone() + o.y.clone(), z: self.z.clone() + o.z.clone() }
    }

    /// Difference.
    pub fn sub(&self, o: &V3<T>) -> V3<T> {
        V3 { x: self.x.clone() - o.x.clone(), y: self.y.clone() - o.y.clone(), z: self.z.clone() - o.z.clone() }
    }
}

impl From<crate::geometry::Vec3> for V3<f64> {
    fn from(v: crate::geometry::Vec3) -> Self {
        V3 { x: v.0[0], y: v.0[1], z: v.0[2] }
    }
}

impl From<V3<f64>> for crate::geometry::Vec3 {
    fn from(v: V3<f64>) -> Self {
        crate::geometry::Vec3([v.x, v.y, v.z])
    }
}

/// A forward-mode dual number `v + d·ε` of one direction: a value and its derivative. The
/// native engine evaluates each term's one-dimensional factors with it to get f and f′ from the
/// same generic code that computes energies.
pub type Dual = Jet<1>;

impl Dual {
    /// The independent variable at `v` (unit derivative).
    #[must_use]
    pub const fn var(v: f64) -> Dual {
        Jet { v, d: [1.0] }
    }
}

/// A forward-mode dual number with `N` directions, `v + Σ d_k ε_k`: a value and its derivatives
/// along `N` directions at once. The MD forces of users' terms come from one evaluation with
/// `Jet<9>` per pair (3 translations, 3 rotations of each frame) where [`Dual`] would need nine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jet<const N: usize> {
    /// The value.
    pub v: f64,
    /// The derivatives.
    pub d: [f64; N],
}

impl<const N: usize> Jet<N> {
    /// A constant (zero derivatives).
    #[must_use]
    pub const fn cst(v: f64) -> Self {
        Jet { v, d: [0.0; N] }
    }

    /// The value `v` of a function whose derivative at `self` is `slope` (the chain rule).
    #[inline]
    fn chain(self, v: f64, slope: f64) -> Self {
        Jet { v, d: self.d.map(|x| x * slope) }
    }

    #[inline]
    fn zip(self, o: Self, f: impl Fn(f64, f64) -> f64) -> [f64; N] {
        std::array::from_fn(|k| f(self.d[k], o.d[k]))
    }
}

impl<const N: usize> Default for Jet<N> {
    fn default() -> Self {
        Jet::cst(0.0)
    }
}

impl<const N: usize> Add for Jet<N> {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        Jet { v: self.v + o.v, d: self.zip(o, |a, b| a + b) }
    }
}
impl<const N: usize> Sub for Jet<N> {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        Jet { v: self.v - o.v, d: self.zip(o, |a, b| a - b) }
    }
}
impl<const N: usize> Mul for Jet<N> {
    type Output = Self;
    // the product rule: (x·y)' = x'·y + x·y'
    #[allow(clippy::suspicious_arithmetic_impl)]
    #[inline]
    fn mul(self, o: Self) -> Self {
        let (x, y) = (self.v, o.v);
        Jet { v: x * y, d: self.zip(o, |a, b| a * y + x * b) }
    }
}
impl<const N: usize> Div for Jet<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.v;
        let q = self.v * inv;
        Jet { v: q, d: self.zip(o, |a, b| (a - q * b) * inv) }
    }
}
impl<const N: usize> Neg for Jet<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.chain(-self.v, -1.0)
    }
}
impl<const N: usize> Add<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn add(self, c: f64) -> Self {
        Jet { v: self.v + c, d: self.d }
    }
}
impl<const N: usize> Sub<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn sub(self, c: f64) -> Self {
        Jet { v: self.v - c, d: self.d }
    }
}
impl<const N: usize> Mul<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn mul(self, c: f64) -> Self {
        self.chain(self.v * c, c)
    }
}
impl<const N: usize> Div<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn div(self, c: f64) -> Self {
        self.chain(self.v / c, 1.0 / c)
    }
}

impl<const N: usize> Real for Jet<N> {
    type Mask = bool;

    #[inline]
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    #[inline]
    fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v)
    }
    #[inline]
    fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        self.chain(s, 0.5 / s)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        let p = self.v.powi(n - 1);
        self.chain(p * self.v, f64::from(n) * p)
    }
    #[inline]
    fn recip(self) -> Self {
        self.chain(1.0 / self.v, -1.0 / (self.v * self.v))
    }
    #[inline]
    fn abs(self) -> Self {
        if self.v < 0.0 {
            -self
        } else {
            self
        }
    }
    #[inline]
    fn cos(self) -> Self {
        let (s, c) = self.v.sin_cos();
        self.chain(c, -s)
    }
    #[inline]
    fn acos_clamped(self) -> Self {
        // as for tensors: clamp the value, keep the derivative finite
        let bound = 1.0 - 1e-12;
        let c = self.v.clamp(-bound, bound);
        self.chain(c.acos(), -1.0 / (1.0 - c * c).sqrt())
    }
    #[inline]
    fn cst(&self, c: f64) -> Self {
        Jet::cst(c)
    }
    #[inline]
    fn lt(&self, rhs: &Self) -> bool {
        self.v < rhs.v
    }
    #[inline]
    fn le(&self, rhs: &Self) -> bool {
        self.v <= rhs.v
    }
    #[inline]
    fn and(a: &bool, b: &bool) -> bool {
        *a && *b
    }
    #[inline]
    fn any(m: &bool) -> bool {
        *m
    }
    #[inline]
    #[allow(clippy::float_cmp)]
    fn is_zero(&self) -> bool {
        self.v == 0.0 && self.d.iter().all(|x| *x == 0.0)
    }
    #[inline]
    fn choose(mask: &bool, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self {
        if *mask {
            yes()
        } else {
            no()
        }
    }
}
