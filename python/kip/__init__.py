"""kip: see every Jupyter kernel and Python environment, install into the right one, prove it.

The work is done by the native `kip` binary this distribution installs; this package holds the
Python faces around it.
"""
