"""cordial-bridge: a self-hosted, bidirectional Segment <-> Cordial stream processor on Kafka."""

from __future__ import annotations

__version__ = "0.1.0"
PACKAGE_NAME = "cordial-bridge"

__all__ = ["PACKAGE_NAME", "__version__"]
