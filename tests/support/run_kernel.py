"""Start a real kernel through jupyter_client and run code in it (kip's test harness).

usage: run_kernel.py KERNEL_NAME CODE          -> one JSON line {"stdout", "error"}
       run_kernel.py KERNEL_NAME --session     -> "ready", then one JSON reply per JSON request line
"""
import json
import sys

from jupyter_client.manager import KernelManager


def execute(kc, code, timeout=120):
    msg_id = kc.execute(code)
    out, err = [], None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            out.append(c["text"])
        elif t == "error":
            err = "%s: %s" % (c["ename"], c["evalue"])
        elif t == "status" and c["execution_state"] == "idle":
            break
    return {"stdout": "".join(out), "error": err}


def main():
    name = sys.argv[1]
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        if sys.argv[2] == "--session":
            print("ready", flush=True)
            for line in sys.stdin:
                req = json.loads(line)
                print(json.dumps(execute(kc, req["code"])), flush=True)
        else:
            print(json.dumps(execute(kc, sys.argv[2])), flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


main()
