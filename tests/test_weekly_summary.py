"""The weekly summary (issue 18): off unless the YAML turns it on; then once a week, on its day
at its hour, the week's routine in a few lines and whether it was the usual, to those who
agreed to info alerts. A real routine fed the persona's weeks, and daily records with a change
written in."""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from agent.config import household_of, load_config_text
from agent.delivery.rendering import alert_payload
from agent.replay import replay
from agent.simulation.persona import DEMO_BAD_DAYS, Persona
from models.detectors.weekly_summary import WeeklySummary, WeeklySummarySettings
from models.routine import HouseholdRoutine
from models.routine.daily_record import DayRecord
from tests.conftest import CONFIG
from tests.published import assert_valid_alert
from tests.test_models import DEMO
from tests.test_trends import ordinary_days

SUNDAY = date(2025, 6, 1)
assert SUNDAY.weekday() == 6


def demo(weekly: dict[str, Any] | None) -> Any:
    doc = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
    if weekly is not None:
        doc.setdefault("detectors", {})["weekly_summary"] = weekly
    return load_config_text(yaml.safe_dump(doc))


def weeks_of(cfg: Any) -> list[dict[str, Any]]:
    persona = Persona(date(2026, 3, 2), ZoneInfo(cfg.household.timezone), seed=7)
    events = persona.events(42, DEMO_BAD_DAYS)  # a fall and a missed morning among them
    return [json.loads(alert_payload(cfg, a)) for a in replay(cfg, events).alerts]


def test_it_is_off_unless_the_yaml_turns_it_on() -> None:
    assert all(a["type"] != "weekly_summary" for a in weeks_of(demo(None)))


def test_on_it_says_each_week_on_its_day_at_its_hour_that_all_was_well() -> None:
    cfg = demo({"enabled": True, "weekday": 6, "hour": 18})
    weekly = [a for a in weeks_of(cfg) if a["type"] == "weekly_summary"]
    # Six weeks, the first two learning: a summary each Sunday from then on, one a week.
    assert len(weekly) >= 3, [a["detected_at"] for a in weekly]
    tz = ZoneInfo(cfg.household.timezone)
    for a in weekly:
        assert_valid_alert(a)
        at = datetime.fromisoformat(a["detected_at"]).astimezone(tz)
        assert (at.weekday(), at.hour) == (6, 18), at
        assert a["severity"] == "info"
        assert a["recipients"] == ["Home-care team"]  # agreed to info; the daughter did not
        assert len(a["title"]) <= 160
    days = [datetime.fromisoformat(a["detected_at"]).date() for a in weekly]
    assert all(b - a == timedelta(days=7) for a, b in pairwise(days))
    assert any(a["summary"].startswith("All well this week") for a in weekly)
    # A week in which the carers were alerted about her is never "all well".
    alerts = [a for a in weeks_of(cfg) if a["severity"] == "urgent" and a["phase"] == "raised"]
    for w in weekly:
        at = datetime.fromisoformat(w["detected_at"])
        week = (at - timedelta(days=7), at)
        alerted = [
            a for a in alerts if week[0] <= datetime.fromisoformat(a["detected_at"]) <= week[1]
        ]
        assert w["summary"].startswith("Not all well") == bool(alerted), (w["summary"], alerted)
    assert any(w["summary"].startswith("Not all well") for w in weekly)


def routine_with(days: list[DayRecord]) -> HouseholdRoutine:
    routine = HouseholdRoutine(household_of(DEMO))
    routine.daily.history = deque(days, maxlen=routine.daily.history.maxlen)
    return routine


def test_a_week_unlike_the_ones_before_says_what_changed() -> None:
    days = ordinary_days(35, 3, end=SUNDAY)
    for d in days[-7:]:
        d.active_minutes = int(d.active_minutes * 0.6)
    w = WeeklySummary(WeeklySummarySettings(weekday=6, hour=18))
    six = datetime(2025, 6, 1, 17, 0, tzinfo=UTC)  # 18:00 in London
    f = w.check(routine_with(days), six, learned=True)
    assert f is not None
    assert f.headline.startswith("This week, against the weeks before: less active by day")
    assert f.evidence["changes"] == ["less_active"]
    week = days[-7:]
    assert f.evidence["outings_count"] == sum(d.outings for d in week)
    assert f.evidence["active_minutes_a_day"] == round(sum(d.active_minutes for d in week) / 7)
    assert w.check(routine_with(days), six + timedelta(hours=1), learned=True) is None  # once


def test_not_before_its_hour_nor_on_another_day_nor_with_too_little_recorded() -> None:
    days = ordinary_days(35, 4, end=SUNDAY)
    w = WeeklySummary(WeeklySummarySettings(weekday=6, hour=18))
    assert w.check(routine_with(days), datetime(2025, 6, 1, 16, 0, tzinfo=UTC), True) is None
    assert w.next_due(routine_with(days), datetime(2025, 6, 1, 9, 0, tzinfo=UTC), True) == (
        datetime(2025, 6, 1, 17, 0, tzinfo=UTC)
    )
    assert w.check(routine_with(days), datetime(2025, 6, 2, 17, 0, tzinfo=UTC), True) is None
    assert w.next_due(routine_with(days), datetime(2025, 6, 2, 9, 0, tzinfo=UTC), True) is None
    gappy = days[:-4]  # the week's last four days missing: three recorded
    assert WeeklySummary().check(routine_with(gappy), datetime(2025, 6, 1, 17, 0, tzinfo=UTC),
                                 True) is None  # fmt: skip
    assert WeeklySummary().check(routine_with(days), datetime(2025, 6, 1, 17, 0, tzinfo=UTC),
                                 False) is None  # fmt: skip
    ok = WeeklySummary().check(routine_with(days), datetime(2025, 6, 1, 17, 0, tzinfo=UTC), True)
    assert ok is not None
    assert ok.summary.startswith("All well this week: up around")
