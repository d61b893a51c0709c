"""Structural checks made before anything else."""

from __future__ import annotations

import orjson
import pytest

from processor.errors import ErrorClass
from processor.inbound.exceptions import TranslationError
from processor.inbound.message import MAX_DEPTH, check_message, event_id, is_from_cordial, nested_deeper_than


@pytest.mark.parametrize(
    ("value", "error_class"),
    [
        pytest.param([], ErrorClass.INVALID_MESSAGE, id="list"),
        pytest.param("identify", ErrorClass.INVALID_MESSAGE, id="string"),
        pytest.param(None, ErrorClass.INVALID_MESSAGE, id="null"),
        pytest.param({}, ErrorClass.INVALID_MESSAGE, id="no-type"),
        pytest.param({"type": 3}, ErrorClass.INVALID_MESSAGE, id="numeric-type"),
        pytest.param({"type": "Identify"}, ErrorClass.UNKNOWN_TYPE, id="wrong-case"),
        pytest.param({"type": "purchase"}, ErrorClass.UNKNOWN_TYPE, id="unknown"),
        pytest.param({"type": "track", "userId": {"a": 1}}, ErrorClass.INVALID_MESSAGE, id="object-user-id"),
        pytest.param(
            {"type": "track", "anonymousId": True}, ErrorClass.INVALID_MESSAGE, id="bool-anonymous-id"
        ),
    ],
)
def test_rejections(value, error_class) -> None:
    """Not an object, no string type, unknown type, unusable ids."""
    with pytest.raises(TranslationError) as caught:
        check_message(value)
    assert caught.value.error_class is error_class


@pytest.mark.parametrize("kind", ["identify", "track", "page", "screen", "group", "alias"])
def test_the_six_types_pass(kind) -> None:
    """Every Segment call type is accepted."""
    assert check_message({"type": kind, "userId": 7}) == {"type": kind, "userId": 7}


def test_depth_limit() -> None:
    """A message nested deeper than the encoder can write back is invalid, not a crash later."""
    deep: object = "leaf"
    for _ in range(MAX_DEPTH - 1):
        deep = {"x": deep}
    assert check_message({"type": "track", "properties": deep})["type"] == "track"
    with pytest.raises(TranslationError) as caught:
        check_message({"type": "track", "properties": [deep]})
    assert caught.value.error_class is ErrorClass.INVALID_MESSAGE
    assert nested_deeper_than([[[]]], 2)
    assert not nested_deeper_than([[], [1]], 2)


def test_deep_message_through_cli_encoding(translator) -> None:
    """Whatever the translator accepts, the JSON encoder can write (orjson stops at 255 levels)."""
    deep: object = 1
    for _ in range(MAX_DEPTH - 2):  # message and properties are the first two levels
        deep = [deep]
    result = translator.translate({"type": "track", "userId": "u", "properties": {"p": deep}})
    body = result.results[0].body
    orjson.dumps({"results": [{"request": {"body": body}}]})
    too_deep = translator.translate({"type": "track", "userId": "u", "properties": {"p": [[deep]]}})
    assert too_deep.error_class is ErrorClass.INVALID_MESSAGE


def test_recursion_marker_and_event_id() -> None:
    """context.source == "cordial" marks our own traffic; messageId is the event id."""
    assert is_from_cordial({"context": {"source": "cordial"}})
    assert not is_from_cordial({"context": "cordial"})
    assert not is_from_cordial({"context": {"source": "web"}})
    assert event_id({"messageId": "m"}) == "m"
    assert event_id({"messageId": 5}) is None
