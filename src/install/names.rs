//! From the name a user types to the distribution to install (python-environments.md §5).
//!
//! `import sklearn` fails, so the user types `kip install sklearn`; the distribution is
//! `scikit-learn`. Installing the import name blindly is worse than failing: several import
//! names are *different, unrelated projects* on PyPI (`serial`, `jwt`, `attr`, `whisper`), which
//! is a typosquatting risk. So a built-in table of known pairs always wins for the names in it;
//! metadata of distributions already installed in other local environments comes next; only
//! then is the name assumed to be the distribution name. `kip install --exact` skips all this.

use std::path::PathBuf;

pub use crate::python::dist_name::{conda_name, normalize_dist_name};

/// Import name → distribution name, for packages that are not installed (§5 of
/// python-environments.md; most confirmed by pipreqs' `mapping`, every distribution checked
/// against a PyPI name list). Dotted entries are matched before the top-level name.
///
/// Import names are case-sensitive (`PIL`, not `pil`): Python's importer compares case even on
/// case-insensitive file systems, so a lowercased `crypto` is *not* `Crypto` — and PyPI's
/// `crypto` is an unrelated project.
const IMPORT_TO_DIST: &[(&str, &str)] = &[
    // dotted entries first: `google` alone is a namespace shared by many distributions
    ("google.protobuf", "protobuf"),
    ("sklearn", "scikit-learn"),
    ("cv2", "opencv-python"),
    ("PIL", "pillow"),
    ("yaml", "PyYAML"),
    ("bs4", "beautifulsoup4"),
    ("skimage", "scikit-image"),
    ("dateutil", "python-dateutil"),
    ("dotenv", "python-dotenv"),
    ("jwt", "PyJWT"),
    ("attr", "attrs"),
    ("grpc", "grpcio"),
    ("Crypto", "pycryptodome"),
    ("OpenSSL", "pyOpenSSL"),
    ("nacl", "PyNaCl"),
    ("jose", "python-jose"),
    ("multipart", "python-multipart"),
    ("websocket", "websocket-client"),
    ("socketio", "python-socketio"),
    ("zmq", "pyzmq"),
    ("serial", "pyserial"),
    ("usb", "pyusb"),
    ("magic", "python-magic"),
    ("docx", "python-docx"),
    ("pptx", "python-pptx"),
    ("fitz", "PyMuPDF"),
    ("git", "GitPython"),
    ("github", "PyGithub"),
    ("dns", "dnspython"),
    ("ldap", "python-ldap"),
    ("MySQLdb", "mysqlclient"),
    ("telegram", "python-telegram-bot"),
    ("slugify", "python-slugify"),
    ("googleapiclient", "google-api-python-client"),
    ("Bio", "biopython"),
    ("OpenGL", "PyOpenGL"),
    ("win32api", "pywin32"),
    ("win32com", "pywin32"),
    ("gi", "PyGObject"),
    ("wx", "wxPython"),
    ("faiss", "faiss-cpu"),
    ("llama_cpp", "llama-cpp-python"),
    ("umap", "umap-learn"),
    ("absl", "absl-py"),
    ("osgeo", "GDAL"),
    ("kafka", "kafka-python"),
    ("pkg_resources", "setuptools"),
    ("Xlib", "python-xlib"),
    ("whisper", "openai-whisper"),
    ("speech_recognition", "SpeechRecognition"),
    ("cairo", "pycairo"),
    ("discord", "discord.py"),
];

/// The distribution that provides `module`, from the built-in table only.
///
/// A dotted module (`google.protobuf.message`) is matched on its longest dotted prefix in the
/// table first (`google.protobuf`), then on its top-level name.
pub fn distribution_for_import(module: &str) -> Option<&'static str> {
    let module = module.trim();
    let mut candidate = module;
    loop {
        if let Some((_, dist)) = IMPORT_TO_DIST.iter().find(|(m, _)| *m == candidate) {
            return Some(dist);
        }
        match candidate.rfind('.') {
            Some(i) => candidate = &candidate[..i],
            None => return None,
        }
    }
}

/// Where a mapping from import name to distribution came from; printed so the user can see
/// why `kip install sklearn` installed `scikit-learn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingSource {
    /// kip's built-in table of known pairs.
    BuiltinTable,
    /// The metadata (`top_level.txt` / `RECORD`) of a distribution installed elsewhere on this
    /// machine; the path is where it was seen (its `.dist-info` or env prefix).
    LocalMetadata(PathBuf),
    /// Nothing known: the import name is taken to be the distribution name.
    Assumed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportMapping {
    /// The module as the user typed it.
    pub module: String,
    /// The distribution to install, spelled as its project spells it (`PyYAML`).
    pub distribution: String,
    pub source: MappingSource,
}

impl ImportMapping {
    /// True when the distribution differs from what the user typed (then kip says so).
    pub fn renames(&self) -> bool {
        normalize_dist_name(&self.module) != normalize_dist_name(&self.distribution)
    }

    /// One line for the user: `installing "scikit-learn" for import name "sklearn" (kip's
    /// table of known import names; --exact installs "sklearn" as typed)`.
    pub fn explain(&self) -> String {
        let why = match &self.source {
            MappingSource::BuiltinTable => "kip's table of known import names".to_string(),
            MappingSource::LocalMetadata(p) => format!("metadata seen at {}", p.display()),
            MappingSource::Assumed => "no mapping known".to_string(),
        };
        format!(
            "installing \"{}\" for import name \"{}\" ({why}; --exact installs \"{}\" as typed)",
            self.distribution, self.module, self.module
        )
    }
}

/// Map an import name to the distribution to install.
///
/// `local` holds `(top-level import name, distribution, where it was seen)` triples gathered
/// from other environments on this machine (python-environments.md §5, "Installed").
///
/// Order, and why:
/// 1. the built-in table — always first, because PyPI has unrelated projects under several of
///    these import names, and a local env could hold one of them;
/// 2. local metadata: a name that is itself a locally seen distribution stays that
///    distribution; otherwise the distribution providing the top-level name, when every local
///    record agrees on one (after PEP 503 normalisation). Namespace packages (`google`,
///    `azure`) are provided by many distributions, so disagreement means "unknown", not
///    "first seen";
/// 3. otherwise [`MappingSource::Assumed`]: the module's top-level name itself.
pub fn map_import(module: &str, local: &[(String, String, PathBuf)]) -> ImportMapping {
    let module = module.trim();
    if let Some(dist) = distribution_for_import(module) {
        return ImportMapping {
            module: module.to_string(),
            distribution: dist.to_string(),
            source: MappingSource::BuiltinTable,
        };
    }
    let top = module.split('.').next().unwrap_or(module);
    // A name that is itself a distribution seen locally is that distribution: sloppy projects
    // ship top-level packages such as `tests` or `docs`, which must not hijack real names.
    if let Some((_, dist, path)) = local
        .iter()
        .find(|(_, d, _)| normalize_dist_name(d) == normalize_dist_name(top))
    {
        return ImportMapping {
            module: module.to_string(),
            distribution: dist.clone(),
            source: MappingSource::LocalMetadata(path.clone()),
        };
    }
    let mut seen: Option<(&str, &PathBuf)> = None;
    let mut agree = true;
    for (top_level, dist, path) in local {
        if top_level != top {
            continue;
        }
        match seen {
            None => seen = Some((dist.as_str(), path)),
            Some((first, _)) if normalize_dist_name(first) == normalize_dist_name(dist) => {}
            Some(_) => agree = false,
        }
    }
    match seen {
        Some((dist, path)) if agree => ImportMapping {
            module: module.to_string(),
            distribution: dist.to_string(),
            source: MappingSource::LocalMetadata(path.clone()),
        },
        _ => ImportMapping {
            module: module.to_string(),
            distribution: top.to_string(),
            source: MappingSource::Assumed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(entries: &[(&str, &str, &str)]) -> Vec<(String, String, PathBuf)> {
        entries
            .iter()
            .map(|(t, d, p)| (t.to_string(), d.to_string(), PathBuf::from(p)))
            .collect()
    }

    #[test]
    fn the_table_maps_the_classic_pairs_and_is_well_formed() {
        // The pairs python-environments.md §5 calls out, including the unrelated PyPI projects.
        for (module, dist) in [
            ("sklearn", "scikit-learn"),
            ("cv2", "opencv-python"),
            ("PIL", "pillow"),
            ("yaml", "PyYAML"),
            ("serial", "pyserial"),
            ("jwt", "PyJWT"),
        ] {
            assert_eq!(distribution_for_import(module), Some(dist), "{module}");
        }
        for (i, (module, dist)) in IMPORT_TO_DIST.iter().enumerate() {
            assert!(
                IMPORT_TO_DIST[..i].iter().all(|(m, _)| m != module),
                "{module} is listed twice"
            );
            assert_ne!(
                normalize_dist_name(module),
                normalize_dist_name(dist),
                "{module}: an entry that renames nothing"
            );
            // A dotted entry must come before its top-level name could match instead.
            if let Some((top, _)) = module.split_once('.') {
                assert!(
                    IMPORT_TO_DIST[..i].iter().all(|(m, _)| m != &top),
                    "{module} after {top}"
                );
            }
        }
    }

    #[test]
    fn dotted_modules_use_the_longest_table_prefix_then_the_top_level() {
        assert_eq!(
            distribution_for_import("google.protobuf.message"),
            Some("protobuf")
        );
        assert_eq!(
            distribution_for_import("sklearn.linear_model"),
            Some("scikit-learn")
        );
        assert_eq!(distribution_for_import("google"), None);
        assert_eq!(distribution_for_import("google.cloud.storage"), None);
        assert_eq!(distribution_for_import("numpy"), None);
        assert_eq!(distribution_for_import(""), None);
    }

    #[test]
    fn import_names_are_case_sensitive() {
        assert_eq!(distribution_for_import("pil"), None);
        assert_eq!(distribution_for_import("crypto"), None);
        assert_eq!(
            distribution_for_import("Crypto.Cipher"),
            Some("pycryptodome")
        );
    }

    #[test]
    fn the_table_wins_over_local_metadata() {
        // an env that holds PyPI's unrelated `serial` project must not steer kip to it
        let l = local(&[(
            "serial",
            "serial",
            "/envs/a/site-packages/serial-0.0.97.dist-info",
        )]);
        let m = map_import("serial", &l);
        assert_eq!(m.distribution, "pyserial");
        assert_eq!(m.source, MappingSource::BuiltinTable);
        assert!(m.renames());
    }

    #[test]
    fn local_metadata_when_not_in_the_table() {
        let l = local(&[
            (
                "markdown_it",
                "markdown-it-py",
                "/envs/a/lib/markdown_it_py-3.0.dist-info",
            ),
            (
                "markdown_it",
                "markdown_it_py",
                "/envs/b/lib/markdown_it_py-3.0.dist-info",
            ),
        ]);
        let m = map_import("markdown_it.rules", &l);
        assert_eq!(m.module, "markdown_it.rules");
        assert_eq!(m.distribution, "markdown-it-py");
        assert_eq!(
            m.source,
            MappingSource::LocalMetadata(PathBuf::from("/envs/a/lib/markdown_it_py-3.0.dist-info"))
        );
    }

    #[test]
    fn a_local_distribution_name_is_not_hijacked_by_a_top_level_name() {
        let l = local(&[
            (
                "tests",
                "sloppy-project",
                "/envs/a/sloppy_project-1.0.dist-info",
            ),
            ("tests", "tests", "/envs/b/tests-0.7.dist-info"),
        ]);
        let m = map_import("tests", &l);
        assert_eq!(m.distribution, "tests");
        assert!(!m.renames());
        assert_eq!(
            m.source,
            MappingSource::LocalMetadata(PathBuf::from("/envs/b/tests-0.7.dist-info"))
        );
    }

    #[test]
    fn explanations_name_both_sides_and_the_escape_hatch() {
        let m = map_import("sklearn", &[]);
        assert_eq!(
            m.explain(),
            "installing \"scikit-learn\" for import name \"sklearn\" (kip's table of known \
             import names; --exact installs \"sklearn\" as typed)"
        );
    }

    #[test]
    fn namespace_packages_with_disagreeing_metadata_are_assumed() {
        let l = local(&[
            ("google", "google-auth", "/a"),
            ("google", "google-cloud-storage", "/b"),
        ]);
        let m = map_import("google.cloud.storage", &l);
        assert_eq!(m.distribution, "google");
        assert_eq!(m.source, MappingSource::Assumed);
    }

    #[test]
    fn unknown_names_are_assumed_to_be_their_own_distribution() {
        let m = map_import("numpy", &[]);
        assert_eq!(m.distribution, "numpy");
        assert_eq!(m.source, MappingSource::Assumed);
        assert!(!m.renames());
        let m = map_import("google.protobuf", &[]);
        assert_eq!(m.distribution, "protobuf");
        assert_eq!(m.source, MappingSource::BuiltinTable);
    }
}
