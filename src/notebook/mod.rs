//! Notebooks: reading `.ipynb` files and finding the modules their code imports.
//!
//! [`ipynb`] reads a notebook (nbformat 4) and the kernel it asks for, including the kernel
//! names nb_conda_kernels invents for conda envs; [`imports`] finds what its code cells import,
//! with IPython's rules for what in a cell is Python and with `try/except ImportError` guards
//! noticed. Both are pure: no processes, no environment lookups. Deciding which imports are
//! missing in a kernel is the caller's job (`doctor::notebook`), since only it knows the env.

pub mod imports;
pub mod ipynb;
pub mod kernelspec_edit;
pub mod use_kernel;

pub use imports::{extract, extract_from_source, is_stdlib, ImportRef};
pub use ipynb::{nb_conda_env, read, Cell, CellKind, NbCondaName, Notebook, NotebookError};
