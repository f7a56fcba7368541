//! Simulators: the native oxDNA molecular-dynamics engine ([`md`]), driven from oxDNA input files
//! ([`input`]); [`NativeSimulator`] runs it for the optimizer, [`OxdnaSimulator`] runs an installed oxDNA,
//! [`TrajectorySimulator`] replays existing trajectories.

pub mod external;
pub mod input;
pub mod mc;
pub mod md;
pub mod native;
pub mod oxdna;
pub mod oxdna_build;
pub mod replay;
pub mod umbrella;

pub use input::SimRun;
pub use mc::{Bias, Mc, McConfig, McMoves, McState, McStats, Proposal};
pub use md::{Md, MdConfig, MdState, Thermostat};
pub use native::NativeSimulator;
pub use oxdna::OxdnaSimulator;
pub use oxdna_build::OxdnaBuild;
pub use replay::TrajectorySimulator;
pub use umbrella::Umbrella;
