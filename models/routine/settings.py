"""What the routine learns, as the household's configuration sets it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoutineSettings:
    # The sensors whose first use of the day marks its start (roles: the kettle, say).
    morning_roles: frozenset[str] = frozenset({"kettle"})
    half_life_days: float = 60.0
    first_use_window_days: int = 28
    # Up and about: the morning's this-many-th minute with movement indoors (0: not watched).
    # One trip to the bathroom at dawn makes a few; getting up for the day makes ten within
    # the half hour, in homes with one sensor a room.
    getting_up_minutes: int = 10
