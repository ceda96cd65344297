//! The few Jupyter config settings that change what `kernelspec list` shows, read from the
//! `jupyter_config.json` files on `jupyter_config_path()`. Python config files
//! (`jupyter_config.py`) can run arbitrary code, so kip never executes them; when one exists
//! it says the listing may differ.

use std::path::PathBuf;

use serde_json::Value;

#[derive(Clone, Debug, Default)]
pub struct JupyterConfig {
    /// `KernelSpecManager.allowed_kernelspecs` (or its deprecated alias `whitelist`).
    pub allowed_kernelspecs: Vec<String>,
    /// `KernelSpecManager.ensure_native_kernel`.
    pub ensure_native_kernel: Option<bool>,
    /// `KernelProvisionerFactory.default_provisioner_name`.
    pub default_provisioner_name: Option<String>,
    /// The files that were read, lowest priority first.
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

impl JupyterConfig {
    /// `dirs` is highest priority first (as `jupyter_config_path()` returns it); traitlets
    /// loads them in reverse so the first directory's values win.
    pub fn load(dirs: &[PathBuf]) -> JupyterConfig {
        let mut cfg = JupyterConfig::default();
        for dir in dirs.iter().rev() {
            let py = dir.join("jupyter_config.py");
            if py.is_file() {
                cfg.notes.push(format!(
                    "{} exists; kip reads only JSON config, so the listing may differ from Jupyter's",
                    py.display()
                ));
            }
            let file = dir.join("jupyter_config.json");
            let Ok(text) = crate::files::read_to_string(&file) else {
                continue;
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => {
                    cfg.apply(&v);
                    cfg.files.push(file);
                }
                Err(e) => cfg.notes.push(format!(
                    "{} is not valid JSON ({e}); Jupyter ignores it with a warning",
                    file.display()
                )),
            }
        }
        cfg
    }

    fn apply(&mut self, v: &Value) {
        if let Some(ksm) = v.get("KernelSpecManager") {
            for key in ["whitelist", "allowed_kernelspecs"] {
                if let Some(list) = ksm.get(key).and_then(Value::as_array) {
                    self.allowed_kernelspecs = list
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect();
                }
            }
            if let Some(b) = ksm.get("ensure_native_kernel").and_then(Value::as_bool) {
                self.ensure_native_kernel = Some(b);
            }
        }
        if let Some(name) = v
            .get("KernelProvisionerFactory")
            .and_then(|f| f.get("default_provisioner_name"))
            .and_then(Value::as_str)
        {
            self.default_provisioner_name = Some(name.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_dir_wins_and_py_is_noted() {
        let hi = tempfile::tempdir().unwrap();
        let lo = tempfile::tempdir().unwrap();
        std::fs::write(
            hi.path().join("jupyter_config.json"),
            r#"{"KernelSpecManager": {"allowed_kernelspecs": ["a"]}}"#,
        )
        .unwrap();
        std::fs::write(
            lo.path().join("jupyter_config.json"),
            r#"{"KernelSpecManager": {"allowed_kernelspecs": ["b"], "ensure_native_kernel": false}}"#,
        )
        .unwrap();
        std::fs::write(lo.path().join("jupyter_config.py"), "c = 1").unwrap();
        let cfg = JupyterConfig::load(&[hi.path().to_path_buf(), lo.path().to_path_buf()]);
        assert_eq!(cfg.allowed_kernelspecs, vec!["a".to_string()]);
        assert_eq!(cfg.ensure_native_kernel, Some(false));
        assert_eq!(cfg.notes.len(), 1);
        assert!(JupyterConfig::load(&[hi.path().to_path_buf()])
            .ensure_native_kernel
            .is_none());
    }
}
