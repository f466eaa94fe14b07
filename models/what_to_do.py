"""What a carer reads first on a phone: a title line that fits one SMS (the home's name, then
what is unusual, where, since when and how unusual), and what to do about it.

>>> title("Margaret's home", "No movement at home since 13:38 (1 h 49 min).")
"Margaret's home: No movement at home since 13:38 (1 h 49 min)."
>>> suggested_action("battery_low")
'For the technician: replace the battery within a week; the sensor still works meanwhile.'
"""

from __future__ import annotations

# One SMS of GSM characters, the first line a phone's notification shows whole.
TITLE_MOST = 160
# The longest home name a household may choose: the rest of the title is what happened.
HOME_NAME_MOST = 40
HEADLINE_MOST = TITLE_MOST - HOME_NAME_MOST - len(": ")

# By type: what the carer or technician should do, in the order they should do it. Urgent ones
# say to ring first, since a call answered ends most of them, and what to do if no one answers.
ACTIONS: dict[str, str] = {
    "inactivity": "Ring now. If there is no answer, go round or send someone who can get in.",
    "missed_morning": "Ring this morning to check all is well; if there is no answer, go round.",
    "night_exit": "Ring now. If there is no answer, go round, and look outside near the home.",
    "not_returned": (
        "Ring now. If there is no answer, ask where they might have gone, then go round."
    ),
    "night_restlessness": "Ring now to check all is well, or first thing if that is agreed.",
    "digest": "Nothing to do now: talk it over at the next visit or call.",
    "weekly_summary": "Nothing to do: the week in a few lines; talk any change over at a call.",
    "monitoring_gap": (
        "Check in by phone today: until the sensor works these alerts cannot come."
        " Ask the technician to look at it."
    ),
    "household_control": "Nothing to do if this was expected; if not, ring to check.",
    "sensor_silent": "For the technician: check the sensor's battery and that the hub is in reach.",
    "sensor_offline": "For the technician: check the sensor's battery and its pairing.",
    "battery_low": (
        "For the technician: replace the battery within a week; the sensor still works meanwhile."
    ),
    "agent_fault": "For the technician: if it happens again, send Hearth's log to the Hearth team.",
    "storage_full": "For the technician: free space on the hub's disk today.",
}


# The end of an episode (``models.episode_ends``), whatever its type.
ENDED_ACTIONS = {
    "monitoring_gap": "Nothing to do: these alerts can come again.",
    "": "Nothing more to do unless you are still worried: then ring to hear how things are.",
}


def suggested_action(kind: str, ended: bool = False) -> str:
    """What to do about an alert of this type (``ACTIONS``), or about its end."""
    if ended:
        return ENDED_ACTIONS.get(kind, ENDED_ACTIONS[""])
    return ACTIONS[kind]


def first_sentence(text: str) -> str:
    """The first sentence of a summary: up to the first full stop followed by a space.

    >>> first_sentence("No kettle yet (09:37). Usually by 09:07.")
    'No kettle yet (09:37).'
    """
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def title(home: str, headline: str) -> str:
    """``home: headline``, cut at a word (with an ellipsis) if it would pass ``TITLE_MOST``
    characters; the headlines Hearth writes fit without (the tests show it).

    >>> len(title("h" * 40, "word " * 40)) <= TITLE_MOST
    True
    """
    line = f"{home}: {headline}"
    if len(line) <= TITLE_MOST:
        return line
    cut = line[: TITLE_MOST - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
