//! External forces as oxDNA reads them (`external_forces = true`, `external_forces_file`): the
//! traps, pulls, twists and confining walls of force-extension, twisting and confinement
//! studies. Each acts on nucleotide centres (no oxDNA force has a torque: oxDNA's `twist` is a
//! trap that turns about an axis), may change with the step, and adds its energy to the
//! potential. Every force type of oxDNA 3.7's force factory that a pulling, twisting or
//! confinement protocol uses is here, with oxDNA's keys, defaults and formulas (also where
//! oxDNA's force is not the gradient of its energy: noted below); the others are refused by name.
//!
//! | `type` | keys (defaults) | energy (r: a nucleotide's centre, t: the step) |
//! |---|---|---|
//! | `trap` | `particle`, `pos0`, `stiff`, `rate`, `dir` | ½ k \|r − (r0 + rate·t·d̂)\|² |
//! | `string` | `particle`, `F0`, `rate`, `dir`, `dir_as_centre` (false) | −(F0 + rate·t) d̂·r (a constant pull); with `dir_as_centre` −(F0 + rate·t) \|dir − r\| while oxDNA's force pulls towards the point `dir` (not the gradient) |
//! | `sawtooth` | `particle`, `F0`, `wait_time`, `increment`, `dir` | −(F0 + ⌊(t − 1)/wait_time⌋·increment) d̂·r (⌊⌋ truncates towards 0, as oxDNA) |
//! | `twist` | `particle`, `stiff`, `rate`, `base`, `pos0`, `center`, `axis`, `mask` (0, 0, 0) | ½ k \|m ∘ (r − p(t))\|², p(t) = `pos0` turned by θ = base + rate·t radians about `axis` through `center`; force −k m ∘ (r − p(t)) (the gradient for a 0/1 mask; note oxDNA's default mask 0, 0, 0 leaves the force off) |
//! | `lowdim_trap` | `particle`, `stiff`, `rate`, `pos0`, `dir`, `visibility` (three 0/1) | ½ k Σ over visible axes of (r − (r0 + rate·t·d̂))² |
//! | `mutual_trap` | `particle`, `ref_particle`, `stiff`, `r0`, `rate`, `stiff_rate`, `PBC` | ½ (k + k′t)(\|r_ref − r\| − (r0 + rate·t))², on `particle` only |
//! | `constant_trap` | `particle`, `ref_particle`, `stiff`, `r0`, `PBC` | k \|\|r_ref − r\| − r0\| |
//! | `com` | `com_list`, `ref_list`, `stiff`, `r0`, `rate` | ½ k (\|R_ref − R\| − (r0 + rate·t))², R the centre of `com_list` (pulled), R_ref of `ref_list` |
//! | `repulsion_plane` | `particle`, `stiff`, `dir`, `position`, `v` (0), `end_position` (10⁶) | ½ k δ² where δ = d̂·r + p(t) < 0, p(t) = position + v·t until it passes `end_position` |
//! | `repulsion_plane_moving` | `particle`, `ref_particle` (a contiguous range), `stiff`, `dir` | Σ over the references of ½ k δ² where δ = d̂·(r − r_ref) < 0; the force acts on `particle` only |
//! | `attraction_plane` | `particle`, `stiff`, `dir`, `position` | k δ for δ = d̂·r + position ≥ 0, ½ k δ² below |
//! | `LJ_wall` | `particle`, `dir`, `position`, `stiff` (1), `sigma` (1), `n` (6, even), `only_repulsive` (false), `generate_inside` (false) | 4 k (s⁻²ⁿ − s⁻ⁿ), s = (d̂·r + position)/σ capped at the cut-off (2^{1/n} if only repulsive, else 10⁶; the force is 0 beyond it); 10⁹ for s < 0 with `generate_inside` |
//! | `LJ_cone` | `particle`, `dir`, `pos0` (apex), `alpha` (half-angle, radians), `stiff` (1), `sigma` (1), `n` (6, even), `only_repulsive`, `generate_inside` | as `LJ_wall` with s = (a sin α − ρ cos α)/σ, a and ρ the distances along and from the axis |
//! | `sphere` | `particle`, `stiff`, `r0`, `rate` (0), `r_ext` (10¹⁰), `center` (0, 0, 0) | ½ k (d − R)² for R = r0 + rate·t < d < r_ext, d the minimum-image distance from `center` |
//! | `sphere_smooth` | `particle`, `stiff`, `r0`, `r_ext`, `center` (0, 0, 0) | for r0 ≤ d ≤ r_ext, with s = α = r_ext (oxDNA 3.7 reads both from `r_ext`): k d + ½ k s e^{−(d−α)/s} below α, ½ k s at α; oxDNA's force there is −(k d − ½ k e^{−(d−α)/s}) d̂, not the gradient |
//! | `generic_central_force` | `particle`, `center`, `force_type = gravity`, `F0`, `inner_cut_off` (0), `outer_cut_off` (0: none), `E_shift` (0) | F0 (d − inner_cut_off) + E_shift for inner ≤ d ≤ outer, else 0: a pull of F0 towards `center` |
//! | `hard_wall` | `particle`, `dir`, `position`, `sigma` (1) | 10⁹ where (d̂·r + position)/σ < 1, else 0; Monte Carlo only (MD refuses it, as oxDNA does) |
//! | `yukawa_sphere` | `particle`, `radius`, `debye_length` λ, `debye_A` A, `center` (0, 0, 0), `cutoff` (4λ), `WCA_epsilon` ε (1), `WCA_sigma` σ (1; oxDNA 3.7 reads `WCA_n` into σ too) | with s = radius − d < cutoff: A e^{−s/λ}/s, plus 4ε((σ/s)¹² − (σ/s)⁶) + ε for s < 2^{1/6}σ; 10¹⁰ outside the sphere (where oxDNA's MD stops; here the force is 0) |
//!
//! Units are oxDNA's: stiffness in energy/length² (1 = 57.09 pN/nm), forces in 48.63 pN,
//! angles in radians, rates per step. `particle` takes oxDNA's forms: an index, `-1` (every
//! nucleotide), a list `0, 3, 7`, `last`, and a range `a-b` along a strand: from `a` through its
//! 5' neighbours to `b`, as oxDNA walks it (in a classic topology, listed 3'→5', that is a,
//! a+1, …, b). `group_name` and `id` are read and ignored. A file looks like
//!
//! ```text
//! {
//!   type = trap
//!   particle = 0
//!   pos0 = 10, 10, 0
//!   stiff = 1.0
//!   rate = 0
//!   dir = 0, 0, -1
//! }
//! ```
//!
//! The step: in molecular dynamics oxDNA evaluates the forces of the step that takes the
//! counter from t to t + 1 at step t (the counter is raised after the step), and its
//! observables (`force_energy`) at the step they print; [`super::md`] does the same. Monte Carlo
//! evaluates the energies of the moves of a step at that step's counter, as oxDNA's backends do.

use crate::error::{Error, Result};
use crate::geometry::{PeriodicBox, Vec3};
use crate::io::input::Block;
use crate::system::Topology;
use std::path::Path;

/// One external force.
#[derive(Debug, Clone, PartialEq)]
pub enum ExternalForce {
    /// A harmonic trap moving at `rate` along `dir`.
    Trap {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Trap centre at step 0.
        pos0: Vec3,
        /// Stiffness.
        stiff: f64,
        /// Speed of the centre, length per step.
        rate: f64,
        /// Unit direction of motion.
        dir: Vec3,
    },
    /// A constant force growing at `rate` per step; with `dir_as_centre`, towards the point
    /// `dir`.
    String {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Force at step 0.
        f0: f64,
        /// Growth per step.
        rate: f64,
        /// Unit direction (the point pulled towards, with `dir_as_centre`).
        dir: Vec3,
        /// Pull towards the point `dir`.
        dir_as_centre: bool,
    },
    /// A constant force growing by `increment` every `wait_time` steps (oxDNA's `sawtooth`).
    Sawtooth {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Force at first.
        f0: f64,
        /// Steps between increments.
        wait_time: f64,
        /// Growth per increment.
        increment: f64,
        /// Unit direction.
        dir: Vec3,
    },
    /// A harmonic trap at `pos0` turned about `axis` through `center` by `base + rate·t`
    /// radians, its displacement multiplied component by component by `mask` (oxDNA's `twist`).
    Twist {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Turning rate, radians per step.
        rate: f64,
        /// Angle at step 0, radians.
        base: f64,
        /// Trap position before turning.
        pos0: Vec3,
        /// A point of the axis.
        center: Vec3,
        /// Unit axis.
        axis: Vec3,
        /// Per-component weights of the displacement (oxDNA's default 0, 0, 0).
        mask: Vec3,
    },
    /// A harmonic trap moving at `rate` along `dir` that acts along the visible axes only
    /// (oxDNA's `lowdim_trap`).
    LowdimTrap {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Speed of the centre, length per step.
        rate: f64,
        /// Trap centre at step 0.
        pos0: Vec3,
        /// Unit direction of motion.
        dir: Vec3,
        /// Which of x, y, z the trap acts along.
        visible: [bool; 3],
    },
    /// A spring of rest length `r0` from `particle` to `ref_particle`, acting on `particle`.
    MutualTrap {
        /// The pulled nucleotide.
        particle: usize,
        /// The reference nucleotide.
        reference: usize,
        /// Stiffness.
        stiff: f64,
        /// Stiffness growth per step.
        stiff_rate: f64,
        /// Rest length.
        r0: f64,
        /// Rest-length growth per step.
        rate: f64,
        /// Use the minimum image.
        pbc: bool,
    },
    /// A force of constant magnitude `stiff` towards distance `r0` from `ref_particle`.
    ConstantTrap {
        /// The pulled nucleotide.
        particle: usize,
        /// The reference nucleotide.
        reference: usize,
        /// Magnitude.
        stiff: f64,
        /// Distance.
        r0: f64,
        /// Use the minimum image.
        pbc: bool,
    },
    /// A plane {r : d̂·r + position + v·t = 0} repelling the nucleotides from its negative
    /// side; its offset moves at `v` per step until it reaches `end_position`.
    RepulsionPlane {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Unit normal.
        dir: Vec3,
        /// Offset at step 0.
        position: f64,
        /// Offset change per step.
        v: f64,
        /// Where the offset stops.
        end_position: f64,
    },
    /// Planes through each reference nucleotide, normal `dir`, repelling `particles` from their
    /// negative sides (oxDNA's `repulsion_plane_moving`).
    RepulsionPlaneMoving {
        /// Nucleotides pushed.
        particles: Vec<usize>,
        /// The nucleotides the planes pass through (a contiguous range of indices).
        refs: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Unit normal.
        dir: Vec3,
    },
    /// A plane {r : d̂·r + position = 0} attracting the nucleotides: a constant pull on its
    /// positive side, a spring on its negative side.
    AttractionPlane {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Stiffness (and pull).
        stiff: f64,
        /// Unit normal.
        dir: Vec3,
        /// Offset.
        position: f64,
    },
    /// A Lennard-Jones wall {r : d̂·r + position = 0} (oxDNA's `LJ_wall`).
    LjWall {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Strength.
        stiff: f64,
        /// Offset.
        position: f64,
        /// Length unit of the distance.
        sigma: f64,
        /// Exponent (even).
        n: i32,
        /// Cut-off of the distance in units of `sigma`.
        cutoff: f64,
        /// 10⁹ behind the wall.
        generate_inside: bool,
        /// Unit normal.
        dir: Vec3,
    },
    /// A Lennard-Jones cone with apex `pos0`, axis `dir` and half-angle `alpha` (oxDNA's
    /// `LJ_cone`).
    LjCone {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Strength.
        stiff: f64,
        /// Length unit of the distance.
        sigma: f64,
        /// Half-angle, radians.
        alpha: f64,
        /// Exponent (even).
        n: i32,
        /// Cut-off of the distance in units of `sigma`.
        cutoff: f64,
        /// 10⁹ outside the cone.
        generate_inside: bool,
        /// Unit axis.
        dir: Vec3,
        /// Apex.
        pos0: Vec3,
    },
    /// A harmonic wall keeping nucleotides within `r0 + rate·t` of `center` (oxDNA's `sphere`).
    Sphere {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Radius at step 0.
        r0: f64,
        /// Radius growth per step.
        rate: f64,
        /// No force beyond this distance.
        r_ext: f64,
        /// Centre.
        center: Vec3,
    },
    /// oxDNA's `sphere_smooth`, with its smoothing length and inflection point both `r_ext` as
    /// oxDNA 3.7 reads them.
    SphereSmooth {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Inner radius.
        r0: f64,
        /// Outer radius (and smoothing length and inflection point).
        r_ext: f64,
        /// Centre.
        center: Vec3,
    },
    /// A constant pull `f0` towards `center` between two distances (oxDNA's
    /// `generic_central_force` with `force_type = gravity`).
    CentralGravity {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Centre.
        center: Vec3,
        /// Magnitude.
        f0: f64,
        /// No force nearer than this.
        inner: f64,
        /// No force farther than this (0: no limit).
        outer: f64,
        /// Energy added where the force acts.
        e_shift: f64,
    },
    /// A sphere whose wall repels with a screened Coulomb and a WCA term (oxDNA's
    /// `yukawa_sphere`).
    YukawaSphere {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Centre.
        center: Vec3,
        /// Radius.
        radius: f64,
        /// WCA strength.
        epsilon: f64,
        /// WCA length.
        sigma: f64,
        /// Debye length.
        debye_length: f64,
        /// Debye amplitude.
        debye_a: f64,
        /// No force farther than this from the wall.
        cutoff: f64,
    },
    /// A hard wall {r : d̂·r + position = σ}: energy 10⁹ nearer than σ to the plane (oxDNA's
    /// `hard_wall`; Monte Carlo only, as in oxDNA).
    HardWall {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Offset.
        position: f64,
        /// Thickness.
        sigma: f64,
        /// Unit normal.
        dir: Vec3,
    },
    /// A spring between the centres of mass of two groups, acting on `com_list`.
    Com {
        /// The pulled group.
        com: Vec<usize>,
        /// The reference group.
        reference: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Rest length.
        r0: f64,
        /// Rest-length growth per step.
        rate: f64,
    },
}

/// The force types oxgrad reads, as errors list them.
pub const TYPES: [&str; 18] = [
    "trap",
    "string",
    "sawtooth",
    "twist",
    "lowdim_trap",
    "mutual_trap",
    "constant_trap",
    "com",
    "repulsion_plane",
    "repulsion_plane_moving",
    "attraction_plane",
    "LJ_wall",
    "LJ_cone",
    "sphere",
    "sphere_smooth",
    "generic_central_force",
    "yukawa_sphere",
    "hard_wall",
];

/// The force types of oxDNA 3.7 that oxgrad does not implement, with why.
const NOT_IMPLEMENTED: [(&str, &str); 9] = [
    ("alignment_field", "it turns the nucleotides' orientations (a torque)"),
    ("ellipsoid", "a repulsive ellipsoid"),
    ("repulsive_sphere_moving", "a sphere that follows nucleotides"),
    ("repulsive_kepler_poinsot", "a star-shaped wall"),
    ("meta_com_trap", "metadynamics"),
    ("meta_2D_com_trap", "metadynamics"),
    ("meta_atan_com_trap", "metadynamics"),
    ("meta_com_angle_trap", "metadynamics"),
    ("meta_coordination", "metadynamics"),
];

/// Two oxDNA `string` forces that pull a duplex's end base pairs apart with a tension of
/// `force_pn` (pN) along `axis` (any non-zero vector): F/2 on each nucleotide of `last` along
/// +axis and of `first` along −axis, as an objective's `forces` pull its simulators
/// ([`crate::observable::mechanics`]).
pub fn pull_apart(
    first: (usize, usize),
    last: (usize, usize),
    force_pn: f64,
    axis: [f64; 3],
) -> Result<[ExternalForce; 2]> {
    let z = Vec3::new(axis[0], axis[1], axis[2]);
    let norm = z.norm();
    if !(norm.is_finite() && norm > 0.0) {
        return Err(Error::invalid("axis", format!("{axis:?}"), "a non-zero direction such as [0, 0, 1]"));
    }
    let pull = |(i, j): (usize, usize), dir: Vec3| ExternalForce::String {
        particles: vec![i, j],
        f0: crate::units::force_from_pn(force_pn / 2.0),
        rate: 0.0,
        dir,
        dir_as_centre: false,
    };
    Ok([pull(first, z * (-1.0 / norm)), pull(last, z * (1.0 / norm))])
}

/// Reads an oxDNA external forces file for `top`.
pub fn read(path: &Path, top: &Topology) -> Result<Vec<ExternalForce>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read external forces file", path, e))?;
    parse(&text, path, top)
}

/// Parses the `{ … }` blocks of an external forces file.
pub fn parse(text: &str, path: &Path, top: &Topology) -> Result<Vec<ExternalForce>> {
    crate::io::input::blocks(text, path)?.iter().map(|(b, line)| force(b, path, *line, top)).collect()
}

#[allow(clippy::too_many_lines)]
fn force(b: &Block, path: &Path, line: usize, top: &Topology) -> Result<ExternalForce> {
    let n = top.len();
    let get = |k: &str| b.get(k);
    let req = |k: &str| -> Result<&str> {
        get(k).ok_or_else(|| Error::parse(path, line, format!("'{k} = …' in this force block"), "no such key"))
    };
    let num = |k: &str| -> Result<f64> {
        let v = req(k)?;
        v.trim()
            .trim_end_matches(['f', 'F'])
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| Error::parse(path, line, format!("a number for '{k}'"), format!("'{v}'")))
    };
    let opt = |k: &str, d: f64| -> Result<f64> {
        if get(k).is_some() {
            num(k)
        } else {
            Ok(d)
        }
    };
    let vec3 = |k: &str| -> Result<Vec3> {
        let v = req(k)?;
        let p: Vec<f64> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
        if p.len() != 3 || p.iter().any(|x| !x.is_finite()) {
            return Err(Error::parse(path, line, format!("three numbers 'x, y, z' for '{k}'"), format!("'{v}'")));
        }
        Ok(Vec3::new(p[0], p[1], p[2]))
    };
    let opt_vec3 = |k: &str, d: Vec3| -> Result<Vec3> {
        if get(k).is_some() {
            vec3(k)
        } else {
            Ok(d)
        }
    };
    let unit = |k: &str| -> Result<Vec3> {
        let v = vec3(k)?;
        if v.norm() == 0.0 {
            return Err(Error::parse(path, line, format!("a non-zero direction for '{k}'"), "0, 0, 0"));
        }
        Ok(v.normalized())
    };
    let index = |k: &str| -> Result<usize> {
        let v = req(k)?;
        v.trim().parse::<usize>().ok().filter(|i| *i < n).ok_or_else(|| {
            Error::parse(path, line, format!("a nucleotide index from 0 to {} for '{k}'", n - 1), format!("'{v}'"))
        })
    };
    let list = |k: &str| -> Result<Vec<usize>> {
        particles(req(k)?, top).map_err(|msg| Error::parse(path, line, msg, format!("{k} = {}", req(k).unwrap_or(""))))
    };
    // oxDNA's booleans
    let flag = |k: &str| -> Result<bool> {
        match get(k).map(str::trim) {
            None => Ok(false),
            Some("1" | "true" | "yes" | "yup" | "of course") => Ok(true),
            Some("0" | "false" | "no" | "nope") => Ok(false),
            Some(v) => Err(Error::parse(path, line, format!("true or false for '{k}'"), format!("'{v}'"))),
        }
    };
    // an even exponent, 6 by default
    let exponent = || -> Result<i32> {
        match get("n") {
            None => Ok(6),
            Some(v) => v.trim().parse::<i32>().ok().filter(|k| *k > 0 && k % 2 == 0).ok_or_else(|| {
                Error::parse(path, line, "an even positive integer for 'n' (as oxDNA requires)", format!("'{v}'"))
            }),
        }
    };
    let cutoff =
        |n: i32| -> Result<f64> { Ok(if flag("only_repulsive")? { 2f64.powf(1.0 / f64::from(n)) } else { 1e6 }) };
    let kind = req("type")?;
    let f = match kind {
        "trap" => ExternalForce::Trap { particles: list("particle")?, pos0: vec3("pos0")?, stiff: num("stiff")?, rate: num("rate")?, dir: unit("dir")? },
        "string" => {
            let dir_as_centre = flag("dir_as_centre")?;
            ExternalForce::String {
                particles: list("particle")?,
                f0: num("F0")?,
                rate: num("rate")?,
                dir: if dir_as_centre { vec3("dir")? } else { unit("dir")? },
                dir_as_centre,
            }
        }
        "sawtooth" => {
            let wait_time = num("wait_time")?;
            if wait_time == 0.0 {
                return Err(Error::parse(path, line, "a non-zero 'wait_time'", "0"));
            }
            ExternalForce::Sawtooth { particles: list("particle")?, f0: num("F0")?, wait_time, increment: num("increment")?, dir: unit("dir")? }
        }
        "twist" => ExternalForce::Twist {
            particles: list("particle")?,
            stiff: num("stiff")?,
            rate: num("rate")?,
            base: num("base")?,
            pos0: vec3("pos0")?,
            center: vec3("center")?,
            axis: unit("axis")?,
            mask: opt_vec3("mask", Vec3::ZERO)?,
        },
        "lowdim_trap" => {
            let v = req("visibility")?;
            let p: Vec<i64> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            if p.len() != 3 {
                return Err(Error::parse(path, line, "three integers 'x, y, z' (0 or 1) for 'visibility'", format!("'{v}'")));
            }
            ExternalForce::LowdimTrap {
                particles: list("particle")?,
                stiff: num("stiff")?,
                rate: num("rate")?,
                pos0: vec3("pos0")?,
                dir: unit("dir")?,
                visible: [p[0] != 0, p[1] != 0, p[2] != 0],
            }
        }
        "mutual_trap" => ExternalForce::MutualTrap {
            particle: index("particle")?,
            reference: index("ref_particle")?,
            stiff: num("stiff")?,
            stiff_rate: opt("stiff_rate", 0.0)?,
            r0: num("r0")?,
            rate: opt("rate", 0.0)?,
            pbc: flag("PBC")?,
        },
        "constant_trap" => ExternalForce::ConstantTrap {
            particle: index("particle")?,
            reference: index("ref_particle")?,
            stiff: num("stiff")?,
            r0: num("r0")?,
            pbc: flag("PBC")?,
        },
        "repulsion_plane" => ExternalForce::RepulsionPlane {
            particles: list("particle")?,
            stiff: num("stiff")?,
            dir: unit("dir")?,
            position: num("position")?,
            v: opt("v", 0.0)?,
            end_position: opt("end_position", 1e6)?,
        },
        "repulsion_plane_moving" => {
            let mut refs = list("ref_particle")?;
            refs.sort_unstable();
            refs.dedup();
            if refs.last().zip(refs.first()).is_some_and(|(hi, lo)| hi - lo + 1 != refs.len()) {
                return Err(Error::parse(
                    path,
                    line,
                    "a contiguous range of indices for 'ref_particle' (as oxDNA requires)",
                    format!("ref_particle = {}", req("ref_particle")?),
                ));
            }
            ExternalForce::RepulsionPlaneMoving { particles: list("particle")?, refs, stiff: num("stiff")?, dir: unit("dir")? }
        }
        "attraction_plane" => ExternalForce::AttractionPlane {
            particles: list("particle")?,
            stiff: num("stiff")?,
            dir: unit("dir")?,
            position: num("position")?,
        },
        "LJ_wall" => {
            let n = exponent()?;
            ExternalForce::LjWall {
                particles: list("particle")?,
                stiff: opt("stiff", 1.0)?,
                position: num("position")?,
                sigma: opt("sigma", 1.0)?,
                n,
                cutoff: cutoff(n)?,
                generate_inside: flag("generate_inside")?,
                dir: unit("dir")?,
            }
        }
        "LJ_cone" => {
            let n = exponent()?;
            ExternalForce::LjCone {
                particles: list("particle")?,
                stiff: opt("stiff", 1.0)?,
                sigma: opt("sigma", 1.0)?,
                alpha: num("alpha")?,
                n,
                cutoff: cutoff(n)?,
                generate_inside: flag("generate_inside")?,
                dir: unit("dir")?,
                pos0: vec3("pos0")?,
            }
        }
        "sphere" => ExternalForce::Sphere {
            particles: list("particle")?,
            stiff: num("stiff")?,
            r0: num("r0")?,
            rate: opt("rate", 0.0)?,
            r_ext: opt("r_ext", 1e10)?,
            center: opt_vec3("center", Vec3::ZERO)?,
        },
        "sphere_smooth" => {
            for k in ["smooth", "alpha"] {
                if get(k).is_some() {
                    tracing::warn!("{}:{line}: sphere_smooth: oxDNA 3.7 ignores '{k}' and uses r_ext for it; so does oxgrad", path.display());
                }
            }
            ExternalForce::SphereSmooth {
                particles: list("particle")?,
                stiff: num("stiff")?,
                r0: num("r0")?,
                r_ext: num("r_ext")?,
                center: opt_vec3("center", Vec3::ZERO)?,
            }
        }
        "generic_central_force" => match req("force_type")?.trim() {
            "gravity" => ExternalForce::CentralGravity {
                particles: list("particle")?,
                center: vec3("center")?,
                f0: num("F0")?,
                inner: opt("inner_cut_off", 0.0)?,
                outer: opt("outer_cut_off", 0.0)?,
                e_shift: opt("E_shift", 0.0)?,
            },
            other => {
                return Err(Error::parse(
                    path,
                    line,
                    "force_type = gravity (oxgrad does not implement oxDNA's tabulated 'interpolated' central force)",
                    format!("force_type = {other}"),
                ))
            }
        },
        "yukawa_sphere" => {
            let debye_length = num("debye_length")?;
            // oxDNA 3.7 reads WCA_n into the WCA length (and keeps the exponent 6)
            let sigma = if get("WCA_n").is_some() {
                tracing::warn!("{}:{line}: yukawa_sphere: oxDNA 3.7 reads 'WCA_n' as the WCA length sigma; so does oxgrad", path.display());
                num("WCA_n")?
            } else {
                opt("WCA_sigma", 1.0)?
            };
            ExternalForce::YukawaSphere {
                particles: list("particle")?,
                center: opt_vec3("center", Vec3::ZERO)?,
                radius: num("radius")?,
                epsilon: opt("WCA_epsilon", 1.0)?,
                sigma,
                debye_length,
                debye_a: num("debye_A")?,
                cutoff: opt("cutoff", 4.0 * debye_length)?,
            }
        }
        "hard_wall" => ExternalForce::HardWall {
            particles: list("particle")?,
            position: num("position")?,
            sigma: opt("sigma", 1.0)?,
            dir: unit("dir")?,
        },
        "com" => ExternalForce::Com {
            com: list("com_list")?,
            reference: list("ref_list")?,
            stiff: num("stiff")?,
            r0: num("r0")?,
            rate: opt("rate", 0.0)?,
        },
        "harmonic_trap" => {
            return Err(Error::parse(
                path,
                line,
                format!("a force type oxDNA reads ({})", TYPES.join(", ")),
                "'harmonic_trap' (oxDNA has none: a fixed harmonic trap is `trap` with rate = 0; a spring between nucleotides is `mutual_trap`)",
            ))
        }
        "repulsive_sphere" | "repulsive_sphere_smooth" | "skew_trap" => {
            let hint = match kind {
                "repulsive_sphere" => "oxDNA's type is 'sphere'",
                "repulsive_sphere_smooth" => "oxDNA's type is 'sphere_smooth'",
                _ => "oxDNA 3.7's force factory has no 'skew_trap'",
            };
            return Err(Error::parse(path, line, format!("a force type oxDNA reads ({})", TYPES.join(", ")), format!("'{kind}' ({hint})")));
        }
        other => {
            if let Some((_, what)) = NOT_IMPLEMENTED.iter().find(|(t, _)| *t == other) {
                return Err(Error::parse(
                    path,
                    line,
                    format!("a force type oxgrad implements ({})", TYPES.join(", ")),
                    format!("'{other}', an oxDNA force oxgrad does not implement ({what})"),
                ));
            }
            let best = crate::params::closest(other, TYPES.iter().copied());
            let hint = best.first().map(|b| format!("; did you mean '{b}'?")).unwrap_or_default();
            return Err(Error::parse(path, line, format!("a force type oxgrad implements ({})", TYPES.join(", ")), format!("'{other}'{hint}")));
        }
    };
    Ok(f)
}

/// oxDNA's particle strings: `-1` (all), `3`, `0, 5, 9`, ranges `a-b` along a strand (through
/// the 5' neighbours from a to b), and `last`.
fn particles(text: &str, top: &Topology) -> std::result::Result<Vec<usize>, String> {
    let n = top.len();
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if s == "-1" {
        return Ok((0..n).collect());
    }
    let index = |t: &str| -> std::result::Result<usize, String> {
        if t == "last" {
            return Ok(n - 1);
        }
        t.parse::<usize>()
            .ok()
            .filter(|i| *i < n)
            .ok_or_else(|| format!("nucleotide indices from 0 to {} (or -1, lists, ranges a-b)", n - 1))
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) if !a.is_empty() => {
                let (a, b) = (index(a)?, index(b)?);
                let mut j = a;
                loop {
                    out.push(j);
                    if j == b {
                        break;
                    }
                    match top.nucleotides[j].n5 {
                        Some(next) if next != a => j = next,
                        _ => return Err(format!("a range a-b of nucleotides on one strand, from a through its 5' neighbours to b (nucleotide {b} is not reached from {a})")),
                    }
                }
            }
            _ => out.push(index(part)?),
        }
    }
    Ok(out)
}

/// Component-by-component product.
fn times(a: Vec3, b: Vec3) -> Vec3 {
    Vec3::new(a.0[0] * b.0[0], a.0[1] * b.0[1], a.0[2] * b.0[2])
}

/// `v` turned by `theta` radians about the unit `axis` (right-handed; oxDNA's rotation matrix).
fn turn(v: Vec3, axis: Vec3, theta: f64) -> Vec3 {
    let (s, c) = theta.sin_cos();
    v * c + axis.cross(v) * s + axis * (axis.dot(v) * (1.0 - c))
}

/// oxDNA's Lennard-Jones wall energy and the force's magnitude along the wall's normal, at
/// distance `d` (in length units) from the wall.
fn lj(d: f64, stiff: f64, sigma: f64, n: i32, cutoff: f64, generate_inside: bool) -> (f64, f64) {
    let rel = d / sigma;
    let force = if rel > cutoff {
        0.0
    } else {
        let l = rel.powi(-n);
        4.0 * f64::from(n) * stiff * (2.0 * l * l - l) / d
    };
    let energy = if generate_inside && rel < 0.0 {
        1e9
    } else {
        let l = rel.min(cutoff).powi(-n);
        4.0 * stiff * (l * l - l)
    };
    (energy, force)
}

impl ExternalForce {
    /// Adds the force's energy to the return value and its forces to `f`, at step `t`.
    pub fn apply(&self, t: u64, r: &[Vec3], bx: &PeriodicBox, f: &mut [Vec3]) -> f64 {
        self.eval(t, &|i| r[i], bx, Some(f))
    }

    /// The force's energy at step `t` with nucleotide i at `r(i)` (Monte Carlo's trial
    /// positions).
    pub fn energy(&self, t: u64, r: &dyn Fn(usize) -> Vec3, bx: &PeriodicBox) -> f64 {
        self.eval(t, r, bx, None)
    }

    /// Whether the force has an energy but no force (oxDNA's `hard_wall`: Monte Carlo only).
    #[must_use]
    pub fn monte_carlo_only(&self) -> bool {
        matches!(self, ExternalForce::HardWall { .. })
    }

    /// Whether the force depends on the step.
    #[must_use]
    pub fn moves(&self) -> bool {
        match self {
            ExternalForce::Trap { rate, .. }
            | ExternalForce::String { rate, .. }
            | ExternalForce::Twist { rate, .. }
            | ExternalForce::LowdimTrap { rate, .. }
            | ExternalForce::Sphere { rate, .. }
            | ExternalForce::Com { rate, .. } => *rate != 0.0,
            ExternalForce::RepulsionPlane { v, .. } => *v != 0.0,
            ExternalForce::MutualTrap { rate, stiff_rate, .. } => *rate != 0.0 || *stiff_rate != 0.0,
            ExternalForce::Sawtooth { increment, .. } => *increment != 0.0,
            _ => false,
        }
    }

    /// Whether the force's energy depends on nucleotide `i`.
    #[must_use]
    pub fn acts_on(&self, i: usize) -> bool {
        self.each().contains(&i)
            || match self {
                ExternalForce::MutualTrap { particle, reference, .. }
                | ExternalForce::ConstantTrap { particle, reference, .. } => i == *particle || i == *reference,
                ExternalForce::Com { com, reference, .. } => com.contains(&i) || reference.contains(&i),
                ExternalForce::RepulsionPlaneMoving { refs, .. } => refs.contains(&i),
                _ => false,
            }
    }

    /// The energy and force of a force that acts on each of its nucleotides alone, on one at
    /// `p`, at step `t` (`None` for the forces between nucleotides).
    #[allow(clippy::too_many_lines)]
    fn single(&self, t: f64, p: Vec3, bx: &PeriodicBox) -> Option<(f64, Vec3)> {
        let out = match self {
            ExternalForce::Trap { pos0, stiff, rate, dir, .. } => {
                let d = p - (*pos0 + *dir * (rate * t));
                (0.5 * stiff * d.norm2(), -(d * *stiff))
            }
            ExternalForce::String { f0, rate, dir, dir_as_centre: false, .. } => {
                let force = *dir * (f0 + rate * t);
                (-force.dot(p), force)
            }
            // oxDNA's force pulls towards the point, while its energy falls away from it
            ExternalForce::String { f0, rate, dir, dir_as_centre: true, .. } => {
                let strength = f0 + rate * t;
                let to = *dir - p;
                (-strength * to.norm(), to.normalized() * strength)
            }
            ExternalForce::Sawtooth { f0, wait_time, increment, dir, .. } => {
                let force = *dir * (f0 + ((t - 1.0) / wait_time).trunc() * increment);
                (-force.dot(p), force)
            }
            ExternalForce::Twist { stiff, rate, base, pos0, center, axis, mask, .. } => {
                let trap = turn(*pos0 - *center, *axis, base + rate * t) + *center;
                let d = times(p - trap, *mask);
                (0.5 * stiff * d.norm2(), -(d * *stiff))
            }
            ExternalForce::LowdimTrap { stiff, rate, pos0, dir, visible, .. } => {
                let centre = *pos0 + *dir * (rate * t);
                let mut d = p - centre;
                for (c, v) in visible.iter().enumerate() {
                    if !v {
                        d.0[c] = 0.0;
                    }
                }
                (0.5 * stiff * d.norm2(), -(d * *stiff))
            }
            ExternalForce::RepulsionPlane { stiff, dir, position, v, end_position, .. } => {
                let mut offset = position + v * t;
                if (end_position > position && offset > *end_position)
                    || (end_position < position && offset < *end_position)
                {
                    offset = *end_position;
                }
                let delta = dir.dot(p) + offset;
                if delta >= 0.0 {
                    (0.0, Vec3::ZERO)
                } else {
                    (0.5 * stiff * delta * delta, -(*dir * (stiff * delta)))
                }
            }
            ExternalForce::AttractionPlane { stiff, dir, position, .. } => {
                let delta = dir.dot(p) + position;
                if delta >= 0.0 {
                    (stiff * delta, -(*dir * *stiff))
                } else {
                    (0.5 * stiff * delta * delta, -(*dir * (stiff * delta)))
                }
            }
            ExternalForce::LjWall { stiff, position, sigma, n, cutoff, generate_inside, dir, .. } => {
                let (e, m) = lj(dir.dot(p) + position, *stiff, *sigma, *n, *cutoff, *generate_inside);
                (e, *dir * m)
            }
            ExternalForce::LjCone { stiff, sigma, alpha, n, cutoff, generate_inside, dir, pos0, .. } => {
                let v = p - *pos0;
                let along = v.dot(*dir);
                let from_axis = (v - *dir * along).norm();
                let d = along * alpha.sin() - from_axis * alpha.cos();
                let (e, m) = lj(d, *stiff, *sigma, *n, *cutoff, *generate_inside);
                // the cone's normal, as oxDNA constructs it
                let normal = (*dir * (along + from_axis * alpha.tan()) - v).normalized();
                (e, if m == 0.0 { Vec3::ZERO } else { normal * m })
            }
            ExternalForce::Sphere { stiff, r0, rate, r_ext, center, .. } => {
                let d = bx.min_image(p - *center);
                let m = d.norm();
                let radius = r0 + rate * t;
                if m <= radius || m >= *r_ext {
                    (0.0, Vec3::ZERO)
                } else {
                    (0.5 * stiff * (m - radius).powi(2), d * (-stiff * (1.0 - radius / m)))
                }
            }
            ExternalForce::SphereSmooth { stiff, r0, r_ext, center, .. } => {
                let d = bx.min_image(p - *center);
                let m = d.norm();
                let (alpha, smooth) = (*r_ext, *r_ext);
                if m < *r0 || m > *r_ext {
                    (0.0, Vec3::ZERO)
                } else if m >= alpha {
                    let e = ((m - alpha) / smooth).exp();
                    (0.5 * stiff * smooth * e, d * (-(0.5 * stiff * e) / m))
                } else {
                    let e = (-(m - alpha) / smooth).exp();
                    (stiff * m + 0.5 * stiff * smooth * e, d * (-(stiff * m - 0.5 * stiff * e) / m))
                }
            }
            ExternalForce::CentralGravity { center, f0, inner, outer, e_shift, .. } => {
                let v = *center - p;
                let m = v.norm();
                if m < *inner || (*outer > 0.0 && m > *outer) {
                    (0.0, Vec3::ZERO)
                } else {
                    (f0 * m - f0 * inner + e_shift, v / m * *f0)
                }
            }
            ExternalForce::YukawaSphere { center, radius, epsilon, sigma, debye_length, debye_a, cutoff, .. } => {
                let d = bx.min_image(p - *center);
                let m = d.norm();
                let s = radius - m;
                if s < 0.0 {
                    // oxDNA's energy there; its molecular dynamics stops
                    return Some((1e10, Vec3::ZERO));
                }
                if s >= *cutoff {
                    return Some((0.0, Vec3::ZERO));
                }
                let inward = -(d / m);
                let screened = (-s / debye_length).exp() * debye_a;
                let mut e = screened / s;
                let mut f = inward * (screened * (1.0 / (s * debye_length) + 1.0 / (s * s)));
                if s < sigma * 2f64.powf(1.0 / 6.0) {
                    let w = (sigma / s).powi(6);
                    e += 4.0 * epsilon * (w * w - w) + epsilon;
                    f += inward * (24.0 * epsilon * (2.0 * w * w - w) / s);
                }
                (e, f)
            }
            ExternalForce::HardWall { position, sigma, dir, .. } => {
                ((if (dir.dot(p) + position) / sigma < 1.0 { 1e9 } else { 0.0 }), Vec3::ZERO)
            }
            ExternalForce::MutualTrap { .. }
            | ExternalForce::ConstantTrap { .. }
            | ExternalForce::RepulsionPlaneMoving { .. }
            | ExternalForce::Com { .. } => return None,
        };
        Some(out)
    }

    /// The nucleotides a force that acts on each alone acts on.
    fn each(&self) -> &[usize] {
        match self {
            ExternalForce::Trap { particles, .. }
            | ExternalForce::String { particles, .. }
            | ExternalForce::Sawtooth { particles, .. }
            | ExternalForce::Twist { particles, .. }
            | ExternalForce::LowdimTrap { particles, .. }
            | ExternalForce::RepulsionPlane { particles, .. }
            | ExternalForce::AttractionPlane { particles, .. }
            | ExternalForce::LjWall { particles, .. }
            | ExternalForce::LjCone { particles, .. }
            | ExternalForce::Sphere { particles, .. }
            | ExternalForce::SphereSmooth { particles, .. }
            | ExternalForce::CentralGravity { particles, .. }
            | ExternalForce::YukawaSphere { particles, .. }
            | ExternalForce::HardWall { particles, .. }
            | ExternalForce::RepulsionPlaneMoving { particles, .. } => particles,
            ExternalForce::MutualTrap { .. } | ExternalForce::ConstantTrap { .. } | ExternalForce::Com { .. } => &[],
        }
    }

    /// The energy, and the forces added to `f` when given.
    fn eval(&self, t: u64, r: &dyn Fn(usize) -> Vec3, bx: &PeriodicBox, mut f: Option<&mut [Vec3]>) -> f64 {
        let t = t as f64;
        let sep = |from: Vec3, to: Vec3, pbc: bool| if pbc { bx.min_image(to - from) } else { to - from };
        let mut add = |i: usize, v: Vec3| {
            if let Some(f) = f.as_deref_mut() {
                f[i] += v;
            }
        };
        match self {
            ExternalForce::MutualTrap { particle, reference, stiff, stiff_rate, r0, rate, pbc } => {
                let d = sep(r(*particle), r(*reference), *pbc);
                let n = d.norm();
                let (k, l) = (stiff + stiff_rate * t, r0 + rate * t);
                add(*particle, d / n * (k * (n - l)));
                0.5 * k * (n - l).powi(2)
            }
            ExternalForce::ConstantTrap { particle, reference, stiff, r0, pbc } => {
                let d = sep(r(*particle), r(*reference), *pbc);
                let n = d.norm();
                add(*particle, d / n * (stiff * (n - r0).signum()));
                stiff * (n - r0).abs()
            }
            ExternalForce::Com { com, reference, stiff, r0, rate } => {
                let centre = |g: &[usize]| g.iter().fold(Vec3::ZERO, |a, &i| a + r(i)) / g.len() as f64;
                let d = centre(reference) - centre(com);
                let n = d.norm();
                let m = com.len() as f64;
                let l = r0 + rate * t;
                let each = d / n * ((n - l) * stiff / m);
                for &i in com {
                    add(i, each);
                }
                0.5 * stiff * (n - l).powi(2)
            }
            ExternalForce::RepulsionPlaneMoving { particles, refs, stiff, dir } => particles
                .iter()
                .map(|&i| {
                    let p = r(i);
                    let mut e = 0.0;
                    for &j in refs {
                        let delta = (p - r(j)).dot(*dir).min(0.0);
                        add(i, -(*dir * (stiff * delta)));
                        e += 0.5 * stiff * delta * delta;
                    }
                    e
                })
                .sum(),
            _ => self
                .each()
                .iter()
                .map(|&i| {
                    let (e, v) = self.single(t, r(i), bx).unwrap_or((0.0, Vec3::ZERO));
                    add(i, v);
                    e
                })
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{helix, parse_sequence, Shape};
    use crate::system::TopologyFormat;

    const FILE: &str = "
{
  type = trap
  particle = 0
  pos0 = 10, 10.5, 9
  stiff = 1.3
  rate = 1e-4
  dir = 0, 0, 1
}
{
  type = string
  particle = 3-5
  F0 = 0.2
  rate = 1e-5
  dir = 1, 1, 0
}
{
  type = mutual_trap
  particle = 1
  ref_particle = 14
  stiff = 0.7
  r0 = 1.5
  rate = 1e-5
  PBC = 1
}
{
  type = constant_trap
  particle = 2
  ref_particle = 12
  stiff = 0.3
  r0 = 0.8
}
{
  type = repulsion_plane
  particle = -1
  stiff = 2.0
  dir = 0, 0, 1
  position = -10.9
}
{
  type = com
  com_list = 0-3
  ref_list = 12-15
  stiff = 0.9
  r0 = 2.0
  rate = 0
}
";

    /// Every force is minus the gradient of its energy (central differences), at a late step so
    /// the moving ones have moved.
    #[test]
    fn forces_are_minus_the_gradient_of_their_energies() {
        let (top, conf) =
            helix(&parse_sequence("ACGTACGT").unwrap(), Shape::Duplex, Some(20.0), TopologyFormat::Classic).unwrap();
        let forces = parse(FILE, Path::new("forces"), &top).unwrap();
        assert_eq!(forces.len(), 6);
        let bx = PeriodicBox::new(conf.box_sides);
        let t = 3000;
        for (k, f) in forces.iter().enumerate() {
            let mut g = vec![Vec3::ZERO; top.len()];
            let e0 = f.apply(t, &conf.r, &bx, &mut g);
            assert!(e0.abs() > 1e-6, "force {k} acts");
            // the particles a force acts on (mutual, constant and com traps pull their own group only)
            let moved: Vec<usize> = match f {
                ExternalForce::MutualTrap { particle, .. } | ExternalForce::ConstantTrap { particle, .. } => {
                    vec![*particle]
                }
                ExternalForce::Com { com, .. } => com.clone(),
                _ => (0..top.len()).collect(),
            };
            for &i in &moved {
                for (c, &gc) in g[i].0.iter().enumerate() {
                    let h = 1e-6;
                    let energy = |dx: f64| {
                        let mut r = conf.r.clone();
                        r[i].0[c] += dx;
                        f.apply(t, &r, &bx, &mut vec![Vec3::ZERO; top.len()])
                    };
                    let fd = -(energy(h) - energy(-h)) / (2.0 * h);
                    assert!(
                        (fd - gc).abs() < 1e-6 * (1.0 + fd.abs()),
                        "force {k}, nucleotide {i}, axis {c}: {gc} vs {fd}"
                    );
                }
            }
        }
        // a file reads as its text parses
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forces.txt");
        std::fs::write(&path, FILE).unwrap();
        assert_eq!(read(&path, &top).unwrap(), forces);
        let e = read(&dir.path().join("missing.txt"), &top).unwrap_err().to_string();
        assert!(e.contains("missing.txt"), "{e}");
        // the range 3-5 follows the strand (classic topology: 3, 4, 5)
        assert!(matches!(&forces[1], ExternalForce::String { particles, .. } if particles == &[3, 4, 5]));
    }

    /// Each force's value and energy at step 1000, by hand (oxDNA's definitions; round numbers).
    #[test]
    fn each_force_by_hand() {
        let r = [Vec3::new(1.0, 2.0, 3.0), Vec3::ZERO, Vec3::new(3.0, 0.0, 0.0), Vec3::new(0.0, 4.0, 0.0)];
        let bx = PeriodicBox::new(Vec3::new(100.0, 100.0, 100.0));
        let (x, y, z) = (Vec3::new(1.0, 0.0, 0.0), Vec3::new(0.0, 1.0, 0.0), Vec3::new(0.0, 0.0, 1.0));
        let cases = [
            // centre pos0 + rate t dir = (0, 0, 2): d = (1, 2, 1), F = −2 d, U = ½ 2 · 6
            (
                ExternalForce::Trap { particles: vec![0], pos0: Vec3::ZERO, stiff: 2.0, rate: 2e-3, dir: z },
                vec![(0, Vec3::new(-2.0, -4.0, -2.0))],
                6.0,
            ),
            // F = (F0 + rate t) dir = 1.5 ŷ on both, U = −F·r = −1.5 · 2
            (
                ExternalForce::String { particles: vec![0, 1], f0: 0.5, rate: 1e-3, dir: y, dir_as_centre: false },
                vec![(0, y * 1.5), (1, y * 1.5)],
                -3.0,
            ),
            // k = 1 + 1e-3 t = 2, rest length 1 + 1e-3 t = 2, distance 3: pulled 2 · 1 towards 2
            (
                ExternalForce::MutualTrap {
                    particle: 1,
                    reference: 2,
                    stiff: 1.0,
                    stiff_rate: 1e-3,
                    r0: 1.0,
                    rate: 1e-3,
                    pbc: true,
                },
                vec![(1, x * 2.0)],
                1.0,
            ),
            // distance 4 < r0 = 5: pushed away from 3 with magnitude 0.7, U = 0.7 · 1
            (
                ExternalForce::ConstantTrap { particle: 1, reference: 3, stiff: 0.7, r0: 5.0, pbc: false },
                vec![(1, y * -0.7)],
                0.7,
            ),
            // plane z = 2: nucleotides 1–3 are 2 below it, pushed up by 3 · 2 each, U = 3 · ½ 3 · 4
            (
                ExternalForce::RepulsionPlane {
                    particles: vec![0, 1, 2, 3],
                    stiff: 3.0,
                    dir: z,
                    position: -2.0,
                    v: 0.0,
                    end_position: 1e6,
                },
                vec![(1, z * 6.0), (2, z * 6.0), (3, z * 6.0)],
                18.0,
            ),
            // centres (0.5, 3, 1.5) and (1.5, 0, 0): d = (−1, 3, 1.5), |d| = 3.5, rest length 2;
            // 2 · 1.5 shared by the two pulled nucleotides
            (
                ExternalForce::Com { com: vec![1, 2], reference: vec![0, 3], stiff: 2.0, r0: 1.0, rate: 1e-3 },
                vec![(1, Vec3::new(-1.0, 3.0, 1.5) / 3.5 * 1.5), (2, Vec3::new(-1.0, 3.0, 1.5) / 3.5 * 1.5)],
                2.25,
            ),
        ];
        for (k, (force, want, energy)) in cases.iter().enumerate() {
            let mut f = vec![Vec3::ZERO; 4];
            let u = force.apply(1000, &r, &bx, &mut f);
            assert!((u - energy).abs() < 1e-12, "force {k}: energy {u}, want {energy}");
            for (i, &fi) in f.iter().enumerate() {
                let w = want.iter().find(|(j, _)| *j == i).map_or(Vec3::ZERO, |(_, w)| *w);
                assert!((fi - w).norm() < 1e-12, "force {k} on {i}: {fi:?}, want {w:?}");
            }
        }
        // the minimum image only with PBC: nucleotide 2 seen from 1 across a box of side 4
        let small = PeriodicBox::new(Vec3::new(4.0, 4.0, 4.0));
        let trap = |pbc| ExternalForce::MutualTrap {
            particle: 1,
            reference: 2,
            stiff: 1.0,
            stiff_rate: 0.0,
            r0: 0.0,
            rate: 0.0,
            pbc,
        };
        let mut f = vec![Vec3::ZERO; 4];
        assert!((trap(true).apply(0, &r, &small, &mut f) - 0.5).abs() < 1e-12);
        assert!((f[1] - x * -1.0).norm() < 1e-12, "{:?}", f[1]);
        let mut f = vec![Vec3::ZERO; 4];
        assert!((trap(false).apply(0, &r, &small, &mut f) - 4.5).abs() < 1e-12);
        assert!((f[1] - x * 3.0).norm() < 1e-12, "{:?}", f[1]);
    }

    #[test]
    fn bad_force_files_name_the_block() {
        let (top, _) = helix(&parse_sequence("ACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        let e = parse("{\n type = harmonic_trap\n}\n", Path::new("f"), &top).unwrap_err().to_string();
        assert!(e.starts_with("f:1: expected a force type oxDNA reads") && e.contains("`trap` with rate = 0"), "{e}");
        let e = parse("{\n type = trapp\n}\n", Path::new("f"), &top).unwrap_err().to_string();
        assert!(e.contains("did you mean 'trap'?"), "{e}");
        let e = parse(
            "{\n type = trap\n particle = 8\n pos0 = 0,0,0\n stiff = 1\n rate = 0\n dir = 0,0,1\n}\n",
            Path::new("f"),
            &top,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "f:1: expected nucleotide indices from 0 to 7 (or -1, lists, ranges a-b), found particle = 8");
        let e = parse("{\n type = string\n particle = 0\n F0 = x\n rate = 0\n dir = 0,0,1\n}\n", Path::new("f"), &top)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "f:1: expected a number for 'F0', found 'x'");
        let string = |dir: &str| format!("{{\n type = string\n particle = 0\n F0 = 1\n rate = 0\n dir = {dir}\n}}\n");
        for dir in ["0, 1", "0, x, 1", "0, 0, inf"] {
            let e = parse(&string(dir), Path::new("f"), &top).unwrap_err().to_string();
            assert!(e.starts_with("f:1: expected three numbers 'x, y, z' for 'dir'"), "{dir}: {e}");
        }
        let mutual =
            |r: &str| format!("{{\n type = mutual_trap\n particle = 0\n ref_particle = {r}\n stiff = 1\n r0 = 1\n}}\n");
        let e = parse(&mutual("8"), Path::new("f"), &top).unwrap_err().to_string();
        assert!(e.starts_with("f:1: expected a nucleotide index from 0 to 7 for 'ref_particle'"), "{e}");
        assert!(matches!(
            parse(&mutual("7"), Path::new("f"), &top).unwrap()[..],
            [ExternalForce::MutualTrap { reference: 7, .. }]
        ));
    }

    /// Particle lists as oxDNA reads them: -1 (all), `last`, lists, and ranges that follow a
    /// strand from a through its 5' neighbours to b — on a circular strand too, where a range to a
    /// nucleotide of another strand is an error, not an endless walk.
    #[test]
    fn particle_lists_ranges_and_circular_strands() {
        use crate::system::{Base, StrandKind};
        let (top, _) = helix(&parse_sequence("ACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        assert_eq!(particles("-1", &top).unwrap(), (0..8).collect::<Vec<_>>());
        assert_eq!(particles("last", &top).unwrap(), vec![7]);
        assert_eq!(particles("0, 2 ,5", &top).unwrap(), vec![0, 2, 5]);
        assert_eq!(particles("1-3,6", &top).unwrap(), vec![1, 2, 3, 6]);
        assert!(particles("-3", &top).is_err());
        assert!(particles("8", &top).is_err());
        let ring = [(vec![Base::A; 5], StrandKind::Dna, true), (vec![Base::C; 3], StrandKind::Dna, false)];
        let top = Topology::from_sequences(&ring, TopologyFormat::New);
        assert_eq!(particles("3-1", &top).unwrap(), vec![3, 2, 1]);
        assert_eq!(particles("1-3", &top).unwrap(), vec![1, 0, 4, 3], "round the circle");
        let e = particles("2-6", &top).unwrap_err();
        assert!(e.contains("nucleotide 6 is not reached from 2"), "{e}");
    }

    /// Blocks of every force type added after the first six, placed so that the random
    /// nucleotides of `random_system` fall where each acts.
    const MORE: &str = "
{
  type = sawtooth
  particle = 0-3
  F0 = 0.1
  wait_time = 100
  increment = 0.01
  dir = 1, 2, 3
}
{
  type = twist
  particle = -1
  stiff = 1.1
  rate = 1e-4
  base = 0.2
  pos0 = 11, 10.5, 9
  center = 10, 10, 10
  axis = 0.3, 0.4, 1
  mask = 1, 1, 0
  group_name = twisting
}
{
  type = lowdim_trap
  particle = 2, 5, 9
  stiff = 0.8
  rate = 1e-4
  pos0 = 9, 9, 9
  dir = 1, 0, 0
  visibility = 1, 0, 1
}
{
  type = repulsion_plane_moving
  particle = 0-3
  ref_particle = 12-15
  stiff = 1.5
  dir = 0, 0.2, 1
}
{
  type = attraction_plane
  particle = -1
  stiff = 0.7
  dir = 1, 0, 0
  position = -10
}
{
  type = LJ_wall
  particle = -1
  position = -6
  dir = 0, 0, 1
}
{
  type = LJ_wall
  particle = -1
  position = -6
  dir = 0, 0, 1
  sigma = 3
  stiff = 0.5
  n = 8
  only_repulsive = true
}
{
  type = LJ_cone
  particle = -1
  pos0 = 10, 10, 4
  dir = 0, 0, 1
  alpha = 0.8
  stiff = 0.4
  sigma = 1.2
}
{
  type = sphere
  particle = -1
  center = 10, 10, 10
  r0 = 1.0
  rate = 1e-4
  stiff = 2
}
{
  type = generic_central_force
  force_type = gravity
  particle = -1
  center = 10, 10, 10
  F0 = 0.3
  inner_cut_off = 0.5
  outer_cut_off = 3
  E_shift = 0.1
}
{
  type = yukawa_sphere
  particle = -1
  center = 10, 10, 10
  radius = 5
  debye_length = 1
  debye_A = 2
  WCA_sigma = 2
  WCA_epsilon = 0.5
}
{
  type = sphere_smooth
  particle = -1
  center = 10, 10, 10
  r0 = 0.5
  r_ext = 3
  stiff = 0.6
}
";

    /// 16 nucleotides (an 8-bp duplex's topology) at random positions within 2 of (10, 10, 10),
    /// in a box of side 20.
    fn random_system(seed: u64) -> (Topology, Vec<Vec3>, PeriodicBox) {
        use rand::{RngExt, SeedableRng};
        let (top, _) =
            helix(&parse_sequence("ACGTACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut u = || rng.random_range(-2.0..2.0);
        let r = (0..top.len()).map(|_| Vec3::new(10.0 + u(), 10.0 + u(), 10.0 + u())).collect();
        (top, r, PeriodicBox::new(Vec3::new(20.0, 20.0, 20.0)))
    }

    /// Every force of `MORE` (but `sphere_smooth`, whose oxDNA force is not the gradient of
    /// its energy) is minus the gradient of its energy by central differences, on random
    /// positions, at a step where the moving ones have moved; `sphere_smooth` differs from it by
    /// exactly oxDNA's −k (d − 1) d̂.
    #[test]
    fn the_added_forces_are_minus_the_gradient_of_their_energies() {
        for seed in 0..4 {
            let (top, r0, bx) = random_system(seed);
            let forces = parse(MORE, Path::new("forces"), &top).unwrap();
            assert_eq!(forces.len(), 12);
            let t = 3456;
            for (k, f) in forces.iter().enumerate() {
                let mut g = vec![Vec3::ZERO; top.len()];
                let e0 = f.apply(t, &r0, &bx, &mut g);
                assert!(e0.abs() > 1e-6 && e0.is_finite(), "force {k} acts: {e0}");
                assert!(
                    (f.energy(t, &|i| r0[i], &bx) - e0).abs() < 1e-12 * e0.abs().max(1.0),
                    "force {k}: energy = apply"
                );
                let moved: Vec<usize> = match f {
                    ExternalForce::RepulsionPlaneMoving { particles, .. } => particles.clone(),
                    _ => (0..top.len()).collect(),
                };
                let mut acting = 0;
                for &i in &moved {
                    if g[i].norm() > 0.0 {
                        acting += 1;
                    }
                    let mut grad = Vec3::ZERO;
                    for c in 0..3 {
                        let h = 1e-6;
                        let energy = |dx: f64| {
                            let mut r = r0.clone();
                            r[i].0[c] += dx;
                            f.energy(t, &|j| r[j], &bx)
                        };
                        grad.0[c] = (energy(h) - energy(-h)) / (2.0 * h);
                    }
                    let want = if let ExternalForce::SphereSmooth { stiff, center, .. } = f {
                        let d = bx.min_image(r0[i] - *center);
                        let m = d.norm();
                        if g[i].norm() > 0.0 {
                            -grad - d / m * (stiff * (m - 1.0))
                        } else {
                            Vec3::ZERO
                        }
                    } else {
                        -grad
                    };
                    assert!(
                        (want - g[i]).norm() < 1e-6 * (1.0 + want.norm()),
                        "seed {seed}, force {k} ({f:?}), nucleotide {i}: {:?} vs {want:?}",
                        g[i]
                    );
                }
                assert!(acting > 0, "seed {seed}, force {k}: no nucleotide feels it");
                // Monte Carlo's energy changes: a nucleotide the force does not act on leaves it
                for i in (0..top.len()).filter(|&i| !f.acts_on(i)) {
                    let mut r = r0.clone();
                    r[i] += Vec3::new(0.3, -0.2, 0.1);
                    assert!((f.energy(t, &|j| r[j], &bx) - e0).abs() < 1e-12, "seed {seed}, force {k}, {i}");
                }
            }
        }
    }

    /// The step dependence, by hand: the sawtooth's ⌊(t − 1)/wait_time⌋ truncated towards zero,
    /// the twist's trap turning with base + rate·t about its axis, the sphere growing.
    #[test]
    fn rates_act_on_the_step_as_in_oxdna() {
        let (top, _, bx) = random_system(0);
        let forces = parse(MORE, Path::new("forces"), &top).unwrap();
        let p = Vec3::new(1.0, 2.0, 3.0);
        let pull = |t: u64| forces[0].single(t as f64, p, &bx).unwrap().1;
        let dir = Vec3::new(1.0, 2.0, 3.0).normalized();
        // t = 0: (−1)/100 truncates to 0; t = 100: 99/100 → 0; t = 101: 1; t = 250: 2
        for (t, level) in [(0, 0.1), (1, 0.1), (100, 0.1), (101, 0.11), (250, 0.12)] {
            assert!((pull(t) - dir * level).norm() < 1e-12, "t = {t}: {:?}", pull(t));
        }
        // the twist: at θ = base + rate t = π/2 about z through the origin, pos0 (1, 0, 0) is at (0, 1, 0)
        let twist = ExternalForce::Twist {
            particles: vec![0],
            stiff: 2.0,
            rate: 1e-3,
            base: std::f64::consts::FRAC_PI_2 - 1.0,
            pos0: Vec3::new(1.0, 0.0, 0.0),
            center: Vec3::ZERO,
            axis: Vec3::new(0.0, 0.0, 1.0),
            mask: Vec3::new(1.0, 1.0, 1.0),
        };
        let (e, f) = twist.single(1000.0, Vec3::new(0.0, 1.0, 0.5), &bx).unwrap();
        assert!((e - 0.25).abs() < 1e-12 && (f - Vec3::new(0.0, 0.0, -1.0)).norm() < 1e-12, "{e} {f:?}");
        // oxDNA's default mask 0, 0, 0: no force and no energy
        let (top1, _) = helix(&parse_sequence("A").unwrap(), Shape::Strand, None, TopologyFormat::Classic).unwrap();
        let block = "{\n type = twist\n particle = 0\n stiff = 1\n rate = 0\n base = 0\n pos0 = 1,0,0\n center = 0,0,0\n axis = 0,0,1\n}\n";
        let f0 = parse(block, Path::new("f"), &top1).unwrap();
        assert!(matches!(&f0[0], ExternalForce::Twist { mask, .. } if mask.norm() == 0.0));
        // the sphere's radius grows: r0 + rate t = 1.3 at t = 3000
        let sphere = &forces[8];
        let at = |t: u64, d: f64| sphere.single(t as f64, Vec3::new(10.0 + d, 10.0, 10.0), &bx).unwrap().0;
        assert!(
            at(3000, 1.29).abs() < 1e-15 && (at(3000, 2.3) - 1.0).abs() < 1e-12 && (at(0, 2.0) - 1.0).abs() < 1e-12
        );
    }

    #[test]
    fn forces_not_implemented_are_refused_by_name() {
        let (top, _) = helix(&parse_sequence("ACGT").unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
        let err = |text: &str| parse(text, Path::new("f"), &top).unwrap_err().to_string();
        for (kind, why) in [
            ("ellipsoid", "ellipsoid"),
            ("alignment_field", "torque"),
            ("meta_com_trap", "metadynamics"),
            ("repulsive_sphere", "oxDNA's type is 'sphere'"),
            ("repulsive_sphere_smooth", "'sphere_smooth'"),
            ("skew_trap", "has no 'skew_trap'"),
        ] {
            let e = err(&format!("{{\n type = {kind}\n particle = 0\n}}\n"));
            assert!(e.starts_with("f:1: expected a force type ox") && e.contains(kind) && e.contains(why), "{e}");
        }
        let e =
            err("{\n type = generic_central_force\n force_type = interpolated\n particle = 0\n center = 0,0,0\n}\n");
        assert!(e.contains("force_type = interpolated"), "{e}");
        let e = err("{\n type = LJ_wall\n particle = 0\n position = 1\n dir = 0,0,1\n n = 7\n}\n");
        assert!(e.contains("an even positive integer for 'n'"), "{e}");
        let e = err(
            "{\n type = repulsion_plane_moving\n particle = 0\n ref_particle = 1, 3\n stiff = 1\n dir = 0,0,1\n}\n",
        );
        assert!(e.contains("contiguous"), "{e}");
        let e = err("{\n type = LJ_wall\n particle = 0\n position = 1\n dir = 0,0,1\n only_repulsive = maybe\n}\n");
        assert!(e.contains("true or false for 'only_repulsive'"), "{e}");
    }
}
