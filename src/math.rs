//! The scalar interface shared by plain `f64` code and tensor code.
//!
//! The physics of oxgrad is written once, generically over [`Real`]: the same function computes
//! one pair's energy with `T = f64` (the native engine, with early exits) and every pair of a batch
//! of frames at once with `T = Tensor<1>` (the Burn model, for gradients). Piecewise functions use
//! [`Real::choose`], which evaluates only the needed branch for scalars and both branches, masked,
//! for tensors — so tensor branches must be safe on every input (a `NaN` in a masked-out branch still poisons its gradient).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// Arithmetic, comparisons and selection that both `f64` and element-wise tensors provide.
pub trait Real:
    Clone
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// The result of an element-wise comparison.
    type Mask: Clone;

    /// e^self.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// √self.
    fn sqrt(self) -> Self;
    /// self^n.
    fn powi(self, n: i32) -> Self;
    /// 1 / self.
    fn recip(self) -> Self;
    /// |self|.
    fn abs(self) -> Self;
    /// cos self.
    fn cos(self) -> Self;
    /// arccos of self clamped to [−1, 1]. Tensors clamp to ±(1 − 10⁻¹²) with a straight-through
    /// gradient, so d f(θ)/dc stays finite where f′(θ) vanishes at θ = 0 or π.
    fn acos_clamped(self) -> Self;
    /// A constant with the shape of `self`.
    fn cst(&self, c: f64) -> Self;
    /// Element-wise `self < rhs`.
    fn lt(&self, rhs: &Self) -> Self::Mask;
    /// Element-wise `self <= rhs`.
    fn le(&self, rhs: &Self) -> Self::Mask;
    /// Element-wise conjunction.
    fn and(a: &Self::Mask, b: &Self::Mask) -> Self::Mask;
    /// Whether any element is set (tensors answer `true`: they never exit early).
    fn any(m: &Self::Mask) -> bool;
    /// Whether this is known to be exactly zero (scalars; tensors answer `false`). Terms use it to
    /// skip their angular factors when the radial factor vanishes.
    fn is_zero(&self) -> bool;
    /// `yes()` where `mask` is set, `no()` elsewhere.
    fn choose(mask: &Self::Mask, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self;
}

impl Real for f64 {
    type Mask = bool;

    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    #[inline]
    fn recip(self) -> Self {
        1.0 / self
    }
    #[inline]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline]
    fn cos(self) -> Self {
        f64::cos(self)
    }
    #[inline]
    fn acos_clamped(self) -> Self {
        self.clamp(-1.0, 1.0).acos()
    }
    #[inline]
    fn cst(&self, c: f64) -> Self {
        c
    }
    #[inline]
    fn lt(&self, rhs: &Self) -> bool {
        *self < *rhs
    }
    #[inline]
    fn le(&self, rhs: &Self) -> bool {
        *self <= *rhs
    }
    #[inline]
    fn and(a: &bool, b: &bool) -> bool {
        *a && *b
    }
    #[inline]
    fn any(m: &bool) -> bool {
        *m
    }
    #[inline]
    #[allow(clippy::float_cmp)]
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
    #[inline]
    fn choose(mask: &bool, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self {
        if *mask {
            yes()
        } else {
            no()
        }
    }
}

/// A 3-vector over any [`Real`] (one pair, or every pair of a batch, per component).
#[derive(Debug, Clone)]
pub struct V3<T> {
    /// x component.
    pub x: T,
    /// y component.
    pub y: T,
    /// z component.
    pub z: T,
}

impl<T: Real> V3<T> {
    /// From components.
    pub fn new(x: T, y: T, z: T) -> Self {
        V3 { x, y, z }
    }

    /// Dot product.
    pub fn dot(&self, o: &V3<T>) -> T {
        self.x.clone() * o.x.clone() + self.y.clone() * o.y.clone() + self.z.clone() * o.z.clone()
    }

    /// Cross product.
    pub fn cross(&self, o: &V3<T>) -> V3<T> {
        V3 {
            x: self.y.clone() * o.z.clone() - self.z.clone() * o.y.clone(),
            y: self.z.clone() * o.x.clone() - self.x.clone() * o.z.clone(),
            z: self.x.clone() * o.y.clone() - self.y.clone() * o.x.clone(),
        }
    }

    /// Euclidean norm.
    pub fn norm(&self) -> T {
        self.dot(self).sqrt()
    }

    /// Every component times a scalar of the same kind.
    pub fn scale(&self, s: &T) -> V3<T> {
        V3 { x: self.x.clone() * s.clone(), y: self.y.clone() * s.clone(), z: self.z.clone() * s.clone() }
    }

    /// Every component divided by `s`.
    pub fn div(&self, s: &T) -> V3<T> {
        V3 { x: self.x.clone() / s.clone(), y: self.y.clone() / s.clone(), z: self.z.clone() / s.clone() }
    }

    /// Sum.
    pub fn add(&self, o: &V3<T>) -> V3<T> {
        V3 { x: self.x.clone() + o.x.clone(), y: self.y.clone() + o.y.clone(), z: self.z.clone() + o.z.clone() }
    }

    /// Difference.
    pub fn sub(&self, o: &V3<T>) -> V3<T> {
        V3 { x: self.x.clone() - o.x.clone(), y: self.y.clone() - o.y.clone(), z: self.z.clone() - o.z.clone() }
    }
}

impl From<crate::geometry::Vec3> for V3<f64> {
    fn from(v: crate::geometry::Vec3) -> Self {
        V3 { x: v.0[0], y: v.0[1], z: v.0[2] }
    }
}

impl From<V3<f64>> for crate::geometry::Vec3 {
    fn from(v: V3<f64>) -> Self {
        crate::geometry::Vec3([v.x, v.y, v.z])
    }
}

/// A forward-mode dual number `v + d·ε` of one direction: a value and its derivative. The
/// native engine evaluates each term's one-dimensional factors with it to get f and f′ from the
/// same generic code that computes energies.
pub type Dual = Jet<1>;

impl Dual {
    /// The independent variable at `v` (unit derivative).
    #[must_use]
    pub const fn var(v: f64) -> Dual {
        Jet { v, d: [1.0] }
    }
}

/// A forward-mode dual number with `N` directions, `v + Σ d_k ε_k`: a value and its derivatives
/// along `N` directions at once. The MD forces of users' single-nucleotide terms come from one
/// evaluation with `Jet<6>` (3 translations, 3 rotations), where [`Dual`] would need six.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jet<const N: usize> {
    /// The value.
    pub v: f64,
    /// The derivatives.
    pub d: [f64; N],
}

impl<const N: usize> Jet<N> {
    /// A constant (zero derivatives).
    #[must_use]
    pub const fn cst(v: f64) -> Self {
        Jet { v, d: [0.0; N] }
    }

    /// The value `v` of a function whose derivative at `self` is `slope` (the chain rule).
    #[inline]
    fn chain(self, v: f64, slope: f64) -> Self {
        Jet { v, d: self.d.map(|x| x * slope) }
    }

    #[inline]
    fn zip(self, o: Self, f: impl Fn(f64, f64) -> f64) -> [f64; N] {
        std::array::from_fn(|k| f(self.d[k], o.d[k]))
    }
}

impl<const N: usize> Default for Jet<N> {
    fn default() -> Self {
        Jet::cst(0.0)
    }
}

impl<const N: usize> Add for Jet<N> {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        Jet { v: self.v + o.v, d: self.zip(o, |a, b| a + b) }
    }
}
impl<const N: usize> Sub for Jet<N> {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        Jet { v: self.v - o.v, d: self.zip(o, |a, b| a - b) }
    }
}
impl<const N: usize> Mul for Jet<N> {
    type Output = Self;
    // the product rule: (x·y)' = x'·y + x·y'
    #[allow(clippy::suspicious_arithmetic_impl)]
    #[inline]
    fn mul(self, o: Self) -> Self {
        let (x, y) = (self.v, o.v);
        Jet { v: x * y, d: self.zip(o, |a, b| a * y + x * b) }
    }
}
impl<const N: usize> Div for Jet<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.v;
        let q = self.v * inv;
        Jet { v: q, d: self.zip(o, |a, b| (a - q * b) * inv) }
    }
}
impl<const N: usize> Neg for Jet<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.chain(-self.v, -1.0)
    }
}
impl<const N: usize> Add<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn add(self, c: f64) -> Self {
        Jet { v: self.v + c, d: self.d }
    }
}
impl<const N: usize> Sub<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn sub(self, c: f64) -> Self {
        Jet { v: self.v - c, d: self.d }
    }
}
impl<const N: usize> Mul<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn mul(self, c: f64) -> Self {
        self.chain(self.v * c, c)
    }
}
impl<const N: usize> Div<f64> for Jet<N> {
    type Output = Self;
    #[inline]
    fn div(self, c: f64) -> Self {
        self.chain(self.v / c, 1.0 / c)
    }
}

impl<const N: usize> Real for Jet<N> {
    type Mask = bool;

    #[inline]
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    #[inline]
    fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v)
    }
    #[inline]
    fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        self.chain(s, 0.5 / s)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        let p = self.v.powi(n - 1);
        self.chain(p * self.v, f64::from(n) * p)
    }
    #[inline]
    fn recip(self) -> Self {
        self.chain(1.0 / self.v, -1.0 / (self.v * self.v))
    }
    #[inline]
    fn abs(self) -> Self {
        if self.v < 0.0 {
            -self
        } else {
            self
        }
    }
    #[inline]
    fn cos(self) -> Self {
        let (s, c) = self.v.sin_cos();
        self.chain(c, -s)
    }
    #[inline]
    fn acos_clamped(self) -> Self {
        // as for tensors: clamp the value, keep the derivative finite
        let bound = 1.0 - 1e-12;
        let c = self.v.clamp(-bound, bound);
        self.chain(c.acos(), -1.0 / (1.0 - c * c).sqrt())
    }
    #[inline]
    fn cst(&self, c: f64) -> Self {
        Jet::cst(c)
    }
    #[inline]
    fn lt(&self, rhs: &Self) -> bool {
        self.v < rhs.v
    }
    #[inline]
    fn le(&self, rhs: &Self) -> bool {
        self.v <= rhs.v
    }
    #[inline]
    fn and(a: &bool, b: &bool) -> bool {
        *a && *b
    }
    #[inline]
    fn any(m: &bool) -> bool {
        *m
    }
    #[inline]
    #[allow(clippy::float_cmp)]
    fn is_zero(&self) -> bool {
        self.v == 0.0 && self.d.iter().all(|x| *x == 0.0)
    }
    #[inline]
    fn choose(mask: &bool, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self {
        if *mask {
            yes()
        } else {
            no()
        }
    }
}

/// What an operation on a [`Tape`] computes. A constant operand sits in the node (`c`), the
/// variable one in `a`; comparisons are guards that replay checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    /// x + c (and x − c as x + (−c), the same number in IEEE arithmetic).
    AddC,
    MulC,
    DivC,
    /// c − x.
    CSub,
    /// c / x.
    CDiv,
    Neg,
    Exp,
    Ln,
    Sqrt,
    /// x^n, n in `c`.
    Powi,
    Recip,
    Abs,
    Cos,
    Acos,
    /// The guard x < y (a constant side in `c`, its index 0), its outcome in `flag`.
    Lt,
    /// The guard x ≤ y.
    Le,
}

/// The value of `op` at `x` (and `y`, `c`) and its partial derivatives by `x` and `y`: recording
/// and replay compute with this one function, so they give the same numbers, and the numbers of
/// `f64` arithmetic.
#[inline]
fn apply(op: Op, x: f64, y: f64, c: f64) -> (f64, f64, f64) {
    match op {
        Op::Add => (x + y, 1.0, 1.0),
        Op::Sub => (x - y, 1.0, -1.0),
        Op::Mul => (x * y, y, x),
        Op::Div => {
            let (q, inv) = (x / y, 1.0 / y);
            (q, inv, -q * inv)
        }
        Op::AddC => (x + c, 1.0, 0.0),
        Op::MulC => (x * c, c, 0.0),
        Op::DivC => (x / c, 1.0 / c, 0.0),
        Op::CSub => (c - x, -1.0, 0.0),
        Op::CDiv => {
            let (q, inv) = (c / x, 1.0 / x);
            (q, -q * inv, 0.0)
        }
        Op::Neg => (-x, -1.0, 0.0),
        Op::Exp => {
            let e = x.exp();
            (e, e, 0.0)
        }
        Op::Ln => (x.ln(), 1.0 / x, 0.0),
        Op::Sqrt => {
            let s = x.sqrt();
            (s, 0.5 / s, 0.0)
        }
        Op::Powi => {
            #[allow(clippy::cast_possible_truncation)]
            let n = c as i32;
            (x.powi(n), c * x.powi(n - 1), 0.0)
        }
        Op::Recip => (1.0 / x, -1.0 / (x * x), 0.0),
        Op::Abs => (x.abs(), if x < 0.0 { -1.0 } else { 1.0 }, 0.0),
        Op::Cos => {
            let (s, cos) = x.sin_cos();
            (cos, -s, 0.0)
        }
        Op::Acos => {
            // the value as f64 computes it; the derivative as Jet's (finite at ±1)
            let bound = 1.0 - 1e-12;
            let b = x.clamp(-bound, bound);
            (x.clamp(-1.0, 1.0).acos(), -1.0 / (1.0 - b * b).sqrt(), 0.0)
        }
        Op::Lt | Op::Le => (0.0, 0.0, 0.0),
    }
}

/// One operation recorded on a [`Tape`].
#[derive(Debug, Clone, Copy)]
struct Node {
    op: Op,
    /// A guard's outcome.
    flag: bool,
    a: u32,
    b: u32,
    c: f64,
}

#[derive(Debug, Default)]
struct Program {
    nodes: Vec<Node>,
    /// Values by index: 0 (the slot of constants), the inputs, the operations.
    val: Vec<f64>,
    /// Each operation's partial derivatives by its arguments.
    da: Vec<f64>,
    db: Vec<f64>,
    /// The output's index (0: a constant) and its value, once finished.
    out: Option<(u32, f64)>,
    /// Once finished: the inputs the function reads, which then sit in slots `1..=read.len()`
    /// (while recording, every input `k` sits in slot `k + 1`).
    read: Vec<u32>,
}

/// A function of `leaves` inputs recorded as it ran on reverse-mode variables ([`Var`]), to
/// take its derivatives by every input in one backward sweep ([`Tape::gradient`]) and to run
/// it again at other inputs without the code that recorded it ([`Tape::replay`]).
///
/// Replay is exact for code that is generic over [`Real`]: its only way to branch on values is
/// a comparison ([`Real::lt`], [`Real::le`]), which the tape records with its outcome, and
/// replay declines (returns `None`) where any comparison comes out otherwise — the caller then
/// records afresh. Everything else (constants, parameters, the operations' order) is the same
/// on every run. The MD forces of users' terms record a pair's energy once and replay it for
/// the other pairs, where [`Jet`] would carry 9 derivatives through every operation of every
/// pair.
#[derive(Debug)]
pub struct Tape {
    leaves: u32,
    // no `RefCell`: its flag costs a good part of an operation. A `Tape` is not `Sync` (so one
    // thread uses it), and no method holds a reference into it while it calls out.
    program: std::cell::UnsafeCell<Program>,
}

impl Tape {
    /// An empty tape for a function of `leaves` inputs.
    #[must_use]
    pub fn new(leaves: usize) -> Tape {
        let n = u32::try_from(leaves).expect("fewer than 2³² inputs");
        let program = Program { val: vec![0.0; leaves + 1], ..Program::default() };
        Tape { leaves: n, program: std::cell::UnsafeCell::new(program) }
    }

    /// The program, for the duration of one method that does not call out.
    #[allow(clippy::mut_from_ref)]
    #[inline]
    fn program(&self) -> &mut Program {
        // SAFETY: `Tape` is not `Sync`, and each method drops this reference before it returns
        // without calling code that could reach the tape again: it is the only one
        unsafe { &mut *self.program.get() }
    }

    /// Forgets the recorded function (keeps the memory), to record another.
    pub fn clear(&self) {
        let p = self.program();
        p.nodes.clear();
        p.val.clear();
        p.val.resize(self.leaves as usize + 1, 0.0);
        p.da.clear();
        p.db.clear();
        p.out = None;
        p.read.clear();
    }

    /// Input `k` (`k < leaves`) at the value `v`.
    #[must_use]
    pub fn input(&self, k: usize, v: f64) -> Var<'_> {
        assert!(k < self.leaves as usize, "input {k} of a tape of {} inputs", self.leaves);
        let p = self.program();
        assert!(p.out.is_none(), "the tape is finished: clear it to record again");
        p.val[k + 1] = v;
        Var { v, i: k as u32 + 1, tape: self }
    }

    /// A constant.
    #[must_use]
    pub fn cst(&self, v: f64) -> Var<'_> {
        Var { v, i: 0, tape: self }
    }

    #[inline]
    fn push(&self, op: Op, a: u32, b: u32, c: f64, (v, da, db): (f64, f64, f64)) -> Var<'_> {
        let p = self.program();
        let i = p.val.len() as u32;
        // replay and the backward sweep rely on it (a variable from before a `clear` fails it)
        assert!(a.max(b) < i && p.out.is_none(), "a variable from another recording of this tape");
        p.nodes.push(Node { op, flag: false, a, b, c });
        p.val.push(v);
        p.da.push(da);
        p.db.push(db);
        Var { v, i, tape: self }
    }

    #[inline]
    fn guard(&self, op: Op, x: &Var<'_>, y: &Var<'_>) -> bool {
        let outcome = if op == Op::Lt { x.v < y.v } else { x.v <= y.v };
        if x.i | y.i != 0 {
            // a constant side keeps its value in `c` (both constant: nothing to check)
            let c = if x.i == 0 { x.v } else { y.v };
            let p = self.program();
            assert!(
                x.i.max(y.i) < p.val.len() as u32 && p.out.is_none(),
                "a variable from another recording of this tape"
            );
            p.nodes.push(Node { op, flag: outcome, a: x.i, b: y.i, c });
            p.val.push(0.0);
            p.da.push(0.0);
            p.db.push(0.0);
        }
        outcome
    }

    /// Ends a recording: `out` is the function's value. The inputs the function does not read
    /// leave the tape (replay neither loads them nor sweeps them).
    pub fn finish(&self, out: &Var<'_>) {
        let p = self.program();
        assert!(p.out.is_none(), "the tape is finished: clear it to record again");
        let leaves = self.leaves as usize;
        // each input's new slot (0: not read)
        let mut slot = vec![0u32; leaves + 1];
        for i in p.nodes.iter().flat_map(|n| [n.a, n.b]).chain([out.i]) {
            if (1..=leaves).contains(&(i as usize)) {
                slot[i as usize] = 1;
            }
        }
        let mut next = 1;
        for (i, s) in slot.iter_mut().enumerate().skip(1) {
            if *s != 0 {
                *s = next;
                next += 1;
                p.read.push(i as u32 - 1);
            }
        }
        let shift = self.leaves + 1 - next;
        let map = |i: u32| match i {
            0 => 0,
            i if i <= self.leaves => slot[i as usize],
            i => i - shift,
        };
        for n in &mut p.nodes {
            (n.a, n.b) = (map(n.a), map(n.b));
        }
        let mut val = Vec::with_capacity(p.val.len());
        val.push(0.0);
        val.extend(p.read.iter().map(|&k| p.val[k as usize + 1]));
        val.extend_from_slice(&p.val[leaves + 1..]);
        p.val = val;
        p.out = Some((map(out.i), out.v));
    }

    /// The inputs the finished function reads, in increasing order (the others cannot change
    /// its value).
    #[must_use]
    pub fn reads(&self) -> Vec<usize> {
        self.program().read.iter().map(|&k| k as usize).collect()
    }

    /// Whether the recorded function is a constant (no input reaches its value).
    #[must_use]
    pub fn is_constant(&self) -> bool {
        self.program().out.is_none_or(|(i, _)| i == 0)
    }

    /// The recorded function's value at `inputs` (one per input), run from the tape: `None`
    /// where nothing is recorded or a comparison comes out otherwise than when it was recorded
    /// (then record afresh).
    pub fn replay(&self, inputs: &[f64]) -> Option<f64> {
        let p = self.program();
        let (out, constant) = p.out?;
        let first = p.read.len() + 1;
        for (x, &k) in p.val[1..first].iter_mut().zip(&p.read) {
            *x = inputs[k as usize];
        }
        let n = p.nodes.len();
        debug_assert!(p.val.len() == first + n && p.da.len() == n && p.db.len() == n);
        let (val, da, db) = (p.val.as_mut_ptr(), p.da.as_mut_ptr(), p.db.as_mut_ptr());
        for (k, node) in p.nodes.iter().enumerate() {
            // SAFETY: `val` holds `first + n` values and `da`, `db` `n` partials (kept so by
            // `push`, `guard` and `clear`), and an operation's arguments come before it
            let (x, y) = unsafe { (*val.add(node.a as usize), *val.add(node.b as usize)) };
            match node.op {
                Op::Lt | Op::Le => {
                    let x = if node.a == 0 { node.c } else { x };
                    let y = if node.b == 0 { node.c } else { y };
                    if (if node.op == Op::Lt { x < y } else { x <= y }) != node.flag {
                        return None;
                    }
                }
                op => {
                    let (v, a, b) = apply(op, x, y, node.c);
                    // SAFETY: as above (k < n)
                    unsafe {
                        *val.add(first + k) = v;
                        *da.add(k) = a;
                        *db.add(k) = b;
                    }
                }
            }
        }
        let val = &p.val;
        Some(if out == 0 { constant } else { val[out as usize] })
    }

    /// The derivatives of the function last recorded (and finished) or replayed by its inputs
    /// that it reads ([`Tape::reads`]), in `grad` (one entry per input: the others are left as
    /// they are; all read ones are zero where the function is a constant). `adjoint`: scratch
    /// space.
    pub fn gradient(&self, adjoint: &mut Vec<f64>, grad: &mut [f64]) {
        let p = self.program();
        let first = p.read.len() + 1;
        let n = first + p.nodes.len();
        if adjoint.len() < n {
            adjoint.resize(n, 0.0);
        }
        adjoint[..n].fill(0.0);
        let Some((out, _)) = p.out.filter(|&(i, _)| i != 0) else {
            for &k in &p.read {
                grad[k as usize] = 0.0;
            }
            return;
        };
        adjoint[out as usize] = 1.0;
        let last = (out as usize + 1).saturating_sub(first);
        let (adj, nodes, da, db) = (&mut adjoint[..n], &p.nodes[..last], &p.da[..last], &p.db[..last]);
        for k in (0..last).rev() {
            let g = adj[first + k];
            if g != 0.0 {
                let node = &nodes[k];
                // SAFETY: an operation's arguments come before it (`a`, `b` < first + k < n)
                unsafe {
                    *adj.get_unchecked_mut(node.a as usize) += da[k] * g;
                    *adj.get_unchecked_mut(node.b as usize) += db[k] * g;
                }
            }
        }
        for (&k, g) in p.read.iter().zip(&adj[1..first]) {
            grad[k as usize] = *g;
        }
    }
}

/// A reverse-mode variable: a value and its place on a [`Tape`]. Its arithmetic computes the
/// values exactly as `f64` does (the same operations in the same order) and records each
/// operation on the tape.
#[derive(Debug, Clone, Copy)]
pub struct Var<'t> {
    /// The value.
    pub v: f64,
    i: u32,
    tape: &'t Tape,
}

impl<'t> Var<'t> {
    /// `op` of `self` (and the constant `c`).
    #[inline]
    fn un(self, op: Op, c: f64) -> Self {
        let r = apply(op, self.v, 0.0, c);
        if self.i == 0 {
            Var { v: r.0, i: 0, tape: self.tape }
        } else {
            self.tape.push(op, self.i, 0, c, r)
        }
    }

    /// `op` of `self` and `o`; `with_c`: the same as a constant operand's operation (the
    /// variable first), `c_with`: the variable being `o`.
    #[inline]
    fn bin(self, o: Self, op: Op, with_c: (Op, f64), c_with: (Op, f64)) -> Self {
        match (self.i, o.i) {
            (0, 0) => Var { v: apply(op, self.v, o.v, 0.0).0, i: 0, tape: self.tape },
            (_, 0) => self.un(with_c.0, with_c.1),
            (0, _) => o.un(c_with.0, c_with.1),
            (a, b) => self.tape.push(op, a, b, 0.0, apply(op, self.v, o.v, 0.0)),
        }
    }

    /// Whether this is a constant (no input reaches it).
    #[must_use]
    pub fn is_constant(&self) -> bool {
        self.i == 0
    }
}

impl Add for Var<'_> {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        self.bin(o, Op::Add, (Op::AddC, o.v), (Op::AddC, self.v))
    }
}
impl Sub for Var<'_> {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        self.bin(o, Op::Sub, (Op::AddC, -o.v), (Op::CSub, self.v))
    }
}
impl Mul for Var<'_> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        self.bin(o, Op::Mul, (Op::MulC, o.v), (Op::MulC, self.v))
    }
}
impl Div for Var<'_> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        self.bin(o, Op::Div, (Op::DivC, o.v), (Op::CDiv, self.v))
    }
}
impl Neg for Var<'_> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.un(Op::Neg, 0.0)
    }
}
impl Add<f64> for Var<'_> {
    type Output = Self;
    #[inline]
    fn add(self, c: f64) -> Self {
        self.un(Op::AddC, c)
    }
}
impl Sub<f64> for Var<'_> {
    type Output = Self;
    #[inline]
    fn sub(self, c: f64) -> Self {
        self.un(Op::AddC, -c)
    }
}
impl Mul<f64> for Var<'_> {
    type Output = Self;
    #[inline]
    fn mul(self, c: f64) -> Self {
        self.un(Op::MulC, c)
    }
}
impl Div<f64> for Var<'_> {
    type Output = Self;
    #[inline]
    fn div(self, c: f64) -> Self {
        self.un(Op::DivC, c)
    }
}

impl Real for Var<'_> {
    type Mask = bool;

    #[inline]
    fn exp(self) -> Self {
        self.un(Op::Exp, 0.0)
    }
    #[inline]
    fn ln(self) -> Self {
        self.un(Op::Ln, 0.0)
    }
    #[inline]
    fn sqrt(self) -> Self {
        self.un(Op::Sqrt, 0.0)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        self.un(Op::Powi, f64::from(n))
    }
    #[inline]
    fn recip(self) -> Self {
        self.un(Op::Recip, 0.0)
    }
    #[inline]
    fn abs(self) -> Self {
        self.un(Op::Abs, 0.0)
    }
    #[inline]
    fn cos(self) -> Self {
        self.un(Op::Cos, 0.0)
    }
    #[inline]
    fn acos_clamped(self) -> Self {
        self.un(Op::Acos, 0.0)
    }
    #[inline]
    fn cst(&self, c: f64) -> Self {
        self.tape.cst(c)
    }
    #[inline]
    fn lt(&self, rhs: &Self) -> bool {
        self.tape.guard(Op::Lt, self, rhs)
    }
    #[inline]
    fn le(&self, rhs: &Self) -> bool {
        self.tape.guard(Op::Le, self, rhs)
    }
    #[inline]
    fn and(a: &bool, b: &bool) -> bool {
        *a && *b
    }
    #[inline]
    fn any(m: &bool) -> bool {
        *m
    }
    /// Only a constant zero: a variable at zero may still have a derivative.
    #[inline]
    #[allow(clippy::float_cmp)]
    fn is_zero(&self) -> bool {
        self.v == 0.0 && self.i == 0
    }
    #[inline]
    fn choose(mask: &bool, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self {
        if *mask {
            yes()
        } else {
            no()
        }
    }
}

/// How many input sets [`Tape::replay_lanes`] runs at once (16: the per-operation dispatch
/// spread over more pairs; 8 cost 1 % more instructions in `benches/custom_term.rs`).
pub const LANES: usize = 16;

/// Scratch space of [`Tape::replay_lanes`] and [`Tape::gradient_lanes`]: values, partial
/// derivatives and adjoints, one entry per lane.
#[derive(Debug, Default)]
pub struct Lanes {
    val: Vec<[f64; LANES]>,
    da: Vec<[f64; LANES]>,
    db: Vec<[f64; LANES]>,
    adj: Vec<[f64; LANES]>,
}

/// `op` on every lane (a loop the compiler unrolls and vectorises for each operation).
#[inline]
#[allow(clippy::too_many_arguments)]
fn run_lanes(
    op: Op,
    x: &[f64; LANES],
    y: &[f64; LANES],
    c: f64,
    v: &mut [f64; LANES],
    da: &mut [f64; LANES],
    db: &mut [f64; LANES],
) {
    macro_rules! lanes {
        ($op:expr) => {
            for j in 0..LANES {
                (v[j], da[j], db[j]) = apply($op, x[j], y[j], c);
            }
        };
    }
    match op {
        Op::Add => lanes!(Op::Add),
        Op::Sub => lanes!(Op::Sub),
        Op::Mul => lanes!(Op::Mul),
        Op::Div => lanes!(Op::Div),
        Op::AddC => lanes!(Op::AddC),
        Op::MulC => lanes!(Op::MulC),
        Op::DivC => lanes!(Op::DivC),
        Op::CSub => lanes!(Op::CSub),
        Op::CDiv => lanes!(Op::CDiv),
        Op::Neg => lanes!(Op::Neg),
        Op::Exp => lanes!(Op::Exp),
        Op::Ln => lanes!(Op::Ln),
        Op::Sqrt => lanes!(Op::Sqrt),
        Op::Powi => lanes!(Op::Powi),
        Op::Recip => lanes!(Op::Recip),
        Op::Abs => lanes!(Op::Abs),
        Op::Cos => lanes!(Op::Cos),
        Op::Acos => lanes!(Op::Acos),
        Op::Lt | Op::Le => {}
    }
}

impl Tape {
    /// [`Tape::replay`] at [`LANES`] input sets at once (`inputs[k][j]`: input `k` of set `j`),
    /// each operation run on every lane before the next: the values per lane, and whether each
    /// lane's comparisons came out as recorded (where not, or where nothing is recorded, its
    /// value is junk: run that set on its own). A lane's numbers are those [`Tape::replay`]
    /// computes for its set.
    pub fn replay_lanes(&self, lanes: &mut Lanes, inputs: &[[f64; LANES]]) -> ([f64; LANES], [bool; LANES]) {
        let p = self.program();
        let Some((out, constant)) = p.out else { return ([0.0; LANES], [false; LANES]) };
        let first = p.read.len() + 1;
        let n = p.nodes.len();
        lanes.val.resize(first + n, [0.0; LANES]);
        lanes.da.resize(n, [0.0; LANES]);
        lanes.db.resize(n, [0.0; LANES]);
        lanes.val[0] = [0.0; LANES];
        for (x, &k) in lanes.val[1..first].iter_mut().zip(&p.read) {
            *x = inputs[k as usize];
        }
        let mut ok = [true; LANES];
        for (k, node) in p.nodes.iter().enumerate() {
            let (done, rest) = lanes.val.split_at_mut(first + k);
            let (x, y) = (&done[node.a as usize], &done[node.b as usize]);
            match node.op {
                Op::Lt | Op::Le => {
                    for j in 0..LANES {
                        let xj = if node.a == 0 { node.c } else { x[j] };
                        let yj = if node.b == 0 { node.c } else { y[j] };
                        ok[j] &= (if node.op == Op::Lt { xj < yj } else { xj <= yj }) == node.flag;
                    }
                }
                op => run_lanes(op, x, y, node.c, &mut rest[0], &mut lanes.da[k], &mut lanes.db[k]),
            }
        }
        let value = if out == 0 { [constant; LANES] } else { lanes.val[out as usize] };
        (value, ok)
    }

    /// [`Tape::gradient`] of every lane of the last [`Tape::replay_lanes`]: in `grad[k][j]` the
    /// derivative of set `j`'s value by input `k`, for the inputs the function reads.
    pub fn gradient_lanes(&self, lanes: &mut Lanes, grad: &mut [[f64; LANES]]) {
        let p = self.program();
        let first = p.read.len() + 1;
        let n = first + p.nodes.len();
        lanes.adj.clear();
        lanes.adj.resize(n, [0.0; LANES]);
        let Some((out, _)) = p.out.filter(|&(i, _)| i != 0) else {
            for &k in &p.read {
                grad[k as usize] = [0.0; LANES];
            }
            return;
        };
        lanes.adj[out as usize] = [1.0; LANES];
        let last = (out as usize + 1).saturating_sub(first);
        for k in (0..last).rev() {
            let node = p.nodes[k];
            let g = lanes.adj[first + k];
            // as the one-lane sweep: a node that does not reach the output adds nothing (not
            // even 0 · ∞); a mask of bits rather than a branch, so that the lanes vectorise
            let keep: [u64; LANES] = std::array::from_fn(|j| if g[j] == 0.0 { 0 } else { u64::MAX });
            let term = |d: &[f64; LANES]| -> [f64; LANES] {
                std::array::from_fn(|j| f64::from_bits((d[j] * g[j]).to_bits() & keep[j]))
            };
            let (ta, tb) = (term(&lanes.da[k]), term(&lanes.db[k]));
            let a = &mut lanes.adj[node.a as usize];
            for j in 0..LANES {
                a[j] += ta[j];
            }
            let b = &mut lanes.adj[node.b as usize];
            for j in 0..LANES {
                b[j] += tb[j];
            }
        }
        for (&k, g) in p.read.iter().zip(&lanes.adj[1..first]) {
            grad[k as usize] = *g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Jet, Lanes, Real, Tape, LANES};

    /// A function with a branch (a comparison), every kind of constant operand and the
    /// transcendental operations.
    fn f<T: Real>(x: &[T; 3]) -> T {
        let [a, b, c] = x.clone();
        let r = (a.clone() * a.clone() + b.clone() * b.clone() + 0.5).sqrt();
        let branch = T::choose(&r.lt(&r.cst(1.2)), || (r.clone() - 1.0).powi(3), || r.cst(2.0) / r.clone());
        let angle = (c.clone() / (r.clone() + 1.0)).acos_clamped();
        branch * angle.cos() + (c.clone() * -2.0).exp() * (b.abs() + 1.0).ln() - r.cst(3.0) - c.recip() * 0.1
    }

    /// Replay (one set or lanes) gives the recording's numbers, declines where the branch
    /// differs; the gradient is the dual numbers' to rounding.
    #[test]
    fn a_replayed_tape_is_the_recording_and_its_gradient_that_of_dual_numbers() {
        let sets: Vec<[f64; 3]> = (0..2 * LANES)
            .map(|k| {
                let t = k as f64;
                [0.3 + 0.05 * (1.3 * t).sin(), -0.4 + 0.05 * t.cos(), 0.7 + 0.01 * t]
            })
            .collect();
        let tape = Tape::new(3);
        let record = |x: &[f64; 3]| {
            tape.clear();
            let e = f(&[tape.input(0, x[0]), tape.input(1, x[1]), tape.input(2, x[2])]);
            tape.finish(&e);
            e.v
        };
        let jet = |x: &[f64; 3]| {
            let v = |k: usize| {
                let mut j = Jet::<3>::cst(x[k]);
                j.d[k] = 1.0;
                j
            };
            f(&[v(0), v(1), v(2)])
        };
        let (mut adjoint, mut grad) = (Vec::new(), [0.0; 3]);
        let first = record(&sets[0]);
        assert_eq!(first.to_bits(), f(&sets[0]).to_bits());
        let mut lanes = Lanes::default();
        let inputs: Vec<[f64; LANES]> = (0..3).map(|k| std::array::from_fn(|j| sets[j][k])).collect();
        let (values, ok) = tape.replay_lanes(&mut lanes, &inputs);
        let mut grads = vec![[0.0; LANES]; 3];
        tape.gradient_lanes(&mut lanes, &mut grads);
        for (j, x) in sets.iter().take(LANES).enumerate() {
            assert!(ok[j], "set {j}");
            assert_eq!(values[j].to_bits(), f(x).to_bits(), "set {j}");
            let e = tape.replay(x).unwrap();
            assert_eq!(e.to_bits(), f(x).to_bits());
            tape.gradient(&mut adjoint, &mut grad);
            let reference = jet(x);
            for k in 0..3 {
                assert_eq!(grad[k].to_bits(), grads[k][j].to_bits(), "set {j}, input {k}");
                assert!((grad[k] - reference.d[k]).abs() < 1e-12 * reference.d[k].abs().max(1.0), "set {j}, input {k}");
            }
        }
        // the other branch: replay declines, a fresh recording serves
        let far = [1.5, 0.9, 0.6];
        assert!(tape.replay(&far).is_none());
        assert_eq!(record(&far).to_bits(), f(&far).to_bits());
        assert_eq!(tape.replay(&far).map(f64::to_bits), Some(f(&far).to_bits()));
    }
}
