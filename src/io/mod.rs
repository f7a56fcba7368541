//! oxDNA file formats: topologies (classic and new), configurations and streaming trajectories,
//! input files, sequence-dependent parameter files, and umbrella sampling's order parameters,
//! weights and histograms. Every reader reports the file, the line
//! and what it expected; none panics on any input (see the `parsers_never_panic` property tests).

pub mod atomic;
mod configuration;
pub mod histogram;
pub mod input;
pub mod order_parameter;
pub mod seqdep;
mod topology;

pub use configuration::{Configuration, TrajectoryReader, TrajectoryWriter};
pub use input::InputFile;
pub use seqdep::SeqDepFile;
