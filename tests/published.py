"""The published schemas (``docs/schema/``) as a care team's system would use them: every alert
and status a test sees leave the hub, or written by a replay or the demo, must validate."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from tests.conftest import ROOT

SCHEMA_DIR = ROOT / "docs" / "schema"


@cache
def validator(of: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{of}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(of: str, doc: Any) -> list[str]:
    """What is wrong with ``doc`` against the published schema ``of``, each with its path."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator(of).iter_errors(doc)
    ]


def assert_valid_alert(doc: Any) -> None:
    found = problems("alert", doc)
    assert not found, (doc.get("type") if isinstance(doc, dict) else doc, found)


def assert_valid_status(payload: bytes) -> None:
    text = payload.decode("utf-8")
    found = problems("status", text)
    assert not found, (text, found)
