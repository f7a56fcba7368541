//! What the MD benches share: the duplexes they run and oxDNA's MD settings.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, Shape};
use oxgrad::params::ParamSet;
use oxgrad::simulate::{MdConfig, MdState, Thermostat};
use oxgrad::system::{Base, TopologyFormat};

fn sequence(bp: usize) -> Vec<Base> {
    // a fixed pseudo-random sequence
    let mut s = 0x2545_f491_4f6c_dd1du64;
    (0..bp)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            [Base::A, Base::C, Base::G, Base::T][(s % 4) as usize]
        })
        .collect()
}

/// A duplex of `nt` nucleotides (ideal helix) with oxDNA1 at 300 K, and oxDNA's MD settings:
/// dt 0.005, john thermostat, verlet_skin 0.05, seed 1.
pub fn duplex(nt: usize) -> (EnergyModel, MdConfig, MdState) {
    let (top, conf) = helix(&sequence(nt / 2), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let mut p = ParamSet::dna1_defaults();
    p.set("kt", 0.1).unwrap();
    let model = EnergyModel::new(&top, p).unwrap();
    let cfg = MdConfig {
        dt: 0.005,
        steps: 0,
        thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
        verlet_skin: 0.05,
        seed: 1,
    };
    (model, cfg, MdState::from_configuration(&conf))
}
