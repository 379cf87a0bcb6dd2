"""Parsing the magics' lines: ``argparse`` through IPython's ``magic_arguments``, with the
workarounds that make its refusals one line naming the option."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core import magic_arguments as ipython_arguments
from IPython.core.error import StdinNotImplementedError, UsageError

from jupyter_session_monitor.kernel.durations import (
    short_form,
)

from .money import (
    one_line,
)

USAGE = """\
%session list                   this kernel's sessions
%session status [ID]            Session.status(); billed time, budget and fit-check when the
                                monitor answers
%session details [ID]           Session.details()
%session receipt [ID]           what the session cost: times, how it ended, jobs, billed time,
                                cost ("so far" while it is open), from the session monitor
%session close [ID]             no new jobs; queued jobs still run
%session close --all [--cancel] [--yes]
                                every open session the monitor tracks (after one y/N question
                                unless --yes); --cancel cancels their queued jobs
%session cancel [ID] --yes      cancel queued jobs and end the session
%session watch [ID]             show the live widget
%session attach ID              re-attach with Session.from_id and track it
Without ID: the most recent session of this kernel. An ID may be a unique prefix.
%session? says what each command and option does.
%%session options: --backend NAME | --least-busy, --max-time DURATION, --batch, --tags a,b,
--keep, --account NAME, --budget DURATION | --budget-amount AMOUNT,
--on-budget notify|close|cancel (%%session? says what each does). A %%session cell that
closes its session (no --keep) ends with the session's receipt."""


#: What ``%%session`` accepts, as its refusal of an unknown option lists it.
CELL_OPTIONS = (
    "--backend NAME | --least-busy, --max-time DURATION, --batch, --tags a,b, --keep, "
    "--account NAME, --budget DURATION | --budget-amount AMOUNT, --on-budget notify|close|cancel"
)


#: ``%%session``'s options that take a value; values may start with "-" (``--budget-amount -3``
#: is refused as an amount, not as a missing value), only an option ends one.
VALUED = (
    "--backend",
    "--max-time",
    "--tags",
    "--account",
    "--budget",
    "--budget-amount",
    "--on-budget",
)


#: Those of them that are durations: ``--max-time 5 minutes`` is told to write ``5m``.
_DURATIONS = ("--max-time", "--budget")


#: The first lines of ``%%session?`` and ``%session?`` (IPython's prefix adds a "%").
CELL_USAGE = """\
%(prog)s --backend NAME | --least-busy [--account NAME]
             [--max-time DURATION] [--batch] [--keep] [--tags TAGS]
             [--budget DURATION | --budget-amount AMOUNT] [--on-budget ACTION]"""


LINE_USAGE = "%(prog)s COMMAND [ID] [--all] [--cancel] [--yes]"


CELL_EPILOG = """\
Durations (--max-time, --budget): 25m, 1h30m, 2h 10m 20s, 1d, or whole seconds; a number and a
unit word ("5 minutes") is refused with the short form to write (5m).

The budget is set on the session (a reused --keep session included) before the cell runs, and
enforced by the Jupyter server's session monitor, also with no browser open. Where it cannot be
set (a kernel not started by such a server, no rate for an amount), the cell says why in one
line and runs all the same.

A cell that closes its session (no --keep) ends with the session's receipt (as %session
receipt, in plain text), once the monitor has seen it closed; after at most 10 s it prints the
receipt so far (queued jobs still running, say). Nothing where the monitor cannot be asked.

%session (list, status, details, receipt, close, cancel, watch, attach) acts on the sessions
afterwards: %session? says how."""


LINE_EPILOG = """\
Without ID: the most recent session of this kernel. An ID may be a unique prefix of one.
%%session? says how to run a cell in a session."""


# IPython's magic_arguments decorators, typed for mypy (they keep the function they decorate).
_Magic = TypeVar("_Magic", bound=Callable[..., Any])


def magic_arguments(name: str) -> Callable[[_Magic], _Magic]:
    """The magic's parser, made from the decorators below it; its help becomes the docstring.
    Options are spelled out: an abbreviation (--back) is an unknown option, as it always was."""
    make = ipython_arguments.magic_arguments(name)  # type: ignore[no-untyped-call]

    def decorate(function: _Magic) -> _Magic:
        made = make(function)
        made.parser.allow_abbrev = False
        return made  # type: ignore[no-any-return]

    return decorate


def argument(*names: str, **options: Any) -> Callable[[_Magic], _Magic]:
    return ipython_arguments.argument(*names, **options)  # type: ignore[no-untyped-call]


def argument_group(title: str) -> Callable[[_Magic], _Magic]:
    return ipython_arguments.argument_group(title)  # type: ignore[no-untyped-call]


def kwds(**options: Any) -> Callable[[_Magic], _Magic]:
    return ipython_arguments.kwds(**options)  # type: ignore[no-untyped-call]


def split_words(line: str, magic: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as error:  # No closing quotation, ...
        raise UsageError(f"{magic}: {error}") from None


def joined_options(words: list[str]) -> list[str]:
    """``%%session``'s words with each valued option and its value as one ``--name=VALUE``, so
    that argparse takes a value starting with "-" (``--max-time -5m`` is then refused as a
    duration); a duration and a unit word after it (``--max-time 5 minutes``) is refused with
    the short form to write."""
    joined: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        name, _, inline = word.partition("=")
        following = words[index + 1] if index + 1 < len(words) else ""
        if name in VALUED and not inline:
            if not following or following.startswith("--"):
                joined.append(name)  # argparse: expected one argument, said as needs a value
                index += 1
                continue
            inline = following
            index += 1
            following = words[index + 1] if index + 1 < len(words) else ""
        written = short_form(inline, following) if name in _DURATIONS else None
        if written:  # "--max-time 5 minutes": one duration in two words
            raise UsageError(f"%%session: {name} {inline} {following}: write {name} {written}.")
        joined.append(f"{name}={inline}" if name in VALUED else word)
        index += 1
    return joined


def dest(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def first_unknown(extras: list[str], words: list[str]) -> str:
    """The first of the words argparse did not take, in the order the user typed them."""
    order = {word: index for index, word in reversed(list(enumerate(words)))}

    def typed_at(word: str) -> int:
        return order.get(word, order.get(word.partition("=")[0], len(words)))

    return min(extras, key=typed_at)


_EXPECTED = re.compile(r"argument (--[\w-]+): expected one argument")


_EXPLICIT = re.compile(r"argument (--[\w-]+): ignored explicit argument (.*)")


def parse(
    magic_function: Any, words: list[str], magic: str, unknown: Callable[[str], str]
) -> tuple[argparse.Namespace, list[str]]:
    """The magic's arguments read by its magic_arguments parser (options and positionals in any
    order), with the words it did not take; its refusals as the magic's one-line messages
    (``unknown`` words the refusal of an unknown option)."""
    parser: argparse.ArgumentParser = magic_function.parser
    try:
        return parser.parse_known_intermixed_args(words)
    except UsageError as error:
        said = str(error)
        expected = _EXPECTED.fullmatch(said)
        if expected:
            raise UsageError(f"{magic}: {expected.group(1)} needs a value.") from None
        explicit = _EXPLICIT.fullmatch(said)
        if explicit:  # --keep=1: a flag takes no value
            name = explicit.group(1)
            raise UsageError(
                unknown(next((w for w in words if w.startswith(f"{name}=")), name))
            ) from None
        raise UsageError(f"{magic}: {one_line(said)}.") from None


def ask_user(prompt: str) -> str | None:
    """The user's answer, lower-cased; ``None`` where this front end cannot ask."""
    try:
        return input(prompt).strip().lower()
    except (StdinNotImplementedError, EOFError):
        return None
