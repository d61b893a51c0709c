"""Cordial's integration-configuration API (SPEC §3.4, seed 000): read and write the Segment integration.

`GET {admin}/api/integrations`, `POST`/`PUT {admin}/api/integrations/segment`, Basic auth with the
API key as user name and an empty password. Failures are raised as one exception tree, each with
a message a person can act on and never the key::

    CordialAdminError          any other answer, or no answer at all (`status` None)
     ├── AdminAuthError        401/403: the key was rejected
     └── AdminRejectedError    422: the API's own list of problems in `problems`

This is a command-line path, not the hot path: one client, a handful of requests.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Final

import httpx

from processor.config.classic import INTEGRATION_NAME, ClassicIntegration
from processor.config.classic_diff import IntegrationDiff, diff_integration
from processor.config.settings import CordialSettings
from processor.errors import BridgeError, ConfigError
from processor.runtime.headers import redact, truncate
from processor.sinks.http import CLASSIFIED_EXCEPTIONS, make_client

LIST_PATH: Final = "/api/integrations"
SEGMENT_PATH: Final = f"/api/integrations/{INTEGRATION_NAME}"
EXCERPT_CHARS: Final = 300


class CordialAdminError(BridgeError):
    """The admin API could not do what was asked; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


class AdminAuthError(CordialAdminError):
    """401/403: the API key was rejected."""


class AdminRejectedError(CordialAdminError):
    """422: Cordial refused the integration body; `problems` as the API listed them."""

    def __init__(self, message: str, *, status: int, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(message, status=status)


class CordialAdminClient:
    """An async client for the admin routes. Use as `async with CordialAdminClient(settings) as c:`.

    `transport` replaces the network (tests pass `httpx.MockTransport`). Raises ConfigError at
    construction when no API key is configured, before any request.
    """

    def __init__(
        self, settings: CordialSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if not settings.api_key:
            source = settings.api_key_file or f"the {settings.api_key_env} environment variable"
            raise ConfigError(f"no Cordial API key: set it in {source} (cordial.api_key_env / api_key_file)")
        key = settings.api_key.reveal()
        token = base64.b64encode(f"{key}:".encode()).decode()
        self._secrets = sorted({key, token, f"Basic {token}"}, key=len, reverse=True)
        self._key_source = settings.api_key_file or f"${settings.api_key_env}"
        self.base_url = settings.admin_endpoint.rstrip("/")
        self._client = make_client(
            settings.http,
            base_url=self.base_url,
            headers={"Accept": "application/json"},
            auth=(key, ""),
            transport=transport,
        )

    async def __aenter__(self) -> CordialAdminClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def list_integrations(self) -> list[dict[str, object]]:
        """Every integration the account has (a JSON list; a single object or a wrapper is unwrapped)."""
        data = await self._call("GET", LIST_PATH)
        return _integrations(data)

    async def get_segment_integration(self) -> dict[str, object] | None:
        """The live Segment integration, or None when the account has none."""
        for item in await self.list_integrations():
            if str(item.get("name", "")).lower() == INTEGRATION_NAME:
                return item
        return None

    async def create_segment_integration(self, body: Mapping[str, object]) -> object:
        """POST: set the Segment integration up; returns the API's answer (decoded JSON or None)."""
        return await self._call("POST", SEGMENT_PATH, body)

    async def update_segment_integration(self, body: Mapping[str, object]) -> object:
        """PUT: replace the Segment integration's settings; returns the API's answer."""
        return await self._call("PUT", SEGMENT_PATH, body)

    async def plan(self, desired: ClassicIntegration) -> IntegrationDiff:
        """Fetch what is live and compare it with `desired` (nothing is changed)."""
        return diff_integration(desired, await self.get_segment_integration())

    async def push(self, desired: ClassicIntegration, diff: IntegrationDiff) -> object:
        """Send `desired` the way `diff` says: PUT when one exists, POST when not; nothing when equal."""
        if diff.empty:
            return None
        body = desired.to_body()
        if diff.exists:
            return await self.update_segment_integration(body)
        return await self.create_segment_integration(body)

    async def _call(self, method: str, path: str, body: Mapping[str, object] | None = None) -> object:
        where = f"{method} {self.base_url}{path}"
        try:
            response = await self._client.request(method, path, json=body)
        except CLASSIFIED_EXCEPTIONS as exc:
            detail = self._clean(str(exc))
            reason = f"{type(exc).__name__}" + (f": {detail}" if detail else "")
            raise CordialAdminError(f"cannot reach Cordial's admin API ({where}): {reason}") from None
        data = _json(response)
        status = response.status_code
        if 200 <= status < 300:
            return data
        if status in (401, 403):
            raise AdminAuthError(
                f"the API key was rejected by Cordial's admin API (HTTP {status} from {where}): check "
                f"the key in {self._key_source}, that it may manage integrations, and that this "
                "machine's IP address is allowed for it",
                status=status,
            )
        problems = [self._clean(p) for p in _problems(data)]
        if status == 422:
            lines = "".join(f"\n  - {p}" for p in problems) or f": {self._excerpt(response)}"
            raise AdminRejectedError(
                f"Cordial rejected the integration settings (HTTP 422 from {where}){lines}",
                status=status,
                problems=problems,
            )
        detail = "; ".join(problems) or self._excerpt(response)
        raise CordialAdminError(
            f"Cordial's admin API answered HTTP {status} to {where}" + (f": {detail}" if detail else ""),
            status=status,
        )

    def _clean(self, text: str) -> str:
        return truncate(redact(" ".join(text.split()), self._secrets), EXCERPT_CHARS)

    def _excerpt(self, response: httpx.Response) -> str:
        try:
            return self._clean(response.text)
        except (UnicodeDecodeError, LookupError):
            return ""


def _json(response: httpx.Response) -> object:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _integrations(data: object) -> list[dict[str, object]]:
    if isinstance(data, Mapping):
        if "name" in data:
            return [dict(data)]
        for key in ("integrations", "data", "items", "results"):
            if isinstance(data.get(key), list):
                return _integrations(data[key])
        if data and all(isinstance(v, Mapping) for v in data.values()):
            return [{"name": k, **v} for k, v in data.items()]
    if isinstance(data, list):
        return [dict(item) for item in data if isinstance(item, Mapping)]
    if data is None:
        return []
    raise CordialAdminError(f"unexpected answer from {LIST_PATH}: expected a JSON list of integrations")


def _problems(data: object) -> list[str]:
    """The problems an error body lists: `errors`/`detail` as strings, objects or a field map."""
    if not isinstance(data, Mapping):
        return []
    listed = data.get("errors", data.get("detail"))
    if isinstance(listed, list):
        return [_problem(item) for item in listed]
    if isinstance(listed, Mapping):
        return [f"{field}: {_problem(msgs)}" for field, msgs in listed.items()]
    if isinstance(listed, str):
        return [listed]
    message = data.get("message", data.get("error"))
    return [message] if isinstance(message, str) else []


def _problem(item: object) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, list):
        return "; ".join(_problem(i) for i in item)
    if isinstance(item, Mapping):
        where = item.get("field", item.get("path", item.get("loc")))
        text = item.get("message", item.get("msg", item))
        if isinstance(where, list):
            where = ".".join(str(p) for p in where)
        return f"{where}: {text}" if where else str(text)
    return str(item)
