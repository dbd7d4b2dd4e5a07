"""Connectors: one module per source kind, each turning files into normalized records."""

from . import feedback, interview, nps, sales, support  # noqa: F401  (they register themselves)
from .base import Connector, ParseOptions, connectors
from .detect import detect_kind, discover

__all__ = ["Connector", "ParseOptions", "connectors", "detect_kind", "discover"]
