"""Receipts and history: what a session cost, in one record a person can keep (plain text,
Markdown, JSON), and the registry's sessions as rows to export (CSV, JSON).

Pure functions of views the monitor already serves (``SessionView`` with ``billing``): a
receipt never says anything the sidebar does not.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from jupyter_session_monitor.protocol import derive, money_text, rate_text

#: The end reasons in words, as the sidebar says them.
END_REASONS = {
    "closed": "closed (graceful)",
    "cancelled": "cancelled",
    "max_ttl": "reached its max TTL",
    "idle_timeout": "closed: no job within 30 minutes",
    "unknown": "closed by the service",
}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _money(amount: float | None, currency: str | None) -> str | None:
    return None if amount is None else money_text(amount, currency)


def receipt(view: dict[str, Any]) -> dict[str, Any]:
    """A session's receipt from its view: identity, times, how it ended, jobs by status, billed
    time (of which idle), cost at the rate set, and a per-tag breakdown of the jobs' quantum
    seconds. ``final`` is false while the session is still open or a job of it still queued or
    running (a closed session's running job still finishes, and a batch is billed for it)."""
    details = view.get("details") or {}
    billing = view.get("billing") or {}
    per_tag: dict[str, dict[str, float]] = {}
    for job in view.get("jobs") or []:
        for tag in job.get("tags") or ["(untagged)"]:
            entry = per_tag.setdefault(tag, {"jobs": 0, "quantum_seconds": 0.0})
            entry["jobs"] += 1
            entry["quantum_seconds"] += float(job.get("usage_seconds") or 0.0)
    return {
        "session_id": view["id"],
        "backend": view.get("backend"),
        "mode": view.get("mode"),
        "notebook_path": view.get("notebook_path"),
        "cell": view.get("cell"),
        # Closed, no job still to finish, and its usage figures settled (the service reports
        # usage periodically: a figure read at the end may be an earlier report's).
        "final": view.get("state") == "closed"
        and not any((view.get("jobs_summary") or {}).get(s) for s in ("QUEUED", "RUNNING"))
        and (view.get("billing") or {}).get("usage_settled", True),
        "opened_at": view.get("created_at"),
        "started_at": details.get("started_at"),
        "closed_at": details.get("closed_at"),
        "end_reason": view.get("end_reason"),
        "jobs": dict(view.get("jobs_summary") or {}),
        "billed_seconds": billing.get("billed_seconds"),
        "billed_idle_seconds": billing.get("billed_idle_seconds"),
        "cost": billing.get("cost"),
        "currency": billing.get("currency"),
        "rate_per_second": billing.get("rate_per_second"),
        "per_tag": [
            {"tag": tag, "jobs": int(v["jobs"]), "quantum_seconds": round(v["quantum_seconds"], 3)}
            for tag, v in sorted(per_tag.items())
        ],
        "as_of": view.get("last_polled_at"),
    }


def _when(value: str | None) -> str:
    """A service time as people read it: "2026-12-01 04:25:55 UTC"."""
    moment = derive.parse_time(value)
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    jobs = data["jobs"]
    counted = ", ".join(f"{n} {status.lower()}" for status, n in jobs.items() if n) or "none"
    ended = END_REASONS.get(data["end_reason"] or "", "still open")
    billed = _duration(data["billed_seconds"])
    if data["billed_idle_seconds"]:
        billed += f" (of which idle: {_duration(data['billed_idle_seconds'])})"
    rows = [
        ("Session", str(data["session_id"])),
        ("Backend", f"{data['backend'] or '-'} ({data['mode'] or '-'})"),
        ("Notebook", data["notebook_path"] or "-"),
        ("Opened", _when(data["opened_at"])),
        ("Started", _when(data["started_at"])),
        ("Closed", _when(data["closed_at"])),
        ("Ended", ended),
        ("Jobs", counted),
        ("Billed", billed),
    ]
    cost = _money(data["cost"], data["currency"])
    if cost is not None:
        rate = rate_text(data["rate_per_second"], data["currency"])
        rows.append(("Cost", f"{cost} at {rate} per billed second"))
    return rows


def receipt_text(data: dict[str, Any]) -> str:
    head = "Receipt" if data["final"] else f"Receipt so far (as of {_when(data['as_of'])})"
    rows = _lines(data)
    width = max(len(k) for k, _ in rows)
    out = [head] + [f"  {k.ljust(width)}  {v}" for k, v in rows]
    if data["per_tag"]:
        out.append("  By tag:")
        for entry in data["per_tag"]:
            out.append(
                f"    {entry['tag']}: {entry['jobs']} job{'' if entry['jobs'] == 1 else 's'}, "
                f"{_duration(entry['quantum_seconds'])} of quantum time"
            )
    return "\n".join(out)


def _md(text: str) -> str:
    """Text in a Markdown table cell: no markup, no table breaks."""
    escaped = "".join(f"\\{c}" if c in "\\`*_[]<>|#!" else c for c in text)
    return escaped.replace("\n", " ")


def receipt_markdown(data: dict[str, Any]) -> str:
    head = "Receipt" if data["final"] else f"Receipt so far (as of {_md(_when(data['as_of']))})"
    out = [f"**Qiskit Runtime session {_md(head.lower())}**", "", "| | |", "|---|---|"]
    out += [f"| {_md(k)} | {_md(v)} |" for k, v in _lines(data)]
    if data["per_tag"]:
        out += ["", "| Tag | Jobs | Quantum time |", "|---|---|---|"]
        out += [
            f"| {_md(e['tag'])} | {e['jobs']} | {_md(_duration(e['quantum_seconds']))} |"
            for e in data["per_tag"]
        ]
    return "\n".join(out)


#: The columns of the history export, in order.
HISTORY_COLUMNS = (
    "session_id",
    "notebook_path",
    "account",
    "backend",
    "mode",
    "opened_at",
    "started_at",
    "closed_at",
    "end_reason",
    "jobs_done",
    "jobs_failed",
    "jobs_cancelled",
    "jobs_pending",
    "billed_seconds",
    "billed_idle_seconds",
    "cost",
    "currency",
)


def history_rows(
    views: Iterable[dict[str, Any]],
    *,
    since: str | None = None,
    until: str | None = None,
    notebook: str | None = None,
    account: str | None = None,
) -> list[dict[str, Any]]:
    """One row per session, oldest first, filtered by when it was opened (``since`` inclusive,
    ``until`` exclusive), notebook path and account name."""
    low, high = derive.parse_time(since), derive.parse_time(until)
    rows = []
    for view in views:
        opened = derive.parse_time(view.get("created_at") or view.get("tracked_at"))
        if low is not None and (opened is None or opened < low):
            continue
        if high is not None and (opened is None or opened >= high):
            continue
        if notebook is not None and view.get("notebook_path") != notebook:
            continue
        name = (view.get("account") or {}).get("name")
        if account is not None and name != account:
            continue
        data = receipt(view)
        jobs = data["jobs"]
        rows.append(
            {
                "session_id": data["session_id"],
                "notebook_path": data["notebook_path"],
                "account": name,
                "backend": data["backend"],
                "mode": data["mode"],
                "opened_at": data["opened_at"],
                "started_at": data["started_at"],
                "closed_at": data["closed_at"],
                "end_reason": data["end_reason"],
                "jobs_done": jobs.get("DONE", 0),
                "jobs_failed": jobs.get("ERROR", 0),
                "jobs_cancelled": jobs.get("CANCELLED", 0),
                "jobs_pending": jobs.get("QUEUED", 0) + jobs.get("RUNNING", 0),
                "billed_seconds": data["billed_seconds"],
                "billed_idle_seconds": data["billed_idle_seconds"],
                "cost": data["cost"],
                "currency": data["currency"],
            }
        )
    rows.sort(key=lambda r: r["opened_at"] or "")
    return rows


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula (user-provided notebook paths)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def history_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row[k]) for k in HISTORY_COLUMNS})
    return out.getvalue()
