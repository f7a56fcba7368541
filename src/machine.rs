//! What this machine offers a run: its cores and its GPUs. One place, read by the executors'
//! resource accounting, the MD engine's thread checks and the configuration's defaults.

/// The cores this machine offers this process (`available_parallelism`: cgroup and affinity
/// limits included; 1 when unknown).
#[must_use]
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The GPUs a pool may hand out, by the ids a task's `CUDA_VISIBLE_DEVICES` names them: those
/// listed in `CUDA_VISIBLE_DEVICES` when it is set (as Slurm sets it for an allocation with GPUs;
/// `2,5` gives `["2", "5"]`; `-1`, `NoDevFiles` or empty mean none), else the indices of the
/// NVIDIA devices `nvidia-smi -L` lists (one `GPU k: …` line each), else none.
#[must_use]
pub fn gpu_devices() -> Vec<String> {
    if let Ok(v) = std::env::var("CUDA_VISIBLE_DEVICES") {
        return v
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "NoDevFiles" && !d.starts_with('-'))
            .map(str::to_string)
            .collect();
    }
    std::process::Command::new("nvidia-smi")
        .arg("-L")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(Vec::new, |o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.strip_prefix("GPU ")?.split(':').next().map(|k| k.trim().to_string()))
                .collect()
        })
}

/// The devices of a pool asked for `n` GPUs: the first `n` of those detected
/// ([`gpu_devices`]), or `0 … n−1` when none are (GPUs oxgrad cannot see, or a stand-in).
///
/// # Errors
/// The devices detected, when they are fewer than `n`: handing out others would put tasks on
/// GPUs this process was not given.
pub fn gpus_for(n: usize) -> Result<Vec<String>, Vec<String>> {
    let seen = gpu_devices();
    match seen.len() {
        0 => Ok((0..n).map(|i| i.to_string()).collect()),
        k if k >= n => Ok(seen.into_iter().take(n).collect()),
        _ => Err(seen),
    }
}
