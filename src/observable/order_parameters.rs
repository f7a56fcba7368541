//! The values of umbrella-sampling order parameters ([`crate::io::order_parameter`]) on a
//! configuration, as oxDNA evaluates them: the one definition that Monte Carlo's umbrella bias
//! ([`crate::simulate::Umbrella`]) and the melting-temperature objective
//! ([`crate::objective::melting`]) share.
//!
//! * `bond`: the number of listed pairs whose hydrogen-bonding energy is below [`HB_CUTOFF`]
//!   (oxDNA's −0.1 simulation units: a formed base pair), with the model's own hydrogen-bonding
//!   term (a user's model may name its own `…HydrogenBonding` term, as oxRNA2's does).
//! * `mindistance`: the smallest distance among the listed pairs (base sites, or centres with
//!   `use_COM`), minimum image, binned by its interfaces.

use crate::energy::{EnergyModel, Frame, TermId};
use crate::error::{Error, Result};
use crate::geometry::{PeriodicBox, Vec3};
use crate::io::order_parameter::{OrderParameterKind, OrderParameters};

/// oxDNA's hydrogen-bond cut-off: a pair with H-bonding energy below this is a formed base pair.
pub const HB_CUTOFF: f64 = -0.1;

/// Order parameters ready to evaluate with one model's hydrogen-bonding term.
#[derive(Debug, Clone)]
pub struct OrderParameterEvaluator {
    ops: OrderParameters,
    hb_term: String,
}

impl OrderParameterEvaluator {
    /// For `ops` on systems of `model` (whose nucleotide count bounds the pairs' indices).
    ///
    /// ```
    /// use oxgrad::generate::{helix, parse_sequence, Shape};
    /// use oxgrad::io::order_parameter::OrderParameters;
    /// use oxgrad::observable::order_parameters::OrderParameterEvaluator;
    /// let (top, conf) = helix(&parse_sequence("ACGT")?, Shape::Duplex, None, oxgrad::system::TopologyFormat::Classic)?;
    /// let model = oxgrad::energy::EnergyModel::new(&top, oxgrad::params::ParamSet::dna1_defaults())?;
    /// let ops = OrderParameters::parse("{\norder_parameter = bond\nname = b\npair1 = 0-3, 4-7\n}\n", "op.txt".as_ref(), 8)?;
    /// let eval = OrderParameterEvaluator::new(&model, ops)?;
    /// assert_eq!(eval.values(&model, &oxgrad::energy::Frame::new(&conf)), [4]); // the ideal duplex: all four pairs formed
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn new(model: &EnergyModel, ops: OrderParameters) -> Result<OrderParameterEvaluator> {
        let n = model.len();
        let hb_term = if model.term_weights()[TermId::HydrogenBonding as usize] != 0.0 {
            TermId::HydrogenBonding.term().name().to_string()
        } else {
            model
                .custom_terms()
                .into_iter()
                .map(|(name, _)| name)
                .find(|name| name.ends_with("HydrogenBonding"))
                .ok_or_else(|| {
                    Error::invalid("op_file", "bond", "the model has no hydrogen-bonding term to count base pairs with")
                })?
                .to_string()
        };
        for op in &ops.params {
            let pairs = match &op.kind {
                OrderParameterKind::Bond { pairs } | OrderParameterKind::MinDistance { pairs, .. } => pairs,
            };
            if let Some(&(p, q)) = pairs.iter().find(|&&(p, q)| p >= n || q >= n) {
                return Err(Error::invalid(
                    format!("order parameter '{}'", op.name),
                    format!("{p}, {q}"),
                    format!("nucleotide indices below {n}, the topology's size"),
                ));
            }
        }
        Ok(OrderParameterEvaluator { ops, hb_term })
    }

    /// The order parameters, in state order.
    #[must_use]
    pub fn ops(&self) -> &OrderParameters {
        &self.ops
    }

    /// Whether nucleotides p and q, each given as (index, centre, axes), form a base pair.
    #[must_use]
    pub fn hb_formed(
        &self,
        model: &EnergyModel,
        p: (usize, Vec3, &[Vec3; 3]),
        q: (usize, Vec3, &[Vec3; 3]),
        bx: &PeriodicBox,
    ) -> bool {
        model
            .pair_term_energy(&self.hb_term, p.0, q.0, bx.min_image(q.1 - p.1), p.2, q.2)
            .is_some_and(|e| e < HB_CUTOFF)
    }

    /// The bin of distance parameter `k` with nucleotide i at `place(i)` (0 for a bond parameter).
    pub fn distance_value<'f>(
        &self,
        model: &EnergyModel,
        k: usize,
        bx: &PeriodicBox,
        place: impl Fn(usize) -> (Vec3, &'f [Vec3; 3]),
    ) -> i32 {
        let OrderParameterKind::MinDistance { pairs, use_com, .. } = &self.ops.params[k].kind else { return 0 };
        let at = |i: usize| {
            let (r, a) = place(i);
            if *use_com {
                r
            } else {
                r + model.base_offset(a)
            }
        };
        let d = pairs.iter().map(|&(p, q)| bx.min_image(at(q) - at(p)).norm()).fold(f64::INFINITY, f64::min);
        self.ops.params[k].kind.bin(d).unwrap_or(0)
    }

    /// Which pairs of bond parameter `k` are formed in `frame` (empty for a distance parameter).
    #[must_use]
    pub fn formed(&self, model: &EnergyModel, k: usize, frame: &Frame) -> Vec<bool> {
        let OrderParameterKind::Bond { pairs } = &self.ops.params[k].kind else { return Vec::new() };
        pairs
            .iter()
            .map(|&(p, q)| {
                self.hb_formed(model, (p, frame.r[p], &frame.axes[p]), (q, frame.r[q], &frame.axes[q]), &frame.bx)
            })
            .collect()
    }

    /// The state of `frame`: one value per order parameter, in state order.
    #[must_use]
    pub fn values(&self, model: &EnergyModel, frame: &Frame) -> Vec<i32> {
        (0..self.ops.params.len())
            .map(|k| match &self.ops.params[k].kind {
                OrderParameterKind::Bond { .. } => self.formed(model, k, frame).iter().filter(|&&f| f).count() as i32,
                OrderParameterKind::MinDistance { .. } => {
                    self.distance_value(model, k, &frame.bx, |i| (frame.r[i], &frame.axes[i]))
                }
            })
            .collect()
    }
}
