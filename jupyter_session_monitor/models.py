"""Plain typed records shared by the monitor's rooms. No I/O, no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: How a session came to be tracked.
SOURCE_KERNEL = "kernel"  # a notebook's kernel opened it
SOURCE_TRACKED = "tracked"  # a user asked to track it by id
SOURCE_DISCOVERED = "discovered"  # found through the account's workload listing


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

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "program_id": self.program_id,
            "status": self.status,
            "tags": list(self.tags),
            "created": self.created,
            "usage_seconds": self.usage_seconds,
            "reason": None if self.reason is None else dict(self.reason),
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
        from .derive import iso

        return {
            "at": iso(self.at),
            "state": self.state,
            "accepting_jobs": self.accepting_jobs,
            "status": self.status,
        }
