//! The exact argv of every installer invocation kip makes, built from data; nothing here
//! starts a process (the lead's runner does, through `process::run_captured`).
//!
//! Rules this file keeps (PRODUCT.md, "Rules that are never broken"):
//! - user input is never passed through a shell: every function returns an argv;
//! - `--break-system-packages` appears only when [`InstallOptions::break_system_packages`] is
//!   set, which only the user's own flag may set; no `sudo` anywhere;
//! - kip's flags are translated per installer; `-r FILE` is handed to pip/uv as pip reads it;
//!   raw arguments after `--` ([`InstallOptions::raw`]) go verbatim, last, to the primary
//!   installer only.
//!
//! Flag sources: pip `cli/cmdoptions.py`; uv `crates/uv-cli/src/lib.rs` (`PipInstallArgs`);
//! conda `conda/cli/helpers.py` (`-p/--prefix`, `-y/--yes`, `--json`, `--dry-run`); micromamba
//! `src/common_options.cpp`; pixi `pixi add --help` (python-environments.md §6).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

use super::index::{pip_args, IndexFlags};

/// kip's install options, as given on its command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// `-U`: upgrade the named packages.
    pub upgrade: bool,
    /// `-e PATH`: editable installs (pip/uv only).
    pub editable: Vec<PathBuf>,
    /// `--pre`: allow pre-releases (pip/uv only; conda channels keep them in labels).
    pub pre: bool,
    pub no_deps: bool,
    /// `--force-reinstall`: reinstall even what looks installed (pip `--force-reinstall`,
    /// uv `--reinstall`, conda `--force-reinstall`).
    pub force_reinstall: bool,
    /// `-c FILE` (pip/uv only).
    pub constraints: Vec<PathBuf>,
    /// `-r FILE`, handed to pip/uv, which read it as pip does (pip/uv only).
    pub requirement_files: Vec<PathBuf>,
    pub index: IndexFlags,
    /// Only ever set because the user typed `--break-system-packages`.
    pub break_system_packages: bool,
    /// kip's `--dry-run`: the commands are printed ([`shell_line`]), not run. pip and uv
    /// commands are built exactly as they would run; for conda it becomes conda's own
    /// `--dry-run`, so the lead may run the solve alone to learn what the channels lack.
    pub dry_run: bool,
    /// Arguments after `--`, verbatim, for the primary installer.
    pub raw: Vec<String>,
}

impl InstallOptions {
    /// The same options without the raw `--` arguments: what a secondary installer gets (the
    /// PyPI fallback after conda), since raw arguments belong to the primary one only.
    pub fn without_raw(&self) -> InstallOptions {
        InstallOptions {
            raw: Vec::new(),
            ..self.clone()
        }
    }
}

/// Which conda-family command line to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CondaTool {
    Conda,
    Mamba,
    Micromamba,
}

impl CondaTool {
    pub fn name(self) -> &'static str {
        match self {
            CondaTool::Conda => "conda",
            CondaTool::Mamba => "mamba",
            CondaTool::Micromamba => "micromamba",
        }
    }

    /// Recognise the tool from an executable's file name (`conda`, `mamba.exe`, …).
    pub fn from_exe(exe: &Path) -> Option<CondaTool> {
        let stem = exe.file_stem()?.to_str()?.to_ascii_lowercase();
        match stem.as_str() {
            "conda" => Some(CondaTool::Conda),
            "mamba" => Some(CondaTool::Mamba),
            "micromamba" => Some(CondaTool::Micromamba),
            _ => None,
        }
    }

    /// Prefix, yes and json flags in this tool's spelling. micromamba documents the short
    /// forms (`-p`, `-y`); conda and mamba the long ones. Both forms exist in all three.
    fn target_flags(self, prefix: &Path, yes: bool) -> Vec<OsString> {
        let mut v: Vec<OsString> = Vec::new();
        match self {
            CondaTool::Micromamba => {
                v.push("-p".into());
                v.push(prefix.into());
                if yes {
                    v.push("-y".into());
                }
            }
            CondaTool::Conda | CondaTool::Mamba => {
                v.push("--prefix".into());
                v.push(prefix.into());
                if yes {
                    v.push("--yes".into());
                }
            }
        }
        v.push("--json".into());
        v
    }
}

fn os(s: impl AsRef<OsStr>) -> OsString {
    s.as_ref().to_os_string()
}

fn push_paths(argv: &mut Vec<OsString>, flag: &str, paths: &[PathBuf]) {
    for p in paths {
        argv.push(os(flag));
        argv.push(os(p));
    }
}

/// `uv pip install --python <python> …`.
///
/// `index_args` come from [`super::index::uv_args`], which already holds kip's index flags,
/// so `opts.index` is not read here. `--pre` becomes `--prerelease allow` (uv has no `--pre`
/// for `pip install`). An explicit `--python` is what lets uv touch a non-virtual environment
/// without `--system` (python-environments.md §3).
pub fn uv_pip_install(
    uv: &Path,
    python: &Path,
    reqs: &[String],
    opts: &InstallOptions,
    index_args: &[String],
) -> Vec<OsString> {
    let mut argv = vec![os(uv), os("pip"), os("install"), os("--python"), os(python)];
    if opts.upgrade {
        argv.push(os("--upgrade"));
    }
    if opts.pre {
        argv.extend([os("--prerelease"), os("allow")]);
    }
    if opts.no_deps {
        argv.push(os("--no-deps"));
    }
    if opts.force_reinstall {
        argv.push(os("--reinstall"));
    }
    push_paths(&mut argv, "-c", &opts.constraints);
    push_paths(&mut argv, "-r", &opts.requirement_files);
    push_paths(&mut argv, "-e", &opts.editable);
    if opts.break_system_packages {
        argv.push(os("--break-system-packages"));
    }
    argv.extend(index_args.iter().map(os));
    argv.extend(reqs.iter().map(os));
    argv.extend(opts.raw.iter().map(os));
    argv
}

/// `uv pip uninstall --python <python> [--break-system-packages] names…` (uv never prompts).
pub fn uv_pip_uninstall(
    uv: &Path,
    python: &Path,
    names: &[String],
    break_system_packages: bool,
) -> Vec<OsString> {
    let mut argv = vec![
        os(uv),
        os("pip"),
        os("uninstall"),
        os("--python"),
        os(python),
    ];
    if break_system_packages {
        argv.push(os("--break-system-packages"));
    }
    argv.extend(names.iter().map(os));
    argv
}

/// `<python> -m pip`, with no prompt (`--no-input`: stdin is closed anyway) and no
/// self-version check (a network call that also trips PEP 668 on some pips).
fn pip_base(python: &Path, sub: &str) -> Vec<OsString> {
    vec![
        os(python),
        os("-m"),
        os("pip"),
        os(sub),
        os("--no-input"),
        os("--disable-pip-version-check"),
    ]
}

/// `<python> -m pip install --no-input --disable-pip-version-check …`.
///
/// pip reads its own configuration (pip.conf, `PIP_*`), so only kip's own index flags are
/// added ([`pip_args`]).
pub fn pip_install(python: &Path, reqs: &[String], opts: &InstallOptions) -> Vec<OsString> {
    let mut argv = pip_base(python, "install");
    if opts.upgrade {
        argv.push(os("-U"));
    }
    if opts.pre {
        argv.push(os("--pre"));
    }
    if opts.no_deps {
        argv.push(os("--no-deps"));
    }
    if opts.force_reinstall {
        argv.push(os("--force-reinstall"));
    }
    push_paths(&mut argv, "-c", &opts.constraints);
    push_paths(&mut argv, "-r", &opts.requirement_files);
    push_paths(&mut argv, "-e", &opts.editable);
    if opts.break_system_packages {
        argv.push(os("--break-system-packages"));
    }
    argv.extend(pip_args(&opts.index).iter().map(os));
    argv.extend(reqs.iter().map(os));
    argv.extend(opts.raw.iter().map(os));
    argv
}

/// `<python> -m pip uninstall --no-input --disable-pip-version-check -y
/// [--break-system-packages] names…`.
pub fn pip_uninstall(
    python: &Path,
    names: &[String],
    break_system_packages: bool,
) -> Vec<OsString> {
    let mut argv = pip_base(python, "uninstall");
    argv.push(os("-y"));
    if break_system_packages {
        argv.push(os("--break-system-packages"));
    }
    argv.extend(names.iter().map(os));
    argv
}

/// `<python> -m ensurepip --default-pip`: bootstraps pip from the wheel bundled with the
/// interpreter (no network). `--default-pip` also installs the plain `pip` script.
pub fn ensurepip(python: &Path) -> Vec<OsString> {
    vec![os(python), os("-m"), os("ensurepip"), os("--default-pip")]
}

/// `<exe> install --prefix P --yes --json [--no-deps] [--dry-run] specs… raw…`
/// (micromamba: `install -p P -y --json …`).
///
/// - `specs` are conda match specs ([`super::requirement::to_conda_spec`]); extras, markers,
///   URLs, paths, `-e`, `-c` and `-r` have no conda form and go to PyPI instead, so they are
///   not read here; nor are the index flags (conda channels are not PyPI indexes) or `--pre`.
/// - `-U` keeps `install`: conda's default `update_modifier: update_specs` solves the requested
///   specs to their newest compatible versions (conda/base/context.py). Proven only against
///   the rattler-based fixture; for mamba/micromamba this follows their documentation, and a
///   version constraint (`name>=2`) is the sure way to force a newer one.
/// - `--dry-run` is each tool's own flag: the solve runs, nothing is linked, and a package the
///   channels lack still fails with its not-found error ([`parse_conda_not_found`]).
pub fn conda_install(
    tool: CondaTool,
    exe: &Path,
    prefix: &Path,
    specs: &[String],
    opts: &InstallOptions,
) -> Vec<OsString> {
    let mut argv = vec![os(exe), os("install")];
    argv.extend(tool.target_flags(prefix, true));
    if opts.no_deps {
        argv.push(os("--no-deps"));
    }
    if opts.force_reinstall {
        argv.push(os("--force-reinstall"));
    }
    if opts.dry_run {
        argv.push(os("--dry-run"));
    }
    argv.extend(specs.iter().map(os));
    argv.extend(opts.raw.iter().map(os));
    argv
}

/// `<exe> remove --prefix P --yes --json names…` (micromamba: `remove -p P -y --json`).
pub fn conda_remove(tool: CondaTool, exe: &Path, prefix: &Path, names: &[String]) -> Vec<OsString> {
    let mut argv = vec![os(exe), os("remove")];
    argv.extend(tool.target_flags(prefix, true));
    argv.extend(names.iter().map(os));
    argv
}

/// `pixi add --manifest-path M [--pypi] reqs…`: a pixi environment is owned by its manifest,
/// so kip adds the dependency there (pixi then installs it) rather than writing into
/// `.pixi/envs/*` behind pixi's back. The manifest path comes from `conda-meta/pixi`.
pub fn pixi_add(pixi: &Path, manifest: &Path, reqs: &[String], pypi: bool) -> Vec<OsString> {
    let mut argv = vec![os(pixi), os("add"), os("--manifest-path"), os(manifest)];
    if pypi {
        argv.push(os("--pypi"));
    }
    argv.extend(reqs.iter().map(os));
    argv
}

/// A command line for people to read and copy (`--dry-run`, error messages): each argument
/// shell-quoted where needed. Never executed through a shell.
pub fn shell_line(argv: &[OsString]) -> String {
    argv.iter()
        .map(|a| {
            let s = a.to_string_lossy().replace('\0', "");
            match shlex::try_quote(&s) {
                Ok(q) => q.into_owned(),
                Err(_) => format!("'{}'", s.replace('\'', r"'\''")),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// "The channels do not have it" — the signal for the PyPI fallback.

/// The bare package name at the start of a conda match spec or solver dependency string:
/// `conda-forge::foo[version='>=1']` → `foo`, `foo==1.0` → `foo`, `foo 1.0.*` → `foo`.
fn bare_name(spec: &str) -> Option<String> {
    let spec = spec.trim();
    let spec = spec.rsplit("::").next().unwrap_or(spec);
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(spec.len());
    let name = spec[..end].trim_end_matches(['.', '-']);
    (!name.is_empty()).then(|| name.to_string())
}

fn push_unique(out: &mut Vec<String>, name: Option<String>) {
    if let Some(n) = name {
        if !out.contains(&n) {
            out.push(n);
        }
    }
}

/// conda's text (conda/exceptions.py `PackagesNotFoundError`, with channel URLs):
///
/// ```text
/// PackagesNotFoundError: The following packages are not available from current channels:
///
///   - nonexistent-pkg
///
/// Current channels:
///
///   - https://…
/// ```
///
/// Only the list right after the heading is read (the channel list below is a second list).
/// The variant without channels, "missing from the target environment", is conda remove's and
/// says nothing about the channels.
fn conda_text_not_found(text: &str, out: &mut Vec<String>) {
    const HEADING: &str = "The following packages are not available from current channels:";
    let mut rest = text;
    while let Some(i) = rest.find(HEADING) {
        rest = &rest[i + HEADING.len()..];
        let mut started = false;
        for line in rest.lines().skip(1) {
            let t = line.trim();
            if t.is_empty() {
                if started {
                    break;
                }
                continue;
            }
            match t.strip_prefix("- ") {
                Some(item) => {
                    started = true;
                    push_unique(out, bare_name(item));
                }
                None => break,
            }
        }
    }
}

#[allow(clippy::expect_used)] // a constant pattern, checked by its unit tests
fn libsolv_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"nothing provides requested (\S+)").expect("valid regex"))
}

#[allow(clippy::expect_used)] // a constant pattern, checked by its unit tests
fn mamba_tree_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // `└─ foo =* * does not exist (perhaps a typo or a missing channel).` — only requested
    // specs get "a typo or"; a missing dependency reads "which does not exist (perhaps a
    // missing channel)" and is not a package the user asked for.
    RE.get_or_init(|| {
        Regex::new(
            r"(?m)^[ \t│├└─|`-]*([A-Za-z0-9_][A-Za-z0-9_.\-]*)\b[^\n]*?[ \t]+does not exist \(perhaps a typo or a missing channel\)",
        )
        .expect("valid regex")
    })
}

#[allow(clippy::expect_used)] // a constant pattern, checked by its unit tests
fn no_match_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"No match for (?:spec |package )?['"`]?([A-Za-z0-9_][A-Za-z0-9_.\-]*)"#)
            .expect("valid regex")
    })
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// The JSON object conda prints on stdout under `--json` (possibly after other lines).
fn json_object(stdout: &str) -> Option<serde_json::Value> {
    let start = stdout.find('{')?;
    let end = stdout.rfind('}')?;
    if end < start {
        return None;
    }
    serde_json::from_str(&stdout[start..=end]).ok()
}

/// The packages that a failed conda-family install could not find in its channels, or `None`
/// when the failure was something else (then kip reports it and does not fall back to PyPI).
/// Names are bare (`nonexistent-pkg=1.0` → `nonexistent-pkg`), in order, without duplicates.
///
/// Formats, and how sure we are of each:
/// - **conda `--json` error object** on stdout: `{"exception_name": "PackagesNotFoundError",
///   "packages": […], "message": …, "channel_urls": […]}` (conda/exceptions.py, `dump_map`).
///   *Proven here* against the rattler-based conda fixture, whose output was captured once
///   (see `FIXTURE_JSON` in the tests); real conda from its source only.
/// - **conda's text**, `PackagesNotFoundError: The following packages are not available from
///   current channels:` + `  - name` lines. *Proven here* against the fixture (`FIXTURE_TEXT`);
///   real conda from its source only.
/// - **libsolv / mamba 1.x / conda-libmamba-solver**: `nothing provides requested NAME …`
///   (libsolv `SOLVER_RULE_JOB_NOTHING_PROVIDES_DEP`). From documented and reported output
///   only; *unproven here*.
/// - **mamba ≥ 1.4, 2.x and micromamba**: `Could not solve for environment specs` followed by
///   a tree whose lines read `└─ NAME [spec] does not exist (perhaps a typo or a missing
///   channel).` From reported output only; *unproven here*.
/// - **mamba/micromamba `No match for …`**: wording taken from kip's issue text; not found in
///   any source read. Applied only for mamba and micromamba; *unproven*.
///
/// Texts are looked for on stdout, stderr and inside every string of a JSON object on stdout
/// (micromamba's `--json` carries solver messages in its output object).
pub fn parse_conda_not_found(tool: CondaTool, stdout: &str, stderr: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut texts: Vec<String> = vec![stdout.to_string(), stderr.to_string()];

    if let Some(obj) = json_object(stdout) {
        let is_pnf =
            obj.get("exception_name").and_then(|v| v.as_str()) == Some("PackagesNotFoundError");
        let message = obj
            .get("message")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let about_target_env = message.contains("missing from the target environment");
        if is_pnf && !about_target_env {
            if let Some(pkgs) = obj.get("packages").and_then(|v| v.as_array()) {
                for p in pkgs {
                    push_unique(&mut names, p.as_str().and_then(bare_name));
                }
            }
        }
        if !about_target_env {
            collect_strings(&obj, &mut texts);
        }
    }

    for text in &texts {
        conda_text_not_found(text, &mut names);
        for c in libsolv_re().captures_iter(text) {
            push_unique(&mut names, bare_name(&c[1]));
        }
        for c in mamba_tree_re().captures_iter(text) {
            push_unique(&mut names, bare_name(&c[1]));
        }
        if matches!(tool, CondaTool::Mamba | CondaTool::Micromamba) {
            for c in no_match_re().captures_iter(text) {
                push_unique(&mut names, bare_name(&c[1]));
            }
        }
    }
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(argv: &[OsString]) -> Vec<String> {
        argv.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn full_opts() -> InstallOptions {
        InstallOptions {
            upgrade: true,
            editable: vec![PathBuf::from("/src/proj")],
            pre: true,
            no_deps: true,
            force_reinstall: true,
            constraints: vec![PathBuf::from("c.txt")],
            requirement_files: vec![PathBuf::from("r.txt")],
            index: IndexFlags {
                index_url: Some("https://kip/simple".into()),
                extra_index_urls: vec![],
                find_links: vec!["/wheels".into()],
                no_index: false,
            },
            break_system_packages: true,
            dry_run: false,
            raw: vec!["--verbose".into(), "--config-settings=x=y".into()],
        }
    }

    #[test]
    fn uv_install_argv() {
        let argv = uv_pip_install(
            Path::new("/bin/uv"),
            Path::new("/env/bin/python"),
            &["numpy>=1".into(), "pandas".into()],
            &full_opts(),
            &["--index-url".into(), "https://kip/simple".into()],
        );
        assert_eq!(
            strs(&argv),
            [
                "/bin/uv",
                "pip",
                "install",
                "--python",
                "/env/bin/python",
                "--upgrade",
                "--prerelease",
                "allow",
                "--no-deps",
                "--reinstall",
                "-c",
                "c.txt",
                "-r",
                "r.txt",
                "-e",
                "/src/proj",
                "--break-system-packages",
                "--index-url",
                "https://kip/simple",
                "numpy>=1",
                "pandas",
                "--verbose",
                "--config-settings=x=y",
            ]
        );
        let minimal = uv_pip_install(
            Path::new("uv"),
            Path::new("/p"),
            &["x".into()],
            &InstallOptions::default(),
            &[],
        );
        assert_eq!(
            strs(&minimal),
            ["uv", "pip", "install", "--python", "/p", "x"]
        );
    }

    #[test]
    fn uv_uninstall_and_list_argv() {
        let p = Path::new("/env/bin/python");
        assert_eq!(
            strs(&uv_pip_uninstall(
                Path::new("uv"),
                p,
                &["six".into()],
                false
            )),
            [
                "uv",
                "pip",
                "uninstall",
                "--python",
                "/env/bin/python",
                "six"
            ]
        );
        assert_eq!(
            strs(&uv_pip_uninstall(Path::new("uv"), p, &["six".into()], true)),
            [
                "uv",
                "pip",
                "uninstall",
                "--python",
                "/env/bin/python",
                "--break-system-packages",
                "six"
            ]
        );
    }

    #[test]
    fn pip_install_argv() {
        let argv = pip_install(Path::new("/env/bin/python"), &["six".into()], &full_opts());
        assert_eq!(
            strs(&argv),
            [
                "/env/bin/python",
                "-m",
                "pip",
                "install",
                "--no-input",
                "--disable-pip-version-check",
                "-U",
                "--pre",
                "--no-deps",
                "--force-reinstall",
                "-c",
                "c.txt",
                "-r",
                "r.txt",
                "-e",
                "/src/proj",
                "--break-system-packages",
                "--index-url",
                "https://kip/simple",
                "--find-links",
                "/wheels",
                "six",
                "--verbose",
                "--config-settings=x=y",
            ]
        );
        let minimal = pip_install(Path::new("py"), &["six".into()], &InstallOptions::default());
        assert_eq!(
            strs(&minimal),
            [
                "py",
                "-m",
                "pip",
                "install",
                "--no-input",
                "--disable-pip-version-check",
                "six"
            ]
        );
    }

    #[test]
    fn break_system_packages_only_when_asked() {
        let opts = InstallOptions::default();
        let p = Path::new("py");
        let all = [
            pip_install(p, &["x".into()], &opts),
            uv_pip_install(Path::new("uv"), p, &["x".into()], &opts, &[]),
            pip_uninstall(p, &["x".into()], false),
            uv_pip_uninstall(Path::new("uv"), p, &["x".into()], false),
        ];
        for argv in all {
            assert!(
                !strs(&argv).iter().any(|a| a.contains("break-system")),
                "{argv:?}"
            );
            assert!(!strs(&argv).iter().any(|a| a == "sudo"), "{argv:?}");
        }
    }

    #[test]
    fn pip_other_argv() {
        let p = Path::new("/env/bin/python");
        assert_eq!(
            strs(&pip_uninstall(p, &["a".into(), "b".into()], false)),
            [
                "/env/bin/python",
                "-m",
                "pip",
                "uninstall",
                "--no-input",
                "--disable-pip-version-check",
                "-y",
                "a",
                "b"
            ]
        );
        assert_eq!(
            strs(&ensurepip(p)),
            ["/env/bin/python", "-m", "ensurepip", "--default-pip"]
        );
    }

    #[test]
    fn conda_family_argv() {
        let prefix = Path::new("/envs/demo");
        let specs = vec!["hello-fixture>=1.0,<2".to_string()];
        let install = |tool, exe: &str, opts: &InstallOptions| {
            strs(&conda_install(tool, Path::new(exe), prefix, &specs, opts)).join(" ")
        };
        let dry_run = InstallOptions {
            dry_run: true,
            raw: vec!["--override-channels".into()],
            ..Default::default()
        };
        assert_eq!(
            install(CondaTool::Conda, "/c/bin/conda", &dry_run),
            "/c/bin/conda install --prefix /envs/demo --yes --json --dry-run hello-fixture>=1.0,<2 --override-channels"
        );
        assert_eq!(
            install(CondaTool::Mamba, "mamba", &InstallOptions::default()),
            "mamba install --prefix /envs/demo --yes --json hello-fixture>=1.0,<2"
        );
        let no_deps = InstallOptions {
            no_deps: true,
            // pip/uv-only options are not conda's business
            pre: true,
            upgrade: true,
            constraints: vec!["c.txt".into()],
            ..Default::default()
        };
        assert_eq!(
            install(CondaTool::Micromamba, "micromamba", &no_deps),
            "micromamba install -p /envs/demo -y --json --no-deps hello-fixture>=1.0,<2"
        );
        let remove =
            |tool, exe: &str| strs(&conda_remove(tool, Path::new(exe), prefix, &["x".into()]));
        assert_eq!(
            remove(CondaTool::Conda, "conda"),
            [
                "conda",
                "remove",
                "--prefix",
                "/envs/demo",
                "--yes",
                "--json",
                "x"
            ]
        );
        assert_eq!(
            remove(CondaTool::Micromamba, "mm"),
            ["mm", "remove", "-p", "/envs/demo", "-y", "--json", "x"]
        );
    }

    #[test]
    fn conda_tool_from_exe() {
        assert_eq!(
            CondaTool::from_exe(Path::new("/o/bin/conda")),
            Some(CondaTool::Conda)
        );
        assert_eq!(
            CondaTool::from_exe(Path::new("mamba.exe")),
            Some(CondaTool::Mamba)
        );
        assert_eq!(
            CondaTool::from_exe(Path::new("/x/micromamba")),
            Some(CondaTool::Micromamba)
        );
        assert_eq!(CondaTool::from_exe(Path::new("/x/fixture-conda")), None);
        assert_eq!(CondaTool::Micromamba.name(), "micromamba");
    }

    #[test]
    fn pixi_argv() {
        let m = Path::new("/proj/pixi.toml");
        assert_eq!(
            strs(&pixi_add(Path::new("pixi"), m, &["numpy".into()], false)),
            ["pixi", "add", "--manifest-path", "/proj/pixi.toml", "numpy"]
        );
        assert_eq!(
            strs(&pixi_add(
                Path::new("pixi"),
                m,
                &["numpy[extra]".into()],
                true
            )),
            [
                "pixi",
                "add",
                "--manifest-path",
                "/proj/pixi.toml",
                "--pypi",
                "numpy[extra]"
            ]
        );
    }

    #[test]
    fn without_raw_keeps_everything_else() {
        let o = full_opts();
        let w = o.without_raw();
        assert!(w.raw.is_empty());
        assert_eq!(
            InstallOptions {
                raw: o.raw.clone(),
                ..w
            },
            o
        );
    }

    #[test]
    fn shell_lines_quote_what_needs_it() {
        let argv: Vec<OsString> = [
            "/my env/bin/python",
            "-m",
            "pip",
            "install",
            "a>=1,<2",
            "it's",
            "",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let line = shell_line(&argv);
        assert_eq!(
            shlex::split(&line),
            Some(vec![
                "/my env/bin/python".to_string(),
                "-m".into(),
                "pip".into(),
                "install".into(),
                "a>=1,<2".into(),
                "it's".into(),
                "".into()
            ])
        );
        assert!(
            line.starts_with("'/my env/bin/python' -m pip install "),
            "{line}"
        );
        assert_eq!(shell_line(&[OsString::from("plain")]), "plain");
    }

    /// Captured once from `fixture-conda create -p /tmp/… -c <channel> --override-channels -y
    /// python nonexistent-pkg --json` (the rattler-based conda fixture), exit code 1.
    const FIXTURE_JSON: &str = r#"{
  "caused_by": "None",
  "channel_urls": [
    "file:///work/main/target/kip-toolbox/conda-fixture/channel"
  ],
  "error": "PackagesNotFoundError: The following packages are not available from current channels:\n\n  - nonexistent-pkg\n",
  "exception_name": "PackagesNotFoundError",
  "exception_type": "<class 'conda.exceptions.PackagesNotFoundError'>",
  "message": "The following packages are not available from current channels:\n\n  - nonexistent-pkg\n",
  "packages": [
    "nonexistent-pkg"
  ]
}
"#;

    /// Captured once from the same fixture without `--json` (stderr), exit code 1.
    const FIXTURE_TEXT: &str = "PackagesNotFoundError: The following packages are not available from current channels:\n\n  - nonexistent-pkg\n";

    #[test]
    fn proven_fixture_json() {
        assert_eq!(
            parse_conda_not_found(CondaTool::Conda, FIXTURE_JSON, ""),
            Some(vec!["nonexistent-pkg".to_string()])
        );
    }

    #[test]
    fn proven_fixture_text() {
        assert_eq!(
            parse_conda_not_found(CondaTool::Conda, "", FIXTURE_TEXT),
            Some(vec!["nonexistent-pkg".to_string()])
        );
    }

    #[test]
    fn conda_text_with_specs_and_channel_list() {
        // conda/exceptions.py's full wording: the channel list below must not be read
        let text = "\nPackagesNotFoundError: The following packages are not available from current channels:\n\n  - foo=1.0\n  - conda-forge::bar[version='>=2']\n  - baz==3\n\nCurrent channels:\n\n  - https://repo.anaconda.com/pkgs/main/linux-64\n  - https://repo.anaconda.com/pkgs/main/noarch\n\nTo search for alternate channels that may provide the conda package you're\nlooking for, navigate to\n\n    https://anaconda.org\n";
        assert_eq!(
            parse_conda_not_found(CondaTool::Conda, "", text),
            Some(vec!["foo".into(), "bar".into(), "baz".into()])
        );
    }

    #[test]
    fn conda_json_with_matchspec_strings() {
        let json = r#"{"exception_name": "PackagesNotFoundError", "packages": ["foo[version='>=1']", "bar 1.0.*", "foo"], "channel_urls": ["https://c"], "message": "x"}"#;
        assert_eq!(
            parse_conda_not_found(CondaTool::Conda, json, ""),
            Some(vec!["foo".into(), "bar".into()])
        );
    }

    #[test]
    fn conda_remove_missing_is_not_a_channel_problem() {
        let json = r#"{"exception_name": "PackagesNotFoundError", "packages": ["foo"], "channel_urls": [], "message": "The following packages are missing from the target environment:\n  - foo\n"}"#;
        assert_eq!(parse_conda_not_found(CondaTool::Conda, json, ""), None);
    }

    #[test]
    fn other_failures_are_not_not_found() {
        let json = r#"{"exception_name": "UnsatisfiableError", "message": "The following specifications were found to be incompatible with each other:\n  - a -> b 1.0"}"#;
        assert_eq!(parse_conda_not_found(CondaTool::Conda, json, ""), None);
        assert_eq!(
            parse_conda_not_found(
                CondaTool::Conda,
                "",
                "EnvironmentLocationNotFound: Not a conda environment: /x"
            ),
            None
        );
        assert_eq!(
            parse_conda_not_found(CondaTool::Mamba, "not json {", ""),
            None
        );
        // a missing *dependency* is not a package the user asked for
        let dep = "The following packages are incompatible\n└─ foo 1.0 would require\n   └─ bar, which does not exist (perhaps a missing channel).\n  - nothing provides bleach 1.5.0 needed by tensorboard-1.7.0\n";
        assert_eq!(parse_conda_not_found(CondaTool::Mamba, "", dep), None);
    }

    /// mamba 1.x / libsolv wording (reported output; unproven here).
    #[test]
    fn unproven_libsolv_nothing_provides_requested() {
        let text = "Encountered problems while solving:\n  - nothing provides requested hparams\n  - nothing provides requested foo 1.0.*\n  - nothing provides bleach 1.5.0 needed by tensorboard-1.7.0-py35_1\n";
        assert_eq!(
            parse_conda_not_found(CondaTool::Mamba, "", text),
            Some(vec!["hparams".into(), "foo".into()])
        );
        // conda with the libmamba solver (older conda-libmamba-solver) says the same
        let conda = "LibMambaUnsatisfiableError: Encountered problems while solving:\n  - nothing provides requested kagglehub\n";
        assert_eq!(
            parse_conda_not_found(CondaTool::Conda, "", conda),
            Some(vec!["kagglehub".into()])
        );
    }

    /// mamba ≥ 1.4 / 2.x / micromamba problem trees (reported output; unproven here).
    #[test]
    fn unproven_mamba_problem_tree() {
        let one = "error    libmamba Could not solve for environment specs\n    The following package could not be installed\n    └─ samtoolz =* * does not exist (perhaps a typo or a missing channel).\n";
        assert_eq!(
            parse_conda_not_found(CondaTool::Micromamba, "", one),
            Some(vec!["samtoolz".into()])
        );
        let many = "Could not solve for environment specs\nThe following packages are incompatible\n├─ pysimplegui ==5.0.4 pyhd8ed1ab_0 does not exist (perhaps a typo or a missing channel);\n├─ r-hicseg   does not exist (perhaps a typo or a missing channel);\n└─ tables =* * does not exist (perhaps a typo or a missing channel).\n";
        assert_eq!(
            parse_conda_not_found(CondaTool::Mamba, many, ""),
            Some(vec![
                "pysimplegui".into(),
                "r-hicseg".into(),
                "tables".into()
            ])
        );
    }

    /// micromamba `--json`: solver messages inside the JSON output object (unproven here).
    #[test]
    fn unproven_messages_inside_json() {
        let json = r#"{"success": false, "solver_problems": ["nothing provides requested nonexistent-pkg"]}"#;
        assert_eq!(
            parse_conda_not_found(CondaTool::Micromamba, json, ""),
            Some(vec!["nonexistent-pkg".into()])
        );
    }

    /// `No match for …` — wording from kip's issue only; mamba family only (unproven).
    #[test]
    fn unproven_no_match_for() {
        let text = "error    libmamba No match for 'nonexistent-pkg' in channels\n";
        assert_eq!(
            parse_conda_not_found(CondaTool::Micromamba, "", text),
            Some(vec!["nonexistent-pkg".into()])
        );
        assert_eq!(parse_conda_not_found(CondaTool::Conda, "", text), None);
    }

    #[test]
    fn bare_names() {
        assert_eq!(bare_name("foo=1.0").as_deref(), Some("foo"));
        assert_eq!(
            bare_name("conda-forge/linux-64::foo-bar==1").as_deref(),
            Some("foo-bar")
        );
        assert_eq!(
            bare_name("ruamel.yaml>=0.17").as_deref(),
            Some("ruamel.yaml")
        );
        assert_eq!(bare_name("=1.0"), None);
        assert_eq!(bare_name(""), None);
    }
}
