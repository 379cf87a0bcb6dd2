"""The jupyter_server extension: configuration and wiring.

This is the only module that knows how jupyter_server starts an extension. Options are traitlets, so
they can be set as ``--SessionMonitorApp.<option>=...`` or in ``jupyter_server_config.py`` and are
listed by ``jupyter server --help-all``.
"""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp

from ._version import __version__
from .handlers import API_PREFIX, handlers


class SessionMonitorApp(ExtensionApp):
    """Tracks the Qiskit Runtime sessions that this server's notebooks open."""

    name = "jupyter_session_monitor"
    description = "Monitor and control Qiskit Runtime sessions opened from notebooks."
    version = __version__

    # Loaded as one extension among others by JupyterLab's server; never the main app.
    load_other_extensions = True

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def _start_jupyter_server_extension(self, serverapp: object) -> None:
        # Runs on the event loop once the server is listening (jupyter_server binds its socket in
        # an earlier loop callback), so tools and tests can take this line as "ready".
        self.log.info("Qiskit session monitor %s is serving %s", __version__, API_PREFIX)
