"""The names and one rule the server, the kernels and the browser share: where the API lives, how
a kernel proves who it is, what the pushed changes and the widget are called.

Pure constants and the standard library only, so the kernel side can import it without pulling in
anything of the server (``src/version.ts`` and ``src/api.ts`` hold the browser's copies).
"""

from __future__ import annotations

import hashlib
import hmac

#: Every route of the monitor lives under ``{base_url}`` + this prefix.
API_PREFIX = "/session-monitor/api"
#: Where kernels report their sessions, relative to the server's base URL.
REGISTRATION_PATH = "session-monitor/api/kernel-registrations"
#: Where a kernel's magics ask the server (budgets, close-all, the monitor's views), signed the
#: same way: ``{"kernel_id", "op", ...}``.
KERNEL_REQUESTS_PATH = "session-monitor/api/kernel-requests"

#: The server's URL and its per-start secret, in the environment kernels inherit.
ENV_URL = "JUPYTER_SESSION_MONITOR_URL"
ENV_SECRET = "JUPYTER_SESSION_MONITOR_SECRET"  # noqa: S105 (a variable's name, not a secret)
#: The header carrying that secret (browsers never send it: no XSRF check applies).
SECRET_HEADER = "X-Session-Monitor-Secret"  # noqa: S105
#: HMAC-SHA256 of the request body with the kernel's own connection key: only that kernel (and
#: its server) knows the key, so another process of the server that has the secret (a terminal)
#: cannot speak for a kernel.
PROOF_HEADER = "X-Session-Monitor-Kernel-Proof"

#: The jupyter_events schema of pushed session changes.
SESSION_CHANGES_ID = "https://events.jupyter.org/jupyter_session_monitor/session_changes/v1"

#: The widget module the kernel's ``SessionWidget`` names, and the output mime type drawn from a
#: session id alone.
WIDGET_MODULE = "jupyter-session-monitor"
SESSION_MIME_TYPE = "application/vnd.jupyter-session-monitor.session+json"


def proof(key: bytes, body: bytes) -> str:
    """What a kernel sends in ``PROOF_HEADER`` for ``body``, and what the server expects."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()
