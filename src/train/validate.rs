//! Validation: fresh, independent simulations with given parameters, and each observable's plain
//! (unweighted) average with its standard error (or, for a quantity of whole runs such as a
//! melting temperature, its own [`Observable::estimate_runs`]) — the check that a fit holds up, independent of
//! the reweighted estimates the optimizer steered by. The error is a block jackknife over blocks
//! of ten integrated autocorrelation times within each copy, or over the copies themselves
//! ([`crate::observable::stats`]); an error that cannot be trusted is logged as a warning.

use crate::error::{Error, Result};
use crate::observable::stats::{estimate, fmt_sig, Estimate};
use crate::observable::{feature_table, Observable, Reducer};
use crate::params::ParamSet;
use crate::simulate::native::derive_seed;
use crate::simulate::NativeSimulator;
use crate::trajectory::Trajectory;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a validation measures: one system, its observables, and how long to simulate it.
#[derive(Clone)]
pub struct Validation {
    /// The simulators (MD settings and sampling) whose system is re-simulated: usually one; one
    /// per pulling force for a modulus, whose states tell their runs apart by metadata.
    pub simulators: Vec<NativeSimulator>,
    /// Independent copies per parameter set and simulator.
    pub copies: usize,
    /// Master seed: copy k runs with a seed derived from it and k (the same for every
    /// parameter set, so differences between sets are not seed noise).
    pub seed: u64,
    /// The observables.
    pub observables: Vec<Arc<dyn Observable>>,
}

/// The validated estimate of each observable, in order.
pub type Validated = Vec<Estimate>;

impl Validation {
    /// Simulates every parameter set in `sets` (`copies` runs of each simulator, on up to
    /// `threads` threads) and returns, per set, each observable's estimate.
    pub fn run(&self, sets: &[&ParamSet], threads: usize) -> Result<Vec<Validated>> {
        let runs = self.copies * self.simulators.len();
        let jobs: Vec<(usize, usize)> = (0..sets.len()).flat_map(|s| (0..runs).map(move |c| (s, c))).collect();
        let results: Mutex<Vec<Option<Result<Trajectory>>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads.clamp(1, jobs.len().max(1)) {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(s, c)) = jobs.get(k) else { break };
                    // copy c of simulator k: the first simulator's seeds are those of a
                    // validation with one simulator; the others' differ, so that runs at other
                    // forces are independent of it (copies are the units of their errors)
                    let (sim, c) = (c / self.copies, c % self.copies);
                    let tag = if sim == 0 { format!("validation.{c}") } else { format!("validation.{sim}.{c}") };
                    let seed = derive_seed(self.seed, &tag, 0);
                    let out = self.simulators[sim].run_with(sets[s], seed);
                    if let Ok(mut r) = results.lock() {
                        r[k] = Some(out);
                    }
                });
            }
        });
        let mut results = results.into_inner().map_err(|_| Error::internal("a validation thread panicked"))?;
        let mut out = Vec::new();
        for (s, set) in sets.iter().enumerate() {
            let mut trajs = Vec::new();
            for c in 0..runs {
                let k = s * runs + c;
                let t = results[k].take().ok_or_else(|| Error::internal("a validation run did not finish"))??;
                trajs.push(t);
            }
            out.push(self.estimates(&trajs, set)?);
        }
        Ok(out)
    }

    /// Each observable's plain average over independent trajectories, with its error; a warning
    /// names each observable whose error is not [reliable](Estimate::reliable).
    pub fn estimates(&self, trajs: &[Trajectory], params: &ParamSet) -> Result<Validated> {
        let segments: Vec<usize> = trajs.iter().map(Trajectory::len).collect();
        let joined = Trajectory::concat(trajs)?;
        let n = joined.len().max(1);
        let w = vec![1.0 / n as f64; joined.len()];
        let reducer = Reducer::new(params);
        self.observables
            .iter()
            .map(|o| {
                let e = match o.estimate_runs(trajs, params) {
                    Some(e) => e?,
                    None => estimate(o.as_ref(), &reducer, &feature_table(o.as_ref(), &joined)?, &w, &segments),
                };
                if !e.reliable {
                    tracing::warn!(
                        "validation: the standard error of '{}' is unreliable ({} states in {} copies, τ_int ≈ {} states, {} blocks of {}): simulate longer ([validation] md_steps) or run more copies",
                        o.name(),
                        e.states,
                        trajs.len(),
                        fmt_sig(e.tau_int),
                        e.blocks,
                        e.block_len
                    );
                }
                Ok(e)
            })
            .collect()
    }
}
