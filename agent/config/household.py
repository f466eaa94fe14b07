"""The household's own section of the YAML: its id, its time zone, and the name its carers'
alerts give its home."""

from __future__ import annotations

import difflib
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field

from agent.config.strict import Strict
from models.what_to_do import HOME_NAME_MOST

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
        hint = (
            f" (did you mean {close[0]!r}?)" if close else " (an IANA name such as Europe/London)"
        )
        raise ValueError(f"unknown time zone {name!r}{hint}") from None
    return name


TimeZoneName = Annotated[str, AfterValidator(_known_time_zone)]


class HouseholdSection(Strict):
    id: Identifier = Field(
        title="Household id",
        description="Short id used in upstream topics (hearth/<id>/...). No personal details.",
    )
    timezone: TimeZoneName = Field(
        title="Time zone",
        description="IANA time zone of the home, e.g. Europe/London. Routines are learned in it.",
    )
    display_name: str | None = Field(
        None,
        title="Home's name in alerts",
        description="How the carers' alerts name this home, first on their title line, e.g."
        ' "Margaret\'s home" or "Flat 3". The household chooses it: it leaves the home'
        " with every alert, so no more than carers need (a first name, not an address)."
        " Default: the household id.",
        min_length=1,
        max_length=HOME_NAME_MOST,
    )
