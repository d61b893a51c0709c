"""`cordial-bridge topics create`: the source, retry-tier and DLQ topics, idempotently."""

from __future__ import annotations

import click
from confluent_kafka import KafkaException

from processor.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, config_option, load_or_exit
from processor.errors import ConfigError
from processor.runtime.topics import all_topics, create_topics

_DIRECTIONS = {"inbound": ("inbound",), "outbound": ("outbound",), "both": ("inbound", "outbound")}


@click.group(name="topics")
def topics() -> None:
    """Kafka topics used by the bridge."""


@topics.command(name="create")
@config_option
@click.option("--direction", type=click.Choice(sorted(_DIRECTIONS)), default="both", show_default=True)
def create(config_path: str | None, direction: str) -> None:
    """Create the source, retry-tier and DLQ topics with `kafka.partitions` partitions.

    Topics that exist are left alone and reported as such, so running it twice is safe.
    Exit 0 on success, 1 when the broker refuses, 2 for a configuration error.
    """
    settings = load_or_exit(config_path)
    try:
        names = all_topics(settings, _DIRECTIONS[direction])
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from exc
    try:
        results = create_topics(settings.kafka, names)
    except KafkaException as exc:
        click.echo(f"error: could not create topics on {settings.kafka.bootstrap_servers}: {exc}", err=True)
        raise SystemExit(EXIT_FAILURE) from exc
    for result in results:
        if result.state == "created":
            click.echo(f"created  {result.name} ({settings.kafka.partitions} partitions)")
        else:
            click.echo(f"exists   {result.name} (unchanged)")
    created = sum(r.state == "created" for r in results)
    click.echo(f"{created} created, {len(results) - created} already existed")
    raise SystemExit(EXIT_OK)
