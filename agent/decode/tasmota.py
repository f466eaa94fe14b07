"""Tasmota smart plugs: the ``ENERGY`` object of ``tele/<device>/SENSOR`` (every TelePeriod),
or of ``StatusSNS`` in ``stat/<device>/STATUS10`` (asked for, or on a PowerDelta). Power is in
watts; a plug with several channels gives a list, summed. Availability is its last will,
``tele/<device>/LWT``: ``Online`` or ``Offline``.

>>> decode_tasmota("power", b'{"Time":"2018-01-17T18:59:50","ENERGY":{"Total":1.956,"Power":9}}')
[('power', 9.0)]
>>> decode_tasmota("power", b'{"StatusSNS":{"ENERGY":{"Power":[1850,12]}}}')
[('power', 1862.0)]
"""

from __future__ import annotations

from typing import Any

from agent.decode.zigbee2mqtt import Readings, json_object, number, shown
from agent.errors import DecodeError
from models.household import SensorKind


def decode_tasmota(kind: SensorKind, payload: bytes) -> Readings:
    obj = json_object(payload)
    sns = obj.get("StatusSNS", obj)
    energy: Any = sns.get("ENERGY") if isinstance(sns, dict) else None
    if kind != "power" or energy is None:
        # Telemetry of another sensor on the same device (a temperature, say): nothing of ours.
        return []
    if not isinstance(energy, dict) or "Power" not in energy:
        raise DecodeError(f"ENERGY should be an object with Power, found {shown(energy)}")
    power = energy["Power"]
    channels = power if isinstance(power, list) else [power]
    if not channels:
        raise DecodeError("ENERGY.Power is an empty list")
    total = sum(number({"power": c}, "power") for c in channels)
    return [("power", number({"power": total}, "power"))]
