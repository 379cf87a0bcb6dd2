"""Simulation of ISA circuits: active qubits, entangled components, the width limit."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.primitives.containers.bindings_array import BindingsArray

from jupyter_session_monitor.emulator.execution import (
    MAX_ACTIVE_QUBITS,
    ExecutionError,
    entangled_components,
    sample_bits,
)


def test_components_split_qubits_that_never_interact() -> None:
    circuit = QuantumCircuit(27, 27)
    circuit.h(3)
    circuit.cx(3, 9)
    circuit.x(20)
    circuit.barrier()
    circuit.measure(range(27), range(27))

    components = entangled_components(circuit)

    assert [3, 9] in components
    assert [20] in components
    assert len(components) == 26  # 27 qubits, two of them joined


def test_a_shared_classical_bit_joins_components() -> None:
    circuit = QuantumCircuit(2, 1)
    circuit.measure(0, 0)
    circuit.measure(1, 0)

    assert entangled_components(circuit) == [[0, 1]]


def test_wide_isa_circuit_samples_exactly_from_its_components() -> None:
    circuit = QuantumCircuit(QuantumRegister(133), ClassicalRegister(133, "meas"))
    circuit.h(100)
    circuit.cx(100, 7)
    circuit.x(55)
    circuit.measure(range(133), range(133))

    bits = sample_bits(circuit, BindingsArray(), shots=300, seed=11)["meas"]

    assert bits.shape == (300, 133)
    assert bits[:, 55].all()  # X on 55
    np.testing.assert_array_equal(bits[:, 100], bits[:, 7])  # Bell pair: always equal
    assert 0.3 < bits[:, 100].mean() < 0.7
    others = np.delete(bits, [7, 55, 100], axis=1)
    assert not others.any()


def test_parameter_sweeps_keep_their_shape_and_columns() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = QuantumCircuit(3, 3)
    circuit.rx(theta, 0)
    circuit.rx(phi, 2)
    circuit.measure(range(3), range(3))
    # theta = pi flips qubit 0 always; phi = 0 leaves qubit 2 alone.
    sweep = BindingsArray({(theta, phi): np.array([[np.pi, 0.0], [0.0, np.pi]])})

    bits = sample_bits(circuit, sweep, shots=50, seed=3)["c"]

    assert bits.shape == (2, 50, 3)
    assert bits[0, :, 0].all() and not bits[0, :, 2].any()
    assert bits[1, :, 2].all() and not bits[1, :, 0].any()


def test_too_wide_a_component_is_a_clear_failure() -> None:
    width = MAX_ACTIVE_QUBITS + 1
    circuit = QuantumCircuit(width)
    circuit.h(0)
    for qubit in range(1, width):
        circuit.cx(0, qubit)
    circuit.measure_all()

    with pytest.raises(ExecutionError, match=f"acts on {width} qubits"):
        sample_bits(circuit, BindingsArray(), shots=10)
