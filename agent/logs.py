"""Logging that reads well in a terminal and in journald.

Under systemd (``JOURNAL_STREAM`` is set) each line starts with a ``<N>`` syslog priority,
which journald turns into the entry's level, and carries no timestamp of its own.
"""

from __future__ import annotations

import logging
import os
import sys

_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>{record.name}: {super().format(record)}"


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # paho and aiomqtt are chatty at INFO about things the runtime already reports.
    logging.getLogger("aiomqtt").setLevel(logging.WARNING)
