//! `oxgrad params`: move parameters between oxgrad, mythos / jax_dna and oxDNA.

use clap::{Args, Subcommand, ValueEnum};
use oxgrad::io::atomic::Outputs;
use oxgrad::io::SeqDepFile;
use oxgrad::params::exchange::{from_mythos_toml, mythos_summary, to_mythos_toml, to_oxdna_header};
use oxgrad::params::{ModelKind, ParamSet};
use oxgrad::{Error, Result};
use std::path::PathBuf;

/// Arguments of `oxgrad params`.
#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// `export` or `import`.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Write oxgrad parameters (a parameter TOML, or a model's defaults) in another program's format.
    Export(ExportArgs),
    /// Read another program's parameter file into an oxgrad parameter TOML.
    Import(ImportArgs),
}

/// Formats of other programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// mythos / jax_dna parameter TOML (theta0_hb_8 in its π − θ convention, 4 × 4 sequence tables).
    Mythos,
    /// oxDNA's sequence-dependent parameter file (seq_dep_file): STCK_FACT_EPS, STCK_X_Y, HYDR_X_Y.
    OxdnaSeqdep,
    /// oxDNA's src/model.h rewritten for the parameters (export only; needs --template).
    OxdnaHeader,
}

/// Arguments of `oxgrad params export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The format to write.
    #[arg(long, value_enum)]
    pub to: Format,
    /// An oxgrad parameter file (complete, as `oxgrad optimize` writes params.toml); default: the
    /// model's defaults.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// The model whose defaults are exported when no --params is given.
    #[arg(long, value_enum, default_value_t = ModelKind::Dna1)]
    pub model: ModelKind,
    /// Add oxDNA's sequence-dependent strengths to the defaults (with no --params).
    #[arg(long)]
    pub sequence_dependent: bool,
    /// oxdna-header: oxDNA's own src/model.h, rewritten macro by macro.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// The file to write.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `oxgrad params import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The format to read.
    #[arg(long, value_enum)]
    pub from: Format,
    /// The file to read.
    pub file: PathBuf,
    /// The model it belongs to (names it does not give keep this model's defaults). Default: what
    /// the file says (a mythos file naming an oxDNA2-only parameter is dna2), else dna1.
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// The oxgrad parameter TOML to write.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn params(a: &ParamsArgs) -> Result<()> {
    match &a.action {
        Action::Export(e) => export(e),
        Action::Import(i) => import(i),
    }
}

fn export(a: &ExportArgs) -> Result<()> {
    let mut io = Outputs::new(a.force);
    let set = match &a.params {
        Some(p) => {
            io.input(p)?;
            if a.sequence_dependent {
                return Err(Error::invalid(
                    "--sequence-dependent",
                    "with --params",
                    "the parameter file says whether it is sequence-dependent: drop --sequence-dependent",
                ));
            }
            ParamSet::read(p)?
        }
        None if a.sequence_dependent => {
            let (name, text) = oxgrad::params::SHIPPED_SEQ_DEP[match a.model {
                ModelKind::Dna1 => 0,
                ModelKind::Dna2 => 1,
            }];
            ParamSet::defaults(a.model)
                .with_sequence_dependence(&SeqDepFile::parse(text, std::path::Path::new(name))?)?
        }
        None => ParamSet::defaults(a.model),
    };
    let template_error = || {
        Error::invalid(
            "--template",
            a.template.as_ref().map_or("(missing)".to_string(), |t| t.display().to_string()),
            "--to oxdna-header rewrites oxDNA's src/model.h: give it as --template, and only then",
        )
    };
    let text = match (a.to, &a.template) {
        (Format::OxdnaHeader, Some(t)) => {
            io.input(t)?;
            let template = std::fs::read_to_string(t).map_err(|e| Error::io("read", t, e))?;
            to_oxdna_header(&set, &template, t)?
        }
        (Format::OxdnaHeader, None) | (_, Some(_)) => return Err(template_error()),
        (Format::Mythos, None) => to_mythos_toml(&set),
        (Format::OxdnaSeqdep, None) => set.to_seq_dep_file()?.to_text(),
    };
    io.write(&a.output, text.as_bytes())?;
    crate::cli::print_line(&format!("wrote {} ({} parameters, {})", a.output.display(), set.len(), set.model()))
}

fn import(a: &ImportArgs) -> Result<()> {
    let mut io = Outputs::new(a.force);
    io.input(&a.file)?;
    let set = match a.from {
        Format::OxdnaHeader => {
            return Err(Error::invalid(
                "--from",
                "oxdna-header",
                "a header is written for a rebuild, not read back: import mythos or oxdna-seqdep files",
            ))
        }
        Format::Mythos => {
            let text = std::fs::read_to_string(&a.file).map_err(|e| Error::io("read", &a.file, e))?;
            let (model, read) = mythos_summary(&text, &a.file)?;
            (from_mythos_toml(&text, &a.file, a.model.unwrap_or(model))?, read)
        }
        Format::OxdnaSeqdep => {
            let file = SeqDepFile::read(&a.file)?;
            let read = file.entries.len();
            (ParamSet::defaults(a.model.unwrap_or(ModelKind::Dna1)).with_sequence_dependence(&file)?, read)
        }
    };
    let (set, read) = set;
    io.write(&a.output, set.to_toml_string().as_bytes())?;
    crate::cli::print_line(&format!(
        "wrote {}: a complete {} parameter set ({} parameters), {read} value(s) from {} and the rest at the model's defaults",
        a.output.display(),
        set.model(),
        set.len(),
        a.file.display()
    ))
}
