"""``GET version`` and the JSON 404 of every other path under the API prefix."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyter_session_monitor._version import __version__

from .base import (
    MonitorAPIError,
    MonitorHandler,
)


def _distribution_version(name: str) -> str | None:
    # Metadata only: importing qiskit_ibm_runtime here would slow down JupyterLab's start-up.
    try:
        return version(name)
    except PackageNotFoundError:
        return None


class VersionHandler(MonitorHandler):
    """``GET version``: what is installed, so users and bug reports can tell."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(
            {
                "version": __version__,
                "qiskit_ibm_runtime_version": _distribution_version("qiskit-ibm-runtime"),
            }
        )


class NotFoundHandler(MonitorHandler):
    """Any other path under the API prefix: a JSON 404 naming the path, not tornado's HTML page."""

    def _not_found(self, path: str) -> None:
        raise MonitorAPIError(404, "not_found", f"There is no session monitor API route '{path}'.")

    @web.authenticated
    @authorized
    def get(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def post(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def put(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def patch(self, path: str) -> None:
        self._not_found(path)

    @web.authenticated
    @authorized
    def delete(self, path: str) -> None:
        self._not_found(path)
