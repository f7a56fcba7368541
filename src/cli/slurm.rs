//! `oxgrad slurm-script CONFIG`: an `sbatch` script that runs `oxgrad optimize CONFIG` as the
//! driver of a Slurm job whose tasks are job steps (`[executor] kind = "slurm"`). The job asks
//! for as many CPUs as the configuration's simulator copies can use at once (each copy's
//! `num_cpus` hint, default 1) and at least what its largest objective asks for; likewise GPUs
//! (whole GPUs per step: a `num_gpus = 0.5` step gets one), unless `[executor] gpus` names them.
//! On `N` nodes (`[executor] nodes`, or `--nodes N`) these are spread evenly, each node with at
//! least what the largest task needs (a step never spans nodes): `--nodes=N
//! --ntasks-per-node=1 --cpus-per-task=<per node> --gpus-per-node=<per node>`, and `--no-kill`
//! so that the job outlives a lost node (its tasks go to the others).

use clap::Args;
use oxgrad::config::ConfigFile;
use oxgrad::{Error, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `oxgrad slurm-script`.
#[derive(Debug, Args)]
pub struct SlurmScriptArgs {
    /// The training configuration; its `[executor] kind` must be "slurm".
    pub config: PathBuf,
    /// Run directory of the optimization (as `oxgrad optimize -o`).
    #[arg(long, short, default_value = "oxgrad-run")]
    pub output: PathBuf,
    /// Nodes of the job (default: `[executor] nodes`, else 1).
    #[arg(long)]
    pub nodes: Option<u32>,
    /// CPUs of the job, all nodes together (default: what the simulator copies use at once).
    #[arg(long)]
    pub cpus: Option<u32>,
    /// GPUs of the job (`--gpus`; default: `[executor] gpus`, else what the simulator copies use
    /// at once, a whole GPU per step that asks for any).
    #[arg(long)]
    pub gpus: Option<u32>,
    /// Memory per CPU, MB (raised so that a node holds the largest `mem_mb` hint).
    #[arg(long, default_value_t = 2000)]
    pub mem_per_cpu: u64,
    /// Wall-clock limit (`--time`), e.g. 02:00:00.
    #[arg(long)]
    pub time: Option<String>,
    /// Partition (`--partition`).
    #[arg(long)]
    pub partition: Option<String>,
    /// Account (`--account`).
    #[arg(long)]
    pub account: Option<String>,
    /// Any other sbatch option, verbatim, e.g. `--sbatch-option=--qos=high` (repeatable).
    #[arg(long = "sbatch-option", value_name = "OPTION", allow_hyphen_values = true)]
    pub sbatch_options: Vec<String>,
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io("find the absolute path of", p, e))
}

/// Quotes `s` for bash.
fn sh(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn slurm_script(a: &SlurmScriptArgs) -> Result<()> {
    let file = ConfigFile::read(&a.config)?;
    if !matches!(file.config.executor, oxgrad::config::ExecutorConfig::Slurm(_)) {
        return Err(file.error(
            "executor.kind",
            format!(
                "is \"{}\": a Slurm job runs its tasks as job steps only with kind = \"slurm\"; set it under [executor]",
                file.config.executor.kind()
            ),
        ));
    }
    let plan = file.build()?; // every file the run needs is checked now, not after queueing
    let sims: u32 = plan.simulators.iter().flat_map(|s| s.simulators()).map(|s| s.hints().num_cpus.unwrap_or(1)).sum();
    let objectives = plan.objectives.iter().map(|o| o.objective.objective().hints().num_cpus.unwrap_or(1));
    let cpus = a.cpus.unwrap_or_else(|| sims.max(objectives.max().unwrap_or(1)).max(1));
    // a step gets whole GPUs
    let whole = |h: &oxgrad::optimize::SchedulerHints| h.num_gpus.map_or(0, |g| g.max(0.0).ceil() as u32);
    let sim_gpus: u32 = plan.simulators.iter().flat_map(|s| s.simulators()).map(|s| whole(s.hints())).sum();
    let obj_gpus = plan.objectives.iter().map(|o| whole(o.objective.objective().hints())).max().unwrap_or(0);
    let gpus =
        a.gpus.or_else(|| plan.file.config.executor.gpus().map(|g| g as u32)).unwrap_or_else(|| sim_gpus.max(obj_gpus));
    let configured = match &plan.file.config.executor {
        oxgrad::config::ExecutorConfig::Slurm(e) => e.nodes,
        _ => None,
    };
    let nodes = a.nodes.or(configured).unwrap_or(1);
    if nodes == 0 {
        return Err(Error::invalid("--nodes", "0", "a job needs at least one node: give --nodes 1 or more"));
    }
    if nodes > 1 && a.gpus.is_none() && plan.file.config.executor.gpus().is_some() {
        return Err(plan.file.error(
            "executor.gpus",
            format!(
                "names the GPUs of one machine, and the job asks for {nodes} nodes: remove the key (each node's GPUs are those Slurm gives the job there), or give slurm-script --gpus N for the whole job"
            ),
        ));
    }
    // per node: an even share, and at least what the largest task needs (a step never spans nodes)
    let hints = || {
        let sims = plan.simulators.iter().flat_map(|s| s.simulators()).map(|s| s.hints().clone());
        sims.chain(plan.objectives.iter().map(|o| o.objective.objective().hints().clone())).collect::<Vec<_>>()
    };
    let largest_cpus = hints().iter().map(|h| h.num_cpus.unwrap_or(1)).max().unwrap_or(1);
    let largest_gpus = hints().iter().map(whole).max().unwrap_or(0);
    let largest_mem = hints().iter().filter_map(|h| h.mem_mb).max().unwrap_or(0);
    let cpus_per_node = cpus.div_ceil(nodes).max(largest_cpus).max(1);
    let gpus_per_node = if gpus == 0 { 0 } else { gpus.div_ceil(nodes).max(largest_gpus) };
    let mem_per_cpu = a.mem_per_cpu.max(largest_mem.div_ceil(u64::from(cpus_per_node)));
    let exe = std::env::current_exe().map_err(|e| Error::io("find the running program", Path::new("oxgrad"), e))?;
    let config = absolute(&a.config)?;
    let output = absolute(&a.output)?;
    let workdir = std::env::current_dir().map_err(|e| Error::io("find the current directory", Path::new("."), e))?;
    let stem = a.config.file_stem().map_or("run".into(), |s| s.to_string_lossy().into_owned());
    let mut s = String::new();
    let _ = writeln!(s, "#!/bin/bash");
    let _ = writeln!(s, "# written by `oxgrad slurm-script {}`; submit with: sbatch THIS_FILE", a.config.display());
    let _ = writeln!(s, "# The job runs the optimization's driver; each simulator and objective task is a job step");
    let _ = writeln!(s, "# (srun --exact) on one node of the allocation, retried as its hints say; the run directory,");
    let _ = writeln!(
        s,
        "# the spool directory and the configuration's input files must be on a file system every node sees."
    );
    let _ = writeln!(s, "#SBATCH --job-name={}", sh(&format!("oxgrad-{stem}")));
    let _ = writeln!(s, "#SBATCH --nodes={nodes}");
    if nodes == 1 {
        let _ = writeln!(s, "#SBATCH --ntasks=1");
    } else {
        let _ = writeln!(s, "#SBATCH --ntasks-per-node=1");
        // a lost node ends only its own steps: they run again on the others
        let _ = writeln!(s, "#SBATCH --no-kill");
    }
    let _ = writeln!(s, "#SBATCH --cpus-per-task={cpus_per_node}");
    let _ = writeln!(s, "#SBATCH --mem-per-cpu={mem_per_cpu}M");
    match (gpus_per_node, nodes) {
        (0, _) => {}
        (g, 1) => {
            let _ = writeln!(s, "#SBATCH --gpus={g}");
        }
        (g, _) => {
            let _ = writeln!(s, "#SBATCH --gpus-per-node={g}");
        }
    }
    let _ =
        writeln!(s, "#SBATCH --output={}", sh(&workdir.join(format!("oxgrad-{stem}-%j.log")).display().to_string()));
    for (flag, v) in [("time", &a.time), ("partition", &a.partition), ("account", &a.account)] {
        if let Some(v) = v {
            let _ = writeln!(s, "#SBATCH --{flag}={}", sh(v));
        }
    }
    for o in &a.sbatch_options {
        let _ = writeln!(s, "#SBATCH {o}");
    }
    let _ = writeln!(s, "set -euo pipefail");
    let _ = writeln!(s, "cd {}", sh(&workdir.display().to_string()));
    let _ = writeln!(
        s,
        "exec {} optimize {} --output {}",
        sh(&exe.display().to_string()),
        sh(&config.display().to_string()),
        sh(&output.display().to_string())
    );
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes()).and_then(|()| out.flush()).map_err(|e| Error::io("write", Path::new("<stdout>"), e))
}
