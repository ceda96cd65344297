"""kip in Jupyter: a jupyter_server extension whose handlers under ``<base_url>/kip/`` answer
for one running kernel (its environment, doctor findings, ``why`` a module is missing) and
install into exactly that kernel's environment, by running the ``kip`` binary of
``jupyter-kip``."""

from .handlers import setup_handlers

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    return [{"module": "jupyterlab_kip"}]


def _load_jupyter_server_extension(server_app):
    setup_handlers(server_app.web_app)
    server_app.log.info("jupyterlab_kip: handlers under %skip/", server_app.base_url)
