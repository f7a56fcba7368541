//! `oxgrad observe KIND`: an observable on every frame of a trajectory, then its average with a
//! block-jackknife standard error as one JSON line.

use clap::Args;
use oxgrad::io::{Configuration, TrajectoryReader};
use oxgrad::observable::stats::{estimate, fmt_sig};
use oxgrad::observable::{feature_table, ObservableSpec, Reducer};
use oxgrad::params::{ModelKind, ParamSet};
use oxgrad::system::Topology;
use oxgrad::trajectory::Trajectory;
use oxgrad::{Error, Result};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `oxgrad observe`.
#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// The observable: propeller_twist, rise, twist, pitch, diameter, distance, end_to_end,
    /// radius_of_gyration, rmsd, persistence_length, extension, end_rotation, total_twist.
    pub kind: String,
    /// The topology (classic or new format).
    #[arg(long, short)]
    pub topology: PathBuf,
    /// The trajectory (or a single configuration).
    #[arg(long)]
    pub trajectory: PathBuf,
    /// Base pairs dropped at each end of a duplex (helix observables, persistence length).
    #[arg(long)]
    pub exclude_end_pairs: Option<usize>,
    /// `distance`: the two nucleotides (topology order), e.g. 0,15.
    #[arg(long, value_delimiter = ',')]
    pub nucleotides: Option<Vec<usize>>,
    /// `end_to_end`, `radius_of_gyration`: the strand (0-based).
    #[arg(long)]
    pub strand: Option<usize>,
    /// `rmsd`: the reference configuration.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// `extension`, `end_rotation`: the pulling axis, e.g. 0,0,1 (the default).
    #[arg(long, value_delimiter = ',')]
    pub axis: Option<Vec<f64>>,
    /// `persistence_length`: the largest base-pair separation fitted.
    #[arg(long)]
    pub max_lag: Option<usize>,
    /// The model whose interaction sites and parameters an observable uses (diameter).
    #[arg(long, default_value = "dna1")]
    pub model: String,
    /// Parameters (e.g. a run's params_best.toml) instead of the model's defaults.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Print only the final JSON line.
    #[arg(long, short)]
    pub quiet: bool,
}

fn spec(a: &ObserveArgs) -> Result<ObservableSpec> {
    if ["stretch_modulus", "torsional_modulus", "twist_stretch_coupling"].contains(&a.kind.as_str()) {
        return Err(Error::invalid(
            "observable",
            &a.kind,
            "a modulus combines runs at several forces: measure extension and end_rotation of each run here, or fit the modulus in a training configuration (observable = { kind = \"stretch_modulus\", forces = [...] })",
        ));
    }
    if let Some(axis) = a.axis.as_ref().filter(|v| v.len() != 3) {
        return Err(Error::invalid("--axis", format!("{axis:?}"), "three components, e.g. --axis 0,0,1"));
    }
    let mut t = toml::Table::new();
    t.insert("kind".into(), a.kind.clone().into());
    if let Some(n) = a.exclude_end_pairs {
        t.insert("exclude_end_pairs".into(), (n as i64).into());
    }
    if let Some(n) = &a.nucleotides {
        t.insert("nucleotides".into(), toml::Value::Array(n.iter().map(|x| (*x as i64).into()).collect()));
    }
    if let Some(s) = a.strand {
        t.insert("strand".into(), (s as i64).into());
    }
    if let Some(r) = &a.reference {
        t.insert("reference".into(), r.display().to_string().into());
    }
    if let Some(axis) = &a.axis {
        t.insert("axis".into(), toml::Value::Array(axis.iter().map(|x| (*x).into()).collect()));
    }
    if let Some(m) = a.max_lag {
        t.insert("max_lag".into(), (m as i64).into());
    }
    let text = toml::to_string(&t).unwrap_or_default();
    toml::from_str::<ObservableSpec>(&text).map_err(|e| {
        let msg = oxgrad::config::explain(e.message().trim()).replace("key", "option");
        Error::invalid("observable", &a.kind, format!("{msg}; see oxgrad observe --help"))
    })
}

pub fn observe(a: &ObserveArgs) -> Result<()> {
    let spec = spec(a)?;
    let (top, _) = Topology::read(&a.topology)?;
    let params = match &a.params {
        Some(p) => ParamSet::read(p)?,
        None => match a.model.as_str() {
            "dna1" => ParamSet::defaults(ModelKind::Dna1),
            "dna2" => ParamSet::defaults(ModelKind::Dna2),
            other => return Err(Error::invalid("model", other, "dna1 or dna2")),
        },
    };
    let obs = spec.build(&top, &params, &std::env::current_dir().unwrap_or_default())?;
    let frames: Vec<Configuration> = TrajectoryReader::open(&a.trajectory, top.len())?.collect::<Result<_>>()?;
    if frames.is_empty() {
        return Err(Error::invalid("trajectory", a.trajectory.display(), "the file holds no frame"));
    }
    let n = frames.len();
    let traj = Trajectory::new(frames, None)?;
    let table = feature_table(obs.as_ref(), &traj)?;
    let reducer = Reducer::new(&params);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let io = |e| Error::io("write", std::path::Path::new("<stdout>"), e);
    if !a.quiet {
        writeln!(out, "frame\tstep\t{} [{}]", obs.name(), obs.unit()).map_err(io)?;
        for (k, (x, f)) in table.iter().zip(&traj.frames).enumerate() {
            writeln!(out, "{k}\t{}\t{}", f.step, reducer.value(obs.as_ref(), x)).map_err(io)?;
        }
    }
    let e = estimate(obs.as_ref(), &reducer, &table, &vec![1.0 / n as f64; n], &[n]);
    let json = serde_json::json!({
        "observable": obs.name(), "unit": obs.unit(), "mean": e.value, "std_err": e.std_err, "frames": n,
        "tau_int": e.tau_int, "block_len": e.block_len, "blocks": e.blocks, "reliable": e.reliable,
    });
    if e.std_err.is_finite() && !e.reliable {
        tracing::warn!(
            "the standard error of {} is unreliable ({n} frames, τ_int ≈ {} frames, {} blocks of {}): use a longer trajectory",
            obs.name(),
            fmt_sig(e.tau_int),
            e.blocks,
            e.block_len
        );
    }
    writeln!(out, "{json}").map_err(io)?;
    out.flush().map_err(io)
}
