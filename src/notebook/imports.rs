//! The modules a notebook's code imports.
//!
//! A small Python scanner, not a regex over lines: it understands comments, every string form
//! (prefixes, triple quotes, f-string replacement fields), brackets and backslash
//! continuations, `;`-separated statements and indentation blocks, so `"import x"` in a string
//! is ignored, `from a import (\n b)` is one statement, and an import in the body of
//! `try: … except ImportError:` is known to be optional.
//!
//! On top of Python it applies the rules IPython uses to turn a cell into Python
//! (`IPython/core/inputtransformer2.py`): leading blank lines are dropped before looking for a
//! `%%cell_magic`; lines that start with an escape (`%magic`, `!shell`, `?help`, `/`, `,`, `;`
//! autocall) and the assignment forms `x = !ls` / `x = %time f()` are not Python; `obj?` and
//! `obj??` are help requests. Cell magics that run their body as Python in the kernel
//! (`%%time`, `%%timeit`, `%%capture`, `%%prun`) are scanned; every other cell magic
//! (`%%bash`, `%%html`, `%%writefile f`, …) is not Python and contributes nothing.
//!
//! Nothing is filtered here: stdlib modules (see [`is_stdlib`]), local files next to the
//! notebook and relative imports are all reported, and the caller decides what they mean.

use crate::notebook::ipynb::{CellKind, Notebook};

/// One `import` of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRef {
    /// The top-level name Python looks up first (`a` for `import a.b`, `from a.b import c`);
    /// for a relative import, the first name after the dots.
    pub module: String,
    /// The module as written (`a.b`; `.mod` / `..pkg.mod` / `.x` for `from . import x`).
    pub full: String,
    /// [`Cell::index`](crate::notebook::ipynb::Cell::index) of the cell it is in.
    pub cell: usize,
    /// 1-based line within the cell of the module's name.
    pub line: usize,
    /// Inside the body of a `try:` with an `except` for ImportError, ModuleNotFoundError,
    /// Exception or BaseException (alone or in a tuple), or a bare `except:`; or inside
    /// `with suppress(ImportError):`; not through a `def`, whose body runs when called. The
    /// notebook expects the import may fail.
    pub guarded: bool,
    /// `from . import x`, `from .mod import y`: resolved against a package, which a notebook
    /// is not, so no environment can provide it.
    pub relative: bool,
}

/// Cell magics whose body IPython runs as Python in the kernel itself.
const PYTHON_CELL_MAGICS: [&str; 4] = ["time", "timeit", "capture", "prun"];

/// Characters that make a line IPython syntax when they start it (after indentation):
/// magics, shell escapes, help, and the `/f x`, `,f a b`, `;f a b` autocall forms.
const LINE_ESCAPES: [char; 6] = ['%', '!', '?', '/', ',', ';'];

/// Nesting limit for f-strings inside f-string replacement fields; deeper input (never written
/// by hand) is scanned as plain text instead of recursing without bound.
const MAX_FSTRING_NESTING: usize = 16;

/// All imports of a notebook's code cells, one per module (relative and absolute kept apart),
/// in notebook order. A module imported both guarded and unguarded counts as unguarded and is
/// reported where it is first imported unguarded, because that is the line that fails.
/// Notebooks whose kernel language is known and is not Python have no Python imports.
pub fn extract(nb: &Notebook) -> Vec<ImportRef> {
    let python = nb.language.as_deref().is_none_or(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.is_empty() || l.starts_with("python") || l.starts_with("ipython")
    });
    if !python {
        return Vec::new();
    }
    let mut out: Vec<ImportRef> = Vec::new();
    for cell in nb.cells.iter().filter(|c| c.kind == CellKind::Code) {
        for r in extract_from_source(&cell.source, cell.index) {
            match out
                .iter_mut()
                .find(|o| o.module == r.module && o.relative == r.relative)
            {
                Some(first) if first.guarded && !r.guarded => *first = r,
                Some(_) => {}
                None => out.push(r),
            }
        }
    }
    out
}

/// Every import in one cell's source, in source order, duplicates included.
pub fn extract_from_source(src: &str, cell: usize) -> Vec<ImportRef> {
    let src = src.replace("\r\n", "\n").replace('\r', "\n");
    let Some(python) = python_text(&src) else {
        return Vec::new();
    };
    let lines = Scanner::new(&python).logical_lines();
    collect_imports(&lines)
        .into_iter()
        .map(|p| ImportRef {
            module: p.module,
            full: p.full,
            cell,
            line: p.line,
            guarded: p.guarded,
            relative: p.relative,
        })
        .collect()
}

/// The part of a cell that is Python, with line numbers kept: the cell itself, or for a
/// Python-running cell magic the body with the magic line replaced by what on it is Python
/// (`%%timeit`'s setup statement). `None` for any other cell magic.
fn python_text(src: &str) -> Option<String> {
    // IPython drops leading blank lines before looking for `%%` (leading_empty_lines), and
    // strips common indentation (leading_indent), so the magic may be indented too.
    let Some((at, first)) = src
        .split_inclusive('\n')
        .scan(0, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line))
        })
        .find(|(_, line)| !line.trim().is_empty())
    else {
        return Some(src.to_string());
    };
    let Some(magic) = first.trim_start().strip_prefix("%%") else {
        return Some(src.to_string());
    };
    let magic = magic.trim_end_matches('\n');
    let (name, args) = magic.split_once(char::is_whitespace).unwrap_or((magic, ""));
    if !PYTHON_CELL_MAGICS.contains(&name) {
        return None;
    }
    // `%%timeit [-n N -r R -p P -t -c -q -o] setup`: the setup statement runs first, in the
    // kernel. The other three take only options on their line.
    let line_python = if name == "timeit" {
        timeit_setup(args)
    } else {
        ""
    };
    let rest = &src[at + first.len()..];
    Some(format!("{}{line_python}\n{rest}", &src[..at]))
}

/// What follows `%%timeit`'s options: its setup statement.
fn timeit_setup(args: &str) -> &str {
    let mut rest = args.trim_start();
    let mut takes_value = false;
    while takes_value || rest.starts_with('-') {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        // `-n 10` takes the next word; `-n10` carries its value.
        takes_value = !takes_value && matches!(word, "-n" | "-r" | "-p");
        rest = rest[end..].trim_start();
        if rest.is_empty() {
            break;
        }
    }
    rest
}

/// What the import parser needs to know about a token.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Name(String),
    Op(&'static str),
    /// A string, number or character Python does not use; never part of an import.
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    tok: Tok,
    /// 1-based physical line.
    line: usize,
}

impl Token {
    fn is_op(&self, op: &str) -> bool {
        matches!(&self.tok, Tok::Op(o) if *o == op)
    }
    fn is_name(&self, name: &str) -> bool {
        matches!(&self.tok, Tok::Name(n) if n == name)
    }
    fn name(&self) -> Option<&str> {
        match &self.tok {
            Tok::Name(n) => Some(n),
            _ => None,
        }
    }
}

/// One logical line of Python: its indentation (tabs to multiples of 8, as CPython's
/// tokenizer counts them) and its tokens, comments and line joins already removed.
#[derive(Debug)]
struct Logical {
    indent: usize,
    tokens: Vec<Token>,
}

/// Operators, longest first so the first match is the maximal munch.
const OPERATORS: [&str; 47] = [
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>", "(", ")", "[", "]", "{", "}", ":", ";",
    ",", ".", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">", "@",
];

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// `r`, `b`, `f`, `u`, `t` (3.14 template strings) and their valid pairs, any case.
fn is_string_prefix(word: &str) -> bool {
    word.len() <= 2
        && matches!(
            word.to_ascii_lowercase().as_str(),
            "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf" | "t" | "tr" | "rt"
        )
}

struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: usize,
}

impl Scanner {
    fn new(src: &str) -> Scanner {
        Scanner {
            chars: src.chars().collect(),
            i: 0,
            line: 1,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn newline(&mut self) {
        self.i += 1;
        self.line += 1;
    }

    /// Split the source into logical lines, dropping blank and comment-only lines and the
    /// lines IPython does not treat as Python.
    fn logical_lines(mut self) -> Vec<Logical> {
        let mut out = Vec::new();
        while self.i < self.chars.len() {
            let indent = self.indentation();
            match self.peek() {
                None => break,
                Some('\n') => self.newline(),
                Some('#') => self.skip_comment(),
                Some(c) if LINE_ESCAPES.contains(&c) => self.skip_ipython_line(),
                Some(_) => {
                    if let Some(tokens) = self.logical_line() {
                        if !tokens.is_empty() {
                            out.push(Logical { indent, tokens });
                        }
                    }
                }
            }
        }
        out
    }

    fn indentation(&mut self) -> usize {
        let mut col = 0;
        while let Some(c) = self.peek() {
            match c {
                ' ' => col += 1,
                '\t' => col = (col / 8 + 1) * 8,
                // CPython resets the column on a form feed.
                '\x0c' => col = 0,
                _ => break,
            }
            self.i += 1;
        }
        col
    }

    /// Up to (not including) the end of the physical line.
    fn skip_comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.i += 1;
        }
    }

    /// The rest of an IPython line (magic, shell command, help): to the end of the physical
    /// line and its backslash continuations, newline included.
    fn skip_ipython_line(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                '\\' if self.peek_at(1) == Some('\n') => {
                    self.i += 1;
                    self.newline();
                }
                '\n' => {
                    self.newline();
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    /// The tokens of one logical line, its ending newline consumed; `None` when IPython would
    /// not run the line as Python (help request, `x = !cmd`, `x = %magic`).
    fn logical_line(&mut self) -> Option<Vec<Token>> {
        let mut tokens: Vec<Token> = Vec::new();
        let mut depth = 0usize;
        let mut python = true;
        while let Some(c) = self.peek() {
            let line = self.line;
            let tok = match c {
                '\n' => {
                    self.newline();
                    if depth == 0 {
                        break;
                    }
                    continue;
                }
                ' ' | '\t' | '\x0c' => {
                    self.i += 1;
                    continue;
                }
                '#' => {
                    self.skip_comment();
                    continue;
                }
                '\\' => {
                    self.i += 1;
                    if self.peek() == Some('\n') {
                        self.newline();
                    }
                    continue;
                }
                '\'' | '"' => {
                    self.skip_string("", 0);
                    Tok::Other
                }
                c if is_ident_start(c) => {
                    let word = self.identifier();
                    if matches!(self.peek(), Some('\'' | '"')) && is_string_prefix(&word) {
                        self.skip_string(&word, 0);
                        Tok::Other
                    } else {
                        Tok::Name(word)
                    }
                }
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    self.number();
                    Tok::Other
                }
                '?' => {
                    // `obj?`, `obj??`, `%magic?`: a help request, not code.
                    self.i += 1;
                    python = false;
                    continue;
                }
                '!' | '%'
                    if depth == 0
                        && self.peek_at(1) != Some('=')
                        && tokens.last().is_some_and(|t| t.is_op("=")) =>
                {
                    // `files = !ls`, `t = %timeit -o f()`: the right side is IPython.
                    self.skip_ipython_line();
                    return None;
                }
                _ => match self.operator() {
                    Some(op) => {
                        match op {
                            "(" | "[" | "{" => depth += 1,
                            ")" | "]" | "}" => depth = depth.saturating_sub(1),
                            _ => {}
                        }
                        Tok::Op(op)
                    }
                    None => {
                        self.i += 1;
                        Tok::Other
                    }
                },
            };
            tokens.push(Token { tok, line });
        }
        python.then_some(tokens)
    }

    fn identifier(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(is_ident_char) {
            self.i += 1;
        }
        self.chars[start..self.i].iter().collect()
    }

    fn number(&mut self) {
        let hex = self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X'));
        while let Some(c) = self.peek() {
            let exponent_sign = matches!(c, '+' | '-')
                && !hex
                && self.i > 0
                && matches!(self.chars[self.i - 1], 'e' | 'E');
            if c.is_alphanumeric() || c == '_' || c == '.' || exponent_sign {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn operator(&mut self) -> Option<&'static str> {
        let op = OPERATORS.into_iter().find(|op| {
            op.chars()
                .enumerate()
                .all(|(k, c)| self.peek_at(k) == Some(c))
        })?;
        self.i += op.len();
        Some(op)
    }

    /// Skip a string literal starting at its opening quote. A backslash always skips the next
    /// character, raw strings included (`r"\""` is one string in Python too). A newline ends a
    /// single-quoted string even when unterminated, so one bad line cannot swallow the cell.
    fn skip_string(&mut self, prefix: &str, nesting: usize) {
        let Some(quote) = self.peek() else { return };
        let triple = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        self.i += if triple { 3 } else { 1 };
        let formatted = nesting < MAX_FSTRING_NESTING
            && prefix.chars().any(|c| matches!(c, 'f' | 'F' | 't' | 'T'));
        while let Some(c) = self.peek() {
            match c {
                '\\' => {
                    self.i += 1;
                    match self.peek() {
                        Some('\n') => self.newline(),
                        Some(_) => self.i += 1,
                        None => {}
                    }
                }
                '\n' if !triple => return,
                '\n' => self.newline(),
                c if c == quote => {
                    if !triple {
                        self.i += 1;
                        return;
                    }
                    if self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote) {
                        self.i += 3;
                        return;
                    }
                    self.i += 1;
                }
                '{' if formatted => {
                    if self.peek_at(1) == Some('{') {
                        self.i += 2;
                    } else {
                        self.i += 1;
                        self.skip_replacement_field(quote, triple, nesting + 1);
                    }
                }
                _ => self.i += 1,
            }
        }
    }

    /// Skip an f-string `{expression!conversion:spec}` after its `{`. Since Python 3.12
    /// (PEP 701) the expression may hold strings in the same quotes as the f-string itself.
    fn skip_replacement_field(&mut self, quote: char, triple: bool, nesting: usize) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                '\n' if !triple => return,
                '\n' => self.newline(),
                '\'' | '"' => self.skip_string("", nesting),
                '(' | '[' | '{' => {
                    depth += 1;
                    self.i += 1;
                }
                ')' | ']' => {
                    depth = depth.saturating_sub(1);
                    self.i += 1;
                }
                '}' => {
                    self.i += 1;
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                ':' if depth == 0 => {
                    self.i += 1;
                    self.skip_format_spec(quote, triple, nesting);
                    return;
                }
                c if is_ident_start(c) => {
                    let word = self.identifier();
                    if matches!(self.peek(), Some('\'' | '"')) && is_string_prefix(&word) {
                        self.skip_string(&word, nesting);
                    }
                }
                _ => self.i += 1,
            }
        }
    }

    /// Skip a format spec (`>10`, `{width}.{prec}f`) up to and including the field's `}`.
    fn skip_format_spec(&mut self, quote: char, triple: bool, nesting: usize) {
        while let Some(c) = self.peek() {
            match c {
                '}' => {
                    self.i += 1;
                    return;
                }
                '{' => {
                    self.i += 1;
                    if nesting < MAX_FSTRING_NESTING {
                        self.skip_replacement_field(quote, triple, nesting + 1);
                    }
                }
                '\n' if !triple => return,
                '\n' => self.newline(),
                // The f-string's own closing quote; its caller consumes it.
                c if c == quote => return,
                _ => self.i += 1,
            }
        }
    }
}

/// An import found in a cell, before it is placed in a notebook.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    module: String,
    full: String,
    line: usize,
    guarded: bool,
    relative: bool,
}

/// An open compound statement whose body may still continue.
struct Block {
    /// Indentation of its header line.
    indent: usize,
    /// The `try` statement this header belongs to (`try`, `except`, `else`, `finally`), so a
    /// following `except` at the same indentation can be attributed to it.
    try_statement: Option<usize>,
    /// Set when this block's body is a guard (a `try` body or `with suppress(...)`); an index
    /// into the list of guards, whose "catches ImportError" is only known after the `except`
    /// clauses that follow the body have been read.
    guard: Option<usize>,
    /// A `def`: its body runs when the function is called, outside any `try` around the
    /// definition, so guards outside it do not reach in.
    function: bool,
}

const COMPOUND_KEYWORDS: [&str; 14] = [
    "if", "elif", "else", "while", "for", "try", "except", "finally", "with", "def", "class",
    "async", "match", "case",
];

/// Exceptions whose handler catches a failed import.
fn catches_import_error(name: &str) -> bool {
    matches!(
        name,
        "ImportError" | "ModuleNotFoundError" | "Exception" | "BaseException"
    )
}

/// Walk the logical lines keeping a stack of open blocks, so every import knows the `try`
/// bodies it is in; whether each `try` guards imports is settled by its `except` clauses.
fn collect_imports(lines: &[Logical]) -> Vec<Found> {
    let mut stack: Vec<Block> = Vec::new();
    let mut guard_catches: Vec<bool> = Vec::new();
    let mut pending: Vec<(ImportStatement, Vec<usize>)> = Vec::new();
    for logical in lines {
        // Blocks whose header is at this indentation or deeper have ended. A `try` chain
        // continues when this line is its next clause at the same indentation.
        let mut continued_try = None;
        while stack.last().is_some_and(|b| b.indent >= logical.indent) {
            if let Some(block) = stack.pop() {
                if block.indent == logical.indent {
                    continued_try = block.try_statement;
                }
            }
        }
        let mut guards: Vec<usize> = stack
            .iter()
            .rev()
            .take_while(|b| !b.function)
            .filter_map(|b| b.guard)
            .collect();
        let tokens = &logical.tokens[..];
        let suite = match header_colon(tokens) {
            None => tokens,
            Some(colon) => {
                let head = &tokens[..colon];
                let mut words = head.iter().map_while(Token::name);
                let keyword = match words.next() {
                    Some("async") => words.next().unwrap_or(""),
                    other => other.unwrap_or(""),
                };
                let function = keyword == "def";
                if function {
                    // `def f(): import x` runs the import at call time.
                    guards.clear();
                }
                let (try_statement, guard) = match keyword {
                    "try" => {
                        guard_catches.push(false);
                        let id = guard_catches.len() - 1;
                        (Some(id), Some(id))
                    }
                    "except" => {
                        if let Some(id) = continued_try {
                            if except_catches_import_error(head) {
                                guard_catches[id] = true;
                            }
                        }
                        (continued_try, None)
                    }
                    "else" | "finally" => (continued_try, None),
                    "with" if suppresses_import_error(head) => {
                        guard_catches.push(true);
                        (None, Some(guard_catches.len() - 1))
                    }
                    _ => (None, None),
                };
                stack.push(Block {
                    indent: logical.indent,
                    try_statement,
                    guard,
                    function,
                });
                // `try: import x` on one line: the rest of the line is the guarded body.
                guards.extend(guard);
                &tokens[colon + 1..]
            }
        };
        for statement in split_statements(suite) {
            for import in parse_import(statement) {
                pending.push((import, guards.clone()));
            }
        }
    }
    pending
        .into_iter()
        .map(|(i, guards)| Found {
            module: i.module,
            full: i.full,
            line: i.line,
            relative: i.relative,
            guarded: guards
                .iter()
                .any(|g| guard_catches.get(*g).copied().unwrap_or(false)),
        })
        .collect()
}

/// The index of the `:` ending a compound statement's header, when the line is one. Only a
/// colon outside brackets counts (`for k in {1: 2}:`); lambdas in headers are parenthesised.
fn header_colon(tokens: &[Token]) -> Option<usize> {
    let first = tokens.first()?.name()?;
    if !COMPOUND_KEYWORDS.contains(&first) {
        return None;
    }
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate() {
        match &t.tok {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => depth = depth.saturating_sub(1),
            Tok::Op(":") if depth == 0 => return Some(k),
            _ => {}
        }
    }
    None
}

/// `except:`, `except ImportError:`, `except (ValueError, ModuleNotFoundError) as e:`,
/// `except* ImportError:`, `except builtins.ImportError:`.
fn except_catches_import_error(head: &[Token]) -> bool {
    let mut types = head.get(1..).unwrap_or_default();
    if types.first().is_some_and(|t| t.is_op("*")) {
        types = &types[1..];
    }
    if let Some(alias) = types.iter().position(|t| t.is_name("as")) {
        types = &types[..alias];
    }
    types.is_empty()
        || types
            .iter()
            .filter_map(Token::name)
            .any(catches_import_error)
}

/// `with suppress(ImportError):` / `with contextlib.suppress(ModuleNotFoundError, …):`.
fn suppresses_import_error(head: &[Token]) -> bool {
    head.windows(2).enumerate().any(|(k, w)| {
        w[0].is_name("suppress")
            && w[1].is_op("(")
            && head[k + 2..]
                .iter()
                .take_while(|t| !t.is_op(")"))
                .filter_map(Token::name)
                .any(catches_import_error)
    })
}

/// Simple statements separated by `;` outside brackets.
fn split_statements(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (k, t) in tokens.iter().enumerate() {
        match &t.tok {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => depth = depth.saturating_sub(1),
            Tok::Op(";") if depth == 0 => {
                out.push(&tokens[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[start..]);
    out
}

#[derive(Debug, PartialEq, Eq)]
struct ImportStatement {
    module: String,
    full: String,
    line: usize,
    relative: bool,
}

/// The modules one simple statement imports; nothing if it is not an import or is malformed
/// where the module names are.
fn parse_import(statement: &[Token]) -> Vec<ImportStatement> {
    match statement.first().and_then(Token::name) {
        Some("import") => parse_plain_import(&statement[1..]),
        Some("from") => parse_from_import(&statement[1..]),
        _ => Vec::new(),
    }
}

/// A dotted name at the start of `tokens`: its text, the line of its first part, and how many
/// tokens it used.
fn dotted_name(tokens: &[Token]) -> Option<(String, usize, usize)> {
    let first = tokens.first()?;
    let mut name = first.name()?.to_string();
    let mut used = 1;
    while tokens.get(used).is_some_and(|t| t.is_op(".")) {
        let part = tokens.get(used + 1).and_then(Token::name)?;
        name.push('.');
        name.push_str(part);
        used += 2;
    }
    Some((name, first.line, used))
}

/// `import a.b as c, d` (a stray pair of brackets is tolerated).
fn parse_plain_import(tokens: &[Token]) -> Vec<ImportStatement> {
    let mut out = Vec::new();
    for item in tokens.split(|t| t.is_op(",")) {
        let item: Vec<Token> = item
            .iter()
            .filter(|t| !t.is_op("(") && !t.is_op(")"))
            .cloned()
            .collect();
        let Some((full, line, used)) = dotted_name(&item) else {
            continue;
        };
        let rest = &item[used..];
        let well_formed = rest.is_empty()
            || (rest.len() == 2 && rest[0].is_name("as") && rest[1].name().is_some());
        if well_formed && full != "__future__" {
            out.push(ImportStatement {
                module: top_level(&full).to_string(),
                full,
                line,
                relative: false,
            });
        }
    }
    out
}

/// `from a.b import c`, `from . import x, y`, `from ..pkg import (z)`.
fn parse_from_import(tokens: &[Token]) -> Vec<ImportStatement> {
    let mut dots = 0;
    let mut k = 0;
    while let Some(Tok::Op(op @ ("." | "..."))) = tokens.get(k).map(|t| &t.tok) {
        dots += op.len();
        k += 1;
    }
    // In `from . import x` the word after the dots is the keyword, not a module.
    let from = match tokens.get(k) {
        Some(t) if t.is_name("import") => None,
        _ => dotted_name(&tokens[k..]),
    };
    if let Some((_, _, used)) = &from {
        k += used;
    }
    if !tokens.get(k).is_some_and(|t| t.is_name("import")) {
        return Vec::new();
    }
    let prefix = ".".repeat(dots);
    match from {
        Some((full, line, _)) if dots == 0 => {
            if full == "__future__" {
                return Vec::new();
            }
            vec![ImportStatement {
                module: top_level(&full).to_string(),
                full,
                line,
                relative: false,
            }]
        }
        Some((name, line, _)) => vec![ImportStatement {
            module: top_level(&name).to_string(),
            full: format!("{prefix}{name}"),
            line,
            relative: true,
        }],
        // `from . import x, y as z`: each name is a module or attribute of the package.
        None if dots > 0 => tokens[k + 1..]
            .split(|t| t.is_op(","))
            .filter_map(|item| {
                let names: Vec<&Token> = item
                    .iter()
                    .filter(|t| !t.is_op("(") && !t.is_op(")"))
                    .collect();
                let first = names.first()?;
                let name = first.name()?;
                Some(ImportStatement {
                    module: name.to_string(),
                    full: format!("{prefix}{name}"),
                    line: first.line,
                    relative: true,
                })
            })
            .collect(),
        None => Vec::new(),
    }
}

fn top_level(dotted: &str) -> &str {
    dotted.split('.').next().unwrap_or(dotted)
}

/// Is `module` a top-level module of CPython 3.`minor`'s standard library? Versions outside
/// 3.8–3.13 are answered as the nearest one kip knows. `__main__` counts: it always imports.
pub fn is_stdlib(module: &str, minor: u8) -> bool {
    if module == "__main__" {
        return true;
    }
    let minor = minor.clamp(8, 13);
    STDLIB
        .binary_search_by(|(name, _, _)| (*name).cmp(module))
        .ok()
        .and_then(|k| STDLIB.get(k))
        .is_some_and(|(_, added, removed)| (*added..*removed).contains(&minor))
}

/// CPython's top-level stdlib modules, `(name, first minor with it, first minor without it)`
/// with 255 meaning "still there", sorted by name for binary search. The list is data, kept
/// in `stdlib_modules.txt` (its header says how it was generated and how a line reads).
static STDLIB: std::sync::LazyLock<Vec<(&'static str, u8, u8)>> = std::sync::LazyLock::new(|| {
    include_str!("stdlib_modules.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(stdlib_line)
        .collect()
});

/// One line of `stdlib_modules.txt`: `NAME`, or `NAME FIRST-LAST` with either side open.
fn stdlib_line(line: &str) -> Option<(&str, u8, u8)> {
    let minor = |v: &str| v.strip_prefix("3.")?.parse::<u8>().ok();
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let Some(range) = words.next() else {
        return Some((name, 8, 255));
    };
    let (first, last) = range.split_once('-')?;
    let added = if first.is_empty() { 8 } else { minor(first)? };
    let removed = if last.is_empty() {
        255
    } else {
        minor(last)?.checked_add(1)?
    };
    Some((name, added, removed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notebook::ipynb;

    /// The module of every import in `src`, with `?` after a guarded one (`try`/`except
    /// ImportError`, `suppress(ImportError)`).
    fn mods(src: &str) -> Vec<String> {
        extract_from_source(src, 0)
            .into_iter()
            .map(|r| r.module + if r.guarded { "?" } else { "" })
            .collect()
    }

    /// Module names only.
    fn names(src: &str) -> Vec<String> {
        extract_from_source(src, 0)
            .into_iter()
            .map(|r| r.module)
            .collect()
    }

    #[test]
    fn plain_imports_with_aliases_and_dots() {
        let refs = extract_from_source("import a.b as c, d\nimport e.f.g", 3);
        let got: Vec<(&str, &str, usize, usize)> = refs
            .iter()
            .map(|r| (r.module.as_str(), r.full.as_str(), r.cell, r.line))
            .collect();
        assert_eq!(
            got,
            [("a", "a.b", 3, 1), ("d", "d", 3, 1), ("e", "e.f.g", 3, 2)]
        );
        assert!(refs.iter().all(|r| !r.guarded && !r.relative));
    }

    #[test]
    fn from_imports_single_and_parenthesised_multi_line() {
        let refs = extract_from_source(
            "from e.f import g\nfrom x import (\n    a,\n    b as c,  # comment\n)\nfrom y import *",
            0,
        );
        let got: Vec<(&str, &str, usize)> = refs
            .iter()
            .map(|r| (r.module.as_str(), r.full.as_str(), r.line))
            .collect();
        assert_eq!(got, [("e", "e.f", 1), ("x", "x", 2), ("y", "y", 6)]);
    }

    #[test]
    fn backslash_continuations_join_lines() {
        let refs = extract_from_source("import os, \\\n    sys\nfrom a \\\n  import b", 0);
        let got: Vec<(&str, usize)> = refs.iter().map(|r| (r.module.as_str(), r.line)).collect();
        assert_eq!(got, [("os", 1), ("sys", 2), ("a", 3)]);
    }

    #[test]
    fn semicolons_separate_statements() {
        assert_eq!(
            names("import os; import sys;x = 1; from re import sub"),
            ["os", "sys", "re"]
        );
        assert_eq!(names("d = {'a': 1}; import json"), ["json"]);
    }

    #[test]
    fn imports_nested_in_blocks() {
        let src = "\
def f():
    import inner
    if True:
        from deep.er import x
class C:
    import in_class
for i in range(3):
    with open('f') as fh:
        import in_with
while False: import inline_while
if x: import a; import b
else: import c
async def g():
    import in_async
";
        assert_eq!(
            names(src),
            [
                "inner",
                "deep",
                "in_class",
                "in_with",
                "inline_while",
                "a",
                "b",
                "c",
                "in_async"
            ]
        );
    }

    #[test]
    fn strings_and_comments_are_not_code() {
        let src = r#"s = 'import notme'
t = """
import notme2
from notme3 import x
"""
u = r'import notme4\' import notme5'
v = b"import notme6"; w = f"{x} import notme7"
# import notme8
x = 1  # import notme9
y = Rb'''
import notme10'''
import real
"#;
        assert_eq!(names(src), ["real"]);
    }

    #[test]
    fn f_string_fields_may_hold_quotes_and_nested_f_strings() {
        let src = "a = f\"{d[\"k\"]} import no1\"\nb = f'{x:{w}.2f} {y!r:>{n}} import no2'\nc = f\"{f'{1}'} import no3\"\nimport yes";
        assert_eq!(names(src), ["yes"]);
        // A triple-quoted f-string's fields may span lines; line numbers stay right.
        let refs = extract_from_source("s = f\"\"\"{\n  x\n}\nimport no\n\"\"\"\nimport yes", 0);
        assert_eq!(refs.len(), 1);
        assert_eq!((refs[0].module.as_str(), refs[0].line), ("yes", 6));
    }

    #[test]
    fn unterminated_strings_end_at_the_line_or_the_cell() {
        assert_eq!(names("s = 'oops\nimport after"), ["after"]);
        assert!(names("s = '''never closed\nimport inside").is_empty());
    }

    #[test]
    fn brackets_span_lines_without_ending_the_statement() {
        let src = "x = [\n1,\n2]\nimport after\ny = (\n import_this_is_a_name\n)";
        assert_eq!(names(src), ["after"]);
    }

    #[test]
    fn relative_imports_are_flagged() {
        let refs = extract_from_source(
            "from . import x, y as z\nfrom .mod import y\nfrom ..pkg.sub import q\nfrom ... import deep\nfrom . import *",
            0,
        );
        let got: Vec<(&str, &str, bool)> = refs
            .iter()
            .map(|r| (r.module.as_str(), r.full.as_str(), r.relative))
            .collect();
        assert_eq!(
            got,
            [
                ("x", ".x", true),
                ("y", ".y", true),
                ("mod", ".mod", true),
                ("pkg", "..pkg.sub", true),
                ("deep", "...deep", true),
            ]
        );
    }

    #[test]
    fn future_imports_are_skipped() {
        assert_eq!(
            names("from __future__ import annotations\nimport __future__\nimport os"),
            ["os"]
        );
    }

    #[test]
    fn malformed_imports_yield_nothing_or_the_well_formed_part() {
        assert_eq!(
            names("import\nimport a.\nfrom import x\nfrom a\nimport 3x"),
            Vec::<String>::new()
        );
        assert_eq!(names("import ok, bad.\nimportlib = 1\nfromage = 2"), ["ok"]);
        assert_eq!(names("x.import_module('a')"), Vec::<String>::new());
    }

    #[test]
    fn try_except_import_error_guards_the_body_only() {
        let src = "\
try:
    import ujson as json
except ImportError:
    import json
import after";
        assert_eq!(mods(src), ["ujson?", "json", "after"]);
    }

    #[test]
    fn guard_forms() {
        let guarded = |except: &str| {
            let src = format!("try:\n    import g\n{except}\n    pass\n");
            mods(&src) == ["g?"]
        };
        for except in [
            "except ImportError:",
            "except ModuleNotFoundError as e:",
            "except (ValueError, ModuleNotFoundError) as e:",
            "except (\n    ValueError,\n    ImportError,\n):",
            "except:",
            "except Exception:",
            "except BaseException as e:",
            "except builtins.ImportError:",
            "except* ImportError:",
        ] {
            assert!(guarded(except), "{except}");
        }
        for except in [
            "except KeyError:",
            "except (KeyError, ValueError):",
            "finally:",
        ] {
            assert!(!guarded(except), "{except}");
        }
    }

    #[test]
    fn any_except_clause_of_the_try_counts() {
        let src = "\
try:
    import g
except KeyError:
    pass
except ImportError:
    g = None
else:
    import in_else
finally:
    import in_finally
";
        assert_eq!(mods(src), ["g?", "in_else", "in_finally"]);
    }

    #[test]
    fn guards_on_one_line_nested_and_in_functions() {
        assert_eq!(mods("try: import g\nexcept ImportError: pass"), ["g?"]);
        let src = "\
def load():
    try:
        import a
        if x:
            import b
    except ImportError:
        return None
    import c
try:
    try:
        import d
    except KeyError:
        pass
except Exception:
    pass
";
        assert_eq!(mods(src), ["a?", "b?", "c", "d?"]);
    }

    #[test]
    fn a_function_defined_in_a_try_imports_when_called_unguarded() {
        let src = "\
try:
    def f():
        import at_call_time
    def g(): import inline_def
    class C:
        import at_definition
    async def h():
        async with suppress(ImportError):
            import async_guarded
except ImportError:
    pass
";
        assert_eq!(
            mods(src),
            [
                "at_call_time",
                "inline_def",
                "at_definition?",
                "async_guarded?"
            ]
        );
    }

    #[test]
    fn an_unrelated_except_at_the_same_indent_does_not_guard() {
        let src = "\
try:
    import g
except KeyError:
    pass
x = 1
try:
    pass
except ImportError:
    pass
";
        assert_eq!(mods(src), ["g"]);
    }

    #[test]
    fn suppress_import_error_guards() {
        let src = "\
with contextlib.suppress(ImportError):
    import a
with suppress(KeyError):
    import b
with suppress(ModuleNotFoundError): import c";
        assert_eq!(mods(src), ["a?", "b", "c?"]);
    }

    #[test]
    fn tabs_indent_to_multiples_of_eight() {
        let src = "try:\n\timport g\n        import h\nexcept ImportError:\n\tpass\nimport u";
        assert_eq!(mods(src), ["g?", "h?", "u"]);
    }

    #[test]
    fn ipython_line_forms_are_skipped() {
        let src = "\
%matplotlib inline
!pip install x
!!ls
    %time import in_magic
files = !ls
t = %timeit -o import_nothing
out = !echo \\
  import continued
os?
os.path??
?os
%pip install nope?
/print import slash
,print import comma
;print import semi
import real
x = a % b; import after_modulo
y = a != b; import after_ne
";
        assert_eq!(names(src), ["real", "after_modulo", "after_ne"]);
    }

    #[test]
    fn python_cell_magics_have_python_bodies() {
        let refs = extract_from_source("%%time\nimport timed\n", 0);
        assert_eq!((refs[0].module.as_str(), refs[0].line), ("timed", 2));
        assert_eq!(
            names("%%capture --no-stderr out\nimport captured"),
            ["captured"]
        );
        assert_eq!(names("%%prun -s cumulative\nimport profiled"), ["profiled"]);
        assert_eq!(
            names("\n  \n%%time\nimport after_blank_lines"),
            ["after_blank_lines"]
        );
        // `%%timeit`'s setup statement follows its options on the magic line.
        let refs = extract_from_source("%%timeit -n 10 -r3 import numpy as np\nnp.zeros(3)", 0);
        assert_eq!((refs[0].module.as_str(), refs[0].line), ("numpy", 1));
        assert_eq!(names("%%timeit -q\nimport body"), ["body"]);
        assert_eq!(timeit_setup(" -n 10 -o   x = 1"), "x = 1");
        assert_eq!(timeit_setup("-n"), "");
    }

    #[test]
    fn other_cell_magics_contribute_nothing() {
        for magic in [
            "%%bash",
            "%%sh",
            "%%html",
            "%%javascript",
            "%%writefile helper.py",
            "%%latex",
            "%%markdown",
            "%%script python3",
            "%%sql",
            "%%timer",
            "%%time?",
        ] {
            assert!(
                names(&format!("{magic}\nimport nope\n")).is_empty(),
                "{magic}"
            );
        }
        // A `%%` line later in the cell is not a cell magic (IPython raises); it is skipped.
        assert_eq!(names("import a\n%%bash\nimport b"), ["a", "b"]);
    }

    #[test]
    fn line_endings_and_odd_input_never_panic() {
        assert_eq!(names("import a\r\nimport b\rimport c"), ["a", "b", "c"]);
        for src in [
            "",
            "\n",
            "\\",
            "'",
            "\"\"\"",
            "f'{",
            "f'{x:",
            "f'{x:{'",
            "((((",
            "))))]]",
            "try:",
            "except ImportError:",
            "from",
            "from .",
            "import (",
            "x = !",
            "?",
            "%%",
            "%%time",
            "\u{feff}import a",
            "é = 1\nimport ü",
            "0x1e+3; 1e-5; .5j",
            "\t\x0c  import ok",
        ] {
            let _ = extract_from_source(src, 0);
        }
        let deep = format!("x = {}{}", "f'{".repeat(500), "'}".repeat(500));
        let _ = extract_from_source(&deep, 0);
        let mut unicode = String::new();
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            unicode.push(c);
        }
        let _ = extract_from_source(&unicode, 0);
        assert_eq!(names("é = 1\nimport ü"), ["ü"]);
    }

    #[test]
    fn random_soup_of_python_punctuation_never_panics() {
        // A fixed pseudo-random generator: reproducible, no test dependency.
        let pieces = [
            "import",
            "from",
            "try",
            "except",
            "ImportError",
            "as",
            ".",
            ",",
            ";",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            ":",
            "\\",
            "\n",
            "\t",
            "    ",
            " ",
            "'",
            "\"",
            "'''",
            "f'",
            "rb\"",
            "{x!r:>{w}}",
            "#",
            "%",
            "%%time",
            "%%bash",
            "!",
            "?",
            "=",
            "é",
            "1e-5",
            "x",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut src = String::new();
            for _ in 0..next() % 80 {
                src.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            for r in extract_from_source(&src, 0) {
                assert!(!r.module.is_empty() && r.line >= 1, "{src:?} → {r:?}");
            }
        }
    }

    #[test]
    fn stdlib_by_version() {
        assert!(is_stdlib("json", 11));
        assert!(is_stdlib("os", 8));
        assert!(is_stdlib("sys", 13));
        assert!(is_stdlib("__main__", 12));
        assert!(is_stdlib("tomllib", 11));
        assert!(!is_stdlib("tomllib", 10));
        assert!(is_stdlib("distutils", 11));
        assert!(!is_stdlib("distutils", 12));
        assert!(is_stdlib("imghdr", 12));
        assert!(!is_stdlib("imghdr", 13));
        assert!(is_stdlib("zoneinfo", 9));
        assert!(!is_stdlib("zoneinfo", 8));
        assert!(is_stdlib("parser", 9));
        assert!(!is_stdlib("parser", 10));
        assert!(is_stdlib("dummy_threading", 8));
        assert!(!is_stdlib("dummy_threading", 9));
        assert!(!is_stdlib("yaml", 12));
        assert!(!is_stdlib("numpy", 11));
        assert!(!is_stdlib("", 11));
        // Outside 3.8–3.13: the nearest known version.
        assert!(is_stdlib("asyncore", 6));
        assert!(!is_stdlib("asyncore", 14));
        assert!(is_stdlib("tomllib", 20));
    }

    #[test]
    fn stdlib_table_is_sorted_and_ranges_are_sane() {
        assert!(STDLIB.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(STDLIB.iter().all(|(_, a, r)| a < r && *a >= 8));
        assert!(STDLIB.len() > 300);
        // Every line of the data file was read (a malformed one would be dropped silently).
        let lines = include_str!("stdlib_modules.txt")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(STDLIB.len(), lines);
        assert_eq!(stdlib_line("x 3.9-3.11"), Some(("x", 9, 12)));
        assert_eq!(stdlib_line("x -3.12"), Some(("x", 8, 13)));
        assert_eq!(stdlib_line("x 3.13-"), Some(("x", 13, 255)));
        assert_eq!(stdlib_line("x 9-"), None);
    }

    const NOTEBOOK: &str = r##"{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Analysis\n", "import not_code_markdown\n"]},
  {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
   "source": ["%matplotlib inline\n", "import json\n", "import numpy as np\n", "import utils\n", "from pandas import (\n", "    DataFrame,\n", "    Series,\n", ")"]},
  {"cell_type": "raw", "metadata": {}, "source": "import not_code_raw"},
  {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
   "source": "%%time\nimport sklearn.linear_model\nfrom .local import helper\n"},
  {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [],
   "source": ["%%bash\n", "pip install requests\n", "python -c 'import not_python'\n"]},
  {"cell_type": "code", "execution_count": 4, "metadata": {}, "outputs": [],
   "source": ["try:\n", "    import tqdm\n", "except ImportError:\n", "    tqdm = None\n", "try:\n", "    import numpy\n", "except ImportError:\n", "    pass\n", "import json  # again\n"]},
  {"cell_type": "code", "execution_count": 5, "metadata": {}, "outputs": [],
   "source": ["try:\n", "    import plotly\n", "except ImportError:\n", "    pass\n"]},
  {"cell_type": "code", "execution_count": 6, "metadata": {}, "outputs": [],
   "source": ["import plotly.express as px\n", "files = !ls\n", "px?"]}
 ],
 "metadata": {
  "kernelspec": {"display_name": "Python [conda env:ml]", "language": "python", "name": "conda-env-ml-py"},
  "language_info": {"name": "python", "version": "3.11.7"}
 },
 "nbformat": 4,
 "nbformat_minor": 5
}"##;

    #[test]
    fn realistic_notebook() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("analysis.ipynb");
        std::fs::write(&path, NOTEBOOK).unwrap();
        let nb = ipynb::read(&path).unwrap();
        assert_eq!(nb.kernel_name.as_deref(), Some("conda-env-ml-py"));
        assert_eq!(
            ipynb::nb_conda_env(nb.kernel_name.as_deref().unwrap())
                .and_then(|n| n.env_name)
                .as_deref(),
            Some("ml")
        );
        let refs = extract(&nb);
        let got: Vec<_> = refs
            .iter()
            .map(|r| {
                (
                    r.module.as_str(),
                    r.full.as_str(),
                    r.cell,
                    r.line,
                    r.guarded,
                    r.relative,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("json", "json", 1, 2, false, false),
                ("numpy", "numpy", 1, 3, false, false),
                ("utils", "utils", 1, 4, false, false),
                ("pandas", "pandas", 1, 5, false, false),
                ("sklearn", "sklearn.linear_model", 3, 2, false, false),
                ("local", ".local", 3, 3, false, true),
                ("tqdm", "tqdm", 5, 2, true, false),
                // Guarded in cell 6, then imported unguarded in cell 7: reported there.
                ("plotly", "plotly.express", 7, 1, false, false),
            ]
        );
    }

    #[test]
    fn non_python_notebooks_have_no_python_imports() {
        let mut nb = ipynb::parse(std::path::Path::new("r.ipynb"), NOTEBOOK.as_bytes()).unwrap();
        nb.language = Some("R".into());
        assert!(extract(&nb).is_empty());
        nb.language = Some("Python 3".into());
        assert!(!extract(&nb).is_empty());
        nb.language = None;
        assert!(!extract(&nb).is_empty());
    }

    #[test]
    fn dedup_keeps_relative_and_absolute_apart() {
        let nb = Notebook {
            path: "n.ipynb".into(),
            nbformat: 4,
            kernel_name: None,
            kernel_display_name: None,
            language: None,
            cells: vec![ipynb::Cell {
                index: 0,
                kind: CellKind::Code,
                source: "from . import utils\nimport utils\nimport utils.more".into(),
            }],
        };
        let got: Vec<(String, bool)> = extract(&nb)
            .into_iter()
            .map(|r| (r.full, r.relative))
            .collect();
        assert_eq!(got, [(".utils".to_string(), true), ("utils".into(), false)]);
    }
}
