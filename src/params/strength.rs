//! The strengths of stacking and hydrogen bonding at a temperature: the one definition that the
//! parameter set's dependents ([`super::ParamSet::dependents`]), the `f64` and force model and the
//! Burn model all evaluate.
//!
//! Sequence-averaged (oxDNA's `STCK_BASE_EPS + STCK_FACT_EPS · T`):
//!
//! ```text
//! ε_stack = eps_stack_base + eps_stack_kt_coeff · kT,   ε_hb = eps_hb
//! ```
//!
//! Sequence-dependent (oxDNA's `seq_dep_file`, as mythos computes it), for the base step X–Y
//! (X the base of the 3'-side nucleotide) and the base pairs A–T and C–G:
//!
//! ```text
//! ε_XY = ss_stack_weights_X_Y · (1 − f + 9 f kT),  f = eps_stack_kt_coeff;   ε_hb = ss_hb_weights_A_T, _C_G
//! ```
//!
//! The functions are generic over [`Real`], so in the Burn model the strengths are differentiable
//! in `eps_stack_base`, `eps_stack_kt_coeff`, `kt` and the sequence tables.

use crate::math::Real;

/// The sequence-averaged stacking strength at temperature `kt`: ε = ε₀ + k · kT.
pub fn eps_stack<T: Real>(base: T, kt_coeff: T, kt: T) -> T {
    base + kt_coeff * kt
}

/// The temperature factor of the sequence-dependent stacking strengths: ε_XY = w_XY · (1 − f + 9 f kT)
/// with f = `eps_stack_kt_coeff`.
pub fn seq_stack_factor<T: Real>(kt_coeff: T, kt: T) -> T {
    -kt_coeff.clone() + 1.0 + kt_coeff * 9.0 * kt
}

/// The strengths of stacking and hydrogen bonding of a parameter set.
#[derive(Debug, Clone, PartialEq)]
pub enum Strengths<T> {
    /// One strength for every base step and one for every base pair.
    Averaged {
        /// ε of stacking.
        stack: T,
        /// ε of hydrogen bonding.
        hb: T,
    },
    /// A strength per base step and per base pair.
    Sequence {
        /// ε of stacking by base step X–Y (X the base of the 3'-side nucleotide), in the order of
        /// [`STACK_PAIRS`].
        stack: Vec<T>,
        /// ε of hydrogen bonding, A–T and C–G.
        hb: [T; 2],
    },
}

/// The base steps `X_Y` of the sequence-dependent stacking table (`ss_stack_weights_X_Y`), in its
/// order: index 4·X + Y over A, C, G, T.
pub const STACK_PAIRS: [&str; 16] =
    ["A_A", "A_C", "A_G", "A_T", "C_A", "C_C", "C_G", "C_T", "G_A", "G_C", "G_G", "G_T", "T_A", "T_C", "T_G", "T_T"];

impl<T: Real> Strengths<T> {
    /// The strengths, from the parameters `value` gives by name: the sequence tables
    /// (`ss_stack_weights_X_Y`, `ss_hb_weights_A_T`, `ss_hb_weights_C_G`) if `sequence_dependent`,
    /// else `eps_stack_base` and `eps_hb`; `eps_stack_kt_coeff` and `kt` in both.
    pub fn new(sequence_dependent: bool, value: impl Fn(&str) -> T) -> Strengths<T> {
        let (f, kt) = (value("eps_stack_kt_coeff"), value("kt"));
        if sequence_dependent {
            let factor = seq_stack_factor(f, kt);
            let stack =
                STACK_PAIRS.iter().map(|xy| value(&format!("ss_stack_weights_{xy}")) * factor.clone()).collect();
            Strengths::Sequence { stack, hb: [value("ss_hb_weights_A_T"), value("ss_hb_weights_C_G")] }
        } else {
            Strengths::Averaged { stack: eps_stack(value("eps_stack_base"), f, kt), hb: value("eps_hb") }
        }
    }
}

impl Strengths<f64> {
    /// The tables the model indexes: stacking `[16]` (by [`STACK_PAIRS`]), H-bonding
    /// `[2]` (A–T, C–G).
    #[must_use]
    pub fn tables(&self) -> (Vec<f64>, Vec<f64>) {
        match self {
            Strengths::Averaged { stack, hb } => (vec![*stack; 16], vec![*hb; 2]),
            Strengths::Sequence { stack, hb } => (stack.clone(), hb.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::STACK_PAIRS;

    /// The table's order is the order of the parameter names (`seq_stack_names`) and of the
    /// model's strength index 4·X + Y over A, C, G, T.
    #[test]
    fn stack_pairs_follow_the_base_order() {
        let b = crate::io::seqdep::BASES;
        let names: Vec<String> = b.iter().flat_map(|x| b.iter().map(move |y| format!("{x}_{y}"))).collect();
        assert_eq!(names, STACK_PAIRS);
    }

    /// The formulas, as oxDNA writes them, to the last bit in f64.
    #[test]
    #[allow(clippy::float_cmp)]
    fn strengths_follow_oxdna() {
        let (base, f, kt) = (1.3448, 2.6568, 0.1);
        assert_eq!(super::eps_stack(base, f, kt), base + f * kt);
        let (f, w) = (0.18, 1.684);
        assert_eq!(super::seq_stack_factor(f, kt) * w, w * (1.0 - f + 9.0 * f * kt));
    }
}
