//! oxDNA topology files, classic and new format.
//!
//! **Classic**: a header `N_nucleotides N_strands`, then one line per nucleotide,
//! `strand(1-based) base n3 n5` with −1 at a strand end; strands are listed 3'→5'.
//!
//! **New** (oxDNA ≥ 3.4): a header `N_nucleotides N_strands 5->3`, then one line per strand: the
//! sequence 5'→3' followed by `key=value` attributes such as `type=RNA` or `circular=true`.
//!
//! Either format is read into the same [`Topology`]; [`Topology::converted`] lays a topology out
//! in the other format's order, with the permutation to apply to its configurations.

use crate::error::{quoted, Error, Result};
use crate::system::{Base, Nucleotide, Strand, StrandKind, Topology, TopologyFormat};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

impl Topology {
    /// Reads a topology file in either format (detected from the header).
    ///
    /// ```
    /// use oxgrad::system::{Topology, TopologyFormat};
    /// let (top, format) = Topology::read("tests/data/oxdna/dna1-avg-8bp-T296/init.top")?;
    /// assert_eq!((top.len(), format), (16, TopologyFormat::Classic));
    /// // written out and read back: the same file, byte for byte
    /// let text = top.to_text(TopologyFormat::Classic)?;
    /// let (again, _) = Topology::parse(&text, "copy.top".as_ref())?;
    /// assert_eq!(again.to_text(TopologyFormat::Classic)?, text);
    /// # Ok::<(), oxgrad::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<(Topology, TopologyFormat)> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read topology", path, e))?;
        Topology::parse(&text, path)
    }

    /// Parses topology text; `source` names it in error messages.
    pub fn parse(text: &str, source: &Path) -> Result<(Topology, TopologyFormat)> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
        let Some((hline, header)) = lines.next() else {
            return Err(Error::parse(source, 1, "a topology header 'N_nucleotides N_strands'", "an empty file"));
        };
        let fields: Vec<&str> = header.split_whitespace().collect();
        let count = |k: usize, what: &str| -> Result<usize> {
            fields[k]
                .parse()
                .map_err(|_| Error::parse(source, hline, format!("the {what} as a whole number"), quoted(fields[k])))
        };
        let format = match fields.len() {
            2 => TopologyFormat::Classic,
            3 if fields[2] == "5->3" => TopologyFormat::New,
            _ => {
                return Err(Error::parse(
                    source,
                    hline,
                    "a header 'N_nucleotides N_strands' (classic) or 'N_nucleotides N_strands 5->3' (new)",
                    quoted(header),
                ))
            }
        };
        let n = count(0, "number of nucleotides")?;
        let n_strands = count(1, "number of strands")?;
        let body: Vec<(usize, &str)> = lines.collect();
        let top = match format {
            TopologyFormat::Classic => parse_classic(&body, n, n_strands, hline, source)?,
            TopologyFormat::New => parse_new(&body, n, n_strands, hline, source)?,
        };
        Ok((top, format))
    }

    /// The topology as text in `format`.
    ///
    /// The classic format records every neighbour explicitly and can be written from any layout.
    /// The new format implies neighbours by position, so the nucleotides must be in its canonical
    /// order (each strand contiguous, 5'→3'); otherwise this fails with a hint to convert first.
    pub fn to_text(&self, format: TopologyFormat) -> Result<String> {
        let mut out = String::new();
        match format {
            TopologyFormat::Classic => {
                let _ = writeln!(out, "{} {}", self.len(), self.strands.len());
                let idx = |v: Option<usize>| v.map_or(-1, |i| i as i64);
                for nt in &self.nucleotides {
                    let _ = writeln!(out, "{} {} {} {}", nt.strand + 1, nt.base, idx(nt.n3), idx(nt.n5));
                }
            }
            TopologyFormat::New => {
                if !self.is_canonical(TopologyFormat::New) {
                    return Err(Error::invalid(
                        "topology layout",
                        "classic order",
                        "the new format lists each strand 5'->3' in configuration order; \
                         use Topology::converted(TopologyFormat::New) and permute the configurations",
                    ));
                }
                let _ = writeln!(out, "{} {} 5->3", self.len(), self.strands.len());
                for (s, strand) in self.strands.iter().enumerate() {
                    out.push_str(&self.sequence(s));
                    let kind = match strand.kind {
                        StrandKind::Dna => "DNA",
                        StrandKind::Rna => "RNA",
                    };
                    let _ = write!(out, " type={kind} circular={}", strand.circular);
                    for (k, v) in &strand.attributes {
                        let _ = write!(out, " {k}={v}");
                    }
                    out.push('\n');
                }
            }
        }
        Ok(out)
    }

    /// Writes the topology to `path` in `format` (see [`Topology::to_text`]), whole or not at
    /// all ([`crate::io::atomic::write`]).
    pub fn write(&self, path: impl AsRef<Path>, format: TopologyFormat) -> Result<()> {
        crate::io::atomic::write(path.as_ref(), self.to_text(format)?.as_bytes())
    }
}

fn parse_classic(body: &[(usize, &str)], n: usize, n_strands: usize, hline: usize, source: &Path) -> Result<Topology> {
    if body.len() != n {
        let line = body.get(n).map_or(body.last().map_or(hline, |l| l.0), |l| l.0);
        return Err(Error::parse(
            source,
            line,
            format!("{n} nucleotide lines, as the header declares"),
            format!("{} lines", body.len()),
        ));
    }
    let mut nucleotides = Vec::with_capacity(n);
    let mut strand_ids: Vec<usize> = Vec::new();
    for &(line, text) in body {
        let f: Vec<&str> = text.split_whitespace().collect();
        if f.len() != 4 {
            return Err(Error::parse(
                source,
                line,
                "4 columns 'strand base n3 n5'",
                format!("{} in {}", f.len(), quoted(text)),
            ));
        }
        let strand: usize = match f[0].parse::<usize>() {
            Ok(s) if s >= 1 => s,
            _ => return Err(Error::parse(source, line, "a strand number of 1 or more", quoted(f[0]))),
        };
        let base =
            single_base(f[1]).ok_or_else(|| Error::parse(source, line, "a base A, C, G, T or U", quoted(f[1])))?;
        let neighbour = |k: usize, which: &str| -> Result<Option<usize>> {
            match f[k].parse::<i64>() {
                Ok(-1) => Ok(None),
                Ok(i) if i >= 0 && (i as usize) < n => Ok(Some(i as usize)),
                _ => Err(Error::parse(
                    source,
                    line,
                    format!("a {which} neighbour index between -1 and {}", n as i64 - 1),
                    quoted(f[k]),
                )),
            }
        };
        let (n3, n5) = (neighbour(2, "3'")?, neighbour(3, "5'")?);
        if !strand_ids.contains(&strand) {
            strand_ids.push(strand);
        }
        nucleotides.push(Nucleotide { strand: strand - 1, base, n3, n5 });
    }
    strand_ids.sort_unstable();
    if strand_ids.len() != n_strands || strand_ids.iter().enumerate().any(|(k, &s)| s != k + 1) {
        return Err(Error::parse(
            source,
            hline,
            format!("strands numbered 1 to {n_strands}, as the header declares"),
            format!("strand numbers {}", compact_list(&strand_ids)),
        ));
    }
    let line_of = |i: usize| body[i].0;
    for (i, nt) in nucleotides.iter().enumerate() {
        for (nb, back, which) in [(nt.n3, "5'", "3'"), (nt.n5, "3'", "5'")] {
            let Some(j) = nb else { continue };
            let other = &nucleotides[j];
            let back_ref = if which == "3'" { other.n5 } else { other.n3 };
            if j == i || other.strand != nt.strand || back_ref != Some(i) {
                return Err(Error::parse(
                    source,
                    line_of(i),
                    format!(
                        "nucleotide {i}'s {which} neighbour {j} to be on the same strand and to name {i} as its {back} neighbour"
                    ),
                    format!("strand {} and {back} neighbour {}", other.strand + 1, back_ref.map_or(-1, |v| v as i64)),
                ));
            }
        }
    }
    let strands = chain_strands(&nucleotides, n_strands, line_of, source)?;
    Ok(Topology { nucleotides, strands })
}

/// Follows each strand from its 5' end (or, if circular, from its first listed nucleotide).
fn chain_strands(
    nucleotides: &[Nucleotide],
    n_strands: usize,
    line_of: impl Fn(usize) -> usize,
    source: &Path,
) -> Result<Vec<Strand>> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_strands];
    for (i, nt) in nucleotides.iter().enumerate() {
        members[nt.strand].push(i);
    }
    let mut strands = Vec::with_capacity(n_strands);
    for (s, m) in members.iter().enumerate() {
        let ends5: Vec<usize> = m.iter().copied().filter(|&i| nucleotides[i].n5.is_none()).collect();
        let (start, circular) = match ends5.as_slice() {
            [e] => (*e, false),
            [] => (m[0], true),
            _ => {
                return Err(Error::parse(
                    source,
                    line_of(ends5[1]),
                    format!("strand {} to have one 5' end", s + 1),
                    format!("{} 5' ends (nucleotides {})", ends5.len(), compact_list(&ends5)),
                ))
            }
        };
        let mut order = Vec::with_capacity(m.len());
        let mut cur = Some(start);
        while let Some(i) = cur {
            order.push(i);
            cur = nucleotides[i].n3.filter(|&j| j != start);
            if order.len() > m.len() {
                break;
            }
        }
        if order.len() != m.len() {
            return Err(Error::parse(
                source,
                line_of(start),
                format!("strand {} to be one chain of {} nucleotides", s + 1, m.len()),
                format!("a chain of {} from its 5' end {start}", order.len().min(m.len())),
            ));
        }
        let kind = if m.iter().any(|&i| nucleotides[i].base == Base::U) { StrandKind::Rna } else { StrandKind::Dna };
        strands.push(Strand { nucleotides: order, circular, kind, attributes: BTreeMap::new() });
    }
    Ok(strands)
}

fn parse_new(body: &[(usize, &str)], n: usize, n_strands: usize, hline: usize, source: &Path) -> Result<Topology> {
    if body.len() != n_strands {
        let line = body.get(n_strands).map_or(body.last().map_or(hline, |l| l.0), |l| l.0);
        return Err(Error::parse(
            source,
            line,
            format!("{n_strands} strand lines, as the header declares"),
            format!("{} lines", body.len()),
        ));
    }
    let mut specs = Vec::with_capacity(n_strands);
    let mut attributes = Vec::with_capacity(n_strands);
    for &(line, text) in body {
        let mut f = text.split_whitespace();
        let seq_text = f.next().unwrap_or_default();
        let mut seq = Vec::with_capacity(seq_text.len());
        for c in seq_text.chars() {
            seq.push(Base::from_letter(c).ok_or_else(|| {
                Error::parse(
                    source,
                    line,
                    "a sequence of bases A, C, G, T or U",
                    format!("'{c}' in {}", quoted(seq_text)),
                )
            })?);
        }
        let (mut kind, mut circular, mut attrs) = (StrandKind::Dna, false, BTreeMap::new());
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(Error::parse(source, line, "attributes as key=value", quoted(kv)));
            };
            match k {
                "type" => {
                    kind = match v.to_ascii_uppercase().as_str() {
                        "DNA" => StrandKind::Dna,
                        "RNA" => StrandKind::Rna,
                        _ => return Err(Error::parse(source, line, "type=DNA or type=RNA", quoted(kv))),
                    }
                }
                "circular" => {
                    circular = match v.to_ascii_lowercase().as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => return Err(Error::parse(source, line, "circular=true or circular=false", quoted(kv))),
                    }
                }
                _ => {
                    attrs.insert(k.to_string(), v.to_string());
                }
            }
        }
        specs.push((seq, kind, circular));
        attributes.push(attrs);
    }
    let total: usize = specs.iter().map(|s| s.0.len()).sum();
    if total != n {
        return Err(Error::parse(
            source,
            hline,
            format!("{n} nucleotides in all, as the header declares"),
            format!("{total} in the strand sequences"),
        ));
    }
    if let Some(&(line, _)) = specs.iter().zip(body).find(|(s, _)| s.0.is_empty()).map(|(_, b)| b) {
        return Err(Error::parse(source, line, "a strand sequence", "an empty line"));
    }
    let mut top = Topology::from_sequences(&specs, TopologyFormat::New);
    for (strand, attrs) in top.strands.iter_mut().zip(attributes) {
        strand.attributes = attrs;
    }
    Ok(top)
}

fn single_base(text: &str) -> Option<Base> {
    let mut c = text.chars();
    match (c.next(), c.next()) {
        (Some(b), None) => Base::from_letter(b),
        _ => None,
    }
}

fn compact_list(v: &[usize]) -> String {
    let shown: Vec<String> = v.iter().take(8).map(ToString::to_string).collect();
    if v.len() > 8 {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(Topology, TopologyFormat)> {
        Topology::parse(text, Path::new("t.top"))
    }

    #[test]
    fn classic_duplex_pairs_follow_n3() {
        let (t, f) = parse("4 2\n1 A -1 1\n1 C 0 -1\n2 G -1 3\n2 T 2 -1\n").unwrap();
        assert_eq!(f, TopologyFormat::Classic);
        // classic lists 3'→5': nucleotide 1 is the 5' end, its 3' neighbour is 0
        assert_eq!(t.bonded_pairs(), vec![(1, 0), (3, 2)]);
        assert_eq!(t.sequence(0), "CA");
        assert!(t.is_canonical(TopologyFormat::Classic));
    }

    #[test]
    fn new_format_circular_rna() {
        let (t, f) = parse("3 1 5->3\nACU type=RNA circular=true id=7\n").unwrap();
        assert_eq!(f, TopologyFormat::New);
        assert!(t.strands[0].circular);
        assert_eq!(t.strands[0].kind, StrandKind::Rna);
        assert_eq!(t.nucleotides[2].n3, Some(0));
        assert_eq!(t.nucleotides[0].n5, Some(2));
        assert_eq!(t.strands[0].attributes["id"], "7");
        let back = t.to_text(TopologyFormat::New).unwrap();
        assert_eq!(back, "3 1 5->3\nACU type=RNA circular=true id=7\n");
    }

    #[test]
    fn conversion_reverses_each_strand() {
        let (t, _) = parse("5 2\n1 A -1 1\n1 C 0 2\n1 G 1 -1\n2 T -1 4\n2 T 3 -1\n").unwrap();
        let (n, perm) = t.converted(TopologyFormat::New);
        assert_eq!(perm, vec![2, 1, 0, 4, 3]);
        assert_eq!(n.sequence(0), t.sequence(0));
        assert_eq!(
            n.to_text(TopologyFormat::New).unwrap(),
            "5 2 5->3\nGCA type=DNA circular=false\nTT type=DNA circular=false\n"
        );
        let (c, perm2) = n.converted(TopologyFormat::Classic);
        assert_eq!(c, t);
        assert_eq!(perm2, vec![2, 1, 0, 4, 3]);
    }
}
