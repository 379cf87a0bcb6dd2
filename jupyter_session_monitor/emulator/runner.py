"""Run an emulator in this process, on its own event-loop thread (tests, benchmarks, notebooks)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .server import Emulator, EmulatorConfig

T = TypeVar("T")


class EmulatorThread:
    """An emulator serving from a daemon thread. ``call`` runs code on its loop (the model is not
    thread-safe; everything that touches it runs there)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.emulator = Emulator(config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name="qiskit-runtime-emulator", daemon=True
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self.emulator.start()
        except BaseException as error:
            self._failure = error
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> EmulatorThread:
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure
        return self

    def call(self, function: Callable[[], T]) -> T:
        async def run() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def stop(self) -> None:
        if not self._loop.is_running():
            return
        asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@contextmanager
def running_emulator(config: EmulatorConfig | None = None) -> Iterator[EmulatorThread]:
    thread = EmulatorThread(config or EmulatorConfig()).start()
    try:
        yield thread
    finally:
        thread.stop()
