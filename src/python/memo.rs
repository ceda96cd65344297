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

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::python::environment::Environment;

/// What was asked about a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Question {
    /// `classify_interpreter`: the environment of an interpreter path, as given.
    Interpreter,
    /// `classify_prefix`: the environment at a prefix directory.
    Prefix,
}

#[derive(Default)]
struct Memo {
    envs: HashMap<(Question, PathBuf, u64), Option<Environment>>,
    sys_path: HashMap<u64, Vec<PathBuf>>,
}

thread_local! {
    static MEMO: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

/// While it lives, classifications and `sys.path` listings on this thread are read once per
/// question. Open one only around code that does not change environments.
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
            *m = Some(Memo::default());
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

/// The context's digest: its OS and every variable.
fn context_digest(ctx: &Context) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::mem::discriminant(&ctx.os).hash(&mut h);
    for (k, v) in ctx.vars.iter() {
        k.hash(&mut h);
        v.hash(&mut h);
    }
    h.finish()
}

/// `read()`'s answer for `(question, path)`, remembered inside a scope.
pub fn environment(
    ctx: &Context,
    question: Question,
    path: &Path,
    read: impl FnOnce() -> Option<Environment>,
) -> Option<Environment> {
    if !MEMO.with(|m| m.borrow().is_some()) {
        return read();
    }
    let key = (question, path.to_path_buf(), context_digest(ctx));
    if let Some(hit) = MEMO.with(|m| m.borrow().as_ref().and_then(|m| m.envs.get(&key).cloned())) {
        return hit;
    }
    let answer = read();
    MEMO.with(|m| {
        if let Some(m) = m.borrow_mut().as_mut() {
            m.envs.insert(key, answer.clone());
        }
    });
    answer
}

/// `read()`'s `sys.path` directories for `env` under `ctx` (`PYTHONPATH`, the cwd, the
/// environment's site directories), remembered inside a scope.
pub fn sys_path(
    ctx: &Context,
    env: &Environment,
    read: impl FnOnce() -> Vec<PathBuf>,
) -> Vec<PathBuf> {
    if !MEMO.with(|m| m.borrow().is_some()) {
        return read();
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    context_digest(ctx).hash(&mut h);
    ctx.cwd.hash(&mut h);
    env.site_packages.hash(&mut h);
    env.user_site.enabled.hash(&mut h);
    env.user_site.path.hash(&mut h);
    let key = h.finish();
    if let Some(hit) = MEMO.with(|m| {
        m.borrow()
            .as_ref()
            .and_then(|m| m.sys_path.get(&key).cloned())
    }) {
        return hit;
    }
    let answer = read();
    MEMO.with(|m| {
        if let Some(m) = m.borrow_mut().as_mut() {
            m.sys_path.insert(key, answer.clone());
        }
    });
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envvars::EnvVars;
    use crate::platform::Os;
    use crate::python::environment::EnvKind;
    use std::cell::Cell;

    fn ctx(home: &str) -> Context {
        Context::new(
            Os::Linux,
            EnvVars::from_pairs([("HOME", home)]),
            PathBuf::from("/"),
        )
    }

    #[test]
    fn remembered_only_inside_a_scope_and_per_context() {
        let reads = Cell::new(0);
        let read = || {
            reads.set(reads.get() + 1);
            Some(Environment::for_tests(EnvKind::Venv, "/v"))
        };
        let (a, b) = (ctx("/h1"), ctx("/h2"));
        let p = Path::new("/v/bin/python");
        environment(&a, Question::Interpreter, p, read);
        environment(&a, Question::Interpreter, p, read);
        assert_eq!(reads.get(), 2, "no scope: every call reads");
        {
            let _s = scope();
            environment(&a, Question::Interpreter, p, read);
            {
                let _inner = scope();
                environment(&a, Question::Interpreter, p, read);
            }
            environment(&a, Question::Interpreter, p, read);
            assert_eq!(
                reads.get(),
                3,
                "one read per question in a scope, nested or not"
            );
            environment(&b, Question::Interpreter, p, read);
            environment(&a, Question::Prefix, p, read);
            assert_eq!(
                reads.get(),
                5,
                "another context or question is another read"
            );
        }
        environment(&a, Question::Interpreter, p, read);
        assert_eq!(reads.get(), 6, "the scope's end forgets");
    }
}
