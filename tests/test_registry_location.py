"""The registry is SQLite in WAL mode, which is not safe on a network file system (NFS home folders
are common on hubs). The default location on one moves to local disk with one warning; a location
chosen on one stops the monitor with a message saying what to set.

Detection is tested on mounts tables given as text (no NFS can be mounted here); the start-up
behaviour through a real jupyter_server whose detector says where the network file system is."""

from __future__ import annotations

import asyncio
import os
import stat
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

import jupyter_session_monitor.server.app as app_module
from jupyter_session_monitor.server.app import (
    SessionMonitorApp,
    SettingError,
    local_registry_path,
    mount_of,
    network_filesystem,
)

Fetch = Callable[..., Awaitable[Any]]

MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid 0 0
server:/export/home /home nfs4 rw,relatime,vers=4.2 0 0
tmpfs /home/alice/scratch tmpfs rw 0 0
alice@login:/data /home/alice/remote fuse.sshfs rw 0 0
//files/team /mnt/team\\040share cifs rw 0 0
"""


def test_a_home_folder_on_nfs_is_detected() -> None:
    path = "/home/alice/.local/share/jupyter/session_monitor/registry.sqlite"

    assert network_filesystem(path, MOUNTS) == "nfs4"
    assert mount_of(path, MOUNTS) == ("/home", "nfs4")


def test_the_longest_mount_point_holding_the_path_decides() -> None:
    assert network_filesystem("/home/alice/scratch/registry.sqlite", MOUNTS) is None
    assert network_filesystem("/home/alice/remote/registry.sqlite", MOUNTS) == "fuse.sshfs"
    assert network_filesystem("/var/lib/jupyter/registry.sqlite", MOUNTS) is None
    # A mount point matches whole path components only.
    assert network_filesystem("/homestead/registry.sqlite", MOUNTS) is None


def test_escaped_mount_points_and_stacked_mounts() -> None:
    assert network_filesystem("/mnt/team share/registry.sqlite", MOUNTS) == "cifs"
    # A later mount on the same point hides the earlier one.
    stacked = MOUNTS + "/dev/sdb1 /home ext4 rw 0 0\n"
    assert network_filesystem("/home/bob/registry.sqlite", stacked) is None


@pytest.mark.parametrize(
    "fs_type",
    [
        *("nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "fuse.sshfs"),
        *("9p", "ceph", "glusterfs", "fuse.glusterfs", "afs"),
    ],
)
def test_network_file_system_types_are_recognised(fs_type: str) -> None:
    table = f"/dev/sda1 / ext4 rw 0 0\nremote:/x /work {fs_type} rw 0 0\n"

    assert network_filesystem("/work/registry.sqlite", table) == fs_type


@pytest.mark.parametrize("fs_type", ["ext4", "xfs", "btrfs", "zfs", "tmpfs", "overlay"])
def test_local_file_system_types_are_not(fs_type: str) -> None:
    table = f"/dev/sda1 / ext4 rw 0 0\nsomething /work {fs_type} rw 0 0\n"

    assert network_filesystem("/work/registry.sqlite", table) is None


def test_a_symbolic_link_into_a_network_mount_is_followed(tmp_path: Path) -> None:
    (tmp_path / "mounted").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "mounted")
    table = f"/dev/sda1 / ext4 rw 0 0\nserver:/x {tmp_path / 'mounted'} nfs rw 0 0\n"

    assert network_filesystem(str(tmp_path / "link" / "registry.sqlite"), table) == "nfs"


def test_this_machines_mounts_table_is_read() -> None:
    # The registry of the test servers lives under the local temporary folder.
    assert network_filesystem(str(Path(tempfile.gettempdir()) / "r.sqlite")) is None


# ---------------------------------------------------------------- through the server's start


@pytest.fixture
def network_dirs(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    jp_data_dir: Path,
    jp_runtime_dir: Path,
) -> dict[str, Path]:
    """The folders the detector reports on NFS (parametrized with names of Jupyter folders, or
    "chosen", a folder set as db_path); the temporary folder is the test's own."""
    named = {"data": jp_data_dir, "runtime": jp_runtime_dir, "chosen": tmp_path / "chosen"}
    roots = {name: named[name].resolve() for name in getattr(request, "param", ("data",))}

    def detector(path: str, mounts: str | None = None) -> str | None:
        target = Path(path).resolve()
        return "nfs4" if any(target.is_relative_to(root) for root in roots.values()) else None

    monkeypatch.setattr(app_module, "network_filesystem", detector)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    return roots


@pytest.fixture
def jp_server_config(
    network_dirs: dict[str, Path], jp_server_config: dict[str, Any]
) -> dict[str, Any]:
    # The detector is in place before the server (and the extension) start.
    if "chosen" in network_dirs:
        chosen = network_dirs["chosen"] / "registry.sqlite"
        jp_server_config["SessionMonitorApp"]["db_path"] = str(chosen)
    return jp_server_config


def monitor_app(serverapp: Any) -> SessionMonitorApp:
    (app,) = serverapp.extension_manager.extension_apps["jupyter_session_monitor"]
    assert isinstance(app, SessionMonitorApp)
    return app


def messages(capsys: pytest.CaptureFixture[str], level: str) -> list[str]:
    """The registry's log lines at ``level`` ("W", "E"): the server logs to stderr while it loads
    its extensions (pytest-jupyter reroutes its log only afterwards)."""
    lines = capsys.readouterr().err.splitlines()
    return [
        line.split("] ", 1)[1]
        for line in lines
        if line.startswith(f"[{level} ") and "registry" in line
    ]


async def test_the_default_registry_on_nfs_moves_to_the_local_runtime_folder(
    capsys: pytest.CaptureFixture[str],
    jp_serverapp: Any,
    jp_fetch: Fetch,
    jp_data_dir: Path,
    jp_runtime_dir: Path,
) -> None:
    response = await jp_fetch("session-monitor", "api", "sessions")

    assert response.code == 200
    app = monitor_app(jp_serverapp)
    local = jp_runtime_dir / "session_monitor" / "registry.sqlite"
    assert Path(app.db_path) == local
    assert local.exists()
    assert not (jp_data_dir / "session_monitor").exists()
    (warning,) = messages(capsys, "W")
    default = jp_data_dir / "session_monitor" / "registry.sqlite"
    assert f"registry {default} is on a network file system (nfs4)" in warning
    assert f"using {local} on local disk instead" in warning
    assert "SessionMonitorApp.db_path" in warning and "JUPYTER_SESSION_MONITOR_DB_PATH" in warning


@pytest.mark.parametrize("network_dirs", [("data", "runtime")], indirect=True)
async def test_with_the_runtime_folder_on_nfs_too_a_private_temporary_folder_is_used(
    capsys: pytest.CaptureFixture[str], jp_serverapp: Any, jp_fetch: Fetch, tmp_path: Path
) -> None:
    response = await jp_fetch("session-monitor", "api", "sessions")

    assert response.code == 200
    folder = tmp_path / "tmp" / f"jupyter-session-monitor-{os.getuid()}"
    assert Path(monitor_app(jp_serverapp).db_path) == folder / "registry.sqlite"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "registry.sqlite").exists()
    assert len(messages(capsys, "W")) == 1


@pytest.mark.parametrize("network_dirs", [("data", "runtime")], indirect=True)
def test_a_shared_temporary_folder_of_that_name_is_refused(
    network_dirs: dict[str, Path], jp_environ: None, tmp_path: Path
) -> None:
    folder = tmp_path / "tmp" / f"jupyter-session-monitor-{os.getuid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)

    with pytest.raises(SettingError, match="not a private folder"):
        local_registry_path()


@pytest.mark.parametrize("network_dirs", [("chosen",)], indirect=True)
async def test_a_registry_chosen_on_nfs_stops_the_monitor_with_what_to_set(
    capsys: pytest.CaptureFixture[str],
    jp_server_config: dict[str, Any],
    jp_serverapp: Any,
    jp_fetch: Fetch,
    tmp_path: Path,
) -> None:
    chosen = jp_server_config["SessionMonitorApp"]["db_path"]

    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("session-monitor", "api", "sessions")

    assert caught.value.code == 404  # no monitor routes: the extension did not load
    assert not await asyncio.to_thread(os.path.exists, chosen)
    (error,) = messages(capsys, "E")
    assert error == (
        f"The Qiskit session monitor is not started: its registry {chosen}, set by "
        "SessionMonitorApp.db_path, is on a network file system (nfs4), where SQLite's WAL mode "
        "can corrupt it or lose history. Set SessionMonitorApp.db_path to a file on local disk "
        "(for example under /tmp or the Jupyter runtime folder)."
    )
