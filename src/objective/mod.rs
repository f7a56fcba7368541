//! Objectives beyond the generic one ([`crate::optimize::GenericObjective`]): DiffTRe, the
//! differentiable trajectory reweighting of Thaler & Zavadlav (Nat. Commun. 12, 6884, 2021).

pub mod difftre;

pub use difftre::{DiffTre, LossOutput};
