//! Resume after a crash: a run killed with SIGKILL in the middle of a step, then continued with
//! `--resume`, reaches the same final parameters as an uninterrupted run, bit for bit; Ctrl-C
//! (SIGINT) ends a run after its current step and says how to continue; and the run's report
//! renders in a real headless browser with every plot, the task timeline of its two simulators
//! included.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[model]
kind = "dna1"

[optimizer]
steps = 6
learning_rate = 2e-3
train = ["Stacking", "r0_backbone"]

[[simulator]]
name = "duplex"
kind = "native"
copies = 2
duplex = "ACGTTGCA"
md_steps = 40000
sample_every = 400
seed = 11

[[objective]]
name = "pitch"
simulators = ["duplex"]
observable = { kind = "pitch", exclude_end_pairs = 1 }
target = 10.8
max_valid_opt_steps = 2

[validation]
md_steps = 4000
"#;

fn start(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// The step records without their timings: what must be identical between runs.
fn results(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("seconds");
            o.remove("tasks");
            v
        })
        .collect()
}

fn wait_for(path: &Path, n: usize, child: &mut std::process::Child) {
    let t = Instant::now();
    while lines(path) < n {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before step {n}");
        assert!(t.elapsed() < Duration::from_secs(300), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_run_resumes_to_the_same_parameters_bit_for_bit() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("c.toml"), CONFIG).unwrap();
    let whole = start(d.path(), &["optimize", "c.toml", "-o", "whole"]).wait_with_output().unwrap();
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));

    // killed (SIGKILL: no chance to clean up) in the middle of the step after step 2
    let mut run = start(d.path(), &["optimize", "c.toml", "-o", "killed"]);
    let metrics = d.path().join("killed/metrics.jsonl");
    wait_for(&metrics, 3, &mut run);
    std::thread::sleep(Duration::from_millis(300));
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(lines(&metrics) < 7, "killed before the end");
    let resumed = start(d.path(), &["optimize", "--resume", "killed"]).wait_with_output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));

    let read = |dir: &str, f: &str| std::fs::read_to_string(d.path().join(dir).join(f)).unwrap();
    assert_eq!(
        read("killed", "params_final.toml"),
        read("whole", "params_final.toml"),
        "final parameters, bit for bit"
    );
    assert_eq!(read("killed", "params_best.toml"), read("whole", "params_best.toml"));
    assert_eq!(
        results(&d.path().join("killed")),
        results(&d.path().join("whole")),
        "every step's loss, estimates and gradients"
    );
    assert_eq!(read("killed", "validation.json"), read("whole", "validation.json"));
    // the final line differs only in the run directory
    let last = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout).lines().last().unwrap().rsplit_once(" run_dir=").unwrap().0.to_string()
    };
    assert_eq!(last(&resumed), last(&whole));
}

#[test]
fn ctrl_c_ends_after_the_current_step_and_says_how_to_resume() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("c.toml"), CONFIG).unwrap();
    let mut run = start(d.path(), &["optimize", "c.toml", "-o", "run"]);
    let metrics = d.path().join("run/metrics.jsonl");
    wait_for(&metrics, 2, &mut run);
    let pid = run.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = run.wait_with_output().unwrap();
    assert!(!out.status.success(), "an interrupted run is not a success");
    let err = String::from_utf8_lossy(&out.stderr);
    let done = lines(&metrics);
    assert_eq!(
        err.lines().last().unwrap(),
        format!("error: interrupted after step {}: everything up to it is saved in run; continue with: oxgrad optimize --resume run", done - 1),
        "{err}"
    );
    assert!((2..7).contains(&done), "{done} steps");
    // the committed state is consistent with the metrics: resuming finishes the run
    let resumed = start(d.path(), &["optimize", "--resume", "run"]).wait_with_output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_eq!(lines(&metrics), 7);
}

/// `oxgrad report DIR` on a short run, then Chromium (headless) loads the page: every chart is
/// laid out with content, and a screenshot is taken (`DIR/report.png`).
#[test]
fn report_renders_in_a_headless_browser() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("c.toml"), CONFIG.replace("steps = 6", "steps = 2")).unwrap();
    let out = start(d.path(), &["optimize", "c.toml", "-o", "run"]).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = d.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad")).arg("report").arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url(http"),
        "nothing is fetched"
    );
    assert!(html.contains("thread-0") && html.contains("thread-1"), "the timeline shows both workers");
    assert!(
        html.contains("simulator_run:duplex.0")
            && html.contains("simulator_run:duplex.1")
            && html.contains("objective_compute:pitch")
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let page = format!("file://{}", run.join("report.html").display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let profile = tempfile::tempdir().unwrap();
    let browser = |extra: &[&str]| {
        Command::new(&chromium)
            .args(flags)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&page)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {chromium} ({e}): install Chromium (apt-get install chromium, or run .ci/test, which installs it) or set CHROMIUM to a browser's path")
            })
    };
    let dom = browser(&["--virtual-time-budget=3000", "--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    // loss, one observable, parameters, n_eff, timeline
    assert!(
        dom.contains(r#"data-plots="5" data-drawn="5""#),
        "{}",
        dom.lines().find(|l| l.contains("<body")).unwrap_or("no body")
    );
    let shot = run.join("report.png");
    browser(&["--window-size=1200,3200", &format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).unwrap().len() > 50_000, "a screenshot with content");
}

/// The number of cores changes how fast a run goes, never what it computes.
#[test]
fn results_do_not_depend_on_the_number_of_cores() {
    let d = tempfile::tempdir().unwrap();
    let short = CONFIG.replace("steps = 6", "steps = 3");
    std::fs::write(d.path().join("one.toml"), format!("{short}\n[executor]\ncpus = 1\n")).unwrap();
    std::fs::write(d.path().join("two.toml"), format!("{short}\n[executor]\ncpus = 2\n")).unwrap();
    for (c, o) in [("one.toml", "one"), ("two.toml", "two")] {
        let out = start(d.path(), &["optimize", c, "-o", o]).wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(results(&d.path().join("one")), results(&d.path().join("two")));
    let read = |dir: &str| std::fs::read_to_string(d.path().join(dir).join("validation.json")).unwrap();
    assert_eq!(read("one"), read("two"));
}
