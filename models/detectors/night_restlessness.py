"""Detector ``night_restlessness``: up and about in the core of the night for far longer than
on this household's usual nights (``models.routine.night_activity``).

Raised while the stretch is still going on, so that a carer can ring while the resident is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.detectors.contract import DetectorSpec, Settings, Stateless, register, setting
from models.detectors.wording import duration_text
from models.finding import Finding
from models.local_time import clock_text, minutes_since_midnight
from models.routine import HouseholdRoutine, night_activity
from models.routine.night_activity import JOIN_GAP
from models.routine.sleep import clock_of


@dataclass(frozen=True, slots=True)
class NightRestlessnessSettings(Settings):
    margin: float = setting(
        2.0,
        "Margin",
        "Times the usual longest night-time stretch (95th percentile of recent nights).",
        gt=1,
    )
    shortest: timedelta = setting(timedelta(minutes=45), "Shortest alert", "Never alert sooner.")


class NightRestlessnessDetector(Stateless):
    type = "night_restlessness"

    def __init__(self, settings: NightRestlessnessSettings | None = None) -> None:
        self.settings = settings or NightRestlessnessSettings()

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return routine.household.presence_sensors()

    def next_due(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> datetime | None:
        """Now, while a stretch up at night long enough to raise goes on; when the visitors
        staying the night are no longer counted as in, if they are; else not before another
        sign of life (the stretch grows only with movement)."""
        na = routine.night_activity
        if not learned or na.run_start is None or na.run_last is None:
            return None
        if now - na.run_last > JOIN_GAP:
            return None
        usual = na.usual_longest()
        if usual is None or routine.sleep.core() is None:
            return None
        st = self.settings
        if na.stretch_s() < max(st.margin * usual, st.shortest.total_seconds()):
            return None
        visitors_until = routine.presence.visitors_until
        if visitors_until is not None and now < visitors_until:
            return min(visitors_until, na.run_last + JOIN_GAP)
        return now

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        na = routine.night_activity
        if not learned or na.run_start is None or na.run_last is None:
            return None
        if now - na.run_last > JOIN_GAP:
            return None  # back to bed: the stretch is over
        if routine.presence.visitors(now):
            return None  # someone staying the night, up with the resident
        usual = na.usual_longest()
        core = routine.sleep.core()
        if usual is None or core is None:
            return None
        limit = max(self.settings.margin * usual, self.settings.shortest.total_seconds())
        stretch = na.stretch_s()
        if stretch < limit:
            return None
        tz = routine.household.tz
        began = clock_text(minutes_since_midnight(na.run_start, tz))
        nights = len(na.history)
        as_long = na.nights_at_least(stretch)
        return Finding(
            type=self.type,
            severity="urgent",
            started_at=na.run_start,
            detected_at=now,
            headline=(
                f"Up and about at night since {began} ({duration_text(stretch)}); this long on"
                f" {as_long or 'none'} of the last {nights} nights."
            ),
            summary=(
                f"Up and moving about since {began} ({duration_text(stretch)}), in what are usually"
                f" sleeping hours ({clock_of(core.start)} to {clock_of(core.end)})."
                f" On {as_long} of the last {nights} nights anyone was up this long; usually"
                f" no longer than {duration_text(usual)}."
            ),
            episode=f"night_restlessness:{na.run_start.isoformat()}",
            holds=None if na.night is None else ("night", na.night),
            evidence={
                "active_since": na.run_start.isoformat(),
                "active_minutes": round(stretch / 60, 1),
                "usual_longest_minutes": round(usual / 60, 1),
                "alert_after_minutes": round(limit / 60, 1),
                "nights_as_long": as_long,
                "nights_compared": nights,
                "usual_sleep_from": clock_of(core.start),
                "usual_sleep_to": clock_of(core.end),
            },
        )


SPEC = register(
    DetectorSpec(
        name="night_restlessness",
        title="Night restlessness",
        watches="Watch for being up and about in the learned sleep hours far longer than usual.",
        order=50,
        settings=NightRestlessnessSettings,
        build=lambda settings, _state: NightRestlessnessDetector(settings),
        progress=lambda routine, _settings: (
            len(routine.night_activity.history),
            night_activity.MIN_NIGHTS,
            "nights",
        ),
    )
)
