from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_session_monitor.emulator import EmulatorConfig
from jupyter_session_monitor.emulator.runner import EmulatorThread

from .harness import Harness
from .kernels import NotebookKernel

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    # The server extension tells its kernels where to register through os.environ.
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    # The extension is enabled the way the wheel enables it: jpserver_extensions in the config.
    config: dict[str, Any] = {
        "ServerApp": {"jpserver_extensions": {"jupyter_session_monitor": True}},
        # Tests watch transitions happen: poll often, give up on a silent service quickly.
        "SessionMonitorApp": {
            "poll_busy_interval": 0.2,
            "poll_active_interval": 0.3,
            "poll_idle_interval": 0.5,
            "max_backoff": 1.0,
            "request_timeout": 3.0,
            # The emulator reports usage live unless a test sets its usage_report_period.
            "usage_settle_seconds": 0.0,
        },
    }
    # @pytest.mark.intervals(name=value, ...): SessionMonitorApp traitlets for one test.
    marker = request.node.get_closest_marker("intervals")
    if marker is not None:
        config["SessionMonitorApp"].update(marker.kwargs)
    return config


@pytest.fixture
def make_emulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., Harness]]:
    """Start an emulator with the given settings and point the client's environment at it."""
    started: list[EmulatorThread] = []
    monkeypatch.setenv("HOME", str(tmp_path))  # never read or write the user's ~/.qiskit
    monkeypatch.setenv("USAGE_DATA_OPT_OUT", "True")
    for name in ("QISKIT_IBM_NAME", "QISKIT_IBM_REGION", "QISKIT_IBM_PLANS_PREFERENCE"):
        monkeypatch.delenv(name, raising=False)

    def start(**settings: Any) -> Harness:
        thread = EmulatorThread(EmulatorConfig(**settings)).start()
        started.append(thread)
        for key, value in thread.emulator.client_environment().items():
            monkeypatch.setenv(key, value)
        return Harness(thread)

    yield start
    for thread in started:
        thread.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., Harness]) -> Harness:
    # Interactive TTL 60 s -> 1.2 s; a job runs 3 s -> 0.06 s.
    return make_emulator(time_scale=0.02)


@pytest.fixture
def open_notebook(
    jp_fetch: Callable[..., Awaitable[Any]], jp_serverapp: Any
) -> Iterator[Callable[[str], Awaitable[NotebookKernel]]]:
    """Open a notebook's kernel through the server's sessions API, with a client to run code."""
    kernels: list[NotebookKernel] = []

    async def start(path: str) -> NotebookKernel:
        response = await jp_fetch(
            "api",
            "sessions",
            method="POST",
            body=json.dumps(
                {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}}
            ),
        )
        kernel = NotebookKernel(jp_serverapp, json.loads(response.body))
        await kernel.connect()
        kernels.append(kernel)
        return kernel

    yield start
    for kernel in kernels:  # the server's own teardown shuts the kernels down
        kernel.close()
