"""Deterministic sample traffic for both directions: the demo's mix and the tests' numbered streams.

`sample_traffic()` is what `cordial-bridge demo` publishes: realistic Segment messages keyed by
userId (else anonymousId) and Cordial event records keyed by cID, plus a few records that must
fail or be held back on purpose, so the summary shows every path (delivered, dead-lettered,
blocked). `numbered_segment_messages()` / `numbered_cordial_records()` give N uniquely numbered
events per key, each of which triggers exactly one request, so a test can check arrival and
per-key order by (key, seq). Pure: the same arguments always give the same bytes.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import orjson

TrafficDirection = Literal["inbound", "outbound"]

BASE_TIME = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)

Expect = Literal["deliver", "dead_letter", "blocked", "partial"]
"""What should become of a record: `partial` = some actions go out, one is dead-lettered."""


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One record to publish: its key, its raw value bytes and what it demonstrates."""

    key: bytes | None
    value: bytes
    note: str
    expect: Expect = "deliver"


@dataclass(frozen=True, slots=True)
class Traffic:
    inbound: tuple[SampleRecord, ...]
    outbound: tuple[SampleRecord, ...]

    def for_direction(self, direction: TrafficDirection) -> tuple[SampleRecord, ...]:
        return self.inbound if direction == "inbound" else self.outbound


def _ts(seconds: int) -> str:
    moment = BASE_TIME + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _cordial_time(seconds: int) -> str:
    return (BASE_TIME + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _record(key: str | None, value: object, note: str, expect: Expect = "deliver") -> SampleRecord:
    return SampleRecord(None if key is None else key.encode(), orjson.dumps(value), note, expect)


# --------------------------------------------------------------------------- Segment → Cordial

_PRODUCTS = (
    {"product_id": "507f1f77", "sku": "G-32", "category": "Games", "name": "Monopoly", "price": 18.99},
    {"product_id": "505bd76", "sku": "F-17", "category": "Games", "name": "Uno", "price": 6.5},
    {"product_id": "9981a", "sku": "B-01", "category": "Books", "name": "Dune", "price": 11.0},
)


def _user(n: int) -> tuple[str, str]:
    return f"user-{n:03d}", f"user{n:03d}@example.com"


def _segment_event(kind: int, n: int, seq: int, rng: random.Random) -> SampleRecord:
    """One realistic Segment message; `kind` picks the template."""
    user_id, email = _user(n)
    base: dict[str, object] = {"messageId": f"seg-{seq:05d}", "timestamp": _ts(seq), "userId": user_id}
    context = {"traits": {"email": email}, "ip": "203.0.113.7", "library": {"name": "analytics.js"}}
    product = dict(_PRODUCTS[rng.randrange(len(_PRODUCTS))])
    if kind == 0:
        message = {
            **base,
            "type": "identify",
            "traits": {"email": email, "first_name": f"Ada{n}", "plan": rng.choice(["free", "pro"])},
        }
        return _record(user_id, message, "identify → upsertContact")
    if kind == 1:
        message = {
            **base,
            "type": "track",
            "event": "Product Added",
            "properties": {**product, "quantity": rng.randint(1, 3), "brand": "Hasbro"},
            "context": context,
        }
        return _record(user_id, message, "Product Added → addProductToCart + activity")
    if kind == 2:
        message = {
            **base,
            "type": "track",
            "event": "Product Removed",
            "properties": {"product_id": product["product_id"], "quantity": 1},
            "context": context,
        }
        return _record(user_id, message, "Product Removed → removeProductFromCart + activity")
    if kind == 3:
        total = round(float(str(product["price"])) * 2, 2)
        message = {
            **base,
            "type": "track",
            "event": "Order Completed",
            "properties": {
                "order_id": f"order-{seq:05d}",
                "total": total,
                "revenue": total,
                "currency": "USD",
                "discount": rng.choice([0, 2.5]),
                "products": [{**product, "quantity": 2}],
            },
            "context": context,
        }
        return _record(user_id, message, "Order Completed → upsertOrder + activity")
    if kind == 4:
        message = {
            **base,
            "type": "page",
            "name": "Pricing",
            "properties": {"url": "https://shop.example.com/pricing", "title": "Pricing"},
            "context": context,
        }
        return _record(user_id, message, "page → createContactactivity (pageView)")
    if kind == 5:
        message = {
            **base,
            "type": "group",
            "groupId": f"team-{n % 3}",
            "traits": {"name": f"Newsletter {n % 3}"},
            "context": context,
        }
        return _record(user_id, message, "group → addContactToList")
    if kind == 6:
        message = {
            "messageId": f"seg-{seq:05d}",
            "timestamp": _ts(seq),
            "anonymousId": f"anon-{n:03d}",
            "type": "page",
            "name": "Home",
            "properties": {"url": "https://shop.example.com/"},
        }
        return _record(f"anon-{n:03d}", message, "anonymous page view (keyed by anonymousId)")
    if kind == 7:
        message = {
            **base,
            "type": "alias",
            "previousId": f"anon-{n:03d}",
            "context": context,
        }
        return _record(user_id, message, "alias → mergeContacts")
    message = {
        **base,
        "type": "track",
        "event": "Signed Up",
        "properties": {"plan": "pro", "referrer": "newsletter"},
        "context": context,
    }
    return _record(user_id, message, "track → createContactactivity")


_SEGMENT_KINDS = 9


def segment_failures() -> tuple[SampleRecord, ...]:
    """Inbound records that must not reach Cordial as sent (the demo's failure paths)."""
    return (
        SampleRecord(b"user-900", b'{"type": "track", "event": oops', "not JSON", "dead_letter"),
        _record(
            None,
            {"messageId": "seg-bad-1", "type": "track", "event": "Ghost", "properties": {}},
            "no identifier",
            "dead_letter",
        ),
        _record(
            "user-901",
            {
                "messageId": "seg-bad-2",
                "type": "track",
                "userId": "user-901",
                "event": "Product Removed",
                "properties": {"product_id": "505bd76", "quantity": 2.5},
                "context": {"traits": {"email": "user901@example.com"}},
            },
            "validation error (qty 2.5): removeProductFromCart dead-lettered, activity sent",
            "partial",
        ),
        _record(
            "user-902",
            {
                "messageId": "seg-bad-3",
                "type": "track",
                "userId": "user-902",
                "event": "Email Opened",
                "properties": {"email_id": "x"},
                "context": {"source": "cordial", "traits": {"email": "user902@example.com"}},
            },
            "came from Cordial (context.source) → blocked",
            "blocked",
        ),
    )


def segment_messages(count: int, *, seed: int = 7, users: int = 8) -> tuple[SampleRecord, ...]:
    """`count` realistic Segment messages for `users` users, templates cycled, values seeded."""
    rng = random.Random(seed)
    kinds = itertools.cycle(range(_SEGMENT_KINDS))
    return tuple(_segment_event(next(kinds), i % users, i, rng) for i in range(count))


# --------------------------------------------------------------------------- Cordial → Segment

_CORDIAL_TEMPLATES: tuple[tuple[str, str | None], ...] = (
    ("open", None),
    ("click", None),
    ("optout", None),
    ("bounce", None),
    ("crdl_app_open", None),
    ("crdl_notification_tap", None),
    ("message_sent", "sms"),
    ("loyalty_points_earned", None),
)


def _contact(n: int) -> str:
    return f"5c673e6b10986b7e3cd5{n:04x}"


def _cordial_event(kind: int, n: int, seq: int, rng: random.Random) -> SampleRecord:
    action, channel = _CORDIAL_TEMPLATES[kind]
    cid = _contact(n)
    record: dict[str, object] = {
        "_id": f"6172e2c81815fd5516{seq:06x}",
        "action": action,
        "time": _cordial_time(seq),
        "cID": cid,
    }
    if channel is not None:
        record["channel"] = channel
    if action in ("open", "click", "optout", "bounce"):
        bmid = f"45:6172e28c897f2011ab13{n:04x}:ot"
        record.update(
            {
                "bmID": bmid,
                "mcID": f"{bmid}:{cid}:1",
                "first": rng.random() < 0.5,
                "message_name": "Fall Sale",
                "subject": "Fall Sale 10% Off",
                "d": {"type": "computer", "browser": rng.choice(["Chrome", "Firefox"]), "robot": False},
                "system_properties": {"ed": "", "mTags": ["test1", "test2"], "rl": "$utm_source=test1"},
            }
        )
        if action == "click":
            record["link"] = "https://shop.example.com/sale?utm_campaign=fall"
    elif action.startswith("crdl_"):
        record["properties"] = {"app_version": "4.2.0", "os": rng.choice(["iOS", "Android"])}
    elif channel == "sms":
        record["properties"] = {"message": "Your order shipped", "to": f"+1555000{n:04d}"}
    else:
        record["properties"] = {"points": rng.randint(10, 500), "tier": "gold"}
    if n % 2 == 0:
        record["segment_id"] = _user(n)[0]
    return _record(cid, record, f"{action} ({channel or 'inferred'} channel)")


def cordial_failures() -> tuple[SampleRecord, ...]:
    """Outbound records that must not reach Segment as sent (the demo's failure paths)."""
    cid = _contact(900)
    return (
        SampleRecord(cid.encode(), b"\x00\x01 not json at all", "not JSON", "dead_letter"),
        _record(
            None,
            {"_id": "bad000000000000001", "action": "open", "time": _cordial_time(1)},
            "no cID",
            "dead_letter",
        ),
        _record(
            cid,
            {
                "_id": "bad000000000000002",
                "action": "loyalty_points_earned",
                "cID": cid,
                "time": _cordial_time(2),
                "properties": {"notes": "x" * 40_000},
            },
            "over Segment's 32 KB message limit",
            "dead_letter",
        ),
        _record(
            cid,
            {
                "_id": "bad000000000000003",
                "action": "createContactactivity",
                "cID": cid,
                "origin": "segment",
                "time": _cordial_time(3),
            },
            "origin=segment → blocked (recursion)",
            "blocked",
        ),
    )


def cordial_records(count: int, *, seed: int = 11, contacts: int = 8) -> tuple[SampleRecord, ...]:
    """`count` realistic Cordial event records for `contacts` contacts, templates cycled."""
    rng = random.Random(seed)
    kinds = itertools.cycle(range(len(_CORDIAL_TEMPLATES)))
    return tuple(_cordial_event(next(kinds), i % contacts, i, rng) for i in range(count))


def sample_traffic(events: int = 40) -> Traffic:
    """The demo's traffic: `events` good records per direction, then the deliberate failures."""
    return Traffic(
        inbound=segment_messages(events) + segment_failures(),
        outbound=cordial_records(events) + cordial_failures(),
    )


# --------------------------------------------------------------------------- numbered streams


@dataclass(frozen=True, slots=True)
class NumberedEvent:
    """One test event: `key` and `seq` identify it at the emulator."""

    key: str
    seq: int
    record: SampleRecord


def _round_robin(keys: Sequence[str], per_key: int) -> Iterator[tuple[str, int]]:
    for seq in range(per_key):
        for key in keys:
            yield key, seq


def numbered_segment_messages(run: str, keys: int, per_key: int) -> tuple[NumberedEvent, ...]:
    """Track events `{run}-step` for users `{run}-u<k>`, seq 0..per_key-1 each, keys interleaved.

    Each triggers exactly one `createContactactivity` whose `properties` carry `run` and `seq`.
    """
    names = [f"{run}-u{k}" for k in range(keys)]
    events = []
    for i, (user, seq) in enumerate(_round_robin(names, per_key)):
        message = {
            "messageId": f"{user}-{seq}",
            "type": "track",
            "event": "Demo Step",
            "userId": user,
            "timestamp": _ts(i),
            "properties": {"run": run, "seq": seq},
            "context": {"traits": {"email": f"{user}@example.com"}},
        }
        events.append(NumberedEvent(user, seq, _record(user, message, f"{user} #{seq}")))
    return tuple(events)


def numbered_cordial_records(run: str, keys: int, per_key: int) -> tuple[NumberedEvent, ...]:
    """Custom `demo_step` records for contacts `{run}-c<k>`, seq 0..per_key-1 each, keys interleaved.

    Each becomes one Segment track message with `anonymousId` = cID and `properties.seq`.
    """
    names = [f"{run}-c{k}" for k in range(keys)]
    events = []
    for i, (cid, seq) in enumerate(_round_robin(names, per_key)):
        record = {
            "_id": f"{cid}-{seq}",
            "action": "demo_step",
            "time": _cordial_time(i),
            "cID": cid,
            "properties": {"run": run, "seq": seq},
        }
        events.append(NumberedEvent(cid, seq, _record(cid, record, f"{cid} #{seq}")))
    return tuple(events)
