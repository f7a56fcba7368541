//! oxDNA sequence-dependent parameter files (`seq_dep_file`).
//!
//! `KEY = value` lines; values may carry a C-style `f` suffix (`0.18f`); `#` starts a comment.
//! oxDNA1/oxDNA2 files hold `STCK_FACT_EPS`, the 16 stacking strengths `STCK_X_Y` and the
//! hydrogen-bonding strengths `HYDR_A_T`/`HYDR_T_A`, `HYDR_C_G`/`HYDR_G_C` (either spelling of each
//! pair is enough). oxRNA files add `ST_T_DEP`, `HYDR_G_T` and the cross-stacking `CROSS_X_Y`.
//! In `STCK_X_Y`, X is the base of the 3'-side nucleotide of the bonded pair and Y the base of
//! the 5'-side one (Šulc et al. 2012; oxDNA's `oxDNA1_sequence_dependent_parameters.txt` convention).

use crate::error::{quoted, Error, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Base letters in table order.
pub const BASES: [char; 4] = ['A', 'C', 'G', 'T'];

/// A parsed sequence-dependent parameter file.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqDepFile {
    /// Where it came from.
    pub source: PathBuf,
    /// Key → (value, line), in key order.
    pub entries: BTreeMap<String, (f64, usize)>,
}

impl SeqDepFile {
    /// Reads a file.
    pub fn read(path: impl AsRef<Path>) -> Result<SeqDepFile> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io("read sequence-dependent parameter file", path, e))?;
        SeqDepFile::parse(&text, path)
    }

    /// Parses file text; `source` names it in error messages.
    pub fn parse(text: &str, source: &Path) -> Result<SeqDepFile> {
        let mut entries = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(Error::parse(source, i + 1, "'KEY = value'", quoted(line)));
            };
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || k.contains(char::is_whitespace) {
                return Err(Error::parse(source, i + 1, "a key such as STCK_A_T before '='", quoted(line)));
            }
            let value = v
                .trim_end_matches(['f', 'F'])
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Error::parse(source, i + 1, format!("a finite number for {k}"), quoted(v)))?;
            if let Some((_, first)) = entries.insert(k.to_string(), (value, i + 1)) {
                return Err(Error::parse(
                    source,
                    i + 1,
                    format!("each key once ({k} is already set on line {first})"),
                    quoted(line),
                ));
            }
        }
        Ok(SeqDepFile { source: source.to_path_buf(), entries })
    }

    /// The value of `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<f64> {
        self.entries.get(key).map(|e| e.0)
    }

    fn require(&self, key: &str, hint: &str) -> Result<f64> {
        self.get(key).ok_or_else(|| Error::MissingKey {
            source_name: self.source.display().to_string(),
            key: key.to_string(),
            hint: hint.to_string(),
        })
    }

    /// The 4×4 table `PREFIX_X_Y` indexed `[X][Y]` in the order A, C, G, T.
    pub fn table(&self, prefix: &str) -> Result<[[f64; 4]; 4]> {
        let mut t = [[0.0; 4]; 4];
        for (x, bx) in BASES.iter().enumerate() {
            for (y, by) in BASES.iter().enumerate() {
                t[x][y] = self.require(
                    &format!("{prefix}_{bx}_{by}"),
                    &format!("the file must give all 16 {prefix}_X_Y entries"),
                )?;
            }
        }
        Ok(t)
    }

    /// A symmetric pair strength given as `PREFIX_X_Y` or `PREFIX_Y_X` (either spelling suffices;
    /// both must agree when both are present).
    pub fn symmetric(&self, prefix: &str, x: char, y: char) -> Result<f64> {
        let (k1, k2) = (format!("{prefix}_{x}_{y}"), format!("{prefix}_{y}_{x}"));
        match (self.entries.get(&k1), self.entries.get(&k2)) {
            (Some(a), Some(b)) if (a.0 - b.0).abs() > 1e-12 => Err(Error::parse(
                &self.source,
                b.1,
                format!("{k2} equal to {k1} = {} (line {})", a.0, a.1),
                b.0.to_string(),
            )),
            (Some(a), _) | (None, Some(a)) => Ok(a.0),
            (None, None) => Err(Error::MissingKey {
                source_name: self.source.display().to_string(),
                key: k1,
                hint: format!("give {prefix}_{x}_{y} or {prefix}_{y}_{x}"),
            }),
        }
    }

    /// `STCK_FACT_EPS`, the temperature coefficient of the DNA stacking strengths.
    pub fn stck_fact_eps(&self) -> Result<f64> {
        self.require("STCK_FACT_EPS", "oxDNA's DNA files set STCK_FACT_EPS = 0.18")
    }

    /// The file as text, one `KEY = value` per line, keys sorted.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (k, (v, _)) in &self.entries {
            let _ = writeln!(out, "{k} = {v}");
        }
        out
    }

    /// Writes the file.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_text()).map_err(|e| Error::io("write sequence-dependent parameter file", path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_spelling_of_hydrogen_bonding_keys() {
        let f = SeqDepFile::parse("HYDR_T_A = 0.893f\nHYDR_C_G=1.243\n", Path::new("s")).unwrap();
        assert!((f.symmetric("HYDR", 'A', 'T').unwrap() - 0.893).abs() < 1e-15);
        assert!((f.symmetric("HYDR", 'G', 'C').unwrap() - 1.243).abs() < 1e-15);
        let e = f.table("STCK").unwrap_err().to_string();
        assert_eq!(e, "s: missing required key 'STCK_A_A': the file must give all 16 STCK_X_Y entries");
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let e = SeqDepFile::parse("HYDR_A_T = 0.8\nHYDR_C_G = 1\nHYDR_A_T = 0.9\n", Path::new("s")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "s:3: expected each key once (HYDR_A_T is already set on line 1), found 'HYDR_A_T = 0.9'"
        );
    }

    #[test]
    fn bad_number_has_line() {
        let e = SeqDepFile::parse("STCK_FACT_EPS = 0.18\nSTCK_A_A = x1\n", Path::new("s")).unwrap_err();
        assert_eq!(e.to_string(), "s:2: expected a finite number for STCK_A_A, found 'x1'");
    }
}
