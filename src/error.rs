//! The one error type of oxgrad.
//!
//! Every variant carries what a user needs to act on it: the file and line of a parse error
//! together with what was expected and what was found, the parameter name and its closest valid
//! spellings, the setting and a hint on how to fix it. No input makes oxgrad panic; every
//! failure surfaces as one of these values.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias used throughout oxgrad.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a parse error happened: a file (or an in-memory source such as `<stdin>`), and a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (or a label such as `<string>` for in-memory input).
    pub source: PathBuf,
    /// One-based line number; 0 when the error concerns the whole file (e.g. it is empty).
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.source.display())
        } else {
            write!(f, "{}:{}", self.source.display(), self.line)
        }
    }
}

/// All errors oxgrad reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Malformed input: the file, the line, what was expected and what was found.
    #[error("{at}: expected {expected}, found {found}")]
    Parse {
        /// File and line.
        at: Location,
        /// What the parser needed at this point.
        expected: String,
        /// What it found instead (quoted where it is text from the file).
        found: String,
    },

    /// A file could not be opened, read or written.
    #[error("cannot {action} '{}': {source}", path.display())]
    Io {
        /// What was attempted ("read", "create", ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// A configuration file entry that is missing, unknown or out of its domain: the file and
    /// line, the key (as a dotted path) and how to fix it.
    #[error("{at}: {key}: {msg}")]
    Config {
        /// File and line.
        at: Location,
        /// The key, e.g. `objective[0].observable.kind`.
        key: String,
        /// What is wrong and how to fix it.
        msg: String,
    },

    /// A setting outside its domain, with a hint on valid values.
    #[error("invalid {what} = {value}: {hint}")]
    InvalidSetting {
        /// The setting's name.
        what: String,
        /// The offending value, as given.
        value: String,
        /// How to fix it.
        hint: String,
    },

    /// An optimization that cannot run as configured (no objective, no simulator, no
    /// aggregation, clashing names, an observable no simulator exposes): mythos' messages.
    #[error("invalid optimization: {msg}")]
    Optimization {
        /// What is wrong and how to fix it.
        msg: String,
    },

    /// A broken internal invariant: an executor asked for a job it never ran, a result of the
    /// wrong kind, a value that cannot be serialised. A bug in oxgrad, or in code that drives the
    /// low-level executor API directly: please report it with what led to it.
    #[error("internal error: {what} (a bug: please report it with the command or program that led here)")]
    Internal {
        /// What went wrong.
        what: String,
    },

    /// A required key is missing from an input file or configuration.
    #[error("{source_name}: missing required key '{key}': {hint}")]
    MissingKey {
        /// The input file (or configuration) that lacks the key.
        source_name: String,
        /// The key.
        key: String,
        /// What it is for and what to put there.
        hint: String,
    },

    /// A parameter name that no parameter set knows.
    #[error("unknown parameter '{name}'{}", suggest(suggestions))]
    UnknownParameter {
        /// The name as given.
        name: String,
        /// The closest valid names, best first.
        suggestions: Vec<String>,
    },

    /// A parameter expression (e.g. `"pi - 2.35"`) that cannot be evaluated.
    #[error("cannot evaluate parameter '{name}' = \"{expr}\": {msg}")]
    Expression {
        /// The parameter.
        name: String,
        /// The expression text.
        expr: String,
        /// What is wrong with it.
        msg: String,
    },

    /// A simulator or objective task failed on every attempt its hints allow.
    #[error("task '{task}' failed after {attempts} attempt(s): {source}")]
    TaskFailed {
        /// `simulator_run:NAME` or `objective_compute:NAME`.
        task: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure, with its own causes ([`std::error::Error::source`]).
        #[source]
        source: Box<Error>,
    },

    /// The node a task ran on was lost (its Slurm state DOWN, FAIL or NOT_RESPONDING): the pool
    /// places the task on another node of the allocation; this is the task's end only when no node
    /// that can hold it is left.
    #[error("node {node} was lost while it ran task '{task}' (Slurm shows it {state}){}", if let Some(w) = why_not_elsewhere { format!(", and the task cannot run elsewhere: {w}") } else { String::new() })]
    NodeLost {
        /// The node's name.
        node: String,
        /// `simulator_run:NAME` or `objective_compute:NAME`.
        task: String,
        /// Its state, as `scontrol show node` gives it (`DOWN+NOT_RESPONDING`).
        state: String,
        /// Why no other node could take the task, when none could.
        why_not_elsewhere: Option<String>,
    },

    /// An external program (oxDNA, a user's simulator) that could not be started or failed:
    /// which program, how it ended and the end of what it printed.
    #[error("'{program}' {detail}")]
    External {
        /// The program as it was called.
        program: String,
        /// How it failed ("exited with status 1: …", "could not be started: …") and what to do.
        detail: String,
    },

    /// A task's worker process (process pool, Slurm step) that failed or died: how it ended and
    /// the last lines of its stderr.
    #[error("worker process {how}{}", stderr_tail_text(stderr_tail))]
    Worker {
        /// How it ended ("(pid 12) was killed by signal 9 (SIGKILL: …)", "(pid 12) failed: …").
        how: String,
        /// The last lines of its stderr ("" when it printed nothing).
        stderr_tail: String,
    },

    /// Code that panicked where oxgrad caught it (a user's component in a task); the message is
    /// the panic's.
    #[error("panicked: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },

    /// An error from a user's own code (a custom simulator, objective, observable, loss or
    /// energy term), kept whole: its type, message and causes ([`Error::user`]).
    #[error("{0}")]
    User(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),

    /// A task that can never run on the executor (it asks for more than exists).
    #[error("task '{task}' cannot run: {reason}")]
    TaskRefused {
        /// The task.
        task: String,
        /// Why, and what to change.
        reason: String,
    },

    /// An objective stayed "not ready" for every call a step allows.
    #[error("Objective {name} could not be resolved after multiple attempts (still missing: {missing:?})")]
    ObjectiveUnresolved {
        /// The objective.
        name: String,
        /// What it last asked to refresh.
        missing: Vec<String>,
    },

    /// A gradient that is NaN or infinite.
    #[error("NaN or Inf detected in gradients at step {step} (parameter '{param}' = {value}). Is your learning rate too high?")]
    NonFiniteGradient {
        /// The step.
        step: usize,
        /// The first offending parameter.
        param: String,
        /// Its gradient.
        value: f64,
    },

    /// A simulation that blew up: a backbone bond stretched to FENE's divergence or a
    /// non-finite energy. What happened, where, and how to fix it.
    #[error("the simulation became unstable at step {step}: {detail}")]
    Unstable {
        /// The step.
        step: u64,
        /// The nucleotides and quantities involved, and what to change.
        detail: String,
    },

    /// Work abandoned because a stop was requested ([`crate::optimize::stop_flag`]): a
    /// simulation in the middle of its steps. The run that started it reports
    /// [`Error::Interrupted`] with what was saved.
    #[error("stopped on request during {what}")]
    Stopped {
        /// What was stopped.
        what: String,
    },

    /// A run stopped by a signal (Ctrl-C, SIGTERM) after committing its last complete step.
    #[error("interrupted after step {step}: everything up to it is saved in {}; continue with: {resume}", dir.display())]
    Interrupted {
        /// The last step completed: an optimisation step's index (as in metrics.jsonl), an MD step number.
        step: usize,
        /// Where the state is saved: the run directory, or an MD run's last configuration.
        dir: PathBuf,
        /// The command that continues the run.
        resume: String,
    },

    /// Two inputs that must agree do not (e.g. topology and configuration sizes).
    #[error("{what}: {detail}")]
    Mismatch {
        /// What is being compared.
        what: String,
        /// The two sides and how to reconcile them.
        detail: String,
    },
}

fn stderr_tail_text(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!("; the end of its stderr:\n{}", tail.lines().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n"))
    }
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", "))
    }
}

impl Error {
    /// A parse error at `source:line`.
    pub fn parse(source: &Path, line: usize, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Error::Parse {
            at: Location { source: source.to_path_buf(), line },
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io { action, path: path.to_path_buf(), source }
    }

    /// An invalid setting with a hint.
    pub fn invalid(what: impl Into<String>, value: impl fmt::Display, hint: impl Into<String>) -> Self {
        Error::InvalidSetting { what: what.into(), value: value.to_string(), hint: hint.into() }
    }

    /// Wraps an error of a user's own type ([`Error::User`]); its message and causes are kept.
    ///
    /// ```
    /// #[derive(Debug)]
    /// struct LabDataMissing;
    /// impl std::fmt::Display for LabDataMissing {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("no melting curve for this sequence")
    ///     }
    /// }
    /// impl std::error::Error for LabDataMissing {}
    ///
    /// let e = oxgrad::Error::user(LabDataMissing);
    /// assert_eq!(e.to_string(), "no melting curve for this sequence");
    /// let inner = std::error::Error::source(&e).unwrap();
    /// assert!(inner.downcast_ref::<LabDataMissing>().is_some());
    /// ```
    pub fn user(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::User(Box::new(error))
    }

    /// A broken internal invariant ([`Error::Internal`]).
    pub fn internal(what: impl Into<String>) -> Self {
        Error::Internal { what: what.into() }
    }

    /// Two inputs that disagree.
    pub fn mismatch(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Mismatch { what: what.into(), detail: detail.into() }
    }
}

/// Quote a piece of input text for an error message, shortened to a readable length.
pub(crate) fn quoted(text: &str) -> String {
    const MAX: usize = 60;
    let t = text.trim_end_matches(['\r', '\n']);
    if t.chars().count() > MAX {
        format!("'{}…'", t.chars().take(MAX).collect::<String>())
    } else {
        format!("'{t}'")
    }
}
