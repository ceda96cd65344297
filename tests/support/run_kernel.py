"""Start a REAL kernel through jupyter_client and run code in it (kip's test harness).

usage: run_kernel.py CONFIG_JSON
  CONFIG_JSON: {"name": KERNEL_NAME, "code": CODE | null, "startup_timeout": S, "timeout": S}

Protocol (JSON lines on the original stdout; everything else this process or the kernel prints
goes to stderr, so it cannot corrupt the protocol):
  first line:   {"ready": true, "kernel_pid": N, "connection_file": F, "resource_dir": D}
                or {"ready": false, "error": "..."} (then exit 3)
  with "code":  one reply line, then shutdown
  without it:   one reply line per request line read from stdin:
                  {"code": "..."}  -> {"stdout", "stderr", "error", "result", "outputs"}
  "outputs": every output message in arrival order, {"type", "text", "html", "t"}: a stream
  (type = its name), display_data, execute_result, error (text = its traceback); "t" is when this
  process received it (monotonic seconds), so a test can tell what arrived before what.
  CONFIG_JSON may hold "kernel_dirs": [DIR]: the only dirs the kernelspec is looked up in (a
  kernel no other Jupyter lookup finds).
                  {"shutdown": true} or EOF -> shutdown and exit
  CONFIG_JSON may hold "kernel_cwd": DIR: the kernel's cwd (a server passes the notebook's
  folder), while this process (the "server") keeps its own.
The kernel is found by jupyter_client's KernelSpecManager with this process's environment
(the world's), and inherits that environment (its PATH is the "server's PATH").
"""
import json
import os
import queue
import signal
import sys
import time
import uuid

# The protocol goes to a private copy of stdout; fd 1 becomes stderr for everything else
# (this process's prints and warnings, and the kernel process, which inherits fd 1).
_proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def say(obj):
    _proto.write(json.dumps(obj) + "\n")
    _proto.flush()


def _term(signum, frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _term)

from jupyter_client.manager import KernelManager  # noqa: E402
from jupyter_core.paths import jupyter_runtime_dir  # noqa: E402


def execute(km, kc, code, timeout):
    msg_id = kc.execute(code)
    out, err, res, error, outputs = [], [], None, None, []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            error = "HarnessTimeout: no idle status after %ss" % timeout
            break
        try:
            msg = kc.get_iopub_msg(timeout=min(left, 1.0))
        except queue.Empty:
            if not km.is_alive():
                error = "KernelDied: the kernel process exited"
                break
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t, c = msg["msg_type"], msg["content"]
        now = time.monotonic()
        if t == "stream":
            (out if c.get("name") == "stdout" else err).append(c["text"])
            outputs.append({"type": c.get("name"), "text": c["text"], "html": None, "t": now})
        elif t in ("display_data", "execute_result"):
            data = c.get("data", {})
            if t == "execute_result":
                res = data.get("text/plain")
            outputs.append({"type": t, "text": data.get("text/plain"),
                            "html": data.get("text/html"), "t": now})
        elif t == "error":
            error = "%s: %s" % (c["ename"], c["evalue"])
            outputs.append({"type": "error", "text": "\n".join(c.get("traceback", [])),
                            "html": None, "t": now})
        elif t == "status" and c["execution_state"] == "idle":
            break
    return {"stdout": "".join(out), "stderr": "".join(err), "error": error, "result": res,
            "outputs": outputs}


def main():
    cfg = json.loads(sys.argv[1])
    # as a Jupyter server does (MultiKernelManager's connection_dir): the connection file goes
    # to the runtime dir as kernel-<uuid>.json, not to a mkstemp file in /tmp
    runtime = jupyter_runtime_dir()
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    extra = {}
    if cfg.get("kernel_dirs"):
        from jupyter_client.kernelspec import KernelSpecManager

        extra["kernel_spec_manager"] = KernelSpecManager(kernel_dirs=cfg["kernel_dirs"])
    km = KernelManager(
        **extra,
        kernel_name=cfg["name"],
        connection_file=os.path.join(runtime, "kernel-%s.json" % uuid.uuid4()),
    )
    kc = None
    try:
        try:
            km.start_kernel(**({"cwd": cfg["kernel_cwd"]} if cfg.get("kernel_cwd") else {}))
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=cfg.get("startup_timeout", 60))
        except Exception as e:  # no such kernel, bad argv, kernel died, timeout
            say({"ready": False, "error": "%s: %s" % (type(e).__name__, e)})
            return 3
        pid = None
        prov = getattr(km, "provisioner", None)
        proc = getattr(prov, "process", None)
        if proc is not None:
            pid = proc.pid
        say({
            "ready": True,
            "kernel_pid": pid,
            "connection_file": km.connection_file,
            "resource_dir": km.kernel_spec.resource_dir if km.kernel_spec else None,
        })
        timeout = cfg.get("timeout", 120)
        if cfg.get("code") is not None:
            say(execute(km, kc, cfg["code"], timeout))
            return 0
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            if req.get("shutdown"):
                break
            say(execute(km, kc, req["code"], req.get("timeout", timeout)))
        return 0
    finally:
        if kc is not None:
            kc.stop_channels()
        try:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        except Exception as e:
            print("run_kernel.py: shutdown: %s" % e, file=sys.stderr)


sys.exit(main())
