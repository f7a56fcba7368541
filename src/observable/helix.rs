//! Helix observables of a Watson–Crick duplex.
//!
//! Base pair k joins nucleotide i_k (the k-th of strand 0 from its 5' end) and j_k (the k-th of
//! strand 1 from its 3' end), as [`BasePairs::duplex`] selects them. For each pair and each step
//! between consecutive pairs (k, k+1), with centres r, base normals a3 (strand 0) and b3
//! (strand 1), all vectors taken with the minimum-image convention:
//!
//! ```text
//! midpoint        m_k = (r_i + r_j) / 2
//! pair vector     d_k = r_j − r_i
//! local axis      ẑ_k = unit((b3 − a3)_k + (b3 − a3)_{k+1})     (along strand 0, 5'→3')
//! rise            h_k = (m_{k+1} − m_k) · ẑ_k                       [nm]
//! twist           Ω_k = ∠(d_k⊥, d_{k+1}⊥) about ẑ_k, right-handed positive   [deg]
//! pitch           P = 360° / ⟨Ω⟩                                   [bp/turn]
//! propeller twist ρ_k = 180° − ∠(a3_i, a3_j)                        [deg, never negative]
//! diameter        D = ⟨|bb_i − bb_j|⟩ + σ_backbone                 [nm]
//! ```
//!
//! where `d⊥` is `d` projected perpendicular to ẑ_k and `bb` the model's backbone site (oxDNA1:
//! r − 0.4 a1; oxDNA2: r − 0.34 a1 + 0.3408 a2). Every state's feature is the mean over the
//! selected pairs (or steps). The ideal helix of [`crate::generate`] has a rise of
//! 0.332 nm, a twist of 35.9°, no propeller twist and a diameter of 2.30 nm (oxDNA1). mythos'
//! propeller-twist target for oxDNA is 21.7°; B-DNA has a rise of 0.34 nm and 10.5 bp/turn.
//! Pitch and diameter follow mythos' `PitchAngle`/`Diameter` (whose pitch is off by a factor 2π),
//! measured here on centres and pair vectors rather than on backbone sites (the angle between
//! consecutive pairs is the same up to thermal noise).

use super::{nm, Observable};
use crate::energy::functions::ParamSource;
use crate::energy::tensor::T1;
use crate::error::{Error, Result};
use crate::geometry::{orthonormalize, PeriodicBox, Vec3};
use crate::io::Configuration;
use crate::params::{ModelKind, ParamSet};
use crate::system::Topology;

/// Selected base pairs of a duplex, in order along strand 0 (5'→3').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasePairs {
    pairs: Vec<(usize, usize)>,
}

impl BasePairs {
    /// The Watson–Crick pairs of a two-strand duplex, without `exclude_end_pairs` pairs at each end.
    pub fn duplex(top: &Topology, exclude_end_pairs: usize) -> Result<BasePairs> {
        if top.strands.len() != 2 {
            return Err(Error::invalid(
                "base pairs",
                format!("{} strands", top.strands.len()),
                "duplex observables need a topology of exactly two complementary strands",
            ));
        }
        let (a, b) = (&top.strands[0].nucleotides, &top.strands[1].nucleotides);
        if a.len() != b.len() {
            return Err(Error::invalid(
                "base pairs",
                format!("strands of {} and {} nucleotides", a.len(), b.len()),
                "duplex observables need two strands of equal length",
            ));
        }
        let all: Vec<(usize, usize)> = a.iter().zip(b.iter().rev()).map(|(&i, &j)| (i, j)).collect();
        for (k, &(i, j)) in all.iter().enumerate() {
            let (bi, bj) = (top.nucleotides[i].base, top.nucleotides[j].base);
            if !bi.pairs_with(bj) {
                return Err(Error::invalid(
                    "base pairs",
                    format!("pair {k}: {bi}–{bj}"),
                    "the second strand must be the Watson–Crick complement of the first (5'→3' of strand 0 against 3'→5' of strand 1)",
                ));
            }
        }
        BasePairs::from_pairs(all, exclude_end_pairs)
    }

    /// Explicit pairs (strand-0 nucleotide, strand-1 nucleotide), in order along the helix,
    /// without `exclude_end_pairs` at each end.
    pub fn from_pairs(pairs: Vec<(usize, usize)>, exclude_end_pairs: usize) -> Result<BasePairs> {
        let n = pairs.len();
        if 2 * exclude_end_pairs >= n {
            return Err(Error::invalid(
                "exclude_end_pairs",
                exclude_end_pairs,
                format!("the duplex has {n} base pairs: excluding {exclude_end_pairs} at each end leaves none"),
            ));
        }
        Ok(BasePairs { pairs: pairs[exclude_end_pairs..n - exclude_end_pairs].to_vec() })
    }

    /// The pairs.
    #[must_use]
    pub fn pairs(&self) -> &[(usize, usize)] {
        &self.pairs
    }

    /// Number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether no pair is selected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub(crate) fn check(&self, conf: &Configuration) -> Result<()> {
        let max = self.pairs.iter().map(|&(i, j)| i.max(j)).max().unwrap_or(0);
        if max >= conf.len() {
            return Err(Error::mismatch(
                "base pairs and configuration",
                format!("pair nucleotide {max} does not exist in a configuration of {} nucleotides", conf.len()),
            ));
        }
        Ok(())
    }

    fn need_steps(&self, what: &str) -> Result<()> {
        if self.pairs.len() < 2 {
            return Err(Error::invalid(
                what,
                format!("{} base pair", self.pairs.len()),
                "needs at least two consecutive base pairs: lower exclude_end_pairs",
            ));
        }
        Ok(())
    }

    /// The geometry of every step (k, k+1) of one state: (midpoint step, local axis, pair vectors).
    pub(crate) fn steps(&self, conf: &Configuration) -> Vec<Step> {
        let bx = PeriodicBox::new(conf.box_sides);
        let a3 = |i: usize| orthonormalize(conf.a1[i], conf.a3[i]).2;
        let local: Vec<(Vec3, Vec3, Vec3)> = self
            .pairs
            .iter()
            .map(|&(i, j)| {
                let d = bx.min_image(conf.r[j] - conf.r[i]);
                (conf.r[i] + d * 0.5, d, a3(j) - a3(i))
            })
            .collect();
        local
            .windows(2)
            .map(|w| {
                let ((m0, d0, n0), (m1, d1, n1)) = (w[0], w[1]);
                Step { dm: bx.min_image(m1 - m0), axis: (n0 + n1).normalized(), d0, d1 }
            })
            .collect()
    }
}

/// One base-pair step: the midpoint displacement, the local axis and both pair vectors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub dm: Vec3,
    pub axis: Vec3,
    pub d0: Vec3,
    pub d1: Vec3,
}

impl Step {
    /// Twist angle about the local axis, radians (right-handed positive).
    pub(crate) fn twist(&self) -> f64 {
        let perp = |d: Vec3| d - self.axis * d.dot(self.axis);
        let (u, v) = (perp(self.d0), perp(self.d1));
        u.cross(v).dot(self.axis).atan2(u.dot(v))
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    s / n.max(1) as f64
}

/// Propeller twist of the selected pairs, degrees (mythos' `PropellerTwist`).
#[derive(Debug, Clone)]
pub struct PropellerTwist {
    pairs: BasePairs,
}

impl PropellerTwist {
    /// Over `pairs`.
    #[must_use]
    pub fn new(pairs: BasePairs) -> PropellerTwist {
        PropellerTwist { pairs }
    }
}

impl Observable for PropellerTwist {
    fn name(&self) -> &str {
        "propeller_twist"
    }
    fn unit(&self) -> &'static str {
        "deg"
    }
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.pairs.check(conf)?;
        Ok(vec![propeller_twist(conf, self.pairs.pairs())])
    }
}

/// Mean propeller twist of `pairs` in one state, degrees.
#[must_use]
pub fn propeller_twist(conf: &Configuration, pairs: &[(usize, usize)]) -> f64 {
    mean(pairs.iter().map(|&(i, j)| {
        let (_, _, a3i) = orthonormalize(conf.a1[i], conf.a3[i]);
        let (_, _, a3j) = orthonormalize(conf.a1[j], conf.a3[j]);
        180.0 - a3i.dot(a3j).clamp(-1.0, 1.0).acos().to_degrees()
    }))
}

/// Helical rise per base pair, nm.
#[derive(Debug, Clone)]
pub struct Rise {
    pairs: BasePairs,
}

impl Rise {
    /// Over the steps between consecutive `pairs` (at least two).
    pub fn new(pairs: BasePairs) -> Result<Rise> {
        pairs.need_steps("rise")?;
        Ok(Rise { pairs })
    }
}

impl Observable for Rise {
    fn name(&self) -> &str {
        "rise"
    }
    fn unit(&self) -> &'static str {
        "nm"
    }
    /// The mean rise in oxDNA length units.
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.pairs.check(conf)?;
        Ok(vec![mean(self.pairs.steps(conf).iter().map(|s| s.dm.dot(s.axis)))])
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        nm(mean)
    }
}

/// Twist per base-pair step, degrees.
#[derive(Debug, Clone)]
pub struct Twist {
    pairs: BasePairs,
}

impl Twist {
    /// Over the steps between consecutive `pairs` (at least two).
    pub fn new(pairs: BasePairs) -> Result<Twist> {
        pairs.need_steps("twist")?;
        Ok(Twist { pairs })
    }
}

impl Observable for Twist {
    fn name(&self) -> &str {
        "twist"
    }
    fn unit(&self) -> &'static str {
        "deg"
    }
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.pairs.check(conf)?;
        Ok(vec![mean(self.pairs.steps(conf).iter().map(|s| s.twist().to_degrees()))])
    }
}

/// Helical pitch, base pairs per turn: 360° over the mean twist.
#[derive(Debug, Clone)]
pub struct Pitch {
    twist: Twist,
}

impl Pitch {
    /// Over the steps between consecutive `pairs` (at least two).
    pub fn new(pairs: BasePairs) -> Result<Pitch> {
        pairs.need_steps("pitch")?;
        Ok(Pitch { twist: Twist { pairs } })
    }
}

impl Observable for Pitch {
    fn name(&self) -> &str {
        "pitch"
    }
    fn unit(&self) -> &'static str {
        "bp/turn"
    }
    /// The mean twist, degrees.
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.twist.features(conf)
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        mean.recip() * 360.0
    }
}

/// Helical diameter, nm: the mean distance between the backbone sites of paired nucleotides plus
/// the backbone's excluded-volume diameter `sigma_backbone` (mythos' `Diameter`).
#[derive(Debug, Clone)]
pub struct Diameter {
    pairs: BasePairs,
    /// Backbone site offset along a1 and a2.
    offset: (f64, f64),
    model: ModelKind,
}

impl Diameter {
    /// Over `pairs`, with the backbone site of `params`' model.
    #[must_use]
    pub fn new(pairs: BasePairs, params: &ParamSet) -> Diameter {
        let offset = match params.model() {
            ModelKind::Dna1 => (params.value("com_to_backbone"), 0.0),
            ModelKind::Dna2 => (params.value("com_to_backbone_x"), params.value("com_to_backbone_y")),
        };
        Diameter { pairs, offset, model: params.model() }
    }
}

impl Observable for Diameter {
    fn name(&self) -> &str {
        "diameter"
    }
    fn unit(&self) -> &'static str {
        "nm"
    }
    /// The mean backbone–backbone distance of the pairs, oxDNA units.
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.pairs.check(conf)?;
        let bx = PeriodicBox::new(conf.box_sides);
        let bb = |i: usize| {
            let (a1, a2, _) = orthonormalize(conf.a1[i], conf.a3[i]);
            a1 * self.offset.0 + a2 * self.offset.1
        };
        Ok(vec![mean(
            self.pairs.pairs().iter().map(|&(i, j)| (bx.min_image(conf.r[j] - conf.r[i]) + bb(j) - bb(i)).norm()),
        )])
    }
    fn reduce(&self, mean: T1, params: &dyn ParamSource<T1>) -> T1 {
        nm(mean + params.p("sigma_backbone"))
    }
    fn feature_params(&self) -> Vec<String> {
        match self.model {
            ModelKind::Dna1 => vec!["com_to_backbone".into()],
            ModelKind::Dna2 => vec!["com_to_backbone_x".into(), "com_to_backbone_y".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{helix, parse_sequence, Shape, CM_AXIS_DISTANCE, RISE, TWIST};
    use crate::system::TopologyFormat;

    #[test]
    fn pairs_of_a_duplex_are_complementary_and_ends_can_be_dropped() {
        let (top, _) = helix(&parse_sequence("ACGTAC").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        let p = BasePairs::duplex(&top, 0).unwrap();
        assert_eq!(p.len(), 6);
        assert!(p.pairs().iter().all(|&(i, j)| top.nucleotides[i].base.pairs_with(top.nucleotides[j].base)));
        assert_eq!(BasePairs::duplex(&top, 2).unwrap().pairs(), &p.pairs()[2..4]);
        let e = BasePairs::duplex(&top, 3).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid exclude_end_pairs = 3: the duplex has 6 base pairs: excluding 3 at each end leaves none"
        );
    }

    #[test]
    fn the_ideal_helix_has_its_construction_values() {
        let (top, conf) =
            helix(&parse_sequence("ACGTACGTAC").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        let pairs = BasePairs::duplex(&top, 0).unwrap();
        let steps = pairs.steps(&conf);
        assert_eq!(steps.len(), 9);
        for s in &steps {
            assert!((s.dm.dot(s.axis) - RISE).abs() < 1e-12);
            assert!((s.twist() - TWIST).abs() < 1e-12);
        }
        assert!(propeller_twist(&conf, pairs.pairs()).abs() < 1e-6);
        // backbone sites r − 0.4 a1 lie 0.6 + 0.4 from the axis on opposite sides
        let d = Diameter::new(pairs, &ParamSet::dna1_defaults()).features(&conf).unwrap()[0];
        assert!((d - 2.0 * (CM_AXIS_DISTANCE + 0.4)).abs() < 1e-12);
    }
}
