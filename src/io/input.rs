//! oxDNA input files: `key = value` lines, `#` comments and nested `{ ... }` blocks.
//!
//! ```text
//! sim_type = MD          # comments run to the end of the line
//! T = 300K
//! analysis_data_output_1 = {
//!   name = energies.dat
//!   col_1 = {
//!     type = step
//!   }
//! }
//! ```
//!
//! Comments and blank lines are kept, so a file that is read, changed with [`InputFile::set`]
//! and written back keeps its layout. Typed getters report the file and line of a bad value.

use crate::error::{quoted, Error, Location, Result};
use crate::units;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The value of an input key: text or a nested block.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Plain text, trimmed.
    Text(String),
    /// A `{ ... }` block.
    Block(Block),
}

/// One line (or block) of an input file.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `key = value`, with the line it was read from (0 if set programmatically).
    Entry {
        /// The key.
        key: String,
        /// The value.
        value: Value,
        /// One-based line number in the source.
        line: usize,
    },
    /// A comment line, without its `#`.
    Comment(String),
    /// A blank line.
    Blank,
}

/// The entries of an input file or of one of its blocks, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Items in order.
    pub items: Vec<Item>,
}

/// A parsed oxDNA input file.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    /// Where it came from (used in error messages and to resolve relative paths).
    pub source: PathBuf,
    /// The top-level block.
    pub root: Block,
}

impl InputFile {
    /// Reads and parses an input file.
    ///
    /// ```
    /// use oxgrad::io::InputFile;
    /// let mut input = InputFile::read("tests/data/oxdna/dna1-avg-8bp-T296/input_md")?;
    /// assert_eq!(input.get("interaction_type"), Some("DNA"));
    /// input.set("steps", 5000);
    /// assert_eq!(input.opt_f64("steps")?, Some(5000.0));
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<InputFile> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read input file", path, e))?;
        InputFile::parse(&text, path)
    }

    /// Parses input text; `source` names it in error messages.
    pub fn parse(text: &str, source: &Path) -> Result<InputFile> {
        let lines: Vec<&str> = text.lines().collect();
        let mut pos = 0;
        let root = parse_block(&lines, &mut pos, source, None)?;
        Ok(InputFile { source: source.to_path_buf(), root })
    }

    /// An empty input labelled `source`.
    #[must_use]
    pub fn new(source: impl Into<PathBuf>) -> InputFile {
        InputFile { source: source.into(), root: Block::default() }
    }

    /// The file as text, entries in order, comments kept.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        write_block(&self.root, 0, &mut out);
        out
    }

    /// Writes the file to `path`, whole or not at all.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::atomic::write(path.as_ref(), self.to_text().as_bytes())
    }

    /// The directory of the file, against which relative paths in it are resolved.
    #[must_use]
    pub fn dir(&self) -> PathBuf {
        self.source.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// Resolves a path value relative to the file's directory.
    pub fn path(&self, key: &str) -> Result<PathBuf> {
        let p = PathBuf::from(self.str(key)?);
        Ok(if p.is_absolute() { p } else { self.dir().join(p) })
    }

    /// The text value of `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.root.get(key)
    }

    /// The block value of `key`, if present.
    #[must_use]
    pub fn block(&self, key: &str) -> Option<&Block> {
        self.root.block(key)
    }

    /// Sets `key` to a text value, replacing an existing entry in place or appending one.
    pub fn set(&mut self, key: &str, value: impl ToString) {
        self.root.set(key, Value::Text(value.to_string()));
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove(&mut self, key: &str) -> bool {
        self.root.remove(key)
    }

    /// The keys at top level, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.root.entries().map(|(k, _, _)| k)
    }

    fn line_of(&self, key: &str) -> usize {
        self.root.entries().filter(|(k, _, _)| *k == key).last().map_or(0, |(_, _, l)| l)
    }

    fn bad(&self, key: &str, expected: impl Into<String>, found: &str) -> Error {
        Error::Parse {
            at: Location { source: self.source.clone(), line: self.line_of(key) },
            expected: expected.into(),
            found: format!("{} = {}", key, quoted(found).trim_matches('\'')),
        }
    }

    /// The required text value of `key`.
    pub fn str(&self, key: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| Error::MissingKey {
            source_name: self.source.display().to_string(),
            key: key.to_string(),
            hint: format!("add a line '{key} = ...'"),
        })
    }

    /// The required value of `key` as a number.
    pub fn f64(&self, key: &str) -> Result<f64> {
        let v = self.str(key)?;
        parse_f64(v).ok_or_else(|| self.bad(key, format!("a finite number for '{key}'"), v))
    }

    /// The value of `key` as a number, if present.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        self.get(key).map(|_| self.f64(key)).transpose()
    }

    /// The required value of `key` as a non-negative whole number (`1e5` is accepted).
    pub fn u64(&self, key: &str) -> Result<u64> {
        let v = self.str(key)?;
        v.parse::<u64>()
            .ok()
            .or_else(|| parse_f64(v).filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x < 1.8e19).map(|x| x as u64))
            .ok_or_else(|| self.bad(key, format!("a non-negative whole number for '{key}'"), v))
    }

    /// The value of `key` as a whole number, if present.
    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        self.get(key).map(|_| self.u64(key)).transpose()
    }

    /// The value of `key` as a boolean (`true`/`false`, `1`/`0`, `yes`/`no`), or `default`.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(self.bad(key, format!("true or false for '{key}'"), v)),
        }
    }

    /// The required temperature `key` as k_B T in simulation units (`300K`, `27C`, `0.1`).
    pub fn temperature(&self, key: &str) -> Result<f64> {
        let v = self.str(key)?;
        units::parse_temperature(v)
            .map_err(|msg| self.bad(key, msg.split(", found").next().unwrap_or(&msg).to_string(), v))
    }
}

/// The bare `{ … }` blocks of a file such as oxDNA's `external_forces_file` or `op_file`, each
/// with the line of its `{`. Inside a block the syntax is an input file's; a `key = value` line
/// outside every block is refused with its line.
///
/// ```
/// use oxgrad::io::input::blocks;
/// let text = "# two blocks\n{\n  type = trap\n}\n{ type = string; F0 = 1 }\n";
/// let b = blocks(text, std::path::Path::new("forces.txt"))?;
/// assert_eq!((b.len(), b[0].1, b[1].1), (2, 2, 5));
/// assert_eq!(b[1].0.get("F0"), Some("1"));
/// # Ok::<(), oxgrad::Error>(())
/// ```
pub fn blocks(text: &str, source: &Path) -> Result<Vec<(Block, usize)>> {
    // give each bare block a key, one line for one line, so the input parser reads it and its lines
    let mut keyed = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        if line.trim_start().starts_with('{') {
            let _ = writeln!(keyed, "block = {}", line.trim());
        } else {
            keyed.push_str(line);
            keyed.push('\n');
        }
    }
    let file = InputFile::parse(&keyed, source)?;
    file.root
        .entries()
        .map(|(key, value, line)| match value {
            Value::Block(b) => Ok((b.clone(), line)),
            Value::Text(_) => Err(Error::parse(
                source,
                line,
                "a '{ … }' block of key = value lines",
                format!("'{key} = …' outside a block"),
            )),
        })
        .collect()
}

impl Block {
    /// `(key, value, line)` of each entry, in order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Value, usize)> {
        self.items.iter().filter_map(|i| match i {
            Item::Entry { key, value, line } => Some((key.as_str(), value, *line)),
            _ => None,
        })
    }

    /// The text value of `key` (the last one if the key repeats, as oxDNA does).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries().filter(|(k, _, _)| *k == key).last().and_then(|(_, v, _)| match v {
            Value::Text(t) => Some(t.as_str()),
            Value::Block(_) => None,
        })
    }

    /// The block value of `key`.
    #[must_use]
    pub fn block(&self, key: &str) -> Option<&Block> {
        self.entries().filter(|(k, _, _)| *k == key).last().and_then(|(_, v, _)| match v {
            Value::Block(b) => Some(b),
            Value::Text(_) => None,
        })
    }

    /// Sets `key`, replacing the last entry of that key in place or appending.
    pub fn set(&mut self, key: &str, value: Value) {
        let existing = self.items.iter_mut().rev().find_map(|i| match i {
            Item::Entry { key: k, value: v, .. } if k == key => Some(v),
            _ => None,
        });
        match existing {
            Some(v) => *v = value,
            None => self.items.push(Item::Entry { key: key.to_string(), value, line: 0 }),
        }
    }

    /// Removes every entry of `key`; returns whether any was present.
    pub fn remove(&mut self, key: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|i| !matches!(i, Item::Entry { key: k, .. } if k == key));
        self.items.len() != before
    }
}

fn strip_comment(line: &str) -> (&str, Option<&str>) {
    match line.find('#') {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    }
}

/// Parses lines from `*pos` until the end (top level) or a closing `}` (inside a block opened
/// at `open` = (key, line)).
fn parse_block(lines: &[&str], pos: &mut usize, source: &Path, open: Option<(&str, usize)>) -> Result<Block> {
    let mut block = Block::default();
    while *pos < lines.len() {
        let lineno = *pos + 1;
        let raw = lines[*pos];
        *pos += 1;
        let (content, comment) = strip_comment(raw);
        let content = content.trim();
        if content.is_empty() {
            block.items.push(match comment {
                Some(c) => Item::Comment(c.to_string()),
                None => Item::Blank,
            });
            continue;
        }
        if content == "}" {
            return match open {
                Some(_) => Ok(block),
                None => Err(Error::parse(source, lineno, "'key = value' (no block is open)", "'}'")),
            };
        }
        let Some((key, value)) = content.split_once('=') else {
            return Err(Error::parse(source, lineno, "'key = value'", quoted(content)));
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) || key.contains(['{', '}']) {
            return Err(Error::parse(source, lineno, "a key without spaces before '='", quoted(content)));
        }
        let value = value.trim();
        let value = if let Some(rest) = value.strip_prefix('{') {
            let rest = rest.trim();
            if let Some(inner) = rest.strip_suffix('}') {
                // a one-line block: `key = { a = 1 }`
                let inner_lines: Vec<&str> = inner.split(';').collect();
                let mut p = 0;
                let mut b = parse_block(&inner_lines, &mut p, source, None)
                    .map_err(|_| Error::parse(source, lineno, "'key = value' pairs inside '{ }'", quoted(content)))?;
                for item in &mut b.items {
                    if let Item::Entry { line, .. } = item {
                        *line = lineno;
                    }
                }
                Value::Block(b)
            } else if rest.is_empty() {
                let inner = parse_block(lines, pos, source, Some((key, lineno)))?;
                Value::Block(inner)
            } else {
                return Err(Error::parse(source, lineno, "a line break after '{'", quoted(content)));
            }
        } else {
            if value.is_empty() {
                return Err(Error::parse(source, lineno, format!("a value after '{key} ='"), "nothing"));
            }
            Value::Text(value.to_string())
        };
        block.items.push(Item::Entry { key: key.to_string(), value, line: lineno });
    }
    match open {
        None => Ok(block),
        Some((key, line)) => Err(Error::parse(
            source,
            lines.len(),
            format!("'}}' closing the block '{key}' opened at line {line}"),
            "the end of the file",
        )),
    }
}

fn write_block(block: &Block, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    for item in &block.items {
        match item {
            Item::Blank => out.push('\n'),
            Item::Comment(c) => {
                let _ = writeln!(out, "{indent}#{c}");
            }
            Item::Entry { key, value: Value::Text(t), .. } => {
                let _ = writeln!(out, "{indent}{key} = {t}");
            }
            Item::Entry { key, value: Value::Block(b), .. } => {
                let _ = writeln!(out, "{indent}{key} = {{");
                write_block(b, depth + 1, out);
                let _ = writeln!(out, "{indent}}}");
            }
        }
    }
}

fn parse_f64(text: &str) -> Option<f64> {
    text.trim().trim_end_matches(['f', 'F']).parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# header\nsim_type = MD\nT = 300K # room\n\nout = {\n  name = e.dat\n  col_1 = {\n    type = step\n  }\n}\nsteps = 1e5\n";

    #[test]
    fn nested_blocks_and_typed_getters() {
        let f = InputFile::parse(TEXT, Path::new("input")).unwrap();
        assert_eq!(f.get("sim_type"), Some("MD"));
        assert!((f.temperature("T").unwrap() - 0.1).abs() < 1e-15);
        assert_eq!(f.u64("steps").unwrap(), 100_000);
        let out = f.block("out").unwrap();
        assert_eq!(out.get("name"), Some("e.dat"));
        assert_eq!(out.block("col_1").unwrap().get("type"), Some("step"));
    }

    #[test]
    fn round_trip_keeps_values_and_comments() {
        let mut f = InputFile::parse(TEXT, Path::new("input")).unwrap();
        f.set("steps", 10);
        let again = InputFile::parse(&f.to_text(), Path::new("input")).unwrap();
        assert_eq!(again.u64("steps").unwrap(), 10);
        assert_eq!(again.block("out"), f.block("out"));
        assert!(again.to_text().starts_with("# header\n"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = InputFile::parse("a = 1\nb = {\n c = 2\n", Path::new("in")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "in:3: expected '}' closing the block 'b' opened at line 2, found the end of the file"
        );
        let f = InputFile::parse("x = 1\nT = 300F\n", Path::new("in")).unwrap();
        assert_eq!(
            f.temperature("T").unwrap_err().to_string(),
            "in:2: expected a temperature unit K (kelvin), C (Celsius) or none (simulation units), found T = 300F"
        );
        let e = InputFile::parse("just words\n", Path::new("in")).unwrap_err();
        assert_eq!(e.to_string(), "in:1: expected 'key = value', found 'just words'");
        assert_eq!(f.str("dt").unwrap_err().to_string(), "in: missing required key 'dt': add a line 'dt = ...'");
    }
}
