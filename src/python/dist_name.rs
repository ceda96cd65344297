//! Distribution names as pip, uv and conda compare them. A leaf: environments, installers and
//! listings all compare names, so this module imports nothing of kip.

/// PEP 503 normalisation: lowercase, every run of `-`, `_`, `.` becomes one `-`.
/// This is how pip, uv and PyPI compare distribution names (`PyYAML` = `pyyaml`).
pub fn normalize_dist_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// The name a conda channel most likely uses for a PyPI distribution: lowercase, `_` → `-`
/// (`hello_fixture` → `hello-fixture`, `PyYAML` → `pyyaml`), the convention conda-forge and
/// grayskull follow for packages built from PyPI.
///
/// Dots are kept, unlike PEP 503: conda-forge names such packages with their dot
/// (`ruamel.yaml`, `zope.interface`, `discord.py`, `backports.zoneinfo`), and conda match
/// specs accept dots in names. Either way, a name the channels lack is caught by the
/// `PackagesNotFoundError` fallback and installed from PyPI, so a wrong guess costs a solve,
/// never a wrong package.
pub fn conda_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| if c == '_' { '-' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalisation() {
        assert_eq!(normalize_dist_name("PyYAML"), "pyyaml");
        assert_eq!(normalize_dist_name("hello_fixture"), "hello-fixture");
        assert_eq!(normalize_dist_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_dist_name("a-_.-b"), "a-b");
        assert_eq!(normalize_dist_name("Foo__Bar"), "foo-bar");
        assert_eq!(normalize_dist_name(" ruamel.yaml "), "ruamel-yaml");
    }

    #[test]
    fn conda_names() {
        assert_eq!(conda_name("hello_fixture"), "hello-fixture");
        assert_eq!(conda_name("PyYAML"), "pyyaml");
        assert_eq!(conda_name("scikit-learn"), "scikit-learn");
        // conda-forge keeps dots: ruamel.yaml, zope.interface, discord.py
        assert_eq!(conda_name("ruamel.yaml"), "ruamel.yaml");
        assert_eq!(conda_name("Zope.Interface"), "zope.interface");
    }
}
