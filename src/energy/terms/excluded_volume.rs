//! Excluded volume (Ouldridge et al. 2011): repulsive f3 between sites.
//!
//! Bonded pairs: base–base, base(p)–backbone(q) and backbone(p)–base(q)
//! (`sigma_base`, `sigma_base_back`, `sigma_back_base`); no backbone–backbone term, FENE handles it.
//! Non-bonded pairs add backbone–backbone (`sigma_backbone`). One `eps_exc` for all; the names are
//! shared by both terms (one parameter). Backbone = the model's backbone site.

use super::{Pair, Site};
use crate::energy::functions::{ParamSource, F3};
use crate::math::Real;

/// The four f3 site pairs.
#[derive(Debug, Clone)]
pub struct ExcludedVolume<T> {
    base: F3<T>,
    base_back: F3<T>,
    back_base: F3<T>,
    backbone: F3<T>,
}

impl<T: Real> ExcludedVolume<T> {
    /// From a parameter source.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        ExcludedVolume {
            base: F3::new(src, "base"),
            base_back: F3::new(src, "base_back"),
            back_base: F3::new(src, "back_base"),
            backbone: F3::new(src, "backbone"),
        }
    }

    /// The largest cut-off between sites.
    pub fn cutoffs(&self) -> [T; 4] {
        [self.base.cutoff(), self.base_back.cutoff(), self.back_base.cutoff(), self.backbone.cutoff()]
    }

    /// Bonded excluded volume of one pair.
    pub fn bonded(&self, pair: &Pair<T>) -> T {
        let r = |x, y| pair.between(x, y).norm();
        self.base.eval(&r(Site::Base, Site::Base))
            + self.base_back.eval(&r(Site::Base, Site::Backbone))
            + self.back_base.eval(&r(Site::Backbone, Site::Base))
    }

    /// Non-bonded excluded volume of one pair.
    pub fn nonbonded(&self, pair: &Pair<T>) -> T {
        self.bonded(pair) + self.backbone.eval(&pair.between(Site::Backbone, Site::Backbone).norm())
    }
}
