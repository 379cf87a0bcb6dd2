"""The import-direction check (tools/import_direction.py): the package passes it, and it catches
what it is there to catch."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_direction", ROOT / "tools" / "import_direction.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "jupyter_session_monitor" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in (root / "jupyter_session_monitor").rglob("*"):
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")
    (root / "jupyter_session_monitor" / "__init__.py").touch()


def test_the_package_imports_point_one_way() -> None:
    found = _tool().check(ROOT)
    assert found == [], "\n".join(str(v) for v in found)


def test_an_import_against_the_direction_is_found(tmp_path: Path) -> None:
    _package(
        tmp_path,
        {
            "policies/budgets.py": "x = 1\n",
            "engine/monitor.py": "from jupyter_session_monitor.policies.budgets import x\n",
            # relative, inside a function: still a dependency
            "domain/views.py": "def f():\n    from ..engine import monitor\n",
            # ``from package import module`` names the module's layer
            "kernel/magics.py": "from jupyter_session_monitor import domain\n",
            "registry/store.py": "from jupyter_session_monitor.domain import views\n",
        },
    )
    found = {(v.path, v.message) for v in _tool().check(tmp_path)}
    assert found == {
        (
            "jupyter_session_monitor/engine/monitor.py",
            "engine may not import policies (jupyter_session_monitor.policies.budgets)",
        ),
        (
            "jupyter_session_monitor/domain/views.py",
            "domain may not import engine (jupyter_session_monitor.engine.monitor)",
        ),
        (
            "jupyter_session_monitor/kernel/magics.py",
            "kernel may not import domain (jupyter_session_monitor.domain)",
        ),
    }


def test_a_collaborator_given_the_whole_monitor_is_found(tmp_path: Path) -> None:
    _package(
        tmp_path,
        {
            "policies/monitor.py": "class SessionMonitor: ...\n",
            "policies/orphans.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from jupyter_session_monitor.policies.monitor import SessionMonitor\n"
            ),
            "server/handlers.py": (
                "from jupyter_session_monitor.policies.monitor import SessionMonitor\n"
            ),
        },
    )
    found = [(v.path, v.message) for v in _tool().check(tmp_path)]
    assert found == [
        (
            "jupyter_session_monitor/policies/orphans.py",
            "policies names SessionMonitor: take the narrow interface it needs instead",
        )
    ]
