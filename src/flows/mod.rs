//! One orchestration per verb: a plain request (no clap types) and a reporter in, a typed
//! report and a [`Status`] out. Flows never print or prompt (events and the picker go through
//! [`crate::report::Reporter`]); a flow may call another flow's library function, never a
//! face.

pub mod install;

/// How a verb ended; the CLI maps it to the exit code (PRODUCT.md: 0 success, 1 the operation
/// failed, 2 bad usage or bad input, 130 interrupted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    Usage,
    Interrupted,
}
