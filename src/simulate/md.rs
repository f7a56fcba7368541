//! Rigid-body molecular dynamics for oxDNA models: velocity Verlet with oxDNA's thermostats.
//!
//! Every nucleotide has mass 1 and an isotropic moment of inertia 1 (oxDNA's convention), so the
//! angular velocity equals the angular momentum `L`. [`MdState`] keeps `L` in the lab frame;
//! configuration files hold it in the nucleotide's frame (components along a1, a2, a3), as oxDNA
//! v3.7 reads and writes it, and [`MdState::from_configuration`] / [`MdState::to_configuration`]
//! convert ([`crate::geometry::from_body`], [`crate::geometry::to_body`]). oxDNA integrates in the
//! body frame (`L += τ_body dt/2`, then `O ← O R(L)`), which is the same motion. One step of
//! length dt:
//!
//! ```text
//! v += F dt/2;  r += v dt;  L += τ dt/2;  rotate (a1, a2, a3) by |L| dt about L̂
//! recompute F, τ
//! v += F dt/2;  L += τ dt/2;  then the thermostat
//! ```
//!
//! Thermostats (as oxDNA v3.7 applies them):
//! - `no`: constant energy;
//! - `john` (Brownian/Andersen-like): every `newtonian_steps` steps each nucleotide, with
//!   probability p_t = 2TNdt/(TNdt + 2D), gets a fresh Maxwell velocity (σ = √T per component),
//!   and with p_r = 2TNdt/(TNdt + 6D_t), D_t = TNdt(1/p_t − 1/2), a fresh angular momentum;
//! - `langevin`: after every step the exact Ornstein–Uhlenbeck update
//!   v ← e^{−γ dt} v + √((1 − e^{−2γ dt}) T) ξ, with γ_t = T/D and γ_r = T/(3D) unless given.
//!
//! Non-bonded pairs come from a Verlet list (cut-off + skin) rebuilt, with a cell list, when
//! some nucleotide has moved more than half the skin. Forces are the native engine's analytic
//! ones ([`EnergyModel::accumulate_forces`]); no autodiff graph is built.

use super::external::ExternalForce;
use crate::energy::neighbors::pairs_within;
use crate::energy::{EnergyModel, ForceWorkspace, Forces, Frame};
use crate::error::{Error, Result};
use crate::geometry::{from_body, orthonormalize, rotate, to_body, Vec3};
use crate::io::Configuration;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// A thermostat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Thermostat {
    /// None: constant energy.
    None,
    /// oxDNA's `john` thermostat.
    John {
        /// Steps between refreshes (`newtonian_steps`).
        newtonian_steps: u64,
        /// Translational diffusion coefficient (`diff_coeff`).
        diff_coeff: f64,
    },
    /// Langevin dynamics.
    Langevin {
        /// Translational friction γ_t.
        gamma_trans: f64,
        /// Rotational friction γ_r.
        gamma_rot: f64,
    },
}

impl Thermostat {
    /// oxDNA's `john` thermostat with its usual settings ([`MdConfig::NEWTONIAN_STEPS`],
    /// [`MdConfig::DIFF_COEFF`]).
    pub const JOHN: Thermostat =
        Thermostat::John { newtonian_steps: MdConfig::NEWTONIAN_STEPS, diff_coeff: MdConfig::DIFF_COEFF };

    /// Langevin dynamics whose frictions give the translational diffusion coefficient `diff_coeff`
    /// at temperature `kt` ([`Thermostat::langevin_frictions`]).
    #[must_use]
    pub fn langevin(kt: f64, diff_coeff: f64) -> Thermostat {
        let (gamma_trans, gamma_rot) = Thermostat::langevin_frictions(kt, diff_coeff);
        Thermostat::Langevin { gamma_trans, gamma_rot }
    }

    /// The translational and rotational frictions of a diffusion coefficient at temperature `kt`
    /// (oxDNA's rule: γ_t = kT / D, γ_r = kT / (3D)).
    #[must_use]
    pub fn langevin_frictions(kt: f64, diff_coeff: f64) -> (f64, f64) {
        (kt / diff_coeff, kt / (3.0 * diff_coeff))
    }
}

/// Settings of an MD run. [`MdConfig::default`] are oxDNA's usual settings — dt 0.005, the
/// `john` thermostat every 103 steps with D = 2.5, Verlet skin 0.05, seed 1 — with 0 steps; the
/// configuration, the oxDNA input reader and the Rust API share them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdConfig {
    /// Time step.
    pub dt: f64,
    /// Number of steps.
    pub steps: u64,
    /// The thermostat.
    pub thermostat: Thermostat,
    /// Verlet-list skin (oxDNA length units).
    pub verlet_skin: f64,
    /// Random seed: the same seed gives the same trajectory.
    pub seed: u64,
}

impl Default for MdConfig {
    fn default() -> MdConfig {
        MdConfig {
            dt: MdConfig::DT,
            steps: 0,
            thermostat: Thermostat::JOHN,
            verlet_skin: MdConfig::VERLET_SKIN,
            seed: MdConfig::SEED,
        }
    }
}

impl MdConfig {
    /// oxDNA's usual time step (oxDNA time units).
    pub const DT: f64 = 0.005;
    /// oxDNA's usual steps between `john` velocity refreshes.
    pub const NEWTONIAN_STEPS: u64 = 103;
    /// oxDNA's usual translational diffusion coefficient (`diff_coeff`).
    pub const DIFF_COEFF: f64 = 2.5;
    /// oxDNA's usual Verlet-list skin (oxDNA length units).
    pub const VERLET_SKIN: f64 = 0.05;
    /// The seed when none is given.
    pub const SEED: u64 = 1;

    /// The default settings with `steps` steps.
    #[must_use]
    pub fn with_steps(steps: u64) -> MdConfig {
        MdConfig { steps, ..MdConfig::default() }
    }

    /// Checks the settings (written as `!(x > 0)` so NaN is rejected too).
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn validate(&self, kt: f64) -> Result<()> {
        if !(self.dt > 0.0 && self.dt <= MAX_DT) {
            return Err(Error::invalid(
                "dt",
                self.dt,
                format!(
                    "a positive time step up to {MAX_DT} (oxDNA units, ≈ 3.03 ps each); oxDNA runs use 0.001 to 0.005"
                ),
            ));
        }
        if !(self.verlet_skin > 0.0 && self.verlet_skin.is_finite()) {
            return Err(Error::invalid(
                "verlet_skin",
                self.verlet_skin,
                "a positive length, e.g. 0.05 (oxDNA's usual) to 0.5",
            ));
        }
        match self.thermostat {
            Thermostat::John { newtonian_steps, diff_coeff } => {
                if newtonian_steps == 0 {
                    return Err(Error::invalid("newtonian_steps", 0, "at least 1 (oxDNA examples use 103)"));
                }
                if !(diff_coeff > 0.0) {
                    return Err(Error::invalid(
                        "diff_coeff",
                        diff_coeff,
                        "a positive diffusion coefficient (e.g. 2.5)",
                    ));
                }
                let pt = john_probabilities(kt, self.dt, newtonian_steps, diff_coeff).0;
                if pt >= 1.0 {
                    return Err(Error::invalid(
                        "newtonian_steps",
                        newtonian_steps,
                        format!(
                            "the refresh probability 2TNdt/(TNdt + 2D) = {pt:.3} (T = {kt} = {:.0} K, N = newtonian_steps, dt = {}, D = diff_coeff = {diff_coeff}) must be below 1: check T, or use fewer steps, a smaller dt or a larger diff_coeff",
                            crate::units::kelvin_from_kt(kt),
                            self.dt
                        ),
                    ));
                }
            }
            Thermostat::Langevin { gamma_trans, gamma_rot } => {
                if !(gamma_trans > 0.0 && gamma_rot > 0.0) {
                    return Err(Error::invalid(
                        "gamma_trans / gamma_rot",
                        gamma_trans.min(gamma_rot),
                        "positive friction coefficients",
                    ));
                }
            }
            Thermostat::None => {}
        }
        Ok(())
    }
}

/// The largest MD time step accepted (oxDNA units): ten times the largest in common use (0.005);
/// beyond it the integrator is unstable for every oxDNA model.
pub const MAX_DT: f64 = 0.05;

/// Checks a thread count for one simulation: at least 1 and at most the machine's cores (more
/// threads only share the same cores, and a typo such as 10000 would start that many). `what`
/// names the setting in the error and `at` (e.g. `"input: "`) where it was given.
pub fn check_threads(what: &str, threads: u64, at: &str) -> crate::Result<usize> {
    let cores = crate::machine::cores();
    match usize::try_from(threads) {
        Ok(t) if (1..=cores).contains(&t) => Ok(t),
        _ => Err(crate::Error::invalid(
            what,
            threads,
            format!("{at}between 1 and the {cores} cores of this machine (the trajectory is the same for any count)"),
        )),
    }
}

/// (p_t, p_r) of the `john` thermostat.
#[must_use]
pub fn john_probabilities(kt: f64, dt: f64, n: u64, diff_coeff: f64) -> (f64, f64) {
    let tnd = kt * n as f64 * dt;
    let pt = 2.0 * tnd / (tnd + 2.0 * diff_coeff);
    let dt_eff = tnd * (1.0 / pt - 0.5);
    let pr = 2.0 * tnd / (tnd + 2.0 * 3.0 * dt_eff);
    (pt, pr)
}

/// The dynamic state of a system.
#[derive(Debug, Clone)]
pub struct MdState {
    /// Current step.
    pub step: u64,
    /// Positions and orientations.
    pub frame: Frame,
    /// Velocities.
    pub v: Vec<Vec3>,
    /// Angular momenta (lab frame; configuration files hold them in the body frame, converted by
    /// [`MdState::from_configuration`] and [`MdState::to_configuration`]).
    pub l: Vec<Vec3>,
}

impl MdState {
    /// From a configuration (orientations repaired as oxDNA does; `L` turned from the body frame
    /// of the repaired axes to the lab frame).
    #[must_use]
    pub fn from_configuration(c: &Configuration) -> MdState {
        let frame = Frame::new(c);
        let l = frame.axes.iter().zip(&c.l).map(|(axes, &l)| from_body(axes, l)).collect();
        MdState { step: c.step, frame, v: c.v.clone(), l }
    }

    /// Copies `other` into `self` without allocating (same number of nucleotides); on two
    /// threads inside a run's pool ([`Md::within`]) for large systems.
    pub fn copy_from(&mut self, other: &MdState) {
        self.step = other.step;
        self.frame.bx = other.frame.bx;
        let (r, axes, v, l) = (&mut self.frame.r, &mut self.frame.axes, &mut self.v, &mut self.l);
        let mut rest = || {
            r.copy_from_slice(&other.frame.r);
            v.copy_from_slice(&other.v);
            l.copy_from_slice(&other.l);
        };
        if rayon::current_thread_index().is_some() && axes.len() >= 1024 {
            rayon::join(|| axes.copy_from_slice(&other.frame.axes), rest);
        } else {
            axes.copy_from_slice(&other.frame.axes);
            rest();
        }
    }

    /// Kinetic energy: translational and rotational (m = 1, I = 1).
    #[must_use]
    pub fn kinetic(&self) -> (f64, f64) {
        (0.5 * self.v.iter().map(|v| v.norm2()).sum::<f64>(), 0.5 * self.l.iter().map(|l| l.norm2()).sum::<f64>())
    }

    /// The state as an oxDNA configuration, with energies per nucleotide in its `E =` line and `L`
    /// in the body frame.
    #[must_use]
    pub fn to_configuration(&self, potential: f64) -> Configuration {
        let n = self.v.len() as f64;
        let (kt, kr) = self.kinetic();
        let k = (kt + kr) / n;
        let u = potential / n;
        Configuration {
            step: self.step,
            box_sides: self.frame.bx.sides(),
            energy: [u + k, u, k],
            r: self.frame.r.clone(),
            a1: self.frame.axes.iter().map(|a| a[0]).collect(),
            a3: self.frame.axes.iter().map(|a| a[2]).collect(),
            v: self.v.clone(),
            l: self.frame.axes.iter().zip(&self.l).map(|(axes, &l)| to_body(axes, l)).collect(),
        }
    }
}

/// The Verlet list: candidate non-bonded pairs within cut-off + skin, and the positions it was
/// built at.
struct VerletList {
    pairs: Vec<(usize, usize)>,
    built_at: Vec<Vec3>,
    half_skin2: f64,
    builds: u64,
}

impl VerletList {
    fn new(frame: &Frame, cutoff: f64, skin: f64) -> VerletList {
        let mut l = VerletList { pairs: Vec::new(), built_at: Vec::new(), half_skin2: (skin / 2.0).powi(2), builds: 0 };
        l.build(frame, cutoff + skin);
        l
    }

    fn build(&mut self, frame: &Frame, range: f64) {
        self.pairs = pairs_within(&frame.r, &frame.bx, range);
        self.built_at.clone_from(&frame.r);
        self.builds += 1;
    }

    fn needs_update(&self, r: &[Vec3]) -> bool {
        let moved = |(a, b): (&Vec3, &Vec3)| (*a - *b).norm2() > self.half_skin2;
        if rayon::current_thread_index().is_some() && r.len() >= 1024 {
            use rayon::prelude::*;
            r.par_iter().zip(self.built_at.par_iter()).with_min_len(512).any(moved)
        } else {
            r.iter().zip(&self.built_at).any(moved)
        }
    }
}

/// Runs molecular dynamics of `model` from `state`.
pub struct Md<'a> {
    model: &'a EnergyModel,
    cfg: MdConfig,
    kt: f64,
    rng: Xoshiro256PlusPlus,
    forces: Forces,
    list: VerletList,
    ws: ForceWorkspace,
    external: Vec<ExternalForce>,
    /// The model's energy at the current state, without the external forces'.
    interaction: f64,
}

impl<'a> Md<'a> {
    /// Prepares a run: validates the settings and computes the initial forces.
    pub fn new(model: &'a EnergyModel, cfg: MdConfig, state: &MdState) -> Result<Md<'a>> {
        let kt = model.params().value("kt");
        cfg.validate(kt)?;
        if state.v.len() != model.len() {
            return Err(Error::mismatch(
                "configuration and topology",
                format!("the configuration has {} nucleotides, the topology {}", state.v.len(), model.len()),
            ));
        }
        let list = VerletList::new(&state.frame, model.cutoff(), cfg.verlet_skin);
        let rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
        let mut md = Md {
            model,
            cfg,
            kt,
            rng,
            forces: Forces::zeros(model.len()),
            list,
            ws: ForceWorkspace::default(),
            external: Vec::new(),
            interaction: 0.0,
        };
        md.compute_forces(&state.frame, state.step, true);
        Ok(md)
    }

    /// With external forces (traps, pulls, planes; [`super::external`]), which then act from
    /// `state` on.
    #[must_use]
    pub fn external(mut self, forces: Vec<ExternalForce>, state: &MdState) -> Md<'a> {
        self.external = forces;
        self.compute_forces(&state.frame, state.step, true);
        self
    }

    /// Evaluates forces on `threads` threads (1: this thread only). The trajectory is the same,
    /// bit for bit, for any number of threads.
    pub fn threads(mut self, threads: usize) -> Result<Md<'a>> {
        self.ws = ForceWorkspace::with_threads(threads)?;
        Ok(self)
    }

    /// The potential energy at the current state: the model's and the external forces' (the
    /// energy a run without thermostat conserves with the kinetic energy).
    #[must_use]
    pub fn potential(&self) -> f64 {
        self.forces.energy
    }

    /// The model's energy at the current state, without the external forces': what oxDNA 3.7
    /// writes as the potential energy (`U` of its energy file and of a configuration's `E =`
    /// line). Equal to [`Md::potential`] without external forces.
    #[must_use]
    pub fn interaction_potential(&self) -> f64 {
        self.interaction
    }

    /// How many times the Verlet list was built.
    #[must_use]
    pub fn list_builds(&self) -> u64 {
        self.list.builds
    }

    /// Forces and energy at `step` (the step `frame` belongs to); `first`: the forces a run
    /// starts from, at `step` itself, else those of the step from `step − 1`.
    fn compute_forces(&mut self, frame: &Frame, step: u64, first: bool) {
        if self.list.needs_update(&frame.r) {
            self.list.build(frame, self.model.cutoff() + self.cfg.verlet_skin);
        }
        self.forces.clear();
        self.model.accumulate_forces_unchecked(frame, &self.list.pairs, &mut self.forces, &mut self.ws);
        self.interaction = self.forces.energy;
        // oxDNA evaluates the forces of the step that takes its counter from t to t + 1 at t (it
        // raises the counter after the step), and their energies where it prints them: at the
        // step the positions belong to
        let force_step = step.saturating_sub(u64::from(!first));
        for f in &self.external {
            let u = f.apply(force_step, &frame.r, &frame.bx, &mut self.forces.f);
            self.forces.energy +=
                if f.moves() && force_step != step { f.energy(step, &|i| frame.r[i], &frame.bx) } else { u };
        }
    }

    fn gauss(&mut self) -> Vec3 {
        let mut g = || -> f64 { self.rng.sample(StandardNormal) };
        Vec3::new(g(), g(), g())
    }

    /// Draws every velocity and angular momentum from the Maxwell distribution at the model's kT.
    pub fn refresh_velocities(&mut self, state: &mut MdState) {
        let s = self.kt.sqrt();
        for i in 0..state.v.len() {
            state.v[i] = self.gauss() * s;
            state.l[i] = self.gauss() * s;
        }
    }

    /// One velocity-Verlet step, then the thermostat. A bond stretched to FENE's divergence or a
    /// non-finite energy is an error ([`Error::Unstable`]) naming the step and the nucleotides;
    /// `state` then holds the failed step. On several threads the whole step runs in the thread
    /// pool (the threads stay busy from one force evaluation to the next); the result is the
    /// same, bit for bit, for any number of threads.
    pub fn step(&mut self, state: &mut MdState) -> Result<()> {
        match self.ws.pool() {
            Some(pool) => pool.install(|| self.step_inner(state, true)),
            None => self.step_inner(state, false),
        }
    }

    /// Runs `f` (typically a loop of [`Md::step`]s) on this run's threads: the threads then stay
    /// busy from one step to the next instead of each step being handed to them and back. The
    /// results are the same; on one thread this just calls `f`.
    pub fn within<R: Send>(&mut self, f: impl FnOnce(&mut Md<'a>) -> R + Send) -> R {
        match self.ws.pool() {
            Some(pool) => pool.install(|| f(self)),
            None => f(self),
        }
    }

    fn step_inner(&mut self, state: &mut MdState, parallel: bool) -> Result<()> {
        let dt = self.cfg.dt;
        let half = 0.5 * dt;
        // half kick, drift and rotation: each nucleotide on its own
        let (f, tq) = (&self.forces.f, &self.forces.torque);
        let first = |((v, r), (l, axes)): ((&mut Vec3, &mut Vec3), (&mut Vec3, &mut [Vec3; 3])), i: usize| {
            *v += f[i] * half;
            *r += *v * dt;
            *l += tq[i] * half;
            let w = l.norm();
            if w > 0.0 {
                let (axis, angle) = (*l / w, w * dt);
                let [a1, _, a3] = *axes;
                let (a1, a2, a3) = orthonormalize(rotate(a1, axis, angle), rotate(a3, axis, angle));
                *axes = [a1, a2, a3];
            }
        };
        if parallel {
            use rayon::prelude::*;
            state
                .v
                .par_iter_mut()
                .zip(state.frame.r.par_iter_mut())
                .zip(state.l.par_iter_mut().zip(state.frame.axes.par_iter_mut()))
                .enumerate()
                .with_min_len(256)
                .for_each(|(i, x)| first(x, i));
        } else {
            let items = state
                .v
                .iter_mut()
                .zip(state.frame.r.iter_mut())
                .zip(state.l.iter_mut().zip(state.frame.axes.iter_mut()));
            for (i, x) in items.enumerate() {
                first(x, i);
            }
        }
        self.compute_forces(&state.frame, state.step + 1, false);
        let (f, tq) = (&self.forces.f, &self.forces.torque);
        let second = |(i, (v, l)): (usize, (&mut Vec3, &mut Vec3))| {
            *v += f[i] * half;
            *l += tq[i] * half;
        };
        if parallel {
            use rayon::prelude::*;
            state.v.par_iter_mut().zip(state.l.par_iter_mut()).enumerate().with_min_len(256).for_each(second);
        } else {
            state.v.iter_mut().zip(state.l.iter_mut()).enumerate().for_each(second);
        }
        state.step += 1;
        if !self.forces.energy.is_finite() {
            return Err(Error::Unstable {
                step: state.step,
                detail: format!(
                    "{}; reduce dt (now {}) or start from a relaxed configuration",
                    self.model.diagnose(&state.frame),
                    self.cfg.dt
                ),
            });
        }
        self.thermostat(state);
        Ok(())
    }

    fn thermostat(&mut self, state: &mut MdState) {
        let s = self.kt.sqrt();
        match self.cfg.thermostat {
            Thermostat::None => {}
            Thermostat::John { newtonian_steps, diff_coeff } => {
                if !state.step.is_multiple_of(newtonian_steps) {
                    return;
                }
                let (pt, pr) = john_probabilities(self.kt, self.cfg.dt, newtonian_steps, diff_coeff);
                for i in 0..state.v.len() {
                    if self.rng.random::<f64>() < pt {
                        state.v[i] = self.gauss() * s;
                    }
                    if self.rng.random::<f64>() < pr {
                        state.l[i] = self.gauss() * s;
                    }
                }
            }
            Thermostat::Langevin { gamma_trans, gamma_rot } => {
                let (ct, cr) = ((-gamma_trans * self.cfg.dt).exp(), (-gamma_rot * self.cfg.dt).exp());
                let (nt, nr) = (((1.0 - ct * ct) * self.kt).sqrt(), ((1.0 - cr * cr) * self.kt).sqrt());
                for i in 0..state.v.len() {
                    state.v[i] = state.v[i] * ct + self.gauss() * nt;
                    state.l[i] = state.l[i] * cr + self.gauss() * nr;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The integrator and the thermostats, exactly where the equations allow it and
    //! statistically (5σ) where they are random. Free nucleotides (single-nucleotide strands,
    //! no terms) move only as the integrator and the thermostat say.
    use super::*;
    use crate::energy::TermId;
    use crate::generate::{helix, parse_sequence, Shape};
    use crate::geometry::PeriodicBox;
    use crate::params::ParamSet;
    use crate::system::{Base, StrandKind, Topology, TopologyFormat};

    const KT: f64 = 0.1;

    fn cfg(dt: f64, thermostat: Thermostat, verlet_skin: f64) -> MdConfig {
        MdConfig { dt, steps: 0, thermostat, verlet_skin, seed: 7 }
    }

    /// `n` unbonded nucleotides on a cubic grid of spacing 3, each with velocity `v` and angular
    /// momentum `l(i)`, in a model with no terms at all (forces and torques are zero).
    fn free(n: usize, v: Vec3, l: impl Fn(usize) -> Vec3) -> (EnergyModel, MdState) {
        let strands: Vec<_> = (0..n).map(|_| (vec![Base::A], StrandKind::Dna, false)).collect();
        let top = Topology::from_sequences(&strands, TopologyFormat::Classic);
        let mut p = ParamSet::dna1_defaults();
        p.set("kt", KT).unwrap();
        let model = EnergyModel::new(&top, p).unwrap().without_terms(&TermId::ALL);
        let side = (n as f64).cbrt().ceil() as usize;
        let at = |i: usize| Vec3::new((i % side) as f64, (i / side % side) as f64, (i / side / side) as f64) * 3.0;
        let tilt = |i: usize| Vec3::new(1.0, 0.1 * (i % 7) as f64, 0.0);
        let c = Configuration {
            step: 0,
            box_sides: Vec3::new(1.0, 1.0, 1.0) * (3.0 * side as f64),
            energy: [0.0; 3],
            r: (0..n).map(at).collect(),
            a1: (0..n).map(tilt).collect(),
            a3: vec![Vec3::new(0.0, 0.0, 1.0); n],
            v: vec![v; n],
            l: vec![Vec3::ZERO; n],
        };
        // `l` gives lab-frame angular momenta (a file's are body-frame)
        let mut st = MdState::from_configuration(&c);
        st.l = (0..n).map(l).collect();
        (model, st)
    }

    /// A generated duplex of `seq` with `params` at kT = `KT`.
    fn duplex(seq: &str, mut params: ParamSet) -> (EnergyModel, MdState) {
        let (top, conf) = helix(&parse_sequence(seq).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        params.set("kt", KT).unwrap();
        (EnergyModel::new(&top, params).unwrap(), MdState::from_configuration(&conf))
    }

    fn close(a: Vec3, b: Vec3, tol: f64) -> bool {
        (a - b).norm() <= tol
    }

    #[test]
    fn bad_settings_are_refused_and_good_ones_kept() {
        let john = Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 };
        let langevin = Thermostat::Langevin { gamma_trans: 1.0, gamma_rot: 3.0 };
        for t in [Thermostat::None, john, langevin] {
            cfg(0.005, t, 0.05).validate(KT).unwrap();
            cfg(1e-9, t, 1e-9).validate(KT).unwrap();
        }
        let bad = [
            cfg(0.0, john, 0.05),
            cfg(-0.005, john, 0.05),
            cfg(f64::NAN, john, 0.05),
            cfg(f64::INFINITY, john, 0.05),
            cfg(0.005, john, 0.0),
            cfg(0.005, john, -0.1),
            cfg(0.005, john, f64::INFINITY),
            cfg(0.005, Thermostat::John { newtonian_steps: 0, diff_coeff: 2.5 }, 0.05),
            cfg(0.005, Thermostat::John { newtonian_steps: 103, diff_coeff: 0.0 }, 0.05),
            cfg(0.005, Thermostat::John { newtonian_steps: 103, diff_coeff: f64::NAN }, 0.05),
            // 2TNdt/(TNdt + 2D) ≥ 1: TNdt = 5.15 ≥ 2D
            cfg(0.005, Thermostat::John { newtonian_steps: 10_300, diff_coeff: 2.5 }, 0.05),
            cfg(0.005, Thermostat::Langevin { gamma_trans: 0.0, gamma_rot: 3.0 }, 0.05),
            cfg(0.005, Thermostat::Langevin { gamma_trans: 1.0, gamma_rot: 0.0 }, 0.05),
            cfg(0.005, Thermostat::Langevin { gamma_trans: f64::NAN, gamma_rot: 3.0 }, 0.05),
        ];
        for c in bad {
            assert!(c.validate(KT).is_err(), "{c:?} was accepted");
        }
        // a zero diffusion coefficient is named as such (not as a refresh probability of 2)
        let e = cfg(0.005, Thermostat::John { newtonian_steps: 103, diff_coeff: 0.0 }, 0.05).validate(KT).unwrap_err();
        assert!(e.to_string().starts_with("invalid diff_coeff = 0"), "{e}");
        // just below the refresh-probability limit (TNdt = 4.99 < 2D = 5)
        cfg(0.005, Thermostat::John { newtonian_steps: 9980, diff_coeff: 2.5 }, 0.05).validate(KT).unwrap();
    }

    #[test]
    fn john_probabilities_by_hand() {
        // T N dt = 0.1 · 100 · 0.005 = 0.05; D_t = TNdt (1/p_t − 1/2) works out to D itself, so
        // p_r = 2TNdt/(TNdt + 6D)
        let (pt, pr) = john_probabilities(0.1, 0.005, 100, 0.2);
        assert!((pt - 0.1 / 0.45).abs() < 1e-15, "{pt}");
        assert!((pr - 0.1 / 1.25).abs() < 1e-15, "{pr}");
        let (pt, pr) = john_probabilities(0.11, 0.003, 103, 2.5);
        let tnd = 0.11 * 103.0 * 0.003;
        assert!((pt - 2.0 * tnd / (tnd + 5.0)).abs() < 1e-15, "{pt}");
        assert!((pr - 2.0 * tnd / (tnd + 15.0)).abs() < 1e-15, "{pr}");
    }

    #[test]
    fn kinetic_energy_and_the_written_configuration_by_hand() {
        let (_, mut st) = free(2, Vec3::new(1.0, 2.0, 2.0), |i| Vec3::new(0.0, 0.0, 1.0 + i as f64));
        st.step = 42;
        // ½ Σ v² = ½ · 2 · 9; ½ Σ L² = ½ (1 + 4)
        assert_eq!(st.kinetic(), (9.0, 2.5));
        let c = st.to_configuration(-3.0);
        assert_eq!(c.step, 42);
        assert_eq!(c.box_sides, Vec3::new(6.0, 6.0, 6.0));
        // per nucleotide: K = 11.5 / 2, U = −3 / 2
        assert_eq!(c.energy, [-1.5 + 5.75, -1.5, 5.75]);
        assert_eq!((c.r.clone(), c.v.clone()), (st.frame.r.clone(), st.v.clone()));
        // L is written in the body frame: nucleotide 1's a1 is tilted about a3 = z, and its L is
        // along z, so its body components are (0, 0, 2) exactly
        assert_eq!(c.l, vec![Vec3::new(0.0, 0.0, 1.0), Vec3::new(0.0, 0.0, 2.0)]);
        let mut tilted = c.clone();
        tilted.l[1] = Vec3::new(1.0, 0.0, 0.0);
        let a1 = st.frame.axes[1][0];
        assert!(close(MdState::from_configuration(&tilted).l[1], a1, 1e-15) && a1 != Vec3::new(1.0, 0.0, 0.0));
        for i in 0..2 {
            assert_eq!((c.a1[i], c.a3[i]), (st.frame.axes[i][0], st.frame.axes[i][2]));
            assert!(c.a1[i] != c.a3[i]);
        }
        let back = MdState::from_configuration(&c);
        assert_eq!((back.step, back.v, back.l), (42, st.v.clone(), st.l.clone()));
    }

    #[test]
    fn copy_from_copies_everything_on_any_thread() {
        for n in [3, 1100] {
            let (_, a) = free(n, Vec3::new(0.1, 0.2, 0.3), |i| Vec3::new(i as f64, 0.0, 1.0));
            let (_, mut b) = free(n, Vec3::ZERO, |_| Vec3::ZERO);
            let mut a = a;
            a.step = 9;
            a.frame.bx = PeriodicBox::new(Vec3::new(100.0, 101.0, 102.0));
            a.frame.r[n - 1] = Vec3::new(-5.0, 0.0, 0.0);
            a.frame.axes[n - 1] = [Vec3::new(0.0, 1.0, 0.0), Vec3::new(0.0, 0.0, 1.0), Vec3::new(1.0, 0.0, 0.0)];
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            pool.install(|| b.copy_from(&a));
            assert_eq!(
                (b.step, b.frame.bx.sides(), &b.frame.r, &b.frame.axes),
                (9, a.frame.bx.sides(), &a.frame.r, &a.frame.axes)
            );
            assert_eq!((&b.v, &b.l), (&a.v, &a.l));
        }
    }

    #[test]
    fn free_nucleotides_drift_and_spin_exactly() {
        // no forces: r = r0 + K v dt; L constant; the frame turns by K |L| dt about L̂. One
        // nucleotide has L = 0 and must not turn.
        let v = Vec3::new(0.3, -0.2, 0.1);
        let spin = |i: usize| if i == 0 { Vec3::ZERO } else { Vec3::new(0.2, 0.1 * i as f64, -0.3) };
        let (model, mut st) = free(5, v, spin);
        let start = st.clone();
        let dt = 0.004;
        let mut md = Md::new(&model, cfg(dt, Thermostat::None, 0.3), &st).unwrap();
        let k = 250;
        for _ in 0..k {
            md.step(&mut st).unwrap();
        }
        assert_eq!(st.step, k);
        for i in 0..5 {
            assert!(close(st.frame.r[i], start.frame.r[i] + v * (k as f64 * dt), 1e-12), "r[{i}]");
            assert_eq!((st.v[i], st.l[i]), (v, spin(i)));
            let l = spin(i);
            for a in 0..3 {
                let want = if i == 0 {
                    start.frame.axes[i][a]
                } else {
                    rotate(start.frame.axes[i][a], l / l.norm(), l.norm() * k as f64 * dt)
                };
                assert!(
                    close(st.frame.axes[i][a], want, 1e-10),
                    "axis {a} of {i}: {:?} != {want:?}",
                    st.frame.axes[i][a]
                );
            }
        }
        assert_eq!(md.potential(), 0.0);
    }

    #[test]
    fn a_growing_pull_moves_a_free_nucleotide_as_velocity_verlet_says() {
        // F(t) = (f0 + rate t) x̂ at step t. As in oxDNA, the forces of step k (the counter going
        // from k to k + 1) are evaluated at counter k, and a run starts from F(0): velocity Verlet
        // kicks with F(k − 1)/2 and F(k)/2 in step k (F(0)/2 twice in step 0), so
        // v_K = v0 + dt (K f0 + rate (K − 1)²/2) exactly; for rate = 0, r_K = r0 + K v0 dt + f0 (K dt)²/2.
        let (model, st0) = free(2, Vec3::new(0.1, 0.0, 0.0), |_| Vec3::ZERO);
        let (dt, k) = (0.005, 400u64);
        for (f0, rate) in [(0.3, 0.0), (0.3, 0.002)] {
            let mut st = st0.clone();
            let pull = ExternalForce::String {
                particles: vec![1],
                f0,
                rate,
                dir: Vec3::new(1.0, 0.0, 0.0),
                dir_as_centre: false,
            };
            let mut md = Md::new(&model, cfg(dt, Thermostat::None, 0.3), &st).unwrap().external(vec![pull], &st);
            for _ in 0..k {
                md.step(&mut st).unwrap();
            }
            let kf = k as f64;
            let want_v = 0.1 + dt * (kf * f0 + rate * (kf - 1.0).powi(2) / 2.0);
            assert!((st.v[1].0[0] - want_v).abs() < 1e-12, "v = {:?}, want {want_v}", st.v[1]);
            assert_eq!(st.v[0], st0.v[0], "the pull acts on nucleotide 1 only");
            if rate == 0.0 {
                let want_r = st0.frame.r[1].0[0] + kf * 0.1 * dt + f0 * (kf * dt).powi(2) / 2.0;
                assert!((st.frame.r[1].0[0] - want_r).abs() < 1e-12, "r = {:?}, want {want_r}", st.frame.r[1]);
            }
            // the potential includes the pull's −F·r, at the step the positions belong to (K)
            let x = st.frame.r[1].0[0];
            assert!((md.potential() + (f0 + rate * kf) * x).abs() < 1e-12, "U = {}", md.potential());
        }
    }

    #[test]
    fn the_verlet_list_is_rebuilt_when_a_nucleotide_has_moved_half_the_skin() {
        // every nucleotide moves 0.005 per step; half the skin is 0.1015, first exceeded after 21
        // steps: rebuilds at steps 21, 42, 63, 84, plus the first build
        let (model, mut st) = free(8, Vec3::new(1.0, 0.0, 0.0), |_| Vec3::ZERO);
        let mut md = Md::new(&model, cfg(0.005, Thermostat::None, 0.203), &st).unwrap();
        assert_eq!(md.list_builds(), 1);
        for _ in 0..100 {
            md.step(&mut st).unwrap();
        }
        assert_eq!(md.list_builds(), 5);
    }

    #[test]
    fn the_pair_list_misses_no_interaction_as_a_duplex_moves() {
        // oxDNA2's Debye–Hückel acts out to the cut-off, so a pair list short of cut-off + skin
        // would lose energy; a large skin makes the band between them wide
        let (model, mut st) = duplex("ACGTTGCAAT", ParamSet::dna2_defaults());
        let john = Thermostat::John { newtonian_steps: 10, diff_coeff: 0.5 };
        let mut md = Md::new(&model, cfg(0.005, john, 0.8), &st).unwrap();
        md.refresh_velocities(&mut st);
        for k in 0..3000 {
            md.step(&mut st).unwrap();
            if k % 100 == 99 {
                let u = model.energy(&st.to_configuration(0.0)).unwrap();
                assert!((md.potential() - u).abs() < 1e-10 * u.abs().max(1.0), "step {k}: {} != {u}", md.potential());
            }
        }
        assert!(md.list_builds() > 2, "{} builds", md.list_builds());
    }

    /// Mean and variance of every component of `xs`.
    fn moments(xs: &[Vec3]) -> (f64, f64) {
        let comps: Vec<f64> = xs.iter().flat_map(|x| x.0).collect();
        let n = comps.len() as f64;
        let mean = comps.iter().sum::<f64>() / n;
        (mean, comps.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (n - 1.0))
    }

    /// Asserts Gaussian samples have mean `mean` and variance `var` within 5σ.
    fn assert_gaussian(xs: &[Vec3], mean: f64, var: f64, what: &str) {
        let n = 3.0 * xs.len() as f64;
        let (m, v) = moments(xs);
        assert!((m - mean).abs() < 5.0 * (var / n).sqrt(), "{what}: mean {m}, want {mean}");
        assert!((v - var).abs() < 5.0 * var * (2.0 / n).sqrt(), "{what}: variance {v}, want {var}");
    }

    #[test]
    fn fresh_velocities_are_maxwellian_at_the_models_temperature() {
        let (model, mut st) = free(3000, Vec3::ZERO, |_| Vec3::ZERO);
        let mut md = Md::new(&model, cfg(0.005, Thermostat::None, 0.3), &st).unwrap();
        md.refresh_velocities(&mut st);
        assert_gaussian(&st.v, 0.0, KT, "v");
        assert_gaussian(&st.l, 0.0, KT, "L");
    }

    #[test]
    fn john_refreshes_at_its_probabilities_and_only_every_newtonian_steps() {
        let n = 2000;
        let (model, mut st) = free(n, Vec3::new(0.2, 0.0, 0.0), |_| Vec3::new(0.0, 0.0, 0.2));
        let (dt, every, d) = (0.005, 100, 0.2);
        let (pt, pr) = john_probabilities(KT, dt, every, d);
        let john = Thermostat::John { newtonian_steps: every, diff_coeff: d };
        let mut md = Md::new(&model, cfg(dt, john, 0.5), &st).unwrap();
        let (mut changed_v, mut changed_l, mut fresh_v, mut fresh_l) = (0, 0, Vec::new(), Vec::new());
        for _ in 0..1000 {
            let before = st.clone();
            md.step(&mut st).unwrap();
            let cv: Vec<usize> = (0..n).filter(|&i| st.v[i] != before.v[i]).collect();
            let cl: Vec<usize> = (0..n).filter(|&i| st.l[i] != before.l[i]).collect();
            if st.step % every != 0 {
                assert!(cv.is_empty() && cl.is_empty(), "step {}: refreshed between refreshes", st.step);
                continue;
            }
            changed_v += cv.len();
            changed_l += cl.len();
            fresh_v.extend(cv.iter().map(|&i| st.v[i]));
            fresh_l.extend(cl.iter().map(|&i| st.l[i]));
        }
        let trials = 10.0 * n as f64;
        for (count, p, what) in [(changed_v, pt, "velocities"), (changed_l, pr, "angular momenta")] {
            let f = count as f64 / trials;
            assert!(
                (f - p).abs() < 5.0 * (p * (1.0 - p) / trials).sqrt(),
                "{what} refreshed with frequency {f}, want {p}"
            );
        }
        assert_gaussian(&fresh_v, 0.0, KT, "refreshed v");
        assert_gaussian(&fresh_l, 0.0, KT, "refreshed L");
    }

    #[test]
    fn langevin_is_the_exact_ornstein_uhlenbeck_step() {
        // v ← e^{−γ dt} v + √((1 − e^{−2γ dt}) T) ξ. Two runs with the same seed draw the same ξ,
        // so their difference decays by e^{−γ dt} exactly; from rest the spread is the noise's.
        let n = 3000;
        let (gt, gr, dt) = (5.0, 15.0, 0.01);
        let langevin = Thermostat::Langevin { gamma_trans: gt, gamma_rot: gr };
        let (u, w) = (Vec3::new(0.3, -0.2, 0.1), Vec3::new(-0.1, 0.4, 0.2));
        let (model, mut moving) = free(n, u, |_| w);
        let (_, mut rest) = free(n, Vec3::ZERO, |_| Vec3::ZERO);
        let mut a = Md::new(&model, cfg(dt, langevin, 0.3), &moving).unwrap();
        let mut b = Md::new(&model, cfg(dt, langevin, 0.3), &rest).unwrap();
        a.step(&mut moving).unwrap();
        b.step(&mut rest).unwrap();
        let (ct, cr) = ((-gt * dt).exp(), (-gr * dt).exp());
        for i in 0..n {
            assert!(close(moving.v[i] - rest.v[i], u * ct, 1e-14), "v[{i}]");
            assert!(close(moving.l[i] - rest.l[i], w * cr, 1e-14), "L[{i}]");
        }
        assert_gaussian(&rest.v, 0.0, (1.0 - ct * ct) * KT, "v");
        assert_gaussian(&rest.l, 0.0, (1.0 - cr * cr) * KT, "L");
    }

    #[test]
    fn a_bonded_duplex_conserves_energy_without_a_thermostat() {
        // forces and torques kicked with the right signs and sizes conserve the total energy;
        // a wrong half-kick of either drifts it by orders of magnitude more
        let (model, mut st) = duplex("ACGTTGCA", ParamSet::dna1_defaults());
        let mut md = Md::new(&model, cfg(0.003, Thermostat::None, 0.2), &st).unwrap();
        md.refresh_velocities(&mut st);
        let total = |md: &Md, st: &MdState| (md.potential() + st.kinetic().0 + st.kinetic().1) / st.v.len() as f64;
        let e0 = total(&md, &st);
        let mut worst: f64 = 0.0;
        for _ in 0..5000 {
            md.step(&mut st).unwrap();
            worst = worst.max((total(&md, &st) - e0).abs());
        }
        eprintln!("|E − E0| per nucleotide at most {worst:.2e}");
        assert!(worst < 1e-3, "energy drifts by {worst:e} per nucleotide");
    }
}
