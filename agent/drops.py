"""Counting what is dropped: every drop counted by reason, the first few and then every
hundredth logged, so line noise cannot flood the journal and nothing goes unseen."""

from __future__ import annotations

import logging

LONGEST_DETAIL = 200


class Drops(dict[str, int]):
    """Drop counts by reason (a dict, for counters and tests), and the logging of them.

    >>> d = Drops(logging.getLogger("x"), "dropped message", "malformed")
    >>> d.count("malformed", "on z2m/door: not JSON")
    >>> d
    {'malformed': 1}
    """

    def __init__(self, log: logging.Logger, what: str, *reasons: str) -> None:
        super().__init__(dict.fromkeys(reasons, 0))
        self.log = log
        self.what = what

    def count(self, why: str, detail: str) -> None:
        """Counted; logged, at most ``LONGEST_DETAIL`` characters of ``detail`` (a payload of a
        megabyte is not a megabyte of journal)."""
        n = self[why] = self.get(why, 0) + 1
        if n <= 5 or n % 100 == 0:
            if len(detail) > LONGEST_DETAIL:
                detail = f"{detail[:LONGEST_DETAIL]}... ({len(detail)} characters)"
            self.log.warning("%s (%s, %d so far) %s", self.what, why, n, detail)
