//! Set a notebook's `metadata.kernelspec` by editing the text, not by re-serialising it: every
//! byte outside the kernelspec stays as it was (nbformat's `indent=1`, its key order, its
//! number and string spellings, the trailing newline), so the change is a one-hunk diff.
//!
//! A small scanner finds the byte spans of the top-level `metadata` object's members; the new
//! kernelspec object is rendered in the file's own style (its indent unit, `": "` and `","`
//! separators as Python's `json.dumps` writes them with an indent) and spliced in, replacing
//! the old value or inserted as a new member (in sorted position when the keys are sorted, as
//! nbformat writes them).

use serde_json::{Map, Value};

/// The three fields Jupyter reads from `metadata.kernelspec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelspecMeta {
    pub name: String,
    pub display_name: String,
    pub language: String,
}

struct Member {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// `i` at the opening quote; the index after the closing one.
fn scan_string(b: &[u8], mut i: usize) -> Result<usize, String> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err("unterminated string".into())
}

/// `i` at a value's first byte; the index after it.
fn scan_value(b: &[u8], i: usize) -> Result<usize, String> {
    match b.get(i) {
        Some(b'"') => scan_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = scan_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err("unterminated object or array".into())
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            Ok(j)
        }
        None => Err("unexpected end of file".into()),
    }
}

/// The members of the object whose `{` is at `open`, and the index of its `}`.
fn members(text: &str, open: usize) -> Result<(Vec<Member>, usize), String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Ok((out, i));
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(format!("expected a key at byte {i}"));
        }
        let key_end = scan_string(b, i)?;
        let key: String = serde_json::from_str(&text[i..key_end]).map_err(|e| e.to_string())?;
        let colon = skip_ws(b, key_end);
        if b.get(colon) != Some(&b':') {
            return Err(format!("expected ':' at byte {colon}"));
        }
        let value_start = skip_ws(b, colon + 1);
        let value_end = scan_value(b, value_start)?;
        out.push(Member {
            key,
            key_start: i,
            value_start,
            value_end,
        });
        i = skip_ws(b, value_end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok((out, i)),
            _ => return Err(format!("expected ',' or '}}' at byte {i}")),
        }
    }
}

/// The indent unit: the whitespace before the first top-level key after its newline
/// (`" "` for nbformat), or `None` for a file on one line.
fn indent_unit(text: &str, open: usize) -> Option<String> {
    let b = text.as_bytes();
    let first = skip_ws(b, open + 1);
    let ws = &text[open + 1..first];
    let after_newline = ws.rsplit_once('\n')?.1;
    Some(after_newline.to_string())
}

/// `value` as Python's `json.dumps(value, indent=unit, ensure_ascii=False)` writes it when it
/// sits `depth` levels deep.
fn render(value: &Value, unit: Option<&str>, depth: usize) -> String {
    let (open_nl, close_nl, sep) = match unit {
        Some(u) => (
            format!("\n{}", u.repeat(depth + 1)),
            format!("\n{}", u.repeat(depth)),
            format!(",\n{}", u.repeat(depth + 1)),
        ),
        None => (String::new(), String::new(), ", ".to_string()),
    };
    match value {
        Value::Object(m) if !m.is_empty() => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        Value::String(k.clone()),
                        render(v, unit, depth + 1)
                    )
                })
                .collect();
            format!("{{{open_nl}{}{close_nl}}}", items.join(&sep))
        }
        Value::Array(a) if !a.is_empty() => {
            let items: Vec<String> = a.iter().map(|v| render(v, unit, depth + 1)).collect();
            format!("[{open_nl}{}{close_nl}]", items.join(&sep))
        }
        other => other.to_string(),
    }
}

fn sorted(keys: &[&str]) -> bool {
    keys.windows(2).all(|w| w[0] <= w[1])
}

/// The notebook text with `metadata.kernelspec` set to `ks`. Other keys of an existing
/// kernelspec are kept in their places.
pub fn set_kernelspec(text: &str, ks: &KernelspecMeta) -> Result<String, String> {
    let b = text.as_bytes();
    let open = skip_ws(b, 0);
    if b.get(open) != Some(&b'{') {
        return Err("the top level is not a JSON object".into());
    }
    let unit = indent_unit(text, open);
    let unit = unit.as_deref();
    let (top, _) = members(text, open)?;
    let meta = top
        .iter()
        .find(|m| m.key == "metadata")
        .ok_or("it has no \"metadata\" object")?;
    if b[meta.value_start] != b'{' {
        return Err("\"metadata\" is not an object".into());
    }
    let (fields, meta_close) = members(text, meta.value_start)?;
    let wanted = [
        ("display_name", &ks.display_name),
        ("language", &ks.language),
        ("name", &ks.name),
    ];
    let existing = fields.iter().find(|m| m.key == "kernelspec");
    let mut obj: Map<String, Value> = match existing {
        Some(m) => match serde_json::from_str(&text[m.value_start..m.value_end]) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        },
        None => Map::new(),
    };
    let was_sorted = {
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        sorted(&keys)
    };
    for (k, v) in wanted {
        obj.insert(k.to_string(), Value::String(v.clone()));
    }
    if was_sorted {
        obj.sort_keys();
    }
    let rendered = render(&Value::Object(obj), unit, 2);
    let mut out = String::with_capacity(text.len() + rendered.len());
    match existing {
        Some(m) => {
            out.push_str(&text[..m.value_start]);
            out.push_str(&rendered);
            out.push_str(&text[m.value_end..]);
        }
        None => {
            let member = format!("\"kernelspec\": {rendered}");
            let keys: Vec<&str> = fields.iter().map(|m| m.key.as_str()).collect();
            let inner = unit.map(|u| format!("\n{}", u.repeat(2)));
            let sep = match &inner {
                Some(nl) => format!(",{nl}"),
                None => ", ".into(),
            };
            if fields.is_empty() {
                let close = unit.map(|u| format!("\n{u}")).unwrap_or_default();
                out.push_str(&text[..meta.value_start]);
                out.push('{');
                out.push_str(inner.as_deref().unwrap_or(""));
                out.push_str(&member);
                out.push_str(&close);
                out.push('}');
                out.push_str(&text[meta_close + 1..]);
            } else {
                // before the first key that sorts after it, when the keys are sorted; else last
                let before = sorted(&keys)
                    .then(|| fields.iter().find(|m| m.key.as_str() > "kernelspec"))
                    .flatten();
                match before {
                    Some(m) => {
                        out.push_str(&text[..m.key_start]);
                        out.push_str(&member);
                        out.push_str(&sep);
                        out.push_str(&text[m.key_start..]);
                    }
                    // after the last field (this branch has at least one)
                    None => {
                        if let Some(last) = fields.last() {
                            out.push_str(&text[..last.value_end]);
                            out.push_str(&sep);
                            out.push_str(&member);
                            out.push_str(&text[last.value_end..]);
                        }
                    }
                }
            }
        }
    }
    // the edit must read back as the same document with the new kernelspec
    let check: Value =
        serde_json::from_str(&out).map_err(|e| format!("the edit produced invalid JSON: {e}"))?;
    let got = &check["metadata"]["kernelspec"];
    if got["name"] != ks.name.as_str() || got["display_name"] != ks.display_name.as_str() {
        return Err("the edit did not take".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(name: &str) -> KernelspecMeta {
        KernelspecMeta {
            name: name.into(),
            display_name: format!("Python ({name})"),
            language: "python".into(),
        }
    }

    /// nbformat's own layout: indent 1, sorted keys, trailing newline.
    const NB: &str = "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"metadata\": {},\n   \"outputs\": [],\n   \"source\": [\n    \"x = 1.50  # caf\u{e9} \\\"q\\\"\"\n   ]\n  }\n ],\n \"metadata\": {\n  \"kernelspec\": {\n   \"display_name\": \"Old\",\n   \"language\": \"python\",\n   \"name\": \"old\"\n  },\n  \"language_info\": {\n   \"name\": \"python\",\n   \"version\": \"3.11.7\"\n  }\n },\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n";

    #[test]
    fn replaces_in_place_and_changes_nothing_else() {
        let out = set_kernelspec(NB, &ks("proj")).unwrap();
        let want = NB
            .replace(
                "\"display_name\": \"Old\"",
                "\"display_name\": \"Python (proj)\"",
            )
            .replace("\"name\": \"old\"", "\"name\": \"proj\"");
        assert_eq!(out, want);
        // idempotent
        assert_eq!(set_kernelspec(&out, &ks("proj")).unwrap(), out);
    }

    #[test]
    fn inserts_in_sorted_position_or_last() {
        let nb = NB.replace(
            "  \"kernelspec\": {\n   \"display_name\": \"Old\",\n   \"language\": \"python\",\n   \"name\": \"old\"\n  },\n",
            "",
        );
        let out = set_kernelspec(&nb, &ks("proj")).unwrap();
        assert!(out.contains(" \"metadata\": {\n  \"kernelspec\": {\n   \"display_name\": \"Python (proj)\",\n   \"language\": \"python\",\n   \"name\": \"proj\"\n  },\n  \"language_info\""), "{out}");
        assert!(out.ends_with("}\n"));
        // unsorted metadata: appended
        let nb2 = "{\n \"metadata\": {\n  \"zz\": 1,\n  \"aa\": 2\n },\n \"nbformat\": 4\n}";
        let out = set_kernelspec(nb2, &ks("p")).unwrap();
        assert!(
            out.contains("  \"aa\": 2,\n  \"kernelspec\": {\n   \"display_name\""),
            "{out}"
        );
        assert!(!out.ends_with('\n'));
        // empty metadata, and a one-line file
        let out = set_kernelspec("{\n \"metadata\": {},\n \"nbformat\": 4\n}\n", &ks("p")).unwrap();
        assert!(
            out.starts_with(
                "{\n \"metadata\": {\n  \"kernelspec\": {\n   \"display_name\": \"Python (p)\",\n"
            ),
            "{out}"
        );
        let out = set_kernelspec(r#"{"metadata": {"a": 1}, "nbformat": 4}"#, &ks("p")).unwrap();
        assert_eq!(
            out,
            r#"{"metadata": {"a": 1, "kernelspec": {"display_name": "Python (p)", "language": "python", "name": "p"}}, "nbformat": 4}"#
        );
    }

    #[test]
    fn bad_documents_are_errors() {
        assert!(set_kernelspec("[]", &ks("p")).is_err());
        assert!(set_kernelspec("{\"nbformat\": 4}", &ks("p")).is_err());
        assert!(set_kernelspec("{\"metadata\": [1]}", &ks("p")).is_err());
        assert!(set_kernelspec("{\"metadata\": {\"a\": \"x}", &ks("p")).is_err());
    }
}
