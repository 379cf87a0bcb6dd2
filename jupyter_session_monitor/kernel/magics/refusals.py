"""Failures a user can fix, as one line that says what to do (not a traceback from deep in the
client), and the small context managers the cell magic runs a cell in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, NoReturn

from IPython.core.error import UsageError

from jupyter_session_monitor.kernel import hook
from jupyter_session_monitor.kernel.durations import (
    format_duration,
    largest_unit,
)


def _explain(error: BaseException) -> str | None:
    """A one-line fix for the client errors users cause; None for anything else."""
    name = type(error).__name__
    text = str(error).strip().strip('"')
    lowered = text.lower()
    if name == "QiskitBackendNotFoundError" or "no backend matches" in lowered:
        return f"{text}. List the backends you can use with QiskitRuntimeService().backends()."
    if name == "AccountNotFoundError":
        return (
            f"{text}. Save an account with QiskitRuntimeService.save_account(...), or pass "
            "--account NAME for a saved one."
        )
    if "open plan" in lowered:
        return (
            "This instance is on the Open Plan, which cannot open sessions. Run without "
            "%%session (job mode), use --batch, or use an instance on a paid plan."
        )
    if name in ("IBMNotAuthorizedError", "RequestsApiError") and "401" in lowered:
        return f"The service refused the credentials: {text}. Save a new API key."
    return None


@contextmanager
def fixable_errors() -> Iterator[None]:
    try:
        yield
    except UsageError:
        raise
    except Exception as error:
        message = _explain(error)
        if message is None:
            raise
        raise UsageError(message) from None


# The service's refusal of a max_ttl, as IBM words it (and the emulator after it).
_MAX_TTL_RANGE = re.compile(
    r"max_ttl\s+([\d.]+)\s+is outside the allowed range of\s+([\d.]+)\s+to\s+([\d.]+)\s+seconds",
    re.IGNORECASE,
)


def max_time_refusal(error: BaseException, typed: str | None, seconds: int | None) -> str | None:
    """The service's refusal of ``--max-time`` as one line with the plan's limit in the units the
    user typed; ``None`` for any other error."""
    match = _MAX_TTL_RANGE.search(str(error))
    if match is None or typed is None or seconds is None:
        return None
    received, low, high = (float(group) for group in match.groups())
    if received > 0:
        # The service names the max_ttl it received and its range on one scale. Brought back to
        # the seconds that were sent, the range is in the user's terms also where the two differ
        # (the emulator scales every duration by its --time-scale).
        low, high = low * seconds / received, high * seconds / received
    unit = largest_unit(typed)
    if seconds < low:
        return (
            f"%%session: --max-time {typed} is shorter than this instance allows (at least "
            f"{format_duration(round(low), unit)})."
        )
    return (
        f"%%session: --max-time {typed} is longer than this instance's plan allows "
        f"({format_duration(round(high), unit)})."
    )


@contextmanager
def tagged(session: Any, tags: list[str]) -> Iterator[None]:
    """While the cell runs, every job it submits in ``session`` gets ``tags`` (next to the
    primitive's own).

    Per cell, not per session: a session kept with ``--keep`` and reused by a later cell tags that
    cell's jobs with that cell's ``--tags``, and a cell without ``--tags`` adds none. The wrapper
    is an attribute of this one session object, removed when the cell ends (the class's ``_run``,
    which the hook wraps, shows through again)."""
    if not tags:
        yield
        return
    original = session._run

    def run(*args: Any, **kwargs: Any) -> Any:
        options = kwargs.get("options")
        if isinstance(options, dict):
            existing = list(options.get("job_tags") or [])
            options["job_tags"] = existing + [t for t in tags if t not in existing]
        return original(*args, **kwargs)

    session._run = run
    try:
        yield
    finally:
        if vars(session).get("_run") is run:
            del session._run


def close_and_say(session: Any) -> None:
    session.close()
    print(
        f"Closed session {session.session_id}: it accepts no new jobs; jobs already queued "
        "still run."
    )


def raise_shown(error: BaseException) -> NoReturn:
    """Fail the ``%%session`` cell with the error its body raised, whose traceback IPython has
    already shown.

    The body ran through ``run_cell``, which shows the traceback and returns; without this, the
    ``%%session`` cell itself would succeed and "Run All" would go on. Raising the body's own
    exception (not a wrapper) keeps what a plain failing cell gives: the kernel's reply names it
    (``ValueError: boom``, as nbclient and papermill report it), ``except``/``%debug`` see the
    real one, and a Ctrl-C stays a ``KeyboardInterrupt``. Its second rendering is one line, not
    the whole traceback again: IPython renders an exception through ``_render_traceback_`` when
    it has one. That hook is set on this instance and removes itself on first use, so a later
    ``%tb`` shows the full traceback.
    """

    def render() -> list[str]:
        vars(error).pop("_render_traceback_", None)
        said = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return [f"{said} (in the %%session cell; its traceback is above)"]

    with suppress(AttributeError, TypeError):  # one that refuses attributes is shown in full
        error._render_traceback_ = render  # type: ignore[attr-defined]
    raise error


@contextmanager
def numbered_as_this_cell(shell: Any) -> Iterator[None]:
    """The body runs as part of this cell: its traceback names this cell's "In [n]", the one
    the user sees. IPython 9 has moved ``execution_count`` on before the cell runs, and the body
    is compiled under it ("Cell In[3]" under a cell numbered [2]); set back after."""
    kernel = getattr(shell, "kernel", None)
    parent = (kernel.get_parent() if kernel is not None else {}) or {}
    number = hook._running_cell_number(shell, parent.get("content") or {})
    saved = getattr(shell, "execution_count", None)
    if number is None or not isinstance(saved, int) or number == saved:
        yield
        return
    shell.execution_count = number
    try:
        yield
    finally:
        shell.execution_count = saved
