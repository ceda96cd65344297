//! pyenv shims, resolved from their files and pyenv's version files — never run.
//!
//! A shim is a bash script that exports its own `PYENV_ROOT` and runs `pyenv exec <program>`.
//! What that runs is decided by pyenv's libexec scripts, re-implemented here rule by rule
//! (checked against pyenv 2.6.30):
//! - `pyenv-version-name`: `PYENV_VERSION` if set and not empty, else the version file; an
//!   empty selection means `system`.
//! - `pyenv-version-file`: the nearest `.python-version` from `PYENV_DIR` upward, then from
//!   the working directory upward, else `$PYENV_ROOT/version` (even when it does not exist).
//! - `pyenv-version-file-read`: the first word of each line; empty lines and words starting
//!   with `#` are skipped; `..` and names with `/` that leave `versions/` are refused; the
//!   versions are joined with `:` (so `PYENV_VERSION` separates them with `:` too). A version
//!   file that is empty or only comments selects `system` — it does not fall back further.
//! - `pyenv-version-name -f` (used by `pyenv exec`): for each name, an installed directory
//!   `versions/<name>`, else `system`, else the name without a `python-` prefix, else the
//!   newest installed version with that prefix (`pyenv-latest`), else kept as not installed.
//! - `pyenv-which`: the first selected version whose `bin/<program>` is executable wins;
//!   `system` is the first `<program>` on PATH without the shims directory; and `system` is
//!   *always* tried last, so a selection that is not installed (or lacks the program) quietly
//!   runs the system command (observed: `PYENV_VERSION=3.99 python3` runs `/usr/bin/python3`).
//!   Only when that fails too does the shim exit 127 with `pyenv: <program>: command not found`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::shell::path::is_executable_file;

/// Where the version selection came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionOrigin {
    /// `PYENV_VERSION`, with its value.
    Env(String),
    /// The nearest `.python-version`, from `PYENV_DIR`/the cwd upward.
    File(PathBuf),
    /// `<root>/version`.
    Global(PathBuf),
    /// No version file at all: pyenv's default, `system`.
    Default,
}

impl VersionOrigin {
    /// `env`, `file`, `global` or `default` (the JSON spelling).
    pub fn kind(&self) -> &'static str {
        match self {
            VersionOrigin::Env(_) => "env",
            VersionOrigin::File(_) => "file",
            VersionOrigin::Global(_) => "global",
            VersionOrigin::Default => "default",
        }
    }

    /// The file that set the version, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            VersionOrigin::File(p) | VersionOrigin::Global(p) => Some(p),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            VersionOrigin::Env(v) => format!("PYENV_VERSION={v}"),
            VersionOrigin::File(p) => p.display().to_string(),
            VersionOrigin::Global(p) => format!("the global version file {}", p.display()),
            VersionOrigin::Default => "no version file (pyenv's default)".to_string(),
        }
    }
}

/// What a shim runs here, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShimResolution {
    /// The shim's own `PYENV_ROOT`.
    pub root: PathBuf,
    pub program: String,
    /// The version names selected, in order, as written.
    pub requested: Vec<String>,
    pub origin: VersionOrigin,
    /// The installed version that has the program (`3.11.7`), or `system`.
    pub chosen: Option<String>,
    /// The file the shim execs (a version's `bin/<program>`, or the system one on PATH).
    pub executable: Option<PathBuf>,
    /// Requested names that are not installed (pyenv warns ``version `X' is not installed``).
    pub not_installed: Vec<String>,
    /// When nothing has the program: the installed versions that do (pyenv-whence).
    pub available_in: Vec<String>,
    /// One plain sentence.
    pub why: String,
}

/// Is `path` a pyenv shim? Returns the root it hard-codes (`export PYENV_ROOT="<root>"`,
/// which overrides the caller's `PYENV_ROOT`), or, for a shim without that line, the parent
/// of its `shims` directory. Reads at most 4 KiB.
pub fn shim_root(path: &Path) -> Option<PathBuf> {
    let head = crate::files::read_head(path, 4096).ok()?;
    if !head.starts_with(b"#!") {
        return None;
    }
    let text = String::from_utf8_lossy(&head);
    // `exec "<root>/libexec/pyenv" exec "$program" "$@"` (older shims: `exec pyenv exec …`).
    let runs_pyenv_exec = text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("exec ") && l.contains("pyenv") && l.contains(" exec ")
    });
    if !runs_pyenv_exec {
        return None;
    }
    for line in text.lines() {
        if let Some(v) = line.trim().strip_prefix("export PYENV_ROOT=") {
            let words = shlex::split(v)?;
            let root = words.first()?;
            // pyenv strips one trailing slash: PYENV_ROOT="${PYENV_ROOT%/}".
            let root = root.strip_suffix('/').unwrap_or(root);
            return Some(PathBuf::from(root));
        }
    }
    let dir = path.parent()?;
    (dir.file_name()? == "shims")
        .then(|| dir.parent().map(Path::to_path_buf))
        .flatten()
}

/// The version names in a version file, as `pyenv-version-file-read` reads them: the first
/// word of each line, skipping empty lines and `#` comments, refusing unsafe names.
fn read_version_file(root: &Path, file: &Path) -> Vec<String> {
    let Ok(bytes) = crate::files::read_head(file, 64 * 1024) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| !w.starts_with('#'))
        .filter(|w| version_name_safe(root, w))
        .map(str::to_string)
        .collect()
}

/// pyenv's `is_version_safe` (CVE-2022-35861): `..` and names with `/` are accepted only if
/// they resolve inside `$PYENV_ROOT/versions`.
fn version_name_safe(root: &Path, name: &str) -> bool {
    if name != ".." && !name.contains('/') {
        return true;
    }
    let versions = root.join("versions");
    match (
        std::fs::canonicalize(versions.join(name)),
        std::fs::canonicalize(&versions),
    ) {
        (Ok(p), Ok(v)) => p.starts_with(&v) && p != v,
        _ => false,
    }
}

/// The nearest `.python-version` from `dir` upward (pyenv's `find_local_version_file`).
fn find_local_version_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(".python-version"))
        .find(|f| f.is_file())
}

/// The selection and where it came from (`pyenv-version-name` + `pyenv-version-file`).
fn selection(env: &EnvVars, cwd: &Path, root: &Path) -> (Vec<String>, VersionOrigin) {
    if let Some(v) = env.get_nonempty("PYENV_VERSION") {
        let v = v.to_string_lossy().into_owned();
        let names = v
            .split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        return (names, VersionOrigin::Env(v));
    }
    let absolute = |p: PathBuf| if p.is_absolute() { p } else { cwd.join(p) };
    let pyenv_dir = env
        .get_nonempty("PYENV_DIR")
        .map(|d| absolute(PathBuf::from(d)))
        .unwrap_or_else(|| cwd.to_path_buf());
    let local = find_local_version_file(&pyenv_dir).or_else(|| {
        (pyenv_dir != cwd)
            .then(|| find_local_version_file(cwd))
            .flatten()
    });
    if let Some(f) = local {
        return (read_version_file(root, &f), VersionOrigin::File(f));
    }
    let global = root.join("version");
    if global.is_file() {
        (
            read_version_file(root, &global),
            VersionOrigin::Global(global),
        )
    } else {
        (Vec::new(), VersionOrigin::Default)
    }
}

/// Installed version names (`pyenv versions --bare --skip-envs`): the entries of
/// `versions/`, without virtualenv links into `versions/*/envs/*`.
fn installed_versions(root: &Path) -> Vec<String> {
    let versions = root.join("versions");
    let Ok(rd) = std::fs::read_dir(&versions) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter(|e| {
            let target = std::fs::read_link(e.path()).ok();
            !target.is_some_and(|t| {
                let t = if t.is_absolute() { t } else { versions.join(t) };
                t.parent()
                    .is_some_and(|p| p.file_name() == Some(OsStr::new("envs")))
            })
        })
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

/// `sort -n` on one field: its leading digits, 0 when there are none.
fn leading_number(field: &str) -> u64 {
    let digits: String = field.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// The newest installed version matching `prefix` (`pyenv-latest`): names starting with
/// `prefix.` or `prefix-`, without `-dev`, `-src`, `-latest`, pre-releases (`a1`, `b2`,
/// `rc1`) and free-threaded `…t` builds unless the prefix ends in `t`; sorted on the first
/// dot-separated field, then fields 2–4 numerically, newest first.
pub fn latest_installed(root: &Path, prefix: &str) -> Option<String> {
    let installed = installed_versions(root);
    if installed.iter().any(|v| v == prefix) {
        return Some(prefix.to_string());
    }
    let (prefix, suffix) = match prefix.strip_suffix('t') {
        Some(p) if p.ends_with(|c: char| c.is_ascii_digit()) => (p, "t"),
        _ => (prefix, ""),
    };
    let prerelease = |v: &str| {
        let tail = v.trim_end_matches(|c: char| c.is_ascii_digit());
        tail.len() < v.len() && (tail.ends_with('a') || tail.ends_with('b') || tail.ends_with("rc"))
    };
    let free_threaded = |v: &str| {
        v.strip_suffix('t')
            .is_some_and(|r| r.ends_with(|c: char| c.is_ascii_digit()))
    };
    let key = |v: &str| -> (String, [u64; 3]) {
        // pyenv's awk turns `pypy3.10-7.3.12` into `pypy3.10.7.3.12` before sorting.
        let alnum_dash = v
            .find('-')
            .filter(|&i| i > 0 && v[..i].chars().all(|c| c.is_ascii_alphanumeric()));
        let v = match alnum_dash {
            Some(i) => format!("{}.{}", &v[..i], &v[i + 1..]),
            None => v.to_string(),
        };
        let mut fields = v.split('.');
        let first = fields.next().unwrap_or("").to_string();
        let mut nums = [0u64; 3];
        for (slot, f) in nums.iter_mut().zip(fields) {
            *slot = leading_number(f);
        }
        (first, nums)
    };
    installed
        .into_iter()
        .filter(|v| {
            v.strip_prefix(prefix)
                .is_some_and(|r| r.starts_with('.') || r.starts_with('-'))
                && v.ends_with(suffix)
        })
        .filter(|v| !v.ends_with("-dev") && !v.ends_with("-src") && !v.ends_with("-latest"))
        .filter(|v| !prerelease(v))
        .filter(|v| !suffix.is_empty() || !free_threaded(v))
        .max_by(|a, b| key(a).cmp(&key(b)))
}

/// How one requested name resolves to an installed version (`pyenv-version-name -f`).
fn installed_name(root: &Path, requested: &str) -> Option<String> {
    let versions = root.join("versions");
    if versions.join(requested).is_dir() {
        return Some(requested.to_string());
    }
    let normalised = requested.strip_prefix("python-").unwrap_or(requested);
    if versions.join(normalised).is_dir() {
        return Some(normalised.to_string());
    }
    latest_installed(root, requested).or_else(|| latest_installed(root, normalised))
}

/// `system`: the first `program` on PATH once the shims directories are removed
/// (pyenv-which `remove_from_path "${PYENV_ROOT}/shims"`, plus the directory the shim was run
/// from, which pyenv passes as `_PYENV_SHIM_PATH`). pyenv compares the strings; kip also
/// skips other pyenv shims, so an alias of the shims directory cannot resolve to itself.
fn system_command(
    env: &EnvVars,
    cwd: &Path,
    root: &Path,
    shim_dir: &Path,
    program: &str,
) -> Option<PathBuf> {
    let home = env.home();
    let shims = root.join("shims");
    env.path_dirs()
        .into_iter()
        .map(|d| match (d.strip_prefix("~"), &home) {
            (Ok(rest), Some(h)) => h.join(rest),
            _ => d,
        })
        .filter(|d| d != &shims && d != shim_dir)
        .map(|d| if d.is_absolute() { d } else { cwd.join(d) })
        .map(|d| d.join(program))
        .find(|p| is_executable_file(p) && shim_root(p).is_none())
}

/// The installed versions whose `bin/` has `program` (pyenv-whence).
fn whence(root: &Path, program: &str) -> Vec<String> {
    installed_versions(root)
        .into_iter()
        .filter(|v| is_executable_file(&root.join("versions").join(v).join("bin").join(program)))
        .collect()
}

/// What the shim at `shim` runs as `program`, for kip's own environment and cwd.
pub fn resolve_shim(ctx: &Context, shim: &Path, program: &str) -> ShimResolution {
    resolve_shim_in(ctx, &ctx.vars, shim, program)
}

/// The directory `pyenv exec` puts first on PATH when a shim runs a program of an installed
/// version (`$PYENV_ROOT/versions/<v>/bin`; nothing for `system`): a `jupyter` started
/// through a shim runs with it, and so do its kernels' `!pip` and `!python`.
pub fn exec_bin(r: &ShimResolution) -> Option<PathBuf> {
    let v = r.chosen.as_deref().filter(|v| *v != "system")?;
    let bin = r.root.join("versions").join(v).join("bin");
    bin.is_dir().then_some(bin)
}

/// [`resolve_shim`] for a process whose environment is `env` (its `PYENV_VERSION`,
/// `PYENV_DIR` and `PATH`), in `ctx`'s working directory.
#[allow(clippy::too_many_lines)] // predates the lint; split when next changed
pub fn resolve_shim_in(ctx: &Context, env: &EnvVars, shim: &Path, program: &str) -> ShimResolution {
    let shim_dir = shim.parent().unwrap_or(Path::new("/")).to_path_buf();
    let root = shim_root(shim)
        .unwrap_or_else(|| shim_dir.parent().unwrap_or(Path::new("/")).to_path_buf());
    let cwd = ctx.cwd.as_path();
    let (requested, origin) = selection(env, cwd, &root);
    let from = origin.describe();

    // pyenv-which: the selected versions in order, then `system`.
    let mut not_installed = Vec::new();
    let mut lacking = Vec::new();
    let mut found: Option<(String, PathBuf, String)> = None;
    let selected: Vec<&str> = if requested.is_empty() {
        vec!["system"]
    } else {
        requested.iter().map(String::as_str).collect()
    };
    for req in &selected {
        if *req == "system" {
            if let Some(p) = system_command(env, cwd, &root, &shim_dir, program) {
                let how =
                    format!("{from} selects system: the next `{program}` on PATH after the shims");
                found = Some(("system".into(), p, how));
                break;
            }
            lacking.push("system".to_string());
            continue;
        }
        let Some(v) = installed_name(&root, req) else {
            not_installed.push(req.to_string());
            continue;
        };
        let exe = root.join("versions").join(&v).join("bin").join(program);
        if is_executable_file(&exe) {
            let how = if v == *req {
                format!("{from} selects {v}")
            } else if req.strip_prefix("python-") == Some(v.as_str()) {
                format!("{from} selects {req}, which is {v}")
            } else {
                format!("{from} selects {req}: the newest installed match is {v}")
            };
            found = Some((v, exe, how));
            break;
        }
        lacking.push(v);
    }
    let mut caveats = Vec::new();
    if !not_installed.is_empty() {
        caveats.push(format!(
            "{} not installed",
            quoted_list(&not_installed, "is", "are")
        ));
    }
    if !lacking.is_empty() && found.is_some() {
        caveats.push(format!(
            "{} no `{program}`",
            quoted_list(&lacking, "has", "have")
        ));
    }
    let fallback_tried = !selected.contains(&"system");
    if found.is_none() && fallback_tried {
        // pyenv-which always tries `system` after the selected versions.
        if let Some(p) = system_command(env, cwd, &root, &shim_dir, program) {
            let how = format!(
                "{from} selects {}, but {}; pyenv falls back to the system `{program}` on PATH",
                requested.join(":"),
                caveats_or(&caveats, &lacking, program)
            );
            caveats.clear();
            found = Some(("system".into(), p, how));
        }
    }
    match found {
        Some((chosen, exe, how)) => {
            let mut why = format!("{how}: {}", exe.display());
            if !caveats.is_empty() {
                why.push_str(&format!(" ({})", caveats.join("; ")));
            }
            ShimResolution {
                root,
                program: program.to_string(),
                requested,
                origin,
                chosen: Some(chosen),
                executable: Some(exe),
                not_installed,
                available_in: Vec::new(),
                why,
            }
        }
        None => {
            let available_in = whence(&root, program);
            let mut why = format!(
                "{from} selects {}, but {}, and there is no other `{program}` on PATH: the shim fails with \"pyenv: {program}: command not found\"",
                if requested.is_empty() { "system".to_string() } else { requested.join(":") },
                caveats_or(&caveats, &lacking, program)
            );
            if !available_in.is_empty() {
                why.push_str(&format!(
                    " (`{program}` exists in {})",
                    available_in.join(", ")
                ));
            }
            ShimResolution {
                root,
                program: program.to_string(),
                requested,
                origin,
                chosen: None,
                executable: None,
                not_installed,
                available_in,
                why,
            }
        }
    }
}

fn quoted_list(names: &[String], one: &str, many: &str) -> String {
    let verb = if names.len() == 1 { one } else { many };
    format!("{} {verb}", names.join(", "))
}

fn caveats_or(caveats: &[String], lacking: &[String], program: &str) -> String {
    let mut parts = caveats.to_vec();
    if !lacking.is_empty() && !parts.iter().any(|c| c.contains(&format!("no `{program}`"))) {
        parts.push(format!(
            "{} no `{program}`",
            quoted_list(lacking, "has", "have")
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Os;
    use std::os::unix::fs::PermissionsExt;

    struct Fixture {
        dir: tempfile::TempDir,
        root: PathBuf,
        shim: PathBuf,
        sys: PathBuf,
    }

    fn exe(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"\x7fELF").unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A pyenv root with real-form shims (the text pyenv 2.6 writes) and a "system" dir.
    fn fixture(versions: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("pyenv");
        for v in versions {
            exe(&root.join("versions").join(v).join("bin/python3"));
        }
        let shims = root.join("shims");
        std::fs::create_dir_all(&shims).unwrap();
        let shim = shims.join("python3");
        let r = root.display();
        std::fs::write(
            &shim,
            format!(
                "#!/usr/bin/env bash\nset -e\n[ -n \"$PYENV_DEBUG\" ] && set -x\n\nprogram=\"${{0##*/}}\"\n\nexport PYENV_ROOT=\"{r}\"\nSHIM_PATH=${{0%/*}}\nif [[ $SHIM_PATH != \"{r}/shims\" ]]; then\n  export _PYENV_SHIM_PATH=\"$SHIM_PATH\"\nfi\nexec \"{r}/libexec/pyenv\" exec \"$program\" \"$@\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        let sys = dir.path().join("usr/bin");
        exe(&sys.join("python3"));
        std::fs::create_dir_all(dir.path().join("work/sub")).unwrap();
        Fixture {
            dir,
            root,
            shim,
            sys,
        }
    }

    impl Fixture {
        fn resolve(&self, vars: &[(&str, &str)]) -> ShimResolution {
            self.resolve_in(vars, &self.dir.path().join("work/sub"))
        }
        fn resolve_in(&self, vars: &[(&str, &str)], cwd: &Path) -> ShimResolution {
            let path = format!(
                "{}:{}",
                self.root.join("shims").display(),
                self.sys.display()
            );
            let mut pairs: Vec<(String, String)> = vec![("PATH".into(), path)];
            pairs.extend(vars.iter().map(|(a, b)| (a.to_string(), b.to_string())));
            let ctx = Context::new(Os::Linux, EnvVars::from_pairs(pairs), cwd.to_path_buf());
            resolve_shim(&ctx, &self.shim, "python3")
        }
        fn global(&self, text: &str) {
            std::fs::write(self.root.join("version"), text).unwrap();
        }
        fn local(&self, rel: &str, text: &str) -> PathBuf {
            let f = self.dir.path().join(rel).join(".python-version");
            std::fs::write(&f, text).unwrap();
            f
        }
        fn version_exe(&self, v: &str) -> PathBuf {
            self.root.join("versions").join(v).join("bin/python3")
        }
    }

    #[test]
    fn shim_root_reads_the_hard_coded_root() {
        let f = fixture(&[]);
        assert_eq!(shim_root(&f.shim), Some(f.root.clone()));
        // The hard-coded root wins even when the shim was copied elsewhere.
        let copy = f.dir.path().join("copy");
        std::fs::copy(&f.shim, &copy).unwrap();
        assert_eq!(shim_root(&copy), Some(f.root.clone()));
        // Not shims: a binary, a plain script, a missing file.
        assert_eq!(shim_root(&f.sys.join("python3")), None);
        let script = f.dir.path().join("script");
        std::fs::write(&script, "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
        assert_eq!(shim_root(&script), None);
        assert_eq!(shim_root(&f.dir.path().join("missing")), None);
        // Trailing slash stripped, as pyenv does.
        let odd = f.dir.path().join("odd");
        std::fs::write(
            &odd,
            "#!/usr/bin/env bash\nexport PYENV_ROOT=\"/x/root/\"\nexec \"/x/root/libexec/pyenv\" exec \"$program\" \"$@\"\n",
        )
        .unwrap();
        assert_eq!(shim_root(&odd), Some(PathBuf::from("/x/root")));
    }

    #[test]
    fn no_version_file_means_system() {
        let f = fixture(&["3.12.1"]);
        let r = f.resolve(&[]);
        assert_eq!(r.origin, VersionOrigin::Default);
        assert_eq!(r.chosen.as_deref(), Some("system"));
        assert_eq!(r.executable, Some(f.sys.join("python3")));
        assert!(r.why.contains("selects system"), "{}", r.why);
    }

    #[test]
    fn global_file() {
        let f = fixture(&["3.12.1"]);
        f.global("3.12.1\n");
        let r = f.resolve(&[]);
        assert_eq!(r.origin, VersionOrigin::Global(f.root.join("version")));
        assert_eq!(r.chosen.as_deref(), Some("3.12.1"));
        assert_eq!(r.executable, Some(f.version_exe("3.12.1")));
    }

    #[test]
    fn nearest_local_file_wins_over_global() {
        let f = fixture(&["3.11.7", "3.12.1"]);
        f.global("3.12.1\n");
        let file = f.local("work", "3.11.7\n");
        let r = f.resolve(&[]);
        assert_eq!(r.origin, VersionOrigin::File(file));
        assert_eq!(r.chosen.as_deref(), Some("3.11.7"));
        let nearer = f.local("work/sub", "3.12.1\n");
        assert_eq!(f.resolve(&[]).origin, VersionOrigin::File(nearer));
    }

    #[test]
    fn pyenv_dir_is_searched_before_the_cwd() {
        let f = fixture(&["3.11.7", "3.12.1"]);
        f.local("work/sub", "3.12.1\n");
        let other = f.dir.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        let file = f.local("other", "3.11.7\n");
        let r = f.resolve(&[("PYENV_DIR", other.to_str().unwrap())]);
        assert_eq!(r.origin, VersionOrigin::File(file));
        assert_eq!(r.chosen.as_deref(), Some("3.11.7"));
    }

    #[test]
    fn pyenv_version_beats_files_and_splits_on_colons() {
        let f = fixture(&["3.11.7", "3.12.1"]);
        f.local("work", "3.11.7\n");
        let r = f.resolve(&[("PYENV_VERSION", "3.12.1")]);
        assert_eq!(r.origin, VersionOrigin::Env("3.12.1".into()));
        assert_eq!(r.chosen.as_deref(), Some("3.12.1"));
        let r = f.resolve(&[("PYENV_VERSION", "3.99:3.11.7")]);
        assert_eq!(r.requested, vec!["3.99", "3.11.7"]);
        assert_eq!(r.chosen.as_deref(), Some("3.11.7"));
        assert_eq!(r.not_installed, vec!["3.99"]);
        assert!(r.why.contains("3.99 is not installed"), "{}", r.why);
        // Empty PYENV_VERSION is unset.
        let r = f.resolve(&[("PYENV_VERSION", "")]);
        assert!(matches!(r.origin, VersionOrigin::File(_)));
    }

    #[test]
    fn version_file_first_word_per_line_comments_and_multi_version() {
        let f = fixture(&["3.11.7", "3.12.1"]);
        // Only the first word of a line counts (pyenv-version-file-read `read version _`).
        f.local("work", "# pinned\n\n  3.12.1 3.11.7 \r\n3.11.7\n");
        let r = f.resolve(&[]);
        assert_eq!(r.requested, vec!["3.12.1", "3.11.7"]);
        assert_eq!(r.chosen.as_deref(), Some("3.12.1"));
        // The first version that has the program wins.
        std::fs::remove_file(f.version_exe("3.12.1")).unwrap();
        let r = f.resolve(&[]);
        assert_eq!(r.chosen.as_deref(), Some("3.11.7"));
        assert!(r.why.contains("3.12.1 has no `python3`"), "{}", r.why);
    }

    #[test]
    fn empty_or_comment_only_local_file_selects_system() {
        let f = fixture(&["3.12.1"]);
        f.global("3.12.1\n");
        for text in ["", "# nothing here\n\n"] {
            f.local("work", text);
            let r = f.resolve(&[]);
            assert!(matches!(r.origin, VersionOrigin::File(_)));
            assert!(r.requested.is_empty());
            assert_eq!(r.chosen.as_deref(), Some("system"), "{text:?}");
            assert_eq!(r.executable, Some(f.sys.join("python3")));
        }
    }

    #[test]
    fn system_is_the_next_match_after_the_shims() {
        let f = fixture(&["3.12.1"]);
        let r = f.resolve(&[("PYENV_VERSION", "system")]);
        assert_eq!(r.chosen.as_deref(), Some("system"));
        assert_eq!(r.executable, Some(f.sys.join("python3")));
        // With nothing after the shims, the shim fails.
        let ctx = Context::new(
            Os::Linux,
            EnvVars::from_pairs([
                ("PATH", f.root.join("shims").display().to_string()),
                ("PYENV_VERSION", "system".into()),
            ]),
            f.dir.path().to_path_buf(),
        );
        let r = resolve_shim(&ctx, &f.shim, "python3");
        assert_eq!(r.executable, None);
        assert_eq!(r.available_in, vec!["3.12.1"]);
        assert!(r.why.contains("command not found"), "{}", r.why);
    }

    #[test]
    fn prefix_resolves_to_newest_installed_match() {
        let f = fixture(&[
            "3.11.2",
            "3.11.10",
            "3.11.9",
            "3.12.1",
            "3.11.11rc1",
            "3.11-dev",
            "3.11.12t",
        ]);
        f.local("work", "3.11\n");
        let r = f.resolve(&[]);
        assert_eq!(r.chosen.as_deref(), Some("3.11.10"), "{}", r.why);
        assert_eq!(r.executable, Some(f.version_exe("3.11.10")));
        assert!(
            r.why.contains("newest installed match is 3.11.10"),
            "{}",
            r.why
        );
        assert_eq!(latest_installed(&f.root, "3").as_deref(), Some("3.12.1"));
        assert_eq!(
            latest_installed(&f.root, "3.11.12t").as_deref(),
            Some("3.11.12t")
        );
        assert_eq!(
            latest_installed(&f.root, "3.1"),
            None,
            "3.1 is not a prefix of 3.11"
        );
    }

    #[test]
    fn python_dash_prefix_is_stripped() {
        let f = fixture(&["3.12.1"]);
        assert_eq!(
            f.resolve(&[("PYENV_VERSION", "python-3.12.1")])
                .chosen
                .as_deref(),
            Some("3.12.1")
        );
        assert_eq!(
            f.resolve(&[("PYENV_VERSION", "python-3.12")])
                .chosen
                .as_deref(),
            Some("3.12.1")
        );
    }

    #[test]
    fn not_installed_falls_back_to_system_as_pyenv_which_does() {
        let f = fixture(&["3.12.1"]);
        let r = f.resolve(&[("PYENV_VERSION", "3.9")]);
        assert_eq!(r.not_installed, vec!["3.9"]);
        assert_eq!(r.chosen.as_deref(), Some("system"));
        assert_eq!(r.executable, Some(f.sys.join("python3")));
        assert!(r.why.contains("3.9 is not installed"), "{}", r.why);
        assert!(r.why.contains("falls back to the system"), "{}", r.why);
        // And without a system command, nothing runs.
        let ctx = Context::new(
            Os::Linux,
            EnvVars::from_pairs([("PATH", "/nonexistent"), ("PYENV_VERSION", "3.9")]),
            f.dir.path().to_path_buf(),
        );
        let r = resolve_shim(&ctx, &f.shim, "python3");
        assert_eq!(r.executable, None);
        assert_eq!(r.chosen, None);
        assert!(r.why.contains("3.9 is not installed"), "{}", r.why);
    }

    #[test]
    fn unsafe_names_in_version_files_are_refused() {
        let f = fixture(&["3.12.1"]);
        f.local("work", "../../usr\n3.12.1\n");
        let r = f.resolve(&[]);
        assert_eq!(r.requested, vec!["3.12.1"]);
    }

    #[test]
    fn unreadable_and_binary_inputs_do_not_panic() {
        let f = fixture(&["3.12.1"]);
        f.local("work", "\u{0}\u{fffd}\n");
        let _ = f.resolve(&[]);
        std::fs::write(f.root.join("version"), b"\xff\xfe\n").unwrap();
        let _ = f.resolve_in(&[], Path::new("/"));
        let ctx = Context::new(Os::Linux, EnvVars::default(), PathBuf::from("/"));
        let r = resolve_shim(&ctx, Path::new("/nonexistent/shims/python3"), "python3");
        assert_eq!(r.executable, None);
    }
}
