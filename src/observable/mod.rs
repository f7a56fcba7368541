//! Observables of sampled states, one value per state, with their units documented.

pub mod helix;

pub use helix::{duplex_base_pairs, propeller_twist};
