//! oxDNA's umbrella-sampling files: order parameters (`op_file`) and their weights
//! (`weights_file`), as oxDNA's VMMC reads them (`src/Utilities/OrderParameters.cpp` and
//! `Weights.cpp` of oxDNA v3.7). Plain data; evaluating an order parameter on a configuration is
//! the simulator's job.
//!
//! An `op_file` is a list of bare `{ … }` blocks in input-file syntax:
//!
//! ```text
//! {
//!   order_parameter = bond        # the number of formed base pairs among the listed ones
//!   name = all_native_bonds
//!   pair1 = 0, 15                 # nucleotide indices, topology order, 0-based
//!   pair2 = 1-7, 8-14             # a range: 1–14, 2–13, …, 7–8 (the second runs backwards)
//! }
//! {
//!   order_parameter = mindistance # the smallest base–base distance among the pairs, binned
//!   name = separation
//!   pair1 = 0, 15
//!   interfaces = 1.0, 2.0, 4.0    # bin edges, oxDNA length units (1 = 0.8518 nm)
//!   use_COM = false               # true: centre-of-mass distances instead of base sites
//! }
//! ```
//!
//! The state of a configuration is one integer per order parameter: a bond parameter's number of
//! formed pairs (0 to its number of pairs), a distance parameter's bin, 0 for distances up to the
//! first interface, `k` for distances in (interface k − 1, interface k], the number of interfaces
//! beyond the last. As in oxDNA, every bond parameter comes before every distance parameter in
//! the state, whatever their order in the file; [`OrderParameters::params`] is in state order.
//!
//! A weights file has one line per state: the state's values, then its weight (the bias, which
//! multiplies the state's Boltzmann weight; 0 forbids the state). With `safe_weights = 1` (oxDNA's
//! default) every state must have a line; with `safe_weights = 0`, states without one get
//! `default_weight`.
//!
//! Unknown order-parameter kinds and keys are refused by name with their file and line, never
//! ignored; so are oxDNA's `twist` parameter and forward-flux `cutoff`, which oxgrad does not
//! implement.

use crate::error::{Error, Result};
use crate::io::input::{blocks, Block, InputFile, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The order parameters of an `op_file`, in state order (bond parameters first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderParameters {
    /// The parameters, in the order of the state vector.
    pub params: Vec<OrderParameter>,
}

/// One order parameter: its name and what it measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderParameter {
    /// The `name` of its block.
    pub name: String,
    /// What it measures.
    pub kind: OrderParameterKind,
}

/// The order-parameter kinds oxgrad reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderParameterKind {
    /// `order_parameter = bond`: how many of `pairs` are hydrogen-bonded; states 0 to `pairs.len()`.
    Bond {
        /// Nucleotide pairs, each with the smaller index first, no pair twice.
        pairs: Vec<(usize, usize)>,
    },
    /// `order_parameter = mindistance`: the smallest distance among `pairs`, binned by
    /// `interfaces`; states 0 to `interfaces.len()`.
    MinDistance {
        /// Nucleotide pairs, each with the smaller index first.
        pairs: Vec<(usize, usize)>,
        /// Increasing bin edges, oxDNA length units.
        interfaces: Vec<f64>,
        /// Distances between centres of mass (`use_COM = true`) rather than base sites.
        use_com: bool,
    },
}

impl OrderParameterKind {
    /// The number of states: pairs + 1 for a bond parameter, interfaces + 1 for a distance.
    #[must_use]
    pub fn states(&self) -> usize {
        match self {
            OrderParameterKind::Bond { pairs } => pairs.len() + 1,
            OrderParameterKind::MinDistance { interfaces, .. } => interfaces.len() + 1,
        }
    }

    /// The bin of a distance for a `mindistance` parameter, as oxDNA assigns it: the first
    /// interface the distance does not exceed, or the last bin; `None` for a bond parameter.
    ///
    /// ```
    /// use oxgrad::io::order_parameter::OrderParameterKind;
    /// let d = OrderParameterKind::MinDistance { pairs: vec![(0, 15)], interfaces: vec![1.0, 4.0], use_com: false };
    /// assert_eq!([0.5, 1.0, 2.0, 9.0].map(|r| d.bin(r)), [Some(0), Some(0), Some(1), Some(2)]);
    /// ```
    #[must_use]
    pub fn bin(&self, distance: f64) -> Option<i32> {
        match self {
            OrderParameterKind::Bond { .. } => None,
            OrderParameterKind::MinDistance { interfaces, .. } => {
                let k = interfaces.iter().position(|edge| distance <= *edge).unwrap_or(interfaces.len());
                Some(i32::try_from(k).unwrap_or(i32::MAX))
            }
        }
    }
}

/// The order-parameter kinds of `order_parameter = …`, as errors list them.
pub const KINDS: [&str; 2] = ["bond", "mindistance"];

impl OrderParameters {
    /// Reads an `op_file` for a system of `nucleotides` nucleotides.
    ///
    /// ```
    /// use oxgrad::io::order_parameter::OrderParameters;
    /// let ops = OrderParameters::read("tests/data/melting/op.txt", 16)?;
    /// assert_eq!(ops.params[0].name, "all_native_bonds");
    /// assert_eq!(ops.sizes(), vec![9]); // 0 to 8 base pairs
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>, nucleotides: usize) -> Result<OrderParameters> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read order-parameter file", path, e))?;
        OrderParameters::parse(&text, path, nucleotides)
    }

    /// The `op_file` of an oxDNA input file (resolved against its directory).
    pub fn from_input(input: &InputFile, nucleotides: usize) -> Result<OrderParameters> {
        OrderParameters::read(input.path("op_file")?, nucleotides)
    }

    /// Parses an `op_file`'s text; `source` names it in errors.
    pub fn parse(text: &str, source: &Path, nucleotides: usize) -> Result<OrderParameters> {
        let mut bonds = Vec::new();
        let mut distances = Vec::new();
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for (block, line) in blocks(text, source)? {
            let p = parameter(&block, line, source, nucleotides)?;
            let name_line = block.entries().find(|(k, _, _)| *k == "name").map_or(line, |(_, _, l)| l);
            if let Some(first) = names.insert(p.name.clone(), name_line) {
                return Err(Error::parse(
                    source,
                    name_line,
                    "a name used by one order parameter only",
                    format!("'{}', already the name of the order parameter at line {first}", p.name),
                ));
            }
            match p.kind {
                OrderParameterKind::Bond { .. } => bonds.push(p),
                OrderParameterKind::MinDistance { .. } => distances.push(p),
            }
        }
        if bonds.is_empty() && distances.is_empty() {
            return Err(Error::parse(
                source,
                0,
                "at least one '{ order_parameter = … }' block",
                "none (an empty order-parameter file)",
            ));
        }
        bonds.extend(distances);
        Ok(OrderParameters { params: bonds })
    }

    /// The number of states of each parameter, in state order.
    #[must_use]
    pub fn sizes(&self) -> Vec<usize> {
        self.params.iter().map(|p| p.kind.states()).collect()
    }

    /// The position of the parameter `name` in the state vector.
    pub fn position(&self, name: &str) -> Result<usize> {
        self.params.iter().position(|p| p.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
            Error::invalid(
                "order parameter",
                name,
                format!("not in the order-parameter file; it has {}", names.join(", ")),
            )
        })
    }
}

/// One `{ … }` block opened at `line`.
fn parameter(block: &Block, line: usize, source: &Path, n: usize) -> Result<OrderParameter> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut text = BTreeMap::new();
    for (key, value, l) in block.entries() {
        let Value::Text(v) = value else {
            return Err(Error::parse(source, l, format!("a value for '{key}'"), "a nested '{ … }' block"));
        };
        if let Some(first) = seen.insert(key, l) {
            return Err(Error::parse(
                source,
                l,
                format!("'{key}' once per block"),
                format!("'{key}' again (first at line {first})"),
            ));
        }
        text.insert(key, (v.as_str(), l));
    }
    let required = |key: &str| {
        text.get(key).copied().ok_or_else(|| {
            Error::parse(source, line, format!("'{key} = …' in this order-parameter block"), "no such key")
        })
    };
    let (kind, kind_line) = required("order_parameter")?;
    let (name, _) = required("name")?;
    let is_distance = match kind {
        "bond" => false,
        "mindistance" => true,
        "twist" => {
            return Err(Error::parse(
                source,
                kind_line,
                format!("an order parameter oxgrad implements ({})", KINDS.join(", ")),
                "'twist' (oxDNA's twist parameter is not implemented in oxgrad)",
            ))
        }
        other => {
            return Err(Error::parse(
                source,
                kind_line,
                format!("an order parameter oxgrad implements ({})", KINDS.join(", ")),
                format!("'{other}'"),
            ));
        }
    };
    let mut pairs = Vec::new();
    for (key, &(value, l)) in &text {
        match *key {
            "order_parameter" | "name" => {}
            "interfaces" | "use_COM" if is_distance => {}
            k if k.starts_with("pair") => {
                for (a, b) in
                    parse_pairs(value).map_err(|msg| Error::parse(source, l, msg, format!("{k} = {value}")))?
                {
                    if a.max(b) >= n {
                        return Err(Error::parse(
                            source,
                            l,
                            format!(
                                "nucleotide indices from 0 to {} (the system has {n} nucleotides)",
                                n.saturating_sub(1)
                            ),
                            format!("{k} = {value}, which names nucleotide {}", a.max(b)),
                        ));
                    }
                    let pair = (a.min(b), a.max(b));
                    if pairs.iter().any(|(p, _)| *p == pair) {
                        return Err(Error::parse(
                            source,
                            l,
                            "each pair once per order parameter",
                            format!("{k} = {value}, which repeats the pair {}, {}", pair.0, pair.1),
                        ));
                    }
                    pairs.push((pair, l));
                }
            }
            "cutoff" => {
                return Err(Error::parse(
                    source,
                    l,
                    "keys oxgrad implements",
                    "'cutoff' (oxDNA uses it in forward flux sampling only; remove the line)",
                ))
            }
            other => {
                let valid = if is_distance {
                    "order_parameter, name, pair…, interfaces, use_COM"
                } else {
                    "order_parameter, name, pair…"
                };
                return Err(Error::parse(
                    source,
                    l,
                    format!("a key of a {kind} order parameter ({valid})"),
                    format!("'{other}'"),
                ));
            }
        }
    }
    // file order of the pairs, whatever the keys' names
    pairs.sort_by_key(|(_, l)| *l);
    let pairs: Vec<(usize, usize)> = pairs.into_iter().map(|(p, _)| p).collect();
    if pairs.is_empty() {
        return Err(Error::parse(source, line, "at least one 'pair1 = i, j' in this order-parameter block", "none"));
    }
    let kind = if is_distance {
        let interfaces = match text.get("interfaces") {
            Some(&(v, l)) => {
                parse_interfaces(v).map_err(|msg| Error::parse(source, l, msg, format!("interfaces = {v}")))?
            }
            None => Vec::new(),
        };
        let use_com = match text.get("use_COM") {
            None => false,
            Some(&(v, l)) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => return Err(Error::parse(source, l, "true or false for 'use_COM'", format!("'{v}'"))),
            },
        };
        OrderParameterKind::MinDistance { pairs, interfaces, use_com }
    } else {
        OrderParameterKind::Bond { pairs }
    };
    Ok(OrderParameter { name: name.to_string(), kind })
}

/// `a, b` or the range `a1-a2, b1-b2` (a1 with b2, a1 + 1 with b2 − 1, …).
fn parse_pairs(value: &str) -> std::result::Result<Vec<(usize, usize)>, String> {
    const EXPECTED: &str = "two nucleotide indices 'i, j' or two ranges of equal length 'i1-i2, j1-j2'";
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let [first, second] = parts[..] else {
        return Err(EXPECTED.to_string());
    };
    let index = |t: &str| t.trim().parse::<usize>().map_err(|_| EXPECTED.to_string());
    match (first.split_once('-'), second.split_once('-')) {
        (None, None) => {
            let (a, b) = (index(first)?, index(second)?);
            if a == b {
                return Err("two different nucleotides (a nucleotide does not pair with itself)".to_string());
            }
            Ok(vec![(a, b)])
        }
        (Some((a1, a2)), Some((b1, b2))) => {
            let (a1, a2, b1, b2) = (index(a1)?, index(a2)?, index(b1)?, index(b2)?);
            if a1 > a2 || b1 > b2 || a2 - a1 != b2 - b1 {
                return Err(format!("{EXPECTED}, each range increasing"));
            }
            let pairs: Vec<(usize, usize)> = (0..=a2 - a1).map(|k| (a1 + k, b2 - k)).collect();
            if pairs.iter().any(|(a, b)| a == b) {
                return Err("two different nucleotides in every pair of the ranges".to_string());
            }
            Ok(pairs)
        }
        _ => Err(EXPECTED.to_string()),
    }
}

fn parse_interfaces(value: &str) -> std::result::Result<Vec<f64>, String> {
    const EXPECTED: &str = "increasing distances 'd1, d2, …' in oxDNA length units";
    let edges = value
        .split(',')
        .map(|t| t.trim().trim_end_matches(['f', 'F']).parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<f64>>>()
        .ok_or(EXPECTED)?;
    if edges.windows(2).any(|w| w[1] <= w[0]) {
        return Err(EXPECTED.to_string());
    }
    Ok(edges)
}

/// What a weights file gives a state it does not list: oxDNA's `safe_weights` and
/// `default_weight`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum MissingWeights {
    /// `safe_weights = 1` (oxDNA's default): every state must have a line.
    Refuse,
    /// `safe_weights = 0` with `default_weight = w`: unlisted states weigh `w`.
    Default(f64),
}

impl MissingWeights {
    /// `safe_weights` and `default_weight` of an input file, as oxDNA reads them:
    /// `default_weight` is required with `safe_weights = 0` and unused otherwise.
    pub fn from_input(input: &InputFile) -> Result<MissingWeights> {
        if input.bool_or("safe_weights", true)? {
            if input.get("default_weight").is_some() {
                tracing::warn!(
                    "{}: default_weight is set but safe_weights is on: every state needs a line in the weights file (as in oxDNA)",
                    input.source.display()
                );
            }
            return Ok(MissingWeights::Refuse);
        }
        let w = input.f64("default_weight")?;
        if w < 0.0 {
            return Err(Error::invalid("default_weight", w, "a weight of 0 or more (0 forbids unlisted states)"));
        }
        Ok(MissingWeights::Default(w))
    }
}

/// The umbrella weights of a `weights_file`: one weight per state of the order parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// The file (named in errors).
    pub source: PathBuf,
    /// The weight of each listed state.
    pub weights: BTreeMap<Vec<i32>, f64>,
    /// The names of the order parameters, in state order.
    pub names: Vec<String>,
    /// The number of states of each order parameter.
    pub sizes: Vec<usize>,
    /// What unlisted states weigh.
    pub missing: MissingWeights,
}

impl Weights {
    /// Reads a weights file for `ops`.
    ///
    /// ```
    /// use oxgrad::io::order_parameter::{MissingWeights, OrderParameters, Weights};
    /// let ops = OrderParameters::read("tests/data/melting/op.txt", 16)?;
    /// let w = Weights::read("tests/data/melting/wfile.txt", &ops, MissingWeights::Refuse)?;
    /// assert_eq!(w.weight(&[0])?, 10.0);
    /// assert!(w.weight(&[9]).is_err()); // 8 pairs: states 0 to 8
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>, ops: &OrderParameters, missing: MissingWeights) -> Result<Weights> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read weights file", path, e))?;
        Weights::parse(&text, path, ops, missing)
    }

    /// The `weights_file` of an input file, with its `safe_weights` and `default_weight`.
    pub fn from_input(input: &InputFile, ops: &OrderParameters) -> Result<Weights> {
        Weights::read(input.path("weights_file")?, ops, MissingWeights::from_input(input)?)
    }

    /// Parses a weights file's text; `source` names it in errors.
    pub fn parse(text: &str, source: &Path, ops: &OrderParameters, missing: MissingWeights) -> Result<Weights> {
        let sizes = ops.sizes();
        let names: Vec<String> = ops.params.iter().map(|p| p.name.clone()).collect();
        let mut weights = BTreeMap::new();
        let mut lines: BTreeMap<Vec<i32>, usize> = BTreeMap::new();
        let expected = format!("{} whole number(s) (the state of {}) and a weight ≥ 0", sizes.len(), names.join(", "));
        for (k, raw) in text.lines().enumerate() {
            let line = k + 1;
            let content = raw.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            let words: Vec<&str> = content.split_whitespace().collect();
            if words.len() != sizes.len() + 1 {
                return Err(Error::parse(source, line, expected, crate::error::quoted(content)));
            }
            let state = words[..sizes.len()]
                .iter()
                .map(|w| w.parse::<i32>().ok())
                .collect::<Option<Vec<i32>>>()
                .ok_or_else(|| Error::parse(source, line, expected.clone(), crate::error::quoted(content)))?;
            let weight = words[sizes.len()]
                .trim_end_matches(['f', 'F'])
                .parse::<f64>()
                .ok()
                .filter(|w| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| Error::parse(source, line, expected.clone(), crate::error::quoted(content)))?;
            if let Some(bad) = out_of_range(&state, &sizes, &names) {
                return Err(Error::parse(source, line, bad, crate::error::quoted(content)));
            }
            if let Some(first) = lines.insert(state.clone(), line) {
                return Err(Error::parse(
                    source,
                    line,
                    "one line per state",
                    format!("{}, the state of line {first} again", crate::error::quoted(content)),
                ));
            }
            weights.insert(state, weight);
        }
        let w = Weights { source: source.to_path_buf(), weights, names, sizes, missing };
        if missing == MissingWeights::Refuse {
            if let Some(state) = all_states(&w.sizes).find(|s| !w.weights.contains_key(s)) {
                return Err(w.unlisted(&state));
            }
        }
        Ok(w)
    }

    /// The weight of `state` (one value per order parameter, in state order).
    pub fn weight(&self, state: &[i32]) -> Result<f64> {
        if let Some(w) = self.weights.get(state) {
            return Ok(*w);
        }
        if state.len() != self.sizes.len() {
            return Err(Error::mismatch(
                format!("weights of {}", self.source.display()),
                format!(
                    "a state of {} value(s) {state:?}, but the file has {} order parameter(s)",
                    state.len(),
                    self.sizes.len()
                ),
            ));
        }
        if let Some(bad) = out_of_range(state, &self.sizes, &self.names) {
            return Err(Error::mismatch(
                format!("weights of {}", self.source.display()),
                format!("state {state:?}: expected {bad}"),
            ));
        }
        match self.missing {
            MissingWeights::Default(w) => Ok(w),
            MissingWeights::Refuse => Err(self.unlisted(state)),
        }
    }

    fn unlisted(&self, state: &[i32]) -> Error {
        let values: Vec<String> = state.iter().map(ToString::to_string).collect();
        Error::mismatch(
            format!("weights of {}", self.source.display()),
            format!(
                "no line for the state {}: add a line '{} <weight>', or set safe_weights = 0 and default_weight = <weight> in the input file",
                values.join(" "),
                values.join(" ")
            ),
        )
    }
}

/// What is wrong with a state outside `0..size` of some parameter, if anything.
fn out_of_range(state: &[i32], sizes: &[usize], names: &[String]) -> Option<String> {
    state.iter().zip(sizes).zip(names).find_map(|((v, size), name)| {
        let ok = usize::try_from(*v).is_ok_and(|v| v < *size);
        (!ok).then(|| format!("a state of '{name}' from 0 to {}", size - 1))
    })
}

/// Every state of order parameters with these sizes, the first parameter varying fastest
/// (oxDNA's order).
pub(crate) fn all_states(sizes: &[usize]) -> impl Iterator<Item = Vec<i32>> + '_ {
    let total: usize = sizes.iter().product();
    (0..total).map(move |mut index| {
        sizes
            .iter()
            .map(|size| {
                let v = index % size;
                index /= size;
                i32::try_from(v).unwrap_or(i32::MAX)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(text: &str) -> Result<OrderParameters> {
        OrderParameters::parse(text, Path::new("op.txt"), 16)
    }

    #[test]
    fn bond_and_distance_blocks_in_state_order() {
        let o = ops(
            "{\n order_parameter = mindistance\n name = d\n pair1 = 15, 0\n interfaces = 1, 4.\n use_COM = 1\n}\n\
             # a comment between blocks\n{\n order_parameter = bond\n name = b\n pair1 = 0, 15\n pair2 = 1-3, 12-14\n}\n",
        )
        .unwrap();
        assert_eq!(o.params[0].name, "b", "bond parameters come first, as in oxDNA");
        assert_eq!(o.params[0].kind, OrderParameterKind::Bond { pairs: vec![(0, 15), (1, 14), (2, 13), (3, 12)] });
        assert_eq!(
            o.params[1].kind,
            OrderParameterKind::MinDistance { pairs: vec![(0, 15)], interfaces: vec![1.0, 4.0], use_com: true }
        );
        assert_eq!(o.sizes(), vec![5, 3]);
        assert_eq!(o.position("d").unwrap(), 1);
        assert_eq!(
            o.position("x").unwrap_err().to_string(),
            "invalid order parameter = x: not in the order-parameter file; it has b, d"
        );
    }

    #[test]
    fn refusals_name_the_line_and_the_key() {
        let cases = [
            ("{\norder_parameter = bonds\nname = a\npair1 = 0, 1\n}\n", "op.txt:2: expected an order parameter oxgrad implements (bond, mindistance), found 'bonds'"),
            ("{\norder_parameter = twist\nname = a\npair1 = 0, 1\n}\n", "op.txt:2: expected an order parameter oxgrad implements (bond, mindistance), found 'twist' (oxDNA's twist parameter is not implemented in oxgrad)"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0, 1\ninterfaces = 2\n}\n", "op.txt:5: expected a key of a bond order parameter (order_parameter, name, pair…), found 'interfaces'"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0, 1\ncutoff = -0.1\n}\n", "op.txt:5: expected keys oxgrad implements, found 'cutoff' (oxDNA uses it in forward flux sampling only; remove the line)"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0, 16\n}\n", "op.txt:4: expected nucleotide indices from 0 to 15 (the system has 16 nucleotides), found pair1 = 0, 16, which names nucleotide 16"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0 15\n}\n", "op.txt:4: expected two nucleotide indices 'i, j' or two ranges of equal length 'i1-i2, j1-j2', found pair1 = 0 15"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0-3, 10-12\n}\n", "op.txt:4: expected two nucleotide indices 'i, j' or two ranges of equal length 'i1-i2, j1-j2', each range increasing, found pair1 = 0-3, 10-12"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0, 1\npair2 = 1, 0\n}\n", "op.txt:5: expected each pair once per order parameter, found pair2 = 1, 0, which repeats the pair 0, 1"),
            ("{\norder_parameter = bond\nname = a\n}\n", "op.txt:1: expected at least one 'pair1 = i, j' in this order-parameter block, found none"),
            ("{\nname = a\npair1 = 0, 1\n}\n", "op.txt:1: expected 'order_parameter = …' in this order-parameter block, found no such key"),
            ("{\norder_parameter = mindistance\nname = a\npair1 = 0, 1\ninterfaces = 4, 2\n}\n", "op.txt:5: expected increasing distances 'd1, d2, …' in oxDNA length units, found interfaces = 4, 2"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0, 1\n}\n{\norder_parameter = bond\nname = a\npair1 = 2, 3\n}\n", "op.txt:8: expected a name used by one order parameter only, found 'a', already the name of the order parameter at line 3"),
            ("order_parameter = bond\n", "op.txt:1: expected a '{ … }' block of key = value lines, found 'order_parameter = …' outside a block"),
            ("{\norder_parameter = bond\nname = a\npair1 = 0, 1\n", "op.txt:4: expected '}' closing the block 'block' opened at line 1, found the end of the file"),
            ("# nothing\n", "op.txt: expected at least one '{ order_parameter = … }' block, found none (an empty order-parameter file)"),
        ];
        for (text, message) in cases {
            assert_eq!(ops(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    fn two() -> OrderParameters {
        ops("{\norder_parameter = bond\nname = b\npair1 = 0, 15\n}\n{\norder_parameter = mindistance\nname = d\npair1 = 0, 15\ninterfaces = 2\n}\n").unwrap()
    }

    #[test]
    fn weights_with_and_without_safe_weights() {
        let text = "# b d weight\n0 0 1.5\n1 0 2\n0 1 3\n";
        let e = Weights::parse(text, Path::new("w.txt"), &two(), MissingWeights::Refuse).unwrap_err();
        assert_eq!(
            e.to_string(),
            "weights of w.txt: no line for the state 1 1: add a line '1 1 <weight>', or set safe_weights = 0 and default_weight = <weight> in the input file"
        );
        let w = Weights::parse(text, Path::new("w.txt"), &two(), MissingWeights::Default(0.5)).unwrap();
        assert_eq!((w.weight(&[1, 0]).unwrap(), w.weight(&[1, 1]).unwrap()), (2.0, 0.5));
        assert!(w
            .weight(&[2, 0])
            .unwrap_err()
            .to_string()
            .contains("state [2, 0]: expected a state of 'b' from 0 to 1"));
        assert!(w.weight(&[0]).is_err());
        let full =
            Weights::parse(&format!("{text}1 1 0\n"), Path::new("w.txt"), &two(), MissingWeights::Refuse).unwrap();
        assert_eq!(full.weight(&[1, 1]).unwrap(), 0.0);
    }

    #[test]
    fn bad_weight_lines_name_the_line() {
        let cases = [
            (
                "0 0 1\n0 1 -1\n",
                "w.txt:2: expected 2 whole number(s) (the state of b, d) and a weight ≥ 0, found '0 1 -1'",
            ),
            ("0 1\n", "w.txt:1: expected 2 whole number(s) (the state of b, d) and a weight ≥ 0, found '0 1'"),
            ("0 2 1\n", "w.txt:1: expected a state of 'd' from 0 to 1, found '0 2 1'"),
            ("0 0 1\n\n0 0 2\n", "w.txt:3: expected one line per state, found '0 0 2', the state of line 1 again"),
        ];
        for (text, message) in cases {
            let e = Weights::parse(text, Path::new("w.txt"), &two(), MissingWeights::Default(1.0)).unwrap_err();
            assert_eq!(e.to_string(), message);
        }
    }

    #[test]
    fn safe_weights_and_default_weight_from_an_input_file() {
        let input = |t: &str| InputFile::parse(t, Path::new("input")).unwrap();
        assert_eq!(MissingWeights::from_input(&input("T = 0.1\n")).unwrap(), MissingWeights::Refuse);
        assert_eq!(
            MissingWeights::from_input(&input("safe_weights = 0\ndefault_weight = 2\n")).unwrap(),
            MissingWeights::Default(2.0)
        );
        assert_eq!(
            MissingWeights::from_input(&input("safe_weights = false\n")).unwrap_err().to_string(),
            "input: missing required key 'default_weight': add a line 'default_weight = ...'"
        );
    }

    #[test]
    fn states_in_oxdna_order() {
        let s: Vec<Vec<i32>> = all_states(&[2, 3]).collect();
        assert_eq!(s, vec![vec![0, 0], vec![1, 0], vec![0, 1], vec![1, 1], vec![0, 2], vec![1, 2]]);
    }
}
