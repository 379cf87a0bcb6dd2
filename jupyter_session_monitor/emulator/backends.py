"""Backends served by the emulator: the real configuration and properties that ship with
``qiskit_ibm_runtime.fake_provider`` (snapshots of IBM devices), read from its data files."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

#: (fake_provider folder, served name): a 5-qubit Falcon, a 27-qubit Falcon, a 133-qubit Heron.
BACKENDS: tuple[tuple[str, str], ...] = (
    ("manila", "ibmq_manila"),
    ("kolkata", "ibmq_kolkata"),
    ("torino", "ibm_torino"),
)


@cache
def _load(folder: str, kind: str) -> dict[str, Any]:
    path = files("qiskit_ibm_runtime.fake_provider.backends") / folder / f"{kind}_{folder}.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def mock_name(device: str) -> str:
    """The name of a device's mock counterpart, as the client derives it for ``dry_run``
    (``ibm_torino`` -> ``mock_torino``)."""
    return re.sub(r"^[^_]+", "mock", device)


class BackendCatalog:
    """The devices, and for each its mock counterpart: the same snapshot under the name
    ``mock_...``, listed with ``"class": "mock"`` only when ``include_mocks`` is asked for. The
    client lists them always and hides them itself unless asked; ``dry_run`` jobs run on them."""

    def __init__(self, backends: tuple[tuple[str, str], ...]) -> None:
        self._folders = {name: folder for folder, name in backends}
        self.names = [name for _, name in backends]
        self.mocks = {mock_name(name): name for name in self.names}  # mock -> its device
        self._folders.update({mock: self._folders[name] for mock, name in self.mocks.items()})
        self.all_names = [*self.names, *self.mocks]

    def configuration(self, name: str) -> dict[str, Any]:
        config = dict(_load(self._folders[name], "conf"))
        # A device, not a simulator: the client only creates sessions on devices.
        config.update(backend_name=name, simulator=False, local=False)
        return config

    def properties(self, name: str) -> dict[str, Any]:
        props = dict(_load(self._folders[name], "props"))
        props["backend_name"] = name
        return props

    def physical_qubits(self, name: str) -> int:
        """What ``IBMBackend.physical_qubits`` reads: programmable qubits, reset qubits and
        couplers combined. Falcons couple through fixed resonators (no coupler qubits); a Heron's
        every coupling is a tunable coupler, counted once per pair. No reset qubits are known."""
        config = _load(self._folders[name], "conf")
        qubits = int(config["n_qubits"])
        if (config.get("processor_type") or {}).get("family") != "Heron":
            return qubits
        couplers = {tuple(sorted(pair)) for pair in config.get("coupling_map") or []}
        return qubits + len(couplers)

    def summary(self, name: str, queue_length: int) -> dict[str, Any]:
        config = _load(self._folders[name], "conf")
        entry: dict[str, Any] = {
            "name": name,
            "physical_qubits": self.physical_qubits(name),
            "status": {"name": "online", "reason": "available"},
            "qubits": config.get("n_qubits"),
            "processor_type": config.get("processor_type"),
            "queue_length": queue_length,
            "is_simulator": False,
            "wait_time_seconds": None,
            "clops": {"type": "hpcx", "value": 30000},
        }
        if name in self.mocks:
            entry["class"] = "mock"  # what the client tells mocks apart by
        return entry
