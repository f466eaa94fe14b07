"""Detector ``missed_morning``: the day's usual start has not happened.

Two signs that a day has begun are learned: the first use of the morning signal (say, the
kettle), and being up and about (a few minutes with movement indoors); and the earlier of the
two. Either one well past its usual time, with the kettle still unused, is a missed morning; so
is neither, well past the usual time of the earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from models.detectors.contract import (
    ROUNDING,
    DetectorSpec,
    Settings,
    Stateless,
    register,
    setting,
)
from models.finding import Finding, JsonValue
from models.household import Household, Role
from models.local_time import (
    DayType,
    clock_text,
    day_type,
    local_date,
    local_instant,
    minutes_since_midnight,
    not_after,
)
from models.routine import HouseholdRoutine
from models.routine.first_use import OWN_DAYS, FirstUse, UsualStart
from models.routine.mornings import MORNING_FROM_MIN


@dataclass(frozen=True, slots=True)
class MissedMorningSettings(Settings):
    signal_roles: tuple[Role, ...] = setting(
        ("kettle",),
        "Morning signals",
        "Sensor roles whose first use marks the start of the day.",
        min_length=1,
    )
    label: str = setting("kettle use", "Label", "How alerts name the signal: 'No kettle use yet'.")
    # Robust standard deviations past the usual time: 3 makes a late start rare under the routine.
    spread_factor: float = setting(
        3.0, "Spread factor", "Robust standard deviations past the usual time.", gt=0
    )
    # And never sooner than this after the latest usual start.
    margin: timedelta = setting(
        timedelta(minutes=30), "Margin", "At least this long after the latest usual time."
    )
    getting_up_minutes: int = setting(
        10,
        "Up and about",
        "Minutes with movement indoors after 04:00 that mark being up for the day;"
        " a morning with too few of them well past the usual time is missed too (0: watch the"
        " morning signals only).",
        ge=0,
        le=120,
    )

    def problems(self, household: Household) -> list[tuple[str, str]]:
        if household.with_roles(frozenset(self.signal_roles)):
            return []
        roles = " or ".join(self.signal_roles)
        return [("signal_roles", f"no sensor has role {roles}; add one or set enabled: false")]


def _routine_settings(settings: MissedMorningSettings) -> dict[str, Any]:
    """The morning signals and being up and about are learned by the routine."""
    return {
        "morning_roles": frozenset(settings.signal_roles),
        "getting_up_minutes": settings.getting_up_minutes,
    }


class MissedMorningDetector(Stateless):
    type = "missed_morning"

    def __init__(self, settings: MissedMorningSettings | None = None) -> None:
        self.settings = settings or MissedMorningSettings()

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return routine.mornings.sensors | routine.household.presence_sensors()

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        awaited = self._awaited(routine, now, learned)
        if awaited is None:
            return None
        today = local_date(now, routine.household.tz)
        kind = day_type(today)
        now_min = minutes_since_midnight(now, routine.household.tz)
        for signal, name in awaited:
            late = self._late(signal, kind, now_min)
            if late is not None:
                return self._finding(routine, now, today, late, name)
        return None

    def next_due(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> datetime | None:
        """The soonest deadline of the signs of the day begun still awaited this morning."""
        awaited = self._awaited(routine, now, learned)
        tz = routine.household.tz
        today = local_date(now, tz)
        deadlines = [self._deadline(signal, day_type(today)) for signal, _ in awaited or ()]
        due = [d for d in deadlines if d is not None and d < 24 * 60]
        if not due:
            return None
        return not_after(local_instant(today, min(due), tz) - ROUNDING, now, tz)

    def _awaited(
        self, routine: HouseholdRoutine, now: datetime, learned: bool
    ) -> list[tuple[FirstUse, str]] | None:
        """The signs that the day has begun still awaited this morning, in the order they are
        weighed; None when no morning can be missed today, whatever the time."""
        mornings = routine.mornings
        if not learned or not mornings.sensors or mornings.first_use_today is not None:
            return None  # the kettle has been used: the day has begun
        if routine.maybe_out:
            return None  # went out before the kettle: not_returned's business, not this one's
        tz = routine.household.tz
        today = local_date(now, tz)
        seen_from = routine.observing_since
        if seen_from is not None and seen_from > local_instant(today, MORNING_FROM_MIN, tz):
            return None  # Hearth was not watching when this morning began
        if mornings.start_unseen:
            return None  # the first sign of life today ended a gap of a day or more
        morning = local_instant(today, MORNING_FROM_MIN, tz)
        door_at = routine.presence.last_door_at
        if door_at is not None and door_at >= morning:
            # An outside door used this morning: she has been out, or come home. Her day began
            # (elsewhere, perhaps); the kettle not yet used at home is not a morning missed.
            return None
        since = routine.quiet_since
        yesterday = local_instant(today - timedelta(days=1), MORNING_FROM_MIN, tz)
        if since is not None and since < yesterday:
            # Not seen all yesterday either: that stillness has been raised already (as
            # inactivity, and as yesterday's missed morning); a new day is not a new episode.
            return None
        # Some homes make their first tea at noon; whether she is up and about yet is a
        # second, often tighter, sign that the day has begun; and, neither sign yet, the
        # earlier of the two, which varies less than either alone.
        awaited = [(mornings.first_use, "first_use")]
        if mornings.up_today is None:
            awaited += [(mornings.getting_up, "getting_up"), (mornings.day_begun, "day_begun")]
        return awaited

    def _deadline(self, signal: FirstUse, kind: DayType) -> float | None:
        """Minutes after midnight past which this sign not yet seen is a morning missed."""
        usual = signal.usual(kind)
        if usual is None:
            return None
        s = self.settings
        return max(
            usual.median + s.spread_factor * usual.spread,
            usual.typical_latest + s.margin / timedelta(minutes=1),
        )

    def _late(self, signal: FirstUse, kind: DayType, now_min: float) -> _Late | None:
        deadline = self._deadline(signal, kind)
        if deadline is None or now_min < deadline or deadline >= 24 * 60:
            return None
        later, of, called = signal.days_later_than(kind, now_min)
        usual = signal.usual(kind)
        assert usual is not None
        return _Late(usual, deadline, now_min, later, of, called, kind)

    def _finding(
        self, routine: HouseholdRoutine, now: datetime, today: date, late: _Late, signal: str
    ) -> Finding:
        tz = routine.household.tz
        label = self.settings.label
        usual = late.usual
        # The days compared, and nothing beside them: a rarity with a prior of its own ("about
        # once in 10 days" beside "0 of the last 4 weekends") would read as a second, other count.
        how_often = (
            f" later than now, or not at all, on {late.later or 'none'} of the last {late.of}"
            f" {late.called}."
        )
        now_text = clock_text(late.now_min)
        evidence: dict[str, JsonValue] = {"signal": signal}
        compared = f"later on {late.later or 'none'} of the last {late.of} {late.called}"
        if signal == "first_use":
            summary = (
                f"No {label} yet this morning ({now_text}). Usually"
                f" first used around {clock_text(usual.median)}, by"
                f" {clock_text(usual.typical_latest)} on most days;" + how_often
            )
            sensors = routine.mornings.sensors
            evidence["usual_first_use"] = clock_text(usual.median)
            headline = (
                f"No {label} yet this morning ({now_text}); usually by"
                f" {clock_text(usual.typical_latest)}, {compared}."
            )
        else:
            n = routine.mornings.moving_minutes
            minutes = "minute" if n == 1 else "minutes"
            summary = (
                f"Hardly any movement yet this morning ({now_text}): {n} {minutes} with movement"
                f" since {clock_text(MORNING_FROM_MIN)}, and no {label}."
            )
            if signal == "getting_up":
                summary += " Usually up and about around"
                evidence["usual_up_and_about"] = clock_text(usual.median)
            else:
                summary += f" Usually the day has begun (up and about, or {label}) around"
                evidence["usual_day_begun"] = clock_text(usual.median)
            summary += (
                f" {clock_text(usual.median)}, by {clock_text(usual.typical_latest)} on most days;"
                + how_often
            )
            sensors = routine.household.presence_sensors()
            if signal == "day_begun":
                sensors |= routine.mornings.sensors
            evidence["minutes_with_movement"] = n
            usually = "usually up by" if signal == "getting_up" else "the day usually begun by"
            headline = (
                f"Hardly any movement by {now_text}; {usually}"
                f" {clock_text(usual.typical_latest)}, {compared}."
            )
        evidence |= {
            "typical_latest": clock_text(usual.typical_latest),
            "alert_after": clock_text(late.deadline),
            "now": now_text,
            "days_later_or_unused": late.later,
            "days_compared": late.of,
            "day_type": late.kind,
            "signal_sensors": list[JsonValue](sorted(sensors)),
        }
        return Finding(
            type=self.type,
            severity="urgent",
            # When the morning became late: an instant the carers can check, not a habit's.
            started_at=local_instant(today, late.deadline, tz),
            detected_at=now,
            summary=summary,
            headline=headline,
            episode=f"missed_morning:{today.isoformat()}",
            evidence=evidence,
            silence_since=routine.quiet_since,
            # Only while she has hardly moved: "no tea yet" while she is up and about says
            # nothing of a stillness that may begin after it.
            covers_silence=routine.mornings.up_today is None,
            holds=("morning", today.isoformat()),
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


SPEC = register(
    DetectorSpec(
        name="missed_morning",
        title="Missed morning",
        watches="Watch for a morning that has not started.",
        order=20,
        settings=MissedMorningSettings,
        build=lambda settings, _state: MissedMorningDetector(settings),
        routine=_routine_settings,
        progress=lambda routine, _settings: (
            routine.mornings.day_begun.days_seen(),
            OWN_DAYS,
            "mornings",
        ),
    )
)
