"""The recipients in the household's YAML: who the resident agreed may be told, of which
alerts, in how much detail, on which topic (``agent.delivery.rendering.deliveries`` sends
only that)."""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import Field, field_validator

from agent.config.strict import Strict
from models.finding import ALERT_TYPES, Severity


def _urgent_and_warning() -> list[Severity]:
    return ["urgent", "warning"]


class Recipient(Strict):
    """Someone the resident agreed may be told: of which alerts, in how much detail, where.
    An alert no recipient agreed to is not sent."""

    name: str = Field(title="Name", description="Who, as the care team knows them.", min_length=1)
    severities: list[Severity] = Field(
        default_factory=_urgent_and_warning,
        title="Severities",
        description="Which alerts they receive.",
    )
    types: list[str] | None = Field(
        None,
        title="Alert types",
        description="Only these types of those severities (default: every type).",
    )
    detail: Literal["summary", "evidence"] = Field(
        "summary",
        title="Detail",
        description="summary: the alert's words only; evidence: with what the detector saw.",
    )
    topic: str | None = Field(
        None,
        title="Own topic",
        description=(
            "Their alerts go to <topic>/alerts/<type> on the care team's broker, apart from"
            " the others' (default: the household's <prefix>/<household>/alerts/<type>,"
            " shared with every recipient without a topic of their own)."
        ),
    )

    @field_validator("types")
    @classmethod
    def _known_types(cls, v: list[str] | None) -> list[str] | None:
        for t in v or []:
            if t not in ALERT_TYPES:
                close = difflib.get_close_matches(t, ALERT_TYPES, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown alert type {t!r}{hint}; known: {', '.join(ALERT_TYPES)}")
        return v

    @field_validator("topic")
    @classmethod
    def _a_topic(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*", v):
            raise ValueError(f"{v!r} is not a topic: levels of letters, digits, _ . -, joined by /")
        return v
