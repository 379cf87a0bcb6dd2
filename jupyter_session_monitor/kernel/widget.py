"""``SessionWidget``: a live view of one session in a cell's output.

The widget's model carries only the session id. Its output also carries the id under its own mime
type, which this package's labextension draws from the page's session store, the same one the
sidebar reads: no second poller, no traffic from the kernel, and nothing lost when the kernel
restarts or the page reloads (a widget model would be gone then). Inside another widget the
ipywidgets view draws the same card. Where neither is available (another frontend, a static
export), the output shows a short text/HTML snapshot instead.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets
from traitlets import Unicode

from jupyter_session_monitor._version import __version__
from jupyter_session_monitor.protocol import SESSION_MIME_TYPE, WIDGET_MODULE

from .hook import is_batch

MODULE_NAME = WIDGET_MODULE
MODULE_VERSION = f"^{__version__}"
#: The output JupyterLab draws from the session id alone (no live widget model needed, so it
#: survives a kernel restart and a page reload); ``src/version.ts`` has the same name.
MIME_TYPE = SESSION_MIME_TYPE


def _describe(session: Any) -> tuple[str, str | None, str | None]:
    """(id, backend, mode) of a Session/Batch or of a bare id, without calling the service."""
    if isinstance(session, str):
        return session, None, None
    session_id = getattr(session, "session_id", None) or getattr(session, "_session_id", None)
    if not session_id:
        raise ValueError("This session has no id yet: it was not opened on a remote backend.")
    backend = getattr(getattr(session, "_backend", None), "name", None)
    mode = "batch" if is_batch(session) else "session"
    return str(session_id), backend, mode


class SessionWidget(ipywidgets.DOMWidget):  # type: ignore[misc]
    """``SessionWidget(session)`` or ``SessionWidget("session-id")``."""

    _model_name = Unicode("SessionModel").tag(sync=True)
    _model_module = Unicode(MODULE_NAME).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_name = Unicode("SessionWidgetView").tag(sync=True)
    _view_module = Unicode(MODULE_NAME).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)

    session_id = Unicode(help="The Qiskit Runtime session id this widget shows.").tag(sync=True)

    def __init__(self, session: Any, **kwargs: Any) -> None:
        session_id, self._backend, self._mode = _describe(session)
        super().__init__(session_id=session_id, **kwargs)

    def _snapshot_text(self) -> str:
        where = ", ".join(part for part in (self._backend, self._mode) if part)
        suffix = f" ({where})" if where else ""
        return (
            f"Qiskit Runtime session {self.session_id}{suffix}. Live status, countdowns and "
            "Close/Cancel appear in JupyterLab with jupyter-session-monitor."
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        text = self._snapshot_text()
        bundle[MIME_TYPE] = {"session_id": self.session_id}
        bundle["text/plain"] = text
        bundle["text/html"] = (
            '<div class="jp-SessionMonitor-snapshot"><strong>Qiskit Runtime session</strong> '
            f"<code>{html.escape(self.session_id)}</code>"
            + (f" on {html.escape(self._backend)}" if self._backend else "")
            + "<br><small>Live status, countdowns and Close/Cancel appear in JupyterLab with "
            "jupyter-session-monitor.</small></div>"
        )
        return bundle

    def __repr__(self) -> str:
        return self._snapshot_text()
