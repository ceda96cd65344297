//! The installed distributions of an environment and who installed each, read from disk
//! (`*.dist-info/INSTALLER`, `conda-meta/*.json`): no interpreter runs.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::python::{dist_name, site};

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// `conda`, `pip`, `uv`, `uv-pixi`, … (`INSTALLER`, or a conda-meta record).
    pub installer: String,
    /// The `.dist-info` directory or the conda-meta record.
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub location: PathBuf,
    /// Other installed distributions that install the same top-level module (their files
    /// overwrite each other; uninstalling one deletes the other's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shares_module: Vec<SharedModule>,
}

/// `module` is also installed by `distribution`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SharedModule {
    pub module: String,
    pub distribution: String,
}

/// conda-meta records: (name, version, record path).
pub fn conda_records(prefix: &Path) -> Vec<(String, String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(prefix.join("conda-meta")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let Ok(text) = crate::files::read_to_string(&p) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let (Some(n), Some(ver)) = (
            v.get("name").and_then(|x| x.as_str()),
            v.get("version").and_then(|x| x.as_str()),
        ) {
            out.push((n.to_string(), ver.to_string(), p));
        }
    }
    out
}

/// Every installed distribution of an environment (site-packages dirs + conda-meta).
pub fn packages(site_packages: &[PathBuf], prefix: &Path) -> Vec<Package> {
    let conda = conda_records(prefix);
    let mut out: Vec<Package> = Vec::new();
    for sp in site_packages {
        let (pairs, _) = crate::python::shared_files::scan(sp);
        for d in site::installed_distributions(sp) {
            let shares_module: Vec<SharedModule> = pairs
                .iter()
                .filter_map(|p| {
                    let other = if p.keep.dist_info == d.dist_info {
                        &p.other
                    } else if p.other.dist_info == d.dist_info {
                        &p.keep
                    } else {
                        return None;
                    };
                    Some(SharedModule {
                        module: p.module.clone(),
                        distribution: other.name.clone(),
                    })
                })
                .collect();
            let conda_owned = conda.iter().any(|(n, _, _)| {
                dist_name::normalize_dist_name(n) == d.normalized_name
                    || dist_name::conda_name(n) == dist_name::conda_name(&d.name)
            });
            let installer = if conda_owned {
                "conda".to_string()
            } else {
                d.installer.clone().unwrap_or_else(|| "unknown".into())
            };
            if !out
                .iter()
                .any(|p| dist_name::normalize_dist_name(&p.name) == d.normalized_name)
            {
                out.push(Package {
                    name: d.name.clone(),
                    version: d.version.clone(),
                    installer,
                    location: d.dist_info.clone(),
                    shares_module,
                });
            }
        }
    }
    for (n, v, p) in conda {
        if !out
            .iter()
            .any(|x| dist_name::conda_name(&x.name) == dist_name::conda_name(&n))
        {
            out.push(Package {
                name: n,
                version: v,
                installer: "conda".into(),
                location: p,
                shares_module: Vec::new(),
            });
        }
    }
    out.sort_by_key(|p| dist_name::normalize_dist_name(&p.name));
    out
}
