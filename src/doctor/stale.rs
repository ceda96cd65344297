//! `kernel-state-stale`: what a running kernel cannot see although its env now has it.
//!
//! `site.py` runs once, when the interpreter starts: it puts the user site-packages on
//! `sys.path` only if that directory exists then, and reads each `.pth` file only then. So a
//! `pip install --user` that creates the user site after the kernel started, or a `.pth` added
//! after it started (an editable install, a `.pth` written by hand), is invisible to that
//! kernel until it restarts — while disk says the module is there. Inside a running kernel
//! kip says "restart the kernel", never "install", and does not call the module importable.
//!
//! When a directory or file came to be is its birth time (statx); where the filesystem keeps
//! none, kip claims nothing.
//!
//! The other way round: a distribution upgraded, reinstalled or removed after the kernel
//! imported it (`!pip install -U pandas` in a notebook that already ran `import pandas`). The
//! kernel keeps running the old code from `sys.modules`, and a new `import` hands it back. Disk
//! proves it for compiled modules: the kernel still maps their files, which the kernel marks
//! `(deleted)` in `/proc/PID/maps` once pip has removed or replaced them
//! (`jupyter::runtime::replaced`, which `kip ps` and `kip why` read too).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::doctor::finding::{Finding, FindingId};
use crate::jupyter::runtime;
use crate::python::environment::Environment;
use crate::python::site;

/// Something in `env` that the kernel started at `started` cannot see: the path and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unseen {
    /// The user site, or the `.pth` file.
    pub path: PathBuf,
    /// The directories it would put on `sys.path`.
    pub dirs: Vec<PathBuf>,
    pub why: String,
}

/// How much later than the process's start a birth must be to count as "after": the start
/// time is read from clock ticks, and `site.py` runs a little after `exec`; something born
/// in between was seen, so kip claims only what is clearly later.
const MARGIN: Duration = Duration::from_millis(500);

fn born_after(p: &Path, started: SystemTime) -> bool {
    std::fs::metadata(p)
        .and_then(|m| m.created())
        .is_ok_and(|born| born > started + MARGIN)
}

/// Everything of `env` that a kernel started at `started` does not have on `sys.path`.
pub fn unseen(env: &Environment, started: SystemTime) -> Vec<Unseen> {
    let mut out = Vec::new();
    let user = env
        .user_site
        .path
        .as_ref()
        .filter(|_| env.user_site.enabled)
        .filter(|p| p.is_dir());
    if let Some(us) = user.filter(|us| born_after(us, started)) {
        let mut dirs = vec![us.clone()];
        dirs.extend(site::pth_dirs(us));
        out.push(Unseen {
            path: us.clone(),
            dirs,
            why: format!(
                "user site-packages \"{}\" was created after the kernel started, and Python adds it to sys.path only if it exists at start",
                us.display()
            ),
        });
    }
    let sites = env
        .site_packages
        .iter()
        .chain(user.into_iter().filter(|us| !born_after(us, started)));
    for sp in sites {
        for pth in site::pth_files(sp) {
            if !born_after(&pth, started) {
                continue;
            }
            let dirs = site::pth_file_dirs(sp, &pth);
            if dirs.is_empty() {
                continue;
            }
            out.push(Unseen {
                path: pth.clone(),
                why: format!(
                    "\"{}\" was added after the kernel started, and Python reads .pth files only at start",
                    pth.display()
                ),
                dirs,
            });
        }
    }
    out
}

/// Why the kernel `pid` (running `env`) cannot import from `dir`, if it cannot.
pub fn hides(env: &Environment, pid: i32, dir: &Path) -> Option<Unseen> {
    let started = runtime::process_start_time(pid)?;
    unseen(env, started)
        .into_iter()
        .find(|u| u.dirs.iter().any(|d| d == dir))
}

/// Which of the distributions `names` (normalized) the kernel `pid` cannot see: each with
/// what hides it.
pub fn hidden_distributions(
    env: &Environment,
    pid: i32,
    names: &[String],
) -> Vec<(String, Unseen)> {
    let Some(started) = runtime::process_start_time(pid) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for u in unseen(env, started) {
        for d in u.dirs.iter().flat_map(|d| site::installed_distributions(d)) {
            if names.contains(&d.normalized_name) && !out.iter().any(|(n, _)| *n == d.name) {
                out.push((d.name.clone(), u.clone()));
            }
        }
    }
    out
}

/// The advice: a restart, never an install.
pub fn restart_fix(kernel: Option<&str>, pid: i32) -> String {
    let which = kernel
        .map(|k| format!("kernel \"{k}\" (pid {pid})"))
        .unwrap_or_else(|| format!("the kernel (pid {pid})"));
    format!("restart {which}: Kernel → Restart Kernel in Jupyter (the environment already has it; nothing to install)")
}

/// `kernel-state-stale` for the running kernel `pid` of `env`.
pub fn check(env: &Environment, kernel: Option<&str>, pid: i32, out: &mut Vec<Finding>) {
    let Some(started) = runtime::process_start_time(pid) else {
        return;
    };
    for u in unseen(env, started) {
        let names: Vec<String> = u
            .dirs
            .iter()
            .flat_map(|d| site::installed_distributions(d))
            .map(|d| d.name)
            .collect();
        let what = if names.is_empty() {
            String::new()
        } else {
            format!(" (it holds {})", names.join(", "))
        };
        out.push(Finding::new(
            FindingId::KernelStateStale,
            kernel.map(str::to_string).unwrap_or_else(|| format!("pid {pid}")),
            format!("the running kernel (pid {pid}) cannot see it: {}{what}", u.why),
            "A Python process fixes sys.path when it starts; what appears later (a user site created by `pip install --user`, a new .pth) is importable only after a restart. Installing again changes nothing.",
            restart_fix(kernel, pid),
        ));
    }
    for r in runtime::replaced(env, pid) {
        let first = r.files[0].display();
        let files = match r.files.len() {
            1 => format!("\"{first}\""),
            n => format!("\"{first}\" and {} more", n - 1),
        };
        let now = match &r.now {
            Some(d) => format!("; disk now has {d}, which it will not load"),
            None => "; the distribution is no longer installed".to_string(),
        };
        out.push(Finding::new(
            FindingId::KernelStateStale,
            kernel.map(str::to_string).unwrap_or_else(|| format!("pid {pid}")),
            format!(
                "the running kernel (pid {pid}) still runs the old \"{}\": its files {files} were replaced or removed on disk after the kernel imported them{now}",
                r.module
            ),
            "An upgrade, reinstall or uninstall while a kernel runs changes only the disk: the kernel keeps the modules it imported, and importing again hands back the same old ones (a reload half-works at best). Only a new process loads what is installed now.",
            restart_fix(kernel, pid),
        ));
    }
}
