//! The live dashboard: a page that follows a run while it runs (`oxgrad optimize …
//! --dashboard 127.0.0.1:8265`, or `oxgrad dashboard RUN_DIR` for a run going or finished).
//!
//! A small HTTP server on threads of its own serves two things:
//!
//! | path | content |
//! |---|---|
//! | `/` | the page: inline HTML, CSS and JavaScript, nothing fetched from elsewhere |
//! | `/api/run.json` | the run as the run directory holds it now ([`snapshot`]) |
//!
//! The page asks for the JSON every second and redraws: where the run stands, the last step's
//! loss, observables ± standard error, n_eff and parameters, the report's charts of every step
//! (rendered by [`super::report::RunView::sections`], the same as `report.html`), the task
//! timeline with workers (under Slurm, with the node of each attempt) and the CPUs, GPUs and
//! memory each task reserved (and the memory its worker process used, under the process
//! executor), failed and retried tasks, and the last lines each task's worker logged (from
//! `run.log`, which `oxgrad optimize` writes; a run started from Rust has none unless its program
//! writes one).
//!
//! The server only reads the run directory; the run never waits for it. Each client has a thread
//! with 5 s read and write timeouts, at most [`MAX_CLIENTS`] are served at once (more are turned
//! away), and the files are read on a thread of their own, abandoned after 10 s (a hung network
//! file system answers `503`, it does not stall the server; at most four reads are in flight). It binds to a loopback address
//! unless asked by name ([`bind_address`]) and, bound there, answers only requests addressed to
//! a loopback name (`Host: localhost…`), so a web page elsewhere cannot read it through a DNS
//! trick. From a laptop, forward the port: `ssh -L 8265:localhost:8265 login-node`.

use super::report::{RunView, STYLE};
use super::StepRecord;
use crate::error::{Error, Result};
use crate::optimize::TaskRun;
use std::collections::VecDeque;
use std::io::{Read, Seek, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clients served at once; more are turned away until one finishes.
pub const MAX_CLIENTS: usize = 32;
/// How long a client may take to send its request or to take the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Reads of the run directory at once; more are answered `503` at once.
const MAX_READERS: usize = 4;
/// How long reading the run directory may take before the answer is `503`.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The end of `run.log` that is read (the last lines of every task are in it).
const LOG_TAIL_BYTES: u64 = 256 * 1024;
/// Lines kept per task's log.
const LOG_LINES: usize = 15;
/// Warnings and errors kept.
const WARNINGS: usize = 30;

/// The address to serve on: `HOST:PORT` (`127.0.0.1:8265`, `localhost:8265`, `[::1]:8265`) or a
/// bare port (on `127.0.0.1`; `0` picks a free one). An address that is not loopback is refused
/// unless `allow_remote`: anyone who reaches it could read the run.
///
/// `flag` and `allow_flag` are the options that set the address and allow a remote one, for the
/// error message.
pub fn bind_address(addr: &str, allow_remote: bool, flag: &str, allow_flag: &str) -> Result<SocketAddr> {
    let bad = |hint: String| Error::invalid(flag.to_string(), addr, hint);
    let spec = if addr.parse::<u16>().is_ok() { format!("127.0.0.1:{addr}") } else { addr.to_string() };
    let resolved: Vec<SocketAddr> = spec
        .to_socket_addrs()
        .map_err(|e| bad(format!("{e}: give HOST:PORT, e.g. 127.0.0.1:8265, or a port")))?
        .collect();
    let first =
        *resolved.first().ok_or_else(|| bad("it names no address: give HOST:PORT, e.g. 127.0.0.1:8265".into()))?;
    if !allow_remote && !resolved.iter().all(|a| a.ip().is_loopback()) {
        return Err(bad(format!(
            "not a loopback address, so anyone who can reach this machine could read the run: serve on 127.0.0.1 and forward the port (ssh -L {p}:localhost:{p} THIS_HOST), or pass {allow_flag} to serve there anyway",
            p = first.port()
        )));
    }
    Ok(first)
}

/// A dashboard being served (its threads end with the process).
#[derive(Debug)]
pub struct Dashboard {
    addr: SocketAddr,
}

impl Dashboard {
    /// Serves the run in `dir` on `addr` (see [`bind_address`]; `allow_remote` also lifts the
    /// check that requests are addressed to a loopback name). Returns once the address is bound.
    pub fn serve(dir: &Path, addr: SocketAddr, allow_remote: bool) -> Result<Dashboard> {
        let listener = TcpListener::bind(addr).map_err(|e| {
            Error::invalid(
                "dashboard address",
                addr,
                format!("cannot listen there ({e}): choose another port, e.g. 127.0.0.1:0 for any free one"),
            )
        })?;
        let addr =
            listener.local_addr().map_err(|e| Error::io("find the address of", Path::new("the dashboard"), e))?;
        let server = Arc::new(Server {
            dir: dir.to_path_buf(),
            check_host: !allow_remote,
            cache: Mutex::new(Cache::default()),
            clients: AtomicUsize::new(0),
            readers: AtomicUsize::new(0),
        });
        std::thread::Builder::new()
            .name("oxgrad-dashboard".into())
            .spawn(move || accept(&listener, &server))
            .map_err(|e| Error::io("start the thread of", Path::new("the dashboard"), e))?;
        Ok(Dashboard { addr })
    }

    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address, `http://127.0.0.1:8265/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// What the server threads share: never anything the run holds.
struct Server {
    dir: PathBuf,
    check_host: bool,
    /// The last answer's run part ([`run_part`], re-read only when a file it comes from changed)
    /// and the whole answer, each with the state of the files it was read from.
    cache: Mutex<Cache>,
    clients: AtomicUsize,
    /// Reads of the run directory in flight.
    readers: AtomicUsize,
}

fn accept(listener: &TcpListener, server: &Arc<Server>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            // e.g. out of file descriptors: wait instead of spinning
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        if server.clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
            server.clients.fetch_sub(1, Ordering::SeqCst);
            continue; // dropped: closed at once
        }
        let s = Arc::clone(server);
        let spawned = std::thread::Builder::new().name("oxgrad-dashboard-client".into()).spawn(move || {
            s.client(stream);
            s.clients.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            server.clients.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Server {
    /// Answers one request on `stream`, then closes it.
    fn client(self: &Arc<Self>, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
        let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
        let Some(head) = read_head(&mut stream) else { return };
        let mut lines = head.lines();
        let mut first = lines.next().unwrap_or_default().split_whitespace();
        let (method, target) = (first.next().unwrap_or_default(), first.next().unwrap_or_default());
        let host = lines.find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("host").then(|| v.trim().to_string())
        });
        let path = target.split('?').next().unwrap_or_default();
        let (status, kind, body): (&str, &str, Arc<Vec<u8>>) = if method != "GET" {
            ("405 Method Not Allowed", "text/plain", text("the dashboard is read-only: GET only\n"))
        } else if self.check_host && !host.as_deref().is_none_or(is_loopback_name) {
            ("403 Forbidden", "text/plain", text("this dashboard answers only requests to localhost\n"))
        } else {
            match path {
                "/" | "/index.html" => ("200 OK", "text/html; charset=utf-8", Arc::new(page().into_bytes())),
                "/api/run.json" => match self.json() {
                    Ok(b) => ("200 OK", "application/json", b),
                    Err(why) => ("503 Service Unavailable", "text/plain", text(&format!("{why}\n"))),
                },
                _ => (
                    "404 Not Found",
                    "text/plain",
                    text("not here: the dashboard is at / and its data at /api/run.json\n"),
                ),
            }
        };
        let header = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ =
            stream.write_all(header.as_bytes()).and_then(|()| stream.write_all(&body)).and_then(|()| stream.flush());
    }

    /// The JSON of the run now: from the cache when no file changed, else read on a thread of
    /// its own, waited for [`READ_TIMEOUT`].
    fn json(self: &Arc<Self>) -> std::result::Result<Arc<Vec<u8>>, String> {
        // reads stuck on a hung file system are not joined by more
        if self.readers.fetch_add(1, Ordering::SeqCst) >= MAX_READERS {
            self.readers.fetch_sub(1, Ordering::SeqCst);
            return Err(format!("{} has not answered the last reads (a hung file system?)", self.dir.display()));
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let s = Arc::clone(self);
        std::thread::Builder::new()
            .name("oxgrad-dashboard-read".into())
            .spawn(move || {
                let _ = tx.send(s.read());
                s.readers.fetch_sub(1, Ordering::SeqCst);
            })
            .map_err(|e| {
                self.readers.fetch_sub(1, Ordering::SeqCst);
                format!("cannot start a thread to read the run directory: {e}")
            })?;
        match rx.recv_timeout(READ_TIMEOUT) {
            Ok(r) => r,
            Err(_) => Err(format!(
                "reading {} took more than {} s (a slow file system?); the page tries again",
                self.dir.display(),
                READ_TIMEOUT.as_secs()
            )),
        }
    }

    fn read(&self) -> std::result::Result<Arc<Vec<u8>>, String> {
        let (run_fp, log_fp) = (fingerprint(&self.dir, &RUN_FILES), fingerprint(&self.dir, &["run.log"]));
        let cached = self.cache.lock().map(|c| c.clone()).unwrap_or_default();
        if let Some((r, l, body)) = &cached.answer {
            if *r == run_fp && *l == log_fp {
                return Ok(Arc::clone(body));
            }
        }
        let run = match cached.run {
            Some((r, v)) if r == run_fp => v,
            _ => Arc::new(run_part(&self.dir)),
        };
        let body = Arc::new(serde_json::to_vec(&with_logs((*run).clone(), &self.dir)).map_err(|e| format!("{e}"))?);
        if let Ok(mut c) = self.cache.lock() {
            *c = Cache { run: Some((run_fp.clone(), run)), answer: Some((run_fp, log_fp, Arc::clone(&body))) };
        }
        Ok(body)
    }
}

fn text(s: &str) -> Arc<Vec<u8>> {
    Arc::new(s.as_bytes().to_vec())
}

/// Whether a `Host` header names this machine's loopback (`localhost:8265`, `127.0.0.1`, `[::1]:80`).
fn is_loopback_name(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The request line and headers, up to the blank line (at most 16 KiB), or `None`.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 16 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Size and modification time of files.
type Fingerprint = Vec<Option<(u64, std::time::SystemTime)>>;

/// The files [`run_part`] reads.
const RUN_FILES: [&str; 4] = ["metrics.jsonl", "validation.json", "config.toml", ".oxgrad.lock"];

/// What the server keeps of its last answer.
#[derive(Clone, Default)]
struct Cache {
    run: Option<(Fingerprint, Arc<serde_json::Value>)>,
    answer: Option<(Fingerprint, Fingerprint, Arc<Vec<u8>>)>,
}

fn fingerprint(dir: &Path, files: &[&str]) -> Fingerprint {
    files
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).ok().and_then(|m| Some((m.len(), m.modified().ok()?))))
        .collect()
}

/// The run in `dir` as the dashboard's JSON:
///
/// | key | content |
/// |---|---|
/// | `run`, `dir` | its name and directory |
/// | `status` | where it stands, in words |
/// | `writer` | the process writing it (`pid … on HOST, started …`), or `null` when none |
/// | `steps_done`, `total_steps` | evaluated steps, planned updates |
/// | `step` | the last evaluated step (`null` before the first) |
/// | `last` | its record (a `metrics.jsonl` line: loss, objectives, params, grads, tasks) |
/// | `tasks` | every task of the evaluated steps: task, step, worker, start, end, attempts, cpus, gpus, mem_mb (reserved), peak_mem_mb (used, where measured), cpu_seconds (used, where measured), nodes (under Slurm, the node of each attempt), ok |
/// | `failures` | those that failed or were retried |
/// | `warnings` | the last warnings and errors of `run.log` |
/// | `logs` | `[{source, lines}]`: the last lines of each task's worker (and of the driver) |
/// | `html` | the report's charts and tables ([`RunView::sections`]) |
///
/// A directory without a `metrics.jsonl` yet gives `steps_done = 0` and says so in `status`.
#[must_use]
pub fn snapshot(dir: &Path) -> serde_json::Value {
    with_logs(run_part(dir), dir)
}

/// Everything of [`snapshot`] but the log's lines: what changes once a step.
fn run_part(dir: &Path) -> serde_json::Value {
    let writer =
        std::fs::read_to_string(dir.join(".oxgrad.lock")).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let view = match RunView::load(dir) {
        Ok(v) => v,
        Err(e) => {
            return serde_json::json!({
                "run": dir.file_name().map(|n| n.to_string_lossy().into_owned()),
                "dir": dir.display().to_string(),
                "status": format!("waiting for the run to start ({e})"),
                "writer": writer, "steps_done": 0, "total_steps": null, "step": null, "last": null,
                "tasks": [], "failures": [], "html": "",
            })
        }
    };
    let tasks: Vec<&TaskRun> = view.records.iter().flat_map(|r: &StepRecord| &r.tasks).collect();
    let failures: Vec<&&TaskRun> = tasks.iter().filter(|t| !t.ok || t.attempts > 1).collect();
    let status = match &writer {
        Some(_) => view.status(),
        None if view.validation.is_empty() && view.total_steps.is_some_and(|n| view.records.len() <= n) => {
            format!("{} (no process is writing it: interrupted? continue with oxgrad optimize --resume)", view.status())
        }
        None => view.status(),
    };
    serde_json::json!({
        "run": view.name(),
        "dir": dir.display().to_string(),
        "status": status,
        "writer": writer,
        "steps_done": view.records.len(),
        "total_steps": view.total_steps,
        "step": view.records.last().map(|r| r.step),
        "last": view.records.last(),
        "tasks": tasks,
        "failures": failures,
        "html": view.sections(),
    })
}

/// `run` with the end of `dir/run.log` added (`logs`, `warnings`).
fn with_logs(mut run: serde_json::Value, dir: &Path) -> serde_json::Value {
    let (logs, warnings) = log_tail(&dir.join("run.log"));
    run["logs"] = logs;
    run["warnings"] = warnings.into();
    run
}

/// The last lines of each source in the end of `run.log`, sources in the order they last
/// wrote, and the last warnings and errors.
fn log_tail(path: &Path) -> (serde_json::Value, Vec<String>) {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let len = f.metadata().map_or(0, |m| m.len());
        let from = len.saturating_sub(LOG_TAIL_BYTES);
        if f.seek(std::io::SeekFrom::Start(from)).is_ok() {
            let mut bytes = Vec::new();
            let _ = f.take(LOG_TAIL_BYTES).read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
            if from > 0 {
                // the first line is cut
                text = text.split_once('\n').map(|(_, rest)| rest.to_string()).unwrap_or_default();
            }
        }
    }
    // each source: its name, last lines, and the index of its last line
    let mut sources: Vec<(String, VecDeque<String>, usize)> = Vec::new();
    let mut warnings = VecDeque::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let source = log_source(line);
        let k = match sources.iter().position(|(s, _, _)| *s == source) {
            Some(k) => k,
            None => {
                sources.push((source, VecDeque::new(), 0));
                sources.len() - 1
            }
        };
        sources[k].2 = i;
        let lines = &mut sources[k].1;
        if lines.len() == LOG_LINES {
            lines.pop_front();
        }
        lines.push_back(line.to_string());
        let level = line.split_whitespace().nth(1).unwrap_or_default();
        if level == "WARN" || level == "ERROR" {
            if warnings.len() == WARNINGS {
                warnings.pop_front();
            }
            warnings.push_back(line.to_string());
        }
    }
    // the source that wrote last first
    sources.sort_by_key(|s| std::cmp::Reverse(s.2));
    let logs = sources.iter().map(|(s, lines, _)| serde_json::json!({"source": s, "lines": lines})).collect();
    (serde_json::Value::Array(logs), warnings.into())
}

/// Which task a log line is about: a worker's line relayed by the driver (`INFO [task] …`), a
/// line inside a task's span or with its field (`task=simulator_run:duplex.0`), else the driver.
fn log_source(line: &str) -> String {
    let after_level = line.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
    if let Some(rest) = after_level.strip_prefix('[') {
        if let Some((task, _)) = rest.split_once(']') {
            return task.to_string();
        }
    }
    if let Some((_, rest)) = line.split_once("task=") {
        let end = rest.find(|c: char| c.is_whitespace() || c == '}').unwrap_or(rest.len());
        return rest[..end].to_string();
    }
    "driver".into()
}

/// The page: inline style and script, no external assets; it redraws from `/api/run.json`
/// every second, never reloading itself.
fn page() -> String {
    format!(
        r##"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>oxgrad dashboard</title><style>{STYLE}
#live td{{text-align:left}} .log{{max-height:16em}} .muted{{color:#777}}</style></head>
<body data-step=""><h1>oxgrad dashboard: <code id="run">…</code></h1>
<p id="status">connecting…</p><p class="muted" id="writer"></p>
<h2>Now</h2><table id="live"><tr><th>last step</th><td id="step">–</td></tr><tr><th>loss</th><td id="loss">–</td></tr><tr><th>n_eff / N</th><td id="neff">–</td></tr><tr><th>observables</th><td id="obs">–</td></tr><tr><th>parameters</th><td id="params">–</td></tr></table>
<h2>Failures and retries</h2><div id="failures"><p class="muted">none</p></div>
<h2>Worker logs</h2><div id="logs"><p class="muted">no run.log yet</p></div>
<h2>Tasks</h2><div id="tasks"><p class="muted">none yet</p></div>
<div id="report"></div>
<script>
(function(){{
var loadedAt=Date.now(),lastHtml=null;window.oxgradDashboard={{loadedAt:loadedAt}};
function el(id){{return document.getElementById(id);}}
function fmt(v){{return (v===null||v===undefined)?'–':(typeof v==='number'?Number(v.toPrecision(5)).toString():String(v));}}
function pm(v,e){{return fmt(v)+((e===null||e===undefined)?'':' ± '+fmt(e));}}
function rows(head,items){{var t=document.createElement('table'),tr=document.createElement('tr');head.forEach(function(h){{var th=document.createElement('th');th.textContent=h;tr.appendChild(th);}});t.appendChild(tr);items.forEach(function(r){{var tr=document.createElement('tr');r.forEach(function(c){{var td=document.createElement('td');td.textContent=fmt(c);tr.appendChild(td);}});t.appendChild(tr);}});return t;}}
function fill(id,node){{var e=el(id);e.textContent='';e.appendChild(node);}}
function render(d){{
el('run').textContent=d.run||'';el('status').textContent=d.status;el('writer').textContent=d.writer?('written by '+d.writer):'no process is writing it now';
var last=d.last;
if(last){{
el('step').textContent=last.step+(d.total_steps!==null?' of '+d.total_steps:'');el('loss').textContent=fmt(last.loss);
var ne=[],ob=[];Object.keys(last.objectives).forEach(function(o){{var r=last.objectives[o];ne.push(o+': '+fmt(r.n_eff));Object.keys(r.observables).forEach(function(n){{var x=r.observables[n];ob.push(o+'.'+n+' = '+pm(x.value,x.std_err)+' '+x.unit+(x.target!==null?' (target '+fmt(x.target)+')':''));}});}});
el('neff').textContent=ne.join(', ');el('obs').textContent=ob.join('; ');
el('params').textContent=Object.keys(last.params).map(function(k){{return k+' = '+fmt(last.params[k]);}}).join(', ');
}}
var t0=d.tasks.length?Math.min.apply(null,d.tasks.map(function(t){{return t.start;}})):0;
fill('tasks',rows(['task','step','worker','start (s)','seconds','attempts','CPUs','GPUs','memory reserved (MB)','peak memory (MB)','CPU time (s)','ok'],d.tasks.slice(-40).reverse().map(function(t){{return [t.task,t.step,t.worker+(t.nodes?' on '+t.nodes.join(', '):''),t.start-t0,t.end-t.start,t.attempts,t.cpus,t.gpus,t.mem_mb||'–',t.peak_mem_mb,t.cpu_seconds,t.ok?'yes':'FAILED'];}})));
var f=document.createElement('div');
if(d.failures.length)f.appendChild(rows(['task','step','worker','attempts','ok'],d.failures.map(function(t){{return [t.task,t.step,t.worker+(t.nodes?' on '+t.nodes.join(', '):''),t.attempts,t.ok?'yes, after retries':'FAILED'];}})));
if(d.warnings.length){{var p=document.createElement('pre');p.className='log';p.textContent=d.warnings.join('\n');f.appendChild(p);}}
if(!f.childNodes.length){{f.innerHTML='<p class="muted">none</p>';}}fill('failures',f);
var g=document.createElement('div');d.logs.forEach(function(s){{var h=document.createElement('h3');h.textContent=s.source;var p=document.createElement('pre');p.className='log';p.textContent=s.lines.join('\n');g.appendChild(h);g.appendChild(p);}});
if(d.logs.length)fill('logs',g);
if(d.html!==lastHtml){{el('report').innerHTML=d.html;lastHtml=d.html;}}
document.body.setAttribute('data-step',d.step===null?'':String(d.step));
}}
function poll(){{fetch('api/run.json',{{cache:'no-store'}}).then(function(r){{if(!r.ok)return r.text().then(function(t){{throw new Error(t);}});return r.json();}}).then(render).catch(function(e){{el('status').textContent='dashboard: '+e.message+' (retrying)';}}).then(function(){{setTimeout(poll,1000);}});}}
poll();
}})();
</script></body></html>"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_by_default_and_remote_only_by_name() {
        assert_eq!(
            bind_address("8265", false, "--dashboard", "--dashboard-allow-remote").unwrap().to_string(),
            "127.0.0.1:8265"
        );
        assert!(bind_address("localhost:0", false, "--dashboard", "--dashboard-allow-remote")
            .unwrap()
            .ip()
            .is_loopback());
        assert_eq!(bind_address("[::1]:9000", false, "--bind", "--allow-remote").unwrap().to_string(), "[::1]:9000");
        let e = bind_address("0.0.0.0:8265", false, "--dashboard", "--dashboard-allow-remote").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --dashboard = 0.0.0.0:8265: not a loopback address, so anyone who can reach this machine could read the run: serve on 127.0.0.1 and forward the port (ssh -L 8265:localhost:8265 THIS_HOST), or pass --dashboard-allow-remote to serve there anyway"
        );
        assert!(bind_address("0.0.0.0:8265", false, "--bind", "--allow-remote")
            .unwrap_err()
            .to_string()
            .contains("pass --allow-remote"));
        assert_eq!(bind_address("0.0.0.0:8265", true, "--bind", "--allow-remote").unwrap().to_string(), "0.0.0.0:8265");
        assert!(bind_address("nowhere", false, "--bind", "--allow-remote").is_err());
    }

    #[test]
    fn hosts_and_log_sources() {
        for h in ["localhost:8265", "127.0.0.1", "[::1]:80", "LOCALHOST"] {
            assert!(is_loopback_name(h), "{h}");
        }
        for h in ["evil.example:8265", "10.0.0.1:8265", "localhost.evil.example"] {
            assert!(!is_loopback_name(h), "{h}");
        }
        assert_eq!(
            log_source("2026-12-07T19:53:12Z  INFO [simulator_run:duplex.0 on process-1] step 100"),
            "simulator_run:duplex.0 on process-1"
        );
        assert_eq!(
            log_source("2026-12-07T19:53:12Z  WARN simulator_run{task=objective_compute:rise attempt=1}: x"),
            "objective_compute:rise"
        );
        assert_eq!(
            log_source("2026-12-07T19:53:12Z  WARN failed, retrying: boom task=simulator_run:a attempt=1"),
            "simulator_run:a"
        );
        assert_eq!(log_source("2026-12-07T19:53:12Z  INFO step 1/3: loss 0.1"), "driver");
    }

    #[test]
    fn log_tail_keeps_the_last_lines_of_each_source_and_the_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = String::new();
        for k in 0..40 {
            log.push_str(&format!("T  INFO [simulator_run:a] line {k}\n"));
        }
        log.push_str("T  WARN failed, retrying: boom task=simulator_run:b attempt=1\nT  INFO step 0/3: loss 1\n");
        std::fs::write(dir.path().join("run.log"), log).unwrap();
        let (logs, warnings) = log_tail(&dir.path().join("run.log"));
        let sources: Vec<&str> = logs.as_array().unwrap().iter().map(|s| s["source"].as_str().unwrap()).collect();
        assert_eq!(sources, ["driver", "simulator_run:b", "simulator_run:a"]);
        let a = logs[2]["lines"].as_array().unwrap();
        assert_eq!((a.len(), a[0].as_str().unwrap()), (LOG_LINES, "T  INFO [simulator_run:a] line 25"));
        assert_eq!(warnings, ["T  WARN failed, retrying: boom task=simulator_run:b attempt=1"]);
    }
}
