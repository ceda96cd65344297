//! Entry points for `cargo fuzz` (`fuzz/`) and for the regression inputs it found, which the
//! normal suite replays (`tests/fuzz_regressions.rs`): one function per parser of outside
//! data. Each takes arbitrary bytes and must return without panicking, whatever they hold;
//! where a parser promises more (a round trip), the function checks that too.

use std::path::Path;

/// A fuzz entry point: arbitrary bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every target: (name, entry point). The fuzz crate and the regression test use this list.
pub const TARGETS: &[(&str, Target)] = &[
    ("kernelspec", kernelspec),
    ("shebang", shebang),
    ("pyvenv_cfg", pyvenv_cfg),
    ("conda", conda),
    ("ipynb", ipynb),
    ("dist_metadata", dist_metadata),
    ("runtime_files", runtime_files),
    ("server_info", server_info),
    ("requirement", requirement),
];

/// kernel.json: Python's `json` rules, then jupyter_client's validation, then the JSON kip
/// prints for it must parse again to the same value.
pub fn kernelspec(data: &[u8]) {
    let Ok(value) = crate::pyjson::parse(data) else {
        return;
    };
    let printed = crate::pyjson::dumps_indent(&value, 1);
    let again = crate::pyjson::parse(printed.as_bytes())
        .unwrap_or_else(|e| panic!("kip's own JSON does not parse: {e}\n{printed}"));
    assert_eq!(printed, crate::pyjson::dumps_indent(&again, 1));
    if let Ok(spec) = crate::jupyter::kernelspec::validate(value) {
        let _ = spec.argv_strings();
        let _ = spec.env_strings();
        let _ = crate::pyjson::dumps(&spec.to_value());
    }
}

/// A script's first line, and the `/bin/sh` wrapper's final `exec`.
pub fn shebang(data: &[u8]) {
    let _ = crate::python::shebang::parse(data);
    let _ = crate::python::shebang::shell_script_exec_target(&String::from_utf8_lossy(data));
}

/// `pyvenv.cfg`.
pub fn pyvenv_cfg(data: &[u8]) {
    let _ = crate::python::classify::PyvenvCfg::parse(&String::from_utf8_lossy(data));
}

/// conda: a `conda-meta/*.json` file name, `.condarc`'s `envs_dirs`.
pub fn conda(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let _ = crate::python::classify::conda_python_record_version(line);
    }
    let _ = crate::python::discovery::condarc_envs_dirs(&text);
}

/// A notebook, then the imports of every code cell.
pub fn ipynb(data: &[u8]) {
    if let Ok(nb) = crate::notebook::ipynb::parse(Path::new("fuzz.ipynb"), data) {
        let _ = crate::notebook::imports::extract(&nb);
    }
    let _ = crate::notebook::imports::extract_from_source(&String::from_utf8_lossy(data), 0);
}

/// A dist-info's METADATA headers and RECORD.
pub fn dist_metadata(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::install::satisfied::parse_metadata(&text);
    let _ = crate::python::site::top_level_from_record(&text);
}

/// A kernel's argv as read from `/proc/PID/cmdline` (NUL-separated).
pub fn runtime_files(data: &[u8]) {
    let argv: Vec<String> = data
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let _ = crate::jupyter::runtime::is_ipykernel_argv(&argv);
    let _ = crate::jupyter::runtime::connection_file_arg(&argv);
}

/// A Jupyter server's info file (`jpserver-*.json`) and its `/api/sessions` answer.
pub fn server_info(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(info) = crate::jupyter::servers::parse_info(Path::new("jpserver-fuzz.json"), &text) {
        let _ = crate::jupyter::servers::loopback_addr(&info);
    }
    let _ = crate::jupyter::servers::parse_sessions(&text);
}

/// A requirement as typed on the command line, and its conda translation.
pub fn requirement(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(req) = crate::install::requirement::parse(text, Path::new("/nonexistent-cwd")) {
        let _ = req.name();
        let _ = req.installer_arg();
        let _ = crate::install::requirement::to_conda_spec(&req);
    }
}
