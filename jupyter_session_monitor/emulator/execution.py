"""Run a job's primitive for real with qiskit's reference (statevector) primitives.

``sampler`` and ``estimator`` take PUBs encoded with ``RuntimeEncoder``; ``executor`` takes a
quantum program (see ``executor_program``).

ISA circuits for a 27- or 133-qubit device touch only a few qubits; each entangled component (qubits
that interact) is simulated on its own, the rest staying in |0>, which is exact. A component wider
than ``MAX_ACTIVE_QUBITS`` fails the job with a reason instead of exhausting memory. Estimator
values are exact expectation values (precision 0): the emulator models the service, not a device's
noise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

#: Widest circuit simulated (2**20 amplitudes = 16 MiB per statevector).
MAX_ACTIVE_QUBITS = 20

#: The service's reason code for a job whose input it cannot run.
REASON_CODE_INVALID_INPUT = 1517


class ExecutionError(Exception):
    """The job cannot run: the message is the reason reported in the job's state."""


SUPPORTED_PROGRAMS = ("sampler", "estimator", "executor", "noise-learner")


def decode_params(params: dict[str, Any]) -> dict[str, Any]:
    from qiskit_ibm_runtime.json import RuntimeDecoder

    decoded: dict[str, Any] = json.loads(json.dumps(params), cls=RuntimeDecoder)
    return decoded


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


#: <P> of a single qubit left in |0>: what an idle qubit contributes to an observable's term.
_IDLE_EXPECTATION = {
    "I": 1.0,
    "Z": 1.0,
    "X": 0.0,
    "Y": 0.0,
    "0": 1.0,
    "1": 0.0,
    "+": 0.5,
    "-": 0.5,
    "r": 0.5,
    "l": 0.5,
}


def _component_values(
    circuit: Any, keep: Sequence[int], labels: Sequence[str], bindings: Any
) -> dict[str, Any]:
    """Exact <label> on the entangled component ``keep``, per element of ``bindings`` (an array of
    the bindings' shape for each label, which are already reduced to the component's qubits)."""
    import numpy as np
    from qiskit.primitives import StatevectorEstimator
    from qiskit.primitives.containers.bindings_array import BindingsArray

    check_width(len(keep))
    reduced = reduce_circuit(circuit, keep)
    shape = tuple(bindings.shape)
    if reduced.parameters:
        column = {parameter: i for i, parameter in enumerate(circuit.parameters)}
        values = bindings.as_array(circuit.parameters)[..., [column[p] for p in reduced.parameters]]
        reduced_bindings = BindingsArray({tuple(reduced.parameters): values})
        # One observable per row, broadcast against every binding element.
        grid = np.empty((len(labels),) + (1,) * len(shape), dtype=object)
    else:
        reduced_bindings = BindingsArray()
        grid = np.empty((len(labels),), dtype=object)
    for row, label in enumerate(labels):
        grid[(row,) + (0,) * (grid.ndim - 1)] = {label: 1.0}
    pub = (reduced, grid.tolist(), reduced_bindings)
    evs = StatevectorEstimator().run([pub], precision=0.0).result()[0].data.evs
    return {label: np.broadcast_to(evs[row], shape) for row, label in enumerate(labels)}


def expectation_values(circuit: Any, observables: Any, bindings: Any) -> Any:
    """Exact expectation values of an estimator PUB, shaped as the PUB broadcasts them.

    The state is a product over the circuit's entangled components, with every idle qubit in |0>.
    So each Pauli term is the product of its factors on each component (simulated on that
    component's qubits only) and on the idle qubits (Z and I give 1, X and Y give 0): exact, and a
    wide ISA circuit with an observable over the whole device costs only its interacting qubits.
    """
    import numpy as np

    width = circuit.num_qubits
    components = entangled_components(circuit)
    owner = {qubit: i for i, keep in enumerate(components) for qubit in keep}
    terms = np.empty(observables.shape, dtype=object)
    needed: list[set[str]] = [set() for _ in components]
    for index in np.ndindex(observables.shape):
        split: list[tuple[float, list[str]]] = []
        for label, coefficient in observables[index].items():
            factor = complex(coefficient).real
            for qubit in range(width):
                if qubit not in owner:
                    factor *= _IDLE_EXPECTATION.get(label[width - 1 - qubit], 1.0)
            if factor == 0.0:
                continue  # an X or Y on an idle qubit: the term vanishes
            parts = [_reduce_label(label, keep) for keep in components]
            for part, wanted in zip(parts, needed, strict=True):
                if set(part) != {"I"}:
                    wanted.add(part)
            split.append((factor, parts))
        terms[index] = split
    values = [
        _component_values(circuit, keep, sorted(wanted), bindings) if wanted else {}
        for keep, wanted in zip(components, needed, strict=True)
    ]
    binding_shape = tuple(bindings.shape)
    table = np.zeros((*observables.shape, *binding_shape))
    for index in np.ndindex(observables.shape):
        for factor, parts in terms[index]:
            product = np.full(binding_shape, factor)
            for part, known in zip(parts, values, strict=True):
                if part in known:
                    product = product * known[part]
            table[index] += product
    # Broadcast the observables' shape against the bindings', as the primitives do.
    shape = np.broadcast_shapes(observables.shape, binding_shape)
    flat = table.reshape(observables.size, int(np.prod(binding_shape, dtype=int)))
    rows = np.broadcast_to(np.arange(observables.size).reshape(observables.shape), shape)
    columns = np.broadcast_to(np.arange(flat.shape[1]).reshape(binding_shape), shape)
    # An array even for a PUB of shape () (indexing would give a float): the client reads
    # ``evs.shape``, and the service answers a 0-d array there, as qiskit's own estimator does.
    return np.asarray(flat[rows, columns])


#: The estimator's default precision (``EstimatorOptions.default_precision``): 4096 shots.
DEFAULT_PRECISION = 0.015625


def estimator_execution(params: dict[str, Any], precision: float | None) -> dict[str, Any]:
    """The shots the service would run for a PUB, as its result metadata reports them.

    Shots come from the PUB's precision (``ceil(1 / precision**2)``), else ``default_shots``,
    else the default precision. With twirling on (measurement twirling from resilience level 1,
    gate twirling at level 2, unless the options say otherwise) they are split into
    randomizations, ``"auto"`` resolved as ``TwirlingOptions`` documents it, and the shots run are
    ``num_randomizations * shots_per_randomization``."""
    options = params.get("options") or {}
    if precision is None and options.get("default_shots"):
        shots = int(options["default_shots"])
        target = 1 / math.sqrt(shots)
    else:
        target = float(precision or options.get("default_precision") or DEFAULT_PRECISION)
        shots = math.ceil(1 / target**2)
    level = int(params.get("resilience_level", options.get("resilience_level", 1)))
    twirling = options.get("twirling") or {}
    gates = twirling.get("enable_gates", level >= 2)
    measure = twirling.get("enable_measure", level >= 1)
    metadata: dict[str, Any] = {"shots": shots, "target_precision": target}
    if gates or measure:
        randomizations = twirling.get("num_randomizations", "auto")
        per_randomization = twirling.get("shots_per_randomization", "auto")
        pec = bool((options.get("resilience") or {}).get("pec_mitigation"))
        if per_randomization == "auto":
            if randomizations == "auto":
                per_randomization = 64 if pec else max(64, math.ceil(shots / 32))
            else:
                per_randomization = math.ceil(shots / int(randomizations))
        if randomizations == "auto":
            randomizations = math.ceil(shots / int(per_randomization))
        metadata["shots"] = int(randomizations) * int(per_randomization)
        metadata["num_randomizations"] = int(randomizations)
    return metadata


def run_estimator(params: dict[str, Any]) -> Any:
    import numpy as np
    from qiskit.primitives import PrimitiveResult, PubResult
    from qiskit.primitives.containers import DataBin
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.observables_array import ObservablesArray

    results = []
    for raw in params.get("pubs", []):
        circuit, observables, values, precision = [*raw, None, None, None][:4]
        observables = ObservablesArray.coerce(observables)
        for index in np.ndindex(observables.shape):
            for label in observables[index]:
                if len(label) != circuit.num_qubits:
                    raise ExecutionError(
                        f"An observable acts on {len(label)} qubits but the circuit has "
                        f"{circuit.num_qubits}; apply the circuit's layout to the observables."
                    )
        pub = EstimatorPub.coerce((circuit, observables, values, precision))
        evs = expectation_values(pub.circuit, pub.observables, pub.parameter_values)
        zeros = np.zeros(pub.shape)  # exact values: no statistical error
        results.append(
            PubResult(
                DataBin(evs=evs, stds=zeros, ensemble_standard_error=zeros, shape=pub.shape),
                metadata={
                    **estimator_execution(params, precision),
                    "circuit_metadata": circuit.metadata,
                    "resilience": {},
                },
            )
        )
    if not results:
        raise ExecutionError("The job has no PUBs to run.")
    return PrimitiveResult(results, metadata={"version": 2})


def validate(program_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Decode and check the job's input at submission; returns the decoded params."""
    if program_id not in SUPPORTED_PROGRAMS:
        raise ExecutionError(
            f"Program '{program_id}' is not supported by the local emulator "
            f"(supported: {', '.join(SUPPORTED_PROGRAMS)})."
        )
    if program_id == "executor":
        return params  # a schema model, decoded by executor_program
    if program_id == "noise-learner" and "schema_version" in params:
        raise ExecutionError(
            "The noise learner's v3 input (schema version "
            f"{params['schema_version']!r}, NoiseLearnerV3) is not supported by the local "
            "emulator; it runs NoiseLearner's."
        )
    try:
        decoded = decode_params(params)
    except Exception as error:
        raise ExecutionError(f"The job's input could not be decoded: {error}") from error
    if program_id == "noise-learner":
        if not isinstance(decoded.get("circuits"), list) or not decoded["circuits"]:
            raise ExecutionError("The noise learner's input has no circuits.")
        return decoded
    if not isinstance(decoded.get("pubs"), list) or not decoded["pubs"]:
        raise ExecutionError("The job's input has no PUBs.")
    return decoded


def execute(
    program_id: str,
    decoded: dict[str, Any],
    coupling_map: Sequence[Sequence[int]] = (),
) -> str:
    """Run the job and return its result encoded as the service returns it. ``coupling_map`` is
    the backend's (the noise learner's two-body generators follow it)."""
    from qiskit_ibm_runtime.json import RuntimeEncoder

    if program_id == "executor":
        from .executor_program import run_executor

        return run_executor(decoded)
    if program_id == "noise-learner":
        from .noise_learner_program import run_noise_learner

        return run_noise_learner(decoded, coupling_map)
    if program_id == "sampler":
        result = run_sampler(decoded)
    elif program_id == "estimator":
        result = run_estimator(decoded)
    else:
        raise ExecutionError(f"Program '{program_id}' is not supported by the local emulator.")
    return json.dumps(result, cls=RuntimeEncoder)
