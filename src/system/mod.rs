//! The simulated system: topology and ideal-helix generation.

mod topology;

pub use topology::{Base, Nucleotide, Strand, StrandKind, Topology, TopologyFormat};
