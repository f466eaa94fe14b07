"""Detector ``digest``: the slow changes, read once a day from the daily records and sent
together, not one by one.

The last ``recent_days`` (7) are compared with the ``baseline_days`` (28) before them, and, for
activity and kitchen use, also with the weeks before that (a gradual decline, each week a little
less than the last, never looks large against the month just before it). The tests are in
``models.detectors.slow_changes``. Each change is reported once and then not again for
``quiet_days``, unless it comes back after going away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from models.detectors import slow_changes as sc
from models.detectors.contract import DetectorSpec, Settings, register, setting
from models.finding import Finding, JsonValue
from models.local_time import local_date, local_instant, not_after
from models.routine import HouseholdRoutine
from models.routine.daily_record import DayRecord


@dataclass(frozen=True, slots=True)
class DigestSettings(Settings):
    hour: int = setting(9, "Hour", "Local hour the day's digest is sent at.", ge=0, le=23)
    quiet_days: int = setting(
        7,
        "Quiet days",
        "A change reported is not reported again for this many days while it lasts.",
        ge=1,
    )
    false_per_fortnight: float = setting(
        1.0,
        "False-alert budget",
        "At most this many digests a fortnight that report a change by chance;"
        " each figure's test is set from it.",
        gt=0,
        le=14,
    )
    recent_days: int = 7
    baseline_days: int = 28
    # Fewest baseline days (with data) before anything is compared.
    min_baseline_days: int = 14

    @property
    def p_value(self) -> float:
        """How unlikely under the baseline a change must be (see ``p_value_for_budget``)."""
        return sc.p_value_for_budget(self.false_per_fortnight)


class Digest:
    type = "digest"

    def __init__(self, settings: DigestSettings | None = None) -> None:
        self.settings = settings or DigestSettings()
        # The last day the digest was worked out: once a day, at its hour or the first check
        # after it.
        self.checked: date | None = None
        # Each change last reported, so that it is not repeated daily.
        self.reported: dict[str, date] = {}

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return frozenset()  # a day's figures with a broken sensor show as a gap, not a change

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        tz = routine.household.tz
        today = local_date(now, tz)
        if not learned or now.astimezone(tz).hour < self.settings.hour:
            return None
        if self.checked == today:
            return None
        self.checked = today
        core = routine.sleep.core()
        how = sc.Comparison(
            self.settings.p_value,
            self.settings.min_baseline_days,
            None if core is None else (core.start, core.end),
        )
        changes = self.changes(list(routine.daily.history), today, how)
        reported = self.reported
        quiet = timedelta(days=self.settings.quiet_days)
        new = [c for c in changes if c.key not in reported or today - reported[c.key] > quiet]
        for c in changes:
            if c.key in reported and today - reported[c.key] <= quiet:
                reported[c.key] = today  # still going on: stays quiet while it lasts
        finding = None
        if new:
            for c in new:
                reported[c.key] = today
            finding = Finding(
                type=self.type,
                severity="info",
                started_at=local_instant(today - timedelta(days=1), 0, tz),
                detected_at=now,
                summary=" ".join(c.text for c in new),
                headline=_headline([c.key for c in new]),
                episode=f"digest:{today.isoformat()}",
                evidence={
                    "changes": list[JsonValue]([c.key for c in new]),
                    **{c.key: dict[str, JsonValue](c.evidence) for c in new},
                },
            )
        return finding

    def next_due(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> datetime | None:
        """Today's digest hour, until today's is worked out."""
        tz = routine.household.tz
        today = local_date(now, tz)
        if not learned or self.checked == today:
            return None
        return not_after(local_instant(today, self.settings.hour * 60, tz), now, tz)

    def changes(
        self, history: list[DayRecord], today: date, how: sc.Comparison | None = None
    ) -> list[sc.Change]:
        """What has changed, from the daily records of the days before ``today``."""
        st = self.settings
        how = how or sc.Comparison(st.p_value, st.min_baseline_days)
        # Only whole days: a day cut short by a gap in the data is not a quiet day.
        days = [r for r in history if r.day < today and r.whole]
        recent_from = today - timedelta(days=st.recent_days)
        base_from = recent_from - timedelta(days=st.baseline_days)
        recent = [r for r in days if r.day >= recent_from]
        base = [r for r in days if base_from <= r.day < recent_from]
        older = [r for r in days if r.day < base_from]
        if len(base) < st.min_baseline_days or len(recent) < st.recent_days - 2:
            return []
        found = [
            sc.night_bathroom(recent, base, how),
            sc.wake_time(recent, base, how),
            sc.sleep_length(recent, base, how),
            sc.no_kitchen_yesterday(recent, base, today),
        ]
        for figure in (sc.LESS_ACTIVE, sc.FEWER_KITCHEN_USES):
            c = sc.falling(figure, recent, base, "the 4 weeks before", how.p_value)
            if c is None and len(older) >= st.min_baseline_days:
                c = sc.falling(figure, recent, older, "a month or two ago", how.p_value)
            found.append(c)
        found.append(sc.fewer_outings(recent, base, how.p_value))
        return [c for c in found if c is not None]

    def to_state(self) -> dict[str, Any]:
        return {
            "checked": self.checked.isoformat() if self.checked else None,
            "reported": {k: d.isoformat() for k, d in self.reported.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], settings: DigestSettings) -> Digest:
        d = cls(settings)
        d.checked = date.fromisoformat(state["checked"]) if state["checked"] else None
        d.reported = {k: date.fromisoformat(v) for k, v in state["reported"].items()}
        return d


SPEC = register(
    DetectorSpec(
        name="digest",
        title="Daily digest",
        watches="Each morning, compare the last week with the weeks before (night bathroom"
        " visits, getting up, sleep, activity, kitchen use, outings) and send what changed.",
        order=90,
        settings=DigestSettings,
        build=lambda settings, state: (
            Digest.from_state(state, settings) if state else Digest(settings)
        ),
        # A baseline and most of a recent week, as ``changes`` asks.
        progress=lambda routine, settings: (
            sum(1 for r in routine.daily.history if r.whole),
            settings.min_baseline_days + settings.recent_days - 2,
            "whole days",
        ),
    )
)


# Each change in a few words, for the title line; the summary says how much, and since when.
IN_A_FEW_WORDS = {
    "night_bathroom": "more bathroom visits at night",
    "wake_time": "getting up at a different time",
    "sleep_length": "a different time asleep",
    "no_kitchen": "no kitchen use yesterday",
    "less_active": "less active by day",
    "fewer_kitchen_uses": "fewer kitchen uses",
    "fewer_outings": "fewer outings",
}


def _headline(keys: list[str]) -> str:
    """
    >>> _headline(["night_bathroom", "fewer_outings"])
    'Changes in the routine: more bathroom visits at night; fewer outings.'
    """
    words = [IN_A_FEW_WORDS.get(k, k.replace("_", " ")) for k in keys]
    return f"{'Changes' if len(words) > 1 else 'A change'} in the routine: {'; '.join(words)}."
