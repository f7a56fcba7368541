//! PNG plots of a run: the loss, every observable with its error bars against its target (and
//! the validation's estimates), and the effective sample sizes; and melting curves
//! (`oxgrad melting`). Drawn with `plotters` and the embedded DejaVu font (no system fonts
//! needed), each file written whole or not at all.

use super::{StepRecord, ValidationRecord};
use crate::error::{Error, Result};
use crate::io::atomic::write_via;
use crate::observable::melting::{MeltingSummary, Molecularity};
use plotters::prelude::*;
use std::path::Path;

const FONT: &[u8] = include_bytes!("../../data/fonts/DejaVuSansMono.ttf");
static REGISTER: std::sync::Once = std::sync::Once::new();

fn font() {
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::warn!("the embedded plot font could not be loaded; plots will have no text");
        }
    });
}

fn err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io("draw", path, std::io::Error::other(e.to_string()))
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// A padded range around finite values (with a fallback for none or one).
/// Draws the chart's legend (every plot's, one style).
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    path: &Path,
) -> Result<()> {
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(path, e))
}

fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = if hi > lo { 0.08 * (hi - lo) } else { 0.05 * lo.abs().max(1e-3) };
    lo - pad..hi + pad
}

/// Draws `loss.png`, `observables.png` and `neff.png` into `dir`, each whole or not at all.
pub fn all(dir: &Path, records: &[StepRecord], validation: &[ValidationRecord]) -> Result<()> {
    font();
    write_via(&dir.join("loss.png"), |p| loss(p, records))?;
    write_via(&dir.join("observables.png"), |p| observables(p, records, validation))?;
    write_via(&dir.join("neff.png"), |p| neff(p, records))
}

/// Draws a melting curve (`oxgrad melting --plot`), whole or not at all: the yield of each run
/// against the temperature in °C, their mean, the line f = 1/2 and Tm ± SE.
pub fn melting_curve(path: &Path, summary: &MeltingSummary) -> Result<()> {
    font();
    write_via(path, |p| melting(p, summary))
}

fn melting(path: &Path, summary: &MeltingSummary) -> Result<()> {
    let celsius = crate::units::celsius_from_kt;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(path, e))?;
    let xr = range(summary.runs.iter().flat_map(|r| r.curve.temperatures.iter().map(|t| celsius(*t))));
    let mut chart = ChartBuilder::on(&root)
        .caption("melting curve", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(xr.clone(), -0.02..1.02)
        .map_err(|e| err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("temperature [°C]")
        .y_desc(match summary.runs.first().map(|r| r.curve.molecularity) {
            Some(Molecularity::Bimolecular) => "duplex yield (finite-size corrected)",
            _ => "folded fraction",
        })
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(path, e))?;
    let runs = summary.runs.len();
    for (k, run) in summary.runs.iter().enumerate() {
        let c = if runs == 1 { COLOURS[0].to_rgba() } else { COLOURS[k % COLOURS.len()].mix(0.45) };
        let pts: Vec<(f64, f64)> =
            run.curve.temperatures.iter().zip(&run.curve.yields).map(|(t, f)| (celsius(*t), *f)).collect();
        let series = chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(1))).map_err(|e| err(path, e))?;
        if k == 0 && runs > 1 {
            series
                .label("each run")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(1)));
        }
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled()))).map_err(|e| err(path, e))?;
    }
    if let Some(mean) = summary.mean_curve().filter(|_| runs > 1) {
        let blue = COLOURS[0];
        chart
            .draw_series(LineSeries::new(mean.iter().map(|(t, f)| (celsius(*t), *f)), blue.stroke_width(3)))
            .map_err(|e| err(path, e))?
            .label(format!("mean of {runs} runs"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(3)));
    }
    chart
        .draw_series(LineSeries::new(vec![(xr.start, 0.5), (xr.end, 0.5)], BLACK.mix(0.5).stroke_width(1)))
        .map_err(|e| err(path, e))?;
    let red = COLOURS[1];
    let tm = celsius(summary.tm.mean);
    let se = summary.tm.std_err.map(|s| s * crate::units::KELVIN_PER_SIM);
    let label = match se {
        Some(se) => format!("Tm = {tm:.2} ± {se:.2} °C"),
        None => format!("Tm = {tm:.2} °C (one run)"),
    };
    if let Some(se) = se {
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(tm - se, 0.5), (tm + se, 0.5)], red.stroke_width(3))))
            .map_err(|e| err(path, e))?;
    }
    chart
        .draw_series(std::iter::once(TriangleMarker::new((tm, 0.5), 7, red.filled())))
        .map_err(|e| err(path, e))?
        .label(label)
        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, red.filled()));
    legend(&mut chart, path)?;
    root.present().map_err(|e| err(path, e))
}

fn steps_range(records: &[StepRecord]) -> std::ops::Range<f64> {
    -0.5..(records.last().map_or(1, |r| r.step) as f64 + 0.5).max(1.5)
}

fn loss(path: &Path, records: &[StepRecord]) -> Result<()> {
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(path, e))?;
    let mut series: Vec<(String, Vec<(f64, f64)>)> =
        vec![("total".into(), records.iter().map(|r| (r.step as f64, r.loss)).collect())];
    if records.first().is_some_and(|r| r.objectives.len() > 1) {
        for name in records[0].objectives.keys() {
            series.push((name.clone(), records.iter().map(|r| (r.step as f64, r.objectives[name].loss)).collect()));
        }
    }
    let yr = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)).chain(std::iter::once(0.0)));
    let mut chart = ChartBuilder::on(&root)
        .caption("loss at each evaluated step", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(steps_range(records), yr)
        .map_err(|e| err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(path, e))?;
    for (k, (name, pts)) in series.iter().enumerate() {
        let c = COLOURS[k % COLOURS.len()];
        let finite: Vec<(f64, f64)> = pts.iter().copied().filter(|p| p.1.is_finite()).collect();
        chart
            .draw_series(LineSeries::new(finite.clone(), c.stroke_width(2)))
            .map_err(|e| err(path, e))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(finite.iter().map(|p| Circle::new(*p, 3, c.filled()))).map_err(|e| err(path, e))?;
    }
    legend(&mut chart, path)?;
    root.present().map_err(|e| err(path, e))
}

fn observables(path: &Path, records: &[StepRecord], validation: &[ValidationRecord]) -> Result<()> {
    let panels: Vec<(String, String)> = records.first().map_or_else(Vec::new, |r| {
        r.objectives.iter().flat_map(|(o, rec)| rec.observables.keys().map(move |n| (o.clone(), n.clone()))).collect()
    });
    let n = panels.len().max(1);
    let root = BitMapBackend::new(path, (900, 380 * n as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(path, e))?;
    let areas = root.split_evenly((n, 1));
    for ((obj, name), area) in panels.iter().zip(areas) {
        let pts: Vec<(f64, f64, f64)> = records
            .iter()
            .map(|r| {
                let o = &r.objectives[obj].observables[name];
                (r.step as f64, o.value, o.std_err)
            })
            .collect();
        let first = &records[0].objectives[obj].observables[name];
        let target = first.target;
        let val = validation
            .iter()
            .find(|v| &v.objective == obj)
            .and_then(|v| v.observables.iter().position(|x| x == name).map(|k| (v.initial[k], v.best[k])));
        let best_step = records
            .iter()
            .filter(|r| r.loss.is_finite())
            .min_by(|a, b| a.loss.total_cmp(&b.loss))
            .map_or(0, |r| r.step);
        let mut ys: Vec<f64> = pts.iter().flat_map(|p| [p.1 - p.2.max(0.0), p.1 + p.2.max(0.0)]).collect();
        ys.extend(target);
        if let Some((a, b)) = val {
            ys.extend([a.value - a.std_err, a.value + a.std_err, b.value - b.std_err, b.value + b.std_err]);
        }
        let mut chart = ChartBuilder::on(&area)
            .caption(format!("{obj}: {name} [{}]", first.unit), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(steps_range(records), range(ys.into_iter()))
            .map_err(|e| err(path, e))?;
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc(first.unit.clone())
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| err(path, e))?;
        let blue = COLOURS[0];
        let finite: Vec<(f64, f64, f64)> = pts.iter().copied().filter(|p| p.1.is_finite()).collect();
        chart
            .draw_series(LineSeries::new(finite.iter().map(|p| (p.0, p.1)), blue.stroke_width(2)))
            .map_err(|e| err(path, e))?
            .label("reweighted estimate ± SE")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
        chart
            .draw_series(
                finite
                    .iter()
                    .filter(|p| p.2.is_finite())
                    .map(|p| PathElement::new(vec![(p.0, p.1 - p.2), (p.0, p.1 + p.2)], blue.stroke_width(2))),
            )
            .map_err(|e| err(path, e))?;
        chart
            .draw_series(finite.iter().map(|p| Circle::new((p.0, p.1), 3, blue.filled())))
            .map_err(|e| err(path, e))?;
        if let Some(t) = target {
            let x = steps_range(records);
            chart
                .draw_series(LineSeries::new(vec![(x.start, t), (x.end, t)], BLACK.stroke_width(1)))
                .map_err(|e| err(path, e))?
                .label(format!("target {t}"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        if let Some((a, b)) = val {
            let red = COLOURS[1];
            for (x, e) in [(0.0, a), (best_step as f64, b)].into_iter().filter(|(_, e)| e.std_err.is_finite()) {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x + 0.15, e.value - e.std_err), (x + 0.15, e.value + e.std_err)],
                        red.stroke_width(2),
                    )))
                    .map_err(|e| err(path, e))?;
            }
            chart
                .draw_series(
                    [(0.0, a), (best_step as f64, b)]
                        .into_iter()
                        .map(|(x, e)| TriangleMarker::new((x + 0.15, e.value), 6, red.filled())),
                )
                .map_err(|e| err(path, e))?
                .label("validation (initial, best) ± SE")
                .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, red.filled()));
        }
        legend(&mut chart, path)?;
    }
    root.present().map_err(|e| err(path, e))
}

fn neff(path: &Path, records: &[StepRecord]) -> Result<()> {
    let root = BitMapBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("normalised effective sample size", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(steps_range(records), 0.0..1.05)
        .map_err(|e| err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("n_eff / N")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(path, e))?;
    let names: Vec<String> = records.first().map_or_else(Vec::new, |r| r.objectives.keys().cloned().collect());
    for (k, name) in names.iter().enumerate() {
        let c = COLOURS[k % COLOURS.len()];
        let pts: Vec<(f64, f64)> =
            records.iter().map(|r| (r.step as f64, r.objectives[name].n_eff)).filter(|p| p.1.is_finite()).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(|e| err(path, e))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled()))).map_err(|e| err(path, e))?;
    }
    legend(&mut chart, path)?;
    root.present().map_err(|e| err(path, e))
}
