"""Conversions run in worker threads, a few at a time, each with a time limit.

The server's event loop never converts: a conversion takes CPU time and a big export can take
minutes. :meth:`Jobs.run` waits for a free slot (at most ``timeout`` seconds, else :class:`Busy`),
runs the function in its own thread and waits for it at most ``timeout`` seconds (else
:class:`TooSlow`). A Python thread cannot be stopped from outside, so a conversion that runs over
keeps its slot until it finishes; its result is thrown away. That way a few runaway inputs make
the server say "busy" instead of starting ever more threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every slot stayed taken for the whole time limit."""


class TooSlow(Exception):
    """The work took longer than the time limit."""


class Jobs:
    def __init__(self, workers: int = 2, timeout: float = 300.0) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(self.workers)
        self.running = 0
        self._count_lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while not self._slots.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise Busy()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            with self._count_lock:
                self.running += 1
            try:
                value = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                try:
                    future.set_exception(exc)
                except concurrent.futures.InvalidStateError:  # the request gave up waiting
                    pass
            else:
                try:
                    future.set_result(value)
                except concurrent.futures.InvalidStateError:
                    pass
            finally:
                with self._count_lock:
                    self.running -= 1
                self._slots.release()

        try:
            threading.Thread(target=work, name="qabook-convert", daemon=True).start()
        except BaseException:
            self._slots.release()
            raise
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout)
        except asyncio.TimeoutError:
            future.cancel()
            raise TooSlow() from None
