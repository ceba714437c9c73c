"""A progress bar on the terminal for conversions that take more than a second.

The pipeline reports ``(phase, done, total)`` (see :data:`qabook.pipeline.Progress`): bytes of the
input while reading, then sections while writing when a reader reads everything first (exports).
Nothing shows for a conversion that ends within :data:`DELAY` seconds, or when standard error is
not a terminal (a log, a pipe, a test); the bar is transient, so the summary that follows stands
alone on the screen.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from rich.console import Console

DELAY = 1.0
"""Seconds before a bar appears."""
REFRESH = 0.1
"""Seconds between redraws."""

_LABELS = {"reading": "Reading", "writing": "Writing"}


class ProgressBar:
    """Call it with ``(phase, done, total)``; :meth:`close` it when the conversion ends."""

    def __init__(self, name: str, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self._name = name
        self._console = console
        self._clock = clock
        self._start = clock()
        self._drawn = 0.0
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self._clock()
        if now - self._start < DELAY or now - self._drawn < REFRESH or total <= 0:
            return
        self._drawn = now
        if self._bar is None:
            from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress,
                                       TextColumn, TimeRemainingColumn)

            self._bytes = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                   TimeRemainingColumn(), console=self._console, transient=True,
                                   auto_refresh=False)
            self._count = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                   TimeRemainingColumn(), console=self._console, transient=True,
                                   auto_refresh=False)
            self._phase = ""
        if phase != self._phase:
            if self._bar is not None:
                self._bar.stop()
            self._bar = self._bytes if phase == "reading" else self._count
            self._task = self._bar.add_task(f"{_LABELS.get(phase, phase)} {self._name}", total=total)
            self._bar.start()
            self._phase = phase
        self._bar.update(self._task, completed=done, total=total)
        self._bar.refresh()

    def close(self) -> None:
        """Take the bar off the screen."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def progress_bar(name: str, console: Console, quiet: bool) -> ProgressBar | None:
    """A bar for converting ``name`` when standard error is a terminal and output is wanted."""
    if quiet or not console.is_terminal:
        return None
    return ProgressBar(name, console)
