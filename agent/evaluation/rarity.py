"""Whether the rarity Hearth's alerts state is true: how often each budgeted limit is crossed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

from agent.evaluation.contenders import HearthContender
from models.detectors.inactivity import InactivityDetector, InactivitySettings
from models.detectors.night_exit import night_of
from models.detectors.not_returned import NotReturnedDetector, NotReturnedSettings
from models.events import SensorEvent
from models.local_time import local_date
from models.routine import LONGEST_LEARNED_SPELL

# Budgets whose limits are checked against what happened: looser ones than the detectors'
# own (30 days by default) show whether the tail is wrong everywhere or only far out.
CHECKED_BUDGETS = (1, 3, 10)


class RarityCheck:
    """How often Hearth's budgeted limits were crossed in an ordinary replay.

    An inactivity alert says "stillness this unusual comes about once in 31 days": its limit
    is set so that a quiet spell runs past it about that often under the learned routine.
    Here every quiet spell (and, for ``not_returned``, every outing) that ends after the
    learning days is held against the limit as it stood when the spell began, for the
    detector's own budget and looser ones, whether or not an alert was raised for it. A
    spell ended by a gap of a day or more in the data is left out.

    An alert raised at the long-lie limit says instead "stillness this long by day comes
    about once in N days": each day the rate it would state is summed (``long_lie_stated``,
    spells a day) and held against the quiet spells by day that reached the limit
    (``long_lie_crossed``).
    """

    def __init__(self, contender: HearthContender, first_eval: date) -> None:
        self.contender = contender
        self.first_eval = first_eval
        chosen = contender.pipeline.monitor.settings.detectors
        inactivity: InactivitySettings | None = chosen.get("inactivity")
        not_returned: NotReturnedSettings | None = chosen.get("not_returned")
        self.budgets = {
            kind: max(1, round(st.once_in_days))
            for kind, st in (("inactivity", inactivity), ("not_returned", not_returned))
            if st is not None
        }
        self.inactivity = (
            {
                # The learned tail's own limit: the long-lie limit, which no budget sets,
                # is left out.
                b: InactivityDetector(
                    replace(inactivity, once_in_days=float(b), long_lie=inactivity.ceiling)
                )
                for b in sorted({*CHECKED_BUDGETS, self.budgets["inactivity"]})
            }
            if inactivity is not None
            else {}
        )
        self.not_returned = (
            {
                b: NotReturnedDetector(replace(not_returned, once_in_days=float(b)))
                for b in sorted({*CHECKED_BUDGETS, self.budgets["not_returned"]})
            }
            if not_returned is not None
            else {}
        )
        self.long_lie = None if inactivity is None else inactivity.long_lie
        self.long_lie_stated = 0.0
        self.long_lie_crossed = 0
        self._day: date | None = None
        self.crossings: dict[str, dict[int, int]] = {
            "inactivity": dict.fromkeys(self.inactivity, 0),
            "not_returned": dict.fromkeys(self.not_returned, 0),
        }

    def before(self, event: SensorEvent) -> None:
        """Called with each event before Hearth sees it: does it end a spell past a limit?"""
        monitor = self.contender.pipeline.monitor
        routine = monitor.routine
        since = routine.quiet_since
        if not event.is_activity or since is None or not monitor.learned:
            return
        if routine.household.sensor(event.sensor) is None:
            return
        tz = routine.household.tz
        today = local_date(event.at, tz)
        if self.long_lie is not None and today >= self.first_eval and today != self._day:
            self._day = today
            self.long_lie_stated += InactivityDetector.by_day_rate(
                routine, event.at, self.long_lie.total_seconds()
            )
        length = event.at - since
        if local_date(since, tz) < self.first_eval or not timedelta(0) < length <= (
            LONGEST_LEARNED_SPELL
        ):
            return
        if routine.maybe_out:
            core = night_of(routine)
            if core is not None and core.holds(since, tz):
                return  # a door in the night is night_exit's, not an outing's
            checks: Mapping[int, InactivityDetector | NotReturnedDetector] = self.not_returned
            kind = "not_returned"
        else:
            checks = self.inactivity
            kind = "inactivity"
            if (
                self.long_lie is not None
                and length >= self.long_lie
                and InactivityDetector.by_day(routine, since)
            ):
                self.long_lie_crossed += 1
        for budget, detector in checks.items():
            # No limit is shorter than the detector's shortest: most spells end before it.
            if length >= detector.settings.shortest and length.total_seconds() >= (
                detector.limit_s(routine, since)
            ):
                self.crossings[kind][budget] += 1
