"""What both emulators share: the API-request pipeline and the `/_emulator/*` control routes.

Pipeline for an API route: record the request, apply latency and faults, then run the handler.
Control routes (`faults`, `received`, `reset`, `state`) skip faults and auth: they are a
loopback test tool, not part of the emulated API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from processor.emulators.faults import FaultConfigError, FaultInjector
from processor.emulators.recorder import Entry, Recorder
from processor.emulators.wire import BadJSON, json_response, parse_object

Handler = Callable[[Request, Entry], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
ErrorResponse = Callable[[int, str], Response]

# Far above both APIs' own limits; only there so that no body can exhaust memory.
MAX_BODY_BYTES = 8 * 1024 * 1024


async def read_capped(request: Request, cap: int) -> bytes | None:
    """The request body, or None when it is larger than `cap` (then it is not read further)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def default_error(status: int, message: str) -> Response:
    return json_response({"error": True, "message": message}, status)


class EmulatorCore:
    """Fault injector + recorder; wraps API handlers and serves the control routes."""

    def __init__(
        self,
        injector: FaultInjector,
        recorder: Recorder,
        state: Callable[[], object],
        reset_state: Callable[[], None],
        error: ErrorResponse = default_error,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.error = error
        self.max_body_bytes = max_body_bytes
        self.injector = injector
        self.recorder = recorder
        self._state = state
        self._reset_state = reset_state

    def api(self, handler: Handler) -> Endpoint:
        """Wrap an API handler: record, inject latency/faults, handle, note the status."""
        recorder = self.recorder
        injector = self.injector
        error = self.error
        cap = self.max_body_bytes

        async def endpoint(request: Request) -> Response:
            body = await read_capped(request, cap)
            entry = recorder.begin(request.method, request.scope["path"], body or b"")
            if body is None:
                refused = error(400, f"request body exceeds {cap} bytes")
                entry.status = refused.status_code
                return refused
            response = await injector.apply()
            if response is None:
                response = await handler(request, entry)
            entry.status = response.status_code
            return response

        return endpoint

    def control_routes(self) -> list[Route]:
        return [
            Route("/_emulator/faults", self._get_faults, methods=["GET"]),
            Route("/_emulator/faults", self._set_faults, methods=["POST"]),
            Route("/_emulator/received", self._received, methods=["GET"]),
            Route("/_emulator/reset", self._reset, methods=["POST"]),
            Route("/_emulator/state", self._get_state, methods=["GET"]),
        ]

    async def _get_faults(self, request: Request) -> Response:
        return json_response(self.injector.config.to_dict())

    async def _set_faults(self, request: Request) -> Response:
        try:
            changes = parse_object(await request.body())
            config = self.injector.update(changes)
        except BadJSON as exc:
            return json_response({"error": True, "message": str(exc)}, 400)
        except FaultConfigError as exc:
            return json_response(
                {"error": True, "message": "invalid fault settings", "errors": exc.problems}, 400
            )
        return json_response(config.to_dict())

    async def _received(self, request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", "0"))
            raw_limit = request.query_params.get("limit")
            limit = int(raw_limit) if raw_limit is not None else None
        except ValueError:
            return json_response({"error": True, "message": "since and limit must be integers"}, 400)
        if since < 0 or (limit is not None and limit < 0):
            return json_response({"error": True, "message": "since and limit must not be negative"}, 400)
        return json_response(self.recorder.view(since, limit))

    async def _reset(self, request: Request) -> Response:
        """Clear state and the received log; faults go back to the start-up settings."""
        self.recorder.reset()
        self.injector.reset()
        self._reset_state()
        return json_response({"reset": True, "faults": self.injector.config.to_dict()})

    async def _get_state(self, request: Request) -> Response:
        return json_response(self._state())


def not_found(message: str = "Not Found") -> Response:
    return json_response({"error": True, "message": message}, 404)
