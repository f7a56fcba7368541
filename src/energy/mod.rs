//! Energy models of the oxDNA family: oxDNA1 (Ouldridge et al. 2011) and oxDNA2 (Snodin et al.
//! 2015), sequence-averaged or sequence-dependent (Šulc et al. 2012).
//!
//! The physics is written once, generically over [`crate::math::Real`] ([`functions`], [`terms`]):
//! [`EnergyModel`] evaluates it natively in `f64` (energies, neighbour search) and
//! [`tensor`] evaluates the same code on Burn tensors over batches of frames for gradients.
//! Energies are system totals in oxDNA energy units; oxDNA prints them per nucleotide.
//!
//! Users add their own terms to a model ([`EnergyTerm`], [`EnergyModel::with_term`], module
//! [`custom`]): written once over [`crate::math::Real`], evaluated the same three ways. oxRNA2
//! ([`rna2`]) is built that way, from eight such terms.

pub mod custom;
pub mod functions;
mod kernel;
mod model;
pub mod model_file;
pub mod neighbors;
pub mod rna2;
pub mod setup;
pub mod tensor;
pub mod terms;

pub use custom::{comb, EnergyTerm, NucleotideFrame, ParamSpec, Scope, SiteOffsets, TermParams};
pub use model::{validate, ActivePair, Breakdown, EnergyModel, ForceWorkspace, Forces, Frame, TermId, Terms};
pub use model_file::TermRegistry;
pub use setup::ModelSetup;
