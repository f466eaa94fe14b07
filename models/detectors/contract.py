"""What every detector is, and the registry that lists them.

A detector module declares one :class:`DetectorSpec` and registers it: its name (the alert
type it raises and its section of the YAML file), the words a technician reads for that
section, its settings, and the detector itself. Everything else is derived from the registry:
the YAML section and its JSON Schema (``agent.config``), the mapping from YAML to settings,
the monitor's list of detectors and the agent's start-up log. A new detector is one module
and its tests.

Settings are a frozen dataclass. Each field made with :func:`setting` is a key of the YAML
section, with its title, description and bounds (``gt``, ``ge``, ``le``, ``min_length``); plain
fields are the detector's own constants, not for a technician to set. Durations are
``timedelta``, lists are tuples.

A detector:

- ``needs(routine)``: the sensors whose silence it cannot tell from the resident's; while one
  of them is offline or silent it is not asked, and the monitor says so (``monitoring_gap``);
- ``check(routine, now, learned)``: a finding at ``now``, or None. Before the routine is
  learned, only a safety net (evidence ``basis: safety_ceiling``) may be raised;
- ``to_state()`` and ``from_state(state, settings)``: what it keeps between checks, as plain
  JSON-compatible data;
- ``next_due(routine, now, learned)``, if it has one: the earliest time ``check`` could find
  anything, so long as nothing is observed and the routine's day and night do not turn (None:
  not before then; ``now``: at any moment). A replay ticks only from there, and the alerts
  are the same as ticking every minute (``tests/test_deadlines.py`` replays both ways). A
  detector without one is checked every minute.

A spec's ``progress`` says what the detector has learned of what it needs beyond the days
learned (nights of sleep, whole days of records), for ``hearth status`` and ``hearth explain``.

It never reads a clock: the time is ``now``.

>>> import models.detectors
>>> [spec.name for spec in registered()]  # doctest: +NORMALIZE_WHITESPACE
['inactivity', 'missed_morning', 'night_exit', 'not_returned', 'night_restlessness', 'digest',
 'weekly_summary']
>>> spec = REGISTRY["inactivity"]
>>> spec.settings().once_in_days, spec.title
(10.0, 'Inactivity')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from models.finding import Finding

if TYPE_CHECKING:
    from models.household import Household
    from models.routine import HouseholdRoutine


# Taken off a deadline worked out in floating seconds, so that rounding never makes it late.
ROUNDING = timedelta(milliseconds=1)


def earliest(start: datetime, holds: Callable[[datetime], bool], within: timedelta) -> datetime:
    """A time no later than the first at which ``holds`` (false, then true for good, as time
    goes on) becomes true, from ``start`` and searched to the minute; ``start + within`` if it
    does not by then.

    >>> t = datetime(2025, 1, 1)
    >>> earliest(t, lambda at: at >= t + timedelta(minutes=90, seconds=30), timedelta(hours=6))
    datetime.datetime(2025, 1, 1, 1, 30)
    """
    minute = timedelta(minutes=1)
    if holds(start):
        return start
    lo, hi = 0, int(within / minute)  # false at lo minutes after start; true by hi, or never
    if not holds(start + hi * minute):
        return start + within
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if holds(start + mid * minute) else (mid, hi)
    return start + lo * minute


def setting(default: Any, title: str, description: str, **bounds: float) -> Any:
    """A settings field that is also a key of the detector's YAML section."""
    return field(default=default, metadata={"title": title, "description": description, **bounds})


def yaml_keys(settings: type) -> list[str]:
    """The settings' fields that a technician sets in the YAML, in order."""
    fields: dict[str, Any] = getattr(settings, "__dataclass_fields__", {})
    return [name for name, f in fields.items() if "title" in f.metadata]


class Settings:
    """What every detector's settings can say about a household they are set for."""

    __slots__ = ()

    def problems(self, household: Household) -> list[tuple[str, str]]:
        """Settings that cannot work in this household: (key, what is wrong)."""
        return []


class Detector(Protocol):
    type: str

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        """The sensors whose silence this detector cannot tell from the resident's."""
        ...

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None: ...

    def to_state(self) -> dict[str, Any]: ...


class Stateless:
    """For a detector that keeps nothing between checks but caches."""

    def to_state(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    # The YAML section's title, and what the detector watches for (its ``enabled`` key's words).
    title: str
    watches: str
    settings: type[Any]
    # Builds the detector from its settings and saved state ({} for a fresh one).
    build: Callable[[Any, dict[str, Any]], Detector]
    # What the detector's settings ask of the routine (fields of RoutineSettings), if anything.
    routine: Callable[[Any], dict[str, Any]] | None = None
    # Where it comes in the checks at each tick (lower first), and so in the alerts sent.
    order: int = 100
    # What it has learned of what it needs of its own, beside the routine's days learned:
    # (how much, the least it needs, of what: "nights"). None: the days learned are all.
    progress: Callable[[HouseholdRoutine, Any], tuple[float, int, str]] | None = None
    # It raises a safety net (a fixed limit) while still learning.
    safety_net: bool = False
    # On unless the YAML turns it off; False: off unless the YAML turns it on.
    enabled_by_default: bool = True


REGISTRY: dict[str, DetectorSpec] = {}


def register(spec: DetectorSpec) -> DetectorSpec:
    """Add a detector; a name registered twice is a mistake, not an override."""
    if spec.name in REGISTRY:
        raise ValueError(f"detector {spec.name!r} is registered already")
    REGISTRY[spec.name] = spec
    return spec


def registered() -> list[DetectorSpec]:
    """Every registered detector, in the order they are checked."""
    return sorted(REGISTRY.values(), key=lambda spec: (spec.order, spec.name))


def unregister(name: str) -> None:
    """Take a detector out again (a toy one, registered by a test)."""
    REGISTRY.pop(name, None)
