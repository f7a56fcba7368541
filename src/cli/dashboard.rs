//! `oxgrad dashboard RUN_DIR`: the live dashboard ([`oxgrad::train::dashboard`]) of a run going
//! or finished, served until Ctrl-C.

use clap::Args;
use oxgrad::train::dashboard::{bind_address, Dashboard};
use oxgrad::train::report::RunView;
use oxgrad::Result;
use std::path::PathBuf;

/// Arguments of `oxgrad dashboard`.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// The run directory (of `oxgrad optimize`), going or finished.
    pub dir: PathBuf,
    /// Address to serve on (a bare port means 127.0.0.1; 0 picks a free port). Loopback only,
    /// unless --allow-remote; from a laptop: ssh -L 8265:localhost:8265 HOST.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8265")]
    pub bind: String,
    /// Serve on an address that is not loopback (anyone who reaches it can read the run).
    #[arg(long)]
    pub allow_remote: bool,
}

pub fn dashboard(a: &DashboardArgs) -> Result<()> {
    RunView::load(&a.dir)?; // a run directory, not a typo
    let addr = bind_address(&a.bind, a.allow_remote, "--bind", "--allow-remote")?;
    let d = Dashboard::serve(&a.dir, addr, a.allow_remote)?;
    let port = d.addr().port();
    crate::cli::print_line(&format!(
        "dashboard of {} at {} (read-only; from another machine: ssh -L {port}:localhost:{port} THIS_HOST; Ctrl-C ends it)",
        a.dir.display(),
        d.url()
    ))?;
    loop {
        // the server's threads do the work; Ctrl-C ends the process
        std::thread::park();
    }
}
