"""Do the configured keys work? One check per API, for `cordial-bridge check-auth`.

Cordial: `GET {endpoint}/api/checkAuth` with the API key; 2xx passes, anything else fails.
Segment: an empty batch `POST {endpoint}/v1/batch` with the write key. Segment answers 200 to
almost any key, so a pass only means "not refused"; a 401/403 proves the key bad.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from processor.config.settings import Direction, Settings
from processor.errors import ConfigError
from processor.outcomes import AuthFailed, Outcome, Rejected, Retry, Sent
from processor.sinks.cordial import CordialSink
from processor.sinks.segment import SegmentSink


@dataclass(frozen=True, slots=True)
class AuthCheck:
    """The verdict for one API; `detail` never contains a key."""

    api: str
    endpoint: str
    passed: bool
    detail: str


def require_keys(settings: Settings, directions: Iterable[Direction]) -> None:
    """Raise ConfigError naming every key the chosen directions need but do not have."""
    missing: list[str] = []
    wanted = set(directions)
    if "inbound" in wanted and not settings.cordial.api_key:
        missing.append(f"no Cordial API key (set {settings.cordial.api_key_env} or cordial.api_key_file)")
    if "outbound" in wanted and not settings.segment.write_key:
        missing.append(
            f"no Segment write key (set {settings.segment.write_key_env} or segment.write_key_file)"
        )
    if missing:
        raise ConfigError("; ".join(missing))


async def check_credentials(
    settings: Settings,
    directions: Iterable[Direction],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[AuthCheck]:
    """Check each direction's API in order (inbound = Cordial, outbound = Segment)."""
    chosen = list(dict.fromkeys(directions))
    require_keys(settings, chosen)
    results: list[AuthCheck] = []
    for direction in chosen:
        if direction == "inbound":
            async with CordialSink(settings.cordial, transport=transport) as cordial:
                outcome = await cordial.check_auth()
            results.append(_verdict("cordial", settings.cordial.endpoint, outcome, segment=False))
        else:
            async with SegmentSink(settings.segment, transport=transport) as segment:
                outcome = await segment.check_auth()
            results.append(_verdict("segment", settings.segment.endpoint, outcome, segment=True))
    return results


def _verdict(api: str, endpoint: str, outcome: Outcome, *, segment: bool) -> AuthCheck:
    if isinstance(outcome, Sent):
        if segment:
            detail = (
                f"write key not refused (HTTP {outcome.status} to an empty batch); "
                "Segment accepts most keys, so only a 401/403 would prove it bad"
            )
        else:
            detail = f"API key accepted (GET /api/checkAuth answered {outcome.status})"
        return AuthCheck(api, endpoint, True, detail)
    if isinstance(outcome, AuthFailed):
        what = "write key" if segment else "API key"
        return AuthCheck(api, endpoint, False, f"{what} refused: {outcome.message}")
    if isinstance(outcome, Retry | Rejected):
        return AuthCheck(api, endpoint, False, f"no verdict: {outcome.message}")
    return AuthCheck(api, endpoint, False, f"no verdict: {outcome!r}")
