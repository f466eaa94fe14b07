"""Detector ``not_returned``: out of the house (an outside door, then no sign of life indoors)
for far longer than this household's outings starting at that time of day.

Outings are learned like quiet spells (``models.routine.quiet_spells``): from the door to the next
sign
of life, by local start hour, with the same forgetting and the same rarity budget. The same
silence also covers someone who came home, shut the door and fell in the hall: from inside, the
two look alike, and both need someone to check.

A door in the usual night is ``night_exit``'s (sooner, and worded for the night); this
detector takes every other outing.

>>> NotReturnedSettings().ceiling
datetime.timedelta(days=1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from models.detectors.contract import (
    ROUNDING,
    DetectorSpec,
    Settings,
    Stateless,
    register,
    setting,
)
from models.detectors.night_exit import night_of
from models.detectors.wording import door_name, duration_text, rarity_text
from models.finding import Finding
from models.local_time import clock_text, minutes_since_midnight
from models.routine import HouseholdRoutine
from models.routine.quiet_spells import HOURS


@dataclass(frozen=True, slots=True)
class NotReturnedSettings(Settings):
    # At most about one such alert in this many days, under the learned outings.
    once_in_days: float = setting(
        30.0,
        "Rarity",
        "Alert on outings rarer than once in this many days from that time of day.",
        gt=1,
    )
    shortest: timedelta = setting(timedelta(hours=1), "Shortest alert", "Never alert sooner.")
    # Raised whatever was learned, even while still learning: away longer than this without an
    # away mode set is worth a call.
    ceiling: timedelta = setting(
        timedelta(hours=24),
        "Safety ceiling",
        "Always alert when no one has been home for this long (set away mode for holidays).",
    )
    # Below this many days of outings learned, only the ceiling applies.
    min_outing_days: float = 7.0


class NotReturnedDetector(Stateless):
    type = "not_returned"
    # Worked out again from the routine.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"_cache"})

    def __init__(self, settings: NotReturnedSettings | None = None) -> None:
        self.settings = settings or NotReturnedSettings()
        self._cache: tuple[datetime, int, float] | None = None

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return routine.outside_doors | routine.household.presence_sensors()

    def limit_s(self, routine: HouseholdRoutine, door_at: datetime) -> float:
        """Seconds out after ``door_at`` that the learned outings make unusual enough to alert
        on."""
        key = (door_at, routine.days_learned)
        if self._cache is not None and self._cache[:2] == key:
            return self._cache[2]
        st = self.settings
        limit = st.ceiling.total_seconds()
        if routine.outings.days_observed() >= st.min_outing_days:
            limit = routine.outings.limit(door_at, st.once_in_days, st.shortest, st.ceiling)
        self._cache = (door_at, routine.days_learned, limit)
        return limit

    def next_due(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> datetime | None:
        """When the outing going on would cross its limit, if it goes on."""
        door_at = routine.quiet_since
        if door_at is None or not routine.maybe_out:
            return None
        core = night_of(routine)
        if learned and core is not None and core.holds(door_at, routine.household.tz):
            return None
        if not learned:
            limit_s = self.settings.ceiling.total_seconds()
        elif now < door_at + min(self.settings.shortest, self.settings.ceiling):
            # Never sooner, whatever was learned; and most outings end before.
            limit_s = min(self.settings.shortest, self.settings.ceiling).total_seconds()
        else:
            limit_s = self.limit_s(routine, door_at)
        return max(now, door_at + timedelta(seconds=limit_s) - ROUNDING)

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        door_at = routine.quiet_since
        if door_at is None or not routine.maybe_out:
            return None
        tz = routine.household.tz
        core = night_of(routine)
        if learned and core is not None and core.holds(door_at, tz):
            return None  # night_exit's
        out_s = (now - door_at).total_seconds()
        ceiling_s = self.settings.ceiling.total_seconds()
        limit_s = self.limit_s(routine, door_at) if learned else ceiling_s
        if out_s < limit_s:
            return None
        by_ceiling = out_s >= ceiling_s
        rate = None if by_ceiling else routine.outings.rate_per_day(door_at, out_s)
        # At any hour, as inactivity's: how often an outing this unusual for its hour comes.
        once_in = round(1.0 / (rate * HOURS), 1) if rate else None
        door_sensor = routine.presence.last_door_sensor
        door = routine.household.sensor(door_sensor or "")
        opened = clock_text(minutes_since_midnight(routine.presence.last_door_at or door_at, tz))
        summary = (
            f"The {door_name(door.role if door else None)} was last used at {opened}"
            " and there has been no movement at home"
            f" since ({duration_text(out_s)}): not back, or back and not moving."
        )
        headline = (
            f"Out by the {door_name(door.role if door else None)} since"
            f" {clock_text(minutes_since_midnight(door_at, tz))} ({duration_text(out_s)}),"
            " no movement at home since; "
            + (
                f"past the {duration_text(ceiling_s)} limit."
                if by_ceiling
                else f"unusually long, {rarity_text(once_in)}."
                if once_in is not None
                else f"none this long from this hour in {routine.days_learned} days."
            )
        )
        if by_ceiling:
            summary += f" That is past the {duration_text(ceiling_s)} safety limit."
        elif once_in is not None:
            summary += (
                f" Here, an outing this unusually long for the time it began comes"
                f" {rarity_text(once_in)}."
            )
        else:
            summary += (
                f" No outing this long has started at this time of day in the"
                f" {routine.days_learned} days learned."
            )
        return Finding(
            type=self.type,
            severity="urgent",
            started_at=door_at,
            detected_at=now,
            summary=summary,
            headline=headline,
            episode=f"not_returned:{door_at.isoformat()}",
            holds=routine.episode("outing"),
            evidence={
                "door_sensor": door_sensor,
                "door_at": door_at.isoformat(),
                "out_minutes": round(out_s / 60, 1),
                "alert_after_minutes": round(limit_s / 60, 1),
                "about_once_in_days": once_in,
                "basis": "safety_ceiling" if by_ceiling else "learned",
            },
        )


SPEC = register(
    DetectorSpec(
        name="not_returned",
        title="Not returned",
        watches="Watch for an outing (an outside door, then no one indoors) far longer than usual.",
        order=40,
        settings=NotReturnedSettings,
        build=lambda settings, _state: NotReturnedDetector(settings),
        safety_net=True,
        # Before these, its safety ceiling alone.
        progress=lambda routine, settings: (
            routine.outings.days_observed(),
            math.ceil(settings.min_outing_days),
            "days of outings",
        ),
    )
)
