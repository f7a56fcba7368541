//! The `oxgrad` command line: argument parsing and one function per subcommand.

mod energy;
mod generate;
mod observe;
mod optimize;
mod simulate;

use clap::{Parser, Subcommand};

/// Differentiable oxDNA models and parameter training.
#[derive(Debug, Parser)]
#[command(name = "oxgrad", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an ideal helix (oxDNA topology + configuration).
    Generate(generate::GenerateArgs),
    /// Per-frame energy of every term of a trajectory (oxDNA's split energies, per nucleotide).
    Energy(energy::EnergyArgs),
    /// Native molecular dynamics from an oxDNA MD input file (trajectory, energy file, last conf).
    Simulate(simulate::SimulateArgs),
    /// Train parameters with DiffTRe from a configuration file (built-in default: fit oxDNA1's
    /// helical pitch to B-DNA's 10.5 bp/turn), then validate the fit with fresh simulations.
    Optimize(optimize::OptimizeArgs),
    /// An observable on every frame of a trajectory, then its mean and standard error (JSON).
    Observe(observe::ObserveArgs),
    /// Convert a topology (and its configurations) between the classic and new formats.
    Convert(generate::ConvertArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> oxgrad::Result<()> {
    match cli.command {
        Command::Generate(a) => generate::generate(&a),
        Command::Convert(a) => generate::convert(&a),
        Command::Energy(a) => energy::energy(&a),
        Command::Simulate(a) => simulate::simulate(&a),
        Command::Optimize(a) => optimize::optimize(&a),
        Command::Observe(a) => observe::observe(&a),
    }
}
