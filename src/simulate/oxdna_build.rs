//! oxDNA built with other model constants: its own `src/model.h` rewritten for a parameter set
//! ([`crate::params::exchange::to_oxdna_header`]), force-included into an out-of-tree CMake build.
//!
//! Builds are cached by a hash of the rewritten header (and of the CUDA switch): identical
//! parameters never build twice, and simulators that need the same build at the same time wait for
//! the one that builds it (a lock file next to the build, taken over if its process has died).
//! Each build lives in `<cache>/oxdna-<hash>/` with its header, its log (`build.log`) and the
//! binary (`build/bin/oxDNA`). `cmake` comes from `CMAKE_BIN_PATH` if set, else from `PATH`.

use super::native::fnv1a;
use crate::error::{Error, Result};
use crate::params::exchange::to_oxdna_header;
use crate::params::ParamSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Lines of the build log quoted in an error.
const LOG_TAIL: usize = 20;

/// How long a simulator waits for another one's build of the same constants.
const WAIT: Duration = Duration::from_secs(4 * 3600);

/// An oxDNA source tree and the cache its builds go to.
#[derive(Debug, Clone)]
pub struct OxdnaBuild {
    source: PathBuf,
    cache: PathBuf,
    threads: usize,
}

impl OxdnaBuild {
    /// Builds of the oxDNA source tree `source` (with `CMakeLists.txt` and `src/model.h`), cached
    /// under `cache`.
    pub fn new(source: impl Into<PathBuf>, cache: impl Into<PathBuf>) -> Result<OxdnaBuild> {
        let source = source.into();
        for f in ["CMakeLists.txt", "src/model.h"] {
            let p = source.join(f);
            if !p.is_file() {
                return Err(Error::io(
                    "find the oxDNA source tree's",
                    &p,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "give the root of an oxDNA source tree (with CMakeLists.txt and src/model.h)",
                    ),
                ));
            }
        }
        Ok(OxdnaBuild { source, cache: cache.into(), threads: 4 })
    }

    /// Parallel compile jobs (default 4, as mythos' `n_build_threads`).
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The source tree.
    #[must_use]
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The binary built with `set`'s constants (and CUDA if `cuda`), building it if no build of
    /// the same header exists yet.
    pub fn binary_for(&self, set: &ParamSet, cuda: bool) -> Result<PathBuf> {
        let template_path = self.source.join("src/model.h");
        let template = std::fs::read_to_string(&template_path).map_err(|e| Error::io("read", &template_path, e))?;
        let header = to_oxdna_header(set, &template, &template_path)?;
        let key = format!("{:016x}", fnv1a(format!("{header}\ncuda={cuda}").as_bytes()));
        let dir = self.cache.join(format!("oxdna-{key}"));
        let binary = dir.join("build/bin/oxDNA");
        let done = dir.join("oxgrad-build.done");
        if done.is_file() && binary.is_file() {
            return Ok(binary);
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create the build directory", &dir, e))?;
        let lock = dir.join("oxgrad-build.lock");
        let started = Instant::now();
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if done.is_file() && binary.is_file() {
                        return Ok(binary);
                    }
                    if holder_is_gone(&lock) {
                        let _ = std::fs::remove_file(&lock);
                        continue;
                    }
                    if started.elapsed() > WAIT {
                        return Err(Error::External {
                            program: "cmake".into(),
                            detail: format!(
                                "another process has held {} for over 4 hours: remove it if no build is running",
                                lock.display()
                            ),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(Error::io("lock the build directory", &lock, e)),
            }
        }
        // another process may have finished the same build while this one waited for the lock
        if done.is_file() && binary.is_file() {
            let _ = std::fs::remove_file(&lock);
            return Ok(binary);
        }
        let built = self.build(&dir, &header, cuda, &binary);
        let _ = std::fs::remove_file(&lock);
        built?;
        std::fs::write(&done, &key).map_err(|e| Error::io("write", &done, e))?;
        Ok(binary)
    }

    fn build(&self, dir: &Path, header: &str, cuda: bool, binary: &Path) -> Result<()> {
        let header_path = dir.join("model.h");
        std::fs::write(&header_path, header).map_err(|e| Error::io("write", &header_path, e))?;
        let build = dir.join("build");
        let log_path = dir.join("build.log");
        let log = std::fs::File::create(&log_path).map_err(|e| Error::io("create", &log_path, e))?;
        let cmake = std::env::var_os("CMAKE_BIN_PATH").map_or_else(|| PathBuf::from("cmake"), PathBuf::from);
        let mut configure = vec![
            "-S".into(),
            self.source.display().to_string(),
            "-B".into(),
            build.display().to_string(),
            "-DCMAKE_BUILD_TYPE=Release".into(),
            format!("-DCMAKE_CXX_FLAGS=--include {}", header_path.display()),
        ];
        if cuda {
            configure.extend(["-DCUDA=ON".to_string(), "-DCUDA_COMMON_ARCH=OFF".to_string()]);
        }
        let threads = self.threads.to_string();
        let compile =
            ["--build", &build.display().to_string(), "-j", &threads, "--target", "oxDNA"].map(String::from).to_vec();
        for args in [configure, compile] {
            let out = log.try_clone().map_err(|e| Error::io("write", &log_path, e))?;
            let err = log.try_clone().map_err(|e| Error::io("write", &log_path, e))?;
            let status =
                std::process::Command::new(&cmake).args(&args).stdout(out).stderr(err).status().map_err(|e| {
                    Error::External {
                        program: cmake.display().to_string(),
                        detail: format!("could not be started: {e} (install CMake, or set CMAKE_BIN_PATH)"),
                    }
                })?;
            if !status.success() {
                return Err(Error::External {
                    program: cmake.display().to_string(),
                    detail: format!(
                        "{} ended with {status}; build log {}:\n{}",
                        args.join(" "),
                        log_path.display(),
                        tail(&log_path)
                    ),
                });
            }
        }
        if !binary.is_file() {
            return Err(Error::External {
                program: cmake.display().to_string(),
                detail: format!(
                    "the build succeeded but left no {}; build log {}:\n{}",
                    binary.display(),
                    log_path.display(),
                    tail(&log_path)
                ),
            });
        }
        Ok(())
    }
}

/// Whether the process named in a lock file no longer exists.
fn holder_is_gone(lock: &Path) -> bool {
    let pid = std::fs::read_to_string(lock).ok().and_then(|s| s.trim().parse::<u32>().ok());
    match pid {
        Some(pid) => !Path::new(&format!("/proc/{pid}")).exists() && Path::new("/proc/self").exists(),
        // written but not yet filled in: its holder is alive
        None => false,
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n")
}
