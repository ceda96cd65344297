//! kip: see every Jupyter kernel and Python environment, install into exactly the kernel's
//! environment, diagnose and repair kernelspecs.
//!
//! Data flows one way: discover → model → decide → act → render (docs/ARCHITECTURE.md).

pub mod envvars;
pub mod platform;
pub mod process;
pub mod python;
pub mod cli;
pub mod context;
pub mod doctor;
pub mod jupyter;
pub mod kernel;
pub mod pyjson;
pub mod render;
pub mod shell;
pub mod install;
