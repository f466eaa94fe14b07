"""Detector ``weekly_summary`` (off unless the YAML turns it on): once a week, for a family who
want reassurance, the week's routine in a few lines from the daily records (getting up, going
to bed, how active, the kitchen, outings, the bathroom at night) and whether it is the usual:
"all well this week", or the changes the digest finds against the weeks before. An ``info``
alert: it reaches only those who agreed to be told of info alerts.

>>> from datetime import date
>>> from models.routine.daily_record import DayRecord
>>> days = [DayRecord(date(2026, 3, d), night_bathroom=1, sleep_onset=630.0, active_minutes=100,
...                   kitchen_uses=6, outings=1, morning_min=460.0) for d in range(22, 29)]
>>> import textwrap
>>> print(textwrap.fill(in_words(week_of(days), []), 90))
All well this week: up around 07:40, to bed around 22:30, active about 100 minutes a day,
the kitchen used about 6 times a day, out 7 times, about 1 bathroom visit a night.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from statistics import mean, median
from typing import Any

from models.detectors.contract import DetectorSpec, Settings, register, setting
from models.detectors.digest import IN_A_FEW_WORDS, Digest
from models.finding import Finding, JsonValue
from models.local_time import clock_text, local_date, local_instant, not_after
from models.routine import HouseholdRoutine
from models.routine.daily_record import DayRecord
from models.what_to_do import HEADLINE_MOST

# Fewest whole days of the seven for a summary that says something of the week.
FEWEST_DAYS = 4


@dataclass(frozen=True, slots=True)
class WeeklySummarySettings(Settings):
    weekday: int = setting(
        6, "Day", "Day of the week it is sent: 0 Monday ... 6 Sunday.", ge=0, le=6
    )
    hour: int = setting(18, "Hour", "Local hour it is sent at.", ge=0, le=23)


def week_of(days: list[DayRecord]) -> dict[str, JsonValue]:
    """The week's figures, from its whole days."""

    def typical(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return median(known) if known else None

    # Getting up: the end of the night's sleep, as the digest has it; else the first sign of
    # life from 04:00 (a home whose nights are not known).
    woke = typical([d.wake for d in days])
    up = woke + 720 if woke is not None else typical([d.morning_min for d in days])
    bed = typical([d.sleep_onset for d in days])
    return {
        "days_recorded": len(days),
        "usual_up": None if up is None else clock_text(up),
        "usual_to_bed": None if bed is None else clock_text(bed + 720),
        "active_minutes_a_day": round(mean(d.active_minutes for d in days)),
        "kitchen_uses_a_day": round(mean(d.kitchen_uses for d in days), 1),
        "outings_count": sum(d.outings for d in days),
        "night_bathroom_visits_a_night": round(mean(d.night_bathroom for d in days), 1),
    }


def in_words(week: dict[str, JsonValue], changes: list[str]) -> str:
    parts = []
    if week["usual_up"]:
        parts.append(f"up around {week['usual_up']}")
    if week["usual_to_bed"]:
        parts.append(f"to bed around {week['usual_to_bed']}")
    parts.append(f"active about {week['active_minutes_a_day']} minutes a day")
    parts.append(f"the kitchen used about {_number(week['kitchen_uses_a_day'])} times a day")
    parts.append(f"out {week['outings_count']} times")
    visits = week["night_bathroom_visits_a_night"]
    parts.append(f"about {_number(visits)} bathroom visit{'' if visits == 1 else 's'} a night")
    days = week["days_recorded"]
    recorded = "" if days == 7 else f" ({days} of 7 days recorded)"
    if not changes:
        return f"All well this week{recorded}: {', '.join(parts)}."
    said = "; ".join(IN_A_FEW_WORDS.get(c, c.replace("_", " ")) for c in changes)
    return f"This week{recorded}, against the weeks before: {said}. The week: {', '.join(parts)}."


def _headline(week: dict[str, JsonValue], changes: list[str]) -> str:
    """
    >>> _headline({"usual_up": "07:40", "outings_count": 4}, [])
    'All well this week: the usual routine, up around 07:40, out 4 times.'
    >>> _headline({}, ["fewer_outings"])
    'This week, against the weeks before: fewer outings.'
    """
    if changes:
        said = "; ".join(IN_A_FEW_WORDS.get(c, c.replace("_", " ")) for c in changes)
        line = f"This week, against the weeks before: {said}."
        return line if len(line) <= HEADLINE_MOST else f"This week: {len(changes)} changes."
    up = f", up around {week['usual_up']}" if week.get("usual_up") else ""
    return f"All well this week: the usual routine{up}, out {week['outings_count']} times."


def _number(x: JsonValue) -> str:
    return f"{x:.0f}" if isinstance(x, float) and x.is_integer() else str(x)


class WeeklySummary:
    type = "weekly_summary"

    def __init__(self, settings: WeeklySummarySettings | None = None) -> None:
        self.settings = settings or WeeklySummarySettings()
        self.sent: date | None = None  # the day this week's was worked out

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return frozenset()

    def _due_today(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> bool:
        today = local_date(now, routine.household.tz)
        return learned and today.weekday() == self.settings.weekday and self.sent != today

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        tz = routine.household.tz
        today = local_date(now, tz)
        if (
            not self._due_today(routine, now, learned)
            or now.astimezone(tz).hour < self.settings.hour
        ):
            return None
        self.sent = today
        history = list(routine.daily.history)
        days = [r for r in history if today - timedelta(days=7) <= r.day < today and r.whole]
        if len(days) < FEWEST_DAYS:
            return None  # too little of the week recorded to say it was well
        week = week_of(days)
        changes = [c.key for c in Digest().changes(history, today)]
        summary = in_words(week, changes)
        headline = _headline(week, changes)
        return Finding(
            type=self.type,
            severity="info",
            started_at=local_instant(today - timedelta(days=7), 0, tz),
            detected_at=now,
            summary=summary,
            headline=headline,
            episode=f"weekly_summary:{today.isoformat()}",
            evidence={**week, "changes": list[JsonValue](changes)},
        )

    def next_due(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> datetime | None:
        """This day's hour, on the day of the week it is sent."""
        if not self._due_today(routine, now, learned):
            return None
        today = local_date(now, routine.household.tz)
        at = local_instant(today, self.settings.hour * 60, routine.household.tz)
        return not_after(at, now, routine.household.tz)

    def to_state(self) -> dict[str, Any]:
        return {"sent": self.sent.isoformat() if self.sent else None}

    @classmethod
    def from_state(cls, state: dict[str, Any], settings: WeeklySummarySettings) -> WeeklySummary:
        w = cls(settings)
        w.sent = date.fromisoformat(state["sent"]) if state.get("sent") else None
        return w


SPEC = register(
    DetectorSpec(
        name="weekly_summary",
        title="Weekly summary",
        watches="Once a week, the week's routine in a few lines, and whether it was the usual:"
        " for a family who want reassurance (an info alert; off unless turned on).",
        order=95,
        settings=WeeklySummarySettings,
        build=lambda settings, state: (
            WeeklySummary.from_state(state, settings) if state else WeeklySummary(settings)
        ),
        enabled_by_default=False,
    )
)


def with_the_weeks_alerts(f: Finding, alerted: list[str]) -> Finding:
    """The week's summary, told that the carers were alerted about the resident this week:
    then it is not "all well", whatever the routine's figures say.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 3, 29, 17, tzinfo=UTC)
    >>> f = Finding("weekly_summary", "info", t, t, "All well this week: up around 07:40.",
    ...             "w:1", headline="All well this week: the usual routine.")
    >>> g = with_the_weeks_alerts(f, ["inactivity"])
    >>> g.headline
    'Not all well this week: the carers were alerted (inactivity).'
    >>> g.summary
    'Not all well this week: the carers were alerted (inactivity). The week: up around 07:40.'
    """
    if not alerted:
        return f
    said = ", ".join(a.replace("_", " ") for a in alerted)
    head = f"Not all well this week: the carers were alerted ({said})."
    rest = f.summary.split(": ", 1)[1] if ": " in f.summary else f.summary
    if len(head) > HEADLINE_MOST:
        head = f"Not all well this week: the carers were alerted {len(alerted)} times."
    return replace(
        f,
        headline=head,
        summary=f"{head} The week: {rest}",
        evidence={**f.evidence, "alerts_this_week": list[JsonValue](alerted)},
    )
