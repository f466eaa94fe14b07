"""The check-in's link to the home (``models.check_in``): each question, answer and outcome is
published on the home broker, ``hearth/<household>/check_in``, for the device that asks the
resident (a button's LED, a speaker, a tablet), and kept in the audit. A question that cannot
reach the resident (no home broker connected) is not waited for: the alert goes at once."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.errors import StoreError
from agent.store import record_left

if TYPE_CHECKING:
    from agent.runtime.agent import Agent

log = logging.getLogger("hearth.check_in")

QUESTION = "Are you all right? Press your button, or move about, to say so."


def check_in_topic(household: str) -> str:
    return f"hearth/{household}/check_in"


async def pass_on(agent: Agent, now: datetime) -> None:
    """What the check-ins asked or settled since the last look: to the home, and the audit."""
    c = agent.pipeline.check_ins
    if not (c.questions or c.records):
        return
    topic = check_in_topic(agent.cfg.household.id)
    questions, c.questions = c.questions, []
    for q in questions:
        doc: dict[str, Any] = {"state": "asking", "question": QUESTION, "episode": q["episode"],
                               "type": q["type"], "asked_at": q["asked_at"].isoformat(),
                               "answer_by": q["answer_by"].isoformat()}  # fmt: skip
        if agent.home is None or not await agent.home.ask(topic, json.dumps(doc).encode()):
            c.unreachable(now)
            log.warning("check-in: the home broker cannot carry the question; no wait")
    records, c.records = c.records, []
    for r in records:
        text = json.dumps(r, ensure_ascii=False)
        if agent.home is not None and r["check_in"] != "asked":
            await agent.home.ask(topic, json.dumps({"state": r["check_in"], **r}).encode())
        log.warning("check-in (%s): %s", r["type"], r["check_in"])
        try:
            await record_left(agent.store, now, topic, text)
        except StoreError as exc:  # a full disk: kept, and recorded once it can be
            agent.upstream.unaudited.append((now, topic, text, ""))
            log.warning("check-in not yet in the audit: %s", exc)
