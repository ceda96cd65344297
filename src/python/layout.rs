//! Small facts read from an interpreter's files, shared by classification, the probe cache and
//! listings. A leaf: it imports nothing of kip, so none of those modules imports another just
//! for a helper.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Is `path` a `#!` script (a wrapper, a shim) rather than a binary? Reads two bytes.
pub fn is_script(path: &Path) -> bool {
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"#!"
}

/// The `pyvenv.cfg` that applies to an interpreter path, as getpath looks for it: beside the
/// executable, then one directory up. The path is not resolved first.
pub fn pyvenv_cfg_for(python: &Path) -> Option<PathBuf> {
    let dir = python.parent()?;
    let beside = dir.join("pyvenv.cfg");
    if beside.is_file() {
        return Some(beside);
    }
    let above = dir.parent()?.join("pyvenv.cfg");
    above.is_file().then_some(above)
}
