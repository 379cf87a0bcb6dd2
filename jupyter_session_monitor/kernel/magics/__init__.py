"""``%%session`` and ``%session``: run cells in a session, see and control this kernel's sessions.

Loaded with the extension (kernels started by a server with the monitor get it automatically).
Qiskit is imported only when a magic runs. Failures the user can fix (an unknown backend, a
missing account, the Open Plan refusal, a malformed duration or one the plan refuses) become
one-line ``UsageError``s that say what to do, not tracebacks from deep inside the client.
"""

from __future__ import annotations

from .session import SessionMagics, register

__all__ = ["SessionMagics", "register"]
