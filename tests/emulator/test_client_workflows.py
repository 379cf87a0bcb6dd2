"""The unmodified qiskit-ibm-runtime client runs the documented session workflows against the
emulator over HTTP, configured by environment variables only."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.library import efficient_su2
from qiskit.primitives import StatevectorEstimator
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Batch, QiskitRuntimeService, Session
from qiskit_ibm_runtime import EstimatorV2 as Estimator
from qiskit_ibm_runtime import SamplerV2 as Sampler

from tests.harness import Harness, bell, ghz, wait_until

# The legacy V2 primitives are what the seed documentation uses; their deprecation is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# The two-qubit Hamiltonian of the documentation's VQE example.
HAMILTONIAN = SparsePauliOp.from_list(
    [("YZ", 0.3980), ("ZI", -0.3980), ("ZZ", -0.0113), ("XX", 0.1810)]
)


def test_service_from_environment_lists_the_fake_devices(emulator: Harness) -> None:
    service = emulator.service()

    names = {backend.name for backend in service.backends()}
    assert {"ibmq_manila", "ibmq_kolkata", "ibm_torino"} <= names
    assert service.backend("ibmq_manila").num_qubits == 5
    assert service.backend("ibmq_kolkata").num_qubits == 27
    assert service.backend("ibmq_kolkata").configuration().simulator is False


def test_context_manager_session_runs_jobs_and_closes_on_exit(emulator: Harness) -> None:
    backend = emulator.service().backend("ibmq_kolkata")

    with Session(backend=backend) as session:
        assert session.status() == "Pending"
        result = Sampler(mode=session).run([bell(backend)], shots=400).result()
        counts = result[0].data.meas.get_counts()
        assert set(counts) <= {"00", "11"} and sum(counts.values()) == 400
        assert session.status() == "In progress, accepting new jobs"
        details = session.details()
        assert details["started_at"] is not None and details["mode"] == "dedicated"

    assert session.status() == "Closed"
    assert session.details()["closed_at"] is not None


def test_session_then_close_lets_queued_jobs_finish(make_emulator: Callable[..., Harness]) -> None:
    harness = make_emulator(time_scale=0.02, job_seconds=10)  # a job runs 0.2 s
    backend = harness.service().backend("ibmq_manila")
    session = Session(backend=backend)
    sampler = Sampler(mode=session)
    jobs = [sampler.run([bell(backend)], shots=10) for _ in range(3)]

    session.close()

    assert session.status() == "In progress, not accepting new jobs"
    with pytest.raises(Exception, match="The session is closed"):  # the client's own check
        sampler.run([bell(backend)], shots=10)
    # A handle from elsewhere does not know; the service itself refuses the job.
    elsewhere = Session.from_id(session.session_id, service=QiskitRuntimeService())
    with pytest.raises(Exception, match="not accepting new jobs"):
        Sampler(mode=elsewhere).run([bell(backend)], shots=10)
    assert [job.result()[0].data.meas.num_shots for job in jobs] == [10, 10, 10]
    wait_until(lambda: session.status() == "Closed")


@pytest.mark.parametrize(("max_time", "seconds"), [(600, 600), ("25m", 1500), ("1h30m", 5400)])
def test_max_time_is_reported_scaled(
    make_emulator: Callable[..., Harness], max_time: int | str, seconds: int
) -> None:
    harness = make_emulator(time_scale=0.5)
    backend = harness.service().backend("ibmq_manila")

    with Session(backend=backend, max_time=max_time) as session:
        details = session.details()

    assert details["max_time"] == seconds * 0.5
    assert details["interactive_timeout"] == 30


def test_estimator_values_are_exact(emulator: Harness) -> None:
    backend = emulator.service().backend("ibmq_kolkata")
    circuit = generate_preset_pass_manager(backend=backend, optimization_level=1).run(
        QuantumCircuit(2)
    )
    observables = [
        SparsePauliOp(label).apply_layout(circuit.layout) for label in ("ZZ", "ZI", "XX", "IZ")
    ]

    with Session(backend=backend) as session:
        values = Estimator(mode=session).run([(circuit, observables)]).result()[0].data.evs

    np.testing.assert_allclose(values, [1.0, 1.0, 0.0, 1.0], atol=1e-12)


def test_estimator_results_report_the_shots_the_service_would_run(emulator: Harness) -> None:
    backend = emulator.service().backend("ibmq_manila")
    circuit = generate_preset_pass_manager(backend=backend, optimization_level=1).run(
        QuantumCircuit(1)
    )
    pub = (circuit, SparsePauliOp("Z").apply_layout(circuit.layout))

    def metadata(options: dict[str, object], precision: float | None = None) -> dict[str, object]:
        estimator = Estimator(mode=backend, options=options)
        result: dict[str, object] = estimator.run([pub], precision=precision).result()[0].metadata
        return result

    # Default precision 0.015625 and resilience level 1 (measurement twirling): 32 x 128 shots.
    default = metadata({})
    assert default["shots"] == 4096 and default["target_precision"] == 0.015625
    assert default["num_randomizations"] == 32
    # No twirling: shots = ceil(1 / precision**2), or default_shots when set.
    assert metadata({"resilience_level": 0}, precision=0.1)["shots"] == 100
    assert metadata({"resilience_level": 0, "default_shots": 1000})["shots"] == 1000
    # Twirling set: randomizations x shots per randomization.
    twirled = metadata({"twirling": {"num_randomizations": 10, "shots_per_randomization": 100}})
    assert twirled["shots"] == 1000 and twirled["num_randomizations"] == 10
    assert metadata({"twirling": {"num_randomizations": 10}})["shots"] == 10 * 410


@pytest.mark.parametrize("mode", [Session, Batch])
def test_estimator_results_have_the_broadcast_shape_of_every_pub(
    emulator: Harness, mode: type[Session]
) -> None:
    # #30 item 1: a PUB of shape () came back with evs as a float, and the client's own
    # code ('float' object has no attribute 'shape') and users' code failed. Each shape the
    # client's EstimatorPub accepts, several PUBs in one job, with options and a precision.
    backend = emulator.service().backend("ibmq_manila")
    theta = Parameter("theta")
    virtual = QuantumCircuit(2)
    virtual.ry(theta, 0)
    virtual.cx(0, 1)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(virtual)

    def on_device(label: str) -> SparsePauliOp:
        return SparsePauliOp(label).apply_layout(isa.layout)

    # (observables, parameter values): shapes (), (2,), (4,), (3, 4), (2, 3), (2, 2).
    shapes = [
        ("ZZ", [0.3]),
        (["ZZ", "XX"], [0.3]),
        ("ZI", [[0.1], [0.2], [0.3], [0.4]]),
        ([["ZZ"], ["XX"], ["IZ"]], np.linspace(0, 1, 4).reshape(1, 4, 1)),
        ([["ZZ"], ["XX"]], [[[0.1], [0.2], [0.3]]]),
        ([["ZZ", "XX"], ["ZI", "IZ"]], [[0.5]]),
    ]
    pubs = [
        (isa, np.vectorize(on_device, otypes=[object])(np.array(o, dtype=object)), v)
        for o, v in shapes
    ]
    with mode(backend=backend) as opened:
        estimator = Estimator(mode=opened, options={"default_shots": 2000})
        results = estimator.run(pubs, precision=0.05).result()
    expected = StatevectorEstimator().run([(virtual, o, v) for o, v in shapes]).result()

    for result, reference, (observables, values) in zip(results, expected, shapes, strict=True):
        shape = np.broadcast_shapes(np.shape(observables), np.shape(values)[:-1])
        assert isinstance(result.data.evs, np.ndarray) and result.data.evs.shape == shape
        assert result.data.stds.shape == shape
        np.testing.assert_allclose(result.data.evs, reference.data.evs, atol=1e-9)


def test_device_wide_observables_on_a_few_entangled_qubits(emulator: Harness) -> None:
    from qiskit.circuit import Parameter

    backend = emulator.service().backend("ibm_torino")
    theta = Parameter("theta")
    logical = QuantumCircuit(4)
    logical.ry(theta, 0)
    logical.cx(0, 1)
    logical.cx(1, 2)  # cos(theta/2)|000> + sin(theta/2)|111>
    logical.x(3)  # a component of its own, in |1>
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(logical)
    a, b, c, d = isa.layout.final_index_layout()
    idle = next(q for q in range(133) if q not in (a, b, c, d))

    def op(*terms: tuple[str, list[int]]) -> SparsePauliOp:
        return SparsePauliOp.from_sparse_list([(p, q, 1.0) for p, q in terms], num_qubits=133)

    observables = [
        [SparsePauliOp.from_sparse_list([("Z", [q], 1.0) for q in range(133)], num_qubits=133)],
        [op(("ZZ", [a, d]))],  # across two components: cos(theta) * -1
        [op(("XXX", [a, b, c]))],  # sin(theta)
        [op(("XXX", [a, b, c]), ("XZ", [idle, d]))],  # X on an idle qubit in |0> gives 0
    ]
    angles = np.array([[0.0], [np.pi / 3], [np.pi / 2]])

    with Batch(backend=backend) as batch:
        evs = Estimator(mode=batch).run([(isa, observables, angles)]).result()[0].data.evs

    t = angles[:, 0]
    # 129 idle qubits give +1 each, the GHZ qubits cos(theta) each, the flipped qubit -1.
    expected = [128 + 3 * np.cos(t), -np.cos(t), np.sin(t), np.sin(t)]
    assert evs.shape == (4, 3)
    np.testing.assert_allclose(evs, expected, atol=1e-9)


def test_iterative_cobyla_vqe_in_a_session(emulator: Harness) -> None:
    from scipy.optimize import minimize

    backend = emulator.service().backend("ibmq_kolkata")
    ansatz = efficient_su2(2, reps=1)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(ansatz)
    observable = HAMILTONIAN.apply_layout(isa.layout)
    energies: list[float] = []

    with Session(backend=backend) as session:
        estimator = Estimator(mode=session)

        def cost(parameters: np.ndarray) -> float:
            energy = float(estimator.run([(isa, observable, parameters)]).result()[0].data.evs)
            energies.append(energy)
            return energy

        x0 = np.full(ansatz.num_parameters, 0.4)
        result = minimize(cost, x0, method="COBYLA", options={"maxiter": 40})
        job_count = len(emulator.service().jobs(session_id=session.session_id, limit=100))

    exact = float(np.min(np.linalg.eigvalsh(HAMILTONIAN.to_matrix())))
    assert job_count == len(energies) == result.nfev
    assert result.fun < energies[0]  # the optimizer made progress on real expectation values
    assert result.fun >= exact - 1e-9  # and never beat the true ground state (-0.702)


def test_two_optimizers_in_threads_with_tags(emulator: Harness) -> None:
    service = emulator.service()
    backend = service.backend("ibmq_manila")
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(
        efficient_su2(2, reps=1)
    )
    observable = HAMILTONIAN.apply_layout(isa.layout)
    failures: list[BaseException] = []

    with Session(backend=backend) as session:

        def optimizer(tag: str, runs: int) -> None:
            try:
                estimator = Estimator(mode=session)
                estimator.options.environment.job_tags = [tag]
                for step in range(runs):
                    estimator.run(
                        [(isa, observable, np.full(isa.num_parameters, step / 10))]
                    ).result()
            except BaseException as error:
                failures.append(error)

        threads = [
            threading.Thread(target=optimizer, args=("opt-a", 3)),
            threading.Thread(target=optimizer, args=("opt-b", 2)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert not failures
        tagged_a = service.jobs(session_id=session.session_id, job_tags=["opt-a"])
        tagged_b = service.jobs(session_id=session.session_id, job_tags=["opt-b"])
        everything = service.jobs(session_id=session.session_id)

    assert len(tagged_a) == 3 and all(job.tags == ["opt-a"] for job in tagged_a)
    assert len(tagged_b) == 2 and all(job.tags == ["opt-b"] for job in tagged_b)
    assert len(everything) == 5


def test_batch_runs_jobs_in_batch_mode(emulator: Harness) -> None:
    backend = emulator.service().backend("ibmq_manila")

    with Batch(backend=backend) as batch:
        sampler = Sampler(mode=batch)
        jobs = [sampler.run([bell(backend)], shots=50) for _ in range(3)]
        results = [job.result() for job in jobs]
        assert batch.details()["mode"] == "batch"

    assert all(r[0].data.meas.num_shots == 50 for r in results)
    assert batch.status() == "Closed"


def test_cancel_cancels_queued_jobs(make_emulator: Callable[..., Harness]) -> None:
    harness = make_emulator(time_scale=0.02, job_seconds=50)  # a job runs 1 s
    backend = harness.service().backend("ibmq_manila")
    session = Session(backend=backend)
    sampler = Sampler(mode=session)
    jobs = [sampler.run([bell(backend)], shots=10) for _ in range(3)]
    wait_until(lambda: jobs[0].status() == "RUNNING")

    session.cancel()

    assert session.status() == "Closed"
    assert [job.status() for job in jobs[1:]] == ["CANCELLED", "CANCELLED"]
    wait_until(lambda: jobs[0].status() == "DONE")  # the running job finishes


def test_max_ttl_expiry_fails_queued_jobs(make_emulator: Callable[..., Harness]) -> None:
    harness = make_emulator(time_scale=0.01, job_seconds=60)  # a job runs 0.6 s
    backend = harness.service().backend("ibmq_manila")
    session = Session(backend=backend, max_time=100)  # 1 s
    sampler = Sampler(mode=session)
    jobs = [sampler.run([bell(backend)], shots=10) for _ in range(4)]

    wait_until(lambda: session.status() == "Closed")

    statuses = [job.status() for job in jobs]
    wait_until(lambda: jobs[1].status() == "DONE")
    assert statuses[0] == "DONE" and statuses[2:] == ["ERROR", "ERROR"]
    assert "maximum time to live" in (jobs[3].error_message() or "")
    state = harness.admin("GET", "/emulator/state")["sessions"][0]
    assert "maximum time to live" in state["state_reason"]


def test_interactive_ttl_deactivates_and_next_job_reactivates(
    make_emulator: Callable[..., Harness],
) -> None:
    # Real durations (interactive TTL 60 s), a job of 0.1 s, and the service's clock moved
    # forward past the TTL: no wall-clock race between the job's end and the next call.
    harness = make_emulator(time_scale=1.0, job_seconds=0.1)
    backend = harness.service().backend("ibmq_manila")
    session = Session(backend=backend)
    sampler = Sampler(mode=session)
    sampler.run([bell(backend)], shots=10).result()
    assert session.details()["state"] == "active"

    harness.admin("POST", "/emulator/clock", {"advance": 61})

    assert session.details()["state"] == "inactive"
    assert session.status() == "Pending"
    # Billed: from the first job's start to deactivation, the idle interactive TTL included.
    assert 60.1 <= session.usage() < 62
    first_activation = session.details()["activated_at"]

    sampler.run([bell(backend)], shots=10).result()

    details = session.details()
    assert details["state"] == "active" and details["activated_at"] != first_activation
    assert [t["status"] for t in details["timestamps"]] == ["open", "active", "inactive", "active"]
    session.close()


def test_session_without_jobs_closes_after_scaled_thirty_minutes(
    make_emulator: Callable[..., Harness],
) -> None:
    harness = make_emulator(time_scale=0.001)  # 30 minutes -> 1.8 s
    session = Session(backend=harness.service().backend("ibmq_manila"))
    assert session.status() == "Pending"

    wait_until(lambda: session.status() == "Closed")

    assert "30 minutes" in harness.admin("GET", "/emulator/state")["sessions"][0]["state_reason"]


def test_from_id_in_a_second_service_sees_the_same_session(emulator: Harness) -> None:
    backend = emulator.service().backend("ibmq_manila")
    session = Session(backend=backend)
    Sampler(mode=session).run([bell(backend)], shots=10).result()

    other = Session.from_id(session.session_id, service=QiskitRuntimeService())
    other.close()

    assert session.status() == "Closed"
    assert other.details()["id"] == session.session_id


def test_open_plan_refuses_sessions_but_runs_jobs(make_emulator: Callable[..., Harness]) -> None:
    from qiskit_ibm_runtime.api.exceptions import RequestsApiError

    harness = make_emulator(plan="open", time_scale=0.02)
    service = harness.service()
    assert service.instances()[0]["plan"] == "open"
    backend = service.backend("ibmq_manila")

    with pytest.raises(RequestsApiError, match="not authorized to run a session") as refused:
        Session(backend=backend)
    assert refused.value.status_code == 403
    result = Sampler(mode=backend).run([bell(backend)], shots=20).result()
    assert result[0].data.meas.num_shots == 20


def test_job_list_filters_pages_and_counts(emulator: Harness) -> None:
    service = emulator.service()
    backend = service.backend("ibmq_manila")
    with Session(backend=backend) as session:
        sampler = Sampler(mode=session)
        for _ in range(5):
            sampler.run([bell(backend)], shots=5).result()

    first = service.jobs(session_id=session.session_id, limit=2)
    second = service.jobs(session_id=session.session_id, limit=2, skip=2)
    done = service.jobs(session_id=session.session_id, pending=False, limit=10)

    assert len(first) == 2 and len(second) == 2
    assert not {j.job_id() for j in first} & {j.job_id() for j in second}
    assert len(done) == 5
    assert service.jobs(session_id=session.session_id, pending=True) == []


def test_job_metrics_timestamps_and_tag_update(emulator: Harness) -> None:
    backend = emulator.service().backend("ibmq_manila")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = Sampler(mode=backend).run([bell(backend)], shots=5)
    job.result()

    metrics = job.metrics()
    job.update_tags(["renamed"])

    assert metrics["timestamps"]["created"] <= metrics["timestamps"]["running"]
    assert metrics["timestamps"]["running"] <= metrics["timestamps"]["finished"]
    assert metrics["position_in_queue"] is None
    assert emulator.service().job(job.job_id()).tags == ["renamed"]


def test_client_side_primitives_run_through_the_executor_program(emulator: Harness) -> None:
    from qiskit_ibm_runtime.executor_estimator import Estimator as ClientSideEstimator
    from qiskit_ibm_runtime.executor_sampler import Sampler as ClientSideSampler

    backend = emulator.service().backend("ibmq_kolkata")
    pm = generate_preset_pass_manager(backend=backend, optimization_level=1)
    idle = pm.run(QuantumCircuit(2))

    with Session(backend=backend) as session:
        counts = ClientSideSampler(mode=session).run([bell(backend)], shots=300).result()
        values = (
            ClientSideEstimator(mode=session)
            .run([(idle, [SparsePauliOp(p).apply_layout(idle.layout) for p in ("ZZ", "XX")])])
            .result()
        )

    # What the service was asked to run, seen from the emulator's side.
    programs = emulator.thread.call(
        lambda: {j.program_id for j in emulator.emulator.service.jobs.values()}
    )
    assert programs == {"executor"}
    measured = counts[0].data.meas.get_counts()
    assert set(measured) <= {"00", "11"} and sum(measured.values()) == 300
    np.testing.assert_allclose(values[0].data.evs, [1.0, 0.0], atol=0.2)  # twirled, shot noise


def test_too_wide_circuit_fails_with_a_reason(emulator: Harness) -> None:
    from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError

    backend = emulator.service().backend("ibm_torino")
    isa = ghz(backend, 24)

    job = Sampler(mode=backend).run([isa], shots=10)

    with pytest.raises(RuntimeJobFailureError, match="simulates at most 20 active qubits"):
        job.result()
    assert job.status() == "ERROR"
