//! `sys.path` and installed distributions, read from disk the way CPython's `site.py` and
//! `importlib` would see them, so "is X importable here" and "which distribution provides X"
//! need no interpreter.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::process;
use crate::python::dist_name::normalize_dist_name;
use crate::python::environment::Environment;

/// The directories `sys.path` holds beyond the stdlib, in `site.py`'s order:
/// `PYTHONPATH` entries; then the user site (when enabled) followed by the paths its `.pth`
/// files add; then each site-packages dir followed by its `.pth` paths (`site.main`:
/// `addusersitepackages` before `addsitepackages`; `addsitedir` appends the dir, then
/// processes its `.pth` files). Only existing directories, each once.
pub fn sys_path_dirs(ctx: &Context, env: &Environment) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let push = |d: PathBuf, dirs: &mut Vec<PathBuf>| {
        if d.is_dir() && !dirs.contains(&d) {
            dirs.push(d);
        }
    };
    if let Some(pp) = ctx.vars.get_nonempty("PYTHONPATH") {
        for d in std::env::split_paths(pp) {
            if d.as_os_str().is_empty() {
                continue;
            }
            push(normpath(&ctx.cwd, &d), &mut dirs);
        }
    }
    let mut sites: Vec<&PathBuf> = Vec::new();
    if env.user_site.enabled {
        sites.extend(env.user_site.path.as_ref());
    }
    sites.extend(env.site_packages.iter());
    for site in sites {
        if !site.is_dir() {
            continue;
        }
        push(site.clone(), &mut dirs);
        for line_dir in pth_dirs(site) {
            push(line_dir, &mut dirs);
        }
        // uv's layered `uv run --with` env: `site.addsitedir` of the `--with` env and the
        // project's env (each with its own `.pth` files).
        for added in overlay_dirs(site) {
            push(added.clone(), &mut dirs);
            for line_dir in pth_dirs(&added) {
                push(line_dir, &mut dirs);
            }
        }
    }
    dirs
}

/// The directories uv's `_uv_ephemeral_overlay.pth` adds with `site.addsitedir(...)`: the
/// byte-string literals of its `import` line, read without running it (kip never runs a
/// `.pth`'s code). Only that file of uv's is read this way.
pub fn overlay_dirs(site: &Path) -> Vec<PathBuf> {
    let Ok(bytes) = crate::files::read(site.join("_uv_ephemeral_overlay.pth")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest: &[u8] = &bytes;
    while let Some(i) = find(rest, b"fsdecode(b\"") {
        rest = &rest[i + b"fsdecode(b\"".len()..];
        let (lit, used) = bytes_literal(rest);
        rest = &rest[used..];
        use std::os::unix::ffi::OsStrExt;
        let p = PathBuf::from(std::ffi::OsStr::from_bytes(&lit));
        if p.is_absolute() {
            out.push(p);
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A Python `b"…"` literal's bytes (after the opening quote) and how much was consumed:
/// `\\`, `\"`, `\'`, `\n`, `\t`, `\r` and `\xNN` escapes, as `repr(bytes)` writes them.
fn bytes_literal(s: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => return (out, i + 1),
            b'\\' if i + 1 < s.len() => {
                let c = s[i + 1];
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'x' if i + 2 <= s.len() => {
                        let hex = std::str::from_utf8(&s[i..i + 2]).ok();
                        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                            Some(b) => out.push(b),
                            None => out.extend_from_slice(&s[i..i + 2]),
                        }
                        i += 2;
                    }
                    other => out.push(other),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    (out, s.len())
}

/// The directories named by the `*.pth` files in `site`, as `site.addpackage` reads them:
/// files in sorted name order (hidden `.`-files skipped, as 3.13+ does), `#` comments and
/// blank lines skipped, `import` lines skipped (they run code; kip never does), each line
/// made absolute against the site dir and normalized (`site.makepath`), only existing
/// directories kept.
pub fn pth_dirs(site: &Path) -> Vec<PathBuf> {
    pth_files(site)
        .iter()
        .flat_map(|pth| pth_file_dirs(site, pth))
        .collect()
}

/// The `*.pth` files of `site` in the order `site.addsitedir` reads them (sorted names,
/// hidden `.`-files skipped).
pub fn pth_files(site: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(site) else {
        return Vec::new();
    };
    let mut pths: Vec<(Vec<u8>, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            use std::os::unix::ffi::OsStrExt;
            let name = e.file_name();
            let bytes = name.as_bytes();
            (bytes.ends_with(b".pth") && !bytes.starts_with(b"."))
                .then(|| (bytes.to_vec(), e.path()))
        })
        .collect();
    // site.py sorts names as str; for UTF-8 that is byte order.
    pths.sort();
    pths.into_iter().map(|(_, p)| p).collect()
}

/// The existing directories one `.pth` file in `site` names (see [`pth_dirs`]).
pub fn pth_file_dirs(site: &Path, pth: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(bytes) = crate::files::read(pth) else {
        return out;
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    for line in bytes.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = trim_end_ascii(line);
        if line.is_empty()
            || line.iter().all(u8::is_ascii_whitespace)
            || line.starts_with(b"#")
            || line.starts_with(b"import ")
            || line.starts_with(b"import\t")
        {
            continue;
        }
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(line));
        let dir = normpath(site, p);
        if dir.is_dir() {
            out.push(dir);
        }
    }
    out
}

/// `os.path.abspath(os.path.join(base, p))`, which `site.makepath` applies to every entry:
/// lexical, so `..` is removed without resolving symlinks.
fn normpath(base: &Path, p: &Path) -> PathBuf {
    use std::path::Component;
    let joined = base.join(p);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn trim_end_ascii(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Is `name` a module file for `module`: `module.py`, `module.pyc` (sourceless), or an
/// extension `module.so`, `module.<tag>.so`, `module.pyd`, `module.<tag>.pyd`?
fn is_module_file(name: &str, module: &str) -> bool {
    let Some(rest) = name.strip_prefix(module) else {
        return false;
    };
    if rest == ".py" || rest == ".pyc" {
        return true;
    }
    let Some(rest) = rest.strip_prefix('.') else {
        return false;
    };
    (rest == "so" || rest == "pyd" || rest.ends_with(".so") || rest.ends_with(".pyd"))
        && !rest.contains('/')
}

/// Where `import module` (a top-level name) would be found in `dirs`, as `PathFinder` /
/// `FileFinder` search: in each dir, a regular package (`module/__init__.*`) or a module
/// file wins at once; a bare directory `module/` is a namespace portion, which only wins when
/// no later dir has a regular package or module (then the first portion is returned).
/// The one importability rule (why, doctor, install --missing and the proof agree on it):
/// the directories a kernel of `env` searches, in order — `first` (the notebook's folder, the
/// kernel's cwd; else the shell's cwd), then `PYTHONPATH`, then the env's own `sys.path`.
/// The standard library sits between `PYTHONPATH` and site-packages ([`stdlib_wins`]).
pub fn import_dirs(ctx: &Context, env: &Environment, first: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![first.to_path_buf()];
    for d in sys_path_dirs(ctx, env) {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

/// A directory without `__init__` is a namespace package portion: it provides the name only
/// when no directory on the path holds a regular package or module of that name.
pub fn is_namespace_dir(p: &Path) -> bool {
    p.is_dir()
        && !std::fs::read_dir(p).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| is_module_file(n, "__init__"))
            })
        })
}

/// The version a rule about the standard library needs: the env's, else what its
/// interpreter reports (never an assumed one).
pub fn env_version(
    prober: &crate::python::probe::Prober,
    env: &Environment,
) -> Option<crate::python::version::PythonVersion> {
    env.version
        .or_else(|| prober.query(&env.interpreter).ok().map(|i| i.version))
}

/// Does the standard library's `module` win over `found` (which came from `dir`)? Only the
/// first directory (cwd) and `PYTHONPATH` come before the standard library.
pub fn stdlib_wins(ctx: &Context, dir: &Path, first: &Path) -> bool {
    let pythonpath: Vec<PathBuf> = ctx
        .vars
        .get_nonempty("PYTHONPATH")
        .map(|p| {
            std::env::split_paths(p)
                .map(|d| normpath(&ctx.cwd, &d))
                .collect()
        })
        .unwrap_or_default();
    dir != first && !pythonpath.iter().any(|p| p == dir)
}

/// Valid on Python 2.7 and 3.6+: which of argv's top-level names `find_spec` finds.
const FIND_SPEC: &str = r#"
import sys, json
if sys.path and sys.path[0] in ('', '.'):
    sys.path.pop(0)
found = {}
for m in sys.argv[1:]:
    try:
        import importlib.util as u
        found[m] = u.find_spec(m) is not None
    except ImportError:
        import imp
        try:
            imp.find_module(m)
            found[m] = True
        except ImportError:
            found[m] = False
    except Exception:
        found[m] = False
sys.stdout.write(json.dumps(found))
"#;

/// The kernel's own interpreter's answer where disk cannot decide: which of `modules`
/// `find_spec` finds, run in `cwd` (the kernel's) with the invocation's variables. Runs no
/// package code beyond finders.
pub fn interpreter_finds(
    ctx: &Context,
    python: &Path,
    modules: &[String],
    cwd: &Path,
) -> Vec<String> {
    if modules.is_empty() {
        return Vec::new();
    }
    let mut cmd = std::process::Command::new(python);
    cmd.arg("-c")
        .arg(FIND_SPEC)
        .args(modules)
        .current_dir(cwd)
        .env_clear()
        .envs(ctx.vars.to_vec());
    let Ok(out) = process::run_captured(cmd, process::probe_timeout(&ctx.vars)) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return Vec::new();
    };
    modules
        .iter()
        .filter(|m| v.get(m.as_str()).and_then(|b| b.as_bool()) == Some(true))
        .cloned()
        .collect()
}

pub fn find_top_level(dirs: &[PathBuf], module: &str) -> Option<PathBuf> {
    if module.is_empty() || module.contains(['.', '/']) {
        return None;
    }
    let mut namespace: Option<PathBuf> = None;
    for d in dirs {
        let pkg = d.join(module);
        let is_dir = pkg.is_dir();
        if is_dir {
            let regular = std::fs::read_dir(&pkg).is_ok_and(|rd| {
                rd.flatten().any(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| is_module_file(n, "__init__"))
                })
            });
            if regular {
                return Some(pkg);
            }
        }
        if d.join(format!("{module}.py")).is_file() {
            return Some(d.join(format!("{module}.py")));
        }
        if let Ok(rd) = std::fs::read_dir(d) {
            let mut hits: Vec<PathBuf> = rd
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| is_module_file(n, module))
                })
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            hits.sort();
            if let Some(h) = hits.into_iter().next() {
                return Some(h);
            }
        }
        if is_dir && namespace.is_none() {
            namespace = Some(pkg);
        }
    }
    namespace
}

/// One installed distribution (`*.dist-info` / `*.egg-info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    /// As its metadata spells it (`PyYAML`).
    pub name: String,
    /// PEP 503 (`pyyaml`).
    pub normalized_name: String,
    pub version: String,
    /// `INSTALLER`: `pip`, `uv`, `conda`, `uv-pixi`, …
    pub installer: Option<String>,
    /// Top-level import names: `top_level.txt`, else derived from `RECORD` as
    /// `importlib.metadata.packages_distributions` does.
    pub top_level: Vec<String>,
    pub dist_info: PathBuf,
}

/// A header of an email-style METADATA/PKG-INFO file (headers end at the first blank line).
fn metadata_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().to_string())
        })
}

/// The first CSV field of a RECORD line (quoted fields may contain commas and `""`).
fn first_csv_field(line: &str) -> String {
    let Some(rest) = line.strip_prefix('"') else {
        return line.split(',').next().unwrap_or("").to_string();
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                out.push('"');
                chars.next();
            } else {
                break;
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Top-level names from RECORD paths (relative to site-packages), as `importlib.metadata`'s
/// `_top_level_inferred`: the first component of a nested path, the module name of a top-level
/// `.py`/`.pyc`/extension file; names containing `.` dropped (dist-info dirs, `..`). kip also
/// drops `__pycache__`, which importlib would report for single-module distributions.
pub fn top_level_from_record(record: &str) -> Vec<String> {
    top_level_from_paths(record.lines().map(first_csv_field))
}

fn top_level_from_paths(paths: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for path in paths {
        let path = path.trim().replace('\\', "/");
        if path.is_empty() || path.starts_with('/') {
            continue;
        }
        let mut parts = path.split('/');
        let first = parts.next().unwrap_or("");
        let name = if parts.next().is_some() {
            first.to_string()
        } else {
            let module_ext = [".py", ".pyc", ".so", ".pyd"]
                .iter()
                .any(|ext| first.ends_with(ext));
            match first.split_once('.') {
                Some((stem, _)) if module_ext => stem.to_string(),
                _ => first.to_string(),
            }
        };
        if name.is_empty() || name.contains('.') || name == "__pycache__" {
            continue;
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// `installed-files.txt` lists paths relative to the `.egg-info` dir; make them relative to
/// site-packages (importlib `_read_files_egginfo_installed`).
fn egg_installed_files(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|l| {
        let l = l.trim();
        l.strip_prefix("../").map(str::to_string)
    })
}

fn read_text(p: &Path) -> Option<String> {
    crate::files::read(p)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The metadata directories in one site-packages directory, named by their file names alone
/// (`PyYAML-6.0.dist-info` → `pyyaml`): one `read_dir`, no file read, for questions that need
/// only names. A dist-info name cannot contain `-` (the wheel spec escapes it to `_`), so the
/// name ends at the first `-`.
pub fn metadata_dirs(site_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(site_dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let n = crate::pyjson::os_text(e.file_name());
            let stem = n
                .strip_suffix(".dist-info")
                .or_else(|| n.strip_suffix(".egg-info"))?;
            let name = stem.split_once('-').map_or(stem, |(name, _)| name);
            Some((normalize_dist_name(name), e.path()))
        })
        .collect()
}

/// Every distribution installed in one site-packages directory, sorted by normalized name.
pub fn installed_distributions(site_dir: &Path) -> Vec<Distribution> {
    let Ok(rd) = std::fs::read_dir(site_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        // A non-UTF-8 directory name is still a distribution to importlib.metadata (its
        // METADATA names it); skipping it would hide it from `kip list`.
        let file_name = crate::pyjson::os_text(e.file_name());
        let n = file_name.as_str();
        let (stem, is_dist) = if let Some(s) = n.strip_suffix(".dist-info") {
            (s, true)
        } else if let Some(s) = n.strip_suffix(".egg-info") {
            (s, false)
        } else {
            continue;
        };
        // An egg-info may be a single PKG-INFO file (distutils) rather than a directory.
        let meta = if p.is_dir() {
            read_text(&p.join(if is_dist { "METADATA" } else { "PKG-INFO" }))
        } else if !is_dist {
            read_text(&p)
        } else {
            None
        }
        .unwrap_or_default();
        let (fname, fver) = stem.split_once('-').unwrap_or((stem, ""));
        let name = metadata_field(&meta, "Name").unwrap_or_else(|| fname.to_string());
        let version = metadata_field(&meta, "Version")
            .unwrap_or_else(|| fver.split('-').next().unwrap_or("").to_string());
        let installer = read_text(&p.join("INSTALLER"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let top_level = match read_text(&p.join("top_level.txt")) {
            Some(t) => {
                let mut names: Vec<String> = Vec::new();
                for l in t.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    let n = l.split('/').next().unwrap_or(l).to_string();
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
                names
            }
            None if is_dist => read_text(&p.join("RECORD"))
                .map(|r| top_level_from_record(&r))
                .unwrap_or_default(),
            None => read_text(&p.join("installed-files.txt"))
                .map(|t| top_level_from_paths(egg_installed_files(&t)))
                .unwrap_or_default(),
        };
        out.push(Distribution {
            normalized_name: normalize_dist_name(&name),
            name,
            version,
            installer,
            top_level,
            dist_info: p,
        });
    }
    out.sort_by(|a, b| {
        a.normalized_name
            .cmp(&b.normalized_name)
            .then_with(|| a.dist_info.cmp(&b.dist_info))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envvars::EnvVars;
    use crate::platform::Os;
    use crate::python::environment::{EnvKind, UserSite};

    fn env(site: Vec<PathBuf>, user: Option<PathBuf>, enabled: bool) -> Environment {
        Environment {
            version: None,
            site_packages: site,
            user_site: UserSite {
                enabled,
                path: user,
            },
            has_pip: false,
            has_ipykernel: false,
            ..Environment::for_tests(EnvKind::Venv, "/p")
        }
    }

    #[test]
    fn record_derivation_matches_packages_distributions() {
        let rec = "bs4/__init__.py,sha256=x,1\nbs4/element.py,,\nbeautifulsoup4-4.12.dist-info/METADATA,,\nsix.py,,\n__pycache__/six.cpython-311.pyc,,\n_yaml/__init__.py,,\n../../bin/x,,\nfoo.cpython-311-x86_64-linux-gnu.so,,\n\"we,ird/__init__.py\",,\n";
        assert_eq!(
            top_level_from_record(rec),
            vec!["bs4", "six", "_yaml", "foo", "we,ird"]
        );
        assert_eq!(
            top_level_from_paths(egg_installed_files(
                "../attr/__init__.py\nPKG-INFO\n../attrs-1.0.egg-info/x\n"
            )),
            vec!["attr"]
        );
    }

    #[test]
    fn pth_lines_in_sorted_order_and_sys_path_order() {
        let d = tempfile::tempdir().unwrap();
        let site = d.path().join("site");
        let user = d.path().join("user");
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        for x in [&site, &user, &a, &b, &c] {
            std::fs::create_dir_all(x).unwrap();
        }
        std::fs::write(site.join("z.pth"), format!("{}\n", a.display())).unwrap();
        std::fs::write(
            site.join("a.pth"),
            format!(
                "\u{feff}# comment\nimport os; os.environ['X']='1'\n\n../b  \n/nonexistent\n{}\r\n",
                c.display()
            ),
        )
        .unwrap();
        std::fs::write(site.join(".hidden.pth"), format!("{}\n", user.display())).unwrap();
        std::fs::write(site.join("bad.pth"), b"\xff\xfe\n").unwrap();
        assert_eq!(pth_dirs(&site), vec![b.clone(), c.clone(), a.clone()]);

        std::fs::create_dir_all(d.path().join("pp")).unwrap();
        let vars = EnvVars::from_pairs([("PYTHONPATH", "pp:/nonexistent")]);
        let ctx = Context::new(Os::Linux, vars, d.path().to_path_buf());
        let on = sys_path_dirs(&ctx, &env(vec![site.clone()], Some(user.clone()), true));
        assert_eq!(
            on,
            vec![
                d.path().join("pp"),
                user.clone(),
                site.clone(),
                b,
                c.clone(),
                a.clone()
            ]
        );
        let off = sys_path_dirs(&ctx, &env(vec![site.clone()], Some(user), false));
        assert_eq!(off[1], site);
    }

    #[test]
    fn find_top_level_prefers_regular_packages_over_namespace_portions() {
        let d = tempfile::tempdir().unwrap();
        let (one, two) = (d.path().join("one"), d.path().join("two"));
        std::fs::create_dir_all(one.join("ns")).unwrap();
        std::fs::create_dir_all(two.join("ns")).unwrap();
        std::fs::write(two.join("ns/__init__.py"), "").unwrap();
        let dirs = vec![one.clone(), two.clone()];
        assert_eq!(find_top_level(&dirs, "ns"), Some(two.join("ns")));
        std::fs::create_dir_all(one.join("only_ns")).unwrap();
        assert_eq!(find_top_level(&dirs, "only_ns"), Some(one.join("only_ns")));
        std::fs::write(two.join("mod.cpython-311-x86_64-linux-gnu.so"), "").unwrap();
        assert_eq!(
            find_top_level(&dirs, "mod"),
            Some(two.join("mod.cpython-311-x86_64-linux-gnu.so"))
        );
        assert_eq!(find_top_level(&dirs, "mo"), None);
        std::fs::write(one.join("six.py"), "").unwrap();
        assert_eq!(find_top_level(&dirs, "six"), Some(one.join("six.py")));
        std::fs::write(one.join("old.pyc"), "").unwrap();
        assert!(find_top_level(&dirs, "old").is_some());
        assert_eq!(find_top_level(&dirs, "a.b"), None);
        assert_eq!(find_top_level(&[d.path().join("missing")], "x"), None);
    }

    #[test]
    fn distributions_from_dist_info_and_egg_info() {
        let d = tempfile::tempdir().unwrap();
        let di = d.path().join("PyYAML-6.0.3.dist-info");
        std::fs::create_dir_all(&di).unwrap();
        std::fs::write(
            di.join("METADATA"),
            "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.3\n\nName: not-a-header",
        )
        .unwrap();
        std::fs::write(di.join("top_level.txt"), "_yaml\nyaml\n").unwrap();
        std::fs::write(di.join("INSTALLER"), "uv").unwrap();
        let attrs = d.path().join("attrs-23.1.0.dist-info");
        std::fs::create_dir_all(&attrs).unwrap();
        std::fs::write(attrs.join("METADATA"), "Name: attrs\nVersion: 23.1.0\n").unwrap();
        std::fs::write(
            attrs.join("RECORD"),
            "attr/__init__.py,,\nattrs/__init__.py,,\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("legacy-1.0-py3.11.egg-info"),
            "Name: legacy\nVersion: 1.0\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.path().join("broken.dist-info")).unwrap();
        let ds = installed_distributions(d.path());
        let names: Vec<&str> = ds.iter().map(|d| d.normalized_name.as_str()).collect();
        assert_eq!(names, vec!["attrs", "broken", "legacy", "pyyaml"]);
        assert_eq!(ds[0].top_level, vec!["attr", "attrs"]);
        assert_eq!(ds[2].version, "1.0");
        assert_eq!(ds[3].name, "PyYAML");
        assert_eq!(ds[3].installer.as_deref(), Some("uv"));
        assert_eq!(ds[3].top_level, vec!["_yaml", "yaml"]);
        assert!(installed_distributions(&d.path().join("missing")).is_empty());
    }
}
