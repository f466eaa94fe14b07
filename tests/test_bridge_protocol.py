"""The bridge protocol: golden frames, resynchronisation, and fuzzing with arbitrary bytes."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from agent.sources.bridge_protocol import (
    Frame,
    FrameReader,
    LinkTracker,
    crc16_ccitt,
    encode_frame,
    parse_reading,
)
from tests.conftest import ROOT

GOLDEN = json.loads((ROOT / "firmware-bridge" / "golden_frames.json").read_text())["frames"]


def test_crc_is_ccitt_false() -> None:
    # The catalogue check value of CRC-16/CCITT-FALSE.
    assert crc16_ccitt(b"123456789") == 0x29B1


def test_golden_frames_encode_and_decode() -> None:
    reader = FrameReader()
    for case in GOLDEN:
        assert (
            encode_frame(case["seq"], case["uptime_ms"], case["kind"], case["fields"]).decode()
            == case["frame"]
        )
        (frame,) = reader.feed(case["frame"].encode())
        assert (frame.seq, frame.uptime_ms, frame.type, list(frame.fields)) == (
            case["seq"],
            case["uptime_ms"],
            case["kind"],
            case["fields"],
        )
    assert reader.problems == {}


def test_noise_truncation_bad_crc_and_versions_are_counted() -> None:
    good = encode_frame(1, 100, "R", ["door", "contact", "1"])
    bad_crc = good[:-5] + b"0000\n"
    assert bad_crc != good
    v2_body = b"2,1,100,R,door,contact,1"
    unknown_body = b"1,2,3,X"
    reader = FrameReader()
    lines = [
        b"\x00\xff garbage\n",  # no frame at all
        good[:15] + b"\n",  # cut short: no checksum
        bad_crc,
        b"$" + v2_body + b"*" + f"{crc16_ccitt(v2_body):04X}".encode() + b"\n",
        b"$" + unknown_body + b"*" + f"{crc16_ccitt(unknown_body):04X}".encode() + b"\n",
        b"$" + b"1" * 200 + b"\n",  # longer than any frame
        b"noise before " + good,  # garbage, then a good frame on the same line
    ]
    frames = [f for line in lines for f in reader.feed(line)]
    assert reader.feed(b"y" * 400) == []  # no end of line in sight
    frames += reader.feed(good)
    assert [f.fields for f in frames] == [("door", "contact", "1")] * 2
    assert reader.problems == {
        "garbage": 2,
        "malformed": 1,
        "bad_crc": 1,
        "wrong_version": 1,
        "unknown_type": 1,
        "too_long": 2,
    }


def test_frames_split_across_reads_are_joined() -> None:
    reader = FrameReader()
    data = encode_frame(5, 10, "B", []) + encode_frame(6, 11, "R", ["kettle", "power", "2150.5"])
    got = [f for i in range(len(data)) for f in reader.feed(data[i : i + 1])]
    assert [f.seq for f in got] == [5, 6]


@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_and_never_pass_a_bad_checksum(data: bytes) -> None:
    reader = FrameReader()
    frames = reader.feed(data) + reader.feed(b"\n")
    for f in frames:
        # Whatever is accepted is a frame whose checksum holds, present as such in the input.
        assert encode_frame(f.seq, f.uptime_ms, f.type, list(f.fields)).rstrip(b"\n") in data


FIELDS = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789_.-", min_size=1, max_size=12), max_size=4
)


@given(
    st.lists(
        st.tuples(
            st.binary(max_size=80),
            st.integers(0, 65535),
            st.integers(0, 2**32 - 1),
            st.sampled_from(["H", "R", "B"]),
            FIELDS,
        ),
        max_size=12,
    )
)
def test_every_frame_survives_any_noise_before_it(
    items: list[tuple[bytes, int, int, str, list[str]]],
) -> None:
    reader = FrameReader()
    got = []
    for noise, seq, uptime, type_, fields in items:
        got += reader.feed(noise + encode_frame(seq, uptime, type_, fields))
    assert [(f.seq, f.uptime_ms, f.type, list(f.fields)) for f in got] == [
        (seq, uptime, type_, fields) for _, seq, uptime, type_, fields in items
    ]


def test_readings_are_checked() -> None:
    assert parse_reading(Frame(1, 1, "R", ("pir", "motion", "1"))).value == 1.0
    for fields in [
        ("pir", "motion", "2"),
        ("pir", "smell", "1"),
        ("p r", "motion", "1"),
        ("kettle", "power", "-3"),
        ("kettle", "power", "nan"),
        ("kettle", "power"),
    ]:
        try:
            parse_reading(Frame(1, 1, "R", fields))
        except ValueError:
            continue
        raise AssertionError(f"accepted {fields}")


def frame(seq: int, uptime: int, type_: str = "B") -> Frame:
    return Frame(seq, uptime, type_, ())


def test_link_tracker_counts_gaps_duplicates_resets_and_wraps() -> None:
    t = LinkTracker()
    assert t.accept(frame(0, 10, "H"))
    assert t.accept(frame(1, 20))
    assert not t.accept(frame(1, 20))  # duplicate
    assert t.accept(frame(5, 30))  # 2, 3, 4 lost
    assert t.accept(frame(0, 5, "H"))  # restarted
    assert t.accept(frame(1, 2**32 - 10))
    assert t.accept(frame(2, 100))  # uptime wrapped, not a reset
    assert t.accept(frame(0, 200))  # jumps back without a hello
    assert (t.lost, t.duplicates, t.resets, t.out_of_sequence) == (3, 1, 1, 1)
    assert t.accept(frame(1, 150))  # uptime went back: the bridge restarted, hello lost
    assert t.resets == 2
    assert t.accept(frame(65535, 160))
    assert t.accept(frame(0, 170))
    assert t.out_of_sequence == 2
    assert t.lost == 3
