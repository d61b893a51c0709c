"""Stand-in for `cordial-bridge run` while that verb is not available: the same library call.

`python tests/chaos/worker_main.py --direction inbound --config FILE` loads the config (secrets
from the environment), configures logging and runs `processor.runtime.directions.run_workers`
until SIGTERM/SIGINT. The harness uses it only when `cordial-bridge run --help` does not offer
`--direction` (see `harness.worker_command`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from prometheus_client import CollectorRegistry

from processor.config.loader import load_settings
from processor.ops.logging import configure_logging
from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.runtime.directions import run_workers


async def _main(directions: list[str], config: str) -> None:
    settings = load_settings(config)
    secrets = [s.reveal() for s in (settings.cordial.api_key, settings.segment.write_key) if s]
    configure_logging(settings.ops, secrets=secrets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run_workers(
        directions, settings, metrics=BridgeMetrics(CollectorRegistry()), readiness=Readiness(), stop=stop
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--direction", choices=["inbound", "outbound", "both"], required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    directions = ["inbound", "outbound"] if args.direction == "both" else [args.direction]
    asyncio.run(_main(directions, args.config))


if __name__ == "__main__":
    main()
