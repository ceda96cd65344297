//! `kip kernel use NAME NOTEBOOK…`: metadata.kernelspec set exactly as nbformat itself would
//! write the change (indent 1, key order, trailing newline), a backup kept, the mode kept, bad
//! input reported per notebook; and a warning when a live jupyter_server has the notebook open.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::server::{kernel_env, kill_kernel, Server};
use support::{toolbox, World};

/// A notebook written by nbformat itself (the server-venv has it), naming kernel `old`.
fn nbformat_notebook(w: &World, path: &Path) {
    let code = r#"
import sys, nbformat
nb = nbformat.v4.new_notebook()
nb.cells.append(nbformat.v4.new_code_cell("import yaml\nprint('caf\u00e9')"))
nb.metadata["kernelspec"] = {"name": "old", "display_name": "Old", "language": "python"}
nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
nbformat.write(nb, sys.argv[1])
"#;
    w.run(
        &toolbox().server_python,
        &["-c", code, path.to_str().unwrap()],
    )
    .ok();
}

/// What nbformat writes for the same notebook with the kernelspec changed.
fn nbformat_expected(w: &World, path: &Path, name: &str, display: &str) -> String {
    let code = r#"
import io, sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nb.metadata["kernelspec"] = {"name": sys.argv[2], "display_name": sys.argv[3], "language": "python"}
out = io.StringIO()
nbformat.write(nb, out)
sys.stdout.write(out.getvalue())
"#;
    let out = w.run(
        &toolbox().server_python,
        &["-c", code, path.to_str().unwrap(), name, display],
    );
    out.ok();
    out.stdout
}

fn backups(dir: &Path, name: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}.kip-bak-"))
        })
        .collect()
}

#[test]
fn sets_the_kernelspec_as_nbformat_would() {
    let w = World::new();
    w.kernelspec(
        &w.user_kernels(),
        "proj",
        r#"{"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Project (proj)", "language": "python"}"#,
    );
    let nb = w.cwd().join("nb.ipynb");
    nbformat_notebook(&w, &nb);
    std::fs::set_permissions(&nb, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&nb).unwrap();
    let want = nbformat_expected(&w, &nb, "proj", "Project (proj)");

    let out = w.kip(&["kernel", "use", "proj", "nb.ipynb", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["notebooks"][0]["previous"], "old");
    assert_eq!(v["notebooks"][0]["changed"], true);
    assert_eq!(std::fs::read_to_string(&nb).unwrap(), want);
    assert_eq!(
        std::fs::metadata(&nb).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let baks = backups(&w.cwd(), "nb.ipynb");
    assert_eq!(baks.len(), 1);
    assert_eq!(std::fs::read(&baks[0]).unwrap(), before);
    assert_eq!(
        v["notebooks"][0]["backup"].as_str().map(Path::new),
        Some(baks[0].as_path())
    );

    // again: nothing to do, nothing written, no new backup
    let out = w.kip(&["kernel", "use", "proj", "nb.ipynb"]);
    out.ok();
    assert!(
        out.stdout.contains("already uses kernel proj"),
        "{}",
        out.show()
    );
    assert_eq!(backups(&w.cwd(), "nb.ipynb").len(), 1);

    // an unknown kernel changes nothing
    let out = w.kip(&["kernel", "use", "nope", "nb.ipynb"]);
    out.code(1);
    assert!(
        out.stderr.contains("no kernel named \"nope\""),
        "{}",
        out.show()
    );
    assert_eq!(std::fs::read_to_string(&nb).unwrap(), want);

    // --json-stream: the same error as an event, then no report; then the report --json prints
    let out = w.kip(&["kernel", "use", "nope", "nb.ipynb", "--json-stream"]);
    out.code(1);
    let lines = out.json_lines();
    assert_eq!(lines.len(), 2, "{}", out.show());
    assert_eq!(lines[0]["event"], "error");
    assert_eq!(lines[0]["verb"], "kernel use");
    assert!(lines[0]["message"]
        .as_str()
        .unwrap()
        .contains("no kernel named \"nope\""));
    assert_eq!(lines[1], serde_json::json!({ "report": null }));
    assert_eq!(out.stderr, "", "everything is on stdout");
    let json = w.kip(&["kernel", "use", "proj", "nb.ipynb", "--json"]);
    let stream = w.kip(&["kernel", "use", "proj", "nb.ipynb", "--json-stream"]);
    stream.ok();
    assert_eq!(
        stream.json_lines(),
        [serde_json::json!({ "report": json.json() })]
    );

    // a broken notebook is reported by name; the others are still done
    std::fs::write(w.cwd().join("torn.ipynb"), "{\"cells\": [").unwrap();
    let other = w.cwd().join("other.ipynb");
    nbformat_notebook(&w, &other);
    let out = w.kip(&["kernel", "use", "proj", "torn.ipynb", "other.ipynb"]);
    out.code(2);
    assert!(out.stderr.contains("torn.ipynb"), "{}", out.show());
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        nbformat_expected(&w, &other, "proj", "Project (proj)")
    );
    assert!(backups(&w.cwd(), "torn.ipynb").is_empty());
}

#[test]
fn warns_when_a_live_server_has_the_notebook_open() {
    let w = World::new();
    kernel_env(&w, "analysis-env", "analysis");
    let nb = w.cwd().join("analysis.ipynb");
    nbformat_notebook(&w, &nb);
    w.kernelspec(
        &w.user_kernels(),
        "proj",
        r#"{"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Project (proj)", "language": "python"}"#,
    );
    let server = Server::start(&w);
    server.open_session(&w, "analysis.ipynb", "analysis");

    let out = w.kip(&["kernel", "use", "proj", "analysis.ipynb", "--json"]);
    out.ok();
    let v: Value = out.json();
    let open = &v["notebooks"][0]["open_in"][0];
    assert_eq!(
        open["server_pid"].as_i64(),
        Some(server.pid as i64),
        "{v:#}"
    );
    assert_eq!(open["session_path"], "analysis.ipynb");
    assert!(
        out.stderr
            .contains("analysis.ipynb is open in the Jupyter server"),
        "{}",
        out.show()
    );
    assert!(!out.stderr.contains(&server.token) && !out.stdout.contains(&server.token));
    // the edit itself is made
    let text = std::fs::read_to_string(&nb).unwrap();
    assert!(text.contains("\"name\": \"proj\""), "{text}");

    // a notebook no server has open: no warning
    let quiet = w.cwd().join("quiet.ipynb");
    nbformat_notebook(&w, &quiet);
    let out = w.kip(&["kernel", "use", "proj", "quiet.ipynb"]);
    out.ok();
    assert!(!out.stderr.contains("is open"), "{}", out.show());

    let ps = w.kip(&["ps", "--json"]).json();
    for k in ps["kernels"].as_array().unwrap() {
        if k["server"].as_str().map(Path::new) == Some(server.info_file.as_path()) {
            kill_kernel(k["pid"].as_i64().unwrap());
        }
    }
}
