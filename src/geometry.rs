//! Small 3-vector algebra, nucleotide frames and the periodic box.
//!
//! A nucleotide is a rigid body with centre `r` and an orthonormal right-handed frame
//! (`a1`, `a2`, `a3`): `a1` points from backbone to base, `a3` is the base normal (towards the
//! 5' neighbour in a stacked strand) and `a2 = a3 × a1`. oxDNA files store `r`, `a1` and `a3`;
//! [`orthonormalize`] repairs the rounding of the stored digits exactly as oxDNA does on reading.

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Div, Index, Mul, Neg, Sub, SubAssign};

/// A 3-vector of `f64` (positions, directions, forces, torques).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Vec3(pub [f64; 3]);

impl Vec3 {
    /// The zero vector.
    pub const ZERO: Vec3 = Vec3([0.0; 3]);

    /// From components.
    #[must_use]
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3([x, y, z])
    }

    /// Dot product.
    #[must_use]
    #[inline]
    pub fn dot(self, o: Vec3) -> f64 {
        self.0[0] * o.0[0] + self.0[1] * o.0[1] + self.0[2] * o.0[2]
    }

    /// Cross product `self × o`.
    #[must_use]
    #[inline]
    pub fn cross(self, o: Vec3) -> Vec3 {
        let [a, b, c] = self.0;
        let [x, y, z] = o.0;
        Vec3([b * z - c * y, c * x - a * z, a * y - b * x])
    }

    /// Squared Euclidean norm.
    #[must_use]
    #[inline]
    pub fn norm2(self) -> f64 {
        self.dot(self)
    }

    /// Euclidean norm.
    #[must_use]
    #[inline]
    pub fn norm(self) -> f64 {
        self.norm2().sqrt()
    }

    /// The unit vector along `self` (NaN components for the zero vector).
    #[must_use]
    #[inline]
    pub fn normalized(self) -> Vec3 {
        self / self.norm()
    }

    /// Whether every component is finite.
    #[must_use]
    pub fn is_finite(self) -> bool {
        self.0.iter().all(|v| v.is_finite())
    }
}

impl Index<usize> for Vec3 {
    type Output = f64;
    #[inline]
    fn index(&self, i: usize) -> &f64 {
        &self.0[i]
    }
}

impl Add for Vec3 {
    type Output = Vec3;
    #[inline]
    fn add(self, o: Vec3) -> Vec3 {
        Vec3([self.0[0] + o.0[0], self.0[1] + o.0[1], self.0[2] + o.0[2]])
    }
}

impl AddAssign for Vec3 {
    #[inline]
    fn add_assign(&mut self, o: Vec3) {
        *self = *self + o;
    }
}

impl Sub for Vec3 {
    type Output = Vec3;
    #[inline]
    fn sub(self, o: Vec3) -> Vec3 {
        Vec3([self.0[0] - o.0[0], self.0[1] - o.0[1], self.0[2] - o.0[2]])
    }
}

impl SubAssign for Vec3 {
    #[inline]
    fn sub_assign(&mut self, o: Vec3) {
        *self = *self - o;
    }
}

impl Mul<f64> for Vec3 {
    type Output = Vec3;
    #[inline]
    fn mul(self, s: f64) -> Vec3 {
        Vec3([self.0[0] * s, self.0[1] * s, self.0[2] * s])
    }
}

impl Mul<Vec3> for f64 {
    type Output = Vec3;
    #[inline]
    fn mul(self, v: Vec3) -> Vec3 {
        v * self
    }
}

impl Div<f64> for Vec3 {
    type Output = Vec3;
    #[inline]
    fn div(self, s: f64) -> Vec3 {
        Vec3([self.0[0] / s, self.0[1] / s, self.0[2] / s])
    }
}

impl Neg for Vec3 {
    type Output = Vec3;
    #[inline]
    fn neg(self) -> Vec3 {
        Vec3([-self.0[0], -self.0[1], -self.0[2]])
    }
}

/// Repairs a stored orientation as oxDNA does on reading: normalise `a1` and `a3`, remove from
/// `a1` its component along `a3`, renormalise `a1`. Returns `(a1, a2, a3)` with `a2 = a3 × a1`.
#[must_use]
pub fn orthonormalize(a1: Vec3, a3: Vec3) -> (Vec3, Vec3, Vec3) {
    let a3 = a3.normalized();
    let a1 = a1.normalized();
    let a1 = (a1 - a3 * a1.dot(a3)).normalized();
    (a1, a3.cross(a1), a3)
}

/// The components of the lab-frame vector `v` along a nucleotide's axes `(a1, a2, a3)`.
///
/// oxDNA stores angular momenta this way: the `L` columns of a configuration file are body-frame
/// components (oxDNA keeps `L` and the torque in the nucleotide's frame and writes `L` as is).
/// [`from_body`] is the inverse.
#[must_use]
#[inline]
pub fn to_body(axes: &[Vec3; 3], v: Vec3) -> Vec3 {
    Vec3([axes[0].dot(v), axes[1].dot(v), axes[2].dot(v)])
}

/// The lab-frame vector whose components along a nucleotide's axes `(a1, a2, a3)` are `b`:
/// `b₁ a1 + b₂ a2 + b₃ a3`. The inverse of [`to_body`] (up to rounding).
#[must_use]
#[inline]
pub fn from_body(axes: &[Vec3; 3], b: Vec3) -> Vec3 {
    axes[0] * b.0[0] + axes[1] * b.0[1] + axes[2] * b.0[2]
}

/// Rotates `v` about the unit `axis` by `angle` radians (Rodrigues' formula).
#[must_use]
pub fn rotate(v: Vec3, axis: Vec3, angle: f64) -> Vec3 {
    let (s, c) = angle.sin_cos();
    v * c + axis.cross(v) * s + axis * (axis.dot(v) * (1.0 - c))
}

/// A rectangular periodic box with side lengths `L`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeriodicBox {
    sides: Vec3,
    inv: Vec3,
}

/// 1.5 · 2⁵²: adding and subtracting it rounds an `f64` of magnitude below 2⁵¹ to the nearest
/// integer (ties to even) in two additions, where `f64::round` is a library call.
const ROUND: f64 = 6_755_399_441_055_744.0;

impl PeriodicBox {
    /// A box with these side lengths.
    #[must_use]
    pub fn new(sides: Vec3) -> PeriodicBox {
        PeriodicBox { sides, inv: Vec3::new(1.0 / sides[0], 1.0 / sides[1], 1.0 / sides[2]) }
    }

    /// The minimum image of a separation vector: `d − L ∘ round(d / L)`.
    #[must_use]
    #[inline]
    pub fn min_image(&self, d: Vec3) -> Vec3 {
        let (l, inv) = (self.sides.0, self.inv.0);
        let wrap = |x: f64, l: f64, inv: f64| {
            let t = x * inv;
            // (t + ROUND) − ROUND is round(t) for |t| < 2⁵¹; beyond, fall back to the library
            let k = if t.abs() < 1e15 { (t + ROUND) - ROUND } else { t.round() };
            x - l * k
        };
        Vec3([wrap(d.0[0], l[0], inv[0]), wrap(d.0[1], l[1], inv[1]), wrap(d.0[2], l[2], inv[2])])
    }

    /// Side lengths.
    #[must_use]
    pub fn sides(&self) -> Vec3 {
        self.sides
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn body_components_are_along_a1_a2_a3() {
        // a1 = y, a3 = x, so a2 = a3 × a1 = z
        let axes = [Vec3::new(0.0, 1.0, 0.0), Vec3::new(0.0, 0.0, 1.0), Vec3::new(1.0, 0.0, 0.0)];
        assert_eq!(to_body(&axes, Vec3::new(1.0, 2.0, 3.0)), Vec3::new(2.0, 3.0, 1.0));
        assert_eq!(from_body(&axes, Vec3::new(2.0, 3.0, 1.0)), Vec3::new(1.0, 2.0, 3.0));
        let (a1, a2, a3) = orthonormalize(Vec3::new(1.0, 0.3, -0.2), Vec3::new(0.1, -0.4, 2.0));
        let axes = [a1, a2, a3];
        let l = Vec3::new(0.3, -1.2, 0.7);
        let b = to_body(&axes, l);
        assert_eq!(b.0[1], a2.dot(l));
        assert!((from_body(&axes, b) - l).norm() < 1e-15);
        assert_relative_eq!(b.norm(), l.norm(), epsilon = 1e-15);
    }

    #[test]
    fn orthonormalize_gives_right_handed_frame() {
        let (a1, a2, a3) = orthonormalize(Vec3::new(1.0, 0.1, 0.0), Vec3::new(0.05, 0.0, 2.0));
        assert_relative_eq!(a1.norm(), 1.0, epsilon = 1e-15);
        assert_relative_eq!(a3.norm(), 1.0, epsilon = 1e-15);
        assert!(a1.dot(a3).abs() < 1e-15);
        assert_relative_eq!(a1.cross(a2).dot(a3), 1.0, epsilon = 1e-15);
    }

    #[test]
    fn min_image_wraps_into_half_box() {
        let b = PeriodicBox::new(Vec3::new(10.0, 20.0, 5.0));
        let d = b.min_image(Vec3::new(9.0, -11.0, 2.4));
        assert_relative_eq!(d.0[0], -1.0);
        assert_relative_eq!(d.0[1], 9.0);
        assert_relative_eq!(d.0[2], 2.4);
    }

    #[test]
    fn rotation_preserves_length_and_turns_right_handed() {
        let v = rotate(Vec3::new(1.0, 0.0, 0.0), Vec3::new(0.0, 0.0, 1.0), std::f64::consts::FRAC_PI_2);
        assert_relative_eq!(v.0[1], 1.0, epsilon = 1e-15);
        assert!(v.0[0].abs() < 1e-15);
    }
}
