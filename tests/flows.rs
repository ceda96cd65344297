//! Flows driven in-process, with no binary: a recording reporter stands where the terminal
//! would, and the typed report is checked directly (what a `%kip` magic or a JupyterLab
//! extension would read).

mod support;

use kip::context::Context;
use kip::envvars::EnvVars;
use kip::flows::{self, Status};
use kip::install::changes::Change;
use kip::install::target::TargetArgs;
use kip::install::verify::ImportResult;
use kip::platform::Os;
use kip::python::probe::Prober;
use kip::report::{Event, Recorder};

use support::{toolbox, World};

fn context(w: &World) -> Context {
    Context::new(Os::current(), EnvVars::from_pairs(w.env()), w.cwd())
}

#[test]
fn install_flow_reports_events_in_order_and_a_typed_report() {
    let w = World::new();
    std::os::unix::fs::symlink(&toolbox().uv, w.bin().join("uv")).unwrap();
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let wheel = w.wheel("flowdemo", "2.0", &[("flowdemo", "X = 2\n")]);
    w.set_var("PIP_NO_INDEX", "1");
    w.set_var("PIP_FIND_LINKS", wheel.parent().unwrap().to_str().unwrap());
    let ctx = context(&w);
    let prober = Prober::new(None, &ctx.vars);
    let python = venv.python.to_str().unwrap().to_string();
    let request = flows::install::Request {
        specs: vec!["flowdemo".into()],
        target: TargetArgs {
            python: Some(python.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut rec = Recorder::default();
    let (report, status) = flows::install::run(&ctx, &prober, &mut rec, &request).unwrap();

    assert_eq!(status, Status::Success, "{:#?}", rec.events);
    let r = report.result.expect("a report once the target is chosen");
    assert_eq!(r.target.prefix, venv.prefix);
    assert_eq!(r.target.python.to_str().unwrap(), python);
    assert_eq!(r.target.kind, "uv-venv");
    assert_eq!(r.installer, "uv");
    let wheels = wheel.parent().unwrap().display().to_string();
    let argv = format!(
        "{} pip install --python {python} --no-index --find-links {wheels} flowdemo",
        w.bin().join("uv").display()
    );
    assert_eq!(r.commands, std::slice::from_ref(&argv));
    assert_eq!(
        r.changed,
        [Change {
            name: "flowdemo".into(),
            from: None,
            to: Some("2.0".into()),
            pth: false,
        }]
    );
    let ok = ImportResult {
        module: "flowdemo".into(),
        ok: true,
        error: None,
    };
    assert_eq!(r.proof, std::slice::from_ref(&ok));
    assert!(r.ok && r.error.is_none());

    // The events, in order: the target, the index settings, the command, the proof.
    let target = Event::Target {
        prefix: venv.prefix.clone(),
        python: venv.python.clone(),
        kernel: None,
        why: format!("--python {python}"),
    };
    assert_eq!(rec.events.first(), Some(&target), "{:#?}", rec.events);
    let running = Event::Running { command: argv };
    let proof = Event::Proof { result: ok };
    let pos = |e: &Event| rec.events.iter().position(|x| x == e);
    let (Some(t), Some(run), Some(p)) = (pos(&target), pos(&running), pos(&proof)) else {
        panic!("missing events: {:#?}", rec.events);
    };
    assert!(t < run && run < p, "{:#?}", rec.events);
    assert!(
        matches!(&rec.events[1], Event::Note { text } if text.contains("PIP_NO_INDEX")),
        "the index settings: {:#?}",
        rec.events
    );
    assert_eq!(rec.events.len(), 4, "{:#?}", rec.events);
    // And the package is really there.
    let out = w.run(&venv.python, &["-c", "import flowdemo; print(flowdemo.X)"]);
    assert_eq!(out.ok().stdout.trim(), "2");
}

#[test]
fn install_flow_asks_no_one_and_names_the_choices_without_a_target() {
    let w = World::new();
    let ctx = context(&w);
    let prober = Prober::new(None, &ctx.vars);
    let request = flows::install::Request {
        specs: vec!["x".into()],
        ..Default::default()
    };
    let mut rec = Recorder::default();
    let (report, status) = flows::install::run(&ctx, &prober, &mut rec, &request).unwrap();
    assert_eq!(status, Status::Usage);
    assert!(report.result.is_none());
    assert!(
        matches!(&rec.events[..], [Event::Error { verb, message }]
            if verb == "install" && message.starts_with("no target given")),
        "{:#?}",
        rec.events
    );
}

/// The same install read from the binary through `--json-stream`: one JSON object per line,
/// the events in order, then `{"report": …}` equal to what `--json` prints.
#[test]
fn json_stream_carries_the_events_then_the_json_report() {
    let w = World::new();
    std::os::unix::fs::symlink(&toolbox().uv, w.bin().join("uv")).unwrap();
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let wheel = w.wheel("flowdemo", "2.0", &[("flowdemo", "X = 2\n")]);
    w.set_var("PIP_NO_INDEX", "1");
    w.set_var("PIP_FIND_LINKS", wheel.parent().unwrap().to_str().unwrap());
    let py = venv.python.to_str().unwrap();

    // A dry run twice: --json's document is the stream's last line.
    let dry = ["install", "flowdemo", "--python", py, "--dry-run"];
    let json = w.kip(&[&dry[..], &["--json"]].concat());
    json.ok();
    let stream = w.kip(&[&dry[..], &["--json-stream"]].concat());
    stream.ok();
    let got = stream.json_lines();
    assert_eq!(
        got.last().unwrap()["report"],
        json.json(),
        "{}",
        stream.stdout
    );
    assert_eq!(stream.stderr, "", "everything is on stdout");

    // The real install: target, index settings, the command, the proof, then the report.
    let out = w.kip(&["install", "flowdemo", "--python", py, "--json-stream"]);
    out.ok();
    let got = out.json_lines();
    let kinds: Vec<&str> = got
        .iter()
        .map(|v| v["event"].as_str().unwrap_or("report"))
        .collect();
    assert_eq!(
        kinds,
        ["target", "note", "running", "proof", "report"],
        "{}",
        out.stdout
    );
    assert_eq!(got[0]["prefix"], venv.prefix.to_str().unwrap());
    assert!(got[1]["text"].as_str().unwrap().contains("PIP_NO_INDEX"));
    let command = got[2]["command"].as_str().unwrap();
    assert!(
        command.contains(" --no-index ") && command.ends_with(" flowdemo"),
        "{command}"
    );
    assert_eq!(
        got[3]["result"],
        serde_json::json!({"module": "flowdemo", "ok": true, "error": null})
    );
    let report = &got[4]["report"];
    assert_eq!(report["installer"], "uv");
    assert_eq!(report["changed"][0]["name"], "flowdemo");
    assert_eq!(report["ok"], true);
    // Nothing for people on stderr but the installer's own output.
    assert!(!out.stderr.contains("target:"), "{}", out.stderr);
}
