"""The Segment emulator: the HTTP Tracking API (`/v1/batch` and the single-event routes).

Auth is Basic (write key as user name) or `writeKey` in the body. Limits as SPEC §4: a request
over 500 KB, a message over 32 KB or a batch over 2,500 messages is answered 400, and so is a
batch with one invalid member (the sink bisects to find it). Bodies may be gzip-compressed.
Messages are de-duplicated by `messageId`: a repeat is counted, stored once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import zlib
from collections import deque
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from processor.emulators.control import EmulatorCore
from processor.emulators.faults import FaultConfig, FaultInjector
from processor.emulators.recorder import DEFAULT_MAX_BYTES, Entry, Recorder
from processor.emulators.wire import BadJSON, json_response, parse_object, raw_json_response

MAX_REQUEST_BYTES = 500 * 1024
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_MESSAGES = 2_500
TYPES = ("track", "identify", "page", "screen", "group", "alias")

_OK = orjson.dumps({"success": True})
_UNAUTHORIZED = orjson.dumps({"success": False, "message": "Unauthorized: invalid write key"})


def _error(status: int, message: str) -> Response:
    return json_response({"success": False, "message": message}, status)


def _bad(message: str, errors: list[str] | None = None) -> Response:
    body: dict[str, object] = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    return json_response(body, 400)


def _present(value: object) -> bool:
    return value is not None and value != "" and not isinstance(value, bool | dict | list)


def message_problems(message: object, where: str, *, check_size: bool = True) -> list[str]:
    """Why Segment would refuse this message; empty when it is acceptable."""
    if not isinstance(message, dict):
        return [f"{where}: must be an object"]
    problems: list[str] = []
    kind = message.get("type")
    if kind not in TYPES:
        problems.append(f"{where}.type: must be one of {', '.join(TYPES)}")
    if not (_present(message.get("userId")) or _present(message.get("anonymousId"))):
        problems.append(f"{where}: userId or anonymousId is required")
    if kind == "track" and not (isinstance(message.get("event"), str) and message["event"]):
        problems.append(f"{where}.event: is required for track")
    if kind == "group" and not _present(message.get("groupId")):
        problems.append(f"{where}.groupId: is required for group")
    if kind == "alias" and not _present(message.get("previousId")):
        problems.append(f"{where}.previousId: is required for alias")
    if check_size and not problems and len(orjson.dumps(message)) > MAX_MESSAGE_BYTES:
        problems.append(f"{where}: message exceeds {MAX_MESSAGE_BYTES} bytes")
    return problems


def _redact(body: object) -> object:
    if isinstance(body, dict) and "writeKey" in body:
        return {**body, "writeKey": "[redacted]"}
    return body


class SegmentState:
    """Accepted messages (bounded), the messageIds seen, and counts.

    Messages are kept serialised: 100,000 stored dicts (with their nested properties) are over a
    million objects for the garbage collector to walk on every full collection — pauses of
    100+ ms that showed up as the API's latency tail; bytes are not tracked at all.
    """

    def __init__(self, max_messages: int) -> None:
        self._max = max_messages
        self.reset()

    def reset(self) -> None:
        self.messages: deque[bytes] = deque(maxlen=self._max)
        self.seen: set[str] = set()
        self.accepted = 0
        self.duplicates = 0
        self.by_type: dict[str, int] = {}
        self.by_event: dict[str, int] = {}

    def store(self, message: dict[str, Any]) -> None:
        message_id = message.get("messageId")
        if isinstance(message_id, str) and message_id:
            if message_id in self.seen:
                self.duplicates += 1
                return
            self.seen.add(message_id)
        self.accepted += 1
        kind = message["type"]
        self.by_type[kind] = self.by_type.get(kind, 0) + 1
        event = message.get("event")
        if isinstance(event, str):
            self.by_event[event] = self.by_event.get(event, 0) + 1
        self.messages.append(orjson.dumps(message))

    def snapshot(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "by_type": self.by_type,
            "by_event": self.by_event,
            "messages": [orjson.loads(m) for m in self.messages],
        }


def _gunzip(body: bytes) -> bytes:
    """Decompress a gzip body, refusing more than the request limit (no zip bombs)."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(body, MAX_REQUEST_BYTES + 1)
    except zlib.error:
        raise BadJSON("invalid gzip body") from None
    if len(out) > MAX_REQUEST_BYTES:
        raise BadJSON(f"request exceeds {MAX_REQUEST_BYTES} bytes")
    if not inflater.eof:
        raise BadJSON("truncated gzip body")
    return out


def _basic_user(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None


def create_app(
    *,
    write_key: str,
    faults: FaultConfig | None = None,
    max_recorded: int = 100_000,
    max_recorded_bytes: int = DEFAULT_MAX_BYTES,
) -> Starlette:
    """Build the Segment emulator. The received log and the stored messages keep the last
    `max_recorded` entries (the log also within `max_recorded_bytes` of bodies)."""
    state = SegmentState(max_recorded)
    core = EmulatorCore(
        FaultInjector(faults, error=_error),
        Recorder(max_recorded, redact=_redact, max_bytes=max_recorded_bytes),
        state.snapshot,
        state.reset,
        error=_error,
    )
    recorder = core.recorder
    key_bytes = write_key.encode()

    def key_matches(given: object) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given.encode(), key_bytes)

    async def handle(request: Request, entry: Entry, kind: str | None) -> Response:
        header = request.headers.get("authorization")
        if header is not None and not key_matches(_basic_user(header)):
            return raw_json_response(_UNAUTHORIZED, 401)
        if len(entry.body) > MAX_REQUEST_BYTES:
            return _bad(f"request exceeds {MAX_REQUEST_BYTES} bytes")
        try:
            if request.headers.get("content-encoding", "").lower() == "gzip":
                recorder.set_body(entry, _gunzip(entry.body))
            body = parse_object(entry.body)
        except BadJSON as exc:
            return _bad(str(exc))
        if header is None and not key_matches(body.get("writeKey")):
            return raw_json_response(_UNAUTHORIZED, 401)
        if kind is None:
            batch = body.get("batch")
            if not isinstance(batch, list):
                return _bad("batch: must be an array of messages")
            if len(batch) > MAX_BATCH_MESSAGES:
                return _bad(f"batch has {len(batch)} messages; at most {MAX_BATCH_MESSAGES} are allowed")
            messages: list[Any] = batch
        else:
            body.pop("writeKey", None)
            body["type"] = kind
            messages = [body]
        problems: list[str] = []
        # no member can exceed the message limit when the whole body is within it
        sized = len(entry.body) > MAX_MESSAGE_BYTES
        for i, message in enumerate(messages):
            where = f"batch[{i}]" if kind is None else "message"
            problems.extend(message_problems(message, where, check_size=sized))
        if problems:
            return _bad("invalid message(s); nothing was accepted", problems)
        for message in messages:
            state.store(message)
        return raw_json_response(_OK)

    def route(kind: str | None) -> Route:
        async def endpoint(request: Request, entry: Entry) -> Response:
            return await handle(request, entry, kind)

        return Route(f"/v1/{kind or 'batch'}", core.api(endpoint), methods=["POST"])

    routes = [route(None), *(route(kind) for kind in TYPES), *core.control_routes()]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.emulator = core
    app.state.segment = state
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return json_response({"success": False, "message": "Not Found"}, 404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return json_response({"success": False, "message": "Method Not Allowed"}, 405)
