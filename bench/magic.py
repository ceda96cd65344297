"""`%kip install` of an already satisfied package vs `%pip install` of the same, in one kernel.

usage: target/kip-toolbox/venv/bin/python bench/magic.py [--runs N] [--wheel WHL]

Builds a temp world (never touches your HOME): a venv with ipykernel, the jupyter-kip wheel of
this checkout (built with `pip wheel .` into target/kip-wheel-bench/ unless one is there) and
`six` from the toolbox wheelhouse, registered as a kernel. Starts that kernel through
jupyter_client, loads the extension, and times each magic as the front end sees it (execute
request to idle), median of N runs after one warm-up (%kip's must show its target and "already
installed": a %kip that failed would be no measurement). Prints the ratio (%pip's time / %kip's:
above 1 means %kip is faster). Not part of CI.
"""
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TB = os.environ.get("KIP_TOOLBOX") or os.path.join(REPO, "target", "kip-toolbox")
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 9
WHEEL = sys.argv[sys.argv.index("--wheel") + 1] if "--wheel" in sys.argv else None


def the_wheel():
    if WHEEL:
        return os.path.abspath(WHEEL)
    out = os.path.join(REPO, "target", "kip-wheel-bench")
    found = glob.glob(os.path.join(out, "jupyter_kip-*.whl"))
    if found:
        return found[0]
    env = dict(os.environ, PIP_NO_INDEX="1", CARGO_TARGET_DIR=os.path.join(REPO, "target", "wheel-build"),
               PATH=os.path.join(TB, "maturin-venv", "bin") + ":" + os.environ["PATH"])
    subprocess.run([os.path.join(TB, "maturin-venv", "bin", "python"), "-m", "pip", "wheel",
                    "--no-build-isolation", "--no-deps", "-q", "-w", out, REPO], env=env, check=True)
    return glob.glob(os.path.join(out, "jupyter_kip-*.whl"))[0]


def main():
    whl = the_wheel()
    root = tempfile.mkdtemp(prefix="kip-bench-magic-")
    home = os.path.join(root, "home")
    os.makedirs(home)
    wheels = os.path.join(TB, "wheels")
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "UV_CACHE_DIR": os.path.join(TB, "uv-cache"), "UV_PYTHON_DOWNLOADS": "never",
           "KIP_CACHE_DIR": os.path.join(root, "kipcache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": wheels,
           "JUPYTER_DATA_DIR": os.path.join(root, "jdata"), "JUPYTER_CONFIG_DIR": os.path.join(root, "jconf"),
           "JUPYTER_RUNTIME_DIR": os.path.join(root, "jrun")}
    uv = os.path.join(TB, "venv", "bin", "uv")
    v = os.path.join(root, "kenv")
    base = os.path.realpath(os.path.join(TB, "base-python"))
    subprocess.run([base, "-m", "venv", v], env=env, check=True)
    py = os.path.join(v, "bin", "python")
    subprocess.run([uv, "pip", "install", "-q", "--python", py, "--offline", "--no-index", "--find-links",
                    wheels, "ipykernel==7.4.0", "six", whl], env=env, check=True)
    kdir = os.path.join(env["JUPYTER_DATA_DIR"], "kernels", "bench")
    os.makedirs(kdir)
    with open(os.path.join(kdir, "kernel.json"), "w") as f:
        f.write('{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], '
                '"display_name": "bench", "language": "python"}' % py)
    os.environ.clear()
    os.environ.update(env)
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="bench")
    try:
        said = []

        def cell(code):
            del said[:]
            t = time.perf_counter()
            reply = kc.execute_interactive(code, timeout=300, output_hook=said.append)
            assert reply["content"]["status"] == "ok", reply["content"]
            return time.perf_counter() - t

        def text():
            c = [m["content"] for m in said]
            return "".join(x.get("text") or x.get("data", {}).get("text/plain", "") for x in c)

        cell("%load_ext kip")
        results = {}
        for magic in ("%kip install six", "%pip install six"):
            cell(magic)  # warm-up, and what it says: a %kip that failed is no measurement
            if magic.startswith("%kip"):
                assert "target:" in text() and "is already installed" in text(), text()
            results[magic] = statistics.median(cell(magic) for _ in range(RUNS))
        k, p = results["%kip install six"], results["%pip install six"]
        print("machine: %s cores; wheel %s" % (os.cpu_count(), os.path.basename(whl)))
        print("six already installed, median of %d, execute to idle:" % RUNS)
        print("  %%kip install six  %7.3fs" % k)
        print("  %%pip install six  %7.3fs" % p)
        print("  ratio (%%pip / %%kip): %.1fx" % (p / k))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        shutil.rmtree(root, ignore_errors=True)


main()
