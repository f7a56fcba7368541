//! Distances and sizes, in nm.
//!
//! ```text
//! distance            d = |r_b − r_a|  (minimum image)                        [nm]
//! end-to-end          d between a strand's 5'- and 3'-end nucleotides          [nm]
//! radius of gyration  R_g = √⟨R_g²⟩,  R_g² = (1/n) Σ_i |r_i − r̄|²              [nm]
//! ```
//!
//! Centres of mass are used throughout; positions are taken as oxDNA writes them (unwrapped), so
//! a molecule is whole. The radius of gyration is the root of the mean squared radius, the
//! quantity scattering experiments measure and polymer theory predicts.

use super::{nm, Observable};
use crate::energy::functions::ParamSource;
use crate::energy::tensor::T1;
use crate::error::{Error, Result};
use crate::geometry::{PeriodicBox, Vec3};
use crate::io::Configuration;
use crate::system::Topology;

fn check_index(top: &Topology, i: usize) -> Result<()> {
    if i >= top.len() {
        return Err(Error::invalid(
            "nucleotide",
            i,
            format!(
                "the topology has {} nucleotides (indices 0 to {}, in file order)",
                top.len(),
                top.len().saturating_sub(1)
            ),
        ));
    }
    Ok(())
}

fn check_strand(top: &Topology, s: usize) -> Result<()> {
    if s >= top.strands.len() {
        return Err(Error::invalid(
            "strand",
            s,
            format!("the topology has {} strands (0 to {})", top.strands.len(), top.strands.len().saturating_sub(1)),
        ));
    }
    Ok(())
}

fn check_size(conf: &Configuration, max: usize) -> Result<()> {
    if max >= conf.len() {
        return Err(Error::mismatch(
            "observable and configuration",
            format!("nucleotide {max} does not exist in a configuration of {} nucleotides", conf.len()),
        ));
    }
    Ok(())
}

/// The distance between two nucleotides' centres, nm.
#[derive(Debug, Clone)]
pub struct Distance {
    a: usize,
    b: usize,
    name: String,
}

impl Distance {
    /// Between nucleotides `a` and `b` (topology order).
    pub fn between(top: &Topology, a: usize, b: usize) -> Result<Distance> {
        check_index(top, a)?;
        check_index(top, b)?;
        Ok(Distance { a, b, name: format!("distance_{a}_{b}") })
    }

    /// Between the 5'- and 3'-end nucleotides of strand `s`.
    pub fn end_to_end(top: &Topology, s: usize) -> Result<Distance> {
        check_strand(top, s)?;
        let n = &top.strands[s].nucleotides;
        Ok(Distance { a: n[0], b: n[n.len() - 1], name: "end_to_end".into() })
    }
}

impl Observable for Distance {
    fn name(&self) -> &str {
        &self.name
    }
    fn unit(&self) -> &'static str {
        "nm"
    }
    /// The distance in oxDNA units.
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        check_size(conf, self.a.max(self.b))?;
        Ok(vec![PeriodicBox::new(conf.box_sides).min_image(conf.r[self.b] - conf.r[self.a]).norm()])
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        nm(mean)
    }
}

/// Root-mean-square radius of gyration of a set of nucleotides, nm.
#[derive(Debug, Clone)]
pub struct RadiusOfGyration {
    nucleotides: Vec<usize>,
}

impl RadiusOfGyration {
    /// Of every nucleotide.
    #[must_use]
    pub fn all(top: &Topology) -> RadiusOfGyration {
        RadiusOfGyration { nucleotides: (0..top.len()).collect() }
    }

    /// Of strand `s`.
    pub fn strand(top: &Topology, s: usize) -> Result<RadiusOfGyration> {
        check_strand(top, s)?;
        Ok(RadiusOfGyration { nucleotides: top.strands[s].nucleotides.clone() })
    }
}

impl Observable for RadiusOfGyration {
    fn name(&self) -> &str {
        "radius_of_gyration"
    }
    fn unit(&self) -> &'static str {
        "nm"
    }
    /// R_g² in oxDNA units squared.
    fn features(&self, conf: &Configuration) -> Result<Vec<f64>> {
        check_size(conf, self.nucleotides.iter().copied().max().unwrap_or(0))?;
        let n = self.nucleotides.len().max(1) as f64;
        let centre = self.nucleotides.iter().fold(Vec3::ZERO, |acc, &i| acc + conf.r[i]) / n;
        Ok(vec![self.nucleotides.iter().map(|&i| (conf.r[i] - centre).norm2()).sum::<f64>() / n])
    }
    fn reduce(&self, mean: T1, _: &dyn ParamSource<T1>) -> T1 {
        nm(mean.sqrt())
    }
}
