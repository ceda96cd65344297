//! Running kernels, found from the process table — not from the runtime dir, because a kernel
//! started by a bare `KernelManager`, nbclient or papermill keeps its connection file in a temp
//! dir (jupyter-kernelspec-rules.md §5).
//!
//! The environment of a kernel is read from its `argv[0]` *as launched* (`/proc/PID/cmdline`):
//! `/proc/PID/exe` resolves a venv's `bin/python` symlink to the base interpreter, which is
//! exactly the wrong environment.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::envvars::EnvVars;

#[derive(Clone, Debug, Serialize)]
pub struct KernelProcess {
    pub pid: i32,
    pub argv: Vec<String>,
    /// The interpreter as launched (made absolute against the process's cwd when relative).
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub interpreter: PathBuf,
    /// The `-f` connection file.
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub connection_file: Option<PathBuf>,
    /// `kernel_name` from the connection file (jupyter_client writes it).
    pub kernel_name: Option<String>,
    /// `JPY_PARENT_PID`: the server that started it.
    pub server_pid: Option<i32>,
}

/// Modules that run an ipykernel kernel with `python -m`: ipykernel's own, and Spyder's
/// console kernel (a subclass of ipykernel's; checked with spyder-kernels 3.1.6, whose
/// processes run `python -m spyder_kernels.console -f FILE` under `JPY_PARENT_PID`).
const KERNEL_MODULES: [&str; 3] = ["ipykernel_launcher", "ipykernel", "spyder_kernels.console"];

/// Is this command line an ipykernel kernel (`-m` one of [`KERNEL_MODULES`], or the
/// `ipykernel_launcher.py` script)?
pub fn is_ipykernel_argv(argv: &[String]) -> bool {
    argv.windows(2)
        .any(|w| w[0] == "-m" && KERNEL_MODULES.contains(&w[1].as_str()))
        || argv.iter().any(|a| a.ends_with("ipykernel_launcher.py"))
}

/// The `-f FILE` / `-f=FILE` / `--f=FILE` argument.
pub fn connection_file_arg(argv: &[String]) -> Option<PathBuf> {
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if a == "-f" || a == "--f" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("-f=").or_else(|| a.strip_prefix("--f=")) {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// `kernel_name` from a connection file.
pub fn kernel_name_of(connection_file: &Path) -> Option<String> {
    let text = crate::files::read_to_string(connection_file).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("kernel_name")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A process's argv from `/proc/PID/cmdline` (as it was exec'd: a script run through its
/// shebang shows as `INTERPRETER SCRIPT ARGS…`).
pub fn read_cmdline(pid: i32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if raw.is_empty() {
        return None;
    }
    Some(
        raw.split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
    )
}

/// The parent pid from `/proc/PID/stat` (the field after the parenthesised command name).
pub fn parent_pid(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The environment of a process (readable for our own user's processes).
pub fn process_environ(pid: i32) -> Option<EnvVars> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .ok()
        .map(|b| EnvVars::from_environ_block(&b))
}

/// The ipykernel process `pid`, if it is one.
pub fn kernel_process(pid: i32) -> Option<KernelProcess> {
    let argv = read_cmdline(pid)?;
    if !is_ipykernel_argv(&argv) {
        return None;
    }
    let first = PathBuf::from(argv.first()?);
    let interpreter = if first.is_absolute() {
        first
    } else {
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
        match (first.components().count() > 1, cwd) {
            (true, Some(c)) => c.join(first),
            _ => first,
        }
    };
    let connection_file = connection_file_arg(&argv);
    let kernel_name = connection_file.as_deref().and_then(kernel_name_of);
    let server_pid =
        process_environ(pid).and_then(|e| e.get_str("JPY_PARENT_PID").and_then(|v| v.parse().ok()));
    Some(KernelProcess {
        pid,
        argv,
        interpreter,
        connection_file,
        kernel_name,
        server_pid,
    })
}

/// Is `pid` a live process (present, and not a zombie waiting to be reaped)?
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// When `pid` started: its `starttime` (clock ticks after boot, `/proc/PID/stat` field 22)
/// against the uptime in `/proc/uptime` (hundredths of a second; the boot time in `/proc/stat`
/// is whole seconds, too coarse to order an install a moment after a kernel start).
pub fn process_start_time(pid: i32) -> Option<std::time::SystemTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks: u64 = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz <= 0 {
        return None;
    }
    let ago = uptime - ticks as f64 / hz as f64;
    std::time::SystemTime::now().checked_sub(std::time::Duration::from_secs_f64(ago.max(0.0)))
}

/// Files under `prefix` that `pid` still has mapped though they were deleted or replaced on
/// disk since (the kernel `(deleted)` mark in `/proc/PID/maps`): compiled modules of a
/// distribution that changed under a running interpreter.
pub fn deleted_mappings(pid: i32, prefix: &Path) -> Vec<PathBuf> {
    let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = maps
        .lines()
        .filter_map(|l| l.strip_suffix(" (deleted)"))
        .filter_map(|l| l.find(" /").map(|i| PathBuf::from(&l[i + 1..])))
        .filter(|p| p.starts_with(prefix))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A distribution whose compiled files the kernel still runs though they were replaced or
/// removed on disk after it imported them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// The top-level import name the files belong to (`numpy`).
    pub module: String,
    /// The distribution that has it on disk now, with its version (`numpy 2.1.3`), if any.
    pub now: Option<String>,
    /// The files, as the kernel's memory map names them.
    pub files: Vec<PathBuf>,
}

/// What the kernel `pid` (running `env`) imported and disk has since replaced or removed.
pub fn replaced(env: &crate::python::environment::Environment, pid: i32) -> Vec<Replaced> {
    let user = env.user_site.path.iter().filter(|_| env.user_site.enabled);
    let sites: Vec<&PathBuf> = env.site_packages.iter().chain(user).collect();
    let dists: Vec<crate::python::site::Distribution> = sites
        .iter()
        .flat_map(|sp| crate::python::site::installed_distributions(sp))
        .collect();
    let now = |module: &str| {
        dists
            .iter()
            .find(|d| d.top_level.iter().any(|t| t == module))
            .map(|d| format!("{} {}", d.name, d.version))
    };
    let mut out: Vec<Replaced> = Vec::new();
    for f in deleted_mappings(pid, Path::new("/")) {
        let Some(first) = top_component(&sites, &f) else {
            continue;
        };
        // A package folder, or a top-level extension module (`_cffi_backend.cpython-….so`).
        let name = first.split('.').next().unwrap_or(&first).to_string();
        let module = unstash(&name, dists.iter().flat_map(|d| &d.top_level))
            .map(str::to_string)
            .unwrap_or(name);
        match out.iter_mut().find(|r| r.module == module) {
            Some(r) => r.files.push(f),
            None => out.push(Replaced {
                now: now(&module),
                module,
                files: vec![f],
            }),
        }
    }
    out
}

/// The first component below the site dir that held `file`: below one of `sites`, or below
/// the temporary folder pip moves a removed file to (`…/pip-uninstall-XXXX/`) before deleting
/// it. `None` for files of anything else (a system library an OS update replaced).
fn top_component(sites: &[&PathBuf], file: &Path) -> Option<String> {
    let first = |rest: &Path| -> Option<String> {
        Some(
            rest.components()
                .next()?
                .as_os_str()
                .to_string_lossy()
                .into_owned(),
        )
    };
    if let Some(sp) = sites.iter().find(|sp| file.starts_with(sp)) {
        return first(file.strip_prefix(sp).ok()?);
    }
    let mut parts = file.components();
    while let Some(c) = parts.next() {
        if c.as_os_str()
            .to_string_lossy()
            .starts_with("pip-uninstall-")
        {
            return first(parts.as_path());
        }
    }
    None
}

/// pip moves a folder it uninstalls to an adjacent `~`-name before deleting it (its
/// `AdjacentTempDirectory`: the first `i` characters become `~` and `i - 1` of `-~.=%0-9`), and
/// the kernel's memory map names the files there. Which of `names` was `stashed`?
fn unstash<'a>(stashed: &str, mut names: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    let s = stashed.as_bytes();
    if s.first() != Some(&b'~') {
        return None;
    }
    let pip_char = |b: &u8| b"-~.=%0123456789".contains(b);
    names
        .find(|n| {
            let n = n.as_bytes();
            n.len() == s.len()
                && (1..=s.len()).any(|i| s[1..i].iter().all(pip_char) && n[i..] == s[i..])
        })
        .map(String::as_str)
}

/// Every ipykernel process on this machine that we can see.
pub fn running_kernels() -> Vec<KernelProcess> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<KernelProcess> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(kernel_process)
        .collect();
    out.sort_by_key(|k| k.pid);
    out
}

/// The running kernel started with `-f connection_file` (compared after resolving symlinks,
/// so `/run/user/…` and a link to it are the same file).
pub fn kernel_by_connection_file(connection_file: &Path) -> Option<KernelProcess> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let want = canonical(connection_file);
    running_kernels().into_iter().find(|k| {
        k.connection_file
            .as_deref()
            .is_some_and(|f| canonical(f) == want)
    })
}

/// The kernel this process runs inside: the nearest ipykernel ancestor.
pub fn enclosing_kernel() -> Option<KernelProcess> {
    let mut pid = std::process::id() as i32;
    for _ in 0..64 {
        pid = parent_pid(pid)?;
        if pid <= 1 {
            return None;
        }
        if let Some(k) = kernel_process(pid) {
            return Some(k);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn recognises_kernel_command_lines() {
        assert!(is_ipykernel_argv(&s(&[
            "/v/bin/python",
            "-m",
            "ipykernel_launcher",
            "-f",
            "/r/k.json"
        ])));
        assert!(is_ipykernel_argv(&s(&[
            "python",
            "-Xfrozen_modules=off",
            "-m",
            "ipykernel",
            "-f",
            "x"
        ])));
        assert!(is_ipykernel_argv(&s(&[
            "/v/bin/python",
            "-m",
            "spyder_kernels.console",
            "-f",
            "/r/k.json"
        ])));
        assert!(!is_ipykernel_argv(&s(&["python", "-m", "pip"])));
        assert!(!is_ipykernel_argv(&s(&["python", "-m", "spyder_kernels"])));
        assert_eq!(
            connection_file_arg(&s(&["p", "-m", "ipykernel_launcher", "-f", "/r/k.json"])),
            Some(PathBuf::from("/r/k.json"))
        );
        assert_eq!(
            connection_file_arg(&s(&["p", "--f=/r/x.json"])),
            Some(PathBuf::from("/r/x.json"))
        );
    }

    #[test]
    fn reads_kernel_name_and_parent() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("kernel-1.json");
        std::fs::write(&f, r#"{"shell_port": 1, "kernel_name": "myenv"}"#).unwrap();
        assert_eq!(kernel_name_of(&f).as_deref(), Some("myenv"));
        std::fs::write(&f, r#"{"kernel_name": ""}"#).unwrap();
        assert_eq!(kernel_name_of(&f), None);
        let me = std::process::id() as i32;
        assert!(parent_pid(me).is_some());
        assert!(pid_alive(me));
        assert!(!pid_alive(-1));
        let started = process_start_time(me).unwrap();
        let age = std::time::SystemTime::now()
            .duration_since(started)
            .unwrap();
        assert!(age < std::time::Duration::from_secs(3600), "{age:?}");
        assert!(process_environ(me).is_some());
    }

    #[test]
    fn pips_stash_names_lead_back_to_the_package() {
        let names: Vec<String> = ["natpkg", "numpy", "np", "pandas"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // pip's first choices, then ones it takes when those exist.
        for (stashed, want) in [
            ("~atpkg", Some("natpkg")),
            ("~umpy", Some("numpy")),
            ("~-mpy", Some("numpy")),
            ("~~0py", Some("numpy")),
            ("~p", Some("np")),
            ("~andas", Some("pandas")),
            ("numpy", None),
            ("~xyz", None),
        ] {
            assert_eq!(unstash(stashed, names.iter()), want, "{stashed}");
        }
    }

    #[test]
    fn files_of_site_dirs_and_pips_temporary_folders_count() {
        let sp = PathBuf::from("/v/lib/python3.11/site-packages");
        let sites = [&sp];
        let top = |f: &str| top_component(&sites, Path::new(f));
        assert_eq!(
            top("/v/lib/python3.11/site-packages/~umpy/core/_m.so").as_deref(),
            Some("~umpy")
        );
        assert_eq!(
            top("/tmp/pip-uninstall-a1b2/_cffi_backend.cpython-311-x86_64-linux-gnu.so").as_deref(),
            Some("_cffi_backend.cpython-311-x86_64-linux-gnu.so")
        );
        assert_eq!(top("/usr/lib/x86_64-linux-gnu/libssl.so.3"), None);
    }
}
