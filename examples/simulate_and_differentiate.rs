//! Simulate an 8-bp duplex with the native engine, then differentiate the mean energy of the
//! sampled states with respect to the stacking parameters — the building blocks of DiffTRe.
//!
//! `cargo run --release --example simulate_and_differentiate`

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::params::{ParamSelection, ParamSet, Term};
use oxgrad::simulate::{MdConfig, NativeSimulator, Thermostat};
use oxgrad::system::TopologyFormat;

fn main() -> oxgrad::Result<()> {
    let (topology, start) = helix(&parse_sequence("ACGTTGCA")?, Shape::Duplex, None, TopologyFormat::Classic)?;
    let mut params = ParamSet::dna1_defaults();
    params.set("kt", oxgrad::units::kt_from_str("300K")?)?;

    // 20 000 MD steps after 5 000 of equilibration, one state every 200 steps
    let md = MdConfig {
        dt: 0.005,
        steps: 20_000,
        thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
        verlet_skin: 0.1,
        seed: 42,
    };
    let sim =
        NativeSimulator::new("helix", topology.clone(), start, params.clone(), md, 200)?.equilibration_steps(5_000);
    let trajectory = sim.run_with(&params, 42)?;

    let model = EnergyModel::new(&topology, params)?;
    let energies = model.map(&trajectory.frames)?;
    let n = energies.len() as f64;
    let mean = energies.iter().sum::<f64>() / n;
    println!("{} states, mean potential energy {:.4} per nucleotide", energies.len(), mean / topology.len() as f64);

    // d<E>/dθ over the fixed states: a vector-Jacobian product with weights 1/n
    let selected = ParamSelection::Terms(vec![Term::Stacking]).resolve(model.params())?;
    let (_, grads) = model.vjp(&trajectory.frames, &vec![1.0 / n; energies.len()], &selected)?;
    for name in ["eps_stack_base", "a_stack", "dr0_stack", "a_stack_4"] {
        println!("d<E>/d{name} = {:+.4}", grads.get(name)?);
    }
    Ok(())
}
