"""The emulator in-process on a free port; the unmodified client pointed at it by environment."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jupyter_session_monitor.emulator import EmulatorConfig
from jupyter_session_monitor.emulator.runner import EmulatorThread

T = TypeVar("T")


class Harness:
    """An emulator plus helpers to reach it as a client would."""

    def __init__(self, thread: EmulatorThread) -> None:
        self.thread = thread
        self.emulator = thread.emulator

    @property
    def url(self) -> str:
        return self.emulator.url

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            text = response.read()
        return json.loads(text) if text else None

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.admin("GET", "/emulator/requests")
        return result

    def service(self) -> Any:
        from qiskit_ibm_runtime import QiskitRuntimeService

        return QiskitRuntimeService()


def wait_until(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns a truthy value (the observable event), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value: {value!r})")
        time.sleep(interval)


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
