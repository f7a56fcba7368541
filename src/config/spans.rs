//! The line of every key of a TOML document, by dotted path (`objective[0].observable.kind`), so
//! that errors found after deserialising still point at their line.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;
use toml_edit::{ImDocument, Item, Table, Value};

/// Lines by key path.
#[derive(Debug, Clone, Default)]
pub(super) struct Spans {
    lines: BTreeMap<String, usize>,
}

impl Spans {
    /// Indexes `text`; a syntax error is reported at its line.
    pub(super) fn parse(text: &str, path: &Path) -> Result<Spans> {
        let doc = ImDocument::parse(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            Error::parse(path, line, "valid TOML", e.message().trim().to_string())
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

    fn put(&mut self, text: &str, path: String, span: Option<std::ops::Range<usize>>) {
        if let Some(s) = span {
            self.lines.entry(path).or_insert_with(|| line_of(text, s.start));
        }
    }

    fn table(&mut self, text: &str, prefix: &str, t: &Table) {
        for (name, _) in t.iter() {
            let Some((key, item)) = t.get_key_value(name) else { continue };
            let path = join(prefix, name);
            self.put(text, path.clone(), key.span().or_else(|| item.span()));
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
                    self.item(text, &p, item);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.put(text, p.clone(), x.span());
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
    }
}
