"""Translation throughput, single process: decode + translate per second, JSON and Avro, both directions.

    python bench/translate.py [--events N] [--seed S] [--json-out FILE]

Generates a mixed corpus (every Segment message type incl. cart and order events; every Cordial
channel incl. nested email clicks), then times decode+translate over it. No I/O in the timed loop.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from processor.codecs import JsonCodec
from processor.codecs.avro import AvroCodec
from processor.codecs.registry import PinnedSchema
from processor.config.settings import InboundSettings, OutboundSettings
from processor.inbound.translate import InboundTranslator
from processor.outbound.translate import OutboundTranslator

SCHEMAS = Path(__file__).resolve().parents[1] / "processor" / "schemas"


def segment_corpus(n: int, rng: random.Random) -> list[dict[str, object]]:
    """A mix close to real Segment traffic: mostly track/page, some identify, a few cart/order/group/alias."""
    out: list[dict[str, object]] = []
    for i in range(n):
        user = f"user{rng.randrange(5000)}"
        base: dict[str, object] = {
            "messageId": f"m-{i}",
            "userId": user,
            "anonymousId": f"anon-{user}",
            "timestamp": "2026-03-14T09:26:53.000Z",
            "context": {
                "traits": {"email": f"{user}@example.com"},
                "ip": "10.0.0.1",
                "library": {"name": "x"},
            },
        }
        kind = rng.random()
        if kind < 0.35:
            out.append(
                {**base, "type": "track", "event": "Video Played", "properties": {"title": "t", "n": i}}
            )
        elif kind < 0.55:
            out.append(
                {**base, "type": "page", "name": "Home", "properties": {"url": "https://x/", "path": "/"}}
            )
        elif kind < 0.75:
            traits = {
                "email": f"{user}@example.com",
                "first_name": "Ada",
                "plan": "pro",
                "address": {"state": "CA"},
            }
            out.append({**base, "type": "identify", "traits": traits})
        elif kind < 0.85:
            props = {
                "product_id": "p1",
                "sku": "S-1",
                "quantity": 2,
                "category": "c",
                "name": "Mug",
                "price": 9.5,
            }
            out.append({**base, "type": "track", "event": "Product Added", "properties": props})
        elif kind < 0.93:
            products = [
                {"product_id": f"p{k}", "sku": f"S-{k}", "name": "n", "price": 3, "quantity": 1}
                for k in range(3)
            ]
            props = {
                "order_id": 1000 + i,
                "total": 30,
                "discount": 2,
                "currency": "USD",
                "products": products,
            }
            out.append({**base, "type": "track", "event": "Order Completed", "properties": props})
        elif kind < 0.97:
            out.append({**base, "type": "group", "groupId": "g1", "traits": {"name": "VIP"}})
        else:
            out.append({**base, "type": "alias", "previousId": f"anon-{user}"})
    return out


def cordial_corpus(n: int, rng: random.Random) -> list[dict[str, object]]:
    """Cordial records across channels; email clicks carry the seed's nested shape."""
    out: list[dict[str, object]] = []
    for i in range(n):
        cid = f"c{rng.randrange(5000):06d}"
        record: dict[str, object] = {"_id": f"e{i}", "cID": cid, "time": "2021-10-22T16:11:48+0000"}
        kind = rng.random()
        if kind < 0.6:
            record.update(
                {
                    "action": rng.choice(["open", "click", "optout", "bounce"]),
                    "bmID": "45:6172e28c897f2011ab137761:ot",
                    "mcID": f"45:x:{cid}:1",
                    "first": True,
                    "message_name": "Fall Sale",
                    "subject": "Fall Sale 10% Off",
                    "lTags": ["threadsdemo"],
                    "d": {
                        "type": "computer",
                        "device": "WebKit",
                        "platform": "Windows",
                        "robot": False,
                        "asn": 701,
                    },
                    "properties": {"foo": "bar", "foo2": "bar2"},
                    "system_properties": {
                        "ed": "",
                        "mTags": ["test1", "test2"],
                        "link": "",
                        "lKey": "",
                        "rl": "$utm_source=test1",
                    },
                }
            )
        elif kind < 0.8:
            record.update({"action": "crdl_app_open", "properties": {"app": "ios", "v": "1.2"}})
        elif kind < 0.9:
            record.update({"action": "message_sent", "channel": "sms", "properties": {"to": "+1555"}})
        else:
            record.update({"action": "wishlist_added", "properties": {"items": [{"sku": "a"}, {"sku": "b"}]}})
        out.append(record)
    return out


def rate(
    label: str,
    values: Sequence[Any],
    decode: Callable[[Any], object],
    translate: Callable[[object], object],
    repeat: int = 3,
) -> dict[str, object]:
    """Best of `repeat` passes over the corpus: events per second of decode + translate."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for value in values:
            translate(decode(value))
        best = min(best, time.perf_counter() - start)
    per_second = len(values) / best
    return {
        "case": label,
        "events": len(values),
        "seconds": round(best, 4),
        "events_per_s": round(per_second),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    inbound = InboundTranslator(InboundSettings())
    outbound = OutboundTranslator(OutboundSettings())
    segment = segment_corpus(args.events, rng)
    cordial = cordial_corpus(args.events, rng)
    json_codec = JsonCodec()
    seg_avro = AvroCodec(PinnedSchema(str(SCHEMAS / "segment_message.avsc")), subject="s", max_bytes=1 << 20)
    cor_avro = AvroCodec(PinnedSchema(str(SCHEMAS / "cordial_event.avsc")), subject="c", max_bytes=1 << 20)

    results = [
        rate("inbound json", [orjson.dumps(m) for m in segment], json_codec.decode, inbound.translate),
        rate("inbound avro", [seg_avro.encode(m) for m in segment], seg_avro.decode, inbound.translate),
        rate("outbound json", [orjson.dumps(r) for r in cordial], json_codec.decode, outbound.translate),
        rate("outbound avro", [cor_avro.encode(r) for r in cordial], cor_avro.decode, outbound.translate),
        rate("inbound translate only", segment, lambda m: m, inbound.translate),
        rate("outbound translate only", cordial, lambda r: r, outbound.translate),
    ]
    print(f"{'case':<26}{'events':>9}{'seconds':>10}{'events/s':>12}")
    for row in results:
        print(f"{row['case']:<26}{row['events']:>9}{row['seconds']:>10}{row['events_per_s']:>12,}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"benchmark": "translate", "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
