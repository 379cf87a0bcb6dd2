"""The kernel's line to the Jupyter server that started it: this kernel's id and signing key, the
reports' POST, and ``ask_server`` for the magics (``POST kernel-requests``, signed with the
kernel's key). Straight to the server, never through a proxy named in the kernel's environment
(the requests carry the kernel secret and maybe a token)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from jupyter_session_monitor.protocol import (
    ENV_SECRET,
    ENV_URL,
    KERNEL_REQUESTS_PATH,
    PROOF_HEADER,
    REGISTRATION_PATH,
    SECRET_HEADER,
    proof,
)


def kernel_id() -> str | None:
    try:
        from ipykernel.connect import get_connection_file

        name = os.path.basename(get_connection_file())
    except Exception:
        return None
    return (
        name.removeprefix("kernel-").removesuffix(".json") if name.startswith("kernel-") else None
    )


def kernel_key() -> bytes | None:
    """This kernel's message-signing key, from its connection file."""
    try:
        from ipykernel.connect import get_connection_file

        with open(get_connection_file(), encoding="utf-8") as connection:
            key = json.load(connection).get("key")
    except Exception:
        return None
    return key.encode() if isinstance(key, str) and key else None


#: Opens the server's URL directly: a proxy from the kernel's environment never sees a report.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(report: dict[str, Any]) -> None:
    body = json.dumps(report["payload"]).encode()
    headers = {"Content-Type": "application/json", SECRET_HEADER: report["secret"]}
    key = kernel_key()
    if key is not None:
        headers[PROOF_HEADER] = proof(key, body)
    request = urllib.request.Request(  # noqa: S310 (the server's own URL)
        report["url"].rstrip("/") + "/" + REGISTRATION_PATH,
        data=body,
        method="POST",
        headers=headers,
    )
    with _direct.open(request, timeout=30) as response:
        response.read()


class ServerUnavailable(Exception):
    """The kernel cannot ask the server: it was not started by a server with the monitor, or the
    server refused (the message says why, in the server's words)."""


def ask_server(op: str, **fields: Any) -> Any:
    """Ask this kernel's server something (``POST kernel-requests``), signed with the kernel's
    key; blocking, for the magics. Raises ``ServerUnavailable`` with a sentence for people."""
    url, secret = os.environ.get(ENV_URL), os.environ.get(ENV_SECRET)
    kernel, key = kernel_id(), kernel_key()
    if not url or not secret or kernel is None or key is None:
        raise ServerUnavailable(
            "this kernel was not started by a Jupyter server with the session monitor (a "
            "headless run, or another front end), so the monitor cannot be asked"
        )
    body = json.dumps({"kernel_id": kernel, "op": op, **fields}).encode()
    request = urllib.request.Request(  # noqa: S310 (the server's own URL)
        url.rstrip("/") + "/" + KERNEL_REQUESTS_PATH,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SECRET_HEADER: secret,
            PROOF_HEADER: proof(key, body),
        },
    )
    try:
        with _direct.open(request, timeout=60) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read())["error"]["message"]
        except Exception:
            message = f"HTTP {error.code}"
        raise ServerUnavailable(message) from None
    except OSError as error:
        raise ServerUnavailable(f"the Jupyter server cannot be reached ({error})") from None
    return json.loads(text) if text else None
