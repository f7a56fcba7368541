//! # oxgrad
//!
//! Differentiable coarse-grained DNA/RNA models of the oxDNA family, and the tools to train their
//! parameters against reference data.
//!
//! * [`io`]: oxDNA's own file formats — topologies (classic and new), streaming trajectories,
//!   input files, sequence-dependent parameter files — read and written faithfully.
//! * [`params`]: every physical constant as a named parameter (mythos / jax_dna names), defaults
//!   for oxDNA1 and oxDNA2, derived smoothing constants, optimisable subsets.
//! * [`system`]: topologies and ideal-helix generation.
//! * [`units`]: oxDNA simulation units and conversions at the edges.
//!
//! ## Units and conventions
//!
//! oxDNA simulation units throughout: length 0.8518 nm, energy k_B · 3000 K, temperature
//! T\[K\] / 3000. Nucleotides keep the order of their topology file (the row order of its
//! configurations). The bonded pair `(p, q)` has `q = n3(p)`.
//!
//! ## Citations
//!
//! Ouldridge, Louis & Doye, J. Chem. Phys. 134, 085101 (2011) (oxDNA1); Šulc et al., J. Chem.
//! Phys. 137, 135101 (2012) (sequence dependence); Snodin et al., J. Chem. Phys. 142, 234901
//! (2015) (oxDNA2).

#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
#![deny(clippy::float_cmp)]

pub mod backend;
pub mod config;
pub mod energy;
mod error;
pub mod geometry;
pub mod io;
pub mod math;
pub mod objective;
pub mod observable;
pub mod optimize;
pub mod params;
pub mod simulate;
pub mod system;
pub mod train;
pub mod trajectory;
pub mod units;

pub use error::{Error, Location, Result};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The types most programs need.
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::geometry::Vec3;
    pub use crate::io::{Configuration, InputFile, SeqDepFile, TrajectoryReader, TrajectoryWriter};
    pub use crate::params::{ModelKind, ParamSelection, ParamSet, Term};
    pub use crate::system::{Base, Topology, TopologyFormat};
}
