//! FENE backbone bond (bonded pairs), Ouldridge et al. 2011, eq. (2):
//!
//! ```text
//! V = −(ε/2) ln(1 − (r − r0)²/Δ²)          |r − r0| ≤ x_max
//! V = (F_max − F_∞) x_max ln(|x|/x_max) + F_∞(|x| − x_max) + V(x_max)    beyond
//! ```
//!
//! r is the distance between the model's backbone sites (oxDNA2: grooved). Beyond
//! `x_max = (−ε + √(ε² + 4F_max²Δ²)) / (2F_max)` (0.2480 with `fmax` 500) the bond continues with a
//! force decaying from F_max to F_∞, as mythos always does and oxDNA does with its
//! `max_backbone_force` option; plain oxDNA is infinite at |x| ≥ Δ. Energy units; lengths in
//! oxDNA units.

use super::{Factors, Feature, Site, Spec};
use crate::energy::functions::ParamSource;
use crate::math::Real;

/// The term: one factor of the backbone distance.
pub const SPEC: Spec = &[&[(Feature::Dist(Site::Backbone, Site::Backbone), 0)]];

/// FENE parameters: `eps_backbone`, `r0_backbone`, `delta_backbone`, `fmax`, `finf`.
#[derive(Debug, Clone)]
pub struct Fene<T> {
    eps: T,
    r0: T,
    delta: T,
    fmax: T,
    finf: T,
}

impl<T: Real> Fene<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        Fene {
            eps: src.p("eps_backbone"),
            r0: src.p("r0_backbone"),
            delta: src.p("delta_backbone"),
            fmax: src.p("fmax"),
            finf: src.p("finf"),
        }
    }

    fn plain(&self, x: &T) -> T {
        let d2 = self.delta.clone() * self.delta.clone();
        -(self.eps.clone() * 0.5) * (-(x.clone() * x.clone()) / d2 + 1.0).ln()
    }

    /// V(r) of the backbone distance r.
    pub fn eval(&self, r: &T) -> T {
        let x = r.clone() - self.r0.clone();
        let ax = x.clone().abs();
        let (e, f, dl) = (self.eps.clone(), self.fmax.clone(), self.delta.clone());
        let xmax =
            ((e.clone() * e.clone() + f.clone() * f.clone() * dl.clone() * dl * 4.0).sqrt() - e) / (f.clone() * 2.0);
        let near = ax.le(&xmax);
        T::choose(
            &near,
            // sanitised so the far branch's |x| ≥ Δ never reaches the logarithm (both branches of a tensor `choose` are evaluated)
            || self.plain(&T::choose(&near, || x.clone(), || x.cst(0.0))),
            || {
                let axs = T::choose(&near, || xmax.clone() + x.cst(0.0), || ax.clone());
                (f.clone() - self.finf.clone()) * xmax.clone() * (axs.clone() / xmax.clone()).ln()
                    + self.finf.clone() * (axs - xmax.clone())
                    + self.plain(&xmax)
            },
        )
    }
}

impl<T: Real> Factors<T> for Fene<T> {
    fn factor(&self, _: u8, s: &T, _: &T) -> T {
        self.eval(s)
    }
}

#[cfg(test)]
mod tests {
    use super::Fene;
    use crate::params::ParamSet;

    /// Beyond the stretch where plain FENE's force reaches `fmax`, the energy continues with a
    /// force falling from `fmax` to `finf`: continuous in value and force at the switch point,
    /// which is found here independently, by bisection on the plain force ε x / (Δ² − x²).
    #[test]
    fn the_bounded_continuation_joins_plain_fene_where_its_force_reaches_fmax() {
        // at the default ε = 2 and at another (ε² = 2ε at the default)
        for eps in [2.0, 1.5] {
            let mut p = ParamSet::dna1_defaults();
            p.set("eps_backbone", eps).unwrap();
            let fene: Fene<f64> = Fene::new(&p);
            let (eps, r0, delta, fmax, finf) =
                ["eps_backbone", "r0_backbone", "delta_backbone", "fmax", "finf"].map(|n| p.value(n)).into();
            let force = |x: f64| eps * x / (delta * delta - x * x);
            let (mut lo, mut hi) = (0.0, delta);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if force(mid) < fmax {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let xs = 0.5 * (lo + hi);
            let v = |x: f64| fene.eval(&(r0 + x));
            let slope = |x: f64, h: f64| (v(x + h) - v(x - h)) / (2.0 * h);
            // below the switch: plain FENE, −(ε/2) ln(1 − x²/Δ²)
            let x = 0.5 * xs;
            assert!((v(x) + 0.5 * eps * (1.0 - x * x / (delta * delta)).ln()).abs() < 1e-12);
            assert!((v(-x) - v(x)).abs() < 1e-15, "symmetric in the stretch");
            // at the switch: continuous value, force fmax on both sides
            let h = 1e-9; // (plain FENE curves hard here: V″ ≈ 2.5e5, so the second-order term is ~1e-13)
            let jump = v(xs + h) - v(xs - h) - 2.0 * h * fmax;
            assert!(jump.abs() < 1e-12, "value jumps at the switch by {jump} (x* = {xs})");
            assert!((slope(xs - 1e-7, 1e-9) - fmax).abs() < 0.1, "{}", slope(xs - 1e-7, 1e-9));
            assert!((slope(xs + 1e-7, 1e-9) - fmax).abs() < 0.1, "{}", slope(xs + 1e-7, 1e-9));
            // far out the force is (fmax − finf) x* / |x| + finf, tending to finf
            let far = 100.0 * xs;
            let want = (fmax - finf) * xs / far + finf;
            assert!((slope(far, 1e-5) - want).abs() < 1e-6, "far force {} vs {want}", slope(far, 1e-5));
            assert!(v(far).is_finite() && v(-far) == v(far));
        }
    }
}
