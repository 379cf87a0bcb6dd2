"""Calls of the unmodified client's public API that the emulator serves as the service does,
driven over HTTP: deleting jobs, the job list's date filters, backend details."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit_ibm_runtime import SamplerV2 as Sampler
from qiskit_ibm_runtime import Session
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import IBMRuntimeError, RuntimeJobNotFound

from tests.harness import Harness, bell

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_deleting_a_queued_job_removes_it_and_a_running_one_is_refused(
    make_emulator: Callable[..., Harness],
) -> None:
    # Real durations, a job of 100 s: the first job runs, the second waits; the clock is moved.
    harness = make_emulator(time_scale=1.0, job_seconds=100)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    session = Session(backend=backend)
    sampler = Sampler(mode=session)
    running = sampler.run([bell(backend)], shots=10)
    queued = sampler.run([bell(backend)], shots=10)
    assert running.status() == "RUNNING" and queued.status() == "QUEUED"
    session.close()  # closes once its jobs are drained

    service.delete_job(queued.job_id())

    with pytest.raises(RuntimeJobNotFound):
        service.job(queued.job_id())
    assert [job.job_id() for job in service.jobs(session_id=session.session_id)] == [
        running.job_id()
    ]
    # A running job cannot be deleted: the service refuses and the client raises.
    with pytest.raises(IBMRuntimeError, match="Failed to delete job"):
        service.delete_job(running.job_id())
    # The deleted job is out of the session's job list: the session closes with the running one.
    harness.admin("POST", "/emulator/clock", {"advance": 101})
    assert running.status() == "DONE"
    assert session.status() == "Closed"
    # A finished job can be deleted too; a second delete is "not found".
    service.delete_job(running.job_id())
    with pytest.raises(RuntimeJobNotFound):
        service.delete_job(running.job_id())


def test_jobs_are_filtered_by_creation_date(make_emulator: Callable[..., Harness]) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.1)
    service = harness.service()
    backend = service.backend("ibmq_manila")
    jobs = []
    for _ in range(3):  # created 100 s apart on the service's clock
        jobs.append(Sampler(mode=backend).run([bell(backend)], shots=10))
        harness.admin("POST", "/emulator/clock", {"advance": 100})
    first, middle, last = (job.job_id() for job in jobs)
    created = jobs[1].creation_date  # local time, as the client gives it back
    assert created is not None

    def ids(**filters: object) -> list[str]:
        return [job.job_id() for job in service.jobs(descending=False, **filters)]

    # Both bounds are inclusive ("greater than or equal to", "less than or equal to").
    assert ids(created_after=created) == [middle, last]
    assert ids(created_before=created) == [first, middle]
    assert ids(created_after=created, created_before=created) == [middle]
    assert ids(created_after=created + timedelta(seconds=1)) == [last]
    assert ids(created_before=created - timedelta(seconds=1)) == [first]
    assert ids() == [first, middle, last]


def test_backends_report_their_physical_qubits(emulator: Harness) -> None:
    service = emulator.service()

    # Read by the client from the /backends entries: qubits plus a Heron's tunable couplers.
    assert service.backend("ibmq_manila").physical_qubits == 5
    assert service.backend("ibmq_kolkata").physical_qubits == 27
    torino = service.backend("ibm_torino")
    assert torino.physical_qubits == 133 + 150 and torino.num_qubits == 133


def test_an_unknown_calibration_id_is_not_found(emulator: Harness) -> None:
    service = emulator.service()

    # The service answers 404 for the configuration; the client cannot build the backend.
    with pytest.raises(QiskitBackendNotFoundError):
        service.backend("ibmq_manila", calibration_id="no-such-calibration")
    statuses = [r["status"] for r in emulator.requests() if r["path"].endswith("/configuration")]
    assert 404 in statuses
    assert service.backend("ibmq_manila").num_qubits == 5  # without one, as before


def test_a_private_job_hides_its_inputs_and_its_results_can_be_read_once(
    emulator: Harness,
) -> None:
    service = emulator.service()
    backend = service.backend("ibmq_manila")
    private = Sampler(mode=backend, options={"environment": {"private": True}})
    job = private.run([bell(backend)], shots=50)
    public = Sampler(mode=backend).run([bell(backend)], shots=50)

    assert job.inputs == {}  # GET /jobs/{id} without exclude_params: no params
    assert "pubs" in public.inputs
    assert service.job(job.job_id()).private is True
    counts = job.result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 50
    # The first read deleted the results: the service answers 404 and the client raises.
    with pytest.raises(RequestsApiError) as raised:
        job.result()
    assert raised.value.status_code == 404
    assert job.status() == "DONE"  # the job itself stays
    # Results of a job that is not private can be read again and again.
    public.result()
    assert sum(public.result()[0].data.meas.get_counts().values()) == 50


def test_the_noise_learner_returns_noiseless_layer_errors(emulator: Harness) -> None:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime.noise_learner import NoiseLearner
    from qiskit_ibm_runtime.results import NoiseLearnerResult

    backend = emulator.service().backend("ibmq_manila")  # coupled pairs 0-1, 1-2, 1-3, 3-4
    circuit = QuantumCircuit(3)
    circuit.h(0)
    for _ in range(2):
        circuit.cx(0, 1)
        circuit.cx(1, 2)
    isa = generate_preset_pass_manager(
        backend=backend, optimization_level=0, initial_layout=[0, 1, 2]
    ).run(circuit)

    with Session(backend=backend) as session:
        result = NoiseLearner(mode=session).run([isa]).result()
        limited = NoiseLearner(mode=session, options={"max_layers_to_learn": 1}).run([isa])
        assert len(limited.result().data) == 1

    assert isinstance(result, NoiseLearnerResult)
    assert result.metadata["input_options"]["twirling_strategy"] == "active-accum"
    # Four layers of one CX each; "active-accum" twirls every qubit touched so far, so the
    # second and fourth layer are the same one, learned once and ranked first.
    assert [(layer.qubits, dict(layer.circuit.count_ops())) for layer in result.data] == [
        ([0, 1, 2], {"cx": 1}),
        ([0, 1], {"cx": 1}),
        ([0, 1, 2], {"cx": 1}),
    ]
    first = result.data[0]
    assert first.error is not None
    # One- and two-body generators: 3 per qubit, 9 per coupled pair (0-1 and 1-2); all rates 0.
    assert len(first.error.generators) == 3 * 3 + 9 * 2
    assert not first.error.rates.any()


def test_an_instance_given_by_name_is_resolved_to_its_crn(emulator: Harness) -> None:
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime.exceptions import IBMInputValueError

    crn = emulator.emulator.instance_crn
    # The client (0.51) looks the name up in the instances Global Search lists (the catalog gives
    # their plans); it never calls the Resource Controller.
    service = QiskitRuntimeService(instance="emulator-premium")
    assert service.active_account()["instance"] == crn
    backend = service.backend("ibmq_manila")
    job = Sampler(mode=backend).run([bell(backend)], shots=10)
    assert sum(job.result()[0].data.meas.get_counts().values()) == 10
    assert all("resource_instances" not in r["path"] for r in emulator.requests())
    with pytest.raises(IBMInputValueError, match="not a valid instance name"):
        QiskitRuntimeService(instance="no-such-instance")


def test_mock_backends_are_listed_for_the_client_and_run_dry_runs(
    make_emulator: Callable[..., Harness],
) -> None:
    harness = make_emulator(time_scale=1.0, job_seconds=0.1, instance_limit=600)
    service = harness.service()

    # The client always asks for mocks and hides them itself unless include_mocks is set.
    assert {b.name for b in service.backends()} == {"ibmq_manila", "ibmq_kolkata", "ibm_torino"}
    mocks = {b.name: b for b in service.backends(include_mocks=True) if b.is_mock}
    assert set(mocks) == {"mock_manila", "mock_kolkata", "mock_torino"}
    assert mocks["mock_torino"].num_qubits == 133
    assert not service.backend("ibm_torino").is_mock

    # dry_run sends the job to the device's mock counterpart: it runs, and is not billed.
    backend = service.backend("ibmq_manila")
    job = Sampler(mode=backend).run([bell(backend)], shots=20, dry_run=True)
    assert job.backend().name == "mock_manila"
    assert sum(job.result()[0].data.meas.get_counts().values()) == 20
    assert job.usage() > 0
    assert service.usage()["usage_consumed_seconds"] == 0
    # The job list leaves dry runs out unless asked for them.
    assert job.job_id() not in [j.job_id() for j in service.jobs()]
    assert job.job_id() in [j.job_id() for j in service.jobs(include_mocks=True)]


def test_a_job_past_its_max_execution_time_is_cancelled_as_an_error(
    make_emulator: Callable[..., Harness],
) -> None:
    from qiskit_ibm_runtime.exceptions import RuntimeJobMaxTimeoutError

    harness = make_emulator(time_scale=1.0, job_seconds=100)  # the clock is moved, not waited
    service = harness.service()
    backend = service.backend("ibmq_manila")
    sampler = Sampler(mode=backend)
    sampler.options.max_execution_time = 30
    job = sampler.run([bell(backend)], shots=10)
    assert job.status() == "RUNNING"

    harness.admin("POST", "/emulator/clock", {"advance": 31})

    # Cancelled with reason code 1305, which the client turns into an error.
    assert job.status() == "ERROR"
    assert "maximum execution time" in (job.error_message() or "")
    with pytest.raises(RuntimeJobMaxTimeoutError):
        job.result()
    assert job.usage() == pytest.approx(30, abs=0.01)
