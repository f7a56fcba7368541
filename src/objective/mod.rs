//! Objectives beyond the generic one ([`crate::component::GenericObjective`]): DiffTRe, the
//! differentiable trajectory reweighting of Thaler & Zavadlav (Nat. Commun. 12, 6884, 2021), with
//! losses written on tensors ([`loss`]) so that every gradient comes from autodiff; and DiffTRe
//! on umbrella-sampled states for a melting temperature ([`melting`]).

pub mod difftre;
pub mod loss;
pub mod melting;

pub use difftre::{DiffTre, Evaluation, ObservableEstimate, Reference};
pub use loss::Loss;
pub use melting::MeltingObjective;
