//! ARCHITECTURE.md states which module may use which; this test reads its tables and checks the
//! library's source against them (non-test code: a file is read up to its `#[cfg(test)]`), and
//! that the allowed graph has no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `text` blocks of ARCHITECTURE.md as `module: allowed…` maps, in order.
fn tables() -> Vec<BTreeMap<String, BTreeSet<String>>> {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    doc.split("```text\n")
        .skip(1)
        .map(|block| {
            block
                .split("```")
                .next()
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let (m, deps) = l.split_once(':').unwrap_or_else(|| panic!("not 'module: deps': {l}"));
                    (m.trim().to_string(), deps.split_whitespace().map(String::from).collect())
                })
                .collect()
        })
        .collect()
}

/// The code of a file without comments and without its test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap();
    text.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// Every word `w` that follows `prefix` in `text` (identifier characters).
fn after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(i, _)| text[i + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .filter(|w: &String| !w.is_empty())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn acyclic(graph: &BTreeMap<String, BTreeSet<String>>) -> Result<(), String> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Result<(), String> {
        match state.get(n) {
            Some(2) => return Ok(()),
            Some(1) => return Err(format!("cycle: {} -> {n}", path.join(" -> "))),
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            visit(d, g, state, path)?;
        }
        path.pop();
        state.insert(n.to_string(), 2);
        Ok(())
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        visit(n, graph, &mut state, &mut Vec::new())?;
    }
    Ok(())
}

#[test]
fn modules_use_only_what_architecture_md_allows() {
    let tables = tables();
    let allowed = &tables[0];
    acyclic(allowed).unwrap();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root().join("src")).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if ["lib", "main", "cli", "error"].contains(&first.as_str()) {
            continue;
        }
        seen.insert(first.clone());
        let may = allowed.get(&first).unwrap_or_else(|| panic!("ARCHITECTURE.md has no line for module '{first}'"));
        // `crate::Error`, `crate::Result`: the root's re-exports of `error`
        for used in after(&code(f), "crate::").into_iter().filter(|u| u.starts_with(|c: char| c.is_ascii_lowercase())) {
            if used != first && used != "error" && !may.contains(&used) {
                wrong.push(format!(
                    "src/{} uses crate::{used}, which ARCHITECTURE.md does not allow '{first}'",
                    rel.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let listed: BTreeSet<String> = allowed.keys().cloned().collect();
    assert_eq!(listed, seen, "ARCHITECTURE.md lists exactly the library's modules");
}

#[test]
fn executor_files_depend_one_way() {
    let tables = tables();
    let allowed = &tables[1];
    acyclic(allowed).unwrap();
    let dir = root().join("src/optimize/executor");
    let mut wrong = Vec::new();
    for (file, may) in allowed {
        let text = code(&dir.join(format!("{file}.rs")));
        let mut used = after(&text, "super::");
        used.extend(after(&text, "crate::optimize::executor::"));
        for u in used.into_iter().filter(|u| allowed.contains_key(u) && u != file) {
            if !may.contains(&u) {
                wrong.push(format!("executor/{file}.rs uses {u}, which ARCHITECTURE.md does not allow"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
