"""Runs inside the user's kernel: finds the Qiskit Runtime sessions it opens, tells the server.

Imports nothing server-side and nothing of Qiskit: the hook waits for user code to import
``qiskit_ibm_runtime``. ``%load_ext jupyter_session_monitor`` installs it and the ``%%session`` /
``%session`` magics explicitly; kernels started by a server with the monitor get both from their
start-up file.
"""

from __future__ import annotations

from typing import Any

from .hook import install, installed

__all__ = ["install", "installed", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    install()
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """The hook stays: sessions already opened must still be reported."""
