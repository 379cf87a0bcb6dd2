"""Environment variables give image-wide defaults (a hub's single-user image) for the settings an
admin chooses: the command line and config files still win, and an invalid value stops the monitor
with a message naming the variable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_session_monitor.server.app import (
    ENV_SETTINGS,
    SessionMonitorApp,
    SettingError,
    env_name,
)

Fetch = Callable[..., Awaitable[Any]]


@pytest.fixture(autouse=True)
def _no_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for trait in ENV_SETTINGS:
        monkeypatch.delenv(env_name(trait), raising=False)


def test_without_variables_the_built_in_defaults_apply() -> None:
    app = SessionMonitorApp()

    assert (app.poll_busy_interval, app.poll_active_interval, app.poll_idle_interval) == (
        2.0,
        5.0,
        30.0,
    )
    assert (app.orphan_policy, app.orphan_grace_seconds) == ("flag", 300.0)
    assert (app.rate_per_second, app.currency) == (None, None)
    assert app.db_path.endswith(str(Path("session_monitor", "registry.sqlite")))


@pytest.mark.parametrize(
    ("variable", "text", "trait", "value"),
    [
        ("JUPYTER_SESSION_MONITOR_DB_PATH", "/srv/local/registry.sqlite", "db_path", None),
        ("JUPYTER_SESSION_MONITOR_POLL_BUSY_INTERVAL", "1.5", "poll_busy_interval", 1.5),
        ("JUPYTER_SESSION_MONITOR_POLL_ACTIVE_INTERVAL", "10", "poll_active_interval", 10.0),
        ("JUPYTER_SESSION_MONITOR_POLL_IDLE_INTERVAL", "60", "poll_idle_interval", 60.0),
        ("JUPYTER_SESSION_MONITOR_MAX_BACKOFF", "600", "max_backoff", 600.0),
        ("JUPYTER_SESSION_MONITOR_ORPHAN_POLICY", "close", "orphan_policy", "close"),
        ("JUPYTER_SESSION_MONITOR_ORPHAN_GRACE_SECONDS", "0", "orphan_grace_seconds", 0.0),
        ("JUPYTER_SESSION_MONITOR_RETENTION_DAYS", "7", "retention_days", 7.0),
        ("JUPYTER_SESSION_MONITOR_INSTANCE_USAGE_INTERVAL", "0", "instance_usage_interval", 0.0),
        ("JUPYTER_SESSION_MONITOR_RATE_PER_SECOND", "1.6", "rate_per_second", 1.6),
        ("JUPYTER_SESSION_MONITOR_CURRENCY", "USD", "currency", "USD"),
    ],
)
def test_a_variable_sets_the_default(
    monkeypatch: pytest.MonkeyPatch, variable: str, text: str, trait: str, value: Any
) -> None:
    monkeypatch.setenv(variable, text)

    assert getattr(SessionMonitorApp(), trait) == (text if value is None else value)


def test_the_documented_set_of_variables_is_complete() -> None:
    assert {env_name(trait) for trait in ENV_SETTINGS} == {
        "JUPYTER_SESSION_MONITOR_DB_PATH",
        "JUPYTER_SESSION_MONITOR_POLL_BUSY_INTERVAL",
        "JUPYTER_SESSION_MONITOR_POLL_ACTIVE_INTERVAL",
        "JUPYTER_SESSION_MONITOR_POLL_IDLE_INTERVAL",
        "JUPYTER_SESSION_MONITOR_MAX_BACKOFF",
        "JUPYTER_SESSION_MONITOR_ORPHAN_POLICY",
        "JUPYTER_SESSION_MONITOR_ORPHAN_GRACE_SECONDS",
        "JUPYTER_SESSION_MONITOR_RETENTION_DAYS",
        "JUPYTER_SESSION_MONITOR_INSTANCE_USAGE_INTERVAL",
        "JUPYTER_SESSION_MONITOR_USAGE_SETTLE_SECONDS",
        "JUPYTER_SESSION_MONITOR_RATE_PER_SECOND",
        "JUPYTER_SESSION_MONITOR_CURRENCY",
    }
    docs = (Path(__file__).resolve().parent.parent / "docs" / "jupyterhub.md").read_text()
    for trait in ENV_SETTINGS:
        assert env_name(trait) in docs


def test_a_home_relative_path_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/alice")
    monkeypatch.setenv("JUPYTER_SESSION_MONITOR_DB_PATH", "~/registry.sqlite")

    assert SessionMonitorApp().db_path == "/home/alice/registry.sqlite"


def test_config_and_command_line_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUPYTER_SESSION_MONITOR_POLL_IDLE_INTERVAL", "60")
    monkeypatch.setenv("JUPYTER_SESSION_MONITOR_ORPHAN_POLICY", "close")
    monkeypatch.setenv("JUPYTER_SESSION_MONITOR_DB_PATH", "/srv/local/registry.sqlite")
    config = Config()
    config.SessionMonitorApp.poll_idle_interval = 12.0
    config.SessionMonitorApp.db_path = "/var/lib/monitor.sqlite"

    app = SessionMonitorApp(config=config)

    assert app.poll_idle_interval == 12.0
    assert app.db_path == "/var/lib/monitor.sqlite"
    assert app.orphan_policy == "close"  # not configured: the environment's
    app.parse_command_line(["--SessionMonitorApp.orphan_policy=flag"])
    assert app.orphan_policy == "flag"


@pytest.mark.parametrize(
    ("variable", "text", "reason"),
    [
        ("JUPYTER_SESSION_MONITOR_POLL_BUSY_INTERVAL", "0", "greater than 0"),
        ("JUPYTER_SESSION_MONITOR_POLL_IDLE_INTERVAL", "soon", "could not convert"),
        ("JUPYTER_SESSION_MONITOR_POLL_ACTIVE_INTERVAL", "inf", "greater than 0"),
        ("JUPYTER_SESSION_MONITOR_ORPHAN_POLICY", "kill", "'flag' or 'close'"),
        ("JUPYTER_SESSION_MONITOR_RETENTION_DAYS", "-1", "greater than 0"),
        ("JUPYTER_SESSION_MONITOR_RATE_PER_SECOND", "nan", "greater than or equal to 0"),
        ("JUPYTER_SESSION_MONITOR_DB_PATH", "  ", "non-empty"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, text: str, reason: str
) -> None:
    monkeypatch.setenv(variable, text)
    trait = variable.removeprefix("JUPYTER_SESSION_MONITOR_").lower()

    with pytest.raises(SettingError) as caught:
        getattr(SessionMonitorApp(), trait)

    message = str(caught.value)
    assert message.startswith(f"{variable}={text!r} is not a valid default for ")
    assert f"SessionMonitorApp.{trait}" in message
    assert reason in message


# ---------------------------------------------------------------- through the server's start


@pytest.fixture
def image_environment(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The variables an image would set, in place before the server starts."""
    for variable, text in getattr(request, "param", {}).items():
        monkeypatch.setenv(variable, text)


@pytest.fixture
def jp_server_config(image_environment: None, jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return jp_server_config


def monitor_of(serverapp: Any) -> Any:
    return serverapp.web_app.settings["session_monitor"]


@pytest.mark.parametrize(
    "image_environment",
    [
        {
            "JUPYTER_SESSION_MONITOR_ORPHAN_POLICY": "close",
            "JUPYTER_SESSION_MONITOR_ORPHAN_GRACE_SECONDS": "42",
            # The tests' config (conftest) sets the idle interval: the config wins.
            "JUPYTER_SESSION_MONITOR_POLL_IDLE_INTERVAL": "60",
        }
    ],
    indirect=True,
)
async def test_a_server_started_with_the_variables_runs_with_them(
    jp_serverapp: Any, jp_fetch: Fetch
) -> None:
    response = await jp_fetch("session-monitor", "api", "sessions")

    assert response.code == 200
    config = monitor_of(jp_serverapp).config
    assert (config.orphan_policy, config.orphan_grace_seconds) == ("close", 42.0)
    assert config.intervals.idle == 0.5


@pytest.mark.parametrize(
    "image_environment", [{"JUPYTER_SESSION_MONITOR_ORPHAN_POLICY": "kill"}], indirect=True
)
async def test_a_server_with_an_invalid_variable_does_not_start_the_monitor(
    capsys: pytest.CaptureFixture[str], jp_serverapp: Any, jp_fetch: Fetch
) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("session-monitor", "api", "sessions")

    assert caught.value.code == 404  # the extension did not load
    assert "session_monitor" not in jp_serverapp.web_app.settings
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[E ")]
    assert any(
        "The Qiskit session monitor is not started: "
        "JUPYTER_SESSION_MONITOR_ORPHAN_POLICY='kill' is not a valid default for "
        "SessionMonitorApp.orphan_policy: 'flag' or 'close' is required." in line
        for line in errors
    ), errors
