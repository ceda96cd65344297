//! `env-unpacked-placeholder`: an environment unpacked from a conda-pack archive whose
//! `conda-unpack` never ran.
//!
//! conda-pack (without `--dest-prefix`) archives files that hold a prefix as they are: a
//! conda-managed file from the package cache keeps its build placeholder (conda-build's, or
//! the old `/opt/anaconda1anaconda2anaconda3`), a file pip or `ipykernel install` wrote keeps
//! the packed env's own prefix. It writes `bin/conda-unpack`, a Python script whose
//! `_prefix_records` list names each such file with the prefix it holds; running it once in
//! the unpacked env puts the new prefix in. Until then its kernelspecs launch a Python that
//! does not exist here (or, on the machine it was packed on, the *old* env's), while the env
//! itself is whole — so the fix is `conda-unpack`, never removing the kernel.

use std::path::{Path, PathBuf};

use crate::doctor::finding::{Finding, FindingId};
use crate::jupyter::resolved::ResolvedKernel;

/// At most this many recorded files are read to decide (the kernelspecs first).
const MAX_READS: usize = 64;

/// An unpacked env whose recorded files still hold the prefix they were packed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpacked {
    pub prefix: PathBuf,
    pub script: PathBuf,
    /// A file that still holds it, and the prefix it holds.
    pub example: (PathBuf, String),
}

impl Unpacked {
    /// The command that finishes the unpacking: the script run by the env's own Python (its
    /// shebang is `/usr/bin/env python`, which outside an activated env may be another one, or
    /// none).
    pub fn fix(&self) -> String {
        let python = self.prefix.join("bin/python");
        format!(
            "{} {} (conda-unpack: writes this env's prefix into the files conda-pack left with the old one; the kernel is kept)",
            q(&python.display().to_string()),
            q(&self.script.display().to_string())
        )
    }
}

fn q(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// `prefix`, if conda-pack unpacked it and `conda-unpack` has not run there.
pub fn unpacked(prefix: &Path) -> Option<Unpacked> {
    let script = prefix.join("bin/conda-unpack");
    let text = crate::files::read_to_string(&script).ok()?;
    let records = prefix_records(&text)?;
    let here = prefix.to_string_lossy();
    // Kernelspecs first, then scripts: the files whose old prefix breaks a kernel.
    let mut wanted: Vec<&(String, String, String)> = records
        .iter()
        .filter(|(path, old, mode)| {
            mode == "text"
                && *old != here
                && !old.is_empty()
                && (path.starts_with("share/jupyter/kernels/") || path.starts_with("bin/"))
        })
        .collect();
    wanted.sort_by_key(|(path, _, _)| !path.starts_with("share/jupyter/kernels/"));
    for (path, old, _) in wanted.into_iter().take(MAX_READS) {
        let file = prefix.join(path);
        let Ok(bytes) = crate::files::read(&file) else {
            continue;
        };
        if bytes.windows(old.len()).any(|w| w == old.as_bytes()) {
            return Some(Unpacked {
                prefix: prefix.to_path_buf(),
                script,
                example: (file, old.clone()),
            });
        }
    }
    None
}

/// The `(path, placeholder, mode)` tuples of a conda-unpack script's `_prefix_records`
/// (`repr` of three strings per line); `None` when it is not conda-pack's script.
fn prefix_records(text: &str) -> Option<Vec<(String, String, String)>> {
    let start = text.find("\n_prefix_records = [")? + 1;
    let mut out = Vec::new();
    for line in text[start..].lines().skip(1) {
        let line = line.trim();
        if line.starts_with(']') {
            break;
        }
        let mut rest = line.strip_prefix('(')?;
        let mut parts = Vec::new();
        while parts.len() < 3 {
            rest = rest.trim_start_matches([',', ' ']);
            let (s, used) = py_str(rest)?;
            parts.push(s);
            rest = &rest[used..];
        }
        let mut it = parts.into_iter();
        out.push((it.next()?, it.next()?, it.next()?));
    }
    Some(out)
}

/// A `repr(str)` literal at the start of `s` ('…' or "…", backslash escapes): its value and
/// its length.
fn py_str(s: &str) -> Option<(String, usize)> {
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'x' => {
                        let hex: String = [chars.next()?.1, chars.next()?.1].iter().collect();
                        out.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
                    }
                    other => out.push(other),
                }
            }
            c if c == quote => return Some((out, i + 1)),
            c => out.push(c),
        }
    }
    None
}

/// The env prefix whose `share/jupyter/kernels/` holds this kernel's spec.
fn owning_prefix(k: &ResolvedKernel) -> Option<PathBuf> {
    let kernels = k.entry.found.resource_dir.parent()?;
    (kernels.file_name()? == "kernels"
        && kernels.parent()?.file_name()? == "jupyter"
        && kernels.parent()?.parent()?.file_name()? == "share")
        .then(|| kernels.parent()?.parent()?.parent().map(Path::to_path_buf))
        .flatten()
}

/// The finding for `env`'s prefix (`subject`: the kernel name, or the prefix).
pub fn finding(u: &Unpacked, subject: &str) -> Finding {
    Finding::new(
        FindingId::EnvUnpackedPlaceholder,
        subject,
        format!(
            "\"{}\" was unpacked from a conda-pack archive but `conda-unpack` never ran: \"{}\" still names \"{}\"",
            u.prefix.display(),
            u.example.0.display(),
            u.example.1
        ),
        "conda-pack leaves the packed env's prefix (or a build placeholder) in scripts and kernelspecs; `conda-unpack`, run once in the unpacked env, writes the new prefix in. Until then its kernels launch a Python that is not here (or the old env's), though the env itself is complete — so the kernel is repaired, not removed.",
        u.fix(),
    )
}

/// `env-unpacked-placeholder` for a kernelspec that lives in such an env (it replaces
/// `kernel-interpreter-missing`, whose fix would remove the kernel).
pub fn check_kernel(k: &ResolvedKernel) -> Option<Finding> {
    let u = unpacked(&owning_prefix(k)?)?;
    Some(finding(&u, &k.entry.found.name.to_string_lossy()))
}

/// `env-unpacked-placeholder` for an env a kernel, a PATH command or the target uses, unless
/// a kernel's finding already names it.
pub fn check_env(env: &crate::python::environment::Environment, out: &mut Vec<Finding>) {
    let Some(u) = unpacked(&env.prefix) else {
        return;
    };
    let named = format!("\"{}\"", u.prefix.display());
    if !out
        .iter()
        .any(|f| f.id == FindingId::EnvUnpackedPlaceholder && f.message.starts_with(&named))
    {
        out.push(finding(&u, &crate::pyjson::os_text(&u.prefix)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_conda_packs_records_and_sees_the_old_prefix() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("bin")).unwrap();
        std::fs::create_dir_all(p.join("share/jupyter/kernels/python3")).unwrap();
        std::fs::write(
            p.join("bin/conda-unpack"),
            "#!/usr/bin/env python\nx = 1\n\n_prefix_records = [\n('CACHEDIR.TAG', '/old/env', 'text'),\n(\"share/jupyter/kernels/python3/kernel.json\", '/old/env', 'text'),\n('bin/x\\'y', '/old/env', 'text')\n]\n",
        )
        .unwrap();
        let kj = p.join("share/jupyter/kernels/python3/kernel.json");
        std::fs::write(&kj, r#"{"argv": ["/old/env/bin/python"]}"#).unwrap();
        let u = unpacked(p).unwrap();
        assert_eq!(u.example, (kj.clone(), "/old/env".to_string()));
        assert!(u.fix().contains("conda-unpack"), "{}", u.fix());
        // after conda-unpack the new prefix is in: nothing to report
        std::fs::write(
            &kj,
            format!(r#"{{"argv": ["{}/bin/python"]}}"#, p.display()),
        )
        .unwrap();
        assert_eq!(unpacked(p), None);
        // not conda-pack's script
        std::fs::write(p.join("bin/conda-unpack"), "#!/bin/sh\n").unwrap();
        assert_eq!(unpacked(p), None);
        assert_eq!(
            prefix_records("\n_prefix_records = [\n('a\\\\b', \"c'd\", 'text'),\n]\n").unwrap(),
            vec![("a\\b".into(), "c'd".into(), "text".into())]
        );
    }
}
