//! `env-editable-missing`: an editable install (`pip install -e`, `uv pip install -e`) whose
//! project folder is gone — moved, renamed or deleted. Its `.pth` line or `__editable__`
//! finder still points there, so the import fails, while the metadata says the distribution is
//! installed and a plain install reports "already satisfied". The fix reinstalls it from where
//! the project is now.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId};
use crate::python::dist_name::normalize_dist_name;
use crate::python::environment::Environment;
use crate::python::site;

fn q(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// One editable install: the distribution and the project folder it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Editable {
    pub name: String,
    pub folder: PathBuf,
    /// Where its import hook sends each top-level name (setuptools' `__editable___*_finder.py`
    /// `MAPPING`; `None` for a path line of its `__editable__.*.pth`): what `import` really
    /// follows, fixed when it was installed.
    pub pointers: Vec<(Option<String>, PathBuf)>,
}

/// The pointers of the editable install whose `RECORD` lists `files`: the `MAPPING` of
/// setuptools' finder module, and the directory lines of its `.pth` (its `import` lines load
/// the finder).
fn pointers(site_dir: &Path, files: &[(String, Option<u64>)]) -> Vec<(Option<String>, PathBuf)> {
    let mut out = Vec::new();
    for (f, _) in files
        .iter()
        .filter(|(f, _)| f.starts_with("__editable__") && !f.contains('/'))
    {
        let Ok(text) = crate::files::read_to_string(site_dir.join(f)) else {
            continue;
        };
        if f.ends_with("_finder.py") {
            let Some(line) = text.lines().find(|l| l.starts_with("MAPPING")) else {
                continue;
            };
            let Some((_, dict)) = line.split_once('=') else {
                continue;
            };
            let strings = python_strings(dict);
            out.extend(
                strings
                    .chunks_exact(2)
                    .map(|kv| (Some(kv[0].clone()), PathBuf::from(&kv[1]))),
            );
        } else if f.ends_with(".pth") {
            out.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("import"))
                    .map(|l| (None, site_dir.join(l))),
            );
        }
    }
    out
}

/// The string literals of a Python expression written by `repr` (`{'a': '/x/a'}`), in order,
/// their backslash escapes undone.
fn python_strings(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        if c != '\'' && c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(d) = chars.next() {
            match d {
                '\\' => s.extend(chars.next()),
                d if d == c => break,
                d => s.push(d),
            }
        }
        out.push(s);
    }
    out
}

/// `%XX` escapes of a `file://` URL decoded (PEP 610 URLs are percent-encoded).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The editable installs in one site-packages dir: PEP 610 `direct_url.json` with
/// `dir_info.editable` (pip ≥ 21.3, uv), and legacy `NAME.egg-link` files (`setup.py develop`).
pub fn editables(site_dir: &Path) -> Vec<Editable> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::new();
    for d in site::installed_distributions(site_dir) {
        let Ok(text) = crate::files::read_to_string(d.dist_info.join("direct_url.json")) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if v["dir_info"]["editable"] != true {
            continue;
        }
        let Some(path) = v["url"].as_str().and_then(|u| u.strip_prefix("file://")) else {
            continue;
        };
        let folder = PathBuf::from(std::ffi::OsStr::from_bytes(&percent_decode(path)));
        out.push(Editable {
            name: d.name,
            folder,
            pointers: pointers(site_dir, &site::record_entries(&d.dist_info)),
        });
    }
    for e in std::fs::read_dir(site_dir).into_iter().flatten().flatten() {
        let n = crate::pyjson::os_text(e.file_name());
        let Some(stem) = n.strip_suffix(".egg-link") else {
            continue;
        };
        let Ok(text) = crate::files::read_to_string(e.path()) else {
            continue;
        };
        let Some(line) = text.lines().next().map(str::trim).filter(|l| !l.is_empty()) else {
            continue;
        };
        if !out
            .iter()
            .any(|x: &Editable| normalize_dist_name(&x.name) == normalize_dist_name(stem))
        {
            out.push(Editable {
                name: stem.to_string(),
                folder: site_dir.join(line),
                pointers: Vec::new(),
            });
        }
    }
    out
}

/// The distribution name a project folder declares: `[project] name` in `pyproject.toml`,
/// `name =` in `setup.cfg`'s `[metadata]`, or `name="…"` in `setup.py`.
fn project_name(dir: &Path) -> Option<String> {
    let read = |f: &str| crate::files::read_to_string(dir.join(f)).ok();
    let in_section = |text: &str, section: &str| -> Option<String> {
        let mut inside = false;
        for l in text.lines() {
            let t = l.trim();
            if t.starts_with('[') {
                inside = t == section;
                continue;
            }
            if let Some((k, v)) = t.split_once('=').filter(|_| inside) {
                if k.trim() == "name" {
                    return Some(v.trim().trim_matches(['"', '\'']).to_string());
                }
            }
        }
        None
    };
    if let Some(n) = read("pyproject.toml").and_then(|t| in_section(&t, "[project]")) {
        return Some(n);
    }
    if let Some(n) = read("setup.cfg").and_then(|t| in_section(&t, "[metadata]")) {
        return Some(n);
    }
    let setup = read("setup.py")?;
    let re = regex::Regex::new(r#"name\s*=\s*["']([A-Za-z0-9._-]+)["']"#).ok()?;
    re.captures(&setup).map(|c| c[1].to_string())
}

/// Where the project `name` lives now: a folder declaring that distribution among the
/// siblings of the old folder (a rename) or its nearest existing ancestor's children, or the
/// current directory and its parents (the user runs kip from the moved project).
pub fn moved_to(ctx: &Context, name: &str, old: &Path) -> Option<PathBuf> {
    let want = normalize_dist_name(name);
    let matches =
        |d: &Path| d.is_dir() && project_name(d).is_some_and(|n| normalize_dist_name(&n) == want);
    let mut anc = old.parent();
    while let Some(a) = anc {
        if a.is_dir() {
            break;
        }
        anc = a.parent();
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(a) = anc.filter(|a| a.parent().is_some()) {
        let mut kids: Vec<PathBuf> = std::fs::read_dir(a)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        kids.sort();
        candidates.extend(kids);
    }
    candidates.extend(ctx.cwd.ancestors().take(4).map(Path::to_path_buf));
    candidates.into_iter().find(|c| matches(c))
}

pub fn check(ctx: &Context, env: &Environment, prefix: &str, out: &mut Vec<Finding>) {
    for sp in &env.site_packages {
        for e in editables(sp) {
            if e.folder.exists() {
                out.extend(reorganised(&e, prefix));
                continue;
            }
            let fix = match moved_to(ctx, &e.name, &e.folder) {
                Some(new) => format!(
                    "kip install -e {} --prefix {}",
                    q(&crate::pyjson::os_text(&new)),
                    q(prefix)
                ),
                None => format!(
                    "kip install -e NEW_FOLDER --prefix {p} (NEW_FOLDER: where the project \"{n}\" is now); if it is gone for good: kip uninstall {n} --prefix {p}",
                    p = q(prefix),
                    n = q(&e.name)
                ),
            };
            let mut f = Finding::new(
                FindingId::EnvEditableMissing,
                prefix,
                format!(
                    "the editable install of \"{}\" points at \"{}\", which no longer exists",
                    e.name,
                    e.folder.display()
                ),
                format!(
                    "An editable install leaves only a pointer in site-packages (a .pth path or an __editable__ finder) to the project folder; with the folder moved or deleted, `import` finds nothing. The metadata still says \"{}\" is installed, so a plain install reports \"already satisfied\": it has to be installed again from the folder where the project is now.",
                    e.name
                ),
                fix,
            );
            f.distribution = Some(e.name.clone());
            out.push(f);
        }
    }
}

/// The project folder is still there but what the install's hook points at is not: the project
/// was reorganised after `pip install -e` (a package moved into `src/`, renamed). Installing
/// it again from the same folder writes the hook anew.
fn reorganised(e: &Editable, prefix: &str) -> Option<Finding> {
    let gone: Vec<String> = e
        .pointers
        .iter()
        .filter(|(_, p)| !p.exists())
        .map(|(m, p)| match m {
            Some(m) => format!("\"{m}\" to \"{}\"", p.display()),
            None => format!("\"{}\" (a path it adds to sys.path)", p.display()),
        })
        .collect();
    if gone.is_empty() {
        return None;
    }
    let folder = crate::pyjson::os_text(&e.folder);
    let mut f = Finding::new(
        FindingId::EnvEditableMissing,
        prefix,
        format!(
            "the editable install of \"{}\" maps {}, which no longer exists; the project \"{folder}\" is still there",
            e.name,
            gone.join(" and ")
        ),
        "An editable install fixes, when it is made, where each of its packages lives (setuptools writes the paths into an import hook in site-packages). Moving a package inside the project afterwards (into src/, under a new name) leaves the hook pointing at nothing, so `import` fails though the project and its metadata are there, and a plain install reports \"already satisfied\". Installing it again in editable mode from the same folder writes the hook anew.",
        format!("kip install -e {} --prefix {}", q(&folder), q(prefix)),
    );
    f.distribution = Some(e.name.clone());
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_url_and_egg_link_editables() {
        let d = tempfile::tempdir().unwrap();
        let sp = d.path().join("site");
        let di = sp.join("my_pkg-0.1.dist-info");
        std::fs::create_dir_all(&di).unwrap();
        std::fs::write(di.join("METADATA"), "Name: my-pkg\nVersion: 0.1\n").unwrap();
        std::fs::write(
            di.join("direct_url.json"),
            r#"{"dir_info": {"editable": true}, "url": "file:///home/u/my%20proj"}"#,
        )
        .unwrap();
        std::fs::write(sp.join("legacy.egg-link"), "/home/u/legacy\n.\n").unwrap();
        let found = editables(&sp);
        assert_eq!(
            found,
            vec![
                Editable {
                    name: "my-pkg".into(),
                    folder: "/home/u/my proj".into(),
                    pointers: Vec::new(),
                },
                Editable {
                    name: "legacy".into(),
                    folder: "/home/u/legacy".into(),
                    pointers: Vec::new(),
                }
            ]
        );
    }

    #[test]
    fn setuptools_finder_mapping_and_pth_paths_are_pointers() {
        let d = tempfile::tempdir().unwrap();
        let sp = d.path();
        std::fs::write(
            sp.join("__editable___mylib_0_1_finder.py"),
            "import sys\nMAPPING: dict[str, str] = {'mylib': '/p/mylib', 'it\\'s': \"/p/q\\\\x\"}\nNAMESPACES: dict[str, list[str]] = {}\n",
        )
        .unwrap();
        std::fs::write(
            sp.join("__editable__.mylib-0.1.pth"),
            "import __editable___mylib_0_1_finder; __editable___mylib_0_1_finder.install()\n",
        )
        .unwrap();
        std::fs::write(sp.join("__editable__.other-1.0.pth"), "/p/src\n").unwrap();
        let files = |names: &[&str]| -> Vec<(String, Option<u64>)> {
            names.iter().map(|n| (n.to_string(), None)).collect()
        };
        assert_eq!(
            pointers(
                sp,
                &files(&[
                    "__editable__.mylib-0.1.pth",
                    "__editable___mylib_0_1_finder.py",
                    "mylib-0.1.dist-info/RECORD"
                ])
            ),
            vec![
                (Some("mylib".to_string()), PathBuf::from("/p/mylib")),
                (Some("it's".to_string()), PathBuf::from("/p/q\\x")),
            ]
        );
        assert_eq!(
            pointers(sp, &files(&["__editable__.other-1.0.pth"])),
            vec![(None, PathBuf::from("/p/src"))]
        );
    }

    #[test]
    fn a_renamed_project_is_found_beside_the_old_folder() {
        let d = tempfile::tempdir().unwrap();
        let new = d.path().join("proj-v2");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("pyproject.toml"),
            "[build-system]\nname = \"x\"\n[project]\nname = \"My_Pkg\"\n",
        )
        .unwrap();
        let ctx = Context::new(
            crate::platform::Os::Linux,
            crate::envvars::EnvVars::from_pairs([("HOME", "/nonexistent")]),
            PathBuf::from("/"),
        );
        assert_eq!(moved_to(&ctx, "my-pkg", &d.path().join("proj")), Some(new));
        assert_eq!(moved_to(&ctx, "other", &d.path().join("proj")), None);
    }
}
