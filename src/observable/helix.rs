//! Helix observables.
//!
//! **Propeller twist** (mythos `PropellerTwist`): for each base pair (i, j), 180° minus the
//! angle between the base normals a3_i and a3_j, averaged over the pairs; in **degrees**, never
//! negative (H17). oxDNA1's duplex gives about 21.7°.

use crate::geometry::orthonormalize;
use crate::io::Configuration;
use crate::system::Topology;

/// The base pairs of a two-strand Watson–Crick duplex: the k-th nucleotide of strand 0 from its
/// 5' end with the k-th of strand 1 from its 3' end.
#[must_use]
pub fn duplex_base_pairs(top: &Topology) -> Vec<(usize, usize)> {
    if top.strands.len() != 2 {
        return Vec::new();
    }
    let (a, b) = (&top.strands[0].nucleotides, &top.strands[1].nucleotides);
    a.iter().zip(b.iter().rev()).map(|(&i, &j)| (i, j)).collect()
}

/// Mean propeller twist of `pairs` in one state, degrees.
#[must_use]
pub fn propeller_twist(conf: &Configuration, pairs: &[(usize, usize)]) -> f64 {
    let sum: f64 = pairs
        .iter()
        .map(|&(i, j)| {
            let (_, _, a3i) = orthonormalize(conf.a1[i], conf.a3[i]);
            let (_, _, a3j) = orthonormalize(conf.a1[j], conf.a3[j]);
            180.0 - a3i.dot(a3j).clamp(-1.0, 1.0).acos().to_degrees()
        })
        .sum();
    sum / pairs.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::generate::{helix, parse_sequence, Shape};

    #[test]
    fn an_ideal_helix_has_no_propeller_twist() {
        let (top, conf) =
            helix(&parse_sequence("ACGTAC").unwrap(), Shape::Duplex, None, crate::system::TopologyFormat::Classic)
                .unwrap();
        let pairs = duplex_base_pairs(&top);
        assert_eq!(pairs.len(), 6);
        assert!(pairs.iter().all(|&(i, j)| top.nucleotides[i].base.pairs_with(top.nucleotides[j].base)));
        assert!(propeller_twist(&conf, &pairs).abs() < 1e-6);
    }
}
