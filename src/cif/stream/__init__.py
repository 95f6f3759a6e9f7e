"""Realtime outputs of the bus: ZeroMQ PUB, SSE and WebSocket routes, `cif sync`."""

from .filters import Audience, StreamFilter
from .hub import Hub
from .realtime import ROLES, Realtime, start_realtime

__all__ = ["ROLES", "Audience", "Hub", "Realtime", "StreamFilter", "start_realtime"]
