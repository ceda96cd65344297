//! The import proof after an install (PRODUCT.md): import the requested distributions'
//! top-level modules in ONE subprocess of the kernel's interpreter, with the kernel's `env`,
//! from a neutral empty temp directory (a local `X.py` must not fake a pass), under
//! `KIP_IMPORT_TIMEOUT_MS`. A distribution with nothing to import passes. Bytecode is written
//! as the kernel's own first import would write it (uv installs without compiling), so a
//! repeated proof costs an interpreter start, not a recompile.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde::Serialize;

use crate::envvars::EnvVars;
use crate::process::{self, RunError};

/// Valid on Python 2.7 and 3.6+. Prints one line per module, `KIP-PROOF <module> ok` or
/// `KIP-PROOF <module> error <text>`; it imports nothing of its own (not even `json`, whose
/// `re` would double the cost of a small proof).
const PROOF_SCRIPT: &str = r#"
import sys
if sys.path and sys.path[0] in ('', '.'):
    sys.path.pop(0)
out = []
for m in sys.argv[1:]:
    try:
        __import__(m)
        out.append('KIP-PROOF %s ok' % m)
    except BaseException as e:
        text = ('%s: %s' % (type(e).__name__, e)).replace('\r', ' ').replace('\n', ' ')
        out.append('KIP-PROOF %s error %s' % (m, text))
sys.stdout.write('\n' + '\n'.join(out) + '\n')
"#;

/// The proof's answer for each module: `Some(None)` imported, `Some(Some(error))` failed,
/// missing when the script did not report it (it died first). Earlier lines with the tag
/// (printed by a package while importing) lose to the script's own, which come last.
fn parse_proof(stdout: &str) -> std::collections::HashMap<String, Option<String>> {
    let mut res = std::collections::HashMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("KIP-PROOF ") else {
            continue;
        };
        let Some((module, verdict)) = rest.split_once(' ') else {
            continue;
        };
        let error = match verdict.split_once(' ') {
            None if verdict == "ok" => None,
            Some(("error", text)) => Some(text.to_string()),
            _ => continue,
        };
        res.insert(module.to_string(), error);
    }
    res
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportResult {
    pub module: String,
    pub ok: bool,
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the import check could not run: {0}")]
    Run(#[from] RunError),
    #[error("the import check printed something unexpected: {0}")]
    Output(String),
    #[error("cannot create a neutral directory for the import check: {0}")]
    TempDir(std::io::Error),
}

pub fn prove_imports(
    python: &Path,
    env: &EnvVars,
    modules: &[String],
    timeout: Duration,
) -> Result<Vec<ImportResult>, ProofError> {
    if modules.is_empty() {
        return Ok(Vec::new());
    }
    let dir = tempfile::Builder::new()
        .prefix("kip-proof-")
        .tempdir()
        .map_err(ProofError::TempDir)?;
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(PROOF_SCRIPT)
        .args(modules)
        .current_dir(dir.path())
        .env_clear()
        .envs(env.to_vec());
    let out = match process::run_captured(cmd, timeout) {
        Ok(out) => out,
        // A hanging import is a failed proof of every module asked about, not a broken check.
        Err(RunError::TimedOut { timeout, .. }) => {
            let error = format!(
                "the import did not finish within {} ms (KIP_IMPORT_TIMEOUT_MS) and the interpreter was killed; a module hangs when imported, or needs more time (raise KIP_IMPORT_TIMEOUT_MS)",
                timeout.as_millis()
            );
            return Ok(modules
                .iter()
                .map(|m| ImportResult {
                    module: m.clone(),
                    ok: false,
                    error: Some(error.clone()),
                })
                .collect());
        }
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let parsed = parse_proof(&text);
    if parsed.is_empty() {
        return Err(ProofError::Output(format!(
            "{} {}",
            text.trim(),
            out.stderr_text().trim()
        )));
    }
    Ok(modules
        .iter()
        .map(|m| match parsed.get(m) {
            Some(err) => ImportResult {
                module: m.clone(),
                ok: err.is_none(),
                error: err.clone(),
            },
            None => ImportResult {
                module: m.clone(),
                ok: false,
                error: Some("not reported by the import check".into()),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian's python3, which every machine of this kind has; its absence is a broken
    /// prerequisite, not a pass.
    fn debian_python() -> &'static Path {
        let py = Path::new("/usr/bin/python3");
        assert!(
            py.exists(),
            "this test needs Debian's /usr/bin/python3 (apt-get install python3)"
        );
        py
    }

    #[test]
    fn proves_with_a_real_interpreter_and_ignores_cwd_files() {
        let py = debian_python();
        let env = EnvVars::from_pairs([("PATH", "/usr/bin:/bin")]);
        let r = prove_imports(
            py,
            &env,
            &["json".into(), "kip_no_such_module".into()],
            Duration::from_secs(20),
        )
        .unwrap();
        assert!(r[0].ok);
        assert!(!r[1].ok);
        assert!(r[1]
            .error
            .as_deref()
            .unwrap()
            .contains("ModuleNotFoundError"));

        // A local `kip_fake_module.py` (and a `json.py` that would kill a naive script) in the
        // directory the script runs from cannot fake a pass: the script drops the cwd entry
        // of `sys.path` before importing anything.
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("kip_fake_module.py"), "x = 1\n").unwrap();
        std::fs::write(d.path().join("json.py"), "raise SystemExit('hijacked')\n").unwrap();
        let mut cmd = Command::new(py);
        cmd.arg("-c")
            .arg(PROOF_SCRIPT)
            .args(["kip_fake_module", "json"])
            .current_dir(d.path())
            .env_clear()
            .envs(env.to_vec());
        let out = process::run_captured(cmd, Duration::from_secs(20)).unwrap();
        let parsed = parse_proof(&String::from_utf8_lossy(&out.stdout));
        let fake = parsed.get("kip_fake_module").expect("reported");
        assert!(
            fake.as_deref()
                .is_some_and(|e| e.contains("ModuleNotFoundError")),
            "a cwd file faked the proof: {parsed:?}"
        );
        assert_eq!(
            parsed.get("json"),
            Some(&None),
            "the stdlib json, not the local one"
        );
    }

    #[test]
    fn the_answer_is_read_from_tagged_lines_only() {
        let r = parse_proof(
            "noise\nKIP-PROOF a ok\nKIP-PROOF b error ImportError: no b: x\nKIP-PROOF c maybe\n",
        );
        assert_eq!(r.get("a"), Some(&None));
        assert_eq!(r.get("b"), Some(&Some("ImportError: no b: x".to_string())));
        assert_eq!(r.get("c"), None);
        assert!(parse_proof("Traceback ...\n").is_empty());
    }
}
