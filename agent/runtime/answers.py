"""The carers' answers to alerts, as the agent takes them (``models.carers_answers``): from a
recipient the household's YAML names, on the broker that recipient reads, about an alert this
hub sent them; recorded in the audit beside what left (``hearth audit``, ``hearth status``);
and an episode they say was ordinary is learned after all. Anything else is a counted and
logged drop, said why: never a stop of the link that brought it."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.config.durations import parse_duration
from agent.delivery.rendering import brokers
from agent.errors import StoreError
from agent.sources.control import Command
from agent.store import Store, record_left
from models.carers_answers import SAID, AnswerError, parse_answer
from models.detectors.wording import duration_text
from models.tightening import place_of_alert

if TYPE_CHECKING:
    from agent.runtime.agent import Agent

log = logging.getLogger("hearth.answers")

# What the audit (kept a year) holds on one kind of topic with one value at a JSON path: the
# alerts as they left (not a status, not one withheld), or the answers taken.
AUDITED = (
    "SELECT payload FROM audit WHERE topic LIKE ? AND CASE WHEN json_valid(payload)"
    " THEN json_extract(payload, ?) END = ? ORDER BY at"
)


async def _audited(store: Store, topics: str, path: str, value: str) -> list[dict[str, Any]]:
    try:
        async with store.db.execute(AUDITED, (f"%/{topics}/%", path, value)) as cur:
            rows = await cur.fetchall()
    except Exception as exc:  # sqlite3.Error, as the store's own reads
        raise StoreError(f"cannot read the audit: {exc}") from exc
    return [json.loads(r[0]) for r in rows]


async def alert_told(store: Store, alert_id: str, to: str) -> dict[str, Any] | None:
    """The alert ``alert_id`` as this hub sent it to recipient ``to``, or None if it did not."""
    docs = await _audited(store, "alerts", "$.id", alert_id)
    return next((d for d in docs if to in (d.get("recipients") or [])), None)


async def _already(store: Store, episode: str, said: dict[str, str]) -> bool:
    """The same answer, by the same carer, to the same episode, taken before (sent twice, or
    given again by the broker after a restart): not taken again, nor taught twice."""
    keys = ("answer", "by", "note", "for")
    taken = await _audited(store, "answers", "$.episode_alert", episode)
    return any(all(doc.get(k, "") == said.get(k, "") for k in keys) for doc in taken)


def _snooze_until(agent: Agent, how_long: str, now: datetime) -> datetime:
    try:
        wait = parse_duration(how_long)
    except ValueError as exc:
        raise AnswerError(f"snooze for {how_long!r}: {exc}") from None
    most = agent.cfg.alerts.longest_snooze
    if not timedelta(0) < wait <= most:
        raise AnswerError(
            f"snooze for {how_long}: at most {duration_text(most.total_seconds())}"
            " (alerts.longest_snooze in the household's YAML); nothing snoozed"
        )
    return now + wait


async def take_answer(
    agent: Agent, broker: str, topic: str, payload: bytes, retained: bool = False
) -> None:
    """One message on a broker's answers topic (``Upstream.on_answer``)."""
    try:
        if retained:
            raise AnswerError(
                f"{topic}: a retained answer is not taken (the broker would give it again at"
                " every reconnect): publish answers without retain"
            )
        await _take(agent, broker, topic, payload)
    except (AnswerError, StoreError) as exc:
        agent.dropped.count("bad_answer", str(exc))
    except Exception as exc:  # one answer lost, said why; the link and the watching go on
        log.exception("an answer on %s could not be taken", topic)
        agent.dropped.count("bad_answer", f"{type(exc).__name__}: {exc}")


async def _take(agent: Agent, broker: str, topic: str, payload: bytes) -> None:
    cfg = agent.cfg
    prefix = brokers(cfg)[broker].topic_prefix
    answer = parse_answer(topic, payload, prefix, cfg.household.id)
    who = next((r for r in cfg.alerts.recipients if r.name == answer.by), None)
    if who is None or who.broker != broker:
        where = "the care team's broker" if broker == "" else f"{broker}'s own broker"
        raise AnswerError(f"{answer.by!r} is not a recipient who reads {where}: answer ignored")
    told = await alert_told(agent.store, answer.alert_id, answer.by)
    if told is None:
        raise AnswerError(f"no alert {answer.alert_id} was sent to {answer.by!r} from this hub")
    episode = str(told.get("ends") or answer.alert_id)  # an end's answer is its alert's
    if await _already(agent.store, episode, answer.to_json()):
        log.info("answer from %s to alert %s already taken: once is enough", answer.by, episode)
        return
    now = agent.clock.now()
    if answer.answer == "snooze" and (
        told.get("type") == "household_control" or told.get("severity") == "technical"
    ):
        raise AnswerError(
            f"{told.get('type')} alerts cannot be snoozed: only those about the resident"
            " (the household's changes and the technician's alerts are always told)"
        )
    until = _snooze_until(agent, answer.for_, now) if answer.answer == "snooze" else None
    record = answer.to_json() | {
        "episode_alert": episode,
        "type": told.get("type"),
        "severity": told.get("severity"),
        "detected_at": told.get("detected_at"),
    }
    text = json.dumps(record, ensure_ascii=False)
    try:
        await record_left(agent.store, now, topic, text, broker)
    except StoreError as exc:  # a full disk: kept, and recorded once it can be
        agent.upstream.unaudited.append((now, topic, text, broker))
        log.warning("answer from %s kept in memory, not yet in the audit: %s", answer.by, exc)
    said = f"{answer.by} answered alert {episode} ({told.get('type')}): {SAID[answer.answer]}"
    if until is not None:
        agent.pipeline.snooze(str(told.get("type")), until, answer.by, now)
        agent.heard.set()  # told to everyone at the next look
        said += f" until {until.isoformat()}"
    if answer.learned:
        said += "; " + agent.pipeline.command(Command("ordinary", None, episode), now)
        place = place_of_alert(told, agent.pipeline.household.tz)
        if place is not None:
            agent.pipeline.tighten(place, now, episode)
            said += f"; {place.words()} waits longer"
        agent.save_soon = True
    log.warning("%s", said)
