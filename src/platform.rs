//! Platform rules as pure functions of (OS, environment variables, home).
//!
//! Only Linux runs here, but kip must agree with Jupyter and CPython on macOS and Windows too,
//! so every rule that differs by platform takes the [`Os`] as an argument instead of asking
//! `cfg!`, and is unit-tested for all three.

use std::path::{Path, PathBuf};

use crate::envvars::EnvVars;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }

    fn join(self, base: &Path, parts: &[&str]) -> PathBuf {
        // Windows paths are built with `\` even when the rule is evaluated on Linux.
        if self == Os::Windows {
            let mut s = base.to_string_lossy().into_owned();
            for p in parts {
                if !s.ends_with('\\') {
                    s.push('\\');
                }
                s.push_str(p);
            }
            PathBuf::from(s)
        } else {
            let mut p = base.to_path_buf();
            for part in parts {
                p.push(part);
            }
            p
        }
    }
}

/// jupyter_core `jupyter_data_dir()` (paths.py). `home` must already be resolved
/// (`Path("~").expanduser().resolve()`); `sys_prefix` is the Jupyter's own, which matters only
/// for the macOS Homebrew app name.
pub fn jupyter_data_dir(os: Os, vars: &EnvVars, home: &Path, sys_prefix: &Path) -> PathBuf {
    if let Some(d) = vars.get_nonempty("JUPYTER_DATA_DIR") {
        return PathBuf::from(d);
    }
    if vars.envset("JUPYTER_PLATFORM_DIRS", false) {
        return platformdirs_user_data_dir(os, vars, home, app_name(os, sys_prefix));
    }
    match os {
        Os::MacOs => home.join("Library").join("Jupyter"),
        Os::Windows => match vars.get_nonempty("APPDATA") {
            Some(appdata) => os.join(Path::new(appdata), &["jupyter"]),
            None => os.join(&jupyter_config_dir(os, vars, home), &["data"]),
        },
        Os::Linux => {
            let base = vars
                .get_nonempty("XDG_DATA_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".local").join("share"));
            base.join("jupyter")
        }
    }
}

/// jupyter_core `jupyter_config_dir()`.
pub fn jupyter_config_dir(os: Os, vars: &EnvVars, home: &Path) -> PathBuf {
    if vars.envset("JUPYTER_NO_CONFIG", false) {
        // jupyter_core points config at a fresh temp dir; nothing kip reads lives there.
        return PathBuf::from("/nonexistent/jupyter-no-config");
    }
    if let Some(d) = vars.get_nonempty("JUPYTER_CONFIG_DIR") {
        return PathBuf::from(d);
    }
    if vars.envset("JUPYTER_PLATFORM_DIRS", false) {
        return match os {
            Os::Linux => vars
                .get_nonempty("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"))
                .join("jupyter"),
            Os::MacOs => home
                .join("Library")
                .join("Application Support")
                .join("Jupyter"),
            Os::Windows => platformdirs_user_data_dir(os, vars, home, "Jupyter"),
        };
    }
    os.join(home, &[".jupyter"])
}

/// jupyter_core `jupyter_runtime_dir()`: `JUPYTER_RUNTIME_DIR`, else `<data dir>/runtime`.
pub fn jupyter_runtime_dir(os: Os, vars: &EnvVars, home: &Path, sys_prefix: &Path) -> PathBuf {
    if let Some(d) = vars.get_nonempty("JUPYTER_RUNTIME_DIR") {
        return PathBuf::from(d);
    }
    os.join(&jupyter_data_dir(os, vars, home, sys_prefix), &["runtime"])
}

/// The `SYSTEM_JUPYTER_PATH` list (paths.py), before the env/user entries are added.
pub fn jupyter_system_dirs(os: Os, vars: &EnvVars, sys_prefix: &Path) -> Vec<PathBuf> {
    if vars.envset("JUPYTER_PLATFORM_DIRS", false) {
        return match os {
            Os::Linux => {
                let dirs = vars
                    .get_str("XDG_DATA_DIRS")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .unwrap_or("/usr/local/share:/usr/share");
                dirs.split(':')
                    .map(|d| PathBuf::from(d.trim_end_matches('/')).join("jupyter"))
                    .collect()
            }
            Os::MacOs => vec![PathBuf::from("/Library/Application Support/Jupyter")],
            Os::Windows => vec![os.join(
                Path::new(vars.get_str("PROGRAMDATA").unwrap_or("C:\\ProgramData")),
                &["Jupyter"],
            )],
        };
    }
    match os {
        Os::Windows => {
            if vars.envset("JUPYTER_USE_PROGRAMDATA", false) {
                if let Some(pd) = vars.get_nonempty("PROGRAMDATA") {
                    return vec![os.join(Path::new(pd), &["jupyter"])];
                }
            }
            vec![os.join(sys_prefix, &["share", "jupyter"])]
        }
        _ => vec![
            PathBuf::from("/usr/local/share/jupyter"),
            PathBuf::from("/usr/share/jupyter"),
        ],
    }
}

/// The config counterpart of [`jupyter_system_dirs`] (`SYSTEM_CONFIG_PATH`).
pub fn jupyter_system_config_dirs(os: Os, sys_prefix: &Path) -> Vec<PathBuf> {
    match os {
        Os::Windows => vec![os.join(sys_prefix, &["etc", "jupyter"])],
        _ => vec![
            PathBuf::from("/usr/local/etc/jupyter"),
            PathBuf::from("/etc/jupyter"),
        ],
    }
}

fn app_name(os: Os, sys_prefix: &Path) -> &'static str {
    match os {
        Os::Windows => "Jupyter",
        Os::MacOs if !sys_prefix.starts_with("/opt/homebrew") => "Jupyter",
        _ => "jupyter",
    }
}

fn platformdirs_user_data_dir(os: Os, vars: &EnvVars, home: &Path, app: &str) -> PathBuf {
    match os {
        Os::Linux => vars
            .get_str("XDG_DATA_HOME")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".local").join("share"))
            .join(app),
        Os::MacOs => home.join("Library").join("Application Support").join(app),
        Os::Windows => {
            let local = vars
                .get_nonempty("LOCALAPPDATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| os.join(home, &["AppData", "Local"]));
            os.join(&local, &[app])
        }
    }
}

/// CPython `site.getuserbase()`: `PYTHONUSERBASE`, else the platform default. Not resolved.
pub fn python_user_base(os: Os, vars: &EnvVars, home: &Path, framework: Option<&str>) -> PathBuf {
    if let Some(b) = vars.get_nonempty("PYTHONUSERBASE") {
        return PathBuf::from(b);
    }
    match (os, framework) {
        (Os::Windows, _) => {
            let appdata = vars
                .get_nonempty("APPDATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.to_path_buf());
            os.join(&appdata, &["Python"])
        }
        (Os::MacOs, Some(fw)) => home.join("Library").join(fw).join("Python"),
        _ => home.join(".local"),
    }
}

/// CPython `site._get_path(userbase)`: the user site-packages directory for version X.Y.
pub fn python_user_site(
    os: Os,
    user_base: &Path,
    major: u8,
    minor: u8,
    framework: bool,
    free_threaded: bool,
) -> PathBuf {
    let t = if free_threaded { "t" } else { "" };
    match os {
        Os::Windows => os.join(
            user_base,
            &[&format!("Python{major}{minor}{t}"), "site-packages"],
        ),
        Os::MacOs if framework => user_base.join("lib").join("python").join("site-packages"),
        _ if major == 2 => user_base
            .join("lib")
            .join(format!("python{major}.{minor}"))
            .join("site-packages"),
        _ => user_base
            .join("lib")
            .join(format!("python{major}.{minor}{t}"))
            .join("site-packages"),
    }
}

/// Where an environment keeps its console scripts (`pip`, `jupyter`, …).
pub fn scripts_dir(os: Os, prefix: &Path, conda: bool) -> PathBuf {
    match os {
        Os::Windows if conda => os.join(prefix, &["Scripts"]),
        Os::Windows => os.join(prefix, &["Scripts"]),
        _ => prefix.join("bin"),
    }
}

/// The interpreter candidates inside a prefix, most specific first.
pub fn python_candidates(os: Os, prefix: &Path, conda: bool) -> Vec<PathBuf> {
    match os {
        Os::Windows if conda => vec![os.join(prefix, &["python.exe"])],
        Os::Windows => vec![
            os.join(prefix, &["Scripts", "python.exe"]),
            os.join(prefix, &["python.exe"]),
        ],
        _ => vec![
            prefix.join("bin").join("python3"),
            prefix.join("bin").join("python"),
        ],
    }
}

/// The site-packages directories of a prefix for version X.Y (site.py `getsitepackages`).
pub fn site_packages_dirs(os: Os, prefix: &Path, major: u8, minor: u8) -> Vec<PathBuf> {
    match os {
        Os::Windows => vec![
            prefix.to_path_buf(),
            os.join(prefix, &["Lib", "site-packages"]),
        ],
        _ => {
            let ver = format!("python{major}.{minor}");
            let mut v = vec![prefix.join("lib").join(&ver).join("site-packages")];
            let lib64 = prefix.join("lib64").join(&ver).join("site-packages");
            if lib64_distinct(prefix) && lib64.is_dir() && !same_dir(&lib64, &v[0]) {
                v.push(lib64);
            }
            v
        }
    }
}

/// Could `<prefix>/lib64` be a directory other than `lib`? Not when it is absent, nor when it
/// is the `lib64 -> lib` symlink venvs (uv's, CPython's on 64-bit Linux) make: one `readlink`
/// answers both, where `stat`ing the paths beneath it costs three.
pub fn lib64_distinct(prefix: &Path) -> bool {
    match std::fs::read_link(prefix.join("lib64")) {
        Ok(t) => t != Path::new("lib"),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

/// One directory by file identity (two `stat`s; resolving both paths cost a `readlink` per
/// component).
fn same_dir(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> EnvVars {
        EnvVars::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn data_dir_linux_rules() {
        let home = Path::new("/h");
        let p = Path::new("/usr");
        assert_eq!(
            jupyter_data_dir(Os::Linux, &vars(&[]), home, p),
            PathBuf::from("/h/.local/share/jupyter")
        );
        assert_eq!(
            jupyter_data_dir(Os::Linux, &vars(&[("XDG_DATA_HOME", "/x")]), home, p),
            PathBuf::from("/x/jupyter")
        );
        assert_eq!(
            jupyter_data_dir(Os::Linux, &vars(&[("XDG_DATA_HOME", "")]), home, p),
            PathBuf::from("/h/.local/share/jupyter")
        );
        // JUPYTER_DATA_DIR is verbatim: relative stays relative, trailing slashes kept.
        assert_eq!(
            jupyter_data_dir(Os::Linux, &vars(&[("JUPYTER_DATA_DIR", "jdd")]), home, p),
            PathBuf::from("jdd")
        );
        assert_eq!(
            jupyter_data_dir(Os::Linux, &vars(&[("JUPYTER_DATA_DIR", "")]), home, p),
            PathBuf::from("/h/.local/share/jupyter")
        );
    }

    #[test]
    fn data_dir_macos_and_windows() {
        let home = Path::new("/Users/u");
        assert_eq!(
            jupyter_data_dir(Os::MacOs, &vars(&[]), home, Path::new("/usr")),
            PathBuf::from("/Users/u/Library/Jupyter")
        );
        assert_eq!(
            jupyter_data_dir(
                Os::MacOs,
                &vars(&[("JUPYTER_PLATFORM_DIRS", "1")]),
                home,
                Path::new("/opt/homebrew/x")
            ),
            PathBuf::from("/Users/u/Library/Application Support/jupyter")
        );
        let whome = Path::new("C:\\Users\\u");
        assert_eq!(
            jupyter_data_dir(
                Os::Windows,
                &vars(&[("APPDATA", "C:\\Users\\u\\AppData\\Roaming")]),
                whome,
                Path::new("C:\\Python")
            ),
            PathBuf::from("C:\\Users\\u\\AppData\\Roaming\\jupyter")
        );
        assert_eq!(
            jupyter_data_dir(Os::Windows, &vars(&[]), whome, Path::new("C:\\Python")),
            PathBuf::from("C:\\Users\\u\\.jupyter\\data")
        );
    }

    #[test]
    fn system_dirs() {
        assert_eq!(
            jupyter_system_dirs(Os::Linux, &vars(&[]), Path::new("/v")),
            vec![
                PathBuf::from("/usr/local/share/jupyter"),
                PathBuf::from("/usr/share/jupyter")
            ]
        );
        assert_eq!(
            jupyter_system_dirs(
                Os::Linux,
                &vars(&[("JUPYTER_PLATFORM_DIRS", "1"), ("XDG_DATA_DIRS", "/a:/b/")]),
                Path::new("/v")
            ),
            vec![PathBuf::from("/a/jupyter"), PathBuf::from("/b/jupyter")]
        );
        assert_eq!(
            jupyter_system_dirs(Os::Windows, &vars(&[]), Path::new("C:\\Py")),
            vec![PathBuf::from("C:\\Py\\share\\jupyter")]
        );
        assert_eq!(
            jupyter_system_dirs(
                Os::Windows,
                &vars(&[("JUPYTER_USE_PROGRAMDATA", "1"), ("PROGRAMDATA", "C:\\PD")]),
                Path::new("C:\\Py")
            ),
            vec![PathBuf::from("C:\\PD\\jupyter")]
        );
    }

    #[test]
    fn user_site_per_platform() {
        let home = Path::new("/h");
        let base = python_user_base(Os::Linux, &vars(&[]), home, None);
        assert_eq!(base, PathBuf::from("/h/.local"));
        assert_eq!(
            python_user_site(Os::Linux, &base, 3, 12, false, false),
            PathBuf::from("/h/.local/lib/python3.12/site-packages")
        );
        assert_eq!(
            python_user_site(Os::Linux, &base, 3, 13, false, true),
            PathBuf::from("/h/.local/lib/python3.13t/site-packages")
        );
        let ub = python_user_base(Os::Linux, &vars(&[("PYTHONUSERBASE", "/ub")]), home, None);
        assert_eq!(ub, PathBuf::from("/ub"));
        let mac = python_user_base(Os::MacOs, &vars(&[]), home, Some("Python"));
        assert_eq!(mac, PathBuf::from("/h/Library/Python/Python"));
        assert_eq!(
            python_user_site(Os::MacOs, &mac, 3, 12, true, false),
            PathBuf::from("/h/Library/Python/Python/lib/python/site-packages")
        );
        let win = python_user_base(
            Os::Windows,
            &vars(&[("APPDATA", "C:\\AD")]),
            Path::new("C:\\U"),
            None,
        );
        assert_eq!(win, PathBuf::from("C:\\AD\\Python"));
        assert_eq!(
            python_user_site(Os::Windows, &win, 3, 12, false, false),
            PathBuf::from("C:\\AD\\Python\\Python312\\site-packages")
        );
    }

    #[test]
    fn layouts() {
        assert_eq!(
            scripts_dir(Os::Linux, Path::new("/e"), false),
            PathBuf::from("/e/bin")
        );
        assert_eq!(
            scripts_dir(Os::Windows, Path::new("C:\\e"), false),
            PathBuf::from("C:\\e\\Scripts")
        );
        assert_eq!(
            python_candidates(Os::Windows, Path::new("C:\\e"), true),
            vec![PathBuf::from("C:\\e\\python.exe")]
        );
        assert_eq!(
            python_candidates(Os::Linux, Path::new("/e"), false)[0],
            PathBuf::from("/e/bin/python3")
        );
        assert_eq!(
            site_packages_dirs(Os::Windows, Path::new("C:\\e"), 3, 12),
            vec![
                PathBuf::from("C:\\e"),
                PathBuf::from("C:\\e\\Lib\\site-packages")
            ]
        );
    }
}
