//! What the user typed after `kip install`: a PEP 508 requirement, a URL or a local path,
//! accepted as pip accepts them (PRODUCT.md, "Rules that are never broken": "Local paths and
//! URLs are accepted as requirements, as pip accepts them"; "A typed requirement that starts
//! with `-` is refused").
//!
//! The input never reaches a shell; it is parsed here so that kip can (a) refuse things that
//! would be read as installer options, (b) know the distribution name for the import proof,
//! and (c) translate a plain named requirement into conda's match-spec syntax.
//!
//! The classification follows pip's `req/constructors.py` (`parse_req_from_line`,
//! `_looks_like_path`, `is_archive_file`): a URL has a scheme; text containing a path
//! separator or starting with `.` is a path; an archive file name (`.whl`, `.tar.gz`, `.zip`, …)
//! is a path when the file exists and an error when it does not; anything else is PEP 508.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use pep508_rs::pep440_rs::{Version, VersionSpecifier};
use regex::Regex;

use super::names::{conda_name, normalize_dist_name};

/// One requirement as typed, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// `name[extras] specifier ; marker` — `specifier` is the comma-joined clauses without
    /// spaces (`>=1,<2`), empty when there is none.
    Named {
        name: String,
        extras: Vec<String>,
        specifier: String,
        marker: Option<String>,
        raw: String,
    },
    /// `name @ https://…` or a bare URL (`https://…/x.whl`, `git+https://…`, `file:///…`).
    /// `name` is the declared name, else what the URL's file name or `#egg=` fragment says.
    Url {
        name: Option<String>,
        url: String,
        raw: String,
    },
    /// A local directory or archive; `path` is absolute (joined to the cwd it was typed in),
    /// so the installer finds it whatever its own working directory. `editable` is set by the
    /// caller for `-e` paths; [`parse`] never sets it.
    Path {
        path: PathBuf,
        editable: bool,
        raw: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequirementError {
    #[error("an empty requirement was given")]
    Empty,
    #[error(
        "`{0}` looks like an installer option, not a requirement; kip refuses it so that user \
         input is never read as an option. Use kip's own flags (-U, -e PATH, --pre, --no-deps, \
         -c FILE, -r FILE, --index-url, --extra-index-url, --find-links, --no-index), or pass \
         raw installer arguments after `--` (kip install X -- {0})"
    )]
    LooksLikeAnOption(String),
    #[error("`{input}` is not a valid requirement: {reason}")]
    Invalid { input: String, reason: String },
    #[error(
        "`{input}` looks like a local path, but {} does not exist (paths are relative to the \
         current directory; to install from an index, give a project name such as `requests`)",
        path.display()
    )]
    PathNotFound { input: String, path: PathBuf },
}

impl Requirement {
    /// The text as the user typed it (trimmed).
    pub fn raw(&self) -> &str {
        match self {
            Requirement::Named { raw, .. }
            | Requirement::Url { raw, .. }
            | Requirement::Path { raw, .. } => raw,
        }
    }

    /// The PEP 503-normalised distribution name, when it is known without building anything:
    /// the declared name, a wheel's file name (`pkg_name-1.0-py3-none-any.whl`), or a URL's
    /// `#egg=` fragment. Local directories and sdists have no reliable name until built.
    pub fn name(&self) -> Option<String> {
        match self {
            Requirement::Named { name, .. } => Some(normalize_dist_name(name)),
            Requirement::Url { name, .. } => name.as_deref().map(normalize_dist_name),
            Requirement::Path { path, .. } => path
                .file_name()
                .and_then(|f| f.to_str())
                .and_then(wheel_name)
                .map(|n| normalize_dist_name(&n)),
        }
    }

    /// The argument to hand the installer. Paths are given absolute (with any `[extras]` the
    /// user typed) so that the child's working directory does not matter; everything else is
    /// passed as typed, since pip and uv parse PEP 508 themselves.
    pub fn installer_arg(&self) -> String {
        match self {
            Requirement::Path { path, raw, .. } => {
                let extras = split_trailing_extras(raw).1.unwrap_or("");
                format!("{}{}", path.display(), extras)
            }
            other => other.raw().to_string(),
        }
    }

    /// The same requirement for another distribution name (after `sklearn` → `scikit-learn`),
    /// keeping extras, specifier and marker. Only named requirements are renamed.
    pub fn with_name(&self, new_name: &str) -> Requirement {
        match self {
            Requirement::Named {
                extras,
                specifier,
                marker,
                ..
            } => {
                let mut raw = new_name.to_string();
                if !extras.is_empty() {
                    raw.push_str(&format!("[{}]", extras.join(",")));
                }
                raw.push_str(specifier);
                if let Some(m) = marker {
                    raw.push_str(&format!("; {m}"));
                }
                Requirement::Named {
                    name: new_name.to_string(),
                    extras: extras.clone(),
                    specifier: specifier.clone(),
                    marker: marker.clone(),
                    raw,
                }
            }
            other => other.clone(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

#[allow(clippy::expect_used)] // a constant pattern, checked by its unit tests
fn name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // PEP 508 `identifier`, case-insensitive; compiled from a constant.
    RE.get_or_init(|| Regex::new(r"^(?i)[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?").expect("valid regex"))
}

/// A whole string is a PEP 508 identifier (a project or extra name).
fn is_identifier(s: &str) -> bool {
    name_re().find(s).is_some_and(|m| m.end() == s.len())
}

#[allow(clippy::expect_used)] // a constant pattern, checked by its unit tests
fn url_scheme_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.\-]*:").expect("valid regex"))
}

/// A URL as pip recognises one (`_looks_like_url` / `is_url`: a scheme it knows, `file:`,
/// or a VCS scheme such as `git+https:`). Windows drive letters (`C:\…`) are not URLs.
fn is_url(s: &str) -> bool {
    let Some(m) = url_scheme_re().find(s) else {
        return false;
    };
    let scheme = s[..m.end() - 1].to_ascii_lowercase();
    scheme.len() > 1
        && (s[m.end()..].starts_with("//")
            || scheme == "file"
            || scheme.starts_with("git+")
            || scheme.starts_with("hg+")
            || scheme.starts_with("svn+")
            || scheme.starts_with("bzr+"))
}

/// pip's `ARCHIVE_EXTENSIONS` (utils/filetypes.py).
const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".whl",
    ".zip",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
];

fn is_archive_name(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// pip's `_looks_like_path`: a path separator, or a leading `.`.
fn looks_like_path(s: &str) -> bool {
    s.contains('/') || (cfg!(windows) && s.contains('\\')) || s.starts_with('.')
}

/// `./pkg[extra1,extra2]` → (`./pkg`, Some(`[extra1,extra2]`)), as pip's `_strip_extras`.
fn split_trailing_extras(s: &str) -> (&str, Option<&str>) {
    if s.ends_with(']') {
        if let Some(open) = s.rfind('[') {
            return (&s[..open], Some(&s[open..]));
        }
    }
    (s, None)
}

/// The distribution name in a wheel file name (`{name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl`;
/// the name has `-` escaped to `_`).
fn wheel_name(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() < 5 || parts[0].is_empty() {
        return None;
    }
    Some(parts[0].to_string())
}

/// A name from a URL: its `#egg=name` fragment, else its wheel file name.
fn name_from_url(url: &str) -> Option<String> {
    if let Some((_, frag)) = url.split_once('#') {
        for part in frag.split('&') {
            if let Some(egg) = part.strip_prefix("egg=") {
                let egg = split_trailing_extras(egg).0;
                if is_identifier(egg) {
                    return Some(egg.to_string());
                }
            }
        }
    }
    let path = url.split(['#', '?']).next().unwrap_or(url);
    let file = path.rsplit('/').next()?;
    wheel_name(file)
}

/// Parse one typed requirement. `cwd` is where relative paths are resolved (and checked).
pub fn parse(raw: &str, cwd: &Path) -> Result<Requirement, RequirementError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(RequirementError::Empty);
    }
    if raw.starts_with('-') {
        return Err(RequirementError::LooksLikeAnOption(raw.to_string()));
    }
    let invalid = |reason: String| RequirementError::Invalid {
        input: raw.to_string(),
        reason,
    };

    // A bare URL. PEP 508 puts a marker after a URL only behind whitespace (`url ; marker`).
    if is_url(raw) {
        let url = raw.split_whitespace().next().unwrap_or(raw);
        let rest = raw[url.len()..].trim();
        if !rest.is_empty() && !rest.starts_with(';') {
            return Err(invalid(format!(
                "unexpected `{rest}` after the URL (a marker goes after ` ; `)"
            )));
        }
        return Ok(Requirement::Url {
            name: name_from_url(url),
            url: url.to_string(),
            raw: raw.to_string(),
        });
    }

    // `name[extras] @ url`
    if let Some((left, right)) = raw.split_once('@') {
        let left = left.trim();
        let (name_part, extras_part) = split_trailing_extras(left);
        let name_part = name_part.trim();
        if is_identifier(name_part) {
            if let Some(extras) = extras_part {
                parse_extras(extras).map_err(invalid)?;
            }
            let right = right.trim();
            let url = right.split_whitespace().next().unwrap_or("");
            if !is_url(url) {
                return Err(invalid(format!(
                    "after `{name_part} @` a URL is expected (https://…, git+https://…, \
                     file:///…), not `{url}`"
                )));
            }
            let rest = right[url.len()..].trim();
            if !rest.is_empty() && !rest.starts_with(';') {
                return Err(invalid(format!(
                    "unexpected `{rest}` after the URL (a marker goes after ` ; `)"
                )));
            }
            return Ok(Requirement::Url {
                name: Some(name_part.to_string()),
                url: url.to_string(),
                raw: raw.to_string(),
            });
        }
    }

    // Local paths, as pip decides (`_get_url_from_path`).
    let (path_part, _) = split_trailing_extras(raw);
    // `./proj` → `<cwd>/proj`: `.` components dropped; `..` kept (symlinks make it meaningful)
    let full: PathBuf = cwd
        .join(path_part)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if looks_like_path(path_part) || is_archive_name(path_part) {
        if full.exists() {
            return Ok(Requirement::Path {
                path: full,
                editable: false,
                raw: raw.to_string(),
            });
        }
        // A PEP 508 marker may contain `/` or `.`; only the part before `;` decides.
        let head = raw.split(';').next().unwrap_or(raw).trim();
        let (head_path, _) = split_trailing_extras(head);
        if looks_like_path(head_path) || is_archive_name(head_path) {
            return Err(RequirementError::PathNotFound {
                input: raw.to_string(),
                path: cwd.join(head_path),
            });
        }
    }

    parse_named(raw).map_err(invalid)
}

fn parse_extras(bracketed: &str) -> Result<Vec<String>, String> {
    let inner = bracketed
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("extras must be written `[a,b]`, not `{bracketed}`"))?;
    let mut extras = Vec::new();
    for e in inner.split(',') {
        let e = e.trim();
        if e.is_empty() {
            if inner.trim().is_empty() {
                break; // `name[]` is valid PEP 508: no extras
            }
            return Err(format!("empty extra name in `{bracketed}`"));
        }
        if !is_identifier(e) {
            return Err(format!("`{e}` is not a valid extra name"));
        }
        extras.push(e.to_string());
    }
    Ok(extras)
}

fn parse_named(raw: &str) -> Result<Requirement, String> {
    let Some(m) = name_re().find(raw) else {
        return Err(
            "a requirement starts with a project name (letters, digits, `.`, `_`, `-`), a \
             URL, or a local path"
                .to_string(),
        );
    };
    let name = m.as_str().to_string();
    let mut rest = raw[m.end()..].trim_start();

    let mut extras = Vec::new();
    if rest.starts_with('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| format!("`[` after `{name}` is never closed"))?;
        extras = parse_extras(&rest[..=close])?;
        rest = rest[close + 1..].trim_start();
    }

    let (spec_part, marker) = match rest.split_once(';') {
        Some((s, m)) => {
            let m = m.trim();
            if m.is_empty() {
                return Err("nothing follows `;` (an environment marker such as \
                            `python_version >= \"3.8\"` was expected)"
                    .to_string());
            }
            (s.trim(), Some(m.to_string()))
        }
        None => (rest.trim(), None),
    };

    let spec_part = match spec_part.strip_prefix('(') {
        Some(inner) => inner
            .strip_suffix(')')
            .ok_or_else(|| "`(` around the version is never closed".to_string())?
            .trim(),
        None => spec_part,
    };

    let mut clauses = Vec::new();
    if !spec_part.is_empty() {
        for clause in spec_part.split(',') {
            clauses.push(parse_clause(&name, clause.trim())?);
        }
    }
    Ok(Requirement::Named {
        name,
        extras,
        specifier: clauses.join(","),
        marker,
        raw: raw.to_string(),
    })
}

/// PEP 440 operators, longest first so `===` is not read as `==`.
const OPERATORS: &[&str] = &["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

/// One `op version` clause, validated as PEP 440 (`pep440_rs`, uv's implementation) after
/// the mistakes people make most (conda's `=1.0`, a bare version) get their own hint;
/// returned without inner spaces.
fn parse_clause(name: &str, clause: &str) -> Result<String, String> {
    if clause.is_empty() {
        return Err("an empty version clause (two commas, or a trailing comma)".to_string());
    }
    let Some(op) = OPERATORS.iter().find(|op| clause.starts_with(**op)) else {
        if let Some(v) = clause.strip_prefix('=') {
            return Err(format!(
                "`={v}` is conda's syntax; PEP 508 writes `{name}=={v}`"
            ));
        }
        if clause.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "a version needs an operator: `{name}=={clause}` or `{name}>={clause}`"
            ));
        }
        return Err(format!(
            "unexpected `{clause}` after `{name}` (give each requirement as its own argument; \
             a version is written `{name}>=1.0`)"
        ));
    };
    let version = clause[op.len()..].trim();
    if version.is_empty() {
        return Err(format!("`{op}` is not followed by a version"));
    }
    let spec = format!("{op}{version}");
    if *op == "===" {
        // Arbitrary equality compares strings; any text without whitespace is allowed.
        if version.contains(char::is_whitespace) {
            return Err(format!("`{spec}` contains whitespace"));
        }
        return Ok(spec);
    }
    VersionSpecifier::from_str(&spec)
        .map_err(|e| format!("`{spec}` is not a valid PEP 440 version specifier: {e}"))?;
    Ok(spec)
}

/// The conda match spec for a requirement, or `None` when it must go straight to PyPI.
///
/// Only a named requirement without extras or markers has a conda form: conda has no extras,
/// and markers describe the target interpreter, which conda does not evaluate. The name
/// becomes conda's form ([`conda_name`]); the clauses are translated for conda's version-spec
/// grammar (conda/models/version.py `VersionSpec`, which mamba and rattler follow):
/// - `==1.0`, `!=1.0`, `<`, `<=`, `>`, `>=`, `!=1.2.*` are the same in conda;
/// - `==1.2.*` becomes `=1.2` (conda's "starts with");
/// - `~=1.4` becomes `>=1.4,<2` and `~=1.4.2` becomes `>=1.4.2,<1.5` (PEP 440's definition;
///   conda's `<1.5` also admits `1.5` pre-releases, which conda channels rarely carry);
/// - `===` (arbitrary equality) and epochs in `~=` have no conda equivalent → `None`.
///
/// Checked against the conda fixture (rattler's match-spec parser and solver), dry-run:
/// `hello-fixture>=1.0,<2`, `=1.0`, `==1.0.0`, `>=1.0,<1.1`, `!=1.1.0`, `!=1.1.*` each chose
/// the expected build; real conda, mamba and micromamba from their documented grammar only.
pub fn to_conda_spec(req: &Requirement) -> Option<String> {
    let Requirement::Named {
        name,
        extras,
        specifier,
        marker,
        ..
    } = req
    else {
        return None;
    };
    if !extras.is_empty() || marker.is_some() {
        return None;
    }
    let mut out = Vec::new();
    for clause in specifier.split(',').filter(|c| !c.is_empty()) {
        let op = OPERATORS.iter().find(|op| clause.starts_with(**op))?;
        let version = clause[op.len()..].trim_start_matches(['v', 'V']);
        match *op {
            "===" => return None,
            "==" => match version.strip_suffix(".*") {
                Some(prefix) => out.push(format!("={prefix}")),
                None => out.push(format!("=={version}")),
            },
            "~=" => {
                let parsed = Version::from_str(version).ok()?;
                let release = parsed.release();
                if parsed.epoch() != 0 || release.len() < 2 {
                    return None;
                }
                let mut upper = release[..release.len() - 1].to_vec();
                let last = upper.last_mut()?;
                *last = last.checked_add(1)?;
                let upper: Vec<String> = upper.iter().map(u64::to_string).collect();
                out.push(format!(">={version}"));
                out.push(format!("<{}", upper.join(".")));
            }
            _ => out.push(format!("{op}{version}")),
        }
    }
    Some(format!("{}{}", conda_name(name), out.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cwd() -> PathBuf {
        PathBuf::from("/nonexistent-kip-test-cwd")
    }

    fn named(raw: &str) -> (String, Vec<String>, String, Option<String>) {
        match parse(raw, &cwd()) {
            Ok(Requirement::Named {
                name,
                extras,
                specifier,
                marker,
                ..
            }) => (name, extras, specifier, marker),
            other => panic!("{raw}: expected Named, got {other:?}"),
        }
    }

    fn invalid_reason(raw: &str) -> String {
        match parse(raw, &cwd()) {
            Err(RequirementError::Invalid { input, reason }) => {
                assert_eq!(input, raw.trim());
                reason
            }
            other => panic!("{raw}: expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn plain_names() {
        assert_eq!(
            named("requests"),
            ("requests".into(), vec![], "".into(), None)
        );
        assert_eq!(named("  hello_fixture  ").0, "hello_fixture");
        assert_eq!(named("A").0, "A");
        assert_eq!(named("zope.interface").0, "zope.interface");
    }

    #[test]
    fn extras_specifiers_markers() {
        assert_eq!(
            named("requests[socks, security] >= 2.0 , < 3 ; python_version >= \"3.8\""),
            (
                "requests".into(),
                vec!["socks".into(), "security".into()],
                ">=2.0,<3".into(),
                Some("python_version >= \"3.8\"".into())
            )
        );
        assert_eq!(named("foo (>=1.0,<2)").2, ">=1.0,<2");
        assert_eq!(named("foo[]").1, Vec::<String>::new());
        for spec in [
            "==1.0",
            "!=1.0",
            "<=1.0",
            ">=1.0",
            "<1.0",
            ">1.0",
            "~=1.4",
            "===foobar",
            "==1.*",
            "!=1.2.*",
            "==1.0+local.7",
            "==2!1.0",
            ">=1.0rc1",
            ">=1.0.post2",
            ">=1.0.dev3",
            "==v1.0",
            ">=1.0a1.post1.dev2",
        ] {
            assert_eq!(named(&format!("foo{spec}")).2, spec, "{spec}");
        }
    }

    #[test]
    fn options_are_refused_with_a_helpful_message() {
        for raw in ["-r", "--index-url=https://evil", "-e.", " --pre"] {
            let err = parse(raw, &cwd()).unwrap_err();
            assert!(
                matches!(err, RequirementError::LooksLikeAnOption(_)),
                "{raw}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains("kip's own flags") && msg.contains("after `--`"),
                "{msg}"
            );
        }
    }

    #[test]
    fn invalid_requirements_name_the_problem() {
        assert_eq!(parse("", &cwd()), Err(RequirementError::Empty));
        assert!(invalid_reason("foo=1.0").contains("conda's syntax; PEP 508 writes `foo==1.0`"));
        assert!(invalid_reason("numpy 1.2").contains("needs an operator"));
        assert!(invalid_reason("numpy pandas").contains("own argument"));
        assert!(invalid_reason("foo>=").contains("not followed by a version"));
        assert!(invalid_reason("foo>=1.0,").contains("empty version clause"));
        // PEP 440's own rules, in pep440_rs's words.
        for (typed, says) in [
            ("foo>=1.*", "cannot be used with a wildcard"),
            ("foo>=1.0+local", "local segments"),
            ("foo~=1", "at least two segments"),
            ("foo==1.0rc1.*", "found `.*`"),
            ("foo==one", "start with a number"),
        ] {
            let reason = invalid_reason(typed);
            assert!(
                reason.contains("is not a valid PEP 440 version specifier"),
                "{reason}"
            );
            assert!(reason.contains(says), "{typed}: {reason}");
        }
        assert!(invalid_reason("foo[bar").contains("never closed"));
        assert!(invalid_reason("foo[b@d]").contains("not a valid extra"));
        assert!(invalid_reason("foo;").contains("marker"));
        assert!(invalid_reason("foo (>=1").contains("never closed"));
        assert!(invalid_reason("_foo").contains("project name"));
        assert!(invalid_reason("foo @ bar").contains("a URL is expected"));
        let msg = parse("foo=1.0", &cwd()).unwrap_err().to_string();
        assert!(
            msg.starts_with("`foo=1.0` is not a valid requirement"),
            "{msg}"
        );
    }

    #[test]
    fn urls() {
        let r = parse(
            "https://example.com/pkgs/hello_fixture-1.0-py3-none-any.whl",
            &cwd(),
        );
        let Ok(Requirement::Url { name, url, .. }) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(name.as_deref(), Some("hello_fixture"));
        assert_eq!(
            url,
            "https://example.com/pkgs/hello_fixture-1.0-py3-none-any.whl"
        );
        assert_eq!(
            r.as_ref().ok().and_then(|r| r.name()),
            Some("hello-fixture".into())
        );

        let r = parse("git+https://github.com/o/r.git@v1#egg=my_pkg", &cwd()).ok();
        assert_eq!(r.and_then(|r| r.name()), Some("my-pkg".into()));

        let r = parse("git+https://github.com/o/r.git", &cwd()).ok();
        assert!(matches!(r, Some(Requirement::Url { name: None, .. })));

        let r = parse(
            "Foo[x] @ https://e.com/foo.tar.gz ; python_version > \"3\"",
            &cwd(),
        );
        let Ok(Requirement::Url { name, url, raw }) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(name.as_deref(), Some("Foo"));
        assert_eq!(url, "https://e.com/foo.tar.gz");
        assert_eq!(
            raw,
            "Foo[x] @ https://e.com/foo.tar.gz ; python_version > \"3\""
        );

        assert!(matches!(
            parse("file:///tmp/x.whl", &cwd()),
            Ok(Requirement::Url { .. })
        ));
        assert!(invalid_reason("https://e.com/x.whl extra").contains("after the URL"));
    }

    #[test]
    fn local_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cwd = dir.path();
        std::fs::create_dir(cwd.join("proj")).expect("mkdir");
        std::fs::write(cwd.join("pkg_a-1.0-py3-none-any.whl"), b"").expect("write");
        std::fs::write(cwd.join("foo.tar.gz"), b"").expect("write");

        for (raw, expected) in [
            (".", cwd.to_path_buf()),
            ("./proj", cwd.join("proj")),
            ("proj/", cwd.join("proj")),
            (
                "pkg_a-1.0-py3-none-any.whl",
                cwd.join("pkg_a-1.0-py3-none-any.whl"),
            ),
            ("foo.tar.gz", cwd.join("foo.tar.gz")),
        ] {
            match parse(raw, cwd) {
                Ok(Requirement::Path { path, editable, .. }) => {
                    assert_eq!(path, expected, "{raw}");
                    assert!(!editable);
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
        let whl = parse("pkg_a-1.0-py3-none-any.whl", cwd).expect("path");
        assert_eq!(whl.name(), Some("pkg-a".into()));
        assert_eq!(parse("./proj", cwd).ok().and_then(|r| r.name()), None);

        let extras = parse("./proj[dev,test]", cwd).expect("path with extras");
        assert_eq!(
            extras.installer_arg(),
            format!("{}[dev,test]", cwd.join("proj").display())
        );

        // a bare name that happens to be a directory here is still a project name (pip)
        assert!(matches!(parse("proj", cwd), Ok(Requirement::Named { .. })));

        match parse("./missing", cwd) {
            Err(e @ RequirementError::PathNotFound { .. }) => {
                assert!(e.to_string().contains("missing"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("nothere-1.0-py3-none-any.whl", cwd),
            Err(RequirementError::PathNotFound { .. })
        ));
        // a marker containing `/` does not make a name a path
        assert!(matches!(
            parse("foo; platform_machine == \"a/b\"", cwd),
            Ok(Requirement::Named { .. })
        ));
    }

    #[test]
    fn renaming_keeps_everything_but_the_name() {
        let r = parse("sklearn[alldeps]>=1.0; python_version>'3'", &cwd()).expect("named");
        let renamed = r.with_name("scikit-learn");
        assert_eq!(
            renamed.raw(),
            "scikit-learn[alldeps]>=1.0; python_version>'3'"
        );
        assert_eq!(renamed.name(), Some("scikit-learn".into()));
        assert_eq!(renamed.installer_arg(), renamed.raw());
    }

    fn conda(raw: &str) -> Option<String> {
        to_conda_spec(&parse(raw, &cwd()).expect("valid"))
    }

    #[test]
    fn conda_specs() {
        assert_eq!(conda("hello_fixture").as_deref(), Some("hello-fixture"));
        assert_eq!(
            conda("hello_fixture>=1.0,<2").as_deref(),
            Some("hello-fixture>=1.0,<2")
        );
        assert_eq!(
            conda("Hello_Fixture==1.0").as_deref(),
            Some("hello-fixture==1.0")
        );
        assert_eq!(conda("foo==1.2.*").as_deref(), Some("foo=1.2"));
        assert_eq!(conda("foo!=1.2.*").as_deref(), Some("foo!=1.2.*"));
        assert_eq!(conda("foo!=1.3").as_deref(), Some("foo!=1.3"));
        assert_eq!(conda("foo~=1.4").as_deref(), Some("foo>=1.4,<2"));
        assert_eq!(conda("foo~=1.4.2").as_deref(), Some("foo>=1.4.2,<1.5"));
        assert_eq!(
            conda("foo~=1.4.2rc1").as_deref(),
            Some("foo>=1.4.2rc1,<1.5")
        );
        assert_eq!(conda("foo (>=1, !=1.5)").as_deref(), Some("foo>=1,!=1.5"));
        assert_eq!(conda("foo==v1.0").as_deref(), Some("foo==1.0"));
        assert_eq!(conda("foo===1.0"), None);
        assert_eq!(conda("foo~=2!1.0"), None);
        assert_eq!(conda("foo[extra]"), None);
        assert_eq!(conda("foo; sys_platform == 'linux'"), None);
        assert_eq!(conda("https://e.com/foo-1.0-py3-none-any.whl"), None);
        assert_eq!(conda("foo @ https://e.com/foo.tar.gz"), None);
    }
}
