//! Rigid-body molecular dynamics for oxDNA models: velocity Verlet with oxDNA's thermostats.
//!
//! Every nucleotide has mass 1 and an isotropic moment of inertia 1 (oxDNA's convention), so the
//! angular velocity equals the angular momentum `L` (lab frame). One step of length dt:
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
use crate::geometry::{orthonormalize, rotate, Vec3};
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

/// Settings of an MD run.
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

impl MdConfig {
    /// Checks the settings (written as `!(x > 0)` so NaN is rejected too).
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn validate(&self, kt: f64) -> Result<()> {
        if !(self.dt > 0.0 && self.dt.is_finite()) {
            return Err(Error::invalid("dt", self.dt, "a positive time step; oxDNA runs use 0.002 to 0.005"));
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
                        format!("the refresh probability 2TNdt/(TNdt + 2D) = {pt:.3} must be below 1: use fewer steps or a larger diff_coeff"),
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
    /// Angular momenta (lab frame).
    pub l: Vec<Vec3>,
}

impl MdState {
    /// From a configuration (orientations repaired as oxDNA does).
    #[must_use]
    pub fn from_configuration(c: &Configuration) -> MdState {
        MdState { step: c.step, frame: Frame::new(c), v: c.v.clone(), l: c.l.clone() }
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

    /// The state as an oxDNA configuration, with energies per nucleotide in its `E =` line.
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
            l: self.l.clone(),
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
        };
        md.compute_forces(&state.frame, state.step);
        Ok(md)
    }

    /// With external forces (traps, pulls, planes; [`super::external`]), which then act from
    /// `state` on.
    #[must_use]
    pub fn external(mut self, forces: Vec<ExternalForce>, state: &MdState) -> Md<'a> {
        self.external = forces;
        self.compute_forces(&state.frame, state.step);
        self
    }

    /// Evaluates forces on `threads` threads (1: this thread only). The trajectory is the same,
    /// bit for bit, for any number of threads.
    pub fn threads(mut self, threads: usize) -> Result<Md<'a>> {
        self.ws = ForceWorkspace::with_threads(threads)?;
        Ok(self)
    }

    /// The potential energy at the current state.
    #[must_use]
    pub fn potential(&self) -> f64 {
        self.forces.energy
    }

    /// How many times the Verlet list was built.
    #[must_use]
    pub fn list_builds(&self) -> u64 {
        self.list.builds
    }

    fn compute_forces(&mut self, frame: &Frame, step: u64) {
        if self.list.needs_update(&frame.r) {
            self.list.build(frame, self.model.cutoff() + self.cfg.verlet_skin);
        }
        self.forces.clear();
        self.model.accumulate_forces_unchecked(frame, &self.list.pairs, &mut self.forces, &mut self.ws);
        for f in &self.external {
            self.forces.energy += f.apply(step, &frame.r, &frame.bx, &mut self.forces.f);
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
        self.compute_forces(&state.frame, state.step + 1);
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
                if state.step % newtonian_steps != 0 {
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
