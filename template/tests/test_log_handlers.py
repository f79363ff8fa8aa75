"""Managed by the LLMOps template. Commands end without a traceback with OpenTelemetry
log handlers installed (prompt flow installs one)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import logging
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
logging.getLogger("promptflow").addHandler(LoggingHandler(logger_provider=LoggerProvider()))
{call}
print("done")
"""
CALL = "from llmops.log_handlers import flush_telemetry_handlers; print(flush_telemetry_handlers())"


def run(call: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(call=call)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_flushing_before_exit_leaves_no_shutdown_traceback() -> None:
    """prompt flow's handler used to print 'can't create new thread at interpreter
    shutdown' after every successful command on Python 3.12."""
    result = run(CALL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "done"]
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.skipif(sys.version_info < (3, 12), reason="threads may start at shutdown before 3.12")
def test_without_the_flush_python_3_12_prints_the_traceback() -> None:
    """The control: proves the first test reproduces the failure it guards against."""
    result = run("")
    assert "can't create new thread at interpreter shutdown" in result.stderr
