//! Jupyter's rules, re-implemented: search paths, kernelspec discovery, launch-time
//! resolution, and whose view of the kernels is used.

pub mod config;
pub mod kernelspec;
pub mod launch;
pub mod paths;
pub mod ps;
pub mod resolved;
pub mod runtime;
pub mod server_env;
pub mod servers;
pub mod start;
pub mod view;
