"""Start a real `jupyter server` subprocess on loopback and wait until it says it is listening."""

from __future__ import annotations

import os
import queue
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(
    python: str,
    workdir: Path,
    *extra_args: str,
    env: dict[str, str] | None = None,
    app: str = "jupyter_server",
    kill: bool = False,
) -> Iterator[tuple[str, str]]:
    """Yield (url, token) of `python -m app` (jupyter_server or jupyterlab); stop it on exit.

    The server gets its own HOME and Jupyter folders under `workdir`, so nothing of the user's
    configuration leaks in and nothing is written outside. ``kill``: end it with SIGKILL, as a
    crash would, instead of a clean shutdown.
    """
    token = secrets.token_hex(16)
    port = free_port()
    dirs = {name: workdir / f"server-{name}" for name in ("home", "config", "data", "runtime")}
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    process_env = {
        **(os.environ if env is None else env),
        "HOME": str(dirs["home"]),
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
    }
    process = subprocess.Popen(
        [
            python,
            "-m",
            app,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={workdir}",
            *extra_args,
        ],
        env=process_env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
            log.append(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    url = f"http://127.0.0.1:{port}/"
    try:
        # jupyter_server logs its URL *before* it binds the socket; the monitor's start line comes
        # from a later event-loop callback, once the server listens. Wait for that line.
        while True:
            try:
                line = lines.get(timeout=60)
            except queue.Empty as timeout:
                raise RuntimeError(
                    "jupyter server did not start in 60 s:\n" + "".join(log)
                ) from timeout
            if line is None:
                raise RuntimeError(f"jupyter server exited ({process.wait()}):\n" + "".join(log))
            if "Qiskit session monitor" in line and "is serving" in line:
                break
        try:
            yield url, token
        except BaseException as error:
            error.add_note("jupyter server log:\n" + "".join(log))
            raise
    finally:
        if kill:
            process.kill()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
