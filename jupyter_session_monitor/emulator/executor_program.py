"""The ``executor`` program: run a quantum program (schema v2.0) as the service would.

The client sends circuits plus either circuit arguments or a samplex (randomized parameter
sampling, e.g. twirling) per item; the service returns, per item, measured bits as boolean tensors
(and the samplex's own outputs), which the client-side Sampler and Estimator post-process. Bits come
from qiskit's statevector sampler on each circuit's active qubits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from math import prod
from typing import Any

import numpy as np

from .execution import ExecutionError, sample_bits

SCHEMA_VERSION = "v2.0"


def _bindings(circuit: Any, values: Any) -> Any:
    from qiskit.primitives.containers.bindings_array import BindingsArray

    if values is None or not circuit.parameters:
        return BindingsArray()
    return BindingsArray({tuple(circuit.parameters): np.asarray(values, dtype=float)})


def run_executor(params: dict[str, Any]) -> str:
    """Run the quantum program in ``params`` and return the encoded result model."""
    from ibm_quantum_schemas.common import CompressedTensorModel
    from ibm_quantum_schemas.executor.version_2_0 import ParamsModel
    from ibm_quantum_schemas.executor.version_2_0.models import (
        ChunkPart,
        ChunkSpan,
        ItemMetadataModel,
        MetadataModel,
        QuantumProgramResultItemModel,
        QuantumProgramResultModel,
    )
    from qiskit_ibm_runtime.fake_provider.executor.broadcast_sample import broadcast_sample
    from qiskit_ibm_runtime.quantum_program.converters import quantum_program_from_2_0
    from samplomatic.quantum_program import CircuitItem, SamplexItem

    version = params.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ExecutionError(
            f"The executor input has schema version {version!r}; this emulator runs "
            f"{SCHEMA_VERSION} (what qiskit-ibm-runtime 0.51 sends)."
        )
    try:
        model = ParamsModel.model_validate(params)
        program, _options = quantum_program_from_2_0(model)
    except Exception as error:
        raise ExecutionError(f"The executor input could not be decoded: {error}") from error

    rng = np.random.default_rng()
    started = datetime.now(UTC)
    items, parts = [], []
    for index, item in enumerate(program.items):
        seed = int(rng.integers(2**31))
        if isinstance(item, CircuitItem):
            arguments = item.circuit_arguments
            shape = tuple(np.shape(arguments)[:-1]) if arguments is not None else ()
            bits = sample_bits(
                item.circuit, _bindings(item.circuit, arguments), program.shots, seed
            )
            results = dict(bits)
        elif isinstance(item, SamplexItem):
            # Decoded from JSON, the samplex still has to settle its node order before sampling.
            item.samplex.finalize()
            samples = broadcast_sample(item.samplex, item.samplex_arguments, item.shape, rng)
            values = samples.pop("parameter_values")
            shape = tuple(item.shape)
            bits = sample_bits(item.circuit, _bindings(item.circuit, values), program.shots, seed)
            results = {**samples, **bits}
        else:
            raise ExecutionError(f"Unsupported quantum program item {type(item).__name__}.")
        items.append(
            QuantumProgramResultItemModel(
                results={
                    name: CompressedTensorModel.from_numpy(np.asarray(value))
                    for name, value in results.items()
                },
                metadata=ItemMetadataModel(),
            )
        )
        # One chunk ran every element of every item, in order (identity permutation).
        size = prod(shape) if shape else 1
        parts.append(
            ChunkPart(
                idx_item=index,
                size=size,
                permutation=list(range(len(shape))),
                element_range=(0, size, 1),
            )
        )
    result = QuantumProgramResultModel(
        data=items,
        metadata=MetadataModel(
            chunk_timing=[ChunkSpan(start=started, stop=datetime.now(UTC), parts=parts)]
        ),
        passthrough_data=model.quantum_program.passthrough_data,
        semantic_role=model.quantum_program.semantic_role,
    )
    encoded: str = result.model_dump_json()
    return encoded
