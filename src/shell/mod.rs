//! What the shell finds on PATH.

pub mod path;
pub mod which;
