//! `--json-stream`: JSON lines on stdout for a program that shows progress, one
//! `{"event": …}` object per event as it happens, then one `{"report": …}` line whose value is
//! exactly what `--json` prints (docs/json.md, "Streaming").

use std::io::Write;

use crate::report::{Event, Reporter};

#[derive(Default)]
pub struct JsonLines;

/// One line of the stream.
pub fn line(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        serde_json::json!({ "event": "error", "verb": "kip", "message": e.to_string() }).to_string()
    }) + "\n"
}

/// The last line: `--json`'s document (`null` when the verb ended before it had one).
pub fn report_line(json_document: &str) -> String {
    let report: serde_json::Value =
        serde_json::from_str(json_document).unwrap_or(serde_json::Value::Null);
    line(&serde_json::json!({ "report": report }))
}

impl Reporter for JsonLines {
    fn event(&mut self, event: Event) {
        // A reader that went away must not stop the work (as a closed terminal does not).
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line(&event).as_bytes());
        let _ = out.flush();
    }
}
