"""The emulator in-process on a free port, the unmodified client pointed at it by environment, and
a helper to await an observable condition."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

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


def ghz(backend: Any, width: int) -> Any:
    """A ``width``-qubit GHZ circuit transpiled for ``backend``: wider than 20 entangled qubits,
    the emulator fails it with a reason, as the service fails what it cannot run."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager

    circuit = QuantumCircuit(width)
    circuit.h(0)
    for qubit in range(1, width):
        circuit.cx(qubit - 1, qubit)
    circuit.measure_all()
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)


def bell(backend: Any) -> Any:
    """A Bell-state circuit transpiled for ``backend`` (an ISA circuit, as the client requires)."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
