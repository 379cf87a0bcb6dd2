"""A real JupyterLab server (a subprocess, own dirs) and Debian's Chromium via Playwright."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from labserver import Lab

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the server helper is shared with the tests in tests/

from jupyter_session_monitor.emulator.runner import EmulatorThread  # noqa: E402
from jupyter_session_monitor.emulator.server import EmulatorConfig  # noqa: E402
from tests.harness import Harness  # noqa: E402
from tests.server import running_server  # noqa: E402

#: Every duration of the service at a tenth: interactive TTL 6 s, the no-job close 3 min, and a
#: job 2 s (job_seconds 20), slow enough to watch a queue drain, fast enough for a test.
TIME_SCALE = 0.1
JOB_SECONDS = 20.0

ARTIFACTS = HERE / "artifacts"

# Keeps Chromium quiet on a closed network and runnable as root.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


#: The monitor's settings on every server of the browser tests (JupyterLab, Notebook 7, the hub's
#: single-user servers): the no-job close scaled like the emulator, and quick polls.
MONITOR_ARGS = [
    f"--SessionMonitorApp.no_job_close_seconds={1800 * TIME_SCALE}",
    "--SessionMonitorApp.poll_busy_interval=0.5",
    "--SessionMonitorApp.poll_active_interval=0.5",
    "--SessionMonitorApp.poll_idle_interval=1",
    "--SessionMonitorApp.usage_settle_seconds=0",  # the emulator reports usage live
]


def server_environment(base: Path, emulator: Harness) -> dict[str, str]:
    """A test server's environment: its own Lab settings and IPython folder under ``base``, and
    the emulator's client environment, which its kernels inherit."""
    settings = base / "settings"
    _write_settings(settings)
    return {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "IPYTHONDIR": str(base / "ipython"),
        "USAGE_DATA_OPT_OUT": "True",
        # QiskitRuntimeService() with no arguments reaches the emulator.
        **emulator.emulator.client_environment(),
    }


def _write_settings(settings_dir: Path) -> None:
    # No "receive official Jupyter news?" toast over the screenshots, nothing fetched from outside.
    notification = settings_dir / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # A notebook opened by URL starts its kernel without asking (no "Select Kernel" dialog).
    notebooks = settings_dir / "@jupyterlab" / "notebook-extension"
    notebooks.mkdir(parents=True)
    (notebooks / "tracker.jupyterlab-settings").write_text(
        json.dumps({"autoStartDefaultKernel": True})
    )


@pytest.fixture(scope="session")
def emulator() -> Iterator[Harness]:
    """The local Qiskit Runtime emulator, time-scaled, shared by the browser tests."""
    thread = EmulatorThread(EmulatorConfig(time_scale=TIME_SCALE, job_seconds=JOB_SECONDS))
    thread.start()
    try:
        yield Harness(thread)
    finally:
        thread.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, emulator: Harness) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("lab")
    workspaces = base / "workspaces"
    workspaces.mkdir()
    env = {**server_environment(base, emulator), "JUPYTERLAB_WORKSPACES_DIR": str(workspaces)}
    with running_server(
        sys.executable,
        base,
        "--FileContentsManager.delete_to_trash=False",
        # Tests drive Lab's commands (theme, running cells) through window.jupyterapp.
        "--LabApp.expose_app_in_browser=True",
        *MONITOR_ARGS,
        env=env,
        app="jupyterlab",
    ) as (url, token):
        yield Lab(url=url, token=token, root_dir=base)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not chromium:
        pytest.fail("Debian's chromium is required for the browser tests: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": CHROMIUM_FLAGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def screenshot_path() -> Callable[[str], str]:
    """Where a test saves a named screenshot (ui-tests/artifacts/NAME.png), to look at."""
    ARTIFACTS.mkdir(exist_ok=True)

    def path(name: str) -> str:
        return str(ARTIFACTS / f"{name}.png")

    return path
