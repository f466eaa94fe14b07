"""Detector ``night_exit``: an outside door opened in the household's usual night (from the
median bedtime to the median waking), and no one moving indoors since.

A door opened at night and followed by movement inside (a look outside, a late visitor let in)
is not raised: only the door with silence after it, which is what a person wandering out looks
like from inside the home. Nor is a door at an hour when outings this long are ordinary here
(learned as for ``not_returned``): the edges of a long night are often the evening walk or the
first errand of the morning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.detectors.contract import (
    DetectorSpec,
    Settings,
    Stateless,
    earliest,
    register,
    setting,
)
from models.detectors.wording import door_name, duration_text, rarity_text
from models.finding import Finding
from models.local_time import clock_text, minutes_since_midnight
from models.routine import HouseholdRoutine, sleep
from models.routine.sleep import SleepCore, clock_of


@dataclass(frozen=True, slots=True)
class NightExitSettings(Settings):
    # How long the house must stay still after the door before it is taken as someone gone out.
    confirm: timedelta = setting(
        timedelta(minutes=10),
        "Confirm after",
        "Alert once the house has been still this long after the door.",
    )
    # Unless outings this long, starting at this hour, are ordinary here: more often than once
    # in this many days, summed over the night's hours (so one hour's share is an eighth of
    # an eight-hour night), as inactivity sums over the day's. The dog let out at 20:30 in a
    # home whose night starts at 20:00.
    once_in_days: float = setting(
        30.0,
        "Rarer than once in (days)",
        "...unless outings this long, starting at this hour, are more common here"
        " than once in this many days, summed over the night's hours (in an eight-hour night,"
        " each hour has an eighth).",
        gt=0,
    )


def night_of(routine: HouseholdRoutine) -> SleepCore | None:
    """The hours an outside door is ``night_exit``'s: her usual night, from the median bedtime
    to the median waking. Not only its core (the late bedtimes to the early wakings): a home
    whose early risers are up at 03:30 is still asleep at 03:45 on most nights, and an outing
    then is as unusual as one at 02:00 (the outing rate weighs the edges)."""
    return routine.sleep.usual_night()


class NightExitDetector(Stateless):
    type = "night_exit"

    def __init__(self, settings: NightExitSettings | None = None) -> None:
        self.settings = settings or NightExitSettings()

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return routine.outside_doors | routine.household.presence_sensors()

    def next_due(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> datetime | None:
        """When the door left open to the night would become unusual, if no one moves indoors."""
        door_at, still_since = routine.presence.last_door_at, routine.last_activity_at
        if not learned or door_at is None or still_since is None or not routine.maybe_out:
            return None
        core = night_of(routine)
        if core is None or not core.holds(door_at, routine.household.tz):
            return None
        night_hours = (core.end - core.start) / 60

        def rare(at: datetime) -> bool:
            rate = routine.outings.rate_per_day(door_at, (at - door_at).total_seconds())
            return rate * self.settings.once_in_days * night_hours <= 1.0

        return earliest(max(now, still_since + self.settings.confirm), rare, timedelta(hours=24))

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        door_at, still_since = routine.presence.last_door_at, routine.last_activity_at
        if not learned or door_at is None or still_since is None or not routine.maybe_out:
            return None
        if now - still_since < self.settings.confirm:
            return None
        core = night_of(routine)
        tz = routine.household.tz
        if core is None or not core.holds(door_at, tz):
            return None
        out_s = (now - door_at).total_seconds()
        outing_rate = routine.outings.rate_per_day(door_at, out_s)
        night_hours = (core.end - core.start) / 60
        if outing_rate * self.settings.once_in_days * night_hours > 1.0:
            return None
        door_sensor = routine.presence.last_door_sensor
        door = routine.household.sensor(door_sensor or "")
        name = door_name(door.role if door else None)
        opened = clock_text(minutes_since_midnight(door_at, tz))
        nights = [d for d in routine.daily.history if d.wake is not None]
        with_door = sum(1 for d in nights if d.door_between(core.start, core.end))
        return Finding(
            type=self.type,
            severity="urgent",
            started_at=door_at,
            detected_at=now,
            headline=(
                f"The {name} opened at {opened}, no movement indoors since"
                f" ({duration_text((now - door_at).total_seconds())}); a door at night on"
                f" {with_door or 'none'} of the last {len(nights)} nights."
            ),
            summary=(
                f"The {name} opened at {opened} and there has been no movement indoors since"
                f" ({duration_text((now - door_at).total_seconds())})."
                " Usually asleep"
                f" from {clock_of(core.start)} to {clock_of(core.end)}"
                f" (the middle of the last {core.nights} nights);"
                f" a door was used in those hours on {with_door or 'none'} of the last"
                f" {len(nights)} nights."
                + (
                    # Over the night's hours, as the rule above weighs it.
                    f" Outings this long starting at this time of night come"
                    f" {rarity_text(round(1.0 / (outing_rate * night_hours), 1))}."
                    if outing_rate > 0
                    else " No outing this long has started at this hour here."
                )
            ),
            episode=f"night_exit:{door_at.isoformat()}",
            holds=routine.episode("outing"),
            evidence={
                "door_sensor": door_sensor,
                "door_at": door_at.isoformat(),
                "still_minutes": round((now - door_at).total_seconds() / 60, 1),
                "usual_sleep_from": clock_of(core.start),
                "usual_sleep_to": clock_of(core.end),
                "nights_learned": core.nights,
                "nights_with_a_door": with_door,
                "nights_compared": len(nights),
                "outings_this_long_per_day": round(outing_rate, 4),
            },
        )


SPEC = register(
    DetectorSpec(
        name="night_exit",
        title="Night exit",
        watches="Watch for an outside door opened in the learned sleep hours.",
        order=30,
        settings=NightExitSettings,
        build=lambda settings, _state: NightExitDetector(settings),
        progress=lambda routine, _settings: (
            len(routine.sleep.history),
            sleep.MIN_NIGHTS,
            "nights",
        ),
    )
)
