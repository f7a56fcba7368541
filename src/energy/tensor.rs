//! The energy model on Burn tensors: the same generic physics as the native engine, evaluated on
//! every active pair of a batch of frames at once, for gradients with respect to any named
//! parameter (and to positions and orientations).
//!
//! A batch is laid out flat: nucleotide `i` of frame `f` is row `f·N + i`. The native engine first
//! finds, per frame and term, the pairs whose energy is non-zero at the current parameters (the
//! functions are C¹ and vanish outside their support, so the other pairs contribute neither energy
//! nor gradient); the tensor graph is then built over those pairs only: `[active pair-frames]` per
//! term, scatter-added into `[frames]`.
//!
//! `map` semantics (mythos' `map_batch_size`, `map_checkpoint`): with checkpointing the vector–
//! Jacobian product Σ_t c_t ∂E_t/∂θ is accumulated batch by batch, each batch's graph built,
//! back-propagated and dropped, so peak memory grows with the batch, not with the trajectory.
//! Without it every batch's graph is kept until one backward pass. Both give identical gradients.

use super::custom::NucleotideFrame;
use super::functions::ParamSource;
use super::model::{EnergyModel, Frame, TermId, Terms};
use crate::backend;
use crate::error::{Error, Result};
use crate::geometry::Vec3;
use crate::io::Configuration;
use crate::math::{Real, V3};
use crate::params::strength::Strengths;
use crate::params::ParamGrads;
use burn::module::{Module, Param};
use burn::tensor::{Bool, Device, Gradients, IndexingUpdateOp, Int, Tensor, TensorData};
use std::collections::BTreeMap;

/// A flat `f64` tensor, `[len]`.
pub type T1 = Tensor<1>;

impl Real for T1 {
    type Mask = Tensor<1, Bool>;

    fn exp(self) -> Self {
        Tensor::exp(self)
    }
    fn ln(self) -> Self {
        self.log()
    }
    fn sqrt(self) -> Self {
        Tensor::sqrt(self)
    }
    fn powi(self, n: i32) -> Self {
        match n {
            0 => self.ones_like(),
            1 => self,
            _ if n < 0 => Real::recip(Real::powi(self, -n)),
            _ => {
                let half = Real::powi(self.clone(), n / 2);
                let sq = half.clone() * half;
                if n % 2 == 1 {
                    sq * self
                } else {
                    sq
                }
            }
        }
    }
    fn recip(self) -> Self {
        Tensor::recip(self)
    }
    fn abs(self) -> Self {
        Tensor::abs(self)
    }
    fn cos(self) -> Self {
        Tensor::cos(self)
    }
    fn acos_clamped(self) -> Self {
        // value clamped to ±(1 − 1e-12), gradient passed straight through: f4′(θ)/sin θ then tends
        // to its finite limit instead of 0·∞
        let bound = 1.0 - 1e-12;
        let clamped = self.clone().clamp(-bound, bound);
        let straight = self.clone() - (self - clamped).detach();
        straight.acos()
    }
    fn cst(&self, c: f64) -> Self {
        self.full_like(c)
    }
    fn lt(&self, rhs: &Self) -> Self::Mask {
        self.clone().lower(rhs.clone())
    }
    fn le(&self, rhs: &Self) -> Self::Mask {
        self.clone().lower_equal(rhs.clone())
    }
    // a `[1]` operand (a constant's comparison, a parameter) broadcasts against `[pairs]` in
    // Burn's own `bool_and` and `mask_where`
    fn and(a: &Self::Mask, b: &Self::Mask) -> Self::Mask {
        a.clone().bool_and(b.clone())
    }
    fn any(_: &Self::Mask) -> bool {
        true
    }
    fn is_zero(&self) -> bool {
        false
    }
    fn choose(mask: &Self::Mask, yes: impl FnOnce() -> Self, no: impl FnOnce() -> Self) -> Self {
        no().mask_where(mask.clone(), yes())
    }
}

/// The optimised parameters of an energy model as a Burn module: one trainable vector
/// `[selected]` (in the order of `names`). [`EnergyModel::forward`] evaluates energies from it, so
/// it can be trained, saved and loaded with Burn's own tools.
#[derive(Module, Debug)]
pub struct EnergyParams {
    /// Values of the selected parameters, `[selected]`.
    pub values: Param<T1>,
    /// Their names.
    #[module(skip)]
    pub names: Vec<String>,
}

impl EnergyParams {
    /// The selected parameters of `model`, as trainable values on `device` (an autodiff device
    /// for gradients).
    pub fn new(model: &EnergyModel, selected: &[String], device: &Device) -> Result<EnergyParams> {
        EnergyParams::from_set(model.params(), selected, device)
    }

    /// The `selected` parameters of `params`, as trainable values on `device`.
    pub fn from_set(params: &crate::params::ParamSet, selected: &[String], device: &Device) -> Result<EnergyParams> {
        // one parameter under two names (`k` and `Term.k`) would split its gradient
        for (i, a) in selected.iter().enumerate() {
            if let Some(b) = selected[..i].iter().find(|b| params.canonical(b).ok() == params.canonical(a).ok()) {
                return Err(Error::invalid(
                    "selected parameters",
                    format!("{b}, {a}"),
                    "both name the same parameter: select it once",
                ));
            }
        }
        let values = selected.iter().map(|n| params.get(n)).collect::<Result<Vec<f64>>>()?;
        let n = values.len();
        let t = T1::from_data(TensorData::new(values, [n]), device);
        Ok(EnergyParams { values: Param::from_tensor(t), names: selected.to_vec() })
    }

    /// The gradient of each selected parameter.
    #[must_use]
    pub fn grads(&self, grads: &Gradients) -> ParamGrads {
        let g = self.values.grad(grads).map_or_else(|| vec![0.0; self.names.len()], host);
        ParamGrads(self.names.iter().cloned().zip(g).collect())
    }
}

/// Every parameter of a model as a `[1]` tensor: slices of the trainable vector for the
/// selected names, constants for the others.
#[derive(Debug, Clone)]
pub struct TensorParams {
    values: BTreeMap<String, T1>,
}

impl TensorParams {
    /// Every parameter of `params` as a constant `[1]` tensor on `device`.
    #[must_use]
    pub fn constants(params: &crate::params::ParamSet, device: &Device) -> TensorParams {
        let mut values = BTreeMap::new();
        for (name, v) in params.iter() {
            values.insert(name.to_string(), T1::from_data(TensorData::new(vec![v], [1]), device));
        }
        TensorParams { values }
    }

    /// From a parameter set and its trainable parameters: slices of the trainable vector for
    /// the trainable names, constants for the others.
    #[must_use]
    pub fn with_trainable(params: &crate::params::ParamSet, trainable: &EnergyParams, device: &Device) -> TensorParams {
        let mut out = TensorParams::constants(params, device);
        out.bind(params, trainable);
        out
    }

    fn new(model: &EnergyModel, trainable: &EnergyParams, device: &Device) -> TensorParams {
        TensorParams::with_trainable(model.params(), trainable, device)
    }

    fn bind(&mut self, params: &crate::params::ParamSet, trainable: &EnergyParams) {
        let values = &mut self.values;
        if !trainable.names.is_empty() {
            let all = trainable.values.val();
            for (k, name) in trainable.names.iter().enumerate() {
                // a qualified name (`Stacking.eps_stack_base`) trains the parameter it stands for;
                // its gradient keeps the name it was asked for
                let stored = params.canonical(name).map_or_else(|_| name.clone(), str::to_string);
                values.insert(stored, all.clone().slice(k..k + 1));
            }
        }
    }
}

impl ParamSource<T1> for TensorParams {
    fn p(&self, name: &str) -> T1 {
        match self.values.get(name) {
            Some(t) => t.clone(),
            // the same generic code read every name from the model's set when it was built
            // (`EnergyModel::new` refuses a set without one)
            None => panic!("invariant: parameter '{name}' exists in every parameter set of this model"),
        }
    }
}

/// Positions and orientations of a batch as tensors (`[frames · nucleotides]` per component).
struct Nucleotides {
    r: V3<T1>,
    axes: [V3<T1>; 3],
}

/// The values of a tensor on the host.
pub(crate) fn host(t: T1) -> Vec<f64> {
    t.into_data().try_to_vec::<f64>().expect("invariant: oxgrad's devices compute in f64")
}

fn column(values: impl Iterator<Item = f64>, len: usize, device: &Device) -> T1 {
    T1::from_data(TensorData::new(values.collect::<Vec<f64>>(), [len]), device)
}

fn vectors(v: &[Vec3], device: &Device) -> V3<T1> {
    let n = v.len();
    V3::new(
        column(v.iter().map(|x| x[0]), n, device),
        column(v.iter().map(|x| x[1]), n, device),
        column(v.iter().map(|x| x[2]), n, device),
    )
}

fn gather(v: &V3<T1>, idx: &Tensor<1, Int>) -> V3<T1> {
    V3::new(v.x.clone().select(0, idx.clone()), v.y.clone().select(0, idx.clone()), v.z.clone().select(0, idx.clone()))
}

/// The active pairs of one term over a batch.
#[derive(Default)]
struct TermPairs {
    p: Vec<i64>,
    q: Vec<i64>,
    frame: Vec<i64>,
    strength: Vec<i64>,
    shift: Vec<Vec3>,
}

impl EnergyModel {
    /// Per-frame energies of a batch as a tensor graph `[frames]` (weighted sum of the terms).
    fn batch_energies(&self, frames: &[Frame], params: &TensorParams, nts: &Nucleotides, device: &Device) -> T1 {
        let n = self.len();
        let mut lists: Vec<TermPairs> = (0..8).map(|_| TermPairs::default()).collect();
        for (f, frame) in frames.iter().enumerate() {
            self.visit_pairs_unchecked(frame, |a| {
                let l = &mut lists[a.term as usize];
                let raw = frame.r[a.q] - frame.r[a.p];
                l.p.push((f * n + a.p) as i64);
                l.q.push((f * n + a.q) as i64);
                l.frame.push(f as i64);
                l.strength.push(a.strength as i64);
                l.shift.push(frame.bx.min_image(raw) - raw);
            });
        }
        let terms = Terms::new(params, self.params().model());
        let (stack_table, hb_table) = self.tensor_strengths(params);
        let chi_table = column([1.0, 0.5, 0.25].into_iter(), 3, device);
        let weights = self.term_weights();
        let mut total = T1::zeros([frames.len()], device);
        for term in TermId::ALL {
            let l = &lists[term as usize];
            // a term of weight 0 has no active pairs (`visit_pairs_unchecked` skips it)
            if l.p.is_empty() {
                continue;
            }
            let len = l.p.len();
            let int = |v: &Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v.clone(), [len]), device);
            let (ip, iq, strength) = (int(&l.p), int(&l.q), int(&l.strength));
            let rp = gather(&nts.r, &ip);
            let rq = gather(&nts.r, &iq);
            let d = rq.sub(&rp).add(&vectors(&l.shift, device));
            let pair = terms.geo.pair(
                d,
                [gather(&nts.axes[0], &ip), gather(&nts.axes[1], &ip), gather(&nts.axes[2], &ip)],
                [gather(&nts.axes[0], &iq), gather(&nts.axes[1], &iq), gather(&nts.axes[2], &iq)],
            );
            let eps = match term {
                TermId::Stacking => stack_table.clone().select(0, strength),
                TermId::HydrogenBonding => hb_table.clone().select(0, strength),
                TermId::Debye => chi_table.clone().select(0, strength),
                _ => T1::zeros([len], device),
            };
            let e = terms.pair_energy(term, &pair, &eps) * weights[term as usize];
            total = total.select_assign(0, int(&l.frame), e, IndexingUpdateOp::Add);
        }
        self.add_custom_energies(total, frames, params, &terms, nts, device)
    }

    /// Adds the weighted energies of the user's terms to `total` `[frames]`.
    fn add_custom_energies(
        &self,
        mut total: T1,
        frames: &[Frame],
        params: &TensorParams,
        terms: &Terms<T1>,
        nts: &Nucleotides,
        device: &Device,
    ) -> T1 {
        let n = self.len();
        let int = |v: Vec<i64>| {
            let len = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [len]), device)
        };
        // a term whose energy is a constant may come back as [1]: one value per element
        let per_element = |e: T1, len: usize| if e.dims()[0] == len { e } else { e.expand([len]) };
        for t in self.attached().iter().filter(|t| t.weight != 0.0) {
            let values = t.tensor_params(params);
            let mut l = TermPairs::default();
            let mut scales = Vec::new();
            let mut all = Vec::new();
            for (f, frame) in frames.iter().enumerate() {
                let candidates = match t.range() {
                    r if r > 0.0 => super::neighbors::pairs_within(&frame.r, &frame.bx, r),
                    _ => Vec::new(),
                };
                for tp in t.pairs(frame, self.bonded_pairs(), self.topology_nucleotides(), &candidates) {
                    let (p, q) = (tp.p, tp.q);
                    scales.push(tp.scale);
                    all.push(tp);
                    let raw = frame.r[q] - frame.r[p];
                    l.p.push((f * n + p) as i64);
                    l.q.push((f * n + q) as i64);
                    l.frame.push(f as i64);
                    l.shift.push(frame.bx.min_image(raw) - raw);
                }
            }
            if !l.p.is_empty() {
                let len = l.p.len();
                let (ip, iq) = (int(l.p), int(l.q));
                let d = gather(&nts.r, &iq).sub(&gather(&nts.r, &ip)).add(&vectors(&l.shift, device));
                let frame_of = |i: &Tensor<1, Int>| [0, 1, 2].map(|k| gather(&nts.axes[k], i));
                let pair = t.pair(&terms.geo, d, frame_of(&ip), frame_of(&iq));
                let mut e = per_element(t.pair_tensor(&values, &pair), len)
                    * column(scales.into_iter(), len, device)
                    * t.weight;
                if let Some((table, index)) = t.strength_table(&values, &all) {
                    e = e * table.select(0, int(index));
                }
                total = total.select_assign(0, int(l.frame), e, IndexingUpdateOp::Add);
            }
            let list = t.nucleotides();
            if !list.is_empty() {
                let idx: Vec<i64> =
                    (0..frames.len()).flat_map(|f| list.iter().map(move |&i| (f * n + i) as i64)).collect();
                let owner: Vec<i64> = (0..frames.len()).flat_map(|f| list.iter().map(move |_| f as i64)).collect();
                let len = idx.len();
                let i = int(idx);
                let a = [0, 1, 2].map(|k| gather(&nts.axes[k], &i));
                let sites = t.nucleotide_sites(&terms.geo, &a);
                let nt = NucleotideFrame { r: gather(&nts.r, &i), a, sites };
                let e = per_element(t.nucleotide_tensor(&values, &nt), len) * t.weight;
                total = total.select_assign(0, int(owner), e, IndexingUpdateOp::Add);
            }
        }
        total
    }

    /// Strength tables as tensors (stacking `[16]`, H-bonding `[2]`), differentiable in the
    /// parameters they derive from.
    fn tensor_strengths(&self, params: &TensorParams) -> (T1, T1) {
        match Strengths::new(self.params().is_sequence_dependent(), |n| params.p(n)) {
            Strengths::Averaged { stack, hb } => (stack.expand([16]), hb.expand([2])),
            Strengths::Sequence { stack, hb } => (T1::cat(stack, 0), T1::cat(hb.to_vec(), 0)),
        }
    }

    fn nucleotides(frames: &[Frame], device: &Device, track: bool) -> Nucleotides {
        let flat = |get: &dyn Fn(&Frame) -> Vec<Vec3>| frames.iter().flat_map(get).collect::<Vec<Vec3>>();
        let leaf =
            |v: V3<T1>| if track { V3::new(v.x.require_grad(), v.y.require_grad(), v.z.require_grad()) } else { v };
        Nucleotides {
            r: leaf(vectors(&flat(&|f| f.r.clone()), device)),
            axes: [0, 1, 2].map(|k| leaf(vectors(&flat(&|f| f.axes.iter().map(|a| a[k]).collect()), device))),
        }
    }

    /// Σ_t c_t ∂E_t/∂θ for the `selected` parameters (a vector–Jacobian product), together with
    /// the energies `[frames]`. Batches of [`Self::map_batch_size`] frames; with
    /// [`Self::map_checkpoint`] each batch's graph is back-propagated and dropped before the next.
    pub fn vjp(
        &self,
        frames: &[Configuration],
        cotangent: &[f64],
        selected: &[String],
    ) -> Result<(Vec<f64>, ParamGrads)> {
        self.check_frames(frames)?;
        if cotangent.len() != frames.len() {
            return Err(Error::mismatch(
                "cotangent and frames",
                format!("{} weights for {} frames: give one weight per frame", cotangent.len(), frames.len()),
            ));
        }
        if self.map_batch_size == 0 {
            return Err(Error::invalid("map_batch_size", 0, "at least 1 frame per batch"));
        }
        // nothing to differentiate: evaluate without recording a graph
        let device = if selected.is_empty() { backend::cpu() } else { backend::cpu_autodiff() };
        let trainable = EnergyParams::new(self, selected, &device)?;
        let mut energies = Vec::with_capacity(frames.len());
        let mut grads = ParamGrads::zeros(selected);
        let mut pending: Option<T1> = None;
        for (chunk, weights) in frames.chunks(self.map_batch_size).zip(cotangent.chunks(self.map_batch_size)) {
            let e = self.forward_unchecked(&trainable, chunk, &device);
            energies.extend(host(e.clone()));
            if selected.is_empty() {
                continue;
            }
            let loss = (e * column(weights.iter().copied(), weights.len(), &device)).sum();
            // a batch whose energy does not depend on the selected parameters (two strands too
            // far apart for any hydrogen bond, say) contributes nothing and records no graph
            if !loss.is_tracked() {
                continue;
            }
            if self.map_checkpoint {
                grads.add_assign(&trainable.grads(&loss.backward()));
            } else {
                pending = Some(match pending {
                    Some(acc) => acc + loss,
                    None => loss,
                });
            }
        }
        if let Some(loss) = pending {
            grads = trainable.grads(&loss.backward());
        }
        Ok((energies, grads))
    }

    /// Energies `[frames]` of a batch as a tensor graph on `device`, with the trainable values
    /// of `params` (a Burn module's forward pass). Frames that do not match the topology are an
    /// error.
    pub fn forward(&self, params: &EnergyParams, frames: &[Configuration], device: &Device) -> Result<T1> {
        self.check_frames(frames)?;
        Ok(self.forward_unchecked(params, frames, device))
    }

    fn forward_unchecked(&self, params: &EnergyParams, frames: &[Configuration], device: &Device) -> T1 {
        let prepared: Vec<Frame> = frames.iter().map(Frame::new).collect();
        let nts = Self::nucleotides(&prepared, device, false);
        self.batch_energies(&prepared, &TensorParams::new(self, params, device), &nts, device)
    }

    /// Forces −∂E/∂r and torques −Σ_k a_k × ∂E/∂a_k (lab frame, about each centre) of one
    /// configuration, by automatic differentiation of the tensor model.
    pub fn forces_torques_autodiff(&self, c: &Configuration) -> Result<(Vec<Vec3>, Vec<Vec3>)> {
        self.check_frames(std::slice::from_ref(c))?;
        let device = backend::cpu_autodiff();
        let params = TensorParams::new(self, &EnergyParams::new(self, &[], &device)?, &device);
        let frame = [Frame::new(c)];
        let nts = Self::nucleotides(&frame, &device, true);
        let grads = self.batch_energies(&frame, &params, &nts, &device).sum().backward();
        let read = |v: &V3<T1>| -> Vec<Vec3> {
            let comp = |t: &T1| t.grad(&grads).map_or_else(|| vec![0.0; self.len()], host);
            let (x, y, z) = (comp(&v.x), comp(&v.y), comp(&v.z));
            (0..self.len()).map(|i| Vec3::new(x[i], y[i], z[i])).collect()
        };
        let forces = read(&nts.r).into_iter().map(|g| -g).collect();
        let ga: Vec<Vec<Vec3>> = nts.axes.iter().map(read).collect();
        let torques = (0..self.len())
            .map(|i| -(0..3).fold(Vec3::ZERO, |acc, k| acc + frame[0].axes[i][k].cross(ga[k][i])))
            .collect();
        Ok((forces, torques))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch whose energy does not depend on a selected parameter (two strands too far apart
    /// for a hydrogen bond) contributes a zero gradient instead of stopping the product.
    #[test]
    fn a_batch_independent_of_the_parameters_adds_nothing() {
        use crate::generate::{helix, parse_sequence, Shape};
        let (top, conf) =
            helix(&parse_sequence("ACGT").unwrap(), Shape::Duplex, Some(20.0), crate::system::TopologyFormat::Classic)
                .unwrap();
        let mut model = EnergyModel::new(&top, crate::params::ParamSet::dna1_defaults()).unwrap();
        model.map_batch_size = 1;
        let mut apart = conf.clone();
        for r in &mut apart.r[4..] {
            r.0[2] += 8.0;
        }
        let selected = ["eps_hb".to_string()];
        let (_, paired) = model.vjp(std::slice::from_ref(&conf), &[1.0], &selected).unwrap();
        assert!(paired.get("eps_hb").unwrap() < 0.0, "paired bases: dE/d eps_hb < 0");
        let (_, both) = model.vjp(&[conf, apart], &[1.0, 1.0], &selected).unwrap();
        assert_eq!(both.get("eps_hb").unwrap(), paired.get("eps_hb").unwrap(), "the apart frame adds 0");
    }

    /// Integer powers on tensors, every branch, against `f64::powi` (the terms use n = 2…14; a
    /// user's term may use any).
    #[test]
    fn integer_powers_match_f64() {
        let x = [0.7, 1.3, -2.1];
        let t = column(x.iter().copied(), x.len(), &backend::cpu());
        for n in [-3, -2, -1, 0, 1, 2, 3, 6, 7, 14] {
            let got = host(Real::powi(t.clone(), n));
            for (g, v) in got.iter().zip(x) {
                assert!((g - v.powi(n)).abs() < 1e-12 * v.powi(n).abs().max(1.0), "{v}^{n}: {g}");
            }
        }
    }

    /// A one-element mask or value meets a full one: `and` and `choose` give what they give
    /// element by element (the terms' masks mix `[pairs]` comparisons with `[1]` constants).
    #[test]
    fn masks_and_choices_broadcast_a_single_element() {
        let dev = backend::cpu();
        let x = column([0.5, 2.0, 3.0].into_iter(), 3, &dev);
        let one = column([1.0].into_iter(), 1, &dev);
        let bools = |m: Tensor<1, Bool>| m.into_data().try_to_vec::<bool>().unwrap();
        let below = x.lt(&x.cst(2.5));
        assert_eq!(bools(below.clone()), [true, true, false]);
        for (single, want) in [(one.lt(&one.cst(2.0)), [true, true, false]), (one.lt(&one.cst(0.0)), [false; 3])] {
            assert_eq!(bools(T1::and(&single, &below)), want);
            assert_eq!(bools(T1::and(&below, &single)), want);
        }
        assert_eq!(bools(T1::and(&below, &x.le(&x.cst(0.5)))), [true, false, false]);
        assert_eq!(host(T1::choose(&below, || one.cst(7.0), || x.clone())), [7.0, 7.0, 3.0]);
        assert_eq!(host(T1::choose(&below, || x.clone(), || one.cst(7.0))), [0.5, 2.0, 7.0]);
        assert_eq!(host(T1::choose(&below, || x.clone() * 2.0, || x.clone())), [1.0, 4.0, 3.0]);
        assert_eq!(host(T1::choose(&below, || one.cst(7.0), || one.cst(1.0))), [7.0, 7.0, 1.0]);
    }
}
