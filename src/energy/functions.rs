//! The generic piecewise functions of the oxDNA model (Ouldridge et al. 2011,
//! appendix), generic over [`Real`] so one definition serves `f64` and tensors.
//!
//! | function | core | used by |
//! |---|---|---|
//! | f1 | ε[(1 − e^{−a(r−r0)})² − (1 − e^{−a(rc−r0)})²] | stacking, hydrogen bonding |
//! | f2 | (k/2)[(r − r0)² − (rc − r0)²] | cross-stacking, coaxial stacking |
//! | f3 | 4ε[(σ/r)¹² − (σ/r)⁶] | excluded volume |
//! | f4 | 1 − a(θ − θ0)² | every angular factor |
//! | f5 | 1 − a x² (x < 0), 1 (x ≥ 0) | stacking / coaxial φ factors |
//! | f6 | (a/2)(θ − b)² (θ ≥ b) | oxDNA2 coaxial θ1 |
//!
//! Each core is joined to zero by quadratic tails whose constants ([`crate::params::smoothing`]) are derived
//! from the independent parameters every time, so gradients reach them. Breakpoints: the core owns
//! `r_low < r ≤ r_high`, the tails are open at their outer ends (as in oxDNA).

use crate::math::Real;
use crate::params::smoothing::{f1_tail, f2_tail, f3_tail, f4_tail};

/// Something that hands out parameter values by name: the `f64` values of a parameter set, or
/// one tensor per name (leaves that require gradients for the optimised names).
pub trait ParamSource<T> {
    /// The value of `name` (an invariant of the model that it exists).
    fn p(&self, name: &str) -> T;
}

impl ParamSource<f64> for crate::params::ParamSet {
    fn p(&self, name: &str) -> f64 {
        self.value(name)
    }
}

impl ParamSource<crate::math::Dual> for crate::params::ParamSet {
    fn p(&self, name: &str) -> crate::math::Dual {
        crate::math::Dual::cst(self.value(name))
    }
}

/// A parameter set as a model reads it when it is built: every name the model's terms read goes
/// through here once, and a name the set does not have is an error from [`Checked::finish`]
/// (with the closest names), never a panic. The tensor model reads the same names through the
/// same generic code, so a built model's evaluations find every name they ask for.
pub(crate) struct Checked<'a> {
    set: &'a crate::params::ParamSet,
    missing: std::cell::RefCell<Vec<String>>,
}

impl<'a> Checked<'a> {
    /// Reads from `set`.
    pub(crate) fn new(set: &'a crate::params::ParamSet) -> Checked<'a> {
        Checked { set, missing: std::cell::RefCell::new(Vec::new()) }
    }

    /// The value of `name`; a name the set lacks is recorded (and reads as NaN meanwhile).
    pub(crate) fn value(&self, name: &str) -> f64 {
        if self.set.contains(name) {
            self.set.value(name)
        } else {
            self.missing.borrow_mut().push(name.to_string());
            f64::NAN
        }
    }

    /// An error naming the first name read that the set does not have, with the closest names
    /// it does have.
    pub(crate) fn finish(self) -> crate::error::Result<()> {
        match self.missing.into_inner().into_iter().next() {
            None => Ok(()),
            Some(name) => Err(crate::error::Error::UnknownParameter {
                suggestions: crate::params::closest(&name, self.set.names()),
                name,
            }),
        }
    }
}

impl ParamSource<f64> for Checked<'_> {
    fn p(&self, name: &str) -> f64 {
        self.value(name)
    }
}

impl ParamSource<crate::math::Dual> for Checked<'_> {
    fn p(&self, name: &str) -> crate::math::Dual {
        crate::math::Dual::cst(self.value(name))
    }
}

/// f1, the Morse well with smooth cut-offs (ε supplied per pair).
#[derive(Debug, Clone)]
pub struct F1<T> {
    a: T,
    r0: T,
    shift: T,
    rlow: T,
    rhigh: T,
    blow: T,
    rclow: T,
    bhigh: T,
    rchigh: T,
}

impl<T: Real> F1<T> {
    /// From `a_X`, `dr0_X`, `dr_c_X`, `dr_low_X`, `dr_high_X` (X = `stack`, `hb`).
    pub fn new(src: &impl ParamSource<T>, x: &str) -> Self {
        let (a, r0, rc) = (src.p(&format!("a_{x}")), src.p(&format!("dr0_{x}")), src.p(&format!("dr_c_{x}")));
        let (rlow, rhigh) = (src.p(&format!("dr_low_{x}")), src.p(&format!("dr_high_{x}")));
        let (blow, rclow) = f1_tail(a.clone(), r0.clone(), rc.clone(), rlow.clone());
        let (bhigh, rchigh) = f1_tail(a.clone(), r0.clone(), rc.clone(), rhigh.clone());
        let s = -(-(a.clone() * (rc - r0.clone()))).exp() + 1.0;
        F1 { a, r0, shift: s.clone() * s, rlow, rhigh, blow, rclow, bhigh, rchigh }
    }

    /// Outer ends of the support `(r_c,low, r_c,high)`.
    pub fn support(&self) -> (T, T) {
        (self.rclow.clone(), self.rchigh.clone())
    }

    /// f1(r) with strength `eps`.
    pub fn eval(&self, r: &T, eps: &T) -> T {
        let core = || {
            let s = -(-(self.a.clone() * (r.clone() - self.r0.clone()))).exp() + 1.0;
            eps.clone() * (s.clone() * s - self.shift.clone())
        };
        let low = || {
            let d = r.clone() - self.rclow.clone();
            eps.clone() * self.blow.clone() * d.clone() * d
        };
        let high = || {
            let d = r.clone() - self.rchigh.clone();
            eps.clone() * self.bhigh.clone() * d.clone() * d
        };
        piecewise_radial(r, &self.rclow, &self.rlow, &self.rhigh, &self.rchigh, core, low, high)
    }
}

/// f2, the harmonic well with smooth cut-offs.
#[derive(Debug, Clone)]
pub struct F2<T> {
    k: T,
    r0: T,
    shift: T,
    rlow: T,
    rhigh: T,
    blow: T,
    rclow: T,
    bhigh: T,
    rchigh: T,
}

impl<T: Real> F2<T> {
    /// From `k`, `r0`, `rc`, `r_low`, `r_high` parameter names.
    pub fn new(src: &impl ParamSource<T>, k: &str, r0: &str, rc: &str, rlow: &str, rhigh: &str) -> Self {
        F2 { k: src.p(k), ..F2::unit(src, r0, rc, rlow, rhigh) }
    }

    /// With strength k = 1 (a strength that multiplies the term from outside, such as a per-pair
    /// one), from `r0`, `rc`, `r_low`, `r_high` parameter names.
    pub fn unit(src: &impl ParamSource<T>, r0: &str, rc: &str, rlow: &str, rhigh: &str) -> Self {
        let (r0, rc) = (src.p(r0), src.p(rc));
        let k = r0.cst(1.0);
        let (rlow, rhigh) = (src.p(rlow), src.p(rhigh));
        let (blow, rclow) = f2_tail(r0.clone(), rc.clone(), rlow.clone());
        let (bhigh, rchigh) = f2_tail(r0.clone(), rc.clone(), rhigh.clone());
        let dc = rc - r0.clone();
        F2 { k, r0, shift: dc.clone() * dc, rlow, rhigh, blow, rclow, bhigh, rchigh }
    }

    /// Outer ends of the support.
    pub fn support(&self) -> (T, T) {
        (self.rclow.clone(), self.rchigh.clone())
    }

    /// f2(r).
    pub fn eval(&self, r: &T) -> T {
        let core = || {
            let d = r.clone() - self.r0.clone();
            self.k.clone() * (d.clone() * d - self.shift.clone()) * 0.5
        };
        let low = || {
            let d = r.clone() - self.rclow.clone();
            self.k.clone() * self.blow.clone() * d.clone() * d
        };
        let high = || {
            let d = r.clone() - self.rchigh.clone();
            self.k.clone() * self.bhigh.clone() * d.clone() * d
        };
        piecewise_radial(r, &self.rclow, &self.rlow, &self.rhigh, &self.rchigh, core, low, high)
    }
}

/// The common layout of f1 and f2: low tail on (rc_low, r_low], core on (r_low, r_high], high tail
/// on (r_high, rc_high), zero elsewhere.
#[allow(clippy::too_many_arguments)]
fn piecewise_radial<T: Real>(
    r: &T,
    rclow: &T,
    rlow: &T,
    rhigh: &T,
    rchigh: &T,
    core: impl FnOnce() -> T,
    low: impl FnOnce() -> T,
    high: impl FnOnce() -> T,
) -> T {
    let inside = T::and(&rclow.lt(r), &r.lt(rchigh));
    if !T::any(&inside) {
        return r.cst(0.0);
    }
    let in_core = T::and(&rlow.lt(r), &r.le(rhigh));
    let in_low = T::and(&rclow.lt(r), &r.le(rlow));
    T::choose(&in_core, core, || T::choose(&in_low, low, || T::choose(&inside, high, || r.cst(0.0))))
}

/// f3, the repulsive Lennard-Jones excluded volume with a quadratic tail.
#[derive(Debug, Clone)]
pub struct F3<T> {
    eps: T,
    sigma: T,
    rstar: T,
    b: T,
    rc: T,
}

impl<T: Real> F3<T> {
    /// From `eps_exc`, `sigma_{site}`, `dr_star_{site}` (site = `base`, `back_base`, `base_back`,
    /// `backbone`).
    pub fn new(src: &impl ParamSource<T>, site: &str) -> Self {
        let (sigma, rstar) = (src.p(&format!("sigma_{site}")), src.p(&format!("dr_star_{site}")));
        let (b, rc) = f3_tail(sigma.clone(), rstar.clone());
        F3 { eps: src.p("eps_exc"), sigma, rstar, b, rc }
    }

    /// The cut-off r_c (zero beyond).
    pub fn cutoff(&self) -> T {
        self.rc.clone()
    }

    /// f3(r).
    pub fn eval(&self, r: &T) -> T {
        let inside = r.lt(&self.rc);
        if !T::any(&inside) {
            return r.cst(0.0);
        }
        let in_core = r.le(&self.rstar);
        let core = || {
            // sanitise r so the dead branch is finite for r beyond r* (both branches of a tensor `choose` are evaluated)
            let rs = T::choose(&in_core, || r.clone(), || self.rstar.clone() + r.cst(0.0));
            let s6 = (self.sigma.clone() / rs).powi(6);
            self.eps.clone() * (s6.clone() * s6.clone() - s6) * 4.0
        };
        let tail = || {
            let d = r.clone() - self.rc.clone();
            T::choose(&inside, || self.eps.clone() * self.b.clone() * d.clone() * d.clone(), || r.cst(0.0))
        };
        T::choose(&in_core, core, tail)
    }
}

/// f4, the angular modulation about θ0.
#[derive(Debug, Clone)]
pub struct F4<T> {
    a: T,
    theta0: T,
    ts: T,
    b: T,
    tc: T,
    /// cos θ between these bounds (exclusive) is the only place f4 can be non-zero.
    cos_lo: T,
    cos_hi: T,
}

impl<T: Real> F4<T> {
    /// From `a_{x}_{k}`, `theta0_{x}_{k}`, `delta_theta_star_{x}_{k}`.
    pub fn new(src: &impl ParamSource<T>, x: &str, k: u8) -> Self {
        let a = src.p(&format!("a_{x}_{k}"));
        let theta0 = src.p(&format!("theta0_{x}_{k}"));
        let ts = src.p(&format!("delta_theta_star_{x}_{k}"));
        let (b, tc) = f4_tail(a.clone(), ts.clone());
        // the support (θ0 − θc, θ0 + θc) ∩ [0, π] as cosines, open beyond 0 and π
        let (hi_angle, lo_angle) = (theta0.clone() - tc.clone(), theta0.clone() + tc.clone());
        let zero = theta0.cst(0.0);
        let cos_hi = T::choose(&hi_angle.le(&zero), || theta0.cst(2.0), || hi_angle.clone().cos());
        let cos_lo =
            T::choose(&theta0.cst(std::f64::consts::PI).le(&lo_angle), || theta0.cst(-2.0), || lo_angle.clone().cos());
        F4 { a, theta0, ts, b, tc, cos_lo, cos_hi }
    }

    /// f4(θ).
    pub fn eval(&self, theta: &T) -> T {
        let d = theta.clone() - self.theta0.clone();
        let t = d.clone().abs();
        let inside = t.lt(&self.tc);
        if !T::any(&inside) {
            return theta.cst(0.0);
        }
        let in_core = t.le(&self.ts);
        T::choose(
            &in_core,
            || -(self.a.clone() * d.clone() * d.clone()) + 1.0,
            || {
                let e = self.tc.clone() - t.clone();
                T::choose(&inside, || self.b.clone() * e.clone() * e.clone(), || theta.cst(0.0))
            },
        )
    }

    /// f4(arccos c): scalars outside the support return 0 without computing the angle.
    pub fn eval_cos(&self, c: &T) -> T {
        let maybe = T::and(&self.cos_lo.lt(c), &c.lt(&self.cos_hi));
        if !T::any(&maybe) {
            return c.cst(0.0);
        }
        self.eval(&c.clone().acos_clamped())
    }

    /// f4(θ) + f4(π − θ) of c = cos θ: insensitive to the sign of cos θ.
    pub fn eval_sym_cos(&self, c: &T) -> T {
        self.eval_cos(c) + self.eval_cos(&-c.clone())
    }
}

/// f5, the one-sided modulation of cos φ (right-handedness).
#[derive(Debug, Clone)]
pub struct F5<T> {
    a: T,
    xs: T,
    b: T,
    xc: T,
}

impl<T: Real> F5<T> {
    /// From the names of `a` and the switch value x* < 0.
    pub fn new(src: &impl ParamSource<T>, a: &str, x_star: &str) -> Self {
        let (a, xs) = (src.p(a), src.p(x_star));
        let (b, xc) = f4_tail(a.clone(), xs.clone());
        F5 { a, xs, b, xc }
    }

    /// f5(x).
    pub fn eval(&self, x: &T) -> T {
        let zero = x.cst(0.0);
        let positive = zero.le(x);
        T::choose(
            &positive,
            || x.cst(1.0),
            || {
                let in_core = self.xs.le(x);
                T::choose(
                    &in_core,
                    || -(self.a.clone() * x.clone() * x.clone()) + 1.0,
                    || {
                        let e = self.xc.clone() - x.clone();
                        T::choose(&self.xc.lt(x), || self.b.clone() * e.clone() * e.clone(), || x.cst(0.0))
                    },
                )
            },
        )
    }
}

/// f6 (oxDNA2): (a/2)(θ − b)² for θ ≥ b, else 0.
#[derive(Debug, Clone)]
pub struct F6<T> {
    a: T,
    b: T,
}

impl<T: Real> F6<T> {
    /// From `a_coax_1_f6`, `b_coax_1_f6`.
    pub fn new(src: &impl ParamSource<T>) -> Self {
        F6 { a: src.p("a_coax_1_f6"), b: src.p("b_coax_1_f6") }
    }

    /// f6(θ).
    pub fn eval(&self, theta: &T) -> T {
        let d = theta.clone() - self.b.clone();
        T::choose(&self.b.le(theta), || self.a.clone() * d.clone() * d.clone() * 0.5, || theta.cst(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamSet;

    /// A model reads its parameters through `Checked` when it is built: a name the set lacks (a
    /// misspelling in a term's code, or a term of the other model) is an error with the closest
    /// names, not a panic.
    #[test]
    fn a_missing_name_is_an_error_with_the_closest_names() {
        let set = ParamSet::dna1_defaults();
        let src = Checked::new(&set);
        assert!((src.value("eps_stack_base") - set.value("eps_stack_base")).abs() < 1e-300);
        assert!(src.value("eps_stak_base").is_nan());
        let e = src.finish().unwrap_err().to_string();
        assert_eq!(e, "unknown parameter 'eps_stak_base'; did you mean 'eps_stack_base'?");
        // oxDNA2's terms on an oxDNA1 set: the first name it lacks
        let src = Checked::new(&set);
        let _ = crate::energy::model::Terms::<f64>::new(&src, crate::params::ModelKind::Dna2);
        let e = src.finish().unwrap_err().to_string();
        assert!(e.starts_with("unknown parameter 'com_to_backbone_x'"), "{e}");
        Checked::new(&set).finish().unwrap();
    }

    /// f6 = (a/2)(θ − b)² beyond b, zero before: by hand, where no reference frame reaches (θ1
    /// within 0.025 of π with coaxial stacking on).
    #[test]
    fn f6_is_half_a_times_the_square_beyond_b() {
        let p = ParamSet::dna2_defaults();
        let f = F6::<f64>::new(&p);
        let (a, b) = (p.value("a_coax_1_f6"), p.value("b_coax_1_f6"));
        for theta in [b + 0.004, b + 0.017, std::f64::consts::PI] {
            let expected = a / 2.0 * (theta - b) * (theta - b);
            assert!((f.eval(&theta) - expected).abs() < 1e-15, "θ {theta}: {} vs {expected}", f.eval(&theta));
        }
        assert!((f.eval(&std::f64::consts::PI) - 40.0 / 2.0 * 0.025f64.powi(2)).abs() < 1e-4);
        assert_eq!(f.eval(&(b - 0.01)), 0.0);
    }

    /// Every function and its tails are continuous with continuous slope at the breakpoints.
    #[test]
    fn functions_are_c1_at_breakpoints() {
        let p = ParamSet::dna1_defaults();
        let f1 = F1::new(&p, "stack");
        let f2 = F2::new(&p, "k_cross", "r0_cross", "dr_c_cross", "dr_low_cross", "dr_high_cross");
        let f3 = F3::new(&p, "backbone");
        let f4 = F4::new(&p, "stack", 4);
        let f5 = F5::new(&p, "a_stack_1", "neg_cos_phi1_star_stack");
        type Check = (Box<dyn Fn(f64) -> f64>, Vec<f64>);
        let checks: Vec<Check> = vec![
            (Box::new(move |r| f1.eval(&r, &1.6)), vec![0.32, 0.75]),
            (Box::new(move |r| f2.eval(&r)), vec![0.495, 0.655]),
            (Box::new(move |r| f3.eval(&r)), vec![0.675]),
            (Box::new(move |t| f4.eval(&t)), vec![0.8, -0.8]),
            (Box::new(move |x| f5.eval(&x)), vec![-0.65, 0.0]),
        ];
        let h = 1e-7;
        for (f, points) in &checks {
            for &x in points {
                let (l, r) = (f(x - h), f(x + h));
                let sl = (f(x - h) - f(x - 2.0 * h)) / h;
                let sr = (f(x + 2.0 * h) - f(x + h)) / h;
                // across the breakpoint the value may change only as fast as the slope allows
                assert!((l - r).abs() <= 3.0 * h * sl.abs().max(sr.abs()) + 1e-12, "value jumps at {x}: {l} vs {r}");
                assert!((sl - sr).abs() < 1e-4 * (1.0 + sl.abs()), "slope jumps at {x}: {sl} vs {sr}");
            }
        }
    }

    #[test]
    fn functions_vanish_outside_their_support() {
        let p = ParamSet::dna1_defaults();
        assert!(F1::new(&p, "hb").eval(&0.8, &1.0).abs() < 1e-300);
        assert!(F3::new(&p, "base").eval(&0.34).abs() < 1e-300);
        assert!((F5::new(&p, "a_stack_1", "neg_cos_phi1_star_stack").eval(&0.3) - 1.0).abs() < 1e-15);
        assert!(F4::new(&p, "hb", 1).eval(&1.0).abs() < 1e-300);
    }
}
