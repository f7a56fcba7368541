//! `oxgrad report DIR`: `DIR/report.html`, one self-contained page about a run.

use clap::Args;
use oxgrad::Result;
use std::path::PathBuf;

/// Arguments of `oxgrad report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run directory (of `oxgrad optimize`), finished or still running.
    pub dir: PathBuf,
}

pub fn report(a: &ReportArgs) -> Result<()> {
    let path = oxgrad::train::report::write(&a.dir)?;
    crate::cli::print_line(&format!("wrote {} (open it in a browser; it needs no network)", path.display()))
}
