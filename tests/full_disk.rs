//! A full disk while kip writes (issue 15): a kernelspec rewrite and the interpreter cache on a
//! size-limited tmpfs that is filled to the last byte. The old kernel.json survives intact
//! (and the real Jupyter still lists it), the error names the file, and a cache that cannot be
//! written costs only speed: the listing is still right.
//!
//! Mounting a tmpfs needs root (CI and developers run as root here); where the mount is
//! refused, the same writes are made to fail with `RLIMIT_FSIZE` (SIGXFSZ ignored, so the
//! write returns EFBIG) instead — the test says which one it used.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{default_timeout, run_command, Out, World};

/// A 256 KiB tmpfs at `dir`, unmounted on drop.
struct TinyFs {
    dir: PathBuf,
}

impl TinyFs {
    fn mount(dir: &Path) -> Option<TinyFs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| TinyFs {
            dir: dir.to_path_buf(),
        })
    }

    /// Fill it to the last byte: every later write of data fails with ENOSPC.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.dir.join("filler")).unwrap();
        let chunk = vec![0u8; 4096];
        loop {
            match f.write(&chunk) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        // The last partial page too.
        while f.write(&[0u8]).is_ok_and(|n| n == 1) {}
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// How the disk is made full for kip: a filled tmpfs, or a file size limit of `limit` bytes.
enum Full {
    Tmpfs(TinyFs),
    FileSizeLimit(u64),
}

fn kip_full(w: &World, full: &Full, args: &[&str]) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kip"));
    c.args(args)
        .env_clear()
        .envs(w.env())
        .current_dir(w.cwd())
        .stdin(std::process::Stdio::null());
    if let Full::FileSizeLimit(limit) = full {
        let limit = *limit;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            c.pre_exec(move || {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let r = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let out = run_command(c, default_timeout());
    assert!(
        !out.stderr.contains("panicked") && out.status >= 0,
        "kip {args:?} crashed:\n{}",
        out.show()
    );
    out
}

/// The data dir (or cache) lives on a tmpfs when one can be mounted.
fn full_disk(dir: &Path) -> Full {
    match TinyFs::mount(dir) {
        Some(fs) => {
            eprintln!("full disk: a filled 256 KiB tmpfs at {}", dir.display());
            Full::Tmpfs(fs)
        }
        None => {
            eprintln!("full disk: tmpfs refused here; RLIMIT_FSIZE of 16 bytes instead");
            std::fs::create_dir_all(dir).unwrap();
            Full::FileSizeLimit(16)
        }
    }
}

#[test]
fn a_full_disk_keeps_the_old_kernelspec_and_says_which_file() {
    let w = World::with_tools();
    let data = w.root().join("data");
    let full = full_disk(&data);
    w.set_var("JUPYTER_DATA_DIR", data.to_str().unwrap());
    let kernels = data.join("kernels");
    // A kernel whose bare `python` kip fix would rewrite.
    let old = r#"{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "K", "language": "python"}"#;
    let dir = w.kernelspec(&kernels, "k", old);
    if let Full::Tmpfs(fs) = &full {
        fs.fill();
    }
    let out = kip_full(&w, &full, &["kernel", "fix", "k"]);
    assert_eq!(out.status, 1, "{}", out.show());
    assert!(
        out.stderr.contains(dir.to_str().unwrap()),
        "the error names the kernel's files:\n{}",
        out.show()
    );
    assert!(
        out.stderr.contains("No space left on device") || out.stderr.contains("File too large"),
        "the error says why:\n{}",
        out.show()
    );
    // The old kernelspec is untouched, and nothing half-written is left beside it.
    assert_eq!(
        std::fs::read_to_string(dir.join("kernel.json")).unwrap(),
        old
    );
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "kernel.json")
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    let listed = w.jupyter_kernelspec_list_json(&w.bin().join("jupyter"));
    listed.ok();
    let v: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(v["kernelspecs"]["k"]["spec"]["display_name"], "K");
}

#[test]
fn a_cache_that_cannot_be_written_costs_only_speed() {
    let w = World::with_tools();
    let cache = w.root().join("kipcache");
    let full = full_disk(&cache);
    w.set_var("KIP_CACHE_DIR", cache.to_str().unwrap());
    let venv = w.uv_venv(&w.root().join("v"), &support::toolbox().base_python, false);
    // A venv only a probe can place (no version in pyvenv.cfg), so the cache is written.
    let cfg = venv.prefix.join("pyvenv.cfg");
    let text: String = std::fs::read_to_string(&cfg)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("version"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cfg, text).unwrap();
    w.set_var("VIRTUAL_ENV", venv.prefix.to_str().unwrap());
    if let Full::Tmpfs(fs) = &full {
        fs.fill();
    }
    let out = kip_full(&w, &full, &["envs", "--json"]);
    out.ok();
    let v = out.json();
    let e = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["prefix"] == venv.prefix.to_str().unwrap())
        .unwrap_or_else(|| panic!("the venv is missing: {v:#}"));
    let me = w.run(
        &venv.python,
        &["-c", "import platform; print(platform.python_version())"],
    );
    assert_eq!(e["version"], me.stdout.trim(), "{e:#}");
}
