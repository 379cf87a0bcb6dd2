"""The registry's writes, never waiting long on the server's event loop.

The store is called on the event loop, so a call waits at most ``LOOP_WAIT_MS`` for another
process's write lock (another server of the registry, a backup, a ``sqlite3`` shell). A write that
cannot have it is queued, with every write after it, in order, and a thread with its own
connection writes the queue once the lock is free (the server's memory is the truth meanwhile;
nothing is lost unless the server stops while the file stays locked, and then the log says
what). An operation that needs the registry's answer (a budget's claim before it acts, the
heartbeat) raises ``RegistryBusy`` instead, and its caller tries again later.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from jupyter_session_monitor.domain.errors import MonitorError

log = logging.getLogger(__name__)

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], T]

#: How long a call on the event loop waits for another process's write lock.
LOOP_WAIT_MS = 100
#: How long the queue's writer waits for the lock at each attempt, and pauses between them.
QUEUE_WAIT_MS = 5000
QUEUE_PAUSE_SECONDS = 0.25
#: How many times the writer tries a write the registry refuses for another reason than a lock.
QUEUE_ATTEMPTS = 120
#: How long opening the registry (migrations, at start) and claiming a server's place may wait.
START_WAIT_MS = 5000


def _locked(error: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (extended codes included): another connection holds it."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(error) or "busy" in str(error)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class RegistryBusy(MonitorError):
    """The registry could not answer now: another process holds its write lock, or writes that
    met it are still queued. Nothing was changed."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "registry_busy",
            "The session monitor's registry (its SQLite file) is locked by another process; "
            "nothing was changed. Try again in a moment.",
        )


class Writer:
    """Writes to one registry file: at once on the loop's connection, or queued in order."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db  # the event loop's connection
        self.path = path
        self._queue: deque[tuple[str, Write[Any]]] = deque()
        self._queue_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def behind(self) -> bool:
        """Writes are queued: what the file says lags what this server knows."""
        return bool(self._queue)

    @property
    def queued(self) -> int:
        """How many writes wait for the registry."""
        return len(self._queue)

    def flush(self, timeout: float) -> bool:
        """Wait (in a thread, not on the loop) until the queued writes are written; False if
        some are still queued after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self._queue and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._queue

    def close(self) -> None:
        self._closed = True
        with self._queue_lock:
            if self._queue:
                log.error(
                    "The registry stayed locked: %d writes are lost (the first: %s)",
                    len(self._queue),
                    self._queue[0][0],
                )
                self._queue.clear()

    @contextmanager
    def transaction(self, db: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
        db = self._db if db is None else db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def write(self, what: str, write: Write[T]) -> T | None:
        """Write now (its result), or, if the registry refuses it (locked by another process,
        read-only, full) or writes are queued, queue it after them (None): order is kept, the
        loop never waits more than ``LOOP_WAIT_MS``, and the caller never fails for it."""
        with self._queue_lock:
            if not self._queue:
                try:
                    with self.transaction() as db:
                        return write(db)
                except sqlite3.OperationalError as error:  # locked, read-only, full, I/O
                    if str(self.path) == ":memory:" or self._closed:
                        raise  # one connection, or none: no one else to wait for
                    log.warning(
                        "The registry refused %s (%s): it and every write after it are written "
                        "once it can be",
                        what,
                        error,
                    )
            self._queue.append((what, write))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._drain, name="session-monitor-registry", daemon=True
                )
                self._thread.start()
            return None

    def answer(self, what: str, operation: Write[T], wait_ms: int = LOOP_WAIT_MS) -> T:
        """Run an operation whose answer is needed now; ``RegistryBusy`` if the registry cannot
        give it within ``wait_ms`` (or writes are queued: the file is behind)."""
        with self._queue_lock:
            if self._queue:
                raise RegistryBusy
            if wait_ms != LOOP_WAIT_MS:
                self._db.execute(f"PRAGMA busy_timeout={wait_ms}")
            try:
                with self.transaction() as db:
                    return operation(db)
            except sqlite3.OperationalError as error:
                if not _locked(error):
                    raise
                log.info("The registry is locked by another process: %s waits", what)
                raise RegistryBusy from None
            finally:
                if wait_ms != LOOP_WAIT_MS:
                    self._db.execute(f"PRAGMA busy_timeout={LOOP_WAIT_MS}")

    def _drain(self) -> None:
        """The queue's writer (a thread with its own connection): each write in order, tried
        again while another process holds the lock, and up to ``QUEUE_ATTEMPTS`` times when the
        registry refuses it otherwise (read-only, full), then given up, said in the log."""
        db: sqlite3.Connection | None = None
        attempts = 0
        try:
            db = sqlite3.connect(str(self.path), isolation_level=None, timeout=QUEUE_WAIT_MS / 1000)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys=ON")
            while not self._closed:
                with self._queue_lock:
                    if not self._queue:
                        # Under the lock: a write queued after this starts a new writer.
                        self._thread = None
                        log.info("The registry is written up to date again")
                        return
                    what, write = self._queue[0]
                try:
                    with self.transaction(db):
                        write(db)
                except sqlite3.Error as error:
                    attempts += 1
                    if _locked(error) or attempts < QUEUE_ATTEMPTS:
                        time.sleep(QUEUE_PAUSE_SECONDS)
                        continue
                    log.error("Could not record %s in the registry; given up: %s", what, error)
                except Exception:
                    log.exception("Could not record %s in the registry", what)
                attempts = 0
                with self._queue_lock:
                    if self._queue:
                        self._queue.popleft()
        except sqlite3.Error:
            log.exception("The registry's writer could not open the file")
        finally:
            with self._queue_lock:
                if self._thread is threading.current_thread():
                    self._thread = None
            if db is not None:
                db.close()
