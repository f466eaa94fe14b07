"""A household command (``agent.sources.control``) applied to the pipeline: away, home, pause,
resume, the resident's answer to a check-in, and an alert that was about something ordinary."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from agent.errors import ControlError
from agent.sources.control import Command
from models.detectors.wording import duration_text
from models.household_changes import CHANGES, household_change

if TYPE_CHECKING:
    from agent.pipeline import Pipeline


def apply_command(pipeline: Pipeline, cmd: Command, now: datetime) -> str:
    """Apply a household command; returns what was done, for the log. A change to what is
    watched is told to the care team at the next tick; one longer than the YAML allows
    (``controls``) is a ``ControlError``, and nothing changes."""
    tz = pipeline.household.tz
    longest = {
        "pause": pipeline.cfg.controls.longest_pause,
        "away": pipeline.cfg.controls.longest_away,
    }
    most = longest.get(cmd.name)
    if cmd.until is not None and most is not None and cmd.until - now > most:
        raise ControlError(
            f"{cmd.name} may last at most {duration_text(most.total_seconds())}"
            f" (controls.longest_{cmd.name} in the YAML); nothing changed"
        )
    if cmd.name in CHANGES:
        pipeline.told.append(household_change(cmd.name, cmd.until, now, tz))
        pipeline.quiet_from = now if cmd.name in ("pause", "away") else pipeline.quiet_from
    until = "" if cmd.until is None else f" until {cmd.until.astimezone(tz):%a %d %b %H:%M}"
    if cmd.name == "away":
        pipeline.monitor.set_away(now, cmd.until)
        return f"away mode{until}: no alerts about the resident, sensor checks go on"
    if cmd.name == "home":
        pipeline.monitor.set_away(now, None)
        return "home again: alerts on"
    if cmd.name == "pause":
        pipeline.policy.paused_until = cmd.until
        return f"paused by the resident{until}: no alerts to carers"
    if cmd.name == "fine":
        pipeline.check_ins.answered(now, "the resident's button")
        return (
            "fine: the resident answered the check-in"
            if pipeline.check_ins.asking
            else ("fine: no check-in was waiting for an answer")
        )
    if cmd.name == "ordinary":
        assert cmd.alert_id is not None
        learned = pipeline.monitor.ordinary(cmd.alert_id, now)
        if learned is None:
            return f"ordinary: no alert {cmd.alert_id} is held back from learning"
        return f"ordinary: alert {cmd.alert_id} was about something usual; learning {learned}"
    pipeline.policy.paused_until = None
    return "resumed: alerts on"
