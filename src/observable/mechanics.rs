//! Mechanics of a duplex pulled along an axis: its extension and twist in each state, and the
//! elastic moduli that combine runs at several forces.
//!
//! With the selected base pairs k = 0…n−1 of [`BasePairs`] (pairs near the pulled ends dropped
//! by `exclude_end_pairs`, since they fray), their midpoint steps Δm_k and pair vectors d_k (see
//! [`super::helix`]), and the pulling axis ẑ (a unit vector, z by default):
//!
//! ```text
//! extension        L = Σ_k Δm_k · ẑ                                            [nm]
//! end rotation     θ = Σ_k ∠(d_k⊥, d_{k+1}⊥) about ẑ,  d⊥ = d − (d·ẑ) ẑ        [turns]
//! total twist      Tw = Σ_k Ω_k, Ω_k the local twist of step k (writhe-free)      [turns]
//! ```
//!
//! The end rotation is what a magnetic tweezer reads (the last pair's turn about the pulling
//! axis relative to the first, unwrapped step by step; it includes writhe); the total twist sums
//! the local twists about each step's own axis and excludes writhe. Both count right-handed
//! turns positive, so a B-DNA duplex of n pairs has about (n − 1)/10.5 turns.
//!
//! **Moduli.** A duplex of rest length L₀ is an elastic rod with stretch modulus S, torsional
//! modulus C and twist–stretch coupling g: under a force F and a torque τ about ẑ, to linear
//! order (Marko & Siggia's rod; Gore et al., Nature 442, 836, 2006),
//!
//! ```text
//! ⟨L⟩ = l₀ + a₁ F + a₃ τ,   ⟨θ⟩ = θ₀ + a₃ F + a₄ τ,          θ in radians
//! a₁ = L₀ C / D,   a₃ = −L₀ g / D,   a₄ = L₀ S / D,   D = S C − g²
//! ```
//!
//! Runs at several forces and no torque (the ends free to turn) give a₁ and a₃ as least-squares
//! slopes of ⟨L⟩ and ⟨θ⟩ against F, and l₀ as the intercept of ⟨L⟩; the twist fluctuations at
//! fixed force give a₄ = Var(θ)/k_BT (averaged over the forces: the compliance is the same at
//! each). Here L and θ are the segment's own: the length |R| of its end-to-end vector R = Σ_k Δm_k
//! and the end rotation about R̂. Along a fixed axis they would also count the tilt of the
//! whole duplex, whose orientational entropy shortens ⟨L_z⟩ of a rigid rod by about k_BT/F
//! (0.1 nm at 40 pN, a slope k_BT/F² as large as the elastic one). Then, as in mythos'
//! `stretch_torsion` (with a₄ from fluctuations instead of torques):
//!
//! ```text
//! stretch modulus          S_eff = l₀ / a₁                   = S − g²/C     [pN]
//! torsional modulus        C     = a₁ l₀ / (a₄ a₁ − a₃²)                   [pN nm²]
//! twist–stretch coupling   g     = −a₃ l₀ / (a₄ a₁ − a₃²)                  [pN nm]
//! ```
//!
//! S_eff is what a force–extension experiment measures (about 1000–1500 pN for DNA at high salt;
//! Wang et al., Biophys. J. 72, 1335, 1997); C is about 400–460 pN nm² (Bryant et al., Nature 424,
//! 338, 2003), g about −90 pN nm (Gore et al. 2006: DNA overwinds when stretched). The relations
//! are linear: use forces where the extension grows linearly, above the entropic regime of
//! bending fluctuations and below overstretching — about 10–40 pN for duplexes of tens of base
//! pairs, which are shorter than their persistence length.
//!
//! Each state is told to belong to a force by its `force` metadata (pN), which the simulators an
//! objective's `forces` expand into set ([`crate::simulate::NativeSimulator::metadata`]). The
//! features of a state at the m-th force are (1, k_BT, L, θ, θ²) in slots 5m…5m+4 and zero
//! elsewhere, so the weighted mean of the features holds each force's share of the weight and
//! its weighted moments: each force's ensemble is reweighted on its own, and DiffTRe
//! differentiates the regression, the variance and the moduli end to end.

use super::helix::BasePairs;
use super::Observable;
use crate::energy::functions::ParamSource;
use crate::energy::tensor::T1;
use crate::error::{Error, Result};
use crate::geometry::Vec3;
use crate::io::Configuration;
use crate::trajectory::Trajectory;
use std::f64::consts::TAU;

/// One oxDNA energy unit (k_B · 3000 K) in pN nm.
const ENERGY_PN_NM: f64 = crate::units::ENERGY_J * 1e21;

/// The metadata key that carries each state's pulling force, in pN.
pub const FORCE_KEY: &str = "force";

/// The geometry shared by the mechanical observables: base pairs and a pulling axis.
#[derive(Debug, Clone)]
pub struct Pulled {
    pairs: BasePairs,
    axis: Vec3,
}

impl Pulled {
    /// The duplex `pairs` (at least two) pulled along `axis` (any non-zero vector).
    pub fn new(pairs: BasePairs, axis: [f64; 3]) -> Result<Pulled> {
        if pairs.len() < 2 {
            return Err(Error::invalid(
                "exclude_end_pairs",
                format!("{} base pair left", pairs.len()),
                "extension and twist need at least two base pairs: lower exclude_end_pairs or use a longer duplex",
            ));
        }
        let v = Vec3::new(axis[0], axis[1], axis[2]);
        let norm = v.norm();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(Error::invalid("axis", format!("{axis:?}"), "a non-zero direction such as [0, 0, 1]"));
        }
        Ok(Pulled { pairs, axis: v * (1.0 / norm) })
    }

    /// The selected base pairs.
    #[must_use]
    pub fn pairs(&self) -> &BasePairs {
        &self.pairs
    }

    /// The unit pulling axis.
    #[must_use]
    pub fn axis(&self) -> Vec3 {
        self.axis
    }

    /// Extension along the axis, nm.
    #[must_use]
    pub fn extension(&self, conf: &Configuration) -> f64 {
        let l: f64 = self.pairs.steps(conf).iter().map(|s| s.dm.dot(self.axis)).sum();
        crate::units::to_nm(l)
    }

    /// The end rotation about the axis, radians.
    #[must_use]
    pub fn end_rotation(&self, conf: &Configuration) -> f64 {
        rotation_about(&self.pairs.steps(conf), self.axis)
    }

    /// The segment's own length and end rotation: |R| (nm) and the rotation about R̂ (radians),
    /// R = Σ_k Δm_k its end-to-end vector. Unlike the extension and rotation along a fixed axis,
    /// they do not change when the whole duplex tilts.
    #[must_use]
    pub fn length_and_rotation(&self, conf: &Configuration) -> (f64, f64) {
        let steps = self.pairs.steps(conf);
        let r = steps.iter().fold(Vec3::new(0.0, 0.0, 0.0), |acc, s| acc + s.dm);
        let length = r.norm();
        (crate::units::to_nm(length), rotation_about(&steps, r * (1.0 / length)))
    }

    /// The total (writhe-free) twist, radians.
    #[must_use]
    pub fn total_twist(&self, conf: &Configuration) -> f64 {
        self.pairs.steps(conf).iter().map(super::helix::Step::twist).sum()
    }

    fn check(&self, conf: &Configuration) -> Result<()> {
        self.pairs.check(conf)
    }
}

/// Σ_k ∠(d_k⊥, d_{k+1}⊥) about the unit vector `z`, d⊥ = d − (d·z) z (radians).
fn rotation_about(steps: &[super::helix::Step], z: Vec3) -> f64 {
    let perp = |d: Vec3| d - z * d.dot(z);
    steps
        .iter()
        .map(|s| {
            let (u, v) = (perp(s.d0), perp(s.d1));
            u.cross(v).dot(z).atan2(u.dot(v))
        })
        .sum()
}

/// Extension of a duplex along the pulling axis (nm).
#[derive(Debug, Clone)]
pub struct Extension(pub Pulled);

impl Observable for Extension {
    fn name(&self) -> &str {
        "extension"
    }
    fn unit(&self) -> &'static str {
        "nm"
    }
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.0.check(conf)?;
        Ok(vec![self.0.extension(conf)])
    }
}

/// The end base pair's rotation about the pulling axis relative to the first (turns).
#[derive(Debug, Clone)]
pub struct EndRotation(pub Pulled);

impl Observable for EndRotation {
    fn name(&self) -> &str {
        "end_rotation"
    }
    fn unit(&self) -> &'static str {
        "turns"
    }
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.0.check(conf)?;
        Ok(vec![self.0.end_rotation(conf) / TAU])
    }
}

/// The sum of local twists of the selected steps: writhe-free twist (turns).
#[derive(Debug, Clone)]
pub struct TotalTwist(pub Pulled);

impl Observable for TotalTwist {
    fn name(&self) -> &str {
        "total_twist"
    }
    fn unit(&self) -> &'static str {
        "turns"
    }
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        self.0.check(conf)?;
        Ok(vec![self.0.total_twist(conf) / TAU])
    }
}

/// Which modulus an [`ElasticModulus`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modulus {
    /// S_eff = l₀/a₁, pN.
    Stretch,
    /// C = a₁ l₀ / (a₄ a₁ − a₃²), pN nm².
    Torsion,
    /// g = −a₃ l₀ / (a₄ a₁ − a₃²), pN nm.
    TwistStretch,
}

/// Features per force: weight, k_BT, L, θ, θ².
const SLOTS: usize = 5;

/// An elastic modulus of a duplex from states at several pulling forces (module docs).
#[derive(Debug, Clone)]
pub struct ElasticModulus {
    modulus: Modulus,
    pulled: Pulled,
    forces: Vec<f64>,
}

impl ElasticModulus {
    /// `modulus` of the duplex `pulled`, from states at `forces` (pN; at least two, distinct,
    /// positive).
    pub fn new(modulus: Modulus, pulled: Pulled, forces: Vec<f64>) -> Result<ElasticModulus> {
        if forces.len() < 2 {
            return Err(Error::invalid(
                "forces",
                format!("{forces:?}"),
                "at least two forces (pN): the moduli come from the slopes of extension and twist against force",
            ));
        }
        if let Some(f) = forces.iter().find(|f| !(f.is_finite() && **f > 0.0)) {
            return Err(Error::invalid(
                "forces",
                f,
                "positive forces: without a pull the duplex is not aligned with the axis, and its extension along it is not its length",
            ));
        }
        for (k, f) in forces.iter().enumerate() {
            if forces[..k].iter().any(|g| same_force(*f, *g)) {
                return Err(Error::invalid("forces", f, "each force once: it names the runs at that force"));
            }
        }
        Ok(ElasticModulus { modulus, pulled, forces })
    }

    /// The forces, pN.
    #[must_use]
    pub fn forces(&self) -> &[f64] {
        &self.forces
    }

    /// The pulled duplex.
    #[must_use]
    pub fn pulled(&self) -> &Pulled {
        &self.pulled
    }

    /// The features of a state at the `m`-th force, at temperature `kt` (simulation units),
    /// with length `l` (nm) and end rotation `theta` (radians) of the segment.
    #[must_use]
    pub fn row(&self, m: usize, kt: f64, l: f64, theta: f64) -> Vec<f64> {
        let mut x = vec![0.0; self.dim()];
        x[SLOTS * m..SLOTS * (m + 1)].copy_from_slice(&[1.0, kt * ENERGY_PN_NM, l, theta, theta * theta]);
        x
    }
}

fn same_force(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

impl Observable for ElasticModulus {
    fn name(&self) -> &str {
        match self.modulus {
            Modulus::Stretch => "stretch_modulus",
            Modulus::Torsion => "torsional_modulus",
            Modulus::TwistStretch => "twist_stretch_coupling",
        }
    }
    fn unit(&self) -> &'static str {
        match self.modulus {
            Modulus::Stretch => "pN",
            Modulus::Torsion => "pN nm^2",
            Modulus::TwistStretch => "pN nm",
        }
    }
    fn dim(&self) -> usize {
        SLOTS * self.forces.len()
    }
    fn features(&self, _: &Configuration) -> Result<Vec<f64>> {
        Err(Error::invalid(
            self.name(),
            "a single configuration",
            "a modulus combines states at several forces: measure it on trajectories whose states carry their `force` (the simulators an objective's `forces` expand into)",
        ))
    }
    fn features_at(&self, traj: &Trajectory, i: usize) -> Result<Vec<f64>> {
        let conf = &traj.frames[i];
        self.pulled.check(conf)?;
        let force = traj.metadata.get(FORCE_KEY).and_then(|f| f.get(i)).copied().ok_or_else(|| {
            Error::invalid(
                self.name(),
                format!("state {i} without a force"),
                "the states must carry their pulling force (`force` metadata, pN): sample them with the simulators an objective's `forces` expand into",
            )
        })?;
        let m = self.forces.iter().position(|f| same_force(*f, force)).ok_or_else(|| {
            Error::invalid(
                self.name(),
                format!("state {i} at {force} pN"),
                format!("a state at one of the forces {:?} pN", self.forces),
            )
        })?;
        let kt = traj.temperature.as_ref().and_then(|t| t.get(i)).copied().ok_or_else(|| {
            Error::invalid(self.name(), format!("state {i} without a temperature"), "states with their temperature")
        })?;
        let (length, rotation) = self.pulled.length_and_rotation(conf);
        Ok(self.row(m, kt, length, rotation))
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        let g = self.forces.len();
        let at = |k: usize| mean.clone().slice(k..k + 1);
        // each force's weighted moments: the slot sums over the force's share of the weight
        let moment = |m: usize, s: usize| at(SLOTS * m + s) / at(SLOTS * m);
        let f_mean = self.forces.iter().sum::<f64>() / g as f64;
        let sxx: f64 = self.forces.iter().map(|f| (f - f_mean).powi(2)).sum();
        // least squares y = y₀ + a F over the forces: a = Σ c_m y_m, y₀ = Σ (1/G − F̄ c_m) y_m
        let slope = |s: usize| {
            (0..g).map(|m| moment(m, s) * ((self.forces[m] - f_mean) / sxx)).reduce(|a, b| a + b).unwrap_or(at(0))
        };
        let a1 = slope(2);
        let a3 = slope(3);
        let l0 = (0..g)
            .map(|m| moment(m, 2) * (1.0 / g as f64 - f_mean * (self.forces[m] - f_mean) / sxx))
            .reduce(|a, b| a + b)
            .unwrap_or(at(0));
        let a4 = (0..g)
            .map(|m| {
                let mean_theta = moment(m, 3);
                (moment(m, 4) - mean_theta.clone() * mean_theta) / moment(m, 1)
            })
            .reduce(|a, b| a + b)
            .unwrap_or(at(0))
            / g as f64;
        let det = a4 * a1.clone() - a3.clone() * a3.clone();
        match self.modulus {
            Modulus::Stretch => l0 / a1,
            Modulus::Torsion => a1 * l0 / det,
            Modulus::TwistStretch => -(a3 * l0) / det,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{helix, parse_sequence, Shape};
    use crate::system::TopologyFormat;

    #[test]
    fn an_ideal_helix_along_z_has_its_rise_times_steps_and_its_twist_in_turns() {
        let (top, conf) =
            helix(&parse_sequence("ACGTACGTACGTACGTACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic)
                .unwrap();
        let pulled = Pulled::new(BasePairs::duplex(&top, 2).unwrap(), [0.0, 0.0, 1.0]).unwrap();
        let steps = 15.0;
        let rise = crate::units::to_nm(crate::generate::RISE);
        assert!((pulled.extension(&conf) - steps * rise).abs() < 1e-9);
        let twist = pulled.total_twist(&conf);
        let rotation = pulled.end_rotation(&conf);
        // a straight helix along z: the rotation about z is the twist, per step the generator's
        assert!((twist - rotation).abs() < 1e-9, "{twist} vs {rotation}");
        assert!((twist / steps - crate::generate::TWIST).abs() < 1e-9, "{} per step", twist / steps);
        // pulled the other way, the extension changes sign and the rotation does not
        let flipped = Pulled::new(BasePairs::duplex(&top, 2).unwrap(), [0.0, 0.0, -2.0]).unwrap();
        assert!((flipped.extension(&conf) + steps * rise).abs() < 1e-9);
        assert!((flipped.end_rotation(&conf) + rotation).abs() < 1e-9);
    }

    #[test]
    fn moduli_refuse_one_force_zero_force_and_a_repeated_force() {
        let (top, _) =
            helix(&parse_sequence("ACGTACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        let p = Pulled::new(BasePairs::duplex(&top, 0).unwrap(), [0.0, 0.0, 1.0]).unwrap();
        for forces in [vec![5.0], vec![0.0, 5.0], vec![5.0, 5.0], vec![5.0, f64::NAN]] {
            assert!(ElasticModulus::new(Modulus::Stretch, p.clone(), forces.clone()).is_err(), "{forces:?}");
        }
        assert!(Pulled::new(BasePairs::duplex(&top, 0).unwrap(), [0.0; 3]).is_err());
    }
}
