"""`python -m jupyter_session_monitor.emulator serve`: the env file, and using it from a client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from qiskit_ibm_runtime import QiskitRuntimeService


def test_serve_writes_the_client_environment_and_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "emulator.env.json"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_session_monitor.emulator",
            "serve",
            "--port",
            "0",
            "--time-scale",
            "0.5",
            "--transition-lag",
            "5",
            "--clock-offset",
            "-90",
            "--usage-report-period",
            "60",
            "--jobs-page-limit",
            "25",
            "--env-file",
            str(env_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # printed once listening and the file is written
        assert "Qiskit Runtime emulator listening on http://127.0.0.1:" in banner
        assert "transitions 5 s late, clock -90 s, usage reported every 60 s" in banner
        assert "25 jobs per page" in banner
        environment = json.loads(env_file.read_text())
        assert environment["QISKIT_IBM_URL"].startswith("http://127.0.0.1:")

        monkeypatch.setenv("HOME", str(tmp_path))
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        service = QiskitRuntimeService()

        assert "ibmq_manila" in {b.name for b in service.backends()}
    finally:
        server.terminate()
        assert server.wait(timeout=20) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["serve", "--time-scale", "0"], "must be a positive number"),
        (["serve", "--plan", "gold"], "invalid choice: 'gold'"),
        (["serve", "--transition-lag", "-1"], "must not be negative"),
        (["serve", "--jobs-page-limit", "0"], "must be at least 1"),
        (["serve", "--jobs-page-limit", "2.5"], "must be a whole number"),
        ([], "required: command"),
    ],
)
def test_bad_arguments_are_explained(arguments: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_session_monitor.emulator", *arguments],
        capture_output=True,
        text=True,
        env={**os.environ},
    )

    assert result.returncode == 2
    assert message in result.stderr


def test_a_busy_port_is_a_one_line_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter_session_monitor.emulator",
                "serve",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
        )

    assert result.returncode == 1
    assert (
        result.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_the_help_points_to_the_admin_api() -> None:
    # #26 item 11: --help said nothing of the faults, clock, state and request-log routes.
    for arguments in (["--help"], ["serve", "--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "jupyter_session_monitor.emulator", *arguments],
            capture_output=True,
            text=True,
            check=True,
        )
        for route in (
            "/emulator/requests",
            "/emulator/faults",
            "/emulator/state",
            "/emulator/clock",
        ):
            assert route in result.stdout, (arguments, result.stdout)
        assert "docs/emulator.md" in result.stdout
