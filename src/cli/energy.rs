//! `oxgrad energy`: per-frame, per-term energies of a trajectory, as oxDNA's DNAnalysis prints them.

use clap::{Args, ValueEnum};
use oxgrad::energy::{ModelSetup, TermId};
use oxgrad::io::atomic::{AtomicFile, Outputs};
use oxgrad::io::{InputFile, TrajectoryReader};
use oxgrad::params::ModelKind;
use oxgrad::{Error, Result};
use std::io::Write;
use std::path::PathBuf;

/// Output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Tab-separated values with a header line.
    Tsv,
    /// One JSON document: model, units and a list of frames.
    Json,
}

/// Arguments of `oxgrad energy`.
#[derive(Debug, Args)]
pub struct EnergyArgs {
    /// An oxDNA analysis input file (interaction_type, T, salt_concentration, use_average_seq,
    /// seq_dep_file, topology, trajectory_file).
    pub input: PathBuf,
    /// Evaluate this trajectory instead of the input's trajectory_file.
    #[arg(long)]
    pub trajectory: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Model parameters from this file (e.g. params_best.toml of a run) instead of the defaults;
    /// the input still sets temperature and salt.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

pub fn energy(a: &EnergyArgs) -> Result<()> {
    let input = InputFile::read(&a.input)?;
    let params = a.params.as_ref().map(oxgrad::params::ParamSet::read).transpose()?;
    let setup = ModelSetup::from_input_with(&input, params.as_ref())?;
    let trajectory = match (&a.trajectory, &setup.trajectory) {
        (Some(t), _) | (None, Some(t)) => t.clone(),
        (None, None) => {
            return Err(Error::MissingKey {
                source_name: a.input.display().to_string(),
                key: "trajectory_file".into(),
                hint: "name the trajectory to evaluate, or pass --trajectory".into(),
            })
        }
    };
    // the model's terms: the built-in ones it weighs, then its users' terms (oxRNA2's under
    // oxDNA's column names)
    let weights = setup.model.term_weights();
    let terms: Vec<TermId> = TermId::ALL
        .into_iter()
        .filter(|t| weights[*t as usize] != 0.0)
        .filter(|t| *t != TermId::Debye || setup.model.params().model() == ModelKind::Dna2)
        .collect();
    let custom: Vec<(String, f64, String)> = setup
        .model
        .custom_terms()
        .into_iter()
        .map(|(name, w)| {
            let header = oxgrad::energy::rna2::HEADERS.iter().find(|(n, _)| *n == name).map_or(name, |(_, h)| *h);
            (name.to_string(), w, header.to_string())
        })
        .collect();
    // the inputs are registered (and checked) before the output is opened: `-o` can never be one of them
    let mut files = Outputs::new(a.force);
    files.input(&a.input)?;
    files.input(&trajectory)?;
    for key in ["topology", "seq_dep_file"] {
        if let Some(p) = input.get(key).and_then(|_| input.path(key).ok()).filter(|p| p.is_file()) {
            files.input(&p)?;
        }
    }
    if let Some(p) = &a.params {
        files.input(p)?;
    }
    let (path_label, mut atomic, sink): (PathBuf, Option<AtomicFile>, Box<dyn Write>) = match &a.output {
        Some(p) => (p.clone(), Some(files.create(p)?), Box::new(std::io::sink())),
        None => (PathBuf::from("<stdout>"), None, Box::new(std::io::stdout().lock())),
    };
    let mut out: Box<dyn Write> = match atomic.as_mut() {
        Some(f) => Box::new(f),
        None => Box::new(std::io::BufWriter::new(sink)),
    };
    let io = |e| Error::io("write energies to", &path_label, e);
    let n = setup.topology.len() as f64;
    match a.format {
        Format::Tsv => {
            let header: Vec<&str> =
                terms.iter().map(|t| t.header()).chain(custom.iter().map(|(_, _, h)| h.as_str())).collect();
            writeln!(out, "frame\tstep\t{}\tTOTAL", header.join("\t")).map_err(io)?;
        }
        Format::Json => {
            write!(
                out,
                "{{\"model\":\"{}\",\"units\":\"oxDNA energy units per nucleotide\",\"nucleotides\":{},\"frames\":[",
                if custom.iter().any(|(n, _, _)| n == "RnaFene") {
                    "rna2".to_string()
                } else {
                    setup.model.params().model().to_string()
                },
                setup.topology.len()
            )
            .map_err(io)?;
        }
    }
    let mut frames = 0;
    for (k, frame) in TrajectoryReader::open(&trajectory, setup.topology.len())?.enumerate() {
        let frame = frame?;
        frames += 1;
        let b = setup.model.breakdown(&frame)?;
        let custom_values = custom.iter().map(|(name, _, _)| b.custom(name).unwrap_or(0.0) / n);
        let values: Vec<f64> = terms.iter().map(|t| b.term(*t) / n).chain(custom_values).collect();
        // the model's energy: each term times its weight
        let weighted = terms.iter().map(|t| weights[*t as usize]).chain(custom.iter().map(|(_, w, _)| *w));
        let total = values.iter().zip(weighted).map(|(v, w)| v * w).sum::<f64>();
        if !total.is_finite() {
            return Err(Error::invalid(
                "trajectory",
                trajectory.display(),
                format!(
                    "frame {k} (step {}) has a non-finite energy: {}",
                    frame.step,
                    setup.model.diagnose(&oxgrad::energy::Frame::new(&frame))
                ),
            ));
        }
        match a.format {
            Format::Tsv => {
                let cols: Vec<String> = values.iter().map(ToString::to_string).collect();
                writeln!(out, "{k}\t{}\t{}\t{total}", frame.step, cols.join("\t")).map_err(io)?;
            }
            Format::Json => {
                let mut obj = serde_json::Map::new();
                obj.insert("frame".into(), k.into());
                obj.insert("step".into(), frame.step.into());
                let headers = terms.iter().map(|t| t.header()).chain(custom.iter().map(|(_, _, h)| h.as_str()));
                for (h, v) in headers.zip(&values) {
                    obj.insert(h.into(), (*v).into());
                }
                obj.insert("TOTAL".into(), total.into());
                write!(out, "{}{}", if k > 0 { "," } else { "" }, serde_json::Value::Object(obj)).map_err(io)?;
            }
        }
    }
    if frames == 0 {
        return Err(Error::invalid(
            "trajectory",
            trajectory.display(),
            "the file holds no frame: give a trajectory with at least one configuration",
        ));
    }
    if let Format::Json = a.format {
        writeln!(out, "]}}").map_err(io)?;
    }
    out.flush().map_err(io)?;
    drop(out);
    // the result appears only once it is complete
    atomic.map_or(Ok(()), AtomicFile::commit)
}
