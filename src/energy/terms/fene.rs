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
