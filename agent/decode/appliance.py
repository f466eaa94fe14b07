"""Kettle power to kettle use: on above one threshold, off only below a lower one.

The gap between the two keeps a kettle's power wobbling around one value from counting as
many uses.

>>> h = PowerHysteresis(on_watts=1000, off_watts=50)
>>> [h.update(w) for w in (0, 2200, 1800, 900, 2100, 20, 10)]
[None, 1.0, None, None, None, 0.0, None]
"""

from __future__ import annotations


class PowerHysteresis:
    def __init__(self, on_watts: float, off_watts: float) -> None:
        self.on_watts = on_watts
        self.off_watts = off_watts
        self.on = False

    def update(self, watts: float) -> float | None:
        """1.0 when it switches on, 0.0 when it switches off, None when nothing changed."""
        if not self.on and watts >= self.on_watts:
            self.on = True
            return 1.0
        if self.on and watts < self.off_watts:
            self.on = False
            return 0.0
        return None
