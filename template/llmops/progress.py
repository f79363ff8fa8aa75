"""Managed by the LLMOps template. Progress of a stage's runs: a rich bar, or plain lines.

Stages report through a ``Reporter``: ``plain`` prints one line per started and
finished run (tests, logs); ``rich_reporter`` adds a live bar over the lines of all
runs of the stage plus one for the current run. On a console that is not a terminal
(CI logs) rich draws no live bar, and the per-run lines still appear.
"""

from __future__ import annotations

import contextlib
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
    """A live rich progress display: all lines of the stage, and the current run."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console(highlight=False)
        self._progress: Any = None
        self._overall: Any = None
        self._base = 0

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
        self._base = 0
        with progress:
            self._overall = progress.add_task(f"{title}: {runs} run(s)", total=max(lines, 1))
            try:
                yield
            finally:
                progress.update(self._overall, completed=self._base)
                self._progress = None

    @contextlib.contextmanager
    def run(self, name: str, lines: int) -> Iterator[Progress]:
        progress = self._progress
        if progress is None:
            yield lambda _done: None
            return
        task = progress.add_task(f"  {name}", total=max(lines, 1))

        def advance(done: int) -> None:
            done = min(done, lines)
            progress.update(task, completed=done)
            progress.update(self._overall, completed=self._base + done)

        try:
            yield advance
        finally:
            self._base += lines
            progress.update(self._overall, completed=self._base)
            progress.remove_task(task)


def plain(echo: Echo = print) -> Reporter:
    """Reporter for tests and scripts."""
    return PlainReporter(echo)


def rich_reporter() -> Reporter:
    """Reporter for the command line."""
    return RichReporter()
