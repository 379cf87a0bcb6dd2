"""A real JupyterHub for the browser tests: the hub process with the pure-Python
configurable-http-proxy, a shared-password authenticator and the local-process spawner, each user's
single-user server (with this extension) under /user/NAME/.

Secrets (the hub's admin service token, the login password, the cookie secret) live only in this
process and the hub's environment: nothing is written to disk or logged.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.server import free_port

#: The hub's configuration. Settings come from a JSON file beside it; secrets from the environment.
HUB_CONFIG = """\
import json
import os
import sys

settings = json.loads(open(os.environ["SESSION_MONITOR_HUB_SETTINGS"]).read())
homes = settings["homes"]

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.JupyterHub.db_url = "sqlite:///" + settings["db"]
c.JupyterHub.cookie_secret = os.urandom(32)
c.JupyterHub.cleanup_servers = True
c.JupyterHub.log_level = "INFO"

c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % settings["proxy_api_port"]

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["SESSION_MONITOR_HUB_PASSWORD"]
c.Authenticator.allowed_users = set(settings["users"])

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = homes + "/{username}"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.args = settings["args"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.Spawner.environment = dict(
    settings["environment"],
    JUPYTERLAB_SETTINGS_DIR=lambda spawner: homes + "/" + spawner.user.name + "/.lab-settings",
)

# The tests' own service: starts servers and issues user tokens through the hub's REST API.
c.JupyterHub.services = [
    {"name": "session-monitor-tests", "api_token": os.environ["SESSION_MONITOR_HUB_API_TOKEN"]}
]
c.JupyterHub.load_roles = [{"name": "admin", "services": ["session-monitor-tests"]}]
"""


class HubError(RuntimeError):
    pass


@dataclass
class Hub:
    """A running hub: its public URL and what tests need to reach it."""

    url: str  # the proxy's public URL, ending in "/"
    password: str
    homes: Path
    _admin_token: str = field(repr=False)
    log: list[str] = field(default_factory=list, repr=False)

    def home(self, user: str) -> Path:
        return self.homes / user

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        follow_redirects: bool = False,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request to ``url + path`` (status, headers, body), errors included."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)  # noqa: S310
        if token is not None:
            request.add_header("Authorization", f"token {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        handlers: list[urllib.request.BaseHandler] = []
        if not follow_redirects:
            handlers.append(_NoRedirect())
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """The hub's REST API (``hub/api/...``) as the tests' admin service."""
        status, _headers, text = self.request(
            method, f"hub/api/{path}", token=self._admin_token, body=body
        )
        if status >= 400:
            raise HubError(f"{method} hub/api/{path}: {status} {text[:300]!r}")
        return json.loads(text) if text else None

    def user_token(self, user: str, note: str) -> str:
        """A new API token of ``user`` with that user's own permissions (kept in memory only)."""
        token: str = self.api("POST", f"users/{user}/tokens", {"note": note})["token"]
        return token

    def start_servers(self, users: Sequence[str]) -> None:
        """Start each user's server and wait for the hub's progress stream to say it is ready."""
        for user in users:
            self.api("POST", f"users/{user}/server")
        for user in users:
            self._wait_ready(user)

    def _wait_ready(self, user: str) -> None:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}hub/api/users/{user}/server/progress"
        )
        request.add_header("Authorization", f"token {self._admin_token}")
        request.add_header("Accept", "text/event-stream")
        events = []
        with urllib.request.urlopen(request, timeout=90) as stream:  # noqa: S310
            for raw in stream:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[len("data:") :])
                events.append(event.get("message"))
                if event.get("ready"):
                    return
                if event.get("failed"):
                    break
        raise HubError(f"{user}'s server did not start: {events}\n" + "".join(self.log[-40:]))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx comes back as an HTTPError, to be asserted on


@contextmanager
def running_hub(
    workdir: Path,
    users: Sequence[str],
    *,
    single_user_args: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
) -> Iterator[Hub]:
    """Run ``python -m jupyterhub`` in ``workdir`` until the block ends (its servers with it)."""
    homes = workdir / "homes"
    for user in users:
        (homes / user).mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {
        "port": port,
        "hub_port": free_port(),
        "proxy_api_port": free_port(),
        "db": str(workdir / "jupyterhub.sqlite"),
        "proxy": str(Path(sys.executable).parent / "configurable-http-proxy"),
        "homes": str(homes),
        "users": list(users),
        "args": ["--ServerApp.allow_root=True", *single_user_args],
        "environment": dict(environment or {}),
    }
    (workdir / "hub-settings.json").write_text(json.dumps(settings))
    (workdir / "jupyterhub_config.py").write_text(HUB_CONFIG)
    password = secrets.token_urlsafe(12)
    admin_token = secrets.token_hex(32)
    env = {
        **os.environ,
        "HOME": str(workdir),
        "SESSION_MONITOR_HUB_SETTINGS": str(workdir / "hub-settings.json"),
        "SESSION_MONITOR_HUB_PASSWORD": password,
        "SESSION_MONITOR_HUB_API_TOKEN": admin_token,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(workdir / "jupyterhub_config.py")],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        # The hub logs this once the proxy runs and its routes are in place.
        while True:
            try:
                line = lines.get(timeout=60)
            except queue.Empty as timeout:
                raise HubError("JupyterHub did not start in 60 s:\n" + "".join(log)) from timeout
            if line is None:
                raise HubError(f"JupyterHub exited ({process.wait()}):\n" + "".join(log))
            if "JupyterHub is now running at" in line:
                break
        hub = Hub(
            url=f"http://127.0.0.1:{port}/",
            password=password,
            homes=homes,
            _admin_token=admin_token,
            log=log,
        )
        try:
            yield hub
        except BaseException as error:
            error.add_note("JupyterHub log (tail):\n" + "".join(log[-80:]))
            raise
    finally:
        process.terminate()  # the hub stops its servers and the proxy (cleanup_servers)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
