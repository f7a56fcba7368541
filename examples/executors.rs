//! One small DiffTRe optimization (fixed seeds) on the executor named on the command line:
//!
//! ```sh
//! cargo run --release --example executors -- --executor thread     # threads of this process
//! cargo run --release --example executors -- --executor process    # worker processes
//! salloc -c2 --mem=2G target/release/examples/executors --executor slurm   # job steps
//! ```
//!
//! The optimization is built once from a configuration (two native-MD copies of an 8-bp duplex
//! fitted to a rise of 0.36 nm); the executor is one builder call. With the process and Slurm
//! executors this program is also the worker: the pool starts it again with the same arguments,
//! and when it reaches `run` it runs one task instead of the optimization
//! (`oxgrad::optimize::executor::worker`). The last line printed is the final parameters as one
//! JSON object, identical on every executor.

use oxgrad::config::ConfigFile;
use oxgrad::optimize::{Executor, Inline, LocalPool, ProcessPool};
use std::path::Path;

const CONFIG: &str = r#"
[model]
kind = "dna1"
temperature = "300K"

[optimizer]
learning_rate = 2e-3
steps = 3
train = ["Stacking"]

[[simulator]]
name = "duplex"
kind = "native"
copies = 2
duplex = "ACGTTGCA"
md_steps = 3000
sample_every = 100
equilibration_steps = 500
seed = 7

[[objective]]
name = "rise"
simulators = ["duplex"]
observable = { kind = "rise", exclude_end_pairs = 1 }
target = 0.36
"#;

fn main() -> oxgrad::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let kind = match args.iter().position(|a| a == "--executor") {
        Some(i) => args.get(i + 1).map_or("", String::as_str),
        None => "thread",
    };
    let executor: Box<dyn Executor> = match kind {
        "inline" => Box::new(Inline::new()),
        "thread" => Box::new(LocalPool::with_cpus(2)),
        "process" => Box::new(ProcessPool::with_cpus(2)?),
        "slurm" => Box::new(ProcessPool::slurm()?),
        other => {
            return Err(oxgrad::Error::invalid("--executor", other, "use thread, process, slurm (or inline)"));
        }
    };
    let plan = ConfigFile::parse(CONFIG, Path::new("examples/executors.rs"))?.build()?;
    let result = plan.optimization()?.executor(executor).run(plan.start(), plan.steps, None)?;
    let json = serde_json::to_string(&result.params).map_err(|e| oxgrad::Error::invalid("parameters", e, "JSON"))?;
    println!("{json}");
    Ok(())
}
