"""A real jupyter_server (pytest-jupyter) with jupyterlab_kip enabled, and a real kernel on a
venv of its own built from the toolbox's wheelhouse (KIP_TOOLBOX), so an install never touches
the toolbox. The `kip` under test is the first on PATH (tests/jupyterlab.rs puts the one cargo
built there)."""

import json
import os
import shutil
import subprocess

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def toolbox():
    tb = os.environ.get("KIP_TOOLBOX")
    if not tb or not os.path.isdir(os.path.join(tb, "wheels")):
        pytest.fail("KIP_TOOLBOX must name the provisioned toolbox (tests/toolbox/provision.sh)")
    return tb


@pytest.fixture(scope="session")
def kernel_venv(tmp_path_factory):
    """A uv venv with ipykernel 7.4.0 (offline, from the wheelhouse), built once."""
    tb = toolbox()
    if shutil.which("kip") is None:
        pytest.fail("no `kip` on PATH: run these tests through tests/jupyterlab.rs")
    prefix = tmp_path_factory.mktemp("envs") / "analysis"
    uv = os.path.join(tb, "venv", "bin", "uv")
    subprocess.run(
        [uv, "venv", "-q", "--python", os.path.join(tb, "base-python"), str(prefix)], check=True
    )
    subprocess.run(
        [uv, "pip", "install", "-q", "--offline", "--no-index", "--find-links",
         os.path.join(tb, "wheels"), "--python", str(prefix / "bin" / "python"), "ipykernel==7.4.0"],
        check=True,
    )
    return prefix


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab_kip": True}}}


@pytest.fixture
def start_kernel(jp_fetch, jp_environ, jp_kernel_dir, kernel_venv, monkeypatch):
    """Starts a kernel `analysis` on kernel_venv through the server's REST API (POST
    /api/kernels); returns its id. Installs resolve offline from the wheelhouse through pip's
    settings, which kip honours."""
    # pytest-jupyter exports the test process's sys.path as PYTHONPATH: the kernel would see
    # this venv's packages through it.
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", os.path.join(toolbox(), "wheels"))
    spec = jp_kernel_dir / "analysis"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(kernel_venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f",
                         "{connection_file}"],
                "display_name": "analysis",
                "language": "python",
            }
        )
    )

    async def start():
        r = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "analysis"}))
        return json.loads(r.body)["id"]

    return start


@pytest.fixture
def jp_fetch(jp_fetch):
    """pytest-jupyter's client with a 300 s request timeout instead of its 20 s: the handlers
    run real installers and probe real interpreters, which a loaded CI machine (2 cores, many
    test processes) makes slower than 20 s."""

    def fetch(*parts, **kwargs):
        kwargs.setdefault("request_timeout", 300)
        return jp_fetch(*parts, **kwargs)

    return fetch
