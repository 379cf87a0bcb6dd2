"""The ``noise-learner`` program (``qiskit_ibm_runtime.noise_learner.NoiseLearner``): the error
channel of each unique layer of two-qubit gates in the given ISA circuits, in Pauli-Lindblad form.

The emulator is noiseless, so every rate is zero; the rest is structured as the service returns it
and as the client decodes it (``NoiseLearnerResultDecoder``): per learned layer, a circuit of the
layer's gates on its qubits, the physical qubits, and one- and two-body generators (every Pauli on
each qubit, and on each pair of those qubits coupled on the device).

Layers are the emulator's model of the service's: two-qubit gates packed as early as possible
(single-qubit gates do not separate them), the layer's qubits chosen by ``twirling_strategy``;
the most frequent ``max_layers_to_learn`` unique layers are learned (ties: more gates first, then
first seen).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .execution import ExecutionError

#: NoiseLearnerOptions' documented defaults.
DEFAULT_OPTIONS: dict[str, Any] = {
    "max_layers_to_learn": 4,
    "shots_per_randomization": 128,
    "num_randomizations": 32,
    "layer_pair_depths": [0, 1, 2, 4, 16, 32],
    "twirling_strategy": "active-accum",
}

_IGNORED = ("barrier", "delay")

Gate = tuple[str, tuple[int, ...]]  # an instruction's name and its qubits


def _layers(
    circuit: Any, strategy: str
) -> list[tuple[list[tuple[str, tuple[int, ...]]], list[int]]]:
    """The circuit's layers of two-qubit gates, each with the qubits twirled with it."""
    depth: dict[int, int] = {}
    gates: list[list[Gate]] = []
    accumulated: list[set[int]] = []
    seen: set[int] = set()
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name in _IGNORED:
            continue
        pair = tuple(circuit.find_bit(q).index for q in instruction.qubits)
        seen.update(pair)
        if len(pair) != 2 or hasattr(operation, "blocks"):  # control flow is not a layer
            continue
        level = max(depth.get(q, 0) for q in pair)
        for q in pair:
            depth[q] = level + 1
        if level == len(gates):
            gates.append([])
            accumulated.append(set())
        gates[level].append((operation.name, pair))
        accumulated[level] |= seen
    active = sorted(seen)
    layers = []
    for level, layer in enumerate(gates):
        if strategy == "active":
            qubits = sorted({q for _, pair in layer for q in pair})
        elif strategy == "active-circuit":
            qubits = active
        elif strategy == "all":
            qubits = list(range(circuit.num_qubits))
        else:  # "active-accum"
            qubits = sorted(accumulated[level] | {q for _, pair in layer for q in pair})
        layers.append((sorted(layer), qubits))
    return layers


def _layer_error(
    layer: Sequence[Gate],
    qubits: Sequence[int],
    coupling_map: Sequence[Sequence[int]],
    names: dict[str, Any],
) -> Any:
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import PauliList
    from qiskit_ibm_runtime.results import LayerError, PauliLindbladError

    local = {q: i for i, q in enumerate(qubits)}
    circuit = QuantumCircuit(len(qubits))
    for name, pair in layer:
        circuit.append(names[name], [local[q] for q in pair])
    width = len(qubits)

    def label(paulis: dict[int, str]) -> str:
        chars = ["I"] * width
        for index, pauli in paulis.items():
            chars[width - 1 - index] = pauli
        return "".join(chars)

    generators = [label({i: p}) for i in range(width) for p in "XYZ"]
    pairs = sorted({tuple(sorted(edge)) for edge in coupling_map if all(q in local for q in edge)})
    for a, b in pairs:
        generators += [label({local[a]: p, local[b]: r}) for p in "XYZ" for r in "XYZ"]
    error = PauliLindbladError(PauliList(generators), np.zeros(len(generators)))
    return LayerError(circuit, list(qubits), error)


def run_noise_learner(params: dict[str, Any], coupling_map: Sequence[Sequence[int]]) -> str:
    """Learn (noiselessly) the layers of ``params["circuits"]``; the encoded result."""
    from qiskit_ibm_runtime.json import RuntimeEncoder

    circuits = params.get("circuits")
    if not isinstance(circuits, list) or not circuits:
        raise ExecutionError("The noise learner's input has no circuits.")
    options = {**DEFAULT_OPTIONS, **(params.get("options") or {})}
    options.pop("support_qiskit", None)
    strategy = str(options["twirling_strategy"])
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    names: dict[str, Any] = {}
    for circuit in circuits:
        for instruction in circuit.data:
            names.setdefault(instruction.operation.name, instruction.operation)
        for layer, qubits in _layers(circuit, strategy):
            key = (tuple(layer), tuple(qubits))
            entry = found.setdefault(key, {"count": 0, "order": len(found)})
            entry["count"] += 1
    ranked = sorted(found.items(), key=lambda kv: (-kv[1]["count"], -len(kv[0][0]), kv[1]["order"]))
    limit = options["max_layers_to_learn"]
    if limit is not None:
        ranked = ranked[: int(limit)]
    data = [_layer_error(layer, qubits, coupling_map, names) for (layer, qubits), _ in ranked]
    return json.dumps({"data": data, "metadata": {"input_options": options}}, cls=RuntimeEncoder)
