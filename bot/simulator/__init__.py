"""A standalone fake of CometAPI's Suno and Udio endpoints, with scripted faults (see SimulatorServer)."""

from __future__ import annotations

from ._model import MAGIC_WORDS, MODERATION_REASON, Clip, Outcome, Status, Task
from .app import RecordedRequest, create_app
from .faults import ENDPOINTS, Fault, Faults
from .media import MediaStore
from .relay import UPSTREAM_REFUSAL_MESSAGE, USED_UP_MESSAGE, Relay, key_fragment
from .server import DEFAULT_API_KEY, SimulatorServer
from .state import Clock, ManualClock, SimState, Timings, wall_clock

__all__ = [
    "DEFAULT_API_KEY",
    "ENDPOINTS",
    "MAGIC_WORDS",
    "MODERATION_REASON",
    "UPSTREAM_REFUSAL_MESSAGE",
    "USED_UP_MESSAGE",
    "Clip",
    "Clock",
    "Fault",
    "Faults",
    "ManualClock",
    "MediaStore",
    "Outcome",
    "RecordedRequest",
    "Relay",
    "SimState",
    "SimulatorServer",
    "Status",
    "Task",
    "Timings",
    "create_app",
    "key_fragment",
    "wall_clock",
]
