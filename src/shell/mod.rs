//! What the shell finds on PATH.

pub mod which;
