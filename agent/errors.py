"""Hearth's own errors. Library errors are turned into these where the library is called
(aiomqtt's ``MqttError`` in ``agent.sources.mqtt``, sqlite's in ``agent.store``; pyserial's are
handled where the port is opened, with a retry), so the rest of the agent handles one tree:

    HearthError
    ├── ConfigError         the YAML file is wrong: every problem, with its file and line
    ├── DecodeError         a payload cannot be read as its sensor's reading (counted, dropped)
    ├── UnknownTopic        a message on a topic no sensor uses (counted, dropped)
    ├── ControlError        a household command that cannot be carried out (counted, dropped)
    ├── StateError          saved state that cannot be read (learning starts afresh)
    ├── StoreError          the SQLite file cannot be opened, read or written
    ├── BrokerUnavailable   an MQTT broker cannot be reached, or the connection dropped
    └── BridgeGone          the serial bridge's device went away

``DecodeError``, ``ControlError`` and ``StateError`` are also ``ValueError`` and
``UnknownTopic`` a ``LookupError``, as the standard library would have them. The ``hearth``
command prints any of them as one line and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass


class HearthError(Exception):
    """Anything Hearth reports as its own."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"


class ConfigError(HearthError):
    def __init__(self, file: str, problems: list[ConfigProblem]) -> None:
        self.file = file
        self.problems = problems
        n = len(problems)
        head = f"{file}: {n} error{'s' if n != 1 else ''}"
        super().__init__("\n".join([head, *(str(p) for p in problems)]))


class DecodeError(HearthError, ValueError):
    """A payload that cannot be read as the configured sensor's reading."""


class UnknownTopic(HearthError, LookupError):
    """A message on a topic no configured sensor uses."""


class ControlError(HearthError, ValueError):
    """A household command (away, pause...) that is not understood or not allowed."""


class StateError(HearthError, ValueError):
    """Saved state that cannot be read: another household's, a newer release's, or damaged."""


class StoreError(HearthError):
    """The SQLite file cannot be opened, read or written (a full disk, say)."""


class BrokerUnavailable(HearthError):
    """An MQTT broker that cannot be reached, or dropped the connection: worth trying again."""


class BrokerRefused(HearthError):
    """An MQTT broker that will not have us as configured (a wrong password, no permission, a
    certificate file missing): trying again as if the link were down would not help, so it is
    not; the technician is told what to fix."""


class BridgeGone(HearthError):
    """The serial device went away."""
