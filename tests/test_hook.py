"""The kernel hook can never break ``import qiskit_ibm_runtime``: a client release without the
attributes it wraps is left alone (said once), other finders (editable installs) are honoured,
and wrapped methods keep their signatures. Each case runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


STUB_FINDER = """
import importlib.abc, importlib.util, sys, types

SOURCE = {source!r}

class Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        exec(SOURCE, module.__dict__)

class EditableFinder(importlib.abc.MetaPathFinder):
    # Like an editable install's finder: not a path entry, found only through sys.meta_path.
    def find_spec(self, fullname, path, target=None):
        if fullname == "qiskit_ibm_runtime":
            return importlib.util.spec_from_loader(fullname, Loader())
        return None

from jupyter_session_monitor.kernel import hook
hook.install()
# Ahead of the path finder (which would find the installed client): the hook's own finder is
# first, and must ask this one rather than the path finder directly.
sys.meta_path.insert(1, EditableFinder())
import qiskit_ibm_runtime
"""

COMPLETE = """
STUB = True
class QiskitRuntimeService:
    def __init__(self, channel=None, token=None): pass
class Session:
    def __init__(self, backend=None, max_time=None, *, create_new=True): pass
    @classmethod
    def from_id(cls, session_id, service=None): return cls()
    def _run(self, *a, **k): pass
    def close(self): pass
    def cancel(self): pass
"""


def test_another_finder_serves_the_client_and_the_hook_still_wraps_it(tmp_path: Path) -> None:
    result = run(
        STUB_FINDER.format(source=COMPLETE)
        + textwrap.dedent(
            """
            import inspect
            assert qiskit_ibm_runtime.STUB  # the editable finder's module, not the installed one
            print(hasattr(qiskit_ibm_runtime.Session.__init__, "__wrapped__"))
            print(list(inspect.signature(qiskit_ibm_runtime.Session.__init__).parameters))
            print(any(type(f).__name__ == "_Finder" for f in sys.meta_path))
            """
        ),
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    wrapped, signature, finder_left = result.stdout.splitlines()
    assert wrapped == "True"
    assert signature == "['self', 'backend', 'max_time', 'create_new']"  # not *args, **kwargs
    assert finder_left == "False"  # it stepped aside once done


def test_a_client_without_what_the_hook_wraps_imports_fine_and_says_so_once(
    tmp_path: Path,
) -> None:
    renamed = COMPLETE.replace("def _run(", "def _submit(")

    result = run(
        STUB_FINDER.format(source=renamed)
        + "s = qiskit_ibm_runtime.Session(); s._submit(); s.close()\nprint('ok')\n",
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert result.stderr.count("jupyter-session-monitor:") == 1
    assert "not monitored" in result.stderr and "Session._run" in result.stderr


def test_the_real_client_is_wrapped_with_its_signatures(tmp_path: Path) -> None:
    result = run(
        """
        import inspect
        from jupyter_session_monitor.kernel import hook
        hook.install()
        from qiskit_ibm_runtime import Session
        print(list(inspect.signature(Session.__init__).parameters)[:3])
        init = Session.__init__
        print(Session.close.__name__, init.__doc__ == init.__wrapped__.__doc__)
        """,
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("['self', 'backend'")
    assert second == "close True"


IPYTHON_CELLS = """
from IPython.core.interactiveshell import InteractiveShell
from jupyter_session_monitor.kernel import hook

shell = InteractiveShell.instance()
shell.user_ns["hook"] = hook
shell.run_cell("x = 1", store_history=True)
shell.run_cell("second = hook._current_cell()", store_history=True)
shell.run_cell("third = hook._current_cell()", store_history=True)
print(shell.user_ns["second"]["execution_count"], shell.user_ns["third"]["execution_count"])
"""


def test_the_running_cells_number_is_its_in_number_under_this_ipython(tmp_path: Path) -> None:
    # #25 item 11: the number was execution_count - 1, right under IPython 9 only.
    result = run(IPYTHON_CELLS, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "3"]


class _History:
    def __init__(self, stored: int) -> None:
        self.input_hist_raw = [""] * (stored + 1)


class _Shell:
    def __init__(self, execution_count: int, stored: int) -> None:
        self.execution_count = execution_count
        self.history_manager = _History(stored)


def test_ipython_8_and_9_give_the_same_number_while_cell_2_runs() -> None:
    from jupyter_session_monitor.kernel.hook import _running_cell_number

    # Cell 2 running: IPython 9 has moved execution_count to 3 already, IPython 8 not yet;
    # both stored inputs 1 and 2.
    ipython_9, ipython_8 = _Shell(execution_count=3, stored=2), _Shell(execution_count=2, stored=2)
    assert _running_cell_number(ipython_9, {}) == _running_cell_number(ipython_8, {}) == 2
    assert _running_cell_number(ipython_9, {"silent": True}) is None
    assert _running_cell_number(ipython_9, {"store_history": False}) is None
