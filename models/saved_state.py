"""Saved state, versioned: what the live agent writes to its store and reads back at start.

The saved document is ``{"version": 2, "monitor": ..., "policy": ...}``, all plain JSON data
(``Monitor.to_state`` and ``AlertPolicy.to_state``). A document saved by an older release is
brought up to date here, one version at a time, before anything reads it; nowhere else guesses
at missing keys.

- Version 1 (until December 2026) kept the version inside ``monitor``; today's mornings and
  presence sat flat in the routine; the digest's reported changes sat in the daily records;
  nothing was held out of learning (version 2 starts with nothing held).
  Saves from the releases before some keys were kept lack them: each is filled as loading
  filled it then (a learner not yet kept starts empty, a flag not yet kept is off).

>>> from zoneinfo import ZoneInfo
>>> from models.household import Household, SensorInfo
>>> h = Household("h1", ZoneInfo("UTC"), (SensorInfo("hall", "motion", "hall", "hallway"),))
>>> migrate({"version": 7, "monitor": {}, "policy": {}}, h)
Traceback (most recent call last):
...
ValueError: saved state version 7 is newer than this release understands (2)
"""

from __future__ import annotations

import copy
from typing import Any
from zoneinfo import ZoneInfo

from models.household import Household
from models.routine import RoutineSettings
from models.routine.daily_record import DailyRecords
from models.routine.first_use import FirstUse
from models.routine.night_activity import NightActivity
from models.routine.quiet_spells import QuietSpells
from models.routine.stillness_by_place import StillnessByPlace

STATE_VERSION = 2


def version_of(doc: dict[str, Any]) -> int | None:
    version = doc.get("version")
    if version is None and isinstance(doc.get("monitor"), dict):
        version = doc["monitor"].get("version")
    return version if isinstance(version, int) else None


def migrate(
    doc: dict[str, Any], household: Household, routine: RoutineSettings | None = None
) -> dict[str, Any]:
    """``doc`` in today's layout: itself if it is in it already, else a copy brought up to
    date (``doc`` is left as it was). A learner that an older release did not keep starts
    empty, with the half-life and window of ``routine`` (the configured ones), as loading
    such a save did then."""
    version = version_of(doc)
    if version == STATE_VERSION:
        return doc
    if version is None or version < 1:
        raise ValueError(f"saved state has no version Hearth knows ({version!r})")
    if version > STATE_VERSION:
        raise ValueError(
            f"saved state version {version} is newer than this release understands"
            f" ({STATE_VERSION})"
        )
    doc = copy.deepcopy(doc)
    if version == 1:
        doc = _from_1(doc, household, routine or RoutineSettings())
    return doc


def _from_1(doc: dict[str, Any], household: Household, settings: RoutineSettings) -> dict[str, Any]:
    monitor = doc["monitor"]
    monitor.pop("version")
    routine = monitor["routine"]
    spells = routine["spells"]
    half_life = settings.half_life_days
    if "shape" not in spells:
        spells["shape"] = QuietSpells.from_state(
            {**spells, "shape": 0.0}, ZoneInfo("UTC")
        ).estimated_shape()
    routine.setdefault("outings", QuietSpells(ZoneInfo("UTC"), half_life).to_state())
    routine.setdefault("stillness", StillnessByPlace(half_life).to_state())
    nights = routine.setdefault("night_activity", NightActivity(ZoneInfo("UTC")).to_state())
    # Kept from version 2: episodes an alert was raised on, held out of learning.
    nights.setdefault("keep_out", [])
    nights.setdefault("kept_out", {})
    routine.setdefault("withheld", {})
    daily = routine.setdefault("daily", DailyRecords(household).to_state())
    # Kept from version 2: the day's last minute, bathroom visit and kitchen uses start afresh.
    daily.setdefault("last_minute", None)
    daily.setdefault("last_visit", None)
    daily.setdefault("last_use", {})
    window = settings.first_use_window_days
    for learner in ("first_use", "getting_up", "day_begun"):
        routine.setdefault(learner, FirstUse(window).to_state()).setdefault("recent", [])
    first_use = routine.pop("todays_first_use")
    moving = int(routine.pop("todays_moving_minutes", 0))
    routine["mornings"] = {
        "first_use": routine.pop("first_use"),
        "getting_up": routine.pop("getting_up"),
        "day_begun": routine.pop("day_begun"),
        "first_use_today": first_use,
        "up_today": routine.pop("todays_up", None),
        "moving_minutes": moving,
        "last_moving_minute": int(routine.pop("last_moving_minute", -1)),
        "start_unseen": bool(routine.pop("todays_start_unseen", False)),
        "seen": bool(routine.pop("todays_morning_seen", first_use is not None or moving > 0)),
    }
    doors = household.outside_doors()
    last_sensor = routine["last_activity_sensor"]
    presence = {
        # Kept from version 2: the coincidences that make visitors start again after a load.
        "last_motion_by_room": {},
        "coincidences": [],
        "visitors_until": routine.pop("visitors_until", None),
        "door_with_visitors": bool(routine.pop("door_with_visitors", False)),
        "last_door_at": routine.pop("last_door_at", None),
        "last_door_sensor": routine.pop("last_door_sensor", None),
        # Saved before doors were kept apart: the last sign of life was the door, or was not.
        "door_room_only": bool(routine.pop("door_room_only", last_sensor in doors)),
    }
    if presence["last_door_at"] is None and last_sensor in doors:
        presence["last_door_at"] = routine["last_activity_at"]
        presence["last_door_sensor"] = last_sensor
    routine["presence"] = presence
    routine.setdefault("watch_from", None)
    monitor["detectors"] = {"digest": {"checked": None, "reported": daily.pop("reported", {})}}
    for record in monitor.get("health", {}).values():
        record.setdefault("link_down", False)
    monitor.setdefault("health", {})
    monitor.setdefault("away_until", None)
    policy = doc["policy"]
    policy.setdefault("paused_until", None)
    policy.setdefault("silence_alerted", None)
    doc["version"] = STATE_VERSION
    return doc
