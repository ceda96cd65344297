"""kip: see every Jupyter kernel and Python environment, install into the right one, prove it.

The work is done by the native `kip` binary this distribution installs; this package holds the
Python faces around it: the IPython extension (`%load_ext kip`, or `kip kernel add ENV
--with-hook`), which gives the `%kip` magic for the live kernel and explains a
`ModuleNotFoundError` after the cell that raised it.
"""

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    from ._ipython import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from ._ipython import unload

    unload(ipython)
