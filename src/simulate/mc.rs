//! Monte Carlo in the canonical ensemble (NVT): single-nucleotide Metropolis moves (oxDNA's
//! `sim_type = MC`) and virtual-move Monte Carlo (`sim_type = VMMC`), the cluster algorithm of
//! Whitelam and Geissler (J. Chem. Phys. 127, 154101 (2007); 131, 144905 (2009)) as oxDNA runs
//! it for melting and assembly studies.
//!
//! **Moves.** A move picks a nucleotide uniformly (the *seed*) and, with probability ½ each, a
//! translation or a rotation about an axis uniform on the sphere, about the seed's centre. As in
//! oxDNA, MC draws the translation's components and the angle uniformly in [−δ/2, δ/2], VMMC
//! from Gaussians of standard deviation δ (δ_t = `delta_translation`, length units; δ_r =
//! `delta_rotation`, radians). A move and its reverse are equally likely, so the proposal is
//! symmetric. A *step* is N move attempts (N nucleotides), oxDNA's
//! unit for `steps` and the output intervals.
//!
//! **MC.** The seed alone moves; the move is accepted with probability min(1, e^{−βΔU}) times
//! the ratio of umbrella weights (if any).
//!
//! **VMMC.** The moving cluster grows from the seed by links. For a cluster member i and a
//! nucleotide j outside it, with ε_ij the pair energy, i virtually moved by the move (M) and by
//! its reverse (M⁻¹):
//!
//! ```text
//! p_f = max(0, 1 − exp(−β[ε(M i, j) − ε(i, j)]))        the forward link probability
//! p_r = max(0, 1 − exp(−β[ε(M⁻¹ i, j) − ε(i, j)]))      the reverse link probability
//! ```
//!
//! a link forms with probability p_f and is kept with probability min(1, p_r / p_f), which
//! recruits j into the cluster; a link formed but not kept is *frustrated*. The move is
//! rejected if a frustrated link ends with j outside the cluster, or if the cluster would exceed
//! `maxclust` nucleotides; otherwise it is accepted with probability min(1, e^{−βΔE}·w′/w),
//! where ΔE holds only what is not a pair energy (external forces, users' single-nucleotide
//! terms) and w′/w the umbrella weights. For pair energies this satisfies detailed balance
//! exactly (Whitelam & Geissler 2009): a cluster moves as a whole when breaking it would cost
//! energy, so strands diffuse and duplexes form and melt without unphysical traps.
//!
//! **Neighbours.** Nucleotides within the model's cut-off of a member's old or new position are
//! found through a cell list (cells at least one cut-off wide, three or more per side), and
//! backbone neighbours always; with `small_system = 1`, up to 64 nucleotides, fewer than three
//! cells per side, or users' terms on chosen pairs (any distance), every nucleotide is a
//! candidate. Systems up to 1024 nucleotides keep every pair's current energy, so a move
//! evaluates only the moved placements.
//!
//! **Never silently wrong.** The running potential energy is the sum of accepted changes; every
//! `check_energy_every` steps it is recomputed from scratch and a difference above 1e-6 per
//! nucleotide (relative) stops the run. A FENE bond stretched to its divergence has infinite
//! energy, so no move reaches it.
//!
//! Units are oxDNA's: lengths in 0.8518 nm, energies in k_B·3000 K, T_sim = T\[K\]/3000.

use super::external::ExternalForce;
use crate::energy::{EnergyModel, Frame};
use crate::error::{Error, Result};
use crate::geometry::{orthonormalize, PeriodicBox, Vec3};
use crate::io::Configuration;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// The kind of Monte Carlo move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum McMoves {
    /// One nucleotide at a time, Metropolis acceptance (`sim_type = MC`).
    Single,
    /// Clusters grown by virtual moves, at most `maxclust` nucleotides (`sim_type = VMMC`).
    Vmmc {
        /// The largest cluster that may move (oxDNA's `maxclust`).
        maxclust: usize,
    },
}

/// Monte Carlo settings, as oxDNA's input keys name them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McConfig {
    /// Single-nucleotide or cluster moves.
    pub moves: McMoves,
    /// Steps of N move attempts each.
    pub steps: u64,
    /// Largest translation per component (`delta_translation`), length units.
    pub delta_translation: f64,
    /// Largest rotation angle (`delta_rotation`), radians.
    pub delta_rotation: f64,
    /// Every nucleotide is a neighbour candidate (`small_system = 1`).
    pub small_system: bool,
    /// Steps between checks of the running energy against a full evaluation
    /// (`check_energy_every`).
    pub check_energy_every: u64,
    /// Random seed.
    pub seed: u64,
}

impl Default for McConfig {
    /// VMMC with oxDNA's example settings: δ_t = δ_r = 0.22, clusters of any size, 1000 steps.
    fn default() -> McConfig {
        McConfig {
            moves: McMoves::Vmmc { maxclust: usize::MAX },
            steps: 1000,
            delta_translation: McConfig::DELTA,
            delta_rotation: McConfig::DELTA,
            small_system: false,
            check_energy_every: McConfig::CHECK_ENERGY_EVERY,
            seed: 1,
        }
    }
}

impl McConfig {
    /// δ_t and δ_r of oxDNA's VMMC examples (length units and radians).
    pub const DELTA: f64 = 0.22;
    /// Steps between energy checks unless the input says otherwise.
    pub const CHECK_ENERGY_EVERY: u64 = 1000;

    /// Checks the settings, naming the key at fault.
    pub fn validate(&self) -> Result<()> {
        let positive = |key: &str, v: f64, hint: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(key, v, format!("a positive number; {hint}")))
            }
        };
        positive("delta_translation", self.delta_translation, "oxDNA's examples use 0.1 to 0.22 (length units)")?;
        positive("delta_rotation", self.delta_rotation, "oxDNA's examples use 0.1 to 0.22 (radians)")?;
        if self.delta_rotation > std::f64::consts::PI {
            return Err(Error::invalid("delta_rotation", self.delta_rotation, "at most π (radians)"));
        }
        if self.delta_translation > 1.0 {
            return Err(Error::invalid(
                "delta_translation",
                self.delta_translation,
                "at most 1 length unit (0.85 nm): larger moves are all rejected; oxDNA's examples use 0.1 to 0.22",
            ));
        }
        if let McMoves::Vmmc { maxclust: 0 } = self.moves {
            return Err(Error::invalid("maxclust", 0, "at least 1 nucleotide"));
        }
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "at least 1 step"));
        }
        if self.check_energy_every == 0 {
            return Err(Error::invalid("check_energy_every", 0, "at least 1 step"));
        }
        Ok(())
    }
}

/// Positions and frames of a Monte Carlo run, and its step.
#[derive(Debug, Clone)]
pub struct McState {
    /// Current step.
    pub step: u64,
    /// Positions, orthonormal frames, box.
    pub frame: Frame,
}

impl McState {
    /// From a configuration (orientations repaired as oxDNA does; velocities are not used).
    #[must_use]
    pub fn from_configuration(c: &Configuration) -> McState {
        McState { step: c.step, frame: Frame::new(c) }
    }

    /// The state as an oxDNA configuration (zero velocities), with the potential energy per
    /// nucleotide in its `E =` line.
    #[must_use]
    pub fn to_configuration(&self, potential: f64) -> Configuration {
        let n = self.frame.r.len();
        let u = potential / n.max(1) as f64;
        Configuration {
            step: self.step,
            box_sides: self.frame.bx.sides(),
            energy: [u, u, 0.0],
            r: self.frame.r.clone(),
            a1: self.frame.axes.iter().map(|a| a[0]).collect(),
            a3: self.frame.axes.iter().map(|a| a[2]).collect(),
            v: vec![Vec3::ZERO; n],
            l: vec![Vec3::ZERO; n],
        }
    }
}

/// A proposed move of some nucleotides, as a bias sees it.
pub struct Proposal<'m> {
    /// The nucleotides that move.
    pub moved: &'m [usize],
    /// Their new centres, in the order of `moved`.
    pub r: &'m [Vec3],
    /// Their new frames, in the order of `moved`.
    pub axes: &'m [[Vec3; 3]],
    /// Every pair (i moved, j not) whose energy may change: j within the cut-off of i's old or
    /// new place, or bonded to i.
    pub boundary: &'m [(usize, usize)],
}

impl Proposal<'_> {
    /// Where nucleotide `i` is after the move: its new place if it moves, else its place in
    /// `frame`.
    #[must_use]
    pub fn place<'f>(&'f self, frame: &'f Frame, i: usize) -> (Vec3, &'f [Vec3; 3]) {
        match self.moved.iter().position(|&k| k == i) {
            Some(k) => (self.r[k], &self.axes[k]),
            None => (frame.r[i], &frame.axes[i]),
        }
    }
}

/// A bias on the sampled ensemble (umbrella sampling): a weight w(x) > 0 multiplies each
/// state's Boltzmann factor, so a move is accepted with the extra factor w(x′)/w(x).
pub trait Bias {
    /// w(x′)/w(x) for `proposal` from the state `frame`. The bias may keep what it computed
    /// until [`Bias::accept`] or the next proposal.
    fn propose(&mut self, model: &EnergyModel, frame: &Frame, proposal: &Proposal<'_>) -> Result<f64>;

    /// The last proposal, again, was accepted; `frame` is still the state before the move.
    fn accept(&mut self, model: &EnergyModel, frame: &Frame, proposal: &Proposal<'_>) -> Result<()>;

    /// Called after every move attempt, accepted or not, with the state's step and potential
    /// energy (histograms, as oxDNA records them).
    fn after_attempt(&mut self, step: u64, potential: f64) -> Result<()> {
        let _ = (step, potential);
        Ok(())
    }

    /// Called after every step with the state and its potential energy.
    fn sample(&mut self, model: &EnergyModel, state: &McState, potential: f64) -> Result<()> {
        let _ = (model, state, potential);
        Ok(())
    }
}

/// Acceptance counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct McStats {
    /// Translations tried and accepted.
    pub translations: (u64, u64),
    /// Rotations tried and accepted.
    pub rotations: (u64, u64),
    /// Nucleotides moved by accepted moves (their mean is the mean cluster size).
    pub moved: u64,
}

impl McStats {
    /// Accepted / tried, for translations and rotations.
    #[must_use]
    pub fn acceptance(&self) -> (f64, f64) {
        let ratio = |(t, a): (u64, u64)| if t == 0 { 0.0 } else { a as f64 / t as f64 };
        (ratio(self.translations), ratio(self.rotations))
    }
}

/// A rotation matrix (rows).
#[derive(Debug, Clone, Copy)]
struct Rotation([Vec3; 3]);

impl Rotation {
    /// About the unit `axis` by `angle` radians.
    fn new(axis: Vec3, angle: f64) -> Rotation {
        let (s, c) = angle.sin_cos();
        let t = 1.0 - c;
        let [x, y, z] = axis.0;
        Rotation([
            Vec3::new(t * x * x + c, t * x * y - s * z, t * x * z + s * y),
            Vec3::new(t * x * y + s * z, t * y * y + c, t * y * z - s * x),
            Vec3::new(t * x * z - s * y, t * y * z + s * x, t * z * z + c),
        ])
    }

    fn apply(&self, v: Vec3) -> Vec3 {
        Vec3::new(self.0[0].dot(v), self.0[1].dot(v), self.0[2].dot(v))
    }

    fn inverse(&self) -> Rotation {
        let [a, b, c] = self.0;
        Rotation([Vec3::new(a[0], b[0], c[0]), Vec3::new(a[1], b[1], c[1]), Vec3::new(a[2], b[2], c[2])])
    }
}

/// A rigid move: a translation, or a rotation about the seed's centre.
#[derive(Debug, Clone, Copy)]
enum Move {
    Translate(Vec3),
    Rotate(Rotation),
}

impl Move {
    fn inverse(&self) -> Move {
        match *self {
            Move::Translate(t) => Move::Translate(-t),
            Move::Rotate(m) => Move::Rotate(m.inverse()),
        }
    }

    /// Where the nucleotide at `r` with frame `a` goes, `u` its offset from the seed's centre
    /// along the chain of links that recruited it (each link's minimum image: a cluster longer
    /// than half the box, or across its edge, turns as one piece).
    fn apply(&self, r: Vec3, a: &[Vec3; 3], u: Vec3) -> (Vec3, [Vec3; 3]) {
        match self {
            Move::Translate(t) => (r + *t, *a),
            Move::Rotate(m) => (r + m.apply(u) - u, a.map(|v| m.apply(v))),
        }
    }

    fn is_translation(&self) -> bool {
        matches!(self, Move::Translate(_))
    }
}

/// A cell list for finding the nucleotides near a point (or, `None`, every nucleotide).
#[derive(Debug, Clone)]
struct Cells {
    grid: Option<Grid>,
}

#[derive(Debug, Clone)]
struct Grid {
    n: [usize; 3],
    of: Vec<usize>,
    members: Vec<Vec<u32>>,
}

impl Grid {
    fn index(&self, bx: &PeriodicBox, r: Vec3) -> usize {
        let l = bx.sides();
        let c = |k: usize| {
            let x = r[k] - l[k] * (r[k] / l[k]).floor();
            ((x / l[k] * self.n[k] as f64) as usize).min(self.n[k] - 1)
        };
        (c(0) * self.n[1] + c(1)) * self.n[2] + c(2)
    }
}

impl Cells {
    fn new(frame: &Frame, cutoff: f64, all: bool) -> Cells {
        let l = frame.bx.sides();
        let n = [0, 1, 2].map(|k| (l[k] / cutoff).floor().max(0.0) as usize);
        if all || n.iter().any(|&k| k < 3) || frame.r.len() <= ALL_PAIRS_BELOW {
            return Cells { grid: None };
        }
        let mut g = Grid { n, of: Vec::with_capacity(frame.r.len()), members: vec![Vec::new(); n[0] * n[1] * n[2]] };
        for (i, &r) in frame.r.iter().enumerate() {
            let c = g.index(&frame.bx, r);
            g.of.push(c);
            g.members[c].push(i as u32);
        }
        Cells { grid: Some(g) }
    }

    /// Moves nucleotide `i` to the cell of `r`.
    fn update(&mut self, bx: &PeriodicBox, i: usize, r: Vec3) {
        if let Some(g) = &mut self.grid {
            let c = g.index(bx, r);
            let old = g.of[i];
            if c != old {
                let list = &mut g.members[old];
                let at = list.iter().position(|&k| k as usize == i).expect("a nucleotide is in its cell");
                list.swap_remove(at);
                g.members[c].push(i as u32);
                g.of[i] = c;
            }
        }
    }

    /// Calls `f` for every nucleotide in the 27 cells around `r` (every nucleotide without a
    /// grid).
    fn around(&self, bx: &PeriodicBox, r: Vec3, n: usize, mut f: impl FnMut(usize)) {
        let Some(g) = &self.grid else {
            (0..n).for_each(f);
            return;
        };
        let c = g.index(bx, r);
        let (cx, cy, cz) = (c / (g.n[1] * g.n[2]), (c / g.n[2]) % g.n[1], c % g.n[2]);
        let wrap = |x: usize, d: usize, n: usize| (x + n + d - 1) % n;
        for dx in 0..3 {
            for dy in 0..3 {
                for dz in 0..3 {
                    let k = (wrap(cx, dx, g.n[0]) * g.n[1] + wrap(cy, dy, g.n[1])) * g.n[2] + wrap(cz, dz, g.n[2]);
                    for &j in &g.members[k] {
                        f(j as usize);
                    }
                }
            }
        }
    }
}

/// Systems of up to this many nucleotides scan every nucleotide for neighbours: cheaper than
/// 54 mostly empty cells per cluster member (measured on oxDNA's 16-nucleotide VMMC example).
const ALL_PAIRS_BELOW: usize = 64;

/// Sentinel: a nucleotide outside the cluster.
const OUT: u32 = u32::MAX;

/// The Monte Carlo engine for one model and state.
pub struct Mc<'a> {
    model: &'a EnergyModel,
    cfg: McConfig,
    kt: f64,
    rng: Xoshiro256PlusPlus,
    cells: Cells,
    potential: f64,
    external: Vec<ExternalForce>,
    stats: McStats,
    /// The users' single-nucleotide terms act (their energies join ΔE).
    nucleotide_terms: bool,
    // reused buffers: cluster members, their slots, new places; candidates and their stamps;
    // pair changes of links not formed; frustrated links
    cluster: Vec<usize>,
    /// Each member's offset from the seed's centre along its chain of links.
    offset: Vec<Vec3>,
    slot: Vec<u32>,
    new_r: Vec<Vec3>,
    new_axes: Vec<[Vec3; 3]>,
    candidates: Vec<usize>,
    stamp: Vec<u32>,
    stamp_now: u32,
    unlinked: Vec<(usize, usize, f64, f64)>,
    frustrated: Vec<usize>,
    boundary: Vec<(usize, usize)>,
    /// The new energy of each pair of `boundary`.
    boundary_energy: Vec<f64>,
    /// Each nucleotide's site offsets, and those of the cluster's members at their new places.
    sites: Vec<[Vec3; 4]>,
    new_sites: Vec<[Vec3; 4]>,
    /// Pair energies of the current state, n × n, for systems up to [`CACHED_PAIRS`] nucleotides.
    cache: Option<Vec<f64>>,
}

/// Systems up to this many nucleotides keep every pair energy (8 MiB at the limit).
const CACHED_PAIRS: usize = 1024;

impl<'a> Mc<'a> {
    /// An engine for `model` from `state`, at the model's temperature.
    pub fn new(model: &'a EnergyModel, cfg: McConfig, state: &McState) -> Result<Mc<'a>> {
        cfg.validate()?;
        let n = model.len();
        if state.frame.r.len() != n {
            return Err(Error::mismatch(
                "configuration and topology",
                format!("the state has {} nucleotides, the model {n}", state.frame.r.len()),
            ));
        }
        let kt = model.params().value("kt");
        let cells = Cells::new(&state.frame, model.cutoff(), cfg.small_system || model.has_pair_lists());
        let mut mc = Mc {
            model,
            rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
            cfg,
            kt,
            cells,
            potential: 0.0,
            external: Vec::new(),
            stats: McStats::default(),
            nucleotide_terms: model.has_nucleotide_terms(),
            cluster: Vec::new(),
            offset: Vec::new(),
            slot: vec![OUT; n],
            new_r: Vec::new(),
            new_axes: Vec::new(),
            candidates: Vec::new(),
            stamp: vec![0; n],
            stamp_now: 0,
            unlinked: Vec::new(),
            frustrated: Vec::new(),
            boundary: Vec::new(),
            boundary_energy: Vec::new(),
            sites: state.frame.axes.iter().map(|a| model.site_offsets(a)).collect(),
            new_sites: Vec::new(),
            cache: None,
        };
        if n <= CACHED_PAIRS {
            let f = &state.frame;
            let mut cache = vec![0.0; n * n];
            for i in 0..n {
                for j in i + 1..n {
                    let e = mc.pair(f, i, f.r[i], &f.axes[i], &mc.sites[i], j);
                    cache[i * n + j] = e;
                    cache[j * n + i] = e;
                }
            }
            mc.cache = Some(cache);
        }
        mc.potential = mc.full_energy(state)?;
        Ok(mc)
    }

    /// With external forces (their energies join every move's ΔE).
    pub fn external(mut self, forces: Vec<ExternalForce>, state: &McState) -> Result<Mc<'a>> {
        self.external = forces;
        self.potential = self.full_energy(state)?;
        Ok(self)
    }

    /// The potential energy of the current state (the running sum of accepted changes): the
    /// model's and the external forces', the energy the moves are accepted on.
    #[must_use]
    pub fn potential(&self) -> f64 {
        self.potential
    }

    /// The model's energy of `state` (the current state), without the external forces': what
    /// oxDNA 3.7 writes as the potential energy (`U` of its energy file and of a configuration's
    /// `E =` line). [`Mc::potential`] less the external forces' energy at `state.step`; equal to
    /// it without external forces.
    #[must_use]
    pub fn interaction_potential(&self, state: &McState) -> f64 {
        if self.external.is_empty() {
            return self.potential;
        }
        self.potential - self.external_energy(state.step, &|i| state.frame.r[i], &state.frame.bx, None)
    }

    /// Acceptance counts so far.
    #[must_use]
    pub fn stats(&self) -> McStats {
        self.stats
    }

    /// The potential energy of `state` from scratch: the model's energy and the external
    /// forces'. An energy that is not finite is an error naming what is wrong.
    pub fn full_energy(&self, state: &McState) -> Result<f64> {
        let c = state.to_configuration(0.0);
        let e = self.model.energy(&c)? + self.external_energy(state.step, &|i| state.frame.r[i], &state.frame.bx, None);
        if !e.is_finite() {
            return Err(Error::Unstable {
                step: state.step,
                detail: format!("the potential energy is {e}: {}", self.model.diagnose(&state.frame)),
            });
        }
        Ok(e)
    }

    /// The external forces' energy with nucleotide i at `r(i)`, counting only forces that act
    /// on `only` (all forces with `None`).
    fn external_energy(&self, t: u64, r: &dyn Fn(usize) -> Vec3, bx: &PeriodicBox, only: Option<&[usize]>) -> f64 {
        self.external
            .iter()
            .filter(|f| only.is_none_or(|m| m.iter().any(|&i| f.acts_on(i))))
            .map(|f| f.energy(t, r, bx))
            .sum()
    }

    /// One step: N move attempts; then `bias` samples the state. Every `check_energy_every`
    /// steps the running energy is checked against a full evaluation.
    pub fn step<'b>(&mut self, state: &mut McState, mut bias: Option<&mut (dyn Bias + 'b)>) -> Result<()> {
        for _ in 0..self.model.len() {
            self.attempt(state, bias.as_deref_mut())?;
            if let Some(b) = bias.as_deref_mut() {
                b.after_attempt(state.step, self.potential)?;
            }
        }
        state.step += 1;
        // the forces that change with the step change the state's energy as the counter advances
        for f in self.external.iter().filter(|f| f.moves()) {
            let (r, bx) = (&state.frame.r, &state.frame.bx);
            self.potential += f.energy(state.step, &|i| r[i], bx) - f.energy(state.step - 1, &|i| r[i], bx);
        }
        if state.step.is_multiple_of(self.cfg.check_energy_every) {
            let full = self.full_energy(state)?;
            if (full - self.potential).abs() > 1e-6 * self.model.len() as f64 {
                return Err(Error::Unstable {
                    step: state.step,
                    detail: format!(
                        "the running Monte Carlo energy {} differs from a full evaluation {full}: a bug in oxgrad's Monte Carlo; please report it with the input",
                        self.potential
                    ),
                });
            }
            self.potential = full;
        }
        if let Some(b) = bias {
            b.sample(self.model, state, self.potential)?;
        }
        Ok(())
    }

    /// A uniform random unit vector.
    fn unit(&mut self) -> Vec3 {
        loop {
            let v = Vec3::new(
                self.rng.sample(StandardNormal),
                self.rng.sample(StandardNormal),
                self.rng.sample(StandardNormal),
            );
            let n = v.norm();
            if n > 1e-12 {
                return v / n;
            }
        }
    }

    /// A move as oxDNA draws it: MC uniform (components of the translation, the rotation
    /// angle) in [−δ/2, δ/2]; VMMC Gaussian with standard deviation δ.
    fn draw_move(&mut self) -> Move {
        let gaussian = matches!(self.cfg.moves, McMoves::Vmmc { .. });
        let draw = |rng: &mut Xoshiro256PlusPlus, delta: f64| {
            if gaussian {
                delta * rng.sample::<f64, _>(StandardNormal)
            } else {
                delta * (rng.random::<f64>() - 0.5)
            }
        };
        if self.rng.random::<f64>() < 0.5 {
            let d = self.cfg.delta_translation;
            let t = Vec3::new(draw(&mut self.rng, d), draw(&mut self.rng, d), draw(&mut self.rng, d));
            Move::Translate(t)
        } else {
            let angle = draw(&mut self.rng, self.cfg.delta_rotation);
            let axis = self.unit();
            Move::Rotate(Rotation::new(axis, angle))
        }
    }

    /// The pair energy of i at (ri, ai) with site offsets `si` and j at its current place.
    #[inline]
    fn pair(&self, frame: &Frame, i: usize, ri: Vec3, ai: &[Vec3; 3], si: &[Vec3; 4], j: usize) -> f64 {
        let d = frame.bx.min_image(frame.r[j] - ri);
        self.model.pair_interaction_sites(i, j, d, (ai, &frame.axes[j]), (si, &self.sites[j]))
    }

    /// The pair energy of i and j at their current places.
    #[inline]
    fn current(&self, frame: &Frame, i: usize, j: usize) -> f64 {
        match &self.cache {
            Some(c) => c[i * self.model.len() + j],
            None => self.pair(frame, i, frame.r[i], &frame.axes[i], &self.sites[i], j),
        }
    }

    /// The nucleotides that may interact with i at its current place or at `r_new`, besides
    /// i, into `self.candidates`.
    fn gather(&mut self, frame: &Frame, i: usize, r_new: Vec3) {
        self.stamp_now = self.stamp_now.wrapping_add(1);
        if self.stamp_now == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.stamp_now = 1;
        }
        self.candidates.clear();
        let (stamp, now, out) = (&mut self.stamp, self.stamp_now, &mut self.candidates);
        stamp[i] = now;
        let mut push = |j: usize| {
            if stamp[j] != now {
                stamp[j] = now;
                out.push(j);
            }
        };
        let n = self.model.len();
        self.cells.around(&frame.bx, frame.r[i], n, &mut push);
        if self.cells.grid.is_some() {
            self.cells.around(&frame.bx, r_new, n, &mut push);
            for j in self.model.backbone_neighbours(i).into_iter().flatten() {
                push(j);
            }
        }
    }

    /// One move attempt.
    fn attempt<'b>(&mut self, state: &mut McState, bias: Option<&mut (dyn Bias + 'b)>) -> Result<()> {
        let n = self.model.len();
        let seed = self.rng.random_range(0..n);
        let mv = self.draw_move();
        let accepted = match self.cfg.moves {
            McMoves::Single => self.single(state, seed, mv, bias)?,
            McMoves::Vmmc { maxclust } => self.cluster_move(state, seed, mv, maxclust, bias)?,
        };
        let counts = if mv.is_translation() { &mut self.stats.translations } else { &mut self.stats.rotations };
        counts.0 += 1;
        if accepted {
            counts.1 += 1;
            self.stats.moved += self.cluster.len() as u64;
        }
        // every slot back to "outside" for the next move
        for &i in &self.cluster {
            self.slot[i] = OUT;
        }
        Ok(())
    }

    /// Adds `i` at its moved place to the cluster, `u` its offset from the seed's centre.
    fn recruit(&mut self, frame: &Frame, i: usize, mv: &Move, u: Vec3) {
        let (r, a) = mv.apply(frame.r[i], &frame.axes[i], u);
        self.slot[i] = self.cluster.len() as u32;
        self.cluster.push(i);
        self.offset.push(u);
        self.new_r.push(r);
        self.new_sites.push(self.model.site_offsets(&a));
        self.new_axes.push(a);
    }

    /// Empties the cluster and the lists of a move.
    fn clear(&mut self) {
        self.cluster.clear();
        self.offset.clear();
        self.new_r.clear();
        self.new_axes.clear();
        self.new_sites.clear();
        self.unlinked.clear();
        self.frustrated.clear();
        self.boundary.clear();
        self.boundary_energy.clear();
    }

    /// A single-nucleotide Metropolis move.
    fn single<'b>(
        &mut self,
        state: &mut McState,
        i: usize,
        mv: Move,
        bias: Option<&mut (dyn Bias + 'b)>,
    ) -> Result<bool> {
        self.clear();
        let frame = &state.frame;
        self.recruit(frame, i, &mv, Vec3::ZERO);
        let (ri, ai, si) = (self.new_r[0], self.new_axes[0], self.new_sites[0]);
        self.gather(frame, i, ri);
        let mut de = 0.0;
        for &j in &self.candidates {
            let e = self.pair(frame, i, ri, &ai, &si, j);
            de += e - self.current(frame, i, j);
            self.boundary.push((i, j));
            self.boundary_energy.push(e);
        }
        self.finish(state, de, true, bias)
    }

    /// A VMMC cluster move seeded at `seed`.
    fn cluster_move<'b>(
        &mut self,
        state: &mut McState,
        seed: usize,
        mv: Move,
        maxclust: usize,
        bias: Option<&mut (dyn Bias + 'b)>,
    ) -> Result<bool> {
        self.clear();
        let frame = &state.frame;
        let reverse = mv.inverse();
        let beta = 1.0 / self.kt;
        let link = |de: f64| if de > 0.0 { 1.0 - (-beta * de).exp() } else { 0.0 };
        self.recruit(frame, seed, &mv, Vec3::ZERO);
        let mut head = 0;
        while head < self.cluster.len() {
            let i = self.cluster[head];
            let (ri_new, ai_new, si_new) = (self.new_r[head], self.new_axes[head], self.new_sites[head]);
            let ui = self.offset[head];
            head += 1;
            self.gather(frame, i, ri_new);
            let mut rev: Option<(Vec3, [Vec3; 3], [Vec3; 4])> = None;
            let mut k = 0;
            while k < self.candidates.len() {
                let j = self.candidates[k];
                k += 1;
                if self.slot[j] != OUT {
                    continue;
                }
                let e_old = self.current(frame, i, j);
                let e_new = self.pair(frame, i, ri_new, &ai_new, &si_new, j);
                let p_f = link(e_new - e_old);
                if p_f > 0.0 && self.rng.random::<f64>() < p_f {
                    let (ri_rev, ai_rev, si_rev) = *rev.get_or_insert_with(|| {
                        let (r, a) = reverse.apply(frame.r[i], &frame.axes[i], ui);
                        (r, a, self.model.site_offsets(&a))
                    });
                    let p_r = link(self.pair(frame, i, ri_rev, &ai_rev, &si_rev, j) - e_old);
                    if self.rng.random::<f64>() * p_f < p_r {
                        if self.cluster.len() >= maxclust {
                            return Ok(false);
                        }
                        self.recruit(frame, j, &mv, ui + frame.bx.min_image(frame.r[j] - frame.r[i]));
                    } else {
                        self.frustrated.push(j);
                    }
                } else {
                    self.unlinked.push((i, j, e_new, e_old));
                }
            }
        }
        if self.frustrated.iter().any(|&j| self.slot[j] == OUT) {
            return Ok(false);
        }
        // pairs across the cluster's edge change energy (their Boltzmann factors are the links
        // that did not form); pairs inside it do not
        let slot = &self.slot;
        let outside = self.unlinked.iter().filter(|(_, j, _, _)| slot[*j] == OUT);
        let de = outside.clone().map(|(_, _, new, old)| new - old).sum();
        self.boundary.extend(outside.clone().map(|&(i, j, _, _)| (i, j)));
        self.boundary_energy.extend(outside.map(|&(_, _, new, _)| new));
        self.finish(state, de, false, bias)
    }

    /// Completes a move whose pair energies change by `de_pairs`: adds what is not a pair
    /// energy and the bias, accepts or rejects (with e^{−βΔE} of the pairs too if `metropolis`;
    /// VMMC's links already account for them), and applies an accepted move.
    fn finish<'b>(
        &mut self,
        state: &mut McState,
        de_pairs: f64,
        metropolis: bool,
        bias: Option<&mut (dyn Bias + 'b)>,
    ) -> Result<bool> {
        let frame = &state.frame;
        let mut de = 0.0;
        if self.nucleotide_terms {
            for (k, &i) in self.cluster.iter().enumerate() {
                de += self.model.nucleotide_interaction(i, self.new_r[k], &self.new_axes[k])
                    - self.model.nucleotide_interaction(i, frame.r[i], &frame.axes[i]);
            }
        }
        if !self.external.is_empty() {
            let moved = |i: usize| if self.slot[i] == OUT { frame.r[i] } else { self.new_r[self.slot[i] as usize] };
            let (t, bx, members) = (state.step, &frame.bx, Some(self.cluster.as_slice()));
            de += self.external_energy(t, &moved, bx, members) - self.external_energy(t, &|i| frame.r[i], bx, members);
        }
        let factor = if metropolis { de + de_pairs } else { de };
        if factor.is_nan() || factor == f64::INFINITY || de_pairs.is_nan() || de_pairs == f64::INFINITY {
            return Ok(false);
        }
        let mut p = (-factor / self.kt).exp();
        let mut bias = bias;
        let proposal =
            Proposal { moved: &self.cluster, r: &self.new_r, axes: &self.new_axes, boundary: &self.boundary };
        if let Some(b) = bias.as_deref_mut() {
            p *= b.propose(self.model, frame, &proposal)?;
        }
        if p < 1.0 && self.rng.random::<f64>() >= p {
            return Ok(false);
        }
        if let Some(b) = bias {
            b.accept(self.model, frame, &proposal)?;
        }
        for (k, &i) in self.cluster.iter().enumerate() {
            self.cells.update(&state.frame.bx, i, self.new_r[k]);
            state.frame.r[i] = self.new_r[k];
            // keep the frames orthonormal to machine precision over millions of rotations
            let (a1, a2, a3) = orthonormalize(self.new_axes[k][0], self.new_axes[k][2]);
            state.frame.axes[i] = [a1, a2, a3];
            self.sites[i] = self.model.site_offsets(&state.frame.axes[i]);
        }
        if let Some(c) = &mut self.cache {
            let n = self.model.len();
            for (&(i, j), &e) in self.boundary.iter().zip(&self.boundary_energy) {
                c[i * n + j] = e;
                c[j * n + i] = e;
            }
        }
        self.potential += de + de_pairs;
        Ok(true)
    }
}
