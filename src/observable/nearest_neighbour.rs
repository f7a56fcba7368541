//! The nearest-neighbour melting temperature of a DNA duplex: the reference value that oxDNA
//! melting temperatures are compared with, and fitted to.
//!
//! **Model** (J. SantaLucia Jr., Proc. Natl. Acad. Sci. USA 95, 1460–1465 (1998), the "unified"
//! parameters of its Table 2; the same values as H. T. Allawi & J. SantaLucia Jr., Biochemistry
//! 36, 10581 (1997)). A duplex of the strand 5'-s₁…s_N-3' with its Watson–Crick complement, N base
//! pairs, forms with
//!
//! ```text
//! ΔH° = Σ_{i=1}^{N−1} ΔH°(s_i s_{i+1}) + ΔH°(init, 5' end) + ΔH°(init, 3' end) + ΔH°(sym)
//! ΔS° = the same sums of ΔS°                                       (both in 1 M NaCl)
//! ```
//!
//! over the N − 1 stacks of neighbouring pairs (ten distinct Watson–Crick stacks: 5'-TT-3' on one
//! strand is 5'-AA-3' on the other), one initiation term per terminal base pair (with a terminal
//! G·C or a terminal A·T pair) and the symmetry correction for a self-complementary sequence (one
//! equal to its own reverse complement; zero otherwise):
//!
//! | | ΔH° kcal/mol | ΔS° cal/(mol·K) | ΔG°37 kcal/mol |
//! |---|---|---|---|
//! | AA/TT | −7.9 | −22.2 | −1.00 |
//! | AT/TA | −7.2 | −20.4 | −0.88 |
//! | TA/AT | −7.2 | −21.3 | −0.58 |
//! | CA/GT | −8.5 | −22.7 | −1.45 |
//! | GT/CA | −8.4 | −22.4 | −1.44 |
//! | CT/GA | −7.8 | −21.0 | −1.28 |
//! | GA/CT | −8.2 | −22.2 | −1.30 |
//! | CG/GC | −10.6 | −27.2 | −2.17 |
//! | GC/CG | −9.8 | −24.4 | −2.24 |
//! | GG/CC | −8.0 | −19.9 | −1.84 |
//! | init. w/ terminal G·C | 0.1 | −2.8 | 0.98 |
//! | init. w/ terminal A·T | 2.3 | 4.1 | 1.03 |
//! | symmetry correction | 0 | −1.4 | 0.43 |
//!
//! (`AT/TA` is 5'-AT-3' paired with 3'-TA-5'.) The paper fits its ΔG°37 column separately; it
//! agrees with ΔH° − 310.15 K · ΔS° to 0.02 kcal/mol per entry, and [`NearestNeighbour::dg37_table`]
//! sums it as the paper's worked example does.
//!
//! **Salt** (the same paper, eq. 7): only the entropy depends on the sodium concentration,
//!
//! ```text
//! ΔS°([Na⁺]) = ΔS°(1 M NaCl) + 0.368 · (N − 1) · ln[Na⁺]        [Na⁺] in mol/L
//! ```
//!
//! (N − 1 is the number of phosphates of the duplex over two, for strands without terminal
//! phosphates.) The paper fits it on 0.05–1 M.
//!
//! **Melting temperature.** Tm is where half of the strands are in duplexes. With C_T the total
//! strand concentration and x = 4 for two different strands at equal concentrations (x = 1 for a
//! self-complementary strand), mass action gives K(Tm) = x / C_T and
//!
//! ```text
//! Tm = ΔH° / (ΔS° + R ln(C_T / x))           R = 1.987 cal/(mol·K) (SantaLucia's value)
//! ```
//!
//! in kelvin, with ΔH° in cal/mol. ΔG°(T) = ΔH° − T ΔS° (kcal/mol), ΔG°37 at T = 310.15 K.
//!
//! **The oxDNA box.** A simulation of one strand of each kind in a periodic box of volume V holds
//! each strand at c = 1/V ([`crate::units::molar_from_volume`]: 3.36 × 10⁻⁴ M at box side 20), so
//! C_T = 2c: the Tm that [`super::melting`] reports at the box's concentration (its module docs
//! derive the same correspondence) compares with [`NearestNeighbour::tm`]`(molar_from_volume(V),
//! salt)`. [`NearestNeighbour::tm`] takes c, the concentration of each of the duplex's two
//! strands, for that reason; a self-complementary duplex's two strands are one species at
//! C_T = 2c (two copies of the strand in the box). [`NearestNeighbour::tm_total`] takes C_T
//! itself. oxDNA1 was parametrised against these SantaLucia temperatures at [Na⁺] = 0.5 M
//! (Ouldridge, Louis & Doye, J. Chem. Phys. 134, 085101 (2011)); the paper's own reference state
//! is 1 M.
//!
//! ```
//! use oxgrad::observable::nearest_neighbour::NearestNeighbour;
//! use oxgrad::units::molar_from_volume;
//! let nn = NearestNeighbour::from_text("CGTTGA")?;
//! assert!((nn.dh - -41.2).abs() < 1e-9 && (nn.ds - -115.4).abs() < 1e-9);
//! assert!((nn.dg37_table() - -5.35).abs() < 1e-9); // the paper's worked example
//! let c = molar_from_volume(20f64.powi(3)); // one strand of each kind in a box of side 20
//! let tm = nn.tm(c, 1.0)?;                   // kelvin
//! assert!((tm - 1000.0 * nn.dh / (nn.ds + 1.987 * (2.0 * c / 4.0).ln())).abs() < 1e-9);
//! # Ok::<(), oxgrad::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::system::Base;

/// The gas constant in SantaLucia's units, cal/(mol·K) (the value the paper and common
/// calculators use; CODATA's is 1.98720).
pub const R_CAL: f64 = 1.987;

/// 37 °C in kelvin: the temperature of ΔG°37.
pub const T37_K: f64 = 310.15;

/// The sodium concentration of the parameters' reference state, mol/L.
pub const REFERENCE_SODIUM_MOLAR: f64 = 1.0;

/// One parameter of the table: ΔH° (kcal/mol), ΔS° (cal/(mol·K)), ΔG°37 (kcal/mol), 1 M NaCl.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parameter {
    /// The row's name as the paper writes it (`AA/TT`, `init w/ term G·C`).
    pub name: &'static str,
    /// ΔH°, kcal/mol.
    pub dh: f64,
    /// ΔS°, cal/(mol·K).
    pub ds: f64,
    /// ΔG°37 of the paper's own column, kcal/mol.
    pub dg37: f64,
}

const fn p(name: &'static str, dh: f64, ds: f64, dg37: f64) -> Parameter {
    Parameter { name, dh, ds, dg37 }
}

/// The ten Watson–Crick stacks of SantaLucia (1998), Table 2, keyed by the top strand's
/// dinucleotide 5'→3'.
pub const STACKS: [Parameter; 10] = [
    p("AA/TT", -7.9, -22.2, -1.00),
    p("AT/TA", -7.2, -20.4, -0.88),
    p("TA/AT", -7.2, -21.3, -0.58),
    p("CA/GT", -8.5, -22.7, -1.45),
    p("GT/CA", -8.4, -22.4, -1.44),
    p("CT/GA", -7.8, -21.0, -1.28),
    p("GA/CT", -8.2, -22.2, -1.30),
    p("CG/GC", -10.6, -27.2, -2.17),
    p("GC/CG", -9.8, -24.4, -2.24),
    p("GG/CC", -8.0, -19.9, -1.84),
];

/// Initiation with a terminal G·C pair (once per such end).
pub const INIT_GC: Parameter = p("init w/ term G·C", 0.1, -2.8, 0.98);
/// Initiation with a terminal A·T pair (once per such end).
pub const INIT_AT: Parameter = p("init w/ term A·T", 2.3, 4.1, 1.03);
/// The symmetry correction of a self-complementary duplex.
pub const SYMMETRY: Parameter = p("symmetry correction", 0.0, -1.4, 0.43);

/// The stack of `a` followed (3'-ward) by `b` on the top strand.
fn stack(a: Base, b: Base) -> Parameter {
    let key = [a.letter(), b.letter()];
    let reverse = [b.complement().letter(), a.complement().letter()];
    STACKS
        .iter()
        .find(|s| {
            let top: Vec<char> = s.name.chars().take(2).collect();
            top == key || top == reverse
        })
        .copied()
        // every one of the 16 DNA dinucleotides is a row or the reverse complement of one
        .unwrap_or(Parameter { name: "?", dh: f64::NAN, ds: f64::NAN, dg37: f64::NAN })
}

fn terminal(b: Base) -> Parameter {
    match b {
        Base::C | Base::G => INIT_GC,
        _ => INIT_AT,
    }
}

/// A DNA duplex's SantaLucia (1998) thermodynamics (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct NearestNeighbour {
    /// The top strand, 5'→3'; the duplex pairs it with its Watson–Crick complement.
    pub sequence: Vec<Base>,
    /// ΔH° of duplex formation, kcal/mol (1 M NaCl; independent of salt in this model).
    pub dh: f64,
    /// ΔS° of duplex formation in 1 M NaCl, cal/(mol·K) ([`NearestNeighbour::entropy`] for
    /// another salt concentration).
    pub ds: f64,
    /// Whether the sequence is its own reverse complement (both strands the same species).
    pub self_complementary: bool,
    dg37_table: f64,
}

impl NearestNeighbour {
    /// The duplex of `seq` (5'→3') and its complement: A, C, G, T only, at least 2 base pairs.
    pub fn duplex(seq: &[Base]) -> Result<NearestNeighbour> {
        let text: String = seq.iter().map(|b| b.letter()).collect();
        if let Some(i) = seq.iter().position(|&b| b == Base::U) {
            return Err(Error::invalid(
                "sequence",
                &text,
                format!("base {} is U: SantaLucia's (1998) parameters are for DNA duplexes; write T for U", i + 1),
            ));
        }
        if seq.len() < 2 {
            return Err(Error::invalid(
                "sequence",
                if text.is_empty() { "\"\"".to_string() } else { text },
                "a duplex needs at least 2 base pairs (one nearest-neighbour stack), e.g. GCGTCATACAGTGC",
            ));
        }
        let mut terms: Vec<Parameter> = seq.windows(2).map(|w| stack(w[0], w[1])).collect();
        terms.push(terminal(seq[0]));
        terms.push(terminal(seq[seq.len() - 1]));
        let self_complementary = seq.iter().zip(seq.iter().rev()).all(|(a, b)| a.pairs_with(*b));
        if self_complementary {
            terms.push(SYMMETRY);
        }
        Ok(NearestNeighbour {
            sequence: seq.to_vec(),
            dh: terms.iter().map(|t| t.dh).sum(),
            ds: terms.iter().map(|t| t.ds).sum(),
            self_complementary,
            dg37_table: terms.iter().map(|t| t.dg37).sum(),
        })
    }

    /// The duplex of a sequence written as text (A, C, G, T, case-insensitive; spaces ignored).
    pub fn from_text(text: &str) -> Result<NearestNeighbour> {
        let letters: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut seq = Vec::with_capacity(letters.len());
        for (i, &c) in letters.iter().enumerate() {
            match Base::from_letter(c) {
                Some(b) => seq.push(b),
                None => {
                    return Err(Error::invalid(
                        "sequence",
                        text,
                        format!(
                        "character {} is '{c}'; SantaLucia's (1998) parameters cover the DNA bases A, C, G and T only",
                        i + 1
                    ),
                    ))
                }
            }
        }
        NearestNeighbour::duplex(&seq)
    }

    /// The number of base pairs N.
    #[must_use]
    pub fn base_pairs(&self) -> usize {
        self.sequence.len()
    }

    /// The top strand, 5'→3', as letters.
    #[must_use]
    pub fn top(&self) -> String {
        self.sequence.iter().map(|b| b.letter()).collect()
    }

    /// The complementary strand written 3'→5', base by base under the top strand.
    #[must_use]
    pub fn bottom(&self) -> String {
        self.sequence.iter().map(|b| b.complement().letter()).collect()
    }

    /// x of Tm = ΔH° / (ΔS° + R ln(C_T/x)): 4 for two different strands at equal
    /// concentrations, 1 for a self-complementary strand.
    #[must_use]
    pub fn concentration_divisor(&self) -> f64 {
        if self.self_complementary {
            1.0
        } else {
            4.0
        }
    }

    /// The salt term 0.368 (N − 1) ln[Na⁺] of ΔS°, cal/(mol·K).
    pub fn salt_entropy(&self, sodium_molar: f64) -> Result<f64> {
        check_sodium(sodium_molar)?;
        Ok(0.368 * (self.base_pairs() as f64 - 1.0) * sodium_molar.ln())
    }

    /// ΔS° at `sodium_molar` mol/L Na⁺, cal/(mol·K).
    pub fn entropy(&self, sodium_molar: f64) -> Result<f64> {
        Ok(self.ds + self.salt_entropy(sodium_molar)?)
    }

    /// ΔG° = ΔH° − T ΔS° at `kelvin` and `sodium_molar`, kcal/mol.
    pub fn dg(&self, kelvin: f64, sodium_molar: f64) -> Result<f64> {
        if !(kelvin.is_finite() && kelvin > 0.0) {
            return Err(Error::invalid("temperature", kelvin, "a positive temperature in kelvin, e.g. 310.15"));
        }
        Ok(self.dh - kelvin * self.entropy(sodium_molar)? / 1000.0)
    }

    /// ΔG°37 = ΔH° − 310.15 K · ΔS° at `sodium_molar`, kcal/mol.
    pub fn dg37(&self, sodium_molar: f64) -> Result<f64> {
        self.dg(T37_K, sodium_molar)
    }

    /// ΔG°37 in 1 M NaCl summed from the paper's own ΔG°37 column, kcal/mol, as its worked
    /// example computes it (within a few hundredths of [`NearestNeighbour::dg37`]`(1.0)`).
    #[must_use]
    pub fn dg37_table(&self) -> f64 {
        self.dg37_table
    }

    /// The total strand concentration C_T when each of the duplex's two strands is at
    /// `strand_molar`: 2 c (for a self-complementary duplex, two strands of the one species).
    #[must_use]
    pub fn total_concentration(&self, strand_molar: f64) -> f64 {
        2.0 * strand_molar
    }

    /// The melting temperature in kelvin with each of the two strands at `strand_molar` mol/L
    /// (C_T = 2c; one strand of each kind in an oxDNA box of volume V: c = 1/V) and
    /// `sodium_molar` mol/L Na⁺.
    pub fn tm(&self, strand_molar: f64, sodium_molar: f64) -> Result<f64> {
        check_concentration("strand concentration", strand_molar)?;
        self.tm_total(self.total_concentration(strand_molar), sodium_molar)
    }

    /// The melting temperature in kelvin at the total strand concentration `total_molar` (C_T,
    /// mol/L) and `sodium_molar` mol/L Na⁺.
    pub fn tm_total(&self, total_molar: f64, sodium_molar: f64) -> Result<f64> {
        check_concentration("total strand concentration", total_molar)?;
        let denominator = self.entropy(sodium_molar)? + R_CAL * (total_molar / self.concentration_divisor()).ln();
        let tm = 1000.0 * self.dh / denominator;
        if !(denominator < 0.0 && tm.is_finite() && tm > 0.0) {
            return Err(Error::invalid(
                "total strand concentration",
                total_molar,
                format!(
                    "at this concentration ΔS° + R ln(C_T/{}) = {denominator:.2} cal/(mol·K) is not negative, so the duplex never melts: give a concentration in mol/L, e.g. 1e-6",
                    self.concentration_divisor()
                ),
            ));
        }
        Ok(tm)
    }
}

fn check_concentration(what: &str, molar: f64) -> Result<()> {
    if molar.is_finite() && molar > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(what, molar, "a positive concentration in mol/L, e.g. 1e-6 (1 µM)"))
    }
}

fn check_sodium(molar: f64) -> Result<()> {
    crate::units::check_salt(molar).map(|_| ()).map_err(|msg| Error::invalid("sodium concentration", molar, msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observable::melting::Molecularity;

    fn nn(text: &str) -> NearestNeighbour {
        NearestNeighbour::from_text(text).unwrap()
    }

    /// Each of the 13 rows: the paper's separately fitted ΔG°37 column agrees with
    /// ΔH° − 310.15 ΔS° to 0.02 kcal/mol. A mistyped digit of ΔH° (0.1 kcal/mol) or a larger slip
    /// of ΔS° shows here; the calculators' values below, whose sequences use every row, catch the
    /// rest.
    #[test]
    fn the_table_is_consistent_with_its_own_dg37_column() {
        for p in STACKS.iter().chain([&INIT_GC, &INIT_AT, &SYMMETRY]) {
            let dg = p.dh - T37_K * p.ds / 1000.0;
            assert!((dg - p.dg37).abs() < 0.02, "{}: {dg} vs {}", p.name, p.dg37);
        }
    }

    /// All 16 dinucleotides find a stack, and a stack read from the other strand is the same.
    #[test]
    fn every_dinucleotide_has_a_stack() {
        let bases = [Base::A, Base::C, Base::G, Base::T];
        for a in bases {
            for b in bases {
                let s = stack(a, b);
                assert!(s.dh.is_finite(), "{}{}", a.letter(), b.letter());
                assert_eq!(s, stack(b.complement(), a.complement()));
            }
        }
    }

    /// SantaLucia (1998)'s worked example, 5'-CGTTGA-3'/3'-GCAACT-5': ΔG°37 = init w/ term G·C +
    /// init w/ term A·T + CG/GC + GT/CA + TT/AA + TG/AC + GA/CT = 0.98 + 1.03 − 2.17 − 1.44 −
    /// 1.00 − 1.45 − 1.30 = −5.35 kcal/mol (the paper's ΔG°37 column); the ΔH°, ΔS° columns
    /// give −41.2 kcal/mol, −115.4 cal/(mol·K) and −5.41 kcal/mol at 310.15 K.
    #[test]
    fn the_papers_worked_example() {
        let d = nn("CGTTGA");
        assert!(!d.self_complementary);
        assert_eq!(d.bottom(), "GCAACT");
        assert!((d.dg37_table() - -5.35).abs() < 1e-9, "{}", d.dg37_table());
        assert!((d.dh - -41.2).abs() < 1e-9 && (d.ds - -115.4).abs() < 1e-9, "{} {}", d.dh, d.ds);
        assert!((d.dg37(1.0).unwrap() - (-41.2 + 310.15 * 0.1154)).abs() < 1e-9);
    }

    /// Biopython 1.88's documented example (Bio.SeqUtils.MeltingTemp module docs):
    /// `Tm_NN("CGTTCCAAAGATGTGGGCATGAGCTTAC")` prints 60.32 °C with its defaults, which are this
    /// model: table DNA_NN3 (Allawi & SantaLucia 1997 = SantaLucia 1998 unified), 25 nM of each
    /// strand (k = C_T/4), 50 mM Na⁺, saltcorr = 5 (0.368 (N − 1) ln[Na⁺] on ΔS), R = 1.987.
    #[test]
    fn biopython_documented_value() {
        let tm = nn("CGTTCCAAAGATGTGGGCATGAGCTTAC").tm(25e-9, 0.05).unwrap() - 273.15;
        assert!((tm - 60.32).abs() < 0.005, "{tm}");
    }

    /// Biopython 1.88 run by hand (not a documented value) on a duplex with two terminal A·T pairs,
    /// which the documented example lacks: `Tm_NN("AGATCAGATGCT", nn_table=DNA_NN3, dnac1=1000,
    /// dnac2=1000, Na=150, saltcorr=5)` = 41.924124 °C (1 µM each strand, 0.15 M Na⁺).
    #[test]
    fn biopython_terminal_at_pairs() {
        let tm = nn("AGATCAGATGCT").tm(1e-6, 0.15).unwrap() - 273.15;
        assert!((tm - 41.924124).abs() < 1e-5, "{tm}");
    }

    /// MELTING 5 through rmelting (its tests/testthat/test-method.nn.R and
    /// test-correction.ion[Na].R, method.nn = "all97", the same unified parameters), at
    /// nucleic.acid.conc = 2 µM, which MELTING takes as C_T (x = 4 for two strands, 1 for a
    /// self-complementary one): 73.35168 °C (20-mer, 1 M), 56.00644 °C (self-complementary
    /// CATATGGCCATATG, 1 M), 54.15157 °C (CCAGCCAGTCTCTCC, 0.069 M Na⁺ with SantaLucia's entropy
    /// correction, "san04"). This code is 0.03–0.04 K above each (cause not known: MELTING's
    /// constants); a wrong x or a wrong salt formula would be 1 K or more off.
    #[test]
    fn melting5_values() {
        let cases = [
            ("CAGTGAGACAGCAATGGTCG", 1.0, 73.35168),
            ("CATATGGCCATATG", 1.0, 56.00644),
            ("CCAGCCAGTCTCTCC", 0.069, 54.15157),
        ];
        for (seq, na, expected) in cases {
            let tm = nn(seq).tm_total(2e-6, na).unwrap() - 273.15;
            assert!((tm - expected).abs() < 0.05, "{seq}: {tm} vs MELTING's {expected}");
        }
        assert!(nn("CATATGGCCATATG").self_complementary);
    }

    /// A self-complementary strand: the symmetry term, x = 1, and C_T = 2c in [`tm`].
    #[test]
    fn self_complementary() {
        let d = nn("CATATGGCCATATG");
        let plain = nn("CATATGGCCATATC"); // not self-complementary; same terminal pairs
        assert!(d.self_complementary && !plain.self_complementary);
        assert_eq!(d.concentration_divisor(), 1.0);
        // ΔS° includes −1.4, ΔH° nothing: recompute ΔS° from the rows by hand
        // CA AT TA AT TG(=CA) GG GC CC(=GG) CA AT TA AT TG, two terminal G·C, symmetry
        let stacks = [-22.7, -20.4, -21.3, -20.4, -22.7, -19.9, -24.4, -19.9, -22.7, -20.4, -21.3, -20.4, -22.7];
        let by_hand = stacks.iter().sum::<f64>() + 2.0 * -2.8 - 1.4;
        assert!((by_hand - -286.2).abs() < 1e-9);
        assert!((d.ds - by_hand).abs() < 1e-9, "{} vs {by_hand}", d.ds);
        let c: f64 = 1e-6;
        let expected = 1000.0 * d.dh / (d.ds + R_CAL * (2.0 * c).ln());
        assert!((d.tm(c, 1.0).unwrap() - expected).abs() < 1e-9);
        assert!(!nn("ACGTA").self_complementary); // odd length never is
    }

    /// Lowering [Na⁺] lowers Tm, by exactly 1/Tm(Na) − 1/Tm(1 M) = 0.368 (N − 1) ln[Na⁺] / ΔH°.
    #[test]
    fn salt_dependence() {
        let d = nn("GCGTCATACAGTGC");
        let c = 1e-6;
        let tm1 = d.tm(c, 1.0).unwrap();
        let tm05 = d.tm(c, 0.5).unwrap();
        let tm01 = d.tm(c, 0.1).unwrap();
        assert!(tm01 < tm05 && tm05 < tm1);
        for (na, tm) in [(0.5, tm05), (0.1, tm01)] {
            let expected = 0.368 * 13.0 * f64::ln(na) / (1000.0 * d.dh);
            assert!((1.0 / tm - 1.0 / tm1 - expected).abs() < 1e-12);
        }
        // magnitude: a few kelvin for a 14-mer at 0.5 M (0.368 · 13 · ln 2 = 3.3 cal/(mol·K))
        assert!((1.0..5.0).contains(&(tm1 - tm05)), "{}", tm1 - tm05);
        assert_eq!(d.salt_entropy(1.0).unwrap(), 0.0);
    }

    /// Tm rises with concentration: 1/Tm(c) − 1/Tm(10c) = −R ln 10 / ΔH°.
    #[test]
    fn concentration_dependence() {
        for seq in ["GCGTCATACAGTGC", "CATATGGCCATATG"] {
            let d = nn(seq);
            let (a, b) = (d.tm(1e-6, 1.0).unwrap(), d.tm(1e-5, 1.0).unwrap());
            assert!(b > a);
            let expected = -R_CAL * 10f64.ln() / (1000.0 * d.dh);
            assert!((1.0 / a - 1.0 / b - expected).abs() < 1e-12, "{seq}");
        }
    }

    /// At Tm, the equilibrium constant K = exp(−ΔG°/RT) of ΔG° = ΔH° − Tm ΔS° leaves half the
    /// strands in duplexes by mass action, solved independently: for two strands at c each,
    /// f/(1 − f)² = K c ([`Molecularity::yield_of`]); for 2A ⇌ A₂ at C_T, [A₂] = f C_T/2 and
    /// [A] = (1 − f) C_T, so f / (2 (1 − f)²) = K C_T.
    #[test]
    fn at_tm_half_the_strands_are_paired() {
        for (seq, na) in [("GCGTCATACAGTGC", 1.0), ("AGCGTGAC", 0.5), ("CATATGGCCATATG", 0.2)] {
            let d = nn(seq);
            let c = 3.3585e-4;
            let tm = d.tm(c, na).unwrap();
            let dg = d.dg(tm, na).unwrap() * 1000.0; // cal/mol
            let k = (-dg / (R_CAL * tm)).exp(); // 1/M
            let f = if d.self_complementary {
                let q = 2.0 * k * d.total_concentration(c); // f/(1 − f)² = q
                Molecularity::Bimolecular.yield_of(q)
            } else {
                Molecularity::Bimolecular.yield_of(k * c)
            };
            assert!((f - 0.5).abs() < 1e-12, "{seq}: f = {f}");
            // equivalently ΔG°(Tm) = R Tm ln(C_T/x)
            let rhs = R_CAL * tm * (d.total_concentration(c) / d.concentration_divisor()).ln();
            assert!((dg - rhs).abs() < 1e-8);
        }
    }

    /// The oxDNA box: one strand of each kind in volume V is c = 1/V each, C_T = 2/V.
    #[test]
    fn box_concentration() {
        let d = nn("AGCGTGAC");
        let c = crate::units::molar_from_volume(8000.0);
        assert!((c - 3.3585e-4).abs() < 1e-8);
        assert_eq!(d.tm(c, 0.5).unwrap(), d.tm_total(2.0 * c, 0.5).unwrap());
    }

    #[test]
    fn bad_input_is_refused_by_name() {
        let err = |r: Result<NearestNeighbour>| r.unwrap_err().to_string();
        assert_eq!(
            err(NearestNeighbour::from_text("ACGX")),
            "invalid sequence = ACGX: character 4 is 'X'; SantaLucia's (1998) parameters cover the DNA bases A, C, G and T only"
        );
        assert!(err(NearestNeighbour::from_text("ACGU")).contains("base 4 is U"));
        assert!(err(NearestNeighbour::from_text("A")).contains("at least 2 base pairs"));
        assert!(err(NearestNeighbour::from_text("  ")).contains("invalid sequence = \"\""));
        let d = nn("ACGT");
        for bad in [0.0, -1e-6, f64::NAN, f64::INFINITY] {
            assert!(d.tm(bad, 1.0).unwrap_err().to_string().starts_with("invalid strand concentration"));
            assert!(d.tm_total(bad, 1.0).is_err());
        }
        for bad in [0.0, -0.5, 100.0, f64::NAN] {
            assert!(d.tm(1e-6, bad).unwrap_err().to_string().starts_with("invalid sodium concentration"));
        }
        assert!(d.dg(-1.0, 1.0).is_err());
        // a duplex that never melts: C_T beyond any solution
        assert!(d.tm_total(1e20, 1.0).unwrap_err().to_string().contains("never melts"));
    }
}
