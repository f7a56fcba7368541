//! The force kernel of molecular dynamics: energies, forces and torques of one pair, every term
//! at once, in `f64`.
//!
//! The terms are defined once, as specs of (feature, factor) in [`super::terms`]; energies and
//! Burn tensors evaluate those specs directly. MD needs forces millions of times, so this kernel
//! evaluates the same specs laid out by hand: each site separation is computed once per pair
//! and shared by every term that uses it (the base–base vector serves excluded volume, hydrogen
//! bonding and cross-stacking); a term's radial factor is checked against its support on the
//! squared distance before anything else, so a pair on which nothing acts costs a few
//! comparisons; each factor's value and slope come from the term's own [`Factors`] on [`Dual`]
//! numbers; and the gradient is accumulated with respect to each separation and frame vector,
//! then turned into forces and torques once (reverse mode by hand). Each block below names the
//! spec it mirrors; `tests/forces.rs` checks the kernel against automatic differentiation of the
//! specs on every reference case, one term at a time.
//!
//! **Exact functions, no tables.** oxDNA's default interactions (`interaction_type = DNA`,
//! `DNA2`) tabulate the angular factor f4 on cos θ to avoid `acos`; its `_nomesh` variants
//! evaluate it exactly, and so does this kernel, for every `interaction_type`. The cost of `acos`
//! is avoided where it matters instead: f4 is zero outside θ0 ± θc, an interval of cos θ, so an
//! angle is taken only when cos θ lies inside its support (most non-bonded pairs fail on the
//! first test). This keeps the MD forces the exact derivatives of the energies that
//! `tests/energy_vs_oxdna.rs` checks (a table would move H-bonding and cross-stacking energies
//! by up to ~1e-5 per nucleotide) and is still 1.6–2.2× oxDNA's speed (`BENCHMARKS.md`).

use super::model::{TermId, Terms};
use super::terms::{Factors, PairGradient};
use crate::geometry::Vec3;
use crate::math::Dual;

/// The site indices of [`super::terms::Site`].
const BB: usize = 0;
const B1: usize = 1;
const ST: usize = 2;
const BA: usize = 3;

/// The separations a pair may need, as (site of p, site of q): base–base, base–backbone,
/// backbone–base, backbone–backbone, stack–stack, backbone1–backbone1.
const SLOTS: [(usize, usize); 6] = [(BA, BA), (BA, BB), (BB, BA), (BB, BB), (ST, ST), (B1, B1)];
const S_BA: usize = 0;
const S_BB: usize = 3;
const S_ST: usize = 4;
const S_B1: usize = 5;

/// Squared site distances inside which each radial factor can be non-zero.
#[derive(Debug, Clone, Default)]
pub(crate) struct Supports {
    /// Excluded volume, cut-off² of slots 0–3.
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
}

/// The slot separations r^{XY} = d + s_Y(q) − s_X(p) of the first `slots` slots and their
/// squared lengths.
#[inline]
fn separations(d: Vec3, sp: &[Vec3; 4], sq: &[Vec3; 4], slots: usize) -> ([Vec3; 6], [f64; 6]) {
    let mut r = [Vec3::ZERO; 6];
    let mut n2 = [0.0; 6];
    for k in 0..slots {
        let (x, y) = SLOTS[k];
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
        Pair { a, b, sp, sq, r, n2, used: 0, u: z, n: [0.0; 6], g: z, ga: [Vec3::ZERO; 3], gb: [Vec3::ZERO; 3] }
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

    /// A radial-only product (FENE, excluded volume, Debye–Hückel) on slot `k`: the energy;
    /// adds c = w f′ along r̂.
    #[inline]
    fn radial<F: Factors<Dual>>(&mut self, f: &F, factor: u8, k: usize, eps: f64, w: f64) -> f64 {
        let (u, n) = self.sep(k);
        let y = f.factor(factor, &Dual::var(n), &Dual::cst(eps));
        self.g[k] += u * (w * y.d[0]);
        w * y.v
    }

    /// ∂E/∂d, ∂E/∂θ_p, ∂E/∂θ_q from the separations used and the frame-vector gradients;
    /// `None` when no term acted on the pair.
    fn gradient(&self, e: f64) -> Option<(f64, PairGradient)> {
        if self.used == 0 {
            return None;
        }
        let mut g = PairGradient::default();
        for (k, &(x, y)) in SLOTS.iter().enumerate() {
            if self.used & (1 << k) != 0 {
                let gs = self.g[k];
                g.d += gs;
                g.p += gs.cross(self.sp[x]);
                g.q += self.sq[y].cross(gs);
            }
        }
        for k in 0..3 {
            g.p += self.a[k].cross(self.ga[k]);
            g.q += self.b[k].cross(self.gb[k]);
        }
        Some((e, g))
    }
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
pub(crate) fn bonded(
    m: &PairInput<'_>,
    d: Vec3,
    a: &[Vec3; 3],
    b: &[Vec3; 3],
    sp: &[Vec3; 4],
    sq: &[Vec3; 4],
) -> Option<(f64, PairGradient)> {
    let t = m.terms;
    let mut k = Pair::new(a, b, sp, sq, separations(d, sp, sq, 6));
    let mut e = 0.0;
    // fene::SPEC: f(|r_bb|)
    if m.w(TermId::Fene) != 0.0 {
        e += k.radial(&t.fene, 0, S_BB, 0.0, m.w(TermId::Fene));
        if let Some((r0, delta)) = m.fene_limit {
            if (k.n[S_BB] - r0).abs() >= delta {
                e = f64::INFINITY;
            }
        }
    }
    // excluded_volume::BONDED: base–base, base–backbone, backbone–base
    let we = m.w(TermId::BondedExcludedVolume);
    if we != 0.0 {
        for slot in 0..3 {
            if k.n2[slot] < m.supports.excl[slot] {
                e += k.radial(&t.excl, slot as u8, slot, 0.0, we);
            }
        }
    }
    // stacking::SPEC: f1(r_st) f4(a3·b3) f4(−a3·r̂_st) f4(−b3·r̂_st) f5(b2·r̂_b1) f5(a2·r̂_b1)
    let ws = m.w(TermId::Stacking);
    if let (true, Some(eps)) = (ws != 0.0 && within(m.supports.stack, k.n2[S_ST]), m.eps_bond) {
        let (st, n) = k.sep(S_ST);
        let (b1, _) = k.sep(S_B1);
        let s = [n, a[2].dot(b[2]), -a[2].dot(st), -b[2].dot(st), b[1].dot(b1), a[1].dot(b1)];
        if let Some(y) = factors(&t.stack, s, eps) {
            let (v, c) = product(&y, ws);
            e += v;
            k.g[S_ST] += st * c[0];
            k.frame_dot(2, 2, 1.0, c[1]);
            let g = k.axis(S_ST, a[2], -1.0, c[2]);
            k.ga[2] += g;
            let g = k.axis(S_ST, b[2], -1.0, c[3]);
            k.gb[2] += g;
            let g = k.axis(S_B1, b[1], 1.0, c[4]);
            k.gb[1] += g;
            let g = k.axis(S_B1, a[1], 1.0, c[5]);
            k.ga[1] += g;
        }
    }
    k.gradient(e)
}

/// Energy and gradient of a non-bonded pair: excluded volume, hydrogen bonding,
/// cross-stacking, coaxial stacking, Debye–Hückel (each only where its radial factor lives).
pub(crate) fn nonbonded(
    m: &PairInput<'_>,
    d: Vec3,
    a: &[Vec3; 3],
    b: &[Vec3; 3],
    sp: &[Vec3; 4],
    sq: &[Vec3; 4],
) -> Option<(f64, PairGradient)> {
    let t = m.terms;
    let sup = m.supports;
    let (r, n2) = separations(d, sp, sq, if m.dna1 { 6 } else { 5 });
    let (we, w_hb, w_cr, w_cx, w_dh) = (
        m.w(TermId::UnbondedExcludedVolume),
        m.w(TermId::HydrogenBonding),
        m.w(TermId::CrossStacking),
        m.w(TermId::CoaxialStacking),
        m.w(TermId::Debye),
    );
    // which terms can act, from squared site distances alone
    let excl = we != 0.0 && (0..4).any(|s| n2[s] < sup.excl[s]);
    let hb = m.eps_bond.filter(|_| w_hb != 0.0 && within(sup.hb, n2[S_BA]));
    let cross = w_cr != 0.0 && within(sup.cross, n2[S_BA]);
    let coax = w_cx != 0.0 && within(sup.coax, n2[S_ST]);
    let debye = w_dh != 0.0 && n2[S_BB] < sup.debye;
    if !(excl || hb.is_some() || cross || coax || debye) {
        return None;
    }
    let mut k = Pair::new(a, b, sp, sq, (r, n2));
    let mut e = 0.0;
    // excluded_volume::NONBONDED: base–base, base–backbone, backbone–base, backbone–backbone
    if excl {
        for slot in 0..4 {
            if k.n2[slot] < sup.excl[slot] {
                e += k.radial(&t.excl, slot as u8, slot, 0.0, we);
            }
        }
    }
    // hydrogen_bonding::SPEC and cross_stacking::SPEC, on the features
    // r_hb, −a1·b1, −b1·r̂, a1·r̂, a3·b3, −b3·r̂, a3·r̂ of the base–base separation
    if hb.is_some() || cross {
        let (u, n) = k.sep(S_BA);
        let s = [n, -a[0].dot(b[0]), -b[0].dot(u), a[0].dot(u), a[2].dot(b[2]), -b[2].dot(u), a[2].dot(u)];
        let apply = |k: &mut Pair, c: &[f64; 7]| {
            k.g[S_BA] += u * c[0];
            k.frame_dot(0, 0, -1.0, c[1]);
            let g = k.axis(S_BA, b[0], -1.0, c[2]);
            k.gb[0] += g;
            let g = k.axis(S_BA, a[0], 1.0, c[3]);
            k.ga[0] += g;
            k.frame_dot(2, 2, 1.0, c[4]);
            let g = k.axis(S_BA, b[2], -1.0, c[5]);
            k.gb[2] += g;
            let g = k.axis(S_BA, a[2], 1.0, c[6]);
            k.ga[2] += g;
        };
        if let Some(eps) = hb {
            if let Some(y) = factors(&t.hb, s, eps) {
                let (v, c) = product(&y, w_hb);
                e += v;
                apply(&mut k, &c);
            }
        }
        if cross {
            if let Some(y) = factors(&t.cross, s, 0.0) {
                let (v, c) = product(&y, w_cr);
                e += v;
                apply(&mut k, &c);
            }
        }
    }
    // coaxial_stacking::SPEC_DNA1 / SPEC_DNA2: f2(r_st) f4(a3·b3) F(−a1·b1) f4s(a3·r̂_st) f4s(−b3·r̂_st)
    // [oxDNA1: f5(r̂_st·(r̂_b1 × a1)) f5(r̂_st·(r̂_b1 × b1))]
    if coax {
        let (st, n) = k.sep(S_ST);
        let common = [n, a[2].dot(b[2]), -a[0].dot(b[0]), a[2].dot(st), -b[2].dot(st)];
        let apply = |k: &mut Pair, c: &[f64]| {
            k.g[S_ST] += st * c[0];
            k.frame_dot(2, 2, 1.0, c[1]);
            k.frame_dot(0, 0, -1.0, c[2]);
            let g = k.axis(S_ST, a[2], 1.0, c[3]);
            k.ga[2] += g;
            let g = k.axis(S_ST, b[2], -1.0, c[4]);
            k.gb[2] += g;
        };
        if m.dna1 {
            let (b1, n1) = k.sep(S_B1);
            let s =
                [common[0], common[1], common[2], common[3], common[4], st.dot(b1.cross(a[0])), st.dot(b1.cross(b[0]))];
            if let Some(y) = factors(&t.coax, s, 0.0) {
                let (v, c) = product(&y, w_cx);
                e += v;
                apply(&mut k, &c);
                // s = r̂_st · (r̂_b1 × u): ∂/∂r_st, ∂/∂r_b1 (projected), ∂/∂u = r̂_st × r̂_b1
                for (ck, u, on_p) in [(c[5], a[0], true), (c[6], b[0], false)] {
                    let (g1, g2) = (b1.cross(u), u.cross(st));
                    k.g[S_ST] += (g1 - st * g1.dot(st)) * (ck / n);
                    k.g[S_B1] += (g2 - b1 * g2.dot(b1)) * (ck / n1);
                    if on_p {
                        k.ga[0] += st.cross(b1) * ck;
                    } else {
                        k.gb[0] += st.cross(b1) * ck;
                    }
                }
            }
        } else if let Some(y) = factors(&t.coax, common, 0.0) {
            let (v, c) = product(&y, w_cx);
            e += v;
            apply(&mut k, &c);
        }
    }
    // debye::SPEC: χ_p χ_q f(|r_bb|)
    if let (true, Some(dh)) = (debye, t.debye.as_ref()) {
        e += k.radial(dh, 0, S_BB, m.chi, w_dh);
    }
    k.gradient(e)
}
