//! Ideal helices in oxDNA geometry: single strands and Watson–Crick duplexes.
//!
//! The helix axis is z. The k-th base pair (from the 5' end of the first strand) sits at height
//! `k · RISE` and azimuth `k · TWIST`; the first strand's centre of mass lies at distance
//! [`CM_AXIS_DISTANCE`] from the axis, with `a1` pointing at the axis and `a3 = −z` (towards its
//! 5' end); its partner sits diametrically opposite with `a1` and `a3` reversed. With these
//! values, which oxDNA's own generator uses, consecutive backbone sites are 0.729 apart (FENE rest
//! length 0.7525 / 0.7564), paired base sites are 0.4 apart facing each other (the H-bond minimum),
//! and the helix is right-handed, so every stacking φ factor is 1.

use crate::error::{Error, Result};
use crate::geometry::Vec3;
use crate::io::Configuration;
use crate::system::{Base, StrandKind, Topology, TopologyFormat};

/// Rise per base pair along the axis (oxDNA length units; 0.332 nm).
pub const RISE: f64 = 0.3897628551303122;
/// Twist per base pair (radians): 35.9°.
pub const TWIST: f64 = 35.9 * std::f64::consts::PI / 180.0;
/// Distance of a nucleotide's centre of mass from the helix axis.
pub const CM_AXIS_DISTANCE: f64 = 0.6;

/// Parses a sequence of A, C, G, T, U (case-insensitive; spaces ignored).
pub fn parse_sequence(text: &str) -> Result<Vec<Base>> {
    let seq: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if seq.is_empty() {
        return Err(Error::invalid("sequence", "\"\"", "give at least one base, e.g. --sequence ACGTACGT"));
    }
    seq.iter()
        .enumerate()
        .map(|(i, &c)| {
            Base::from_letter(c).ok_or_else(|| {
                Error::invalid(
                    "sequence",
                    text,
                    format!("character {} is '{c}'; use only the bases A, C, G, T and U", i + 1),
                )
            })
        })
        .collect()
}

/// What to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One strand in the helical, stacked conformation.
    Strand,
    /// The strand and its Watson–Crick complement, paired.
    Duplex,
}

/// Builds an ideal helix of `sequence` (5'→3' of the first strand) centred in a cubic box of
/// side `box_side` (default: large enough for the helix, at least 20). DNA uses T, RNA (any U
/// in the sequence) pairs A with U.
///
/// ```
/// use oxgrad::generate::{helix, parse_sequence, Shape};
/// use oxgrad::system::TopologyFormat;
/// let (top, conf) = helix(&parse_sequence("ACGTACGT")?, Shape::Duplex, None, TopologyFormat::New)?;
/// assert_eq!((top.len(), conf.len()), (16, 16));
/// assert!(parse_sequence("ACGX").is_err()); // says which letter and where
/// # Ok::<(), oxgrad::Error>(())
/// ```
pub fn helix(
    sequence: &[Base],
    shape: Shape,
    box_side: Option<f64>,
    format: TopologyFormat,
) -> Result<(Topology, Configuration)> {
    let n = sequence.len();
    if n == 0 {
        return Err(Error::invalid("sequence", "\"\"", "give at least one base"));
    }
    let kind = if sequence.contains(&Base::U) { StrandKind::Rna } else { StrandKind::Dna };
    let length = n as f64 * RISE;
    let side = box_side.unwrap_or_else(|| (1.5 * length + 10.0).ceil().max(20.0));
    if !(side.is_finite() && side > 2.0 * CM_AXIS_DISTANCE + 1.0) {
        return Err(Error::invalid(
            "box side",
            side,
            "a positive length in oxDNA units, larger than the helix diameter (about 2.2)",
        ));
    }
    let complement: Vec<Base> = sequence
        .iter()
        .rev()
        .map(|b| match (b.complement(), kind) {
            (Base::T, StrandKind::Rna) => Base::U,
            (c, _) => c,
        })
        .collect();
    let mut strands = vec![(sequence.to_vec(), kind, false)];
    if shape == Shape::Duplex {
        strands.push((complement, kind, false));
    }
    let top = Topology::from_sequences(&strands, format);
    let centre = Vec3::new(side / 2.0, side / 2.0, side / 2.0 - length / 2.0);
    let z = Vec3::new(0.0, 0.0, 1.0);
    let mut r = vec![Vec3::ZERO; top.len()];
    let mut a1 = vec![Vec3::ZERO; top.len()];
    let mut a3 = vec![Vec3::ZERO; top.len()];
    for k in 0..n {
        let phi = k as f64 * TWIST;
        let u = Vec3::new(phi.cos(), phi.sin(), 0.0);
        let height = centre + z * (k as f64 * RISE);
        let i = top.strands[0].nucleotides[k];
        r[i] = height + u * CM_AXIS_DISTANCE;
        a1[i] = -u;
        a3[i] = -z;
        if shape == Shape::Duplex {
            // the partner of base pair k is the (n-1-k)-th nucleotide of strand 2 from its 5' end
            let j = top.strands[1].nucleotides[n - 1 - k];
            r[j] = height - u * CM_AXIS_DISTANCE;
            a1[j] = u;
            a3[j] = z;
        }
    }
    let zeros = vec![Vec3::ZERO; top.len()];
    let conf = Configuration {
        step: 0,
        box_sides: Vec3::new(side, side, side),
        energy: [0.0; 3],
        r,
        a1,
        a3,
        v: zeros.clone(),
        l: zeros,
    };
    Ok((top, conf))
}

/// A copy of `conf` with every centre displaced by a Gaussian of standard deviation `sigma_r` per
/// component and every frame rotated about a random axis by a Gaussian angle of standard
/// deviation `sigma_angle` (radians): test and benchmark frames that resemble thermal ones.
#[must_use]
pub fn perturbed(conf: &Configuration, sigma_r: f64, sigma_angle: f64, seed: u64) -> Configuration {
    use rand::{RngExt, SeedableRng};
    use rand_distr::StandardNormal;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut gauss = || -> f64 { rng.sample(StandardNormal) };
    let mut out = conf.clone();
    for i in 0..out.len() {
        out.r[i] += Vec3::new(gauss(), gauss(), gauss()) * sigma_r;
        let axis = Vec3::new(gauss(), gauss(), gauss()).normalized();
        let angle = gauss() * sigma_angle;
        out.a1[i] = crate::geometry::rotate(out.a1[i], axis, angle);
        out.a3[i] = crate::geometry::rotate(out.a3[i], axis, angle);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rna_duplex_pairs_with_uracil() {
        let (top, _) = helix(&parse_sequence("AUGC").unwrap(), Shape::Duplex, None, TopologyFormat::New).unwrap();
        assert_eq!(top.sequence(1), "GCAU");
        assert_eq!(top.strands[1].kind, StrandKind::Rna);
    }

    #[test]
    fn bad_sequence_names_the_character() {
        let e = parse_sequence("ACGX").unwrap_err().to_string();
        assert_eq!(e, "invalid sequence = ACGX: character 4 is 'X'; use only the bases A, C, G, T and U");
    }
}
