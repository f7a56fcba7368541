//! Building an energy model from an oxDNA input file, as oxDNA's `DNAnalysis` would.
//!
//! Keys read: `interaction_type` (`DNA`, `DNA2`, `DNA_nomesh`, `DNA2_nomesh`: all evaluated with
//! the exact functions), `T`, `salt_concentration` (oxDNA2, required), `use_average_seq`
//! (default true), `seq_dep_file`, `topology`, `trajectory_file`, and oxDNA2's `dh_lambda`,
//! `dh_strength` (default 0.0543, oxDNA's Debye strength) and `dh_half_charged_ends`.
//! Relative paths are resolved against the input file's directory; a `seq_dep_file` that does not
//! exist there but is named like one of oxDNA's shipped files is taken from oxgrad's embedded copy.

use super::model::EnergyModel;
use crate::error::{Error, Result};
use crate::io::{InputFile, SeqDepFile};
use crate::params::{ModelKind, ParamSet, SHIPPED_SEQ_DEP};
use crate::system::Topology;
use std::path::{Path, PathBuf};

/// oxDNA's Debye–Hückel strength A (`dh_strength`).
pub const OXDNA_DH_STRENGTH: f64 = 0.0543;

/// A model, its topology and trajectory, as an oxDNA input file describes them.
#[derive(Debug, Clone)]
pub struct ModelSetup {
    /// The energy model.
    pub model: EnergyModel,
    /// The topology.
    pub topology: Topology,
    /// `trajectory_file`, resolved (if the input names one).
    pub trajectory: Option<PathBuf>,
}

/// The model kind of an oxDNA `interaction_type`.
pub fn model_kind(input: &InputFile) -> Result<ModelKind> {
    let it = input.get("interaction_type").unwrap_or("DNA");
    match it {
        "DNA" | "DNA_nomesh" => Ok(ModelKind::Dna1),
        "DNA2" | "DNA2_nomesh" => Ok(ModelKind::Dna2),
        other => Err(Error::invalid(
            "interaction_type",
            other,
            format!(
                "{}: oxgrad evaluates DNA, DNA_nomesh, DNA2, DNA2_nomesh and RNA2 (oxRNA2, sequence-averaged or dependent; not oxRNA1's RNA)",
                input.source.display()
            ),
        )),
    }
}

/// The parameter set an oxDNA input implies (temperature, salt, sequence dependence).
pub fn params_from_input(input: &InputFile) -> Result<ParamSet> {
    params_from_input_with(input, None)
}

/// The parameter set of an oxDNA input, starting from `model_params` (for example fitted
/// parameters, `--params`) instead of the defaults: the input still sets the state — temperature,
/// salt, half-charged ends — and, only where it names them, `dh_lambda` and `dh_strength`. A
/// sequence-dependent parameter set keeps its own (trained) tables.
pub fn params_from_input_with(input: &InputFile, model_params: Option<&ParamSet>) -> Result<ParamSet> {
    let kind = model_kind(input)?;
    let mut p = match model_params {
        Some(m) if m.model() != kind => {
            return Err(Error::mismatch(
                "parameter file and input",
                format!(
                    "the parameters are for {} and {} says interaction_type = {}: use parameters of the input's model",
                    m.model(),
                    input.source.display(),
                    input.get("interaction_type").unwrap_or("DNA")
                ),
            ))
        }
        Some(m) => m.clone(),
        None => ParamSet::defaults(kind),
    };
    p.set("kt", input.temperature("T")?)?;
    if kind == ModelKind::Dna2 {
        let salt = input.f64("salt_concentration")?;
        if salt <= 0.0 {
            return Err(Error::invalid("salt_concentration", salt, "a positive molar concentration, e.g. 0.5"));
        }
        p.set("salt_conc", salt)?;
        if let Some(l) = input.opt_f64("dh_lambda")? {
            p.set("lambda_factor", l)?;
        }
        let strength = match (input.opt_f64("dh_strength")?, model_params) {
            (Some(s), _) => Some(s),
            (None, None) => Some(OXDNA_DH_STRENGTH),
            (None, Some(_)) => None,
        };
        if let Some(strength) = strength {
            let q = p.value("q_eff");
            p.set("prefactor_coeff", strength / (q * q))?;
        }
        p.set("half_charged_ends", if input.bool_or("dh_half_charged_ends", true)? { 1.0 } else { 0.0 })?;
    }
    let average = input.bool_or("use_average_seq", true)?;
    match (average, p.is_sequence_dependent()) {
        (false, false) => {
            let example = match p.model() {
                ModelKind::Dna1 => "oxDNA1_sequence_dependent_parameters.txt",
                ModelKind::Dna2 => "oxDNA2_sequence_dependent_parameters.txt",
            };
            let file = read_seq_dep(input, example)?;
            p = p.with_sequence_dependence(&file)?;
        }
        (true, true) => {
            return Err(Error::mismatch(
                "parameter file and input",
                format!(
                    "the parameters are sequence-dependent and {} says use_average_seq = true: set use_average_seq = false, or use sequence-averaged parameters",
                    input.source.display()
                ),
            ))
        }
        _ => {}
    }
    Ok(p)
}

/// The input's `seq_dep_file`; `example` names oxDNA's file of the model for the hint.
fn read_seq_dep(input: &InputFile, example: &str) -> Result<SeqDepFile> {
    let name = input.get("seq_dep_file").ok_or_else(|| Error::MissingKey {
        source_name: input.source.display().to_string(),
        key: "seq_dep_file".into(),
        hint: format!(
            "use_average_seq = false needs the sequence-dependent parameter file, e.g. seq_dep_file = {example}"
        ),
    })?;
    let path = input.path("seq_dep_file")?;
    if path.exists() {
        return SeqDepFile::read(&path);
    }
    let base = Path::new(name).file_name().and_then(|f| f.to_str()).unwrap_or_default();
    match SHIPPED_SEQ_DEP.iter().find(|(n, _)| *n == base) {
        Some((n, text)) => {
            tracing::info!("{} not found; using oxgrad's embedded copy of oxDNA's {n}", path.display());
            SeqDepFile::parse(text, Path::new(n))
        }
        None => Err(Error::io(
            "read sequence-dependent parameter file",
            &path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file (seq_dep_file in the input)"),
        )),
    }
}

impl ModelSetup {
    /// oxRNA2 ([`crate::energy::rna2`]): temperature `T` (0–100 °C unless `T_force_value`),
    /// `use_average_seq` and `seq_dep_file` (oxDNA's RNA file),
    /// `salt_concentration` (default 1.0 M, as in oxDNA), `dh_half_charged_ends`, `dh_lambda`,
    /// `dh_strength`, `max_backbone_force` (and `_far`); model parameters from `params` (a
    /// parameter file of an RNA2 model) where given.
    fn rna2(input: &InputFile, params: Option<&ParamSet>) -> Result<ModelSetup> {
        let src = input.source.display();
        let sequence = if input.bool_or("use_average_seq", true)? {
            None
        } else {
            let file = read_seq_dep(input, "rna_sequence_dependent_parameters.txt")?;
            Some(crate::energy::rna2::SequenceDependence::from_file(&file)?)
        };
        if input.bool_or("mismatch_repulsion", false)? {
            return Err(Error::invalid(
                "mismatch_repulsion",
                "true",
                format!("{src}: oxgrad's oxRNA2 has no mismatch repulsion"),
            ));
        }
        if input.get("debye_huckel_rhigh").is_some() {
            return Err(Error::invalid(
                "debye_huckel_rhigh",
                input.get("debye_huckel_rhigh").unwrap_or_default(),
                format!("{src}: oxgrad's oxRNA2 uses r_high = 3 λ; remove the key"),
            ));
        }
        let kt = input.temperature("T")?;
        // oxDNA's RNA models refuse temperatures outside 0–100 °C unless told otherwise
        if !(273.15 / 3000.0..=373.15 / 3000.0).contains(&kt) && !input.bool_or("T_force_value", false)? {
            return Err(Error::invalid(
                "T",
                format!("{} K", kt * 3000.0),
                format!("{src}: oxRNA2 is parametrised between 0 and 100 °C (set T_force_value = true to go outside, as in oxDNA)"),
            ));
        }
        let salt = input.opt_f64("salt_concentration")?.unwrap_or(1.0);
        let debye = crate::energy::rna2::DebyeHuckel::new(salt, kt)?
            .half_charged_ends(input.bool_or("dh_half_charged_ends", true)?);
        let bounded = input.opt_f64("max_backbone_force")?;
        let fene =
            if bounded.is_some() { crate::energy::rna2::Fene::bounded() } else { crate::energy::rna2::Fene::strict() };
        let (topology, _) = Topology::read(input.path("topology")?)?;
        let mut model = crate::energy::rna2::model_with(&topology, kt, fene, debye, sequence.as_ref())?;
        if let Some(p) = params {
            // a file of the other kind (averaged / sequence-dependent) lacks or has the strengths
            let file_dependent = p.names().any(|n| n.rsplit('.').next() == Some("stck_A_A"));
            if file_dependent != sequence.is_some() {
                let (file, says) = if file_dependent {
                    ("sequence-dependent (stck_X_Y, hydr_X_Y, cross_X_Y)", "use_average_seq = true (the default)")
                } else {
                    ("sequence-averaged", "use_average_seq = false")
                };
                return Err(Error::mismatch(
                    "parameter file and input",
                    format!(
                        "the oxRNA2 parameter file is {file} and {src} says {says}: set use_average_seq to match the file (false needs seq_dep_file), or give a parameter file trained with the input's setting"
                    ),
                ));
            }
            // the file's model parameters, the input's temperature
            model = model.with_params(p.with_params([("kt", kt)])?)?;
        }
        let mut overrides = Vec::new();
        if let Some(fmax) = bounded {
            overrides.push(("RnaFene.fmax", fmax));
            overrides.push(("RnaFene.finf", input.opt_f64("max_backbone_force_far")?.unwrap_or(0.04)));
        }
        if let Some(l) = input.opt_f64("dh_lambda")? {
            overrides.push(("RnaDebyeHuckel.lambda_factor", l));
        }
        if let Some(s) = input.opt_f64("dh_strength")? {
            let q = model.params().get("RnaDebyeHuckel.q_eff")?;
            overrides.push(("RnaDebyeHuckel.prefactor_coeff", s / (q * q)));
        }
        if !overrides.is_empty() {
            model = model.with_params(model.params().with_params(overrides)?)?;
        }
        let trajectory = input.get("trajectory_file").map(|_| input.path("trajectory_file")).transpose()?;
        Ok(ModelSetup { model, topology, trajectory })
    }

    /// Reads the topology and builds the model an oxDNA input file describes.
    pub fn from_input(input: &InputFile) -> Result<ModelSetup> {
        ModelSetup::from_input_with(input, None)
    }

    /// As [`ModelSetup::from_input`], with model parameters from `params` (see
    /// [`params_from_input_with`]).
    pub fn from_input_with(input: &InputFile, params: Option<&ParamSet>) -> Result<ModelSetup> {
        if input.get("interaction_type") == Some("RNA2") {
            return ModelSetup::rna2(input, params);
        }
        let params = params_from_input_with(input, params)?;
        let (topology, _) = Topology::read(input.path("topology")?)?;
        let model = EnergyModel::new(&topology, params)?;
        let trajectory = input.get("trajectory_file").map(|_| input.path("trajectory_file")).transpose()?;
        Ok(ModelSetup { model, topology, trajectory })
    }
}
