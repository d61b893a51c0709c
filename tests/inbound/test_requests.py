"""The result types keep their dataclass behaviour with the hand-written `__init__`."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from processor.errors import ErrorClass
from processor.inbound.requests import ActionRejected, CordialRequest, InboundTranslation


def test_fields_defaults_and_positional_order() -> None:
    request = CordialRequest("upsertContact", {"a": 1})
    assert (request.action, request.body, request.method, request.path) == (
        "upsertContact",
        {"a": 1},
        "POST",
        "/api/segment/upsertContact",
    )
    assert [f.name for f in dataclasses.fields(CordialRequest)] == ["action", "body", "method"]
    assert CordialRequest("a", {}, "PUT").method == "PUT"
    translation = InboundTranslation((request,), None, "m-1")
    assert (translation.skipped, translation.event_id) == (None, "m-1")
    assert InboundTranslation(()) == InboundTranslation((), skipped=None, event_id=None)


def test_equality_repr_replace_pickle() -> None:
    rejected = ActionRejected("upsertOrder", ErrorClass.VALIDATION, "bad")
    assert rejected == ActionRejected("upsertOrder", ErrorClass.VALIDATION, "bad")
    assert rejected != ActionRejected("upsertOrder", ErrorClass.VALIDATION, "other")
    assert repr(rejected) == (
        f"ActionRejected(action='upsertOrder', error_class={ErrorClass.VALIDATION!r}, message='bad')"
    )
    request = CordialRequest("a", {"x": 1})
    assert dataclasses.replace(request, method="PUT") == CordialRequest("a", {"x": 1}, "PUT")
    translation = InboundTranslation((request, rejected), event_id="e")
    assert pickle.loads(pickle.dumps(translation)) == translation
    assert translation.requests == (request,)
    assert translation.rejected == (rejected,)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (CordialRequest("a", {}), "action"),
        (ActionRejected("a", ErrorClass.VALIDATION, "m"), "message"),
        (InboundTranslation(()), "skipped"),
    ],
)
def test_still_frozen(value: object, field: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, "changed")
