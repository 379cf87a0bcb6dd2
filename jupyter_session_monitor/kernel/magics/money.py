"""Money in the magics: billed time, cost, budgets, the fit-check and receipts, from the session
monitor's views (asked through ``client.ask_server``), written as the sidebar writes them."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from IPython.display import display

from jupyter_session_monitor.kernel import client
from jupyter_session_monitor.kernel.durations import (
    format_duration,
    largest_unit,
)
from jupyter_session_monitor.protocol import derive, money_text

from .look import (
    session_kind,
)

#: What the monitor does when a budget is used up (``--on-budget``); notify is the default.
BUDGET_ACTIONS = ("notify", "close", "cancel")


#: How long ``%%session --budget`` waits for the monitor to register a session just opened (the
#: hook reports it from a background thread, retrying for several seconds).
REGISTRATION_WAIT = 15.0


#: How long the end of a ``%%session`` cell waits for the monitor to see its session closed (the
#: receipt final); past it, the receipt says "so far" (queued jobs still running, say).
RECEIPT_WAIT = 10.0


#: Between two questions to the monitor while waiting for that.
RECEIPT_POLL = 0.25


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _money(amount: float, currency: str | None) -> str:
    """``3.5, "USD"`` -> ``3.50 USD``, in the currency's decimals, as the sidebar writes it."""
    return money_text(amount, currency)


def _percent(share: float) -> str:
    """``0.8`` -> ``80 %``, as the sidebar writes shares."""
    return f"{round(share * 100)} %"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def bare_seconds_note(typed: str | None) -> str | None:
    """``a bare number is seconds; write 5m for 5 minutes``: what a duration of plain digits
    means, said because it is rarely what was meant; ``None`` for one with a unit."""
    if typed is None or not typed.strip().isdigit():
        return None
    number = int(typed)
    return (
        f"a bare number is seconds; write {number}m for {number} minute{'s' if number != 1 else ''}"
    )


def _billed_now(view: dict[str, Any], now: datetime) -> tuple[float, float]:
    """(billed, of which idle) seconds now: the monitor's figures as of its last read of the
    service, plus the time since while the service is still billing, no further than its
    ``accrues_until`` (as the sidebar counts)."""
    meter = view.get("billing") or {}
    billed = _number(meter.get("billed_seconds")) or 0.0
    idle = _number(meter.get("billed_idle_seconds")) or 0.0
    as_of = derive.parse_time(view.get("last_polled_at"))
    if not meter.get("accruing") or as_of is None:
        return billed, idle
    until = derive.parse_time(meter.get("accrues_until"))
    end = min(now, until) if until is not None else now
    extra = max(0.0, (end - as_of).total_seconds())
    return billed + extra, idle + (extra if meter.get("idle_accruing") else 0.0)


def billing_line(view: dict[str, Any], now: datetime) -> str | None:
    """``billed 2m 5s so far (of which 1m idle), 1.04 USD; up to 35m (17.50 USD) if left open
    until max TTL``; ``None`` when the monitor has no billing for it."""
    meter = view.get("billing")
    if not isinstance(meter, dict):
        return None
    billed, idle = _billed_now(view, now)
    rate, currency = _number(meter.get("rate_per_second")), meter.get("currency")
    text = f"billed {format_duration(billed)} so far"
    if idle >= 1:
        text += f" (of which {format_duration(idle)} idle)"
    if rate is not None and _number(meter.get("cost")) is not None:
        text += f", {_money(billed * rate, currency)}"
    worst = _number(meter.get("max_billed_seconds"))
    if view.get("status") != derive.CLOSED and worst is not None and worst > billed + 0.5:
        text += f"; up to {format_duration(worst)}"
        max_cost = _number(meter.get("max_cost"))
        if max_cost is not None:
            text += f" ({_money(max_cost, currency)})"
        if meter.get("max_billed_until") == "drain":
            text += ": it accepts no more jobs and ends when its queue has run"
        else:
            text += " if left open until max TTL"
    return text


_BUDGET_THEN = {
    "notify": "at 100 % a notification",
    "close": "at 100 % the monitor closes {it} (queued jobs still run)",
    "cancel": "at 100 % the monitor cancels {it} (queued jobs are cancelled)",
}


def _budget_size(budget: dict[str, Any], typed: str | None = None) -> str:
    """``10m of billed time`` or ``12.50 USD (about 2h 5m of billed time at the server's
    rate)``."""
    seconds, amount = _number(budget.get("seconds")), _number(budget.get("amount"))
    if seconds is not None:
        unit = largest_unit(typed) if typed else "d"
        return f"{format_duration(seconds, unit)} of billed time"
    limit = _number(budget.get("limit_seconds"))
    size = _money(amount or 0.0, budget.get("currency"))
    if limit is None:
        return size
    return f"{size} (about {format_duration(limit)} of billed time at the server's rate)"


def budget_line(view: dict[str, Any]) -> str | None:
    """``budget 10m of billed time: 45 % used; a warning at 80 %, at 100 % the monitor closes it
    (queued jobs still run)``, or what happened once warned or reached."""
    budget = view.get("budget")
    if not isinstance(budget, dict):
        return None
    notebook = budget.get("scope") == "notebook"
    text = f"budget {_budget_size(budget)}"
    if notebook:
        text += f" for the sessions of {budget.get('target')}"
    problem = budget.get("problem")
    if problem:
        return f"{text}: {problem}"
    used = _number(budget.get("used"))
    if used is not None:
        text += f": {_percent(used)} used"
    if budget.get("reached"):
        outcome = budget.get("outcome")
        if outcome:
            return f"{text}; reached: {outcome}"
        return f"{text}; reached: {budget.get('action')} under way"
    threshold = _number(budget.get("threshold")) or 0.8
    action = str(budget.get("action"))
    then = _BUDGET_THEN.get(action, f"at 100 %: {action}").format(it="them" if notebook else "it")
    if budget.get("warned"):
        return f"{text} (warned at {_percent(threshold)}); {then}"
    return f"{text}; a warning at {_percent(threshold)}, {then}"


def _stale_line(view: dict[str, Any]) -> str | None:
    """The monitor could not read the service just now: the figures are of its last read."""
    if not view.get("stale"):
        return None
    at = derive.parse_time(view.get("last_polled_at"))
    when = at.astimezone().strftime("%H:%M:%S") if at is not None else "an earlier read"
    why = (view.get("error") or {}).get("message") or "no answer"
    return f"as read at {when}: the service did not answer just now ({one_line(str(why))})"


def pending_line(view: dict[str, Any]) -> str | None:
    """A close or cancel the monitor sent that no read has confirmed yet, as the row says it."""
    pending = view.get("pending_action")
    if not isinstance(pending, dict) or view.get("status") == derive.CLOSED:
        return None
    action = str(pending.get("action") or "action").capitalize()
    at = derive.parse_time(pending.get("at"))
    when = at.astimezone().strftime("%H:%M:%S") if at is not None else "?"
    if pending.get("state") == "accepted":
        return f"{action} accepted by the service at {when}; not confirmed by a read yet"
    return (
        f"{action} sent at {when} got no answer: the session may or may not have "
        f"{'closed' if action == 'Close' else 'ended'}; the monitor is checking"
    )


def fit_line(view: dict[str, Any]) -> str | None:
    """``≈ 6 of 9 queued jobs will not start before max TTL (14:05) and will fail``; ``None``
    when none is expected to fail, or when there is no basis for an estimate."""
    fit = view.get("fit")
    if not isinstance(fit, dict) or fit.get("basis") is None:
        return None
    failing = fit.get("expected_to_fail")
    if not isinstance(failing, int) or isinstance(failing, bool) or failing <= 0:
        return None
    queued = fit.get("queued")
    at = derive.parse_time(fit.get("max_ttl_at"))
    when = f" ({at.astimezone().strftime('%H:%M')})" if at is not None else ""
    estimate = "at least" if fit.get("lower_bound") else "≈"
    return (
        f"{estimate} {failing} of {queued} queued job{'s' if queued != 1 else ''} will not "
        f"start before max TTL{when} and will fail"
    )


def server_views(session_ids: list[str], *, fresh: bool = False) -> dict[str, dict[str, Any]]:
    """The monitor's views of these sessions by id; empty when the server cannot be asked (a
    headless kernel: the magics then say what the service says, as before) or tracks none.
    ``fresh``: the server reads the service first (within 5 s)."""
    if not session_ids:
        return {}
    try:
        answer = client.ask_server("views", session_ids=session_ids, fresh=fresh)
    except client.ServerUnavailable:
        return {}
    views = answer.get("sessions") if isinstance(answer, dict) else None
    return {
        str(v.get("id")): v for v in views or [] if isinstance(v, dict) and v.get("id") is not None
    }


def _await_registration(session_id: str) -> None:
    """Return once the monitor tracks the session this kernel just opened (the hook registers it
    from a background thread); ``ServerUnavailable`` if it cannot be asked or never does."""
    deadline = time.monotonic() + REGISTRATION_WAIT
    while True:
        answer = client.ask_server("views", session_ids=[session_id])
        views = answer.get("sessions") if isinstance(answer, dict) else None
        if any(isinstance(v, dict) and v.get("id") == session_id for v in views or []):
            return
        if time.monotonic() > deadline:
            raise client.ServerUnavailable(
                f"the monitor had not registered the session after {REGISTRATION_WAIT:.0f} s"
            )
        time.sleep(0.1)


class Receipt:
    """A session's receipt as the monitor words it, as rich output: the Markdown table in a
    notebook, the plain text in a terminal or any front end without Markdown."""

    def __init__(self, text: str, markdown: str) -> None:
        self.text = text
        self.markdown = markdown

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.text


def _receipt_of(session_id: str) -> dict[str, Any] | None:
    """The monitor's receipt of a session (``{"receipt", "text", "markdown"}``, "so far" while
    it is open); ``None`` while it does not track it. ``ServerUnavailable`` when it cannot be
    asked."""
    answer = client.ask_server("views", session_ids=[session_id])
    receipts = answer.get("receipts") if isinstance(answer, dict) else None
    for item in receipts or []:
        data = item.get("receipt") if isinstance(item, dict) else None
        if isinstance(data, dict) and data.get("session_id") == session_id:
            return item  # type: ignore[no-any-return]
    return None


def _show_receipt(session: Any) -> None:
    """``%session receipt``: the receipt as rich output; one line when there is none."""
    session_id = str(session.session_id)
    try:
        found = _receipt_of(session_id)
        if found is None:  # opened a moment ago: the hook's report may still be on its way
            _await_registration(session_id)
            found = _receipt_of(session_id)
    except client.ServerUnavailable as error:
        print(f"No receipt for {session_kind(session)} {session_id}: {one_line(str(error))}.")
        return
    if found is None:
        print(f"No receipt for {session_kind(session)} {session_id}: the session monitor has none.")
        return
    text, markdown = str(found.get("text") or ""), str(found.get("markdown") or "")
    display(Receipt(text, markdown))  # type: ignore[no-untyped-call]


def print_closing_receipt(session: Any) -> None:
    """The end of a ``%%session`` cell that closed its session: the receipt's text, once the
    monitor has seen the session closed (``final``) or after ``RECEIPT_WAIT`` seconds, whatever
    it has then (its text says "so far"). Nothing where the monitor cannot be asked (a headless
    run prints what it printed before)."""
    session_id = str(session.session_id)
    deadline = time.monotonic() + RECEIPT_WAIT
    found: dict[str, Any] | None = None
    while True:
        try:
            found = _receipt_of(session_id) or found
        except client.ServerUnavailable:
            if found is None:
                return
            break
        if found is not None and (found.get("receipt") or {}).get("final"):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(RECEIPT_POLL)
    if found is None:
        print(
            f"No receipt for {session_kind(session)} {session_id}: the session monitor had not "
            f"registered it after {RECEIPT_WAIT:.0f} s."
        )
        return
    print(found.get("text") or "")


def one_line(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def send_budget(session: Any, options: dict[str, Any]) -> None:
    """The cell's ``--budget``/``--budget-amount`` on its session, at the server (which enforces
    it, also with no browser open). Said in one line either way; never fails the cell."""
    session_id = str(session.session_id)
    kind = session_kind(session)
    request: dict[str, Any] = {"action": options["on_budget"] or "notify"}
    if options["budget"] is not None:
        request["seconds"] = options["budget"]
    else:
        request["amount"] = options["budget_amount"]
    note = bare_seconds_note(options["budget_text"])
    try:
        _await_registration(session_id)
        answer = client.ask_server("set_budget", session_id=session_id, **request)
    except client.ServerUnavailable as error:
        print(f"%%session: no budget set on {kind} {session_id}: {one_line(str(error))}.")
        return
    views = answer.get("sessions") if isinstance(answer, dict) else None
    view = next((v for v in views or [] if isinstance(v, dict)), {})
    given = view.get("budget")
    budget: dict[str, Any] = given if isinstance(given, dict) else dict(request)
    then = _BUDGET_THEN[request["action"]].format(it="it")
    threshold = _number(budget.get("threshold")) or 0.8
    print(
        f"Budget for {kind} {session_id}: {_budget_size(budget, options['budget_text'])}"
        + (f" ({note})" if note else "")
        + f"; a warning at {_percent(threshold)}, {then}."
    )


def billed_cell(view: dict[str, Any] | None, now: datetime) -> str:
    """``%session list``'s billed column: ``2m 5s`` or ``2m 5s, 1.04 USD``."""
    if view is None or not isinstance(view.get("billing"), dict):
        return ""
    meter = view["billing"]
    billed, _ = _billed_now(view, now)
    rate = _number(meter.get("rate_per_second"))
    if rate is None:
        return format_duration(billed)
    return f"{format_duration(billed)}, {_money(billed * rate, meter.get('currency'))}"


def budget_cell(view: dict[str, Any] | None) -> str:
    """``%session list``'s budget column: ``45 % of 10m``, ``reached: closed ID``."""
    budget = view.get("budget") if view is not None else None
    if not isinstance(budget, dict):
        return ""
    if budget.get("reached"):
        return f"reached: {budget.get('outcome') or str(budget.get('action')) + ' under way'}"
    used = _number(budget.get("used"))
    size = _budget_size(budget).split(" (")[0].removesuffix(" of billed time")
    return f"{_percent(used)} of {size}" if used is not None else size


def _where(view: dict[str, Any]) -> str:
    """The notebook a session belongs to, or how the monitor knows it."""
    if view.get("notebook_path"):
        return str(view["notebook_path"])
    source = view.get("source")
    if source == "tracked":
        return "(tracked by id)"
    if source == "discovered":
        return "(opened elsewhere)"
    return "(no notebook)"
