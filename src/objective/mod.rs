//! Objectives beyond the generic one ([`crate::component::GenericObjective`]): DiffTRe, the
//! differentiable trajectory reweighting of Thaler & Zavadlav (Nat. Commun. 12, 6884, 2021), with
//! losses written on tensors ([`loss`]) so that every gradient comes from autodiff.

pub mod difftre;
pub mod loss;

pub use difftre::{DiffTre, Evaluation, ObservableEstimate, Reference};
pub use loss::Loss;
