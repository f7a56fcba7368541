//! `oxgrad melting HIST…`: melting temperature, width and melting curve from umbrella-sampling
//! histograms (oxDNA's `last_hist.dat` or `traj_hist.dat`), one per independent run; the method
//! is in `oxgrad::observable::melting`. `oxgrad melting --nearest-neighbour SEQ`: instead, the
//! reference Tm of a DNA duplex by SantaLucia's (1998) nearest-neighbour model
//! (`oxgrad::observable::nearest_neighbour`).

use clap::{ArgGroup, Args};
use oxgrad::io::atomic::Outputs;
use oxgrad::io::histogram::Histogram;
use oxgrad::io::order_parameter::{OrderParameterKind, OrderParameters};
use oxgrad::io::{Configuration, InputFile};
use oxgrad::observable::melting::{MeanSe, Melting, MeltingSummary, Molecularity};
use oxgrad::observable::nearest_neighbour::{NearestNeighbour, REFERENCE_SODIUM_MOLAR, T37_K};
use oxgrad::system::Topology;
use oxgrad::units::{celsius_from_kt, kelvin_from_kt, KELVIN_PER_SIM};
use oxgrad::{Error, Result};
use std::path::PathBuf;

/// Arguments of `oxgrad melting`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("mode").required(true).args(["bimolecular", "hairpin", "nearest_neighbour"])))]
pub struct MeltingArgs {
    /// Histogram files (`last_hist.dat`, or `traj_hist.dat`: its last block), one per
    /// independent run; two or more give Tm ± standard error.
    #[arg(required_unless_present = "nearest_neighbour", conflicts_with = "nearest_neighbour")]
    pub histograms: Vec<PathBuf>,
    /// Two different strands forming a duplex: yields with the finite-size correction of
    /// Ouldridge, Louis & Doye (2010).
    #[arg(long)]
    pub bimolecular: bool,
    /// One strand folding on itself: yield Φ/(1 + Φ), no concentration dependence.
    #[arg(long)]
    pub hairpin: bool,
    /// The side of the cubic simulation box, oxDNA length units (1 = 0.8518 nm); with
    /// --nearest-neighbour, one strand of each kind in that box (20: 3.36e-4 M each).
    #[arg(long, conflicts_with = "input")]
    pub box_side: Option<f64>,
    /// The runs' oxDNA input file: the box from its conf_file (and topology), the names of the
    /// order parameters from its op_file.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Report yields and Tm at this strand concentration (each strand; mol/L or with a unit:
    /// 1e-6, 1uM, 0.5mM) instead of the box's; needs the box. With --nearest-neighbour: the
    /// concentration of each of the duplex's two strands (instead of --box-side).
    #[arg(long)]
    pub concentration: Option<String>,
    /// Write the melting curve to this PNG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// The `bond` order parameter that counts base pairs, by its name in the op_file (needs
    /// --input); default: the first one.
    #[arg(long)]
    pub order_parameter: Option<String>,
    /// The fewest formed base pairs of a bound state.
    #[arg(long, default_value_t = 1)]
    pub min_bonds: i32,
    /// Replace an existing plot file.
    #[arg(long)]
    pub force: bool,
    /// Instead of histograms: SantaLucia's (1998) nearest-neighbour Tm of the DNA duplex of SEQ
    /// (5'→3', A/C/G/T) and its complement, with each strand at --concentration or at the
    /// --box-side's, and [Na⁺] = --salt.
    #[arg(
        long,
        value_name = "SEQ",
        visible_alias = "nearest-neighbor",
        conflicts_with_all = ["input", "plot", "order_parameter", "min_bonds", "force"]
    )]
    pub nearest_neighbour: Option<String>,
    /// The sodium concentration for --nearest-neighbour (mol/L or with a unit: 0.5, 500mM);
    /// default 1 M, the reference state of SantaLucia's parameters (oxDNA1 was fitted to them at
    /// 0.5 M).
    #[arg(long, conflicts_with_all = ["bimolecular", "hairpin"])]
    pub salt: Option<String>,
}

pub fn melting(a: &MeltingArgs) -> Result<()> {
    if let Some(seq) = &a.nearest_neighbour {
        return nearest_neighbour(a, seq);
    }
    let mut io = Outputs::new(a.force);
    for h in &a.histograms {
        io.input(h)?;
    }
    let molecularity = if a.hairpin { Molecularity::Unimolecular } else { Molecularity::Bimolecular };
    let mut melting = Melting::new(molecularity).min_bonds(a.min_bonds)?;
    let mut names: Option<OrderParameters> = None;
    if let Some(side) = a.box_side {
        if !(side.is_finite() && side > 0.0) {
            return Err(Error::invalid(
                "--box-side",
                side,
                "a positive length in oxDNA units (1 = 0.8518 nm), e.g. 20",
            ));
        }
        melting = melting.box_volume(side.powi(3))?;
    }
    if let Some(path) = &a.input {
        io.input(path)?;
        let input = InputFile::read(path)?;
        let (top, _) = Topology::read(input.path("topology")?)?;
        let conf = Configuration::read(input.path("conf_file")?, top.len())?;
        melting = melting.box_volume(conf.box_sides[0] * conf.box_sides[1] * conf.box_sides[2])?;
        if input.get("op_file").is_some() {
            names = Some(OrderParameters::from_input(&input, top.len())?);
        }
    }
    if let Some(c) = &a.concentration {
        let molar = oxgrad::units::parse_molar(c).map_err(|msg| Error::invalid("--concentration", c, msg))?;
        melting = melting.concentration(molar)?;
    }
    let mut label = String::from("the first order parameter");
    match (&a.order_parameter, &names) {
        (Some(name), None) => {
            return Err(Error::invalid(
                "--order-parameter",
                name,
                "names come from the op_file of the runs' input file: add --input FILE (with op_file = …)",
            ))
        }
        (name, Some(ops)) => {
            let position = match name {
                Some(n) => ops.position(n)?,
                None => 0,
            };
            let p = &ops.params[position];
            if !matches!(p.kind, OrderParameterKind::Bond { .. }) {
                return Err(Error::invalid(
                    "--order-parameter",
                    &p.name,
                    "a 'bond' order parameter (the number of formed base pairs) defines bound states; this one is a 'mindistance'",
                ));
            }
            melting = melting.order_parameter(position);
            label = format!("'{}'", p.name);
        }
        (None, None) => {}
    }
    if let Some(plot) = &a.plot {
        io.check(plot)?;
    }
    let mut histograms = Vec::with_capacity(a.histograms.len());
    for path in &a.histograms {
        let h = Histogram::read(path)?;
        if let Some(ops) = &names {
            if ops.params.len() != h.sizes.len() {
                return Err(Error::mismatch(
                    format!("{} and the op_file", path.display()),
                    format!(
                        "the histogram has {} order parameter(s), the op_file {}: give the input file of the run that wrote it",
                        h.sizes.len(),
                        ops.params.len()
                    ),
                ));
            }
        }
        histograms.push((path.clone(), h));
    }
    let summary = melting.analyse(&histograms)?;
    report(&summary, &melting, &label)?;
    if let Some(plot) = &a.plot {
        oxgrad::train::plot::melting_curve(plot, &summary)?;
        crate::cli::print_line(&format!("wrote {}", plot.display()))?;
    }
    Ok(())
}

fn report(s: &MeltingSummary, m: &Melting, label: &str) -> Result<()> {
    let print = crate::cli::print_line;
    let n = s.runs.len();
    let what = match m.molecularity {
        Molecularity::Bimolecular => {
            "a duplex of two strands, yields corrected for the finite box (Ouldridge, Louis & Doye 2010)"
        }
        Molecularity::Unimolecular => "a hairpin (one strand), yield Φ/(1 + Φ)",
    };
    print(&format!("{n} histogram(s); {what}; bound: {label} ≥ {}", m.min_bonds))?;
    if m.molecularity == Molecularity::Bimolecular {
        match (s.box_concentration, m.concentration) {
            (Some(c_box), Some(c)) => {
                print(&format!("strand concentration {c_box:.4e} M in the box; yields and Tm at {c:.4e} M"))?;
            }
            (Some(c_box), None) => print(&format!("strand concentration {c_box:.4e} M (the box's)"))?,
            _ => print("strand concentration: the box's (give --box-side or --input to state it)")?,
        }
    }
    print("T [K]\tT [°C]\tΦ (box)\tyield")?;
    match s.mean_curve() {
        Some(mean) => {
            for (k, (t, f)) in mean.iter().enumerate() {
                let phi = s.runs.iter().map(|r| r.curve.ratios[k]).sum::<f64>() / n as f64;
                print(&format!("{:.2}\t{:.2}\t{phi:.5}\t{f:.5}", kelvin_from_kt(*t), celsius_from_kt(*t)))?;
            }
        }
        None => {
            for r in &s.runs {
                print(&format!("# {}", r.source.display()))?;
                for ((t, phi), f) in r.curve.temperatures.iter().zip(&r.curve.ratios).zip(&r.curve.yields) {
                    print(&format!("{:.2}\t{:.2}\t{phi:.5}\t{f:.5}", kelvin_from_kt(*t), celsius_from_kt(*t)))?;
                }
            }
        }
    }
    if n > 1 {
        for r in &s.runs {
            print(&format!("  {}: Tm = {:.2} K", r.source.display(), kelvin_from_kt(r.tm)))?;
        }
    }
    let k = |x: f64| x * KELVIN_PER_SIM;
    let tm = match s.tm.std_err {
        Some(se) => format!(
            "Tm = {:.2} ± {:.2} K = {:.2} ± {:.2} °C (mean ± standard error of {n} runs)",
            kelvin_from_kt(s.tm.mean),
            k(se),
            celsius_from_kt(s.tm.mean),
            k(se)
        ),
        None => format!(
            "Tm = {:.2} K = {:.2} °C (one run: no error bar; give the histograms of several independent runs for one)",
            kelvin_from_kt(s.tm.mean),
            celsius_from_kt(s.tm.mean)
        ),
    };
    print(&tm)?;
    let width = match s.width {
        Some(MeanSe { mean, std_err: Some(se), n: w }) => {
            format!("width = {:.2} ± {:.2} K (T at yield 0.2 − T at yield 0.8; {w} runs)", k(mean), k(se))
        }
        Some(MeanSe { mean, std_err: None, .. }) => {
            format!("width = {:.2} K (T at yield 0.2 − T at yield 0.8)", k(mean))
        }
        None => "width: the temperatures do not span yields 0.2 to 0.8; extend extrapolate_hist".to_string(),
    };
    print(&width)
}

/// `--nearest-neighbour SEQ`: SantaLucia's (1998) thermodynamics and Tm of the duplex.
fn nearest_neighbour(a: &MeltingArgs, seq: &str) -> Result<()> {
    let nn = NearestNeighbour::from_text(seq).map_err(|e| match e {
        Error::InvalidSetting { value, hint, .. } => Error::invalid("--nearest-neighbour", value, hint),
        e => e,
    })?;
    let (c, where_from) = match (&a.concentration, a.box_side) {
        (Some(text), Some(side)) => {
            return Err(Error::invalid(
                "--concentration",
                text,
                format!("--box-side {side} also sets the strand concentration: give one of the two"),
            ))
        }
        (Some(text), None) => {
            let c = oxgrad::units::parse_molar(text).map_err(|msg| Error::invalid("--concentration", text, msg))?;
            (c, String::from("--concentration"))
        }
        (None, Some(side)) => {
            if !(side.is_finite() && side > 0.0) {
                return Err(Error::invalid(
                    "--box-side",
                    side,
                    "a positive length in oxDNA units (1 = 0.8518 nm), e.g. 20",
                ));
            }
            let what = if nn.self_complementary {
                "two copies of the self-complementary strand"
            } else {
                "one strand of each kind"
            };
            (oxgrad::units::molar_from_volume(side.powi(3)), format!("{what} in a box of side {side}"))
        }
        (None, None) => {
            return Err(Error::invalid(
                "strand concentration",
                "none given",
                "give --concentration C (each of the two strands, e.g. 1uM) or --box-side L (one strand of each kind in an oxDNA box of side L, e.g. 20)",
            ))
        }
    };
    let salt = match &a.salt {
        Some(text) => oxgrad::units::parse_molar(text)
            .and_then(oxgrad::units::check_salt)
            .map_err(|msg| Error::invalid("--salt", text, msg))?,
        None => REFERENCE_SODIUM_MOLAR,
    };
    let tm = nn.tm(c, salt)?;
    let print = crate::cli::print_line;
    let strands = if nn.self_complementary {
        "self-complementary: both strands are one species, C_T/1"
    } else {
        "two different strands at equal concentrations, C_T/4"
    };
    print("SantaLucia (1998) nearest-neighbour model, unified parameters (PNAS 95, 1460)")?;
    print(&format!("duplex: 5'-{}-3'", nn.top()))?;
    print(&format!("        3'-{}-5'  ({} bp; {strands})", nn.bottom(), nn.base_pairs()))?;
    print(&format!(
        "ΔH° = {:.2} kcal/mol, ΔS° = {:.2} cal/(mol·K), ΔG°37 = {:.2} kcal/mol in 1 M NaCl (ΔH° − {T37_K} K · ΔS°; the paper's ΔG°37 column sums to {:.2})",
        nn.dh,
        nn.ds,
        nn.dg37(REFERENCE_SODIUM_MOLAR)?,
        nn.dg37_table()
    ))?;
    if salt != REFERENCE_SODIUM_MOLAR {
        print(&format!(
            "[Na+] = {salt} M: ΔS° = {:.2} cal/(mol·K) (0.368 · {} · ln[Na+] = {:.2} added), ΔG°37 = {:.2} kcal/mol",
            nn.entropy(salt)?,
            nn.base_pairs() - 1,
            nn.salt_entropy(salt)?,
            nn.dg37(salt)?
        ))?;
    }
    print(&format!("strand concentration {c:.4e} M each ({where_from}), C_T = {:.4e} M", nn.total_concentration(c)))?;
    print(&format!("Tm = {tm:.2} K = {:.2} °C", tm - oxgrad::units::ZERO_CELSIUS_K))
}
