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
    if kind == ModelKind::Dna1 && input.get("salt_concentration").is_some() {
        tracing::warn!(
            "{}: salt_concentration has no effect on oxDNA1 (interaction_type = {}), which has no electrostatics",
            input.source.display(),
            input.get("interaction_type").unwrap_or("DNA")
        );
    }
    if kind == ModelKind::Dna2 {
        let salt = input.f64("salt_concentration")?;
        crate::units::check_salt(salt).map_err(|m| Error::invalid("salt_concentration", salt, m))?;
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

#[cfg(test)]
mod tests {
    //! Each key an input may set, read into the parameters it sets; each refusal with what to do.
    use super::*;

    const DNA2: &str = "tests/data/oxdna/dna2-seqdep-16bp-T330-salt0.2/input";
    const RNA2: &str = "tests/data/oxdna/rna2-avg-12bp-T300-salt1.0/input";

    fn input(at: &str, text: &str) -> InputFile {
        InputFile::parse(&format!("topology = init.top\n{text}"), Path::new(at)).unwrap()
    }

    fn refused(r: Result<impl std::fmt::Debug>, want: &str) {
        match r {
            Ok(v) => panic!("accepted ({v:?}), expected an error with '{want}'"),
            Err(e) => assert!(e.to_string().contains(want), "'{e}' lacks '{want}'"),
        }
    }

    #[test]
    fn interaction_types_name_their_models() {
        for (it, kind) in [
            ("DNA", ModelKind::Dna1),
            ("DNA_nomesh", ModelKind::Dna1),
            ("DNA2", ModelKind::Dna2),
            ("DNA2_nomesh", ModelKind::Dna2),
        ] {
            assert_eq!(model_kind(&input(DNA2, &format!("interaction_type = {it}"))).unwrap(), kind, "{it}");
        }
        assert_eq!(model_kind(&input(DNA2, "")).unwrap(), ModelKind::Dna1);
        refused(model_kind(&input(DNA2, "interaction_type = RNA")), "interaction_type = RNA: tests/data");
    }

    #[test]
    fn oxdna2_state_keys_set_temperature_salt_and_debye_huckel() {
        let at = |extra: &str| params_from_input(&input(DNA2, &format!("interaction_type = DNA2\nT = 330K\n{extra}")));
        let p = at("salt_concentration = 0.2").unwrap();
        let q = p.value("q_eff");
        assert!((p.value("kt") - 0.11).abs() < 1e-15);
        assert_eq!(p.value("salt_conc"), 0.2);
        assert!((p.value("prefactor_coeff") - OXDNA_DH_STRENGTH / (q * q)).abs() < 1e-15);
        assert_eq!(p.value("half_charged_ends"), 1.0);
        assert_eq!(p.value("lambda_factor"), ParamSet::dna2_defaults().value("lambda_factor"));
        let p =
            at("salt_concentration = 0.2\ndh_half_charged_ends = false\ndh_lambda = 0.4\ndh_strength = 0.1").unwrap();
        assert_eq!(p.value("half_charged_ends"), 0.0);
        assert_eq!(p.value("lambda_factor"), 0.4);
        assert!((p.value("prefactor_coeff") - 0.1 / (q * q)).abs() < 1e-15);
        refused(at("salt_concentration = 0"), "invalid salt_concentration = 0");
        refused(at("salt_concentration = -0.1"), "invalid salt_concentration = -0.1");
        refused(at(""), "salt_concentration");
        // oxDNA1 has no salt
        let p = params_from_input(&input(DNA2, "T = 300K\nsalt_concentration = 0")).unwrap();
        assert_eq!(p.model(), ModelKind::Dna1);
        assert!((p.value("kt") - 0.1).abs() < 1e-15);
    }

    #[test]
    fn a_parameter_file_keeps_its_values_where_the_input_is_silent() {
        let text = "interaction_type = DNA2\nT = 330K\nsalt_concentration = 0.2";
        let mut fitted = ParamSet::dna2_defaults();
        fitted.set("prefactor_coeff", 0.07).unwrap();
        fitted.set("eps_stack_base", 1.5).unwrap();
        let p = params_from_input_with(&input(DNA2, text), Some(&fitted)).unwrap();
        assert_eq!((p.value("prefactor_coeff"), p.value("eps_stack_base")), (0.07, 1.5));
        assert!((p.value("kt") - 0.11).abs() < 1e-15);
        let p = params_from_input_with(&input(DNA2, &format!("{text}\ndh_strength = 0.1")), Some(&fitted)).unwrap();
        assert!((p.value("prefactor_coeff") - 0.1 / p.value("q_eff").powi(2)).abs() < 1e-15);
        refused(
            params_from_input_with(&input(DNA2, text), Some(&ParamSet::dna1_defaults())),
            "use parameters of the input's model",
        );
    }

    #[test]
    fn sequence_dependence_comes_from_the_file_the_input_names() {
        let base = "interaction_type = DNA2\nT = 330K\nsalt_concentration = 0.2\nuse_average_seq = false";
        let read = |extra: &str| params_from_input(&input(DNA2, &format!("{base}\n{extra}")));
        // beside the input, and (a name oxDNA ships, not there) oxgrad's embedded copy: the same
        let here = read("seq_dep_file = oxDNA2_sequence_dependent_parameters.txt").unwrap();
        assert!(here.is_sequence_dependent());
        let embedded = read("seq_dep_file = elsewhere/oxDNA2_sequence_dependent_parameters.txt").unwrap();
        assert_eq!(here, embedded);
        assert_ne!(here.value("ss_stack_weights_G_C"), here.value("ss_stack_weights_A_T"));
        refused(read("seq_dep_file = nowhere.txt"), "no such file (seq_dep_file in the input)");
        refused(read(""), "seq_dep_file = oxDNA2_sequence_dependent_parameters.txt");
        refused(
            params_from_input(&input(DNA2, "T = 300K\nuse_average_seq = false")),
            "seq_dep_file = oxDNA1_sequence_dependent_parameters.txt",
        );
        // sequence-dependent parameters and an input that averages
        let text = "interaction_type = DNA2\nT = 330K\nsalt_concentration = 0.2";
        refused(params_from_input_with(&input(DNA2, text), Some(&here)), "set use_average_seq = false");
        let kept = params_from_input_with(&input(DNA2, &format!("{text}\nuse_average_seq = false")), Some(&here));
        assert_eq!(kept.unwrap().value("ss_stack_weights_G_C"), here.value("ss_stack_weights_G_C"));
    }

    #[test]
    fn dna_inputs_name_their_topology_and_trajectory() {
        let s = ModelSetup::from_input(&input(DNA2, "interaction_type = DNA2\nT = 330K\nsalt_concentration = 0.2"))
            .unwrap();
        assert_eq!((s.model.len(), s.topology.len(), s.trajectory), (32, 32, None));
        let s = ModelSetup::from_input(&input(DNA2, "T = 300K\ntrajectory_file = trajectory.dat")).unwrap();
        assert_eq!(s.trajectory.unwrap(), Path::new(DNA2).with_file_name("trajectory.dat"));
        assert_eq!(s.model.params().model(), ModelKind::Dna1);
    }

    #[test]
    fn oxrna2_inputs_set_temperature_salt_and_backbone_and_refuse_what_oxgrad_lacks() {
        let setup = |extra: &str| ModelSetup::from_input(&input(RNA2, &format!("interaction_type = RNA2\n{extra}")));
        let s = setup("T = 310K\ntrajectory_file = trajectory.dat").unwrap();
        assert!((s.model.params().value("kt") - 310.0 / 3000.0).abs() < 1e-15);
        assert_eq!(s.model.len(), 24);
        assert_eq!(s.trajectory.unwrap(), Path::new(RNA2).with_file_name("trajectory.dat"));
        let defaults = s.model.params().clone();

        // 0–100 °C, both ends included, unless T_force_value
        setup("T = 273.15K").unwrap();
        setup("T = 373.15K").unwrap();
        refused(setup("T = 373.2K"), "T_force_value = true");
        refused(setup("T = 273.1K"), "T_force_value = true");
        setup("T = 400K\nT_force_value = true").unwrap();

        let s = setup("T = 300K\nmax_backbone_force = 5\ndh_lambda = 0.4\ndh_strength = 0.1").unwrap();
        let p = s.model.params();
        assert_eq!((p.value("RnaFene.fmax"), p.value("RnaFene.finf")), (5.0, 0.04));
        assert_eq!(p.value("RnaDebyeHuckel.lambda_factor"), 0.4);
        let q = p.value("RnaDebyeHuckel.q_eff");
        assert!((p.value("RnaDebyeHuckel.prefactor_coeff") - 0.1 / (q * q)).abs() < 1e-15);
        let s = setup("T = 300K\nmax_backbone_force = 5\nmax_backbone_force_far = 0.1").unwrap();
        assert_eq!(s.model.params().value("RnaFene.finf"), 0.1);
        assert_eq!(
            s.model.params().value("RnaDebyeHuckel.lambda_factor"),
            defaults.value("RnaDebyeHuckel.lambda_factor")
        );

        refused(setup("T = 300K\nmismatch_repulsion = true"), "no mismatch repulsion");
        setup("T = 300K\nmismatch_repulsion = false").unwrap();
        refused(setup("T = 300K\ndebye_huckel_rhigh = 2"), "invalid debye_huckel_rhigh = 2");
        refused(setup("T = 300K\nuse_average_seq = false"), "seq_dep_file = rna_sequence_dependent_parameters.txt");
    }

    #[test]
    fn an_oxrna2_parameter_file_must_match_the_inputs_sequence_setting() {
        let with = |extra: &str, p: Option<&ParamSet>| {
            ModelSetup::from_input_with(&input(RNA2, &format!("interaction_type = RNA2\n{extra}")), p)
        };
        let dependent = "T = 300K\nuse_average_seq = false\nseq_dep_file = rna_sequence_dependent_parameters.txt";
        let averaged = with("T = 300K", None).unwrap().model.params().clone();
        let seq = with(dependent, None).unwrap().model.params().clone();
        assert!(seq.names().any(|n| n.ends_with("stck_A_A")) && !averaged.names().any(|n| n.ends_with("stck_A_A")));
        refused(with(dependent, Some(&averaged)), "the oxRNA2 parameter file is sequence-averaged");
        refused(with("T = 300K", Some(&seq)), "the oxRNA2 parameter file is sequence-dependent");
        // a matching file keeps its values and takes the input's temperature
        let name = "RnaDebyeHuckel.lambda_factor";
        let fitted = averaged.with_params([(name, 0.5), ("kt", 0.2)]).unwrap();
        let p = with("T = 310K", Some(&fitted)).unwrap().model.params().clone();
        assert_eq!(p.value(name), 0.5);
        assert!((p.value("kt") - 310.0 / 3000.0).abs() < 1e-15);
    }
}
