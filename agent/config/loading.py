"""Loading a household's YAML file, with errors a technician can act on.

Every error names the file and line, the key path, the value found and what is allowed, with a
"did you mean" where a near miss is likely. All errors are reported at once.

>>> text = "household: {id: h1, timezone: Europe/Londn}\\nsensors: []\\n"
>>> errs = load_config_text(text, "home.yaml")
Traceback (most recent call last):
...
agent.errors.ConfigError: home.yaml: 2 errors
home.yaml:1: household.timezone: unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)
home.yaml:2: sensors: List should have at least 1 item after validation, not 0 (found [])
"""

from __future__ import annotations

import difflib
import types
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema

from agent.config.durations import format_duration
from agent.config.schema import HearthConfig
from agent.config.sections import config_model
from agent.config.settings import household_of
from agent.errors import ConfigError, ConfigProblem
from models.detectors import registered

Path_ = tuple[str | int, ...]


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _MarkedLoader(yaml.SafeLoader):
    """Safe loading (no tags that build objects) that also records where each value stands."""


_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


# A household's file is a few kilobytes; these bound what a broken or hostile one can cost.
LARGEST_FILE_BYTES = 1_000_000
MOST_VALUES = 50_000  # every value counted as often as an alias repeats it
DEEPEST = 50


def _one_problem(file: str, line: int | None, message: str) -> ConfigError:
    return ConfigError(file, [ConfigProblem(file, line, "", message)])


def _compose(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    lines: dict[Path_, int] = {}
    problems: list[ConfigProblem] = []
    if len(text) > LARGEST_FILE_BYTES:
        raise _one_problem(
            file,
            None,
            f"{len(text):,} characters is too long for a household's file"
            f" (at most {LARGEST_FILE_BYTES:,})",
        )
    loader = None
    try:
        loader = _MarkedLoader(text)
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _one_problem(file, *_yaml_problem(exc)) from None
    except RecursionError:
        raise _one_problem(file, None, f"nested more than {DEEPEST} levels deep") from None
    finally:
        if loader is not None:
            loader.dispose()
    assert loader is not None
    built = 0

    def build(node: yaml.Node, path: Path_) -> Any:
        nonlocal built
        built += 1
        if built > MOST_VALUES:
            raise _one_problem(
                file,
                node.start_mark.line + 1,
                f"more than {MOST_VALUES:,} values, counting each alias (*name) as often as it"
                " is used: is an alias repeating itself?",
            )
        if len(path) > DEEPEST:
            raise _one_problem(
                file, node.start_mark.line + 1, f"nested more than {DEEPEST} levels deep"
            )
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_COLLECTIONS:
            problems.append(
                ConfigProblem(
                    file,
                    node.start_mark.line + 1,
                    dotted(path),
                    f"{_tag(node.tag, path)} is not allowed; write plain values",
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    problems.append(
                        ConfigProblem(
                            file,
                            key_node.start_mark.line + 1,
                            dotted(path),
                            "a key must be plain text",
                        )
                    )
                    continue
                key = str(key_node.value)
                if key in out:
                    problems.append(
                        ConfigProblem(
                            file,
                            key_node.start_mark.line + 1,
                            dotted((*path, key)),
                            f"key given twice (first on line {lines[(*path, key)]})",
                        )
                    )
                    continue
                out[key] = build(value_node, (*path, key))
                lines[(*path, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            problems.append(
                ConfigProblem(
                    file,
                    node.start_mark.line + 1,
                    dotted(path),
                    f"{_tag(node.tag, path)} is not allowed; write plain values"
                    + ("" if _secret(path) else f" ({exc.problem})"),
                )
            )
            return None

    data = None if root is None else build(root, ())
    if problems:
        raise ConfigError(file, problems)
    return data, lines


def line_for(lines: dict[Path_, int], loc: Path_) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict, typing.Annotated):
        for arg in get_args(annotation):
            found = _unwrap_model(arg)
            if found is not None:
                return found
    return None


def _keys_at(loc: Path_) -> list[str]:
    """The keys allowed in the mapping at ``loc``."""
    model: type[BaseModel] | None = config_model()
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _unwrap_model(field.annotation)
    return list(model.model_fields) if model is not None else []


def _suggest(found: Any, allowed: list[str]) -> str:
    if not isinstance(found, str):
        return ""
    close = difflib.get_close_matches(found, allowed, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _pydantic_problems(
    file: str, exc: ValidationError, lines: dict[Path_, int]
) -> list[ConfigProblem]:
    out = []
    for err in exc.errors():
        loc: Path_ = tuple(p for p in err["loc"] if isinstance(p, str | int))
        kind = err["type"]
        found = err.get("input")
        if kind == "extra_forbidden":
            key = loc[-1]
            allowed = _keys_at(loc[:-1])
            msg = f"unknown key {key!r}{_suggest(key, allowed)}; allowed here: {', '.join(allowed)}"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "literal_error":
            expected = [
                a.strip(" '")
                for a in str(err.get("ctx", {}).get("expected", ""))
                .replace(" or ", ", ")
                .split(",")
            ]
            msg = (
                f"{found!r} is not allowed{_suggest(found, expected)};"
                f" use one of: {', '.join(expected)}"
            )
        elif kind == "value_error":
            msg = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        else:
            msg = f"{err['msg']} (found {found!r})"
        if _secret(loc) and kind != "value_error":
            # Never a secret in an error, whatever was written there (Hearth's own words, a
            # value_error, never quote it).
            msg = f"{err['msg']} (the value is not shown)"
        out.append(ConfigProblem(file, line_for(lines, loc), dotted(loc), msg))
    return out


def _household_problems(
    file: str, cfg: HearthConfig, lines: dict[Path_, int]
) -> list[ConfigProblem]:
    """Checks across keys, which the schema alone cannot express."""
    out = []

    def add(loc: Path_, msg: str) -> None:
        out.append(ConfigProblem(file, line_for(lines, loc), dotted(loc), msg))

    first_with: dict[tuple[str, str], int] = {}

    def unique(what: str, value: str, i: int, loc: Path_) -> None:
        """``value`` is ``what`` of sensors[i]; no two sensors may share it."""
        j = first_with.setdefault((what, value), i)
        if j != i:
            add(loc, f"{what} {value!r} is already used by sensors[{j}]")

    states = {s.mqtt.topic: i for i, s in enumerate(cfg.sensors) if s.mqtt is not None}
    for i, s in enumerate(cfg.sensors):
        unique("sensor id", s.id, i, ("sensors", i, "id"))
        if s.mqtt is not None:
            unique("topic", s.mqtt.topic, i, ("sensors", i, "mqtt", "topic"))
            available = s.mqtt.availability()
            for key, topic in (("topic", s.mqtt.topic), ("availability_topic", available or "")):
                if any(c in topic for c in "+#"):
                    add(
                        ("sensors", i, "mqtt", key),
                        "a sensor's topic names one device: no + or # wildcards",
                    )
            if available is None:
                add(
                    ("sensors", i, "mqtt", "topic"),
                    f"{s.mqtt.topic!r} is not a {s.mqtt.style} device's topic as Hearth knows"
                    " them: set availability_topic (where it says online or offline)",
                )
            elif available in states:
                add(
                    ("sensors", i, "mqtt", "availability_topic"),
                    f"{available!r} is the topic of sensors[{states[available]}]",
                )
        if s.mqtt is not None and s.serial is not None:
            add(("sensors", i, "serial"), "a sensor is read over mqtt or serial, not both")
        if s.serial is not None:
            unique("bridge id", s.serial.id, i, ("sensors", i, "serial", "id"))
            if s.kind == "presence":
                add(
                    ("sensors", i, "kind"),
                    "the serial bridge reads contact, motion and power sensors; a presence"
                    " sensor is read over mqtt",
                )
        if s.power.off_watts >= s.power.on_watts:
            add(
                ("sensors", i, "power"),
                f"off_watts ({s.power.off_watts}) must be below on_watts ({s.power.on_watts})",
            )
    if any(s.mqtt is not None for s in cfg.sensors) and cfg.local_broker is None:
        add(("local_broker",), "sensors read over MQTT need a local_broker")
    if cfg.home_assistant is not None and cfg.local_broker is None:
        add(("home_assistant",), "Home Assistant reads Hearth on the home broker: set local_broker")
    if any(s.serial is not None for s in cfg.sensors) and cfg.serial_bridge is None:
        add(("serial_bridge",), "sensors read over serial need a serial_bridge (its port)")
    for spec in registered():
        if cfg.detectors.enabled(spec.name):
            for key, msg in cfg.detectors.settings_of(spec.name).problems(household_of(cfg)):
                add(("detectors", spec.name, key), msg)
    types = [spec.name for spec in registered()]
    for name in cfg.alerts.cooldown:
        if name not in types:
            add(
                ("alerts", "cooldown", name),
                f"unknown alert type {name!r}{_suggest(name, types)}",
            )
    return out


def load_config_text(text: str, file: str = "<config>") -> HearthConfig:
    return load_with_lines(text, file)[0]


def load_with_lines(text: str, file: str = "<config>") -> tuple[HearthConfig, dict[Path_, int]]:
    """The configuration, and the line each key path of the file stands on."""
    data, lines = _compose(text, file)
    if not isinstance(data, dict):
        raise ConfigError(
            file,
            [
                ConfigProblem(
                    file, 1, "", "the file must be a mapping of keys (household:, sensors:, ...)"
                )
            ],
        )
    try:
        cfg = config_model().model_validate(data)
    except ValidationError as exc:
        raise ConfigError(file, _pydantic_problems(file, exc, lines)) from None
    problems = _household_problems(file, cfg, lines)
    if problems:
        raise ConfigError(file, problems)
    return cfg, lines


def load_config(path: str | Path) -> HearthConfig:
    return load_with_lines(read_config_text(path), str(path))[0]


def read_config_text(path: str | Path) -> str:
    """The file's text, refused with one line if it cannot be a household's file."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            raw = f.read(LARGEST_FILE_BYTES + 1)
    except OSError as exc:
        raise _one_problem(str(p), None, f"cannot read the file: {exc.strerror}") from None
    if len(raw) > LARGEST_FILE_BYTES:
        raise _one_problem(
            str(p),
            None,
            f"too long for a household's file (more than {LARGEST_FILE_BYTES:,} bytes)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _one_problem(
            str(p), line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None
    return text


class _TechnicianSchema(GenerateJsonSchema):
    """Defaults written as a technician writes them: ``45min``, not ISO 8601's ``PT45M``."""

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft)
        return super().encode_default(dft)


def json_schema() -> dict[str, Any]:
    schema = config_model().model_json_schema(mode="validation", schema_generator=_TechnicianSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _secret(path: Path_) -> bool:
    """A key that holds a secret, or says where one is kept: its value is never quoted."""
    return any("password" in str(part) for part in path)


def _tag(tag: str, path: Path_) -> str:
    return "a tag" if _secret(path) else f"tag {tag!r}"


def _yaml_problem(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The line and what is wrong, in one line; never PyYAML's snippet of the line, which
    would quote a password written there."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is None or problem is None:
        return None, "not valid YAML: " + " ".join(str(exc).split()).split(' in "')[0]
    context = getattr(exc, "context", None)
    said = f"{context}, {problem}" if context else str(problem)
    return mark.line + 1, f"not valid YAML: {said} (column {mark.column + 1})"
