//! The modules a notebook's code imports, found by a small Python scanner (strings, comments,
//! brackets and continuations understood) with IPython's rules: `%` and `!` lines, `x = !ls`
//! and `obj?` help forms are skipped; `%%time`, `%%timeit`, `%%capture`, `%%prun` cells are
//! Python, other cell magics (`%%bash`, `%%html`, `%%writefile`, …) are not.

use crate::notebook::ipynb::{CellKind, Notebook};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRef {
    /// The top-level name (`a` for `import a.b`).
    pub module: String,
    pub full: String,
    pub cell: usize,
    /// 1-based line within the cell.
    pub line: usize,
    /// Inside a `try:` whose `except` catches ImportError (or ModuleNotFoundError, Exception,
    /// BaseException, or everything).
    pub guarded: bool,
    pub relative: bool,
}

const PYTHON_CELL_MAGICS: [&str; 4] = ["time", "timeit", "capture", "prun"];

/// One logical line: indentation, code with string contents blanked, first physical line.
struct Logical {
    indent: usize,
    code: String,
    line: usize,
}

/// Split source into logical lines: comments dropped, strings replaced by `""`, bracketed and
/// backslash-continued lines joined.
fn logical_lines(src: &str) -> Vec<Logical> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut cur = String::new();
    let mut start_line = 1;
    let mut depth: i32 = 0;
    let mut at_start = true;
    let mut indent = 0;
    while i < chars.len() {
        let c = chars[i];
        if at_start {
            indent = 0;
            while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
                indent += if chars[i] == '\t' { 8 } else { 1 };
                i += 1;
            }
            start_line = line;
            at_start = false;
            continue;
        }
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' | '"' => {
                let triple = i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c;
                i += if triple { 3 } else { 1 };
                loop {
                    if i >= chars.len() {
                        break;
                    }
                    if chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == '\n' {
                        line += 1;
                        if !triple {
                            break;
                        }
                    }
                    if triple
                        && i + 2 < chars.len()
                        && chars[i] == c
                        && chars[i + 1] == c
                        && chars[i + 2] == c
                    {
                        i += 3;
                        break;
                    }
                    if !triple && chars[i] == c {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                cur.push_str("\"\"");
            }
            '(' | '[' | '{' => {
                depth += 1;
                cur.push(c);
                i += 1;
            }
            ')' | ']' | '}' => {
                depth = (depth - 1).max(0);
                cur.push(c);
                i += 1;
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                cur.push(' ');
                line += 1;
                i += 2;
            }
            '\n' => {
                line += 1;
                i += 1;
                if depth > 0 {
                    cur.push(' ');
                } else {
                    if !cur.trim().is_empty() {
                        out.push(Logical {
                            indent,
                            code: std::mem::take(&mut cur),
                            line: start_line,
                        });
                    }
                    cur.clear();
                    at_start = true;
                }
            }
            _ => {
                cur.push(c);
                i += 1;
            }
        }
    }
    if !cur.trim().is_empty() {
        out.push(Logical {
            indent,
            code: cur,
            line: start_line,
        });
    }
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Modules of one simple statement.
fn statement_imports(stmt: &str) -> Vec<(String, bool)> {
    let s = stmt.trim();
    if let Some(rest) = s.strip_prefix("import ") {
        return rest
            .split(',')
            .filter_map(|part| {
                let name = part
                    .split_whitespace()
                    .next()?
                    .trim_matches(|c| c == '(' || c == ')');
                name.split('.')
                    .all(is_ident)
                    .then(|| (name.to_string(), false))
            })
            .collect();
    }
    if let Some(rest) = s.strip_prefix("from ") {
        let mut it = rest.split_whitespace();
        let module = it.next().unwrap_or("");
        if it.next() != Some("import") {
            return Vec::new();
        }
        if module.starts_with('.') {
            return vec![(module.to_string(), true)];
        }
        if module.split('.').all(is_ident) {
            return vec![(module.to_string(), false)];
        }
    }
    Vec::new()
}

/// Does an `except` clause catch ImportError?
fn catches_import_error(clause: &str) -> bool {
    let c = clause
        .trim_start_matches("except")
        .trim()
        .trim_end_matches(':')
        .trim();
    if c.is_empty() {
        return true;
    }
    let types = c.split(" as ").next().unwrap_or(c);
    types
        .trim_matches(|ch| ch == '(' || ch == ')')
        .split(',')
        .map(str::trim)
        .any(|t| {
            matches!(
                t,
                "ImportError" | "ModuleNotFoundError" | "Exception" | "BaseException"
            )
        })
}

/// Skip IPython-only lines: `%magic`, `!cmd`, `x = !cmd`, `x = %magic`, `obj?`, `?obj`.
fn ipython_line(code: &str) -> bool {
    let t = code.trim();
    if t.starts_with('%') || t.starts_with('!') || t.starts_with('?') || t.ends_with('?') {
        return true;
    }
    if let Some((lhs, rhs)) = t.split_once('=') {
        let rhs = rhs.trim_start();
        if !lhs.ends_with(['=', '!', '<', '>'])
            && !rhs.starts_with('=')
            && (rhs.starts_with('!') || rhs.starts_with('%'))
        {
            return true;
        }
    }
    false
}

pub fn extract_from_source(src: &str, cell: usize) -> Vec<ImportRef> {
    let first = src.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let body: String = if let Some(magic) = first.trim_start().strip_prefix("%%") {
        let name = magic.split_whitespace().next().unwrap_or("");
        if !PYTHON_CELL_MAGICS.contains(&name) {
            return Vec::new();
        }
        // Keep line numbers: blank the magic line.
        let mut done = false;
        src.lines()
            .map(|l| {
                if !done && l.trim_start().starts_with("%%") {
                    done = true;
                    String::new()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        src.to_string()
    };
    let lines = logical_lines(&body);
    // try blocks: (indent, body range start, end, guarded)
    let mut guards: Vec<(usize, usize, bool)> = Vec::new(); // (try index, end index exclusive, catches)
    for (i, l) in lines.iter().enumerate() {
        let t = l.code.trim();
        if t == "try:" || t.starts_with("try:") {
            let mut end = lines.len();
            let mut catches = false;
            for (j, m) in lines.iter().enumerate().skip(i + 1) {
                if m.indent <= l.indent {
                    let mt = m.code.trim();
                    if end == lines.len() {
                        end = j;
                    }
                    if mt.starts_with("except") && m.indent == l.indent {
                        catches |= catches_import_error(mt);
                        continue;
                    }
                    if m.indent == l.indent && (mt.starts_with("else") || mt.starts_with("finally"))
                    {
                        continue;
                    }
                    break;
                }
            }
            guards.push((i, end, catches));
        }
    }
    let mut out: Vec<ImportRef> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if ipython_line(&l.code) {
            continue;
        }
        let guarded = guards
            .iter()
            .any(|(t, end, catches)| *catches && i > *t && i < *end);
        for stmt in l.code.split(';') {
            let mut st = stmt.trim();
            // `try: import x`, `if x: import y` on one line.
            if let Some((head, tail)) = st.split_once(':') {
                if [
                    "try", "else", "if ", "elif ", "with ", "for ", "while ", "def ", "class ",
                ]
                .iter()
                .any(|k| head.trim_start().starts_with(k))
                {
                    st = tail.trim();
                }
            }
            let same_line_try = l.code.trim().starts_with("try:");
            let g = guarded || (same_line_try && guards.iter().any(|(t, _, c)| *t == i && *c));
            for (full, relative) in statement_imports(st) {
                let module = full
                    .trim_start_matches('.')
                    .split('.')
                    .next()
                    .unwrap_or("")
                    .to_string();
                if module == "__future__" {
                    continue;
                }
                out.push(ImportRef {
                    module,
                    full,
                    cell,
                    line: l.line,
                    guarded: g,
                    relative,
                });
            }
        }
    }
    out
}

/// All imports of a notebook's code cells, one per module: the first occurrence, unguarded if
/// any occurrence is.
pub fn extract(nb: &Notebook) -> Vec<ImportRef> {
    let mut out: Vec<ImportRef> = Vec::new();
    for c in nb.cells.iter().filter(|c| c.kind == CellKind::Code) {
        for r in extract_from_source(&c.source, c.index) {
            match out
                .iter_mut()
                .find(|o| o.module == r.module && o.relative == r.relative)
            {
                Some(o) => o.guarded &= r.guarded,
                None => out.push(r),
            }
        }
    }
    out
}

/// Is `module` in CPython 3.`minor`'s standard library?
pub fn is_stdlib(module: &str, minor: u8) -> bool {
    if matches!(module, "sys" | "builtins" | "__main__") {
        return true;
    }
    STDLIB
        .iter()
        .any(|(m, added, removed)| *m == module && minor >= *added && minor < *removed)
}

include!("stdlib_table.rs");

#[cfg(test)]
mod tests {
    use super::*;

    fn mods(src: &str) -> Vec<(String, bool)> {
        extract_from_source(src, 0)
            .into_iter()
            .map(|r| (r.module, r.guarded))
            .collect()
    }

    #[test]
    fn statement_forms() {
        assert_eq!(
            mods("import a.b as c, d\nfrom e.f import (\n  g,\n  h)\nimport os; import sys"),
            vec![
                ("a".into(), false),
                ("d".into(), false),
                ("e".into(), false),
                ("os".into(), false),
                ("sys".into(), false)
            ]
        );
        assert_eq!(
            mods("def f():\n    import inner\nclass C:\n    from x import y\n"),
            vec![("inner".into(), false), ("x".into(), false)]
        );
        assert_eq!(mods("s = 'import notme'\nt = \"\"\"\nimport notme2\n\"\"\"\n# import c\nimport \\\n  cont"), vec![("cont".into(), false)]);
        let rel = extract_from_source(
            "from . import x\nfrom .m import y\nfrom __future__ import annotations",
            0,
        );
        assert!(rel.iter().all(|r| r.relative));
        assert_eq!(rel.len(), 2);
    }

    #[test]
    fn guards() {
        assert_eq!(
            mods("try:\n    import g\nexcept ImportError:\n    g = None\nimport u"),
            vec![("g".into(), true), ("u".into(), false)]
        );
        assert_eq!(
            mods("try:\n    import g\nexcept (ValueError, ModuleNotFoundError) as e:\n    pass"),
            vec![("g".into(), true)]
        );
        assert_eq!(
            mods("try:\n    import g\nexcept KeyError:\n    pass"),
            vec![("g".into(), false)]
        );
        assert_eq!(
            mods("try:\n    import g\nexcept:\n    pass"),
            vec![("g".into(), true)]
        );
    }

    #[test]
    fn ipython_rules() {
        assert_eq!(
            mods("%matplotlib inline\n!pip install x\nfiles = !ls\nos?\nimport real"),
            vec![("real".into(), false)]
        );
        assert_eq!(mods("%%time\nimport timed"), vec![("timed".into(), false)]);
        assert!(mods("%%bash\nimport nope").is_empty());
        assert!(mods("%%writefile x.py\nimport nope").is_empty());
    }

    #[test]
    fn stdlib_by_version() {
        assert!(is_stdlib("json", 11));
        assert!(is_stdlib("tomllib", 11));
        assert!(!is_stdlib("tomllib", 10));
        assert!(is_stdlib("distutils", 11));
        assert!(!is_stdlib("distutils", 12));
        assert!(!is_stdlib("yaml", 12));
    }
}
