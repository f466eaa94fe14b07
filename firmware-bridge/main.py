# Hearth bridge firmware for a Raspberry Pi Pico (RP2040), MicroPython.
#
# Reads door reed switches and PIR motion sensors on GPIO inputs, and a kettle's current through
# a clamp on the ADC, and writes Hearth bridge protocol v1 frames (PROTOCOL.md) to USB serial.
# Copy main.py and hearth_frames.py to the Pico (see the README's "Serial sensors").
#
# Edit SENSORS for the home: (id, kind, pin). Ids must match the hub's YAML `serial: {id: ...}`.

import sys
import time

import machine
from hearth_frames import Sender

FIRMWARE = "0.1.0"
SENSORS = [
    ("front_door", "contact", 2),  # reed switch to GND; the pull-up makes open = high
    ("back_door", "contact", 3),
    ("hall_pir", "motion", 6),  # PIR output, high while it sees movement
    ("kettle", "power", 26),  # current clamp on ADC0 (GP26), biased to mid-rail
]

DEBOUNCE_MS = 50  # a reed switch must hold its new state this long to count
HEARTBEAT_MS = 10_000
HELLO_EVERY_MS = 3_600_000
POWER_EVERY_MS = 60_000  # resend power at least this often while the kettle draws current

# Current clamp: SCT-013-030 (30 A : 1 V) read through a mid-rail bias on a 3.3 V ADC.
MAINS_VOLTS = 230.0
AMPS_PER_VOLT = 30.0
ADC_VOLTS = 3.3 / 65535
RMS_SAMPLES = 400  # 10 mains cycles at 50 Hz, sampled at 2 kHz
RMS_SAMPLE_US = 500


def _write(text):
    sys.stdout.write(text)


class Debounced:
    def __init__(self, pin, now):
        self.pin = pin
        self.stable = pin.value()
        self.candidate = self.stable
        self.since = now

    def update(self, now):
        """The new stable value when it changes, else None."""
        v = self.pin.value()
        if v != self.candidate:
            self.candidate = v
            self.since = now
        elif v != self.stable and time.ticks_diff(now, self.since) >= DEBOUNCE_MS:
            self.stable = v
            return v
        return None


def kettle_watts(adc):
    """Real power is not measured: apparent power from RMS current, which is what a kettle draws."""
    total = 0
    total_sq = 0
    for _ in range(RMS_SAMPLES):
        s = adc.read_u16()
        total += s
        total_sq += s * s
        time.sleep_us(RMS_SAMPLE_US)
    mean = total / RMS_SAMPLES
    variance = max(total_sq / RMS_SAMPLES - mean * mean, 0)
    amps = (variance**0.5) * ADC_VOLTS * AMPS_PER_VOLT
    return amps * MAINS_VOLTS


def main():
    sender = Sender(_write)
    now = time.ticks_ms()
    inputs = []
    clamps = []
    for sensor_id, kind, pin_no in SENSORS:
        if kind == "power":
            clamps.append([sensor_id, machine.ADC(pin_no), 0.0, now])
        else:
            pull = machine.Pin.PULL_UP if kind == "contact" else machine.Pin.PULL_DOWN
            pin = machine.Pin(pin_no, machine.Pin.IN, pull)
            inputs.append((sensor_id, kind, Debounced(pin, now)))
    sensors = [(s, k) for s, k, _ in SENSORS]
    sender.hello(now, FIRMWARE, sensors)
    last_hello = now
    for sensor_id, kind, d in inputs:
        sender.reading(now, sensor_id, kind, d.stable)
    wdt = machine.WDT(timeout=8000)
    while True:
        wdt.feed()
        now = time.ticks_ms()
        for sensor_id, kind, d in inputs:
            changed = d.update(now)
            if changed is not None:
                sender.reading(now, sensor_id, kind, changed)
        for clamp in clamps:
            sensor_id, adc, last_watts, last_at = clamp
            watts = kettle_watts(adc)
            now = time.ticks_ms()
            moved = abs(watts - last_watts) > max(20.0, 0.05 * last_watts)
            stale = watts > 20.0 and time.ticks_diff(now, last_at) >= POWER_EVERY_MS
            if moved or stale:
                sender.reading(now, sensor_id, "power", watts)
                clamp[2] = watts
                clamp[3] = now
        if time.ticks_diff(now, last_hello) >= HELLO_EVERY_MS:
            sender.hello(now, FIRMWARE, sensors)
            last_hello = now
        elif time.ticks_diff(now, sender.last_sent_ms) >= HEARTBEAT_MS:
            sender.heartbeat(now)
        time.sleep_ms(5)


main()
