"""kip benchmarks, side by side with what users would use instead, in one run, as ratios.

usage: target/kip-toolbox/venv/bin/python bench/bench.py [--kernels N] [--envs N] [--start-only]

Builds temp worlds (never touches your HOME), then times each pair of commands: "cold" is the
first run with kip's cache emptied, "warm" the median of 7 runs after it. Not part of CI.
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TB = os.environ.get("KIP_TOOLBOX") or os.path.join(REPO, "target", "kip-toolbox")
KIP = os.path.join(REPO, "target", "release", "kip")
N_KERNELS = int(sys.argv[sys.argv.index("--kernels") + 1]) if "--kernels" in sys.argv else 50
N_ENVS = int(sys.argv[sys.argv.index("--envs") + 1]) if "--envs" in sys.argv else 50


def run(cmd, env, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, p.returncode


def timed(cmd, env, cwd, cold_reset=None, n=7):
    if cold_reset:
        cold_reset()
    cold, _ = run(cmd, env, cwd)
    warm = statistics.median(run(cmd, env, cwd)[0] for _ in range(n))
    return cold, warm


def world(name):
    root = tempfile.mkdtemp(prefix="kip-bench-%s-" % name)
    home = os.path.join(root, "home")
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(home)
    for n in ("jupyter", "jupyter-kernelspec", "jupyter-troubleshoot", "uv"):
        os.symlink(os.path.join(TB, "venv", "bin", n), os.path.join(root, "bin", n))
    env = {"HOME": home, "PATH": os.path.join(root, "bin") + ":/usr/bin:/bin", "LANG": "C.UTF-8",
           "UV_CACHE_DIR": os.path.join(TB, "uv-cache"), "UV_PYTHON_DOWNLOADS": "never",
           "KIP_CACHE_DIR": os.path.join(root, "kipcache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return root, env


def uv(env, *args):
    subprocess.run([os.path.join(TB, "venv", "bin", "uv")] + list(args), env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def report(label, ours, theirs, world_name):
    (oc, ow), (tc, tw) = ours, theirs
    print("%-46s %-14s cold %7.3fs vs %7.3fs (%5.1fx)   warm %7.3fs vs %7.3fs (%5.1fx)"
          % (label, world_name, oc, tc, tc / oc, ow, tw, tw / ow))


# jupyter_client's way to start a kernel and know it answers: start_new_kernel (which waits
# for kernel_info), one more kernel_info round trip, then the shutdown, timed inside Python
# (the interpreter's and jupyter_client's import time is not counted).
JC_START = r"""
import json, sys, time
from jupyter_client.manager import start_new_kernel
t = time.perf_counter()
km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=60)
kc.kernel_info(reply=True, timeout=30)
ready = time.perf_counter() - t
kc.stop_channels()
km.shutdown_kernel()
print(json.dumps({"ready": ready, "total": time.perf_counter() - t}))
"""


def start_bench(n=7):
    """kip's start proof vs jupyter_client's start_new_kernel + kernel_info, same kernel (the
    toolbox Jupyter's native python3: ipykernel 7.4 on CPython 3.11), median of n each."""
    root, env = world("start")
    kip_ready, kip_start, kip_wall, jc_ready, jc_total = [], [], [], [], []
    for _ in range(n):
        t = time.perf_counter()
        p = subprocess.run([KIP, "doctor", "--start", "--kernel", "python3", "--json"], env=env,
                           cwd=root, capture_output=True, text=True)
        kip_wall.append(time.perf_counter() - t)
        st = json.loads(p.stdout)["starts"][0]
        assert st.get("outcome") == "ready", st
        kip_ready.append(st["ready_ms"] / 1000.0)
        kip_start.append(st["elapsed_ms"] / 1000.0)
        p = subprocess.run([os.path.join(TB, "venv", "bin", "python"), "-c", JC_START, "python3"],
                           env=env, cwd=root, capture_output=True, text=True, check=True)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        jc_ready.append(r["ready"])
        jc_total.append(r["total"])
    m = statistics.median
    print("start proof, median of %d: kip %.3fs to kernel_info, %.3fs until all is gone (whole "
          "`kip doctor --start` %.3fs); jupyter_client %.3fs to kernel_info, %.3fs with "
          "shutdown_kernel; kip / jupyter_client = %.2f to kernel_info, %.2f with shutdown"
          % (n, m(kip_ready), m(kip_start), m(kip_wall), m(jc_ready), m(jc_total),
             m(kip_ready) / m(jc_ready), m(kip_start) / m(jc_total)))
    shutil.rmtree(root, ignore_errors=True)


def main():
    if not os.path.exists(KIP):
        subprocess.run(["cargo", "build", "--release"], cwd=REPO, check=True)
    print("machine: %s cores; toolbox %s; kip %s" % (os.cpu_count(), TB, KIP))
    start_bench()
    if "--start-only" in sys.argv:
        return
    root, env = world("k")
    base = os.path.realpath(os.path.join(TB, "base-python"))
    kdir = os.path.join(env["HOME"], ".local", "share", "jupyter", "kernels")
    # N venvs, each registered as a kernel with an absolute interpreter.
    for i in range(N_KERNELS):
        v = os.path.join(root, "envs", "e%03d" % i)
        uv(env, "venv", "-q", "--python", base, v)
        d = os.path.join(kdir, "k%03d" % i)
        os.makedirs(d)
        with open(os.path.join(d, "kernel.json"), "w") as f:
            f.write('{"argv": ["%s/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "K%d", "language": "python"}' % (v, i))
    reset = lambda: shutil.rmtree(env["KIP_CACHE_DIR"], ignore_errors=True)
    cwd = root
    report("kip kernels --json vs jupyter kernelspec list --json",
           timed([KIP, "kernels", "--json"], env, cwd, reset),
           timed(["jupyter", "kernelspec", "list", "--json"], env, cwd), "%d kernels" % N_KERNELS)
    report("kip envs --json vs uv python list",
           timed([KIP, "envs", "--json"], env, cwd, reset),
           timed(["uv", "python", "list", "--output-format", "json"], env, cwd), "%d venvs" % N_KERNELS)
    report("kip doctor --json vs jupyter troubleshoot",
           timed([KIP, "doctor", "--json"], env, cwd, reset),
           timed(["jupyter", "troubleshoot"], env, cwd), "%d kernels" % N_KERNELS)
    # This machine as it is (real HOME read-only: kip writes only its cache, redirected here).
    real = dict(os.environ, KIP_CACHE_DIR=os.path.join(root, "realcache"))
    real["PATH"] = os.path.join(root, "bin") + ":" + os.environ.get("PATH", "")
    report("kip envs --json vs uv python list", timed([KIP, "envs", "--json"], real, cwd,
           lambda: shutil.rmtree(real["KIP_CACHE_DIR"], ignore_errors=True)),
           timed(["uv", "python", "list", "--output-format", "json"], real, cwd), "this machine")
    # Install: no-op (already installed) and a real local wheel, kip (uv) vs pip and uv.
    v = os.path.join(root, "instenv")
    subprocess.run([base, "-m", "venv", v], check=True)
    wheels = os.path.join(TB, "wheels")
    ienv = dict(env, PIP_NO_INDEX="1", PIP_FIND_LINKS=wheels)
    py = os.path.join(v, "bin", "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-index", "--find-links", wheels, "six"], check=True)
    kip_noop = timed([KIP, "install", "six", "--python", py], ienv, cwd)
    pip_noop = timed([py, "-m", "pip", "install", "--no-index", "--find-links", wheels, "six"], ienv, cwd)
    uv_noop = timed(["uv", "pip", "install", "--python", py, "--offline", "--no-index", "--find-links", wheels, "six"], ienv, cwd)
    report("kip install (no-op) vs pip install", kip_noop, pip_noop, "venv")
    report("kip install (no-op) vs uv pip install", kip_noop, uv_noop, "venv")
    def fresh(cmd):
        times = []
        for _ in range(5):
            subprocess.run([py, "-m", "pip", "uninstall", "-q", "-y", "PyYAML"], env=ienv)
            times.append(run(cmd, ienv, cwd)[0])
        return statistics.median(times)
    k = fresh([KIP, "install", "PyYAML", "--python", py])
    p = fresh([py, "-m", "pip", "install", "--no-index", "--find-links", wheels, "PyYAML"])
    print("%-46s %-14s kip %7.3fs vs pip %7.3fs (%5.1fx)" % ("real install of a local wheel (warm)", "venv", k, p, p / k))
    shutil.rmtree(root, ignore_errors=True)


main()
