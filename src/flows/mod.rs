//! One orchestration per verb: a plain request (no clap types) and a reporter in, a typed
//! report and a [`Status`] out. Flows never print or prompt (events and the picker go through
//! [`crate::report::Reporter`]); a flow may call another flow's library function, never a
//! face.

use std::path::Path;

use crate::context::Context;
use crate::install::target::{self, Target, TargetArgs, TargetError};
use crate::python::probe::Prober;
use crate::report::{Event, Reporter};

pub mod doctor;
pub mod envs;
pub mod install;
pub mod kernel;
pub mod kernel_use;
pub mod kernels;
pub mod list;
pub mod ps;
pub mod uninstall;
pub mod which;
pub mod why;

/// How a verb ended; the CLI maps it to the exit code (PRODUCT.md: 0 success, 1 the operation
/// failed, 2 bad usage or bad input, 130 interrupted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    Usage,
    Interrupted,
}

/// The TARGET flags resolved (see `install::target`), the choice reported; `Err(status)` once
/// the reason it failed was reported (bad usage, or nothing found there).
pub fn resolve_target(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    verb: &str,
    args: &TargetArgs,
) -> anyhow::Result<Result<Target, Status>> {
    let (message, status) = match target::resolve_with(ctx, prober, r, args)? {
        Ok(t) => {
            r.event(target_event(&t));
            return Ok(Ok(t));
        }
        Err(TargetError::Usage(m)) => (m, Status::Usage),
        Err(TargetError::NotFound(m)) => (m, Status::Failure),
    };
    r.event(Event::error(verb, message));
    Ok(Err(status))
}

/// Note what an install or uninstall changed in `prefix` in kip's change journal (for `kip ps`'s
/// restart advice); a journal that cannot be written is said, never fatal.
pub fn record_changes(
    ctx: &Context,
    r: &mut dyn Reporter,
    prefix: &Path,
    changed: &[crate::install::changes::Change],
) {
    let cache = crate::context::cache_dir(&ctx.vars);
    if let Err(message) = crate::install::journal::record(cache.as_deref(), prefix, changed) {
        r.event(Event::note(message));
    }
}

pub fn target_event(target: &Target) -> Event {
    Event::Target {
        prefix: target.env.prefix.clone(),
        python: target.python.clone(),
        kernel: target.kernel.clone(),
        why: target.why.clone(),
    }
}
