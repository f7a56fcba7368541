//! Excluded volume (Ouldridge et al. 2011): repulsive f3 between sites.
//!
//! Bonded pairs: base–base, base(p)–backbone(q) and backbone(p)–base(q)
//! (`sigma_base`, `sigma_base_back`, `sigma_back_base`); no backbone–backbone term, FENE handles it.
//! Non-bonded pairs add backbone–backbone (`sigma_backbone`). One `eps_exc` for all; the names are
//! shared by both terms (one parameter). Backbone = the model's backbone site.

use super::{energy, Factors, Feature, Pair, Site, Spec};
use crate::energy::functions::{ParamSource, F3};
use crate::math::Real;
use crate::params::smoothing::f3_tail;

const BASE: (Feature, u8) = (Feature::Dist(Site::Base, Site::Base), 0);
const BASE_BACK: (Feature, u8) = (Feature::Dist(Site::Base, Site::Backbone), 1);
const BACK_BASE: (Feature, u8) = (Feature::Dist(Site::Backbone, Site::Base), 2);
const BACKBONE: (Feature, u8) = (Feature::Dist(Site::Backbone, Site::Backbone), 3);

/// Bonded excluded volume: three site pairs.
pub const BONDED: Spec = &[&[BASE], &[BASE_BACK], &[BACK_BASE]];
/// Non-bonded excluded volume: the same three and backbone–backbone.
pub const NONBONDED: Spec = &[&[BASE], &[BASE_BACK], &[BACK_BASE], &[BACKBONE]];

/// The four f3 site pairs.
#[derive(Debug, Clone)]
pub struct ExcludedVolume<T> {
    f: [F3<T>; 4],
}

impl<T: Real> ExcludedVolume<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        ExcludedVolume { f: ["base", "base_back", "back_base", "backbone"].map(|s| F3::new(src, s)) }
    }

    /// The cut-off of each site pair.
    pub fn cutoffs(&self) -> [T; 4] {
        [0, 1, 2, 3].map(|k| self.f[k].cutoff())
    }
}

impl<T: Real> Factors<T> for ExcludedVolume<T> {
    fn factor(&self, k: u8, s: &T, _: &T) -> T {
        self.f[k as usize].eval(s)
    }
}

/// The term (`spec`: [`BONDED`] or [`NONBONDED`]) on one pair, its parameters read by name from
/// `src` on every call, as a user's term ([`crate::energy::EnergyTerm`]) reads them: most pairs
/// have every site pair beyond its f3 cut-off, so the factors are built only when one is within.
/// oxRNA2's excluded volume is this on the RNA sites; `tests/builtin_as_terms.rs` checks it
/// against the built-in evaluation on the DNA sites.
pub fn energy_within_reach<T: Real>(src: &impl ParamSource<T>, pair: &Pair<T>, spec: Spec) -> T {
    let zero = pair.d.x.cst(0.0);
    let reach = |(sigma, star): (&str, &str), x: Site, y: Site| {
        let (_, rc) = f3_tail(src.p(sigma), src.p(star));
        pair.between(x, y).norm().lt(&rc)
    };
    let near = [
        reach(("sigma_base", "dr_star_base"), Site::Base, Site::Base),
        reach(("sigma_base_back", "dr_star_base_back"), Site::Base, Site::Backbone),
        reach(("sigma_back_base", "dr_star_back_base"), Site::Backbone, Site::Base),
        reach(("sigma_backbone", "dr_star_backbone"), Site::Backbone, Site::Backbone),
    ];
    if !near.iter().any(T::any) {
        return zero;
    }
    energy(spec, &ExcludedVolume::new(src), pair, &zero)
}
