"""The Cordial emulator: the ingest service routes (SPEC §3) and the admin routes (§3.4) on one app.

Ingest: `GET /api/checkAuth` and `POST /api/segment/<action>` with `x-api-key`; the account
state is kept in `CordialState`. Admin: `GET /api/integrations`, `POST`/`PUT
/api/integrations/segment` with Basic auth. Control: `/_emulator/*` (see `control.py`).
Every error is a JSON body; no malformed request makes the app answer 500.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping

import orjson
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from processor.emulators import cordial_checks as checks
from processor.emulators.control import MAX_BODY_BYTES, EmulatorCore
from processor.emulators.cordial_admin import basic_auth_ok, validate_integration
from processor.emulators.cordial_state import CordialState, UnknownAttributes
from processor.emulators.faults import FaultConfig, FaultInjector
from processor.emulators.recorder import DEFAULT_MAX_BYTES, Entry, Recorder
from processor.emulators.wire import BadJSON, json_response, parse_object, raw_json_response

log = structlog.get_logger(__name__)

ActivityHook = Callable[[dict[str, object]], None]
_Check = Callable[[checks.Body], list[str]]
_Apply = Callable[[CordialState, checks.Body], dict[str, object]]

_ACTIONS: dict[str, tuple[_Check, _Apply]] = {
    "upsertContact": (checks.check_upsert_contact, CordialState.upsert_contact),
    "createContactactivity": (checks.check_activity, CordialState.create_activity),
    "addContactToList": (checks.check_add_to_list, CordialState.add_to_list),
    "removeContactFromList": (checks.check_remove_from_list, CordialState.remove_from_list),
    "addProductToCart": (checks.check_add_to_cart, CordialState.add_to_cart),
    "removeProductFromCart": (checks.check_remove_from_cart, CordialState.remove_from_cart),
    "upsertOrder": (checks.check_order, CordialState.upsert_order),
    "mergeContacts": (checks.check_merge, CordialState.merge),
}
ACTIONS = tuple(_ACTIONS)

_UNAUTHORIZED = orjson.dumps({"error": True, "message": "Unauthorized: missing or invalid API key"})
_AUTH_OK = orjson.dumps({"success": True, "message": "authenticated"})


def _error(status: int, message: str, errors: list[str] | None = None) -> Response:
    body: dict[str, object] = {"error": True, "message": message}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


def create_app(
    *,
    api_key: str,
    faults: FaultConfig | None = None,
    on_activity: ActivityHook | None = None,
    known_attributes: Iterable[str] | None = None,
    reject_unknown_attributes: bool = False,
    max_recorded: int = 100_000,
    max_recorded_bytes: int = DEFAULT_MAX_BYTES,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """Build the Cordial emulator (ingest and admin routes on one app).

    `known_attributes=None` accepts every contact attribute; otherwise others are ignored and
    named in the answer, or, with `reject_unknown_attributes`, refused with a 400 unless the live
    segment integration has `contactsErrorHandling: ignoreMissingAttributes`.
    `on_activity` receives each accepted createContactactivity body; it runs on the server's
    event loop, so it must not block (errors in it are logged, not answered).
    The received log keeps the last `max_recorded` requests within `max_recorded_bytes` of
    bodies; `dropped` in its answer counts what fell out.
    """
    state = CordialState(known_attributes, reject_unknown_attributes=reject_unknown_attributes)
    core = EmulatorCore(
        FaultInjector(faults),
        Recorder(max_recorded, max_bytes=max_recorded_bytes),
        state.snapshot,
        state.reset,
        max_body_bytes=max_body_bytes,
    )
    key_bytes = api_key.encode()

    def key_ok(request: Request) -> bool:
        given = request.headers.get("x-api-key")
        return given is not None and hmac.compare_digest(given.encode(), key_bytes)

    async def check_auth(request: Request, entry: Entry) -> Response:
        if not key_ok(request):
            return raw_json_response(_UNAUTHORIZED, 401)
        return raw_json_response(_AUTH_OK)

    async def ingest(request: Request, entry: Entry) -> Response:
        if not key_ok(request):
            return raw_json_response(_UNAUTHORIZED, 401)
        action = request.path_params["action"]
        spec = _ACTIONS.get(action)
        if spec is None:
            return _error(404, f"unknown action {action!r}")
        try:
            body = parse_object(entry.body)
        except BadJSON as exc:
            return _error(400, str(exc))
        problems = spec[0](body)
        if problems:
            return _error(400, f"{action}: invalid request", problems)
        try:
            result = spec[1](state, body)
        except UnknownAttributes as exc:
            return _error(400, f"{action}: unknown attributes", exc.problems)
        if on_activity is not None and action == "createContactactivity":
            try:
                on_activity(body)
            except Exception:
                log.exception("emulator_activity_hook_failed")
        return json_response(result)

    async def list_integrations(request: Request, entry: Entry) -> Response:
        if not basic_auth_ok(request, api_key):
            return raw_json_response(_UNAUTHORIZED, 401)
        return json_response(list(state.integrations.values()))

    async def write_integration(request: Request, entry: Entry) -> Response:
        if not basic_auth_ok(request, api_key):
            return raw_json_response(_UNAUTHORIZED, 401)
        exists = "segment" in state.integrations
        if request.method == "POST" and exists:
            return _error(409, "the segment integration already exists; use PUT to update it")
        if request.method == "PUT" and not exists:
            return _error(404, "no segment integration exists; use POST to create it")
        try:
            body = parse_object(entry.body)
        except BadJSON as exc:
            return _error(400, str(exc))
        problems = validate_integration(body)
        if problems:
            return _error(422, "invalid integration configuration", problems)
        stored = _normalised(body)
        state.integrations["segment"] = stored
        return json_response(stored, 201 if request.method == "POST" else 200)

    routes = [
        Route("/api/checkAuth", core.api(check_auth), methods=["GET"]),
        Route("/api/segment/{action}", core.api(ingest), methods=["POST"]),
        Route("/api/integrations", core.api(list_integrations), methods=["GET"]),
        Route("/api/integrations/segment", core.api(write_integration), methods=["POST", "PUT"]),
        *core.control_routes(),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.emulator = core
    app.state.cordial = state
    return app


def _normalised(body: Mapping[str, object]) -> dict[str, object]:
    """The stored form: documented keys in documented order, lists defaulted."""
    stored: dict[str, object] = {
        "name": "segment",
        "enabled": body["enabled"],
        "attributeMapping": body.get("attributeMapping", []),
        "ignoreFields": body.get("ignoreFields", []),
    }
    if body.get("contactsErrorHandling") is not None:
        stored["contactsErrorHandling"] = body["contactsErrorHandling"]
    return stored


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, "Not Found")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, "Method Not Allowed")
