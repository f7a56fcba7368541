//! One run loop for the library's optimisation and for training runs: an observer stops either
//! early, and a non-finite gradient ends either with the same error (the one NaN policy).

use oxgrad::optimize::*;
use oxgrad::params::{ParamGrads, ParamSet};
use oxgrad::train::{ObjectiveInfo, RunOptions, Training};
use std::path::Path;
use std::sync::atomic::AtomicBool;

const NAME: &str = "eps_stack_base";

/// Its observable is 2θ (θ = `eps_stack_base`).
struct Double;

impl Simulator for Double {
    fn name(&self) -> &str {
        "double"
    }
    fn kind(&self) -> &str {
        "Analytic"
    }
    fn produces(&self) -> Vec<String> {
        vec!["value".into()]
    }
    fn run(&self, _: &TaskContext, p: &Params, _: &State) -> oxgrad::Result<SimOutput> {
        Ok(SimOutput { observables: vec![Observation::Scalar(2.0 * p[NAME])], state: State::new() })
    }
}

/// Loss (2θ − 3)², or a gradient of `bad` when `bad` is not finite.
fn optimization(bad: f64) -> Optimization {
    let id = ObservableId::new("value", "Analytic", "double");
    let fit = GenericObjective::new("fit", vec![id], move |obs, _| {
        let x = obs[0].as_scalar().unwrap();
        let g = if bad.is_finite() { 4.0 * (x - 3.0) } else { bad };
        let reported = [
            ("loss".to_string(), Observation::Scalar((x - 3.0).powi(2))),
            ("neff".to_string(), Observation::Scalar(1.0)),
        ]
        .into();
        Ok((ParamGrads([(NAME.to_string(), g)].into()), reported))
    })
    .resimulate_each_step();
    Optimization::new(UpdateRule::sgd(0.01).unwrap()).simulator(Double).objective(fit).aggregate(Aggregate::Passthrough)
}

fn start() -> Params {
    [(NAME.to_string(), 1.0)].into()
}

fn training(opt: Optimization, steps: usize) -> Training {
    let info =
        ObjectiveInfo { name: "fit".into(), observables: vec![], targets: vec![], weight: 1.0, validation: None };
    Training::new(opt, ParamSet::dna1_defaults(), start(), steps).objective(info)
}

fn options(resume: bool) -> RunOptions {
    RunOptions { resume, stop: Some(std::sync::Arc::new(AtomicBool::new(false))), ..RunOptions::default() }
}

fn lines(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap().lines().count()
}

/// Asks to stop after step `after`; counts the steps it saw.
struct StopAfter {
    after: usize,
    seen: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
}

impl StopAfter {
    fn new(after: usize) -> StopAfter {
        StopAfter { after, seen: Default::default() }
    }
}

impl Observer for StopAfter {
    fn on_step(&mut self, step: &mut Step<'_>) -> oxgrad::Result<Control> {
        self.seen.lock().unwrap().push(step.index);
        Ok(if step.index >= self.after { Control::Stop } else { Control::Continue })
    }
}

#[test]
fn an_observer_stops_an_optimization_early() {
    let stop = StopAfter::new(1);
    let seen = stop.seen.clone();
    let r = optimization(0.0).observe(stop).run(start(), 10, None).unwrap();
    assert_eq!(r.termination, Termination::EarlyStop);
    assert_eq!(r.steps, 2);
    assert_eq!(*seen.lock().unwrap(), [0, 1]);
    assert_eq!(r.params, r.last.params, "the parameters after the last update");
}

#[test]
fn an_observer_stops_a_training_run_early_and_the_run_finishes() {
    let d = tempfile::tempdir().unwrap();
    let stop = StopAfter::new(1);
    let seen = stop.seen.clone();
    let summary = training(optimization(0.0), 10).observe(stop).run(d.path(), &options(false)).unwrap();
    // updates at steps 0 and 1, then the evaluation of the parameters they reached
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2]);
    assert_eq!(summary.steps, 2);
    assert_eq!(summary.records.len(), 3);
    assert_eq!(summary.records[2].params, summary.params, "the final parameters were evaluated");
    assert_eq!(summary.final_loss, summary.records[2].loss);
    assert_eq!(lines(d.path()), 3);
    assert!(d.path().join("params_final.toml").is_file() && d.path().join("report.html").is_file());
    // resumed (without the observer), the run is the one that stopped: nothing more runs
    let again = training(optimization(0.0), 10).run(d.path(), &options(true)).unwrap();
    assert_eq!(again.steps, 2);
    assert_eq!(again.params, summary.params);
    assert_eq!(lines(d.path()), 3);
}

#[test]
fn a_non_finite_gradient_ends_both_with_the_same_error() {
    let message = "NaN or Inf detected in gradients at step 0 (parameter 'eps_stack_base' = NaN). Is your learning rate too high?";
    let e = optimization(f64::NAN).run(start(), 3, None).unwrap_err();
    assert_eq!(e.to_string(), message);
    // a callback (or observer) that stops the run does not get it past the policy
    let mut stop = |_: &StepOutput, _| (None, false);
    let e = optimization(f64::NAN).run(start(), 3, Some(&mut stop)).unwrap_err();
    assert_eq!(e.to_string(), message);
    let e = optimization(f64::NAN).observe(StopAfter::new(0)).run(start(), 3, None).unwrap_err();
    assert_eq!(e.to_string(), message);

    let d = tempfile::tempdir().unwrap();
    let e = training(optimization(f64::NAN), 3).run(d.path(), &options(false)).unwrap_err();
    assert_eq!(e.to_string(), message);
    assert_eq!(lines(d.path()), 0, "the step is not committed");
    assert!(!d.path().join("checkpoint.json").exists());
}

#[test]
fn an_observer_edits_the_output_a_training_run_continues_from() {
    // a Training observer edits the step: the run continues from, records and commits the edit
    struct Reset;
    impl Observer for Reset {
        fn on_step(&mut self, step: &mut Step<'_>) -> oxgrad::Result<Control> {
            if step.update {
                step.output.params.insert(NAME.into(), 1.5);
            }
            Ok(Control::Continue)
        }
    }
    let d = tempfile::tempdir().unwrap();
    let summary = training(optimization(0.0), 2).observe(Reset).run(d.path(), &options(false)).unwrap();
    let evaluated: Vec<f64> = summary.records.iter().map(|r| r.params[NAME]).collect();
    assert_eq!(evaluated, [1.0, 1.5, 1.5]);
    assert_eq!(summary.params[NAME], 1.5);
}
