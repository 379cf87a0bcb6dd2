"""The gateway to the Qiskit Runtime service: the only server module that imports the client.

The import happens on first use (JupyterLab's start-up does not pay for it). Every client call is
a blocking ``requests`` call, so calls run in thread pools and the caller waits at most
``request_timeout`` seconds. The client sets no read timeout and sleeps a 429's ``Retry-After``
inside the calling thread, so a few hung or throttled calls would hold every thread: each client
the gateway builds gets a read timeout and does not sleep on ``Retry-After`` (the monitor spaces
its polls by it instead). User actions (close, cancel, track) have their own threads, so they
never queue behind polls of a service that hangs. One ``QiskitRuntimeService`` is built per
account (construction costs IAM, instance discovery and a backend list) and a small pool of its
``RuntimeClient``s serves concurrent calls, because a client's HTTP session is not thread-safe.

Credentials: saved accounts are loaded by name by the client itself; a token handed over by a
kernel is held in this object's memory only, and scrubbed from any error message.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from jupyter_session_monitor import metrics
from jupyter_session_monitor._version import __version__
from jupyter_session_monitor.domain.models import AccountRef
from jupyter_session_monitor.protocol import clock
from jupyter_session_monitor.protocol.clock import ClockOffset

log = logging.getLogger(__name__)

#: Added to the client's User-Agent on the monitor's own calls to the service.
USER_AGENT = f"jupyter-session-monitor/{__version__}"

#: A call may wait this many request timeouts for a free thread before it is given up as "busy".
QUEUE_WAIT_FACTOR = 5


class RuntimeCallError(Exception):
    """A failed call, described for people. ``kind`` is stable, for code and the API."""

    def __init__(
        self,
        kind: str,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after  # seconds the service asked to wait (429/503)


@dataclass
class _Account:
    service: Any
    instance: str
    clients: queue.SimpleQueue[Any]
    # The service's clock minus this host's, from the Date of every answer to this account.
    clock: ClockOffset = field(default_factory=ClockOffset)


class RuntimeGateway:
    def __init__(
        self,
        *,
        max_workers: int = 4,
        request_timeout: float = 20.0,
        action_workers: int = 2,
        track_workers: int = 16,
    ) -> None:
        # Not USAGE_DATA_OPT_OUT in os.environ: every kernel of the server would inherit it.
        self.request_timeout = request_timeout
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="session-monitor-api")
        self._actions = ThreadPoolExecutor(
            action_workers, thread_name_prefix="session-monitor-action"
        )
        # The first read of a session someone asks to track: a lane of its own, wide enough
        # that tracking 200 at once over a slow service (a second a call) takes seconds, not
        # the minutes two action threads took, and bounded, so that it cannot storm it.
        self._tracking = ThreadPoolExecutor(
            track_workers, thread_name_prefix="session-monitor-track"
        )
        self._accounts: dict[str, _Account] = {}
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def clock_offset(self, account: AccountRef) -> float:
        """The service's clock minus this host's for ``account``, in seconds (0 until known)."""
        with self._lock:
            entry = self._accounts.get(account.key())
        return entry.clock.seconds if entry is not None else 0.0

    def shutdown(self) -> None:
        for executor in (self._executor, self._actions, self._tracking):
            executor.shutdown(wait=False, cancel_futures=True)

    def remember_token(self, account: AccountRef, token: str) -> str | None:
        """Keep a token a kernel handed over, in memory only, for polling with that account.
        Returns the token it replaces (to put back with ``restore_token`` if the registration
        that brought it is refused)."""
        with self._lock:
            previous = self._tokens.get(account.key())
            if previous == token:
                return previous  # a kernel reports on every job: keep the service it built
            self._tokens[account.key()] = token
            self._accounts.pop(account.key(), None)
            return previous

    def restore_token(self, account: AccountRef, previous: str | None) -> None:
        with self._lock:
            if self._tokens.get(account.key()) == previous:
                return
            if previous is None:
                self._tokens.pop(account.key(), None)
            else:
                self._tokens[account.key()] = previous
            self._accounts.pop(account.key(), None)

    # ------------------------------------------------------------------ calls

    async def session(self, account: AccountRef, session_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            account, lambda c: c.session_details(session_id), call="session"
        )
        return result

    async def session_jobs(
        self, account: AccountRef, session_id: str, *, limit: int, skip: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a session's jobs with their state, oldest first from ``skip``, and how
        many jobs the session has (``count``). The service may return fewer than ``limit``."""
        answer = await self._call(
            account,
            lambda c: c.jobs_get(session_id=session_id, limit=limit, skip=skip, descending=False),
            call="session_jobs",
        )
        jobs: list[dict[str, Any]] = list(answer.get("jobs", []))
        count = answer.get("count")
        return jobs, count if isinstance(count, int) and count >= 0 else skip + len(jobs)

    async def open_workloads(self, account: AccountRef) -> list[dict[str, Any]]:
        """The account's sessions and batches that are not closed (the workloads listing)."""

        def listing(client: Any) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for mode in ("session", "batch"):
                answer = client._api.workloads_get(mode=mode, limit=100, status=None)
                items = answer.get("workloads", []) if isinstance(answer, dict) else answer
                found.extend(w for w in items if str(w.get("status", "")).lower() != "closed")
            return found

        result: list[dict[str, Any]] = await self._call(account, listing, call="workloads")
        return result

    async def job_metrics(self, account: AccountRef, job_id: str) -> dict[str, Any]:
        """A job's metrics: ``timestamps {created, running, finished}``, ``usage``."""
        result: dict[str, Any] = await self._call(
            account, lambda c: c.job_metadata(job_id), call="job_metrics"
        )
        return result

    async def instance_usage(self, account: AccountRef) -> dict[str, Any]:
        """The instance's usage in its current period (what ``service.usage()`` reads)."""
        result: dict[str, Any] = await self._call(
            account, lambda c: c.cloud_usage(), call="instance_usage"
        )
        return result

    async def session_for_action(self, account: AccountRef, session_id: str) -> dict[str, Any]:
        """``session`` for a user's (or a kernel's) request to track it, on the tracking lane:
        not queued behind the polls, nor behind other tracks on two threads."""
        result: dict[str, Any] = await self._call(
            account, lambda c: c.session_details(session_id), lane="track", call="session"
        )
        return result

    async def close(self, account: AccountRef, session_id: str) -> None:
        await self._call(
            account, lambda c: c.close_session(session_id), lane="action", call="close"
        )

    async def cancel(self, account: AccountRef, session_id: str) -> None:
        await self._call(
            account, lambda c: c.cancel_session(session_id), lane="action", call="cancel"
        )

    async def cancel_job(self, account: AccountRef, job_id: str) -> None:
        await self._call(account, lambda c: c.job_cancel(job_id), lane="action", call="job_cancel")

    async def _call(
        self,
        account: AccountRef,
        operation: Callable[[Any], Any],
        *,
        lane: str = "poll",
        call: str = "other",
    ) -> Any:
        loop = asyncio.get_running_loop()
        executor = {"action": self._actions, "track": self._tracking}.get(lane, self._executor)
        started: asyncio.Future[None] = loop.create_future()

        def mark_started() -> None:
            if not started.done():
                started.set_result(None)

        def run() -> Any:
            loop.call_soon_threadsafe(mark_started)
            return self._run(account, operation, call)

        future = loop.run_in_executor(executor, run)
        try:
            # The service's deadline starts when a thread makes the call, not while the call
            # waits for a free thread (many sessions, a slow service): waiting is not the
            # service's silence. A wait many times the deadline means the threads are stuck.
            await asyncio.wait_for(
                asyncio.shield(started), QUEUE_WAIT_FACTOR * self.request_timeout
            )
        except TimeoutError:
            future.cancel()
            raise RuntimeCallError(
                "busy",
                "The session monitor has more calls to make than threads to make them (the "
                "service is slow); this one is tried again later. Raise "
                "SessionMonitorApp.max_workers if this persists.",
            ) from None
        try:
            return await asyncio.wait_for(future, self.request_timeout)
        except TimeoutError:
            raise RuntimeCallError(
                "timeout",
                f"The Qiskit Runtime service did not answer within {self.request_timeout:g} s; "
                "the monitor keeps retrying.",
            ) from None

    # ------------------------------------------------------------------ worker threads

    def _run(self, account: AccountRef, operation: Callable[[Any], Any], call: str) -> Any:
        started, outcome = time.perf_counter(), "ok"
        try:
            entry = self._account(account)
            client = self._borrow(entry)
            try:
                return operation(client)
            finally:
                entry.clients.put(client)
        except RuntimeCallError as error:
            outcome = error.kind
            raise
        except Exception as error:
            translated = self._translate(error, account)
            outcome = translated.kind
            raise translated from None
        finally:
            # The whole call as this thread saw it, also when the caller stopped waiting.
            metrics.API_SECONDS.labels(call, outcome).observe(time.perf_counter() - started)

    def _account(self, account: AccountRef) -> _Account:
        key = account.key()
        with self._lock:
            entry = self._accounts.get(key)
            token = self._tokens.get(key)
        if entry is not None:
            return entry
        from qiskit_ibm_runtime import QiskitRuntimeService

        if token is not None:
            service = QiskitRuntimeService(
                channel=account.channel or "ibm_quantum_platform",
                token=token,
                url=account.url,
                instance=account.instance,
            )
        elif account.name:
            service = QiskitRuntimeService(name=account.name, instance=account.instance)
        else:
            service = QiskitRuntimeService(instance=account.instance)
        instance = account.instance or service.active_instance()
        entry = _Account(service, instance, queue.SimpleQueue())
        with self._lock:
            entry = self._accounts.setdefault(key, entry)
        return entry

    def _borrow(self, entry: _Account) -> Any:
        try:
            return entry.clients.get_nowait()
        except queue.Empty:
            from qiskit_ibm_runtime.api.client import RuntimeClient
            from qiskit_ibm_runtime.api.client_parameters import ClientParameters

            saved = entry.service._account
            client = RuntimeClient(
                ClientParameters(
                    channel=saved.channel,
                    token=saved.token,
                    url=saved.url,
                    instance=entry.instance,
                    proxies=saved.proxies,
                    verify=saved.verify,
                    private_endpoint=saved.private_endpoint,
                    url_resolver=entry.service._url_resolver,
                )
            )
            self._tune(client)
            clock.watch(getattr(client, "_session", None), entry.clock)
            return client

    def _tune(self, client: Any) -> None:
        """A read timeout, and no sleeping on ``Retry-After`` in this thread. Best effort: a
        client release that moved these attributes keeps its own behaviour."""
        session = getattr(client, "_session", None)
        if session is None:
            return
        if hasattr(session, "_timeout"):
            session._timeout = (5.0, self.request_timeout)
        try:
            for prefix in ("http://", "https://"):
                retry = session.get_adapter(prefix).max_retries
                session.mount(
                    prefix,
                    _deadline_adapter(
                        (5.0, self.request_timeout),
                        # A read that timed out is not tried again in this thread (a poll
                        # comes again soon); Retry-After is honoured by the monitor.
                        max_retries=retry.new(respect_retry_after_header=False, read=0),
                    ),
                )
        except Exception:  # the client's own retry policy then stays
            log.warning(
                "Could not set a read timeout on the Qiskit client's connections: a silent "
                "service may hold a polling thread until its connection drops",
                exc_info=True,
            )

    def _translate(self, error: Exception, account: AccountRef) -> RuntimeCallError:
        status = getattr(error, "status_code", None)
        text = self._scrub(str(error), account)
        if status is None:
            # Some client errors carry the HTTP status only in their text
            # ("Unexpected response received from server: 503 ...", or requests' own
            # "429 Client Error: ..." wrapped in "Error closing session: ...").
            found = re.search(r"\b([45]\d\d) (?:Client|Server) Error\b", text)
            if found is None and "response" in text.lower():
                found = re.search(r"\b([45]\d\d)\b", text)
            status = int(found.group(1)) if found else None
        name = type(error).__name__
        if "timeout" in name.lower() or "timed out" in text.lower():
            return RuntimeCallError(
                "timeout",
                f"The Qiskit Runtime service did not answer within {self.request_timeout:g} s; "
                "the monitor keeps retrying.",
            )
        if name == "IBMNotAuthorizedError" or status == 401:
            # The cached login may be what is refused (the service restarted, the token was
            # revoked): the next call logs in again instead of reusing it for an hour.
            with self._lock:
                self._accounts.pop(account.key(), None)
            return RuntimeCallError(
                "unauthorized",
                "The Qiskit Runtime service refused the account's credentials (401). Check the "
                "saved account or its token; the monitor retries by itself.",
                401,
            )
        if name == "InvalidAccountError" and "retrieve instances" in text.lower():
            # Logging in again was refused: to the user that is the service refusing the
            # credentials (or failing for a moment), not a broken saved account.
            return RuntimeCallError(
                "unauthorized",
                "The Qiskit Runtime service refused to log in with the account's credentials. "
                "If the service is having trouble this passes by itself; otherwise check the "
                "saved account or its token. The monitor retries by itself.",
                401,
            )
        if name in ("AccountNotFoundError", "InvalidAccountError", "IBMInputValueError"):
            return RuntimeCallError("account", f"The account cannot be used: {text}")
        if status == 404:
            return RuntimeCallError(
                "not_found", "The Qiskit Runtime service does not know it.", 404
            )
        retry_after = _retry_after(error)
        exhausted = re.search(r"too many (\d{3}) error responses", text)
        if exhausted and exhausted.group(1) == "429":  # the client's own retries were limited
            status = 429
        if status == 429:
            return RuntimeCallError(
                "rate_limited",
                "The Qiskit Runtime service is limiting requests (429)"
                + (f" and asked to wait {retry_after:g} s" if retry_after else "")
                + "; the monitor waits as asked, then tries again.",
                429,
                retry_after,
            )
        if exhausted:  # the client's own retries of a 5xx ran out
            return RuntimeCallError(
                "service_error",
                f"The Qiskit Runtime service kept failing ({exhausted.group(1)}) through the "
                "client's retries; the monitor retries later by itself.",
                int(exhausted.group(1)),
            )
        if isinstance(status, int) and status >= 500:
            return RuntimeCallError(
                "service_error",
                f"The Qiskit Runtime service failed ({status}). Try again in a minute.",
                status,
                retry_after,
            )
        if isinstance(status, int) and status >= 400:
            return RuntimeCallError(
                "rejected", f"The Qiskit Runtime service refused: {text}", status
            )
        if "Connection" in name or "connect" in text.lower():
            return RuntimeCallError(
                "unreachable", f"The Qiskit Runtime service cannot be reached: {text}"
            )
        return RuntimeCallError("service_error", f"{name}: {text[:300]}")

    def _scrub(self, text: str, account: AccountRef) -> str:
        with self._lock:
            secrets = [self._tokens.get(account.key())]
            entry = self._accounts.get(account.key())
        if entry is not None:
            secrets.append(getattr(entry.service._account, "token", None))
        for secret in filter(None, secrets):
            text = text.replace(secret, "***")
        return text


def _retry_after(error: BaseException) -> float | None:
    """The ``Retry-After`` seconds of the response behind a client error, if it had one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        headers = getattr(response, "headers", None)
        value = headers.get("Retry-After") if headers is not None else None
        if value is not None:
            # Seconds or an HTTP date, as urllib3 reads it (a date past is 0).
            from urllib3.exceptions import InvalidHeader
            from urllib3.util.retry import Retry

            try:
                return float(Retry().parse_retry_after(str(value)))
            except InvalidHeader:
                return None  # not a Retry-After: back off as usual
        current = current.__cause__ or current.__context__
    return None


def _deadline_adapter(timeout: tuple[float, float], **options: Any) -> Any:
    """A ``requests`` adapter that gives every request a (connect, read) timeout when the
    caller gave none (the client sets one only through a private attribute, and not at all
    behind a proxy: a thread stuck on a silent service is a thread fewer for every poll), and
    says who calls in the User-Agent, as a polite client does."""
    from requests.adapters import HTTPAdapter

    class DeadlineAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            agent = str(request.headers.get("User-Agent") or "").strip()
            if USER_AGENT not in agent:
                request.headers["User-Agent"] = f"{agent} {USER_AGENT}".strip()
            return super().send(request, *args, **kwargs)

    return DeadlineAdapter(**options)
