//! Python's `json` module, reimplemented so kip can print byte for byte what
//! `jupyter kernelspec list --json` prints.
//!
//! Reading follows `jupyter_client`'s `json.load(open(path, encoding="utf-8"))`: strict UTF-8
//! (a `UnicodeDecodeError` otherwise), universal newlines (text mode), then `json.loads` with
//! default settings as CPython's C scanner (`Modules/_json.c`, `Lib/json/decoder.py`)
//! implements it, error messages and positions included. Writing follows `json.dumps` with
//! `ensure_ascii=True` (`Lib/json/encoder.py`) and `float.__repr__`.

use std::collections::HashMap;
use std::fmt;

/// A Python `str`: UTF-16 code units, so lone surrogates (from JSON `"\ud800"` escapes, or from
/// file names decoded with Python's surrogateescape) survive a round trip.
///
/// UTF-16 is output-equivalent to Python's code points for everything kip does with strings:
/// `ensure_ascii` prints a non-BMP character as the same surrogate-pair escapes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PyStr(Vec<u16>);

impl PyStr {
    pub fn new(s: &str) -> Self {
        PyStr(s.encode_utf16().collect())
    }

    /// Bytes of a POSIX file name as Python sees them (`os.fsdecode`, surrogateescape): valid
    /// UTF-8 decoded, each undecodable byte `b` becomes U+DC00+b.
    pub fn from_os_bytes(b: &[u8]) -> Self {
        let mut units = Vec::with_capacity(b.len());
        let mut rest = b;
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    units.extend(s.encode_utf16());
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    if let Ok(s) = std::str::from_utf8(good) {
                        units.extend(s.encode_utf16());
                    }
                    let n = e.error_len().unwrap_or(bad.len()).clamp(1, bad.len());
                    units.extend(bad[..n].iter().map(|&byte| 0xDC00 + u16::from(byte)));
                    rest = &bad[n..];
                }
            }
        }
        PyStr(units)
    }

    #[cfg(unix)]
    pub fn from_os_str(s: &std::ffi::OsStr) -> Self {
        use std::os::unix::ffi::OsStrExt;
        Self::from_os_bytes(s.as_bytes())
    }

    #[cfg(not(unix))]
    pub fn from_os_str(s: &std::ffi::OsStr) -> Self {
        Self::new(&s.to_string_lossy())
    }

    /// The text kip shows and prints in its own JSON: a lone surrogate becomes the escape
    /// Python's `repr` and warnings show (`\udcff`), so a kernel directory named with
    /// undecodable bytes reads as `os.fsdecode` shows it (Jupyter's own warnings print it so),
    /// stays distinct from its neighbours, and can be typed back (`--kernel 'k\udcff'`).
    /// Every other JSON parser accepts the result, unlike a lone-surrogate JSON escape.
    pub fn to_string_lossy(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        for r in char::decode_utf16(self.0.iter().copied()) {
            match r {
                Ok(c) => out.push(c),
                Err(e) => {
                    use std::fmt::Write as _;
                    let _ = write!(out, "\\u{:04x}", e.unpaired_surrogate());
                }
            }
        }
        out
    }

    /// `None` when the string holds a lone surrogate.
    pub fn as_str(&self) -> Option<String> {
        String::from_utf16(&self.0).ok()
    }

    /// Python `str.lower()`: full Unicode lowercase mapping, final sigma included (Rust's
    /// `str::to_lowercase` implements the same Final_Sigma rule). A lone surrogate is neither
    /// cased nor case-ignorable, so it bounds the final-sigma context exactly as a string end
    /// does: lowering the valid runs separately gives Python's result.
    pub fn lower(&self) -> PyStr {
        let mut out = Vec::with_capacity(self.0.len());
        let mut run = String::new();
        for r in char::decode_utf16(self.0.iter().copied()) {
            match r {
                Ok(c) => run.push(c),
                Err(e) => {
                    out.extend(run.to_lowercase().encode_utf16());
                    run.clear();
                    out.push(e.unpaired_surrogate());
                }
            }
        }
        out.extend(run.to_lowercase().encode_utf16());
        PyStr(out)
    }

    pub fn units(&self) -> &[u16] {
        &self.0
    }
}

impl fmt::Display for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// The JSON literal, so lone surrogates are visible.
impl fmt::Debug for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_str(&mut s, self);
        f.write_str(&s)
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> Self {
        PyStr::new(s)
    }
}

/// An OS string (a file name, a path) as kip shows it: as Python's `os.fsdecode` sees it, each
/// undecodable byte as its `\udcXX` escape (see [`PyStr::to_string_lossy`]).
pub fn os_text(s: impl AsRef<std::ffi::OsStr>) -> String {
    match s.as_ref().to_str() {
        Some(t) => t.to_string(),
        None => PyStr::from_os_str(s.as_ref()).to_string_lossy(),
    }
}

/// [`os_text`] read back: each `\udc80`–`\udcff` escape becomes its byte again, so a path
/// taken from a kernelspec (`"/e\udcff/bin/python"`, as Python wrote it) names the same file.
#[cfg(unix)]
pub fn os_from_text(s: &str) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    if !s.contains("\\udc") {
        return s.into();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let esc = b.get(i..i + 6).filter(|e| e.starts_with(b"\\udc"));
        match esc.and_then(|e| u8::from_str_radix(std::str::from_utf8(&e[4..]).ok()?, 16).ok()) {
            Some(byte) if byte >= 0x80 => {
                out.push(byte);
                i += 6;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    std::ffi::OsString::from_vec(out)
}

/// `#[serde(serialize_with = …)]` helpers for paths in kip's `--json` output. serde's own
/// `Path` impl fails on a non-UTF-8 path, and one such path (a kernel dir, an env, a PATH
/// entry) would then take the whole document with it; these write it as [`os_text`].
pub mod path_text {
    use serde::Serializer;
    use std::path::{Path, PathBuf};

    pub fn one<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::os_text(p))
    }

    pub fn opt<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => one(p, s),
            None => s.serialize_none(),
        }
    }

    pub fn vec<S: Serializer>(v: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(super::os_text))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Python int: arbitrary precision, kept as the decimal text Python prints (`-0` is `0`).
    Int(String),
    Float(f64),
    Str(PyStr),
    Array(Vec<Value>),
    /// Python dict from `json.loads`: insertion order; a duplicate key keeps the position of
    /// its first occurrence and the value of its last (what `PyDict_SetItem` does).
    Object(Vec<(PyStr, Value)>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        let key = PyStr::new(key);
        self.as_object()?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    pub fn as_str(&self) -> Option<&PyStr> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Vec<(PyStr, Value)>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// JSON-flavoured names of the Python types, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Array(_) => "list",
            Value::Object(_) => "dict",
        }
    }
}

/// A `serde_json` view of a value, for kip's own JSON output (non-finite floats become null,
/// lone surrogates U+FFFD, ints beyond i64/u64 their decimal text).
pub fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => i
            .parse::<i64>()
            .map(serde_json::Value::from)
            .or_else(|_| i.parse::<u64>().map(serde_json::Value::from))
            .unwrap_or_else(|_| serde_json::Value::String(i.clone())),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Str(s) => serde_json::Value::String(s.to_string_lossy()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, v)| (k.to_string_lossy(), to_serde(v)))
                .collect(),
        ),
    }
}

/// Why `json.load` would fail, with the text of the Python exception it would raise.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ParseError {
    /// `UnicodeDecodeError` from reading the file as strict UTF-8. `start..end` is the byte
    /// range Python reports (the maximal invalid subpart, as Rust's `Utf8Error` also finds it).
    #[error("{}", utf8_message(*.start, *.end, *.byte, .reason))]
    InvalidUtf8 {
        start: usize,
        end: usize,
        byte: u8,
        reason: &'static str,
    },
    /// `json.JSONDecodeError`: `pos` counts code points of the newline-translated text; `line`
    /// and `column` are 1-based as in `json.decoder.JSONDecodeError`.
    #[error("{msg}: line {line} column {column} (char {pos})")]
    Json {
        msg: &'static str,
        line: usize,
        column: usize,
        pos: usize,
    },
    /// `RecursionError` from the C scanner's `Py_EnterRecursiveCall`.
    #[error(
        "maximum recursion depth exceeded while decoding a JSON {container} from a unicode string"
    )]
    TooDeep { container: &'static str },
    /// `ValueError` from `int()` on a literal longer than `sys.get_int_max_str_digits()`
    /// (4300 by default since CPython 3.11 / 3.10.7).
    #[error("Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit")]
    IntTooLong { digits: usize },
}

fn utf8_message(start: usize, end: usize, byte: u8, reason: &str) -> String {
    if end.saturating_sub(start) <= 1 {
        format!("'utf-8' codec can't decode byte 0x{byte:02x} in position {start}: {reason}")
    } else {
        format!(
            "'utf-8' codec can't decode bytes in position {start}-{}: {reason}",
            end - 1
        )
    }
}

/// CPython's default `sys.get_int_max_str_digits()`.
const INT_MAX_STR_DIGITS: usize = 4300;

/// Python's default recursion limit is 1000 frames; the C scanner spends one per nested
/// container, so real documents deeper than this fail in Python too.
const MAX_DEPTH: usize = 1000;

/// The C scanner's `IS_WHITESPACE`: only these four, never other Unicode spaces.
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn hex4(digits: &[char]) -> Option<u16> {
    digits.iter().try_fold(0u16, |acc, c| {
        c.to_digit(16)
            .and_then(|d| u16::try_from(d).ok())
            .map(|d| (acc << 4) | d)
    })
}

fn push_char(out: &mut Vec<u16>, c: char) {
    let mut buf = [0u16; 2];
    out.extend_from_slice(c.encode_utf16(&mut buf));
}

/// A port of `scan_once_unicode` and friends from `Modules/_json.c`, over the code points of the
/// document so error positions are Python's `char` offsets.
struct Parser {
    s: Vec<char>,
}

impl Parser {
    /// `JSONDecodeError(msg, doc, pos)`: line = newlines before `pos` + 1, column = distance
    /// from the last newline before `pos` (or `pos + 1` on the first line).
    fn err(&self, msg: &'static str, pos: usize) -> ParseError {
        let before = &self.s[..pos.min(self.s.len())];
        let line = before.iter().filter(|&&c| c == '\n').count() + 1;
        let column = match before.iter().rposition(|&c| c == '\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        };
        ParseError::Json {
            msg,
            line,
            column,
            pos,
        }
    }

    fn at(&self, idx: usize) -> Option<char> {
        self.s.get(idx).copied()
    }

    fn skip_ws(&self, mut idx: usize) -> usize {
        while self.at(idx).is_some_and(is_ws) {
            idx += 1;
        }
        idx
    }

    fn literal(&self, idx: usize, lit: &str) -> bool {
        lit.chars()
            .enumerate()
            .all(|(k, c)| self.at(idx + k) == Some(c))
    }

    /// A scalar starting exactly at `idx` (`scan_once_unicode` for anything but `{` and `[`).
    /// Where the C scanner raises `StopIteration(idx)`, `raw_decode` turns that into
    /// "Expecting value" at `idx`.
    fn scalar(&self, idx: usize) -> Result<(Value, usize), ParseError> {
        let Some(c) = self.at(idx) else {
            return Err(self.err("Expecting value", idx));
        };
        let constant = |lit: &str, v: Value| self.literal(idx, lit).then(|| (v, idx + lit.len()));
        let found = match c {
            '"' => {
                let (s, next) = self.scanstring(idx + 1)?;
                return Ok((Value::Str(s), next));
            }
            'n' => constant("null", Value::Null),
            't' => constant("true", Value::Bool(true)),
            'f' => constant("false", Value::Bool(false)),
            'N' => constant("NaN", Value::Float(f64::NAN)),
            'I' => constant("Infinity", Value::Float(f64::INFINITY)),
            '-' => constant("-Infinity", Value::Float(f64::NEG_INFINITY)),
            _ => None,
        };
        match found {
            Some(hit) => Ok(hit),
            None => self.number(idx),
        }
    }

    /// `_match_number_unicode`: the regex `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`, where a
    /// `.` or exponent without digits is simply not part of the number (so `1.` and `01` end
    /// at `1` / `0` and the caller reports what follows).
    fn number(&self, start: usize) -> Result<(Value, usize), ParseError> {
        let digit = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_digit());
        let mut idx = start;
        if self.at(idx) == Some('-') {
            idx += 1;
        }
        match self.at(idx) {
            Some('0') => idx += 1,
            Some('1'..='9') => {
                while digit(idx) {
                    idx += 1;
                }
            }
            _ => return Err(self.err("Expecting value", start)),
        }
        let mut is_float = false;
        if self.at(idx) == Some('.') && digit(idx + 1) {
            is_float = true;
            idx += 1;
            while digit(idx) {
                idx += 1;
            }
        }
        if matches!(self.at(idx), Some('e' | 'E')) {
            let mut j = idx + 1;
            if matches!(self.at(j), Some('+' | '-')) {
                j += 1;
            }
            if digit(j) {
                while digit(j) {
                    j += 1;
                }
                is_float = true;
                idx = j;
            }
        }
        let text: String = self.s[start..idx].iter().collect();
        if is_float {
            // `float(text)`: both are correctly rounded, and overflow gives ±inf in both.
            let f = text
                .parse::<f64>()
                .map_err(|_| self.err("Expecting value", start))?;
            return Ok((Value::Float(f), idx));
        }
        let digits = text.trim_start_matches('-');
        if digits.len() > INT_MAX_STR_DIGITS {
            return Err(ParseError::IntTooLong {
                digits: digits.len(),
            });
        }
        let int = if digits == "0" { "0".to_string() } else { text };
        Ok((Value::Int(int), idx))
    }

    /// `scanstring_unicode` (strict): `end` is the index after the opening quote. Positions of
    /// each error are the C scanner's: the opening quote for an unterminated string, the
    /// backslash for an unknown escape, the `u` for a bad `\uXXXX`.
    fn scanstring(&self, mut end: usize) -> Result<(PyStr, usize), ParseError> {
        let s = &self.s;
        let len = s.len();
        let begin = end.saturating_sub(1);
        let mut out: Vec<u16> = Vec::new();
        loop {
            let mut next = end;
            let mut terminator = None;
            while let Some(&d) = s.get(next) {
                if d == '"' || d == '\\' {
                    terminator = Some(d);
                    break;
                }
                if u32::from(d) <= 0x1f {
                    return Err(self.err("Invalid control character at", next));
                }
                next += 1;
            }
            for &c in &s[end..next] {
                push_char(&mut out, c);
            }
            match terminator {
                None => return Err(self.err("Unterminated string starting at", begin)),
                Some('"') => return Ok((PyStr(out), next + 1)),
                Some(_) => {}
            }
            next += 1;
            let Some(esc) = self.at(next) else {
                return Err(self.err("Unterminated string starting at", begin));
            };
            if esc != 'u' {
                end = next + 1;
                let unit: u16 = match esc {
                    '"' => 0x22,
                    '\\' => 0x5c,
                    '/' => 0x2f,
                    'b' => 0x08,
                    'f' => 0x0c,
                    'n' => 0x0a,
                    'r' => 0x0d,
                    't' => 0x09,
                    _ => return Err(self.err("Invalid \\escape", end - 2)),
                };
                out.push(unit);
                continue;
            }
            next += 1;
            end = next + 4;
            // `end >= len`: the C scanner wants room for a closing quote after the digits.
            if end >= len {
                return Err(self.err("Invalid \\uXXXX escape", next - 1));
            }
            let Some(hi) = hex4(&s[next..end]) else {
                return Err(self.err("Invalid \\uXXXX escape", end - 5));
            };
            out.push(hi);
            // A high surrogate joins an immediately following escaped low surrogate; otherwise
            // it stays a lone surrogate and the next escape is scanned on its own.
            if (0xD800..0xDC00).contains(&hi)
                && end + 6 < len
                && s[end] == '\\'
                && s[end + 1] == 'u'
            {
                let Some(lo) = hex4(&s[end + 2..end + 6]) else {
                    return Err(self.err("Invalid \\uXXXX escape", end + 1));
                };
                if (0xDC00..0xE000).contains(&lo) {
                    out.push(lo);
                    end += 6;
                }
            }
        }
    }

    /// In an object, at `idx` (after `{` or `,` and whitespace): the key, the `:` and the
    /// whitespace after it. Returns the key and the index of its value.
    fn key(&self, idx: usize) -> Result<(PyStr, usize), ParseError> {
        if self.at(idx) != Some('"') {
            return Err(self.err("Expecting property name enclosed in double quotes", idx));
        }
        let (key, next) = self.scanstring(idx + 1)?;
        let colon = self.skip_ws(next);
        if self.at(colon) != Some(':') {
            return Err(self.err("Expecting ':' delimiter", colon));
        }
        Ok((key, self.skip_ws(colon + 1)))
    }

    /// `scan_once_unicode` with `_parse_object_unicode` and `_parse_array_unicode`, turned
    /// from recursion into an explicit stack so hostile nesting cannot overflow kip's stack;
    /// the nesting limit stands in for Python's `RecursionError`.
    fn value(&self, mut idx: usize) -> Result<(Value, usize), ParseError> {
        let mut stack: Vec<Open> = Vec::new();
        'value: loop {
            let opener = self.at(idx);
            if matches!(opener, Some('{' | '[')) && stack.len() >= MAX_DEPTH {
                let container = if opener == Some('{') {
                    "object"
                } else {
                    "array"
                };
                return Err(ParseError::TooDeep { container });
            }
            let (mut value, mut next) = match opener {
                Some('{') => {
                    let inner = self.skip_ws(idx + 1);
                    if self.at(inner) == Some('}') {
                        (Value::Object(Vec::new()), inner + 1)
                    } else {
                        let (key, at) = self.key(inner)?;
                        stack.push(Open::Object {
                            pairs: Vec::new(),
                            slots: HashMap::new(),
                            key,
                        });
                        idx = at;
                        continue 'value;
                    }
                }
                Some('[') => {
                    let inner = self.skip_ws(idx + 1);
                    if self.at(inner) == Some(']') {
                        (Value::Array(Vec::new()), inner + 1)
                    } else {
                        stack.push(Open::Array(Vec::new()));
                        idx = inner;
                        continue 'value;
                    }
                }
                _ => self.scalar(idx)?,
            };
            loop {
                let Some(open) = stack.last_mut() else {
                    return Ok((value, next));
                };
                let after = self.skip_ws(next);
                let (close, what) = match open {
                    Open::Array(items) => {
                        items.push(value);
                        (']', "array")
                    }
                    Open::Object { pairs, slots, key } => {
                        let key = std::mem::take(key);
                        match slots.get(&key) {
                            Some(&slot) => {
                                if let Some(pair) = pairs.get_mut(slot) {
                                    pair.1 = value;
                                }
                            }
                            None => {
                                slots.insert(key.clone(), pairs.len());
                                pairs.push((key, value));
                            }
                        }
                        ('}', "object")
                    }
                };
                match self.at(after) {
                    Some(c) if c == close => {
                        value = match stack.pop() {
                            Some(Open::Array(items)) => Value::Array(items),
                            Some(Open::Object { pairs, .. }) => Value::Object(pairs),
                            None => Value::Null,
                        };
                        next = after + 1;
                    }
                    Some(',') => {
                        let item = self.skip_ws(after + 1);
                        // CPython 3.13+ names the trailing comma; 3.12 and older said
                        // "Expecting value" at the `]` / "Expecting property name enclosed
                        // in double quotes" at the `}`.
                        if self.at(item) == Some(close) {
                            return Err(self.err(
                                if what == "array" {
                                    "Illegal trailing comma before end of array"
                                } else {
                                    "Illegal trailing comma before end of object"
                                },
                                after,
                            ));
                        }
                        idx = item;
                        if let Some(Open::Object { key, .. }) = stack.last_mut() {
                            let (k, at) = self.key(item)?;
                            *key = k;
                            idx = at;
                        }
                        continue 'value;
                    }
                    _ => return Err(self.err("Expecting ',' delimiter", after)),
                }
            }
        }
    }
}

/// A container whose items are still being read. An object maps each key to its slot so a
/// duplicate keeps its first position and takes the last value, as `dict` does.
enum Open {
    Array(Vec<Value>),
    Object {
        pairs: Vec<(PyStr, Value)>,
        slots: HashMap<PyStr, usize>,
        key: PyStr,
    },
}

/// Python's `UnicodeDecodeError` reasons: a byte that can never start a sequence, a sequence
/// cut short by the end of the file, or a bad byte inside a sequence.
fn utf8_error(bytes: &[u8], e: std::str::Utf8Error) -> ParseError {
    let start = e.valid_up_to();
    let byte = bytes.get(start).copied().unwrap_or(0);
    let (len, reason) = match e.error_len() {
        None => (bytes.len() - start, "unexpected end of data"),
        Some(n) if (0xC2..=0xF4).contains(&byte) => (n, "invalid continuation byte"),
        Some(n) => (n, "invalid start byte"),
    };
    ParseError::InvalidUtf8 {
        start,
        end: start + len,
        byte,
        reason,
    }
}

/// `json.load(open(path, encoding="utf-8"))`: strict UTF-8 decoding, universal newlines
/// (`\r\n` and `\r` read as `\n`, which only moves error positions), a leading U+FEFF
/// rejected as `json.loads` rejects it, then the C scanner with default settings.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| utf8_error(bytes, e))?;
    let mut s = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            chars.next_if_eq(&'\n');
            s.push('\n');
        } else {
            s.push(c);
        }
    }
    let p = Parser { s };
    if p.at(0) == Some('\u{feff}') {
        return Err(p.err("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0));
    }
    let start = p.skip_ws(0);
    let (value, end) = p.value(start)?;
    let end = p.skip_ws(end);
    if end != p.s.len() {
        return Err(p.err("Extra data", end));
    }
    Ok(value)
}

/// Append one string literal as `json.dumps` writes it with `ensure_ascii=True`
/// (`py_encode_basestring_ascii`): printable ASCII as is, the five short escapes, everything
/// else (0x7f, controls, non-ASCII, surrogates) as lowercase `\uXXXX` per UTF-16 unit.
pub fn write_str(out: &mut String, s: &PyStr) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for &u in &s.0 {
        match u {
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x20..=0x7E => out.push(char::from(u as u8)),
            _ => {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[usize::from((u >> shift) & 0xF)]));
                }
            }
        }
    }
    out.push('"');
}

/// `float.__repr__` as `json.dumps` uses it, with `allow_nan=True` names for the non-finite
/// values: the shortest digits that round-trip (Rust's `{:e}` finds the same ones), fixed
/// notation when the decimal exponent is in [-4, 16) with at least one fractional digit,
/// otherwise `d.ddde±XX`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let n = digits.len();
    if (-4..16).contains(&exp) {
        let body = match usize::try_from(exp) {
            Ok(e) if n <= e + 1 => format!("{digits}{}.0", "0".repeat(e + 1 - n)),
            Ok(e) => format!("{}.{}", &digits[..=e], &digits[e + 1..]),
            Err(_) => format!("0.{}{digits}", "0".repeat(exp.unsigned_abs() as usize - 1)),
        };
        format!("{sign}{body}")
    } else {
        let mantissa = if n > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{esign}{:02}", exp.unsigned_abs())
    }
}

/// `_make_iterencode`: with an indent, each item goes on its own line after `"\n" + indent *
/// level` and items are joined by `","`; without one, by `", "`. Empty containers are `[]`/`{}`.
fn write_value(out: &mut String, v: &Value, indent: Option<usize>, level: usize) {
    let open_item = |out: &mut String, first: bool| {
        if !first {
            out.push(',');
            if indent.is_none() {
                out.push(' ');
            }
        }
        newline(out, indent, level + 1);
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(i),
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => write_str(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(pairs) if pairs.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                open_item(out, i == 0);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Object(pairs) => {
            out.push('{');
            for (i, (k, item)) in pairs.iter().enumerate() {
                open_item(out, i == 0);
                write_str(out, k);
                out.push_str(": ");
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

/// `json.dumps(value, indent=indent)`: separators `(",", ": ")`, `ensure_ascii`, `allow_nan`.
pub fn dumps_indent(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(indent), 0);
    out
}

/// `json.dumps(value)`: separators `(", ", ": ")`, `ensure_ascii`, `allow_nan`.
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, None, 0);
    out
}

#[cfg(test)]
mod tests {
    //! Every expected string below was produced by CPython 3.11 (`json.load` on a file opened
    //! with `encoding="utf-8"`, `json.dumps`), except the trailing-comma messages, which are
    //! CPython 3.13+'s (`Modules/_json.c`).

    use super::*;

    fn ok(b: &[u8]) -> Value {
        match parse(b) {
            Ok(v) => v,
            Err(e) => panic!("{:?} failed: {e}", String::from_utf8_lossy(b)),
        }
    }

    fn err(b: &[u8]) -> String {
        match parse(b) {
            Ok(v) => panic!("{:?} parsed as {v:?}", String::from_utf8_lossy(b)),
            Err(e) => e.to_string(),
        }
    }

    fn round(b: &[u8]) -> String {
        dumps(&ok(b))
    }

    fn lit(s: &PyStr) -> String {
        let mut out = String::new();
        write_str(&mut out, s);
        out
    }

    fn int(s: &str) -> Value {
        Value::Int(s.into())
    }

    #[test]
    fn only_four_whitespace_characters_are_skipped() {
        assert_eq!(ok(b" \t\n\r1 \t\n\r"), int("1"));
        let expecting = "Expecting value: line 1 column 1 (char 0)";
        assert_eq!(err("\u{a0}1".as_bytes()), expecting);
        assert_eq!(err(b"\x0c1"), expecting);
        assert_eq!(err(b""), expecting);
        assert_eq!(err(b"   "), "Expecting value: line 1 column 4 (char 3)");
    }

    #[test]
    fn literals_and_python_constants() {
        assert_eq!(
            ok(b"[null, true, false]"),
            Value::Array(vec![Value::Null, Value::Bool(true), Value::Bool(false)])
        );
        assert_eq!(
            round(b"[NaN, Infinity, -Infinity]"),
            "[NaN, Infinity, -Infinity]"
        );
        assert!(matches!(ok(b"NaN"), Value::Float(f) if f.is_nan()));
        for bad in [&b"nul"[..], b"tru", b"-Inf", b"nan", b"-NaN", b"None"] {
            assert_eq!(err(bad), "Expecting value: line 1 column 1 (char 0)");
        }
    }

    #[test]
    fn ints_are_arbitrary_precision_text() {
        assert_eq!(ok(b"-0"), int("0"));
        assert_eq!(round(b"-0"), "0");
        assert_eq!(ok(b"-12"), int("-12"));
        let big = "123456789012345678901234567890";
        assert_eq!(ok(big.as_bytes()), int(big));
        assert_eq!(round(big.as_bytes()), big);
        assert_eq!(round(format!("-{big}").as_bytes()), format!("-{big}"));
        let limit = "7".repeat(4300);
        assert_eq!(ok(limit.as_bytes()), int(&limit));
        assert_eq!(
            err(format!("-{}", "1".repeat(4301)).as_bytes()),
            "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 \
             digits; use sys.set_int_max_str_digits() to increase the limit"
        );
    }

    #[test]
    fn floats_follow_float_of_text() {
        assert_eq!(
            round(b"[1e5, 1E-2, 1e+2, 2.50, 1E2]"),
            "[100000.0, 0.01, 100.0, 2.5, 100.0]"
        );
        assert_eq!(
            round(b"[1e400, -1e400, 1e-400]"),
            "[Infinity, -Infinity, 0.0]"
        );
        assert!(matches!(ok(b"-0.0"), Value::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert_eq!(round(b"[-0.0, -0, 0.0, 0]"), "[-0.0, 0, 0.0, 0]");
        assert_eq!(ok(b"1.0"), Value::Float(1.0));
        assert_eq!(ok(b"1"), int("1"));
    }

    #[test]
    fn number_grammar_stops_where_the_regex_stops() {
        assert_eq!(err(b"01"), "Extra data: line 1 column 2 (char 1)");
        assert_eq!(
            err(b"[01]"),
            "Expecting ',' delimiter: line 1 column 3 (char 2)"
        );
        assert_eq!(err(b"1."), "Extra data: line 1 column 2 (char 1)");
        assert_eq!(err(b"1.e5"), "Extra data: line 1 column 2 (char 1)");
        assert_eq!(err(b"1e"), "Extra data: line 1 column 2 (char 1)");
        assert_eq!(err(b"-"), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(err(b"+1"), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(err(b".5"), "Expecting value: line 1 column 1 (char 0)");
    }

    #[test]
    fn string_escapes() {
        let v = ok(br#""\"\\\/\b\f\n\r\t\u0041\u00e9\uD83D\uDE00""#);
        assert_eq!(
            v.as_str().and_then(PyStr::as_str).as_deref(),
            Some("\"\\/\u{8}\u{c}\n\r\tA\u{e9}\u{1F600}")
        );
        assert_eq!(dumps(&v), r#""\"\\/\b\f\n\r\tA\u00e9\ud83d\ude00""#);
        assert_eq!(
            err(br#""\q""#),
            "Invalid \\escape: line 1 column 2 (char 1)"
        );
        assert_eq!(
            err(br#""\x41""#),
            "Invalid \\escape: line 1 column 2 (char 1)"
        );
        assert_eq!(
            err(br#""\u12x4""#),
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)"
        );
        assert_eq!(
            err(br#""\ud83d\u12x4""#),
            "Invalid \\uXXXX escape: line 1 column 9 (char 8)"
        );
        assert_eq!(
            err(br#""\ud83d\ude00"#),
            "Invalid \\uXXXX escape: line 1 column 9 (char 8)"
        );
        assert_eq!(
            err(br#""abc"#),
            "Unterminated string starting at: line 1 column 1 (char 0)"
        );
        assert_eq!(
            err(br#""a\"#),
            "Unterminated string starting at: line 1 column 1 (char 0)"
        );
    }

    #[test]
    fn raw_control_characters_are_rejected_in_strings() {
        assert_eq!(
            err(b"\"a\x01\""),
            "Invalid control character at: line 1 column 3 (char 2)"
        );
        assert_eq!(
            err(b"\"a\nb\""),
            "Invalid control character at: line 1 column 3 (char 2)"
        );
        assert_eq!(
            err(b"{\"k\": \"x\ty\"}"),
            "Invalid control character at: line 1 column 9 (char 8)"
        );
        assert_eq!(round(b"\"\x7f\""), r#""\u007f""#);
    }

    #[test]
    fn lone_surrogates_survive_a_round_trip() {
        let hi = ok(br#""\ud800""#);
        assert_eq!(hi.as_str().map(PyStr::units), Some(&[0xD800][..]));
        assert_eq!(dumps(&hi), r#""\ud800""#);
        let lo = ok(br#""x\udc00y""#);
        assert_eq!(
            lo.as_str().map(PyStr::units),
            Some(&[0x78, 0xDC00, 0x79][..])
        );
        assert_eq!(dumps(&lo), r#""x\udc00y""#);
        // A high surrogate followed by a non-surrogate escape stays lone.
        let v = ok(br#""\ud83d\u0041""#);
        assert_eq!(v.as_str().map(PyStr::units), Some(&[0xD83D, 0x41][..]));
        let s = hi.as_str().cloned().unwrap_or_default();
        assert_eq!(s.as_str(), None);
        assert_eq!(s.to_string_lossy(), "\\ud800");
        assert_eq!(s.to_string(), "\\ud800");
    }

    #[test]
    fn objects_keep_first_position_and_last_value() {
        let v = ok(br#"{"a": 1, "b": 2, "a": 3}"#);
        assert_eq!(dumps(&v), r#"{"a": 3, "b": 2}"#);
        assert_eq!(v.get("a"), Some(&int("3")));
        assert_eq!(v.get("c"), None);
        assert_eq!(
            round(br#"{"z": 1, "y": {"x": 1, "x": [], "w": 0}}"#),
            r#"{"z": 1, "y": {"x": [], "w": 0}}"#
        );
    }

    #[test]
    fn object_and_array_syntax_errors() {
        assert_eq!(
            err(b"{1: 2}"),
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        );
        assert_eq!(
            err(b"{'a': 1}"),
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        );
        assert_eq!(
            err(br#"{"a" 1}"#),
            "Expecting ':' delimiter: line 1 column 6 (char 5)"
        );
        assert_eq!(
            err(br#"{"a": 1 "b": 2}"#),
            "Expecting ',' delimiter: line 1 column 9 (char 8)"
        );
        assert_eq!(
            err(br#"{"a": 1"#),
            "Expecting ',' delimiter: line 1 column 8 (char 7)"
        );
        assert_eq!(
            err(b"[1, 2"),
            "Expecting ',' delimiter: line 1 column 6 (char 5)"
        );
        assert_eq!(
            err(b"[1 2]"),
            "Expecting ',' delimiter: line 1 column 4 (char 3)"
        );
        assert_eq!(
            err(b"{\"a\": 1,\n \"b\": }"),
            "Expecting value: line 2 column 7 (char 15)"
        );
        assert_eq!(
            err(b"[1,]"),
            "Illegal trailing comma before end of array: line 1 column 3 (char 2)"
        );
        assert_eq!(
            err(br#"{"a": 1,}"#),
            "Illegal trailing comma before end of object: line 1 column 8 (char 7)"
        );
    }

    #[test]
    fn only_whitespace_may_follow_the_value() {
        assert_eq!(err(b"{} x"), "Extra data: line 1 column 4 (char 3)");
        assert_eq!(err(b"[1] [2]"), "Extra data: line 1 column 5 (char 4)");
        assert_eq!(ok(b"[]\n"), Value::Array(vec![]));
        assert_eq!(ok(b"  {}  "), Value::Object(vec![]));
    }

    #[test]
    fn rejects_what_python_rejects_in_kernel_json_files() {
        assert_eq!(
            err(b"\xef\xbb\xbf{}"),
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"
        );
        assert_eq!(
            err(b"{\"a\": \"caf\xe9\"}"),
            "'utf-8' codec can't decode byte 0xe9 in position 10: invalid continuation byte"
        );
        assert_eq!(
            err(b"// c\n{}"),
            "Expecting value: line 1 column 1 (char 0)"
        );
        assert_eq!(
            err(b"{/* c */}"),
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        );
    }

    #[test]
    fn utf8_errors_read_like_unicode_decode_error() {
        let cases: [(&[u8], &str); 5] = [
            (
                b"ab\xe2\x82",
                "bytes in position 2-3: unexpected end of data",
            ),
            (
                b"\xf0\x9f\x98",
                "bytes in position 0-2: unexpected end of data",
            ),
            (
                b"x\xe2\x82y",
                "bytes in position 1-2: invalid continuation byte",
            ),
            (b"\xff", "byte 0xff in position 0: invalid start byte"),
            (
                b"\xed\xa0\x80",
                "byte 0xed in position 0: invalid continuation byte",
            ),
        ];
        for (bytes, tail) in cases {
            assert_eq!(err(bytes), format!("'utf-8' codec can't decode {tail}"));
        }
    }

    #[test]
    fn positions_count_code_points_after_newline_translation() {
        assert_eq!(
            err(b"{\r\n\"a\": x}"),
            "Expecting value: line 2 column 6 (char 7)"
        );
        assert_eq!(
            err(b"[\r\r\rx]"),
            "Expecting value: line 4 column 1 (char 4)"
        );
        assert_eq!(
            err("[\"é\u{1F600}\", x]".as_bytes()),
            "Expecting value: line 1 column 8 (char 7)"
        );
    }

    #[test]
    fn top_level_may_be_any_value() {
        assert_eq!(ok(b"[]"), Value::Array(vec![]));
        assert_eq!(ok(b"\"s\""), Value::Str(PyStr::new("s")));
        assert_eq!(ok(b"3"), int("3"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let thousand = ok(deep(1000).as_bytes());
        assert_eq!(dumps(&thousand), deep(1000));
        assert_eq!(
            parse(dumps_indent(&thousand, 1).as_bytes()),
            Ok(thousand.clone())
        );
        assert_eq!(
            err(deep(100_000).as_bytes()),
            "maximum recursion depth exceeded while decoding a JSON array from a unicode string"
        );
        assert_eq!(
            err("{\"a\": ".repeat(5000).as_bytes()),
            "maximum recursion depth exceeded while decoding a JSON object from a unicode string"
        );
    }

    #[test]
    fn ensure_ascii_escapes() {
        assert_eq!(lit(&PyStr::new("ké")), r#""k\u00e9""#);
        assert_eq!(lit(&PyStr::new("\u{1F600}")), r#""\ud83d\ude00""#);
        assert_eq!(
            lit(&PyStr::new("\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f} ~/")),
            r#""\"\\\n\r\t\b\f\u0000\u001f\u007f ~/""#
        );
        assert_eq!(lit(&PyStr::new("\u{ABCD}")), r#""\uabcd""#);
        assert_eq!(round("\"k\u{e9}\"".as_bytes()), r#""k\u00e9""#);
        assert_eq!(round("\"\u{1F600}\"".as_bytes()), r#""\ud83d\ude00""#);
        assert_eq!(format!("{:?}", PyStr::new("ké")), r#""k\u00e9""#);
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (123456789.0, "123456789.0"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.30000000000000004, "0.30000000000000004"),
            (100.0, "100.0"),
            (1.5e300, "1.5e+300"),
            (-1.5e-300, "-1.5e-300"),
            (1e22, "1e+22"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (9007199254740992.0, "9007199254740992.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (2.5, "2.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f:e}");
            assert_eq!(dumps(&Value::Float(f)), want);
        }
    }

    #[test]
    fn indent_layout_like_json_dumps() {
        let v = ok(br#"{"a": [], "b": {}, "c": [1, {"d": [], "e": {"f": null}}], "g": "x"}"#);
        assert_eq!(
            dumps_indent(&v, 2),
            "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": [],\n      \
             \"e\": {\n        \"f\": null\n      }\n    }\n  ],\n  \"g\": \"x\"\n}"
        );
        assert_eq!(
            dumps(&v),
            r#"{"a": [], "b": {}, "c": [1, {"d": [], "e": {"f": null}}], "g": "x"}"#
        );
        assert_eq!(dumps_indent(&ok(b"[[]]"), 0), "[\n[]\n]");
        assert_eq!(dumps_indent(&ok(b"{}"), 2), "{}");
        assert_eq!(
            dumps_indent(&ok(b"[1.0, true]"), 4),
            "[\n    1.0,\n    true\n]"
        );
    }

    #[test]
    fn file_names_decode_with_surrogateescape() {
        let p = PyStr::from_os_bytes(b"k\xe9");
        assert_eq!(p.units(), &[u16::from(b'k'), 0xDCE9]);
        assert_eq!(lit(&p), r#""k\udce9""#);
        assert_eq!(p.as_str(), None);
        assert_eq!(PyStr::from_os_bytes("ké".as_bytes()), PyStr::new("ké"));
        assert_eq!(
            PyStr::from_os_bytes(b"\xe2\x82y\xff").units(),
            &[0xDCE2, 0xDC82, u16::from(b'y'), 0xDCFF]
        );
        assert_eq!(
            PyStr::from_os_str(std::ffi::OsStr::new("py3")),
            PyStr::from("py3")
        );
    }

    #[test]
    fn os_text_escapes_like_python_and_reads_back() {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"/k\xe9\xff/\xc3\xa9");
        assert_eq!(os_text(raw), "/k\\udce9\\udcff/\u{e9}");
        assert_eq!(os_from_text(&os_text(raw)), raw);
        assert_eq!(os_text("plain"), "plain");
        // A lone surrogate from JSON text prints the same way.
        let v = parse(br#""a\ud800""#).unwrap();
        assert_eq!(v.as_str().unwrap().to_string_lossy(), "a\\ud800");
    }

    #[test]
    fn lower_like_python() {
        let lower = |s: &str| PyStr::new(s).lower();
        assert_eq!(lower("MyKernel"), PyStr::new("mykernel"));
        assert_eq!(lower("PYTHON3"), PyStr::new("python3"));
        assert_eq!(lower("ΑΣ"), PyStr::new("ας"));
        assert_eq!(lower("ΑΣ Σ"), PyStr::new("ας σ"));
        assert_eq!(lower("ΑΣ.Σ"), PyStr::new("ασ.ς"));
        assert_eq!(lower("İ"), PyStr::new("i\u{307}"));
        let s = PyStr::from_os_bytes(b"A\xff");
        assert_eq!(s.lower().units(), &[u16::from(b'a'), 0xDCFF]);
    }

    #[test]
    fn value_accessors() {
        let v = ok(
            br#"{"argv": ["python"], "n": 1.5, "s": "x", "o": {}, "z": null, "b": true, "i": 2}"#,
        );
        assert_eq!(v.type_name(), "dict");
        assert_eq!(
            v.get("argv").and_then(Value::as_array).map(Vec::len),
            Some(1)
        );
        assert_eq!(v.get("o").and_then(Value::as_object).map(Vec::len), Some(0));
        assert_eq!(v.get("s").and_then(Value::as_str), Some(&PyStr::new("x")));
        let names: Vec<_> = ["argv", "n", "s", "o", "z", "b", "i"]
            .iter()
            .filter_map(|k| v.get(k).map(Value::type_name))
            .collect();
        assert_eq!(
            names,
            ["list", "float", "str", "dict", "null", "bool", "int"]
        );
        assert_eq!(Value::Null.get("a"), None);
    }
}
