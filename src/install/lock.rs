//! One installer at a time per environment (PRODUCT.md): an exclusive advisory lock on a file
//! inside the environment, so every kip process — whatever its HOME or cache — agrees on it.
//! The lock is released when the guard drops, including on Ctrl-C (kip exits through normal
//! returns) and when the process dies (the kernel drops flocks with the file descriptor).
//!
//! The holder writes its pid into the lock file, so a kip that has to wait can say who it is
//! waiting for and how to end a holder that is stuck (an installer hanging on an index that
//! never answers holds the lock for as long as it hangs).

use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

pub struct EnvLock {
    file: File,
    pub path: PathBuf,
}

/// Who holds an environment's lock, as far as its file tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    pub path: PathBuf,
    /// The holder's pid, when it has written it and that process is still alive.
    pub pid: Option<u32>,
}

impl LockHolder {
    fn read(path: &Path) -> LockHolder {
        let pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .filter(|pid| Path::new(&format!("/proc/{pid}")).exists());
        LockHolder {
            path: path.to_path_buf(),
            pid,
        }
    }
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(
                f,
                "waiting for another kip (pid {pid}) that is installing into this environment (lock {}); if it is stuck, stop it with `kill {pid}` and this one goes on",
                self.path.display()
            ),
            None => write!(
                f,
                "waiting for another kip that is installing into this environment (lock {})",
                self.path.display()
            ),
        }
    }
}

impl EnvLock {
    /// Block until the environment at `prefix` is ours. Calls `waiting` once, with who holds
    /// it, if another process does.
    pub fn acquire(prefix: &Path, waiting: impl FnOnce(&LockHolder)) -> std::io::Result<EnvLock> {
        let path = prefix.join(".kip-install.lock");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting(&LockHolder::read(&path));
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        // Only the holder writes, and only while holding the lock. A failure to record the pid
        // costs only the name in a waiter's message.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(EnvLock { file, path })
    }
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_waits_for_the_first_and_names_it() {
        let d = tempfile::tempdir().unwrap();
        let first = EnvLock::acquire(d.path(), |_| panic!("uncontended")).unwrap();
        let p = d.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            let _second = EnvLock::acquire(&p, |who| tx.send(who.clone()).unwrap()).unwrap();
        });
        let who = rx.recv().unwrap();
        assert_eq!(who.pid, Some(std::process::id()));
        let text = who.to_string();
        assert!(
            text.contains(&format!("kill {}", std::process::id())),
            "{text}"
        );
        drop(first);
        h.join().unwrap();
    }

    #[test]
    fn a_dead_pid_in_the_file_is_not_named() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(".kip-install.lock");
        // pid_max on Linux is at most 2^22: this pid cannot exist.
        std::fs::write(&path, "99999999\n").unwrap();
        let who = LockHolder::read(&path);
        assert_eq!(who.pid, None);
        assert!(!who.to_string().contains("kill"));
    }
}
