"""%%session? and %session?: the help IPython shows is made by the parser that reads the magics'
lines (IPython's magic_arguments), lists every option and command with what it does, and bad
input is still refused in the magics' own words, not argparse's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_session_monitor.kernel.magics import SessionMagics
from jupyter_session_monitor.kernel.magics import session as magics_session
from jupyter_session_monitor.kernel.magics.parsing import CELL_OPTIONS, USAGE, VALUED

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ipython = InteractiveShell.instance()
    ipython.register_magics(SessionMagics)
    yield ipython
    InteractiveShell.clear_instance()


def _question_mark(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], magic: str) -> str:
    """What ``%%session?`` (or ``%session?``) prints in a shell, colours removed."""
    capsys.readouterr()
    result = shell.run_cell(f"{magic}?")
    assert result.success
    return _ANSI.sub("", capsys.readouterr().out)


def _flat(text: str) -> str:
    """Whitespace as one space: argparse wraps the help to the terminal's width."""
    return " ".join(text.split())


# Every %%session option as the help writes it, with words of what it does (its meaning, its
# default, the forms it accepts).
CELL_HELP = {
    "--backend NAME": ["the device to open the session on", "QiskitRuntimeService().backends()"],
    "--least-busy": ["instead of --backend: the least busy operational device"],
    "--account NAME": ["a saved account, as QiskitRuntimeService(name=NAME)", "default:"],
    "--max-time DURATION": [
        "the session's maximum time to live, as Session(max_time=...)",
        "25m, 1h30m, 2h 10m 20s, 1d, or whole seconds",
        "a bare number is seconds: write 5m for 5 minutes",
        "default: the service's, the longest the plan allows",
    ],
    "--batch": ["open a Batch instead of a Session"],
    "--keep": [
        "leave the session open when the cell ends",
        "a later %%session --keep cell on the same backend reuses it",
        "Without --keep the session closes when the cell ends, also after an error or Ctrl-C",
    ],
    "--tags TAGS": ["job tags, comma-separated (a,b), added to every job the cell submits"],
    "--budget DURATION": ["a budget on the session's billed time, written as --max-time"],
    "--budget-amount AMOUNT": [
        "a budget in money instead: a positive number such as 12.50, no currency sign",
        "refused while no rate is set. Not with --budget",
    ],
    "--on-budget ACTION": [
        "what happens at 100 % of the budget: notify (the default), close (no new jobs; queued "
        "jobs still run) or cancel (queued jobs are cancelled)",
        "a warning comes at 80 %",
        "Needs --budget or --budget-amount",
    ],
}

# Every %session command (as the help's table writes it) and option, with what it does.
LINE_HELP = {
    "list": ["this kernel's sessions: id, backend, mode, status, jobs", "* marks the default"],
    "status [ID]": ["Session.status() with job counts and the next deadline"],
    "details [ID]": ["Session.details(), then the job counts and the failed jobs"],
    "receipt [ID]": ["what the session cost", '("so far" while it is open)'],
    "close [ID]": ["no new jobs; queued jobs still run"],
    "close --all [--cancel] [--yes]": ["every open session the monitor tracks"],
    "cancel [ID] --yes": ["cancel queued jobs and end the session; without --yes it says"],
    "watch [ID]": ["show the live widget"],
    "attach ID": ["re-attach with Session.from_id"],
    "help": ["a summary of these commands and of the %%session options"],
    "COMMAND": ["list, status, details, receipt, close, cancel, watch, attach or help"],
    "ID": ["its id or a unique prefix of it; default: the most recent session of this kernel"],
    "--all": ["with close: every open session the session monitor tracks", "give no ID"],
    "--cancel": ["with close --all: cancel them instead"],
    "--yes": ["do it without asking: cancel does nothing without it", "close --all asks y/N"],
}


def _entries(help_text: str) -> dict[str, str]:
    """The help's entries: each line starting with two spaces then a name (an option, a
    command), mapped to its text up to the next entry or heading, whitespace flattened."""
    entries: dict[str, str] = {}
    name = None
    for line in help_text.splitlines():
        entry = re.match(r"^  (\S.*?)(?:\s{2,}(.*))?$", line)
        if entry and not line.startswith("   "):
            name = entry.group(1)
            entries[name] = entry.group(2) or ""
        elif line.startswith("   ") and name is not None:
            entries[name] += " " + line.strip()
        else:
            name = None
    return {key: _flat(value) for key, value in entries.items()}


def test_cell_magic_question_mark_lists_every_option_with_what_it_does(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = _question_mark(shell, capsys, "%%session")

    assert "%%session --backend NAME | --least-busy [--account NAME]" in shown  # the usage
    assert "Run the cell inside a Qiskit Runtime session (or batch) opened for it." in shown
    entries = _entries(shown)
    for option, words in CELL_HELP.items():
        assert option in entries, f"{option} is not in %%session?"
        for said in words:
            assert said in entries[option], f"{option}: {said!r} not in {entries[option]!r}"
    # What the options have in common, after them.
    flat = _flat(shown)
    assert 'a number and a unit word ("5 minutes") is refused with the short form' in flat
    assert "ends with the session's receipt" in flat
    # The same text as the magic's docstring, which is what IPython shows and what the parser
    # that reads the line makes: an option the parser knows is in the help, with its words.
    magic = shell.find_cell_magic("session")
    assert magic is not None
    assert _flat(magic.__doc__ or "") in flat
    assert _flat(magic.parser.format_help()) == _flat(magic.__doc__ or "")
    parsed = {o for a in magic.parser._actions for o in a.option_strings if a.help}
    assert parsed == {option.split()[0] for option in CELL_HELP}
    # The options the line reader joins with their value are those the parser gives a value.
    valued = {o for a in magic.parser._actions for o in a.option_strings if a.nargs is None}
    assert valued == set(VALUED)


def test_line_magic_question_mark_lists_every_command_and_option_with_what_it_does(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = _question_mark(shell, capsys, "%session")

    assert "%session COMMAND [ID] [--all] [--cancel] [--yes]" in shown  # the usage
    entries = _entries(shown)
    for name, words in LINE_HELP.items():
        assert name in entries, f"{name} is not in %session?"
        for said in words:
            assert said in entries[name], f"{name}: {said!r} not in {entries[name]!r}"
    flat = _flat(shown)
    assert "Without ID: the most recent session of this kernel. An ID may be a unique" in flat
    magic = shell.find_line_magic("session")
    assert magic is not None
    assert _flat(magic.parser.format_help()) == _flat(magic.__doc__ or "")
    assert _flat(magic.__doc__ or "") in flat
    parsed = {o for a in magic.parser._actions for o in a.option_strings}
    assert parsed == {"--all", "--cancel", "--yes"}
    # %session help still prints the short summary, which points at the full help.
    shell.run_line_magic("session", "help")
    assert capsys.readouterr().out.strip() == USAGE
    assert "%session? says what each command and option does." in USAGE


def test_the_same_help_through_pinfo(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    for magic, option in (("%%session", "--on-budget ACTION"), ("%session", "--yes")):
        capsys.readouterr()
        shell.run_line_magic("pinfo", magic)
        assert option in _entries(_ANSI.sub("", capsys.readouterr().out))


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("--backend ibm_torino --colour red", "unknown option '--colour'"),
        ("red --backend ibm_torino", "unknown option 'red'"),
        ("--back ibm_torino", "unknown option '--back'"),  # no abbreviations, as before
        ("--backend ibm_torino --keep=yes", "unknown option '--keep=yes'"),
        ("--backend ibm_torino -k", "unknown option '-k'"),
        ("--backend ibm_torino --max-time", "--max-time needs a value"),
        ("--backend --least-busy", "--backend needs a value"),
        ("--backend ibm_torino --tags=", "--tags needs a value"),
        ("--backend ibm_torino --max-time -5m", "%%session --max-time: '-5m' is not a duration"),
        ("--backend ibm_torino --budget-amount -3", "'-3' is not an amount"),
        ("--backend ibm_torino --max-time=2 Hours", "write --max-time 2h"),
    ],
)
def test_a_bad_option_is_still_the_cell_magics_one_line(
    shell: InteractiveShell, line: str, said: str
) -> None:
    with pytest.raises(UsageError) as error:
        shell.run_cell_magic("session", line, "print('never runs')")
    message = str(error.value)
    assert said in message
    assert "\n" not in message
    assert message.startswith("%%session")
    if "unknown option" in said:
        assert message.endswith(f"Options: {CELL_OPTIONS}.")
    _not_argparse(message)


@pytest.mark.parametrize(
    ("line", "first"),
    [
        ("status --colour", "%session status: unknown option '--colour'."),
        ("cancel --y", "%session cancel: unknown option '--y'."),  # no abbreviations
        ("cancel --yes=1", "%session cancel: unknown option '--yes=1'."),
        ("status --all", "%session status: unknown option '--all'."),
        ("stop", "%session: unknown command 'stop'."),
        ("close a b", "%session close: one session id at most."),
        ("close --all abc", "%session close --all closes every open session: give no id with it."),
        ("close 'abc", "%session: No closing quotation"),
    ],
)
def test_a_bad_option_is_still_the_line_magics_message(
    shell: InteractiveShell, line: str, first: str
) -> None:
    with pytest.raises(UsageError) as error:
        shell.run_line_magic("session", line)
    message = str(error.value)
    said, _, rest = message.partition("\n")
    assert said == first
    assert rest in ("", USAGE)  # the commands follow where the command or an option is wrong
    _not_argparse(message)


def _not_argparse(message: Any) -> None:
    for words in ("usage:", "error:", "argument", "unrecognized", "expected one", "choose from"):
        assert words not in str(message)


def test_options_may_come_before_the_command_and_an_id_after_them(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented %session COMMAND [ID] [--options], in any order (argparse's intermixed
    reading): what reaches the command is the same."""
    seen: list[tuple[Any, bool]] = []
    monkeypatch.setattr(magics_session, "find_session", lambda ident: ident)
    monkeypatch.setattr(magics_session, "cancel_session", lambda s, yes: seen.append((s, yes)))
    for line in ("cancel abc --yes", "cancel --yes abc", "--yes cancel abc", "cancel abc"):
        shell.run_line_magic("session", line)
    assert seen == [("abc", True), ("abc", True), ("abc", True), ("abc", False)]
