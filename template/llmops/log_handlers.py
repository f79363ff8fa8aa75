"""Managed by the LLMOps template. Flush OpenTelemetry log handlers before exit.

prompt flow installs an OpenTelemetry ``LoggingHandler`` whose ``flush`` starts a
thread. ``logging`` flushes every handler again at interpreter shutdown, when
Python 3.12 no longer lets threads start, which printed a ``RuntimeError``
traceback after every successful command. Flushing while the interpreter still
runs, and telling ``logging`` not to flush again, ends commands cleanly.
"""

from __future__ import annotations

import logging
import sys


def _attached_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger()] + [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    return [handler for logger in loggers for handler in logger.handlers]


def flush_telemetry_handlers() -> int:
    """Flush every OpenTelemetry log handler now; return how many there were."""
    sdk_logs = sys.modules.get("opentelemetry.sdk._logs")
    if sdk_logs is None:  # never imported: nothing to flush, and nothing to import
        return 0
    handlers = [h for h in _attached_handlers() if isinstance(h, sdk_logs.LoggingHandler)]
    for handler in handlers:
        handler.flush()
        handler.flushOnClose = False  # type: ignore[attr-defined]  # read by logging.shutdown
    return len(handlers)
