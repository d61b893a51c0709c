"""Emulator throughput: requests/s each emulator answers on loopback, so benchmarks of the processor
know the emulator is not their bottleneck.

    python bench/emulator.py [--requests N] [--max-seconds S] [--batch M] [--json-out FILE]

Each emulator runs in its own process (`cordial-bridge emulate …`, uvicorn + uvloop + httptools);
an aiohttp load generator in this process drives it at 0 ms and 20 ms injected latency with 50
and 200 concurrent connections. Each run is bounded by a request count and a time limit.
The machine is shared, so each row also prints both processes' CPU use and the requests per
server CPU-second: what the emulator sustains on one free core.
Cordial gets `upsertContact` calls (a new contact every time, so state grows as in a real run);
Segment gets `/v1/batch` requests of M track messages with fresh messageIds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import aiohttp
import orjson

CORDIAL_KEY = "bench-cordial-key"
SEGMENT_KEY = "bench-segment-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(kind: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CORDIAL_API_KEY": CORDIAL_KEY, "SEGMENT_WRITE_KEY": SEGMENT_KEY}
    cmd = [sys.executable, "-m", "processor", "emulate", kind, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} emulator did not start")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to see which side limits a run."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cordial_request(i: int) -> tuple[str, bytes, dict[str, str]]:
    body = {
        "segmentIdKey": "segment_id",
        "segmentId": f"user{i}",
        "userIdentities": {"channels.email.address": f"user{i}@example.com"},
        "attributes": {"first_name": "Ann", "plan": "pro"},
    }
    return "/api/segment/upsertContact", orjson.dumps(body), {"x-api-key": CORDIAL_KEY}


def segment_request_factory(batch: int) -> Callable[[int], tuple[str, bytes, dict[str, str]]]:
    auth = aiohttp.encode_basic_auth(SEGMENT_KEY, "")

    def make(i: int) -> tuple[str, bytes, dict[str, str]]:
        messages = [
            {
                "type": "track",
                "event": "Email Opened",
                "anonymousId": f"c{i}",
                "messageId": f"m-{i}-{j}",
                "properties": {"campaign_id": "b1", "email_id": "e1"},
                "timestamp": "2026-01-01T00:00:00.000Z",
            }
            for j in range(batch)
        ]
        return "/v1/batch", orjson.dumps({"batch": messages}), {"Authorization": auth}

    return make


async def drive(
    base: str,
    make: Callable[[int], tuple[str, bytes, dict[str, str]]],
    *,
    concurrency: int,
    total: int,
    max_seconds: float,
) -> dict[str, float]:
    """Send up to `total` requests from `concurrency` workers; stop early at `max_seconds`."""
    counter = itertools.count()
    done = 0
    errors = 0
    deadline = time.monotonic() + max_seconds
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal done, errors
            while time.monotonic() < deadline:
                i = next(counter)
                if i >= total:
                    return
                path, body, extra = make(i)
                async with session.post(base + path, data=body, headers=extra) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests": done, "errors": errors, "seconds": round(elapsed, 3), "rps": round(done / elapsed, 1)}


async def set_faults(base: str, **faults: float) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(base + "/_emulator/reset") as r:
            r.raise_for_status()
        async with session.post(base + "/_emulator/faults", json=faults) as r:
            r.raise_for_status()


async def bench_one(kind: str, args: argparse.Namespace) -> list[dict[str, object]]:
    port = free_port()
    proc = start_emulator(kind, port)
    base = f"http://127.0.0.1:{port}"
    make = cordial_request if kind == "cordial" else segment_request_factory(args.batch)
    rows: list[dict[str, object]] = []
    try:
        await set_faults(base)
        await drive(base, make, concurrency=20, total=500, max_seconds=5)  # warm-up
        for latency in (0.0, 20.0):
            for concurrency in (50, 200):
                await set_faults(base, latency_ms=latency)
                server_cpu, client_cpu = process_cpu_seconds(proc.pid), time.process_time()
                result = await drive(
                    base, make, concurrency=concurrency, total=args.requests, max_seconds=args.max_seconds
                )
                seconds = float(result["seconds"])
                result["server_cpu_pct"] = round(100 * (process_cpu_seconds(proc.pid) - server_cpu) / seconds)
                result["client_cpu_pct"] = round(100 * (time.process_time() - client_cpu) / seconds)
                # The box is shared: requests per server CPU-second says what one free core sustains.
                busy = float(result["server_cpu_pct"]) / 100
                result["rps_per_server_core"] = round(float(result["rps"]) / busy) if busy else 0
                row: dict[str, object] = {
                    "emulator": kind,
                    "latency_ms": latency,
                    "connections": concurrency,
                    **result,
                }
                if kind == "segment":
                    row["messages_per_s"] = round(float(result["rps"]) * args.batch, 1)
                rows.append(row)
                extra = f"  {row['messages_per_s']} msg/s" if kind == "segment" else ""
                print(
                    f"{kind:8s} latency={latency:4.0f}ms conns={concurrency:3d} "
                    f"{result['rps']:9.1f} req/s  ({result['requests']:.0f} ok, "
                    f"{result['errors']:.0f} errors, {result['seconds']:.1f}s; "
                    f"cpu server {result['server_cpu_pct']}% client {result['client_cpu_pct']}%; "
                    f"{result['rps_per_server_core']} req/s per server core){extra}",
                    flush=True,
                )
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000, help="requests per run (upper bound)")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="time limit per run")
    parser.add_argument("--batch", type=int, default=10, help="messages per Segment batch request")
    parser.add_argument("--only", choices=["cordial", "segment"], default=None)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    kinds = [args.only] if args.only else ["cordial", "segment"]
    rows: list[dict[str, object]] = []
    for kind in kinds:
        rows.extend(asyncio.run(bench_one(kind, args)))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"benchmark": "emulator", "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
