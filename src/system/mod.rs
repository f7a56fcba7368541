//! The simulated system: topology and ideal-helix generation.

pub mod generate;
mod topology;

pub use topology::{Base, Nucleotide, Strand, StrandKind, Topology, TopologyFormat};
