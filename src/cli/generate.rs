//! `oxgrad generate` and `oxgrad convert`.

use clap::{Args, ValueEnum};
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::io::atomic::Outputs;
use oxgrad::io::{InputFile, TrajectoryReader, TrajectoryWriter};
use oxgrad::params::ModelKind;
use oxgrad::simulate::MdConfig;
use oxgrad::system::{Topology, TopologyFormat};
use oxgrad::{Error, Result};
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum What {
    /// A Watson–Crick duplex: the sequence and its complement.
    Duplex,
    /// One strand in the stacked helical conformation.
    Strand,
}

/// Arguments of `oxgrad generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Duplex or single strand.
    pub what: What,
    /// The sequence, 5'→3' (A, C, G, T; U for RNA).
    #[arg(long, short)]
    pub sequence: String,
    /// Side of the cubic periodic box, oxDNA length units (default: fits the helix, at least 20).
    #[arg(long = "box")]
    pub box_side: Option<f64>,
    /// Topology file format.
    #[arg(long, value_enum, default_value_t = TopologyFormat::Classic)]
    pub topology_format: TopologyFormat,
    /// Output directory (created if needed): init.top, init.dat and a ready-to-run MD input
    /// (input_md) are written there.
    #[arg(long, short)]
    pub output: PathBuf,
    /// The model the MD input uses.
    #[arg(long, value_enum, default_value_t = ModelKind::Dna1)]
    pub model: ModelKind,
    /// Temperature of the MD input (300K, 27C or simulation units).
    #[arg(long, default_value = "300K")]
    pub temperature: String,
    /// Replace existing files in the output directory.
    #[arg(long)]
    pub force: bool,
}

/// An oxDNA MD input for the generated system: `MdConfig::default()`'s settings (the `john`
/// thermostat, dt 0.005), 1e5 steps.
fn md_input(model: ModelKind, temperature: &str, top: &str, conf: &str) -> Result<InputFile> {
    oxgrad::units::kt_from_str(temperature)?;
    let mut f = InputFile::new("input_md");
    let interaction = match model {
        ModelKind::Dna1 => "DNA",
        ModelKind::Dna2 => "DNA2",
    };
    let entries = [
        ("sim_type", "MD"),
        ("backend", "CPU"),
        ("interaction_type", interaction),
        ("T", temperature),
        ("dt", &MdConfig::DT.to_string()),
        ("steps", "100000"),
        ("thermostat", "john"),
        ("newtonian_steps", &MdConfig::NEWTONIAN_STEPS.to_string()),
        ("diff_coeff", &MdConfig::DIFF_COEFF.to_string()),
        ("verlet_skin", &MdConfig::VERLET_SKIN.to_string()),
        ("seed", &MdConfig::SEED.to_string()),
        ("topology", top),
        ("conf_file", conf),
        ("trajectory_file", "trajectory.dat"),
        ("lastconf_file", "last_conf.dat"),
        ("energy_file", "energy.dat"),
        ("print_conf_interval", "10000"),
        ("print_energy_every", "10000"),
        ("refresh_vel", "true"),
        ("restart_step_counter", "true"),
        ("time_scale", "linear"),
    ];
    for (k, v) in entries {
        f.set(k, v);
    }
    if model == ModelKind::Dna2 {
        f.set("salt_concentration", "0.5");
    }
    Ok(f)
}

pub fn generate(a: &GenerateArgs) -> Result<()> {
    let seq = parse_sequence(&a.sequence)?;
    let shape = match a.what {
        What::Duplex => Shape::Duplex,
        What::Strand => Shape::Strand,
    };
    let (top, conf) = helix(&seq, shape, a.box_side, a.topology_format)?;
    let (tp, cp, ip) = (a.output.join("init.top"), a.output.join("init.dat"), a.output.join("input_md"));
    let input = md_input(a.model, &a.temperature, "init.top", "init.dat")?;
    // nothing is written until every output is known to be writable (the directory first, so
    // that names through it resolve to what they will be)
    std::fs::create_dir_all(&a.output).map_err(|e| Error::io("create directory", &a.output, e))?;
    let io = Outputs::new(a.force);
    io.check_all([tp.as_path(), cp.as_path(), ip.as_path()])?;
    top.write(&tp, a.topology_format)?;
    conf.write(&cp)?;
    input.write(&ip)?;
    tracing::info!(nucleotides = top.len(), strands = top.strands.len(), "generated");
    crate::cli::print_line(&format!(
        "wrote {}, {} and {} ({} nucleotides, box {}); run it with: oxgrad simulate {}",
        tp.display(),
        cp.display(),
        ip.display(),
        top.len(),
        conf.box_sides[0],
        ip.display()
    ))
}

/// Arguments of `oxgrad convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The topology to convert (either format).
    #[arg(long, short)]
    pub topology: PathBuf,
    /// Configurations or trajectories that go with it; their rows are reordered to match.
    #[arg(long = "conf", short)]
    pub confs: Vec<PathBuf>,
    /// The format to convert to.
    #[arg(long, value_enum)]
    pub to: TopologyFormat,
    /// Output directory; files keep their names.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Replace existing files in the output directory.
    #[arg(long)]
    pub force: bool,
}

pub fn convert(a: &ConvertArgs) -> Result<()> {
    // every input is read and checked before any output is touched
    let mut io = Outputs::new(a.force);
    io.input(&a.topology)?;
    for c in &a.confs {
        io.input(c)?;
    }
    let (top, _) = Topology::read(&a.topology)?;
    let (out, perm) = top.converted(a.to);
    let name = |p: &Path| a.output.join(p.file_name().unwrap_or(p.as_os_str()));
    let mut names: Vec<PathBuf> = std::iter::once(&a.topology).chain(&a.confs).map(|p| name(p)).collect();
    std::fs::create_dir_all(&a.output).map_err(|e| Error::io("create directory", &a.output, e))?;
    io.check_all(names.iter().map(PathBuf::as_path))?;
    names.sort();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::invalid(
            "inputs",
            "file names",
            "two inputs have the same file name and would be written to one output",
        ));
    }
    let text = out.to_text(a.to)?;
    // the configurations are converted first, each into its temporary file; nothing appears in
    // the output directory until each is complete
    let mut pending = Vec::new();
    for c in &a.confs {
        let mut w = TrajectoryWriter::create(name(c))?;
        for frame in TrajectoryReader::open(c, top.len())? {
            w.write(&frame?.permuted(&perm))?;
        }
        pending.push(w);
    }
    for w in pending {
        w.commit()?;
    }
    oxgrad::io::atomic::write(&name(&a.topology), text.as_bytes())?;
    crate::cli::print_line(&format!(
        "converted {} and {} configuration file(s) into {}",
        a.topology.display(),
        a.confs.len(),
        a.output.display()
    ))
}
