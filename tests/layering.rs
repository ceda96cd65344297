//! The layering of `src/` (docs/ARCHITECTURE.md, "Layers"), checked on the source text:
//! `cli/` on top, then `render/`, then `flows/`, then the library; no import loops.
//!
//! Each rule is also run on a small made-up tree that breaks it, so a checker that stopped
//! seeing violations would fail here too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`python::probe`; `""` for lib.rs) → source text without its `#[cfg(test)]`
/// tail.
type Sources = BTreeMap<String, String>;

fn read_src() -> Sources {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Sources::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            // main.rs stays "main": the binary, beside the library's root ("").
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&p).unwrap();
            out.insert(parts.join("::"), without_tests(&text).to_string());
        }
    }
    out
}

/// Unit tests may reach anywhere; the rules are about the code that ships.
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// Every `crate::a::b` path in `text`, brace groups expanded (`crate::a::{b, c::d}` gives
/// `a::b` and `a::c::d`).
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        expand(after, String::new(), &mut out);
        rest = after;
    }
    out
}

fn path_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut j = 0;
    while j < b.len() {
        if b[j].is_ascii_alphanumeric() || b[j] == b'_' {
            j += 1;
        } else if b[j..].starts_with(b"::") {
            j += 2;
        } else {
            break;
        }
    }
    j
}

fn expand(s: &str, prefix: String, out: &mut Vec<String>) {
    let n = path_len(s);
    let seg = format!("{prefix}{}", &s[..n]);
    if !s[n..].starts_with('{') {
        out.push(seg);
        return;
    }
    let body = &s[n + 1..];
    let (mut depth, mut start) = (1, 0);
    for (k, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' | ',' if depth == 1 => {
                let item = body[start..k].trim();
                if !item.is_empty() {
                    expand(item, seg.clone(), out);
                }
                start = k + 1;
                if c == '}' {
                    return;
                }
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
}

/// `a` is `b`, or one is inside the other.
fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

/// Module → the other modules it names (the longest module prefix of each `crate::` path).
fn import_graph(src: &Sources) -> BTreeMap<String, BTreeSet<String>> {
    src.iter()
        .filter(|(m, _)| !m.is_empty())
        .map(|(m, text)| {
            let targets = crate_paths(text)
                .into_iter()
                .filter_map(|p| {
                    let segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
                    (1..=segs.len())
                        .rev()
                        .map(|k| segs[..k].join("::"))
                        .find(|c| src.contains_key(c))
                })
                .filter(|t| !related(m, t))
                .collect();
            (m.clone(), targets)
        })
        .collect()
}

/// The strongly connected components with more than one module (Tarjan).
fn loops(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v, l);
                } else if self.on.contains(w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

fn describe_loops(g: &BTreeMap<String, BTreeSet<String>>) -> String {
    loops(g)
        .iter()
        .map(|comp| {
            comp.iter()
                .map(|m| {
                    let inside: Vec<&str> = g[m]
                        .iter()
                        .filter(|t| comp.contains(t))
                        .map(String::as_str)
                        .collect();
                    format!("  {m} → {}", inside.join(", "))
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The layers above the library, top down; a module may import only layers below its own.
const FACES: [&str; 3] = ["cli", "render", "flows"];

fn layer(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or("");
    FACES.iter().position(|f| *f == top).unwrap_or(FACES.len())
}

/// `module imports crate::target` pairs that import a layer at or above their own (other than
/// their own top-level module).
fn upward_imports(src: &Sources) -> Vec<String> {
    let mut bad = Vec::new();
    for (m, targets) in import_graph(src) {
        let top = m.split("::").next().unwrap_or("").to_string();
        for t in targets {
            let ttop = t.split("::").next().unwrap_or("");
            if ttop != top && layer(ttop) < FACES.len() && layer(ttop) <= layer(&m) {
                bad.push(format!("{m} imports crate::{t}"));
            }
        }
    }
    bad
}

/// Only the faces write to the terminal or ask: `cli/` and `render/`, and the binaries
/// (`main.rs`, `bin/`), which are not part of the library.
const SPEAKERS: [&str; 4] = ["cli", "render", "main", "bin"];

/// `module: what` for every print macro or `dialoguer` use outside [`SPEAKERS`].
fn stray_output(src: &Sources) -> Vec<String> {
    const WORDS: [&str; 5] = ["print!", "println!", "eprint!", "eprintln!", "dialoguer"];
    let mut bad = Vec::new();
    for (m, text) in src {
        if SPEAKERS.contains(&m.split("::").next().unwrap_or("")) {
            continue;
        }
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for w in WORDS {
            let mut from = 0;
            while let Some(i) = code[from..].find(w) {
                let at = from + i;
                // `eprintln!` contains `println!`; count each use once, by its own name.
                let before = code[..at].chars().next_back();
                if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    bad.push(format!("{m}: {w}"));
                }
                from = at + w.len();
            }
        }
    }
    bad
}

fn tree(files: &[(&str, &str)]) -> Sources {
    files
        .iter()
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect()
}

#[test]
fn the_crate_import_graph_has_no_loops() {
    let g = import_graph(&read_src());
    let found = describe_loops(&g);
    assert!(found.is_empty(), "import loops in src/:\n{found}");
}

#[test]
fn the_loop_check_sees_a_loop_through_braces_and_ignores_children() {
    let t = tree(&[
        ("a", "use crate::b::{self, x::{Y, Z}};"),
        ("b", "fn f() { crate::c::g() }"),
        ("c", "use crate::{a::thing, d};"),
        ("d", ""),
        ("e", "use crate::e::child;"),
        ("e::child", "use crate::e;"),
    ]);
    let g = import_graph(&t);
    assert_eq!(
        loops(&g),
        vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]
    );
    // a test module's imports do not count
    let t = tree(&[
        ("a", without_tests("use crate::b;")),
        (
            "b",
            without_tests("fn f() {}\n#[cfg(test)]\nmod tests { use crate::a; }"),
        ),
    ]);
    assert!(loops(&import_graph(&t)).is_empty());
}

#[test]
fn faces_are_imported_only_from_above() {
    let bad = upward_imports(&read_src());
    assert!(
        bad.is_empty(),
        "imports of cli/, render/ or flows/ from below them:\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn the_layer_check_sees_each_kind_of_upward_import() {
    let t = tree(&[
        (
            "cli",
            "use crate::render::x; use crate::flows::y; use crate::install::z;",
        ),
        ("render", "use crate::flows::x;"),
        ("render::install", "use crate::cli::X;"),
        (
            "flows::install",
            "use crate::render::y; use crate::flows::doctor;",
        ),
        ("flows::doctor", ""),
        ("flows", ""),
        ("install", "use crate::flows::install;"),
        ("doctor", "use crate::cli;"),
    ]);
    let mut bad = upward_imports(&t);
    bad.sort();
    assert_eq!(
        bad,
        [
            "doctor imports crate::cli",
            "flows::install imports crate::render",
            "install imports crate::flows::install",
            "render::install imports crate::cli",
        ]
    );
}

#[test]
fn only_cli_and_render_print_or_prompt() {
    let bad = stray_output(&read_src());
    assert!(
        bad.is_empty(),
        "output outside src/cli/ and src/render/ (send an Event to the Reporter instead):\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn the_output_check_sees_each_macro_and_the_picker() {
    let t = tree(&[
        ("cli", "fn f() { println!(\"ok\"); }"),
        (
            "render::terminal",
            "fn f() { dialoguer::Select::new(); eprintln!(); }",
        ),
        ("flows::install", "fn f() { eprintln!(\"x\"); }"),
        ("install::run", "fn f() { print!(\"x\"); eprint!(\"y\"); }"),
        ("install::target", "fn f() { dialoguer::Select::new(); }"),
        (
            "python::probe",
            "// println!(\"a comment\")\nfn f() { println!(); }",
        ),
    ]);
    let mut bad = stray_output(&t);
    bad.sort();
    assert_eq!(
        bad,
        [
            "flows::install: eprintln!",
            "install::run: eprint!",
            "install::run: print!",
            "install::target: dialoguer",
            "python::probe: println!",
        ]
    );
}
