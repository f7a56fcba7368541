//! Simulators: the native oxDNA molecular-dynamics engine ([`md`]), driven from oxDNA input files
//! ([`input`]).

pub mod input;
pub mod md;
pub mod native;

pub use input::MdRun;
pub use md::{Md, MdConfig, MdState, Thermostat};
pub use native::NativeSimulator;
