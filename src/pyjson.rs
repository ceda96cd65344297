//! Python's `json` module, reimplemented for byte-identical `--jupyter-json`.
//!
//! Reading follows `json.load` on a file opened with `encoding="utf-8"` (CPython
//! `Lib/json/decoder.py`, `scanner.py`): strict UTF-8, a leading BOM rejected, `NaN`,
//! `Infinity`, `-Infinity` accepted, ints of any size, duplicate keys last-wins at the first
//! key's position (`dict(pairs)`), lone surrogate escapes kept. Writing follows
//! `json.dumps(indent=N)` with `ensure_ascii=True` (`Lib/json/encoder.py`) and `float.__repr__`.

use std::fmt;

/// A Python `str`: UTF-16 code units, so lone surrogates (JSON `"\ud800"` escapes, or file
/// names decoded with surrogateescape) survive a round trip.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PyStr(Vec<u16>);

impl PyStr {
    pub fn new(s: &str) -> Self {
        PyStr(s.encode_utf16().collect())
    }

    /// POSIX file-name bytes as Python decodes them (`surrogateescape`): valid UTF-8 decoded,
    /// each undecodable byte `b` becomes U+DC00+b.
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
                    let n = e.error_len().unwrap_or(bad.len()).max(1);
                    for byte in &bad[..n.min(bad.len())] {
                        units.push(0xDC00 + u16::from(*byte));
                    }
                    rest = &bad[n.min(bad.len())..];
                }
            }
        }
        PyStr(units)
    }

    pub fn from_os_str(s: &std::ffi::OsStr) -> Self {
        use std::os::unix::ffi::OsStrExt;
        Self::from_os_bytes(s.as_bytes())
    }

    pub fn units(&self) -> &[u16] {
        &self.0
    }

    /// Lone surrogates become U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf16_lossy(&self.0)
    }

    /// `None` when the string holds a lone surrogate.
    pub fn as_str(&self) -> Option<String> {
        String::from_utf16(&self.0).ok()
    }

    /// Python `str.lower()`: Unicode lowercase (final sigma included, as Rust's
    /// `str::to_lowercase` does), lone surrogates unchanged.
    pub fn lower(&self) -> PyStr {
        let mut out = Vec::with_capacity(self.0.len());
        let mut run: Vec<u16> = Vec::new();
        let flush = |run: &mut Vec<u16>, out: &mut Vec<u16>| {
            if !run.is_empty() {
                let s = String::from_utf16_lossy(run);
                out.extend(s.to_lowercase().encode_utf16());
                run.clear();
            }
        };
        for r in char::decode_utf16(self.0.iter().copied()) {
            match r {
                Ok(c) => {
                    let mut buf = [0u16; 2];
                    run.extend_from_slice(c.encode_utf16(&mut buf));
                }
                Err(e) => {
                    flush(&mut run, &mut out);
                    out.push(e.unpaired_surrogate());
                }
            }
        }
        flush(&mut run, &mut out);
        PyStr(out)
    }
}

impl fmt::Display for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

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

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Python int, kept as the decimal text Python would print.
    Int(String),
    Float(f64),
    Str(PyStr),
    Array(Vec<Value>),
    /// Insertion order; a duplicate key keeps its first position and its last value.
    Object(Vec<(PyStr, Value)>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        let k = PyStr::new(key);
        self.as_object()?
            .iter()
            .find(|(kk, _)| *kk == k)
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

    /// Python's type names, for messages.
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
/// lone surrogates U+FFFD).
pub fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => i
            .parse::<i64>()
            .map(serde_json::Value::from)
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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{msg}")]
pub struct ParseError {
    pub msg: String,
}

const MAX_DEPTH: usize = 900;

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    text: &'a str,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str, at: usize) -> ParseError {
        let before: String = self.chars[..at.min(self.chars.len())].iter().collect();
        let line = before.matches('\n').count() + 1;
        let col = match before.rfind('\n') {
            Some(i) => before[i + 1..].chars().count() + 1,
            None => at + 1,
        };
        let _ = self.text;
        ParseError {
            msg: format!("{what}: line {line} column {col} (char {at})"),
        }
    }

    fn ws(&mut self) {
        while self.pos < self.chars.len()
            && matches!(self.chars[self.pos], ' ' | '\t' | '\n' | '\r')
        {
            self.pos += 1;
        }
    }

    fn starts_with(&self, lit: &str) -> bool {
        lit.chars()
            .enumerate()
            .all(|(k, c)| self.chars.get(self.pos + k) == Some(&c))
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        let Some(&c) = self.chars.get(self.pos) else {
            return Err(self.err("Expecting value", self.pos));
        };
        match c {
            '"' => {
                self.pos += 1;
                Ok(Value::Str(self.string()?))
            }
            '{' => self.object(),
            '[' => self.array(),
            'n' if self.starts_with("null") => {
                self.pos += 4;
                Ok(Value::Null)
            }
            't' if self.starts_with("true") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            'f' if self.starts_with("false") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            'N' if self.starts_with("NaN") => {
                self.pos += 3;
                Ok(Value::Float(f64::NAN))
            }
            'I' if self.starts_with("Infinity") => {
                self.pos += 8;
                Ok(Value::Float(f64::INFINITY))
            }
            '-' if self.starts_with("-Infinity") => {
                self.pos += 9;
                Ok(Value::Float(f64::NEG_INFINITY))
            }
            '-' | '0'..='9' => self.number(),
            _ => Err(self.err("Expecting value", self.pos)),
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let mut i = self.pos;
        let digit = |i: usize, p: &Self| p.chars.get(i).is_some_and(|c| c.is_ascii_digit());
        if self.chars.get(i) == Some(&'-') {
            i += 1;
        }
        if self.chars.get(i) == Some(&'0') {
            i += 1;
        } else if digit(i, self) {
            while digit(i, self) {
                i += 1;
            }
        } else {
            return Err(self.err("Expecting value", start));
        }
        let mut is_float = false;
        if self.chars.get(i) == Some(&'.') && digit(i + 1, self) {
            is_float = true;
            i += 1;
            while digit(i, self) {
                i += 1;
            }
        }
        if matches!(self.chars.get(i), Some('e') | Some('E')) {
            let mut j = i + 1;
            if matches!(self.chars.get(j), Some('+') | Some('-')) {
                j += 1;
            }
            if digit(j, self) {
                is_float = true;
                while digit(j, self) {
                    j += 1;
                }
                i = j;
            }
        }
        let text: String = self.chars[start..i].iter().collect();
        self.pos = i;
        if is_float {
            // Rust's parser rounds like Python's float(); overflow gives ±inf.
            let f: f64 = text
                .parse()
                .map_err(|_| self.err("Expecting value", start))?;
            Ok(Value::Float(f))
        } else {
            let neg = text.starts_with('-');
            let digits = text.trim_start_matches('-');
            if digits == "0" {
                Ok(Value::Int("0".into()))
            } else {
                Ok(Value::Int(if neg {
                    format!("-{digits}")
                } else {
                    digits.to_string()
                }))
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u16> {
        if at + 4 > self.chars.len() {
            return None;
        }
        let s: String = self.chars[at..at + 4].iter().collect();
        if !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u16::from_str_radix(&s, 16).ok()
    }

    fn string(&mut self) -> Result<PyStr, ParseError> {
        let begin = self.pos - 1;
        let mut out: Vec<u16> = Vec::new();
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return Err(self.err("Unterminated string starting at", begin));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(PyStr(out));
                }
                '\\' => {
                    let Some(&e) = self.chars.get(self.pos + 1) else {
                        return Err(self.err("Unterminated string starting at", begin));
                    };
                    match e {
                        '"' => out.push(b'"'.into()),
                        '\\' => out.push(b'\\'.into()),
                        '/' => out.push(b'/'.into()),
                        'b' => out.push(8),
                        'f' => out.push(12),
                        'n' => out.push(10),
                        'r' => out.push(13),
                        't' => out.push(9),
                        'u' => {
                            let Some(u) = self.hex4(self.pos + 2) else {
                                return Err(self.err("Invalid \\uXXXX escape", self.pos + 1));
                            };
                            self.pos += 6;
                            // A high surrogate followed by an escaped low one combines.
                            if (0xD800..0xDC00).contains(&u)
                                && self.chars.get(self.pos) == Some(&'\\')
                                && self.chars.get(self.pos + 1) == Some(&'u')
                            {
                                if let Some(lo) = self.hex4(self.pos + 2) {
                                    if (0xDC00..0xE000).contains(&lo) {
                                        out.push(u);
                                        out.push(lo);
                                        self.pos += 6;
                                        continue;
                                    }
                                }
                            }
                            out.push(u);
                            continue;
                        }
                        _ => return Err(self.err("Invalid \\escape", self.pos)),
                    }
                    self.pos += 2;
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.err("Invalid control character at", self.pos));
                }
                c => {
                    let mut buf = [0u16; 2];
                    out.extend_from_slice(c.encode_utf16(&mut buf));
                    self.pos += 1;
                }
            }
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("maximum recursion depth exceeded", self.pos));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.chars.get(self.pos) == Some(&']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.chars.get(self.pos) {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("Expecting ',' delimiter", self.pos)),
            }
        }
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        self.pos += 1;
        let mut pairs: Vec<(PyStr, Value)> = Vec::new();
        self.ws();
        if self.chars.get(self.pos) == Some(&'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Object(pairs));
        }
        loop {
            self.ws();
            if self.chars.get(self.pos) != Some(&'"') {
                return Err(self.err(
                    "Expecting property name enclosed in double quotes",
                    self.pos,
                ));
            }
            self.pos += 1;
            let key = self.string()?;
            self.ws();
            if self.chars.get(self.pos) != Some(&':') {
                return Err(self.err("Expecting ':' delimiter", self.pos));
            }
            self.pos += 1;
            self.ws();
            let v = self.value()?;
            match pairs.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = v,
                None => pairs.push((key, v)),
            }
            self.ws();
            match self.chars.get(self.pos) {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Object(pairs));
                }
                _ => return Err(self.err("Expecting ',' delimiter", self.pos)),
            }
        }
    }
}

/// `json.load` of a file opened with `encoding="utf-8"`.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError {
        msg: format!(
            "'utf-8' codec can't decode byte at position {}",
            e.valid_up_to()
        ),
    })?;
    // Text mode: universal newlines (\r\n and \r become \n) before json sees the text.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.starts_with('\u{feff}') {
        return Err(ParseError {
            msg: "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)".into(),
        });
    }
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        text: &text,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.pos != p.chars.len() {
        return Err(p.err("Extra data", p.pos));
    }
    Ok(v)
}

/// Append one string literal with `ensure_ascii`.
pub fn write_str(out: &mut String, s: &PyStr) {
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
            _ => out.push_str(&format!("\\u{u:04x}")),
        }
    }
    out.push('"');
}

/// `float.__repr__`: shortest round-trip digits; fixed notation for decimal exponents in
/// [-4, 16), scientific (`1e+16`, `1e-05`) otherwise.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{:e}", f); // e.g. "-1.2345e-5", shortest digits
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp >= 0 {
            let int_len = exp + 1;
            if n <= int_len {
                format!("{digits}{}.0", "0".repeat((int_len - n) as usize))
            } else {
                format!(
                    "{}.{}",
                    &digits[..int_len as usize],
                    &digits[int_len as usize..]
                )
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

fn write_value(out: &mut String, v: &Value, indent: Option<usize>, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(i),
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => write_str(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                newline(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Object(pairs) => {
            if pairs.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                newline(out, indent, level + 1);
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
        out.push_str(&" ".repeat(n * level));
    }
}

/// `json.dumps(value, indent=indent)`.
pub fn dumps_indent(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_value(&mut out, v, Some(indent), 0);
    out
}

/// `json.dumps(value)`.
pub fn dumps(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, None, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> String {
        dumps(&parse(s.as_bytes()).unwrap())
    }

    #[test]
    fn python_extensions_and_numbers() {
        assert_eq!(
            round("[NaN, Infinity, -Infinity, 1e400, -1e400]"),
            "[NaN, Infinity, -Infinity, Infinity, -Infinity]"
        );
        assert_eq!(
            round("[1E2, -0.0, -0, 0.1, 1e16, 1e-5, 123456789.0]"),
            "[100.0, -0.0, 0, 0.1, 1e+16, 1e-05, 123456789.0]"
        );
        assert_eq!(round("[1.7976931348623157e308, 5e-324, 0.30000000000000004, 0.0001, 1e15, 12345678901234567890.0]"), "[1.7976931348623157e+308, 5e-324, 0.30000000000000004, 0.0001, 1000000000000000.0, 1.2345678901234567e+19]");
        assert_eq!(
            round("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
    }

    #[test]
    fn strings_escape_like_ensure_ascii() {
        assert_eq!(round(r#""k\u00e9""#), r#""k\u00e9""#);
        assert_eq!(round("\"k\u{e9}\""), r#""k\u00e9""#);
        assert_eq!(round("\"\u{1F600}\""), r#""\ud83d\ude00""#);
        assert_eq!(round(r#""\ud800""#), r#""\ud800""#);
        assert_eq!(round(r#""a\/b\n\t\"\\\u007f""#), r#""a/b\n\t\"\\\u007f""#);
        let p = PyStr::from_os_bytes(b"k\xe9");
        let mut s = String::new();
        write_str(&mut s, &p);
        assert_eq!(s, r#""k\udce9""#);
    }

    #[test]
    fn objects_and_layout() {
        assert_eq!(round(r#"{"a": 1, "b": 2, "a": 3}"#), r#"{"a": 3, "b": 2}"#);
        let v = parse(br#"{"k": {"argv": [], "env": {}, "x": [1, {"y": null}]}}"#).unwrap();
        assert_eq!(dumps_indent(&v, 2), "{\n  \"k\": {\n    \"argv\": [],\n    \"env\": {},\n    \"x\": [\n      1,\n      {\n        \"y\": null\n      }\n    ]\n  }\n}");
    }

    #[test]
    fn rejects_what_python_rejects() {
        for bad in [
            &b"\xef\xbb\xbf{}"[..],
            b"{\"a\": \"caf\xe9\"}",
            b"// c\n{}",
            b"{\"a\": 01}",
            b"{'a': 1}",
            b"{\"a\": \"x\ny\"}",
            b"",
            b"{} x",
            b"[1,]",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(parse(&vec![b'['; 5000]).is_err());
    }

    #[test]
    fn lower_like_python() {
        assert_eq!(PyStr::new("MyKernel").lower(), PyStr::new("mykernel"));
        assert_eq!(PyStr::new("ΑΣ").lower(), PyStr::new("ας"));
        let s = PyStr::from_os_bytes(b"A\xff");
        assert_eq!(s.lower().units(), &[u16::from(b'a'), 0xDCFF]);
    }
}
