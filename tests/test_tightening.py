"""What the carers' false alarms teach (issue 18, ``models.tightening``): the detector waits
longer in that context (hour, room, day type), within limits that never silence it: only the
learned limit moves, at most twice for a stillness and an hour for a morning, the fixed limits
never, and an answer is forgotten after 60 days. Then the demo's fall replayed with a false
alarm taught at its place: later, but never past the long-lie limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from models.finding import Finding
from models.tightening import KEEP_DAYS, Place, Tightening, place_of
from tests.test_check_in import demo, events, first, replayed

UTC_ = ZoneInfo("UTC")
T = datetime(2026, 3, 25, 13, 38, tzinfo=UTC)  # a Wednesday


def stillness(
    minutes: float, basis: str = "learned", room: str = "lounge", at: datetime = T
) -> Finding:
    return Finding("inactivity", "urgent", at, at + timedelta(minutes=minutes), "Still.",
                   f"inactivity:{at.isoformat()}",
                   evidence={"quiet_minutes": minutes, "alert_after_minutes": 100.0,
                             "basis": basis, "last_activity_room": room})  # fmt: skip


def test_each_false_alarm_waits_half_the_limit_more_up_to_twice_it() -> None:
    t = Tightening()
    place = place_of(stillness(100), UTC_)
    t.long_lie = timedelta(hours=4)  # not reached here (see the next test)
    expected = {0: 100, 1: 150, 2: 200, 3: 200}
    for n, minutes in expected.items():
        t.answers = [(place, T)] * n
        due = t.due(stillness(100), UTC_)
        assert (due is None) == (n == 0)
        if due is not None:
            assert due == T + timedelta(minutes=minutes), n
        assert t.gate([stillness(minutes - 1)], T + timedelta(minutes=minutes - 1), UTC_) == (
            [] if n else [stillness(minutes - 1)]
        )
        assert t.gate([stillness(minutes)], T + timedelta(minutes=minutes), UTC_) == [
            stillness(minutes)
        ]


def test_the_fixed_limits_never_move() -> None:
    t = Tightening([(place_of(stillness(100), UTC_), T)] * 3)
    assert t.due(stillness(100), UTC_) == T + t.long_lie  # 200 min, but the long lie is 120
    for basis in ("long_lie", "safety_ceiling"):
        f = stillness(120, basis)
        assert t.gate([f], f.detected_at, UTC_) == [f]


def test_only_that_context_and_only_for_a_while() -> None:
    t = Tightening([(place_of(stillness(100), UTC_), T)])
    held = stillness(110)
    assert t.gate([held], held.detected_at, UTC_) == []
    for other in (
        stillness(110, room="kitchen"),  # another room
        stillness(110, at=T + timedelta(hours=3)),  # another hour
        stillness(110, at=T + timedelta(days=3)),
    ):  # the weekend
        assert t.gate([other], other.detected_at, UTC_) == [other]
    near = stillness(110, at=T + timedelta(minutes=50))  # within the hour either side
    assert t.gate([near], near.detected_at, UTC_) == []
    later = stillness(110, at=T + timedelta(days=KEEP_DAYS, minutes=1))
    assert t.gate([later], later.detected_at, UTC_) == [later]
    assert t.answers == []  # forgotten


def test_a_late_morning_waits_half_an_hour_more_at_most_an_hour() -> None:
    deadline = datetime(2026, 3, 25, 9, 37, tzinfo=UTC)
    late = Finding("missed_morning", "urgent", deadline, deadline, "No kettle.", "mm:1")
    t = Tightening([(place_of(late, UTC_), deadline)] * 5)
    assert t.due(late, UTC_) == deadline + timedelta(hours=1)
    assert t.words() == ["missed morning, around 09:00 (±1 h), on weekdays: waits longer after 5"
                         " false alarms"]  # fmt: skip
    again = Tightening.from_state(t.to_state())
    assert again.answers == t.answers


def test_the_demos_fall_taught_as_false_comes_later_but_by_the_long_lie() -> None:
    evs = events()
    cfg = demo(None)
    _, plain = replayed(cfg, evs)
    fall = first(plain, "inactivity")
    tz = ZoneInfo(cfg.household.timezone)
    since = datetime.fromisoformat(str(fall.evidence["last_activity_at"]))
    local = since.astimezone(tz)
    # A false alarm at this place a week before: this home's lounge, this hour, a weekend.
    place = Place("inactivity", local.hour, "lounge", local.weekday() >= 5)

    def teach(p: object, now: datetime) -> None:
        from agent.pipeline import Pipeline

        assert isinstance(p, Pipeline)
        if not p.tightening.answers and now >= since - timedelta(days=7):
            p.tighten(place, now)

    _, taught = replayed(cfg, evs, teach)
    again = first(taught, "inactivity")
    assert again.id == fall.id
    assert again.detected_at > fall.detected_at
    long_lie = cfg.detectors.inactivity.long_lie  # type: ignore[attr-defined]
    assert again.detected_at <= since + long_lie + timedelta(minutes=1)
    assert again.detected_at >= since + long_lie - timedelta(minutes=1)  # 1.5 x 109 min is past it


def test_a_door_at_night_waits_ten_minutes_more_at_most_twenty_past_when_first_found() -> None:
    door = datetime(2026, 3, 25, 3, 12, tzinfo=UTC)
    exit_ = Finding("night_exit", "urgent", door, door + timedelta(minutes=12), "Door.", "ne:1")
    t = Tightening([(place_of(exit_, UTC_), door)])
    first = door + timedelta(minutes=12)
    assert t.gate([exit_], first, UTC_) == []
    assert t.due(exit_, UTC_) == first + timedelta(minutes=10)
    assert t.gate([exit_], first + timedelta(minutes=10), UTC_) == [exit_]
    t.answers *= 5
    assert t.due(exit_, UTC_) == first + timedelta(minutes=20)
    fixed = Finding("not_returned", "urgent", door, first, "Out.", "nr:1",
                    evidence={"basis": "safety_ceiling"})  # fmt: skip
    t.answers.append((place_of(fixed, UTC_), door))
    assert t.gate([fixed], first, UTC_) == [fixed]  # a fixed limit: never held
