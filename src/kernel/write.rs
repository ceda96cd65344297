//! Writing kernelspecs safely (PRODUCT.md): every file is written atomically (temp file in the
//! same directory + rename); a kernel.json kip changes is first backed up beside it as
//! `kernel.json.kip-bak-<timestamp>` (a file, never a directory Jupyter would list); a new
//! kernel directory is staged outside `kernels/` and renamed in. A crash leaves the old file
//! or the new one, never a torn one — for a whole kernel directory too: a replaced directory is
//! swapped in with one `renameat2(RENAME_EXCHANGE)`, so the old kernel stays listable until the
//! new one is in place (see [`install_kernel_dir`]).
//!
//! Modes: a file kip replaces keeps its mode and owner; a new file gets what ipykernel's install
//! gives (`0644` files, `0755` dirs, under the umask), never tempfile's private `0600`, so every
//! user of a shared kernel dir (`--sys-prefix`, a system dir fixed by root) can still read it —
//! Jupyter silently drops a kernel whose kernel.json it cannot read.
//!
//! Fault points for tests (`KIP_FAULT`): `after-temp-write` (a temp file is written and synced,
//! its rename has not happened), `after-backup` (the backup exists, the new file is not
//! written) and `before-kernel-rename` (a new kernel dir is staged, not yet swapped in) make kip
//! SIGKILL itself there, exactly as an external `kill -9` would.

use std::fs::{File, Metadata, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::jupyter::kernelspec::{leftover_writes, REMOVING_PREFIX, STAGING_PREFIX};

/// kernel.json as ipykernel writes it (`json.dump(indent=1)`), so a fix's diff shows only
/// what changed.
pub fn kernel_json_bytes(v: &serde_json::Value) -> Vec<u8> {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    if v.serialize(&mut ser).is_err() {
        return b"{}".to_vec();
    }
    out
}

/// Die at a named fault point when `KIP_FAULT` names it.
pub fn fault_point(name: &str) {
    if std::env::var("KIP_FAULT").is_ok_and(|v| v == name) {
        // SAFETY: sending SIGKILL to ourselves; nothing after this runs.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// The process umask, read from `/proc/self/status` (Linux 4.7+): `umask(2)` can only read it
/// by setting it, which other threads would see. `0o022` when unknown.
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let v = s.lines().find_map(|l| l.strip_prefix("Umask:"))?;
            u32::from_str_radix(v.trim(), 8).ok()
        })
        .unwrap_or(0o022)
}

/// ipykernel's mode for a new file (`0o644`) or dir (`0o755`), under the umask.
fn new_mode(base: u32) -> u32 {
    base & !umask()
}

/// Give `f` the owner and mode of `like` (the file it replaces), or a new file's mode. Only
/// root can give a file away: for anyone else `fchown` fails and the file stays theirs, as
/// any editor's save-by-rename leaves it.
fn set_attrs(f: &File, like: Option<&Metadata>, new: u32) -> std::io::Result<()> {
    let mode = match like {
        Some(m) => {
            let mine = f.metadata()?;
            if (mine.uid(), mine.gid()) != (m.uid(), m.gid()) {
                let _ = std::os::unix::fs::fchown(f, Some(m.uid()), Some(m.gid()));
            }
            // After the chown, which clears set-id bits.
            m.mode() & 0o7777
        }
        None => new_mode(new),
    };
    f.set_permissions(Permissions::from_mode(mode))
}

/// Write `bytes` to `path` atomically. The file keeps the mode and owner of the one it
/// replaces; a new file gets `0644` under the umask.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_like(path, bytes, std::fs::metadata(path).ok().as_ref())
}

/// [`write_atomic`] with the mode and owner of `like` (`None`: a new file's).
fn write_atomic_like(path: &Path, bytes: &[u8], like: Option<&Metadata>) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.kip-tmp-"))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    set_attrs(tmp.as_file(), like, 0o644)?;
    tmp.as_file().sync_all()?;
    fault_point("after-temp-write");
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// `kernel.json.kip-bak-<UTC timestamp>` beside `kernel_json`, copied atomically, with its
/// mode and owner.
pub fn backup(kernel_json: &Path) -> std::io::Result<PathBuf> {
    backup_into(kernel_json, kernel_json.parent().unwrap_or(Path::new(".")))
}

/// [`backup`], written into `dir` (the staged copy of the kernel dir that will replace it).
fn backup_into(kernel_json: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    let bytes = std::fs::read(kernel_json)?;
    let meta = std::fs::metadata(kernel_json)?;
    let stamp = timestamp();
    let mut dest = dir.join(format!("kernel.json.kip-bak-{stamp}"));
    let mut n = 1;
    while dest.exists() {
        dest = dir.join(format!("kernel.json.kip-bak-{stamp}-{n}"));
        n += 1;
    }
    write_atomic_like(&dest, &bytes, Some(&meta))?;
    fault_point("after-backup");
    Ok(dest)
}

/// Replace an existing kernel.json: back it up, then write the new content atomically.
pub fn replace_kernel_json(kernel_json: &Path, new: &[u8]) -> std::io::Result<PathBuf> {
    let bak = backup(kernel_json)?;
    write_atomic(kernel_json, new)?;
    Ok(bak)
}

/// `YYYYMMDDTHHMMSSZ` (UTC), from the system clock.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// What [`install_kernel_dir`] did.
#[derive(Debug)]
pub struct Installed {
    pub dir: PathBuf,
    /// The replaced kernel.json's backup (in the new dir), when a kernel was replaced.
    pub backup: Option<PathBuf>,
    /// Leftovers of interrupted writes found beside `kernels/` and what became of each.
    pub recovered: Vec<String>,
}

/// Install a fully prepared kernel directory: `files` are written into a staging directory
/// beside `kernels_dir` (so Jupyter never lists a half-written kernel), which is then renamed
/// to `kernels_dir/name`. An existing kernel there is swapped out in one step
/// (`renameat2(RENAME_EXCHANGE)`: Jupyter lists the old kernel or the new one at every
/// instant, a kill included), its kernel.json backed up into the new dir, its files' modes and
/// owners kept. Where the filesystem cannot exchange, the new files are renamed over the old
/// ones one by one, kernel.json last, each rename atomic — the kernel stays listable throughout.
/// Writers of one kernels dir are serialized by a lock on it; holding it, leftovers of
/// interrupted writes are recovered first ([`recover_leftovers`]).
pub fn install_kernel_dir(
    kernels_dir: &Path,
    name: &str,
    files: &[(String, Vec<u8>)],
) -> std::io::Result<Installed> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(kernels_dir)?;
    let _lock = lock_kernels_dir(kernels_dir)?;
    let recovered = recover_leftovers(kernels_dir);
    let parent = kernels_dir.parent().unwrap_or(kernels_dir);
    let stage = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)?;
    let staged = stage.path().join(name);
    let dest = kernels_dir.join(name);
    let old = std::fs::symlink_metadata(&dest).ok();
    std::fs::DirBuilder::new().mode(0o755).create(&staged)?;
    set_attrs(
        &File::open(&staged)?,
        old.as_ref().filter(|m| m.is_dir()),
        0o755,
    )?;
    for (fname, bytes) in files {
        let like = old
            .as_ref()
            .and_then(|_| std::fs::metadata(dest.join(fname)).ok());
        write_atomic_like(&staged.join(fname), bytes, like.as_ref())?;
    }
    let old_json = dest.join("kernel.json");
    let backup = if old.is_some() && old_json.is_file() {
        Some(backup_into(&old_json, &staged)?)
    } else {
        None
    };
    sync_dir(&staged);
    fault_point("before-kernel-rename");
    if old.is_none() {
        std::fs::rename(&staged, &dest)?;
    } else {
        match exchange(&staged, &dest) {
            // `staged` now holds the old kernel, removed with the staging dir.
            Ok(()) => {}
            Err(e) if exchange_unsupported(&e) => replace_files(&staged, &dest)?,
            Err(e) => return Err(e),
        }
    }
    sync_dir(kernels_dir);
    drop(stage);
    let backup = backup.map(|b| dest.join(b.file_name().unwrap_or_default()));
    Ok(Installed {
        dir: dest,
        backup,
        recovered,
    })
}

/// An exclusive advisory lock on the kernels dir itself (no lock file in a Jupyter dir),
/// released when the process dies.
fn lock_kernels_dir(kernels_dir: &Path) -> std::io::Result<File> {
    let f = File::open(kernels_dir)?;
    f.lock()?;
    Ok(f)
}

/// Swap two paths atomically (Linux 3.15+; not every filesystem).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths that outlive the call; the raw syscall, because glibc
    // before 2.28 and musl lack the `renameat2` wrapper.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from_raw_os_error(libc::ENOSYS))
}

/// The kernel or the filesystem has no `RENAME_EXCHANGE`.
fn exchange_unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// The fallback for [`exchange`]: rename each staged file over its namesake in `dest`
/// (kernel.json last, so a new kernel.json always finds its new logos), then remove the old
/// files the new kernel does not have. Each step is atomic and leaves a listable kernel.
fn replace_files(staged: &Path, dest: &Path) -> std::io::Result<()> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(staged)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort_by_key(|n| n == "kernel.json");
    for n in &names {
        std::fs::rename(staged.join(n), dest.join(n))?;
    }
    for e in std::fs::read_dir(dest)?.flatten() {
        let stale = !names.contains(&e.file_name()) && e.file_type().is_ok_and(|t| t.is_file());
        if stale {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Clean up after interrupted writes beside `kernels_dir` (call with its lock held, so no other
/// kip is using them). A staging dir from this version holds a new kernel never swapped in,
/// or an old one swapped out: both are removed. kip before the exchange moved the old kernel
/// to `<staging>/old` and then the new one in; a kill between left no kernel, so an `old` whose
/// kernel is missing (named by the staged sibling) is put back first. Failures are reported,
/// never fatal: the write at hand does not depend on them.
pub fn recover_leftovers(kernels_dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    for left in leftover_writes(kernels_dir) {
        let old = left.join("old");
        if old.join("kernel.json").is_file() {
            let staged: Vec<PathBuf> = std::fs::read_dir(&left)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| *p != old && p.is_dir())
                .collect();
            if let [new] = staged.as_slice() {
                let dest = kernels_dir.join(new.file_name().unwrap_or_default());
                if std::fs::symlink_metadata(&dest).is_err() {
                    match std::fs::rename(&old, &dest) {
                        Ok(()) => notes.push(format!(
                            "restored the kernel {} that an interrupted kip write had moved to {}",
                            dest.display(),
                            old.display()
                        )),
                        Err(e) => notes.push(format!(
                            "cannot restore the kernel {} from {}: {e}",
                            dest.display(),
                            old.display()
                        )),
                    }
                }
            }
        }
        match std::fs::remove_dir_all(&left) {
            Ok(()) => notes.push(format!(
                "removed {}, left by an interrupted kip write",
                left.display()
            )),
            Err(e) => notes.push(format!(
                "cannot remove {} (left by an interrupted kip write): {e}",
                left.display()
            )),
        }
    }
    notes
}

/// Remove a kernel directory: renamed out of `kernels/` first (one atomic step for Jupyter),
/// then deleted. A symlinked kernel dir loses only the link.
pub fn remove_kernel_dir(dir: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(dir)?.file_type().is_symlink() {
        return std::fs::remove_file(dir);
    }
    let kernels = dir.parent().unwrap_or(Path::new("."));
    let parent = kernels.parent().unwrap_or(kernels);
    let _lock = lock_kernels_dir(kernels)?;
    let trash = tempfile::Builder::new()
        .prefix(REMOVING_PREFIX)
        .tempdir_in(parent)?;
    std::fs::rename(dir, trash.path().join("k"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_backs_up_and_writes() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("kernel.json");
        std::fs::write(&f, b"old").unwrap();
        let bak = replace_kernel_json(&f, b"new").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
        assert_eq!(std::fs::read(&bak).unwrap(), b"old");
        assert!(bak
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("kernel.json.kip-bak-"));
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn kernel_dirs_are_staged_and_replaced() {
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("kernels");
        let dest = install_kernel_dir(&k, "a", &[("kernel.json".into(), b"{}".to_vec())])
            .unwrap()
            .dir;
        assert_eq!(std::fs::read(dest.join("kernel.json")).unwrap(), b"{}");
        install_kernel_dir(&k, "a", &[("kernel.json".into(), b"{\"x\":1}".to_vec())]).unwrap();
        assert_eq!(
            std::fs::read(dest.join("kernel.json")).unwrap(),
            b"{\"x\":1}"
        );
        // Nothing but the kernel in kernels/, no staging dirs left in the parent.
        assert_eq!(std::fs::read_dir(&k).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        remove_kernel_dir(&dest).unwrap();
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn new_files_get_ipykernel_modes_and_replaced_ones_keep_theirs() {
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("kernels");
        let files = [
            ("kernel.json".to_string(), b"{}".to_vec()),
            ("logo-32x32.png".to_string(), b"png".to_vec()),
        ];
        let dest = install_kernel_dir(&k, "a", &files).unwrap().dir;
        assert_eq!(mode(&dest), new_mode(0o755));
        assert_eq!(mode(&dest.join("kernel.json")), new_mode(0o644));
        assert_eq!(mode(&dest.join("logo-32x32.png")), new_mode(0o644));
        std::fs::set_permissions(&dest, Permissions::from_mode(0o750)).unwrap();
        std::fs::set_permissions(dest.join("kernel.json"), Permissions::from_mode(0o640)).unwrap();
        let done = install_kernel_dir(&k, "a", &files).unwrap();
        assert_eq!(mode(&dest), 0o750);
        assert_eq!(mode(&dest.join("kernel.json")), 0o640);
        // The backup has the mode of what it backs up.
        assert_eq!(mode(done.backup.as_deref().unwrap()), 0o640);
        write_atomic(&dest.join("kernel.json"), b"{\"x\": 1}").unwrap();
        assert_eq!(mode(&dest.join("kernel.json")), 0o640);
        write_atomic(&dest.join("new.txt"), b"x").unwrap();
        assert_eq!(mode(&dest.join("new.txt")), new_mode(0o644));
    }

    #[test]
    fn the_file_by_file_fallback_replaces_and_prunes() {
        let d = tempfile::tempdir().unwrap();
        let (staged, dest) = (d.path().join("s"), d.path().join("k"));
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::create_dir_all(&dest).unwrap();
        std::fs::write(staged.join("kernel.json"), "new").unwrap();
        std::fs::write(dest.join("kernel.json"), "old").unwrap();
        std::fs::write(dest.join("logo-64x64.png"), "old logo").unwrap();
        replace_files(&staged, &dest).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join("kernel.json")).unwrap(),
            "new"
        );
        assert!(!dest.join("logo-64x64.png").exists());
    }

    #[test]
    fn a_kernel_stranded_by_the_old_two_step_move_is_restored() {
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("kernels");
        std::fs::create_dir_all(&k).unwrap();
        // kip before the exchange: old kernel moved aside, killed before the new one moved in.
        let left = d.path().join(".kip-staging-abc");
        for sub in ["old", "a"] {
            std::fs::create_dir_all(left.join(sub)).unwrap();
            std::fs::write(left.join(sub).join("kernel.json"), sub).unwrap();
        }
        let notes = recover_leftovers(&k);
        assert_eq!(
            std::fs::read_to_string(k.join("a/kernel.json")).unwrap(),
            "old"
        );
        assert!(!left.exists());
        assert_eq!(notes.len(), 2, "{notes:?}");
        // A staging dir whose kernel is in place is only removed.
        std::fs::create_dir_all(left.join("a")).unwrap();
        let notes = recover_leftovers(&k);
        assert_eq!(
            std::fs::read_to_string(k.join("a/kernel.json")).unwrap(),
            "old"
        );
        assert!(!left.exists(), "{notes:?}");
    }

    #[test]
    fn timestamps_are_utc_civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(timestamp().len(), 16);
    }
}
