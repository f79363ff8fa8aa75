"""Keep Copier's and its subprocesses' output off the terminal, but keep it for errors.

Copier's migrations run as subprocesses that write to file descriptors 1 and 2
directly, so redirecting `sys.stdout` is not enough. In a worker process the
descriptors themselves are redirected; in the main process (where a progress
bar owns the terminal) only Python's streams are.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Captured:
    """Everything written while capturing; filled in when the block ends."""

    text: str = ""

    def last_line(self) -> str:
        """The last non-blank line, which usually says what went wrong."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        return lines[-1] if lines else ""


@contextlib.contextmanager
def captured_output() -> Iterator[Captured]:
    """Capture stdout, stderr and warnings for the duration of the block."""
    captured = Captured()
    in_worker = multiprocessing.parent_process() is not None
    with tempfile.TemporaryFile(mode="w+b") as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = io.StringIO()
        saved: list[int] = []
        sys.stdout.flush()
        sys.stderr.flush()
        if in_worker:
            saved = [os.dup(1), os.dup(2)]
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, original in zip((1, 2), saved, strict=False):
                os.dup2(original, fd)
                os.close(original)
            sink.seek(0)
            raw = sink.read().decode("utf-8", errors="replace")
            captured.text = text.getvalue() + raw
