"""Run a job's primitive for real with qiskit's reference (statevector) primitives.

``sampler`` and ``estimator`` take PUBs encoded with ``RuntimeEncoder``; ``executor`` takes a
quantum program (see ``executor_program``).

ISA circuits for a 27- or 133-qubit device touch only a few qubits; they are simulated on their
active qubits only (those any instruction or observable acts on), the rest staying in |0>, which is
exact. Above ``MAX_ACTIVE_QUBITS`` the job fails with a reason instead of exhausting memory.
Estimator values are exact expectation values (precision 0): the emulator models the service, not
a device's noise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: Widest circuit simulated (2**20 amplitudes = 16 MiB per statevector).
MAX_ACTIVE_QUBITS = 20

#: The service's reason code for a job whose input it cannot run.
REASON_CODE_INVALID_INPUT = 1517


class ExecutionError(Exception):
    """The job cannot run: the message is the reason reported in the job's state."""


SUPPORTED_PROGRAMS = ("sampler", "estimator", "executor")


def decode_params(params: dict[str, Any]) -> dict[str, Any]:
    from qiskit_ibm_runtime.json import RuntimeDecoder

    decoded: dict[str, Any] = json.loads(json.dumps(params), cls=RuntimeDecoder)
    return decoded


def active_qubits(circuit: Any) -> set[int]:
    active: set[int] = set()
    for instruction in circuit.data:
        if instruction.operation.name in ("barrier", "delay"):
            continue
        active.update(circuit.find_bit(q).index for q in instruction.qubits)
    return active


def reduce_circuit(circuit: Any, keep: Sequence[int]) -> Any:
    """The circuit restricted to the qubits ``keep`` (qubit ``keep[i]`` becomes qubit ``i``).

    Instructions on other qubits are dropped: callers keep every qubit those instructions could
    affect (all active qubits, or a whole entangled component)."""
    from qiskit import QuantumCircuit

    index = {old: new for new, old in enumerate(keep)}
    reduced = QuantumCircuit(len(keep), name=circuit.name)
    for register in circuit.cregs:
        reduced.add_register(register)
    loose = [bit for bit in circuit.clbits if not circuit.find_bit(bit).registers]
    if loose:
        reduced.add_bits(loose)
    for instruction in circuit.data:
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if not all(q in index for q in qubits):
            continue  # another component's instruction, or a barrier across components
        reduced.append(
            instruction.operation,
            [reduced.qubits[index[q]] for q in qubits],
            instruction.clbits,
        )
    return reduced


def _reduce_label(label: str, keep: Sequence[int]) -> str:
    # Pauli labels are little-endian: the last character is qubit 0.
    width = len(label)
    return "".join(label[width - 1 - q] for q in reversed(keep))


def check_width(count: int) -> None:
    if count > MAX_ACTIVE_QUBITS:
        raise ExecutionError(
            f"The circuit acts on {count} qubits; this emulator simulates at most "
            f"{MAX_ACTIVE_QUBITS} active qubits. Use fewer qubits, or run it on IBM Quantum."
        )


def entangled_components(circuit: Any) -> list[list[int]]:
    """Groups of qubits that interact (directly, through a shared classical bit, or inside control
    flow); different groups stay in a product state and can be simulated separately."""
    parent: dict[Any, Any] = {}

    def find(node: Any) -> Any:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: Any, b: Any) -> None:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        parent[find(a)] = find(b)

    control_flow = False
    for instruction in circuit.data:
        if instruction.operation.name in ("barrier", "delay"):
            continue
        nodes: list[Any] = [("q", circuit.find_bit(q).index) for q in instruction.qubits]
        nodes += [("c", circuit.find_bit(c).index) for c in instruction.clbits]
        control_flow = control_flow or bool(getattr(instruction.operation, "blocks", ()))
        for node in nodes:
            parent.setdefault(node, node)
        for node in nodes[1:]:
            union(nodes[0], node)
    qubits = sorted(index for kind, index in parent if kind == "q")
    if control_flow:
        return [qubits] if qubits else []
    groups: dict[Any, list[int]] = {}
    for index in qubits:
        groups.setdefault(find(("q", index)), []).append(index)
    return sorted(groups.values())


def sample_bits(circuit: Any, bindings: Any, shots: int, seed: int | None = None) -> dict[str, Any]:
    """Measured bits per classical register, shaped (*bindings.shape, shots, bits), little-endian.

    Each entangled component is simulated on its own and the components' bits are combined: exact,
    because the components never interact, and it keeps wide ISA circuits cheap.
    """
    import numpy as np
    from qiskit.primitives import StatevectorSampler
    from qiskit.primitives.containers.bindings_array import BindingsArray
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    shape = tuple(bindings.shape) if bindings is not None else ()
    elements = int(np.prod(shape)) if shape else 1
    components = entangled_components(circuit) or [[0]]
    rng = np.random.default_rng(seed)
    combined: dict[str, Any] = {}
    all_values = bindings.as_array(circuit.parameters) if circuit.parameters else None
    column = {parameter: i for i, parameter in enumerate(circuit.parameters)}
    for keep in components:
        check_width(len(keep))
        reduced = reduce_circuit(circuit, keep)
        if reduced.parameters:
            assert all_values is not None  # the component's parameters are the circuit's
            values = all_values[..., [column[p] for p in reduced.parameters]]
            pub = SamplerPub(
                reduced, BindingsArray({tuple(reduced.parameters): values}), shots=shots
            )
        else:  # no parameter here: draw every element's shots at once
            pub = SamplerPub(reduced, shots=shots * elements)
        sampler = StatevectorSampler(seed=int(rng.integers(2**31)))
        data = sampler.run([pub]).result()[0].data
        for name, bit_array in dict(data).items():
            bits = bit_array.to_bool_array(order="little")
            bits = bits.reshape((*shape, shots, bits.shape[-1]))
            # A bit no component measured stays 0, so OR merges the components' registers.
            combined[name] = bits if name not in combined else combined[name] | bits
    return combined


def run_sampler(params: dict[str, Any]) -> Any:
    from qiskit.primitives import PrimitiveResult, SamplerPubResult
    from qiskit.primitives.containers import BitArray, DataBin
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    default_shots = int(params.get("options", {}).get("default_shots") or 4096)
    results = []
    for raw in params.get("pubs", []):
        circuit, values, shots = [*raw, None, None][:3]
        pub = SamplerPub.coerce((circuit, values, shots or default_shots))
        assert pub.shots is not None
        bits = sample_bits(pub.circuit, pub.parameter_values, pub.shots)
        registers = {
            name: BitArray.from_bool_array(value, order="little") for name, value in bits.items()
        }
        results.append(
            SamplerPubResult(
                DataBin(**registers, shape=pub.shape),
                metadata={"shots": pub.shots, "circuit_metadata": pub.circuit.metadata},
            )
        )
    if not results:
        raise ExecutionError("The job has no PUBs to run.")
    return PrimitiveResult(results, metadata={"version": 2})


def _observable_dicts(observables: Any) -> Any:
    """Nested lists of {label: coefficient}, whatever form the client sent."""
    if isinstance(observables, dict):
        return {str(k): complex(v).real for k, v in observables.items()}
    if isinstance(observables, list):
        return [_observable_dicts(o) for o in observables]
    if isinstance(observables, str):
        return {observables: 1.0}
    from qiskit.quantum_info import SparsePauliOp

    if isinstance(observables, SparsePauliOp):
        return {label: complex(c).real for label, c in observables.to_list()}
    raise ExecutionError(f"Unsupported observable type {type(observables).__name__}.")


def _labels(observables: Any) -> list[str]:
    if isinstance(observables, dict):
        return list(observables)
    return [label for o in observables for label in _labels(o)]


def _reduce_observables(observables: Any, keep: Sequence[int]) -> Any:
    if isinstance(observables, dict):
        return {_reduce_label(label, keep): c for label, c in observables.items()}
    return [_reduce_observables(o, keep) for o in observables]


def run_estimator(params: dict[str, Any]) -> Any:
    from qiskit.primitives import StatevectorEstimator
    from qiskit.primitives.containers.estimator_pub import EstimatorPub

    pubs = []
    for raw in params.get("pubs", []):
        circuit, observables, values = [*raw, None, None, None][:3]
        observables = _observable_dicts(observables)
        keep_set = active_qubits(circuit)
        for label in _labels(observables):
            if len(label) != circuit.num_qubits:
                raise ExecutionError(
                    f"An observable acts on {len(label)} qubits but the circuit has "
                    f"{circuit.num_qubits}; apply the circuit's layout to the observables."
                )
            keep_set.update(q for q in range(len(label)) if label[len(label) - 1 - q] != "I")
        keep = sorted(keep_set) or [0]
        check_width(len(keep))
        reduced = reduce_circuit(circuit, keep)
        pubs.append(EstimatorPub.coerce((reduced, _reduce_observables(observables, keep), values)))
    if not pubs:
        raise ExecutionError("The job has no PUBs to run.")
    return StatevectorEstimator().run(pubs, precision=0.0).result()


def validate(program_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Decode and check the job's input at submission; returns the decoded params."""
    if program_id not in SUPPORTED_PROGRAMS:
        raise ExecutionError(
            f"Program '{program_id}' is not supported by the local emulator "
            f"(supported: {', '.join(SUPPORTED_PROGRAMS)})."
        )
    if program_id == "executor":
        return params  # a schema model, decoded by executor_program
    try:
        decoded = decode_params(params)
    except Exception as error:
        raise ExecutionError(f"The job's input could not be decoded: {error}") from error
    if not isinstance(decoded.get("pubs"), list) or not decoded["pubs"]:
        raise ExecutionError("The job's input has no PUBs.")
    return decoded


def execute(program_id: str, decoded: dict[str, Any]) -> str:
    """Run the job and return its result encoded as the service returns it."""
    from qiskit_ibm_runtime.json import RuntimeEncoder

    if program_id == "executor":
        from .executor_program import run_executor

        return run_executor(decoded)
    if program_id == "sampler":
        result = run_sampler(decoded)
    elif program_id == "estimator":
        result = run_estimator(decoded)
    else:
        raise ExecutionError(f"Program '{program_id}' is not supported by the local emulator.")
    return json.dumps(result, cls=RuntimeEncoder)
