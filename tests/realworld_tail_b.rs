//! The long tail, part b: files two distributions share, editable and namespace packages, and
//! installs kip must never invent. Same rules as tests/realworld.rs: each test names the
//! public report it comes from, rebuilds the user's machine as an isolated world, shows the
//! failure in a real kernel started through jupyter_client, runs kip as the user would, runs
//! the fix exactly as `--json` prints it, and shows the result in a real kernel. Advice that
//! leaves the user worse off fails the test.

mod support;

use std::path::Path;

use support::realworld::{find, findings, notebook, s};
use support::{toolbox, World};

fn doctor_in(w: &World, cwd: &Path, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["doctor", "--json"];
    full.extend_from_slice(args);
    w.kip_in(cwd, &full).json()
}

/// Run a fix exactly as printed: each `&&` step up to its first " (" (an explanation in
/// parentheses), split as a shell would; `kip` is the test binary. Every step must succeed.
fn run_fix(w: &World, cwd: &Path, text: &str) {
    for step in text.split(" && ") {
        let cmd = step.split(" (").next().unwrap();
        let argv = shlex::split(cmd).unwrap_or_else(|| panic!("fix is not a command: {text}"));
        assert_eq!(argv[0], "kip", "fix is not a kip command: {text}");
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        let out = w.kip_in(cwd, &args);
        assert!(out.success(), "{step}: {}", out.show());
    }
}

/// The world's own wheels (`root/wheels`) beside the wheelhouse, as pip's settings say, so
/// kip's installs find the packages a test built.
fn with_world_wheels(w: &World) {
    w.set_var(
        "PIP_FIND_LINKS",
        &format!("{} {}", s(&toolbox().wheels), s(&w.root().join("wheels"))),
    );
}

/// A venv with ipykernel registered as kernel `name` (`python -m ipykernel install --user`).
fn kernel_venv(w: &World, path: &Path, name: &str) -> support::Venv {
    let v = w.uv_venv(path, &toolbox().base_python, true);
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    w.run(
        &v.python,
        &["-m", "ipykernel", "install", "--user", "--name", name],
    )
    .ok();
    v
}

const CV2_GUI: &str = "BUILD = 'gui'\ndef imshow(name, img):\n    return 'shown'\n";
const CV2_HEADLESS: &str = "BUILD = 'headless'\ndef imshow(name, img):\n    raise RuntimeError('The function is not implemented. Rebuild the library with Windows, GTK+ 2.x or Cocoa support')\n";

/// `opencv-python` and `opencv-python-headless` 4.8.0.76, each installing `cv2/`.
fn opencv_wheels(w: &World) {
    w.wheel("opencv-python", "4.8.0.76", &[("cv2", CV2_GUI)]);
    w.wheel(
        "opencv-python-headless",
        "4.8.0.76",
        &[("cv2", CV2_HEADLESS)],
    );
}

fn installed(w: &World, python: &Path) -> Vec<String> {
    let out = w.run(
        &toolbox().uv,
        &["pip", "list", "--python", s(python), "--format", "json"],
    );
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|_| panic!("{}", out.show()));
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// https://github.com/roboflow/supervision/issues/351 ("opencv-headless requirement breaks
/// existing installation") and https://github.com/opencv/opencv-python/issues/467: the user
/// installed `opencv-python`, then a package that requires `opencv-python-headless`; the
/// headless build overwrote `cv2/`, so `cv2.imshow` fails in the notebook. kip names the pair
/// (in `doctor` and `kip list`), keeps the one the user asked for, and never adds the other
/// back.
#[test]
fn headless_opencv_pulled_in_by_a_dependency_overwrites_cv2() {
    let w = World::with_tools();
    with_world_wheels(&w);
    let v = kernel_venv(&w, &w.root().join("vision"), "vision");
    opencv_wheels(&w);
    w.wheel_with(&support::WheelSpec {
        requires_dist: vec!["opencv-python-headless".into()],
        ..support::WheelSpec::new("supervision", "0.14.0", &[("supervision", "X = 1\n")])
    });
    w.uv_install(&v.python, &["opencv-python"]).unwrap();
    w.uv_install(&v.python, &["supervision"]).unwrap();
    let show = "import cv2; print(cv2.BUILD); print(cv2.imshow('img', 0))";
    let before = w.run_kernel("vision", show);
    assert!(
        before
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not implemented")),
        "{before:?}"
    );
    // `kip list` marks the pair, both ways.
    let list = w.kip(&["list", "--kernel", "vision", "--json"]).json();
    let pkgs = list["packages"].as_array().unwrap();
    for (a, b) in [
        ("opencv-python", "opencv-python-headless"),
        ("opencv-python-headless", "opencv-python"),
    ] {
        let p = pkgs.iter().find(|p| p["name"] == a).unwrap();
        assert_eq!(
            p["shares_module"],
            serde_json::json!([{"module": "cv2", "distribution": b}]),
            "{list:#}"
        );
    }
    let text = w.kip(&["list", "--kernel", "vision"]);
    assert!(
        text.stdout
            .contains("(shares module cv2 with opencv-python-headless)"),
        "{}",
        text.stdout
    );
    let d = doctor_in(&w, &w.cwd(), &[]);
    let f = find(&d, "env-shared-module").unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(f["module"], "cv2");
    assert_eq!(
        f["distribution"], "opencv-python",
        "keeps what was asked for: {f}"
    );
    let fix = f["fix"]["text"].as_str().unwrap();
    assert!(fix.contains("--force-reinstall"), "{fix}");
    run_fix(&w, &w.cwd(), fix);
    let after = w.run_kernel("vision", show);
    assert!(after.error.is_none(), "{after:?}");
    assert!(
        after.stdout.contains("gui") && after.stdout.contains("shown"),
        "{after:?}"
    );
    let now = installed(&w, &v.python);
    assert!(now.iter().any(|n| n == "opencv-python"), "{now:?}");
    assert!(
        !now.iter().any(|n| n == "opencv-python-headless"),
        "the other one is never added back: {now:?}"
    );
    let d = doctor_in(&w, &w.cwd(), &[]);
    assert!(find(&d, "env-shared-module").is_none(), "{d:#}");
}

/// https://github.com/opencv/opencv-python/issues/962 ("Uninstalling opencv-python prevents
/// opencv-contrib-python from working") and https://github.com/NVIDIA/flashdreams/issues/363:
/// both builds were installed; uninstalling one deleted `cv2/`, while the other still looks
/// installed ("already satisfied"). kip sees the module's files gone and reinstalls the one
/// that stayed.
#[test]
fn uninstalling_one_opencv_build_breaks_the_other() {
    let w = World::with_tools();
    with_world_wheels(&w);
    let v = kernel_venv(&w, &w.root().join("cv"), "cv");
    opencv_wheels(&w);
    w.uv_install(&v.python, &["opencv-python-headless"])
        .unwrap();
    w.uv_install(&v.python, &["opencv-python"]).unwrap();
    w.run(
        &toolbox().uv,
        &[
            "pip",
            "uninstall",
            "--python",
            s(&v.python),
            "opencv-python-headless",
        ],
    )
    .ok();
    let show = "import cv2; print(cv2.imshow('img', 0))";
    let before = w.run_kernel("cv", show);
    assert!(before.error.is_some(), "{before:?}");
    let d = doctor_in(&w, &w.cwd(), &[]);
    let f = find(&d, "env-shared-module").unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(f["severity"], "error");
    assert_eq!(f["distribution"], "opencv-python");
    let fix = f["fix"]["text"].as_str().unwrap();
    assert!(
        !fix.contains("headless"),
        "never adds the other back: {fix}"
    );
    run_fix(&w, &w.cwd(), fix);
    let after = w.run_kernel("cv", show);
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("shown"), "{after:?}");
    let d = doctor_in(&w, &w.cwd(), &[]);
    assert!(find(&d, "env-shared-module").is_none(), "{d:#}");
}

/// https://github.com/jupyterhub/jupyterhub/issues/4474 ("Kernel corresponding to a venv does
/// not contain packages installed in the venv"): on a hub, `python -m venv python_ai`, then
/// `sudo python -m ipykernel install --name python_ai` — sudo's PATH finds the hub's shared
/// Python, so the kernel named after the venv runs the hub's env (TLJH keeps such kernels in
/// the hub env's own `share/jupyter/kernels`). kip registers the venv under that name; it never
/// installs the venv's packages into the shared env, and `install --missing` refuses to.
#[test]
fn privileged_kernel_install_under_a_venv_name_runs_the_hubs_python() {
    let w = World::with_tools();
    with_world_wheels(&w);
    let hub = w.use_own_jupyter();
    w.run(
        &hub.python,
        &[
            "-m",
            "ipykernel",
            "install",
            "--sys-prefix",
            "--name",
            "python_ai",
        ],
    )
    .ok();
    let venv = w.uv_venv(&w.home().join("python_ai"), &toolbox().base_python, true);
    w.wheel("aipkg", "1.0", &[("aipkg", "X = 1\n")]);
    w.uv_install(&venv.python, &["ipykernel==7.4.0", "aipkg"])
        .unwrap();
    let opts = support::KernelOpts {
        server_python: Some(hub.python.clone()),
        ..Default::default()
    };
    let before = w.run_kernel_with("python_ai", "import aipkg", &opts);
    assert!(
        before
            .error
            .as_deref()
            .is_some_and(|e| e.contains("ModuleNotFoundError")),
        "{before:?}"
    );
    let home = w.home();
    let d = doctor_in(&w, &home, &[]);
    let f = find(&d, "kernel-name-points-elsewhere").unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(f["subject"], "python_ai");
    let fix = f["fix"]["text"].as_str().unwrap().to_string();
    assert!(
        fix.starts_with("kip kernel add") && fix.contains("--name python_ai"),
        "{fix}"
    );
    // The notebook's audit gives the same answer, not an install into the hub's env.
    notebook(&home.join("ai.ipynb"), "python_ai", "import aipkg\n");
    let nb = doctor_in(&w, &home, &["ai.ipynb"]);
    assert!(
        find(&nb, "kernel-name-points-elsewhere").is_some(),
        "{nb:#}"
    );
    assert!(
        !findings(&nb).iter().any(|f| f["fix"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("kip install aipkg")),
        "harmful: installs into the shared env: {nb:#}"
    );
    let refused = w.kip_in(&home, &["install", "--notebook", "ai.ipynb", "--missing"]);
    assert_eq!(refused.status, 1, "{}", refused.show());
    run_fix(&w, &home, &fix);
    let after = w.run_kernel_with("python_ai", "import aipkg, sys; print(sys.prefix)", &opts);
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("python_ai"), "{after:?}");
    assert!(
        !installed(&w, &hub.python).iter().any(|n| n == "aipkg"),
        "the shared env is untouched"
    );
    let d = doctor_in(&w, &home, &[]);
    assert!(find(&d, "kernel-name-points-elsewhere").is_none(), "{d:#}");
}

/// The directory of setuptools wheels virtualenv embeds (the toolbox's), so a PEP 660 editable
/// install builds offline.
fn setuptools_wheels() -> std::path::PathBuf {
    let embed = toolbox()
        .venv_python
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("lib/python3.11/site-packages/virtualenv/seed/wheels/embed");
    assert!(
        std::fs::read_dir(&embed).is_ok_and(|rd| rd
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("setuptools-"))),
        "this test needs virtualenv's embedded setuptools wheels at {}",
        embed.display()
    );
    embed
}

/// A flat setuptools project `projects/mylib` (package `mylib/`), installed editable (PEP 660,
/// offline) into the venv of kernel "lab", and imported there once: the world both editable
/// tests start from. Returns the project folder.
fn editable_mylib(w: &World) -> std::path::PathBuf {
    let embed = setuptools_wheels();
    w.set_var(
        "PIP_FIND_LINKS",
        &format!("{} {}", s(&toolbox().wheels), s(&embed)),
    );
    let v = kernel_venv(w, &w.root().join("labenv"), "lab");
    let proj = w.root().join("projects/mylib");
    std::fs::create_dir_all(proj.join("mylib")).unwrap();
    std::fs::write(proj.join("pyproject.toml"), mylib_pyproject("")).unwrap();
    std::fs::write(proj.join("mylib/__init__.py"), "WHERE = __file__\n").unwrap();
    w.uv_install_from(&v.python, &["-e", s(&proj)], &[&embed])
        .unwrap();
    let first = w.run_kernel("lab", MYLIB_IMPORT);
    assert!(first.error.is_none(), "{first:?}");
    proj
}

/// Code that imports `mylib` and prints where it came from.
const MYLIB_IMPORT: &str = "import mylib; print(mylib.WHERE)";

fn mylib_pyproject(extra: &str) -> String {
    format!("[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"mylib\"\nversion = \"0.1\"\n{extra}")
}

/// The user's failure and kip's way out, for both editable tests: `mylib` no longer imports in
/// kernel "lab"; `doctor` reports `env-editable-missing` (returned), whose printed fix contains
/// `in_fix`; run as printed, it makes the import work from a path containing `now_at`, and
/// `doctor` is quiet again.
fn editable_broken_then_fixed(w: &World, in_fix: &str, now_at: &str) -> serde_json::Value {
    let before = w.run_kernel("lab", MYLIB_IMPORT);
    assert!(
        before
            .error
            .as_deref()
            .is_some_and(|e| e.contains("ModuleNotFoundError")),
        "the failure is real: {before:?}"
    );
    let d = doctor_in(w, &w.root(), &[]);
    let f = find(&d, "env-editable-missing").unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(f["severity"], "error");
    let fix = f["fix"]["text"].as_str().unwrap();
    assert!(fix.contains(in_fix), "{fix}");
    run_fix(w, &w.root(), fix);
    let after = w.run_kernel("lab", MYLIB_IMPORT);
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains(now_at), "{after:?}");
    let d = doctor_in(w, &w.root(), &[]);
    assert!(find(&d, "env-editable-missing").is_none(), "{d:#}");
    f.clone()
}

/// https://github.com/pdm-project/pdm/issues/649 ("Broken editable install of the project
/// itself": the editable's pointer leads to nothing, `ModuleNotFoundError`) and
/// https://geowatch.readthedocs.io/en/latest/manual/environment/understanding_editable_installs.html
/// (an editable install is a link to the project folder): the user renamed the project folder
/// after `pip install -e .`. The kernel cannot import it, while `pip install mylib` says
/// "already satisfied". kip names the missing folder, finds the renamed project beside it, and
/// reinstalls from there.
#[test]
fn editable_install_whose_project_folder_was_renamed() {
    let w = World::with_tools();
    let proj = editable_mylib(&w);
    let renamed = w.root().join("projects/mylib-v2");
    std::fs::rename(&proj, &renamed).unwrap();
    let f = editable_broken_then_fixed(&w, &format!("-e {}", s(&renamed)), "mylib-v2");
    assert!(f["message"].as_str().unwrap().contains(s(&proj)), "{f}");
}

/// https://github.com/karlicoss/HPI/issues/316 (switching the project to a `src/` layout "will
/// break existing editable installations ... unless the user reinstalls it") and
/// https://github.com/karlicoss/HPI/pull/414: after `pip install -e .` of a flat project,
/// setuptools' import hook maps `mylib` to `<project>/mylib`; the user moves the package into
/// `src/`. The project folder is still there, the metadata says installed, and the kernel
/// cannot import it. kip names the stale mapping and reinstalls from the same folder.
#[test]
fn editable_install_whose_package_moved_into_src() {
    let w = World::with_tools();
    let proj = editable_mylib(&w);
    assert!(
        find(&doctor_in(&w, &w.root(), &[]), "env-editable-missing").is_none(),
        "a working editable install is not a finding"
    );
    // The move to a src/ layout.
    std::fs::create_dir_all(proj.join("src")).unwrap();
    std::fs::rename(proj.join("mylib"), proj.join("src/mylib")).unwrap();
    std::fs::write(
        proj.join("pyproject.toml"),
        mylib_pyproject("\n[tool.setuptools.packages.find]\nwhere = [\"src\"]\n"),
    )
    .unwrap();
    let f = editable_broken_then_fixed(&w, &format!("kip install -e {}", s(&proj)), "src/mylib");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("\"mylib\" to \"{}\"", s(&proj.join("mylib"))))
            && msg.contains("is still there"),
        "{msg}"
    );
}

/// https://github.com/jianxu305/nCov2019_analysis/issues/9 (`pip install utils` succeeded, the
/// notebook still says "No module named 'utils'": the repo's own `utils.py` was meant) and
/// https://github.com/MrinalJain17/Human-Activity-Recognition/issues/11 (the notebook was
/// placed in another folder than the repo's `utils.py`). A module found nowhere is never
/// turned into `kip install <module name>` — on PyPI `utils` is an unrelated project — not by
/// `doctor`, `why` or `install --missing`; kip points at the helper file above the notebook.
#[test]
fn a_module_found_nowhere_is_never_turned_into_an_install() {
    let w = World::with_tools();
    kernel_venv(&w, &w.root().join("course-env"), "course");
    let repo = w.root().join("course");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("notebooks")).unwrap();
    std::fs::write(repo.join("utils.py"), "def load():\n    return 42\n").unwrap();
    let nb_dir = repo.join("notebooks");
    notebook(
        &nb_dir.join("analysis.ipynb"),
        "course",
        "import utils\nimport covid_helpers_nowhere\n",
    );
    let at = |dir: &Path| support::KernelOpts {
        cwd: Some(dir.to_path_buf()),
        ..Default::default()
    };
    let before = w.run_kernel_with("course", "import utils", &at(&nb_dir));
    assert!(
        before
            .error
            .as_deref()
            .is_some_and(|e| e.contains("No module named 'utils'")),
        "{before:?}"
    );
    let d = doctor_in(&w, &nb_dir, &["analysis.ipynb"]);
    let missing: Vec<serde_json::Value> = findings(&d)
        .into_iter()
        .filter(|f| f["id"] == "notebook-import-missing")
        .collect();
    assert_eq!(missing.len(), 2, "{d:#}");
    for f in &missing {
        let fix = f["fix"]["text"].as_str().unwrap();
        assert!(
            !fix.contains("kip install utils"),
            "invented install: {fix}"
        );
        assert!(
            !fix.contains("kip install covid_helpers_nowhere"),
            "invented install: {fix}"
        );
        assert!(f.get("distribution").is_none(), "{f}");
    }
    for m in ["utils", "covid_helpers_nowhere"] {
        let why = w
            .kip_in(
                &nb_dir,
                &["why", m, "--notebook", "analysis.ipynb", "--json"],
            )
            .json();
        assert_eq!(why["importable"], false, "{why:#}");
        assert!(why["install"].is_null(), "invented install: {why:#}");
    }
    let out = w.kip_in(
        &nb_dir,
        &[
            "install",
            "--notebook",
            "analysis.ipynb",
            "--missing",
            "--json",
        ],
    );
    assert_eq!(out.status, 1, "{}", out.show());
    assert!(!out.stderr.contains("Running"), "{}", out.show());
    // The fix as printed: the notebook goes back beside the repo's utils.py.
    let utils = missing.iter().find(|f| f["module"] == "utils").unwrap();
    let text = utils["fix"]["text"].as_str().unwrap();
    let (what, into) = text
        .strip_prefix("move ")
        .and_then(|t| t.split(" (").next())
        .and_then(|t| t.split_once(" into "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(Path::new(into), repo, "{text}");
    std::fs::rename(nb_dir.join(what), repo.join(what)).unwrap();
    let after = w.run_kernel_with("course", "import utils; print(utils.load())", &at(&repo));
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("42"), "{after:?}");
}

/// https://github.com/protocolbuffers/protobuf/issues/6135 ("No module named
/// 'google.protobuf'") and https://github.com/googleapis/google-cloud-python/issues/4352:
/// `google/` is a namespace package that `google-auth` provides part of, so the top-level name
/// is "there" while `google.protobuf` is not. `why`, the notebook audit and
/// `install --missing` judge the full dotted name and name `protobuf`.
#[test]
fn namespace_package_judged_by_the_full_dotted_name() {
    let w = World::with_tools();
    with_world_wheels(&w);
    let v = kernel_venv(&w, &w.root().join("gcp"), "gcp");
    w.wheel(
        "google-auth",
        "2.29.0",
        &[("google/auth/__init__.py", "CREDENTIALS = None\n")],
    );
    w.wheel(
        "protobuf",
        "4.25.3",
        &[
            ("google/protobuf/__init__.py", "__version__ = '4.25.3'\n"),
            ("google/protobuf/descriptor.py", "KIND = 'descriptor'\n"),
        ],
    );
    w.uv_install(&v.python, &["google-auth"]).unwrap();
    let code = "import google.auth\nfrom google.protobuf import descriptor\nprint(descriptor.KIND)";
    let before = w.run_kernel("gcp", code);
    assert!(
        before
            .error
            .as_deref()
            .is_some_and(|e| e.contains("No module named 'google.protobuf'")),
        "{before:?}"
    );
    let why = w
        .kip(&["why", "google.protobuf", "--kernel", "gcp", "--json"])
        .json();
    assert_eq!(why["importable"], false, "{why:#}");
    assert_eq!(why["module"], "google.protobuf", "{why:#}");
    assert_eq!(
        why["install"], "kip install protobuf --kernel gcp",
        "{why:#}"
    );
    let auth = w
        .kip(&["why", "google.auth", "--kernel", "gcp", "--json"])
        .json();
    assert_eq!(auth["importable"], true, "{auth:#}");
    notebook(&w.cwd().join("pb.ipynb"), "gcp", code);
    let d = doctor_in(&w, &w.cwd(), &["pb.ipynb"]);
    let f = find(&d, "notebook-import-missing").unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(f["module"], "google.protobuf", "{f}");
    assert_eq!(f["distribution"], "protobuf", "{f}");
    let dry = w.kip(&[
        "install",
        "--notebook",
        "pb.ipynb",
        "--missing",
        "--dry-run",
    ]);
    assert!(dry.success(), "{}", dry.show());
    assert!(
        dry.stdout.contains("protobuf") || dry.stderr.contains("protobuf"),
        "{}",
        dry.show()
    );
    run_fix(&w, &w.cwd(), f["fix"]["text"].as_str().unwrap());
    let after = w.run_kernel("gcp", code);
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("descriptor"), "{after:?}");
    let d = doctor_in(&w, &w.cwd(), &["pb.ipynb"]);
    assert!(find(&d, "notebook-import-missing").is_none(), "{d:#}");
}
