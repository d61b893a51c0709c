"""Cordial's integration-configuration API (SPEC §3.4, seed 000), served by the Cordial emulator.

`GET /api/integrations`, `POST`/`PUT /api/integrations/segment`, Basic auth with the API key as
user name and an empty password. A body that does not fit the documented shape is answered 422
with every problem listed, as the real API rejects a bad configuration.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from starlette.requests import Request

_ALLOWED_KEYS = frozenset(("name", "enabled", "attributeMapping", "ignoreFields", "contactsErrorHandling"))
_ERROR_HANDLING = ("ignoreMissingAttributes",)


def basic_auth_ok(request: Request, api_key: str) -> bool:
    """True when `Authorization: Basic base64(api_key + ":")` (empty password)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return False
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep) and password == "" and hmac.compare_digest(user.encode(), api_key.encode())


def _non_empty_str(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def validate_integration(body: Mapping[str, object]) -> list[str]:
    """Every problem with a segment integration body; empty when it is acceptable."""
    problems: list[str] = []
    for key in body:
        if key not in _ALLOWED_KEYS:
            problems.append(f"{key}: unknown field")
    if body.get("name") != "segment":
        problems.append('name: must be "segment"')
    if not isinstance(body.get("enabled"), bool):
        problems.append("enabled: must be true or false")
    mapping = body.get("attributeMapping", [])
    if not isinstance(mapping, list):
        problems.append("attributeMapping: must be an array")
    else:
        for i, item in enumerate(mapping):
            if not isinstance(item, dict):
                problems.append(f"attributeMapping[{i}]: must be an object")
                continue
            for key in ("segmentField", "cordialKey"):
                if not _non_empty_str(item.get(key)):
                    problems.append(f"attributeMapping[{i}].{key}: must be a non-empty string")
            for key in item:
                if key not in ("segmentField", "cordialKey"):
                    problems.append(f"attributeMapping[{i}].{key}: unknown field")
    ignore = body.get("ignoreFields", [])
    if not isinstance(ignore, list):
        problems.append("ignoreFields: must be an array")
    else:
        for i, field in enumerate(ignore):
            if not _non_empty_str(field):
                problems.append(f"ignoreFields[{i}]: must be a non-empty string")
    handling = body.get("contactsErrorHandling")
    if handling is not None and handling not in _ERROR_HANDLING:
        problems.append('contactsErrorHandling: must be "ignoreMissingAttributes" or absent')
    return problems
