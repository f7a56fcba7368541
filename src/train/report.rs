//! `report.html`: one self-contained page about a run — loss, every observable with its error
//! bars against its target and the validation, the parameters over the steps, the effective
//! sample sizes, and a timeline of the tasks (which simulator and objective ran when, on which
//! worker, with which resources). Charts are inline SVG and nothing is fetched, so the file opens
//! offline and can be mailed. It reads only the run directory, so it also works on a run that is
//! still going (`oxgrad report DIR`).

use super::{read_records, StepRecord, ValidationRecord};
use crate::error::{Error, Result};
use crate::observable::stats::{fmt_sig, fmt_with_err, Estimate};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const COLOURS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

/// Writes `DIR/report.html` and returns its path.
pub fn write(dir: &Path) -> Result<PathBuf> {
    let html = html(dir)?;
    let path = dir.join("report.html");
    crate::io::atomic::write(&path, html.as_bytes())?;
    Ok(path)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A validated estimate for the table: `value ± error`, marked when the error is unreliable.
fn estimate_cell(e: &Estimate) -> String {
    let mut s = esc(&fmt_with_err(e.value, e.std_err));
    if e.std_err.is_finite() && !e.reliable {
        let why = if e.tau_int.is_finite() {
            format!(
                "τ_int ≈ {} states, {} blocks of {} states: too few for a reliable error; simulate longer or run more copies",
                fmt_sig(e.tau_int),
                e.blocks,
                e.block_len
            )
        } else {
            "written by an older oxgrad, before errors checked the autocorrelation time".into()
        };
        let _ = write!(s, r#" <span class="bad" title="{}">(unreliable error)</span>"#, esc(&why));
    }
    s
}

/// One series of a chart.
struct Series {
    name: String,
    colour: &'static str,
    points: Vec<(f64, f64)>,
    errors: Option<Vec<f64>>,
    width: f64,
    markers: bool,
}

/// "Nice" tick positions covering `lo..hi`.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    // also when either is NaN
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let start = (lo / step).ceil() * step;
    (0..=n * 3).map(|k| start + k as f64 * step).take_while(|t| *t <= hi + 1e-9 * step).collect()
}

/// A tick label: at most 6 significant digits, no trailing zeros.
fn tick_label(t: f64) -> String {
    if t.abs() < 1e-12 {
        return "0".into();
    }
    if t.abs() >= 1e-3 && t.abs() < 1e6 {
        let digits = (5 - t.abs().log10().floor() as i32).clamp(0, 12) as usize;
        let s = format!("{t:.digits$}");
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
        return s;
    }
    format!("{t:.2e}")
}

/// A padded range around finite values.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.08 * (hi - lo) } else { 0.05 * lo.abs().max(1e-3) };
    (lo - pad, hi + pad)
}

/// A line chart with optional error bars and horizontal reference lines, as an SVG element.
fn chart(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    hlines: &[(f64, String)],
    xr: (f64, f64),
    yr: Option<(f64, f64)>,
) -> String {
    let (w, h, ml, mr, mt, mb) = (860.0, 320.0, 80.0, 200.0, 36.0, 44.0);
    let (pw, ph) = (w - ml - mr, h - mt - mb);
    let (y0, y1) = yr.unwrap_or_else(|| {
        extent(
            series
                .iter()
                .flat_map(|s| {
                    s.points.iter().enumerate().flat_map(move |(k, p)| {
                        let e =
                            s.errors.as_ref().and_then(|e| e.get(k)).copied().filter(|e| e.is_finite()).unwrap_or(0.0);
                        [p.1 - e, p.1 + e]
                    })
                })
                .chain(hlines.iter().map(|h| h.0)),
        )
    });
    let (x0, x1) = xr;
    let sx = |x: f64| ml + (x - x0) / (x1 - x0).max(1e-300) * pw;
    let sy = |y: f64| mt + ph - (y - y0) / (y1 - y0).max(1e-300) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(s, r##"<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#888"/>"##);
    let _ = write!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
        ml + pw / 2.0,
        esc(title)
    );
    for t in ticks(y0, y1, 5) {
        let y = sy(t);
        let _ = write!(
            s,
            r##"<line x1="{ml}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>"##,
            ml + pw,
            ml - 6.0,
            y + 4.0,
            tick_label(t)
        );
    }
    for t in ticks(x0, x1, 8) {
        let x = sx(t);
        let _ = write!(
            s,
            r##"<line x1="{x}" x2="{x}" y1="{mt}" y2="{}" stroke="#eee"/><text x="{x}" y="{}" text-anchor="middle" font-size="12">{}</text>"##,
            mt + ph,
            mt + ph + 16.0,
            tick_label(t)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
        ml + pw / 2.0,
        h - 8.0,
        esc(xlabel)
    );
    let _ = write!(
        s,
        r#"<text x="16" y="{}" text-anchor="middle" font-size="13" transform="rotate(-90 16 {})">{}</text>"#,
        mt + ph / 2.0,
        mt + ph / 2.0,
        esc(ylabel)
    );
    for (v, label) in hlines {
        let y = sy(*v);
        let _ = write!(
            s,
            r##"<line x1="{ml}" x2="{}" y1="{y}" y2="{y}" stroke="#000" stroke-dasharray="6 4"/><text x="{}" y="{}" font-size="12">{}</text>"##,
            ml + pw,
            ml + pw + 6.0,
            y + 4.0,
            esc(label)
        );
    }
    // the first series is drawn last, on top; the legend lists the first twelve
    for (k, se) in series.iter().enumerate().rev() {
        let pts: Vec<(f64, f64, f64)> = se
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.1.is_finite())
            .map(|(i, p)| (p.0, p.1, se.errors.as_ref().and_then(|e| e.get(i)).copied().unwrap_or(f64::NAN)))
            .collect();
        if pts.len() > 1 {
            let path: Vec<String> = pts.iter().map(|p| format!("{:.2},{:.2}", sx(p.0), sy(p.1))).collect();
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{}" stroke-width="{}" points="{}"/>"#,
                se.colour,
                se.width,
                path.join(" ")
            );
        }
        for p in &pts {
            if p.2.is_finite() {
                let _ = write!(
                    s,
                    r#"<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="{3}" stroke-width="2"/>"#,
                    sx(p.0),
                    sy(p.1 - p.2),
                    sy(p.1 + p.2),
                    se.colour
                );
            }
            if se.markers {
                let _ = write!(
                    s,
                    r#"<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}: {}</title></circle>"#,
                    sx(p.0),
                    sy(p.1),
                    se.colour,
                    esc(&se.name),
                    fmt_with_err(p.1, p.2)
                );
            }
        }
        if k < 12 {
            let ly = mt + 14.0 + 18.0 * k as f64;
            let _ = write!(
                s,
                r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="3"/><text x="{}" y="{}" font-size="12">{}</text>"#,
                ml + pw + 10.0,
                ml + pw + 30.0,
                se.colour,
                ml + pw + 36.0,
                ly + 4.0,
                esc(&se.name)
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn steps_range(records: &[StepRecord]) -> (f64, f64) {
    (-0.5, records.last().map_or(1.0, |r| r.step as f64 + 0.5).max(1.5))
}

/// The task timeline: one row per worker, a bar per task.
fn timeline(records: &[StepRecord]) -> String {
    let tasks: Vec<&crate::optimize::TaskRun> = records.iter().flat_map(|r| &r.tasks).collect();
    if tasks.is_empty() {
        return "<p>No task timings recorded.</p>".into();
    }
    let t0 = tasks.iter().map(|t| t.start).fold(f64::INFINITY, f64::min);
    let t1 = tasks.iter().map(|t| t.end).fold(f64::NEG_INFINITY, f64::max);
    let mut workers: Vec<&str> = tasks.iter().map(|t| t.worker.as_str()).collect();
    workers.sort_unstable();
    workers.dedup();
    let (w, ml, mr, mt, row) = (860.0, 110.0, 20.0, 36.0, 28.0);
    let h = mt + row * workers.len() as f64 + 40.0;
    let pw = w - ml - mr;
    let sx = |t: f64| ml + (t - t0) / (t1 - t0).max(1e-9) * pw;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="task timeline">"#
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="16" font-weight="bold">tasks: which simulator and objective ran when, on which worker</text>"#,
        ml + pw / 2.0
    );
    for (i, wk) in workers.iter().enumerate() {
        let y = mt + row * i as f64;
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text><line x1="{ml}" x2="{}" y1="{}" y2="{}" stroke="#eee"/>"##,
            ml - 6.0,
            y + row / 2.0 + 4.0,
            esc(wk),
            ml + pw,
            y + row,
            y + row
        );
    }
    for t in ticks(0.0, t1 - t0, 8) {
        let x = sx(t0 + t);
        let _ = write!(
            s,
            r##"<line x1="{x}" x2="{x}" y1="{mt}" y2="{}" stroke="#eee"/><text x="{x}" y="{}" text-anchor="middle" font-size="12">{}</text>"##,
            h - 40.0,
            h - 24.0,
            tick_label(t)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">seconds since the first task</text>"#,
        ml + pw / 2.0,
        h - 6.0
    );
    for t in &tasks {
        let i = workers.iter().position(|w| *w == t.worker).unwrap_or(0);
        let y = mt + row * i as f64 + 4.0;
        let colour = match (t.ok, t.task.starts_with("simulator_run")) {
            (false, _) => "#d62728",
            (true, true) => "#1f77b4",
            (true, false) => "#ff7f0e",
        };
        let x = sx(t.start);
        let width = (sx(t.end) - x).max(1.5);
        let _ = write!(
            s,
            r##"<rect x="{x:.2}" y="{y}" width="{width:.2}" height="{}" fill="{colour}" stroke="#fff" stroke-width="0.5"><title>{} (step {}, {} attempt(s)): {:.2} s on {}; {} CPU, {} GPU, {} MB{}</title></rect>"##,
            row - 8.0,
            esc(&t.task),
            t.step,
            t.attempts,
            t.end - t.start,
            esc(&t.worker),
            t.cpus,
            t.gpus,
            t.mem_mb,
            t.peak_mem_mb.map_or_else(String::new, |m| format!(" (used at most {m:.0} MB)"))
                + &t.cpu_seconds.map_or_else(String::new, |c| format!(", {c:.2} CPU-seconds"))
        );
    }
    s.push_str("</svg>");
    s.push_str(r##"<p class="legend"><span style="color:#1f77b4">■</span> simulator run &nbsp; <span style="color:#ff7f0e">■</span> objective &nbsp; <span style="color:#d62728">■</span> failed (after retries). Hover a bar for the task, step, attempts and resources.</p>"##);
    s
}

/// What a run directory holds so far: its step records, validation and configuration. Read
/// anew for each report and for each refresh of the live dashboard ([`super::dashboard`]).
#[derive(Debug, Clone)]
pub struct RunView {
    /// The run directory.
    pub dir: PathBuf,
    /// `metrics.jsonl`: every evaluated step so far.
    pub records: Vec<StepRecord>,
    /// `validation.json` (empty until the validation has run).
    pub validation: Vec<ValidationRecord>,
    /// `config.toml` (empty when the run did not come from a configuration).
    pub config: String,
    /// The planned updates (`[optimizer] steps`), when the configuration names them.
    pub total_steps: Option<usize>,
}

impl RunView {
    /// Reads the run in `dir`, finished or still going; fails when `dir` holds no
    /// `metrics.jsonl`.
    pub fn load(dir: &Path) -> Result<RunView> {
        if !dir.join("metrics.jsonl").is_file() {
            return Err(Error::invalid(
                "run directory",
                dir.display(),
                "no metrics.jsonl: is this an oxgrad optimize run directory?",
            ));
        }
        let records = read_records(dir)?;
        let validation: Vec<ValidationRecord> = std::fs::read_to_string(dir.join("validation.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let config = std::fs::read_to_string(dir.join("config.toml")).unwrap_or_default();
        let total_steps: Option<usize> = config
            .lines()
            .skip_while(|l| l.trim() != "[optimizer]")
            .find_map(|l| l.trim().strip_prefix("steps = ").and_then(|v| v.trim().parse().ok()));
        Ok(RunView { dir: dir.to_path_buf(), records, validation, config, total_steps })
    }

    /// The run's name: its directory's.
    #[must_use]
    pub fn name(&self) -> String {
        self.dir.file_name().map_or_else(|| self.dir.display().to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// Where the run stands, in words: `in progress: 3 of 7 evaluations done`, …
    #[must_use]
    pub fn status(&self) -> String {
        let done = self.records.len();
        match (self.total_steps, self.validation.is_empty()) {
            (Some(n), true) if done <= n => format!("in progress: {done} of {} evaluations done", n + 1),
            (_, true) => format!("optimisation finished ({done} evaluations); no validation yet"),
            (_, false) => format!("finished: {done} evaluations and a validation"),
        }
    }

    /// The report's content below its title: status, summary, validation, charts of the loss,
    /// observables, parameters and n_eff, the task timeline and the configuration.
    #[must_use]
    pub fn sections(&self) -> String {
        let (records, validation) = (&self.records, &self.validation);
        let mut h = String::new();
        let _ = write!(h, "<p>{}</p>", esc(&self.status()));
        if records.is_empty() {
            h.push_str("<p>No step has finished yet.</p>");
            return h;
        }
        let done = records.len();
        let best = records
            .iter()
            .filter(|r| r.loss.is_finite())
            .min_by(|a, b| a.loss.total_cmp(&b.loss))
            .map_or(0, |r| r.step);
        let _ = write!(
            h,
            "<table><tr><th>initial loss</th><th>last loss</th><th>best step</th><th>steps evaluated</th></tr><tr><td>{}</td><td>{}</td><td>{best}</td><td>{done}</td></tr></table>",
            fmt_sig(records[0].loss),
            fmt_sig(records[done - 1].loss)
        );
        if !validation.is_empty() {
            h.push_str("<h2>Validation: fresh simulations</h2><table><tr><th>objective</th><th>observable</th><th>target</th><th>initial parameters</th><th>best parameters</th><th>distance covered</th><th>lengths</th></tr>");
            for v in validation {
                for (k, name) in v.observables.iter().enumerate() {
                    let (a, b, t) = (v.initial[k], v.best[k], v.targets[k]);
                    let share = ((a.value - t).abs() - (b.value - t).abs()) / (a.value - t).abs();
                    let class = if share >= 0.5 { "ok" } else { "bad" };
                    let share = if share.is_finite() { format!("{:.0} %", 100.0 * share) } else { "–".into() };
                    let _ = write!(
                        h,
                        r#"<tr><td>{}</td><td>{} [{}]</td><td>{}</td><td>{}</td><td>{}</td><td class="{class}">{share}</td><td>{} copies × {} steps</td></tr>"#,
                        esc(&v.objective),
                        esc(name),
                        esc(&v.units[k]),
                        fmt_sig(t),
                        estimate_cell(&a),
                        estimate_cell(&b),
                        v.copies,
                        v.md_steps
                    );
                }
            }
            h.push_str("</table>");
        }
        let xr = steps_range(records);
        h.push_str("<h2>Loss</h2>");
        let mut loss = vec![Series {
            name: "total".into(),
            colour: COLOURS[0],
            points: records.iter().map(|r| (r.step as f64, r.loss)).collect(),
            errors: None,
            width: 2.5,
            markers: true,
        }];
        if records[0].objectives.len() > 1 {
            for (k, name) in records[0].objectives.keys().enumerate() {
                loss.push(Series {
                    name: name.clone(),
                    colour: COLOURS[(k + 1) % COLOURS.len()],
                    points: records
                        .iter()
                        .map(|r| (r.step as f64, r.objectives.get(name).map_or(f64::NAN, |o| o.loss)))
                        .collect(),
                    errors: None,
                    width: 1.5,
                    markers: true,
                });
            }
        }
        h.push_str(&chart("loss at each evaluated step", "step", "loss", &loss, &[], xr, None));
        h.push_str("<h2>Observables</h2><p>Reweighted estimates ± block-jackknife standard error at each step; dashed: the target; triangles: the validation with the initial (step 0) and best parameters.</p>");
        for (obj, rec0) in &records[0].objectives {
            for (name, o0) in &rec0.observables {
                let get = |r: &StepRecord| r.objectives.get(obj).and_then(|o| o.observables.get(name)).cloned();
                let est = Series {
                    name: "estimate".into(),
                    colour: COLOURS[0],
                    points: records.iter().map(|r| (r.step as f64, get(r).map_or(f64::NAN, |o| o.value))).collect(),
                    errors: Some(records.iter().map(|r| get(r).map_or(f64::NAN, |o| o.std_err)).collect()),
                    width: 2.0,
                    markers: true,
                };
                let mut series = vec![est];
                if let Some(v) = validation.iter().find(|v| &v.objective == obj) {
                    if let Some(k) = v.observables.iter().position(|x| x == name) {
                        series.push(Series {
                            name: "validation".into(),
                            colour: COLOURS[1],
                            points: vec![(0.1, v.initial[k].value), (best as f64 + 0.1, v.best[k].value)],
                            errors: Some(vec![v.initial[k].std_err, v.best[k].std_err]),
                            width: 0.0,
                            markers: true,
                        });
                    }
                }
                let hl: Vec<(f64, String)> =
                    o0.target.map(|t| (t, format!("target {}", fmt_sig(t)))).into_iter().collect();
                h.push_str(&chart(&format!("{obj}: {name}"), "step", &o0.unit, &series, &hl, xr, None));
            }
        }
        h.push_str("<h2>Parameters</h2><p>Change from the initial value, θ − θ₀ (in the parameters' own units); the legend lists the parameters that moved most.</p>");
        let names: Vec<&String> = records[0].params.keys().collect();
        let change = |r: &StepRecord, n: &str| r.params.get(n).copied().unwrap_or(f64::NAN) - records[0].params[n];
        let mut moved: Vec<(&String, f64)> = names.iter().map(|n| (*n, change(&records[done - 1], n).abs())).collect();
        moved.sort_by(|a, b| b.1.total_cmp(&a.1));
        let params: Vec<Series> = moved
            .iter()
            .enumerate()
            .map(|(k, (n, _))| Series {
                name: (*n).clone(),
                colour: if k < COLOURS.len() { COLOURS[k] } else { "#bbbbbb" },
                points: records.iter().map(|r| (r.step as f64, change(r, n))).collect(),
                errors: None,
                width: if k < COLOURS.len() { 2.0 } else { 1.0 },
                markers: false,
            })
            .collect();
        h.push_str(&chart("trained parameters", "step", "θ − θ₀", &params, &[], xr, None));
        h.push_str("<h2>Effective sample size</h2>");
        let neff: Vec<Series> = records[0]
            .objectives
            .keys()
            .enumerate()
            .map(|(k, name)| Series {
                name: name.clone(),
                colour: COLOURS[k % COLOURS.len()],
                points: records
                    .iter()
                    .map(|r| (r.step as f64, r.objectives.get(name).map_or(f64::NAN, |o| o.n_eff)))
                    .collect(),
                errors: None,
                width: 2.0,
                markers: true,
            })
            .collect();
        h.push_str(&chart("normalised effective sample size", "step", "n_eff / N", &neff, &[], xr, Some((0.0, 1.05))));
        h.push_str("<h2>Timeline</h2>");
        h.push_str(&timeline(records));
        if !self.config.is_empty() {
            let _ = write!(h, "<h2>Configuration</h2><pre>{}</pre>", esc(&self.config));
        }
        h
    }
}

/// The report of the run in `dir` as HTML.
pub fn html(dir: &Path) -> Result<String> {
    let view = RunView::load(dir)?;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>oxgrad run {}</title><style>{STYLE}</style></head><body><h1>oxgrad run <code>{}</code></h1>"#,
        esc(&view.name()),
        esc(&dir.display().to_string())
    );
    h.push_str(&view.sections());
    // a check a headless browser can read back: how many charts were laid out with content
    h.push_str(
        r#"<script>window.addEventListener('load',function(){var s=document.querySelectorAll('svg.plot'),d=0;for(var i=0;i<s.length;i++){var b=s[i].getBBox();if(b.width>0&&b.height>0&&s[i].querySelectorAll('polyline,rect,circle').length>1)d++;}document.body.setAttribute('data-plots',s.length);document.body.setAttribute('data-drawn',d);});</script>"#,
    );
    h.push_str("</body></html>");
    Ok(h)
}

/// The report's style sheet (the dashboard's too).
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px} h1{font-size:22px} h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:4px 8px;text-align:right} th{background:#f3f3f3}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px} .ok{color:#2ca02c} .bad{color:#d62728} svg.plot{display:block;margin:8px 0}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_inside_the_range() {
        assert_eq!(ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        let t = ticks(10.31, 10.52, 5);
        assert!(t.iter().all(|x| (10.31..=10.52).contains(x)) && t.len() >= 4, "{t:?}");
        assert_eq!(
            [tick_label(5.0), tick_label(0.6000000000000001), tick_label(10.55), tick_label(-2.5e-5)],
            ["5", "0.6", "10.55", "-2.50e-5"]
        );
    }

    /// Estimates without an error (one state) print the value and why, never "NaN"; an
    /// unreliable error is marked.
    #[test]
    fn a_single_state_estimate_prints_no_nan() {
        use super::super::{ObjectiveRecord, ObservableRecord};
        use std::collections::BTreeMap;
        let dir = tempfile::tempdir().unwrap();
        let record = |step: usize, value: f64| StepRecord {
            step,
            loss: 0.04 - 0.01 * step as f64,
            objectives: BTreeMap::from([(
                "fit".to_string(),
                ObjectiveRecord {
                    loss: 0.04 - 0.01 * step as f64,
                    n_eff: 1.0,
                    observables: BTreeMap::from([(
                        "pitch".to_string(),
                        ObservableRecord { value, std_err: f64::NAN, unit: "bp/turn".into(), target: Some(10.5) },
                    )]),
                },
            )]),
            params: BTreeMap::from([("eps".to_string(), 1.0 + 0.1 * step as f64)]),
            grads: BTreeMap::from([("eps".to_string(), -0.1)]),
            seconds: 1.0,
            seeds: BTreeMap::new(),
            tasks: Vec::new(),
        };
        let lines: Vec<String> =
            [record(0, 10.3), record(1, 10.4)].iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        std::fs::write(dir.path().join("metrics.jsonl"), lines.join("\n")).unwrap();
        let one = Estimate {
            value: 10.35,
            std_err: f64::NAN,
            states: 1,
            blocks: 0,
            tau_int: f64::NAN,
            block_len: 0,
            reliable: false,
        };
        let short = Estimate {
            value: 10.49,
            std_err: 0.01,
            states: 40,
            blocks: 8,
            tau_int: 9.5,
            block_len: 5,
            reliable: false,
        };
        let v = ValidationRecord {
            objective: "fit".into(),
            observables: vec!["pitch".into()],
            units: vec!["bp/turn".into()],
            targets: vec![10.5],
            initial: vec![one],
            best: vec![short],
            md_steps: 1000,
            copies: 1,
            sample_every: 1000,
        };
        std::fs::write(dir.path().join("validation.json"), serde_json::to_string(&[v]).unwrap()).unwrap();
        let h = html(dir.path()).unwrap();
        assert!(!h.contains("NaN"), "{h}");
        assert!(h.contains("<td>10.350 (no error: fewer than 2 states)</td>"), "the validation table is missing");
        assert!(h.contains("<title>estimate: 10.300 (no error: fewer than 2 states)</title>"));
        assert!(h.contains(r#"10.490 ± 0.010000 <span class="bad" title="τ_int ≈ 9.5000 states, 8 blocks of 5 states"#));
    }
}
