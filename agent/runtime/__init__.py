"""The live agent's runtime: small tasks wired on one event loop (``agent.runtime.agent``)."""

from agent.runtime.agent import Agent, run_agent
from agent.runtime.keeping import STATE_KEY

__all__ = ["STATE_KEY", "Agent", "run_agent"]
