"""The wheel as users get it: built by `pip wheel .`, installed in a fresh venv with no Node."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from .server import running_server

REPO = Path(__file__).resolve().parent.parent
PACKAGE_VERSION = json.loads((REPO / "package.json").read_text())["version"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")

pytestmark = pytest.mark.packaging


def _tracked_sources(destination: Path) -> None:
    """Copy what a fresh clone holds: tracked files only, so no earlier build can be reused."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = REPO / name.decode()
        if source.is_file():
            target = destination / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # Reuse the installed JavaScript dependencies: the hook's `jlpm install` has nothing to do.
    if (REPO / "node_modules").is_dir():
        (destination / "node_modules").symlink_to(REPO / "node_modules")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    dist = tmp_path_factory.mktemp("dist")
    _tracked_sources(source)
    assert not (source / "jupyter_session_monitor" / "labextension").exists()

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
    )
    (built,) = dist.glob("jupyter_session_monitor-*.whl")
    return built


def test_wheel_carries_the_production_labextension_and_server_config(wheel: Path) -> None:
    data = f"jupyter_session_monitor-{PACKAGE_VERSION}.data/data"
    labext = f"{data}/share/jupyter/labextensions/jupyter-session-monitor"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read(f"{labext}/package.json"))
        server_config = json.loads(
            archive.read(f"{data}/etc/jupyter/jupyter_server_config.d/jupyter_session_monitor.json")
        )

    assert f"{labext}/install.json" in names
    assert f"{labext}/schemas/jupyter-session-monitor/plugin.json" in names
    remote_entry = manifest["jupyterlab"]["_build"]["load"]
    assert f"{labext}/{remote_entry}" in names
    assert not [n for n in names if n.startswith(labext) and n.endswith(".map")], (
        "dev build shipped"
    )
    assert server_config == {
        "ServerApp": {"jpserver_extensions": {"jupyter_session_monitor": True}}
    }


def _run(env: dict[str, str], *command: str) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return ANSI.sub("", result.stdout + result.stderr)


def test_wheel_in_a_fresh_venv_without_node_enables_both_extensions(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    pip_cache = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {
        # Only the venv on PATH: no node, no jlpm, nothing from the developer's environment.
        "PATH": str(bin_dir),
        "HOME": str(tmp_path / "home"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PIP_CACHE_DIR": pip_cache,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE"):
        if key in os.environ:
            env[key] = os.environ[key]
    assert shutil.which("node", path=env["PATH"]) is None

    _run(env, str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel))

    servers = _run(env, str(bin_dir / "jupyter"), "server", "extension", "list")
    assert re.search(r"jupyter_session_monitor enabled", servers), servers
    assert re.search(rf"jupyter_session_monitor {re.escape(PACKAGE_VERSION)} OK", servers), servers

    labextensions = _run(env, str(bin_dir / "jupyter"), "labextension", "list")
    assert re.search(
        rf"jupyter-session-monitor v{re.escape(PACKAGE_VERSION)} enabled OK "
        r"\(python, jupyter_session_monitor\)",
        labextensions,
    ), labextensions

    # And the installed package, not this source tree, answers over HTTP.
    with running_server(str(bin_dir / "python"), tmp_path, env=env) as (url, token):
        request = urllib.request.Request(  # noqa: S310 (an http:// URL on loopback)
            f"{url}session-monitor/api/version", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            assert json.loads(response.read())["version"] == PACKAGE_VERSION
