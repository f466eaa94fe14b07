"""The recipients in the household's YAML: who the resident agreed may be told, of which
alerts, in how much detail, on which topic and broker (``agent.delivery.rendering.deliveries``
sends only that)."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agent.config.brokers import UpstreamConfig
from agent.config.durations import Duration
from agent.config.strict import Strict
from models.finding import ALERT_TYPES, Severity


class FhirRecord(Strict):
    """A shared care record that takes FHIR R4 (``agent.delivery.fhir``): which of its
    patients the resident is, by its own id or by NHS number (one of the two)."""

    patient: str | None = Field(
        None,
        title="Patient",
        description="The resident's Patient in that record, as Patient/<id>.",
    )
    nhs_number: str | None = Field(
        None,
        title="NHS number",
        description="Else the resident's NHS number: ten digits, checked as the NHS checks them.",
    )

    @field_validator("patient")
    @classmethod
    def _a_patient(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"Patient/[A-Za-z0-9.-]{1,64}", v, re.ASCII):
            raise ValueError(
                f"{v!r} is not a Patient reference: Patient/ then the record's id (letters,"
                " digits, - and ., at most 64)"
            )
        return v

    @field_validator("nhs_number", mode="before")
    @classmethod
    def _an_nhs_number(cls, v: object) -> str | None:
        if v is None:
            return v
        if not isinstance(v, str):
            raise ValueError('write the NHS number in quotes, as text: nhs_number: "943 476 5919"')
        digits = v.replace(" ", "")
        if not re.fullmatch(r"[0-9]{10}", digits):
            raise ValueError(f"{v!r} is not an NHS number: ten digits 0-9 (spaces allowed)")
        if _nhs_check_digit(digits[:9]) != int(digits[9]):
            raise ValueError(f"{v!r} is not an NHS number: its check digit is wrong (a typo?)")
        return digits

    @model_validator(mode="after")
    def _one_of_the_two(self) -> FhirRecord:
        if (self.patient is None) == (self.nhs_number is None):
            raise ValueError("name the resident by one of patient: or nhs_number:, not both")
        return self

    def as_patient(self) -> dict[str, str]:
        if self.patient is not None:
            return {"reference": self.patient}
        return {"nhs_number": str(self.nhs_number)}


def _nhs_check_digit(nine: str) -> int:
    """The NHS number's modulus-11 check digit; 10 when no valid number begins with ``nine``.

    >>> _nhs_check_digit("943476591")
    9
    """
    left = 11 - sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    return 0 if left == 11 else left


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

    upstream: UpstreamConfig | None = Field(
        None,
        title="Own broker",
        description=(
            "Their alerts go to this broker of their own (a GP practice's, say), not the care"
            " team's: to <topic>/alerts/<type> there, else <its topic_prefix>/<household>/"
            "alerts/<type>, with Hearth's status beside them. Over TLS, as the care team's."
        ),
    )

    fhir: FhirRecord | None = Field(
        None,
        title="FHIR R4",
        description=(
            "Their alerts leave as FHIR R4 (a transaction Bundle: a UK Core Flag, an"
            " Observation for each piece of evidence, the hub as Device, a Communication), not"
            " Hearth's JSON: for a shared care record. Give them a topic or broker of their own."
        ),
    )

    @property
    def broker(self) -> str:
        """Which broker they read: '' the care team's (``upstream``), else their own (by name)."""
        return "" if self.upstream is None else self.name

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


class AlertsConfig(Strict):
    recipients: list[Recipient] = Field(
        default_factory=list, title="Recipients", description="Who receives which alerts."
    )
    cooldown: dict[str, Duration] = Field(
        default_factory=dict,
        title="Cooldown per alert type",
        description="Raise an alert type at most once in this long, e.g. inactivity: 2h.",
    )
    console: bool = Field(True, title="Console", description="Also print alerts to the log.")
    longest_snooze: Duration = Field(
        timedelta(hours=2),
        title="Longest snooze",
        description=(
            "The longest a carer's snooze may hold back alerts of one type (10min to 12h);"
            " each is told to every recipient told of the resident."
        ),
    )

    @field_validator("longest_snooze")
    @classmethod
    def _short(cls, v: timedelta) -> timedelta:
        if not timedelta(minutes=10) <= v <= timedelta(hours=12):
            raise ValueError("between 10min and 12h: a snooze must end soon")
        return v

    @field_validator("recipients")
    @classmethod
    def _one_consent_a_topic(cls, v: list[Recipient]) -> list[Recipient]:
        """Everyone who reads a topic reads all that is sent there: so recipients sharing one
        must have agreed to the same (else one reads what only another agreed to)."""
        names = [r.name for r in v]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"{name!r} is named twice: each recipient has a name of its own")
        first: dict[tuple[str, str | None], Recipient] = {}
        own: dict[tuple[str, int], Recipient] = {}
        for r in v:
            if r.upstream is not None:
                other = own.setdefault((r.upstream.host, r.upstream.port), r)
                if other is not r:
                    raise ValueError(
                        f"{other.name!r} and {r.name!r} both have {r.upstream.host}:"
                        f"{r.upstream.port} as a broker of their own: one recipient a broker"
                        " (give the other a topic of its own on the care team's broker, or"
                        " name them as one recipient)"
                    )
            other = first.setdefault((r.broker, r.topic), r)
            if other.fhir != r.fhir:
                where = "the household's topic" if r.topic is None else f"topic {r.topic}"
                raise ValueError(
                    f"{other.name!r} and {r.name!r} read {where}, but in different formats"
                    " (fhir:), or about different patients: give one a topic: of its own"
                )
            if (other.severities, other.types, other.detail) != (r.severities, r.types, r.detail):
                where = "the household's topic" if r.topic is None else f"topic {r.topic}"
                raise ValueError(
                    f"{other.name!r} and {r.name!r} read {where} but agreed to different"
                    " alerts or detail: each would read what only the other agreed to; give"
                    " one a topic: of its own"
                )
        return v
