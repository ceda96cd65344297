//! What a flow tells its face while it works, and the one question it may ask.
//!
//! Flows (`src/flows/`) and the steps below them never print or prompt: what must appear while
//! work runs (the target chosen, each installer command, a conda installer's output, each
//! import of the proof, a kernel's diff) is an [`Event`] sent to a [`Reporter`], and the
//! interactive kernel picker is [`Reporter::choose`]. The terminal face
//! (`render/terminal.rs`) writes events to stderr; a test records them; other faces (the
//! `%kip` magic, JupyterLab, `--json-stream`) serialize them. The model is uv's
//! `uv_installer::Reporter`, implemented by the binary's reporters.

use std::path::PathBuf;

use serde::Serialize;

use crate::install::verify::ImportResult;

/// One thing that happened, in the order it happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The environment an action targets, and why (`target: PREFIX (WHY)`).
    Target {
        prefix: PathBuf,
        python: PathBuf,
        kernel: Option<String>,
        why: String,
    },
    /// An installer command about to run, as a shell line.
    Running { command: String },
    /// A line of an installer's stderr that kip captured (conda's; uv and pip speak to the
    /// terminal directly).
    InstallerOutput { line: String },
    /// What a captured installer wrote to stdout, shown as it was.
    InstallerStdout { text: String },
    /// One import of the proof.
    Proof { result: ImportResult },
    /// A unified diff of a file kip is about to rewrite (a kernel.json).
    Diff { text: String },
    /// What a repair did to one kernel.
    KernelFixed {
        name: String,
        actions: Vec<String>,
        skipped: Vec<String>,
        backup: Option<PathBuf>,
        /// How the rewritten kernel's start went (`None`: not started).
        start: Option<String>,
    },
    /// A sentence for people about progress (index settings, a rename, a note, advice).
    Note { text: String },
    /// Something failed; `verb` is the command whose step failed (`install` inside
    /// `kernel add`).
    Error { verb: String, message: String },
}

impl Event {
    pub fn note(text: impl Into<String>) -> Event {
        Event::Note { text: text.into() }
    }

    pub fn error(verb: &str, message: impl Into<String>) -> Event {
        Event::Error {
            verb: verb.to_string(),
            message: message.into(),
        }
    }
}

/// The face a flow reports to.
pub trait Reporter {
    fn event(&mut self, event: Event);

    /// kip itself is busy with `what` (`None`: no longer). A terminal shows a spinner.
    fn busy(&mut self, _what: Option<&str>) {}

    /// Can [`Self::choose`] ask someone? Never inside a kernel's `!` command, never without a
    /// terminal.
    fn can_ask(&self) -> bool {
        false
    }

    /// Ask to pick one of `items` (`default` preselected): `Ok(None)` when nothing was chosen.
    fn choose(
        &mut self,
        _prompt: &str,
        _items: &[String],
        _default: usize,
    ) -> Result<Option<usize>, String> {
        Ok(None)
    }
}

/// A reporter that keeps every event: for tests and for faces that send events later.
#[derive(Default, Debug)]
pub struct Recorder {
    pub events: Vec<Event>,
}

impl Reporter for Recorder {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}
