//! External forces as oxDNA reads them (`external_forces = true`, `external_forces_file`): the
//! traps and pulls of force-extension and hairpin studies. Each acts on nucleotide centres
//! (no torque), may change linearly with the step, and adds its energy to the potential.
//!
//! | `type` | keys | energy (r: a nucleotide's centre, t: the step) |
//! |---|---|---|
//! | `trap` | `particle`, `pos0`, `stiff`, `rate`, `dir` | ½ k \|r − (r0 + rate·t·d̂)\|² |
//! | `string` | `particle`, `F0`, `rate`, `dir` | −(F0 + rate·t) d̂·r (a constant pull) |
//! | `mutual_trap` | `particle`, `ref_particle`, `stiff`, `r0`, `rate`, `stiff_rate`, `PBC` | ½ (k + k′t)(\|r_ref − r\| − (r0 + rate·t))², on `particle` only |
//! | `constant_trap` | `particle`, `ref_particle`, `stiff`, `r0`, `PBC` | k \|\|r_ref − r\| − r0\| |
//! | `repulsion_plane` | `particle`, `stiff`, `dir`, `position` | ½ k δ² where δ = d̂·r + position < 0 |
//! | `com` | `com_list`, `ref_list`, `stiff`, `r0`, `rate` | ½ k (\|R_ref − R\| − (r0 + rate·t))², R the centre of `com_list` (pulled), R_ref of `ref_list` |
//!
//! Units are oxDNA's: stiffness in energy/length² (1 = 57.09 pN/nm), forces in 48.63 pN.
//! `particle` takes oxDNA's forms: an index, `-1` (every nucleotide), a list `0, 3, 7`, `last`,
//! and a range `a-b` along a strand: from `a` through its 5' neighbours to `b`, as oxDNA walks it
//! (in a classic topology, listed 3'→5', that is a, a+1, …, b). A file looks like
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
    /// A constant force growing at `rate` per step.
    String {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Force at step 0.
        f0: f64,
        /// Growth per step.
        rate: f64,
        /// Unit direction.
        dir: Vec3,
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
    /// A plane {r : d̂·r + position = 0} repelling the nucleotides from its negative side.
    RepulsionPlane {
        /// Nucleotides.
        particles: Vec<usize>,
        /// Stiffness.
        stiff: f64,
        /// Unit normal.
        dir: Vec3,
        /// Offset.
        position: f64,
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
pub const TYPES: [&str; 6] = ["trap", "string", "mutual_trap", "constant_trap", "repulsion_plane", "com"];

/// Reads an oxDNA external forces file for `top`.
pub fn read(path: &Path, top: &Topology) -> Result<Vec<ExternalForce>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read external forces file", path, e))?;
    parse(&text, path, top)
}

/// Parses the `{ … }` blocks of an external forces file.
pub fn parse(text: &str, path: &Path, top: &Topology) -> Result<Vec<ExternalForce>> {
    crate::io::input::blocks(text, path)?.iter().map(|(b, line)| force(b, path, *line, top)).collect()
}

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
    let pbc = || -> Result<bool> {
        match get("PBC").map(str::trim) {
            None => Ok(false),
            Some("1" | "true") => Ok(true),
            Some("0" | "false") => Ok(false),
            Some(v) => Err(Error::parse(path, line, "true or false for 'PBC'", format!("'{v}'"))),
        }
    };
    let kind = req("type")?;
    let f = match kind {
        "trap" => ExternalForce::Trap { particles: list("particle")?, pos0: vec3("pos0")?, stiff: num("stiff")?, rate: num("rate")?, dir: unit("dir")? },
        "string" => ExternalForce::String { particles: list("particle")?, f0: num("F0")?, rate: num("rate")?, dir: unit("dir")? },
        "mutual_trap" => ExternalForce::MutualTrap {
            particle: index("particle")?,
            reference: index("ref_particle")?,
            stiff: num("stiff")?,
            stiff_rate: opt("stiff_rate", 0.0)?,
            r0: num("r0")?,
            rate: opt("rate", 0.0)?,
            pbc: pbc()?,
        },
        "constant_trap" => ExternalForce::ConstantTrap {
            particle: index("particle")?,
            reference: index("ref_particle")?,
            stiff: num("stiff")?,
            r0: num("r0")?,
            pbc: pbc()?,
        },
        "repulsion_plane" => ExternalForce::RepulsionPlane {
            particles: list("particle")?,
            stiff: num("stiff")?,
            dir: unit("dir")?,
            position: num("position")?,
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
        other => {
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

    /// Whether the force's energy depends on nucleotide `i`.
    #[must_use]
    pub fn acts_on(&self, i: usize) -> bool {
        match self {
            ExternalForce::Trap { particles, .. }
            | ExternalForce::String { particles, .. }
            | ExternalForce::RepulsionPlane { particles, .. } => particles.contains(&i),
            ExternalForce::MutualTrap { particle, reference, .. }
            | ExternalForce::ConstantTrap { particle, reference, .. } => i == *particle || i == *reference,
            ExternalForce::Com { com, reference, .. } => com.contains(&i) || reference.contains(&i),
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
            ExternalForce::Trap { particles, pos0, stiff, rate, dir } => {
                let centre = *pos0 + *dir * (rate * t);
                particles
                    .iter()
                    .map(|&i| {
                        let d = r(i) - centre;
                        add(i, -(d * *stiff));
                        0.5 * stiff * d.norm2()
                    })
                    .sum()
            }
            ExternalForce::String { particles, f0, rate, dir } => {
                let force = *dir * (f0 + rate * t);
                particles
                    .iter()
                    .map(|&i| {
                        add(i, force);
                        -force.dot(r(i))
                    })
                    .sum()
            }
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
            ExternalForce::RepulsionPlane { particles, stiff, dir, position } => particles
                .iter()
                .map(|&i| {
                    let delta = dir.dot(r(i)) + position;
                    if delta >= 0.0 {
                        return 0.0;
                    }
                    add(i, -(*dir * (stiff * delta)));
                    0.5 * stiff * delta * delta
                })
                .sum(),
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
                ExternalForce::String { particles: vec![0, 1], f0: 0.5, rate: 1e-3, dir: y },
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
                ExternalForce::RepulsionPlane { particles: vec![0, 1, 2, 3], stiff: 3.0, dir: z, position: -2.0 },
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
}
