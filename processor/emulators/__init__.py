"""API emulators for Cordial and Segment: Starlette apps served by uvicorn (SPEC §10).

Each `create_app` builds one emulator; `serve.start_in_thread` runs one on a loopback port for
tests and benchmarks, `serve.serve` runs one for `cordial-bridge emulate`.
"""

from __future__ import annotations

from processor.emulators.faults import FaultConfig
from processor.emulators.serve import RunningServer, start_in_thread

__all__ = ["FaultConfig", "RunningServer", "start_in_thread"]
