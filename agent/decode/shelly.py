"""Shelly Gen2 and later plugs and relays: the switch component's status, which the device
publishes to ``<prefix>/status/switch:<id>`` when "generic status update over MQTT" is on.
``apower`` is the load's power in watts; a switch turned off draws nothing, whether or not it
says so. Availability is ``<prefix>/online``: ``true`` or ``false``.

>>> decode_shelly("power", b'{"id":0,"source":"init","output":true,"apower":2015.3}')
[('power', 2015.3)]
>>> decode_shelly("power", b'{"id":0,"output":false}')
[('power', 0.0)]
"""

from __future__ import annotations

from agent.decode.zigbee2mqtt import Readings, json_object, number, shown
from agent.errors import DecodeError
from models.household import SensorKind


def decode_shelly(kind: SensorKind, payload: bytes) -> Readings:
    obj = json_object(payload)
    if kind != "power":
        return []
    if "apower" in obj:
        return [("power", number({"power": obj["apower"]}, "power"))]
    if "output" in obj:
        if not isinstance(obj["output"], bool):
            raise DecodeError(f"output should be true or false, found {shown(obj['output'])}")
        if not obj["output"]:
            return [("power", 0.0)]
    # A status without a measure (a plug without metering, or part of a status): no reading.
    return []
