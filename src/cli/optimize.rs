//! `oxgrad optimize`: DiffTRe training of oxDNA parameters against a structural target, with
//! native simulators in parallel. Built-in defaults fit oxDNA1's stacking and hydrogen-bonding
//! parameters so that a 12-bp duplex has a propeller twist of 21.7° (mythos' first example).

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use oxgrad::energy::EnergyModel;
use oxgrad::objective::{DiffTre, LossOutput};
use oxgrad::observable::{duplex_base_pairs, propeller_twist};
use oxgrad::optimize::{
    create_n, Aggregate, LocalPool, Observation, Optimization, Params, Simulator, StepOutput, UpdateRule,
};
use oxgrad::params::{ParamSelection, ParamSet, Term};
use oxgrad::simulate::{MdConfig, NativeSimulator, Thermostat};
use oxgrad::system::generate::{helix, parse_sequence, Shape};
use oxgrad::system::TopologyFormat;
use oxgrad::{Error, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `oxgrad optimize`.
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// Run directory: the system, metrics.csv, params.csv and params_final.toml go there.
    #[arg(long, short, default_value = "oxgrad-run")]
    pub output: PathBuf,
    /// Duplex sequence (5'→3' of the first strand).
    #[arg(long, default_value = "ACGTTGCAATGC")]
    pub sequence: String,
    /// Target propeller twist, degrees.
    #[arg(long, default_value_t = 21.7)]
    pub target: f64,
    /// Optimisation steps.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Parallel simulators (default: the machine's cores).
    #[arg(long)]
    pub simulators: Option<usize>,
    /// MD steps per simulation (after equilibration).
    #[arg(long, default_value_t = 20_000)]
    pub md_steps: u64,
    /// MD steps of equilibration before sampling.
    #[arg(long, default_value_t = 2_000)]
    pub equilibration: u64,
    /// Sample a state every this many MD steps.
    #[arg(long, default_value_t = 200)]
    pub sample_every: u64,
    /// Terms whose parameters are optimised.
    #[arg(long, value_delimiter = ',', default_value = "Stacking,HydrogenBonding")]
    pub terms: Vec<String>,
    /// Temperature (300K, 27C or simulation units).
    #[arg(long, default_value = "300K")]
    pub temperature: String,
    /// Master seed (each simulator and step derives its own).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn optimize(a: &OptimizeArgs) -> Result<()> {
    let (top, conf) = helix(&parse_sequence(&a.sequence)?, Shape::Duplex, None, TopologyFormat::Classic)?;
    std::fs::create_dir_all(&a.output).map_err(|e| Error::io("create run directory", &a.output, e))?;
    top.write(a.output.join("init.top"), TopologyFormat::Classic)?;
    conf.write(a.output.join("init.dat"))?;
    let mut params = ParamSet::dna1_defaults();
    params.set("kt", oxgrad::units::kt_from_str(&a.temperature)?)?;
    let terms = a
        .terms
        .iter()
        .map(|t| Term::from_name(t).ok_or_else(|| Error::invalid("term", t, "one of Fene, Stacking, HydrogenBonding, CrossStacking, CoaxialStacking, BondedExcludedVolume, UnbondedExcludedVolume")))
        .collect::<Result<Vec<_>>>()?;
    let names = ParamSelection::Terms(terms).resolve(&params)?;
    let md = MdConfig {
        dt: 0.005,
        steps: a.md_steps,
        thermostat: Thermostat::John { newtonian_steps: 103, diff_coeff: 2.5 },
        verlet_skin: 0.1,
        seed: a.seed,
    };
    let base = NativeSimulator::new("duplex", top.clone(), conf, params.clone(), md, a.sample_every)?
        .equilibration_steps(a.equilibration);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let n_sims = a.simulators.unwrap_or(cores).max(1);
    let sims = create_n(n_sims, Some("duplex"), |name| base.renamed(name));
    let ids = sims.iter().flat_map(Simulator::exposes).collect();
    let pairs = duplex_base_pairs(&top);
    let target = a.target;
    let loss = move |t: &oxgrad::trajectory::Trajectory, w: &[f64]| -> Result<LossOutput> {
        let pt: Vec<f64> = t.frames.iter().map(|f| propeller_twist(f, &pairs)).collect();
        let mean: f64 = pt.iter().zip(w).map(|(x, wi)| x * wi).sum();
        let mut reported = std::collections::BTreeMap::new();
        reported.insert("propeller_twist_deg".to_string(), Observation::Scalar(mean));
        Ok(LossOutput {
            loss: (mean - target).powi(2),
            dloss_dweights: pt.iter().map(|x| 2.0 * (mean - target) * x).collect(),
            reported,
        })
    };
    let objective = DiffTre::new("propeller", ids, EnergyModel::new(&top, params.clone())?, loss).min_n_eff(0.95)?;
    let start: Params = names.iter().map(|n| (n.clone(), params.value(n))).collect();

    let open = |name: &str| {
        let p = a.output.join(name);
        std::fs::File::create(&p).map(std::io::BufWriter::new).map_err(|e| Error::io("create", &p, e))
    };
    let (mut metrics, mut pfile) = (open("metrics.csv")?, open("params.csv")?);
    let io = |e| Error::io("write", &a.output, e);
    writeln!(metrics, "step,name,value").map_err(io)?;
    writeln!(pfile, "step,{}", names.join(",")).map_err(io)?;
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(a.steps as u64);
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} step {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let mut write_err = None;
    let mut cb = |out: &StepOutput, step: usize| {
        let mut record = || -> std::io::Result<()> {
            for (k, v) in out.scalars() {
                writeln!(metrics, "{step},{k},{v}")?;
            }
            let values: Vec<String> = names.iter().map(|n| out.params[n].to_string()).collect();
            writeln!(pfile, "{},{}", step + 1, values.join(","))?;
            metrics.flush()?;
            pfile.flush()
        };
        if let Err(e) = record() {
            write_err = Some(e);
            return (None, false);
        }
        let s = out.scalars();
        let msg = format!(
            "loss {:.4} propeller {:.2}°",
            s.get("propeller.loss").unwrap_or(&f64::NAN),
            s.get("propeller.propeller_twist_deg").unwrap_or(&f64::NAN)
        );
        tracing::info!(step, "{msg}");
        bar.set_message(msg);
        bar.inc(1);
        (None, true)
    };
    let result = Optimization::new(UpdateRule::adam(a.lr)?)
        .simulators(sims)
        .objective(objective)
        .aggregate(Aggregate::Passthrough)
        .executor(LocalPool::new())
        .run(start, a.steps, Some(&mut cb));
    bar.finish_and_clear();
    if let Some(e) = write_err {
        return Err(Error::io("write metrics to", &a.output, e));
    }
    let result = result?;
    let final_params = params.with_params(result.params.iter().map(|(k, v)| (k.as_str(), *v)))?;
    final_params.write(a.output.join("params_final.toml"))?;
    let s = result.last.scalars();
    println!(
        "{} steps: propeller twist {:.2}° (target {target}°), loss {:.4}; parameters in {}",
        result.steps,
        s.get("propeller.propeller_twist_deg").unwrap_or(&f64::NAN),
        s.get("propeller.loss").unwrap_or(&f64::NAN),
        a.output.join("params_final.toml").display()
    );
    Ok(())
}
