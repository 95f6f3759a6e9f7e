"""The event bus: in-process by default, NATS JetStream to share one stream across processes."""

from .base import Batch, Bus, Handler, open_bus
from .inprocess import InProcessBus

__all__ = ["Batch", "Bus", "Handler", "InProcessBus", "open_bus"]
