"""Property: no request body, however malformed, makes an emulator crash or answer 5xx.

Bodies are random bytes, random JSON, and objects built from the fields the routes read with
values of the wrong types. The answer must be JSON with a 2xx/4xx status.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from processor.emulators import cordial, segment

CORDIAL = TestClient(cordial.create_app(api_key="k"), raise_server_exceptions=True)
SEGMENT = TestClient(segment.create_app(write_key="w"), raise_server_exceptions=True)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)
CORDIAL_FIELDS = [
    "segmentIdKey", "segmentId", "anonymousId", "userIdentities", "attributes", "action", "time",
    "properties", "context", "groupId", "listName", "productID", "sku", "qty", "category", "name",
    "itemPrice", "orderID", "items", "totalAmount", "discountApplication", "previousId", "enabled",
    "attributeMapping", "ignoreFields", "contactsErrorHandling",
]  # fmt: skip
SEGMENT_FIELDS = [
    "type",
    "event",
    "userId",
    "anonymousId",
    "messageId",
    "groupId",
    "previousId",
    "properties",
]


def objects(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(fields), json_values, max_size=8)


def dumps(value: object) -> bytes:
    # the standard library writes integers of any size, which orjson refuses to
    return json.dumps(value).encode()


def bodies(fields: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=64),
        json_values.map(dumps),
        objects(fields).map(dumps),
        st.dictionaries(st.just("batch"), st.lists(objects(fields) | json_values, max_size=4)).map(dumps),
    )


def assert_clean(response: Any) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    orjson.loads(response.content)


@SETTINGS
@given(action=st.sampled_from([*cordial.ACTIONS, "nope"]), body=bodies(CORDIAL_FIELDS))
def test_cordial_ingest_never_fails_on_any_body(action: str, body: bytes) -> None:
    response = CORDIAL.post(f"/api/segment/{action}", content=body, headers={"x-api-key": "k"})
    assert_clean(response)
    assert response.status_code in (200, 400, 404)
    assert_clean(CORDIAL.get("/_emulator/state"))


@SETTINGS
@given(method=st.sampled_from(["POST", "PUT"]), body=bodies(CORDIAL_FIELDS))
def test_cordial_admin_never_fails_on_any_body(method: str, body: bytes) -> None:
    response = CORDIAL.request(method, "/api/integrations/segment", content=body, auth=("k", ""))
    assert_clean(response)
    assert response.status_code in (200, 201, 400, 404, 409, 422)


@SETTINGS
@given(
    route=st.sampled_from(["batch", *segment.TYPES]),
    body=bodies(SEGMENT_FIELDS),
    gzip_header=st.booleans(),
)
def test_segment_never_fails_on_any_body(route: str, body: bytes, gzip_header: bool) -> None:
    headers = {"Content-Encoding": "gzip"} if gzip_header else {}
    response = SEGMENT.post(f"/v1/{route}", content=body, headers=headers, auth=("w", ""))
    assert_clean(response)
    assert response.status_code in (200, 400)
    assert_clean(SEGMENT.get("/_emulator/state"))
    assert_clean(SEGMENT.get("/_emulator/received", params={"limit": 5}))


@SETTINGS
@given(body=bodies(["rate_429", "rate_500", "latency_ms", "seed", "bogus"]))
def test_fault_control_never_fails_on_any_body(body: bytes) -> None:
    response = CORDIAL.post("/_emulator/faults", content=body)
    assert_clean(response)
    CORDIAL.post("/_emulator/reset")


@SETTINGS
@given(authorization=st.text(max_size=40))
def test_any_authorization_header_is_handled(authorization: str) -> None:
    encoded = authorization.encode("utf-8")
    for client, method, path in (
        (SEGMENT, "POST", "/v1/batch"),
        (CORDIAL, "GET", "/api/integrations"),
    ):
        response = client.request(method, path, content=b'{"batch": []}', headers={b"authorization": encoded})
        assert_clean(response)


@SETTINGS
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    prefix=st.sampled_from(["/api/segment/", "/api/", "/v1/", "/_emulator/", "/"]),
    tail=st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_-.%0123456789", max_size=20),
    query=st.text(alphabet="abc=&%0123456789-", max_size=15),
)
def test_any_route_and_method_answers_json(method: str, prefix: str, tail: str, query: str) -> None:
    for client, headers in ((CORDIAL, {"x-api-key": "k"}), (SEGMENT, {})):
        response = client.request(method, f"{prefix}{tail}?{query}", content=b"{}", headers=headers)
        assert response.status_code < 500, response.text
        orjson.loads(response.content)
    CORDIAL.post("/_emulator/reset")
    SEGMENT.post("/_emulator/reset")
