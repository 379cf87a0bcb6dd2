from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    # The extension is enabled the way the wheel enables it: jpserver_extensions in the config.
    return {"ServerApp": {"jpserver_extensions": {"jupyter_session_monitor": True}}}
