//! Energy models of the oxDNA family.

pub mod smoothing;
