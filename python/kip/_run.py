"""Finding the kip binary and running it for the live kernel, with its progress as it happens.

The extension never parses kip's human text: every call asks for the typed report (`--json`,
docs/json.md) and shows the progress lines kip writes while it works.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from importlib import metadata
from typing import Any, Callable, Dict, List, Optional, Sequence

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


def command(binary: str, argv: Sequence[str]) -> List[str]:
    """The argv kip runs with: a targeted subcommand gets this kernel as its target unless the
    user named one, and the JSON report unless asked for already."""
    args = list(argv)
    if args and args[0] in TARGETED:
        named = any(a == f or a.startswith(f + "=") for a in args for f in TARGET_FLAGS)
        extra = target_args()
        if named:
            extra = [a for a in extra if a in ("--json", "--json-stream")]
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


def run(argv: List[str], progress: Callable[[str], None]) -> Result:
    """Run kip; every stderr line goes to `progress` as soon as kip writes it, while stdout (the
    report) is collected. Never through a shell."""
    p = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        bufsize=1,
    )
    assert p.stdout is not None and p.stderr is not None
    out: List[str] = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    err: List[str] = []
    for line in p.stderr:
        line = line.rstrip("\n")
        err.append(line)
        progress(line)
    status = p.wait()
    reader.join()
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
