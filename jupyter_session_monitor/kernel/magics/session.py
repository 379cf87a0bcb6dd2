"""``SessionMagics``: the ``%%session`` cell magic and the ``%session`` line magic."""

from __future__ import annotations

import math
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from jupyter_session_monitor.kernel.durations import (
    DurationError,
    parse_duration,
)

from .commands import attach_session, cancel_session, close_all, find_session, list_sessions
from .look import (
    look_at,
    look_of,
    print_details,
    print_jobs,
    session_kind,
    utc_now,
)
from .money import (
    BUDGET_ACTIONS,
    _show_receipt,
    _stale_line,
    bare_seconds_note,
    billing_line,
    budget_line,
    fit_line,
    pending_line,
    print_closing_receipt,
    send_budget,
    server_views,
)
from .parsing import (
    CELL_EPILOG,
    CELL_OPTIONS,
    CELL_USAGE,
    LINE_EPILOG,
    LINE_USAGE,
    USAGE,
    VALUED,
    argument,
    argument_group,
    dest,
    first_unknown,
    joined_options,
    kwds,
    magic_arguments,
    parse,
    split_words,
)
from .refusals import (
    close_and_say,
    fixable_errors,
    max_time_refusal,
    numbered_as_this_cell,
    raise_shown,
    tagged,
)


@magics_class
class SessionMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._kept: dict[str, Any] = {}  # backend name -> session kept open with --keep

    # ------------------------------------------------------------------ %%session

    @cell_magic("session")  # type: ignore[arg-type]
    @magic_arguments("%session")  # the name after IPython's "%": the help reads %%session
    @kwds(usage=CELL_USAGE, epilog=CELL_EPILOG)
    @argument_group("where the session runs (one of --backend and --least-busy)")
    @argument(
        "--backend",
        metavar="NAME",
        help="the device to open the session on, as QiskitRuntimeService().backend(NAME) names "
        "it (QiskitRuntimeService().backends() lists them)",
    )
    @argument(
        "--least-busy",
        action="store_true",
        help="instead of --backend: the least busy operational device of the account (not a "
        "simulator)",
    )
    @argument(
        "--account",
        metavar="NAME",
        help="a saved account, as QiskitRuntimeService(name=NAME); default: the default saved "
        "account",
    )
    @argument_group("the session")
    @argument(
        "--max-time",
        metavar="DURATION",
        help="the session's maximum time to live, as Session(max_time=...): 25m, 1h30m, "
        "2h 10m 20s, 1d, or whole seconds (a bare number is seconds: write 5m for 5 minutes); "
        "default: the service's, the longest the plan allows. One the plan refuses is one "
        "line naming the plan's limit",
    )
    @argument(
        "--batch",
        action="store_true",
        help="open a Batch instead of a Session (also where the Open Plan refuses sessions)",
    )
    @argument(
        "--keep",
        action="store_true",
        help="leave the session open when the cell ends (no receipt then); a later "
        "%%%%session --keep cell on the same backend reuses it while it is open, and its "
        "--max-time and --batch apply only to a new one. Without --keep the session closes "
        "when the cell ends, also after an error or Ctrl-C",
    )
    @argument(
        "--tags",
        metavar="TAGS",
        help="job tags, comma-separated (a,b), added to every job the cell submits, next to "
        "the primitive's own; per cell: a later cell reusing a --keep session tags its jobs "
        "with its own --tags only",
    )
    @argument_group("budget (set and enforced by the Jupyter server's session monitor)")
    @argument(
        "--budget",
        metavar="DURATION",
        help="a budget on the session's billed time, written as --max-time (10m, 1h30m; a "
        "bare number is seconds)",
    )
    @argument(
        "--budget-amount",
        metavar="AMOUNT",
        help="a budget in money instead: a positive number such as 12.50, no currency sign, "
        "counted in the currency of the rate per billed second set on the Jupyter server; "
        "refused while no rate is set. Not with --budget",
    )
    @argument(
        "--on-budget",
        metavar="ACTION",
        help="what happens at 100 %% of the budget: notify (the default), close (no new jobs; "
        "queued jobs still run) or cancel (queued jobs are cancelled); a warning comes at "
        "80 %%. Needs --budget or --budget-amount",
    )
    def session_cell(self, line: str, cell: str) -> None:
        """Run the cell inside a Qiskit Runtime session (or batch) opened for it.

        Primitives the cell creates without a mode run in it, as inside `with Session(...)`.
        The session is shown as a live widget, and closed when the cell ends unless --keep.
        Bad options are one line saying what to write instead; so are the client's errors a
        user can fix (an unknown backend, a missing account, the Open Plan refusal, a
        --max-time the plan refuses)."""
        options = self._parse_cell_options(line)
        with fixable_errors():
            from qiskit_ibm_runtime import Batch, QiskitRuntimeService, Session

            service = (
                QiskitRuntimeService(name=options["account"])
                if options["account"]
                else QiskitRuntimeService()
            )
            if options["backend"]:
                backend = service.backend(options["backend"])
            else:
                backend = service.least_busy(operational=True, simulator=False)
            session = self._reusable(backend.name) if options["keep"] else None
            if session is None:
                kind = Batch if options["batch"] else Session
                try:
                    session = kind(backend=backend, max_time=options["max_time"])
                except Exception as error:
                    refusal = max_time_refusal(error, options["max_time_text"], options["max_time"])
                    if refusal is None:
                        raise
                    raise UsageError(refusal) from None
                # What max_time=5 means in the client, kept; but rarely what was meant.
                note = bare_seconds_note(options["max_time_text"])
                if note:
                    print(f"max_time {options['max_time']} s ({note})")
                if options["keep"]:
                    self._kept[backend.name] = session
        self._display(session)
        if options["budget"] is not None or options["budget_amount"] is not None:
            send_budget(session, options)
        from qiskit_ibm_runtime.utils.default_session import set_cm_session

        set_cm_session(session)  # primitives created in the cell use it, as inside `with`
        try:
            with tagged(session, options["tags"]), numbered_as_this_cell(self.shell):
                result = self.shell.run_cell(cell)  # type: ignore[union-attr]
        finally:
            set_cm_session(None)
            if not options["keep"]:
                close_and_say(session)  # also after an exception or Ctrl-C in the cell: no orphan
        failure = result.error_before_exec or result.error_in_exec
        if not options["keep"] and not isinstance(failure, KeyboardInterrupt):
            # What the session cost (not after Ctrl-C: whoever stopped the cell is not kept
            # waiting; %session receipt shows it).
            print_closing_receipt(session)
        if failure is not None:
            raise_shown(failure)

    def _parse_cell_options(self, line: str) -> dict[str, Any]:
        words = split_words(line, "%%session")

        def unknown(word: str) -> str:
            return f"%%session: unknown option {word!r}. Options: {CELL_OPTIONS}."

        args, extras = parse(self.session_cell, joined_options(words), "%%session", unknown)
        if extras:
            raise UsageError(unknown(first_unknown(extras, words)))
        options: dict[str, Any] = vars(args)
        for option in VALUED:
            if options[dest(option)] == "":  # --backend '' or --backend=
                raise UsageError(f"%%session: {option} needs a value.")
        if bool(options["backend"]) == options["least_busy"]:
            raise UsageError(
                "%%session: name a backend with --backend NAME, or pass --least-busy (one of them)."
            )
        options["max_time_text"] = options["max_time"]
        if options["max_time"] is not None:
            try:
                options["max_time"] = parse_duration(options["max_time"])
            except DurationError as error:
                raise UsageError(f"%%session --max-time: {error}") from None
        options["tags"] = [t.strip() for t in (options["tags"] or "").split(",") if t.strip()]
        self._parse_budget(options)
        return options

    @staticmethod
    def _parse_budget(options: dict[str, Any]) -> None:
        """``--budget`` (billed time, as ``--max-time``), ``--budget-amount`` (money) and
        ``--on-budget``, checked before anything is opened."""
        options["budget_text"] = options["budget"]
        if options["budget"] is not None and options["budget_amount"] is not None:
            raise UsageError(
                "%%session: give --budget DURATION (billed time) or --budget-amount AMOUNT "
                "(money), not both."
            )
        if options["budget"] is not None:
            try:
                options["budget"] = parse_duration(options["budget"])
            except DurationError as error:
                raise UsageError(f"%%session --budget: {error}") from None
        if options["budget_amount"] is not None:
            typed = options["budget_amount"]
            try:
                amount = float(typed)
            except ValueError:
                amount = math.nan
            if not math.isfinite(amount) or amount <= 0:
                raise UsageError(
                    f"%%session --budget-amount: {typed!r} is not an amount. Write a positive "
                    "number such as 12.50, no currency sign: it is counted in the currency of "
                    "the rate set on the Jupyter server."
                )
            options["budget_amount"] = amount
        action = options["on_budget"]
        if action is not None:
            if action not in BUDGET_ACTIONS:
                raise UsageError(
                    f"%%session --on-budget: {action!r} is not an action. Use notify (the "
                    "default), close (queued jobs still run) or cancel (queued jobs are "
                    "cancelled)."
                )
            if options["budget"] is None and options["budget_amount"] is None:
                raise UsageError(
                    "%%session: --on-budget says what to do when a budget is used up: add "
                    "--budget DURATION or --budget-amount AMOUNT."
                )

    def _reusable(self, backend: str) -> Any:
        session = self._kept.get(backend)
        if session is None:
            return None
        if session.status() == "Closed":
            del self._kept[backend]
            return None
        print(
            f"Reusing the open {session_kind(session)} {session.session_id} on {backend} (kept by "
            "an earlier %%session --keep); --max-time and --batch apply only to a new one."
        )
        return session

    # ------------------------------------------------------------------ %session

    @line_magic("session")  # type: ignore[arg-type]
    @magic_arguments("session")
    @kwds(usage=LINE_USAGE, epilog=LINE_EPILOG)
    @argument(
        "command",
        nargs="?",
        metavar="COMMAND",
        help="list, status, details, receipt, close, cancel, watch, attach or help (above); "
        "without one, help",
    )
    @argument(
        "id",
        nargs="?",
        metavar="ID",
        help="the session: its id or a unique prefix of it; default: the most recent session "
        "of this kernel (attach needs one)",
    )
    @argument(
        "--all",
        action="store_true",
        help="with close: every open session the session monitor tracks (this server's "
        "notebooks, sessions tracked by id, the account's others with discovery on), listed "
        "first; give no ID with it",
    )
    @argument(
        "--cancel",
        action="store_true",
        help="with close --all: cancel them instead (their queued jobs are cancelled and each "
        "session ends now; running jobs finish)",
    )
    @argument(
        "--yes",
        action="store_true",
        help="do it without asking: cancel does nothing without it (it says what it would "
        "cancel), close --all asks y/N first unless given (and does nothing where the front "
        "end cannot ask)",
    )
    def session_line(self, line: str) -> Any:
        """See and control the Qiskit Runtime sessions of this kernel.

        Commands:
          list            this kernel's sessions: id, backend, mode, status, jobs and what the
                          service does next; with the session monitor also what each is billed
                          and its budget, and which queued jobs will not start before max TTL.
                          * marks the default session
          status [ID]     Session.status() with job counts and the next deadline; billed time,
                          budget and fit-check when the monitor answers
          details [ID]    Session.details(), then the job counts and the failed jobs with the
                          service's reason
          receipt [ID]    what the session cost: times, how it ended, jobs, billed time, cost
                          ("so far" while it is open), from the session monitor
          close [ID]      no new jobs; queued jobs still run
          close --all [--cancel] [--yes]
                          every open session the monitor tracks (after one y/N question
                          unless --yes); --cancel cancels their queued jobs
          cancel [ID] --yes
                          cancel queued jobs and end the session; without --yes it says what
                          it would cancel and changes nothing
          watch [ID]      show the live widget
          attach ID       re-attach with Session.from_id and track it under this notebook
          help            a summary of these commands and of the %%session options"""
        words = split_words(line, "%session")
        if not words or words[0] in ("help", "-h", "--help"):
            print(USAGE)
            return None
        # What the refusals call the command: as typed (options may come before it).
        named = next((word for word in words if not word.startswith("-")), words[0])

        def unknown(word: str) -> str:
            return f"%session {named}: unknown option {word!r}.\n{USAGE}"

        args, extras = parse(self.session_line, words, "%session", unknown)
        command: str | None = args.command
        ident: str | None = args.id
        # Options that are not this command's: --all and --cancel go with close only.
        unknown_options = [word for word in extras if word.startswith("-")]
        if command != "close":
            unknown_options += [f"--{flag}" for flag in ("all", "cancel") if getattr(args, flag)]
        if unknown_options:
            raise UsageError(unknown(sorted(unknown_options)[0]))
        if command is None:  # only options
            raise UsageError(f"%session: unknown command {named!r}.\n{USAGE}")
        if extras:  # more words than COMMAND and ID
            raise UsageError(f"%session {command}: one session id at most.\n{USAGE}")
        yes = args.yes
        if command == "close" and args.all:
            if ident is not None:
                raise UsageError(
                    "%session close --all closes every open session: give no id with it."
                )
            close_all(cancel=args.cancel, yes=yes)
            return None
        if args.cancel:
            raise UsageError(
                "%session close --cancel: --cancel goes with --all; to cancel one session's "
                "queued jobs and end it, %session cancel [ID] --yes."
            )
        with fixable_errors():
            if command == "list":
                list_sessions()
                return None
            if command == "attach":
                if ident is None:
                    raise UsageError("%session attach ID: which session? Give its id.")
                return attach_session(ident)
            if command not in ("status", "details", "receipt", "close", "cancel", "watch"):
                raise UsageError(f"%session: unknown command {command!r}.\n{USAGE}")
            session = find_session(ident)
            if command == "status":
                # One read for every figure: the monitor's, read from the service now, whose
                # counts are those its fit-check used; the service's own answer when the server
                # cannot be asked (headless).
                view = server_views([str(session.session_id)], fresh=True).get(
                    str(session.session_id)
                )
                look = look_of(session, view) if view is not None else look_at(session)
                now = utc_now()
                countdown = look.countdown(now)
                print(
                    f"{look.mode.capitalize()} {look.session_id} on {look.backend}: "
                    f"{look.status}; jobs: {look.jobs_text(zeros=True)}"
                    + (f"; {countdown}" if countdown else "")
                )
                # What the monitor adds (headless, as before: the service's answer only).
                if view is not None:
                    lines = (
                        _stale_line(view),
                        pending_line(view),
                        billing_line(view, now),
                        budget_line(view),
                        fit_line(view),
                    )
                    for said in lines:
                        if said:
                            print(f"  {said}")
            elif command == "details":
                look = look_at(session)
                print_details(look.details)
                print_jobs(look)
            elif command == "receipt":
                _show_receipt(session)
            elif command == "close":
                close_and_say(session)
            elif command == "cancel":
                cancel_session(session, yes)
            else:
                self._display(session)
        return None

    def _display(self, session: Any) -> None:
        from jupyter_session_monitor.kernel.widget import SessionWidget

        display(SessionWidget(session))  # type: ignore[no-untyped-call]


def register(ipython: Any) -> None:
    """Idempotent: a second `%load_ext` keeps the magics (and what they remember) in place."""
    if "SessionMagics" in ipython.magics_manager.registry:
        return
    ipython.register_magics(SessionMagics)
