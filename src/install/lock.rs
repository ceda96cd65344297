//! One installer at a time per environment (PRODUCT.md): an exclusive advisory lock on a file
//! inside the environment, so every kip process — whatever its HOME or cache — agrees on it.
//! The lock is released when the guard drops, including on Ctrl-C (kip exits through normal
//! returns) and when the process dies (the kernel drops flocks with the file descriptor).

use std::fs::File;
use std::path::{Path, PathBuf};

pub struct EnvLock {
    file: File,
    pub path: PathBuf,
}

impl EnvLock {
    /// Block until the environment at `prefix` is ours. Calls `waiting` once if another
    /// process holds it.
    pub fn acquire(prefix: &Path, waiting: impl FnOnce(&Path)) -> std::io::Result<EnvLock> {
        let path = prefix.join(".kip-install.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting(&path);
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        Ok(EnvLock { file, path })
    }
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_waits_for_the_first() {
        let d = tempfile::tempdir().unwrap();
        let first = EnvLock::acquire(d.path(), |_| panic!("uncontended")).unwrap();
        let p = d.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            let _second = EnvLock::acquire(&p, |_| tx.send(()).unwrap()).unwrap();
        });
        rx.recv().unwrap();
        drop(first);
        h.join().unwrap();
    }
}
