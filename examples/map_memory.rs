//! Peak memory of energy + gradient over a trajectory, with and without `map_checkpoint`.
//!
//! `cargo run --release --example map_memory -- [checkpoint|full] [frames] [batch]` evaluates
//! Σ_t ∂E_t/∂θ for every optimisable oxDNA1 parameter over `frames` (default 2000) perturbed frames
//! of a 60-bp (120-nucleotide) duplex in batches of `batch` (default 50) and prints one JSON line
//! with the time and the process's peak resident memory (VmHWM). Run each mode in its own process.

use oxgrad::energy::EnergyModel;
use oxgrad::generate::{helix, parse_sequence, perturbed, Shape};
use oxgrad::params::{ParamClass, ParamSet};
use oxgrad::system::TopologyFormat;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> oxgrad::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let checkpoint = args.get(1).is_none_or(|m| m != "full");
    let frames: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let batch: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50);
    let seq = "ACGTTGCAATGCCGTAAGCTTGACCATGGTCAGTCAAGTCCTAGGATCCAGTTCACGTGA";
    let (top, conf) = helix(&parse_sequence(seq)?, Shape::Duplex, None, TopologyFormat::Classic)?;
    let mut model = EnergyModel::new(&top, ParamSet::dna1_defaults())?;
    model.map_batch_size = batch;
    model.map_checkpoint = checkpoint;
    let confs: Vec<_> = (0..frames as u64).map(|k| perturbed(&conf, 0.03, 0.05, k)).collect();
    let before = peak_rss_mb();
    let p = model.params();
    let names: Vec<String> =
        p.names().filter(|n| p.class_of(n).unwrap() != ParamClass::State).map(String::from).collect();
    let t = std::time::Instant::now();
    let (_, grads) = model.vjp(&confs, &vec![1.0 / frames as f64; frames], &names)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{{\"mode\":\"{}\",\"frames\":{frames},\"batch\":{batch},\"seconds\":{secs:.3},\"peak_rss_mb\":{:.1},\"rss_before_mb\":{before:.1},\"d_eps_stack_base\":{}}}",
        if checkpoint { "checkpoint" } else { "full" },
        peak_rss_mb(),
        grads.get("eps_stack_base")?
    );
    Ok(())
}
