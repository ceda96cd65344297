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
    open_regular_sized(path).map(|(f, _)| f)
}

/// [`open_regular`], with the file's size from the same `fstat`.
fn open_regular_sized(path: &Path) -> io::Result<(File, u64)> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    regular_sized(f)
}

/// `f` and its size if it is a regular file; what it is otherwise.
fn regular_sized(f: File) -> io::Result<(File, u64)> {
    let m = f.metadata()?;
    let t = m.file_type();
    if t.is_file() {
        return Ok((f, m.len()));
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
    let (f, len) = open_regular_sized(path.as_ref())?;
    read_sized(f, len, u64::MAX)
}

/// The whole of `rel` below the open directory `dir` (`openat`: no walk from `/`, which a
/// thousand reads in one deep directory feel), with [`read`]'s checks.
pub fn read_at(dir: &std::os::fd::OwnedFd, rel: &Path) -> io::Result<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::openat(
        dir,
        rel,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let (f, len) = regular_sized(File::from(fd))?;
    read_sized(f, len, u64::MAX)
}

/// An open directory, to read below with [`read_at`].
pub fn open_dir(path: &Path) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    Ok(rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// The whole file as UTF-8 text (an error otherwise, as `std::fs::read_to_string`).
pub fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// At most the first `limit` bytes: enough for a shebang or a small config.
pub fn read_head(path: impl AsRef<Path>, limit: u64) -> io::Result<Vec<u8>> {
    let (f, len) = open_regular_sized(path.as_ref())?;
    read_sized(f, len, limit)
}

/// Up to `limit` bytes of `f`, whose `fstat` said `len`: a buffer of that size (one byte
/// more, so the read that finds the end needs no probe) filled by as few reads as the file
/// allows — two for a file that is not growing. `read_to_end` would `fstat` and `lseek` again
/// (a `File`) or read in small, doubling chunks (a `Take`), which a thousand kernelspecs and
/// a 300 KB conda record feel. A file that grew since the `fstat` is still read to the end.
fn read_sized(mut f: File, len: u64, limit: u64) -> io::Result<Vec<u8>> {
    let cap = |n: u64| usize::try_from(n.min(limit)).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; cap(len.saturating_add(1))];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if filled as u64 >= limit {
                break;
            }
            buf.resize(cap((buf.len() as u64).saturating_mul(2).max(64)), 0);
        }
        match f.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
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
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&f, &big).unwrap();
        assert_eq!(read(&f).unwrap(), big);
        assert_eq!(read_head(&f, 70_000).unwrap(), &big[..70_000]);
        assert_eq!(read_head(&f, 0).unwrap(), b"");
        std::fs::write(&f, b"\xff").unwrap();
        assert!(read_to_string(&f).is_err());
        assert!(read(d.path().join("missing")).is_err());
    }
}
