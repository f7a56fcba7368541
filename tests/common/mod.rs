//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The oxDNA reference cases copied from ../shared/reference/oxdna (see tests/data/oxdna/PROVENANCE).
pub const CASES: [&str; 7] = [
    "dna1-avg-8bp-T296",
    "dna1-seqdep-20bp-T300",
    "dna2-avg-20bp-T300-salt0.5",
    "rna2-avg-12bp-T300-salt1.0",
    "extra-dna1-avg-nicked-20bp-T300",
    "extra-dna2-avg-dense-8x10nt-T300-salt0.5",
    "dna2-seqdep-16bp-T330-salt0.2",
];

/// Directory of one reference case.
pub fn case_dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/oxdna").join(case)
}
