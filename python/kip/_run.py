"""Finding the kip binary and running it for the live kernel, with its progress as it happens.

The extension never parses kip's human text: every call asks for `--json-stream` (docs/json.md),
shows each event in the cell as kip reports it, and renders the typed report of the last line.
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

#: Subcommands that act on one target; the extension points them at this kernel unless the user
#: named a target.
TARGETED = ("install", "uninstall", "why", "doctor", "list")
TARGET_FLAGS = (
    "--kernel",
    "--python",
    "--prefix",
    "--env",
    "--notebook",
    "--kernel-pid",
    "--connection-file",
)

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


def in_kernel() -> bool:
    """Is this process an IPython kernel (ipykernel), not a terminal IPython?"""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def target_args() -> List[str]:
    """How kip is told that the target is this very process, and how it reports.

    A kernel is named by its pid: kip reads the interpreter, the connection file and the
    kernelspec name from the running process, so a kernel no kernelspec names (an ad-hoc
    `python -m ipykernel_launcher`) is found as well, and kip says which kernel it took. A
    terminal IPython is no kernel, so there the live interpreter is named. Always
    `--json-stream`: each event as it happens, then the report."""
    if in_kernel():
        return ["--kernel-pid", str(os.getpid()), "--json-stream"]
    return ["--python", sys.executable, "--json-stream"]


def names_target(args: Sequence[str]) -> bool:
    """Did the user name a target (`--kernel k`, `--python=…`) instead of this kernel?"""
    return any(a == f or a.startswith(f + "=") for a in args for f in TARGET_FLAGS)


def command(binary: str, argv: Sequence[str]) -> List[str]:
    """The argv kip runs with: a targeted subcommand gets this kernel as its target unless the
    user named one, and the event stream unless the user asked for `--json` (the two exclude
    each other)."""
    args = list(argv)
    if args and args[0] in TARGETED:
        extra = target_args()
        if names_target(args):
            extra = ["--json-stream"]
        if "--json" in args:
            extra.remove("--json-stream")
        if args[0] == "doctor" and "--start" not in args:
            # a doctor from inside a kernel checks; starting kernels is asked for by name
            extra.append("--no-start")
        # a flag the user gave already is not repeated (a value such as the pid always stays)
        extra = [a for a in extra if not (a.startswith("--") and a in args)]
        if "--" in args:
            at = args.index("--")
            args = args[:at] + extra + args[at:]
        else:
            args += extra
    return [binary] + args


class Result:
    """What one kip run produced: its exit status, the report (if it gave one), the rest of its
    stdout (a subcommand without a report prints text), and the messages of its `error`
    events (already shown as progress)."""

    def __init__(self, status: int, report: Optional[Report], stdout: str, errors: List[str]):
        self.status = status
        self.report = report
        self.stdout = stdout
        self.errors = errors


def event_text(e: Dict[str, Any]) -> str:
    """One `--json-stream` event (docs/json.md) as the progress line a person reads."""
    kind = e.get("event")
    if kind == "target":
        return f"target: {e.get('prefix')} ({e.get('why')})"
    if kind == "running":
        return f"running: {e.get('command')}"
    if kind == "proof":
        r = e.get("result") or {}
        return f"import {r.get('module')}: " + ("ok" if r.get("ok") else f"FAILED: {r.get('error')}")
    if kind == "error":
        return f"kip {e.get('verb')}: {e.get('message')}"
    if kind == "kernel-fixed":
        return f"kernel {e.get('name')}: " + ("; ".join(map(str, e.get("actions") or [])) or "unchanged")
    for key in ("text", "line"):
        if key in e:
            return str(e[key]).rstrip("\n")
    return json.dumps(e)


def _json_object(line: str) -> Optional[Dict[str, Any]]:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def run(argv: List[str], progress: Callable[[str], None], output: Callable[[str], None]) -> Result:
    """Run kip, never through a shell, and hand over what it says as soon as it says it: each
    `--json-stream` event of its stdout to `progress`, as the line a person reads; its stderr
    (an installer's own output, or kip's progress when the user asked for `--json`) to
    `output`. The `{"report": …}` line (or, with `--json`, the whole stdout) is the report.
    Lines are handed over on the calling thread, so they land in the cell that runs."""
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
        return Result(127, None, "", [str(e)])
    lines: "queue.Queue[Tuple[str, Optional[str]]]" = queue.Queue()

    def pump(name: str, stream: IO[str]) -> None:
        for line in stream:
            lines.put((name, line))
        lines.put((name, None))

    for name, stream in (("out", p.stdout), ("err", p.stderr)):
        assert stream is not None
        threading.Thread(target=pump, args=(name, stream), daemon=True).start()
    out: List[str] = []
    errors: List[str] = []
    report: Optional[Report] = None
    streamed = False
    open_streams = 2
    try:
        while open_streams:
            name, line = lines.get()
            obj = _json_object(line) if name == "out" and line is not None else None
            if line is None:
                open_streams -= 1
            elif name == "err":
                output(line.rstrip("\n"))
            elif obj is not None and "event" in obj:
                if obj["event"] == "error":
                    errors.append(str(obj.get("message")))
                progress(event_text(obj))
            elif obj is not None and set(obj) == {"report"}:
                streamed = True
                report = obj["report"] if isinstance(obj["report"], dict) else None
            else:
                out.append(line)
        status = p.wait()
    except KeyboardInterrupt:
        # The cell was interrupted: kip stops its installer on SIGINT and releases the env.
        p.send_signal(signal.SIGINT)
        p.wait()
        raise
    text = "".join(out)
    if not streamed:
        report = _json_object(text.strip())
    return Result(status, report, text, errors)
