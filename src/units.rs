//! oxDNA simulation units and conversions at the edges.
//!
//! Inside oxgrad every quantity is in oxDNA simulation units:
//!
//! | quantity | 1 simulation unit |
//! |---|---|
//! | length | 0.8518 nm |
//! | energy | k_B · 3000 K = 4.142 × 10⁻²⁰ J (so a torque of 1 is 41.42 pN·nm) |
//! | temperature | k_B T in energy units: T_sim = T\[K\] / 3000 (300 K = 0.1) |
//! | force | 48.63 pN |
//! | time | ≈ 3.03 ps |
//! | concentration | one molecule in a box of side L is 1 / (N_A · (0.8518 nm · L)³): 3.36 × 10⁻⁴ M at L = 20 |
//!
//! Temperatures are accepted as oxDNA accepts them: `300K`, `300 k`, `27C`, `27 c`, or a bare number
//! in simulation units (`0.1`).
//!
//! ```
//! use oxgrad::units;
//! assert!((units::kt_from_str("300K").unwrap() - 0.1).abs() < 1e-15);
//! assert!((units::kt_from_str("27C").unwrap() - 0.1000500).abs() < 1e-7);
//! assert!((units::to_nm(1.0) - 0.8518).abs() < 1e-15);
//! ```

use crate::error::{Error, Result};

/// One oxDNA length unit in nanometres.
pub const LENGTH_NM: f64 = 0.8518;
/// One oxDNA energy unit in joules (k_B · 3000 K).
pub const ENERGY_J: f64 = 4.142e-20;
/// One oxDNA force unit in piconewtons (energy / length).
pub const FORCE_PN: f64 = 48.63;
/// One oxDNA time unit in picoseconds.
pub const TIME_PS: f64 = 3.03;
/// Kelvin per unit of simulation temperature.
pub const KELVIN_PER_SIM: f64 = 3000.0;
/// 0 °C in kelvin.
pub const ZERO_CELSIUS_K: f64 = 273.15;

/// Simulation temperature (k_B T in energy units) from kelvin.
#[must_use]
pub fn kt_from_kelvin(kelvin: f64) -> f64 {
    kelvin / KELVIN_PER_SIM
}

/// Simulation temperature from degrees Celsius.
#[must_use]
pub fn kt_from_celsius(celsius: f64) -> f64 {
    kt_from_kelvin(celsius + ZERO_CELSIUS_K)
}

/// Kelvin from a simulation temperature.
#[must_use]
pub fn kelvin_from_kt(kt: f64) -> f64 {
    kt * KELVIN_PER_SIM
}

/// Degrees Celsius from a simulation temperature.
#[must_use]
pub fn celsius_from_kt(kt: f64) -> f64 {
    kelvin_from_kt(kt) - ZERO_CELSIUS_K
}

/// Parses a temperature as oxDNA does and returns k_B T in simulation units.
///
/// Accepts `300K`, `300 K`, `300k`, `27C`, `27 c` and bare numbers (already simulation units).
/// The message of the error says what is accepted; callers that know a file and line wrap it.
pub fn parse_temperature(text: &str) -> std::result::Result<f64, String> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (t[..i].trim_end(), Some(c.to_ascii_uppercase())),
        _ => (t, None),
    };
    let value: f64 =
        number.parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
            format!("a temperature such as '300K', '27C' or a number in simulation units, found '{t}'")
        })?;
    let kt = match unit {
        None => value,
        Some('K') => kt_from_kelvin(value),
        Some('C') => kt_from_celsius(value),
        Some(u) => {
            return Err(format!(
                "a temperature unit K (kelvin), C (Celsius) or none (simulation units), found unit '{u}' in '{t}'"
            ))
        }
    };
    check_kt(kt).map_err(|msg| format!("{msg}, found '{t}'"))
}

/// The highest temperature accepted, in kelvin: far above where any oxDNA model was fitted
/// (0–100 °C), and far below what a bare number meant as kelvin becomes in simulation units
/// (`T = 300` is 900,000 K).
pub const MAX_KELVIN: f64 = 1000.0;

/// Checks a simulation temperature: above absolute zero and at most [`MAX_KELVIN`]. The message
/// of the error states the unit rule.
pub fn check_kt(kt: f64) -> std::result::Result<f64, String> {
    if kt.is_nan() || kt <= 0.0 {
        return Err("a temperature above absolute zero".to_string());
    }
    if kt > kt_from_kelvin(MAX_KELVIN) {
        return Err(format!(
            "a temperature up to {MAX_KELVIN} K; a bare number is in simulation units (T[K] / 3000), so this is {:.0} K: write '300K', '27C' or 0.1",
            kelvin_from_kt(kt)
        ));
    }
    Ok(kt)
}

/// [`parse_temperature`] as an oxgrad [`Error`].
pub fn kt_from_str(text: &str) -> Result<f64> {
    parse_temperature(text).map_err(|msg| Error::invalid("temperature", text, format!("expected {msg}")))
}

/// The highest salt concentration accepted, mol/L: above any aqueous buffer (NaCl saturates near
/// 6 M), and far below a value meant in mM (`100` for 100 mM is 0.1).
pub const MAX_SALT_MOLAR: f64 = 10.0;

/// Checks a monovalent salt concentration in mol/L: positive and at most [`MAX_SALT_MOLAR`]. The
/// message of the error states the unit.
pub fn check_salt(molar: f64) -> std::result::Result<f64, String> {
    if molar > 0.0 && molar <= MAX_SALT_MOLAR {
        Ok(molar)
    } else {
        Err(format!("a molar concentration (mol/L) above 0 and up to {MAX_SALT_MOLAR}, e.g. 0.5; 100 mM is 0.1"))
    }
}

/// oxDNA length units to nanometres.
#[must_use]
pub fn to_nm(length: f64) -> f64 {
    length * LENGTH_NM
}

/// Nanometres to oxDNA length units.
#[must_use]
pub fn from_nm(nm: f64) -> f64 {
    nm / LENGTH_NM
}

/// oxDNA energy units to joules.
#[must_use]
pub fn energy_to_joule(energy: f64) -> f64 {
    energy * ENERGY_J
}

/// Avogadro's number, per mole.
pub const AVOGADRO: f64 = 6.022_140_76e23;

/// oxDNA energy units to kcal/mol.
#[must_use]
pub fn energy_to_kcal_per_mol(energy: f64) -> f64 {
    energy * ENERGY_J * AVOGADRO / 4184.0
}

/// The molar concentration (mol/L) of one molecule in `volume` cubic oxDNA length units: a box
/// of side 20 (17.04 nm) holds one strand at 3.36 × 10⁻⁴ M.
#[must_use]
pub fn molar_from_volume(volume: f64) -> f64 {
    let litres = volume * (LENGTH_NM * 1e-8).powi(3); // 1 nm = 10⁻⁸ dm
    1.0 / (AVOGADRO * litres)
}

/// The volume (cubic oxDNA length units) that holds one molecule at `molar` mol/L.
#[must_use]
pub fn volume_from_molar(molar: f64) -> f64 {
    1.0 / (molar * AVOGADRO * (LENGTH_NM * 1e-8).powi(3))
}

/// Parses a concentration: a number in mol/L, or one with a unit `M`, `mM`, `uM` (`µM`), `nM`
/// (`1e-6`, `1uM`, `1 µM` are the same). The message of the error says what is accepted.
pub fn parse_molar(text: &str) -> std::result::Result<f64, String> {
    const UNITS: [(&str, f64); 5] = [("mM", 1e-3), ("uM", 1e-6), ("µM", 1e-6), ("nM", 1e-9), ("M", 1.0)];
    let t = text.trim();
    let (number, scale) = UNITS
        .iter()
        .find(|(u, _)| t.ends_with(u))
        .map_or((t, 1.0), |(u, scale)| (t[..t.len() - u.len()].trim(), *scale));
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(format!("a positive concentration such as 1e-6, 1uM or 0.5mM (units M, mM, uM, nM), found '{t}'")),
    }
}

/// A configuration value that may be a number or a string with its unit (a temperature
/// `"300K"`, a force `"10pN"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum TomlNumberOrString {
    /// A bare number.
    Number(f64),
    /// A string such as `"300K"`.
    Text(String),
}

/// A force such as `"10pN"` or `"10 pN"`, in piconewtons; a positive, finite number with its
/// unit (a bare number is refused: oxDNA's force unit is 48.63 pN, and a number without a unit
/// is too easily one or the other).
pub fn parse_force_pn(text: &str) -> std::result::Result<f64, String> {
    let t = text.trim();
    match t.strip_suffix("pN").map(|n| n.trim().parse::<f64>()) {
        Some(Ok(v)) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("a positive force in piconewtons such as \"10pN\", found '{t}'")),
    }
}

/// oxDNA force units to piconewtons.
#[must_use]
pub fn force_to_pn(force: f64) -> f64 {
    force * FORCE_PN
}

/// Piconewtons to oxDNA force units.
#[must_use]
pub fn force_from_pn(pn: f64) -> f64 {
    pn / FORCE_PN
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn temperatures_as_oxdna_accepts_them() {
        assert_relative_eq!(kt_from_str("300K").unwrap(), 0.1);
        assert_relative_eq!(kt_from_str("300 k").unwrap(), 0.1);
        assert_relative_eq!(kt_from_str("296.15K").unwrap(), 296.15 / 3000.0);
        assert_relative_eq!(kt_from_str("26.85C").unwrap(), 0.1, epsilon = 1e-15);
        assert_relative_eq!(kt_from_str(" 0.1 ").unwrap(), 0.1);
        assert_relative_eq!(celsius_from_kt(kt_from_celsius(37.0)), 37.0, epsilon = 1e-12);
    }

    #[test]
    fn bad_temperatures_say_what_is_accepted() {
        let e = kt_from_str("300F").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid temperature = 300F: expected a temperature unit K (kelvin), C (Celsius) or none \
             (simulation units), found unit 'F' in '300F'"
        );
        assert!(kt_from_str("hot").unwrap_err().to_string().contains("found 'hot'"));
        assert!(kt_from_str("-5K").unwrap_err().to_string().contains("above absolute zero"));
        assert!(kt_from_str("nanK").is_err());
    }

    #[test]
    fn salt_is_molar_and_in_range() {
        assert_eq!(check_salt(0.5), Ok(0.5));
        assert_eq!(check_salt(10.0), Ok(10.0));
        for bad in [0.0, -0.1, 10.5, 100.0, f64::NAN, f64::INFINITY] {
            assert!(check_salt(bad).unwrap_err().contains("100 mM is 0.1"), "{bad}");
        }
    }

    /// A bare number meant as kelvin is simulation units, 3000 times hotter: refused with the rule.
    #[test]
    fn absurd_temperatures_are_refused_with_the_unit_rule() {
        assert_eq!(
            kt_from_str("300").unwrap_err().to_string(),
            "invalid temperature = 300: expected a temperature up to 1000 K; a bare number is in simulation units \
             (T[K] / 3000), so this is 900000 K: write '300K', '27C' or 0.1, found '300'"
        );
        assert!(kt_from_str("1001K").is_err());
        assert!(kt_from_str("727C").is_err());
        assert_relative_eq!(kt_from_str("1000K").unwrap(), 1.0 / 3.0);
        assert_relative_eq!(kt_from_str("0.3").unwrap(), 0.3);
        assert!(check_kt(f64::INFINITY).is_err() && check_kt(f64::NAN).is_err() && check_kt(0.0).is_err());
    }

    #[test]
    fn concentrations_of_one_molecule_in_a_box() {
        // 20³ oxDNA units: (17.036 nm)³ = 4.944e-21 L; 1 / (N_A · V) = 3.359e-4 M
        assert!((molar_from_volume(8000.0) - 3.359e-4).abs() < 1e-7);
        assert_relative_eq!(volume_from_molar(molar_from_volume(123.0)), 123.0, max_relative = 1e-12);
        assert_relative_eq!(parse_molar("1uM").unwrap(), 1e-6);
        assert_relative_eq!(parse_molar(" 2.5 µM").unwrap(), 2.5e-6);
        assert_relative_eq!(parse_molar("0.5mM").unwrap(), 5e-4);
        assert_relative_eq!(parse_molar("3e-4").unwrap(), 3e-4);
        assert_relative_eq!(parse_molar("10 nM").unwrap(), 1e-8);
        assert_eq!(
            parse_molar("1 pM").unwrap_err(),
            "a positive concentration such as 1e-6, 1uM or 0.5mM (units M, mM, uM, nM), found '1 pM'"
        );
        assert!(parse_molar("-1uM").is_err() && parse_molar("0").is_err() && parse_molar("uM").is_err());
    }

    #[test]
    fn conversions_round_trip() {
        assert_relative_eq!(from_nm(to_nm(3.7)), 3.7);
        assert_relative_eq!(force_from_pn(force_to_pn(0.2)), 0.2);
        // 1 energy unit is about 5.96 kcal/mol
        assert!((energy_to_kcal_per_mol(1.0) - 5.96).abs() < 0.01);
    }
}
