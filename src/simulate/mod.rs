//! Simulators: the native oxDNA molecular-dynamics engine ([`md`]), driven from oxDNA input files
//! ([`input`]).

pub mod input;
pub mod md;

pub use input::MdRun;
pub use md::{Md, MdConfig, MdState, Thermostat};
