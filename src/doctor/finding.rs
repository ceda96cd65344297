//! Findings: the stable ids, severities and automatic flags of PRODUCT.md's catalog, and the
//! shape `kip doctor --json` prints.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Every finding id kip reports. The string forms are a stable contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingId {
    KernelSpecInvalid,
    KernelInterpreterMissing,
    KernelIpykernelMissing,
    KernelRelativePython,
    KernelShadowed,
    KernelShellMismatch,
    KernelEnvPythonpath,
    KernelWrapperUnresolved,
    EnvExternallyManaged,
    EnvNoPip,
    EnvSiteNotWritable,
    EnvUserSiteShadowing,
    EnvBrokenScript,
    EnvVenvBaseMissing,
    EnvCondaPipMixed,
    ShellPipPythonMismatch,
    ShellJupyterPythonMismatch,
    ShellShim,
    NotebookKernelMissing,
    NotebookImportMissing,
    NotebookLocalShadowing,
    NotebookEnvMismatch,
    KernelStartFails,
    ShellPythonpath,
    EnvEphemeral,
    EnvUnpackedPlaceholder,
    KernelStateStale,
}

impl FindingId {
    pub const ALL: [FindingId; 27] = [
        FindingId::KernelSpecInvalid,
        FindingId::KernelInterpreterMissing,
        FindingId::KernelIpykernelMissing,
        FindingId::KernelRelativePython,
        FindingId::KernelShadowed,
        FindingId::KernelShellMismatch,
        FindingId::KernelEnvPythonpath,
        FindingId::KernelWrapperUnresolved,
        FindingId::EnvExternallyManaged,
        FindingId::EnvNoPip,
        FindingId::EnvSiteNotWritable,
        FindingId::EnvUserSiteShadowing,
        FindingId::EnvBrokenScript,
        FindingId::EnvVenvBaseMissing,
        FindingId::EnvCondaPipMixed,
        FindingId::ShellPipPythonMismatch,
        FindingId::ShellJupyterPythonMismatch,
        FindingId::ShellShim,
        FindingId::NotebookKernelMissing,
        FindingId::NotebookImportMissing,
        FindingId::NotebookLocalShadowing,
        FindingId::NotebookEnvMismatch,
        FindingId::KernelStartFails,
        FindingId::ShellPythonpath,
        FindingId::EnvEphemeral,
        FindingId::EnvUnpackedPlaceholder,
        FindingId::KernelStateStale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingId::KernelSpecInvalid => "kernel-spec-invalid",
            FindingId::KernelInterpreterMissing => "kernel-interpreter-missing",
            FindingId::KernelIpykernelMissing => "kernel-ipykernel-missing",
            FindingId::KernelRelativePython => "kernel-relative-python",
            FindingId::KernelShadowed => "kernel-shadowed",
            FindingId::KernelShellMismatch => "kernel-shell-mismatch",
            FindingId::KernelEnvPythonpath => "kernel-env-pythonpath",
            FindingId::KernelWrapperUnresolved => "kernel-wrapper-unresolved",
            FindingId::EnvExternallyManaged => "env-externally-managed",
            FindingId::EnvNoPip => "env-no-pip",
            FindingId::EnvSiteNotWritable => "env-site-not-writable",
            FindingId::EnvUserSiteShadowing => "env-user-site-shadowing",
            FindingId::EnvBrokenScript => "env-broken-script",
            FindingId::EnvVenvBaseMissing => "env-venv-base-missing",
            FindingId::EnvCondaPipMixed => "env-conda-pip-mixed",
            FindingId::ShellPipPythonMismatch => "shell-pip-python-mismatch",
            FindingId::ShellJupyterPythonMismatch => "shell-jupyter-python-mismatch",
            FindingId::ShellShim => "shell-shim",
            FindingId::NotebookKernelMissing => "notebook-kernel-missing",
            FindingId::NotebookImportMissing => "notebook-import-missing",
            FindingId::NotebookLocalShadowing => "notebook-local-shadowing",
            FindingId::NotebookEnvMismatch => "notebook-env-mismatch",
            FindingId::KernelStartFails => "kernel-start-fails",
            FindingId::ShellPythonpath => "shell-pythonpath",
            FindingId::EnvEphemeral => "env-ephemeral",
            FindingId::EnvUnpackedPlaceholder => "env-unpacked-placeholder",
            FindingId::KernelStateStale => "kernel-state-stale",
        }
    }

    /// The catalog's severity (some findings downgrade by context: a guarded import is a
    /// warning; PEP 668 is an error when an install into it is asked).
    pub fn default_severity(self) -> Severity {
        use FindingId::*;
        match self {
            KernelSpecInvalid
            | KernelInterpreterMissing
            | KernelIpykernelMissing
            | EnvVenvBaseMissing
            | NotebookKernelMissing
            | NotebookImportMissing
            | KernelStartFails
            | EnvUnpackedPlaceholder => Severity::Error,
            KernelRelativePython
            | KernelShadowed
            | KernelShellMismatch
            | KernelEnvPythonpath
            | EnvSiteNotWritable
            | EnvUserSiteShadowing
            | EnvBrokenScript
            | ShellPipPythonMismatch
            | ShellJupyterPythonMismatch
            | NotebookLocalShadowing
            | NotebookEnvMismatch
            | ShellPythonpath
            | EnvEphemeral
            | KernelStateStale => Severity::Warning,
            KernelWrapperUnresolved
            | EnvExternallyManaged
            | EnvNoPip
            | EnvCondaPipMixed
            | ShellShim => Severity::Info,
        }
    }

    /// How surely this breaks the user's import, most sure first (the order of a report
    /// within one severity): a kernel that cannot start, then the wrong env, then the rest.
    pub fn breakage_rank(self) -> usize {
        use FindingId::*;
        const ORDER: [FindingId; 27] = [
            NotebookKernelMissing,
            EnvUnpackedPlaceholder,
            KernelStartFails,
            KernelInterpreterMissing,
            EnvVenvBaseMissing,
            KernelSpecInvalid,
            KernelIpykernelMissing,
            NotebookImportMissing,
            KernelStateStale,
            NotebookEnvMismatch,
            EnvEphemeral,
            KernelRelativePython,
            NotebookLocalShadowing,
            KernelShadowed,
            KernelEnvPythonpath,
            ShellPythonpath,
            EnvUserSiteShadowing,
            KernelShellMismatch,
            ShellJupyterPythonMismatch,
            ShellPipPythonMismatch,
            EnvBrokenScript,
            EnvSiteNotWritable,
            KernelWrapperUnresolved,
            EnvExternallyManaged,
            EnvNoPip,
            EnvCondaPipMixed,
            ShellShim,
        ];
        ORDER.iter().position(|i| *i == self).unwrap_or(ORDER.len())
    }

    /// May `--fix` apply the fix? (`kernel-interpreter-missing` only removes with `--yes`.)
    pub fn automatic(self) -> bool {
        matches!(
            self,
            FindingId::KernelInterpreterMissing
                | FindingId::KernelIpykernelMissing
                | FindingId::KernelRelativePython
                | FindingId::KernelShellMismatch
                | FindingId::EnvVenvBaseMissing
        )
    }
}

/// The fix of a finding: the exact command or edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub text: String,
    pub automatic: bool,
}

/// What `--fix` (or `kip kernel fix`) did about one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done (and re-checked by the run that follows).
    Applied,
    /// Not attempted: kip or the environment declines it (PEP 668, not writable, needs
    /// `--yes`, nothing to repoint to).
    Refused,
    /// Attempted and did not work (an installer's error, a repoint rolled back).
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FixOutcome {
    pub id: FindingId,
    /// The kernels (or envs) it was about.
    pub subjects: Vec<String>,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: FindingId,
    pub severity: Severity,
    /// A kernel name, an env prefix, a command, a notebook.
    pub subject: String,
    pub message: String,
    pub explanation: String,
    pub fix: Fix,
    /// When one cause affects many kernels: all of them (`subject` is the first). The fix
    /// names exactly these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// What makes two findings of one id the same cause (e.g. "!pip reaches /usr/bin/pip"):
    /// such findings are merged into one listing their subjects.
    #[serde(skip)]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// `kernel-start-fails`: the kernel's exit code (null when it timed out, was killed by a
    /// signal or could not be run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<Option<i32>>,
    /// `kernel-start-fails`: no `kernel_info` reply within `KIP_START_TIMEOUT_MS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timed_out: Option<bool>,
    /// `kernel-start-fails`: the last 30 lines of the kernel's stderr.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
}

impl Finding {
    pub fn new(
        id: FindingId,
        subject: impl Into<String>,
        message: impl Into<String>,
        explanation: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            id,
            severity: id.default_severity(),
            subject: subject.into(),
            message: message.into(),
            explanation: explanation.into(),
            fix: Fix {
                text: fix.into(),
                automatic: id.automatic(),
            },
            subjects: Vec::new(),
            cause: None,
            module: None,
            distribution: None,
            exit_code: None,
            timed_out: None,
            stderr_tail: None,
        }
    }

    /// The subjects it is about: `subjects` when merged, else `subject`.
    pub fn all_subjects(&self) -> Vec<String> {
        if self.subjects.is_empty() {
            vec![self.subject.clone()]
        } else {
            self.subjects.clone()
        }
    }

    pub fn with_cause(mut self, cause: impl Into<String>) -> Finding {
        self.cause = Some(cause.into());
        self
    }

    pub fn with_severity(mut self, s: Severity) -> Finding {
        self.severity = s;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog table of PRODUCT.md (`| `id` | severity | automatic fix | what |`), read from
    /// `../shared/docs/PRODUCT.md` beside the checkout: (id, severity, automatic).
    fn product_catalog() -> Vec<(String, String, bool)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/docs/PRODUCT.md");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!("this test needs {path} (../shared beside the checkout): {e}")
        });
        let start = text
            .find("| id | severity | automatic fix | what |")
            .expect("catalog table");
        text[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let id = cells[1].trim_matches('`').to_string();
                let severity = cells[2].split_whitespace().next().unwrap_or("").to_string();
                // "no" is the only manual marker; "yes (…)", "yes, when …", "remove, with
                // `--yes`" all let --fix act.
                let automatic = cells[3] != "no";
                (id, severity, automatic)
            })
            .collect()
    }

    /// Ids in PRODUCT.md's catalog that no issue has built yet, and differences an open issue
    /// is to close. Each entry must still be true: building the finding (or closing the
    /// difference) makes this test fail until the entry is removed.
    const NOT_BUILT: &[&str] = &[
        "env-shared-module",
        "env-editable-missing",
        "kernel-name-points-elsewhere",
    ];
    /// Ids whose automatic flag an open issue is to change.
    const AUTOMATIC_PENDING: &[&str] = &[];

    #[test]
    fn catalog_matches_product_md() {
        let product = product_catalog();
        assert!(
            product.len() >= 21,
            "the catalog table was not read: {product:?}"
        );
        for id in FindingId::ALL {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
            let (_, severity, automatic) = product
                .iter()
                .find(|(p, _, _)| p == id.as_str())
                .unwrap_or_else(|| panic!("{} is not in PRODUCT.md's catalog", id.as_str()));
            assert_eq!(id.default_severity().as_str(), severity, "{}", id.as_str());
            if AUTOMATIC_PENDING.contains(&id.as_str()) {
                assert_ne!(
                    id.automatic(),
                    *automatic,
                    "{} is done: drop it from AUTOMATIC_PENDING",
                    id.as_str()
                );
            } else {
                assert_eq!(
                    id.automatic(),
                    *automatic,
                    "automatic flag of {}",
                    id.as_str()
                );
            }
        }
        let built: Vec<&str> = FindingId::ALL.iter().map(|i| i.as_str()).collect();
        let mut missing: Vec<&str> = product
            .iter()
            .map(|(p, _, _)| p.as_str())
            .filter(|p| !built.contains(p))
            .collect();
        missing.sort_unstable();
        let mut expected = NOT_BUILT.to_vec();
        expected.sort_unstable();
        assert_eq!(missing, expected, "ids of PRODUCT.md's catalog not built");
    }
}
