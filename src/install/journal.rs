//! kip's journal of what its installs and uninstalls changed in each environment, and when.
//!
//! A running kernel keeps the modules it imported, so it is stale when a distribution it may
//! hold was replaced or removed *after it started*. Disk alone cannot tell that later: once an
//! installer has swapped `six-1.16.0.dist-info` for `six-1.17.0.dist-info`, the new
//! directory's mtime says "changed after the start" but not whether an older version was
//! there (a new distribution looks the same). kip knows at install time (`install::changes`),
//! so it writes it down: one JSON line per change set, in kip's cache, one file per
//! environment prefix. `kip ps` reads the entries newer than a kernel's start.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::changes::Change;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// Seconds since the Unix epoch when the installer finished.
    time: f64,
    prefix: PathBuf,
    changes: Vec<Change>,
}

/// `<cache>/changes-v1/<sha256 of the prefix, 16 hex digits>.jsonl`.
fn file(cache: &Path, prefix: &Path) -> PathBuf {
    let digest = Sha256::digest(prefix.as_os_str().as_encoded_bytes());
    let name: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    cache.join("changes-v1").join(format!("{name}.jsonl"))
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Append what changed in `prefix` now. Best effort: the install itself already succeeded,
/// so a cache that cannot be written only costs `kip ps` this knowledge (the error says so,
/// for the caller to report).
pub fn record(cache: Option<&Path>, prefix: &Path, changes: &[Change]) -> Result<(), String> {
    record_at(cache, prefix, changes, SystemTime::now())
}

fn record_at(
    cache: Option<&Path>,
    prefix: &Path,
    changes: &[Change],
    at: SystemTime,
) -> Result<(), String> {
    let Some(cache) = cache else { return Ok(()) };
    if changes.is_empty() {
        return Ok(());
    }
    let path = file(cache, prefix);
    let entry = Entry {
        time: unix(at),
        prefix: prefix.to_path_buf(),
        changes: changes.to_vec(),
    };
    let mut line = serde_json::to_vec(&entry).unwrap_or_default();
    line.push(b'\n');
    // one write of one line to a file opened for appending: readers never see half a line
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
        })
        .and_then(|mut f| f.write_all(&line));
    written.map_err(|e| {
        format!(
            "kip: note: could not record this change in {}: {e}",
            path.display()
        )
    })
}

/// The changes kip recorded in `prefix` after `since`, oldest first.
pub fn since(cache: Option<&Path>, prefix: &Path, since: SystemTime) -> Vec<Change> {
    let Some(cache) = cache else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(file(cache, prefix)) else {
        return Vec::new();
    };
    let after = unix(since);
    text.lines()
        .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
        .filter(|e| e.prefix == prefix && e.time > after)
        .flat_map(|e| e.changes)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, from: Option<&str>, to: Option<&str>) -> Change {
        Change {
            name: name.into(),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            pth: false,
        }
    }

    #[test]
    fn entries_after_a_time_per_prefix() {
        let d = tempfile::tempdir().unwrap();
        let cache = Some(d.path());
        let (a, b) = (Path::new("/envs/a"), Path::new("/envs/b"));
        let mid = SystemTime::now();
        let before = mid - std::time::Duration::from_secs(1);
        record_at(
            cache,
            a,
            &[change("six", Some("1.16.0"), Some("1.17.0"))],
            before,
        )
        .unwrap();
        record(cache, a, &[change("new", None, Some("1.0"))]).unwrap();
        record(cache, b, &[change("gone", Some("2.0"), None)]).unwrap();
        record(cache, a, &[]).unwrap();
        let all: Vec<String> = since(cache, a, UNIX_EPOCH)
            .iter()
            .map(Change::to_string)
            .collect();
        assert_eq!(all, ["six 1.16.0 → 1.17.0", "new 1.0 (new)"]);
        let later: Vec<String> = since(cache, a, mid).iter().map(Change::to_string).collect();
        assert_eq!(later, ["new 1.0 (new)"]);
        assert_eq!(since(cache, b, mid).len(), 1);
        assert!(since(None, a, UNIX_EPOCH).is_empty());
        // a torn or foreign line is skipped, the rest still read
        let f = file(d.path(), a);
        let mut text = std::fs::read_to_string(&f).unwrap();
        text.insert_str(0, "{not json\n");
        std::fs::write(&f, text).unwrap();
        assert_eq!(since(cache, a, UNIX_EPOCH).len(), 2);
    }
}
