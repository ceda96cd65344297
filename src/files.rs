//! Reading files that come from outside kip: kernelspecs, notebooks, env metadata, scripts.
//!
//! Such a path may name a FIFO, a device or a directory. A plain `read` of a FIFO blocks until
//! a writer comes, which may be never, and a device may never end. So every read here opens
//! with `O_NONBLOCK` (which changes nothing for regular files) and refuses, after the open and
//! from the open file (`fstat`, so nothing can be swapped in between), whatever is not a
//! regular file, with an error that says what it is.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Open `path` for reading if it is a regular file (symlinks followed).
pub fn open_regular(path: &Path) -> io::Result<File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let t = f.metadata()?.file_type();
    if t.is_file() {
        return Ok(f);
    }
    let what = if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}, not a regular file"),
    ))
}

/// The whole file.
pub fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_regular(path.as_ref())?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The whole file as UTF-8 text (an error otherwise, as `std::fs::read_to_string`).
pub fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// At most the first `limit` bytes: enough for a shebang or a small config.
pub fn read_head(path: impl AsRef<Path>, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_regular(path.as_ref())?
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_and_dirs_are_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a plain syscall on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = read(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let e = read_head(d.path(), 10).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let f = d.path().join("f");
        std::fs::write(&f, "hello").unwrap();
        assert_eq!(read_head(&f, 2).unwrap(), b"he");
        assert_eq!(read_to_string(&f).unwrap(), "hello");
        std::fs::write(&f, b"\xff").unwrap();
        assert!(read_to_string(&f).is_err());
        assert!(read(d.path().join("missing")).is_err());
    }
}
