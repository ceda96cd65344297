//! Answers read from disk, remembered for one read-only pass (a [`Scope`]), so that a
//! thousand kernels sharing ten interpreters cost ten classifications, not a thousand.
//!
//! Why a scope and not a cache for the whole process: a command that writes (an install,
//! `kip kernel add`, `doctor --fix`) classifies again after its change and must see it. A pass
//! that only reads — listing kernels, the inventory, doctor's checks — opens a scope; outside
//! one, nothing is remembered and every call reads disk as before. Nested scopes share the
//! outermost one's memory.
//!
//! Why not a cache across runs: checking that a remembered classification still holds needs a
//! `stat` of each file and directory it read (the interpreter, `pyvenv.cfg`, `lib/`, `bin/`,
//! each site-packages directory, the base's `home`), about as many calls as classifying again
//! (python-environments.md §1c reads only names and a few small files). Measured in
//! bench/scale: a warm classification is a handful of syscalls per environment.
//!
//! Keys carry a digest of the context (OS and every variable): classification reads `HOME`,
//! `PYENV_ROOT`, `PYTHONUSERBASE` and others, and one pass may evaluate for another process's
//! environment.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use crate::context::Context;

type Answers = HashMap<(&'static str, u64), Box<dyn Any>>;

thread_local! {
    static MEMO: RefCell<Option<Answers>> = const { RefCell::new(None) };
}

/// While it lives, the questions below are answered from disk once each on this thread.
/// Open one only around code that does not change environments.
#[must_use = "the memo lives only as long as the scope"]
pub struct Scope {
    outermost: bool,
}

/// Open a read-only scope (see the module doc).
pub fn scope() -> Scope {
    let outermost = MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let opened = m.is_none();
        if opened {
            *m = Some(HashMap::new());
        }
        opened
    });
    Scope { outermost }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if self.outermost {
            MEMO.with(|m| *m.borrow_mut() = None);
        }
    }
}

/// `read()`'s answer to the question `what` about `key` (everything the answer depends on
/// besides disk), remembered inside a scope; outside one, `read()` every time.
pub fn remember<K: Hash, V: Clone + 'static>(
    what: &'static str,
    key: K,
    read: impl FnOnce() -> V,
) -> V {
    if !MEMO.with(|m| m.borrow().is_some()) {
        return read();
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    let key = (what, h.finish());
    let hit = MEMO.with(|m| {
        m.borrow()
            .as_ref()
            .and_then(|m| m.get(&key)?.downcast_ref::<V>().cloned())
    });
    if let Some(hit) = hit {
        return hit;
    }
    let answer = read();
    MEMO.with(|m| {
        if let Some(m) = m.borrow_mut().as_mut() {
            m.insert(key, Box::new(answer.clone()));
        }
    });
    answer
}

/// The part of a key that stands for the context: its OS and every variable.
pub struct ContextKey<'a>(pub &'a Context);

impl Hash for ContextKey<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(&self.0.os).hash(h);
        VarsKey(&self.0.vars).hash(h);
    }
}

/// Every variable of an environment block, as part of a key.
pub struct VarsKey<'a>(pub &'a crate::envvars::EnvVars);

impl Hash for VarsKey<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.digest().hash(h);
    }
}

/// File identity `(dev, ino)` of a path, symlinks followed; `None` when it cannot be read.
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    stat(path).map(|(dev, ino, _)| (dev, ino))
}

/// `Path::is_file`, from the same remembered `stat` as [`identity`].
pub fn is_file(path: &Path) -> bool {
    stat(path).is_some_and(|(_, _, file)| file)
}

/// `(dev, ino, is a regular file)` of a path, symlinks followed.
fn stat(path: &Path) -> Option<(u64, u64, bool)> {
    use std::os::unix::fs::MetadataExt;
    remember("stat", path, || {
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.dev(), m.ino(), m.is_file()))
    })
}

/// [`crate::python::layout::is_script`], asked once per file: a hub's venvs link to a handful
/// of base interpreters (one `stat` per path instead of an open and a read).
pub fn is_script(path: &Path) -> bool {
    identity(path)
        .is_some_and(|id| remember("is a script", id, || crate::python::layout::is_script(path)))
}

/// `path` with every symlink resolved (`realpath`); `None` when it cannot be.
pub fn canonical(path: &Path) -> Option<std::path::PathBuf> {
    remember("canonical", path, || std::fs::canonicalize(path).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envvars::EnvVars;
    use crate::platform::Os;
    use std::cell::Cell;
    use std::path::PathBuf;

    fn ctx(home: &str) -> Context {
        Context::new(
            Os::Linux,
            EnvVars::from_pairs([("HOME", home)]),
            PathBuf::from("/"),
        )
    }

    #[test]
    fn remembered_only_inside_a_scope_and_per_key() {
        let reads = Cell::new(0);
        let read = || {
            reads.set(reads.get() + 1);
            Some(PathBuf::from("/v"))
        };
        let (a, b) = (ctx("/h1"), ctx("/h2"));
        let p = Path::new("/v/bin/python");
        let ask = |c: &Context, what| remember(what, (p, ContextKey(c)), read);
        ask(&a, "env");
        ask(&a, "env");
        assert_eq!(reads.get(), 2, "no scope: every call reads");
        {
            let _s = scope();
            ask(&a, "env");
            {
                let _inner = scope();
                ask(&a, "env");
            }
            assert_eq!(ask(&a, "env"), Some(PathBuf::from("/v")));
            assert_eq!(
                reads.get(),
                3,
                "one read per question in a scope, nested or not"
            );
            ask(&b, "env");
            ask(&a, "other");
            assert_eq!(
                reads.get(),
                5,
                "another context or question is another read"
            );
        }
        ask(&a, "env");
        assert_eq!(reads.get(), 6, "the scope's end forgets");
    }
}
