//! The terms of the oxDNA energy, one file each, generic over [`Real`].
//!
//! Every term is a function of one ordered pair `(p, q)`: the minimum-image centre separation
//! `d = r_q − r_p` and the two frames (`a1, a2, a3` of p, `b1, b2, b3` of q). Bonded pairs have
//! `q = n3(p)`; non-bonded pairs have `p < q`. Sites are offsets along the frame
//! (`spec/oxdna-model.md` §2.2): `r^{XY} = d + s^Y(q) − s^X(p)` is the vector from site X of p to
//! site Y of q.

pub mod coaxial_stacking;
pub mod cross_stacking;
pub mod debye;
pub mod excluded_volume;
pub mod fene;
pub mod hydrogen_bonding;
pub mod stacking;

use super::functions::ParamSource;
use crate::math::{Real, V3};
use crate::params::ModelKind;

/// One ordered pair of nucleotides, with the site offsets of both.
#[derive(Debug, Clone)]
pub struct Pair<T> {
    /// Minimum-image separation of the centres, r_q − r_p.
    pub d: V3<T>,
    /// Frame (a1, a2, a3) of p.
    pub a: [V3<T>; 3],
    /// Frame (b1, b2, b3) of q.
    pub b: [V3<T>; 3],
    /// Offsets of p's sites from its centre, indexed by [`Site`].
    sp: [V3<T>; 4],
    /// Offsets of q's sites.
    sq: [V3<T>; 4],
}

impl<T: Real> Pair<T> {
    /// `r^{XY}`: from site `x` of p to site `y` of q.
    pub fn between(&self, x: Site, y: Site) -> V3<T> {
        self.d.add(&self.sq[y as usize]).sub(&self.sp[x as usize])
    }
}

/// The interaction sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The model's backbone (oxDNA2: grooved, off the a1 axis).
    Backbone = 0,
    /// The oxDNA1 backbone r − 0.4 a1, the reference point of the stacking φ angles in both models.
    Backbone1,
    /// The stacking site.
    Stack,
    /// The base (hydrogen-bonding) site.
    Base,
}

/// Site offsets from the centre of mass, along a1 (and a2 for the oxDNA2 backbone).
#[derive(Debug, Clone)]
pub struct Geometry<T> {
    bb_x: T,
    bb_y: Option<T>,
    bb1: T,
    st: T,
    hb: T,
}

impl<T: Real> Geometry<T> {
    /// From `com_to_*` of `model`.
    pub fn new(src: &impl ParamSource<T>, model: ModelKind) -> Self {
        let (st, hb) = (src.p("com_to_stacking"), src.p("com_to_hb"));
        match model {
            ModelKind::Dna1 => {
                let bb = src.p("com_to_backbone");
                Geometry { bb_x: bb.clone(), bb_y: None, bb1: bb, st, hb }
            }
            ModelKind::Dna2 => Geometry {
                bb_x: src.p("com_to_backbone_x"),
                bb_y: Some(src.p("com_to_backbone_y")),
                bb1: src.p("com_to_backbone_dna1"),
                st,
                hb,
            },
        }
    }

    /// The offset of `site` for a nucleotide with frame `f`.
    pub fn offset(&self, site: Site, f: &[V3<T>; 3]) -> V3<T> {
        match site {
            Site::Backbone => {
                let x = f[0].scale(&self.bb_x);
                match &self.bb_y {
                    Some(y) => x.add(&f[1].scale(y)),
                    None => x,
                }
            }
            Site::Backbone1 => f[0].scale(&self.bb1),
            Site::Stack => f[0].scale(&self.st),
            Site::Base => f[0].scale(&self.hb),
        }
    }

    /// The pair with separation `d` and frames `a` (of p) and `b` (of q), its sites attached.
    pub fn pair(&self, d: V3<T>, a: [V3<T>; 3], b: [V3<T>; 3]) -> Pair<T> {
        let sites =
            |f: &[V3<T>; 3]| [Site::Backbone, Site::Backbone1, Site::Stack, Site::Base].map(|s| self.offset(s, f));
        Pair { sp: sites(&a), sq: sites(&b), d, a, b }
    }
}

impl Geometry<f64> {
    /// The largest distance of any site from the centre (bounds neighbour-list cut-offs).
    #[must_use]
    pub fn max_offset(&self) -> f64 {
        let bb = (self.bb_x * self.bb_x + self.bb_y.map_or(0.0, |y| y * y)).sqrt();
        bb.max(self.bb1.abs()).max(self.st.abs()).max(self.hb.abs())
    }
}

/// Unit vector and length of `v`.
pub(crate) fn unit<T: Real>(v: &V3<T>) -> (V3<T>, T) {
    let r = v.norm();
    (v.div(&r), r)
}
