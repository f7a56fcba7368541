//! Dependent (smoothing) constants of the generic functions f1–f5 and of Debye–Hückel.
//!
//! Every piecewise function of the oxDNA model joins its core g to zero by a quadratic tail
//! b (x − x_c)² whose constants make value and slope continuous at the switch point x*:
//!
//! ```text
//! x_c = x* − 2 g(x*) / g'(x*),      b = g'(x*)² / (4 g(x*))
//! ```
//!
//! The functions here apply this rule in closed form (Ouldridge et al.
//! 2011, appendix). They are generic over [`Real`] so the same code serves the native engine (`f64`)
//! and the Burn model, where gradients flow through the dependents to the independent parameters.

use crate::math::Real;

/// f1 (Morse with smooth cut-offs): `(b, x_c)` of the tail at `x_star` (= r_low or r_high).
///
/// Core `g(r) = (1 − e^{−a(r−r0)})² − (1 − e^{−a(rc−r0)})²`; the constants do not depend on ε.
pub fn f1_tail<T: Real>(a: T, r0: T, rc: T, x_star: T) -> (T, T) {
    let e = (-(a.clone() * (x_star.clone() - r0.clone()))).exp();
    let ec = (-(a.clone() * (rc - r0))).exp();
    let one_m_e = -e.clone() + 1.0;
    let one_m_ec = -ec + 1.0;
    let g = one_m_e.clone() * one_m_e.clone() - one_m_ec.clone() * one_m_ec;
    let gp = a * e * one_m_e * 2.0;
    let x_c = x_star - g.clone() * 2.0 / gp.clone();
    let b = gp.clone() * gp / (g * 4.0);
    (b, x_c)
}

/// f2 (harmonic with smooth cut-offs): `(b, x_c)` of the tail at `x_star`.
///
/// `b = (x*−r0)² / (2[(x*−r0)² − (rc−r0)²])`, `x_c = r0 + (rc−r0)²/(x*−r0)`.
pub fn f2_tail<T: Real>(r0: T, rc: T, x_star: T) -> (T, T) {
    let d = x_star - r0.clone();
    let dc = rc - r0.clone();
    let d2 = d.clone() * d.clone();
    let dc2 = dc.clone() * dc;
    let b = d2.clone() / ((d2 - dc2.clone()) * 2.0);
    let x_c = r0 + dc2 / d;
    (b, x_c)
}

/// f3 (repulsive Lennard-Jones): `(b, r_c)` of the tail at `r_star`.
///
/// `r_c = r*(4r*⁶ − 7σ⁶) / (3(r*⁶ − 2σ⁶))`, `b = 36σ⁶(r*⁶ − 2σ⁶)² / (r*¹⁴(σ⁶ − r*⁶))`.
pub fn f3_tail<T: Real>(sigma: T, r_star: T) -> (T, T) {
    let s6 = sigma.powi(6);
    let r6 = r_star.clone().powi(6);
    let diff = r6.clone() - s6.clone() * 2.0;
    let r_c = r_star.clone() * (r6.clone() * 4.0 - s6.clone() * 7.0) / (diff.clone() * 3.0);
    let b = s6.clone() * diff.clone() * diff * 36.0 / (r_star.powi(14) * (s6 - r6));
    (b, r_c)
}

/// f4 (angular modulation) and f5 (cos φ modulation) share one tail form:
/// `(b, x_c) = (a²x*² / (1 − a x*²), 1 / (a x*))` with x* = Δθ* (f4) or the switch cosine (f5).
pub fn f4_tail<T: Real>(a: T, x_star: T) -> (T, T) {
    let ax = a.clone() * x_star.clone();
    let b = ax.clone() * ax.clone() / (-(ax.clone() * x_star) + 1.0);
    (b, ax.recip())
}

/// The Debye length at temperature `kt` and salt `salt` (molar): `λ = λ0 √(kT/0.1) / √I`.
pub fn debye_length<T: Real>(lambda_factor: T, kt: T, salt: T) -> T {
    lambda_factor * (kt / 0.1).sqrt() / salt.sqrt()
}

/// Debye–Hückel constants `(λ, κ, r_high, A, B, r_c)` at temperature `kt` and salt `salt` (molar):
/// `λ = λ0 √(kT/0.1) / √I`, `r_high = 3λ`, `A = prefactor_coeff · q_eff²`,
/// `B = A e^{−r_high/λ}(r_high+λ)² / (4 r_high³ λ²)`, `r_c = r_high(r_high+3λ)/(r_high+λ)`.
pub fn debye<T: Real>(lambda_factor: T, prefactor_coeff: T, q_eff: T, kt: T, salt: T) -> [T; 6] {
    let lambda = debye_length(lambda_factor, kt, salt);
    let kappa = lambda.clone().recip();
    let r_high = lambda.clone() * 3.0;
    let a = prefactor_coeff * q_eff.clone() * q_eff;
    let rl = r_high.clone() + lambda.clone();
    let b = a.clone() * (-(r_high.clone() / lambda.clone())).exp() * rl.clone() * rl.clone()
        / (r_high.clone().powi(3) * lambda.clone() * lambda.clone() * 4.0);
    let r_c = r_high.clone() * (r_high.clone() + lambda.clone() * 3.0) / rl;
    [lambda, kappa, r_high, a, b, r_c]
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    // The derived constants as oxDNA defines them (its `model.h`), to their printed digits.
    #[test]
    fn derived_constants_match_the_published_table() {
        let (b, xc) = f1_tail(6.0, 0.4, 0.9, 0.32);
        assert_abs_diff_eq!(b, -68.185737, epsilon = 1e-6);
        assert_abs_diff_eq!(xc, 0.232390, epsilon = 1e-6);
        let (b, xc) = f1_tail(8.0, 0.4, 0.75, 0.70);
        assert_abs_diff_eq!(b, -7.877076, epsilon = 1e-6);
        assert_abs_diff_eq!(xc, 0.783775, epsilon = 1e-6);
        let (b, rc) = f3_tail(0.70, 0.675);
        assert_abs_diff_eq!(b, 892.016223, epsilon = 1e-6);
        assert_abs_diff_eq!(rc, 0.711879214, epsilon = 1e-9);
        let (b, xc) = f2_tail(0.575, 0.675, 0.495);
        assert_abs_diff_eq!(b, -0.888889, epsilon = 1e-6);
        assert_abs_diff_eq!(xc, 0.45, epsilon = 1e-12);
        let (b, tc) = f4_tail(1.30, 0.8);
        assert_abs_diff_eq!(b, 6.438095, epsilon = 1e-6);
        assert_abs_diff_eq!(tc, 0.961538, epsilon = 1e-6);
        let (b, xc) = f4_tail(2.0, -0.65);
        assert_abs_diff_eq!(b, 10.903226, epsilon = 1e-6);
        assert_abs_diff_eq!(xc, -0.769231, epsilon = 1e-6);
        let [lambda, kappa, r_high, a, b, rc] = debye(0.3616455075438555, 0.0543 / (0.815 * 0.815), 0.815, 0.1, 0.5);
        assert_abs_diff_eq!(lambda, 0.511444, epsilon = 1e-6);
        assert_abs_diff_eq!(kappa, 1.0 / 0.511444, epsilon = 1e-5);
        assert_abs_diff_eq!(a, 0.0543, epsilon = 1e-15);
        assert_abs_diff_eq!(r_high, 1.534332, epsilon = 1e-6);
        assert_abs_diff_eq!(rc, 2.301498, epsilon = 1e-6);
        assert_abs_diff_eq!(b, 2.99377e-3, epsilon = 1e-8);
        // λ scales as √(kT/0.1) / √I (oxDNA2 at 330 K and 0.2 M)
        let [lambda, ..] = debye(0.3616455075438555, 0.0543 / (0.815 * 0.815), 0.815, 0.11, 0.2);
        assert_abs_diff_eq!(lambda, 0.3616455075438555 * (1.1_f64 / 0.2).sqrt(), epsilon = 1e-12);
    }
}
