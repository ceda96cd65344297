//! `kip ps`: servers and their kernels for people, or the report as JSON.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::flows::ps::Report;
use crate::jupyter::ps::{KernelEntry, ServerState};
use crate::render::Output;

use super::{bold, dim, warn};

/// `3m ago`, `2h ago`, … from seconds since the epoch.
fn ago(started: Option<u64>) -> String {
    let Some(t) = started else {
        return "start time unknown".into();
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(t);
    let s = now.saturating_sub(t);
    let (n, unit) = match s {
        0..60 => (s, "s"),
        60..3600 => (s / 60, "m"),
        3600..86_400 => (s / 3600, "h"),
        _ => (s / 86_400, "d"),
    };
    format!("started {n}{unit} ago")
}

fn kernel(out: &mut String, k: &KernelEntry) {
    let name = k.kernel_name.as_deref().unwrap_or("(no kernelspec name)");
    let _ = writeln!(
        out,
        "  {} {}  pid {}  {}",
        bold("kernel"),
        bold(name),
        k.pid,
        ago(k.started)
    );
    if let Some(nb) = &k.notebook {
        let state = k
            .execution_state
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let _ = writeln!(out, "    notebook     {}{state}", nb.display());
    }
    let _ = writeln!(out, "    interpreter  {}", k.interpreter.display());
    match &k.environment {
        Some(e) => {
            let name = e
                .name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    environment  {} ({}{name})",
                e.prefix.display(),
                e.kind
            );
        }
        None => {
            let _ = writeln!(out, "    environment  {}", dim("not recognised"));
        }
    }
    if let Some(f) = &k.connection_file {
        let _ = writeln!(out, "    connection   {}", dim(&f.display().to_string()));
    }
    if k.restart_advised {
        let _ = writeln!(out, "    {}", warn("restart advised:"));
        for r in &k.restart_reasons {
            let _ = writeln!(out, "      {r}");
        }
    } else if !k.changed_since_start.is_empty() {
        let _ = writeln!(
            out,
            "    {}",
            dim(&format!(
                "new since it started (importable now): {}",
                k.changed_since_start.join(", ")
            ))
        );
    }
}

pub fn human(r: &Report) -> Output {
    let mut out = String::new();
    if r.servers.is_empty() {
        let _ = writeln!(out, "{}", dim("no Jupyter server info files"));
    }
    for s in &r.servers {
        let url = s.info.url.as_deref().unwrap_or("(no url)");
        let pid = s
            .info
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into());
        match s.state {
            ServerState::Running => {
                let _ = writeln!(out, "{} {url}  pid {pid}", bold("server"));
            }
            ServerState::Stale => {
                let _ = writeln!(
                    out,
                    "{} {url}  pid {pid} {}",
                    bold("server"),
                    warn("stale: the process is gone")
                );
            }
        }
        if let Some(root) = &s.info.root_dir {
            let _ = writeln!(out, "  root         {}", root.display());
        }
        let _ = writeln!(
            out,
            "  info file    {}",
            dim(&s.info.info_file.display().to_string())
        );
        if let Some(e) = &s.sessions_error {
            let _ = writeln!(out, "  {}", dim(&format!("notebooks not known: {e}")));
        }
        for k in r
            .kernels
            .iter()
            .filter(|k| k.server.as_ref() == Some(&s.info.info_file))
        {
            kernel(&mut out, k);
        }
    }
    let alone: Vec<&KernelEntry> = r.kernels.iter().filter(|k| k.server.is_none()).collect();
    if !alone.is_empty() {
        let _ = writeln!(out, "{}", bold("kernels no listed server started"));
        for k in alone {
            kernel(&mut out, k);
        }
    }
    if r.kernels.is_empty() {
        let _ = writeln!(out, "{}", dim("no running kernels"));
    }
    if !r.orphan_connection_files.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            dim(&format!(
                "{} connection file(s) no running kernel holds (kernels that died), e.g. {}",
                r.orphan_connection_files.len(),
                r.orphan_connection_files[0].display()
            ))
        );
    }
    for p in &r.problems {
        let _ = writeln!(out, "{} {p}", warn("problem:"));
    }
    Output::styled(out)
}

pub fn json(r: &Report) -> Output {
    Output::stdout(super::json_line(&Some(r)))
}
