//! Python interpreters and environments.

pub mod environment;
pub mod version;
