"""The learned routine: the learners, each with one shape (``learn``, ``to_state``,
``from_state``), and the presence state (doors, visitors) they are read with."""

from models.routine.routine import LONGEST_LEARNED_SPELL, HouseholdRoutine
from models.routine.settings import RoutineSettings

__all__ = ["LONGEST_LEARNED_SPELL", "HouseholdRoutine", "RoutineSettings"]
