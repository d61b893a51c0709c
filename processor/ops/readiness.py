"""Readiness state shared by the workers (writers) and the ops server (reader).

Ready means: every running direction has partitions assigned, the broker answered recently,
no direction is paused for auth, and no direction is in a dead-letter storm. Updates come
from the worker's thread and event loop; reads from the HTTP server's thread — a lock keeps
the snapshot consistent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class DirectionState:
    assigned_partitions: int = 0
    auth_paused: bool = False
    dlq_storm: bool = False


@dataclass
class Readiness:
    """Mutable, thread-safe readiness for one process."""

    broker_reachable: bool = False
    directions: dict[str, DirectionState] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def register(self, direction: str) -> None:
        with self._lock:
            self.directions.setdefault(direction, DirectionState())

    def set_assigned(self, direction: str, partitions: int) -> None:
        with self._lock:
            self.directions.setdefault(direction, DirectionState()).assigned_partitions = partitions

    def set_broker_reachable(self, reachable: bool) -> None:
        with self._lock:
            self.broker_reachable = reachable

    def set_auth_paused(self, direction: str, paused: bool) -> None:
        with self._lock:
            self.directions.setdefault(direction, DirectionState()).auth_paused = paused

    def set_dlq_storm(self, direction: str, storm: bool) -> None:
        with self._lock:
            self.directions.setdefault(direction, DirectionState()).dlq_storm = storm

    def snapshot(self) -> tuple[bool, dict[str, object]]:
        """(ready, details) — details are safe to serve on /readyz."""
        with self._lock:
            problems: list[str] = []
            if not self.broker_reachable:
                problems.append("broker_unreachable")
            if not self.directions:
                problems.append("no_direction_running")
            details: dict[str, object] = {"broker_reachable": self.broker_reachable, "directions": {}}
            for name, state in self.directions.items():
                if state.assigned_partitions == 0:
                    problems.append(f"{name}:no_partitions_assigned")
                if state.auth_paused:
                    problems.append(f"{name}:auth_paused")
                if state.dlq_storm:
                    problems.append(f"{name}:dlq_storm")
                details["directions"][name] = {  # type: ignore[index]
                    "assigned_partitions": state.assigned_partitions,
                    "auth_paused": state.auth_paused,
                    "dlq_storm": state.dlq_storm,
                }
            details["problems"] = problems
            return (not problems, details)
