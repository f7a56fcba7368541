//! The force kernel of molecular dynamics: energies, forces and torques of one pair, every term
//! at once, in `f64`.
//!
//! The terms are defined once, as specs of (feature, factor) in [`super::terms`]; energies and
//! Burn tensors evaluate those specs directly. MD needs forces millions of times, so this kernel
//! evaluates the same specs laid out for speed: each site separation is computed once per pair
//! and shared by every term that uses it (the base–base vector serves excluded volume, hydrogen
//! bonding and cross-stacking); a term's radial factor is checked against its support on the
//! squared distance before anything else, so a pair on which nothing acts costs a few
//! comparisons; each factor's value and slope come from the term's own [`Factors`] on [`Dual`]
//! numbers; and the gradient is accumulated with respect to each separation and frame vector,
//! then turned into forces and torques once (reverse mode by hand).
//!
//! **Derived from the specs.** The kernel's per-term feature lists are computed from the terms'
//! specs at compile time ([`kernel_spec`] names each term's spec; `layout` and `radials` turn it
//! into separations by slot and checks of the layout the kernel relies on: factor k on feature
//! k, the radial factor first, only separations it computes). A spec the kernel cannot evaluate
//! does not compile, and a changed spec changes the kernel with it. Unit tests check that
//! [`kernel_spec`] is what [`Terms::spec`] evaluates for every term and that the kernel's feature
//! values are the specs' own; `tests/forces.rs` checks the forces against automatic
//! differentiation of the specs on every reference case, one term at a time.
//!
//! **Exact functions, no tables.** oxDNA's default interactions (`interaction_type = DNA`,
//! `DNA2`) tabulate the angular factor f4 on cos θ to avoid `acos`; its `_nomesh` variants
//! evaluate it exactly, and so does this kernel, for every `interaction_type`. The cost of `acos`
//! is avoided where it matters instead: f4 is zero outside θ0 ± θc, an interval of cos θ, so an
//! angle is taken only when cos θ lies inside its support (most non-bonded pairs fail on the
//! first test). This keeps the MD forces the exact derivatives of the energies that
//! `tests/energy_vs_oxdna.rs` checks (a table would move H-bonding and cross-stacking energies
//! by up to ~1e-5 per nucleotide) and is still 1.6–2.2× oxDNA's speed (`BENCHMARKS.md`).
//!
//! **oxRNA2.** oxRNA2's eight terms are users' terms ([`crate::energy::rna2`]), each defined as a
//! spec with its factors. [`Rna`] recognises them in a model and evaluates those specs here the
//! same way ([`rna_bonded`], [`rna_nonbonded`]), on the RNA sites; terms of other types keep
//! their generic route.

use super::custom::{Attached, Scope, TermParams};
use super::functions::ParamSource;
use super::model::{TermId, Terms};
use super::rna2::{self, cross_stacking::CrossFactors, fene::FeneFactor, stacking::StackingFactors};
use super::terms::coaxial_stacking::CoaxialStacking;
use super::terms::debye::Debye;
use super::terms::excluded_volume::ExcludedVolume;
use super::terms::hydrogen_bonding::HydrogenBonding;
use super::terms::{Axis, Factors, Feature, PairGradient, Side, Site, Spec};
use crate::geometry::Vec3;
use crate::math::Dual;
use crate::params::ModelKind;
use crate::system::Nucleotide;

/// The separations a pair may need, as (site of p, site of q): base–base, base–backbone,
/// backbone–base, backbone–backbone, stack–stack, backbone1–backbone1. A term whose spec needs
/// another separation does not compile (see [`slot`]).
const SLOTS: [(Site, Site); 6] = [
    (Site::Base, Site::Base),
    (Site::Base, Site::Backbone),
    (Site::Backbone, Site::Base),
    (Site::Backbone, Site::Backbone),
    (Site::Stack, Site::Stack),
    (Site::Backbone1, Site::Backbone1),
];

/// [`SLOTS`] as indices into the site offsets, for the loops over separations (indexing through
/// `Site` there cost about 1 % more instructions in MD).
const SLOT_SITES: [(usize, usize); 6] = {
    let mut out = [(0, 0); 6];
    let mut k = 0;
    while k < SLOTS.len() {
        out[k] = (SLOTS[k].0 as usize, SLOTS[k].1 as usize);
        k += 1;
    }
    out
};

/// The spec the kernel evaluates for `term` (oxDNA1 or oxDNA2): the term's own, as
/// [`Terms::spec`] gives it (a unit test holds the two together for every term). Every feature
/// list below is derived from these at compile time.
const fn kernel_spec(term: TermId, dna1: bool) -> Spec {
    use super::terms::{coaxial_stacking, cross_stacking, debye, excluded_volume, fene, hydrogen_bonding, stacking};
    match term {
        TermId::Fene => fene::SPEC,
        TermId::BondedExcludedVolume => excluded_volume::BONDED,
        TermId::Stacking => stacking::SPEC,
        TermId::UnbondedExcludedVolume => excluded_volume::NONBONDED,
        TermId::HydrogenBonding => hydrogen_bonding::SPEC,
        TermId::CrossStacking => cross_stacking::SPEC,
        TermId::CoaxialStacking if dna1 => coaxial_stacking::SPEC_DNA1,
        TermId::CoaxialStacking => coaxial_stacking::SPEC_DNA2,
        TermId::Debye => debye::SPEC,
    }
}

/// A [`Feature`] as the kernel evaluates it: site separations by their slot in [`SLOTS`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Feat {
    /// |r_k|.
    Dist(usize),
    /// sign · (a_i · b_j).
    FrameDot(usize, usize, f64),
    /// sign · (axis · r̂_k).
    AxisOnSep(Axis, usize, f64),
    /// r̂_k1 · (r̂_k2 × axis).
    Triple(usize, usize, Axis),
    /// sign · (w · r̂_k), `w = c[0] f1 + c[1] f2 + c[2] f3` of p's frame (`false`) or q's (`true`).
    CombOnSep(bool, [f64; 3], usize, f64),
}

/// The slot of the separation from site `x` of p to site `y` of q.
const fn slot(x: Site, y: Site) -> usize {
    let mut k = 0;
    while k < SLOTS.len() {
        if SLOTS[k].0 as usize == x as usize && SLOTS[k].1 as usize == y as usize {
            return k;
        }
        k += 1;
    }
    panic!("a term's spec uses a site separation the force kernel does not compute: add it to SLOTS");
}

const fn feat(f: Feature) -> Feat {
    match f {
        Feature::Dist(x, y) => Feat::Dist(slot(x, y)),
        Feature::FrameDot(i, j, sign) => Feat::FrameDot(i, j, sign),
        Feature::AxisOnSep(u, x, y, sign) => Feat::AxisOnSep(u, slot(x, y), sign),
        Feature::Triple((x1, y1), (x2, y2), u) => Feat::Triple(slot(x1, y1), slot(x2, y2), u),
        Feature::CombOnSep(side, c, x, y, sign) => Feat::CombOnSep(matches!(side, Side::Q), c, slot(x, y), sign),
    }
}

/// A term that is one product of factors, as the kernel evaluates it: the features in factor
/// order, the separations they use and the one of the radial factor (the first), which is
/// checked against its support before anything else.
#[derive(Debug, Clone, Copy)]
struct Layout<const N: usize> {
    f: [Feat; N],
    /// Bit k: slot k is used.
    slots: u8,
    radial: usize,
}

/// The layout of a one-product spec: the kernel evaluates factor k on feature k, so a spec
/// whose factor indices are not 0, 1, 2, … in order, that has another number of factors or
/// whose first factor is not radial does not compile.
const fn layout<const N: usize>(spec: Spec) -> Layout<N> {
    assert!(spec.len() == 1, "the force kernel evaluates this term as one product of factors");
    let product = spec[0];
    assert!(product.len() == N, "the force kernel's factor count differs from the term's spec");
    let mut f = [Feat::Dist(0); N];
    let mut slots = 0u8;
    let mut k = 0;
    while k < N {
        assert!(product[k].1 as usize == k, "the force kernel needs factor k on the spec's k-th feature");
        f[k] = feat(product[k].0);
        slots |= match f[k] {
            Feat::Dist(s) | Feat::AxisOnSep(_, s, _) | Feat::CombOnSep(_, _, s, _) => 1 << s,
            Feat::FrameDot(..) => 0,
            Feat::Triple(s, t, _) => (1 << s) | (1 << t),
        };
        k += 1;
    }
    let radial = match f[0] {
        Feat::Dist(s) => s,
        _ => panic!("the force kernel needs a term's radial factor first"),
    };
    Layout { f, slots, radial }
}

/// The (slot, factor) of each product of a spec whose products are single distances (FENE,
/// excluded volume, Debye–Hückel).
const fn radials<const N: usize>(spec: Spec) -> [(usize, u8); N] {
    assert!(spec.len() == N, "the force kernel's product count differs from the term's spec");
    let mut out = [(0, 0); N];
    let mut k = 0;
    while k < N {
        assert!(spec[k].len() == 1, "the force kernel evaluates this term as single radial factors");
        out[k] = match feat(spec[k][0].0) {
            Feat::Dist(s) => (s, spec[k][0].1),
            _ => panic!("the force kernel evaluates this term as single radial factors"),
        };
        k += 1;
    }
    out
}

#[allow(clippy::float_cmp)] // the signs are exactly ±1
const fn same(a: &[Feat], b: &[Feat]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut k = 0;
    while k < a.len() {
        let equal = match (a[k], b[k]) {
            (Feat::Dist(x), Feat::Dist(y)) => x == y,
            (Feat::FrameDot(i, j, s), Feat::FrameDot(k2, l, t)) => i == k2 && j == l && s == t,
            (Feat::AxisOnSep(u, x, s), Feat::AxisOnSep(v, y, t)) => same_axis(u, v) && x == y && s == t,
            (Feat::Triple(x1, x2, u), Feat::Triple(y1, y2, v)) => x1 == y1 && x2 == y2 && same_axis(u, v),
            (Feat::CombOnSep(p, c, x, s), Feat::CombOnSep(q, e, y, t)) => {
                p == q && c[0] == e[0] && c[1] == e[1] && c[2] == e[2] && x == y && s == t
            }
            _ => false,
        };
        if !equal {
            return false;
        }
        k += 1;
    }
    true
}

const fn same_axis(u: Axis, v: Axis) -> bool {
    match (u, v) {
        (Axis::P(i), Axis::P(j)) | (Axis::Q(i), Axis::Q(j)) => i == j,
        _ => false,
    }
}

/// The largest slot of `radial` and `f` plus one: how many separations a pair needs.
const fn slots_used(radial: &[(usize, u8)], f: &[Feat], n: usize) -> usize {
    let mut n = n;
    let mut k = 0;
    while k < radial.len() {
        n = max(n, radial[k].0 + 1);
        k += 1;
    }
    let mut k = 0;
    while k < f.len() {
        n = match f[k] {
            Feat::Dist(s) | Feat::AxisOnSep(_, s, _) | Feat::CombOnSep(_, _, s, _) => max(n, s + 1),
            Feat::FrameDot(..) => n,
            Feat::Triple(s, t, _) => max(max(n, s + 1), t + 1),
        };
        k += 1;
    }
    n
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

const FENE: [(usize, u8); 1] = radials(kernel_spec(TermId::Fene, true));
const EXCL_BONDED: [(usize, u8); 3] = radials(kernel_spec(TermId::BondedExcludedVolume, true));
const STACK: Layout<6> = layout(kernel_spec(TermId::Stacking, true));
const EXCL: [(usize, u8); 4] = radials(kernel_spec(TermId::UnbondedExcludedVolume, true));
const HB: Layout<7> = layout(kernel_spec(TermId::HydrogenBonding, true));
const CROSS: Layout<7> = layout(kernel_spec(TermId::CrossStacking, true));
const COAX1: Layout<7> = layout(kernel_spec(TermId::CoaxialStacking, true));
const COAX2: Layout<5> = layout(kernel_spec(TermId::CoaxialStacking, false));
const DEBYE: [(usize, u8); 1] = radials(kernel_spec(TermId::Debye, false));

// hydrogen bonding and cross-stacking share one evaluation of their features
const _: () = assert!(same(&HB.f, &CROSS.f), "the force kernel shares the features of H-bonding and cross-stacking");

/// The separations a bonded pair needs.
const BONDED_SLOTS: usize = slots_used(&FENE, &STACK.f, slots_used(&EXCL_BONDED, &[], 0));
/// The separations a non-bonded pair needs (oxDNA1, oxDNA2).
const NONBONDED_SLOTS: [usize; 2] = {
    let common = slots_used(&DEBYE, &HB.f, slots_used(&EXCL, &CROSS.f, 0));
    [slots_used(&[], &COAX1.f, common), slots_used(&[], &COAX2.f, common)]
};

/// Squared site distances inside which each radial factor can be non-zero.
#[derive(Debug, Clone, Default)]
pub(crate) struct Supports {
    /// Excluded volume, cut-off² of each factor.
    excl: [f64; 4],
    /// Open intervals (low², high²).
    stack: (f64, f64),
    hb: (f64, f64),
    cross: (f64, f64),
    coax: (f64, f64),
    /// Debye–Hückel cut-off² (0 without the term).
    debye: f64,
}

impl Supports {
    /// From the model's terms.
    pub(crate) fn new(t: &Terms<f64>) -> Supports {
        let sq = |(a, b): (f64, f64)| (a.max(0.0).powi(2), b * b);
        Supports {
            excl: t.excl.cutoffs().map(|c| c * c),
            stack: sq(t.stack.support()),
            hb: sq(t.hb.support()),
            cross: sq(t.cross.support()),
            coax: sq(t.coax.support()),
            debye: t.debye.as_ref().map_or(0.0, |d| d.cutoff().powi(2)),
        }
    }
}

#[inline]
fn within((lo, hi): (f64, f64), n2: f64) -> bool {
    lo < n2 && n2 < hi
}

/// One pair: the separation of the centres, frames and site offsets of p and q, the site
/// separations of the slots (vector and squared length; unit vector, length and ∂E/∂r once
/// used), and the gradient with respect to the frame vectors.
struct Pair<'a> {
    a: &'a [Vec3; 3],
    b: &'a [Vec3; 3],
    sp: &'a [Vec3; 4],
    sq: &'a [Vec3; 4],
    r: [Vec3; 6],
    n2: [f64; 6],
    used: u8,
    u: [Vec3; 6],
    n: [f64; 6],
    g: [Vec3; 6],
    ga: [Vec3; 3],
    gb: [Vec3; 3],
    /// Whether a feature of the frame vectors was applied (`ga`, `gb` may be non-zero).
    turned: bool,
}

/// The slot separations r^{XY} = d + s_Y(q) − s_X(p) of the first `slots` slots and their
/// squared lengths.
#[inline]
fn separations(d: Vec3, sp: &[Vec3; 4], sq: &[Vec3; 4], slots: usize) -> ([Vec3; 6], [f64; 6]) {
    let mut r = [Vec3::ZERO; 6];
    let mut n2 = [0.0; 6];
    for k in 0..slots {
        let (x, y) = SLOT_SITES[k];
        r[k] = d + sq[y] - sp[x];
        n2[k] = r[k].norm2();
    }
    (r, n2)
}

impl<'a> Pair<'a> {
    #[inline]
    fn new(
        a: &'a [Vec3; 3],
        b: &'a [Vec3; 3],
        sp: &'a [Vec3; 4],
        sq: &'a [Vec3; 4],
        (r, n2): ([Vec3; 6], [f64; 6]),
    ) -> Pair<'a> {
        let z = [Vec3::ZERO; 6];
        Pair {
            a,
            b,
            sp,
            sq,
            r,
            n2,
            used: 0,
            u: z,
            n: [0.0; 6],
            g: z,
            ga: [Vec3::ZERO; 3],
            gb: [Vec3::ZERO; 3],
            turned: false,
        }
    }

    /// Marks slot `k` used: its unit vector and length.
    #[inline]
    fn sep(&mut self, k: usize) -> (Vec3, f64) {
        if self.used & (1 << k) == 0 {
            self.used |= 1 << k;
            let n = self.n2[k].sqrt();
            self.n[k] = n;
            self.u[k] = self.r[k] / n;
        }
        (self.u[k], self.n[k])
    }

    /// s = sign · (w · r̂_k): adds c ∂s/∂r_k and returns c ∂s/∂w.
    #[inline]
    fn axis(&mut self, k: usize, w: Vec3, sign: f64, c: f64) -> Vec3 {
        let s = c * sign;
        let u = self.u[k];
        self.g[k] += (w - u * w.dot(u)) * (s / self.n[k]);
        u * s
    }

    /// s = sign · (a_i · b_j): adds c ∂s/∂a_i and c ∂s/∂b_j.
    #[inline]
    fn frame_dot(&mut self, i: usize, j: usize, sign: f64, c: f64) {
        let s = c * sign;
        let (ai, bj) = (self.a[i], self.b[j]);
        self.ga[i] += bj * s;
        self.gb[j] += ai * s;
    }

    /// A frame vector of p or q.
    #[inline(always)]
    fn axis_vector(&self, u: Axis) -> Vec3 {
        match u {
            Axis::P(i) => self.a[i],
            Axis::Q(i) => self.b[i],
        }
    }

    /// `c[0] f1 + c[1] f2 + c[2] f3` of q's frame (`q`) or p's, as [`crate::energy::comb`] sums it.
    #[inline(always)]
    fn comb(&self, q: bool, c: [f64; 3]) -> Vec3 {
        comb_f64(if q { self.b } else { self.a }, c)
    }

    /// Where the gradient with respect to a frame vector of p or q collects.
    #[inline(always)]
    fn axis_gradient(&mut self, u: Axis) -> &mut Vec3 {
        match u {
            Axis::P(i) => &mut self.ga[i],
            Axis::Q(i) => &mut self.gb[i],
        }
    }

    /// The values of the features of `l` (the separations they use marked used). `l` is one of
    /// the constant layouts derived from the terms' specs, so after inlining the dispatch on the
    /// kind of feature is resolved at compile time.
    #[inline(always)]
    fn features<const N: usize>(&mut self, l: &Layout<N>) -> [f64; N] {
        for k in 0..SLOTS.len() {
            if l.slots & (1 << k) != 0 {
                self.sep(k);
            }
        }
        let mut s = [0.0; N];
        #[allow(clippy::needless_range_loop)] // an indexed loop over constants unrolls best
        for k in 0..N {
            s[k] = match l.f[k] {
                Feat::Dist(slot) => self.n[slot],
                Feat::FrameDot(i, j, sign) => self.a[i].dot(self.b[j]) * sign,
                Feat::AxisOnSep(u, slot, sign) => self.axis_vector(u).dot(self.u[slot]) * sign,
                Feat::Triple(k1, k2, u) => self.u[k1].dot(self.u[k2].cross(self.axis_vector(u))),
                Feat::CombOnSep(q, c, slot, sign) => self.comb(q, c).dot(self.u[slot]) * sign,
            };
        }
        s
    }

    /// Adds c_k ∂s_k/∂(separations, frame vectors) for each feature s_k of `f` (evaluated by
    /// [`Pair::features`]).
    #[inline(always)]
    fn apply<const N: usize>(&mut self, l: &Layout<N>, c: &[f64; N]) {
        self.turned = true;
        #[allow(clippy::needless_range_loop)] // an indexed loop over constants unrolls best
        for k in 0..N {
            match l.f[k] {
                Feat::Dist(slot) => {
                    let u = self.u[slot];
                    self.g[slot] += u * c[k];
                }
                Feat::FrameDot(i, j, sign) => self.frame_dot(i, j, sign, c[k]),
                Feat::AxisOnSep(u, slot, sign) => {
                    let g = self.axis(slot, self.axis_vector(u), sign, c[k]);
                    *self.axis_gradient(u) += g;
                }
                Feat::Triple(k1, k2, u) => {
                    // s = r̂1 · (r̂2 × w): ∂/∂r1, ∂/∂r2 (projected), ∂/∂w = r̂1 × r̂2
                    let (r1, n1, r2, n2) = (self.u[k1], self.n[k1], self.u[k2], self.n[k2]);
                    let w = self.axis_vector(u);
                    let (g1, g2) = (r2.cross(w), w.cross(r1));
                    self.g[k1] += (g1 - r1 * g1.dot(r1)) * (c[k] / n1);
                    self.g[k2] += (g2 - r2 * g2.dot(r2)) * (c[k] / n2);
                    *self.axis_gradient(u) += r1.cross(r2) * c[k];
                }
                Feat::CombOnSep(q, w, slot, sign) => {
                    // ∂/∂w as for a frame vector, shared out to f_i by its coefficient
                    let g = self.axis(slot, self.comb(q, w), sign, c[k]);
                    let frame = if q { &mut self.gb } else { &mut self.ga };
                    for (f, wi) in frame.iter_mut().zip(w) {
                        if wi != 0.0 {
                            *f += g * wi;
                        }
                    }
                }
            }
        }
    }

    /// A radial-only product (FENE, excluded volume, Debye–Hückel) on slot `k`: the energy;
    /// with `GRAD` (dual-number factors `fd`) adds c = w f′ along r̂, without it evaluates the
    /// plain factors `fv`.
    #[inline]
    fn radial<const GRAD: bool, FD: Factors<Dual>, FV: Factors<f64>>(
        &mut self,
        (fd, fv): (&FD, &FV),
        factor: u8,
        k: usize,
        eps: f64,
        w: f64,
    ) -> f64 {
        let (u, n) = self.sep(k);
        if GRAD {
            let y = fd.factor(factor, &Dual::var(n), &Dual::cst(eps));
            self.g[k] += u * (w * y.d[0]);
            w * y.v
        } else {
            w * fv.factor(factor, &n, &eps)
        }
    }

    /// Adds to `e`, as `term`'s, the radial products `list` (slot, factor) of one term whose
    /// squared distance lies within the factor's squared cut-off `cut2` (excluded volume), times
    /// `w`, in order.
    #[inline(always)]
    fn radials<const GRAD: bool, E: Energies, FD: Factors<Dual>, FV: Factors<f64>>(
        &mut self,
        e: &mut E,
        term: TermId,
        f: (&FD, &FV),
        list: &[(usize, u8)],
        cut2: &[f64; 4],
        w: f64,
    ) {
        for &(slot, factor) in list {
            if self.n2[slot] < cut2[factor as usize] {
                e.add(term, self.radial::<GRAD, _, _>(f, factor, slot, 0.0, w));
            }
        }
    }

    /// A term's product of factors at features `s` times `w`: with `GRAD` from dual-number
    /// factors `fd`, its gradient added through the features of `l`; without, from the plain
    /// factors `fv`. Both stop at the first factor that vanishes.
    #[inline(always)]
    fn term<const GRAD: bool, const N: usize, FD: Factors<Dual>, FV: Factors<f64>>(
        &mut self,
        l: &Layout<N>,
        (fd, fv): (&FD, &FV),
        s: [f64; N],
        eps: f64,
        w: f64,
    ) -> f64 {
        if GRAD {
            let Some(y) = factors(fd, s, eps) else { return 0.0 };
            let (v, c) = product(&y, w);
            self.apply(l, &c);
            v
        } else {
            let mut v = w;
            #[allow(clippy::needless_range_loop)] // an indexed loop over constants unrolls best
            for k in 0..N {
                let y = fv.factor(k as u8, &s[k], &eps);
                if y == 0.0 {
                    return 0.0;
                }
                v *= y;
            }
            v
        }
    }

    /// The energy with its gradient ([`Pair::gradient`]) or, without `GRAD`, a zero gradient;
    /// `None` when no term acted on the pair.
    #[inline(always)]
    fn result<const GRAD: bool, E: Energies>(&self, e: E) -> Option<(E, PairGradient)> {
        match (GRAD, self.used) {
            (true, _) => self.gradient(e),
            (false, 0) => None,
            (false, _) => Some((e, PairGradient::default())),
        }
    }

    /// ∂E/∂d, ∂E/∂θ_p, ∂E/∂θ_q from the separations used and the frame-vector gradients;
    /// `None` when no term acted on the pair.
    fn gradient<E>(&self, e: E) -> Option<(E, PairGradient)> {
        if self.used == 0 {
            return None;
        }
        let mut g = PairGradient::default();
        for (k, &(x, y)) in SLOT_SITES.iter().enumerate() {
            if self.used & (1 << k) != 0 {
                let gs = self.g[k];
                g.d += gs;
                g.p += gs.cross(self.sp[x]);
                g.q += self.sq[y].cross(gs);
            }
        }
        // radial terms alone leave the frame gradients zero
        if self.turned {
            for k in 0..3 {
                g.p += self.a[k].cross(self.ga[k]);
                g.q += self.b[k].cross(self.gb[k]);
            }
        }
        Some((e, g))
    }
}

/// Where the kernel adds a pair's energies: their sum (`f64`, the pair's energy, as MD and
/// Monte Carlo use it) or term by term (`[f64; 8]`, indexed by [`TermId`], per-term energies).
/// Either way each piece is added in the same order, so a sum is the same bit for bit.
pub(crate) trait Energies: Copy + Default {
    fn add(&mut self, term: TermId, e: f64);
}

impl Energies for f64 {
    #[inline(always)]
    fn add(&mut self, _: TermId, e: f64) {
        *self += e;
    }
}

impl Energies for [f64; 8] {
    #[inline(always)]
    fn add(&mut self, term: TermId, e: f64) {
        self[term as usize] += e;
    }
}

/// `c[0] f1 + c[1] f2 + c[2] f3` of the frame `f`, summed as [`crate::energy::comb`] sums it.
#[inline(always)]
pub(crate) fn comb_f64(f: &[Vec3; 3], c: [f64; 3]) -> Vec3 {
    crate::energy::comb(&[f[0].into(), f[1].into(), f[2].into()], c).into()
}

/// The values of a product's factors, evaluated in order with an early exit: `None` as soon as
/// one factor and its slope both vanish (so the product and its gradient are zero).
#[inline]
#[allow(clippy::float_cmp)] // exact zeros mark factors outside their support
fn factors<F: Factors<Dual>, const N: usize>(f: &F, s: [f64; N], eps: f64) -> Option<[Dual; N]> {
    let eps = Dual::cst(eps);
    let mut y = [Dual::default(); N];
    for k in 0..N {
        y[k] = f.factor(k as u8, &Dual::var(s[k]), &eps);
        if y[k].v == 0.0 && y[k].d[0] == 0.0 {
            return None;
        }
    }
    Some(y)
}

/// The product of the factors times `w`, and c_k = w f′_k Π_{j≠k} f_j for each factor.
#[inline]
fn product<const N: usize>(y: &[Dual; N], w: f64) -> (f64, [f64; N]) {
    let mut prefix = [1.0; N];
    for k in 1..N {
        prefix[k] = prefix[k - 1] * y[k - 1].v;
    }
    let mut c = [0.0; N];
    let mut suffix = w;
    for k in (0..N).rev() {
        c[k] = y[k].d[0] * prefix[k] * suffix;
        suffix *= y[k].v;
    }
    (suffix, c)
}

/// What one pair needs from the model.
pub(crate) struct PairInput<'a> {
    pub terms: &'a Terms<Dual>,
    /// The same terms with plain constants, for energies without gradients.
    pub values: &'a Terms<f64>,
    pub supports: &'a Supports,
    pub weights: &'a [f64; 8],
    /// Stacking strength (bonded) or H-bonding strength (`None`: not complementary).
    pub eps_bond: Option<f64>,
    /// Charge product χ_p χ_q (Debye–Hückel).
    pub chi: f64,
    pub dna1: bool,
    /// (r0, Δ): a backbone bond with |r − r0| ≥ Δ makes the energy infinite (a blow-up in MD).
    pub fene_limit: Option<(f64, f64)>,
}

impl PairInput<'_> {
    #[inline]
    fn w(&self, id: TermId) -> f64 {
        self.weights[id as usize]
    }
}

/// Energy and gradient of a bonded pair (q = n3(p)): FENE, bonded excluded volume, stacking.
pub(crate) fn bonded<const GRAD: bool, E: Energies>(
    m: &PairInput<'_>,
    d: Vec3,
    a: &[Vec3; 3],
    b: &[Vec3; 3],
    sp: &[Vec3; 4],
    sq: &[Vec3; 4],
) -> Option<(E, PairGradient)> {
    let (t, v) = (m.terms, m.values);
    let mut k = Pair::new(a, b, sp, sq, separations(d, sp, sq, BONDED_SLOTS));
    let mut e = E::default();
    // fene::SPEC
    if m.w(TermId::Fene) != 0.0 {
        let [(slot, factor)] = FENE;
        let mut fene = k.radial::<GRAD, _, _>((&t.fene, &v.fene), factor, slot, 0.0, m.w(TermId::Fene));
        if let Some((r0, delta)) = m.fene_limit {
            if (k.n[slot] - r0).abs() >= delta {
                fene = f64::INFINITY;
            }
        }
        e.add(TermId::Fene, fene);
    }
    // excluded_volume::BONDED
    let we = m.w(TermId::BondedExcludedVolume);
    if we != 0.0 {
        k.radials::<GRAD, _, _, _>(
            &mut e,
            TermId::BondedExcludedVolume,
            (&t.excl, &v.excl),
            &EXCL_BONDED,
            &m.supports.excl,
            we,
        );
    }
    // stacking::SPEC: f1(r_st) f4(a3·b3) f4(−a3·r̂_st) f4(−b3·r̂_st) f5(b2·r̂_b1) f5(a2·r̂_b1)
    let ws = m.w(TermId::Stacking);
    if let (true, Some(eps)) = (ws != 0.0 && within(m.supports.stack, k.n2[STACK.radial]), m.eps_bond) {
        let s = k.features(&STACK);
        e.add(TermId::Stacking, k.term::<GRAD, _, _, _>(&STACK, (&t.stack, &v.stack), s, eps, ws));
    }
    k.result::<GRAD, E>(e)
}

/// Energy and gradient of a non-bonded pair: excluded volume, hydrogen bonding,
/// cross-stacking, coaxial stacking, Debye–Hückel (each only where its radial factor lives).
pub(crate) fn nonbonded<const GRAD: bool, E: Energies>(
    m: &PairInput<'_>,
    d: Vec3,
    a: &[Vec3; 3],
    b: &[Vec3; 3],
    sp: &[Vec3; 4],
    sq: &[Vec3; 4],
) -> Option<(E, PairGradient)> {
    let (t, v) = (m.terms, m.values);
    let sup = m.supports;
    let (r, n2) = separations(d, sp, sq, if m.dna1 { NONBONDED_SLOTS[0] } else { NONBONDED_SLOTS[1] });
    let (we, w_hb, w_cr, w_cx, w_dh) = (
        m.w(TermId::UnbondedExcludedVolume),
        m.w(TermId::HydrogenBonding),
        m.w(TermId::CrossStacking),
        m.w(TermId::CoaxialStacking),
        m.w(TermId::Debye),
    );
    // which terms can act, from squared site distances alone
    let excl = we != 0.0 && EXCL.iter().any(|&(slot, factor)| n2[slot] < sup.excl[factor as usize]);
    let hb = m.eps_bond.filter(|_| w_hb != 0.0 && within(sup.hb, n2[HB.radial]));
    let cross = w_cr != 0.0 && within(sup.cross, n2[CROSS.radial]);
    let coax = w_cx != 0.0 && within(sup.coax, n2[if m.dna1 { COAX1.radial } else { COAX2.radial }]);
    let debye = w_dh != 0.0 && n2[DEBYE[0].0] < sup.debye;
    if !(excl || hb.is_some() || cross || coax || debye) {
        return None;
    }
    let mut k = Pair::new(a, b, sp, sq, (r, n2));
    let mut e = E::default();
    // excluded_volume::NONBONDED
    if excl {
        k.radials::<GRAD, _, _, _>(&mut e, TermId::UnbondedExcludedVolume, (&t.excl, &v.excl), &EXCL, &sup.excl, we);
    }
    // hydrogen_bonding::SPEC and cross_stacking::SPEC, on the same features (checked at compile
    // time): r_hb, −a1·b1, −b1·r̂, a1·r̂, a3·b3, −b3·r̂, a3·r̂ of the base–base separation
    if hb.is_some() || cross {
        let s = k.features(&HB);
        if let Some(eps) = hb {
            e.add(TermId::HydrogenBonding, k.term::<GRAD, _, _, _>(&HB, (&t.hb, &v.hb), s, eps, w_hb));
        }
        if cross {
            e.add(TermId::CrossStacking, k.term::<GRAD, _, _, _>(&CROSS, (&t.cross, &v.cross), s, 0.0, w_cr));
        }
    }
    // coaxial_stacking::SPEC_DNA1 / SPEC_DNA2: f2(r_st) f4(a3·b3) F(−a1·b1) f4s(a3·r̂_st) f4s(−b3·r̂_st)
    // [oxDNA1: f5(r̂_st·(r̂_b1 × a1)) f5(r̂_st·(r̂_b1 × b1))]
    if coax {
        if m.dna1 {
            let s = k.features(&COAX1);
            e.add(TermId::CoaxialStacking, k.term::<GRAD, _, _, _>(&COAX1, (&t.coax, &v.coax), s, 0.0, w_cx));
        } else {
            let s = k.features(&COAX2);
            e.add(TermId::CoaxialStacking, k.term::<GRAD, _, _, _>(&COAX2, (&t.coax, &v.coax), s, 0.0, w_cx));
        }
    }
    // debye::SPEC: χ_p χ_q f(|r_bb|)
    if let (true, Some(dh), Some(dv)) = (debye, t.debye.as_ref(), v.debye.as_ref()) {
        let [(slot, factor)] = DEBYE;
        e.add(TermId::Debye, k.radial::<GRAD, _, _>((dh, dv), factor, slot, m.chi, w_dh));
    }
    k.result::<GRAD, E>(e)
}

/// oxRNA2's terms ([`crate::energy::rna2`], users' terms of a model) as this kernel evaluates
/// them. Each term is its own spec and factors, the same ones its energy evaluates
/// ([`crate::energy::EnergyTerm::pair_energy`]), here built once per parameter set in `f64` and
/// on dual numbers; the layouts below are derived from those specs at compile time, as the DNA
/// terms' are. The sites are the RNA ones ([`rna2::SITES`]); on a bonded pair the stacking slots
/// hold stack_3 of p and stack_5 of q, as the stacking term's energy places them. Which pairs a
/// term acts on and with what factor (scope, cut-off, bases, strengths, charges) is asked of the
/// term itself, as its own force routine asks ([`Attached::pair_weight`]).
#[derive(Debug, Clone)]
pub(crate) struct Rna {
    /// For each of the model's users' terms: whether this kernel evaluates its forces.
    pub(crate) handled: Vec<bool>,
    /// For each non-bonded term it evaluates: the centre distance beyond which the term is zero
    /// at these parameters (its radial reach plus the farthest sites), if below its cut-off.
    pub(crate) ranges: Vec<Option<f64>>,
    /// The squared centre distance beyond which only Debye–Hückel can act (the largest reach of
    /// the other non-bonded terms plus the farthest sites).
    near2: f64,
    /// For each bonded pair: the weights of FENE, bonded excluded volume and stacking (0 where
    /// a term is absent or does not act).
    bonded_w: Vec<[f64; 3]>,
    fene: Option<Both<FeneFactor<Dual>, FeneFactor<f64>>>,
    excl_bonded: Option<Both<ExcludedVolume<Dual>, ExcludedVolume<f64>>>,
    stack: Option<Both<StackingFactors<Dual>, StackingFactors<f64>>>,
    excl: Option<NonBonded<ExcludedVolume<Dual>, ExcludedVolume<f64>>>,
    hb: Option<NonBonded<HydrogenBonding<Dual>, HydrogenBonding<f64>>>,
    cross: Option<NonBonded<CrossFactors<Dual>, CrossFactors<f64>>>,
    coax: Option<NonBonded<CoaxialStacking<Dual>, CoaxialStacking<f64>>>,
    debye: Option<NonBonded<Debye<Dual>, Debye<f64>>>,
}

/// A term's factors on dual numbers and in `f64`, its strength in f1 and where its radial
/// factors can be non-zero: squared (low, high) of a product's first factor, or the squared
/// cut-off of each radial product.
#[derive(Debug, Clone)]
struct Both<D, V> {
    d: D,
    v: V,
    eps: f64,
    reach: [f64; 4],
}

/// A non-bonded term: its factors, the term (for the pairs it acts on) and its centre cut-off².
#[derive(Debug, Clone)]
struct NonBonded<D, V> {
    f: Both<D, V>,
    term: Attached,
    cutoff2: f64,
    /// For a term that acts on every pair with a product of per-nucleotide factors (excluded
    /// volume and coaxial stacking: 1; Debye–Hückel: the charges), those factors: the pair's
    /// weight without asking the term.
    factors: Option<Vec<f64>>,
}

impl<D, V> NonBonded<D, V> {
    /// The pair's weight where the term acts on it, `near` (its radial factor can be non-zero)
    /// and within the centre cut-off (`c2`: the squared centre distance).
    #[inline]
    fn acting(&self, c2: f64, topology: &[Nucleotide], (p, q): (usize, usize), near: bool) -> Option<f64> {
        if near && c2 < self.cutoff2 {
            match &self.factors {
                Some(x) => Some(self.term.weight * (x[p] * x[q])),
                None => self.term.pair_weight(topology, p, q),
            }
        } else {
            None
        }
    }
}

/// A term's `f64` parameters read as constant dual numbers.
struct Constants<'a>(&'a TermParams<f64>);

impl ParamSource<Dual> for Constants<'_> {
    fn p(&self, name: &str) -> Dual {
        Dual::cst(self.0.get(name))
    }
}

const RNA_STACK: Layout<7> = layout(rna2::stacking::SPEC);
const RNA_CROSS: Layout<6> = layout(rna2::cross_stacking::SPEC);
/// The separations a bonded oxRNA2 pair needs.
const RNA_BONDED_SLOTS: usize = slots_used(&FENE, &RNA_STACK.f, slots_used(&EXCL_BONDED, &[], 0));
/// The separations a non-bonded oxRNA2 pair needs.
const RNA_NONBONDED_SLOTS: usize =
    slots_used(&DEBYE, &HB.f, slots_used(&EXCL, &RNA_CROSS.f, slots_used(&[], &COAX1.f, 0)));

/// A non-bonded term with factors `f`.
fn nonbonded_term<D, V>(f: Both<D, V>, term: &Attached, cutoff2: f64) -> Option<NonBonded<D, V>> {
    Some(NonBonded { f, term: term.clone(), cutoff2, factors: None })
}

/// The squared (low, high) of a support, in the first two entries.
fn interval((lo, hi): (f64, f64)) -> [f64; 4] {
    [lo.max(0.0).powi(2), hi * hi, 0.0, 0.0]
}

impl Rna {
    /// From the model's users' terms: `None` when none of them is an oxRNA2 term with a weight.
    pub(crate) fn new(custom: &[Attached], topology: &[Nucleotide], bonded: &[(usize, usize)]) -> Option<Rna> {
        let mut r = Rna {
            handled: vec![false; custom.len()],
            ranges: vec![None; custom.len()],
            near2: 0.0,
            bonded_w: vec![[0.0; 3]; bonded.len()],
            fene: None,
            excl_bonded: None,
            stack: None,
            excl: None,
            hb: None,
            cross: None,
            coax: None,
            debye: None,
        };
        for (i, t) in custom.iter().enumerate() {
            if t.weight == 0.0 {
                continue;
            }
            let (v, c) = (t.values(), &Constants(t.values()));
            let cutoff2 = match t.scope {
                Scope::NonBonded { cutoff } => cutoff * cutoff,
                _ => 0.0,
            };
            let mut bonded_term = |slot: usize| {
                for (w, &(p, q)) in r.bonded_w.iter_mut().zip(bonded) {
                    w[slot] = t.pair_weight(topology, p, q).unwrap_or(0.0);
                }
            };
            let handled = match t.scope {
                Scope::Bonded if t.term_as::<rna2::Fene>().is_some() && r.fene.is_none() => {
                    let f = t.term_as::<rna2::Fene>()?;
                    bonded_term(0);
                    r.fene = Some(Both { d: f.factors(c), v: f.factors(v), eps: 0.0, reach: [0.0; 4] });
                    true
                }
                Scope::Bonded if t.term_as::<rna2::ExcludedVolume>().is_some() && r.excl_bonded.is_none() => {
                    bonded_term(1);
                    let v = ExcludedVolume::new(v);
                    let reach = v.cutoffs().map(|x| x * x);
                    r.excl_bonded = Some(Both { d: ExcludedVolume::new(c), v, eps: 0.0, reach });
                    true
                }
                Scope::Bonded if t.term_as::<rna2::Stacking>().is_some() && r.stack.is_none() => {
                    let s = t.term_as::<rna2::Stacking>()?;
                    bonded_term(2);
                    let v = s.factors(v);
                    let reach = interval(v.support());
                    r.stack = Some(Both { d: s.factors(c), v, eps: s.eps(t.values()), reach });
                    true
                }
                Scope::NonBonded { .. } if t.term_as::<rna2::ExcludedVolume>().is_some() && r.excl.is_none() => {
                    let v = ExcludedVolume::new(v);
                    let reach = v.cutoffs().map(|x| x * x);
                    r.excl = nonbonded_term(Both { d: ExcludedVolume::new(c), v, eps: 0.0, reach }, t, cutoff2);
                    r.excl.as_mut()?.factors = Some(vec![1.0; topology.len()]);
                    true
                }
                Scope::NonBonded { .. } if t.term_as::<rna2::HydrogenBonding>().is_some() && r.hb.is_none() => {
                    let h = t.term_as::<rna2::HydrogenBonding>()?;
                    let v = HydrogenBonding::new(v);
                    let reach = interval(v.support());
                    let eps = h.eps(t.values(), &0.0);
                    r.hb = nonbonded_term(Both { d: HydrogenBonding::new(c), v, eps, reach }, t, cutoff2);
                    true
                }
                Scope::NonBonded { .. } if t.term_as::<rna2::CrossStacking>().is_some() && r.cross.is_none() => {
                    let x = t.term_as::<rna2::CrossStacking>()?;
                    let v = x.factors(v);
                    let reach = interval(v.support());
                    r.cross = nonbonded_term(Both { d: x.factors(c), v, eps: 0.0, reach }, t, cutoff2);
                    true
                }
                Scope::NonBonded { .. } if t.term_as::<rna2::CoaxialStacking>().is_some() && r.coax.is_none() => {
                    let v = CoaxialStacking::new(v, ModelKind::Dna1);
                    let reach = interval(v.support());
                    r.coax = nonbonded_term(
                        Both { d: CoaxialStacking::new(c, ModelKind::Dna1), v, eps: 0.0, reach },
                        t,
                        cutoff2,
                    );
                    r.coax.as_mut()?.factors = Some(vec![1.0; topology.len()]);
                    true
                }
                Scope::NonBonded { .. } if t.term_as::<rna2::DebyeHuckel>().is_some() && r.debye.is_none() => {
                    let h = t.term_as::<rna2::DebyeHuckel>()?;
                    let v = h.factors(v, &0.0);
                    let reach = [v.cutoff().powi(2), 0.0, 0.0, 0.0];
                    r.debye = nonbonded_term(Both { d: h.factors(c, &Dual::cst(0.0)), v, eps: 1.0, reach }, t, cutoff2);
                    r.debye.as_mut()?.factors = Some(topology.iter().map(|n| h.charge(n)).collect());
                    true
                }
                _ => false,
            };
            r.handled[i] = handled;
            // the reach of the radial factor just set (squared: a cut-off, or a support's high end)
            let reach2 = match t.scope {
                Scope::NonBonded { .. } if handled => [
                    r.excl
                        .as_ref()
                        .filter(|x| x.term.name == t.name)
                        .map(|x| x.f.reach.into_iter().fold(0.0, f64::max)),
                    r.hb.as_ref().filter(|x| x.term.name == t.name).map(|x| x.f.reach[1]),
                    r.cross.as_ref().filter(|x| x.term.name == t.name).map(|x| x.f.reach[1]),
                    r.coax.as_ref().filter(|x| x.term.name == t.name).map(|x| x.f.reach[1]),
                    r.debye.as_ref().filter(|x| x.term.name == t.name).map(|x| x.f.reach[0]),
                ]
                .into_iter()
                .flatten()
                .next(),
                _ => None,
            };
            // the farthest site of a non-bonded pair's nucleotides from their centres
            let farthest = rna2::SITES.iter().map(|o| o.iter().map(|x| x * x).sum::<f64>().sqrt()).fold(0.0, f64::max);
            let range = reach2.map(|x| x.sqrt() + 2.0 * farthest);
            if t.term_as::<rna2::DebyeHuckel>().is_none() {
                // (with a margin for rounding: this only decides where to look)
                r.near2 = r.near2.max(range.map_or(0.0, |x| (x * (1.0 + 1e-9)).powi(2)));
            }
            r.ranges[i] = range.filter(|&x| x < cutoff2.sqrt());
        }
        r.handled.contains(&true).then_some(r)
    }

    /// The RNA sites of a nucleotide with frame `a`, in the slots of [`Site`].
    #[inline]
    pub(crate) fn sites(a: &[Vec3; 3]) -> [Vec3; 4] {
        rna2::SITES.map(|o| comb_f64(a, o))
    }
}

/// Energy and gradient of bonded pair number `bond` of an oxRNA2 model (q = n3(p)): FENE, bonded
/// excluded volume, stacking; `sp`, `sq` the RNA sites of p and q ([`Rna::sites`]).
#[inline(always)]
pub(crate) fn rna_bonded(
    r: &Rna,
    bond: usize,
    d: Vec3,
    (a, b): (&[Vec3; 3], &[Vec3; 3]),
    (sp, sq): (&[Vec3; 4], &[Vec3; 4]),
) -> Option<(f64, PairGradient)> {
    let [wf, we, ws] = r.bonded_w[bond];
    // the stacking slots hold stack_3 of p and stack_5 of q (rna2::stacking)
    let st = Site::Stack as usize;
    let (mut sp, mut sq) = (*sp, *sq);
    sp[st] = comb_f64(a, rna2::stacking::STACK_3);
    sq[st] = comb_f64(b, rna2::stacking::STACK_5);
    let mut k = Pair::new(a, b, &sp, &sq, separations(d, &sp, &sq, RNA_BONDED_SLOTS));
    let mut e = 0.0;
    if let (Some(f), true) = (&r.fene, wf != 0.0) {
        let [(slot, factor)] = FENE;
        e += k.radial::<true, _, _>((&f.d, &f.v), factor, slot, 0.0, wf);
    }
    if let (Some(f), true) = (&r.excl_bonded, we != 0.0) {
        k.radials::<true, f64, _, _>(&mut e, TermId::BondedExcludedVolume, (&f.d, &f.v), &EXCL_BONDED, &f.reach, we);
    }
    if let Some(f) = r.stack.as_ref().filter(|f| ws != 0.0 && within((f.reach[0], f.reach[1]), k.n2[RNA_STACK.radial]))
    {
        let s = k.features(&RNA_STACK);
        e += k.term::<true, _, _, _>(&RNA_STACK, (&f.d, &f.v), s, f.eps, ws);
    }
    k.gradient(e)
}

/// Energy and gradient of a non-bonded pair (p, q) of an oxRNA2 model at centre separation `d`:
/// excluded volume, hydrogen bonding, cross-stacking, coaxial stacking, Debye–Hückel, each
/// where its centre cut-off and its radial factor allow it and where it acts on the pair.
#[inline(always)]
pub(crate) fn rna_nonbonded(
    r: &Rna,
    topology: &[Nucleotide],
    (p, q): (usize, usize),
    d: Vec3,
    (a, b): (&[Vec3; 3], &[Vec3; 3]),
    (sp, sq): (&[Vec3; 4], &[Vec3; 4]),
) -> Option<(f64, PairGradient)> {
    let c2 = d.norm2();
    if c2 >= r.near2 {
        // beyond every term's reach but Debye–Hückel's: that term alone, on its one separation
        let t = r.debye.as_ref()?;
        let [(slot, factor)] = DEBYE;
        let (x, y) = SLOT_SITES[slot];
        let (mut sep, mut n2) = ([Vec3::ZERO; 6], [0.0; 6]);
        sep[slot] = d + sq[y] - sp[x];
        n2[slot] = sep[slot].norm2();
        let w = t.acting(c2, topology, (p, q), n2[slot] < t.f.reach[0])?;
        let mut k = Pair::new(a, b, sp, sq, (sep, n2));
        let e = k.radial::<true, _, _>((&t.f.d, &t.f.v), factor, slot, t.f.eps, w);
        return k.gradient(e);
    }
    let (sep, n2) = separations(d, sp, sq, RNA_NONBONDED_SLOTS);
    let radial = |l: usize, reach: &[f64; 4]| within((reach[0], reach[1]), n2[l]);
    let excl = r.excl.as_ref().and_then(|t| {
        let near = EXCL.iter().any(|&(slot, factor)| n2[slot] < t.f.reach[factor as usize]);
        Some((t, t.acting(c2, topology, (p, q), near)?))
    });
    let hb = r.hb.as_ref().and_then(|t| Some((t, t.acting(c2, topology, (p, q), radial(HB.radial, &t.f.reach))?)));
    let cross =
        r.cross.as_ref().and_then(|t| Some((t, t.acting(c2, topology, (p, q), radial(RNA_CROSS.radial, &t.f.reach))?)));
    let coax =
        r.coax.as_ref().and_then(|t| Some((t, t.acting(c2, topology, (p, q), radial(COAX1.radial, &t.f.reach))?)));
    let debye =
        r.debye.as_ref().and_then(|t| Some((t, t.acting(c2, topology, (p, q), n2[DEBYE[0].0] < t.f.reach[0])?)));
    if excl.is_none() && hb.is_none() && cross.is_none() && coax.is_none() && debye.is_none() {
        return None;
    }
    let mut k = Pair::new(a, b, sp, sq, (sep, n2));
    let mut e = 0.0;
    if let Some((t, w)) = excl {
        k.radials::<true, f64, _, _>(&mut e, TermId::UnbondedExcludedVolume, (&t.f.d, &t.f.v), &EXCL, &t.f.reach, w);
    }
    if let Some((t, w)) = hb {
        let s = k.features(&HB);
        e += k.term::<true, _, _, _>(&HB, (&t.f.d, &t.f.v), s, t.f.eps, w);
    }
    if let Some((t, w)) = cross {
        let s = k.features(&RNA_CROSS);
        e += k.term::<true, _, _, _>(&RNA_CROSS, (&t.f.d, &t.f.v), s, 0.0, w);
    }
    if let Some((t, w)) = coax {
        let s = k.features(&COAX1);
        e += k.term::<true, _, _, _>(&COAX1, (&t.f.d, &t.f.v), s, 0.0, w);
    }
    if let Some((t, w)) = debye {
        let [(slot, factor)] = DEBYE;
        e += k.radial::<true, _, _>((&t.f.d, &t.f.v), factor, slot, t.f.eps, w);
    }
    k.gradient(e)
}

#[cfg(test)]
mod tests {
    use super::{
        kernel_spec, separations, Layout, Pair, COAX1, COAX2, CROSS, DEBYE, EXCL, EXCL_BONDED, FENE, HB, STACK,
    };
    use crate::energy::model::{TermId, Terms};
    use crate::energy::terms::{self, Spec};
    use crate::geometry::{orthonormalize, Vec3};
    use crate::math::V3;
    use crate::params::ParamSet;

    /// For every term of both DNA models, the spec the kernel's feature lists are derived from
    /// is the one the term defines (what energies and tensors evaluate).
    #[test]
    fn the_kernel_evaluates_every_terms_own_spec() {
        for set in [ParamSet::dna1_defaults(), ParamSet::dna2_defaults()] {
            let dna1 = set.model() == crate::params::ModelKind::Dna1;
            let terms = Terms::<f64>::new(&set, set.model());
            for term in TermId::ALL {
                let (spec, _) = terms.spec(term);
                if spec.is_empty() {
                    continue; // oxDNA1 has no Debye–Hückel term
                }
                assert_eq!(kernel_spec(term, dna1), spec, "{term:?}, {}", set.model());
            }
        }
    }

    /// The kernel's feature values are the terms' own ([`terms::feature`]) on random pairs, for
    /// every term's list: each feature, its separation, its frame vectors and its sign.
    #[test]
    fn kernel_features_are_the_specs_features() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut v = || Vec3::new(rand(), rand(), rand());
        for set in [ParamSet::dna1_defaults(), ParamSet::dna2_defaults()] {
            let geo = terms::Geometry::<f64>::new(&set, set.model());
            for _ in 0..20 {
                let frame = |(a1, a2, a3): (Vec3, Vec3, Vec3)| [a1, a2, a3];
                let (a, b) = (frame(orthonormalize(v(), v())), frame(orthonormalize(v(), v())));
                let d = v() * 0.8;
                let (sp, sq) = (geo.offsets(&a), geo.offsets(&b));
                let pair = geo.pair(V3::from(d), a.map(V3::from), b.map(V3::from));
                let kernel = || Pair::new(&a, &b, &sp, &sq, separations(d, &sp, &sq, 6));
                let check = |got: &[f64], spec: Spec, what: &str| {
                    let want: Vec<f64> =
                        spec.iter().flat_map(|p| p.iter()).map(|(f, _)| terms::feature(&pair, f)).collect();
                    assert_eq!(got.len(), want.len(), "{what}");
                    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                        assert!((g - w).abs() < 1e-12, "{what}, feature {k}: kernel {g}, spec {w}");
                    }
                };
                fn layout<const N: usize>(k: &mut Pair, l: &Layout<N>) -> Vec<f64> {
                    k.features(l).to_vec()
                }
                let radial = |r: &[(usize, u8)]| -> Vec<f64> {
                    let mut k = kernel();
                    r.iter().map(|&(slot, _)| k.sep(slot).1).collect()
                };
                let spec = |t: TermId, dna1: bool| kernel_spec(t, dna1);
                check(&radial(&FENE), spec(TermId::Fene, true), "FENE");
                check(&radial(&EXCL_BONDED), spec(TermId::BondedExcludedVolume, true), "bonded excluded volume");
                check(&layout(&mut kernel(), &STACK), spec(TermId::Stacking, true), "stacking");
                check(&radial(&EXCL), spec(TermId::UnbondedExcludedVolume, true), "excluded volume");
                check(&layout(&mut kernel(), &HB), spec(TermId::HydrogenBonding, true), "H-bonding");
                check(&layout(&mut kernel(), &CROSS), spec(TermId::CrossStacking, true), "cross-stacking");
                check(&layout(&mut kernel(), &COAX1), spec(TermId::CoaxialStacking, true), "oxDNA1 coaxial stacking");
                check(&layout(&mut kernel(), &COAX2), spec(TermId::CoaxialStacking, false), "oxDNA2 coaxial stacking");
                check(&radial(&DEBYE), spec(TermId::Debye, false), "Debye–Hückel");
            }
        }
    }
}
