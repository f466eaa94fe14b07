"""Detector ``inactivity``: no sign of life at home for far longer than usual at this time of
day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from models.detectors import inactivity_words as words
from models.detectors.contract import (
    ROUNDING,
    DetectorSpec,
    Settings,
    Stateless,
    register,
    setting,
)
from models.finding import Finding
from models.household import Household
from models.routine import HouseholdRoutine
from models.routine.quiet_spells import HOURS
from models.routine.sleep import since_noon


@dataclass(frozen=True, slots=True)
class InactivitySettings(Settings):
    # How rarely a spell this long may happen under the routine before it is alerted on:
    # at most about one such alert in this many days, summed over the hours of the day.
    # Once in 10 days: with the learned tail true to how often stillness comes (measured in
    # docs/eval.md), the rarest budget whose limits still catch a morning not begun and a fall
    # at 95 in 100 (docs/long-lie.md).
    once_in_days: float = setting(
        10.0, "Rarity", "Alert on quiet spells rarer than once in this many days.", gt=1
    )
    shortest: timedelta = setting(timedelta(minutes=45), "Shortest alert", "Never alert sooner.")
    # Raised whatever was learned, even while still learning: the safety net.
    ceiling: timedelta = setting(
        timedelta(hours=14), "Safety ceiling", "Always alert after this much stillness at home."
    )
    # The harm of a long lie rises steeply after an hour; a fall that ends (she gets up, or is
    # found) must be raised while she is still on the floor, however quiet that hour usually
    # is (docs/long-lie.md says how the default was chosen).
    long_lie: timedelta = setting(
        timedelta(hours=2),
        "Long-lie limit",
        "By day (outside the hours she is in bed on most nights), never wait longer than"
        " this for a stillness,"
        " whatever was learned (which already comes sooner after places where long stillness"
        " rarely begins, the hall or the kitchen). As long as the safety ceiling: no such"
        " limit.",
    )

    def problems(self, household: Household) -> list[tuple[str, str]]:
        out = []
        if self.shortest >= self.ceiling:
            out.append(("shortest", "shortest must be below ceiling"))
        if not self.shortest <= self.long_lie <= self.ceiling:
            out.append(("long_lie", "long_lie must be between shortest and ceiling"))
        return out


class InactivityDetector(Stateless):
    type = "inactivity"
    # Worked out again from the routine.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"_cache"})

    def __init__(self, settings: InactivitySettings | None = None) -> None:
        self.settings = settings or InactivitySettings()
        self._cache: tuple[datetime, int, float, str] | None = None

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return routine.household.presence_sensors()

    def limit_s(self, routine: HouseholdRoutine, since: datetime) -> float:
        """Seconds of quiet after ``since`` that the routine makes unusual enough to alert on."""
        return self._limit(routine, since)[0]

    def _limit(self, routine: HouseholdRoutine, since: datetime) -> tuple[float, str]:
        """The limit, and what set it: learned, her usual waking, or the long-lie limit."""
        key = (since, routine.days_learned)
        if self._cache is not None and self._cache[:2] == key:
            return self._cache[2], self._cache[3]
        st = self.settings
        place = routine.stillness.factor(routine.last_activity_sensor)
        limit = routine.spells.limit(since, st.once_in_days, st.shortest, st.ceiling, place)
        basis = "learned"
        until_up = self.asleep_until_s(routine, since)
        if until_up is not None:
            limit = min(max(limit, until_up), st.ceiling.total_seconds())
            basis = "usual_waking" if limit <= until_up + 60 else "learned"
        elif self.by_day(routine, since) and st.long_lie.total_seconds() < limit:
            # The learned limit already comes sooner after a place where long stillness rarely
            # begins (the hall, not the armchair); by day it never waits past a long lie.
            limit, basis = st.long_lie.total_seconds(), "long_lie"
        self._cache = (since, routine.days_learned, limit, basis)
        return limit, basis

    @staticmethod
    def by_day_rate(routine: HouseholdRoutine, on: datetime, length_s: float) -> float:
        """Quiet spells of at least ``length_s`` a day beginning in her waking day (the hours
        outside ``in_bed``), on days of the kind ``on`` is, as the learned tail has them.
        (Counted instead, they miss what was alerted: an alerted stillness is not learned.)"""
        in_bed = routine.sleep.in_bed()
        tz = routine.household.tz
        local = on.astimezone(tz)
        total = 0.0
        for hour in range(HOURS):
            at = local.replace(hour=hour, minute=30, second=0, microsecond=0)
            if in_bed is None or not in_bed.holds(at, tz):
                total += routine.spells.rate_per_day(at, length_s)
        return total

    @staticmethod
    def by_day(routine: HouseholdRoutine, since: datetime) -> bool:
        """The stillness began in her waking day: outside the hours she is in bed on all but a
        few nights (from the early bedtimes to the late wakings), once those are learned; a
        night that begins a little early is not a day."""
        in_bed = routine.sleep.in_bed()
        return in_bed is not None and not in_bed.holds(since, routine.household.tz)

    @staticmethod
    def asleep_until_s(routine: HouseholdRoutine, since: datetime) -> float | None:
        """Seconds from ``since`` to her late usual waking, when the stillness began in the
        bedroom in the hours she is in bed on most nights; None otherwise.

        Quiet spells are learned by the hour they start in, whatever room she was in, so an
        early night (in bed at 20:45, up at 07:00) looks like a very long evening spell. In
        bed, she is asleep until she usually wakes; after that, the stillness is weighed as
        any other. A stillness that began in the hall or the bathroom at night is not sleep.
        """
        info = routine.household.sensor(routine.last_activity_sensor or "")
        if info is None or info.role != "bedroom":
            return None
        in_bed = routine.sleep.in_bed()
        tz = routine.household.tz
        if in_bed is None or not in_bed.holds(since, tz):
            return None
        return (in_bed.end - since_noon(since, tz)) * 60

    def next_due(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> datetime | None:
        """When the stillness going on would cross its limit, if it goes on (see
        ``models.detectors.contract``)."""
        since = routine.quiet_since
        if since is None or routine.maybe_out:
            return None
        st = self.settings
        if not learned:
            limit_s = st.ceiling.total_seconds()
        elif now < since + (soonest := min(st.shortest, st.long_lie, st.ceiling)):
            # Never sooner than this, whatever was learned: most stillness ends before, and
            # then its limit is never worked out.
            limit_s = soonest.total_seconds()
        else:
            limit_s = self._limit(routine, since)[0]
        return max(now, since + timedelta(seconds=limit_s) - ROUNDING)

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        since = routine.quiet_since
        if since is None or routine.maybe_out:
            return None
        quiet_s = (now - since).total_seconds()
        ceiling_s = self.settings.ceiling.total_seconds()
        limit_s, basis = self._limit(routine, since) if learned else (ceiling_s, "safety_ceiling")
        if quiet_s < limit_s:
            return None
        if quiet_s >= ceiling_s:
            basis = "safety_ceiling"
        place = routine.stillness.factor(routine.last_activity_sensor)
        rate = routine.spells.rate_per_day(since, quiet_s) * place if learned else None
        # How often stillness this unusual for its hour comes at any hour: the rarity that
        # says how often an alert like this one is raised. One hour's rate alone would read
        # "once in 2 years" for what, over the day's 24 hours, comes once a month.
        once_in = round(1.0 / (rate * HOURS), 1) if rate else None
        if basis == "long_lie":
            # Raised at the long-lie limit, however ordinary that hour's stillness: how often
            # stillness that long comes by day here is how often such an alert comes.
            by_day = self.by_day_rate(routine, since, limit_s)
            once_in = round(1.0 / by_day, 1) if by_day > 0 else None
        return Finding(
            type=self.type,
            severity="urgent",
            started_at=since,
            detected_at=now,
            summary=words.summary(self.settings.ceiling, routine, since, quiet_s, basis, once_in),
            headline=words.headline(self.settings.ceiling, routine, since, quiet_s, basis, once_in),
            episode=f"inactivity:{since.isoformat()}",
            evidence={
                "last_activity_at": since.isoformat(),
                "last_activity_sensor": routine.last_activity_sensor,
                "quiet_minutes": round(quiet_s / 60, 1),
                "alert_after_minutes": round(limit_s / 60, 1),
                "last_activity_room": words.room_of(routine),
                # How many times as often long stillness begins after this sensor as after any.
                "after_this_sensor_ratio": round(place, 2),
                "about_once_in_days": once_in,
                "basis": basis,
                "days_learned": routine.days_learned,
            },
            silence_since=since,
            holds=routine.episode("spell"),
        )


SPEC = register(
    DetectorSpec(
        name="inactivity",
        title="Inactivity",
        watches="Watch for unusually long stillness.",
        order=10,
        settings=InactivitySettings,
        build=lambda settings, _state: InactivityDetector(settings),
        safety_net=True,
    )
)
