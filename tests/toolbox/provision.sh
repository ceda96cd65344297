#!/usr/bin/env bash
# Provision the test toolbox once, from PyPI, and cache it.
#
#   tests/toolbox/provision.sh [DIR]     (default: $KIP_TOOLBOX or <repo>/target/kip-toolbox)
#
# Result (DIR):
#   base-python          symlink to the pyenv CPython 3.11 every toolbox venv is built on
#   venv/                the Jupyter toolbox: jupyter_client 8.10.0, jupyter_core 5.9.1,
#                        ipykernel 7.4.0, uv, virtualenv (bin/jupyter, bin/uv, bin/virtualenv)
#   wheels/              a wheelhouse so tests build envs offline with
#                        `uv pip install --offline --no-index --find-links wheels/`
#   conda-fixture/       ../shared/conda-fixture built once (channel, fixture-conda)
#   READY                written last; its presence means the toolbox is complete
# Additive steps (each guarded by its own marker, so a toolbox shared with older checkouts
# stays valid and STAMP never needs a bump for them):
#   server-venv/         jupyter_server 2.21.1 (+ the toolbox's jupyter_client, jupyter_core,
#                        ipykernel pins): a real server for `kip ps`    READY-server
#   maturin-venv/        maturin 1.16.0: builds the jupyter-kip wheel      READY-maturin
#   labext-venv/         jupyter_server 2.21.1 + pytest 8.4.2, pytest-jupyter 0.11.0 and
#                        hatchling 1.27.0: jupyterlab-kip's server tests    READY-labext
#   labbuild-venv/       jupyter-builder 1.3.0 + hatchling 1.27.0: builds the jupyterlab-kip
#                        wheel and its labextension                          READY-labbuild
#   npm-cache/, e2e-node/  the npm registry's tarballs for jupyterlab-kip's two lockfiles
#                        (package-lock.json, e2e/package-lock.json; install scripts off), and
#                        e2e/'s node_modules (playwright-core; never a browser download)
#                                                                         READY-labfront-npm
#   wheels-lab/          a wheelhouse of jupyterlab 4.6.6 + notebook 7.6.5 and their
#                        dependencies (CPython 3.11): a test pip-installs them offline into a
#                        fresh venv beside the two kip wheels                READY-labfront-wheels
#   wheels-py36/         ipykernel 5.5.6 for CPython 3.6 (old kernels for the start proof)
#                                                                         READY-py36-kernel
#   py27-ipykernel4/     ipykernel 4.10.1 installed for CPython 2.7        READY-py27-kernel
#   condapack-venv/      conda-pack 0.8.1: packs the fixture's conda envs (realworld_tail_a)
#                                                                         READY-condapack
#   wheels-server/       jupyter_server 2.21.1 and its dependencies as wheels, so a world
#                        builds a server env (or a `uv tool` Jupyter) of its own, offline
#                                                                         READY-server-wheels
#   wheels-labtool/      jupyterlab 4.6.6 with jupyter_server 2.21.1 and the toolbox's pins, as
#                        wheels: `uv tool install jupyterlab` offline (realworld_tail_c)
#                                                                         READY-labtool-wheels
#   wheels-spyder/       spyder-kernels 3.1.6 on ipykernel 6.29.5 as wheels: Spyder's kernel
#                        as a `--kernel-pid` target (target_flags)        READY-spyder-wheels
#
# Idempotent and safe to run concurrently (flock on DIR.lock).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TB="${1:-${KIP_TOOLBOX:-$REPO/target/kip-toolbox}}"
STAMP="toolbox-v3"   # bump when the pins below change

mkdir -p "$(dirname "$TB")"
exec 9>"$TB.lock"
flock 9

log() { printf '[toolbox] %s\n' "$*" >&2; }
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

base() {
rm -rf "$TB"
mkdir -p "$TB"

PYENV_ROOT_REAL="${PYENV_ROOT:-$HOME/.pyenv}"
pick() {  # newest installed pyenv CPython X.Y
  local v
  v=$(ls -1 "$PYENV_ROOT_REAL/versions" 2>/dev/null | grep -E "^$1\.[0-9]+$" | sort -V | tail -n1 || true)
  [ -n "$v" ] && echo "$PYENV_ROOT_REAL/versions/$v/bin/python$1"
}
BASE="$(pick 3.11)"
[ -n "$BASE" ] && [ -x "$BASE" ] || { log "no pyenv CPython 3.11 under $PYENV_ROOT_REAL"; exit 1; }
ln -s "$BASE" "$TB/base-python"

log "venv on $BASE"
"$BASE" -m venv "$TB/venv"
"$TB/venv/bin/python" -m pip install -q \
  "uv==0.13.9" "virtualenv==20.31.2" \
  "jupyter_client==8.10.0" "jupyter_core==5.9.1" "ipykernel==7.4.0"

log "wheelhouse"
W="$TB/wheels"
mkdir -p "$W"
dl() { "$TB/venv/bin/python" -m pip download -q --only-binary=:all: -d "$W" "$@"; }
# kernels on 3.11+ get ipykernel 7.4.0; 3.8-3.10 get 6.29.5 (see the developers' guide)
for v in 3.11 3.12 3.13; do dl --python-version "$v" "ipykernel==7.4.0" pip; done
for v in 3.8 3.9 3.10; do dl --python-version "$v" "ipykernel==6.29.5" pip; done
dl --python-version 3.7 "pip<24.1"
# small real packages the doctor/notebook tests import
for v in 3.11 3.12; do dl --python-version "$v" PyYAML beautifulsoup4 python-dateutil six; done
# the toolbox's own packages, so a test can build a Jupyter env offline
"$TB/venv/bin/python" -m pip download -q --only-binary=:all: -d "$W" \
  "jupyter_client==8.10.0" "jupyter_core==5.9.1" "ipykernel==7.4.0" "uv==0.13.9" "virtualenv==20.31.2"

# The conda tests need the fixture: a missing ../shared is a broken checkout, not a skip.
[ -f "$REPO/../shared/conda-fixture/build-fixture.sh" ] || {
  log "missing $REPO/../shared/conda-fixture/build-fixture.sh: clone the project with ../shared beside it"
  exit 1
}
{
  log "conda fixture"
  # The fixture checks `ldd python | grep -q libpython` under `set -o pipefail`: when grep -q
  # exits at its match while ldd is still writing, ldd dies of SIGPIPE and the check fails at
  # random. An ldd that writes its whole answer in one go (well under a pipe buffer) cannot
  # be cut off, so the build is deterministic.
  mkdir -p "$TB/fixture-bin"
  cat >"$TB/fixture-bin/ldd" <<'LDD'
#!/bin/sh
out=$(/usr/bin/ldd "$@"); rc=$?
printf '%s\n' "$out"
exit $rc
LDD
  chmod +x "$TB/fixture-bin/ldd"
  PATH="$TB/fixture-bin:$PATH" FIXTURE_PYTHON="$BASE" bash "$REPO/../shared/conda-fixture/build-fixture.sh" "$TB/conda-fixture" >"$TB/conda-fixture.log" 2>&1 \
    || { log "conda fixture failed; see $TB/conda-fixture.log"; tail -20 "$TB/conda-fixture.log" >&2; exit 1; }
}

echo "$STAMP" >"$TB/READY"
log "ready: $TB"
}

if ! { [ -f "$TB/READY" ] && [ "$(cat "$TB/READY")" = "$STAMP" ]; }; then
  base
fi

# step MARKER DIR PIP-ARGS...: a venv on the base Python with PIP-ARGS installed, once.
# tests/support/mod.rs reads the `step READY-*` lines to know which markers must exist.
step() {
  local marker="$TB/$1" dir="$TB/$2"; shift 2
  [ -f "$marker" ] && return 0
  log "$(basename "$dir"): $*"
  rm -rf "$dir"
  "$TB/base-python" -m venv "$dir"
  "$dir/bin/python" -m pip install -q "$@"
  touch "$marker"
}
step READY-server server-venv "jupyter_server==2.21.1" \
  "jupyter_client==8.10.0" "jupyter_core==5.9.1" "ipykernel==7.4.0"
step READY-maturin maturin-venv "maturin==1.16.0"
step READY-condapack condapack-venv "conda-pack==0.8.1"
step READY-labext labext-venv "jupyter_server==2.21.1" \
  "jupyter_client==8.10.0" "jupyter_core==5.9.1" "ipykernel==7.4.0" \
  "pytest==8.4.2" "pytest-jupyter[server]==0.11.0" "hatchling==1.27.0"

# script_step MARKER FUNCTION: an additive step that is not a venv, once.
# tests/support/mod.rs reads the `script_step READY-*` lines too.
script_step() {
  local marker="$TB/$1"
  [ -f "$marker" ] && return 0
  "$2"
  touch "$marker"
}
pyenv_python() {  # newest installed pyenv CPython X.Y
  local root="${PYENV_ROOT:-$HOME/.pyenv}" v
  v=$(ls -1 "$root/versions" 2>/dev/null | grep -E "^$1\.[0-9]+$" | sort -V | tail -n1 || true)
  [ -n "$v" ] && [ -x "$root/versions/$v/bin/python$1" ] || { log "no pyenv CPython $1 under $root"; exit 1; }
  echo "$root/versions/$v/bin/python$1"
}
# An old kernel for the start proof: ipykernel 5.5.6 on CPython 3.6, as wheels (pip 21.3.1 too:
# the pip that 3.6's ensurepip bundles cannot install manylinux2010 wheels).
py36_kernel() {
  log "wheels-py36: ipykernel 5 for CPython 3.6"
  rm -rf "$TB/wheels-py36"
  "$TB/venv/bin/python" -m pip download -q --only-binary=:all: --python-version 3.6 \
    --implementation cp --platform manylinux2014_x86_64 --platform manylinux2010_x86_64 \
    --platform manylinux1_x86_64 -d "$TB/wheels-py36" "ipykernel==5.5.6" "pip==21.3.1"
}
# An older one: ipykernel 4.10.1 on CPython 2.7, installed once into a --target dir that a
# test's kernelspec puts on PYTHONPATH (byte-compiled here, so kernels never write into it).
py27_kernel() {
  local p27
  p27="$(pyenv_python 2.7)"
  log "py27-ipykernel4: ipykernel 4 for CPython 2.7"
  rm -rf "$TB/py27-build" "$TB/wheels-py27" "$TB/py27-ipykernel4"
  "$p27" -m pip install -q --target "$TB/py27-build" "wheel==0.37.1"
  PYTHONPATH="$TB/py27-build" "$p27" -m pip wheel -q -w "$TB/wheels-py27" "ipykernel==4.10.1"
  "$p27" -m pip install -q --target "$TB/py27-ipykernel4" --no-index \
    --find-links "$TB/wheels-py27" "ipykernel==4.10.1"
  "$p27" -m compileall -q "$TB/py27-ipykernel4" >/dev/null || true
}
# jupyterlab-kip's frontend: npm's cache holds every tarball of both lockfiles, so the wheel's
# build (`npm ci --offline`) and the end-to-end test need no network; e2e-node/ is the e2e
# driver's node_modules. npm runs no install scripts; playwright-core downloads no browser
# (the test drives Debian's /usr/bin/chromium, which .ci/run installs).
labfront_npm() {
  command -v npm >/dev/null || { log "no npm on PATH (Debian: apt-get install nodejs npm; .ci/run does)"; exit 1; }
  log "npm-cache, e2e-node: jupyterlab-kip's npm lockfiles"
  rm -rf "$TB/npm-cache" "$TB/e2e-node" "$TB/labfront-build"
  local npmci=(npm ci --ignore-scripts --no-audit --no-fund --cache "$TB/npm-cache"
    --registry https://registry.npmjs.org/)
  mkdir -p "$TB/labfront-build" "$TB/e2e-node"
  cp "$REPO/jupyterlab-kip/package.json" "$REPO/jupyterlab-kip/package-lock.json" "$TB/labfront-build/"
  (cd "$TB/labfront-build" && "${npmci[@]}" >/dev/null)
  rm -rf "$TB/labfront-build"
  cp "$REPO/jupyterlab-kip/e2e/package.json" "$REPO/jupyterlab-kip/e2e/package-lock.json" "$TB/e2e-node/"
  (cd "$TB/e2e-node" && "${npmci[@]}" >/dev/null)
}
step READY-labbuild labbuild-venv "jupyter-builder==1.3.0" "hatchling==1.27.0" \
  "jupyter_core==5.9.1" "traitlets==5.16.1"
script_step READY-labfront-npm labfront_npm
labfront_wheels() {
  log "wheels-lab: jupyterlab and notebook 7 for a fresh venv"
  rm -rf "$TB/wheels-lab"
  "$TB/venv/bin/python" -m pip download -q --only-binary=:all: -d "$TB/wheels-lab" \
    "jupyterlab==4.6.6" "notebook==7.6.5" "jupyter_server==2.21.1" \
    "jupyter_client==8.10.0" "jupyter_core==5.9.1" "ipykernel==7.4.0" pip
}
script_step READY-labfront-wheels labfront_wheels
script_step READY-py36-kernel py36_kernel
script_step READY-py27-kernel py27_kernel
# A server a world owns (kip may install into it), from wheels: the same pins as server-venv.
server_wheels() {
  log "wheels-server: jupyter_server 2.21.1 and its dependencies"
  rm -rf "$TB/wheels-server"
  "$TB/venv/bin/python" -m pip download -q --only-binary=:all: -d "$TB/wheels-server" \
    "jupyter_server==2.21.1" "jupyter_client==8.10.0" "jupyter_core==5.9.1" "ipykernel==7.4.0"
}
script_step READY-server-wheels server_wheels
# A tool-installed Jupyter (`uv tool install jupyterlab`), offline: the same server pins.
labtool_wheels() {
  log "wheels-labtool: jupyterlab 4.6.6 and its dependencies"
  rm -rf "$TB/wheels-labtool"
  "$TB/venv/bin/python" -m pip download -q --only-binary=:all: -d "$TB/wheels-labtool" \
    "jupyterlab==4.6.6" "jupyter_server==2.21.1" "jupyter_client==8.10.0" \
    "jupyter_core==5.9.1" "ipykernel==7.4.0"
}
script_step READY-labtool-wheels labtool_wheels
# Spyder's kernel (`python -m spyder_kernels.console`, an ipykernel subclass), offline.
spyder_wheels() {
  log "wheels-spyder: spyder-kernels 3.1.6 on ipykernel 6.29.5"
  rm -rf "$TB/wheels-spyder"
  "$TB/venv/bin/python" -m pip download -q --only-binary=:all: -d "$TB/wheels-spyder" \
    "spyder-kernels==3.1.6" "ipykernel==6.29.5" "jupyter_client==8.10.0" "jupyter_core==5.9.1"
}
script_step READY-spyder-wheels spyder_wheels
