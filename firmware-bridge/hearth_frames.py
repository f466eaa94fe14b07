# Hearth bridge protocol v1: the frame encoder, as the bridge firmware runs it.
# Plain Python that MicroPython and CPython both run; see PROTOCOL.md. Checked byte for byte
# against golden_frames.json in a real MicroPython interpreter by the hub's tests.

VERSION = 1
SEQ_MOD = 65536
UPTIME_MOD = 4294967296


def crc16_ccitt(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    return crc


def encode(seq, uptime_ms, kind, fields):
    parts = [str(VERSION), str(seq % SEQ_MOD), str(uptime_ms % UPTIME_MOD), kind]
    parts.extend(fields)
    body = ",".join(parts)
    return "$" + body + "*" + "%04X" % crc16_ccitt(body.encode()) + "\n"


def watts_text(watts):
    # At most one decimal place, no exponent: "2150.5", "0".
    tenths = int(watts * 10 + 0.5)
    if tenths % 10 == 0:
        return str(tenths // 10)
    return str(tenths // 10) + "." + str(tenths % 10)


class Sender:
    """Numbers frames and remembers when the last one went, for the heartbeat."""

    def __init__(self, write):
        self.write = write
        self.seq = 0
        self.last_sent_ms = None

    def send(self, uptime_ms, kind, fields):
        self.write(encode(self.seq, uptime_ms, kind, fields))
        self.seq = (self.seq + 1) % SEQ_MOD
        self.last_sent_ms = uptime_ms

    def hello(self, uptime_ms, firmware, sensors):
        self.send(uptime_ms, "H", [firmware, ";".join(s + ":" + k for s, k in sensors)])

    def reading(self, uptime_ms, sensor, kind, value):
        text = watts_text(value) if kind == "power" else ("1" if value else "0")
        self.send(uptime_ms, "R", [sensor, kind, text])

    def heartbeat(self, uptime_ms):
        self.send(uptime_ms, "B", [])
