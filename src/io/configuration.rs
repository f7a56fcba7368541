//! oxDNA configurations and trajectories (`.dat`).
//!
//! A frame is three header lines and one row per nucleotide, in topology order:
//!
//! ```text
//! t = 10000
//! b = 20.0 20.0 20.0
//! E = -1.23 -1.55 0.32
//! rx ry rz  a1x a1y a1z  a3x a3y a3z  vx vy vz  Lx Ly Lz
//! ```
//!
//! `t` is the step, `b` the box sides, `E` the total, potential and kinetic energy per nucleotide;
//! each row holds the centre `r`, the backbone→base versor `a1`, the base normal `a3`, the
//! velocity `v` (lab frame) and the angular momentum `L` (9-column rows without `v`, `L` are
//! accepted, with zero velocities). As in oxDNA v3.7, `L` is written in the nucleotide's own frame:
//! its components along `a1`, `a2 = a3 × a1` and `a3` (oxDNA integrates `L` and the torques in the
//! body frame and prints `L` as is); [`crate::geometry::from_body`] turns it into a lab vector. A trajectory is frames one after another; [`TrajectoryReader`] streams it one frame
//! at a time, so a trajectory of any size is read in constant memory.

use crate::error::{quoted, Error, Result};
use crate::geometry::Vec3;
use crate::io::atomic::AtomicFile;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// One frame of an oxDNA configuration or trajectory.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Configuration {
    /// The `t =` value: the simulation step.
    pub step: u64,
    /// Box side lengths (`b =`).
    pub box_sides: Vec3,
    /// The `E =` values: total, potential and kinetic energy per nucleotide.
    pub energy: [f64; 3],
    /// Centres of mass, `[nucleotides]`.
    pub r: Vec<Vec3>,
    /// Backbone→base versors, `[nucleotides]`.
    pub a1: Vec<Vec3>,
    /// Base normals, `[nucleotides]`.
    pub a3: Vec<Vec3>,
    /// Velocities, `[nucleotides]`.
    pub v: Vec<Vec3>,
    /// Angular momenta in the body frame (components along `a1`, `a2`, `a3`), `[nucleotides]`.
    pub l: Vec<Vec3>,
}

impl Configuration {
    /// Number of nucleotides.
    #[must_use]
    pub fn len(&self) -> usize {
        self.r.len()
    }

    /// Whether the frame holds no nucleotides.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.r.is_empty()
    }

    /// The frame with rows reordered: row `k` of the result is row `perm[k]` of `self` (see
    /// [`Topology::converted`](crate::system::Topology::converted)).
    #[must_use]
    pub fn permuted(&self, perm: &[usize]) -> Configuration {
        let pick = |v: &Vec<Vec3>| perm.iter().map(|&i| v[i]).collect();
        Configuration {
            step: self.step,
            box_sides: self.box_sides,
            energy: self.energy,
            r: pick(&self.r),
            a1: pick(&self.a1),
            a3: pick(&self.a3),
            v: pick(&self.v),
            l: pick(&self.l),
        }
    }

    /// Reads the first frame of a configuration file with `n` nucleotides.
    ///
    /// ```
    /// use oxgrad::io::Configuration;
    /// let c = Configuration::read("tests/data/oxdna/dna1-avg-8bp-T296/init.dat", 16)?;
    /// assert_eq!(c.len(), 16);
    /// // a wrong count is an error that says so, not a panic
    /// assert!(Configuration::read("tests/data/oxdna/dna1-avg-8bp-T296/init.dat", 17).is_err());
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>, n: usize) -> Result<Configuration> {
        let path = path.as_ref();
        TrajectoryReader::open(path, n)?.next_frame()
    }

    /// Writes this frame as a configuration file, whole or not at all.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut w = TrajectoryWriter::create(path)?;
        w.write(self)?;
        w.commit()
    }
}

/// Streams the frames of an oxDNA trajectory, one at a time.
///
/// ```no_run
/// # use oxgrad::io::TrajectoryReader;
/// for frame in TrajectoryReader::open("trajectory.dat", 40)? {
///     let frame = frame?;
///     println!("step {}: {} nucleotides", frame.step, frame.len());
/// }
/// # Ok::<(), oxgrad::Error>(())
/// ```
pub struct TrajectoryReader<R> {
    input: R,
    source: PathBuf,
    n: usize,
    line: usize,
    buf: String,
    done: bool,
    frames: usize,
}

impl TrajectoryReader<BufReader<File>> {
    /// Opens a trajectory whose frames have `n` nucleotides (the topology's count).
    pub fn open(path: impl AsRef<Path>, n: usize) -> Result<Self> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| Error::io("open trajectory", path, e))?;
        Ok(TrajectoryReader::new(BufReader::with_capacity(1 << 20, f), path, n))
    }
}

impl<R: BufRead> TrajectoryReader<R> {
    /// Reads from any buffered source; `source` names it in error messages.
    pub fn new(input: R, source: impl Into<PathBuf>, n: usize) -> Self {
        TrajectoryReader { input, source: source.into(), n, line: 0, buf: String::new(), done: false, frames: 0 }
    }

    /// The next frame; the end of the input is an error (for files that must hold a frame).
    pub fn next_frame(&mut self) -> Result<Configuration> {
        let source = self.source.clone();
        self.next().unwrap_or_else(|| {
            Err(Error::parse(&source, self.line, "a configuration ('t = ...' line)", "the end of the file"))
        })
    }

    /// Reads the next non-blank line into `self.buf`; `false` at the end of the input.
    fn next_line(&mut self) -> Result<bool> {
        loop {
            self.buf.clear();
            let read =
                self.input.read_line(&mut self.buf).map_err(|e| Error::io("read trajectory", &self.source, e))?;
            if read == 0 {
                return Ok(false);
            }
            self.line += 1;
            if !self.buf.trim().is_empty() {
                return Ok(true);
            }
        }
    }

    fn header(&mut self, key: &str, start: usize) -> Result<String> {
        if !self.next_line()? {
            return Err(self.truncated(start, &format!("a '{key} =' line"), "the end of the file"));
        }
        match self.buf.split_once('=') {
            Some((k, v)) if k.trim() == key => Ok(v.trim().to_string()),
            _ => Err(Error::parse(&self.source, self.line, format!("a '{key} = ...' line"), quoted(&self.buf))),
        }
    }

    fn truncated(&self, start: usize, expected: &str, found: &str) -> Error {
        Error::parse(
            &self.source,
            self.line,
            format!("{expected} (frame starting at line {start} is truncated)"),
            found,
        )
    }

    fn numbers<const K: usize>(&self, text: &str, what: &str) -> Result<[f64; K]> {
        let f: Vec<&str> = text.split_whitespace().collect();
        if f.len() != K {
            return Err(Error::parse(&self.source, self.line, format!("{K} numbers ({what})"), quoted(text)));
        }
        let mut out = [0.0; K];
        for (o, t) in out.iter_mut().zip(&f) {
            *o = finite(t)
                .ok_or_else(|| Error::parse(&self.source, self.line, format!("a finite number ({what})"), quoted(t)))?;
        }
        Ok(out)
    }

    /// Reads the nucleotide row `k` of the frame starting at line `start` (the line in
    /// `self.buf`) into `x` (v and L zero in a 9-column row).
    fn row(&self, start: usize, k: usize, x: &mut [f64; 15]) -> Result<()> {
        let (row, n) = (&self.buf, self.n);
        if row.trim_start().starts_with("t ") || row.trim_start().starts_with("t=") {
            return Err(Error::parse(
                &self.source,
                self.line,
                format!(
                    "{n} nucleotide rows (frame starting at line {start} is truncated, or the topology does not match)"
                ),
                format!("{k} rows, then a new frame"),
            ));
        }
        let f: Vec<&str> = row.split_whitespace().collect();
        if f.len() != 15 && f.len() != 9 {
            return Err(Error::parse(
                &self.source,
                self.line,
                "15 columns 'r(3) a1(3) a3(3) v(3) L(3)' (or 9 without v and L)",
                format!("{} columns in {}", f.len(), quoted(row)),
            ));
        }
        *x = [0.0; 15];
        for (c, t) in f.iter().enumerate() {
            x[c] = finite(t).ok_or_else(|| {
                Error::parse(&self.source, self.line, format!("a finite number in column {}", c + 1), quoted(t))
            })?;
        }
        Ok(())
    }

    fn read_frame(&mut self) -> Result<Option<Configuration>> {
        if !self.next_line()? {
            return Ok(None);
        }
        let (first, start) = (&self.buf, self.line);
        let step = match first.split_once('=') {
            Some((k, v)) if k.trim() == "t" => {
                let v = v.trim();
                v.parse::<u64>()
                    .ok()
                    .or_else(|| finite(v).filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x < 1.8e19).map(|x| x as u64))
                    .ok_or_else(|| {
                        Error::parse(&self.source, self.line, "a whole, non-negative step after 't ='", quoted(v))
                    })?
            }
            _ => {
                let row =
                    first.split_whitespace().count() >= 9 && first.split_whitespace().all(|t| t.parse::<f64>().is_ok());
                let expected = if row && self.line > 1 {
                    format!(
                        "a frame header 't = STEP' after {} nucleotide rows (does the topology match the trajectory?)",
                        self.n
                    )
                } else {
                    "a frame header 't = STEP'".to_string()
                };
                return Err(Error::parse(&self.source, self.line, expected, quoted(first)));
            }
        };
        let b = self.header("b", start)?;
        let box_sides = Vec3(self.numbers::<3>(&b, "box sides after 'b ='")?);
        if box_sides.0.iter().any(|&s| s <= 0.0) {
            return Err(Error::parse(&self.source, self.line, "positive box sides", quoted(&b)));
        }
        let e = self.header("E", start)?;
        let energy = self.numbers::<3>(&e, "total, potential and kinetic energy after 'E ='")?;
        let n = self.n;
        let (mut r, mut a1, mut a3, mut v, mut l) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for k in 0..n {
            let mut x = [0.0f64; 15];
            let vec = |x: &[f64; 15], i: usize| Vec3([x[i], x[i + 1], x[i + 2]]);
            let valid = |x: &[f64; 15]| vec(x, 3).norm2() != 0.0 && vec(x, 6).norm2() != 0.0;
            // the common row (plain decimal numbers, ASCII spaces, non-zero a1 and a3, a whole
            // line in the input's buffer) read where it lies; any other row, read or refused, as
            // a line, through the general reader
            let buffered = self.input.fill_buf().map_err(|e| Error::io("read trajectory", &self.source, e))?;
            match fast_row(buffered, &mut x) {
                Some((9 | 15, len)) if buffered[len - 1] == b'\n' && valid(&x) => {
                    self.input.consume(len);
                    self.line += 1;
                }
                _ => {
                    if !self.next_line()? {
                        return Err(self.truncated(
                            start,
                            &format!("{n} nucleotide rows"),
                            &format!("{k} before the end of the file"),
                        ));
                    }
                    // only the end of the file can end a line without its newline; in a trajectory (a
                    // second frame or later) that is a file cut while being written, possibly inside this
                    // row's last number. A single configuration may lack it (files written by hand).
                    if k + 1 == n && !self.buf.ends_with('\n') && self.frames > 0 {
                        return Err(Error::parse(
                            &self.source,
                            self.line,
                            "a newline after the last row of a frame (a trajectory cut while being written, \
                             e.g. by a killed run, can end inside a number); if the file is complete, end it \
                             with a newline, otherwise remove its incomplete last frame",
                            "the end of the file",
                        ));
                    }
                    if !matches!(fast_row(self.buf.as_bytes(), &mut x), Some((9 | 15, _))) {
                        self.row(start, k, &mut x)?;
                    }
                }
            }
            let vec = |i: usize| vec(&x, i);
            if vec(3).norm2() == 0.0 || vec(6).norm2() == 0.0 {
                return Err(Error::parse(
                    &self.source,
                    self.line,
                    "non-zero orientation vectors a1 and a3",
                    quoted(&self.buf),
                ));
            }
            r.push(vec(0));
            a1.push(vec(3));
            a3.push(vec(6));
            v.push(vec(9));
            l.push(vec(12));
        }
        self.frames += 1;
        Ok(Some(Configuration { step, box_sides, energy, r, a1, a3, v, l }))
    }
}

impl<R: BufRead> Iterator for TrajectoryReader<R> {
    type Item = Result<Configuration>;

    /// The next frame; after an error the iterator ends.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_frame() {
            Ok(Some(c)) => Some(Ok(c)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

fn finite(t: &str) -> Option<f64> {
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The numbers of the line at the start of `t` (up to its first `\n`, or all of `t`), plain
/// decimal numbers separated by ASCII spaces or tabs, written to `x`: how many there were and
/// the length of the line with its `\n` (if any). `None` for any other line (more than 15
/// numbers, a token that [`decimal`] does not read), which the general reader then reads or
/// refuses.
fn fast_row(t: &[u8], x: &mut [f64; 15]) -> Option<(usize, usize)> {
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\r');
    let (mut count, mut i) = (0, 0);
    loop {
        while i < t.len() && space(t[i]) {
            i += 1;
        }
        match t.get(i) {
            None => return Some((count, i)),
            Some(b'\n') => return Some((count, i + 1)),
            Some(_) => {}
        }
        *x.get_mut(count)? = decimal(t, &mut i)?;
        if i < t.len() && !space(t[i]) && t[i] != b'\n' {
            return None;
        }
        count += 1;
    }
}

/// The digits at `t[*i..]` as an integer (`*i` moved past them), wrapping beyond 19 digits.
#[inline(always)]
fn digits(t: &[u8], i: &mut usize, mut m: u64) -> u64 {
    // eight bytes at a time, converted as fast_float converts eight digits: the digits before
    // the first byte that is not one, shifted up so that the bytes below read as leading zeros
    while let Some(chunk) = t.get(*i..*i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().unwrap_or_default()).wrapping_sub(0x3030_3030_3030_3030);
        // top bit of a byte set where it is no digit: below '0' it wrapped, above '9' + 0x76
        // carries into it (a borrow or carry only reaches the bytes after such a byte)
        let not_digit = (v | v.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
        let n = not_digit.trailing_zeros() as usize / 8;
        if n == 0 {
            return m;
        }
        let v = v << (8 * (8 - n) % 64);
        let v = v.wrapping_mul(10).wrapping_add(v >> 8);
        let lo = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
        let hi = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
        const SCALE: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
        m = m.wrapping_mul(SCALE[n]).wrapping_add(lo.wrapping_add(hi) >> 32);
        *i += n;
        if n < 8 {
            return m;
        }
    }
    // the last few bytes of the line, one at a time
    while let Some(d) = t.get(*i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(d));
        *i += 1;
    }
    m
}

/// The decimal number `[-+]digits[.digits][(e|E)[-+]digits]` at `t[*i..]` (`*i` moved past
/// it), when its digits, without the point, make an integer m ≤ 2⁵³ and its power of ten p is
/// within ±22: m·10^p or m/10^−p, one rounding of exact operands (Clinger's fast path), so the
/// same `f64` as `str::parse`, which is correctly rounded. `None` for anything else (more
/// digits, other forms), left to `str::parse`.
fn decimal(t: &[u8], i: &mut usize) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];
    let negative = t.get(*i) == Some(&b'-');
    if matches!(t.get(*i), Some(b'-' | b'+')) {
        *i += 1;
    }
    let start = *i;
    let mut m = digits(t, i, 0);
    let whole = *i - start;
    let mut fraction = 0;
    if t.get(*i) == Some(&b'.') {
        *i += 1;
        let point = *i;
        m = digits(t, i, m);
        fraction = *i - point;
    }
    let count = whole + fraction;
    // at most 19 digits (m < 10¹⁹ fits in a u64, no wrap), at least one
    if count == 0 || count > 19 {
        return None;
    }
    let mut exponent = 0i64;
    if matches!(t.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        let negative_exponent = t.get(*i) == Some(&b'-');
        if matches!(t.get(*i), Some(b'-' | b'+')) {
            *i += 1;
        }
        let first = *i;
        let e = digits(t, i, 0);
        if *i == first || *i - first > 3 {
            return None;
        }
        exponent = if negative_exponent { -(e as i64) } else { e as i64 };
    }
    let p = exponent - fraction as i64;
    if m > 1 << 53 || p.unsigned_abs() > 22 {
        return None;
    }
    let v = m as f64; // exact: m ≤ 2⁵³
    let v = if p < 0 { v / POW10[p.unsigned_abs() as usize] } else { v * POW10[p as usize] };
    Some(if negative { -v } else { v })
}

/// Writes frames in oxDNA format. Numbers are printed in the shortest form that reads back to
/// the identical `f64`, so a write–read round trip is exact.
///
/// Two kinds of files: [`TrajectoryWriter::create`] writes a finished result under a temporary
/// name and renames it into place on [`TrajectoryWriter::commit`] (nothing half-written is ever
/// visible); [`TrajectoryWriter::streaming`] writes a growing trajectory, as MD does, where
/// every frame is written whole and flushed, so a reader (or a kill) never sees half a frame.
pub struct TrajectoryWriter<W: Write> {
    out: W,
    path: PathBuf,
    flush_each: bool,
}

impl TrajectoryWriter<AtomicFile> {
    /// Starts a trajectory that appears at `path` only on [`TrajectoryWriter::commit`].
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Ok(TrajectoryWriter { out: AtomicFile::create(path)?, path: path.to_path_buf(), flush_each: false })
    }

    /// Renames the finished trajectory into place.
    pub fn commit(self) -> Result<()> {
        self.out.commit()
    }
}

impl TrajectoryWriter<BufWriter<File>> {
    /// Creates (truncates) a trajectory that grows frame by frame, each flushed whole.
    pub fn streaming(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = File::create(path).map_err(|e| Error::io("create trajectory", path, e))?;
        Ok(TrajectoryWriter { out: BufWriter::new(f), path: path.to_path_buf(), flush_each: true })
    }

    /// Opens a trajectory file for appending frames, each flushed whole.
    pub fn append(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = File::options()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io("append to trajectory", path, e))?;
        Ok(TrajectoryWriter { out: BufWriter::new(f), path: path.to_path_buf(), flush_each: true })
    }
}

impl<W: Write> TrajectoryWriter<W> {
    /// Writes to any sink; `path` names it in error messages.
    pub fn new(out: W, path: impl Into<PathBuf>) -> Self {
        TrajectoryWriter { out, path: path.into(), flush_each: false }
    }

    /// Appends one frame (and flushes it, for a streaming trajectory).
    pub fn write(&mut self, c: &Configuration) -> Result<()> {
        self.write_inner(c).map_err(|e| Error::io("write trajectory", &self.path, e))
    }

    fn write_inner(&mut self, c: &Configuration) -> std::io::Result<()> {
        // the frame is formatted first and written with one call, so it reaches the file whole
        let mut text = String::with_capacity(64 + 200 * c.len());
        use std::fmt::Write as _;
        let _ = writeln!(text, "t = {}", c.step);
        let _ = writeln!(text, "b = {} {} {}", c.box_sides[0], c.box_sides[1], c.box_sides[2]);
        let _ = writeln!(text, "E = {} {} {}", c.energy[0], c.energy[1], c.energy[2]);
        for i in 0..c.len() {
            for (k, v) in [c.r[i], c.a1[i], c.a3[i], c.v[i], c.l[i]].iter().enumerate() {
                if k > 0 {
                    text.push(' ');
                }
                let _ = write!(text, "{} {} {}", v[0], v[1], v[2]);
            }
            text.push('\n');
        }
        self.out.write_all(text.as_bytes())?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io("write trajectory", &self.path, e))
    }

    /// Flushes and closes the writer (a [`TrajectoryWriter::create`]d one is committed with
    /// [`TrajectoryWriter::commit`] instead).
    pub fn finish(mut self) -> Result<()> {
        self.flush()
    }

    /// The underlying sink.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: &str = "t = 5\nb = 10 10 10\nE = 0 0 0\n\
        1 2 3 1 0 0 0 0 1 0 0 0 0 0 0\n\
        4 5 6 0 1 0 0 0 1 0.5 0 0 0 0 0.25\n";

    fn read_all(text: &str, n: usize) -> Vec<Result<Configuration>> {
        TrajectoryReader::new(text.as_bytes(), "x.dat", n).collect()
    }

    /// The fast reader of numbers gives `str::parse`'s `f64` bit for bit, or leaves the token
    /// to it: every form and length, written digits of random values included.
    #[test]
    fn decimal_is_str_parse_or_nothing() {
        let mut tokens: Vec<String> = [
            "0",
            "-0",
            "+0",
            "1.",
            ".5",
            ".",
            "-",
            "+",
            "",
            "1e",
            "1e+",
            "1e5",
            "1E-5",
            "-1.5e+22",
            "1e23",
            "1e-23",
            "9007199254740992",
            "9007199254740993",
            "1234567890123456789",
            "12345678901234567890",
            "00000000000000000001",
            "0.0000000000000000001",
            "1.5x",
            "inf",
            "nan",
            "1..2",
            "1e0001",
            "--1",
            "12345678.12345678",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for k in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = (state >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((k % 9) as i32 - 4) - 0.5;
            tokens.push(format!("{v}"));
            tokens.push(format!("{:.*}", k % 18, v));
            tokens.push(format!("{v:e}"));
        }
        let mut fast = 0;
        for t in &tokens {
            let mut i = 0;
            let got = decimal(t.as_bytes(), &mut i).filter(|_| i == t.len());
            if let Some(g) = got {
                fast += 1;
                assert_eq!(Some(g.to_bits()), t.parse::<f64>().ok().map(f64::to_bits), "{t}");
            }
        }
        assert!(fast > tokens.len() / 2, "{fast} of {} read directly", tokens.len());
    }

    /// Rows read where they lie in the input's buffer or, split across its end, as lines: the
    /// same frames for any buffer size.
    #[test]
    fn any_buffer_size_reads_the_same_frames() {
        let path = "tests/data/oxdna/dna1-avg-8bp-T296/trajectory.dat";
        let frames = |capacity: usize| -> Vec<Configuration> {
            let f = BufReader::with_capacity(capacity, File::open(path).unwrap());
            TrajectoryReader::new(f, path, 16).map(Result::unwrap).collect()
        };
        let whole = frames(1 << 20);
        assert_eq!(whole.len(), 10);
        for capacity in [1, 7, 64, 100, 333, 4096] {
            assert_eq!(frames(capacity), whole, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn reads_two_frames_and_round_trips() {
        let two = format!("{FRAME}{}", FRAME.replace("t = 5", "t = 10"));
        let frames: Vec<_> = read_all(&two, 2).into_iter().map(Result::unwrap).collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].step, 10);
        assert_eq!(frames[0].l[1], Vec3::new(0.0, 0.0, 0.25));
        let mut w = TrajectoryWriter::new(Vec::new(), "mem");
        w.write(&frames[0]).unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        let again = read_all(&text, 2).remove(0).unwrap();
        assert_eq!(again, frames[0]);
    }

    #[test]
    fn truncated_frame_names_its_start() {
        let text = format!("{FRAME}t = 6\nb = 10 10 10\nE = 0 0 0\n1 2 3 1 0 0 0 0 1 0 0 0 0 0 0\n{FRAME}");
        let out = read_all(&text, 2);
        assert!(out[0].is_ok());
        let e = out[1].as_ref().unwrap_err().to_string();
        assert_eq!(
            e,
            "x.dat:10: expected 2 nucleotide rows (frame starting at line 6 is truncated, or the topology does not match), found 1 rows, then a new frame"
        );
        assert_eq!(out.len(), 2, "reading stops after an error");
    }

    #[test]
    fn a_trajectory_cut_inside_its_last_number_is_refused() {
        // a kill while the second frame was written: its last number lost two digits and the newline
        let cut = format!("{FRAME}{}", FRAME.replace("t = 5", "t = 10").replace("0.25\n", "0."));
        let out = read_all(&cut, 2);
        assert!(out[0].is_ok());
        let e = out[1].as_ref().unwrap_err().to_string();
        assert!(e.starts_with("x.dat:10: expected a newline after the last row of a frame"), "{e}");
        assert!(e.contains("found the end of the file"), "{e}");
        // the same frame whole, and a single configuration without its final newline, are read
        assert_eq!(read_all(&format!("{FRAME}{}", FRAME.replace("t = 5", "t = 10")), 2).len(), 2);
        let single = read_all(FRAME.trim_end(), 2);
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].as_ref().unwrap().l[1], Vec3::new(0.0, 0.0, 0.25));
    }
}
