//! The terms of the oxDNA energy, one file each, generic over [`Real`].
//!
//! Every term is a function of one ordered pair `(p, q)`: the minimum-image centre separation
//! `d = r_q − r_p` and the two frames (`a1, a2, a3` of p, `b1, b2, b3` of q). Bonded pairs have
//! `q = n3(p)`; non-bonded pairs have `p < q`. Sites are offsets along the frame:
//! `r^{XY} = d + s^Y(q) − s^X(p)` is the vector from site X of p to
//! site Y of q.
//!
//! **One definition, three evaluations.** Each term is a sum of products of one-dimensional
//! factors, each factor a function (f1…f6) of one geometric [`Feature`] of the pair — a distance
//! between sites, a dot product of frame vectors, a frame vector on a unit separation, or the
//! triple product of oxDNA1's coaxial φ. A term states this as a static [`Spec`] plus its
//! [`Factors`]. [`energy`] evaluates a spec for `f64` (with early exits) or for tensors (every
//! pair of a batch at once, for autodiff); the MD force kernel evaluates the same specs in `f64`
//! with the factors' derivatives from [`crate::math::Dual`] numbers and the features' analytic gradients, for
//! the forces and torques of molecular dynamics — no autodiff graph in the MD hot path.
//!
//! **Why these are not [`EnergyTerm`](crate::energy::EnergyTerm)s.** Users' terms are evaluated
//! by the same generic code but take their forces from a recorded tape replayed per
//! pair and read their parameters by name on every pair; the kernel shares site
//! separations between terms, skips terms on squared distances and builds each factor once per
//! parameter set. Measured with non-bonded excluded volume and hydrogen bonding written as
//! `EnergyTerm`s (`benches/builtin_via_term.rs`, 120-nucleotide oxDNA2 duplex, BENCHMARKS.md):
//! MD forces cost 6.0 times the built-in routine's instructions (the two terms alone 60 times),
//! energies 2.6 times, energy + gradient 1.45 times. The built-in terms therefore stay here, and
//! `tests/builtin_as_terms.rs` keeps the two systems equal (those two terms through
//! `EnergyTerm`, on the same specs, factors and shared parameters, against the built-in ones on
//! every DNA reference case: energies, forces and parameter gradients to 1e-10). oxRNA2's terms
//! are users' terms written as specs; the force kernel recognises them and evaluates their specs
//! as it does these ([`crate::energy::rna2`]).

pub mod coaxial_stacking;
pub mod cross_stacking;
pub mod debye;
pub mod excluded_volume;
pub mod fene;
pub mod hydrogen_bonding;
pub mod stacking;

use super::functions::ParamSource;
use crate::geometry::Vec3;
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
    pub sp: [V3<T>; 4],
    /// Offsets of q's sites.
    pub sq: [V3<T>; 4],
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

    /// The same constants as another number type.
    pub fn map<U>(&self, f: impl Fn(&T) -> U) -> Geometry<U> {
        Geometry {
            bb_x: f(&self.bb_x),
            bb_y: self.bb_y.as_ref().map(&f),
            bb1: f(&self.bb1),
            st: f(&self.st),
            hb: f(&self.hb),
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
        // an array literal builds in place (`map` moves every vector once more, which costs for
        // the wide dual numbers of users' terms)
        let sites = |f: &[V3<T>; 3]| {
            [
                self.offset(Site::Backbone, f),
                self.offset(Site::Backbone1, f),
                self.offset(Site::Stack, f),
                self.offset(Site::Base, f),
            ]
        };
        Pair { sp: sites(&a), sq: sites(&b), d, a, b }
    }
}

impl Geometry<f64> {
    /// The offsets of the four sites of a nucleotide with frame `f`, indexed by [`Site`].
    #[must_use]
    #[inline]
    pub fn offsets(&self, f: &[Vec3; 3]) -> [Vec3; 4] {
        let bb = f[0] * self.bb_x + self.bb_y.map_or(Vec3::ZERO, |y| f[1] * y);
        [bb, f[0] * self.bb1, f[0] * self.st, f[0] * self.hb]
    }

    /// The site offsets as components along (a1, a2, a3), in the slots of [`Site`].
    #[must_use]
    pub fn site_offsets(&self) -> [[f64; 3]; 4] {
        [[self.bb_x, self.bb_y.unwrap_or(0.0), 0.0], [self.bb1, 0.0, 0.0], [self.st, 0.0, 0.0], [self.hb, 0.0, 0.0]]
    }

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

/// A frame vector: axis `k` (0 = a1, 1 = a2, 2 = a3) of p or of q.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Of the first nucleotide, p.
    P(usize),
    /// Of the second nucleotide, q.
    Q(usize),
}

/// Which nucleotide of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The first, p.
    P,
    /// The second, q.
    Q,
}

/// A scalar function of a pair's geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feature {
    /// |r^{XY}|.
    Dist(Site, Site),
    /// sign · (p axis · q axis).
    FrameDot(usize, usize, f64),
    /// sign · (axis · r̂^{XY}).
    AxisOnSep(Axis, Site, Site, f64),
    /// r̂^{X1Y1} · (r̂^{X2Y2} × axis).
    Triple((Site, Site), (Site, Site), Axis),
    /// sign · (w · r̂^{XY}) with `w = c[0] a1 + c[1] a2 + c[2] a3` of one side's frame (oxRNA2's
    /// backbone directions p3, p5).
    CombOnSep(Side, [f64; 3], Site, Site, f64),
}

/// The products of (feature, factor index) whose sum is a term.
pub type Spec = &'static [&'static [(Feature, u8)]];

/// The one-dimensional factors of a term, by index; `eps` is the pair's strength (stacking,
/// H-bonding) or charge product (Debye–Hückel).
pub trait Factors<T> {
    /// Factor `k` at feature value `s`.
    fn factor(&self, k: u8, s: &T, eps: &T) -> T;
}

fn axis<T>(pair: &Pair<T>, a: Axis) -> &V3<T> {
    match a {
        Axis::P(k) => &pair.a[k],
        Axis::Q(k) => &pair.b[k],
    }
}

/// The value of a feature.
pub fn feature<T: Real>(pair: &Pair<T>, f: &Feature) -> T {
    match *f {
        Feature::Dist(x, y) => pair.between(x, y).norm(),
        Feature::FrameDot(i, j, sign) => pair.a[i].dot(&pair.b[j]) * sign,
        Feature::AxisOnSep(u, x, y, sign) => {
            let (rhat, _) = unit(&pair.between(x, y));
            axis(pair, u).dot(&rhat) * sign
        }
        Feature::Triple((x1, y1), (x2, y2), u) => {
            let (r1, _) = unit(&pair.between(x1, y1));
            let (r2, _) = unit(&pair.between(x2, y2));
            r1.dot(&r2.cross(axis(pair, u)))
        }
        Feature::CombOnSep(side, c, x, y, sign) => {
            let (rhat, _) = unit(&pair.between(x, y));
            let frame = match side {
                Side::P => &pair.a,
                Side::Q => &pair.b,
            };
            crate::energy::comb(frame, c).dot(&rhat) * sign
        }
    }
}

/// A term's energy for one pair (or every pair of a batch): Σ over products of Π factors.
pub fn energy<T: Real>(spec: Spec, factors: &dyn Factors<T>, pair: &Pair<T>, eps: &T) -> T {
    let mut total: Option<T> = None;
    for product in spec {
        let mut e: Option<T> = None;
        for (f, k) in *product {
            let g = factors.factor(*k, &feature(pair, f), eps);
            let zero = g.is_zero();
            e = Some(match e {
                Some(x) => x * g,
                None => g,
            });
            if zero {
                break; // scalars: the product is zero, skip the remaining factors
            }
        }
        if let Some(e) = e {
            total = Some(match total {
                Some(t) => t + e,
                None => e,
            });
        }
    }
    total.unwrap_or_else(|| eps.cst(0.0))
}

/// ∂E/∂d, ∂E/∂θ_p, ∂E/∂θ_q of one pair: the derivative with respect to the separation and to
/// infinitesimal rotations of p and of q (lab frame). Forces are F_p = ∂E/∂d, F_q = −∂E/∂d;
/// torques τ_p = −∂E/∂θ_p, τ_q = −∂E/∂θ_q.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairGradient {
    /// ∂E/∂d.
    pub d: Vec3,
    /// ∂E/∂θ_p.
    pub p: Vec3,
    /// ∂E/∂θ_q.
    pub q: Vec3,
}

#[cfg(test)]
mod tests {
    use super::Geometry;
    use crate::geometry::Vec3;
    use crate::params::{ModelKind, ParamSet};

    /// The neighbour-list margin is exactly the farthest site: smaller would lose pairs, larger
    /// only costs time (which no energy test can see).
    #[test]
    fn max_offset_is_the_distance_of_the_farthest_site() {
        for (set, model) in [(ParamSet::dna1_defaults(), ModelKind::Dna1), (ParamSet::dna2_defaults(), ModelKind::Dna2)]
        {
            let g = Geometry::<f64>::new(&set, model);
            let frame = [Vec3::new(1.0, 0.0, 0.0), Vec3::new(0.0, 1.0, 0.0), Vec3::new(0.0, 0.0, 1.0)];
            let farthest = g.offsets(&frame).into_iter().map(Vec3::norm).fold(0.0, f64::max);
            assert!((g.max_offset() - farthest).abs() < 1e-12, "{model:?}: {} vs {farthest}", g.max_offset());
            assert!(farthest > 0.3, "{model:?}: sites sit about 0.4 from the centre");
        }
    }
}
