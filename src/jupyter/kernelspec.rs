//! Kernelspec discovery, validation and precedence, as jupyter_client 8.10.0
//! `kernelspec.py` does it — the whole rule set in one place.
//!
//! * `find_kernel_specs`: walk `kernel_dirs` in order; in each, `os.listdir` order (raw readdir,
//!   unsorted, dotfiles included); keep `isdir(p) && isfile(p/kernel.json)` (symlinks
//!   followed); key = `entry.lower()`; first dir wins; within one dir a later case-collision
//!   replaces the path but keeps the key's first position (a dict assignment).
//! * native `python3` injection when missing and `ipykernel.kernelspec` imports.
//! * `allowed_kernelspecs` filter.
//! * `get_all_specs`: read each `kernel.json` (strict UTF-8, Python `json`), build the traitlets
//!   `KernelSpec` (type checks below), then the provisioner gate; any failure drops the spec
//!   from `--json` (Jupyter logs a warning), which kip keeps as a [`SpecProblem`].

use std::path::{Path, PathBuf};

use crate::jupyter::paths::{pjoin, DataDir, DirOrigin};
use crate::pyjson::{self, PyStr, Value};

/// The name Jupyter uses for the kernel it can always provide itself.
pub const NATIVE_KERNEL_NAME: &str = "python3";

/// A validated kernelspec, in `KernelSpec.to_dict()` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelSpec {
    pub argv: Vec<Value>,
    pub env: Vec<(PyStr, Value)>,
    pub display_name: PyStr,
    pub language: PyStr,
    pub interrupt_mode: &'static str,
    /// Including the `"config": {}` that the provisioner check inserts.
    pub metadata: Vec<(PyStr, Value)>,
    pub kernel_protocol_version: PyStr,
}

impl KernelSpec {
    /// `argv` as text, when every item is a string.
    pub fn argv_strings(&self) -> Option<Vec<String>> {
        self.argv
            .iter()
            .map(|v| v.as_str().map(|s| s.to_string_lossy()))
            .collect()
    }

    /// The `env` entries whose values are strings (jupyter_client raises on others at launch).
    pub fn env_strings(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(|(k, v)| Some((k.to_string_lossy(), v.as_str()?.to_string_lossy())))
            .collect()
    }

    pub fn metadata_get(&self, key: &str) -> Option<&Value> {
        let key = PyStr::new(key);
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// `to_dict()` as a Python-compatible JSON value (key order as upstream).
    pub fn to_value(&self) -> Value {
        Value::Object(vec![
            (PyStr::new("argv"), Value::Array(self.argv.clone())),
            (PyStr::new("env"), Value::Object(self.env.clone())),
            (
                PyStr::new("display_name"),
                Value::Str(self.display_name.clone()),
            ),
            (PyStr::new("language"), Value::Str(self.language.clone())),
            (
                PyStr::new("interrupt_mode"),
                Value::Str(PyStr::new(self.interrupt_mode)),
            ),
            (PyStr::new("metadata"), Value::Object(self.metadata.clone())),
            (
                PyStr::new("kernel_protocol_version"),
                Value::Str(self.kernel_protocol_version.clone()),
            ),
        ])
    }
}

/// Why Jupyter would not load a kernelspec it found.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SpecProblem {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path} is not valid JSON: {reason}")]
    InvalidJson { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    InvalidSpec { path: PathBuf, reason: String },
    #[error("{path}: kernel provisioner {name:?} is not installed in the Jupyter environment")]
    ProvisionerUnavailable { path: PathBuf, name: String },
}

/// What decides the injected native kernel's spec: the Jupyter Python and its ipykernel.
#[derive(Clone, Debug)]
pub struct NativeKernel {
    /// `ipykernel.kernelspec.RESOURCES`: `<dir on sys.path>/ipykernel/resources`.
    pub resources: PathBuf,
    /// The Jupyter's `sys.executable`.
    pub executable: PathBuf,
    pub python_major: u8,
    /// ipykernel (major, minor), for the fields each release writes.
    pub ipykernel_version: Option<(u32, u32)>,
}

impl NativeKernel {
    /// ipykernel `get_kernel_dict()` for this interpreter and ipykernel release.
    pub fn spec(&self) -> KernelSpec {
        let (maj, min) = self.ipykernel_version.unwrap_or((7, 4));
        let mut metadata = vec![(PyStr::new("debugger"), Value::Bool(true))];
        if (maj, min) >= (7, 3) {
            metadata.push((
                PyStr::new("supported_encryption"),
                Value::Array(vec![Value::Str(PyStr::new("curve"))]),
            ));
        }
        let kpv = if (maj, min) >= (7, 2) { "5.5" } else { "" };
        KernelSpec {
            argv: vec![
                Value::Str(PyStr::from_os_str(self.executable.as_os_str())),
                Value::Str(PyStr::new("-m")),
                Value::Str(PyStr::new("ipykernel_launcher")),
                Value::Str(PyStr::new("-f")),
                Value::Str(PyStr::new("{connection_file}")),
            ],
            env: Vec::new(),
            display_name: PyStr::new(&format!("Python {} (ipykernel)", self.python_major)),
            language: PyStr::new("python"),
            interrupt_mode: "signal",
            metadata,
            kernel_protocol_version: PyStr::new(kpv),
        }
    }
}

/// The inputs of discovery beyond the directory list.
#[derive(Clone, Debug, Default)]
pub struct DiscoveryRules {
    /// `KernelSpecManager.ensure_native_kernel` (default true) and the native kernel, when
    /// `ipykernel.kernelspec` imports in the Jupyter's Python.
    pub ensure_native_kernel: bool,
    pub native: Option<NativeKernel>,
    /// `KernelSpecManager.allowed_kernelspecs` (empty = all).
    pub allowed: Vec<String>,
    /// Entry points in `jupyter_client.kernel_provisioners` of the Jupyter's env.
    pub provisioners: Vec<String>,
    /// `JUPYTER_DEFAULT_PROVISIONER_NAME` or config, else `local-provisioner`.
    pub default_provisioner: String,
    /// List only the kernel with this key (lowercased name), as `get_kernel_spec` finds one:
    /// the other kernel.json files are not read (a hub has thousands).
    pub only: Option<PyStr>,
}

/// One kernelspec directory found on the path (whether or not it wins).
#[derive(Clone, Debug)]
pub struct FoundSpec {
    /// The key Jupyter uses (`entry.lower()`).
    pub name: PyStr,
    /// `os.path.join(kernel_dir, entry)` exactly as Jupyter prints it.
    pub resource_dir: PathBuf,
    /// Index into the kernel dir list.
    pub dir_index: usize,
    pub origin: DirOrigin,
    /// The injected native kernel (no kernel.json on disk).
    pub native: bool,
    /// Where the files are now. Differs from `resource_dir` only for kernels Jupyter's
    /// one-time migration would copy from the IPython dir before listing.
    pub disk_dir: PathBuf,
}

/// A kernel as Jupyter lists it, plus what kip noticed along the way.
#[derive(Clone, Debug)]
pub struct KernelEntry {
    pub found: FoundSpec,
    pub spec: Result<KernelSpec, SpecProblem>,
    /// Same-named kernelspecs in later directories (or case-collisions) that this one hides.
    pub shadows: Vec<FoundSpec>,
    /// The name fails `^[a-z0-9._-]+$` (Jupyter warns but lists it).
    pub invalid_name: bool,
}

/// The full result of discovery, in Jupyter's order.
#[derive(Clone, Debug, Default)]
pub struct KernelListing {
    pub dirs: Vec<DataDir>,
    pub entries: Vec<KernelEntry>,
    /// Specs removed by `allowed_kernelspecs`.
    pub filtered_out: Vec<PyStr>,
    /// Things that went wrong reading directories (unreadable dir, …).
    pub warnings: Vec<String>,
    /// Kernel directories Jupyter skips silently because their `kernel.json` is not a regular
    /// file (a directory, a FIFO, a dangling or looping symlink): (directory, why).
    pub skipped: Vec<(PathBuf, String)>,
}

impl KernelListing {
    /// What `jupyter kernelspec list --json` prints on stdout.
    pub fn jupyter_json(&self) -> String {
        let mut specs = Vec::new();
        for e in &self.entries {
            if let Ok(spec) = &e.spec {
                specs.push((
                    e.found.name.clone(),
                    Value::Object(vec![
                        (
                            PyStr::new("resource_dir"),
                            Value::Str(PyStr::from_os_str(e.found.resource_dir.as_os_str())),
                        ),
                        (PyStr::new("spec"), spec.to_value()),
                    ]),
                ));
            }
        }
        let doc = Value::Object(vec![(PyStr::new("kernelspecs"), Value::Object(specs))]);
        let mut out = pyjson::dumps_indent(&doc, 2);
        out.push('\n');
        out
    }

    pub fn get(&self, name: &str) -> Option<&KernelEntry> {
        let key = PyStr::new(name);
        self.entries.iter().find(|e| e.found.name == key)
    }
}

/// `_is_valid_kernel_name` on the lowercased key.
pub fn is_valid_kernel_name(name: &PyStr) -> bool {
    let Some(s) = name.as_str() else {
        return false;
    };
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// One kernel dir of a listing: key, path, disk path, the case-collisions it replaced, and its
/// kernel.json's bytes when the look that found it could read them.
type Listed = (PyStr, PathBuf, PathBuf, Vec<PathBuf>, Option<Vec<u8>>);

/// `_list_kernels_in(dir)`: [`Listed`] rows in readdir order with dict semantics.
/// `read_from` is the directory actually read (see [`FoundSpec::disk_dir`]).
fn list_kernels_in(
    dir: &Path,
    read_from: &Path,
    only: Option<&PyStr>,
    warnings: &mut Vec<String>,
    skipped: &mut Vec<(PathBuf, String)>,
) -> Vec<Listed> {
    let effective = if read_from.as_os_str().is_empty() {
        Path::new(".")
    } else {
        read_from
    };
    match std::fs::metadata(effective) {
        Ok(m) if m.is_dir() => {}
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            // Jupyter skips it silently (`os.path.isdir` is False); kip says so.
            warnings.push(format!("cannot look into {}: {e}", dir.display()));
            return Vec::new();
        }
        _ => return Vec::new(),
    }
    let rd = match std::fs::read_dir(effective) {
        Ok(rd) => rd,
        Err(e) => {
            warnings.push(format!("cannot list {}: {e}", dir.display()));
            return Vec::new();
        }
    };
    leftover_warnings(dir, warnings);
    let parent = crate::files::open_dir(effective).ok();
    let mut out: Vec<Listed> = Vec::new();
    let mut index: std::collections::HashMap<PyStr, usize> = std::collections::HashMap::new();
    for entry in rd {
        let Ok(entry) = entry else { continue };
        let fname = entry.file_name();
        let path = pjoin(dir, &fname.to_string_lossy());
        // Build the path from the raw bytes so non-UTF-8 names survive.
        let path = if fname.to_str().is_some() {
            path
        } else if dir.as_os_str().is_empty() {
            PathBuf::from(&fname)
        } else {
            dir.join(&fname)
        };
        let key = PyStr::from_os_str(&fname).lower();
        if only.is_some_and(|o| *o != key) {
            continue;
        }
        let disk = effective.join(&fname);
        let Some(bytes) = kernel_json(parent.as_ref(), &disk) else {
            if let Some(why) = unusable_kernel_json(&disk) {
                // Jupyter skips such a directory without a word; the user meant a kernel.
                warnings.push(format!(
                    "Jupyter skips the kernel directory {}: its kernel.json cannot be read ({why}); make it a regular file, or remove the directory",
                    crate::pyjson::os_text(&path)
                ));
                skipped.push((path, why));
            }
            continue;
        };
        if fname.to_str().is_none() {
            // Jupyter lists it (its key holds surrogate escapes) and warns only that the name
            // is invalid; kip names the cause, since tools that want UTF-8 stumble on it.
            warnings.push(format!(
                "the kernel directory {} is not named in UTF-8; Jupyter lists it as {key:?}. \
                 Rename it to a valid kernel name (^[a-z0-9._-]+$)",
                crate::pyjson::os_text(&path)
            ));
        }
        if let Some(slot) = index.get(&key).and_then(|&i| out.get_mut(i)) {
            let old = std::mem::replace(&mut slot.1, path);
            slot.2 = disk;
            slot.3.push(old);
            slot.4 = bytes;
        } else {
            index.insert(key.clone(), out.len());
            out.push((key, path, disk, Vec::new(), bytes));
        }
    }
    out
}

/// Prefixes of the dirs kip's kernel writes use beside a `kernels/` dir (in its parent, so
/// Jupyter never lists them): a kernel being staged or swapped out, one being removed. One
/// left behind means a kip write was interrupted (`kip::kernel::write` cleans them up).
pub const STAGING_PREFIX: &str = ".kip-staging-";
pub const REMOVING_PREFIX: &str = ".kip-removing-";

/// Leftovers of kip writes beside `kernels_dir` (one `read_dir` of its parent).
pub fn leftover_writes(kernels_dir: &Path) -> Vec<PathBuf> {
    let Some(parent) = kernels_dir.parent() else {
        return Vec::new();
    };
    let Ok(rd) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            (n.starts_with(STAGING_PREFIX) || n.starts_with(REMOVING_PREFIX))
                && e.file_type().is_ok_and(|t| t.is_dir())
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// The warning a listing gives for [`leftover_writes`]: what each holds, and that the next
/// kip write there cleans it up (discovery itself writes nothing).
fn leftover_warnings(kernels_dir: &Path, warnings: &mut Vec<String>) {
    for left in leftover_writes(kernels_dir) {
        let held: Vec<String> = std::fs::read_dir(&left)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("kernel.json").is_file())
            .map(|e| crate::pyjson::os_text(e.file_name()))
            .collect();
        let w = format!(
            "{} was left by an interrupted kip write (it holds: {}); the next `kip kernel add` into {} cleans it up, or remove it yourself",
            crate::pyjson::os_text(&left),
            if held.is_empty() { "no kernel".to_string() } else { held.join(", ") },
            crate::pyjson::os_text(kernels_dir),
        );
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
}

/// `_is_kernel_dir`: `isdir(path) and isfile(path/kernel.json)`, following symlinks. One
/// `stat`: `path/kernel.json` is a file only when `path` is a directory (ENOTDIR otherwise).
pub fn is_kernel_dir(path: &Path) -> bool {
    let base = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    base.join("kernel.json").is_file()
}

/// [`is_kernel_dir`] and the file's bytes in one look: `None` when `dir` is not a kernel dir,
/// `Some(None)` when it is but the bytes could not be read here ([`load_spec`] says why).
/// Opening first spares a `stat` per kernel, and opening below `parent` (the open kernels dir
/// `dir` is in) a walk from `/`: a hub lists thousands.
fn kernel_json(parent: Option<&std::os::fd::OwnedFd>, dir: &Path) -> Option<Option<Vec<u8>>> {
    let base = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let read = match (parent, base.file_name()) {
        (Some(fd), Some(name)) => crate::files::read_at(fd, &Path::new(name).join("kernel.json")),
        _ => crate::files::read(base.join("kernel.json")),
    };
    match read {
        Ok(bytes) => Some(Some(bytes)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => None,
        Err(_) => is_kernel_dir(dir).then_some(None),
    }
}

/// For a directory whose `kernel.json` exists as an entry but is not a regular file Jupyter
/// could read (a directory, a FIFO, a dangling or looping symlink): why not.
fn unusable_kernel_json(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return None;
    }
    let file = dir.join("kernel.json");
    std::fs::symlink_metadata(&file).ok()?;
    match crate::files::open_regular(&file) {
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some("it is a symlink to a missing file".into())
        }
        Err(e) => Some(e.to_string()),
    }
}

/// Discover and load every kernelspec as `jupyter kernelspec list --json` would.
pub fn discover(dirs: Vec<DataDir>, rules: &DiscoveryRules) -> KernelListing {
    discover_with_overlay(dirs, rules, None)
}

/// [`discover`], with the kernel dir `overlay.0` read from `overlay.1` (a predicted copy).
pub fn discover_with_overlay(
    dirs: Vec<DataDir>,
    rules: &DiscoveryRules,
    overlay: Option<(&Path, &Path)>,
) -> KernelListing {
    let mut listing = KernelListing {
        dirs,
        ..Default::default()
    };
    let mut found: Vec<(FoundSpec, Vec<FoundSpec>, Option<Vec<u8>>)> = Vec::new();
    let mut index: std::collections::HashMap<PyStr, usize> = std::collections::HashMap::new();
    for (i, d) in listing.dirs.iter().enumerate() {
        let read_from = match overlay {
            Some((dst, src)) if d.path == dst => src,
            _ => d.path.as_path(),
        };
        for (key, path, disk, collisions, bytes) in list_kernels_in(
            &d.path,
            read_from,
            rules.only.as_ref(),
            &mut listing.warnings,
            &mut listing.skipped,
        ) {
            let fs = FoundSpec {
                name: key.clone(),
                resource_dir: path,
                dir_index: i,
                origin: d.origin,
                native: false,
                disk_dir: disk,
            };
            let collided: Vec<FoundSpec> = collisions
                .into_iter()
                .map(|p| FoundSpec {
                    disk_dir: read_from.join(p.file_name().unwrap_or_default()),
                    resource_dir: p,
                    ..fs.clone()
                })
                .collect();
            // By an index, not a scan: a hub's thousands of kernels made the scan quadratic.
            if let Some((_, hidden, _)) = index.get(&key).and_then(|&i| found.get_mut(i)) {
                hidden.push(fs);
                hidden.extend(collided);
            } else {
                index.insert(key, found.len());
                found.push((fs, collided, bytes));
            }
        }
    }
    let native_key = PyStr::new(NATIVE_KERNEL_NAME);
    let native_wanted = rules.only.as_ref().is_none_or(|o| *o == native_key);
    if rules.ensure_native_kernel && native_wanted && !index.contains_key(&native_key) {
        if let Some(native) = &rules.native {
            found.push((
                FoundSpec {
                    name: native_key.clone(),
                    resource_dir: native.resources.clone(),
                    dir_index: listing.dirs.len(),
                    origin: DirOrigin::Env,
                    native: true,
                    disk_dir: native.resources.clone(),
                },
                Vec::new(),
                None,
            ));
        }
    }
    if !rules.allowed.is_empty() {
        let (keep, drop): (Vec<_>, Vec<_>) = found
            .into_iter()
            .partition(|(f, _, _)| rules.allowed.iter().any(|a| PyStr::new(a) == f.name));
        listing.filtered_out = drop.into_iter().map(|(f, _, _)| f.name).collect();
        found = keep;
    }
    for (fs, shadows, bytes) in found {
        let load = || match bytes {
            Some(bytes) => parse_spec(&fs.disk_dir.join("kernel.json"), &bytes),
            None => load_spec(&fs.disk_dir),
        };
        let spec = if fs.native || is_native_resources(&fs, rules) {
            match &rules.native {
                Some(n) => Ok(n.spec()),
                None => load(),
            }
        } else {
            load()
        };
        let spec = spec.and_then(|s| provisioner_gate(s, &fs.disk_dir, rules));
        listing.entries.push(KernelEntry {
            invalid_name: !is_valid_kernel_name(&fs.name),
            found: fs,
            spec,
            shadows,
        });
    }
    listing
}

/// `_get_kernel_spec_by_name` builds the native spec when the path *is* `RESOURCES`.
fn is_native_resources(fs: &FoundSpec, rules: &DiscoveryRules) -> bool {
    fs.name == PyStr::new(NATIVE_KERNEL_NAME)
        && rules
            .native
            .as_ref()
            .is_some_and(|n| n.resources == fs.resource_dir)
}

/// `KernelSpec.from_resource_dir`: read, parse, and validate as the traitlets would.
pub fn load_spec(resource_dir: &Path) -> Result<KernelSpec, SpecProblem> {
    let file = resource_dir.join("kernel.json");
    let bytes = crate::files::read(&file).map_err(|e| SpecProblem::Unreadable {
        path: file.clone(),
        reason: e.to_string(),
    })?;
    parse_spec(&file, &bytes)
}

/// The part of [`load_spec`] after the read: `bytes` are `file`'s.
fn parse_spec(file: &Path, bytes: &[u8]) -> Result<KernelSpec, SpecProblem> {
    let value = pyjson::parse(bytes).map_err(|e| SpecProblem::InvalidJson {
        path: file.to_path_buf(),
        reason: e.to_string(),
    })?;
    validate(value).map_err(|reason| SpecProblem::InvalidSpec {
        path: file.to_path_buf(),
        reason,
    })
}

/// The traitlets `KernelSpec(resource_dir=…, **obj)` checks (verified against jupyter_client
/// 8.10.0): `argv` a list (a string `s` becomes `[s]`); `display_name`, `language`,
/// `kernel_protocol_version`, `name`, `mimetype` strings; `interrupt_mode` caseless
/// `message`/`signal`; `env`, `metadata` objects; a `resource_dir` key is a duplicate keyword.
pub fn validate(value: Value) -> Result<KernelSpec, String> {
    let Value::Object(pairs) = value else {
        return Err(format!(
            "the top level is a {}, not an object",
            value.type_name()
        ));
    };
    let mut spec = KernelSpec {
        argv: Vec::new(),
        env: Vec::new(),
        display_name: PyStr::default(),
        language: PyStr::default(),
        interrupt_mode: "signal",
        metadata: Vec::new(),
        kernel_protocol_version: PyStr::default(),
    };
    let want_str = |key: &str, v: &Value| -> Result<PyStr, String> {
        v.as_str()
            .cloned()
            .ok_or_else(|| format!("\"{key}\" must be a string, not {}", v.type_name()))
    };
    for (k, v) in pairs {
        let Some(key) = k.as_str() else { continue };
        match key.as_str() {
            "argv" => {
                spec.argv = match v {
                    Value::Array(items) => items,
                    Value::Str(s) => vec![Value::Str(s)],
                    other => {
                        return Err(format!(
                            "\"argv\" must be a list, not {}",
                            other.type_name()
                        ))
                    }
                }
            }
            "env" => {
                spec.env = match v {
                    Value::Object(o) => o,
                    other => {
                        return Err(format!(
                            "\"env\" must be an object, not {}",
                            other.type_name()
                        ))
                    }
                }
            }
            "metadata" => {
                spec.metadata = match v {
                    Value::Object(o) => o,
                    other => {
                        return Err(format!(
                            "\"metadata\" must be an object, not {}",
                            other.type_name()
                        ))
                    }
                }
            }
            "display_name" => spec.display_name = want_str(&key, &v)?,
            "language" => spec.language = want_str(&key, &v)?,
            "kernel_protocol_version" => spec.kernel_protocol_version = want_str(&key, &v)?,
            "name" | "mimetype" => {
                want_str(&key, &v)?;
            }
            "interrupt_mode" => {
                let s = want_str(&key, &v)?;
                spec.interrupt_mode = match s.lower().as_str().as_deref() {
                    Some("message") => "message",
                    Some("signal") => "signal",
                    _ => {
                        return Err(format!(
                            "\"interrupt_mode\" must be \"message\" or \"signal\", not {:?}",
                            s.to_string_lossy()
                        ))
                    }
                }
            }
            "resource_dir" => {
                return Err("a \"resource_dir\" key is not allowed (Jupyter sets it)".into())
            }
            _ => {}
        }
    }
    Ok(spec)
}

/// jupyter_client `KernelProvisionerFactory.is_provisioner_available`, including its
/// side effect: a `kernel_provisioner` with a name but no `config` gains `"config": {}`.
fn provisioner_gate(
    mut spec: KernelSpec,
    resource_dir: &Path,
    rules: &DiscoveryRules,
) -> Result<KernelSpec, SpecProblem> {
    let file = resource_dir.join("kernel.json");
    let invalid = |reason: &str| SpecProblem::InvalidSpec {
        path: file.clone(),
        reason: reason.to_string(),
    };
    let kp_key = PyStr::new("kernel_provisioner");
    let name_key = PyStr::new("provisioner_name");
    let config_key = PyStr::new("config");
    let mut name = rules.default_provisioner.clone();
    if let Some(pos) = spec.metadata.iter().position(|(k, _)| *k == kp_key) {
        match &mut spec.metadata[pos].1 {
            Value::Object(kp) => {
                if let Some((_, n)) = kp.iter().find(|(k, _)| *k == name_key) {
                    name = python_str(n);
                    if !kp.iter().any(|(k, _)| *k == config_key) {
                        kp.push((config_key, Value::Object(Vec::new())));
                    }
                }
            }
            Value::Str(s) => {
                // `"provisioner_name" in s` is a substring test; then `s.update` fails.
                if s.to_string_lossy().contains("provisioner_name") {
                    return Err(invalid("metadata.kernel_provisioner is a string naming a provisioner; it must be an object"));
                }
            }
            Value::Array(items) => {
                if items.iter().any(|i| i.as_str() == Some(&name_key)) {
                    return Err(invalid("metadata.kernel_provisioner must be an object"));
                }
            }
            other => {
                return Err(invalid(&format!(
                    "metadata.kernel_provisioner must be an object, not {}",
                    other.type_name()
                )))
            }
        }
    }
    if rules.provisioners.contains(&name) {
        Ok(spec)
    } else {
        Err(SpecProblem::ProvisionerUnavailable {
            path: file.clone(),
            name,
        })
    }
}

/// `str(value)` for the values a provisioner name can have.
fn python_str(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string_lossy(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.clone(),
        other => pyjson::dumps(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        pyjson::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn validation_matches_traitlets() {
        assert!(validate(parse("{}")).is_ok());
        let s = validate(parse(r#"{"argv":"python -m x"}"#)).unwrap();
        assert_eq!(s.argv.len(), 1);
        assert_eq!(
            validate(parse(r#"{"interrupt_mode":"MESSAGE"}"#))
                .unwrap()
                .interrupt_mode,
            "message"
        );
        for bad in [
            r#"{"display_name":null}"#,
            r#"{"display_name":5}"#,
            r#"{"language":null}"#,
            r#"{"kernel_protocol_version":5.3}"#,
            r#"{"argv":null}"#,
            r#"{"argv":{}}"#,
            r#"{"argv":5}"#,
            r#"{"metadata":[]}"#,
            r#"{"metadata":null}"#,
            r#"{"env":[]}"#,
            r#"{"interrupt_mode":"sigint"}"#,
            r#"{"resource_dir":"/x"}"#,
            r#"{"name":5}"#,
            "[]",
        ] {
            assert!(validate(parse(bad)).is_err(), "{bad} should be rejected");
        }
        // Untyped list items and env values are kept.
        let s = validate(parse(r#"{"argv":[1,null],"env":{"a":1},"zzz":1}"#)).unwrap();
        assert_eq!(s.argv, vec![Value::Int("1".into()), Value::Null]);
    }

    fn rules() -> DiscoveryRules {
        DiscoveryRules {
            ensure_native_kernel: true,
            native: None,
            allowed: vec![],
            provisioners: vec!["local-provisioner".into()],
            default_provisioner: "local-provisioner".into(),
            only: None,
        }
    }

    #[test]
    fn provisioner_config_is_inserted_and_unknown_dropped() {
        let d = tempfile::tempdir().unwrap();
        let spec = validate(parse(
            r#"{"metadata":{"kernel_provisioner":{"provisioner_name":"local-provisioner"}}}"#,
        ))
        .unwrap();
        let s = provisioner_gate(spec, d.path(), &rules()).unwrap();
        let kp = s.metadata_get("kernel_provisioner").unwrap();
        assert!(kp.get("config").is_some());
        let spec = validate(parse(
            r#"{"metadata":{"kernel_provisioner":{"provisioner_name":"bogus"}}}"#,
        ))
        .unwrap();
        assert!(provisioner_gate(spec, d.path(), &rules()).is_err());
        let spec = validate(parse(
            r#"{"metadata":{"kernel_provisioner":"provisioner_name"}}"#,
        ))
        .unwrap();
        assert!(provisioner_gate(spec, d.path(), &rules()).is_err());
        let spec = validate(parse(r#"{"metadata":{"kernel_provisioner":"other"}}"#)).unwrap();
        assert!(provisioner_gate(spec, d.path(), &rules()).is_ok());
        let spec = validate(parse(r#"{"metadata":{"kernel_provisioner":null}}"#)).unwrap();
        assert!(provisioner_gate(spec, d.path(), &rules()).is_err());
    }

    #[test]
    fn first_dir_wins_and_case_collisions_keep_first_key() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for (dir, name) in [
            (a.path(), "MyKernel"),
            (b.path(), "mykernel"),
            (b.path(), "other"),
        ] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            std::fs::write(dir.join(name).join("kernel.json"), "{}").unwrap();
        }
        // Not kernels: no kernel.json, kernel.json a directory, a plain file.
        std::fs::create_dir_all(a.path().join("empty")).unwrap();
        std::fs::create_dir_all(a.path().join("dirjson/kernel.json")).unwrap();
        std::fs::write(a.path().join("file"), "x").unwrap();
        let dirs = vec![
            DataDir {
                path: a.path().to_path_buf(),
                origin: DirOrigin::User,
            },
            DataDir {
                path: b.path().to_path_buf(),
                origin: DirOrigin::System,
            },
        ];
        let l = discover(dirs.clone(), &rules());
        let names: Vec<String> = l.entries.iter().map(|e| e.found.name.to_string()).collect();
        assert_eq!(names.len(), 2);
        let mk = l.get("mykernel").unwrap();
        assert_eq!(mk.found.resource_dir, a.path().join("MyKernel"));
        assert_eq!(mk.shadows.len(), 1);
        assert!(l.get("other").is_some());
        // Listing one name finds what the whole listing has under it, and nothing else.
        for key in ["mykernel", "other", "absent"] {
            let one = discover(
                dirs.clone(),
                &DiscoveryRules {
                    only: Some(PyStr::new(key)),
                    ..rules()
                },
            );
            let want: Vec<String> = l.get(key).map(|e| format!("{e:?}")).into_iter().collect();
            let got: Vec<String> = one.entries.iter().map(|e| format!("{e:?}")).collect();
            assert_eq!(got, want, "only {key:?}");
        }
    }

    #[test]
    fn names() {
        assert!(is_valid_kernel_name(&PyStr::new("python3")));
        assert!(is_valid_kernel_name(&PyStr::new("a.b_c-1")));
        assert!(!is_valid_kernel_name(&PyStr::new("has space")));
        assert!(!is_valid_kernel_name(&PyStr::new("k\u{e9}")));
    }
}
