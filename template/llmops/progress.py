"""Managed by the LLMOps template. Progress of a stage's runs: a rich bar, or plain lines.

Stages report through a ``Reporter``: ``plain`` prints one line per started and
finished run (tests, logs); ``rich_reporter`` adds a live bar over the lines of all
runs of the stage plus one per run in flight (several with ``runtime.concurrent_runs``,
so ``run`` may be entered from several threads at once). On a console that is not a
terminal (CI logs) rich draws no live bar, and the per-run lines still appear.

Each stage has its own bar: ``llmops experiment`` shows the run stage, then the
evaluate stage, because their lines cost very different times (an LLM call against
a Python scorer), so one bar over both would mislead about the time left.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from llmops.engine.base import Progress

Echo = Callable[[str], None]


class Reporter(Protocol):
    """What a stage tells the user while its runs execute."""

    def echo(self, text: str) -> None:
        """Print one line above the bar."""
        ...

    def stage(self, title: str, runs: int, lines: int) -> contextlib.AbstractContextManager[None]:
        """A block of ``runs`` runs with ``lines`` lines in all."""
        ...

    def run(self, name: str, lines: int) -> contextlib.AbstractContextManager[Progress]:
        """One run; the block gets a callback taking the lines done so far."""
        ...


class PlainReporter:
    """Lines only, through ``echo`` (``print`` by default)."""

    def __init__(self, echo: Echo = print) -> None:
        self.echo = echo

    @contextlib.contextmanager
    def stage(self, title: str, runs: int, lines: int) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def run(self, name: str, lines: int) -> Iterator[Progress]:
        yield lambda _done: None


class RichReporter:
    """A live rich progress display: all lines of the stage, and each run in flight."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console(highlight=False)
        self._progress: Any = None
        self._overall: Any = None
        self._lock = threading.Lock()
        self._ended = 0
        """Lines of the stage's runs that have ended."""
        self._in_flight: dict[Any, int] = {}
        """Rich task id of each run in flight -> its lines done."""

    def echo(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def stage(self, title: str, runs: int, lines: int) -> Iterator[None]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("lines"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._progress = progress
        self._ended = 0
        with progress:
            self._overall = progress.add_task(f"{title}: {runs} run(s)", total=max(lines, 1))
            try:
                yield
            finally:
                progress.update(self._overall, completed=self._ended)
                self._progress = None

    @contextlib.contextmanager
    def run(self, name: str, lines: int) -> Iterator[Progress]:
        progress = self._progress
        if progress is None:
            yield lambda _done: None
            return
        task = progress.add_task(f"  {name}", total=max(lines, 1))
        self._count(task, 0)

        def advance(done: int) -> None:
            done = min(done, lines)
            progress.update(task, completed=done)
            self._count(task, done)

        try:
            yield advance
        finally:
            self._count(task, None, ended=lines)
            progress.remove_task(task)

    def _count(self, task: Any, done: int | None, ended: int = 0) -> None:
        """Record a run's lines done (None: the run ended) and redraw the stage bar."""
        with self._lock:
            if done is None:
                self._in_flight.pop(task, None)
                self._ended += ended
            else:
                self._in_flight[task] = done
            total = self._ended + sum(self._in_flight.values())
        if self._progress is not None:
            self._progress.update(self._overall, completed=total)


def plain(echo: Echo = print) -> Reporter:
    """Reporter for tests and scripts."""
    return PlainReporter(echo)


def rich_reporter() -> Reporter:
    """Reporter for the command line."""
    return RichReporter()
