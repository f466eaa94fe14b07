"""How far each detector has learned this household: what a technician tells a family who
asks "is it working yet?".

Every detector waits for the routine's days learned (``learning_days``) before it alerts on
what it learned (its safety net is on from the first day); some need more of their own: nights
of sleep, mornings, whole days of records. A detector is learned when it has both.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.household import Household, SensorInfo
>>> from models.events import SensorEvent
>>> from models.monitor import Monitor
>>> h = Household("h1", ZoneInfo("UTC"), (SensorInfo("hall", "motion", "hall", "hallway"),))
>>> m = Monitor(h)
>>> start = datetime(2024, 1, 1, 8, tzinfo=timezone.utc)
>>> for day in range(3):
...     _ = m.observe(SensorEvent(start + timedelta(days=day), "hall", "motion", 1.0))
>>> [x.words() for x in learning(m)][:2]
['inactivity: learning, 2 of 14 days learned (its safety limit is on meanwhile)', \
'missed morning: learning, 2 of 14 days learned']
"""

from __future__ import annotations

from dataclasses import dataclass

from models.detectors import REGISTRY
from models.monitor import Monitor


@dataclass(frozen=True, slots=True)
class Learning:
    detector: str
    days_learned: int
    learning_days: int
    # What the detector needs of its own (None: only the days learned), how much it has.
    own: str | None = None
    own_have: float = 0.0
    own_need: int = 0
    safety_net: bool = False

    @property
    def learned(self) -> bool:
        return self.days_learned >= self.learning_days and self.own_have >= self.own_need

    def words(self) -> str:
        name = self.detector.replace("_", " ")
        if self.learned:
            return f"{name}: learned, {self.days_learned} days"
        if self.days_learned < self.learning_days:
            left = f"{self.days_learned} of {self.learning_days} days learned"
        else:
            left = f"{int(self.own_have)} of {self.own_need} {self.own}"
        net = " (its safety limit is on meanwhile)" if self.safety_net else ""
        return f"{name}: learning, {left}{net}"


def learning(monitor: Monitor) -> list[Learning]:
    """Each watching detector's learning, in the order they are checked."""
    routine = monitor.routine
    days, need = routine.days_learned, monitor.settings.learning_days
    out = []
    for name in monitor.detectors:
        spec = REGISTRY[name]
        if spec.progress is None:
            out.append(Learning(name, days, need, safety_net=spec.safety_net))
            continue
        have, own_need, what = spec.progress(routine, monitor.settings.detectors[name])
        out.append(Learning(name, days, need, what, have, own_need, spec.safety_net))
    return out
