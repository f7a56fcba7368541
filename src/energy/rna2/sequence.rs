//! oxRNA2's sequence-dependent strengths (oxDNA's `use_average_seq = false` with a
//! `seq_dep_file`; Šulc et al. 2014):
//!
//! ```text
//! stacking         ε(p, q = n3(p)) = STCK_X_Y (1 + kT · ST_T_DEP),  X = base of q, Y = base of p
//! H-bonding        ε = HYDR_A_T (A–U), HYDR_C_G (G–C), HYDR_G_T (the G–U wobble pair)
//! cross-stacking   K = CROSS_X_Y for bases X, Y (symmetric)
//! ```
//!
//! oxDNA's file names uracil T (`STCK_G_T`); here parameters name it U (`stck_G_U`). The file
//! gives all 16 `STCK_X_Y` and all 16 `CROSS_X_Y`, `ST_T_DEP`, and each H-bonding pair in either
//! order. The cross-stacking table must be symmetric: oxDNA applies `CROSS_X_Y` with X the base of
//! whichever nucleotide its loop visits first, which differs between its energy and force
//! routines, so an asymmetric table has no single meaning.
//!
//! As parameters of the model the strengths are trainable: `stck_X_Y` and `st_t_dep` of
//! `RnaStacking`, `hydr_A_U`, `hydr_C_G`, `hydr_G_U` of `RnaHydrogenBonding`, and `cross_X_Y`
//! (X ≤ Y in the order A, C, G, U) of `RnaCrossStacking`. Each multiplies the energy of the pairs
//! of its bases ([`crate::energy::EnergyTerm::pair_strength`]).

use crate::error::{Error, Result};
use crate::io::seqdep::SeqDepFile;
use crate::system::Base;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The bases in table order, as oxDNA's file names them.
const FILE_BASES: [char; 4] = ['A', 'C', 'G', 'T'];

/// oxDNA's two spellings of each H-bonding pair (A–U, G–C, G–U).
const HB_KEYS: [[&str; 2]; 3] = [["HYDR_A_T", "HYDR_T_A"], ["HYDR_C_G", "HYDR_G_C"], ["HYDR_G_T", "HYDR_T_G"]];

/// The averaged model's strengths (Šulc et al. 2014): ε_st = 1.40206 + 2.77 kT, ε_HB = 0.870439,
/// K_cross = 59.9626.
const STACK: f64 = 1.40206;
const STACK_KT: f64 = 2.77;
const HB: f64 = 0.870_439;
const CROSS: f64 = 59.9626;

/// The sequence-dependent strengths of oxRNA2 (module docs). Tables are indexed by
/// [`Base::index`] (A, C, G, U).
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceDependence {
    /// `STCK_X_Y` at `[X][Y]`: X the base of the 3'-side nucleotide of a bonded pair, Y the 5' side's.
    pub stack: [[f64; 4]; 4],
    /// `ST_T_DEP`, the temperature coefficient of the stacking strengths.
    pub st_t_dep: f64,
    /// H-bonding strengths of A–U, G–C and G–U.
    pub hb: [f64; 3],
    /// `CROSS_X_Y` at `[X][Y]`, symmetric.
    pub cross: [[f64; 4]; 4],
}

impl SequenceDependence {
    /// The averaged model's strengths in sequence-dependent form: every stacking strength
    /// 1.40206 with `ST_T_DEP` = 2.77 / 1.40206 (so ε_st = 1.40206 + 2.77 kT), H-bonding
    /// 0.870439 for A–U and G–C and 0 for G–U, cross-stacking 59.9626. The model it makes equals
    /// the averaged one; a start for training per-base strengths.
    #[must_use]
    pub fn uniform() -> SequenceDependence {
        SequenceDependence {
            stack: [[STACK; 4]; 4],
            st_t_dep: STACK_KT / STACK,
            hb: [HB, HB, 0.0],
            cross: [[CROSS; 4]; 4],
        }
    }

    /// Reads oxDNA's sequence-dependent RNA parameter file.
    pub fn read(path: impl AsRef<Path>) -> Result<SequenceDependence> {
        SequenceDependence::from_file(&SeqDepFile::read(path)?)
    }

    /// From a parsed file: every key must be one of oxRNA2's (module docs).
    pub fn from_file(file: &SeqDepFile) -> Result<SequenceDependence> {
        for (key, (_, line)) in &file.entries {
            if !is_rna_key(key) {
                let hint = if key == "STCK_FACT_EPS" {
                    "an oxRNA2 key: STCK_FACT_EPS belongs to oxDNA's DNA files, RNA files give ST_T_DEP".to_string()
                } else {
                    "an oxRNA2 key: ST_T_DEP, STCK_X_Y, CROSS_X_Y (X, Y in A, C, G, T), HYDR_A_T, HYDR_C_G, HYDR_G_T"
                        .to_string()
                };
                return Err(Error::parse(&file.source, *line, hint, format!("'{key}'")));
            }
        }
        let cross = file.table("CROSS")?;
        if let Err((x, y)) = symmetric(&cross) {
            let (kx, ky) = (
                format!("CROSS_{}_{}", FILE_BASES[x], FILE_BASES[y]),
                format!("CROSS_{}_{}", FILE_BASES[y], FILE_BASES[x]),
            );
            return Err(Error::parse(
                &file.source,
                file.entries[&kx].1,
                format!(
                    "{kx} equal to {ky} = {}: oxDNA applies one or the other depending on which nucleotide it visits first (its energy and force routines differ), so give a symmetric table",
                    cross[y][x]
                ),
                cross[x][y].to_string(),
            ));
        }
        let mut hb = [0.0; 3];
        for (v, (x, y)) in hb.iter_mut().zip([('A', 'T'), ('C', 'G'), ('G', 'T')]) {
            *v = file.symmetric("HYDR", x, y)?;
        }
        let st_t_dep = file.get("ST_T_DEP").ok_or_else(|| Error::MissingKey {
            source_name: file.source.display().to_string(),
            key: "ST_T_DEP".into(),
            hint: "the temperature coefficient of the stacking strengths (1.97561 in oxDNA's rna file)".into(),
        })?;
        Ok(SequenceDependence { stack: file.table("STCK")?, st_t_dep, hb, cross })
    }

    /// Checks what a model needs: finite strengths and a symmetric cross-stacking table (for
    /// tables built in code; [`SequenceDependence::from_file`] checks files).
    pub fn check(&self) -> Result<()> {
        let all = self.stack.iter().chain(&self.cross).flatten().chain(&self.hb).chain(std::iter::once(&self.st_t_dep));
        if let Some(bad) = all.into_iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid("sequence-dependent strength", bad, "finite numbers"));
        }
        symmetric(&self.cross).map_err(|(x, y)| {
            Error::invalid(
                format!("cross-stacking strength [{x}][{y}]"),
                self.cross[x][y],
                format!("equal to [{y}][{x}] = {} (the table is symmetric)", self.cross[y][x]),
            )
        })
    }

    /// As oxDNA's file: `ST_T_DEP`, the 16 `STCK_X_Y` and `CROSS_X_Y`, and both spellings of
    /// each H-bonding pair (T for uracil, as oxDNA reads it).
    #[must_use]
    pub fn to_file(&self) -> SeqDepFile {
        let mut entries = BTreeMap::new();
        entries.insert("ST_T_DEP".to_string(), (self.st_t_dep, 0));
        for (x, bx) in FILE_BASES.iter().enumerate() {
            for (y, by) in FILE_BASES.iter().enumerate() {
                entries.insert(format!("STCK_{bx}_{by}"), (self.stack[x][y], 0));
                entries.insert(format!("CROSS_{bx}_{by}"), (self.cross[x][y], 0));
            }
        }
        for (v, keys) in self.hb.iter().zip(HB_KEYS) {
            for k in keys {
                entries.insert(k.to_string(), (*v, 0));
            }
        }
        SeqDepFile { source: PathBuf::from("(written by oxgrad)"), entries }
    }
}

/// The first entry (x > y) of a table that differs from its transpose's.
fn symmetric(t: &[[f64; 4]; 4]) -> std::result::Result<(), (usize, usize)> {
    for (x, row) in t.iter().enumerate() {
        for (y, txy) in row[..x].iter().enumerate() {
            if (txy - t[y][x]).abs() > 1e-12 {
                return Err((x, y));
            }
        }
    }
    Ok(())
}

/// Whether `key` is one of oxRNA2's file keys.
fn is_rna_key(key: &str) -> bool {
    let table = |prefix: &str| {
        key.strip_prefix(prefix).is_some_and(|rest| {
            let b = rest.as_bytes();
            b.len() == 3 && FILE_BASES.contains(&(b[0] as char)) && b[1] == b'_' && FILE_BASES.contains(&(b[2] as char))
        })
    };
    key == "ST_T_DEP" || table("STCK_") || table("CROSS_") || HB_KEYS.iter().any(|k| k.contains(&key))
}

/// The stacking parameters, `[X][Y]` = `stck_X_Y` (X the 3'-side base).
pub(crate) const STACK_NAMES: [[&str; 4]; 4] = [
    ["stck_A_A", "stck_A_C", "stck_A_G", "stck_A_U"],
    ["stck_C_A", "stck_C_C", "stck_C_G", "stck_C_U"],
    ["stck_G_A", "stck_G_C", "stck_G_G", "stck_G_U"],
    ["stck_U_A", "stck_U_C", "stck_U_G", "stck_U_U"],
];

/// The cross-stacking parameters, one per unordered pair of bases.
pub(crate) const CROSS_NAMES: [[&str; 4]; 4] = [
    ["cross_A_A", "cross_A_C", "cross_A_G", "cross_A_U"],
    ["cross_A_C", "cross_C_C", "cross_C_G", "cross_C_U"],
    ["cross_A_G", "cross_C_G", "cross_G_G", "cross_G_U"],
    ["cross_A_U", "cross_C_U", "cross_G_U", "cross_U_U"],
];

/// The H-bonding parameters of A–U, G–C and G–U.
pub(crate) const HB_NAMES: [&str; 3] = ["hydr_A_U", "hydr_C_G", "hydr_G_U"];

/// The H-bonding pair of two bases (index into [`HB_NAMES`]): A–U, G–C, and G–U when `wobble`.
pub(crate) fn hb_pair(p: Base, q: Base, wobble: bool) -> Option<usize> {
    match (p.index().min(q.index()), p.index().max(q.index())) {
        (0, 3) => Some(0),
        (1, 2) => Some(1),
        (2, 3) if wobble => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SequenceDependence> {
        SequenceDependence::from_file(&SeqDepFile::parse(text, Path::new("rna.txt"))?)
    }

    /// A complete file with uniform strengths, and `extra` lines after it.
    fn file(extra: &str) -> String {
        SequenceDependence::uniform().to_file().to_text() + extra
    }

    #[test]
    fn files_round_trip_and_bad_ones_say_which_line() {
        assert_eq!(parse(&file("")).unwrap(), SequenceDependence::uniform());
        let e = parse(&file("STCK_FACT_EPS = 0.18\n")).unwrap_err().to_string();
        assert!(e.starts_with("rna.txt:") && e.contains("STCK_FACT_EPS belongs to oxDNA's DNA files"), "{e}");
        let e = parse(&file("STCK_A_U = 1.2\n")).unwrap_err().to_string();
        assert!(e.contains("found 'STCK_A_U'") && e.contains("X, Y in A, C, G, T"), "{e}");
        // an asymmetric cross-stacking table is refused at the entry that differs
        let text = file("").replace("CROSS_C_A = 59.9626", "CROSS_C_A = 50");
        let e = parse(&text).unwrap_err().to_string();
        let line = text.lines().position(|l| l.starts_with("CROSS_C_A")).unwrap() + 1;
        assert!(e.starts_with(&format!("rna.txt:{line}: expected CROSS_C_A equal to CROSS_A_C = 59.9626")), "{e}");
        let e = parse(&file("").replace("ST_T_DEP", "# ST_T_DEP")).unwrap_err().to_string();
        assert!(e.contains("missing required key 'ST_T_DEP'"), "{e}");
        // one spelling of each H-bonding pair is enough; two must agree
        let one = file("").replace("HYDR_T_G = 0\n", "").replace("HYDR_G_T = 0", "HYDR_G_T = 0.5");
        assert_eq!(parse(&one).unwrap().hb[2], 0.5);
        assert!(parse(&file("").replace("HYDR_T_G = 0", "HYDR_T_G = 0.5")).is_err());
    }

    #[test]
    fn pairs_and_names() {
        assert_eq!(hb_pair(Base::U, Base::A, false), Some(0));
        assert_eq!(hb_pair(Base::C, Base::G, false), Some(1));
        assert_eq!(hb_pair(Base::G, Base::U, false), None);
        assert_eq!(hb_pair(Base::U, Base::G, true), Some(2));
        assert_eq!(hb_pair(Base::A, Base::G, true), None);
        for x in 0..4 {
            for y in 0..4 {
                assert_eq!(CROSS_NAMES[x][y], CROSS_NAMES[y][x]);
                assert!(STACK_NAMES[x][y].ends_with(&format!(
                    "{}_{}",
                    "ACGU".as_bytes()[x] as char,
                    "ACGU".as_bytes()[y] as char
                )));
            }
        }
    }
}
