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

/// Valid on Python 2.7 and 3.6+. Prints one JSON object: module → null (ok) or the error.
const PROOF_SCRIPT: &str = r#"
import sys, json
if sys.path and sys.path[0] in ('', '.'):
    sys.path.pop(0)
res = {}
for m in sys.argv[1:]:
    try:
        __import__(m)
        res[m] = None
    except BaseException as e:
        res[m] = '%s: %s' % (type(e).__name__, e)
sys.stdout.write(json.dumps(res))
"#;

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
    let out = process::run_captured(cmd, timeout)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("");
    let parsed: serde_json::Value = serde_json::from_str(last)
        .map_err(|_| ProofError::Output(format!("{} {}", text.trim(), out.stderr_text().trim())))?;
    Ok(modules
        .iter()
        .map(|m| {
            let err = parsed.get(m).and_then(|v| v.as_str()).map(str::to_string);
            let present = parsed.get(m).is_some();
            ImportResult {
                module: m.clone(),
                ok: present && err.is_none(),
                error: if present {
                    err
                } else {
                    Some("not reported by the import check".into())
                },
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proves_with_a_real_interpreter_and_ignores_cwd_files() {
        let py = Path::new("/usr/bin/python3");
        if !py.exists() {
            return;
        }
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
    }
}
