"""What the emulators received, read through `/_emulator/*` without disturbing them much.

`count()` asks for `limit=0` (counts only, no bodies), so polling it during a run is cheap.
`received_at` is the emulator's `time.time()` at arrival (ms precision); record timestamps are
the producer's `time.time()` on the same machine, so both sides use the same wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

PAGE = 5000


def epoch(received_at: str) -> float:
    """`2026-03-14T09:26:53.123Z` → seconds since the epoch."""
    return datetime.fromisoformat(received_at.replace("Z", "+00:00")).timestamp()


def carries_events(entry: dict[str, Any]) -> bool:
    """A request made for events, not the worker's start-up credential check.

    `cordial-bridge run` checks its credentials before it joins the consumer group: Cordial with
    `GET /api/checkAuth`, Segment with an empty `POST /v1/batch`. Counting that request would
    start the clock seconds before the first event (the group join) and skew events/s and CPU.
    """
    if entry.get("method") != "POST":
        return False
    body = entry.get("body")
    return not (isinstance(body, dict) and body.get("batch") == [])


@dataclass
class Window:
    """First and last arrival of event-carrying requests at an emulator, and how many came in.

    `skipped` requests arrived before the first event-carrying one and carried none (the
    credential check); they are not in `requests` and not in the window.
    """

    first: float | None = None
    last: float | None = None
    requests: int = 0
    skipped: int = 0

    @property
    def seconds(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return max(self.last - self.first, 1e-3)


class Emulator:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._client = httpx.Client(base_url=base_url, timeout=60.0)

    def close(self) -> None:
        self._client.close()

    def _get(self, path: str, **params: int) -> Any:
        response = self._client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._client.post("/_emulator/reset").raise_for_status()

    def count(self) -> int:
        return int(self._get("/_emulator/received", limit=0)["count"])

    def entry(self, seq: int) -> dict[str, Any] | None:
        """The request with sequence number `seq` (1-based), if the bounded log still holds it."""
        found: list[dict[str, Any]] = self._get("/_emulator/received", since=seq - 1, limit=1)["requests"]
        return found[0] if found and found[0]["seq"] == seq else None

    def received(self, since: int = 0, limit: int = 1_000_000) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < limit:
            page: list[dict[str, Any]] = self._get("/_emulator/received", since=since, limit=PAGE)["requests"]
            out.extend(page)
            if len(page) < PAGE:
                break
            since = int(page[-1]["seq"])
        return out[:limit]

    def segment_accepted(self) -> int:
        """Messages the Segment emulator accepted (de-duplicated); fetches its state once."""
        return int(self._get("/_emulator/state")["accepted"])

    def watch(
        self,
        *,
        done: Callable[[int], bool],
        deadline_s: float,
        idle_s: float,
        alive: Callable[[], bool],
        on_tick: Callable[[], None] | None = None,
        confirm: Callable[[], bool] | None = None,
    ) -> Window:
        """Poll until `done(count)`, or no new request for `idle_s` after the first, or the deadline.

        `done` gets the count of event-carrying requests. With `confirm`, an idle gap ends the
        wait only if `confirm()` agrees (e.g. every message arrived); otherwise the wait goes on.
        Records the first event-carrying request's arrival as soon as it is seen (the log is
        bounded, so it could be gone by the end) and the last request's at the end.
        """
        window = Window()
        deadline = time.monotonic() + deadline_s
        seen, changed = 0, time.monotonic()
        while time.monotonic() < deadline and alive():
            count = self.count()
            if on_tick is not None:
                on_tick()
            if count != seen:
                seen, changed = count, time.monotonic()
            if count > window.skipped and window.first is None:
                self._find_first(window, count)
            events = count - window.skipped
            if window.first is not None and done(events):
                break
            if events and time.monotonic() - changed > idle_s:
                if confirm is None or confirm():
                    break
                changed = time.monotonic()
            time.sleep(0.1)
        total = self.count()
        if window.first is None and total > window.skipped:
            self._find_first(window, total)
        window.requests = max(0, total - window.skipped)
        if window.requests:
            last = self.entry(total)
            window.last = epoch(last["received_at"]) if last else time.time()
        return window

    def _find_first(self, window: Window, count: int) -> None:
        """Scan the log from `window.skipped` on for the first event-carrying request."""
        while window.skipped < count:
            page: list[dict[str, Any]] = self._get(
                "/_emulator/received", since=window.skipped, limit=min(20, count - window.skipped)
            )["requests"]
            if not page:
                return
            for entry in page:
                if carries_events(entry):
                    window.first = epoch(entry["received_at"])
                    return
                window.skipped += 1
