//! The live dashboard (`oxgrad optimize … --dashboard`, `oxgrad dashboard RUN_DIR`): its JSON
//! follows a run step by step from one server, a client that never reads does not slow the
//! run, and a real headless browser shows step k, then k + 1, without a reload.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// The flagship with `steps` updates that each re-simulate (`md_steps` per copy; 20 000 take
/// about half a second here), so a client sees the steps one by one; no validation.
fn slow(steps: i64, md_steps: i64) -> String {
    let mut t: toml::Table = common::shortened_example("flagship.toml", steps, md_steps, 1000).parse().unwrap();
    t["objective"][0].as_table_mut().unwrap().insert("max_valid_opt_steps".into(), 1.into());
    t["validation"].as_table_mut().unwrap().insert("enabled".into(), false.into());
    toml::to_string(&t).unwrap()
}

/// `oxgrad ARGS` in `dir`, its stderr read on a thread; returns the process and the dashboard's
/// address as the run logs it (when `--dashboard` is among the arguments).
fn start(dir: &Path, args: &[&str]) -> (Child, Option<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("dashboard: http://") {
                let url = line[at + "dashboard: http://".len()..].split('/').next().unwrap().to_string();
                let _ = tx.send(url);
            }
        }
    });
    let addr = args.contains(&"--dashboard").then(|| {
        rx.recv_timeout(Duration::from_secs(60)).expect("the run logs its dashboard's address within a minute")
    });
    (child, addr)
}

/// `GET path` from `addr`: the status line and the body (`None` when nothing listens there).
fn try_get(addr: &str, path: &str) -> Option<(String, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

fn get(addr: &str, path: &str) -> (String, String) {
    try_get(addr, path).unwrap_or_else(|| panic!("no answer from {addr}{path}"))
}

/// The dashboard's JSON, `None` once the server has gone (the run ended).
fn try_json(addr: &str) -> Option<Value> {
    let (status, body) = try_get(addr, "/api/run.json")?;
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    Some(serde_json::from_str(&body).unwrap())
}

fn json(addr: &str) -> Value {
    try_json(addr).unwrap_or_else(|| panic!("no answer from {addr}"))
}

#[test]
fn the_json_follows_the_run_step_by_step_from_one_server() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("slow.toml"), slow(6, 20_000)).unwrap();
    let (mut run, addr) = start(d.path(), &["optimize", "slow.toml", "-o", "run", "--dashboard", "127.0.0.1:0"]);
    let addr = addr.unwrap();
    // (step, whether a process was writing the run) as the server answered, polled until the run ends
    let mut seen: Vec<(u64, bool)> = Vec::new();
    let mut last = Value::Null;
    while run.try_wait().unwrap().is_none() {
        let Some(j) = try_json(&addr) else { break };
        if let Some(step) = j["step"].as_u64() {
            if seen.last().map(|x| x.0) != Some(step) {
                seen.push((step, !j["writer"].is_null()));
            }
            last = j;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(run.wait().unwrap().success());
    let running: Vec<u64> = seen.iter().filter(|x| x.1).map(|x| x.0).collect();
    assert!(
        running.windows(2).any(|w| w[1] == w[0] + 1),
        "the same server showed step k, then k + 1, while the run ran: {seen:?}"
    );
    // what one answer holds: the last step's observables with errors, n_eff, parameters, tasks
    let pitch = &last["last"]["objectives"]["pitch"];
    assert!(pitch["observables"]["pitch"]["value"].as_f64().unwrap() > 8.0, "{pitch}");
    assert!(pitch["observables"]["pitch"]["std_err"].as_f64().unwrap() > 0.0, "{pitch}");
    assert!(pitch["n_eff"].as_f64().unwrap() > 0.5, "{pitch}");
    assert!(last["last"]["params"].as_object().unwrap().keys().any(|k| k.starts_with("eps_stack")), "{last}");
    let tasks = last["tasks"].as_array().unwrap();
    assert!(tasks
        .iter()
        .any(|t| t["task"] == "simulator_run:duplex.1" && t["worker"].as_str().unwrap().starts_with("thread-")));
    assert!(last["html"].as_str().unwrap().contains("<svg"), "the report's charts");
    assert!(
        last["logs"].as_array().unwrap().iter().any(|l| l["lines"].to_string().contains("step 1/6")),
        "run.log's lines: {}",
        last["logs"]
    );
    // the finished run, served by `oxgrad dashboard`
    let run_dir = d.path().join("run");
    let mut served = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["dashboard", run_dir.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(served.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).unwrap().split('/').next().unwrap().to_string();
    let j = json(&addr);
    assert_eq!((j["step"].as_u64(), j["steps_done"].as_u64(), &j["writer"]), (Some(6), Some(7), &Value::Null), "{j}");
    let (status, page) = get(&addr, "/");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("url(http"),
        "nothing is fetched"
    );
    // read-only, and only for requests addressed to this machine
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(s, "POST /api/run.json HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 405"), "{text}");
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(s, "GET /api/run.json HTTP/1.1\r\nHost: attacker.example\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    served.kill().unwrap();
    served.wait().unwrap();
    // a public address only by name
    let out = Command::new(env!("CARGO_BIN_EXE_oxgrad"))
        .args(["dashboard", run_dir.to_str().unwrap(), "--bind", "0.0.0.0:8265"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: invalid --bind = 0.0.0.0:8265: not a loopback address, so anyone who can reach this machine could read the run: serve on 127.0.0.1 and forward the port (ssh -L 8265:localhost:8265 THIS_HOST), or pass --allow-remote to serve there anyway"
    );
}

/// Clients that connect and never send, or send and never read, and more of them than the
/// server serves at once: the run takes about as long as without a dashboard.
#[test]
fn clients_that_never_read_do_not_slow_the_run() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("slow.toml"), slow(6, 20_000)).unwrap();
    let t = Instant::now();
    let (mut plain, _) = start(d.path(), &["optimize", "slow.toml", "-o", "plain"]);
    assert!(plain.wait().unwrap().success());
    let alone = t.elapsed();
    let t = Instant::now();
    let (mut run, addr) = start(d.path(), &["optimize", "slow.toml", "-o", "watched", "--dashboard", "127.0.0.1:0"]);
    let addr = addr.unwrap();
    let mut idle = Vec::new();
    for k in 0..60 {
        let Ok(mut s) = TcpStream::connect(&addr) else { continue };
        if k % 2 == 0 {
            // asks, then never reads the answer
            let _ = write!(s, "GET /api/run.json HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        } else {
            // half a request, never finished
            let _ = s.write_all(b"GET /api/run.json HTTP/1.1\r\n");
        }
        idle.push(s);
    }
    assert!(run.wait().unwrap().success());
    let watched = t.elapsed();
    eprintln!("alone {alone:?}, watched {watched:?}");
    drop(idle);
    assert!(
        watched.as_secs_f64() < 1.5 * alone.as_secs_f64() + 3.0,
        "with clients that never read the run took {watched:?}, alone {alone:?}"
    );
}

/// Chromium, headless, driven over its DevTools pipe (no WebSocket: NUL-separated JSON on file
/// descriptors 3 and 4).
struct Browser {
    child: Child,
    input: std::process::ChildStdin,
    messages: crossbeam_channel::Receiver<Value>,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(r#"command -v "$1" >/dev/null || exit 127; exec "$@" 3<&0 4>&1 </dev/null >/dev/null 2>/dev/null"#)
            .arg("bash")
            .arg(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            while let Ok(n @ 1..) = out.read(&mut chunk) {
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1]) {
                        let _ = tx.send(v);
                    }
                }
            }
        });
        let input = child.stdin.take().unwrap();
        Browser { child, input, messages: rx, next: 0, _profile: profile }
    }

    /// Sends a DevTools command and waits for its result.
    fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next += 1;
        let mut msg = serde_json::json!({"id": self.next, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = s.into();
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        if self.input.write_all(&bytes).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert_ne!(
                    status.code(),
                    Some(127),
                    "cannot run Chromium: install it (apt-get install chromium, or run .ci/test, which installs it) or set CHROMIUM to a browser's path"
                );
            }
            panic!("Chromium ended before {method}");
        }
        loop {
            let v = self.messages.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
                panic!("Chromium did not answer {method} within a minute (is CHROMIUM a Chromium or Chrome?)")
            });
            if v["id"].as_u64() == Some(self.next) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_headless_browser_shows_step_k_then_k_plus_1_without_a_reload() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("slow.toml"), slow(12, 30_000)).unwrap();
    let mut browser = Browser::start();
    let target = browser.call("Target.createTarget", serde_json::json!({"url": "about:blank"}), None);
    let session = browser.call(
        "Target.attachToTarget",
        serde_json::json!({"targetId": target["targetId"], "flatten": true}),
        None,
    )["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let (mut run, addr) = start(d.path(), &["optimize", "slow.toml", "-o", "run", "--dashboard", "127.0.0.1:0"]);
    let addr = addr.unwrap();
    browser.call("Page.navigate", serde_json::json!({"url": format!("http://{addr}/")}), Some(&session));
    let probe = "JSON.stringify({loaded: window.oxgradDashboard ? window.oxgradDashboard.loadedAt : null, step: document.getElementById('step').textContent, charts: document.querySelectorAll('#report svg.plot').length, writer: document.getElementById('writer').textContent})";
    // (what the page displayed as its last step, when it was loaded), each change
    let mut shown: Vec<(String, Value, usize)> = Vec::new();
    while run.try_wait().unwrap().is_none() {
        let r = browser.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": probe, "returnByValue": true}),
            Some(&session),
        );
        let v: Value = serde_json::from_str(r["result"]["value"].as_str().unwrap_or("{}")).unwrap_or_default();
        let step = v["step"].as_str().unwrap_or("–").to_string();
        let running = v["writer"].as_str().is_some_and(|w| w.starts_with("written by"));
        if running && !v["loaded"].is_null() && shown.last().map(|s| &s.0) != Some(&step) {
            shown.push((step, v["loaded"].clone(), v["charts"].as_u64().unwrap_or(0) as usize));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(run.wait().unwrap().success());
    eprintln!("shown: {shown:?}");
    let step_of = |s: &str| s.split(' ').next().and_then(|n| n.parse::<u64>().ok());
    let consecutive = shown
        .windows(2)
        .find(|w| matches!((step_of(&w[0].0), step_of(&w[1].0)), (Some(a), Some(b)) if b == a + 1) && w[0].1 == w[1].1);
    let Some(w) = consecutive else { panic!("the page displayed step k, then k + 1, in one load: {shown:?}") };
    assert!(w[1].0.ends_with("of 12"), "{w:?}");
    assert!(w[1].2 >= 4, "the charts are drawn (loss, pitch, parameters, n_eff, timeline): {w:?}");
}

/// The README's dashboard lines run as written (the flagship cut short): the run serves the page
/// on 127.0.0.1:8265 while it runs, and `oxgrad dashboard DIR` serves it afterwards.
#[test]
fn the_readme_dashboard_lines_run_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split_once("#### Watching a run: the dashboard\n").expect("the README's dashboard section").1;
    let block = section.split_once("```sh\n").unwrap().1.split_once("```").unwrap().0;
    let lines: Vec<&str> = block.lines().map(|l| l.split(" # ").next().unwrap().trim()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("oxgrad optimize examples/flagship.toml") && lines[1].starts_with("oxgrad dashboard ")
    );
    let addr = "127.0.0.1:8265";
    assert!(lines[0].contains(addr), "{}", lines[0]);
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("examples")).unwrap();
    std::fs::write(d.path().join("examples/flagship.toml"), slow(4, 20_000)).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_oxgrad")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let sh = |line: &str| {
        Command::new("sh")
            .args(["-c", &format!("exec {line}")])
            .env("PATH", &path)
            .current_dir(d.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut run = sh(lines[0]);
    let mut answered = None;
    while run.try_wait().unwrap().is_none() && answered.is_none() {
        answered = try_json(addr);
        std::thread::sleep(Duration::from_millis(50));
    }
    let answered = answered.unwrap_or_else(|| panic!("{} served nothing on {addr} while it ran", lines[0]));
    assert!(answered["writer"].is_string(), "{answered}");
    assert!(run.wait().unwrap().success());
    let mut served = sh(lines[1]);
    let t = Instant::now();
    let done = loop {
        if let Some(j) = try_json(addr) {
            break j;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "{} served nothing on {addr}", lines[1]);
        std::thread::sleep(Duration::from_millis(50));
    };
    served.kill().unwrap();
    served.wait().unwrap();
    assert_eq!(done["steps_done"], 5, "{done}");
}
