//! What this machine offers a run: its cores and its GPUs. One place, read by the executors'
//! resource accounting, the MD engine's thread checks and the configuration's defaults.

/// The cores this machine offers this process (`available_parallelism`: cgroup and affinity
/// limits included; 1 when unknown).
#[must_use]
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The GPUs a pool may hand out: those listed in `CUDA_VISIBLE_DEVICES` when it is set (as Slurm
/// sets it for an allocation with GPUs; `-1`, `NoDevFiles` or empty mean none), else the NVIDIA
/// devices `nvidia-smi -L` lists (one `GPU k: …` line each), else none.
#[must_use]
pub fn gpus() -> usize {
    if let Ok(v) = std::env::var("CUDA_VISIBLE_DEVICES") {
        return v
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "NoDevFiles" && !d.starts_with('-'))
            .count();
    }
    std::process::Command::new("nvidia-smi")
        .arg("-L")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or(0, |o| String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with("GPU ")).count())
}
