//! "Requirement already satisfied", decided from disk before any installer starts.
//!
//! `pip install X` and `uv pip install X` with X installed change nothing, but each spends its
//! own start-up finding that out (pip ~0.4 s, uv a resolution). kip reads the same answer from
//! the target's site-packages: every requested distribution is installed at a version its
//! specifier accepts, and so is every dependency it pulls in (Requires-Dist, markers evaluated
//! for the target interpreter, extras followed), as pip's resolver would find them. Any doubt —
//! a URL or path, an egg-info, two copies of one name, a marker or version kip cannot read,
//! `-U`, `-r`, `-c`, `-e`, raw installer arguments — answers "not known", and the installer runs
//! as before: this path may only ever skip work the installer would not have done.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, VersionOrUrl};

use super::commands::InstallOptions;
use super::requirement::Requirement;
use crate::python::site;

/// One requested distribution found installed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Satisfied {
    pub name: String,
    pub version: String,
}

/// The PEP 508 marker environment from the probe's `markers` map.
pub fn marker_environment(markers: &BTreeMap<String, String>) -> Option<MarkerEnvironment> {
    let get = |k: &str| markers.get(k).map(String::as_str);
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: get("implementation_name")?,
        implementation_version: get("implementation_version")?,
        os_name: get("os_name")?,
        platform_machine: get("platform_machine")?,
        platform_python_implementation: get("platform_python_implementation")?,
        platform_release: get("platform_release")?,
        platform_system: get("platform_system")?,
        platform_version: get("platform_version")?,
        python_full_version: get("python_full_version")?,
        python_version: get("python_version")?,
        sys_platform: get("sys_platform")?,
    })
    .ok()
}

/// Can the options change an installed env even when every name is satisfied?
fn options_force_installer(o: &InstallOptions) -> bool {
    o.upgrade
        || o.force_reinstall
        || !o.editable.is_empty()
        || !o.constraints.is_empty()
        || !o.requirement_files.is_empty()
        || !o.raw.is_empty()
}

/// `Some(the requested distributions as installed)` when installing `reqs` into the env whose
/// site-packages are `site_dirs` would change nothing; `None` when that is not certain.
pub fn already_satisfied(
    reqs: &[Requirement],
    options: &InstallOptions,
    site_dirs: &[PathBuf],
    markers: &MarkerEnvironment,
) -> Option<Vec<Satisfied>> {
    if reqs.is_empty() || options_force_installer(options) {
        return None;
    }
    let installed = Installed::index(site_dirs)?;
    let mut top = Vec::new();
    let mut queue: VecDeque<pep508_rs::Requirement> = VecDeque::new();
    for r in reqs {
        let Requirement::Named { raw, .. } = r else {
            return None;
        };
        let parsed = pep508(raw)?;
        // A marker on a typed requirement: let the installer say what it ignores.
        if !parsed.marker.is_true() {
            return None;
        }
        queue.push_back(parsed);
    }
    let requested = queue.len();
    // Distributions whose dependencies were followed, with the extras they were followed for.
    let mut followed: HashMap<String, Vec<ExtraName>> = HashMap::new();
    let mut popped = 0;
    while let Some(req) = queue.pop_front() {
        popped += 1;
        let name = req.name.to_string();
        let dist = installed.get(&name)?;
        let spec = match &req.version_or_url {
            None => None,
            Some(VersionOrUrl::VersionSpecifier(s)) => Some(s),
            Some(VersionOrUrl::Url(_)) => return None,
        };
        if !satisfies(spec, &dist.version) {
            return None;
        }
        if popped <= requested {
            top.push(Satisfied {
                name: dist.display_name.clone(),
                version: dist.version.to_string(),
            });
        }
        if options.no_deps {
            continue;
        }
        // Each distribution's dependencies are followed once, and again only for extras not
        // followed yet; every round adds an extra, so cycles end.
        let extras = match followed.get_mut(&name) {
            None => followed.entry(name).or_insert(req.extras.clone()),
            Some(done) => {
                let new: Vec<ExtraName> = req
                    .extras
                    .iter()
                    .filter(|e| !done.contains(e))
                    .cloned()
                    .collect();
                if new.is_empty() {
                    continue;
                }
                done.extend(new);
                done
            }
        };
        for dep in &dist.requires {
            if dep.evaluate_markers(markers, extras) {
                queue.push_back(dep.clone());
            }
        }
    }
    Some(top)
}

/// A specifier set (or none) accepts an installed version. Pre-releases count as satisfying,
/// as they do for pip's check of an installed distribution.
fn satisfies(spec: Option<&VersionSpecifiers>, version: &Version) -> bool {
    spec.is_none_or(|s| s.contains(version))
}

/// An installed distribution, as far as the satisfaction check needs it.
pub(crate) struct Dist {
    display_name: String,
    version: Version,
    requires: Vec<pep508_rs::Requirement>,
}

/// The env's distributions by normalized name, read lazily: a name is only looked at when the
/// walk reaches it, so the check costs one `read_dir` per site-packages plus one METADATA per
/// distribution in the requested dependency tree.
struct Installed {
    dirs: HashMap<String, PathBuf>,
    loaded: std::cell::RefCell<HashMap<String, Option<std::rc::Rc<Dist>>>>,
}

impl Installed {
    /// `None` when a name is installed twice (which copy wins is sys.path order and a broken
    /// env; the installer should decide).
    fn index(site_dirs: &[PathBuf]) -> Option<Installed> {
        let mut dirs = HashMap::new();
        for sp in site_dirs {
            for (name, dir) in site::metadata_dirs(sp) {
                if dirs.insert(name, dir).is_some() {
                    return None;
                }
            }
        }
        Some(Installed {
            dirs,
            loaded: Default::default(),
        })
    }

    fn get(&self, name: &str) -> Option<std::rc::Rc<Dist>> {
        if let Some(d) = self.loaded.borrow().get(name) {
            return d.clone();
        }
        let d = self
            .dirs
            .get(name)
            .and_then(|p| read_dist(p))
            .map(std::rc::Rc::new);
        self.loaded.borrow_mut().insert(name.to_string(), d.clone());
        d
    }
}

/// A dist-info's name, version and Requires-Dist; `None` for egg-info (its requires.txt has
/// another syntax) or anything unreadable.
fn read_dist(dir: &Path) -> Option<Dist> {
    if dir.extension().and_then(|e| e.to_str()) != Some("dist-info") {
        return None;
    }
    let text = crate::files::read_to_string(dir.join("METADATA")).ok()?;
    parse_metadata(&text)
}

/// The headers of a METADATA file (they end at the first blank line; the body is the
/// description).
/// A PEP 508 requirement, or `None`. pep508_rs 0.9 panics (an `expect` on its own name
/// check) instead of failing when a name or an extra ends in `.`, `-` or `_` before more text
/// (`a.,`, `x[y.]`), which any METADATA file or typed requirement may hold (found by
/// `cargo fuzz`, kept in fuzz/regressions/dist_metadata/): such names are invalid PEP 508
/// anyway, so they are refused before the parser sees them.
fn pep508(s: &str) -> Option<pep508_rs::Requirement> {
    // pep508_rs takes an identifier as the longest run of these characters, ended by anything
    // else (whitespace included); it must not end in `.`, `-` or `_`.
    let run_ends_badly = |t: &str| {
        let t = t.trim_start();
        let end = t
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
            .unwrap_or(t.len());
        t[..end].ends_with(['.', '-', '_'])
    };
    let t = s.trim_start();
    // pep508_rs 0.9 also slices its input by byte offsets that can fall inside a multi-byte
    // character (a non-ASCII marker string panics). A requirement here only decides "already
    // satisfied"; None leaves the decision to the installer.
    if !s.is_ascii() || run_ends_badly(t) {
        return None;
    }
    let name_end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(t.len());
    if let Some(rest) = t[name_end..].trim_start().strip_prefix('[') {
        let extras = rest.split(']').next().unwrap_or("");
        if extras.split(',').any(run_ends_badly) {
            return None;
        }
    }
    pep508_rs::Requirement::from_str(s).ok()
}

pub(crate) fn parse_metadata(text: &str) -> Option<Dist> {
    let mut name = None;
    let mut version = None;
    let mut requires = Vec::new();
    for line in text.lines().take_while(|l| !l.trim().is_empty()) {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v.to_string()),
            "version" => version = Some(Version::from_str(v).ok()?),
            "requires-dist" => requires.push(pep508(v)?),
            _ => {}
        }
    }
    Some(Dist {
        display_name: name?,
        version: version?,
        requires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extras_that_crash_pep508_rs_are_refused() {
        for bad in [
            "a.,oe",
            "a-",
            "a_ ; python_version < '3'",
            "x[y.]",
            "x[ok, y- ]>=1",
        ] {
            assert!(pep508(bad).is_none(), "{bad}");
        }
        for good in ["a.b", "x[y]>=1", "x[y.z]", "name @ https://e.org/x.whl"] {
            assert!(pep508(good).is_some(), "{good}");
        }
    }

    fn linux_311() -> MarkerEnvironment {
        let m: BTreeMap<String, String> = [
            ("implementation_name", "cpython"),
            ("implementation_version", "3.11.7"),
            ("os_name", "posix"),
            ("platform_machine", "x86_64"),
            ("platform_python_implementation", "CPython"),
            ("platform_release", "6.1.0"),
            ("platform_system", "Linux"),
            ("platform_version", "#1 SMP"),
            ("python_full_version", "3.11.7"),
            ("python_version", "3.11"),
            ("sys_platform", "linux"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        marker_environment(&m).unwrap()
    }

    /// A site-packages dir with `(dist-info dir name, METADATA text)` entries.
    fn site(entries: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (dir, meta) in entries {
            let p = d.path().join(dir);
            std::fs::create_dir(&p).unwrap();
            std::fs::write(p.join("METADATA"), meta).unwrap();
        }
        d
    }

    fn check(sp: &tempfile::TempDir, typed: &[&str], opts: &InstallOptions) -> Option<Vec<String>> {
        let cwd = std::env::temp_dir();
        let reqs: Vec<Requirement> = typed
            .iter()
            .map(|t| super::super::requirement::parse(t, &cwd).unwrap())
            .collect();
        already_satisfied(&reqs, opts, &[sp.path().to_path_buf()], &linux_311()).map(|v| {
            v.into_iter()
                .map(|s| format!("{}=={}", s.name, s.version))
                .collect()
        })
    }

    const SIX: (&str, &str) = (
        "six-1.17.0.dist-info",
        "Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\n\nRequires-Dist: not-a-header\n",
    );

    #[test]
    fn an_installed_name_and_its_specifier() {
        let sp = site(&[SIX]);
        let o = InstallOptions::default();
        assert_eq!(check(&sp, &["six"], &o), Some(vec!["six==1.17.0".into()]));
        assert_eq!(
            check(&sp, &["SIX>=1.16,<2"], &o),
            Some(vec!["six==1.17.0".into()])
        );
        assert_eq!(check(&sp, &["six>=2"], &o), None);
        assert_eq!(check(&sp, &["six==1.16.*"], &o), None);
        assert_eq!(check(&sp, &["six", "absent"], &o), None);
    }

    #[test]
    fn dependencies_are_followed_with_markers_and_extras() {
        let a = "Name: A\nVersion: 2.0\nRequires-Dist: b>=1\nRequires-Dist: enum34; python_version < \"3.4\"\nRequires-Dist: c; extra == \"fast\"\nRequires-Dist: a[fast]; extra == \"all\"\n";
        let b = "Name: b\nVersion: 1.5\nRequires-Dist: a\n";
        let o = InstallOptions::default();
        // b is missing: pip would install it.
        let sp = site(&[("a-2.0.dist-info", a)]);
        assert_eq!(check(&sp, &["a"], &o), None);
        let no_deps = InstallOptions {
            no_deps: true,
            ..Default::default()
        };
        assert_eq!(check(&sp, &["a"], &no_deps), Some(vec!["A==2.0".into()]));
        // b present (a cycle back to a), enum34 not needed on 3.11, c only for [fast].
        let sp = site(&[("a-2.0.dist-info", a), ("b-1.5.dist-info", b)]);
        assert_eq!(check(&sp, &["a"], &o), Some(vec!["A==2.0".into()]));
        assert_eq!(check(&sp, &["a[fast]"], &o), None);
        assert_eq!(
            check(&sp, &["a[all]"], &o),
            None,
            "[all] pulls a[fast] pulls c"
        );
        // A dependency at a version its dependent does not accept.
        let old_b = "Name: b\nVersion: 0.9\n";
        let sp = site(&[("a-2.0.dist-info", a), ("b-0.9.dist-info", old_b)]);
        assert_eq!(check(&sp, &["a"], &o), None);
    }

    #[test]
    fn any_doubt_leaves_it_to_the_installer() {
        let sp = site(&[SIX]);
        let upgrade = InstallOptions {
            upgrade: true,
            ..Default::default()
        };
        assert_eq!(check(&sp, &["six"], &upgrade), None);
        let raw = InstallOptions {
            raw: vec!["--force-reinstall".into()],
            ..Default::default()
        };
        assert_eq!(check(&sp, &["six"], &raw), None);
        let o = InstallOptions::default();
        assert_eq!(
            check(
                &sp,
                &["six @ https://example.org/six-1.17.0-py3-none-any.whl"],
                &o
            ),
            None
        );
        assert_eq!(check(&sp, &["six; python_version > \"3\""], &o), None);
        // An egg-info (requires.txt syntax) and a name installed twice.
        let egg = site(&[("six-1.17.0-py3.11.egg-info", "Name: six\nVersion: 1.17.0\n")]);
        assert_eq!(check(&egg, &["six"], &o), None);
        let twice = site(&[
            SIX,
            ("Six-1.16.0.dist-info", "Name: six\nVersion: 1.16.0\n"),
        ]);
        assert_eq!(check(&twice, &["six"], &o), None);
        // Unreadable metadata.
        let bad = site(&[(
            "six-1.17.0.dist-info",
            "Name: six\nVersion: not a version!\n",
        )]);
        assert_eq!(check(&bad, &["six"], &o), None);
    }
}
