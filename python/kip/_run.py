"""Finding the kip binary and running it for the live kernel, with its progress as it happens.

The extension never parses kip's human text: every call asks for the typed report (`--json`,
docs/json.md) and shows the progress lines kip writes while it works.
"""

from __future__ import annotations

import json
import queue
import os
import shutil
import signal
import subprocess
import sys
import threading
from importlib import metadata
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Tuple

#: Subcommands that act on one target; the extension points them at this kernel's interpreter
#: unless the user named a target.
TARGETED = ("install", "uninstall", "why", "doctor", "list")
TARGET_FLAGS = ("--kernel", "--python", "--prefix", "--env", "--notebook")

Report = Dict[str, Any]


def find_binary() -> Optional[str]:
    """`KIP_BIN`, then the `kip` of this package's own distribution (its wheel's scripts), then
    PATH: the binary that shipped with this extension speaks the JSON it expects, while the
    first `kip` on PATH may be another version (or another env's)."""
    explicit = os.environ.get("KIP_BIN")
    if explicit:
        return explicit
    try:
        files = metadata.distribution("jupyter-kip").files or []
    except metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == "kip" and f.parent.name in ("bin", "Scripts"):
            p = os.path.normpath(str(f.locate()))
            if os.access(p, os.X_OK):
                return p
    return shutil.which("kip")


def target_args() -> List[str]:
    """How kip is told that the target is this very kernel, and how it reports.

    The one switch point between kip versions: once `--kernel-pid`/`--json-stream` exist, this
    returns `["--kernel-pid", str(os.getpid()), "--json-stream"]` and `run` reads events from
    stdout. Until then the live interpreter is named directly (the kip child inherits the
    kernel's environment, so it sees what the kernel sees, kernelspec or not)."""
    return ["--python", sys.executable, "--json"]


def names_target(args: Sequence[str]) -> bool:
    """Did the user name a target (`--kernel k`, `--python=…`) instead of this kernel?"""
    return any(a == f or a.startswith(f + "=") for a in args for f in TARGET_FLAGS)


def command(binary: str, argv: Sequence[str]) -> List[str]:
    """The argv kip runs with: a targeted subcommand gets this kernel as its target unless the
    user named one, and the JSON report unless asked for already."""
    args = list(argv)
    if args and args[0] in TARGETED:
        extra = target_args()
        if names_target(args):
            extra = [a for a in extra if a in ("--json", "--json-stream")]
        if args[0] == "doctor" and "--start" not in args:
            # a doctor from inside a kernel checks; starting kernels is asked for by name
            extra.append("--no-start")
        extra = [a for a in extra if a not in args]
        if "--" in args:
            at = args.index("--")
            args = args[:at] + extra + args[at:]
        else:
            args += extra
    return [binary] + args


class Result:
    """What one kip run produced: its exit status, the report (if it printed one) and its
    stderr lines (already shown as progress)."""

    def __init__(self, status: int, report: Optional[Report], stdout: str, stderr: List[str]):
        self.status = status
        self.report = report
        self.stdout = stdout
        self.stderr = stderr


def event_text(e: Dict[str, Any]) -> str:
    """One `--json-stream` event as the progress line a person reads."""
    kind = e.get("event")
    if kind == "target":
        return f"target: {e.get('prefix')} ({e.get('why')})"
    if kind == "running":
        return f"running: {e.get('command')}"
    if kind == "proof":
        r = e.get("result") or {}
        return f"import {r.get('module')}: " + ("ok" if r.get("ok") else f"FAILED: {r.get('error')}")
    for key in ("text", "line", "message"):
        if key in e:
            return str(e[key]).rstrip("\n")
    return json.dumps(e)


def run(argv: List[str], progress: Callable[[str], None]) -> Result:
    """Run kip; every progress line goes to `progress` as soon as kip writes it: its stderr
    (kip's own lines with `--json`, the installer's output in both modes) and, with
    `--json-stream`, each `{"event": …}` line of its stdout. The rest of stdout is the report.
    Lines are handed over on the calling thread, so they land in the cell that runs. Never
    through a shell."""
    try:
        p = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            bufsize=1,
        )
    except OSError as e:
        progress(f"kip: cannot run {argv[0]}: {e}")
        return Result(127, None, "", [])
    lines: "queue.Queue[Tuple[str, Optional[str]]]" = queue.Queue()

    def pump(name: str, stream: IO[str]) -> None:
        for line in stream:
            lines.put((name, line))
        lines.put((name, None))

    for name, stream in (("out", p.stdout), ("err", p.stderr)):
        assert stream is not None
        threading.Thread(target=pump, args=(name, stream), daemon=True).start()
    out: List[str] = []
    err: List[str] = []
    open_streams = 2
    try:
        while open_streams:
            name, line = lines.get()
            if line is None:
                open_streams -= 1
            elif name == "err":
                err.append(line.rstrip("\n"))
                progress(err[-1])
            elif line.startswith('{"event"'):
                try:
                    progress(event_text(json.loads(line)))
                except ValueError:
                    out.append(line)
            else:
                out.append(line)
        status = p.wait()
    except KeyboardInterrupt:
        # The cell was interrupted: kip stops its installer on SIGINT and releases the env.
        p.send_signal(signal.SIGINT)
        p.wait()
        raise
    text = "".join(out)
    return Result(status, parse_report(text), text, err)


def parse_report(text: str) -> Optional[Report]:
    """The report: the whole stdout (`--json`), or the last `{"report": …}` line of a
    `--json-stream`."""
    text = text.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
        for line in text.splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and "report" in obj:
                value = obj["report"]
    if isinstance(value, dict) and set(value) == {"report"}:
        value = value["report"]
    return value if isinstance(value, dict) else None
