"""What arrived at the emulators, read through their `/_emulator/*` control routes.

`EmulatorClient` is a small synchronous client for one emulator (received log, faults, reset).
`accepted_cordial_calls` and `accepted_segment_messages` turn the received log into what the
API accepted (2xx only: a request answered with an injected fault never reached the handler).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

_PAGE = 5000


@dataclass(frozen=True, slots=True)
class CordialCall:
    """One accepted ingest call: the action (URL suffix) and the JSON body as received."""

    action: str
    body: dict[str, Any]


class EmulatorClient:
    """Talks to one emulator's control routes."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EmulatorClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def received(self, since: int = 0) -> list[dict[str, Any]]:
        """Every request recorded after sequence number `since`, oldest first."""
        out: list[dict[str, Any]] = []
        while True:
            response = self._client.get("/_emulator/received", params={"since": since, "limit": _PAGE})
            response.raise_for_status()
            page: list[dict[str, Any]] = response.json()["requests"]
            out.extend(page)
            if len(page) < _PAGE:
                return out
            since = int(page[-1]["seq"])

    def set_faults(self, **changes: object) -> dict[str, Any]:
        response = self._client.post("/_emulator/faults", json=changes)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(self) -> None:
        self._client.post("/_emulator/reset").raise_for_status()

    def state(self) -> dict[str, Any]:
        response = self._client.get("/_emulator/state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


def _ok(request: Mapping[str, Any]) -> bool:
    status = request.get("status")
    return isinstance(status, int) and 200 <= status < 300


def accepted_cordial_calls(received: Sequence[Mapping[str, Any]]) -> list[CordialCall]:
    """Ingest calls Cordial accepted, in arrival order (checkAuth probes left out)."""
    prefix = "/api/segment/"
    return [
        CordialCall(str(r["path"])[len(prefix) :], r["body"])
        for r in received
        if _ok(r) and str(r.get("path", "")).startswith(prefix) and isinstance(r.get("body"), dict)
    ]


def accepted_segment_messages(received: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages Segment accepted, in arrival order (batch members unpacked)."""
    messages: list[dict[str, Any]] = []
    for request in received:
        body = request.get("body")
        if not _ok(request) or not isinstance(body, dict):
            continue
        if request.get("path") == "/v1/batch":
            messages.extend(m for m in body.get("batch", ()) if isinstance(m, dict))
        else:
            messages.append(body)
    return messages


def status_counts(received: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """How many requests got each status (None = still being answered)."""
    counts: dict[int, int] = {}
    for request in received:
        status = request.get("status")
        if isinstance(status, int):
            counts[status] = counts.get(status, 0) + 1
    return counts
