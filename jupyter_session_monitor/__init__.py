"""See and control the Qiskit Runtime sessions your notebooks open.

Entry points only. Importing this package must stay cheap: the kernel-side IPython extension and
JupyterLab's start-up both import it, so nothing here imports jupyter_server or qiskit eagerly.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["SessionWidget", "__version__"]


def __getattr__(name: str) -> Any:
    # ipywidgets is imported only when a widget is asked for.
    if name == "SessionWidget":
        from .kernel.widget import SessionWidget

        return SessionWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Name of the labextension (the npm package) and of the folder it is installed into.
LABEXTENSION_NAME = "jupyter-session-monitor"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": LABEXTENSION_NAME}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_session_monitor`` in a kernel: report the sessions it opens."""
    from .kernel import load_ipython_extension as load

    load(ipython)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import SessionMonitorApp

    return [{"module": "jupyter_session_monitor", "app": SessionMonitorApp}]
