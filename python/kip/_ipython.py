"""The `%kip` line magic, the stale-module check after an install, and the import hint."""

from __future__ import annotations

import html
import importlib
import os
import shlex
import sys
from importlib import metadata
from typing import Any, Dict, List, Optional, Set

from . import _run

Report = Dict[str, Any]


def _say(text: str) -> None:
    """A line into the cell, flushed so it shows while kip still works."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _said(text: str) -> None:
    """A line kip's child wrote to stderr (an installer's own output), into the cell's stderr
    as it comes: kip's own progress arrives as events and goes to stdout."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _display(plain: str, html_text: Optional[str] = None) -> None:
    from IPython.display import display

    data = {"text/plain": plain}
    if html_text is not None:
        data["text/html"] = html_text
    display(data, raw=True)


def _table(head: List[str], rows: List[List[str]]) -> str:
    def row(cells: List[str], tag: str) -> str:
        return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

    return "<table>" + row(head, "th") + "".join(row(r, "td") for r in rows) + "</table>"


def _text_table(head: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + rows
    )


# --- stale modules ----------------------------------------------------------------------------


def _top_levels(name: str) -> Set[str]:
    """The top-level modules a distribution provides, from its metadata here (`top_level.txt`,
    else its RECORD), plus its normalised name when the metadata is gone (removed)."""
    tops: Set[str] = {name.replace("-", "_").replace(".", "_").lower()}
    try:
        d = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return tops
    txt = d.read_text("top_level.txt")
    if txt:
        return {t.strip() for t in txt.splitlines() if t.strip()}
    for f in d.files or []:
        parts = f.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] == "..":
            continue
        if len(parts) > 1 or parts[0].endswith(".py"):
            tops.add(parts[0][:-3] if parts[0].endswith(".py") else parts[0])
    return tops


def _loaded(tops: Set[str]) -> List[str]:
    return sorted(t for t in tops if t in sys.modules)


def stale_lines(changed: List[Dict[str, Any]]) -> List[str]:
    """What each changed distribution means for this live kernel, compared with `sys.modules`:
    new → importable now; replaced or removed while imported → named, restart needed; replaced or
    removed but never imported → no restart needed. Never a generic "may need to restart"."""
    lines: List[str] = []
    if any(c.get("to") is not None for c in changed):
        importlib.invalidate_caches()
    for c in changed:
        name, before, after = str(c.get("name")), c.get("from"), c.get("to")
        tops = _top_levels(name)
        loaded = _loaded(tops)
        mods = ", ".join(f"`{m}`" for m in loaded)
        if before is None and after is not None:
            if c.get("pth"):
                lines.append(
                    f"{name} {after} is new, with a .pth file that Python reads only at start-up: "
                    "restart the kernel to use it"
                )
            else:
                lines.append(f"{name} {after} is new: importable now, no restart needed")
        elif after is not None:
            if loaded:
                lines.append(
                    f"{mods} {before} is loaded; {after} is installed: restart the kernel to use it"
                    + ("" if loaded == [name] else f" ({name})")
                )
            else:
                lines.append(
                    f"{name} {before} → {after}: not imported in this kernel, no restart needed"
                )
        else:
            if loaded:
                lines.append(
                    f"{mods} {before} is loaded but {name} was removed: restart the kernel "
                    "to drop it"
                )
            else:
                lines.append(f"{name} {before} removed: never imported here, no restart needed")
    return lines


# --- rendering --------------------------------------------------------------------------------


def _render_change(sub: str, r: Report) -> None:
    changed: List[Dict[str, Any]] = list(r.get("changed") or [])
    lines: List[str] = []
    if r.get("error"):
        lines.append(f"kip {sub} failed: {r['error']}")
    for s in r.get("already_satisfied") or []:
        lines.append(f"{s.get('name')} {s.get('version')} is already installed")
    for p in r.get("proof") or []:
        if p.get("ok"):
            lines.append(f"import {p.get('module')}: ok")
        else:
            lines.append(f"import {p.get('module')} FAILED: {p.get('error')}")
    for n in r.get("not_installed") or []:
        lines.append(f"{n} was not installed")
    for k in r.get("restart") or []:
        # this kernel is answered module by module below; others on the env are named by kip
        if k.get("pid") != os.getpid() and k.get("must_restart"):
            lines.append(f"another kernel on this environment: {k.get('advice')}")
    stale = stale_lines(changed)
    rows = [
        [str(c.get("name")), str(c.get("from") or "—"), str(c.get("to") or "—"), s]
        for c, s in zip(changed, stale)
    ]
    head = ["distribution", "before", "after", "in this kernel"]
    plain = "\n".join(lines + stale)
    if rows:
        extra = "".join(f"<p>{html.escape(l)}</p>" for l in lines)
        _display(plain, extra + _table(head, rows))
    elif plain:
        _display(plain)


def _render_list(r: Report) -> None:
    head = ["name", "version", "installer"]
    rows = [
        [str(p.get("name")), str(p.get("version")), str(p.get("installer"))]
        for p in r.get("packages") or []
    ]
    title = f"{len(rows)} distributions in {r.get('prefix')}"
    _display(title + "\n" + _text_table(head, rows), f"<p>{html.escape(title)}</p>" + _table(head, rows))


def _render_doctor(r: Report) -> None:
    head = ["severity", "subject", "finding", "fix"]
    rows = [
        [
            str(f.get("severity")),
            str(f.get("subject")),
            str(f.get("message")),
            str((f.get("fix") or {}).get("text") or ""),
        ]
        for f in r.get("findings") or []
    ]
    if not rows:
        _display("kip doctor: nothing wrong found")
        return
    plain = "\n".join(f"{s}: {sub}: {m}" + (f"\n  fix: {fx}" if fx else "") for s, sub, m, fx in rows)
    _display(plain, _table(head, rows))


def why_text(r: Report, here: bool) -> str:
    """kip's answer for a module, in sentences; `here` words the install line as a magic."""
    m = r.get("module")
    if r.get("importable"):
        where = r.get("location") or "the standard library"
        dist = r.get("distribution")
        text = f"`{m}` is importable here: {where}" + (f" ({dist} {r.get('version')})" if dist else "")
        if r.get("warning"):
            text += f"\nwarning: {r['warning']}"
        return text
    lines = [f"kip: `{m}` is not installed in this kernel's environment ({r.get('target')})."]
    dist = r.get("provided_by")
    if dist and dist.lower().replace("_", "-") != str(m).lower().replace("_", "-"):
        lines.append(f"  `{m}` is provided by the distribution {dist}.")
    for e in r.get("elsewhere") or []:
        what = f"{e.get('distribution')} {e.get('version')}" if e.get("distribution") else f"`{m}`"
        used = e.get("kernels") or []
        by = f", used by kernel {', '.join(used)}" if used else ", which no kernel uses"
        lines.append(f"  {what} is installed in {e.get('prefix')} ({e.get('kind')}){by}.")
    if dist:
        line = f"%kip install {dist}" if here else str(r.get("install"))
        lines.append(f"  Install it here with:  {line}")
    else:
        where = (
            "No metadata says which distribution installed those copies"
            if r.get("elsewhere")
            else f"No environment here has `{m}`"
        )
        lines.append(
            f"  {where}, and kip's name table does not know which distribution provides it. A "
            "module's name is not always its distribution's name, and kip does not guess one "
            "from PyPI: install the distribution that provides it, by its own name."
        )
    return "\n".join(lines)


# --- the magic and the hint -------------------------------------------------------------------


class Kip:
    def __init__(self, shell: Any):
        self.shell = shell
        self.hinted: Set[str] = set()

    def magic(self, line: str) -> None:
        """%kip install|uninstall|why|doctor|list|… ARGS: kip for this live kernel."""
        try:
            args = shlex.split(line)
        except ValueError as e:
            _say(f"%kip: {e}")
            return
        if not args or args[0] in ("-h", "--help", "help"):
            _say(
                "usage: %kip install|uninstall|why|doctor|list|kernels|envs|ps ARGS\n"
                "install, uninstall, why, doctor and list act on this kernel (pid "
                f"{os.getpid()}, {sys.executable}) unless you name a target."
            )
            return
        binary = _run.find_binary()
        if binary is None:
            _say(
                "%kip: no kip binary: set KIP_BIN, or install jupyter-kip into this environment "
                f"({sys.executable} -m pip install jupyter-kip)"
            )
            return
        sub = args[0]
        argv = _run.command(binary, args)
        res = _run.run(argv, _say, _said)
        if sub not in _run.TARGETED:
            if res.stdout:
                _say(res.stdout.rstrip("\n"))
            return
        r = res.report
        if r is None:
            if res.stdout.strip():
                _say(res.stdout.rstrip("\n"))
            _say(f"%kip {sub}: kip exited with status {res.status} and no report")
            return
        if sub in ("install", "uninstall"):
            _render_change(sub, r)
        elif sub == "list":
            _render_list(r)
        elif sub == "doctor":
            _render_doctor(r)
        elif sub == "why":
            _display(why_text(r, here=not _run.names_target(args)))

    def post_run_cell(self, result: Any) -> None:
        """After a cell failed with ModuleNotFoundError: kip's answer, once per module. The
        traceback was already shown by IPython, untouched."""
        err = getattr(result, "error_in_exec", None)
        if not isinstance(err, ModuleNotFoundError) or not err.name:
            return
        top = err.name.split(".")[0]
        if top in self.hinted:
            return
        self.hinted.add(top)
        binary = _run.find_binary()
        if binary is None:
            return
        res = _run.run(_run.command(binary, ["why", top]), lambda _l: None, lambda _l: None)
        r = res.report
        if r is None:
            why = f": {res.errors[-1]}" if res.errors else ""
            _say(f"kip: could not look up `{top}` (kip why exited with status {res.status}){why}")
            return
        if not r.get("importable"):
            _say(why_text(r, here=True))


def load(shell: Any) -> None:
    k = Kip(shell)
    shell.register_magic_function(k.magic, magic_kind="line", magic_name="kip")
    shell.events.register("post_run_cell", k.post_run_cell)
    shell._kip_extension = k


def unload(shell: Any) -> None:
    k: Optional[Kip] = getattr(shell, "_kip_extension", None)
    if k is not None:
        shell.events.unregister("post_run_cell", k.post_run_cell)
        del shell._kip_extension
