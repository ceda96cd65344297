//! Where packages come from: the user's index settings, honoured whichever installer runs.
//!
//! PRODUCT.md, "Rules that are never broken": *The user's index settings are honoured.
//! Precedence: kip's own flags, then uv's own settings (`UV_*`, uv.toml) when kip runs uv, then
//! pip's configuration translated for uv … The index in use is printed. Switching installers
//! never silently switches where packages come from.*
//!
//! pip reads its own configuration, so with pip kip adds only its own flags ([`pip_args`]).
//! uv ignores pip's configuration, so when kip picks uv for an environment whose owner set up
//! pip (a company mirror in `/etc/pip.conf`, `PIP_INDEX_URL` in a CI job), the settings are read
//! here as pip reads them ([`from_pip_config`], [`pip_config_files`]) and translated into uv
//! flags ([`uv_args`]) — unless uv has settings of its own for that aspect, which it reads
//! itself and which then win.
//!
//! kip claims that uv reads a variable only when the uv it runs does ([`UvVersion::reads`]):
//! a variable users set believing uv reads it (`UV_NO_INDEX`: no uv release has it) is named
//! as ignored, and the pip setting it was meant to mirror is translated.
//!
//! The rules are functions of plain data (variables, file contents, uv's version) so they are
//! unit-tested without a pip or a uv; [`for_target`] gathers that data for one install.

use std::path::{Path, PathBuf};

use crate::context::Context;

/// kip's own index flags from its command line; they win over every configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexFlags {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    pub no_index: bool,
}

/// pip's index settings as pip would resolve them for `pip install`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexSettings {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    pub find_links: Vec<String>,
    pub trusted_hosts: Vec<String>,
    /// Where each setting came from, one `key: origin` line per setting that is set
    /// (`index-url: PIP_INDEX_URL`, `extra-index-url: /etc/pip.conf [global]`).
    pub sources: Vec<String>,
    /// Values pip itself would reject (kip ignores them and says so).
    pub warnings: Vec<String>,
}

impl IndexSettings {
    /// The origin recorded for `key` (`index-url`, `extra-index-url`, `no-index`,
    /// `find-links`, `trusted-host`).
    pub fn source_of(&self, key: &str) -> Option<&str> {
        self.sources
            .iter()
            .find_map(|s| s.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
    }

    fn set_source(&mut self, key: &str, origin: &str) {
        self.sources
            .retain(|s| !s.strip_prefix(key).is_some_and(|r| r.starts_with(": ")));
        self.sources.push(format!("{key}: {origin}"));
    }
}

/// pip's configuration file name on Linux and macOS (`pip.ini` on Windows).
const CONFIG_BASENAME: &str = if cfg!(windows) { "pip.ini" } else { "pip.conf" };

/// The pip configuration files pip would load, lowest priority first, for a Linux-like system
/// (pip/_internal/configuration.py `get_configuration_files`, `iter_config_files`):
///
/// 1. global: `/etc/xdg/pip/pip.conf`, then `/etc/pip.conf` (platformdirs' `site_config_dirs`
///    with the default `XDG_CONFIG_DIRS`, plus `/etc`);
/// 2. user: legacy `~/.pip/pip.conf`, then `$XDG_CONFIG_HOME/pip/pip.conf` (default
///    `~/.config/pip/pip.conf`) — skipped when `PIP_CONFIG_FILE` names an existing file;
/// 3. site: `<prefix>/pip.conf` (the environment's own, `sys.prefix`);
/// 4. `PIP_CONFIG_FILE`.
///
/// `PIP_CONFIG_FILE=/dev/null` (`os.devnull`) disables every file: the result is empty.
/// Files that do not exist are listed anyway; the caller reads those that do.
pub fn pip_config_files(
    home: &Path,
    xdg_config_home: Option<&Path>,
    prefix: &Path,
    pip_config_file_env: Option<&Path>,
) -> Vec<PathBuf> {
    let devnull = if cfg!(windows) { "nul" } else { "/dev/null" };
    if pip_config_file_env.is_some_and(|p| p == Path::new(devnull)) {
        return Vec::new();
    }
    let mut files = vec![
        PathBuf::from("/etc/xdg/pip").join(CONFIG_BASENAME),
        PathBuf::from("/etc").join(CONFIG_BASENAME),
    ];
    // pip: "per-user config is not loaded when env_config_file exists"
    if !pip_config_file_env.is_some_and(|p| p.exists()) {
        files.push(home.join(".pip").join(CONFIG_BASENAME));
        let config_home = match xdg_config_home {
            // platformdirs ignores a relative XDG_CONFIG_HOME
            Some(x) if x.is_absolute() => x.to_path_buf(),
            _ => home.join(".config"),
        };
        files.push(config_home.join("pip").join(CONFIG_BASENAME));
    }
    files.push(prefix.join(CONFIG_BASENAME));
    if let Some(p) = pip_config_file_env {
        files.push(p.to_path_buf());
    }
    files
}

/// A key as pip normalises it (`_normalize_name`): lowercase, `_` → `-`.
fn normalize_key(key: &str) -> String {
    key.trim().to_lowercase().replace('_', "-")
}

/// The keys kip reads, as pip spells their long options.
const INDEX_KEYS: &[&str] = &[
    "index-url",
    "extra-index-url",
    "no-index",
    "find-links",
    "trusted-host",
];

/// One `key = value` of an INI file, in its section.
struct IniEntry {
    section: String,
    /// Normalised as pip does ([`normalize_key`]).
    key: String,
    value: String,
}

/// The entries of an INI file read as Python's `RawConfigParser` reads it:
/// `[section]` headers, `key = value` or `key: value`, whole-line `#`/`;` comments, indented
/// continuation lines appended with a newline (pip users write lists that way), keys lowercased.
fn parse_ini(contents: &str) -> Vec<IniEntry> {
    let mut out: Vec<IniEntry> = Vec::new();
    let mut section: Option<String> = None;
    let mut continuing = false;
    for line in contents.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            // configparser keeps empty lines inside a value; they never matter for these keys
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented && continuing {
            if let Some(last) = out.last_mut() {
                last.value.push('\n');
                last.value.push_str(trimmed);
            }
            continue;
        }
        continuing = false;
        if let Some(rest) = trimmed.strip_prefix('[') {
            section = rest.strip_suffix(']').map(|s| s.to_string());
            continue;
        }
        let Some(sec) = &section else {
            continue; // configparser: MissingSectionHeaderError; pip fails, kip skips the line
        };
        let split = trimmed.find(['=', ':']);
        let (key, value) = match split {
            Some(i) => (&trimmed[..i], trimmed[i + 1..].trim()),
            None => (trimmed, ""),
        };
        out.push(IniEntry {
            section: sec.clone(),
            key: normalize_key(key),
            value: value.to_string(),
        });
        continuing = true;
    }
    out
}

/// pip's `strtobool` (pip/_internal/utils/misc.py).
fn strtobool(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Some(true),
        "n" | "no" | "f" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// Resolve pip's index settings for `pip install` from the `PIP_*` variables and the contents
/// of its configuration files (lowest priority first, as [`pip_config_files`] orders them).
///
/// pip's rules (configuration.py, cli/parser.py `ConfigOptionParser._update_defaults`):
/// - a later file overrides an earlier one for the same `section.key`; then `[install]` (from
///   any file) overrides `[global]` (from any file); `PIP_*` variables override both;
/// - a setting *replaces* the earlier value, lists included (`extra-index-url` in
///   `PIP_EXTRA_INDEX_URL` replaces the one from pip.conf, it does not add to it);
/// - list options (`extra-index-url`, `find-links`, `trusted-host`) are split on whitespace;
/// - `no-index` goes through `strtobool`; a value it rejects makes pip fail — kip ignores it
///   and records a warning.
pub fn from_pip_config(env: &[(String, String)], files: &[(PathBuf, String)]) -> IndexSettings {
    // (key, value, origin) in increasing priority; the last one per key wins.
    // pip merges `section.key` across files first, then yields every `global.*` item, then
    // every `install.*` item, then `:env:` (`_get_ordered_configuration_items`): so an
    // `[install]` value in any file beats a `[global]` value in any file.
    let parsed: Vec<(&PathBuf, Vec<IniEntry>)> = files
        .iter()
        .map(|(path, contents)| (path, parse_ini(contents)))
        .collect();
    let mut layers: Vec<(String, String, String)> = Vec::new();
    for section in ["global", "install"] {
        for (path, entries) in &parsed {
            for e in entries {
                if e.section == section && INDEX_KEYS.contains(&e.key.as_str()) {
                    layers.push((
                        e.key.clone(),
                        e.value.clone(),
                        format!("{} [{section}]", path.display()),
                    ));
                }
            }
        }
    }
    for (name, value) in env {
        let Some(option) = name.strip_prefix("PIP_") else {
            continue;
        };
        let key = normalize_key(option);
        if INDEX_KEYS.contains(&key.as_str()) {
            layers.push((key, value.clone(), name.clone()));
        }
    }

    let mut settings = IndexSettings::default();
    for (key, value, origin) in layers {
        let list = || {
            value
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        match key.as_str() {
            "index-url" => settings.index_url = Some(value.trim().to_string()),
            "extra-index-url" => settings.extra_index_urls = list(),
            "find-links" => settings.find_links = list(),
            "trusted-host" => settings.trusted_hosts = list(),
            "no-index" => match strtobool(&value) {
                Some(b) => settings.no_index = b,
                None => {
                    settings.warnings.push(format!(
                        "no-index = {value:?} from {origin} is not a boolean (pip would refuse \
                         it); ignored"
                    ));
                    continue;
                }
            },
            _ => continue,
        }
        settings.set_source(&key, &origin);
    }
    // An empty value unsets nothing in pip; an empty index-url is simply not an index.
    if settings.index_url.as_deref() == Some("") {
        settings.index_url = None;
    }
    settings
}

/// A uv release, from `uv --version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UvVersion(pub u32, pub u32, pub u32);

impl std::fmt::Display for UvVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "uv {}.{}.{}", self.0, self.1, self.2)
    }
}

/// The uv variables about where packages come from, each with the first uv release that reads
/// it (uv-static `EnvVars`, `attr_added_in`); uv 0.13.9's `uv pip install --help`, which names
/// the variable of each option (`[env: UV_FIND_LINKS]`), lists exactly these. Its `--no-index`
/// has none: no uv release reads `UV_NO_INDEX` ([`UV_NOT_READ`]).
const UV_VARS: &[(&str, UvVersion)] = &[
    ("UV_INDEX_URL", UvVersion(0, 0, 5)),
    ("UV_EXTRA_INDEX_URL", UvVersion(0, 1, 3)),
    ("UV_INDEX_STRATEGY", UvVersion(0, 1, 29)),
    ("UV_INSECURE_HOST", UvVersion(0, 3, 5)),
    ("UV_FIND_LINKS", UvVersion(0, 4, 19)),
    ("UV_DEFAULT_INDEX", UvVersion(0, 4, 23)),
    ("UV_INDEX", UvVersion(0, 4, 23)),
];

/// Variables users set believing uv reads them (CI recipes do), which no uv reads.
const UV_NOT_READ: &[&str] = &["UV_NO_INDEX"];

impl UvVersion {
    /// `uv 0.13.9 (x86_64-unknown-linux-gnu)`, `uv 0.4.30 (61ed2a236 2024-11-04)`.
    pub fn parse(version_output: &str) -> Option<UvVersion> {
        let word = version_output.split_whitespace().nth(1)?;
        let mut parts = word.split('.').map(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        Some(UvVersion(
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        ))
    }

    /// Does this uv read `var`? An unknown version is taken to be a current one.
    pub fn reads(version: Option<UvVersion>, var: &str) -> bool {
        UV_VARS
            .iter()
            .any(|(name, since)| *name == var && version.is_none_or(|v| v >= *since))
    }
}

/// What `uv --version` says of `uv` (`uv 0.13.9 (x86_64-unknown-linux-gnu)`), to know which
/// variables it reads ([`UvVersion`]). Cached in kip's cache, keyed by
/// the binary's canonical path, size and mtime (an upgrade replaces the file); `None` when uv
/// does not answer in time or the answer does not parse.
pub fn uv_version(ctx: &Context, uv: &Path) -> Option<UvVersion> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let canonical = std::fs::canonicalize(uv).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let mut h = Sha256::new();
    h.update(canonical.as_os_str().as_encoded_bytes());
    h.update(
        format!(
            "\0{}\0{}.{:09}",
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec()
        )
        .as_bytes(),
    );
    let entry = crate::context::cache_dir(&ctx.vars)
        .map(|d| d.join("uv-version-v1").join(format!("{:x}", h.finalize())));
    if let Some(v) = entry
        .as_ref()
        .and_then(|e| std::fs::read_to_string(e).ok())
        .and_then(|t| UvVersion::parse(&t))
    {
        return Some(v);
    }
    let mut cmd = std::process::Command::new(uv);
    cmd.arg("--version")
        .env_clear()
        .envs(ctx.vars.iter())
        .current_dir(&ctx.cwd);
    let out = crate::process::run_captured(cmd, crate::process::probe_timeout(&ctx.vars)).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = UvVersion::parse(&text)?;
    if let Some(e) = &entry {
        // Only saves time: a failure to write is ignored.
        if let Some(dir) = e.parent() {
            let _ = std::fs::create_dir_all(dir)
                .and_then(|_| tempfile::NamedTempFile::new_in(dir))
                .and_then(|mut t| {
                    use std::io::Write;
                    t.write_all(text.as_bytes())?;
                    t.persist(e).map_err(|e| e.error)?;
                    Ok(())
                });
        }
    }
    Some(version)
}

/// uv variables that configure the index. When one is set (and read), uv reads it itself and
/// kip translates nothing from pip for the index: index URL, extra indexes, no-index.
const UV_INDEX_VARS: &[&str] = &[
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
];

fn uv_var<'a>(uv_env: &'a [(String, String)], names: &[&str]) -> Option<(&'a str, &'a str)> {
    uv_env
        .iter()
        .find(|(k, v)| names.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The uv flags that make `uv pip install` use the same sources pip would, and a one-line
/// description of the index in use (printed before installing).
///
/// Only the variables `uv_version` reads count as uv's ([`UvVersion::reads`]); any other
/// `UV_*` index variable that is set is named as ignored. Per aspect, the first of these that
/// says something wins:
/// 1. kip's own flags;
/// 2. uv's own settings — `UV_INDEX_URL`, `UV_DEFAULT_INDEX`, `UV_INDEX`,
///    `UV_EXTRA_INDEX_URL` (the index, extra indexes and no-index), `UV_FIND_LINKS`,
///    `UV_INSECURE_HOST`, or an index configured in uv.toml / `[tool.uv]`
///    (`uv_toml_sets_index`, which covers index URLs, find-links and no-index): nothing is
///    passed, uv reads them;
/// 3. pip's settings, translated: `--index-url`, `--extra-index-url`, `--no-index`,
///    `--find-links`, and trusted hosts as `--allow-insecure-host`.
///
/// With no index in force (kip's `--no-index`, or pip's where uv has no index of its own), the
/// description says so first and names no index: the installer uses none, whatever else is
/// configured.
///
/// Extra indexes follow pip's semantics: kip's `--extra-index-url` adds to the configured
/// ones (optparse `append` starts from the configured default). Because pip picks the best
/// version across all indexes while uv by default stops at the first index that has the
/// project, `--index-strategy unsafe-best-match` is added whenever kip passes an extra index
/// — unless uv has its own index configuration or `UV_INDEX_STRATEGY`, which decide instead.
#[allow(clippy::too_many_lines)] // predates the lint (issue 10): split when next changed
pub fn uv_args(
    settings: &IndexSettings,
    uv_env: &[(String, String)],
    uv_version: Option<UvVersion>,
    uv_toml_sets_index: bool,
    kip_flags: &IndexFlags,
) -> (Vec<String>, String) {
    let mut args: Vec<String> = Vec::new();
    let mut desc: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let this_uv = uv_version.map_or("this uv".to_string(), |v| v.to_string());
    // What this uv reads; the rest is named, never claimed.
    let read_env: Vec<(String, String)> = uv_env
        .iter()
        .filter(|(k, v)| {
            let known = UV_NOT_READ.contains(&k.as_str()) || UV_VARS.iter().any(|(n, _)| n == k);
            let read = UvVersion::reads(uv_version, k);
            if known && !read && !v.trim().is_empty() {
                notes.push(format!("{k} is set, but {this_uv} does not read it"));
            }
            read
        })
        .cloned()
        .collect();
    let uv_env = read_env.as_slice();
    let uv_index = uv_var(uv_env, UV_INDEX_VARS);
    let uv_owns_index = uv_index.is_some() || uv_toml_sets_index;

    let no_index = if kip_flags.no_index {
        Some("kip --no-index".to_string())
    } else if settings.no_index && !uv_owns_index {
        Some(origin(settings, "no-index"))
    } else {
        if settings.no_index {
            notes.push(format!(
                "no-index from {} is not applied: uv's own index settings win",
                origin(settings, "no-index")
            ));
        }
        None
    };
    if let Some(from) = &no_index {
        args.push("--no-index".to_string());
        desc.push(format!("no index ({from})"));
    } else {
        // primary index
        if let Some(url) = &kip_flags.index_url {
            args.extend(["--index-url".to_string(), url.clone()]);
            desc.push(format!("index: {url} (kip --index-url)"));
        } else if let Some((var, value)) = uv_index {
            desc.push(format!("index: {} ({var}, read by uv)", value.trim()));
        } else if uv_toml_sets_index {
            desc.push("index: uv's own configuration (uv.toml / pyproject [tool.uv])".to_string());
        } else if let Some(url) = &settings.index_url {
            args.extend(["--index-url".to_string(), url.clone()]);
            desc.push(format!("index: {url} ({})", origin(settings, "index-url")));
        } else {
            desc.push("index: PyPI (default)".to_string());
        }

        // extra indexes
        let mut extras: Vec<(String, String)> = Vec::new();
        if !uv_owns_index {
            for url in &settings.extra_index_urls {
                extras.push((url.clone(), origin(settings, "extra-index-url")));
            }
        }
        for url in &kip_flags.extra_index_urls {
            extras.push((url.clone(), "kip --extra-index-url".to_string()));
        }
        for (url, from) in &extras {
            args.extend(["--extra-index-url".to_string(), url.clone()]);
            desc.push(format!("extra index: {url} ({from})"));
        }
        let strategy_set = uv_var(uv_env, &["UV_INDEX_STRATEGY"]).is_some();
        if !extras.is_empty() && !uv_owns_index && !strategy_set {
            args.extend([
                "--index-strategy".to_string(),
                "unsafe-best-match".to_string(),
            ]);
        }
    }

    // find-links: pip's and kip's both apply (append semantics), unless uv has its own
    let uv_find_links = uv_var(uv_env, &["UV_FIND_LINKS"]);
    let mut links: Vec<(String, String)> = Vec::new();
    if uv_find_links.is_none() && !uv_toml_sets_index {
        for l in &settings.find_links {
            links.push((l.clone(), origin(settings, "find-links")));
        }
    } else if let Some((var, value)) = uv_find_links {
        desc.push(format!("find-links: {} ({var}, read by uv)", value.trim()));
    }
    for l in &kip_flags.find_links {
        links.push((l.clone(), "kip --find-links".to_string()));
    }
    for (l, from) in &links {
        args.extend(["--find-links".to_string(), l.clone()]);
        desc.push(format!("find-links: {l} ({from})"));
    }

    // trusted hosts → insecure hosts
    if let Some((var, value)) = uv_var(uv_env, &["UV_INSECURE_HOST"]) {
        desc.push(format!(
            "insecure hosts: {} ({var}, read by uv)",
            value.trim()
        ));
    } else {
        for h in &settings.trusted_hosts {
            args.extend(["--allow-insecure-host".to_string(), h.clone()]);
        }
        if !settings.trusted_hosts.is_empty() {
            desc.push(format!(
                "trusted hosts: {} ({})",
                settings.trusted_hosts.join(" "),
                origin(settings, "trusted-host")
            ));
        }
    }
    desc.extend(notes);
    (args, desc.join("; "))
}

fn origin(settings: &IndexSettings, key: &str) -> String {
    settings
        .source_of(key)
        .unwrap_or("pip configuration")
        .to_string()
}

/// kip's own index flags for `pip install`. pip reads its configuration (pip.conf, `PIP_*`)
/// itself, so nothing else is added: with pip, `--index-url` replaces the configured index and
/// `--extra-index-url` / `--find-links` add to the configured ones, exactly as typed to pip.
pub fn pip_args(kip_flags: &IndexFlags) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(url) = &kip_flags.index_url {
        args.extend(["--index-url".to_string(), url.clone()]);
    }
    for url in &kip_flags.extra_index_urls {
        args.extend(["--extra-index-url".to_string(), url.clone()]);
    }
    for l in &kip_flags.find_links {
        args.extend(["--find-links".to_string(), l.clone()]);
    }
    if kip_flags.no_index {
        args.push("--no-index".to_string());
    }
    args
}

/// The one-line description of the index pip will use (pip's configuration with kip's flags
/// applied the way pip applies command-line options), for printing before installing.
pub fn describe_for_pip(settings: &IndexSettings, kip_flags: &IndexFlags) -> String {
    let mut desc = Vec::new();
    // pip with no-index uses no index at all, whatever index-url says.
    if kip_flags.no_index {
        desc.push("no index (kip --no-index)".to_string());
    } else if settings.no_index {
        desc.push(format!("no index ({})", origin(settings, "no-index")));
    } else {
        match (&kip_flags.index_url, &settings.index_url) {
            (Some(url), _) => desc.push(format!("index: {url} (kip --index-url)")),
            (None, Some(url)) => {
                desc.push(format!("index: {url} ({})", origin(settings, "index-url")))
            }
            (None, None) => desc.push("index: PyPI (default)".to_string()),
        }
        for url in &settings.extra_index_urls {
            desc.push(format!(
                "extra index: {url} ({})",
                origin(settings, "extra-index-url")
            ));
        }
        for url in &kip_flags.extra_index_urls {
            desc.push(format!("extra index: {url} (kip --extra-index-url)"));
        }
    }
    for l in &settings.find_links {
        desc.push(format!(
            "find-links: {l} ({})",
            origin(settings, "find-links")
        ));
    }
    for l in &kip_flags.find_links {
        desc.push(format!("find-links: {l} (kip --find-links)"));
    }
    if !settings.trusted_hosts.is_empty() {
        desc.push(format!(
            "trusted hosts: {} ({})",
            settings.trusted_hosts.join(" "),
            origin(settings, "trusted-host")
        ));
    }
    desc.join("; ")
}

/// The index settings of one install, for whichever installer ends up running.
#[derive(Clone, Debug, Default)]
pub struct IndexChoice {
    /// What kip passes to uv ([`uv_args`]).
    pub uv_args: Vec<String>,
    /// The index line when uv runs.
    pub uv_description: String,
    /// The index line when pip runs ([`describe_for_pip`]).
    pub pip_description: String,
}

/// Gather the index settings for an install into the env at `prefix`: pip's configuration
/// files and `PIP_*` variables, the `UV_*` variables and uv.toml, and what `uv` (the uv kip
/// would run, if any) reads, by its version.
pub fn for_target(
    ctx: &Context,
    prefix: &Path,
    flags: &IndexFlags,
    uv: Option<&Path>,
) -> IndexChoice {
    let home = ctx.home().unwrap_or_else(|| PathBuf::from("/"));
    let xdg = ctx.vars.get_nonempty("XDG_CONFIG_HOME").map(PathBuf::from);
    let pcf = ctx.vars.get_nonempty("PIP_CONFIG_FILE").map(PathBuf::from);
    let files: Vec<(PathBuf, String)> =
        pip_config_files(&home, xdg.as_deref(), prefix, pcf.as_deref())
            .into_iter()
            .filter_map(|p| crate::files::read_to_string(&p).ok().map(|t| (p, t)))
            .collect();
    let vars_with = |prefix: &str| -> Vec<(String, String)> {
        ctx.vars
            .iter()
            .filter_map(|(k, v)| {
                let k = k.to_str()?;
                k.starts_with(prefix)
                    .then(|| (k.to_string(), v.to_string_lossy().into_owned()))
            })
            .collect()
    };
    let settings = from_pip_config(&vars_with("PIP_"), &files);
    let pip_description = describe_for_pip(&settings, flags);
    let Some(uv) = uv else {
        return IndexChoice {
            pip_description,
            ..Default::default()
        };
    };
    let version = uv_version(ctx, uv);
    let (uv_args, uv_description) = uv_args(
        &settings,
        &vars_with("UV_"),
        version,
        uv_toml_sets_index(ctx),
        flags,
    );
    IndexChoice {
        uv_args,
        uv_description,
        pip_description,
    }
}

/// Does a uv.toml that uv would read configure an index? (`UV_NO_CONFIG` disables them.)
fn uv_toml_sets_index(ctx: &Context) -> bool {
    if ctx.vars.get("UV_NO_CONFIG").is_some() {
        return false;
    }
    let mut files = Vec::new();
    if let Some(f) = ctx.vars.get_nonempty("UV_CONFIG_FILE") {
        files.push(PathBuf::from(f));
    }
    let cfg = ctx
        .vars
        .get_nonempty("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| ctx.home().map(|h| h.join(".config")));
    if let Some(c) = cfg {
        files.push(c.join("uv/uv.toml"));
    }
    files.push(PathBuf::from("/etc/uv/uv.toml"));
    files.iter().any(|f| {
        crate::files::read_to_string(f)
            .map(|t| {
                t.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with("index-url")
                        || l.starts_with("extra-index-url")
                        || l.starts_with("[[index]]")
                        || l.starts_with("find-links")
                        || l.starts_with("no-index")
                })
            })
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(path: &str, contents: &str) -> (PathBuf, String) {
        (PathBuf::from(path), contents.to_string())
    }

    #[test]
    fn config_file_order_on_linux() {
        let files = pip_config_files(Path::new("/home/u"), None, Path::new("/envs/a"), None);
        assert_eq!(
            files,
            [
                "/etc/xdg/pip/pip.conf",
                "/etc/pip.conf",
                "/home/u/.pip/pip.conf",
                "/home/u/.config/pip/pip.conf",
                "/envs/a/pip.conf",
            ]
            .map(PathBuf::from)
        );
        let files = pip_config_files(
            Path::new("/home/u"),
            Some(Path::new("/xdg")),
            Path::new("/envs/a"),
            Some(Path::new("/nonexistent/kip/pip.conf")),
        );
        assert_eq!(
            files,
            [
                "/etc/xdg/pip/pip.conf",
                "/etc/pip.conf",
                "/home/u/.pip/pip.conf",
                "/xdg/pip/pip.conf",
                "/envs/a/pip.conf",
                "/nonexistent/kip/pip.conf",
            ]
            .map(PathBuf::from)
        );
        // relative XDG_CONFIG_HOME is ignored, as platformdirs does
        let files = pip_config_files(
            Path::new("/home/u"),
            Some(Path::new("rel")),
            Path::new("/p"),
            None,
        );
        assert!(files.contains(&PathBuf::from("/home/u/.config/pip/pip.conf")));
    }

    #[test]
    fn an_existing_pip_config_file_replaces_the_user_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("mine.conf");
        std::fs::write(&cfg, "").expect("write");
        let files = pip_config_files(Path::new("/home/u"), None, Path::new("/p"), Some(&cfg));
        assert_eq!(
            files,
            vec![
                PathBuf::from("/etc/xdg/pip/pip.conf"),
                PathBuf::from("/etc/pip.conf"),
                PathBuf::from("/p/pip.conf"),
                cfg.clone(),
            ]
        );
    }

    #[test]
    fn devnull_disables_every_file() {
        let files = pip_config_files(
            Path::new("/home/u"),
            None,
            Path::new("/p"),
            Some(Path::new("/dev/null")),
        );
        assert!(files.is_empty());
    }

    #[test]
    fn nothing_configured_means_pypi() {
        let s = from_pip_config(&[], &[]);
        assert_eq!(s, IndexSettings::default());
        let (args, desc) = uv_args(&s, &[], None, false, &IndexFlags::default());
        assert!(args.is_empty());
        assert_eq!(desc, "index: PyPI (default)");
        assert_eq!(
            describe_for_pip(&s, &IndexFlags::default()),
            "index: PyPI (default)"
        );
    }

    #[test]
    fn files_sections_and_key_spellings() {
        let global = file(
            "/etc/pip.conf",
            "# company mirror\n[global]\nindex_url = https://mirror/simple\n\
             extra-index-url =\n    https://a/simple\n    https://b/simple\n\
             trusted-host = mirror  a\n",
        );
        let user = file(
            "/home/u/.config/pip/pip.conf",
            "[install]\nIndex-Url: https://user/simple\n[freeze]\nfind-links = /nope\n",
        );
        let s = from_pip_config(&[], &[global, user]);
        assert_eq!(s.index_url.as_deref(), Some("https://user/simple"));
        assert_eq!(s.extra_index_urls, ["https://a/simple", "https://b/simple"]);
        assert_eq!(s.trusted_hosts, ["mirror", "a"]);
        assert!(s.find_links.is_empty(), "[freeze] is not read for install");
        assert_eq!(
            s.source_of("index-url"),
            Some("/home/u/.config/pip/pip.conf [install]")
        );
        assert_eq!(
            s.source_of("extra-index-url"),
            Some("/etc/pip.conf [global]")
        );
        assert_eq!(s.source_of("trusted-host"), Some("/etc/pip.conf [global]"));
    }

    #[test]
    fn install_section_in_any_file_beats_global_in_any_file() {
        let system = file(
            "/etc/pip.conf",
            "[install]\nindex-url = https://system-install\n",
        );
        let user = file(
            "/home/u/.config/pip/pip.conf",
            "[global]\nindex-url = https://user-global\n",
        );
        let s = from_pip_config(&[], &[system, user]);
        assert_eq!(s.index_url.as_deref(), Some("https://system-install"));
        assert_eq!(s.source_of("index-url"), Some("/etc/pip.conf [install]"));
        // same section: the later (higher-priority) file wins
        let a = file("/etc/pip.conf", "[global]\nindex-url = https://a\n");
        let b = file("/env/pip.conf", "[global]\nindex-url = https://b\n");
        let s = from_pip_config(&[], &[a, b]);
        assert_eq!(s.index_url.as_deref(), Some("https://b"));
    }

    #[test]
    fn install_section_overrides_global_within_a_file() {
        let f = file(
            "/p/pip.conf",
            "[install]\nindex-url = https://install\n[global]\nindex-url = https://global\n",
        );
        let s = from_pip_config(&[], &[f]);
        assert_eq!(s.index_url.as_deref(), Some("https://install"));
    }

    #[test]
    fn env_vars_win_and_replace_lists() {
        let f = file(
            "/etc/pip.conf",
            "[global]\nindex-url = https://file\nextra-index-url = https://file-extra\nno-index = yes\n",
        );
        let e = env(&[
            ("PIP_INDEX_URL", "https://x/simple"),
            ("PIP_EXTRA_INDEX_URL", "https://e1  https://e2"),
            ("PIP_NO_INDEX", "off"),
            ("PIP_FIND_LINKS", "/wheels /more"),
            ("PIP_TRUSTED_HOST", "x"),
            ("PIP_REQUIRE_VIRTUALENV", "1"),
        ]);
        let s = from_pip_config(&e, &[f]);
        assert_eq!(s.index_url.as_deref(), Some("https://x/simple"));
        assert_eq!(s.extra_index_urls, ["https://e1", "https://e2"]);
        assert!(!s.no_index);
        assert_eq!(s.find_links, ["/wheels", "/more"]);
        assert_eq!(s.trusted_hosts, ["x"]);
        assert_eq!(s.source_of("index-url"), Some("PIP_INDEX_URL"));
        assert_eq!(s.source_of("no-index"), Some("PIP_NO_INDEX"));
        assert_eq!(s.sources.len(), 5);
    }

    #[test]
    fn no_index_truthiness_as_strtobool() {
        for v in ["1", "true", "YES", "on", "t", "y"] {
            let s = from_pip_config(&env(&[("PIP_NO_INDEX", v)]), &[]);
            assert!(s.no_index, "{v}");
        }
        for v in ["0", "false", "no", "off"] {
            let s = from_pip_config(&env(&[("PIP_NO_INDEX", v)]), &[]);
            assert!(!s.no_index, "{v}");
        }
        let s = from_pip_config(&env(&[("PIP_NO_INDEX", "maybe")]), &[]);
        assert!(!s.no_index);
        assert_eq!(s.warnings.len(), 1);
        assert!(s.warnings[0].contains("PIP_NO_INDEX"), "{:?}", s.warnings);
    }

    #[test]
    fn ini_edge_cases() {
        let f = file(
            "/p/pip.conf",
            "index-url = https://before-any-section\n\
             [global]\n; comment\nindex-url=https://a\n\n  \n",
        );
        let s = from_pip_config(&[], &[f]);
        assert_eq!(s.index_url.as_deref(), Some("https://a"));
    }

    #[test]
    fn pip_settings_are_translated_for_uv() {
        let e = env(&[
            ("PIP_INDEX_URL", "https://x/simple"),
            ("PIP_EXTRA_INDEX_URL", "https://extra/simple"),
            ("PIP_FIND_LINKS", "/wheels"),
            ("PIP_TRUSTED_HOST", "x"),
        ]);
        let s = from_pip_config(&e, &[]);
        let (args, desc) = uv_args(&s, &[], None, false, &IndexFlags::default());
        assert_eq!(
            args,
            [
                "--index-url",
                "https://x/simple",
                "--extra-index-url",
                "https://extra/simple",
                "--index-strategy",
                "unsafe-best-match",
                "--find-links",
                "/wheels",
                "--allow-insecure-host",
                "x",
            ]
        );
        assert!(
            desc.starts_with("index: https://x/simple (PIP_INDEX_URL)"),
            "{desc}"
        );
        assert!(desc.contains("extra index: https://extra/simple (PIP_EXTRA_INDEX_URL)"));
    }

    #[test]
    fn no_index_is_translated() {
        let s = from_pip_config(
            &env(&[("PIP_NO_INDEX", "1"), ("PIP_FIND_LINKS", "/w")]),
            &[],
        );
        let (args, desc) = uv_args(&s, &[], None, false, &IndexFlags::default());
        assert_eq!(args, ["--no-index", "--find-links", "/w"]);
        assert!(desc.contains("no index (PIP_NO_INDEX)"), "{desc}");
    }

    #[test]
    fn kip_flags_come_first() {
        let s = from_pip_config(
            &env(&[
                ("PIP_INDEX_URL", "https://pip/simple"),
                ("PIP_EXTRA_INDEX_URL", "https://pip-extra"),
            ]),
            &[],
        );
        let flags = IndexFlags {
            index_url: Some("https://kip/simple".into()),
            extra_index_urls: vec!["https://kip-extra".into()],
            find_links: vec!["./wheels".into()],
            no_index: false,
        };
        let (args, desc) = uv_args(
            &s,
            &env(&[("UV_INDEX_URL", "https://uv")]),
            None,
            false,
            &flags,
        );
        // kip's index wins over uv's and pip's; uv owns the extras, so pip's are not added
        assert_eq!(
            args,
            [
                "--index-url",
                "https://kip/simple",
                "--extra-index-url",
                "https://kip-extra",
                "--find-links",
                "./wheels",
            ]
        );
        assert!(
            desc.starts_with("index: https://kip/simple (kip --index-url)"),
            "{desc}"
        );

        // without uv settings, kip's extra index adds to pip's (optparse append)
        let (args, _) = uv_args(&s, &[], None, false, &flags);
        let extras: Vec<_> = args
            .windows(2)
            .filter(|w| w[0] == "--extra-index-url")
            .map(|w| w[1].clone())
            .collect();
        assert_eq!(extras, ["https://pip-extra", "https://kip-extra"]);
        assert!(args.contains(&"unsafe-best-match".to_string()));

        let d = describe_for_pip(&s, &flags);
        assert!(
            d.starts_with("index: https://kip/simple (kip --index-url)"),
            "{d}"
        );
        assert!(
            d.contains("extra index: https://pip-extra (PIP_EXTRA_INDEX_URL)"),
            "{d}"
        );

        // kip's --no-index: no index at all, whatever is configured; pip gets the flags as typed.
        let flags = IndexFlags {
            no_index: true,
            ..flags
        };
        let (args, desc) = uv_args(&s, &[], None, false, &flags);
        assert_eq!(args, ["--no-index", "--find-links", "./wheels"]);
        assert_eq!(
            desc,
            "no index (kip --no-index); find-links: ./wheels (kip --find-links)"
        );
        assert_eq!(
            pip_args(&flags),
            [
                "--index-url",
                "https://kip/simple",
                "--extra-index-url",
                "https://kip-extra",
                "--find-links",
                "./wheels",
                "--no-index",
            ]
        );
        assert!(describe_for_pip(&s, &flags).starts_with("no index (kip --no-index)"));
    }

    #[test]
    fn uv_own_settings_suppress_translation() {
        let s = from_pip_config(
            &env(&[
                ("PIP_INDEX_URL", "https://pip/simple"),
                ("PIP_EXTRA_INDEX_URL", "https://pip-extra"),
                ("PIP_FIND_LINKS", "/pip-wheels"),
                ("PIP_NO_INDEX", "1"),
                ("PIP_TRUSTED_HOST", "pip"),
            ]),
            &[],
        );
        let uv = env(&[
            ("UV_DEFAULT_INDEX", "https://uv/simple"),
            ("UV_FIND_LINKS", "/uv-wheels"),
            ("UV_INSECURE_HOST", "uvhost"),
        ]);
        let (args, desc) = uv_args(&s, &uv, None, false, &IndexFlags::default());
        assert!(args.is_empty(), "{args:?}");
        assert!(
            desc.starts_with("index: https://uv/simple (UV_DEFAULT_INDEX, read by uv)"),
            "{desc}"
        );
        assert!(
            desc.contains("find-links: /uv-wheels (UV_FIND_LINKS, read by uv)"),
            "{desc}"
        );
        // pip's no-index is not applied under uv's own index, and the line says so.
        assert!(
            desc.contains("no-index from PIP_NO_INDEX is not applied: uv's own index settings win"),
            "{desc}"
        );
        assert!(!desc.contains("no index ("), "{desc}");

        // uv.toml with an index: pip's index, extras, find-links and no-index are not translated
        let (args, desc) = uv_args(&s, &[], None, true, &IndexFlags::default());
        assert_eq!(args, ["--allow-insecure-host", "pip"]);
        assert!(desc.starts_with("index: uv's own configuration"), "{desc}");
    }

    /// Issue 9: uv has no `UV_NO_INDEX`. With pip's no-index set too, kip passes `--no-index`
    /// and its line names no index, and the unread variable, never PyPI.
    #[test]
    fn uv_no_index_is_not_claimed_and_pip_no_index_is_translated() {
        let s = from_pip_config(
            &env(&[("PIP_NO_INDEX", "1"), ("PIP_FIND_LINKS", "/w")]),
            &[],
        );
        let v = Some(UvVersion(0, 13, 9));
        let uv = env(&[("UV_NO_INDEX", "1")]);
        let (args, desc) = uv_args(&s, &uv, v, false, &IndexFlags::default());
        assert_eq!(args, ["--no-index", "--find-links", "/w"]);
        assert_eq!(
            desc,
            "no index (PIP_NO_INDEX); find-links: /w (PIP_FIND_LINKS); UV_NO_INDEX is set, but uv 0.13.9 does not read it"
        );
        // Alone, it changes nothing and is still named.
        let (args, desc) = uv_args(
            &from_pip_config(&[], &[]),
            &uv,
            v,
            false,
            &IndexFlags::default(),
        );
        assert!(args.is_empty());
        assert_eq!(
            desc,
            "index: PyPI (default); UV_NO_INDEX is set, but uv 0.13.9 does not read it"
        );
    }

    #[test]
    fn variables_count_from_the_uv_release_that_reads_them() {
        let s = from_pip_config(&env(&[("PIP_INDEX_URL", "https://pip/simple")]), &[]);
        let uv = env(&[("UV_DEFAULT_INDEX", "https://uv/simple")]);
        // uv 0.4.22 has no UV_DEFAULT_INDEX (0.4.23): pip's index is translated.
        let (args, desc) = uv_args(
            &s,
            &uv,
            Some(UvVersion(0, 4, 22)),
            false,
            &IndexFlags::default(),
        );
        assert_eq!(args, ["--index-url", "https://pip/simple"]);
        assert!(
            desc.contains("UV_DEFAULT_INDEX is set, but uv 0.4.22 does not read it"),
            "{desc}"
        );
        let (args, desc) = uv_args(
            &s,
            &uv,
            Some(UvVersion(0, 4, 23)),
            false,
            &IndexFlags::default(),
        );
        assert!(args.is_empty(), "{args:?}");
        assert_eq!(
            desc,
            "index: https://uv/simple (UV_DEFAULT_INDEX, read by uv)"
        );
        assert!(UvVersion::reads(None, "UV_FIND_LINKS"));
        assert!(!UvVersion::reads(None, "UV_NO_INDEX"));
    }

    #[test]
    fn uv_version_lines_parse() {
        assert_eq!(
            UvVersion::parse("uv 0.13.9 (x86_64-unknown-linux-gnu)\n"),
            Some(UvVersion(0, 13, 9))
        );
        assert_eq!(
            UvVersion::parse("uv 0.4.30 (61ed2a236 2024-11-04)"),
            Some(UvVersion(0, 4, 30))
        );
        assert_eq!(UvVersion::parse("uv 0.5.0-rc1"), Some(UvVersion(0, 5, 0)));
        assert_eq!(UvVersion::parse("garbage"), None);
        assert_eq!(UvVersion::parse(""), None);
    }

    #[test]
    fn pip_no_index_line_names_no_index() {
        let s = from_pip_config(
            &env(&[("PIP_NO_INDEX", "1"), ("PIP_INDEX_URL", "https://x")]),
            &[],
        );
        let d = describe_for_pip(&s, &IndexFlags::default());
        assert_eq!(d, "no index (PIP_NO_INDEX)");
    }

    #[test]
    fn only_extra_index_from_uv_still_suppresses_pip_index() {
        let s = from_pip_config(&env(&[("PIP_INDEX_URL", "https://pip/simple")]), &[]);
        let (args, desc) = uv_args(
            &s,
            &env(&[("UV_EXTRA_INDEX_URL", "https://uv-extra")]),
            None,
            false,
            &IndexFlags::default(),
        );
        assert!(args.is_empty(), "{args:?}");
        assert!(desc.contains("UV_EXTRA_INDEX_URL, read by uv"), "{desc}");
    }

    #[test]
    fn index_strategy_respects_uv_index_strategy() {
        let s = from_pip_config(&env(&[("PIP_EXTRA_INDEX_URL", "https://e")]), &[]);
        let (args, _) = uv_args(
            &s,
            &env(&[("UV_INDEX_STRATEGY", "first-index")]),
            None,
            false,
            &IndexFlags::default(),
        );
        assert_eq!(args, ["--extra-index-url", "https://e"]);
    }

    #[test]
    fn empty_uv_variables_do_not_count() {
        let s = from_pip_config(&env(&[("PIP_INDEX_URL", "https://pip/simple")]), &[]);
        let (args, _) = uv_args(
            &s,
            &env(&[("UV_INDEX_URL", "")]),
            None,
            false,
            &IndexFlags::default(),
        );
        assert_eq!(args, ["--index-url", "https://pip/simple"]);
    }
}
