//! Scheduler hints: the resources and retries a simulator or objective asks for.
//!
//! Options reach an executor in one order, for every engine (as in mythos):
//! **executor defaults < standard hints (in the engine's units) < `custom[engine]` verbatim <
//! fixed keys** (the task name). Unlike mythos, a custom value is never converted.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Resource and retry hints of a simulator or objective. Every field is optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerHints {
    /// CPUs to reserve (sets `OMP_NUM_THREADS` and `RAYON_NUM_THREADS` for the task).
    pub num_cpus: Option<u32>,
    /// GPUs, possibly fractional (sets `CUDA_VISIBLE_DEVICES`).
    pub num_gpus: Option<f64>,
    /// Memory to reserve, MB.
    pub mem_mb: Option<u64>,
    /// How many times a failed task is re-run (any failure: error or panic). `None`: never.
    pub max_retries: Option<u32>,
    /// Environment variables of the task: its worker process's own under the process and Slurm
    /// executors; under the thread pool, those of the child processes it starts
    /// ([`super::TaskContext::command`]). They override the executor's.
    pub env: BTreeMap<String, String>,
    /// Engine-specific options keyed by engine name (`"local"`, `"process"`, `"slurm"`), merged last.
    pub custom: BTreeMap<String, Map<String, Value>>,
}

static NONE: SchedulerHints = SchedulerHints {
    num_cpus: None,
    num_gpus: None,
    mem_mb: None,
    max_retries: None,
    env: BTreeMap::new(),
    custom: BTreeMap::new(),
};

impl SchedulerHints {
    /// No hints.
    #[must_use]
    pub fn none() -> &'static SchedulerHints {
        &NONE
    }

    /// The standard fields that are set, under their own names (`num_cpus`, `num_gpus`, `mem_mb`,
    /// `max_retries`, `env`), renamed through `rename`, then `custom[engine]` merged over them verbatim.
    #[must_use]
    pub fn to_options(&self, engine: &str, rename: &[(&str, &str)]) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |k: &str, v: Value| {
            let key = rename.iter().find(|(from, _)| *from == k).map_or(k, |(_, to)| to);
            out.insert(key.to_string(), v);
        };
        if let Some(v) = self.num_cpus {
            put("num_cpus", v.into());
        }
        if let Some(v) = self.num_gpus {
            put("num_gpus", v.into());
        }
        if let Some(v) = self.mem_mb {
            put("mem_mb", v.into());
        }
        if let Some(v) = self.max_retries {
            put("max_retries", v.into());
        }
        if !self.env.is_empty() {
            put("env", self.env.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect());
        }
        if let Some(c) = self.custom.get(engine) {
            for (k, v) in c {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// Every option of a task: `defaults`, overridden by [`Self::to_options`], then `fixed`.
    #[must_use]
    pub fn resolve(&self, engine: &str, defaults: &Map<String, Value>, fixed: &[(&str, Value)]) -> Map<String, Value> {
        let mut out = defaults.clone();
        out.extend(self.to_options(engine, &[]));
        for (k, v) in fixed {
            out.insert((*k).to_string(), v.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_order_defaults_hints_custom_fixed() {
        let mut custom = BTreeMap::new();
        custom.insert("local".to_string(), json!({"num_cpus": 3, "queue": "fast"}).as_object().unwrap().clone());
        let h = SchedulerHints { num_cpus: Some(2), mem_mb: Some(512), custom, ..Default::default() };
        let defaults = json!({"num_cpus": 1, "mem_mb": 100, "name": "x", "priority": 5}).as_object().unwrap().clone();
        let o = h.resolve("local", &defaults, &[("name", json!("simulator_run:a"))]);
        assert_eq!(o["num_cpus"], json!(3), "custom beats the standard hint");
        assert_eq!(o["mem_mb"], json!(512), "a hint beats the default");
        assert_eq!(o["priority"], json!(5), "unset hints keep the default");
        assert_eq!(o["queue"], json!("fast"));
        assert_eq!(o["name"], json!("simulator_run:a"), "fixed keys win");
        // another engine's custom options do not apply
        let o = h.resolve("slurm", &Map::new(), &[]);
        assert_eq!(o["num_cpus"], json!(2));
        assert!(!o.contains_key("queue"));
        // renaming (e.g. for an engine that calls memory differently)
        let o = h.to_options("slurm", &[("mem_mb", "memory")]);
        assert_eq!(o["memory"], json!(512));
    }
}
