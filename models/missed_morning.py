"""Detector ``missed_morning``: the day's usual start has not happened.

Two signs that a day has begun are learned: the first use of the morning signal (say, the
kettle), and being up and about (a few minutes with movement indoors); and the earlier of the
two. Either one well past its usual time, with the kettle still unused, is a missed morning; so
is neither, well past the usual time of the earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models.finding import Finding, JsonValue
from models.first_use import FirstUse, UsualStart
from models.local_time import (
    DayType,
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
        return routine.morning_sensors | routine.household.presence_sensors()

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        if not learned or not routine.morning_sensors or routine.todays_first_use is not None:
            return None  # the kettle has been used: the day has begun
        if routine.maybe_out:
            return None  # went out before the kettle: not_returned's business, not this one's
        tz = routine.household.tz
        today = local_date(now, tz)
        seen_from = routine.observing_since
        if seen_from is not None and seen_from > local_instant(today, MORNING_FROM_MIN, tz):
            return None  # Hearth was not watching when this morning began
        if routine.todays_start_unseen:
            return None  # the first sign of life today ended a gap of a day or more
        morning = local_instant(today, MORNING_FROM_MIN, tz)
        if routine.last_door_at is not None and routine.last_door_at >= morning:
            # An outside door used this morning: she has been out, or come home. Her day began
            # (elsewhere, perhaps); the kettle not yet used at home is not a morning missed.
            return None
        since = routine.quiet_since
        yesterday = local_instant(today - timedelta(days=1), MORNING_FROM_MIN, tz)
        if since is not None and since < yesterday:
            # Not seen all yesterday either: that stillness has been raised already (as
            # inactivity, and as yesterday's missed morning); a new day is not a new episode.
            return None
        kind = day_type(today)
        now_min = minutes_since_midnight(now, tz)
        late = self._late(routine.first_use, kind, now_min)
        if late is not None:
            return self._finding(routine, now, today, late, "first_use")
        # Some homes make their first tea at noon; whether she is up and about yet is a
        # second, often tighter, sign that the day has begun.
        if routine.todays_up is None:
            late = self._late(routine.getting_up, kind, now_min)
            if late is not None:
                return self._finding(routine, now, today, late, "getting_up")
            # Neither sign yet: the earlier of the two varies less than either alone.
            late = self._late(routine.day_begun, kind, now_min)
            if late is not None:
                return self._finding(routine, now, today, late, "day_begun")
        return None

    def _late(self, signal: FirstUse, kind: DayType, now_min: float) -> _Late | None:
        usual = signal.usual(kind)
        if usual is None:
            return None
        s = self.settings
        deadline = max(
            usual.median + s.spread_factor * usual.spread, usual.typical_latest + s.margin_min
        )
        if now_min < deadline or deadline >= 24 * 60:
            return None
        later, of, called = signal.days_later_than(kind, now_min)
        return _Late(usual, deadline, now_min, later, of, called, kind)

    def _finding(
        self, routine: HouseholdRoutine, now: datetime, today: date, late: _Late, signal: str
    ) -> Finding:
        tz = routine.household.tz
        usual = late.usual
        # How often a start this late comes, from the days compared (with half a day of prior,
        # so that "never in 20 days" reads as about once in 42, not as impossible).
        once_in = round((late.of + 1) / (late.later + 0.5), 1)
        how_often = (
            f" on {late.later} of the last {late.of} {late.called} it was later than now or"
            f" not at all (a morning this late comes {rarity_text(once_in)} or less often)."
        )
        now_text = clock_text(late.now_min)
        evidence: dict[str, JsonValue] = {"signal": signal}
        if signal == "first_use":
            summary = (
                f"No {routine.settings.morning_label} yet this morning ({now_text}). Usually"
                f" first used around {clock_text(usual.median)}, by"
                f" {clock_text(usual.typical_latest)} on most days;" + how_often
            )
            sensors = routine.morning_sensors
            evidence["usual_first_use"] = clock_text(usual.median)
        else:
            n = routine.todays_moving_minutes
            minutes = "minute" if n == 1 else "minutes"
            summary = (
                f"Hardly any movement yet this morning ({now_text}): {n} {minutes} with movement"
                f" since {clock_text(MORNING_FROM_MIN)}, and no {routine.settings.morning_label}."
            )
            if signal == "getting_up":
                summary += " Usually up and about around"
                evidence["usual_up_and_about"] = clock_text(usual.median)
            else:
                summary += (
                    f" Usually her day has begun (up and about, or {routine.settings.morning_label})"
                    " around"
                )
                evidence["usual_day_begun"] = clock_text(usual.median)
            summary += (
                f" {clock_text(usual.median)}, by {clock_text(usual.typical_latest)} on most days;"
                + how_often
            )
            sensors = routine.household.presence_sensors()
            if signal == "day_begun":
                sensors |= routine.morning_sensors
            evidence["minutes_with_movement"] = n
        evidence |= {
            "typical_latest": clock_text(usual.typical_latest),
            "alert_after": clock_text(late.deadline),
            "now": now_text,
            "days_later_or_unused": late.later,
            "days_compared": late.of,
            "about_once_in_days": once_in,
            "day_type": late.kind,
            "signal_sensors": list[JsonValue](sorted(sensors)),
        }
        return Finding(
            type=self.type,
            severity="urgent",
            started_at=local_instant(today, usual.median, tz),
            detected_at=now,
            summary=summary,
            episode=f"missed_morning:{today.isoformat()}",
            evidence=evidence,
            silence_since=routine.quiet_since,
            # Only while she has hardly moved: "no tea yet" while she is up and about says
            # nothing of a stillness that may begin after it.
            covers_silence=routine.todays_up is None,
        )


@dataclass(frozen=True, slots=True)
class _Late:
    usual: UsualStart
    deadline: float
    now_min: float
    later: int
    of: int
    called: str
    kind: DayType
