"""kip at hub scale: time, syscalls and peak memory against N, side by side with Jupyter and uv.

usage: <toolbox>/venv/bin/python bench/scale/run.py [--n 1,10,100,300,1000,3000] [--reps 9]
       [--env-n 300,1000] [--worlds DIR] [--out bench/scale/results.json] [--only kip]

For each N it builds (once, see gen.py) a world of N kernels over 10 interpreters and N
environments of mixed kinds; for each --env-n, a world of environments only (no kernels), where
`kip envs --json` and `uv python list` are measured alone. Then it runs each command:
"cold_os" is a run after the OS's page, dentry and inode caches are dropped (when run as root)
and kip's cache emptied, "cold" a run with only kip's cache emptied, "warm" the median of
--reps runs after it ("warm_min" their fastest: on a shared VM, the least disturbed). Syscalls are counted with `strace -f -c`
(one warm run, every thread and child), peak RSS read from wait4's rusage (the largest of the
process tree's members). Prints a table and writes --out; `plot.py` draws it. Not part of CI.
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402

KIP = os.environ.get("KIP_BENCH_KIP") or os.path.join(REPO, "target", "release", "kip")


def commands(n_kernels):
    """(label, argv, is kip's): the kip commands and the peers they stand beside."""
    return [
        ("kip kernels --json", [KIP, "kernels", "--json"], True),
        ("kip kernels --jupyter-json", [KIP, "kernels", "--jupyter-json"], True),
        ("jupyter kernelspec list --json", ["jupyter", "kernelspec", "list", "--json"], False),
        ("kip envs --json", [KIP, "envs", "--json"], True),
        ("uv python list", ["uv", "python", "list", "--output-format", "json"], False),
        ("kip doctor --json --no-start", [KIP, "doctor", "--json", "--no-start"], True),
        ("jupyter troubleshoot", ["jupyter", "troubleshoot"], False),
        ("kip install six --kernel k0000 (no-op)", [KIP, "install", "six", "--kernel", "k0000"], True),
    ]


def run_once(argv, env, cwd):
    """Wall seconds, CPU seconds (user + system, the process and the children it waited for)
    and peak RSS (KiB) of one run; output discarded. On a loaded machine the CPU time is the
    steadier measure: wall time there is mostly waiting for a core."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        raise SystemExit("run.py: %s exited %d" % (" ".join(argv), p.returncode))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def syscalls(argv, env, cwd):
    """Total syscalls of one run (strace -f -c), and the per-call table's top rows."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        subprocess.run(["strace", "-f", "-c", "-o", out.name] + argv, env=env, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows = {}
        total = 0
        for line in out.read().splitlines():
            f = line.split()
            if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
                calls = int(f[3])
                rows[f[-1]] = calls
            elif f and f[-1] == "total":
                total = int(f[3])
        top = dict(sorted(rows.items(), key=lambda kv: -kv[1])[:6])
        return total, top


def drop_os_caches():
    """Empty the kernel's page, dentry and inode caches (root only): True when it could."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def measure(argv, env, cwd, reps, kip, strace):
    cache = env["KIP_CACHE_DIR"]
    r = {}
    if drop_os_caches():
        # Coldest: nothing of the world in memory, kip's probe cache empty.
        if kip:
            shutil.rmtree(cache, ignore_errors=True)
        r["cold_os"], _, _ = run_once(argv, env, cwd)
    if kip:
        shutil.rmtree(cache, ignore_errors=True)
    cold, cold_cpu, _ = run_once(argv, env, cwd)
    runs = [run_once(argv, env, cwd) for _ in range(reps)]
    r.update({"cold": cold, "cold_cpu": cold_cpu, "warm": statistics.median(w for w, _, _ in runs),
              "warm_cpu": statistics.median(c for _, c, _ in runs),
              # The fastest warm run: on a shared VM the least disturbed by neighbours.
              "warm_min": min(w for w, _, _ in runs),
              "rss_kib": max(m for _, _, m in runs)})
    if strace:
        r["syscalls"], r["top"] = syscalls(argv, env, cwd)
    return r


def main():
    a = sys.argv[1:]
    opt = lambda name, d: a[a.index(name) + 1] if name in a else d
    ns = [int(x) for x in opt("--n", "1,10,100,300,1000,3000").split(",")]
    reps = int(opt("--reps", "9"))
    worlds = opt("--worlds", "/tmp/kip-scale-worlds")
    out = opt("--out", os.path.join(HERE, "results.json"))
    only = opt("--only", "")
    env_ns = [int(x) for x in opt("--env-n", "300,1000").split(",") if x]
    if not os.path.exists(KIP):
        subprocess.run(["cargo", "build", "--release"], cwd=REPO, check=True)
    if not shutil.which("strace"):
        sys.exit("run.py: strace is needed for syscall counts (apt-get install strace)")
    load = os.getloadavg()
    print("machine: %d cores, load %.2f %.2f %.2f; kip %s; %d warm reps" % (os.cpu_count(), *load, KIP, reps))
    results = {"load": load, "reps": reps, "n": ns, "env_n": env_ns, "rows": {}, "env_rows": {}}
    for n in ns:
        root = os.path.join(worlds, "n%d" % n)
        t = time.perf_counter()
        gen.build(root, n, n, 10)
        env = gen.world_env(root)
        print("N=%d: world %s (%.0fs to build or reuse)" % (n, root, time.perf_counter() - t))
        for label, argv, kip in commands(n):
            if only == "kip" and not kip:
                continue
            r = measure(argv, env, root, reps, kip, strace=kip)
            results["rows"].setdefault(label, {})[str(n)] = r
            print("  %-40s cold(os) %7.3fs  cold %7.3fs  warm %7.3fs  warm cpu %7.3fs  rss %6.1f MiB%s" % (
                label, r.get("cold_os", float("nan")), r["cold"], r["warm"], r["warm_cpu"], r["rss_kib"] / 1024.0,
                "  syscalls %d %s" % (r["syscalls"], r["top"]) if "syscalls" in r else ""))
    for n in env_ns:
        root = os.path.join(worlds, "e%d" % n)
        gen.build(root, 0, n, 10)
        env = gen.world_env(root)
        print("envs only, N=%d: world %s" % (n, root))
        for label, argv, kip in commands(0):
            if "envs" not in label and "uv python" not in label or (only == "kip" and not kip):
                continue
            r = measure(argv, env, root, reps, kip, strace=kip)
            results["env_rows"].setdefault(label, {})[str(n)] = r
            print("  %-40s cold(os) %7.3fs  cold %7.3fs  warm %7.3fs  rss %6.1f MiB%s" % (
                label, r.get("cold_os", float("nan")), r["cold"], r["warm"], r["rss_kib"] / 1024.0,
                "  syscalls %d" % r["syscalls"] if "syscalls" in r else ""))
    summarize(results)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print("wrote", out)


def summarize(results):
    """Marginal time and syscalls per item, 100→1000 and 1000→3000, and the ratios the issue
    asks for."""
    rows = results["rows"]
    def marg(label, key, a, b):
        r = rows.get(label, {})
        if str(a) in r and str(b) in r and key in r[str(a)]:
            return (r[str(b)][key] - r[str(a)][key]) / float(b - a)
        return None
    print("\nmarginal cost per item (kernel + env), wall and CPU:")
    for label in rows:
        parts = []
        for a, b in ((100, 1000), (1000, 3000)):
            m = marg(label, "warm", a, b)
            c = marg(label, "warm_cpu", a, b)
            s = marg(label, "syscalls", a, b)
            if m is not None:
                parts.append("%d→%d: %.1f µs wall, %.1f µs cpu%s" % (
                    a, b, m * 1e6, c * 1e6, ", %.1f syscalls" % s if s is not None else ""))
        for key in ("warm", "warm_cpu", "warm_min"):
            lo, hi = marg(label, key, 100, 1000), marg(label, key, 1000, 3000)
            if lo and hi:
                parts.append("growth ratio (%s) %.2f" % (key, hi / lo))
        if parts:
            print("  %-40s %s" % (label, "; ".join(parts)))
    def warm(label, n, key="warm"):
        return rows.get(label, {}).get(str(n), {}).get(key)
    for n in results["n"]:
        for key in ("warm", "warm_cpu", "warm_min"):
            k, j = warm("kip kernels --json", n, key), warm("jupyter kernelspec list --json", n, key)
            if k and j:
                print("  N=%d: jupyter kernelspec list / kip kernels --json = %.1fx (%s)" % (n, j / k, key))
    e = results.get("env_rows", {}).get("kip envs --json", {})
    ens = sorted(int(n) for n in e)
    for n in ens:
        print("  envs only, N=%d: kip envs --json %.3fs warm, %.1f syscalls per env" % (
            n, e[str(n)]["warm"], e[str(n)]["syscalls"] / float(n)))
    if len(ens) >= 2:
        a, b = ens[0], ens[-1]
        print("  envs only, marginal %d→%d: %.1f syscalls per env" % (
            a, b, (e[str(b)]["syscalls"] - e[str(a)]["syscalls"]) / float(b - a)))
    k = rows.get("kip kernels --json", {})
    kns = sorted(int(n) for n in k if "syscalls" in k[n])
    for a, b in zip(kns, kns[1:]):
        print("  kip kernels --json, marginal %d→%d: %.1f syscalls per kernel" % (
            a, b, (k[str(b)]["syscalls"] - k[str(a)]["syscalls"]) / float(b - a)))
    top = max(results["n"])
    peaks = [r[str(top)]["rss_kib"] for label, r in rows.items() if label.startswith("kip ") and str(top) in r]
    if peaks:
        print("  N=%d: peak RSS of any kip command %.1f MiB" % (top, max(peaks) / 1024.0))
    for n in results["n"]:
        d = warm("kip doctor --json --no-start", n)
        if d:
            print("  N=%d: kip doctor --json --no-start %.3fs warm (%s cold with the OS caches dropped)" % (
                n, d, "%.3fs" % warm("kip doctor --json --no-start", n, "cold_os")
                if warm("kip doctor --json --no-start", n, "cold_os") else "not measured"))
    for key in ("warm", "warm_cpu", "warm_min"):
        i1 = warm("kip install six --kernel k0000 (no-op)", 1, key)
        i1000 = warm("kip install six --kernel k0000 (no-op)", 1000, key)
        if i1 and i1000:
            print("  no-op install, N=1000 / N=1: %.2fx (%s)" % (i1000 / i1, key))


if __name__ == "__main__":
    main()
