"""Running the ``kip`` binary from the server: never through a shell, with stdin closed, in its
own process group, with a timeout after which the whole group is killed, and without blocking
the event loop (``asyncio.create_subprocess_exec``)."""

import asyncio
import json
import os
import shutil
import signal
import sys
import sysconfig

#: Seconds a query (`why`, `doctor --no-start`, `kernel show`) may take.
QUERY_TIMEOUT = 120.0
#: Seconds an install may take (downloads and builds included).
INSTALL_TIMEOUT = 1800.0


class KipError(Exception):
    """kip could not be run, timed out, or printed no JSON; the message says which."""


def kip_binary():
    """The `kip` installed beside this Python by `jupyter-kip` (its scripts directory), else
    the first `kip` on PATH; None when there is none."""
    here = os.path.join(sysconfig.get_path("scripts"), "kip")
    if os.access(here, os.X_OK):
        return here
    return shutil.which("kip")


async def start(args):
    """Start `kip ARGS...` with stdout and stderr piped."""
    kip = kip_binary()
    if kip is None:
        raise KipError(
            "no `kip` found beside %s or on PATH: pip install jupyter-kip into the server's environment"
            % sys.executable
        )
    return await asyncio.create_subprocess_exec(
        kip,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )


def kill_group(proc):
    """Kill kip and everything it started (it leads its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def run_json(args, timeout=QUERY_TIMEOUT):
    """Run `kip ARGS... --json`; (exit code, the JSON object on stdout). kip's exit code 1
    is an answer ("not importable", "findings"), not a failure, so it is returned."""
    proc = await start(list(args) + ["--json"])
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        kill_group(proc)
        await proc.wait()
        raise KipError("kip %s timed out after %d s" % (" ".join(args[:2]), timeout))
    try:
        return proc.returncode, json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise KipError(
            "kip %s exited with %s and printed no JSON: %s"
            % (" ".join(args[:2]), proc.returncode, " | ".join(tail))
        )


_help_cache = {}


async def supports(subcommand, flag):
    """Whether this kip's `SUBCOMMAND --help` lists FLAG (cached per process)."""
    key = (subcommand, flag)
    if key not in _help_cache:
        proc = await start([subcommand, "--help"])
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), QUERY_TIMEOUT)
        except asyncio.TimeoutError:
            kill_group(proc)
            await proc.wait()
            out = b""
        _help_cache[key] = flag.encode() in out
    return _help_cache[key]
