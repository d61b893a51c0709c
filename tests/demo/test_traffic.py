"""Sample traffic: deterministic, keyed as SPEC §2 says, and its failures fail the way they claim."""

from __future__ import annotations

import orjson
import pytest

from processor.demo.expect import summarise, translate_values
from processor.demo.traffic import (
    cordial_failures,
    cordial_records,
    numbered_cordial_records,
    numbered_segment_messages,
    sample_traffic,
    segment_failures,
    segment_messages,
)


def test_traffic_is_deterministic() -> None:
    """The same arguments give the same bytes, so a demo run is reproducible."""
    assert sample_traffic(30) == sample_traffic(30)
    assert segment_messages(10, seed=1) != segment_messages(10, seed=2)


def test_segment_messages_are_keyed_by_user_id_else_anonymous_id() -> None:
    """SPEC §2: the inbound key is userId, else anonymousId."""
    for record in segment_messages(40):
        message = orjson.loads(record.value)
        expected_key = message.get("userId") or message.get("anonymousId")
        assert record.key == expected_key.encode()


def test_segment_mix_covers_every_message_type_and_the_commerce_events() -> None:
    messages = [orjson.loads(r.value) for r in segment_messages(40)]
    assert {m["type"] for m in messages} >= {"identify", "track", "page", "group", "alias"}
    events = {m.get("event") for m in messages}
    assert {"Product Added", "Product Removed", "Order Completed"} <= events
    assert any("userId" not in m for m in messages), "an anonymous visitor is part of the mix"


def test_cordial_records_are_keyed_by_cid_and_cover_every_channel() -> None:
    records = cordial_records(40)
    actions = set()
    for record in records:
        value = orjson.loads(record.value)
        assert record.key == value["cID"].encode()
        actions.add(value["action"])
    assert {"open", "click", "optout", "bounce"} <= actions
    assert any(a.startswith("crdl_") for a in actions)
    assert "message_sent" in actions
    assert "loyalty_points_earned" in actions


def test_good_records_all_translate_to_deliveries() -> None:
    """Nothing in the good mix is rejected or skipped by the translators."""
    inbound = summarise(translate_values("inbound", [r.value for r in segment_messages(27)], None))
    outbound = summarise(translate_values("outbound", [r.value for r in cordial_records(16)], None))
    assert (inbound.dead_letters, inbound.skipped) == (0, {})
    assert inbound.deliveries > 27, "several events fan out to more than one action"
    assert (outbound.deliveries, outbound.dead_letters, outbound.skipped) == (16, 0, {})


@pytest.mark.parametrize(
    ("direction", "failures"),
    [("inbound", segment_failures()), ("outbound", cordial_failures())],
    ids=["inbound", "outbound"],
)
def test_failures_fail_the_way_their_expectation_says(direction, failures) -> None:
    """Each deliberate failure is dead-lettered, partly dead-lettered or blocked, as labelled."""
    results = translate_values(direction, [r.value for r in failures], None)
    kinds = []
    for record, result in zip(failures, results, strict=True):
        if "error" in result:
            kind = "dead_letter"
        elif result.get("skipped") == "blocked_recursion":
            kind = "blocked"
        elif any("error" in item for item in result["results"]):
            kind = "partial"
        else:
            kind = "deliver"
        assert kind == record.expect, record.note
        kinds.append(kind)
    assert "dead_letter" in kinds
    assert "blocked" in kinds


def test_failure_error_classes() -> None:
    inbound = translate_values("inbound", [r.value for r in segment_failures()], None)
    outbound = translate_values("outbound", [r.value for r in cordial_failures()], None)
    assert [r["error"]["class"] for r in inbound if "error" in r] == ["invalid_json", "missing_identifier"]
    assert [r["error"]["class"] for r in outbound if "error" in r] == [
        "invalid_json",
        "missing_identifier",
        "message_too_large",
    ]
    partial = next(r for r in inbound if "results" in r and any("error" in i for i in r["results"]))
    assert [i["error"]["class"] for i in partial["results"] if "error" in i] == ["validation"]


def test_numbered_streams_are_unique_interleaved_and_one_delivery_each() -> None:
    inbound = numbered_segment_messages("t1", keys=3, per_key=4)
    outbound = numbered_cordial_records("t1", keys=3, per_key=4)
    for events in (inbound, outbound):
        assert len(events) == 12
        assert len({(e.key, e.seq) for e in events}) == 12
        assert [e.key for e in events[:3]] == sorted({e.key for e in events}), "keys interleave"
        for key in {e.key for e in events}:
            assert [e.seq for e in events if e.key == key] == [0, 1, 2, 3]
            assert all(e.record.key == key.encode() for e in events if e.key == key)
    assert summarise(translate_values("inbound", [e.record.value for e in inbound], None)).deliveries == 12
    assert summarise(translate_values("outbound", [e.record.value for e in outbound], None)).deliveries == 12
