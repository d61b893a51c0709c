"""Body checks for the Cordial ingest actions: what the real API answers 400 to.

Each check returns a list of problems (empty = acceptable) so that one answer names them all.
The checks are about types and presence only; the state logic trusts them afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Body = Mapping[str, object]
Problems = list[str]

IDENTITY_FIELDS = ("segmentIdKey", "segmentId", "anonymousId", "userIdentities")
EMAIL_PATH = "channels.email.address"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_id(value: object) -> bool:
    """An identifier value: a non-empty string, or a number (sent as a string by the API)."""
    return (isinstance(value, str) and value != "") or is_number(value)


def _present(body: Body, key: str) -> bool:
    return body.get(key) is not None and body.get(key) != ""


def check_identity(body: Body) -> Problems:
    problems: Problems = []
    key = body.get("segmentIdKey")
    if key is not None and (not isinstance(key, str) or not key):
        problems.append("segmentIdKey: must be a non-empty string")
    for name in ("segmentId", "anonymousId"):
        if body.get(name) is not None and not is_id(body[name]):
            problems.append(f"{name}: must be a non-empty string")
    identities = body.get("userIdentities")
    if identities is not None:
        if not isinstance(identities, dict):
            problems.append("userIdentities: must be an object")
        else:
            for path, value in identities.items():
                if not path:
                    problems.append("userIdentities: identifier paths must be non-empty")
                elif value is not None and not is_id(value):
                    problems.append(f"userIdentities.{path}: must be a string")
                elif path == EMAIL_PATH and isinstance(value, str) and value and not _EMAIL.match(value):
                    problems.append(f"userIdentities.{path}: must be a valid e-mail address")
    has_identity = isinstance(identities, dict) and any(is_id(v) for v in identities.values())
    if not problems and not (has_identity or is_id(body.get("segmentId")) or is_id(body.get("anonymousId"))):
        problems.append("a contact identifier is required (userIdentities, segmentId or anonymousId)")
    return problems


def _require(body: Body, problems: Problems, *keys: str) -> None:
    for key in keys:
        if not _present(body, key):
            problems.append(f"{key}: is required")


def _types(body: Body, problems: Problems, **kinds: str) -> None:
    tests: dict[str, tuple[Callable[[object], bool], str]] = {
        "id": (is_id, "must be a string"),
        "str": (lambda v: isinstance(v, str), "must be a string"),
        "int": (is_int, "must be an integer"),
        "num": (is_number, "must be a number"),
        "obj": (lambda v: isinstance(v, dict), "must be an object"),
        "list": (lambda v: isinstance(v, list), "must be an array"),
        "time": (lambda v: isinstance(v, str) or is_number(v), "must be a date-time"),
    }
    for key, kind in kinds.items():
        value = body.get(key)
        if value is None:
            continue
        test, message = tests[kind]
        if not test(value):
            problems.append(f"{key}: {message}")


def check_upsert_contact(body: Body) -> Problems:
    problems = check_identity(body)
    _types(body, problems, attributes="obj")
    return problems


def check_activity(body: Body) -> Problems:
    problems = check_identity(body)
    _require(body, problems, "action")
    _types(body, problems, action="str", time="time", properties="obj", context="obj")
    return problems


def check_add_to_list(body: Body) -> Problems:
    problems = check_identity(body)
    _require(body, problems, "groupId")
    _types(body, problems, groupId="id", listName="str")
    return problems


def check_remove_from_list(body: Body) -> Problems:
    problems = check_identity(body)
    _require(body, problems, "groupId")
    _types(body, problems, groupId="id")
    return problems


def _check_qty(body: Body, problems: Problems) -> None:
    qty = body.get("qty")
    if qty is not None and (not is_int(qty) or int(str(qty)) < 1):
        problems.append("qty: must be a positive integer")


def check_add_to_cart(body: Body) -> Problems:
    problems = check_identity(body)
    _require(body, problems, "productID", "sku", "qty", "category", "name")
    _types(
        body,
        problems,
        productID="id",
        sku="id",
        category="str",
        name="str",
        description="str",
        itemPrice="num",
        url="str",
        imageUrl="str",
        properties="obj",
    )
    _check_qty(body, problems)
    return problems


def check_remove_from_cart(body: Body) -> Problems:
    problems = check_identity(body)
    _require(body, problems, "productID", "qty")
    _types(body, problems, productID="id")
    _check_qty(body, problems)
    return problems


def check_order(body: Body) -> Problems:
    problems = check_identity(body)
    _require(body, problems, "orderID")
    _types(
        body,
        problems,
        orderID="id",
        purchaseDate="time",
        status="str",
        totalAmount="num",
        properties="obj",
        items="list",
        discountApplication="obj",
    )
    items = body.get("items")
    if isinstance(items, list):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"items[{i}]: must be an object")
                continue
            for key in ("productID", "sku", "name"):
                if not _present(item, key):
                    problems.append(f"items[{i}].{key}: is required")
            for key in ("qty", "itemPrice"):
                if item.get(key) is not None and not is_number(item[key]):
                    problems.append(f"items[{i}].{key}: must be a number")
    return problems


def check_merge(body: Body) -> Problems:
    problems: Problems = []
    _require(body, problems, "previousId")
    _types(body, problems, segmentIdKey="str", segmentId="id", anonymousId="id", previousId="id")
    if not problems and not (is_id(body.get("segmentId")) or is_id(body.get("anonymousId"))):
        problems.append("segmentId or anonymousId is required")
    return problems
