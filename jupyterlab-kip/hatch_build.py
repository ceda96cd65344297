"""The wheel's build step: the frontend's JavaScript build, so the wheel ships the prebuilt
labextension and installing it needs no `jupyter lab build`.

It runs `npm ci` on the committed package-lock.json (the npm registry only, install scripts
off: `.npmrc` and `--ignore-scripts`), then `npm run build` (tsc, then `jupyter-builder build .`
from the pinned `jupyter-builder` on PATH), which writes jupyterlab_kip/labextension/. npm's own
settings apply (`npm_config_cache`, `npm_config_offline`): the tests build offline from the
toolbox's npm cache."""

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class FrontendBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "jupyterlab-kip: building the wheel needs npm (Node.js 18+) on PATH for the "
                "labextension (Debian: apt-get install nodejs npm)"
            )
        if shutil.which("jupyter-builder") is None:
            raise RuntimeError(
                "jupyterlab-kip: building the wheel needs `jupyter-builder` on PATH "
                "(pip install jupyter-builder==1.3.0)"
            )
        for argv in (
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            [npm, "run", "build"],
        ):
            done = subprocess.run(argv, cwd=root, stdin=subprocess.DEVNULL)
            if done.returncode != 0:
                raise RuntimeError(
                    f"jupyterlab-kip: `{' '.join(argv[1:])}` in {root} exited {done.returncode}"
                )
        if not (root / "jupyterlab_kip" / "labextension" / "package.json").is_file():
            raise RuntimeError("jupyterlab-kip: the JS build wrote no jupyterlab_kip/labextension")
