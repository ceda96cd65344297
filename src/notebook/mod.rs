//! Notebooks: reading `.ipynb` files and finding the modules their code imports.

pub mod imports;
pub mod ipynb;
