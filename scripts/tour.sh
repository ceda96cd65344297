#!/usr/bin/env bash
# Rebuild the README's 60-second tour in a neutral world and print it: /tmp/tour with its own
# HOME (shown as ~), a Jupyter venv on PATH, a uv venv `analysis` registered the classic way,
# Debian's python3 after them, and a pyenv root in ~ whose versions link to this machine's.
# Nothing outside /tmp/tour is written. Needs the test toolbox (bash tests/toolbox/provision.sh)
# and a release build (cargo build --release; KIP_BIN names another kip binary).
#
#   bash scripts/tour.sh > /tmp/tour.txt
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
TB="${KIP_TOOLBOX:-$REPO/target/kip-toolbox}"
KIP="${KIP_BIN:-$REPO/target/release/kip}"
T=/tmp/tour
rm -rf "$T"
mkdir -p "$T/bin" "$T/home" "$T/wheels" "$T/work"
cp "$TB"/wheels/*.whl "$T/wheels/"
export HOME="$T/home" PATH="$T/bin:/usr/bin:/bin" LANG=C.UTF-8
unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR JUPYTER_PATH JUPYTER_DATA_DIR \
  VIRTUAL_ENV CONDA_PREFIX PYENV_ROOT PYENV_VERSION PYTHONPATH KIP_TOOLBOX
export UV_CACHE_DIR="$T/uv-cache" UV_PYTHON_DOWNLOADS=never UV_NO_CONFIG=1 \
  PIP_NO_INDEX=1 PIP_FIND_LINKS="$T/wheels" PIP_DISABLE_PIP_VERSION_CHECK=1
UV="$TB/venv/bin/uv"
BASE="$(readlink -f "$TB/base-python")"
quiet() { "$@" >/dev/null 2>&1; }

quiet "$UV" venv --python "$BASE" "$T/jupyter"
quiet "$UV" pip install --python "$T/jupyter/bin/python" --offline --no-index --find-links "$T/wheels" \
  "jupyter_client==8.10.0" "jupyter_core==5.9.1" "ipykernel==7.4.0"
for s in jupyter jupyter-kernelspec; do ln -s "$T/jupyter/bin/$s" "$T/bin/$s"; done
ln -s "$UV" "$T/bin/uv"
ln -s "$KIP" "$T/bin/kip"
quiet "$UV" venv --python "$BASE" "$T/analysis"
quiet "$UV" pip install --python "$T/analysis/bin/python" --offline --no-index --find-links "$T/wheels" "ipykernel==7.4.0"
quiet "$T/analysis/bin/python" -m ipykernel install --user --name analysis

show() {
  printf '$ %s\n' "$*"
  (cd "$T/work" && "$@" 2>&1) | sed -e "s|$HOME|~|g" || true
  echo
}
echo '--- a Jupyter on PATH, a uv venv registered the classic way, Debian python3 after them'
show kip kernels
show kip doctor --no-start
show kip install pyyaml --kernel analysis
show kip install pyyaml --kernel analysis
show kip kernel fix analysis --no-start

echo '--- no Jupyter; pyenv shims first on PATH'
rm -f "$T/bin/jupyter" "$T/bin/jupyter-kernelspec"
REAL_PYENV="$(readlink -f /root/.pyenv 2>/dev/null || true)"
mkdir -p "$HOME/.pyenv/versions" "$HOME/.pyenv/shims"
for v in "$REAL_PYENV"/versions/*; do ln -s "$v" "$HOME/.pyenv/versions/"; done
ln -s "$REAL_PYENV/libexec" "$HOME/.pyenv/libexec"
basename "$(readlink -f "$BASE" | sed 's|/bin/.*||')" >"$HOME/.pyenv/version"
for s in python python3 pip pip3; do
  sed "s|$REAL_PYENV|$HOME/.pyenv|g" "$REAL_PYENV/shims/python" >"$HOME/.pyenv/shims/$s"
  chmod +x "$HOME/.pyenv/shims/$s"
done
export PYENV_ROOT="$HOME/.pyenv" PATH="$HOME/.pyenv/shims:$T/bin:/usr/bin:/bin"
show kip doctor --no-start
show kip which pip python3
show kip envs
