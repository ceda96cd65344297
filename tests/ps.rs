//! `kip ps`: a real jupyter_server on loopback with a session for analysis.ipynb opened through
//! its REST API; the info file of a killed server reported stale; under strace, kip connects to
//! loopback only, whatever HTTP_PROXY says; a kernel started by jupyter_client with no server
//! is listed, and marked "restart advised" after `kip install` replaces a distribution in its
//! env, not after it only adds one.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::server::{kernel_env, kill_kernel, Server};
use support::World;

fn ps(w: &World) -> Value {
    let out = w.kip(&["ps", "--json"]);
    out.ok();
    out.json()
}

/// `--json-stream`: `kip ps` sends no events, only the report `--json` prints.
#[test]
fn json_stream_is_the_json_report() {
    let w = World::new();
    let out = w.kip(&["ps", "--json-stream"]);
    out.ok();
    let lines = out.json_lines();
    assert_eq!(lines.len(), 1, "{}", out.show());
    let report = &lines[0]["report"];
    // Kernels are the whole machine's (other tests' too), so compare what this World owns.
    assert_eq!(report["runtime_dirs"], ps(&w)["runtime_dirs"], "{report:#}");
    assert_eq!(report["servers"], serde_json::json!([]));
}

fn kernel_with_pid(v: &Value, pid: i64) -> Option<Value> {
    v["kernels"]
        .as_array()?
        .iter()
        .find(|k| k["pid"].as_i64() == Some(pid))
        .cloned()
}

fn kernel_with_id(v: &Value, id: &str) -> Value {
    v["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kernel_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no kernel {id} in\n{v:#}"))
}

fn server_with_pid(v: &Value, pid: i32) -> Value {
    v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["pid"].as_i64() == Some(pid as i64))
        .cloned()
        .unwrap_or_else(|| panic!("no server {pid} in\n{v:#}"))
}

/// The IP addresses of every connect() in an `strace -f -e trace=connect` log (AF_UNIX
/// connects name no address and are left out), and whether each is loopback.
fn connected_addresses(log: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in log.lines().filter(|l| l.contains("connect(")) {
        for (key, end) in [("inet_addr(\"", '"'), ("inet_pton(AF_INET6, \"", '"')] {
            if let Some(i) = line.find(key) {
                let rest = &line[i + key.len()..];
                out.push(rest[..rest.find(end).unwrap()].to_string());
            }
        }
    }
    out
}

#[test]
fn live_server_sessions_loopback_only_then_stale() {
    let w = World::new();
    let env = kernel_env(&w, "analysis-env", "analysis");
    std::fs::write(
        w.cwd().join("analysis.ipynb"),
        r#"{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"#,
    )
    .unwrap();
    let mut server = Server::start(&w);
    let kernel_id = server.open_session(&w, "analysis.ipynb", "analysis");

    let v = ps(&w);
    let s = server_with_pid(&v, server.pid);
    assert_eq!(s["state"], "running", "{v:#}");
    assert_eq!(s["sessions"][0]["path"], "analysis.ipynb", "{v:#}");
    let k = kernel_with_id(&v, &kernel_id);
    assert_eq!(
        k["notebook"].as_str().map(Path::new),
        Some(w.cwd().join("analysis.ipynb").as_path()),
        "{v:#}"
    );
    assert_eq!(
        k["interpreter"].as_str().map(Path::new),
        Some(env.python.as_path())
    );
    assert_eq!(
        k["environment"]["prefix"].as_str().map(Path::new),
        Some(env.prefix.as_path())
    );
    assert_eq!(k["kernel_name"], "analysis");
    assert_eq!(
        k["server"].as_str().map(Path::new),
        Some(server.info_file.as_path())
    );
    assert!(k["started"].as_u64().is_some());
    // the token and the kernel's connection key are never shown
    let key = std::fs::read_to_string(k["connection_file"].as_str().unwrap()).unwrap();
    let key: Value = serde_json::from_str(&key).unwrap();
    let key = key["key"].as_str().unwrap();
    let human = w.kip(&["ps"]);
    human.ok();
    for text in [&v.to_string(), &human.stdout, &human.stderr] {
        assert!(!text.contains(&server.token), "token shown:\n{text}");
        assert!(!text.contains(key), "connection key shown:\n{text}");
    }
    assert!(human.stdout.contains("analysis.ipynb"), "{}", human.stdout);

    // under strace, with HTTP_PROXY pointing at a port the test watches: loopback only,
    // straight to the server, nothing reaches the proxy
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
        w.set_var(var, &proxy_url);
    }
    let strace = ["/usr/bin/strace", "/bin/strace"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("strace is not installed: `apt-get install -y strace` (.ci/run does this)");
    let trace = w.container().join("connect.trace");
    let out = w.run(
        &strace,
        &[
            "-f",
            "-e",
            "trace=connect",
            "-o",
            trace.to_str().unwrap(),
            env!("CARGO_BIN_EXE_kip"),
            "ps",
            "--json",
        ],
    );
    out.ok();
    let traced: Value = out.json();
    assert_eq!(
        kernel_with_id(&traced, &kernel_id)["session_path"],
        "analysis.ipynb"
    );
    let log = std::fs::read_to_string(&trace).unwrap();
    let addrs = connected_addresses(&log);
    assert!(
        log.contains(&format!("sin_port=htons({})", server.port)),
        "kip did not connect to the server:\n{log}"
    );
    for a in &addrs {
        let ip: std::net::IpAddr = a.parse().unwrap();
        assert!(ip.is_loopback(), "kip connected to {a}:\n{log}");
    }
    assert!(
        proxy.accept().is_err(),
        "the HTTP_PROXY port received a connection"
    );
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
        w.remove_var(var);
    }

    // killed: the info file stays behind and is reported stale, not running
    let kernel_pid = k["pid"].as_i64().unwrap();
    server.kill();
    assert!(
        server.info_file.exists(),
        "a killed server removed its info file"
    );
    let v = ps(&w);
    let s = server_with_pid(&v, server.pid);
    assert_eq!(s["state"], "stale", "{v:#}");
    assert!(s["sessions"].as_array().unwrap().is_empty());
    // the kernel it started is killed too: its connection file stays, held by no kernel
    let connection_file = k["connection_file"].as_str().unwrap().to_string();
    assert!(!v["orphan_connection_files"]
        .to_string()
        .contains(&connection_file));
    kill_kernel(kernel_pid);
    let v = ps(&w);
    assert!(kernel_with_pid(&v, kernel_pid).is_none());
    assert!(
        v["orphan_connection_files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == connection_file.as_str()),
        "{v:#}"
    );
}

#[test]
fn kernel_without_server_restart_advised_only_after_a_replacement() {
    let w = World::with_tools();
    let env = kernel_env(&w, "rk-env", "rk");
    w.wheel(
        "demo-pkg",
        "1.0",
        &[("demo_pkg/__init__.py", "V = '1.0'\n")],
    );
    w.uv_install(&env.python, &["demo-pkg==1.0"]).unwrap();
    let kernel = w.start_kernel("rk");
    let pid = kernel.kernel_pid().expect("kernel pid") as i64;

    let k = kernel_with_pid(&ps(&w), pid).expect("the kernel is listed");
    assert_eq!(k["kernel_name"], "rk");
    assert_eq!(k["server"], Value::Null);
    assert_eq!(
        k["environment"]["prefix"].as_str().map(Path::new),
        Some(env.prefix.as_path())
    );
    assert_eq!(k["restart_advised"], false, "{k:#}");

    // only a new distribution: importable at once, no restart
    let wheels = w.root().join("wheels");
    w.wheel("fresh-pkg", "1.0", &[("fresh_pkg/__init__.py", "")]);
    w.kip(&[
        "install",
        "fresh-pkg",
        "--kernel",
        "rk",
        "--find-links",
        wheels.to_str().unwrap(),
    ])
    .ok();
    let k = kernel_with_pid(&ps(&w), pid).unwrap();
    assert_eq!(k["restart_advised"], false, "{k:#}");
    assert!(
        k["changed_since_start"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.starts_with("fresh_pkg"))),
        "{k:#}"
    );

    // a replaced distribution: the kernel may hold the old one
    w.wheel(
        "demo-pkg",
        "2.0",
        &[("demo_pkg/__init__.py", "V = '2.0'\n")],
    );
    w.kip(&[
        "install",
        "demo-pkg==2.0",
        "--kernel",
        "rk",
        "--find-links",
        wheels.to_str().unwrap(),
    ])
    .ok();
    let k = kernel_with_pid(&ps(&w), pid).unwrap();
    assert_eq!(k["restart_advised"], true, "{k:#}");
    let reasons = k["restart_reasons"].to_string();
    assert!(reasons.contains("demo") && reasons.contains("1.0"), "{k:#}");
    let human = w.kip(&["ps"]);
    assert!(human.stdout.contains("restart advised"), "{}", human.stdout);
    drop(kernel);
}
