//! Python interpreters and environments.

pub mod cache;
pub mod classify;
pub mod discovery;
pub mod dist_name;
pub mod dotted;
pub mod environment;
pub mod interpreter;
pub mod layout;
pub mod memo;
pub mod packages;
pub mod pep668;
pub mod probe;
pub mod pyenv;
pub mod repoint;
pub mod shared_files;
pub mod shebang;
pub mod site;
pub mod version;
