"""The check-in before the call (``models.check_in``), as the household's YAML sets it: off
unless turned on, and only where a home broker can carry the question to the resident."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from agent.config.durations import Duration
from agent.config.strict import Strict
from models.check_in import ASKED_ABOUT, CheckInSettings


def _asked_about() -> list[str]:
    return list(ASKED_ABOUT)


class CheckInConfig(Strict):
    """Before the carers are alerted to a stillness or a missed morning, ask the resident on
    the home broker (hearth/<household>/check_in) and wait a few minutes for an answer: a
    press of the button (hearth/<household>/control/fine) or any movement indoors."""

    enabled: bool = Field(False, title="Enabled", description="Ask before alerting the carers.")
    wait: Duration = Field(
        timedelta(minutes=5),
        title="Wait",
        description="How long to wait for an answer before the alert goes (1min to 15min).",
    )
    recheck: Duration = Field(
        timedelta(hours=1),
        title="Recheck",
        description=(
            "An answer holds the alert back this long (10min to 4h); if the stillness or late"
            " morning is still found after it, the alert goes without asking again."
        ),
    )
    types: list[str] = Field(
        default_factory=_asked_about,
        title="Alert types",
        description="Which alerts are asked about first: inactivity, missed_morning.",
        min_length=1,
    )

    @field_validator("wait")
    @classmethod
    def _minutes(cls, v: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= v <= timedelta(minutes=15):
            raise ValueError("between 1min and 15min: every minute waited is a minute later")
        return v

    @field_validator("recheck")
    @classmethod
    def _hours(cls, v: timedelta) -> timedelta:
        if not timedelta(minutes=10) <= v <= timedelta(hours=4):
            raise ValueError("between 10min and 4h: an answer says she is all right now only")
        return v

    @field_validator("types")
    @classmethod
    def _asked(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in ASKED_ABOUT]
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: only {', '.join(ASKED_ABOUT)} are asked about")
        return v

    def settings(self, long_lie: timedelta) -> CheckInSettings:
        return CheckInSettings(self.enabled, self.wait, self.recheck, tuple(self.types), long_lie)
