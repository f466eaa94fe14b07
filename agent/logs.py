"""Logging that reads well in a terminal and in journald.

Under systemd (``JOURNAL_STREAM`` is set) each line starts with a ``<N>`` syslog priority,
which journald turns into the entry's level, and carries no timestamp of its own.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

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


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for a log collector.

    >>> r = logging.LogRecord("hearth.runtime", logging.WARNING, "", 0, "a %s", ("b",), None)
    >>> r.created = 0.0
    >>> line = json.loads(JsonFormatter().format(r))
    >>> line["time"], line["level"], line["message"]
    ('1970-01-01T00:00:00+00:00', 'warning', 'a b')
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging(verbose: bool = False, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    elif os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # paho and aiomqtt are chatty at INFO about things the runtime already reports.
    logging.getLogger("aiomqtt").setLevel(logging.WARNING)
