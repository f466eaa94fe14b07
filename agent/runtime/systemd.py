"""systemd's notify protocol, when Hearth runs under it (``Type=notify``, ``WatchdogSec=``):
``READY=1`` once started, ``WATCHDOG=1`` each time the detectors have really looked at the
time (or, while the clock is not set, the watch has looked at the clock), ``STOPPING=1``.
Without ``NOTIFY_SOCKET`` it does nothing.

>>> Notifier({}).send("READY=1")
False
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("hearth.runtime")


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        path = env.get("NOTIFY_SOCKET", "")
        # A leading @ is Linux's abstract namespace.
        self.address = "\0" + path[1:] if path.startswith("@") else path
        self.failed = False

    def send(self, message: str) -> bool:
        """Sent (True), or not under systemd, or the socket refused it (logged once)."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                # Never wait on the event loop: a full socket drops a ping, it does not stop
                # the watching.
                s.setblocking(False)
                s.sendto(message.encode(), self.address)
        except OSError as exc:
            if not self.failed:
                self.failed = True
                log.warning("could not notify systemd on %s: %s", self.address, exc)
            return False
        return True
