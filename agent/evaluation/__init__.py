"""``hearth eval``: detectors measured on real recorded homes with injected anomalies.

Each home is replayed once per contender (Hearth, fixed rules), saving the contender's state at
each local midnight. Its alerts in that ordinary replay, after the learning period, are false
alerts (the homes may hold real incidents too, so this errs against the detectors). Then, for a
spread of ordinary days, an anomaly is written into a copy of that day's real events, the day's
saved state is restored, and only that stretch is replayed: was the anomaly caught, how soon,
and what else was raised meanwhile?

Anomalies injected (local time):
- ``fall``: every event stops from an ordinary moment between 09:00 and 18:00 (a sign of life
  in a room, not a door) for 8 hours; caught by ``inactivity`` within those 8 hours, or by
  ``not_returned`` when that moment was just after an outside door (its alert reads "not back,
  or back and not moving");
- ``missed_morning``: nothing from the day's first activity after 05:00 until 11:30; caught by
  ``missed_morning`` or ``inactivity`` before 11:30, or by ``night_exit`` or ``not_returned``
  when the last sign of life before it was an outside door (then the morning looks like going
  out at dawn);
- ``night_exit``: an outside door opens between 03:00 and 04:00, then nothing until 07:30;
  caught by ``night_exit`` or ``not_returned`` before 07:30;
- ``not_returned``: from an ordinary moment between 09:00 and 17:00, an outside door opens and
  closes, then nothing for 12 hours (out and not back, or back and fallen in the hall); caught
  by ``not_returned`` or ``inactivity`` within those 12 hours.

Slow changes, caught by the daily ``digest`` naming the change, and injected only from 35 days
into a home's data (the digest compares a week with the four before it):
- ``bathroom_nights``: for 7 nights, two more bathroom visits a night (between 01:00 and 05:00);
  caught if a digest by noon the day after the seventh night says ``night_bathroom``;
- ``no_kitchen``: no kitchen appliance or fridge use for one day; caught if the next day's
  digest says ``no_kitchen``;
- ``thinning``: each sign of life dropped with a chance rising from 0 to a third over 14 days,
  then a third for 7 more; caught if a digest in those 21 days says ``less_active``.
The fixed-rules peer has no rule for these, so they are measured for Hearth only.

Whether the rarity Hearth's alerts state is true (:class:`RarityCheck`): in the ordinary
replay, every quiet spell and outing after learning is held against inactivity's and
not_returned's limits for their own budget and looser ones; a limit set for once in 30 days
should be crossed about once in 30 household-days.
"""

from agent.evaluation.contenders import (
    CONTENDERS,
    Contender,
    HearthContender,
    RulesContender,
    available_contenders,
)
from agent.evaluation.homes import (
    HomeResult,
    Outcome,
    evaluate_home,
    in_a_gap,
    injected_run,
    ordinary_run,
)
from agent.evaluation.injection import ANOMALIES, EXPECTED_TYPES, SLOW, Injection, inject
from agent.evaluation.rarity import CHECKED_BUDGETS, RarityCheck
from agent.evaluation.report import header, markdown, run_eval
from agent.evaluation.summary import Row, summarise, targets

__all__ = [
    "ANOMALIES",
    "CHECKED_BUDGETS",
    "CONTENDERS",
    "EXPECTED_TYPES",
    "SLOW",
    "Contender",
    "HearthContender",
    "HomeResult",
    "Injection",
    "Outcome",
    "RarityCheck",
    "Row",
    "RulesContender",
    "available_contenders",
    "evaluate_home",
    "header",
    "in_a_gap",
    "inject",
    "injected_run",
    "markdown",
    "ordinary_run",
    "run_eval",
    "summarise",
    "targets",
]
