//! Observables of sampled states, with their units, written so DiffTRe can differentiate
//! through them.
//!
//! An [`Observable`] maps each state of a trajectory to a small feature vector `X_i` (`[dim]`) and
//! the (weighted) mean of those features to its value with [`Observable::reduce`], a Burn tensor
//! function. For most observables the value is simply the mean of one feature (a propeller twist
//! in degrees, a rise in nm); some are non-linear in the mean: the helical pitch is 360° over the
//! mean twist, a persistence length comes from a fit to mean tangent correlations, a radius of
//! gyration is √⟨R_g²⟩. DiffTRe estimates `O(θ) = reduce(Σ_i w_i(θ) X_i, θ)` and differentiates
//! it with autodiff, so a new observable needs no hand-written derivative.
//!
//! | observable | module | unit |
//! |---|---|---|
//! | propeller twist, rise, twist, pitch, diameter | [`helix`] | deg, nm, deg, bp/turn, nm |
//! | distance between nucleotides, end-to-end distance, radius of gyration | [`distance`] | nm |
//! | RMSD to a reference structure | [`structure`] | nm |
//! | persistence length of a duplex | [`persistence`] | nm |
//! | extension, end rotation and total twist of a pulled duplex; stretch and torsional moduli and twist–stretch coupling from runs at several forces | [`mechanics`] | nm, turns; pN, pN nm², pN nm |
//! | melting temperature of a DNA duplex by SantaLucia's nearest-neighbour model (a reference computed from the sequence, not from states) | [`nearest_neighbour`] | K |
//!
//! Melting temperatures come from umbrella sampling rather than per-state features: from
//! histograms in [`melting`] (bound fractions with the finite-size correction, Tm and width with
//! errors over independent runs), and from the sampled states, reweighted to other temperatures
//! and parameters, in [`melting_temperature`] (what training differentiates); the order
//! parameters both count are evaluated by [`order_parameters`]. The reference they are compared
//! with, SantaLucia's (1998) nearest-neighbour Tm of a DNA duplex at a strand and salt
//! concentration, is [`nearest_neighbour`].
//!
//! Lengths are computed in oxDNA units and reported in nm (1 oxDNA unit = 0.8518 nm); angles in
//! degrees. Base pairs of a duplex are selected by [`BasePairs`], which can drop the fraying
//! pairs at the ends (`exclude_end_pairs`).
//!
//! ```
//! use oxgrad::observable::{BasePairs, Observable, Rise};
//! use oxgrad::generate::{helix, parse_sequence, Shape};
//! use oxgrad::system::TopologyFormat;
//! let (top, conf) = helix(&parse_sequence("ACGTACGTAC")?, Shape::Duplex, None, TopologyFormat::Classic)?;
//! let rise = Rise::new(BasePairs::duplex(&top, 1)?)?;
//! let x = rise.features(&conf)?;               // one state
//! assert!((x[0] * 0.8518 - 0.332).abs() < 1e-3); // the ideal helix rises 0.332 nm per base pair
//! # Ok::<(), oxgrad::Error>(())
//! ```

pub mod distance;
pub mod helix;
pub mod mechanics;
pub mod melting;
pub mod melting_temperature;
pub mod nearest_neighbour;
pub mod order_parameters;
pub mod persistence;
pub mod stats;
pub mod structure;

pub use distance::{Distance, RadiusOfGyration};
pub use helix::{BasePairs, Diameter, Pitch, PropellerTwist, Rise, Twist};
pub use persistence::PersistenceLength;
pub use stats::Estimate;
pub use structure::Rmsd;

use crate::backend;
use crate::energy::functions::ParamSource;
use crate::energy::tensor::T1;
use crate::error::{Error, Result};
use crate::io::Configuration;
use crate::params::ParamSet;
use crate::trajectory::Trajectory;
use burn::tensor::TensorData;

/// A quantity measured on sampled states (see the [module docs](self)).
pub trait Observable: Send + Sync {
    /// A short name for reports and metrics (`propeller_twist`).
    fn name(&self) -> &str;
    /// The unit of the observable's value (`deg`, `nm`, `bp/turn`).
    fn unit(&self) -> &'static str;
    /// The number of features per state (default 1).
    fn dim(&self) -> usize {
        1
    }
    /// The features of one state, `[dim]`, in the units `reduce` expects.
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>>;
    /// The features of state `i` of `traj`: for observables that need what the trajectory knows
    /// of a state besides its configuration (its temperature, its `force` metadata). Default:
    /// [`Observable::features`] of the configuration.
    fn features_at(&self, traj: &Trajectory, i: usize) -> Result<Vec<f64>> {
        self.features(&traj.frames[i])
    }
    /// The observable's value from the mean features `[dim]`: a tensor graph `[1]`, so DiffTRe
    /// differentiates through it. `params` gives every model parameter as a tensor (trainable
    /// ones carry gradients). Default: the first feature.
    fn reduce(&self, mean: T1, params: &dyn ParamSource<T1>) -> T1 {
        let _ = params;
        mean.slice(0..1)
    }
    /// Model parameters the features depend on (interaction-site offsets, for example). DiffTRe
    /// refuses to train these with this observable, since the features are evaluated at fixed
    /// values.
    fn feature_params(&self) -> Vec<String> {
        Vec::new()
    }
    /// For a quantity measured on whole runs rather than per state (a melting temperature from
    /// umbrella-sampled states): its estimate from independent `trajectories` sampled with the
    /// parameters `set`, which a validation uses instead of averaging [`Observable::features`].
    /// Default `None`: the observable is an average of per-state features.
    fn estimate_runs(&self, trajectories: &[Trajectory], set: &ParamSet) -> Option<Result<Estimate>> {
        let _ = (trajectories, set);
        None
    }
}

/// The features of every state of `traj`, `[states][dim]`.
pub fn feature_table(obs: &dyn Observable, traj: &Trajectory) -> Result<Vec<Vec<f64>>> {
    (0..traj.len())
        .map(|i| {
            let x = obs.features_at(traj, i)?;
            if x.len() != obs.dim() {
                return Err(Error::mismatch(
                    format!("observable '{}'", obs.name()),
                    format!("{} features for one state, dim() says {}: return dim() values", x.len(), obs.dim()),
                ));
            }
            Ok(x)
        })
        .collect()
}

/// The value of `obs` for features averaged with `weights` (one per state, summing to 1), at the
/// parameters `params`, evaluated in `f64`.
pub fn value(obs: &dyn Observable, table: &[Vec<f64>], weights: &[f64], params: &ParamSet) -> f64 {
    Reducer::new(params).value(obs, &weighted_mean(table, weights, obs.dim()))
}

/// Evaluates [`Observable::reduce`] in `f64`, many times at the same parameters: its value, and
/// its gradient with respect to the mean features.
pub struct Reducer {
    device: burn::tensor::Device,
    params: crate::energy::tensor::TensorParams,
    autodiff: burn::tensor::Device,
    autodiff_params: crate::energy::tensor::TensorParams,
}

impl Reducer {
    /// At the parameter values `params`.
    #[must_use]
    pub fn new(params: &ParamSet) -> Reducer {
        let device = backend::cpu();
        let autodiff = backend::cpu_autodiff();
        Reducer {
            params: crate::energy::tensor::TensorParams::constants(params, &device),
            autodiff_params: crate::energy::tensor::TensorParams::constants(params, &autodiff),
            device,
            autodiff,
        }
    }

    /// ∂ reduce / ∂ mean at the mean features `mean` (`[dim]`), by autodiff: exact, whatever the
    /// scale on which `reduce` curves (a finite difference with a step set by the features'
    /// spread is not, e.g. for a variance far below the squares it is a difference of).
    /// Components that are not finite are NaN.
    #[must_use]
    pub fn gradient(&self, obs: &dyn Observable, mean: &[f64]) -> Vec<f64> {
        let t = T1::from_data(TensorData::new(mean.to_vec(), [mean.len()]), &self.autodiff).require_grad();
        let v = obs.reduce(t.clone(), &self.autodiff_params);
        let grads = v.sum().backward();
        t.grad(&grads).map_or_else(|| vec![0.0; mean.len()], crate::energy::tensor::host)
    }

    /// The observable's value for the mean features `mean` (`[dim]`).
    #[must_use]
    pub fn value(&self, obs: &dyn Observable, mean: &[f64]) -> f64 {
        let t = T1::from_data(TensorData::new(mean.to_vec(), [mean.len()]), &self.device);
        let v = obs.reduce(t, &self.params);
        v.into_data().try_to_vec::<f64>().map_or(f64::NAN, |x| x.first().copied().unwrap_or(f64::NAN))
    }
}

/// Σ_i w_i X_i over a feature table.
#[must_use]
pub fn weighted_mean(table: &[Vec<f64>], weights: &[f64], dim: usize) -> Vec<f64> {
    let mut mean = vec![0.0; dim];
    for (x, w) in table.iter().zip(weights) {
        for (m, v) in mean.iter_mut().zip(x) {
            *m += w * v;
        }
    }
    mean
}

/// Converts an oxDNA length to nm inside a tensor graph.
pub(crate) fn nm(t: T1) -> T1 {
    t * crate::units::LENGTH_NM
}

/// The observables a configuration can name, with their settings, as plain data
/// (`{ kind = "propeller_twist", exclude_end_pairs = 1 }`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ObservableSpec {
    /// [`PropellerTwist`] (degrees).
    PropellerTwist {
        /// Base pairs dropped at each end of the duplex.
        #[serde(default)]
        exclude_end_pairs: usize,
    },
    /// [`Rise`] (nm per base pair).
    Rise {
        /// Base pairs dropped at each end.
        #[serde(default)]
        exclude_end_pairs: usize,
    },
    /// [`Twist`] (degrees per base-pair step).
    Twist {
        /// Base pairs dropped at each end.
        #[serde(default)]
        exclude_end_pairs: usize,
    },
    /// [`Pitch`] (base pairs per turn).
    Pitch {
        /// Base pairs dropped at each end.
        #[serde(default)]
        exclude_end_pairs: usize,
    },
    /// [`Diameter`] (nm).
    Diameter {
        /// Base pairs dropped at each end.
        #[serde(default)]
        exclude_end_pairs: usize,
    },
    /// [`Distance`] between two nucleotides (nm); indices are topology (row) order.
    Distance {
        /// The two nucleotides.
        nucleotides: [usize; 2],
    },
    /// [`Distance`] between the 5' and 3' ends of a strand (nm).
    EndToEnd {
        /// The strand (0-based).
        #[serde(default)]
        strand: usize,
    },
    /// [`RadiusOfGyration`] (nm) of a strand, or of every nucleotide.
    RadiusOfGyration {
        /// The strand (0-based); all nucleotides when absent.
        #[serde(default)]
        strand: Option<usize>,
    },
    /// [`Rmsd`] to a reference configuration (nm).
    Rmsd {
        /// The reference configuration file (relative to the configuration file).
        reference: std::path::PathBuf,
    },
    /// [`PersistenceLength`] of a duplex (nm).
    PersistenceLength {
        /// Base pairs dropped at each end.
        #[serde(default = "two")]
        exclude_end_pairs: usize,
        /// Largest base-pair-step separation in the fit.
        #[serde(default)]
        max_lag: Option<usize>,
    },
    /// [`mechanics::Extension`] of a duplex along the pulling axis (nm).
    Extension {
        /// Base pairs dropped at each end (they fray under a pull).
        #[serde(default = "two")]
        exclude_end_pairs: usize,
        /// The pulling axis (default z, along which oxgrad's generated duplexes lie).
        #[serde(default = "z_axis")]
        axis: [f64; 3],
    },
    /// [`mechanics::EndRotation`] about the pulling axis (turns).
    EndRotation {
        /// Base pairs dropped at each end.
        #[serde(default = "two")]
        exclude_end_pairs: usize,
        /// The pulling axis (default z).
        #[serde(default = "z_axis")]
        axis: [f64; 3],
    },
    /// [`mechanics::TotalTwist`], writhe-free (turns).
    TotalTwist {
        /// Base pairs dropped at each end.
        #[serde(default = "two")]
        exclude_end_pairs: usize,
    },
    /// The effective stretch modulus S_eff (pN) from runs at several `forces`
    /// ([`mechanics::ElasticModulus`]); an objective expands its simulators into one per force.
    StretchModulus {
        /// The pulling forces, at least two (`"10pN"`), in the linear regime of extension.
        forces: Vec<crate::units::TomlNumberOrString>,
        /// Base pairs dropped at each end in the measurement (the forces pull the outermost pairs).
        #[serde(default = "two")]
        exclude_end_pairs: usize,
        /// The pulling axis (default z).
        #[serde(default = "z_axis")]
        axis: [f64; 3],
    },
    /// The torsional modulus C (pN nm²) from runs at several `forces`.
    TorsionalModulus {
        /// The pulling forces, at least two (`"10pN"`).
        forces: Vec<crate::units::TomlNumberOrString>,
        /// Base pairs dropped at each end in the measurement.
        #[serde(default = "two")]
        exclude_end_pairs: usize,
        /// The pulling axis (default z).
        #[serde(default = "z_axis")]
        axis: [f64; 3],
    },
    /// The twist–stretch coupling g (pN nm) from runs at several `forces`.
    TwistStretchCoupling {
        /// The pulling forces, at least two (`"10pN"`).
        forces: Vec<crate::units::TomlNumberOrString>,
        /// Base pairs dropped at each end in the measurement.
        #[serde(default = "two")]
        exclude_end_pairs: usize,
        /// The pulling axis (default z).
        #[serde(default = "z_axis")]
        axis: [f64; 3],
    },
    /// The melting temperature of umbrella-sampled Monte Carlo runs (kelvin), reweighted to
    /// each of `temperatures` ([`melting_temperature::MeltingTemperature`]); its own objective.
    MeltingTemperature {
        /// The temperatures Tm is interpolated between (`"60C"`, `"333.15K"` or simulation
        /// units), at least two, bracketing the expected Tm (oxDNA's `extrapolate_hist`).
        temperatures: Vec<String>,
        /// The `name` of the `bond` order parameter that counts base pairs (default: the first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order_parameter: Option<String>,
        /// The fewest formed base pairs of a bound state (default 1).
        #[serde(default = "one_bond")]
        min_bonds: i32,
        /// `"bimolecular"` (two strands, default) or `"unimolecular"` (a hairpin).
        #[serde(default = "bimolecular")]
        molecularity: melting::Molecularity,
        /// Strand concentration, mol/L, at which Tm is reported (default: the box's, one strand
        /// of each kind in its volume).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        concentration: Option<f64>,
        /// The order-parameter file (default: the simulator's `op_file`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op_file: Option<std::path::PathBuf>,
        /// The weights file (default: the simulator's `weights_file`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights_file: Option<std::path::PathBuf>,
    },
}

fn one_bond() -> i32 {
    1
}

fn bimolecular() -> melting::Molecularity {
    melting::Molecularity::Bimolecular
}

fn two() -> usize {
    2
}

/// Forces with their unit (`"10pN"`), in pN; a bare number is refused.
fn parse_forces(forces: &[crate::units::TomlNumberOrString]) -> Result<Vec<f64>> {
    forces
        .iter()
        .map(|f| match f {
            crate::units::TomlNumberOrString::Text(t) => {
                crate::units::parse_force_pn(t).map_err(|e| Error::invalid("forces", t, e))
            }
            crate::units::TomlNumberOrString::Number(x) => Err(Error::invalid(
                "forces",
                x,
                format!(
                    "a force needs its unit: write \"{x}pN\" (a bare number could be pN or oxDNA's unit of 48.63 pN)"
                ),
            )),
        })
        .collect()
}

fn z_axis() -> [f64; 3] {
    [0.0, 0.0, 1.0]
}

impl ObservableSpec {
    /// Every kind a configuration may name.
    pub const KINDS: [&'static str; 17] = [
        "propeller_twist",
        "rise",
        "twist",
        "pitch",
        "diameter",
        "distance",
        "end_to_end",
        "radius_of_gyration",
        "rmsd",
        "persistence_length",
        "extension",
        "end_rotation",
        "total_twist",
        "stretch_modulus",
        "torsional_modulus",
        "twist_stretch_coupling",
        "melting_temperature",
    ];

    /// The pulling forces (pN) and axis of a modulus, which combines runs at several forces: its
    /// objective expands each simulator into one per force. `None` for other observables.
    pub fn pulling(&self) -> Option<Result<(Vec<f64>, [f64; 3])>> {
        match self {
            ObservableSpec::StretchModulus { forces, axis, .. }
            | ObservableSpec::TorsionalModulus { forces, axis, .. }
            | ObservableSpec::TwistStretchCoupling { forces, axis, .. } => {
                Some(parse_forces(forces).map(|f| (f, *axis)))
            }
            _ => None,
        }
    }

    /// Builds the observable for `top`, with the interaction sites of `params` and relative
    /// paths resolved against `base_dir`.
    pub fn build(
        &self,
        top: &crate::system::Topology,
        params: &ParamSet,
        base_dir: &std::path::Path,
    ) -> Result<Box<dyn Observable>> {
        let modulus =
            |m, forces: &[crate::units::TomlNumberOrString], exclude: usize, axis| -> Result<Box<dyn Observable>> {
                let pulled = mechanics::Pulled::new(BasePairs::duplex(top, exclude)?, axis)?;
                Ok(Box::new(mechanics::ElasticModulus::new(m, pulled, parse_forces(forces)?)?))
            };
        Ok(match self {
            ObservableSpec::PropellerTwist { exclude_end_pairs } => {
                Box::new(PropellerTwist::new(BasePairs::duplex(top, *exclude_end_pairs)?))
            }
            ObservableSpec::Rise { exclude_end_pairs } => {
                Box::new(Rise::new(BasePairs::duplex(top, *exclude_end_pairs)?)?)
            }
            ObservableSpec::Twist { exclude_end_pairs } => {
                Box::new(Twist::new(BasePairs::duplex(top, *exclude_end_pairs)?)?)
            }
            ObservableSpec::Pitch { exclude_end_pairs } => {
                Box::new(Pitch::new(BasePairs::duplex(top, *exclude_end_pairs)?)?)
            }
            ObservableSpec::Diameter { exclude_end_pairs } => {
                Box::new(Diameter::new(BasePairs::duplex(top, *exclude_end_pairs)?, params))
            }
            ObservableSpec::Distance { nucleotides } => {
                Box::new(Distance::between(top, nucleotides[0], nucleotides[1])?)
            }
            ObservableSpec::EndToEnd { strand } => Box::new(Distance::end_to_end(top, *strand)?),
            ObservableSpec::RadiusOfGyration { strand } => Box::new(match strand {
                Some(s) => RadiusOfGyration::strand(top, *s)?,
                None => RadiusOfGyration::all(top),
            }),
            ObservableSpec::Rmsd { reference } => {
                let path = if reference.is_absolute() { reference.clone() } else { base_dir.join(reference) };
                Box::new(Rmsd::new(Configuration::read(&path, top.len())?, None)?)
            }
            ObservableSpec::PersistenceLength { exclude_end_pairs, max_lag } => {
                Box::new(PersistenceLength::new(BasePairs::duplex(top, *exclude_end_pairs)?, *max_lag)?)
            }
            ObservableSpec::Extension { exclude_end_pairs, axis } => {
                Box::new(mechanics::Extension(mechanics::Pulled::new(BasePairs::duplex(top, *exclude_end_pairs)?, *axis)?))
            }
            ObservableSpec::EndRotation { exclude_end_pairs, axis } => Box::new(mechanics::EndRotation(
                mechanics::Pulled::new(BasePairs::duplex(top, *exclude_end_pairs)?, *axis)?,
            )),
            ObservableSpec::TotalTwist { exclude_end_pairs } => Box::new(mechanics::TotalTwist(
                mechanics::Pulled::new(BasePairs::duplex(top, *exclude_end_pairs)?, [0.0, 0.0, 1.0])?,
            )),
            ObservableSpec::StretchModulus { forces, exclude_end_pairs, axis } => {
                modulus(mechanics::Modulus::Stretch, forces, *exclude_end_pairs, *axis)?
            }
            ObservableSpec::TorsionalModulus { forces, exclude_end_pairs, axis } => {
                modulus(mechanics::Modulus::Torsion, forces, *exclude_end_pairs, *axis)?
            }
            ObservableSpec::TwistStretchCoupling { forces, exclude_end_pairs, axis } => {
                modulus(mechanics::Modulus::TwistStretch, forces, *exclude_end_pairs, *axis)?
            }
            ObservableSpec::MeltingTemperature { .. } => {
                return Err(Error::invalid(
                    "observable",
                    "melting_temperature",
                    "a melting temperature is fitted by its own objective over Monte Carlo states: give it an [[objective]] of its own with observable = { kind = \"melting_temperature\", … }, not among other observables",
                ))
            }
        })
    }
}
