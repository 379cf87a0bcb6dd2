"""Plain typed records shared by the monitor's rooms. No I/O, no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: How a session came to be tracked.
SOURCE_KERNEL = "kernel"  # a notebook's kernel opened it
SOURCE_TRACKED = "tracked"  # a user asked to track it by id
SOURCE_DISCOVERED = "discovered"  # found through the account's workload listing
# A notebook run by papermill, nbclient or nbconvert from this server's terminal: its kernel is
# not one of the server's, but a child of it (it inherited the hook).
SOURCE_HEADLESS = "headless"


@dataclass(frozen=True)
class AccountRef:
    """Which account polls a session. Never holds a token: a token lives in the gateway's memory."""

    name: str | None = None  # a saved account's name; None: the server's default account
    channel: str | None = None
    instance: str | None = None
    url: str | None = None

    def key(self) -> str:
        return "|".join(part or "" for part in (self.name, self.channel, self.instance, self.url))

    def as_json(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "channel": self.channel,
            "instance": self.instance,
            "url": self.url,
        }


@dataclass(frozen=True)
class KernelReport:
    """A session reported by a kernel of this server (its signature checked: ``kernel_id``), or by
    a headless run started from one of its terminals (``run_pid``, ``runner``)."""

    session_id: str
    account: AccountRef
    token: str | None = None  # the kernel's login, kept in the server's memory only
    kernel_id: str | None = None
    notebook_path: str | None = None
    run_pid: int | None = None
    runner: str | None = None
    cell: dict[str, Any] | None = None  # the cell that opened it
    job_cells: dict[str, dict[str, Any]] = field(default_factory=dict)  # job id -> its cell


@dataclass
class JobRecord:
    id: str
    session_id: str
    program_id: str
    status: str  # QUEUED / RUNNING / DONE / ERROR / CANCELLED
    tags: list[str]
    created: str | None
    usage_seconds: float | None = None  # quantum time billed, once the service reports it
    reason: dict[str, Any] | None = None  # why it failed or was cancelled: {code, message}
    estimated_seconds: float | None = None  # the service's run-time estimate, when it gave one
    started: str | None = None  # when it started running, once known (the service's metrics)
    finished: str | None = None  # when it ended, once known
    # When this server first read it final (not kept in the registry): its usage may still be
    # reported later (the service reports usage periodically), so it is read again until settled.
    final_seen: datetime | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "program_id": self.program_id,
            "status": self.status,
            "tags": list(self.tags),
            "created": self.created,
            "usage_seconds": self.usage_seconds,
            "reason": None if self.reason is None else dict(self.reason),
            "estimated_seconds": self.estimated_seconds,
            "started": self.started,
            "finished": self.finished,
        }


@dataclass
class TrackedSession:
    """What the registry keeps about one session (the last raw body included)."""

    id: str
    account: AccountRef
    source: str
    tracked_at: datetime
    kernel_id: str | None = None
    notebook_path: str | None = None
    mode: str | None = None
    backend: str | None = None
    body: dict[str, Any] | None = None
    last_polled_at: datetime | None = None
    orphaned: bool = False
    last_action: str | None = None  # "close" / "cancel": what this monitor did, for end_reason
    error: dict[str, str] | None = None  # the last polling failure, while it lasts
    stale: bool = False
    not_found: bool = False  # the service answered 404: it no longer knows this session
    jobs: list[JobRecord] = field(default_factory=list)
    # The notebook cell that opened it, and the cell that submitted each job (job id -> cell),
    # as the kernel reported them: {"id": cell id or None, "execution_count": n or None}.
    cell: dict[str, Any] | None = None
    job_cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The service's clock minus this server's (seconds) when the body was read: the moments the
    # monitor predicts from the service's timestamps are served on this server's clock.
    clock_offset: float = 0.0
    # The rate ({"rate_per_second", "currency"}) in force when the service closed it: its bill
    # is final, and priced at that rate whatever the rate is later.
    billed_rate: dict[str, Any] | None = None
    # A close or cancel sent to the service and not yet confirmed by a read: {"action": "close" |
    # "cancel", "state": "accepted" | "unknown", "at": ISO time}. Shown at once on every surface.
    pending_action: dict[str, str] | None = None
    # When this server first read it closed (or, loaded from the registry, the service's
    # ``closed_at``): its usage figures are read again until they settle after that.
    closed_seen: datetime | None = None

    @property
    def state(self) -> str | None:
        return None if self.body is None else self.body.get("state")

    @property
    def closed(self) -> bool:
        return self.state == "closed"


@dataclass(frozen=True)
class Transition:
    at: datetime
    state: str | None
    accepting_jobs: bool | None
    status: str

    def as_json(self) -> dict[str, Any]:
        from jupyter_session_monitor.protocol.derive import iso

        return {
            "at": iso(self.at),
            "state": self.state,
            "accepting_jobs": self.accepting_jobs,
            "status": self.status,
        }


#: What a budget applies to.
BUDGET_SESSION = "session"
BUDGET_NOTEBOOK = "notebook"
#: What happens when a budget is used up.
BUDGET_ACTIONS = ("notify", "close", "cancel")


@dataclass
class Budget:
    """A limit on billed time (seconds) or money (amount, at the server's rate) for one session
    or for every session one notebook opens. ``warned_at``/``reached_at`` are kept so that a
    restarted server neither repeats nor forgets what it did."""

    scope: str  # BUDGET_SESSION or BUDGET_NOTEBOOK
    target: str  # a session id or a notebook path
    action: str  # one of BUDGET_ACTIONS
    set_at: datetime
    seconds: float | None = None
    amount: float | None = None
    threshold: float = 0.8  # share of the budget at which to warn
    warned_at: datetime | None = None
    reached_at: datetime | None = None
    outcome: str | None = None  # what the monitor did when it was reached, in words
    # A notebook budget's folder (the setting server's): ``target`` is relative to it, and the
    # budget applies to the sessions of that notebook file only, on whichever server.
    root_dir: str | None = None

    def as_json(self) -> dict[str, Any]:
        from jupyter_session_monitor.protocol.derive import iso

        return {
            "scope": self.scope,
            "target": self.target,
            "seconds": self.seconds,
            "amount": self.amount,
            "action": self.action,
            "threshold": self.threshold,
            "set_at": iso(self.set_at),
            "warned": self.warned_at is not None,
            "warned_at": iso(self.warned_at),
            "reached": self.reached_at is not None,
            "reached_at": iso(self.reached_at),
            "outcome": self.outcome,
        }
