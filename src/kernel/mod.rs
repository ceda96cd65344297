//! Kernelspecs kip writes: the spec itself (`spec.rs`) and how it reaches the disk (`write.rs`).

pub mod spec;
pub mod write;
