//! # oxgrad
//!
//! Differentiable coarse-grained DNA models of the oxDNA family, a native oxDNA
//! molecular-dynamics engine, and a parallel optimizer that trains the models' parameters against
//! reference data.
//!
//! ## How the parts fit
//!
//! ```text
//!  oxDNA files ──► io ──► system::Topology, io::Configuration
//!                               │
//!  params::ParamSet ──► energy::EnergyModel ──► energies (f64), forces, Burn autodiff gradients
//!                               │
//!                  simulate (native MD, replayed trajectories, your own Simulator)
//!                               │  trajectory::Trajectory
//!                  observable (rise, pitch, Rg, …) ──► objective (DiffTRe, losses, your own)
//!                               │  gradients by parameter name
//!                  optimize (scheduler, executors, aggregation, Adam/SGD)
//!                               │
//!                  train (run directory, checkpoints, validation, plots) ◄── config (TOML)
//! ```
//!
//! ## Where to start
//!
//! * Train from a TOML file: [`config::ConfigFile`] → [`config::plan::Plan::training`] →
//!   [`train::Training::run`] (what `oxgrad optimize` does; `docs/config.md` lists every key).
//! * Evaluate a model on your frames: [`energy::EnergyModel::new`], then
//!   [`energy::EnergyModel::map`] (energies) or [`energy::EnergyModel::vjp`] (gradients).
//! * Run MD: [`simulate::input::SimRun`] from an oxDNA input file, or [`simulate::md::Md`] step
//!   by step.
//! * Bring your own component: implement [`energy::EnergyTerm`] (an energy term, added with
//!   [`energy::EnergyModel::with_term`]), [`component::Simulator`], [`component::Objective`] or
//!   [`observable::Observable`], write a loss ([`objective::loss::Loss::custom`]) or a gradient
//!   aggregation ([`optimize::Aggregate::custom`]); the `examples/` directory has one of each.
//!
//! ## Modules
//!
//! | module | what it holds |
//! |---|---|
//! | [`io`] | oxDNA's file formats: topologies (classic, new), streaming trajectories, input files, sequence-dependent parameters, atomic writes |
//! | [`system`] | topologies: strands, nucleotides, bonds, sequences |
//! | [`generate`] | ideal helices (single strands, duplexes) and thermal-like perturbations |
//! | [`params`] | every constant as a named parameter (mythos / jax_dna names), oxDNA1/oxDNA2 defaults, optimisable subsets |
//! | [`energy`] | the energy models, one definition evaluated as `f64`, forces and tensors; users' terms ([`energy::custom`]) |
//! | [`simulate`] | the native MD engine, oxDNA input files, external forces, simulators for the optimizer |
//! | [`trajectory`] | sampled states with temperatures and metadata |
//! | [`observable`] | structural observables with units and block-jackknife errors |
//! | [`objective`] | DiffTRe and losses on tensors |
//! | [`component`] | below `simulate`, `objective` and `optimize`: the `Simulator` and `Objective` traits, observations, task context, scheduler hints, names, the stop request |
//! | [`optimize`] | the scheduler, executors, aggregation, optimizers, the run loop and its observers, checkpoints |
//! | [`train`] | training runs: run directory, resume, validation, plots, report |
//! | [`config`] | the TOML schema of a training run, checked with file, line and key |
//! | [`units`] | simulation units and conversions |
//! | [`machine`] | what this machine offers a run: cores, GPUs |
//! | [`geometry`], [`math`] | vectors, frames, the periodic box; the scalar trait shared by `f64` and tensor code |
//! | [`backend`] | the one place that names Burn backends |
//!
//! Dependencies run one way (`ARCHITECTURE.md` lists what each module may use, and a test holds
//! the source to it): `io` reads files into `system`'s types (`system` knows no file format),
//! `energy` evaluates a `params::ParamSet` (`params` knows no energy model), `generate` builds on
//! both `system` and `io`; simulators, objectives and the optimizer meet only in [`component`].
//!
//! Errors are one type, [`Error`]: every variant says what happened, where, and how to fix it.
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
// tests compare exact values on purpose (bit-identical results, exact zeros)
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod backend;
pub mod component;
pub mod config;
pub mod energy;
mod error;
pub mod generate;
pub mod geometry;
pub mod io;
pub mod machine;
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
    pub use crate::component::{Objective, Simulator};
    pub use crate::error::{Error, Result};
    pub use crate::geometry::Vec3;
    pub use crate::io::{Configuration, InputFile, SeqDepFile, TrajectoryReader, TrajectoryWriter};
    pub use crate::params::{ModelKind, ParamSelection, ParamSet, Term};
    pub use crate::system::{Base, Topology, TopologyFormat};
}
