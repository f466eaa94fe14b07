"""How an inactivity alert says it: its headline (one line) and its summary (in full)."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.detectors.wording import duration_text, rarity_text
from models.local_time import clock_text
from models.routine import HouseholdRoutine
from models.routine.sleep import clock_of


def room_of(routine: HouseholdRoutine) -> str | None:
    info = routine.household.sensor(routine.last_activity_sensor or "")
    return info.room if info else None


def opening(routine: HouseholdRoutine, since: datetime, quiet_s: float) -> str:
    since_local = since.astimezone(routine.household.tz)
    return (
        f"No movement at home since {clock_text(since_local.hour * 60 + since_local.minute)}"
        f" ({duration_text(quiet_s)})"
    )


def headline(
    ceiling: timedelta,
    routine: HouseholdRoutine,
    since: datetime,
    quiet_s: float,
    basis: str,
    once_in: float | None,
) -> str:
    room = room_of(routine)
    line = opening(routine, since, quiet_s) + (f", last in the {room}" if room else "")
    if basis == "safety_ceiling":
        return f"{line}; past the {duration_text(ceiling.total_seconds())} limit."
    if basis == "usual_waking":
        in_bed = routine.sleep.in_bed()
        assert in_bed is not None
        return f"{line}; usually up by {clock_of(in_bed.end)}."
    if basis == "long_lie":
        if once_in is None:
            return f"{line}; none this long by day in the days learned."
        return f"{line}; this long by day {rarity_text(once_in)}."
    if once_in is None:
        return f"{line}; none this long at this hour in {routine.days_learned} days learned."
    return f"{line}; unusual at this hour, {rarity_text(once_in)}."


def summary(
    ceiling: timedelta,
    routine: HouseholdRoutine,
    since: datetime,
    quiet_s: float,
    basis: str,
    once_in: float | None,
) -> str:
    summary = opening(routine, since, quiet_s) + "."
    if basis == "safety_ceiling":
        return summary + (
            f" That is past the {duration_text(ceiling.total_seconds())} safety limit."
        )
    if basis == "usual_waking":
        in_bed = routine.sleep.in_bed()
        assert in_bed is not None
        later = sum(1 for _, woke in routine.sleep.history if woke > in_bed.end)
        return summary + (
            f" Last seen in the bedroom; usually up by {clock_of(in_bed.end)} (later on"
            f" {later} of the last {in_bed.nights} nights)."
        )
    if basis == "long_lie":
        info = routine.household.sensor(routine.last_activity_sensor or "")
        where = f" after the {info.room}" if info else ""
        summary += (
            f" By day, Hearth waits no longer than this for a stillness{where}, whatever"
            " the hour usually holds: a fall must not leave anyone lying longer."
        )
    if basis == "long_lie":
        if once_in is None:
            return summary + " No stillness this long by day in the days learned."
        return summary + f" Here, stillness this long by day comes {rarity_text(once_in)}."
    if once_in is not None:
        return summary + (
            f" Here, stillness this unusual for the time of day comes {rarity_text(once_in)}."
        )
    return summary + (
        f" No quiet spell this long has started at this time of day in the"
        f" {routine.days_learned} days learned."
    )
