"""A peer for ``hearth eval``: river's Half-Space Trees on hourly features, as a general-purpose
streaming anomaly detector would be set up on a smart home's events.

Every local hour it describes the hour just past (signs of life per kind of room, minutes since
the last one, the hour of day and whether it is a weekend), scores it, then learns it. Its
alert threshold is the highest score seen over the learning days, so it alerts on hours less
usual than any of those; its daily score (for the ``Agitation`` ROC-AUC) is the day's highest
hourly score.

Evaluation only: importing river costs about 110 MiB and 2 s, which the agent on a Pi cannot
spare, so nothing in the live agent imports this module.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Hashable
from datetime import date, datetime, timedelta
from typing import Any

from agent.config import household_of
from agent.config.schema import HearthConfig
from models.alert_policy import Alert, AlertPolicy
from models.events import SensorEvent
from models.finding import Finding
from models.local_time import day_type, local_date, not_after

GROUPS = ("bathroom", "bedroom", "kitchen", "lounge", "hallway", "door", "appliance")
ROLE_GROUP = {
    "bathroom": "bathroom",
    "bedroom": "bedroom",
    "kitchen": "kitchen",
    "lounge": "lounge",
    "hallway": "hallway",
    "room": "lounge",
    "front_door": "door",
    "back_door": "door",
    "kettle": "appliance",
    "fridge": "appliance",
    "microwave": "appliance",
    "appliance": "appliance",
}
MOST_PER_HOUR = 60.0
LONGEST_QUIET_MIN = 12 * 60.0


class HalfSpaceTreesContender:
    name = "half_space_trees"
    has_digest = False

    def __init__(self, cfg: HearthConfig, seed: int = 7) -> None:
        from river import anomaly  # evaluation only: see the module docstring

        self.household = household_of(cfg)
        self.learning = timedelta(days=cfg.learning.days)
        limits: dict[Hashable, tuple[float, float]] = {
            f"n_{g}": (0.0, MOST_PER_HOUR) for g in GROUPS
        }
        limits |= {
            "quiet_min": (0.0, LONGEST_QUIET_MIN),
            "hour_sin": (-1.0, 1.0),
            "hour_cos": (-1.0, 1.0),
            "weekend": (0.0, 1.0),
        }
        self.model: Any = anomaly.HalfSpaceTrees(
            n_trees=25, height=8, window_size=24 * 7, limits=limits, seed=seed
        )
        self.policy = AlertPolicy(cfg.household.id)
        self.counts = dict.fromkeys(GROUPS, 0)
        self.last_activity: datetime | None = None
        self.first_at: datetime | None = None
        self.hour: datetime | None = None
        self.threshold = 0.0
        self.day_scores: dict[date, float] = {}

    def observe(self, event: SensorEvent) -> None:
        info = self.household.sensor(event.sensor)
        if info is None or not event.is_activity:
            return
        self.counts[ROLE_GROUP.get(info.role, "lounge")] += 1
        self.last_activity = event.at
        if self.first_at is None:
            self.first_at = event.at

    def next_due(self, now: datetime) -> datetime | None:
        """Each hour is scored once, as the next begins."""
        if self.hour is None:
            return now
        return not_after(self.hour + timedelta(hours=1), now, self.household.tz)

    def tick(self, now: datetime) -> list[Alert]:
        tz = self.household.tz
        hour = now.astimezone(tz).replace(minute=0, second=0, microsecond=0)
        if self.hour is None:
            self.hour = hour
            return []
        if hour <= self.hour:
            return []
        self.hour = hour
        if self.first_at is None or self.last_activity is None:
            return []
        quiet = min((now - self.last_activity).total_seconds() / 60, LONGEST_QUIET_MIN)
        angle = 2 * math.pi * (hour.hour + 0.5) / 24
        x = {f"n_{g}": float(min(n, MOST_PER_HOUR)) for g, n in self.counts.items()}
        x |= {
            "quiet_min": quiet,
            "hour_sin": math.sin(angle),
            "hour_cos": math.cos(angle),
            "weekend": 1.0 if day_type(hour.date()) == "weekend" else 0.0,
        }
        self.counts = dict.fromkeys(GROUPS, 0)
        score = float(self.model.score_one(x))
        self.model.learn_one(x)
        day = local_date(now - timedelta(minutes=1), tz)
        self.day_scores[day] = max(self.day_scores.get(day, 0.0), score)
        if now - self.first_at < self.learning:
            self.threshold = max(self.threshold, score)
            return []
        if score <= self.threshold:
            return []
        finding = Finding(
            type="anomaly",
            severity="urgent",
            started_at=now - timedelta(hours=1),
            detected_at=now,
            summary=f"Unusual hour (Half-Space Trees score {score:.2f} over {self.threshold:.2f}).",
            episode=f"anomaly:{hour.isoformat()}",
            evidence={"score": round(score, 3), "threshold": round(self.threshold, 3)},
        )
        alert = self.policy.decide(finding)
        return [alert] if alert is not None else []

    def daily_scores(self) -> dict[date, float] | None:
        return dict(self.day_scores)

    def snapshot(self) -> object:
        return copy.deepcopy(self.__dict__)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, dict)
        self.__dict__.update(copy.deepcopy(snapshot))
