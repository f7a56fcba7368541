//! Root-mean-square deviation from a reference structure, nm.
//!
//! ```text
//! RMSD = min over rotations R and translations t of √((1/n) Σ_i |R x_i + t − y_i|²)
//! ```
//!
//! over the centres x (reference) and y (state) of the selected nucleotides. The optimum is
//! found in closed form with Horn's quaternion method (J. Opt. Soc. Am. A 4, 629, 1987): after
//! removing the centroids, RMSD² = (Σ|x|² + Σ|y|² − 2 λ_max) / n, with λ_max the largest
//! eigenvalue of a symmetric 4×4 matrix built from the correlation Σ x yᵀ. A quaternion is always
//! a proper rotation, so mirror images are never superposed (mythos' RMSD observable
//! could not be built). Reported as the mean over states, in nm.

use super::{nm, Observable};
use crate::energy::functions::ParamSource;
use crate::energy::tensor::T1;
use crate::error::{Error, Result};
use crate::geometry::Vec3;
use crate::io::Configuration;

/// RMSD of the centres from a reference configuration after optimal superposition.
#[derive(Debug, Clone)]
pub struct Rmsd {
    reference: Vec<Vec3>,
    nucleotides: Vec<usize>,
}

impl Rmsd {
    /// From a reference configuration; over `nucleotides` (all when `None`).
    pub fn new(reference: Configuration, nucleotides: Option<Vec<usize>>) -> Result<Rmsd> {
        let nucleotides = nucleotides.unwrap_or_else(|| (0..reference.len()).collect());
        if nucleotides.len() < 3 {
            return Err(Error::invalid(
                "RMSD nucleotides",
                nucleotides.len(),
                "superposition needs at least 3 nucleotides",
            ));
        }
        if let Some(&bad) = nucleotides.iter().find(|&&i| i >= reference.len()) {
            return Err(Error::invalid(
                "RMSD nucleotide",
                bad,
                format!("the reference has {} nucleotides", reference.len()),
            ));
        }
        let reference = nucleotides.iter().map(|&i| reference.r[i]).collect();
        Ok(Rmsd { reference, nucleotides })
    }
}

impl Observable for Rmsd {
    fn name(&self) -> &str {
        "rmsd"
    }
    fn unit(&self) -> &'static str {
        "nm"
    }
    /// The RMSD in oxDNA units.
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        let max = self.nucleotides.iter().copied().max().unwrap_or(0);
        if max >= conf.len() {
            return Err(Error::mismatch(
                "RMSD reference and configuration",
                format!("nucleotide {max} does not exist in a configuration of {} nucleotides", conf.len()),
            ));
        }
        let y: Vec<Vec3> = self.nucleotides.iter().map(|&i| conf.r[i]).collect();
        Ok(vec![rmsd(&self.reference, &y)])
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        nm(mean)
    }
}

/// The RMSD of `y` from `x` after optimal rotation and translation (same length, ≥ 1 point).
#[must_use]
pub fn rmsd(x: &[Vec3], y: &[Vec3]) -> f64 {
    let n = x.len().min(y.len()).max(1) as f64;
    let cx = x.iter().fold(Vec3::ZERO, |a, &v| a + v) / n;
    let cy = y.iter().fold(Vec3::ZERO, |a, &v| a + v) / n;
    let mut s = [[0.0; 3]; 3];
    let mut norms = 0.0;
    for (&a, &b) in x.iter().zip(y) {
        let (a, b) = (a - cx, b - cy);
        norms += a.norm2() + b.norm2();
        for (r, row) in s.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v += a[r] * b[c];
            }
        }
    }
    let [[xx, xy, xz], [yx, yy, yz], [zx, zy, zz]] = s;
    let m = [
        [xx + yy + zz, yz - zy, zx - xz, xy - yx],
        [yz - zy, xx - yy - zz, xy + yx, zx + xz],
        [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
        [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
    ];
    let lambda = largest_eigenvalue(m);
    ((norms - 2.0 * lambda) / n).max(0.0).sqrt()
}

/// The largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi rotations).
fn largest_eigenvalue(mut a: [[f64; 4]; 4]) -> f64 {
    for _ in 0..50 {
        let off: f64 = (0..4).flat_map(|p| (p + 1..4).map(move |q| (p, q))).map(|(p, q)| a[p][q] * a[p][q]).sum();
        let scale: f64 = (0..4).map(|i| a[i][i] * a[i][i]).sum::<f64>();
        if off <= 1e-30 * scale.max(1e-300) {
            break;
        }
        for p in 0..4 {
            for q in p + 1..4 {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                // signum(+0) = 1: a zero θ rotates by 45°
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in &mut a {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                let (ap, aq) = (a[p], a[q]);
                a[p] = std::array::from_fn(|k| c * ap[k] - s * aq[k]);
                a[q] = std::array::from_fn(|k| s * ap[k] + c * aq[k]);
            }
        }
    }
    (0..4).map(|i| a[i][i]).fold(f64::NEG_INFINITY, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::rotate;

    fn points() -> Vec<Vec3> {
        (0..12)
            .map(|k| Vec3::new((k as f64 * 0.7).cos() * 2.0, (k as f64 * 1.3).sin(), 0.3 * k as f64 - (k % 3) as f64))
            .collect()
    }

    #[test]
    fn a_rigid_motion_has_zero_rmsd_and_a_mirror_image_does_not() {
        let x = points();
        let axis = Vec3::new(0.3, -0.5, 0.8).normalized();
        let y: Vec<Vec3> = x.iter().map(|&p| rotate(p, axis, 2.1) + Vec3::new(5.0, -1.0, 3.0)).collect();
        assert!(rmsd(&x, &y) < 1e-7, "{}", rmsd(&x, &y));
        let mirror: Vec<Vec3> = x.iter().map(|&p| Vec3::new(-p[0], p[1], p[2])).collect();
        assert!(rmsd(&x, &mirror) > 0.1);
    }

    /// Planar points and rotations about z: the optimal angle has a closed form,
    /// θ = atan2(Σ (x × y)_z, Σ x·y), an independent computation of the RMSD.
    #[test]
    fn planar_case_matches_the_closed_form_rotation() {
        let x: Vec<Vec3> = points().iter().map(|p| Vec3::new(p[0], p[1], 0.0)).collect();
        let y: Vec<Vec3> = x
            .iter()
            .enumerate()
            .map(|(k, &p)| {
                rotate(p, Vec3::new(0.0, 0.0, 1.0), 0.7)
                    + Vec3::new(0.05 * (k as f64).sin(), 0.04 * (k as f64 * 2.0).cos(), 0.0)
            })
            .collect();
        let n = x.len() as f64;
        let (cx, cy) = (x.iter().fold(Vec3::ZERO, |a, &v| a + v) / n, y.iter().fold(Vec3::ZERO, |a, &v| a + v) / n);
        let (xs, ys): (Vec<Vec3>, Vec<Vec3>) =
            (x.iter().map(|&p| p - cx).collect(), y.iter().map(|&p| p - cy).collect());
        let cross: f64 = xs.iter().zip(&ys).map(|(a, b)| a.cross(*b)[2]).sum();
        let dot: f64 = xs.iter().zip(&ys).map(|(a, b)| a.dot(*b)).sum();
        let theta = cross.atan2(dot);
        let direct =
            (xs.iter().zip(&ys).map(|(a, b)| (rotate(*a, Vec3::new(0.0, 0.0, 1.0), theta) - *b).norm2()).sum::<f64>()
                / n)
                .sqrt();
        assert!((rmsd(&x, &y) - direct).abs() < 1e-10, "{} vs {direct}", rmsd(&x, &y));
        assert!(direct > 0.01);
    }
}
