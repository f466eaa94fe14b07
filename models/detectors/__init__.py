"""The detectors: one module each, found and registered when this package is imported; sensor
health, which pauses the detectors that need a broken sensor; and the words they share.

A module here that registers a :class:`DetectorSpec` is a detector: there is no list to add it
to. ``registered()`` gives them in the order they are checked at each tick.
"""

import importlib
import pkgutil

from models.detectors.contract import (
    REGISTRY,
    Detector,
    DetectorSpec,
    register,
    registered,
    unregister,
)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Detector", "DetectorSpec", "register", "registered", "unregister"]
