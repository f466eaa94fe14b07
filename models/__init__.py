"""Hearth's pure core: routines learned from sensor events, and the detectors built on them.

Nothing here does I/O. Every function takes the time as an argument, so a year of a household
can be replayed in seconds and tests drive a manual clock.
"""
