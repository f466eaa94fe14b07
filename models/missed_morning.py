"""Detector ``missed_morning``: the day's usual start (say, first kettle use) has not happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.finding import Finding, JsonValue
from models.local_time import (
    clock_text,
    day_type,
    local_date,
    local_instant,
    minutes_since_midnight,
    rarity_text,
)
from models.routine import MORNING_FROM_MIN, HouseholdRoutine


@dataclass(frozen=True, slots=True)
class MissedMorningSettings:
    # Robust standard deviations past the usual time: 3 makes a late start rare under the routine.
    spread_factor: float = 3.0
    # And never sooner than this after the latest usual start.
    margin_min: float = 30.0


class MissedMorningDetector:
    type = "missed_morning"

    def __init__(self, settings: MissedMorningSettings | None = None) -> None:
        self.settings = settings or MissedMorningSettings()

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return routine.morning_sensors

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        if not learned or not routine.morning_sensors or routine.todays_first_use is not None:
            return None
        if routine.maybe_out:
            return None  # went out before the kettle: not_returned's business, not this one's
        tz = routine.household.tz
        today = local_date(now, tz)
        seen_from = routine.observing_since
        if seen_from is not None and seen_from > local_instant(today, MORNING_FROM_MIN, tz):
            return None  # Hearth was not watching when this morning began
        kind = day_type(today)
        usual = routine.first_use.usual(kind)
        if usual is None:
            return None
        s = self.settings
        deadline = max(
            usual.median + s.spread_factor * usual.spread, usual.typical_latest + s.margin_min
        )
        now_min = minutes_since_midnight(now, tz)
        if now_min < deadline or deadline >= 24 * 60:
            return None
        later, of, called = routine.first_use.days_later_than(kind, now_min)
        # How often a start this late comes, from the days compared (with half a day of prior,
        # so that "never in 20 days" reads as about once in 42, not as impossible).
        once_in = round((of + 1) / (later + 0.5), 1)
        summary = (
            f"No {routine.settings.morning_label} yet this morning ({clock_text(now_min)}). Usually first used around"
            f" {clock_text(usual.median)}, by {clock_text(usual.typical_latest)} on most days;"
            f" on {later} of the last {of} {called} it was later than now or not used"
            f" (a morning this late comes {rarity_text(once_in)} or less often)."
        )
        return Finding(
            type=self.type,
            severity="urgent",
            started_at=local_instant(today, usual.median, tz),
            detected_at=now,
            summary=summary,
            episode=f"missed_morning:{today.isoformat()}",
            evidence={
                "usual_first_use": clock_text(usual.median),
                "typical_latest": clock_text(usual.typical_latest),
                "alert_after": clock_text(deadline),
                "now": clock_text(now_min),
                "days_later_or_unused": later,
                "days_compared": of,
                "about_once_in_days": once_in,
                "day_type": kind,
                "signal_sensors": list[JsonValue](sorted(routine.morning_sensors)),
            },
        )
