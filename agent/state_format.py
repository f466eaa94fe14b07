"""How a saved state is kept in the store: JSON, and compressed when it is large.

The routine's state is about 100 KiB of JSON and is saved every half hour; compressed it is a
fifth of that, and so are the bytes each save writes to the hub's SD card (``docs/bench.md``).
A state saved as text by an earlier release reads as before.

>>> state = {"spells": [0.0] * 2000}
>>> kept = encode_state(state)
>>> isinstance(kept, bytes) and len(kept) < 200
True
>>> decode_state(kept) == state == decode_state('{"spells": [' + ", ".join(["0.0"] * 2000) + "]}")
True
"""

from __future__ import annotations

import json
import zlib
from typing import Any

# Smaller than this, kept as readable text (the watching note, which ``hearth status`` reads).
COMPRESSED_FROM = 4096


def encode_state(state: dict[str, Any]) -> str | bytes:
    text = json.dumps(state, separators=(",", ":"))
    return zlib.compress(text.encode(), 6) if len(text) >= COMPRESSED_FROM else text


def decode_state(kept: str | bytes) -> Any:
    """The state as saved; ``ValueError`` (``json.JSONDecodeError`` or ``zlib.error`` as one)
    when it cannot be read."""
    if isinstance(kept, bytes):
        try:
            kept = zlib.decompress(kept).decode()
        except (zlib.error, UnicodeDecodeError) as exc:
            raise ValueError(f"the saved state cannot be decompressed: {exc}") from exc
    return json.loads(kept)
