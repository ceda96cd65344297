"""Build a synthetic hub-scale world for kip's scale benchmark (stdlib only; not part of CI).

usage: <toolbox>/venv/bin/python bench/scale/gen.py WORLD_DIR --kernels N --envs N [--interpreters M]

The world is a directory with its own HOME, XDG_*, JUPYTER_*, PYENV_ROOT and PATH (see
`world_env`), so nothing reads or writes the real HOME. It holds:

* M real interpreters: uv venvs over the machine's pyenv versions (3.8 … 3.13), with `six`
  installed from the toolbox wheelhouse into the first (the no-op install's target);
* N kernelspecs in the user data dir, `kNNNN/kernel.json`, each launching one of the M
  interpreters (round robin) with `-m ipykernel_launcher -f {connection_file}`;
* N environments of mixed kinds, each a copy (`cp -a`) of a template made by the real tool:
  - in poetry's virtualenvs dir: uv venvs, stdlib venvs (`python -m venv --without-pip`) and
    virtualenv ≥ 20 venvs (the toolbox's `virtualenv`);
  - in a miniconda root's `envs/`: conda-layout prefixes (`conda-meta/` with the real python
    record of the toolbox's conda fixture, `bin/python3.11` hard-linked from it, the stdlib
    landmark and a `site-packages` with pip's metadata);
  - in `$PYENV_ROOT/versions/`: the machine's pyenv versions (symlinked, as pyenv-virtualenv
    and `pyenv install` leave them) and pyenv-virtualenv-style venvs.

A world is built once and reused: `WORLD_DIR/READY` marks a finished build.
"""
import json, os, shutil, subprocess, sys

TB = os.environ.get("KIP_TOOLBOX") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "target", "kip-toolbox")
UV = os.path.join(TB, "venv", "bin", "uv")
REAL_PYENV = os.environ.get("KIP_BENCH_PYENV") or os.path.expanduser("~/.pyenv")
BASE_VERSIONS = ["3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]


def world_env(root):
    """The variables every command of the benchmark runs with in world `root`."""
    x = os.path.join(root, "xdg")
    return {
        "HOME": os.path.join(root, "home"),
        "PATH": os.path.join(root, "bin") + ":/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "XDG_DATA_HOME": os.path.join(x, "data"),
        "XDG_CONFIG_HOME": os.path.join(x, "config"),
        "XDG_CACHE_HOME": os.path.join(x, "cache"),
        "XDG_RUNTIME_DIR": os.path.join(x, "runtime"),
        "JUPYTER_DATA_DIR": os.path.join(x, "data", "jupyter"),
        "JUPYTER_CONFIG_DIR": os.path.join(root, "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": os.path.join(x, "runtime", "jupyter"),
        "PYENV_ROOT": os.path.join(root, "pyenv"),
        "UV_CACHE_DIR": os.path.join(TB, "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_OFFLINE": "1",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": os.path.join(TB, "wheels"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "KIP_CACHE_DIR": os.path.join(root, "kipcache"),
    }


def base_pythons():
    out = []
    for v in BASE_VERSIONS:
        minor = ".".join(v.split(".")[:2])
        p = os.path.join(REAL_PYENV, "versions", v, "bin", "python" + minor)
        if os.path.exists(p):
            out.append((v, p))
    if not out:
        sys.exit("gen.py: no pyenv Python under %s/versions (need one of %s)" % (REAL_PYENV, BASE_VERSIONS))
    return out


def sh(env, *cmd):
    subprocess.run(list(cmd), env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def templates(root, env, bases):
    """One real env per (kind, base): what the N environments are copies of."""
    t = os.path.join(root, "templates")
    out = {"uv": [], "venv": [], "virtualenv": []}
    for v, py in bases:
        d = os.path.join(t, "uv-" + v)
        sh(env, UV, "venv", "-q", "--python", py, d)
        out["uv"].append(d)
        d = os.path.join(t, "venv-" + v)
        sh(env, py, "-m", "venv", "--without-pip", d)
        out["venv"].append(d)
        d = os.path.join(t, "virtualenv-" + v)
        sh(env, os.path.join(TB, "venv", "bin", "virtualenv"), "-q", "--no-pip", "--no-setuptools",
           "--no-wheel", "--no-periodic-update", "-p", py, d)
        out["virtualenv"].append(d)
    out["conda"] = [conda_template(t)]
    return out


def conda_template(t):
    demo = os.path.join(TB, "conda-fixture", "envs", "demo")
    if not os.path.isdir(os.path.join(demo, "conda-meta")):
        sys.exit("gen.py: the toolbox conda fixture %s is missing (run tests/toolbox/provision.sh)" % demo)
    d = os.path.join(t, "conda")
    os.makedirs(os.path.join(d, "conda-meta"))
    for f in os.listdir(os.path.join(demo, "conda-meta")):
        shutil.copy(os.path.join(demo, "conda-meta", f), os.path.join(d, "conda-meta", f))
    os.makedirs(os.path.join(d, "bin"))
    os.link(os.path.realpath(os.path.join(demo, "bin", "python3.11")), os.path.join(d, "bin", "python3.11"))
    os.symlink("python3.11", os.path.join(d, "bin", "python3"))
    os.symlink("python3.11", os.path.join(d, "bin", "python"))
    lib = os.path.join(d, "lib", "python3.11")
    os.makedirs(os.path.join(lib, "site-packages", "pip-24.0.dist-info"))
    shutil.copy(os.path.join(demo, "lib", "python3.11", "os.py"), lib)
    with open(os.path.join(lib, "site-packages", "pip-24.0.dist-info", "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: pip\nVersion: 24.0\n")
    return d


def build(root, n_kernels, n_envs, n_interp):
    if os.path.exists(os.path.join(root, "READY")):
        return
    shutil.rmtree(root, ignore_errors=True)
    env = world_env(root)
    for k in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "JUPYTER_CONFIG_DIR", "PYENV_ROOT"):
        os.makedirs(env[k], exist_ok=True)
    os.makedirs(env["JUPYTER_RUNTIME_DIR"], mode=0o700, exist_ok=True)
    os.chmod(env["XDG_RUNTIME_DIR"], 0o700)
    os.makedirs(os.path.join(root, "bin"))
    for n in ("jupyter", "jupyter-kernelspec", "jupyter-troubleshoot", "uv"):
        os.symlink(os.path.join(TB, "venv", "bin", n), os.path.join(root, "bin", n))
    bases = base_pythons()
    run_env = dict(env, PATH=env["PATH"])

    # M interpreters, six in the first.
    interps = []
    for i in range(n_interp):
        v, py = bases[i % len(bases)]
        d = os.path.join(root, "interp", "i%02d-%s" % (i, v))
        sh(run_env, UV, "venv", "-q", "--python", py, d)
        interps.append(os.path.join(d, "bin", "python"))
    sh(run_env, UV, "pip", "install", "-q", "--python", interps[0], "--offline", "--no-index",
       "--find-links", os.path.join(TB, "wheels"), "six")

    # N kernels.
    kdir = os.path.join(env["JUPYTER_DATA_DIR"], "kernels")
    os.makedirs(kdir)
    for i in range(n_kernels):
        d = os.path.join(kdir, "k%04d" % i)
        os.makedirs(d)
        spec = {"argv": [interps[i % len(interps)], "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Kernel %d" % i, "language": "python", "metadata": {"debugger": True}}
        with open(os.path.join(d, "kernel.json"), "w") as f:
            json.dump(spec, f, indent=1)

    # N environments: half poetry-dir venvs, a quarter conda, a quarter pyenv.
    tpl = templates(root, run_env, bases)
    poetry = os.path.join(env["XDG_CACHE_HOME"], "pypoetry", "virtualenvs")
    conda_root = os.path.join(env["HOME"], "miniconda3")
    pyenv_versions = os.path.join(env["PYENV_ROOT"], "versions")
    for d in (poetry, os.path.join(conda_root, "envs"), pyenv_versions):
        os.makedirs(d, exist_ok=True)
    shutil.copytree(tpl["conda"][0], conda_root, symlinks=True, dirs_exist_ok=True, copy_function=os.link)
    for v, _ in bases:
        os.symlink(os.path.join(REAL_PYENV, "versions", v), os.path.join(pyenv_versions, v))
    venv_kinds = ("uv", "venv", "virtualenv")
    for i in range(n_envs):
        slot = i % 4
        if slot in (0, 1):
            kind = venv_kinds[(i // 4) % 3]
            src = tpl[kind][i % len(tpl[kind])]
            dst = os.path.join(poetry, "proj%04d-AbCdEfGh-py%s" % (i, kind))
        elif slot == 2:
            src, dst = tpl["conda"][0], os.path.join(conda_root, "envs", "env%04d" % i)
        else:
            src = tpl["uv"][i % len(tpl["uv"])]
            dst = os.path.join(pyenv_versions, "venv%04d" % i)
        if slot == 2:
            shutil.copytree(src, dst, symlinks=True, copy_function=os.link)
        else:
            sh(run_env, "cp", "-a", src, dst)
    open(os.path.join(root, "READY"), "w").close()


def main():
    a = sys.argv[1:]
    if not a or a[0].startswith("-"):
        sys.exit(__doc__)
    opt = lambda name, d: int(a[a.index(name) + 1]) if name in a else d
    build(os.path.abspath(a[0]), opt("--kernels", 10), opt("--envs", 10), opt("--interpreters", 10))


if __name__ == "__main__":
    main()
