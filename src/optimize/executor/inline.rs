//! The in-process executor: each job runs in the driver's thread when the scheduler waits for it.
//! No pool, no threads; the semantics (retries, hints' environment, spans) are the pool's.

use super::{Executor, Finished, Job, Registry};
use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::sync::Arc;

/// Runs jobs one at a time in the calling thread.
#[derive(Default)]
pub struct Inline {
    registry: Option<Arc<Registry>>,
    queue: VecDeque<Job>,
}

impl Inline {
    /// A new in-process executor.
    #[must_use]
    pub fn new() -> Inline {
        Inline::default()
    }
}

impl Executor for Inline {
    fn engine(&self) -> &'static str {
        "local"
    }

    fn start(&mut self, registry: Arc<Registry>) -> Result<()> {
        self.registry = Some(registry);
        Ok(())
    }

    fn submit(&mut self, job: Job) -> Result<()> {
        self.queue.push_back(job);
        Ok(())
    }

    fn wait_any(&mut self) -> Result<Finished> {
        let job = self.queue.pop_front().ok_or_else(|| {
            Error::internal("wait on the inline executor with no job submitted: submit a job before waiting")
        })?;
        let reg = self
            .registry
            .as_ref()
            .ok_or_else(|| Error::internal("the inline executor was not started: call start first"))?;
        let env = super::pool::task_env(&job, &[], &[]);
        Ok(reg.run_timed(&job, &env, "inline"))
    }
}
