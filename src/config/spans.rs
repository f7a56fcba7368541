//! The line of every key of a TOML document, by dotted path (`objective[0].observable.kind`), so
//! that errors found after deserialising still point at their line.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;
use toml_edit::{ImDocument, Item, Table, Value};

/// Lines (and byte ranges of key and value) by key path.
#[derive(Debug, Clone, Default)]
pub(super) struct Spans {
    lines: BTreeMap<String, usize>,
    ranges: Vec<(String, std::ops::Range<usize>)>,
}

impl Spans {
    /// Indexes `text`; a syntax error is reported at its line.
    pub(super) fn parse(text: &str, path: &Path) -> Result<Spans> {
        let doc = ImDocument::parse(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            Error::Config {
                at: crate::error::Location { source: path.to_path_buf(), line },
                key: "TOML syntax".into(),
                msg: e.message().trim().replace('\n', " "),
            }
        })?;
        let mut spans = Spans::default();
        spans.table(text, "", doc.as_table());
        Ok(spans)
    }

    /// The line of `key`, or of its closest indexed ancestor (0 if none).
    pub(super) fn line(&self, key: &str) -> usize {
        let mut k = key;
        loop {
            if let Some(&l) = self.lines.get(k) {
                return l;
            }
            match k.rfind(['.', '[']) {
                Some(i) => k = &k[..i],
                None => return 0,
            }
        }
    }

    /// The deepest key whose key or value text contains byte `pos`.
    pub(super) fn path_at(&self, pos: usize) -> Option<&str> {
        self.ranges.iter().filter(|(_, r)| r.contains(&pos)).max_by_key(|(p, _)| p.len()).map(|(p, _)| p.as_str())
    }

    fn put(&mut self, text: &str, path: String, span: Option<std::ops::Range<usize>>) {
        if let Some(s) = span {
            self.lines.entry(path).or_insert_with(|| line_of(text, s.start));
        }
    }

    fn range(&mut self, path: &str, spans: [Option<std::ops::Range<usize>>; 2]) {
        let (a, b) = (spans[0].clone(), spans[1].clone());
        let r = match (a, b) {
            (Some(a), Some(b)) => a.start.min(b.start)..a.end.max(b.end),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return,
        };
        self.ranges.push((path.to_string(), r));
    }

    fn table(&mut self, text: &str, prefix: &str, t: &Table) {
        for (name, _) in t.iter() {
            let Some((key, item)) = t.get_key_value(name) else { continue };
            let path = join(prefix, name);
            self.put(text, path.clone(), key.span().or_else(|| item.span()));
            self.range(&path, [key.span(), item.span()]);
            self.item(text, &path, item);
        }
    }

    fn item(&mut self, text: &str, path: &str, item: &Item) {
        match item {
            Item::Table(t) => {
                self.put(text, path.to_string(), t.span());
                self.table(text, path, t);
            }
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.put(text, p.clone(), t.span());
                    self.range(&p, [t.span(), None]);
                    self.table(text, &p, t);
                }
            }
            Item::Value(v) => self.value(text, path, v),
            Item::None => {}
        }
    }

    fn value(&mut self, text: &str, path: &str, v: &Value) {
        match v {
            Value::InlineTable(t) => {
                for (name, _) in t.iter() {
                    let Some((key, item)) = t.get_key_value(name) else { continue };
                    let p = join(path, name);
                    self.put(text, p.clone(), key.span().or_else(|| item.span()));
                    self.range(&p, [key.span(), item.span()]);
                    self.item(text, &p, item);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.put(text, p.clone(), x.span());
                    self.range(&p, [x.span(), None]);
                    self.value(text, &p, x);
                }
            }
            _ => {}
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn line_of(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_nested_keys() {
        let text = "[model]\nkind = \"dna1\"\n\n[[objective]]\nname = \"a\"\nobservable = { kind = \"rise\" }\n\n[[objective]]\nname = \"b\"\ntargets = [1.0,\n  2.0]\n";
        let s = Spans::parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(s.line("model.kind"), 2);
        assert_eq!(s.line("objective[0].observable.kind"), 6);
        assert_eq!(s.line("objective[1].name"), 9);
        assert_eq!(s.line("objective[1].targets[1]"), 11);
        assert_eq!(s.line("objective[1].missing"), 8);
        assert_eq!(s.path_at(text.find("\"rise\"").unwrap() + 1), Some("objective[0].observable.kind"));
    }
}
