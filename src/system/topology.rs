//! Topology: strands, bases and 3'/5' neighbours.
//!
//! Nucleotides keep the order of the topology file, which is also the row order of every
//! configuration that goes with it: the classic format lists each strand 3'→5', the new format
//! 5'→3'. Bonded pairs are derived from the 3' neighbour relation, never from index order: the
//! bonded pair `(p, q)` has `q = n3(p)`, so `p` is the 5'-side and `q` the 3'-side nucleotide.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A nucleobase. `U` is RNA's uracil; oxDNA treats it as `T` in every interaction table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Base {
    /// Adenine.
    A,
    /// Cytosine.
    C,
    /// Guanine.
    G,
    /// Thymine.
    T,
    /// Uracil.
    U,
}

impl Base {
    /// Index into 4×4 interaction tables in the order A, C, G, T (U counts as T).
    #[must_use]
    pub fn index(self) -> usize {
        match self {
            Base::A => 0,
            Base::C => 1,
            Base::G => 2,
            Base::T | Base::U => 3,
        }
    }

    /// The letter.
    #[must_use]
    pub fn letter(self) -> char {
        match self {
            Base::A => 'A',
            Base::C => 'C',
            Base::G => 'G',
            Base::T => 'T',
            Base::U => 'U',
        }
    }

    /// From a letter (case-insensitive).
    #[must_use]
    pub fn from_letter(c: char) -> Option<Base> {
        Some(match c.to_ascii_uppercase() {
            'A' => Base::A,
            'C' => Base::C,
            'G' => Base::G,
            'T' => Base::T,
            'U' => Base::U,
            _ => return None,
        })
    }

    /// Watson–Crick complement (DNA letters: A↔T, C↔G; U pairs with A).
    #[must_use]
    pub fn complement(self) -> Base {
        match self {
            Base::A => Base::T,
            Base::C => Base::G,
            Base::G => Base::C,
            Base::T | Base::U => Base::A,
        }
    }

    /// Whether `self` and `other` form a Watson–Crick pair (A–T/U, C–G).
    #[must_use]
    pub fn pairs_with(self, other: Base) -> bool {
        self.index() + other.index() == 3
    }
}

impl fmt::Display for Base {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// DNA or RNA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StrandKind {
    /// Deoxyribonucleic acid.
    #[default]
    Dna,
    /// Ribonucleic acid.
    Rna,
}

/// One nucleotide of a topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nucleotide {
    /// Zero-based strand index.
    pub strand: usize,
    /// The base.
    pub base: Base,
    /// The 3' neighbour, if any.
    pub n3: Option<usize>,
    /// The 5' neighbour, if any.
    pub n5: Option<usize>,
}

/// A strand: its nucleotides from the 5' to the 3' end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strand {
    /// Nucleotide indices, 5' end first.
    pub nucleotides: Vec<usize>,
    /// A circular strand has no ends: its 3' end is bonded to its 5' end.
    pub circular: bool,
    /// DNA or RNA.
    pub kind: StrandKind,
    /// Further `key=value` attributes of a new-format topology line, kept verbatim.
    pub attributes: BTreeMap<String, String>,
}

/// The two oxDNA topology file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum TopologyFormat {
    /// `N S` header, then `strand base n3 n5` per nucleotide; strands listed 3'→5'.
    #[default]
    Classic,
    /// `N S 5->3` header, then one line per strand: the sequence 5'→3' and attributes.
    New,
}

/// Strands, bases and 3'/5' neighbours of a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Nucleotides in file (= configuration row) order.
    pub nucleotides: Vec<Nucleotide>,
    /// Strands in file order.
    pub strands: Vec<Strand>,
}

impl Topology {
    /// Builds a topology from strands given as (sequence 5'→3', kind, circular); nucleotides are
    /// laid out in the canonical order of `format`.
    ///
    /// # Panics
    /// Never: every strand is built with consistent neighbours by construction.
    pub fn from_sequences<S: AsRef<[Base]>>(strands: &[(S, StrandKind, bool)], format: TopologyFormat) -> Topology {
        let mut nucleotides = Vec::new();
        let mut out = Vec::new();
        for (s, (seq, kind, circular)) in strands.iter().enumerate() {
            let seq = seq.as_ref();
            let start = nucleotides.len();
            let len = seq.len();
            // index of the k-th nucleotide counted from the 5' end
            let at = |k: usize| match format {
                TopologyFormat::New => start + k,
                TopologyFormat::Classic => start + len - 1 - k,
            };
            let mut listed = vec![None; len];
            for (k, &base) in seq.iter().enumerate() {
                let n5 = if k > 0 {
                    Some(at(k - 1))
                } else if *circular && len > 1 {
                    Some(at(len - 1))
                } else {
                    None
                };
                let n3 = if k + 1 < len {
                    Some(at(k + 1))
                } else if *circular && len > 1 {
                    Some(at(0))
                } else {
                    None
                };
                listed[at(k) - start] = Some(Nucleotide { strand: s, base, n3, n5 });
            }
            nucleotides.extend(listed.into_iter().map(|n| n.expect("every position is filled once")));
            out.push(Strand {
                nucleotides: (0..len).map(at).collect(),
                circular: *circular && len > 1,
                kind: *kind,
                attributes: BTreeMap::new(),
            });
        }
        Topology { nucleotides, strands: out }
    }

    /// Number of nucleotides.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nucleotides.len()
    }

    /// Whether there are no nucleotides.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nucleotides.is_empty()
    }

    /// Bonded pairs `(p, q)` with `q = n3(p)`: `p` is the 5'-side nucleotide. One per backbone bond,
    /// in the order of `p`.
    #[must_use]
    pub fn bonded_pairs(&self) -> Vec<(usize, usize)> {
        self.nucleotides.iter().enumerate().filter_map(|(p, n)| n.n3.map(|q| (p, q))).collect()
    }

    /// Whether nucleotide `i` is a strand end (lacks a 3' or a 5' neighbour).
    #[must_use]
    pub fn is_strand_end(&self, i: usize) -> bool {
        let n = &self.nucleotides[i];
        n.n3.is_none() || n.n5.is_none()
    }

    /// The bases in file order.
    #[must_use]
    pub fn bases(&self) -> Vec<Base> {
        self.nucleotides.iter().map(|n| n.base).collect()
    }

    /// The sequence of strand `s`, 5'→3'.
    #[must_use]
    pub fn sequence(&self, s: usize) -> String {
        self.strands[s].nucleotides.iter().map(|&i| self.nucleotides[i].base.letter()).collect()
    }

    /// Whether the nucleotides are laid out in the canonical order of `format`: strands one after
    /// the other, each listed 3'→5' (classic) or 5'→3' (new).
    #[must_use]
    pub fn is_canonical(&self, format: TopologyFormat) -> bool {
        let mut next = 0;
        for s in &self.strands {
            let len = s.nucleotides.len();
            for (k, &i) in s.nucleotides.iter().enumerate() {
                let expected = match format {
                    TopologyFormat::New => next + k,
                    TopologyFormat::Classic => next + len - 1 - k,
                };
                if i != expected {
                    return false;
                }
            }
            next += len;
        }
        true
    }

    /// The same system laid out in the canonical order of `format`, and the permutation that maps
    /// it: `perm[new_index] = old_index`. Apply the permutation to configurations with
    /// [`Configuration::permuted`](crate::io::Configuration::permuted).
    #[must_use]
    pub fn converted(&self, format: TopologyFormat) -> (Topology, Vec<usize>) {
        let strands: Vec<_> = self
            .strands
            .iter()
            .map(|s| (s.nucleotides.iter().map(|&i| self.nucleotides[i].base).collect::<Vec<_>>(), s.kind, s.circular))
            .collect();
        let mut out = Topology::from_sequences(&strands, format);
        let mut perm = vec![0; self.len()];
        for (old, new) in self.strands.iter().zip(&mut out.strands) {
            new.attributes = old.attributes.clone();
            for (&o, &n) in old.nucleotides.iter().zip(&new.nucleotides) {
                perm[n] = o;
            }
        }
        (out, perm)
    }
}
