"""`./dev demo` (#13): it starts the emulator and JupyterLab on the ports it is given, serves a
scratch copy of the demo folder with the sidebar's warning thresholds scaled like the emulator's
durations, and nothing done in it (a new notebook, an autosave) writes into
the checkout. Runs the real script, a real JupyterLab and the emulator."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.server import free_port

ROOT = Path(__file__).resolve().parent.parent


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def request(url: str, token: str, method: str = "GET", body: object = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback)
    call.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(call, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_dev_demo_serves_a_scratch_copy_and_leaves_the_checkout_clean(tmp_path: Path) -> None:
    before = git_status()
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "PORT": str(port), "EMULATOR_PORT": "0", "HOME": str(tmp_path)}
    process = subprocess.Popen(
        ["bash", str(ROOT / "dev"), "demo", f"--IdentityProvider.token={token}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the script, its emulator and JupyterLab: one group to stop
    )
    log: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # until JupyterLab's monitor says it serves
            log.append(line)
            if "Qiskit session monitor" in line and "is serving" in line:
                break
        else:
            pytest.fail("./dev demo ended before JupyterLab started:\n" + "".join(log))
        url = f"http://127.0.0.1:{port}/"
        contents = request(f"{url}api/contents", token)
        assert isinstance(contents, dict)
        assert [item["name"] for item in contents["content"]] == ["sessions.ipynb"]
        # What a user does in the demo: a new notebook, a save of the demo notebook.
        request(f"{url}api/contents", token, "POST", {"type": "notebook"})
        demo = request(f"{url}api/contents/sessions.ipynb", token)
        assert isinstance(demo, dict)
        request(
            f"{url}api/contents/sessions.ipynb",
            token,
            "PUT",
            {"type": "notebook", "format": "json", "content": demo["content"]},
        )
        # The sidebar's warnings are scaled like the emulator's durations (time scale 0.1).
        settings = request(f"{url}lab/api/settings/jupyter-session-monitor:plugin", token)
        assert isinstance(settings, dict)
        assert settings["settings"]["idleWarningSeconds"] == 3
        assert settings["settings"]["maxTtlWarnings"] == [30, 6]
        served = request(f"{url}session-monitor/api/sessions", token)
        assert isinstance(served, dict) and served["sessions"] == []
        assert git_status() == before  # nothing new or changed under demo/
        scratch = ROOT / ".cache" / "demo" / "notebooks"
        assert (scratch / "Untitled.ipynb").exists()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        (ROOT / ".cache" / "demo" / "notebooks" / "Untitled.ipynb").unlink(missing_ok=True)
