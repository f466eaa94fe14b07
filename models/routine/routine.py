"""A household's learned routine: each sign of life handed to the learners that need it.

Events come in time order with the time as an argument; nothing here reads a clock. The
learners, in the order an event reaches them:

- ``spells`` (``quiet_spells``): how long the home stays still between signs of life, by hour;
  ``stillness`` (``stillness_by_place``): after which sensor the long ones begin;
  ``sleep``: each night from its first long quiet spell to the end of its last;
- ``outings`` (``quiet_spells`` again): from an outside door to the next sign of life;
- ``presence``: the last outside door, and visitors;
- ``night_activity``: each night's longest stretch up and about;
- ``daily`` (``daily_record``): one record a day, for the digest and the daily score;
- ``mornings``: when each day begins.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from models.events import SensorEvent
from models.household import Household
from models.local_time import (
    day_type,
    instant_or_none,
    iso_or_none,
    local_date,
    local_instant,
    not_after,
)
from models.routine.daily_record import DailyRecords
from models.routine.held import Held, Learner, Withheld
from models.routine.mornings import Mornings
from models.routine.night_activity import NightActivity
from models.routine.presence import Presence
from models.routine.quiet_spells import QuietSpells
from models.routine.settings import RoutineSettings
from models.routine.sleep import NightSleep
from models.routine.stillness_by_place import StillnessByPlace, long_for_its_hour

# A spell longer than this is a gap in the data (hub off, sensors gone), not a quiet person.
LONGEST_LEARNED_SPELL = timedelta(hours=24)
# Door events closer together than this are one going out (open, close), not an outing.
SHORTEST_OUTING = timedelta(minutes=2)


# The clock set by this much or more is set by days (a year out, say): the day in progress keeps
# going under its new date. Less (an hour, six), and the day ends when its midnight comes.
DATED_JUMP = timedelta(hours=23)


class HouseholdRoutine:
    # Counted from this run's start, for the log; and set anew at each start.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset(
        {"late_events", "unknown_sensor_events", "observing_since", "turn"}
    )

    def __init__(self, household: Household, settings: RoutineSettings | None = None) -> None:
        self.household = household
        self.settings = st = settings or RoutineSettings()
        self.spells = QuietSpells(household.tz, st.half_life_days)
        # Outings: from an outside door to the next sign of life, by the hour they start.
        self.outings = QuietSpells(household.tz, st.half_life_days)
        self.stillness = StillnessByPlace(st.half_life_days)
        self.mornings = Mornings(household, st)
        self.sleep = NightSleep(household.tz)
        self.night_activity = NightActivity(household.tz)
        self.daily = DailyRecords(household)
        self.presence = Presence(household)
        # Episodes an urgent alert was raised on, kept out of what is learned as usual.
        self.withheld = Withheld()
        self.outside_doors = household.outside_doors()
        self.last_activity_at: datetime | None = None
        self.last_activity_sensor: str | None = None
        # Stillness and time out are not counted before this (the end of an away spell).
        self.watch_from: datetime | None = None
        # When Hearth came back after being stopped: what happened before it was not seen.
        self.observing_since: datetime | None = None
        self.current_day: date | None = None
        self.current_day_active = False
        self.days_learned = 0
        # When ``advance`` next has anything to do, as its last call found (see next_turn).
        self.turn: datetime | None = None
        self.late_events = 0
        self.unknown_sensor_events = 0

    @property
    def quiet_since(self) -> datetime | None:
        """The last sign of life, or the end of away mode if that came later."""
        last, start = self.last_activity_at, self.watch_from
        if last is None or start is None:
            return last
        return max(last, start)

    @property
    def maybe_out(self) -> bool:
        """The resident may have gone out (see ``Presence.maybe_out``)."""
        return self.presence.maybe_out(self.last_activity_at, self.last_activity_sensor)

    def advance(self, now: datetime) -> None:
        """Move the day forward to ``now``'s local date, closing each day and night passed;
        between turns (``next_turn``) there is nothing to do."""
        if self.turn is None or now >= self.turn:
            _advance(self, now)
            self.turn = next_turn(self, now)

    def _start_day(self, today: date) -> None:
        self.withheld.expire(local_instant(today, 0, self.household.tz))
        self.spells.start_day(day_type(today))
        self.outings.start_day(day_type(today))
        self.stillness.start_day()

    def observe(self, event: SensorEvent) -> bool:
        """Learn from one event. Returns False when the event was not learned from."""
        if not event.clock_trusted or not event.is_activity:
            return False
        if self.household.sensor(event.sensor) is None:
            self.unknown_sensor_events += 1
            return False
        if self.last_activity_at is not None and event.at < self.last_activity_at:
            self.late_events += 1
            return False
        self.advance(event.at)
        after_gap = not self.current_day_active and (
            self.last_activity_at is None
            or event.at - self.last_activity_at > LONGEST_LEARNED_SPELL
        )
        self.mornings.notice_start(
            event, after_gap, lambda: self.maybe_out or event.sensor in self.outside_doors
        )
        if self.last_activity_at is not None:
            self._learn_spell(event.at - self.last_activity_at, event.at)
        self.presence.observe(event)
        self.last_activity_at = event.at
        self.last_activity_sensor = event.sensor
        self.current_day_active = True
        self.night_activity.learn(event.at, self.sleep.core())
        self.daily.activity(event.at, event.sensor)
        self.mornings.notice(event)
        return True

    def _learn_spell(self, spell: timedelta, ended_at: datetime) -> None:
        """The stillness (or the time out) that the event at ``ended_at`` ended."""
        assert self.last_activity_at is not None
        began = self.last_activity_at
        out = self.maybe_out
        length = spell.total_seconds()
        if not out and timedelta(0) < spell <= LONGEST_LEARNED_SPELL:
            self.daily.quiet_spell(began, length)
            sensor = self.last_activity_sensor
            # Judged against the hour as known before this spell is learned.
            long = sensor is not None and long_for_its_hour(self.spells, began, spell)
            held = self.withheld.holding("spell", began.isoformat())
            if held is not None:
                kept = {"began": began.isoformat(), "length_s": length, "sensor": sensor}
                self.withheld.keep(held, kept | {"long": long})
                return
            if sensor is not None:
                self.stillness.learn(sensor, long)
            self.spells.learn(began, length)
            self.sleep.learn(began, length)
        elif out and SHORTEST_OUTING <= spell <= LONGEST_LEARNED_SPELL:
            self.daily.outing(ended_at, length)
            held = self.withheld.holding("outing", began.isoformat())
            if held is not None:
                self.withheld.keep(held, {"began": began.isoformat(), "length_s": length})
                return
            self.outings.learn(began, length)

    def episode(self, learner: Learner) -> tuple[str, str] | None:
        """The spell or outing going on now, as an alert about it holds it out of learning."""
        last = self.last_activity_at
        return None if last is None else (learner, last.isoformat())

    def hold(self, alert_id: str, learner: Learner, key: str, at: datetime) -> None:
        """An urgent alert was raised on this episode: do not learn it as ordinary."""
        if learner == "night":
            self.night_activity.keep_out.add(key)
        self.withheld.hold(alert_id, learner, key, at)

    def ordinary(self, alert_id: str, now: datetime) -> str | None:
        """The household or the carers say the episode was ordinary: learn it after all (with
        the weight it would have by now). What was learned, or None if nothing is held."""
        held = self.withheld.release(alert_id)
        return None if held is None else _learn_late(self, held, now)

    def shift(self, jump: timedelta, now: datetime | None = None) -> None:
        """The wall clock moved by ``jump`` without time passing (``now``: the clock was set;
        None: Hearth was stopped): quiet time is not lost or gained. Set by a day or more (a
        clock a year out), the day goes on under its new date, its morning seen."""
        _shift(self, jump, now)

    def to_state(self) -> dict[str, Any]:
        return {
            "spells": self.spells.to_state(),
            "outings": self.outings.to_state(),
            "stillness": self.stillness.to_state(),
            "mornings": self.mornings.to_state(),
            "sleep": self.sleep.to_state(),
            "night_activity": self.night_activity.to_state(),
            "daily": self.daily.to_state(),
            "presence": self.presence.to_state(),
            "withheld": self.withheld.to_state(),
            "last_activity_at": iso_or_none(self.last_activity_at),
            "last_activity_sensor": self.last_activity_sensor,
            "current_day": self.current_day.isoformat() if self.current_day else None,
            "current_day_active": self.current_day_active,
            "days_learned": self.days_learned,
            "watch_from": iso_or_none(self.watch_from),
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], household: Household, settings: RoutineSettings | None = None
    ) -> HouseholdRoutine:
        r = cls(household, settings)
        st, tz = r.settings, household.tz
        r.spells = QuietSpells.from_state(state["spells"], tz)
        r.outings = QuietSpells.from_state(state["outings"], tz)
        r.stillness = StillnessByPlace.from_state(state["stillness"])
        r.mornings = Mornings.from_state(state["mornings"], household, st)
        r.sleep = NightSleep.from_state(state["sleep"], tz)
        r.night_activity = NightActivity.from_state(state["night_activity"], tz)
        r.daily = DailyRecords.from_state(state["daily"], household)
        r.presence = Presence.from_state(state["presence"], household)
        r.withheld = Withheld.from_state(state["withheld"])
        r.last_activity_at = instant_or_none(state["last_activity_at"])
        r.last_activity_sensor = state["last_activity_sensor"]
        day = state["current_day"]
        r.current_day = date.fromisoformat(day) if day else None
        r.current_day_active = bool(state["current_day_active"])
        r.days_learned = int(state["days_learned"])
        r.watch_from = instant_or_none(state["watch_from"])
        return r


def _advance(r: HouseholdRoutine, now: datetime) -> None:
    r.night_activity.advance(now)
    night = r.sleep.usual_night()
    r.daily.advance(now, None if night is None else (night.start, night.end))
    today = local_date(now, r.household.tz)
    if r.current_day is None:
        r.current_day = today
        r._start_day(today)
        return
    if today <= r.current_day:
        return
    if r.current_day_active:
        held = r.withheld.holding("morning", r.current_day.isoformat())
        kept = r.mornings.close_day(day_type(r.current_day), held is not None)
        if held is not None and kept is not None:
            r.withheld.keep(held, kept)
        r.days_learned += 1
    # Days with no events at all are gaps in the data, not days to learn from.
    r.current_day = today
    r.current_day_active = False
    r.mornings.new_day()
    r._start_day(today)


def next_turn(r: HouseholdRoutine, now: datetime) -> datetime:
    """When ``HouseholdRoutine.advance`` next has anything to do (a day or a night to close),
    if nothing is observed before: ``now`` if it has now. Between turns it changes nothing."""
    night = r.night_activity.night
    if r.current_day is None or night is None:
        return now
    tz = r.household.tz
    first_open = min([r.current_day, *r.daily.open])
    turns = (
        local_instant(first_open + timedelta(days=1), 0, tz),
        # A night is the local date twelve hours earlier: it turns at noon.
        local_instant(date.fromisoformat(night) + timedelta(days=1), 12 * 60, tz),
    )
    return min(not_after(turn, now, tz) for turn in turns)


def _learn_late(r: HouseholdRoutine, held: Held, now: datetime) -> str:
    """What a held episode would have taught, learned now (a spell or an outing at the weight
    it would have by now); what it was, for the log."""
    if held.learner == "night":
        r.night_activity.keep_out.discard(held.key)
        longest = r.night_activity.kept_out.pop(held.key, None)
        if longest is not None:
            r.night_activity.history.append(longest)
        return f"the night of {held.key}"
    kept = held.kept
    if kept is None:
        return f"the {held.learner} still going on, when it ends"
    if held.learner == "morning":
        r.mornings.learn(kept["kind"], kept["first_use"], kept["up"], recent=False)
        return f"the morning of {held.key}"
    began = datetime.fromisoformat(kept["began"])
    days = max(0.0, (now - began).total_seconds() / 86400)
    weight = 0.5 ** (days / r.settings.half_life_days)
    if held.learner == "outing":
        r.outings.learn(began, kept["length_s"], weight)
        return f"the outing from {kept['began']}"
    if kept["sensor"] is not None:
        r.stillness.learn(kept["sensor"], kept["long"], weight)
    r.spells.learn(began, kept["length_s"], weight)
    return f"the quiet spell from {kept['began']}"


def _shift(r: HouseholdRoutine, jump: timedelta, now: datetime | None) -> None:
    r.turn = None  # worked out again at the next advance
    if r.last_activity_at is not None:
        r.last_activity_at += jump
    r.presence.shift(jump)
    if now is None:
        return  # a stop: real time passed, and the days are the days they were
    r.daily.shift(jump)
    tz = r.household.tz
    days = (local_date(now, tz) - local_date(now - jump, tz)).days
    if abs(jump) >= DATED_JUMP and days and r.current_day is not None:
        old = r.current_day.isoformat()
        r.current_day += timedelta(days=days)
        r.daily.shift_days(days)
        r.withheld.redate("morning", old, r.current_day.isoformat())
