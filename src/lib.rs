//! kip: see every Jupyter kernel and Python environment, install into exactly the kernel's
//! environment, diagnose and repair kernelspecs.
//!
//! Data flows one way: discover → model → decide → act → render (docs/ARCHITECTURE.md).

// Functions stay short (clippy.toml: 100 lines); tests may be long scenarios.
#![cfg_attr(not(test), warn(clippy::too_many_lines))]
// Outside data never meets unwrap/expect in kip itself: a panic would hide every other
// result. Unit tests may (clippy.toml); each constant case is allowed where it stands.
#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod cli;
pub mod context;
pub mod doctor;
pub mod envvars;
pub mod files;
pub mod flows;
#[doc(hidden)]
pub mod fuzzing;
pub mod install;
pub mod jupyter;
pub mod kernel;
pub mod notebook;
pub mod platform;
pub mod process;
pub mod pyjson;
pub mod python;
pub mod render;
pub mod report;
pub mod shell;
